// Package netif inspects and changes network interfaces and their addresses
// with raw syscalls: ioctls on an AF_INET socket for links and IPv4 alias
// labels (what ifconfig does), and rtnetlink for listing and removing
// addresses and for IPv6 (what ip(8) does). It needs no external command.
//
// Changes need CAP_NET_ADMIN; errors wrap the errno (errors.Is(err,
// unix.EPERM), errors.Is(err, ErrNoInterface)).
package netif

import (
	"errors"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrNoInterface is returned (wrapped) for an interface that does not exist.
var ErrNoInterface = errors.New("no such interface")

// Link describes one network interface.
type Link struct {
	Name  string
	Index int
	Flags uint32  // IFF_* bits of the device
	MAC   [6]byte // hardware address (zero for links without one)
}

// Up reports whether the interface is administratively up (IFF_UP).
func (l Link) Up() bool { return l.Flags&unix.IFF_UP != 0 }

// inetSocket returns a datagram socket for interface ioctls.
func inetSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}

func ifErr(op, name string, err error) error {
	if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
		return &os.PathError{Op: op, Path: name, Err: ErrNoInterface}
	}
	return &os.PathError{Op: op, Path: name, Err: err}
}

// ifreqHW is struct ifreq holding a struct sockaddr (ifr_hwaddr), which
// x/sys's Ifreq has no accessor for.
type ifreqHW struct {
	name   [unix.IFNAMSIZ]byte
	family uint16
	data   [14]byte
	_      [8]byte
}

// LinkByName returns the interface called name (not an alias label).
func LinkByName(name string) (Link, error) {
	if name == "" || strings.IndexByte(name, ':') >= 0 || strings.IndexByte(name, '/') >= 0 {
		return Link{}, &os.PathError{Op: "interface", Path: name, Err: ErrNoInterface}
	}
	fd, err := inetSocket()
	if err != nil {
		return Link{}, err
	}
	defer unix.Close(fd)
	ifr, err := getIfreq(fd, name, unix.SIOCGIFINDEX, "SIOCGIFINDEX")
	if err != nil {
		return Link{}, err
	}
	l := Link{Name: name, Index: int(ifr.Uint32())}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return Link{}, ifErr("SIOCGIFFLAGS", name, err)
	}
	l.Flags = uint32(ifr.Uint16())
	var hw ifreqHW
	copy(hw.name[:], name)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCGIFHWADDR, uintptr(unsafe.Pointer(&hw))); e != 0 {
		return Link{}, ifErr("SIOCGIFHWADDR", name, e)
	}
	if hw.family == unix.ARPHRD_ETHER {
		copy(l.MAC[:], hw.data[:6])
	}
	return l, nil
}

// getIfreq runs the "get" ioctl req (named op for errors) for the
// interface or alias label name on fd and returns the filled ifreq.
func getIfreq(fd int, name string, req uint, op string) (*unix.Ifreq, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return nil, &os.PathError{Op: op, Path: name, Err: ErrNoInterface}
	}
	if err := unix.IoctlIfreq(fd, req, ifr); err != nil {
		return nil, ifErr(op, name, err)
	}
	return ifr, nil
}

// ioctlIfreq opens a socket for one "get" ioctl (see getIfreq).
func ioctlIfreq(name string, req uint, op string) (*unix.Ifreq, error) {
	fd, err := inetSocket()
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return getIfreq(fd, name, req, op)
}

// Index returns the index of an interface (SIOCGIFINDEX): cheaper than
// LinkByName when only existence or the index matters. A missing
// interface gives ErrNoInterface.
func Index(name string) (int, error) {
	ifr, err := ioctlIfreq(name, unix.SIOCGIFINDEX, "SIOCGIFINDEX")
	if err != nil {
		return 0, err
	}
	return int(ifr.Uint32()), nil
}

// ipv4 returns the IPv4 address an ioctl (SIOCGIFADDR, SIOCGIFNETMASK,
// SIOCGIFBRDADDR) reports for an interface or alias label.
func ipv4(name string, req uint, op string) ([4]byte, error) {
	ifr, err := ioctlIfreq(name, req, op)
	if err != nil {
		return [4]byte{}, err
	}
	ip, err := ifr.Inet4Addr()
	if err != nil {
		return [4]byte{}, &os.PathError{Op: op, Path: name, Err: err}
	}
	return [4]byte(ip), nil
}

