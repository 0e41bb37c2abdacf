package netif

import (
	"encoding/binary"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"habox/hw/netlink"
)

// Addr is one address configured on an interface, as rtnetlink reports it.
type Addr struct {
	Index     int          // interface index
	Label     string       // IPv4 label: "eth0", or an alias such as "eth0:1"; empty for IPv6
	Prefix    netip.Prefix // local address and prefix length
	Broadcast netip.Addr   // IPv4 broadcast, when set
	Flags     uint32       // IFA_F_* bits
	Scope     uint8        // RT_SCOPE_*
}

// FlagNoDAD (IFA_F_NODAD) adds an IPv6 address without duplicate address
// detection: usable at once instead of "tentative" for a second or more.
const FlagNoDAD = unix.IFA_F_NODAD

// Addrs lists the addresses of every interface: family is unix.AF_INET,
// unix.AF_INET6 or unix.AF_UNSPEC for both. It sees alias labels, which
// SIOCGIFCONF would too, and IPv6, which it would not.
func Addrs(family int) ([]Addr, error) {
	var m ifaddrmsg
	m.family = uint8(family)
	msgs, err := netlink.Request(unix.RTM_GETADDR, unix.NLM_F_DUMP, m.marshal(nil))
	if err != nil {
		return nil, err
	}
	var out []Addr
	for _, b := range msgs {
		if a, ok := parseAddr(b); ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// DelAddr removes exactly the address a (matched by interface, local
// address, prefix length and, for IPv4, label) through RTM_DELADDR; other
// addresses of the interface stay. A missing address gives EADDRNOTAVAIL.
//
// Deleting a primary IPv4 address (a.Flags without IFA_F_SECONDARY) makes
// the kernel delete the secondaries of its subnet too, unless the
// interface's promote_secondaries sysctl is set: DelAddr sets it for the
// deletion and restores it afterwards, so the other aliases survive.
func DelAddr(a Addr) error {
	if a.Prefix.Addr().Is4() && a.Flags&unix.IFA_F_SECONDARY == 0 {
		if restore := promoteSecondaries(a.Index); restore != nil {
			defer restore()
		}
	}
	body := addrBody(a)
	if _, err := netlink.Request(unix.RTM_DELADDR, unix.NLM_F_ACK, body); err != nil {
		return nlErr("delete address "+a.Prefix.String(), err)
	}
	return nil
}

// AddAddr adds the address a.Prefix on interface a.Index through
// RTM_NEWADDR; a.Label (IPv4) and a.Broadcast are used when set, a.Flags
// (e.g. unix.IFA_F_NODAD for IPv6) too. An address already present gives
// EEXIST.
func AddAddr(a Addr) error {
	body := addrBody(a)
	if _, err := netlink.Request(unix.RTM_NEWADDR, unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_EXCL, body); err != nil {
		return nlErr("add address "+a.Prefix.String(), err)
	}
	return nil
}

func nlErr(ctx string, err error) error {
	return &os.PathError{Op: "netlink", Path: ctx, Err: err}
}

func addrBody(a Addr) []byte {
	ip := a.Prefix.Addr()
	m := ifaddrmsg{prefixlen: uint8(a.Prefix.Bits()), flags: uint8(a.Flags), index: uint32(a.Index)}
	if ip.Is4() {
		m.family = unix.AF_INET
	} else {
		m.family = unix.AF_INET6
	}
	b := m.marshal(nil)
	raw := ip.AsSlice()
	b = netlink.AppendAttr(b, unix.IFA_LOCAL, raw)
	b = netlink.AppendAttr(b, unix.IFA_ADDRESS, raw)
	if ip.Is4() && a.Label != "" {
		b = netlink.AppendAttr(b, unix.IFA_LABEL, append([]byte(a.Label), 0))
	}
	if a.Broadcast.Is4() {
		bc := a.Broadcast.As4()
		b = netlink.AppendAttr(b, unix.IFA_BROADCAST, bc[:])
	}
	if a.Flags > 0xff {
		var f [4]byte
		binary.NativeEndian.PutUint32(f[:], a.Flags)
		b = netlink.AppendAttr(b, unix.IFA_FLAGS, f[:])
	}
	return b
}

// ifaddrmsg is struct ifaddrmsg.
type ifaddrmsg struct {
	family, prefixlen, flags, scope uint8
	index                           uint32
}

func (m ifaddrmsg) marshal(b []byte) []byte {
	b = append(b, m.family, m.prefixlen, m.flags, m.scope)
	return binary.NativeEndian.AppendUint32(b, m.index)
}

func parseAddr(b []byte) (Addr, bool) {
	if len(b) < unix.SizeofIfAddrmsg {
		return Addr{}, false
	}
	family, bits := b[0], int(b[1])
	a := Addr{Flags: uint32(b[2]), Scope: b[3], Index: int(binary.NativeEndian.Uint32(b[4:8]))}
	var local, address netip.Addr
	for t, v := range netlink.Attrs(b[unix.SizeofIfAddrmsg:]) {
		switch t {
		case unix.IFA_LOCAL:
			local, _ = netip.AddrFromSlice(v)
		case unix.IFA_ADDRESS:
			address, _ = netip.AddrFromSlice(v)
		case unix.IFA_BROADCAST:
			a.Broadcast, _ = netip.AddrFromSlice(v)
		case unix.IFA_LABEL:
			a.Label = strings.TrimRight(string(v), "\x00")
		case unix.IFA_FLAGS:
			if len(v) == 4 {
				a.Flags = binary.NativeEndian.Uint32(v)
			}
		}
	}
	if !local.IsValid() {
		local = address
	}
	if !local.IsValid() || (family == unix.AF_INET) != local.Is4() {
		return Addr{}, false
	}
	p, err := local.Prefix(bits)
	if err != nil {
		return Addr{}, false
	}
	a.Prefix = netip.PrefixFrom(local, p.Bits())
	return a, true
}

// promoteSecondaries turns promote_secondaries on for the interface with
// index and returns the function that turns it off again; nil when it was
// on already or cannot be changed.
func promoteSecondaries(index int) func() {
	l, err := LinkByIndex(index)
	if err != nil {
		return nil
	}
	p := "/proc/sys/net/ipv4/conf/" + l.Name + "/promote_secondaries"
	old, err := os.ReadFile(p)
	if err != nil || strings.TrimSpace(string(old)) != "0" {
		return nil
	}
	if os.WriteFile(p, []byte("1\n"), 0o644) != nil {
		return nil
	}
	return func() { os.WriteFile(p, []byte("0\n"), 0o644) }
}
