package media

import (
	"strings"
	"testing"
	"time"

	"habox/conf"
	"habox/hw/hwtest"
)

// An interface that does not exist yet at start-up is waited for (bounded) and, if it comes later still, picked up by a medium that
// ran as a failed link meanwhile; an interface deleted and re-created (a
// rebuilt bridge) is picked up too. For every UDP medium.
func TestUDPMissingInterface(t *testing.T) {
	fast := Options{IfaceWait: 200 * time.Millisecond, ReopenInterval: 50 * time.Millisecond}
	media := []conf.Medium{
		{Type: conf.Bcast, Dev: "eth1", Port: 694},
		{Type: conf.Mcast, Dev: "eth1", Group: "239.0.0.44", Port: 6944, TTL: 1, Loop: false},
		{Type: conf.Ucast, Dev: "eth1", Peer: "10.7.0.2", Port: 694},
	}
	peerOf := func(m conf.Medium) conf.Medium {
		if m.Type == conf.Ucast {
			m.Peer = "10.7.0.1"
		}
		return m
	}
	for _, cm := range media {
		t.Run(string(cm.Type), func(t *testing.T) {
			a := hwtest.NewNetns(t, "medw")
			b := hwtest.NewNetns(t, "medx")
			log, buf := testLogger(t)
			var m Medium
			var err error
			a.Do(t, func() { m, err = OpenWith(cm, log, fast) })
			if err != nil {
				t.Fatalf("missing interface is an error: %v", err)
			}
			ch := make(chan Packet, 16)
			go m.Run(ch)
			t.Cleanup(func() { m.Close() })
			if f := m.(Failer).Failure(); !strings.Contains(f, "interface eth1 missing") {
				t.Errorf("Failure() = %q", f)
			}
			if !strings.Contains(buf.String(), "glib: heartbeat link eth1 FAILED (nothing sent or heard on it): interface eth1 missing") ||
				!strings.Contains(buf.String(), "waiting up to 0.2 s") {
				t.Errorf("log: %q", buf.String())
			}
			var serr error
			a.Do(t, func() { serr = m.Send([]byte("x")) })
			if serr == nil {
				t.Error("send on a failed link succeeded")
			}

			// The interface appears late.
			hwtest.Veth(t, a, "eth1", "10.7.0.1/24", b, "eth1", "10.7.0.2/24")
			a.WaitUp(t, "eth1")
			b.WaitUp(t, "eth1")
			_, chb := running(t, b, peerOf(cm), nil, fast)
			sendUntil(t, a, m, chb, "late")
			if f := m.(Failer).Failure(); f != "" {
				t.Errorf("still failed: %q", f)
			}
			if !strings.Contains(buf.String(), "glib: eth1: interface reappeared, sockets reopened") {
				t.Errorf("pickup not logged: %q", buf.String())
			}

			// Deleted and re-created (both ends: a veth pair).
			a.Exec(t, "ip", "link", "del", "eth1")
			hwtest.Veth(t, a, "eth1", "10.7.0.1/24", b, "eth1", "10.7.0.2/24")
			a.WaitUp(t, "eth1")
			b.WaitUp(t, "eth1")
			_, chb2 := running(t, b, peerOf(cm), nil, fast)
			sendUntil(t, a, m, chb2, "recreated")
		})
	}
}

// A missing interface that appears within the wait: Open returns a
// working medium.
func TestOpenWaitsForInterface(t *testing.T) {
	a := hwtest.NewNetns(t, "medy")
	b := hwtest.NewNetns(t, "medz")
	done := make(chan Medium, 1)
	go a.Do(t, func() {
		m, err := OpenWith(conf.Medium{Type: conf.Bcast, Dev: "eth1", Port: 694}, nil, Options{IfaceWait: 10 * time.Second})
		if err != nil {
			m = nil
		}
		done <- m
	})
	time.Sleep(500 * time.Millisecond)
	hwtest.Veth(t, a, "eth1", "10.7.0.1/24", b, "eth1", "10.7.0.2/24")
	var m Medium
	select {
	case m = <-done:
	case <-time.After(12 * time.Second):
		t.Fatal("OpenWait did not return")
	}
	if m == nil {
		t.Fatal("OpenWait failed")
	}
	t.Cleanup(func() { m.Close() })
	if f := m.(Failer).Failure(); f != "" {
		t.Fatalf("failed although the interface appeared in time: %q", f)
	}
	a.WaitUp(t, "eth1")
	b.WaitUp(t, "eth1")
	_, chb := running(t, b, conf.Medium{Type: conf.Bcast, Dev: "eth1", Port: 694}, nil)
	sendUntil(t, a, m, chb, "in time")
}
