package conf

import (
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// The arguments of the IPaddr and IPv6addr resources in haresources
// ("IPaddr::10.0.0.5/24/eth0"): parsed here so that the applets which read
// them (IPaddr, IPv6addr, the daemon's host check, haresources2crm) share
// one grammar.

// ArgError is a malformed resource argument.
type ArgError struct{ Msg string }

func (e *ArgError) Error() string { return e.Msg }

func argError(parts ...string) error { return &ArgError{Msg: strings.Join(parts, "")} }

// IPSpec is a parsed IPaddr resource argument (spec 7.1):
//
//	ip[/netmask[/iface][/broadcast]]
//
// netmask is CIDR bits ("24") or a dotted quad ("255.255.255.0"). The
// component after the netmask is a broadcast address when it starts with a
// digit, otherwise an interface name, which a broadcast may follow.
type IPSpec struct {
	IP    netip.Addr
	Bits  int        // prefix length; -1 when not given
	Iface string     // "" when not given
	Bcast netip.Addr // zero when not given
}

// IPv6Spec is a parsed IPv6addr argument: ip[/bits[/iface]].
type IPv6Spec struct {
	IP    netip.Addr
	Bits  int    // -1 when not given
	Iface string // "" when not given
}

// ParseIPSpec parses an IPaddr argument.
func ParseIPSpec(s string) (IPSpec, error) {
	sp := IPSpec{Bits: -1}
	parts := strings.Split(s, "/")
	var err error
	if sp.IP, err = ParseServiceIP(parts[0]); err != nil {
		return sp, err
	}
	if len(parts) == 1 {
		return sp, nil
	}
	if sp.Bits, err = ParseMask(parts[1]); err != nil {
		return sp, err
	}
	rest := parts[2:]
	if len(rest) > 0 && !startsWithDigit(rest[0]) {
		name := rest[0]
		if err := CheckIfName(name); err != nil {
			return sp, err
		}
		sp.Iface, rest = name, rest[1:]
	}
	if len(rest) > 0 {
		b, err := ParseIPv4(rest[0])
		if err != nil {
			return sp, argError("malformed broadcast address [", rest[0], "]")
		}
		sp.Bcast, rest = b, rest[1:]
	}
	if len(rest) > 0 {
		return sp, argError("too many components in [", s, "]: want ip[/netmask[/iface][/broadcast]]")
	}
	return sp, nil
}

// ParseServiceIP parses a service address: IPv4 unicast.
func ParseServiceIP(s string) (netip.Addr, error) {
	ip, err := ParseIPv4(s)
	if err == nil && !ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() {
		err = argError("not a unicast address [", s, "]")
	}
	return ip, err
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// ParseIPv4 parses a dotted-quad IPv4 address.
func ParseIPv4(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, argError("malformed address [", s, "]")
	}
	return a, nil
}

// ParseMask parses a netmask given as bits (1..32) or as a contiguous
// dotted quad, and returns the prefix length.
func ParseMask(s string) (int, error) {
	if s == "" {
		return -1, argError("empty netmask")
	}
	if strings.IndexByte(s, '.') >= 0 {
		m, err := netip.ParseAddr(s)
		if err != nil || !m.Is4() {
			return -1, argError("malformed netmask [", s, "]")
		}
		n := maskBits(m.As4())
		if n < 1 {
			return -1, argError("netmask not contiguous or zero [", s, "]")
		}
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || s[0] == '+' || s[0] == '-' {
		return -1, argError("malformed netmask [", s, "]")
	}
	if n < 1 || n > 32 {
		return -1, argError("netmask bits out of range (1..32) [", s, "]")
	}
	return n, nil
}

// CheckIfName accepts a Linux interface name (1..15 bytes, no '/', ':',
// blanks). Alias labels are not interfaces.
func CheckIfName(name string) error {
	if name == "" || len(name) > 15 || name == "." || name == ".." {
		return argError("bad interface name [", name, "]")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == ':' {
			return argError("bad interface name [", name, "]: name the interface, not an alias label")
		}
		if c <= ' ' || c == '/' || c >= 0x7f {
			return argError("bad interface name [", name, "]")
		}
	}
	return nil
}

// ParseIPv6Spec parses an IPv6addr argument.
func ParseIPv6Spec(s string) (IPv6Spec, error) {
	parts := strings.Split(s, "/")
	if len(parts) > 3 {
		return IPv6Spec{}, argError("too many components in [", s, "]: want ipv6[/bits[/iface]]")
	}
	if len(parts) > 1 && parts[1] == "" {
		return IPv6Spec{}, argError("malformed prefix length []")
	}
	parts = append(parts, "", "")
	return IPv6SpecFrom(parts[0], parts[1], parts[2])
}

// IPv6SpecFrom checks the parts of an IPv6addr address; bits and iface may be
// empty (not given).
func IPv6SpecFrom(addr, bits, iface string) (IPv6Spec, error) {
	sp := IPv6Spec{Bits: -1}
	ip, err := netip.ParseAddr(addr)
	if err != nil || !ip.Is6() || ip.Is4In6() || ip.Zone() != "" {
		return sp, argError("malformed IPv6 address [", addr, "]")
	}
	if !ip.IsGlobalUnicast() {
		return sp, argError("not a global unicast IPv6 address [", addr, "]")
	}
	sp.IP = ip
	if bits != "" {
		n, err := strconv.Atoi(bits)
		if err != nil || bits[0] == '+' || bits[0] == '-' {
			return sp, argError("malformed prefix length [", bits, "]")
		}
		if n < 1 || n > 128 {
			return sp, argError("prefix length out of range (1..128) [", bits, "]")
		}
		sp.Bits = n
	}
	if iface != "" {
		if err := CheckIfName(iface); err != nil {
			return sp, err
		}
		sp.Iface = iface
	}
	return sp, nil
}

// maskBits is the prefix length of a contiguous netmask, -1 otherwise.
func maskBits(b [4]byte) int {
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := bits.LeadingZeros32(^m)
	if n < 32 && m<<n != 0 {
		return -1
	}
	return n
}
