// Package arp builds, parses and sends Ethernet ARP frames through an
// AF_PACKET socket: gratuitous ARP for a service address taking over
// (heartbeat's send_arp), without libnet. The packet types follow
// github.com/mdlayher/arp and mdlayher/ethernet: plain structs with
// MarshalBinary / UnmarshalBinary.
package arp

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// Operation is the ARP operation code.
type Operation uint16

// ARP operations.
const (
	OperationRequest Operation = 1
	OperationReply   Operation = 2
)

// EtherType values used here.
const (
	EtherTypeARP  = 0x0806
	EtherTypeIPv6 = 0x86dd
)

// Broadcast is the Ethernet broadcast address.
var Broadcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// Packet is an ARP packet for IPv4 over Ethernet (hardware type 1,
// protocol 0x0800, lengths 6 and 4).
type Packet struct {
	Operation          Operation
	SenderHardwareAddr [6]byte
	SenderIP           netip.Addr
	TargetHardwareAddr [6]byte
	TargetIP           netip.Addr
}

// PacketLen is the length of an Ethernet/IPv4 ARP packet.
const PacketLen = 28

// Errors from UnmarshalBinary.
var (
	ErrShort       = errors.New("arp: packet too short")
	ErrUnsupported = errors.New("arp: not Ethernet/IPv4")
	ErrInvalidIP   = errors.New("arp: addresses must be IPv4")
)

// MarshalBinary returns the 28-byte wire form.
func (p *Packet) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, PacketLen))
}

// AppendBinary appends the wire form to b.
func (p *Packet) AppendBinary(b []byte) ([]byte, error) {
	if !p.SenderIP.Is4() || !p.TargetIP.Is4() {
		return nil, ErrInvalidIP
	}
	b = binary.BigEndian.AppendUint16(b, 1)      // hardware type: Ethernet
	b = binary.BigEndian.AppendUint16(b, 0x0800) // protocol: IPv4
	b = append(b, 6, 4)
	b = binary.BigEndian.AppendUint16(b, uint16(p.Operation))
	sip, tip := p.SenderIP.As4(), p.TargetIP.As4()
	b = append(b, p.SenderHardwareAddr[:]...)
	b = append(b, sip[:]...)
	b = append(b, p.TargetHardwareAddr[:]...)
	b = append(b, tip[:]...)
	return b, nil
}

// UnmarshalBinary parses an Ethernet/IPv4 ARP packet; trailing bytes
// (padding) are ignored.
func (p *Packet) UnmarshalBinary(b []byte) error {
	if len(b) < 8 {
		return ErrShort
	}
	if binary.BigEndian.Uint16(b[0:2]) != 1 || binary.BigEndian.Uint16(b[2:4]) != 0x0800 || b[4] != 6 || b[5] != 4 {
		return ErrUnsupported
	}
	if len(b) < PacketLen {
		return ErrShort
	}
	p.Operation = Operation(binary.BigEndian.Uint16(b[6:8]))
	copy(p.SenderHardwareAddr[:], b[8:14])
	p.SenderIP = netip.AddrFrom4([4]byte(b[14:18]))
	copy(p.TargetHardwareAddr[:], b[18:24])
	p.TargetIP = netip.AddrFrom4([4]byte(b[24:28]))
	return nil
}

// Frame is an Ethernet II frame (no VLAN tag, no FCS).
type Frame struct {
	Destination [6]byte
	Source      [6]byte
	EtherType   uint16
	Payload     []byte
}

// FrameHeaderLen is the Ethernet header length.
const FrameHeaderLen = 14

// MarshalBinary returns header + payload, unpadded (the driver pads to the
// 60-byte minimum on real Ethernet, as for libnet's 42-byte ARP frames).
func (f *Frame) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, FrameHeaderLen+len(f.Payload))
	b = append(b, f.Destination[:]...)
	b = append(b, f.Source[:]...)
	b = binary.BigEndian.AppendUint16(b, f.EtherType)
	return append(b, f.Payload...), nil
}

// UnmarshalBinary parses an Ethernet II frame; Payload aliases b.
func (f *Frame) UnmarshalBinary(b []byte) error {
	if len(b) < FrameHeaderLen {
		return ErrShort
	}
	copy(f.Destination[:], b[0:6])
	copy(f.Source[:], b[6:12])
	f.EtherType = binary.BigEndian.Uint16(b[12:14])
	f.Payload = b[FrameHeaderLen:]
	return nil
}

// Gratuitous returns the 42-byte gratuitous ARP frame heartbeat's send_arp
// sends for ip from mac (spec 7.4): broadcast destination, sender IP =
// target IP = ip, target MAC zero in a request and mac in a reply.
func Gratuitous(op Operation, mac [6]byte, ip netip.Addr) ([]byte, error) {
	p := Packet{Operation: op, SenderHardwareAddr: mac, SenderIP: ip, TargetIP: ip}
	if op == OperationReply {
		p.TargetHardwareAddr = mac
	}
	b := make([]byte, 0, FrameHeaderLen+PacketLen)
	b = append(b, Broadcast[:]...)
	b = append(b, mac[:]...)
	b = binary.BigEndian.AppendUint16(b, EtherTypeARP)
	return p.AppendBinary(b)
}
