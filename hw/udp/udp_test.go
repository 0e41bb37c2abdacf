package udp

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"habox/hw/hwtest"
)

// pair is two namespaces linked by a veth: a has 10.9.0.1/24 on ha0, b has
// 10.9.0.2/24 on hb0.
func pair(t *testing.T) (a, b *hwtest.Netns) {
	a = hwtest.NewNetns(t, "udpa")
	b = hwtest.NewNetns(t, "udpb")
	hwtest.Veth(t, a, "ha0", "10.9.0.1/24", b, "hb0", "10.9.0.2/24")
	a.WaitUp(t, "ha0")
	b.WaitUp(t, "hb0")
	return a, b
}

func open(t *testing.T, ns *hwtest.Netns, f func() (*Conn, error)) *Conn {
	t.Helper()
	var c *Conn
	var err error
	ns.Do(t, func() { c, err = f() })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// expect reads one datagram with a deadline and checks its payload.
func expect(t *testing.T, c *Conn, want string) {
	t.Helper()
	buf := make([]byte, MaxDatagram)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, from, err := c.Recv(buf)
	if err != nil {
		t.Fatalf("%s: waiting for %q: %v", c.Name(), want, err)
	}
	if string(buf[:n]) != want {
		t.Fatalf("%s: got %q from %v, want %q", c.Name(), buf[:n], from, want)
	}
}

// expectNothing checks that nothing arrives within d.
func expectNothing(t *testing.T, c *Conn, d time.Duration) {
	t.Helper()
	buf := make([]byte, MaxDatagram)
	c.SetReadDeadline(time.Now().Add(d))
	n, _, err := c.Recv(buf)
	if err == nil {
		t.Fatalf("%s: unexpected datagram %q", c.Name(), buf[:n])
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: %v", c.Name(), err)
	}
}

func TestBcastBothWaysAndSelf(t *testing.T) {
	a, b := pair(t)
	ra := open(t, a, func() (*Conn, error) { return NewBcastReceiver("ha0", 6940) })
	rb := open(t, b, func() (*Conn, error) { return NewBcastReceiver("hb0", 6940) })
	sa := open(t, a, func() (*Conn, error) { return NewBcastSender("ha0", [4]byte{10, 9, 0, 255}, 6940) })
	sb := open(t, b, func() (*Conn, error) { return NewBcastSender("hb0", [4]byte{255, 255, 255, 255}, 6940) })
	if sa.Dest() != "10.9.0.255:6940" {
		t.Errorf("bcast destination %s, want 10.9.0.255:6940", sa.Dest())
	}
	if err := sa.Send([]byte("from a")); err != nil {
		t.Fatal(err)
	}
	expect(t, rb, "from a")
	expect(t, ra, "from a") // 3.0.6 behaviour: a node hears its own broadcasts
	if err := sb.Send([]byte("from b")); err != nil {
		t.Fatal(err)
	}
	expect(t, ra, "from b") // limited broadcast, kept on hb0 by SO_BINDTODEVICE
	expect(t, rb, "from b")
	sa.SetDest([4]byte{10, 9, 0, 2})
	if sa.Dest() != "10.9.0.2:6940" {
		t.Errorf("after SetDest: %s", sa.Dest())
	}
	if err := sa.Send([]byte("direct")); err != nil {
		t.Fatal(err)
	}
	expect(t, rb, "direct")
}

func TestMcastLoop(t *testing.T) {
	hwtest.SkipUnderEmulator(t, "qemu-user does not translate IP_MULTICAST_IF with struct ip_mreqn (ENOPROTOOPT)")
	group := [4]byte{239, 0, 0, 43}
	for _, loop := range []bool{false, true} {
		name := "loop0"
		if loop {
			name = "loop1"
		}
		t.Run(name, func(t *testing.T) {
			a, b := pair(t)
			ra := open(t, a, func() (*Conn, error) { return NewMcastReceiver("ha0", group, 6941) })
			rb := open(t, b, func() (*Conn, error) { return NewMcastReceiver("hb0", group, 6941) })
			sa := open(t, a, func() (*Conn, error) { return NewMcastSender("ha0", group, 6941, 1, loop) })
			sb := open(t, b, func() (*Conn, error) { return NewMcastSender("hb0", group, 6941, 1, loop) })
			if err := sa.Send([]byte("m-a")); err != nil {
				t.Fatal(err)
			}
			expect(t, rb, "m-a")
			if loop {
				expect(t, ra, "m-a")
			} else {
				expectNothing(t, ra, 300*time.Millisecond)
			}
			if err := sb.Send([]byte("m-b")); err != nil {
				t.Fatal(err)
			}
			expect(t, ra, "m-b")
		})
	}
}

func TestUcast(t *testing.T) {
	a, b := pair(t)
	ra := open(t, a, func() (*Conn, error) { return NewUcastReceiver("ha0", 6942) })
	rb := open(t, b, func() (*Conn, error) { return NewUcastReceiver("hb0", 6942) })
	sa := open(t, a, func() (*Conn, error) { return NewUcastSender("ha0", [4]byte{10, 9, 0, 2}, 6942) })
	sb := open(t, b, func() (*Conn, error) { return NewUcastSender("hb0", [4]byte{10, 9, 0, 1}, 6942) })
	// A second ucast receiver on the same port (another ucast line) must
	// be possible thanks to SO_REUSEADDR/SO_REUSEPORT.
	dup := open(t, a, func() (*Conn, error) { return NewUcastReceiver("ha0", 6942) })
	dup.Close()
	for i := 0; i < 3; i++ {
		if err := sa.Send([]byte("u-a")); err != nil {
			t.Fatal(err)
		}
		expect(t, rb, "u-a")
		if err := sb.Send([]byte("u-b")); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		expect(t, ra, "u-b")
	}
}

func TestOversizeDropped(t *testing.T) {
	a, b := pair(t)
	rb := open(t, b, func() (*Conn, error) { return NewBcastReceiver("hb0", 6943) })
	sa := open(t, a, func() (*Conn, error) { return NewUcastSender("ha0", [4]byte{10, 9, 0, 2}, 6943) })
	big := strings.Repeat("x", 2000)
	if err := sa.Send([]byte(big)); err != nil {
		t.Fatal(err)
	}
	sa.Send([]byte("small"))
	buf := make([]byte, 1000) // smaller than the first datagram
	rb.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, _, err := rb.Recv(buf); !errors.Is(err, ErrTruncated) {
		t.Fatalf("oversize datagram: %v, want ErrTruncated", err)
	}
	if rb.Truncated.Load() != 1 {
		t.Errorf("Truncated = %d", rb.Truncated.Load())
	}
	n, _, err := rb.Recv(buf)
	if err != nil || string(buf[:n]) != "small" {
		t.Fatalf("next datagram: %q %v", buf[:n], err)
	}
}

func TestCloseUnblocksRecv(t *testing.T) {
	a := hwtest.NewNetns(t, "udpc")
	var c *Conn
	var err error
	a.Do(t, func() { c, err = NewBcastReceiver("lo", 6944) })
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Recv(make([]byte, 100))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Recv after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Recv")
	}
}