// IPv4Addr returns the primary IPv4 address of an interface (SIOCGIFADDR).
func IPv4Addr(name string) ([4]byte, error) {
	return ipv4(name, unix.SIOCGIFADDR, "SIOCGIFADDR")
}

// IPv4Netmask returns the netmask of an interface's primary IPv4 address.
func IPv4Netmask(name string) ([4]byte, error) {
	return ipv4(name, unix.SIOCGIFNETMASK, "SIOCGIFNETMASK")
}

// ErrNoBroadcast is returned for an interface without an IPv4 broadcast
// address (loopback, point-to-point, or an address added without "brd").
var ErrNoBroadcast = errors.New("interface has no IPv4 broadcast address")

// IPv4Broadcast returns the IPv4 broadcast address of an interface.
func IPv4Broadcast(name string) ([4]byte, error) {
	a, err := ipv4(name, unix.SIOCGIFBRDADDR, "SIOCGIFBRDADDR")
	if err == nil && a == ([4]byte{}) {
		err = &os.PathError{Op: "SIOCGIFBRDADDR", Path: name, Err: ErrNoBroadcast}
	}
	return a, err
}

// LinkByIndex returns the interface with index index.
func LinkByIndex(index int) (Link, error) {
	fd, err := inetSocket()
	if err != nil {
		return Link{}, err
	}
	ifr, _ := unix.NewIfreq("")
	ifr.SetUint32(uint32(index))
	err = unix.IoctlIfreq(fd, unix.SIOCGIFNAME, ifr)
	unix.Close(fd)
	if err != nil {
		return Link{}, ifErr("SIOCGIFNAME", "#"+strconv.Itoa(index), err)
	}
	return LinkByName(ifr.Name())
}

// AddAlias configures the IPv4 address ip on the alias label (e.g.
// "eth0:3") the way ifconfig does: SIOCSIFADDR (which creates the alias),
// SIOCSIFNETMASK, SIOCSIFBRDADDR and SIOCSIFFLAGS with IFF_UP. If a later
// step fails the alias is removed again, so nothing is left half-applied.
func AddAlias(label string, ip, mask, bcast netip.Addr) error {
	if strings.IndexByte(label, ':') <= 0 {
		return &os.PathError{Op: "add alias", Path: label, Err: unix.EINVAL}
	}
	if !ip.Is4() || !mask.Is4() || !bcast.Is4() {
		return &os.PathError{Op: "add alias", Path: label, Err: unix.EAFNOSUPPORT}
	}
	fd, err := inetSocket()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(label)
	if err != nil {
		return &os.PathError{Op: "add alias", Path: label, Err: unix.ENAMETOOLONG}
	}
	set := func(req uint, op string, a netip.Addr) error {
		b := a.As4()
		ifr.SetInet4Addr(b[:])
		if err := unix.IoctlIfreq(fd, req, ifr); err != nil {
			return ifErr(op, label, err)
		}
		return nil
	}
	if err := set(unix.SIOCSIFADDR, "SIOCSIFADDR", ip); err != nil {
		return err
	}
	err = set(unix.SIOCSIFNETMASK, "SIOCSIFNETMASK", mask)
	if err == nil {
		err = set(unix.SIOCSIFBRDADDR, "SIOCSIFBRDADDR", bcast)
	}
	if err == nil {
		err = setFlags(fd, label, true)
	}
	if err != nil {
		setFlags(fd, label, false) // roll back: an alias taken down is deleted
		return err
	}
	return nil
}

// DownAlias removes the IPv4 alias label (like "ifconfig eth0:3 down").
// It refuses a label without ':' so a device is never taken down by it.
func DownAlias(label string) error {
	if strings.IndexByte(label, ':') <= 0 {
		return &os.PathError{Op: "down alias", Path: label, Err: unix.EINVAL}
	}
	fd, err := inetSocket()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return setFlags(fd, label, false)
}

func setFlags(fd int, label string, up bool) error {
	ifr, err := getIfreq(fd, label, unix.SIOCGIFFLAGS, "SIOCGIFFLAGS")
	if err != nil {
		return err
	}
	f := ifr.Uint16()
	if up {
		f |= unix.IFF_UP
	} else {
		f &^= unix.IFF_UP
	}
	ifr.SetUint16(f)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return ifErr("SIOCSIFFLAGS", label, err)
	}
	return nil
}
