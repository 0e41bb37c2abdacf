package wire

import (
	"errors"
	"strings"
	"testing"
	"time"

	"habox/applets/internal/hblog"
)

// peers returns two engines that heard each other's status (so each knows
// the other's generation).
func peers(t *testing.T, t0 time.Time) (a, b *Engine) {
	a = newEngine(t, "linuxha1", nil)
	b = newEngine(t, "linuxha2", nil)
	b.Receive(wireCopy(t, a, must(a.Send(status(StActive), t0))), t0)
	a.Receive(wireCopy(t, b, must(b.Send(status(StActive), t0))), t0)
	return a, b
}

func loud(ls []LogLine) int {
	n := 0
	for _, l := range ls {
		if l.Level != hblog.DebugPri {
			n++
		}
	}
	return n
}

// TestReplayedControlBounded: 2000 replays of one signed
// NS_nak_rexmit, or of one NS_rexmit, within 2 s give a bounded number of
// log lines and answers (before: one ERROR line per replay, and one NAK
// sent per replayed NS_rexmit).
func TestReplayedControlBounded(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	maxLines := logBurst + 1 // 2 s at logRate adds < 1
	t.Run("nak", func(t *testing.T) {
		a, b := peers(t, t0)
		nak := New(NSNakRexmit)
		nak.SetHex(FirstSeq, 3)
		nak.Add(Dest, "linuxha2")
		nak.Add(Info, "seqno not found")
		if _, err := a.Sender.Stamp(nak, t0); err != nil {
			t.Fatal(err)
		}
		pkt, _ := a.Sender.Keys.AppendNetstring(nil, nak)
		lines, throttled := 0, 0
		for i := 0; i < 2000; i++ {
			m, _, err := b.Sender.Keys.Decode(pkt)
			if err != nil {
				t.Fatal(err)
			}
			v := b.Receive(m, t0.Add(time.Duration(i)*time.Millisecond))
			lines += loud(v.Logs)
			if v.Throttled {
				throttled++
			}
		}
		if lines > maxLines || lines == 0 {
			t.Errorf("%d log lines for 2000 replays, want 1..%d", lines, maxLines)
		}
		if want := 2000 - rexmitBurst - rexmitRate*2 - 1; throttled < want {
			t.Errorf("%d replays throttled, want >= %d", throttled, want)
		}
	})
	t.Run("rexmit", func(t *testing.T) {
		a, b := peers(t, t0)
		for i := 0; i < 600; i++ {
			a.Send(status(StActive), t0)
		}
		r := New(NSRexmit)
		r.Add(Dest, "linuxha1")
		r.SetDec(FirstSeq, 10) // too low: answered with a NAK
		r.SetDec(LastSeq, 10)
		if _, err := b.Sender.Stamp(r, t0); err != nil {
			t.Fatal(err)
		}
		pkt, _ := b.Sender.Keys.AppendNetstring(nil, r)
		lines, sent := 0, 0
		for i := 0; i < 2000; i++ {
			m, _, err := a.Sender.Keys.Decode(pkt)
			if err != nil {
				t.Fatal(err)
			}
			v := a.Receive(m, t0.Add(time.Duration(i)*time.Millisecond))
			lines += loud(v.Logs)
			sent += len(v.Send)
		}
		if lines > maxLines || lines == 0 {
			t.Errorf("%d log lines for 2000 replays, want 1..%d", lines, maxLines)
		}
		if max := rexmitBurst + rexmitRate*2 + 1; sent > max || sent == 0 {
			t.Errorf("%d NAKs sent for 2000 replays, want 1..%d", sent, max)
		}
	})
}

// TestControlOtherGeneration: NS_ control messages signed in another life
// of the peer (other hg) are dropped as replays and change nothing.
func TestControlOtherGeneration(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	for _, c := range []struct {
		name string
		hg   string
	}{{"older", "63"}, {"newer", "65"}, {"absent", ""}, {"garbage", "zz\n"}} {
		t.Run(c.name, func(t *testing.T) {
			a, b := peers(t, t0) // generation 100 = 0x64
			// b misses a's seq 2..3.
			a.Send(status(StActive), t0)
			a.Send(status(StActive), t0)
			b.Receive(wireCopy(t, a, must(a.Send(status(StActive), t0))), t0)
			nak := New(NSNakRexmit)
			nak.SetHex(FirstSeq, 2)
			nak.Add(Dest, "linuxha2")
			a.Sender.Stamp(nak, t0)
			m := wireCopy(t, a, nak)
			if c.hg == "" {
				m.Del(Hg)
			} else {
				m.Set(Hg, c.hg)
			}
			v := b.Receive(m, t0)
			if !v.Replay || hasLog(v.Logs, "Irretrievably") || len(b.Missing("linuxha1")) != 2 {
				t.Fatalf("%+v, missing %v", v, b.Missing("linuxha1"))
			}
			if strings.Contains(v.Logs[0].Text, "\n") {
				t.Errorf("raw hg in log: %q", v.Logs[0].Text)
			}
			// The current generation is honoured.
			m.Set(Hg, "64")
			if v = b.Receive(m, t0); v.Replay || !hasLog(v.Logs, "Irretrievably lost packet: node linuxha1 seq 2") {
				t.Fatalf("current generation: %+v", v)
			}
		})
	}
}

// TestPeerStringsQuoted: what a forged or unknown peer puts
// in src reaches error texts and log lines quoted, escaped and cut.
func TestPeerStringsQuoted(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	kr, _ := NewKeyringFor(1, "sha1", "k")
	wrong, _ := NewKeyringFor(1, "sha1", "not-k")
	forged := "x]\nNov 25 13:14:54 alice heartbeat: [1]: CRIT: Resource takeover"
	long := strings.Repeat("s", 30000)
	for _, src := range []string{forged, long} {
		m := New(Status)
		m.Add(Src, src)
		m.SetHex(Ts, 1)
		m.SetHex(Seq, 1)
		// Wrong key: the decode error names the src quoted.
		pkt, err := wrong.AppendNetstring(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = kr.Decode(pkt)
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("forged: %v", err)
		}
		if s := err.Error(); strings.ContainsAny(s, "\n\r") || len(s) > 200 {
			t.Errorf("decode error %.300q", s)
		}
		// Right key, unknown node: the engine's line is quoted.
		e := newEngine(t, "linuxha2", nil)
		v := e.Receive(m, t0)
		if !v.Bad || len(v.Logs) != 1 {
			t.Fatalf("%+v", v)
		}
		if s := v.Logs[0].Text; strings.ContainsAny(s, "\n\r") || len(s) > 200 || !strings.Contains(s, "bad node [\"") {
			t.Errorf("engine line %.300q", s)
		}
	}
}

// TestControlBeforeFirstStatus: a control message from a peer whose status
// was not heard yet (its generation unknown) is ignored quietly: not a
// replay, no log line (it happens at every start).
func TestControlBeforeFirstStatus(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	a := newEngine(t, "linuxha1", nil)
	b := newEngine(t, "linuxha2", nil)
	ack := New(NSAckMsg)
	ack.Add(Dest, "linuxha1")
	ack.SetHex(AckSeq, 1)
	must(a.Send(status(StActive), t0))
	v := a.Receive(wireCopy(t, b, must(b.Send(ack, t0))), t0)
	if v.Replay || v.ForUs || len(v.Logs) != 0 {
		t.Fatalf("%+v", v)
	}
}
