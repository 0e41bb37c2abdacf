package ipaddr

import (
	"net/netip"
	"strconv"
	"strings"

	"habox/hw/route"
)

// Spec is a parsed IPaddr resource argument (spec 7.1):
//
//	ip[/netmask[/iface][/broadcast]]
//
// netmask is CIDR bits ("24") or a dotted quad ("255.255.255.0"). The
// component after the netmask is a broadcast address when it starts with a
// digit, otherwise an interface name, which a broadcast may follow.
type Spec struct {
	IP    netip.Addr
	Bits  int        // prefix length; -1 when not given
	Iface string     // "" when not given
	Bcast netip.Addr // zero when not given
}

// InputError is bad input from the command line: the applet exits 2.
type InputError struct {
	Msg string
	// notYet: the interface or the route is missing, which may change
	// (the interface is brought up later).
	notYet bool
}

func (e *InputError) Error() string { return e.Msg }

func badInput(parts ...string) error { return &InputError{Msg: strings.Join(parts, "")} }

// ParseSpec parses an IPaddr argument.
func ParseSpec(s string) (Spec, error) {
	sp := Spec{Bits: -1}
	parts := strings.Split(s, "/")
	var err error
	if sp.IP, err = parseServiceIP(parts[0]); err != nil {
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
		if err := checkIfName(name); err != nil {
			return sp, err
		}
		sp.Iface, rest = name, rest[1:]
	}
	if len(rest) > 0 {
		b, err := parseIPv4(rest[0])
		if err != nil {
			return sp, badInput("malformed broadcast address [", rest[0], "]")
		}
		sp.Bcast, rest = b, rest[1:]
	}
	if len(rest) > 0 {
		return sp, badInput("too many components in [", s, "]: want ip[/netmask[/iface][/broadcast]]")
	}
	return sp, nil
}

// parseServiceIP parses a service address: IPv4 unicast.
func parseServiceIP(s string) (netip.Addr, error) {
	ip, err := parseIPv4(s)
	if err == nil && !ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() {
		err = badInput("not a unicast address [", s, "]")
	}
	return ip, err
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

func parseIPv4(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, badInput("malformed address [", s, "]")
	}
	return a, nil
}

// ParseMask parses a netmask given as bits (1..32) or as a contiguous
// dotted quad, and returns the prefix length.
func ParseMask(s string) (int, error) {
	if s == "" {
		return -1, badInput("empty netmask")
	}
	if strings.IndexByte(s, '.') >= 0 {
		m, err := netip.ParseAddr(s)
		if err != nil || !m.Is4() {
			return -1, badInput("malformed netmask [", s, "]")
		}
		n := route.MaskBits(m)
		if n < 1 {
			return -1, badInput("netmask not contiguous or zero [", s, "]")
		}
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || s[0] == '+' || s[0] == '-' {
		return -1, badInput("malformed netmask [", s, "]")
	}
	if n < 1 || n > 32 {
		return -1, badInput("netmask bits out of range (1..32) [", s, "]")
	}
	return n, nil
}

// checkIfName accepts a Linux interface name (1..15 bytes, no '/', ':',
// blanks). Alias labels are not interfaces.
func checkIfName(name string) error {
	if name == "" || len(name) > 15 || name == "." || name == ".." {
		return badInput("bad interface name [", name, "]")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == ':' {
			return badInput("bad interface name [", name, "]: name the interface, not an alias label")
		}
		if c <= ' ' || c == '/' || c >= 0x7f {
			return badInput("bad interface name [", name, "]")
		}
	}
	return nil
}

// Broadcast returns ip | ^mask, the highest address of ip's subnet.
func Broadcast(ip netip.Addr, bits int) netip.Addr {
	a, m := ip.As4(), route.BitsMask(bits).As4()
	for i := range a {
		a[i] |= ^m[i]
	}
	return netip.AddrFrom4(a)
}
