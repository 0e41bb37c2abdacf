// Package media moves heartbeat messages over the four transports of
// heartbeat 3.0.6 (spec 4.1): UDP broadcast, multicast and unicast (one
// datagram per message, netstring encoding) and a raw serial line (classic
// text frames ">>>\n...<<<\n", paced writes).
//
// A Medium only moves bytes: it never decodes or authenticates. Its reader
// loop (Run) hands every received datagram or frame to the daemon's event
// loop over a channel; Send never blocks the caller for long.
//
// Open performs 3.0.6's start-up checks and returns their messages as
// errors (the daemon logs err.Error() at ERROR and refuses to start); it
// logs the medium's "started" line exactly as 3.0.6 does, with the
// "glib: " prefix of plugin messages.
package media

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"habox/applets/internal/hblog"
	"habox/conf"
)

// Packet is one received message: a UDP datagram, or one complete classic
// frame ">>>\n...<<<\n" from a serial line.
type Packet struct {
	// Link is the medium's name (interface or device path).
	Link string
	Data []byte

	buf *[]byte // pooled buffer holding Data, see Recycle
}

// bufs recycles UDP receive buffers: a flood of large datagrams then
// costs no allocation (and no garbage collection) per datagram.
var bufs = sync.Pool{New: func() any { b := make([]byte, MaxMessage); return &b }}

// Recycle hands p's buffer back for reuse once the receiver no longer
// uses p.Data (the daemon calls it after decoding, which copies what it
// keeps). Calling it is optional.
func Recycle(p Packet) {
	if p.buf != nil {
		bufs.Put(p.buf)
	}
}

// Medium is one open heartbeat path.
type Medium interface {
	// Name is the link name: the interface (bcast, mcast, ucast) or the
	// device path (serial).
	Name() string
	// Text reports whether the medium carries classic text (serial)
	// rather than netstring (UDP).
	Text() bool
	// Send transmits one message. It does not block for more than about
	// a second (serial: it only queues).
	Send(b []byte) error
	// Run reads until Close, sending each message to out. A dead serial
	// line is reopened with backoff instead of returning.
	Run(out chan<- Packet)
	// Close stops Run and releases the medium.
	Close() error
}

// Failer is implemented by media that keep running while their device
// cannot be opened (serial): Failure says why, "" while the medium works.
// Such a medium is a failed link, not one that merely hears nothing.
type Failer interface {
	Failure() string
}

// Stats are a medium's counters.
type Stats struct {
	Received  uint64 // messages handed to Run's channel
	Dropped   uint64 // oversize or malformed input discarded
	SendFails uint64 // messages not sent (socket error, full queue, line stuck)
	Reopens   uint64 // serial line reopened after failure
}

// Statser is implemented by every medium of this package.
type Statser interface {
	Stats() Stats
}

type counters struct {
	received, dropped, sendFails, reopens atomic.Uint64
}

func (c *counters) Stats() Stats {
	return Stats{c.received.Load(), c.dropped.Load(), c.sendFails.Load(), c.reopens.Load()}
}

// Error is a start-up failure worded as heartbeat 3.0.6 words it, e.g.
// "IP interface [eth9] does not exist".
type Error struct {
	Msg string
	Err error // the underlying cause, may be nil
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrUnknownType is returned for a medium type habox does not implement.
var ErrUnknownType = errors.New("unsupported medium type")

// MaxMessage bounds one received message (UDP datagram or serial frame).
// It equals wire.MaxRecv: a larger datagram is dropped (Stats.Dropped)
// without being copied or queued, so a flood of 64 KB datagrams costs
// neither memory nor decoding.
const MaxMessage = 32 * 1024

// DefaultIfaceWait is how long Open waits for a missing interface.
const DefaultIfaceWait = 10 * time.Second

// Open opens the medium described by an ha.cf line with the default
// options (waiting DefaultIfaceWait for a missing interface). log may be
// nil.
func Open(m conf.Medium, log *hblog.Logger) (Medium, error) {
	return OpenWith(m, log, Options{IfaceWait: DefaultIfaceWait})
}

// OpenWith is Open with options. A UDP medium's interface that does not
// exist yet (netifd or udhcpc bring it up later; for mcast, until it has
// an IPv4 address) is waited for up to o.IfaceWait; after the wait the
// medium runs as a failed link (Failer) and picks the interface up when
// it appears; an interface deleted and re-created later is picked up the
// same way.
func OpenWith(m conf.Medium, log *hblog.Logger, o Options) (Medium, error) {
	o = o.withDefaults()
	switch m.Type {
	case conf.Bcast, "udp":
		return openBcast(m, log, o)
	case conf.Mcast:
		return openMcast(m, log, o)
	case conf.Ucast:
		return openUcast(m, log, o)
	case conf.Serial:
		return openSerial(m, log, o)
	}
	return nil, &Error{Msg: "medium " + string(m.Type) + " on " + m.Dev, Err: ErrUnknownType}
}

// newLimiter limits the repeated error lines of one medium: 5 per minute
// per kind.
func newLimiter() *hblog.Limiter { return hblog.NewLimiter(5, time.Minute) }

// logLimited logs a warning through the limiter, adding the count of lines
// suppressed since the last one.
func logLimited(log *hblog.Logger, lim *hblog.Limiter, key, msg string) {
	logLimitedAt(log, lim, hblog.Warning, key, msg)
}

// logLimitedErr is logLimited at ERROR level.
func logLimitedErr(log *hblog.Logger, lim *hblog.Limiter, key, msg string) {
	logLimitedAt(log, lim, hblog.Err, key, msg)
}

func logLimitedAt(log *hblog.Logger, lim *hblog.Limiter, prio hblog.Priority, key, msg string) {
	ok, n := lim.AllowN(key)
	if !ok {
		return
	}
	if n > 0 {
		msg += " (" + hblog.SuppressedText(n) + ")"
	}
	log.Log(prio, msg)
}

func itoa(i int) string { return strconv.Itoa(i) }
