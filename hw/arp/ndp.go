package arp

import (
	"encoding/binary"
	"net/netip"
)

// AllNodes is ff02::1 and AllNodesMAC its Ethernet multicast address.
var (
	AllNodes    = netip.MustParseAddr("ff02::1")
	AllNodesMAC = [6]byte{0x33, 0x33, 0, 0, 0, 1}
)

// Neighbour advertisement flags (RFC 4861 4.4).
const (
	NAFlagRouter    = 0x80
	NAFlagSolicited = 0x40
	NAFlagOverride  = 0x20
)

// UnsolicitedNALen is the length of the frame UnsolicitedNA builds:
// Ethernet 14 + IPv6 40 + ICMPv6 NA 24 + target link-layer option 8.
const UnsolicitedNALen = 14 + 40 + 32

// UnsolicitedNA returns the Ethernet frame of an unsolicited neighbour
// advertisement for ip from mac, as IPv6addr's send_ua sends it: from ip
// to ff02::1 (Ethernet 33:33:00:00:00:01), hop limit 255, ICMPv6 type 136
// with only the Override flag, target ip and a target link-layer address
// option carrying mac.
func UnsolicitedNA(mac [6]byte, ip netip.Addr) ([]byte, error) {
	if !ip.Is6() || ip.Is4In6() {
		return nil, ErrInvalidIP
	}
	b := make([]byte, 0, UnsolicitedNALen)
	b = append(b, AllNodesMAC[:]...)
	b = append(b, mac[:]...)
	b = binary.BigEndian.AppendUint16(b, EtherTypeIPv6)
	// IPv6 header
	b = append(b, 0x60, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, 32) // payload length
	b = append(b, 58, 255)                   // next header ICMPv6, hop limit
	src, dst := ip.As16(), AllNodes.As16()
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	// ICMPv6 neighbour advertisement
	icmp := len(b)
	b = append(b, 136, 0, 0, 0, NAFlagOverride, 0, 0, 0)
	b = append(b, src[:]...)
	b = append(b, 2, 1) // option: target link-layer address, 8 bytes
	b = append(b, mac[:]...)
	sum := ICMPv6Checksum(src, dst, b[icmp:])
	binary.BigEndian.PutUint16(b[icmp+2:], sum)
	return b, nil
}

// ICMPv6Checksum computes the ICMPv6 checksum of msg (with its checksum
// field zero) over the IPv6 pseudo-header.
func ICMPv6Checksum(src, dst [16]byte, msg []byte) uint16 {
	var s uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			s += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			s += uint32(b[len(b)-1]) << 8
		}
	}
	add(src[:])
	add(dst[:])
	var ph [8]byte
	binary.BigEndian.PutUint32(ph[0:4], uint32(len(msg)))
	ph[7] = 58
	add(ph[:])
	add(msg)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