func TestResolve(t *testing.T) {
	hosts := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hosts, []byte("# comment\n127.0.0.1 localhost\n::1 bob6\n10.0.0.2  bob bob.example  # x\n10.0.0.3 carol\n"), 0644)
	tests := []struct {
		in   string
		want [4]byte
		ok   bool
	}{
		{"10.1.2.3", [4]byte{10, 1, 2, 3}, true},
		{"bob", [4]byte{10, 0, 0, 2}, true},
		{"BOB.example", [4]byte{10, 0, 0, 2}, true},
		{"carol", [4]byte{10, 0, 0, 3}, true},
		{"bob6", [4]byte{}, false},
		{"::1", [4]byte{}, false},
		{"nosuch", [4]byte{}, false},
		{"10.0.0.256", [4]byte{}, false},
	}
	for _, tt := range tests {
		got, err := Resolve(tt.in, hosts)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Resolve(%q) = %v, %v", tt.in, got, err)
		}
	}
	if _, err := Resolve("x", filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("missing hosts file accepted")
	}
}

// Two mcast lines for one group on two interfaces keep their traffic
// apart, so each link's status is its own.
func TestMcastPerInterface(t *testing.T) {
	hwtest.SkipUnderEmulator(t, "qemu-user does not translate IP_MULTICAST_IF with struct ip_mreqn (ENOPROTOOPT)")
	a, b := pair(t)
	hwtest.Veth(t, a, "ha1", "10.9.1.1/24", b, "hb1", "10.9.1.2/24")
	a.WaitUp(t, "ha1")
	b.WaitUp(t, "hb1")
	group := [4]byte{239, 0, 0, 44}
	r0 := open(t, a, func() (*Conn, error) { return NewMcastReceiver("ha0", group, 6945) })
	r1 := open(t, a, func() (*Conn, error) { return NewMcastReceiver("ha1", group, 6945) })
	s0 := open(t, b, func() (*Conn, error) { return NewMcastSender("hb0", group, 6945, 1, false) })
	s1 := open(t, b, func() (*Conn, error) { return NewMcastSender("hb1", group, 6945, 1, false) })
	s0.Send([]byte("on link 0"))
	expect(t, r0, "on link 0")
	expectNothing(t, r1, 300*time.Millisecond)
	s1.Send([]byte("on link 1"))
	expect(t, r1, "on link 1")
	expectNothing(t, r0, 300*time.Millisecond)
}
