package hblog

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestQuote(t *testing.T) {
	long := strings.Repeat("a", 60000)
	for _, c := range []struct{ in, want string }{
		{"bob", `"bob"`},
		{"", `""`},
		{"x\nCRIT: forged", `"x\nCRIT: forged"`},
		{"a\rb\x00c\x1b[2J", `"a\rb\x00c\x1b[2J"`},
		{"\xff\xfeé", `"\xff\xfe\u00e9"`},
		{`q"\`, `"q\"\\"`},
		{long, `"` + long[:MaxQuote] + `"...`},
	} {
		if got := Quote(c.in); got != c.want {
			t.Errorf("Quote(%.20q) = %.80q, want %.80q", c.in, got, c.want)
		}
	}
}

// TestLogOneBoundedLine: whatever the text, one Log call writes exactly
// one line of at most MaxLine bytes of text (a datagram forged
// a CRIT line, a 60 KB src made 60 KB lines).
func TestLogOneBoundedLine(t *testing.T) {
	ts := time.Date(2026, time.November, 25, 13, 14, 54, 0, time.Local)
	prefix := "Nov 25 13:14:54 alice heartbeat: [1]: ERROR: "
	for _, c := range []struct{ name, msg, want string }{
		{"forged CRIT", "bad node [x]\nNov 25 13:14:54 alice heartbeat: [1]: CRIT: fake", `bad node [x]\x0aNov 25 13:14:54 alice heartbeat: [1]: CRIT: fake`},
		{"CR and ESC", "a\rb\x1b[2Jc\x7f", `a\x0db\x1b[2Jc\x7f`},
		{"tab kept", "a\tb", "a\tb"},
		{"60 KB", strings.Repeat("s", 60000), strings.Repeat("s", MaxLine) + "..."},
		{"cut before escaping", strings.Repeat("s", MaxLine-1) + "\x01\x02\x03", strings.Repeat("s", MaxLine-1) + `\x01...`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := New(Options{SyslogMsgFmt: true, Node: "alice", Pid: 1, Now: fixedClock(ts), Stderr: &buf})
			if err != nil {
				t.Fatal(err)
			}
			l.Error(c.msg)
			if got, want := buf.String(), prefix+c.want+"\n"; got != want {
				t.Errorf("got  %.200q\nwant %.200q", got, want)
			}
			if n := strings.Count(buf.String(), "\n"); n != 1 {
				t.Errorf("%d lines", n)
			}
		})
	}
}
