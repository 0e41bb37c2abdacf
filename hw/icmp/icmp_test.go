package icmp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"

	"habox/hw/hwtest"
)

// reply wraps an ICMP message in a minimal IPv4 header from src.
func reply(src [4]byte, icmp []byte) []byte {
	h := make([]byte, 20, 20+len(icmp))
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(icmp)))
	h[9] = 1
	copy(h[12:], src[:])
	return append(h, icmp...)
}

// asReply turns an echo request into the reply a host sends back.
func asReply(req []byte) []byte {
	r := append([]byte(nil), req...)
	r[0], r[2], r[3] = typeEchoReply, 0, 0
	binary.BigEndian.PutUint16(r[2:], Checksum(r))
	return r
}

func TestChecksum(t *testing.T) {
	// RFC 1071's example words 0001 f203 f4f5 f6f7 sum to 0xddf2.
	if got := Checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}); got != ^uint16(0xddf2) {
		t.Errorf("Checksum = %#04x, want %#04x", got, ^uint16(0xddf2))
	}
	if got := Checksum([]byte{0xff}); got != ^uint16(0xff00) {
		t.Errorf("odd length: %#04x", got)
	}
}

func TestEchoRoundTrip(t *testing.T) {
	payload := []byte("9:(0)t=NS_st,")
	req := AppendEcho(nil, 0x1234, 7, payload)
	if req[0] != typeEchoRequest || binary.BigEndian.Uint16(req[4:]) != 0x1234 || binary.BigEndian.Uint16(req[6:]) != 7 || Checksum(req) != 0 {
		t.Fatalf("bad request % x", req)
	}
	src := [4]byte{10, 0, 0, 254}
	pkt := reply(src, asReply(req))
	s, p, err := ParseReply(pkt, 0x1234)
	if err != nil || s != src || !bytes.Equal(p, payload) {
		t.Fatalf("ParseReply = %v %q %v", s, p, err)
	}
	// IP options and trailing padding beyond the total length.
	opt := append([]byte{0x46}, pkt[1:20]...)
	opt = append(opt, 1, 1, 1, 0)
	opt = append(opt, pkt[20:]...)
	binary.BigEndian.PutUint16(opt[2:], uint16(len(opt)))
	opt = append(opt, 0, 0)
	if _, p, err := ParseReply(opt, 0x1234); err != nil || !bytes.Equal(p, payload) {
		t.Errorf("with options: %q %v", p, err)
	}
}

func TestParseReplyRejects(t *testing.T) {
	good := asReply(AppendEcho(nil, 42, 1, []byte("x")))
	corrupt := func(i int, v byte) []byte { b := append([]byte(nil), good...); b[i] = v; return b }
	for name, pkt := range map[string][]byte{
		"empty":      nil,
		"short ip":   reply([4]byte{}, nil)[:19],
		"ipv6":       append([]byte{0x60}, reply([4]byte{}, good)[1:]...),
		"short icmp": reply([4]byte{}, good[:7]),
		"request":    reply([4]byte{}, AppendEcho(nil, 42, 1, []byte("x"))),
		"other id":   reply([4]byte{}, asReply(AppendEcho(nil, 43, 1, []byte("x")))),
		"checksum":   reply([4]byte{}, corrupt(8, 'y')),
		"code":       reply([4]byte{}, corrupt(1, 1)),
	} {
		if _, _, err := ParseReply(pkt, 42); !errors.Is(err, ErrBad) {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseReply(f *testing.F) {
	f.Add(reply([4]byte{1, 2, 3, 4}, asReply(AppendEcho(nil, 42, 1, []byte("abc")))))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		_, p, err := ParseReply(pkt, 42)
		if err == nil && len(p) > len(pkt) {
			t.Fatal("payload longer than packet")
		}
	})
}

// TestEchoLoopback pings 127.0.0.1 in a fresh namespace: the reply with
// our identifier comes back with the payload, and a socket for another
// identifier is never woken (the BPF filter drops it in the kernel).
func TestEchoLoopback(t *testing.T) {
	hwtest.RequireRoot(t)
	ns := hwtest.NewNetns(t, "icmp")
	ns.Do(t, func() {
		a, err := Listen(0x4a4a)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := Listen(0x4b4b)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		for i := 0; i < 3; i++ {
			payload := []byte("probe " + string(rune('0'+i)))
			if err := a.Echo([4]byte{127, 0, 0, 1}, payload); err != nil {
				t.Fatal(err)
			}
			a.SetReadDeadline(time.Now().Add(2 * time.Second))
			src, p, err := a.Recv(make([]byte, 1500))
			if err != nil || src != [4]byte{127, 0, 0, 1} || !bytes.Equal(p, payload) {
				t.Fatalf("Recv = %v %q %v", src, p, err)
			}
		}
		b.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, p, err := b.Recv(make([]byte, 1500)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("other identifier received %q %v", p, err)
		}
		if a.Dropped.Load() != 0 || b.Dropped.Load() != 0 {
			t.Errorf("user-space drops %d/%d: the kernel filter let foreign packets through", a.Dropped.Load(), b.Dropped.Load())
		}
		a.Close()
		if _, _, err := a.Recv(make([]byte, 100)); !errors.Is(err, os.ErrClosed) {
			t.Errorf("Recv after Close: %v", err)
		}
	})
}
