package arp

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestGratuitousLayout(t *testing.T) {
	mac := [6]byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	ip := netip.MustParseAddr("192.0.2.77")
	req, err := Gratuitous(OperationRequest, mac, ip)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := Gratuitous(OperationReply, mac, ip)
	// spec 7.4, written out byte by byte
	wantReq := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
		0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 192, 0, 2, 77,
		0, 0, 0, 0, 0, 0, 192, 0, 2, 77,
	}
	wantRep := append([]byte(nil), wantReq...)
	wantRep[21] = 2
	copy(wantRep[32:38], mac[:])
	if !bytes.Equal(req, wantReq) {
		t.Errorf("request\n got % x\nwant % x", req, wantReq)
	}
	if !bytes.Equal(rep, wantRep) {
		t.Errorf("reply\n got % x\nwant % x", rep, wantRep)
	}
	if _, err := Gratuitous(OperationRequest, mac, netip.MustParseAddr("::1")); err != ErrInvalidIP {
		t.Errorf("IPv6 address: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	p := Packet{Operation: OperationReply, SenderHardwareAddr: [6]byte{1, 2, 3, 4, 5, 6}, SenderIP: netip.MustParseAddr("10.0.0.1"),
		TargetHardwareAddr: [6]byte{6, 5, 4, 3, 2, 1}, TargetIP: netip.MustParseAddr("10.0.0.2")}
	b, err := p.MarshalBinary()
	if err != nil || len(b) != PacketLen {
		t.Fatalf("%v % x", err, b)
	}
	var q Packet
	if err := q.UnmarshalBinary(append(b, 0, 0, 0)); err != nil || q != p {
		t.Fatalf("round trip: %v %+v", err, q)
	}
	f := Frame{Destination: Broadcast, Source: p.SenderHardwareAddr, EtherType: EtherTypeARP, Payload: b}
	fb, _ := f.MarshalBinary()
	var g Frame
	if err := g.UnmarshalBinary(fb); err != nil || g.Destination != f.Destination || g.Source != f.Source || g.EtherType != f.EtherType || !bytes.Equal(g.Payload, b) {
		t.Fatalf("frame round trip: %v %+v", err, g)
	}
	for _, bad := range [][]byte{nil, b[:7], b[:20], append([]byte{0, 6}, b[2:]...), append([]byte{0, 1, 0x86, 0xdd}, b[4:]...)} {
		if err := q.UnmarshalBinary(bad); err == nil {
			t.Errorf("accepted % x", bad)
		}
	}
	if err := g.UnmarshalBinary(fb[:13]); err != ErrShort {
		t.Errorf("short frame: %v", err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	g, _ := Gratuitous(OperationReply, [6]byte{1, 2, 3, 4, 5, 6}, netip.MustParseAddr("192.0.2.1"))
	f.Add(g[14:])
	f.Add([]byte{0, 1, 8, 0, 6, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if p.UnmarshalBinary(b) != nil {
			return
		}
		out, err := p.MarshalBinary()
		if err != nil || !bytes.Equal(out, b[:PacketLen]) {
			t.Fatalf("re-marshal % x != % x (%v)", out, b[:PacketLen], err)
		}
	})
}

func TestUnsolicitedNA(t *testing.T) {
	mac := [6]byte{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	ip := netip.MustParseAddr("2001:db8::77")
	f, err := UnsolicitedNA(mac, ip)
	if err != nil || len(f) != UnsolicitedNALen {
		t.Fatalf("%v len %d", err, len(f))
	}
	a := ip.As16()
	want := []byte{0x33, 0x33, 0, 0, 0, 1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x86, 0xdd,
		0x60, 0, 0, 0, 0, 32, 58, 255}
	want = append(want, a[:]...)
	want = append(want, 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)
	want = append(want, 136, 0, f[56], f[57], 0x20, 0, 0, 0)
	want = append(want, a[:]...)
	want = append(want, 2, 1, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55)
	if !bytes.Equal(f, want) {
		t.Errorf("NA\n got % x\nwant % x", f, want)
	}
	// The checksum over the pseudo-header, summed with the message, folds to 0xffff.
	if c := ICMPv6Checksum(a, AllNodes.As16(), f[54:]); c != 0 {
		t.Errorf("checksum does not verify: %#x", c)
	}
	if _, err := UnsolicitedNA(mac, netip.MustParseAddr("192.0.2.1")); err != ErrInvalidIP {
		t.Errorf("IPv4: %v", err)
	}
}

func TestICMPv6ChecksumKnown(t *testing.T) {
	// RFC 1071 style example: all-zero addresses, message {0x01,0x02}:
	// sum = len 2 + next header 58 + 0x0102 = 0x013e, complement 0xfec1.
	if c := ICMPv6Checksum([16]byte{}, [16]byte{}, []byte{1, 2}); c != 0xfec1 {
		t.Errorf("checksum = %#x, want 0xfec1", c)
	}
	if c := ICMPv6Checksum([16]byte{}, [16]byte{}, []byte{1}); c != ^uint16(0x0100+1+58) {
		t.Errorf("odd length checksum = %#x", c)
	}
}
