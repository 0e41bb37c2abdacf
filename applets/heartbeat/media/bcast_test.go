package media

import (
	"strings"
	"testing"
	"time"

	"habox/conf"
	"habox/hw/hwtest"
)

func TestBcastDest(t *testing.T) {
	ip := func(a, b, c, d byte) [4]byte { return [4]byte{a, b, c, d} }
	tests := []struct {
		name string
		in   ifAddrs
		dst  [4]byte
		how  int
	}{
		{"configured", ifAddrs{brd: ip(10, 78, 0, 255), addr: ip(10, 78, 0, 1), mask: ip(255, 255, 255, 0), okBrd: true, okAddr: true, okMask: true}, ip(10, 78, 0, 255), brdConfigured},
		{"configured odd", ifAddrs{brd: ip(10, 78, 0, 127), addr: ip(10, 78, 0, 1), mask: ip(255, 255, 255, 0), okBrd: true, okAddr: true, okMask: true}, ip(10, 78, 0, 127), brdConfigured},
		{"no brd /24", ifAddrs{addr: ip(10, 78, 0, 1), mask: ip(255, 255, 255, 0), okAddr: true, okMask: true}, ip(10, 78, 0, 255), brdDerived},
		{"brd 0.0.0.0 /22", ifAddrs{okBrd: true, addr: ip(10, 9, 4, 1), mask: ip(255, 255, 252, 0), okAddr: true, okMask: true}, ip(10, 9, 7, 255), brdDerived},
		{"/30", ifAddrs{addr: ip(192, 168, 1, 5), mask: ip(255, 255, 255, 252), okAddr: true, okMask: true}, ip(192, 168, 1, 7), brdDerived},
		{"/31", ifAddrs{addr: ip(192, 168, 1, 4), mask: ip(255, 255, 255, 254), okAddr: true, okMask: true}, ip(255, 255, 255, 255), brdLimited},
		{"/32", ifAddrs{addr: ip(192, 168, 1, 4), mask: ip(255, 255, 255, 255), okAddr: true, okMask: true}, ip(255, 255, 255, 255), brdLimited},
		{"/0", ifAddrs{addr: ip(192, 168, 1, 4), okAddr: true, okMask: true}, ip(255, 255, 255, 255), brdLimited},
		{"no address", ifAddrs{}, ip(255, 255, 255, 255), brdLimited},
		{"mask unreadable", ifAddrs{addr: ip(10, 78, 0, 1), okAddr: true}, ip(255, 255, 255, 255), brdLimited},
	}
	for _, tt := range tests {
		dst, how := bcastDest(tt.in)
		if dst != tt.dst || how != tt.how {
			t.Errorf("%s: got %v/%d, want %v/%d", tt.name, dst, how, tt.dst, tt.how)
		}
	}
}

// A bring-up script's "ip addr add A/N dev IF" (no "brd +")
// leaves eth1 without a broadcast address. The bcast medium sends to the
// derived directed broadcast, follows address changes, and falls back to
// 255.255.255.255 on the device when no prefix allows a broadcast; every
// choice is logged, and the peer hears each one.
func TestBcastWithoutBroadcastAddress(t *testing.T) {
	fast := Options{ResolveInterval: 20 * time.Millisecond}
	a := hwtest.NewNetns(t, "medn")
	b := hwtest.NewNetns(t, "medm")
	hwtest.Veth(t, a, "eth1", "", b, "eth1", "")
	a.Exec(t, "ip", "addr", "add", "10.78.0.1/24", "dev", "eth1")
	b.Exec(t, "ip", "addr", "add", "10.78.0.2/24", "dev", "eth1")
	a.WaitUp(t, "eth1")
	b.WaitUp(t, "eth1")
	log, buf := testLogger(t)
	ma, cha := running(t, a, conf.Medium{Type: conf.Bcast, Dev: "eth1", Port: 694}, log, fast)
	_, chb := running(t, b, conf.Medium{Type: conf.Bcast, Dev: "eth1", Port: 694}, nil, fast)
	if !strings.Contains(buf.String(), "info: glib: bcast eth1: no IPv4 broadcast address configured; sending to 10.78.0.255, derived from 10.78.0.1/24\n") {
		t.Errorf("derived destination not logged: %q", buf.String())
	}
	if err := ma.Send([]byte("derived")); err != nil {
		t.Fatal(err)
	}
	recv(t, chb, "eth1", "derived")
	recv(t, cha, "eth1", "derived")

	// The addresses change (DHCP, a re-run bring-up script).
	for _, x := range []struct {
		ns   *hwtest.Netns
		old  string
		new_ string
	}{{a, "10.78.0.1/24", "10.79.0.1/16"}, {b, "10.78.0.2/24", "10.79.0.2/16"}} {
		x.ns.Exec(t, "ip", "addr", "del", x.old, "dev", "eth1")
		x.ns.Exec(t, "ip", "addr", "add", x.new_, "dev", "eth1")
	}
	sendUntil(t, a, ma, chb, "changed")
	if !strings.Contains(buf.String(), "sending to 10.79.255.255, derived from 10.79.0.1/16 (the interface's addresses changed)\n") {
		t.Errorf("change not logged: %q", buf.String())
	}

	// A /32 (point-to-point style) leaves no directed broadcast.
	a.Exec(t, "ip", "addr", "del", "10.79.0.1/16", "dev", "eth1")
	a.Exec(t, "ip", "addr", "add", "10.79.0.1/32", "dev", "eth1")
	sendUntil(t, a, ma, chb, "limited")
	if !strings.Contains(buf.String(), "sending to 255.255.255.255 bound to the device (the interface's addresses changed)\n") {
		t.Errorf("limited broadcast not logged: %q", buf.String())
	}

	// "brd +" added later: the configured address wins again.
	a.Exec(t, "ip", "addr", "del", "10.79.0.1/32", "dev", "eth1")
	a.Exec(t, "ip", "addr", "add", "10.79.0.1/16", "brd", "+", "dev", "eth1")
	// (the limited broadcast still reaches b until the next re-read)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "sending to its broadcast address 10.79.255.255 (the interface's addresses changed)\n") {
		if time.Now().After(deadline) {
			t.Fatalf("configured address not logged: %q", buf.String())
		}
		a.Do(t, func() { ma.Send([]byte("configured")) })
		time.Sleep(30 * time.Millisecond)
	}
	sendUntil(t, a, ma, chb, "configured")
	if n := strings.Count(buf.String(), "glib: bcast eth1:"); n != 4 {
		t.Errorf("%d destination lines, want 4 (one per change): %q", n, buf.String())
	}
}

// sendUntil sends msg from ns (where the medium re-reads its interface)
// every 30 ms until the peer's channel delivers it (other packets are
// skipped), failing after 5 s.
func sendUntil(t *testing.T, ns *hwtest.Netns, m Medium, ch chan Packet, msg string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		ns.Do(t, func() { err = m.Send([]byte(msg)) })
		select {
		case p := <-ch:
			if string(p.Data) == msg {
				return
			}
		case <-time.After(30 * time.Millisecond):
		}
	}
	t.Fatalf("%q never arrived (last send: %v)", msg, err)
}
