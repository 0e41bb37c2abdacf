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
