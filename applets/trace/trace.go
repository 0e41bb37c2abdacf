// Package trace writes the instants of the takeover path (peer last heard,
// dead decided, resource action started, address configured, first
// gratuitous ARP sent) to a file named by HABOX_TRACE, one line each:
// "<wall clock µs> <event> <argument>". `make bench` creates the file and
// reads it to break a failover down step by step. Without HABOX_TRACE
// every call is a nil check; with it, a mark costs one write(2) and no
// allocation.
package trace

import (
	"os"
	"strconv"
	"sync"
	"time"

	"habox/hw/safefile"
)

// EnvVar names the trace file. The file must exist (the reader creates
// it exclusively): it is opened for appending, never created or followed.
const EnvVar = "HABOX_TRACE"

var (
	mu  sync.Mutex
	out *os.File
	buf [256]byte
)

// Open starts tracing to path ("" or an unusable path: no tracing).
func Open(path string) {
	if path == "" {
		return
	}
	f, err := safefile.AppendExisting(path)
	if err != nil {
		return
	}
	mu.Lock()
	if out != nil {
		out.Close()
	}
	out = f
	mu.Unlock()
}

// On reports whether tracing is enabled (callers skip building arguments
// otherwise).
func On() bool { return out != nil }

// Mark records event with argument arg now.
func Mark(event, arg string) {
	if out == nil {
		return
	}
	MarkAt(time.Now(), event, arg)
}

// MarkAt records event with argument arg at instant t.
func MarkAt(t time.Time, event, arg string) {
	if out == nil {
		return
	}
	mu.Lock()
	b := strconv.AppendInt(buf[:0], t.UnixMicro(), 10)
	b = append(b, ' ')
	b = appendClean(b, event)
	b = append(b, ' ')
	b = appendClean(b, arg)
	b = append(b, '\n')
	out.Write(b)
	mu.Unlock()
}

// appendClean appends s without control characters, cut to fit the line
// buffer.
func appendClean(b []byte, s string) []byte {
	for i := 0; i < len(s) && len(b) < len(buf)-2; i++ {
		c := s[i]
		if c < ' ' || c == 0x7f {
			c = '?'
		}
		b = append(b, c)
	}
	return b
}
