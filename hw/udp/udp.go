// Package udp opens the IPv4 UDP sockets of heartbeat's bcast, mcast and
// ucast media with golang.org/x/sys/unix instead of package net (which
// would cost ~250 KB of binary). Sockets are non-blocking and wrapped in an
// *os.File, so receives park on the Go runtime poller, deadlines work and
// Close unblocks a waiting receiver.
//
// The socket options follow heartbeat 3.0.6's HBcomm plugins (spec 4.1):
//
//	bcast  send: SO_BROADCAST, SO_DONTROUTE, SO_BINDTODEVICE, to the interface's broadcast address
//	       (or one the caller derived when the interface has none)
//	       recv: 0.0.0.0:port, SO_REUSEADDR, SO_BINDTODEVICE
//	mcast  send: IP_MULTICAST_IF (interface address), IP_MULTICAST_TTL, IP_MULTICAST_LOOP
//	       recv: group:port, SO_REUSEADDR, joined on the interface address
//	ucast  send: IP_TOS lowdelay, SO_BINDTODEVICE, SO_REUSEPORT, to peer:port
//	       recv: 0.0.0.0:port, SO_REUSEADDR, SO_REUSEPORT, SO_BINDTODEVICE
package udp

import (
	"errors"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"habox/hw/netif"
	"habox/hw/pollerr"
)

// MaxDatagram is the receive buffer size: the largest UDP payload over
// IPv4 fits. Larger (truncated) datagrams are dropped and counted.
const MaxDatagram = 64 * 1024

// ErrTruncated is returned by Recv for a datagram larger than the buffer.
var ErrTruncated = errors.New("datagram truncated")

// Conn is one UDP socket: a sender with a fixed destination, or a
// receiver.
type Conn struct {
	f    *os.File
	name string
	dst  atomic.Pointer[unix.SockaddrInet4] // nil for a receiver

	// Truncated counts datagrams dropped because they did not fit.
	Truncated atomic.Uint64
}

func sockErr(op, ifname string, err error) error {
	return &os.PathError{Op: op, Path: ifname, Err: err}
}

// newSocket creates a non-blocking IPv4 UDP socket.
func newSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}

func wrap(fd int, name string, dst *unix.SockaddrInet4) *Conn {
	c := &Conn{f: os.NewFile(uintptr(fd), name), name: name}
	if dst != nil {
		c.dst.Store(dst)
	}
	return c
}

// opt is one integer socket option, named for error messages.
type opt struct {
	name         string
	level, o, v  int
	ignoreErrors bool
}

func setOpts(fd int, ifname string, opts []opt) error {
	for _, x := range opts {
		if err := unix.SetsockoptInt(fd, x.level, x.o, x.v); err != nil && !x.ignoreErrors {
			return sockErr("setsockopt "+x.name, ifname, err)
		}
	}
	return nil
}

func bindToDevice(fd int, ifname string) error {
	if ifname == "" {
		return nil
	}
	if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname); err != nil {
		return sockErr("setsockopt SO_BINDTODEVICE", ifname, err)
	}
	return nil
}

// bindRetry binds fd, retrying up to tries times 1 s apart like heartbeat
// (a previous instance may be exiting).
func bindRetry(fd int, sa unix.Sockaddr, ifname string, tries int) error {
	var err error
	for i := 0; i < tries; i++ {
		if err = unix.Bind(fd, sa); err == nil {
			return nil
		}
		if err != unix.EADDRINUSE || i == tries-1 {
			break
		}
		time.Sleep(time.Second)
	}
	return sockErr("bind", ifname, err)
}

// bindTries is how often a receive socket's bind is attempted (1 s apart).
const bindTries = 10

// NewBcastSender returns a socket that broadcasts out of ifname (bound to
// the device) to brd:port; the caller chooses brd (netif.IPv4Broadcast, or one
// derived when the interface has none) and may change it with SetDest.
func NewBcastSender(ifname string, brd [4]byte, port int) (*Conn, error) {
	fd, err := newSocket()
	if err != nil {
		return nil, err
	}
	if err := setOpts(fd, ifname, []opt{
		{"SO_BROADCAST", unix.SOL_SOCKET, unix.SO_BROADCAST, 1, false},
		{"SO_DONTROUTE", unix.SOL_SOCKET, unix.SO_DONTROUTE, 1, false},
	}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := bindToDevice(fd, ifname); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return wrap(fd, ifname, &unix.SockaddrInet4{Addr: brd, Port: port}), nil
}

// NewBcastReceiver returns a socket receiving UDP on port from ifname
// only (broadcasts included).
func NewBcastReceiver(ifname string, port int) (*Conn, error) {
	return newReceiver(ifname, [4]byte{}, port, false)
}

// NewUcastReceiver is NewBcastReceiver with SO_REUSEPORT, as ucast sets it.
func NewUcastReceiver(ifname string, port int) (*Conn, error) {
	return newReceiver(ifname, [4]byte{}, port, true)
}

func newReceiver(ifname string, addr [4]byte, port int, reusePort bool) (*Conn, error) {
	fd, err := newSocket()
	if err != nil {
		return nil, err
	}
	opts := []opt{{"SO_REUSEADDR", unix.SOL_SOCKET, unix.SO_REUSEADDR, 1, false}}
	if reusePort {
		opts = append(opts, opt{"SO_REUSEPORT", unix.SOL_SOCKET, unix.SO_REUSEPORT, 1, false})
	}
	if err := setOpts(fd, ifname, opts); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := bindToDevice(fd, ifname); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := bindRetry(fd, &unix.SockaddrInet4{Addr: addr, Port: port}, ifname, bindTries); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return wrap(fd, ifname, nil), nil
}

// NewMcastSender returns a socket sending to group:port out of ifname
// (selected by its address), with the multicast TTL and loopback set.
func NewMcastSender(ifname string, group [4]byte, port, ttl int, loop bool) (*Conn, error) {
	local, err := netif.IPv4Addr(ifname)
	if err != nil {
		return nil, err
	}
	fd, err := newSocket()
	if err != nil {
		return nil, err
	}
	lv := 0
	if loop {
		lv = 1
	}
	if err := unix.SetsockoptInet4Addr(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, local); err != nil {
		unix.Close(fd)
		return nil, sockErr("setsockopt IP_MULTICAST_IF", ifname, err)
	}
	if err := setOpts(fd, ifname, []opt{
		{"IP_MULTICAST_TTL", unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, ttl, false},
		{"IP_MULTICAST_LOOP", unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, lv, false},
	}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return wrap(fd, ifname, &unix.SockaddrInet4{Addr: group, Port: port}), nil
}

// NewMcastReceiver returns a socket bound to group:port and joined to the
// group on ifname's address. Unlike 3.0.6 it is also bound to the device,
// so two mcast lines for the same group on two interfaces do not hear
// each other's traffic (which would report a dead link as up).
func NewMcastReceiver(ifname string, group [4]byte, port int) (*Conn, error) {
	local, err := netif.IPv4Addr(ifname)
	if err != nil {
		return nil, err
	}
	c, err := newReceiver(ifname, group, port, false)
	if err != nil {
		return nil, err
	}
	// IP_MULTICAST_ALL off: only the group joined here, not every group
	// some other socket joined on this port.
	c.control(func(fd int) { unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0) })
	mreq := &unix.IPMreq{Multiaddr: group, Interface: local}
	var serr error
	if err := c.control(func(fd int) { serr = unix.SetsockoptIPMreq(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq) }); err != nil {
		c.Close()
		return nil, err
	}
	if serr != nil {
		c.Close()
		return nil, sockErr("setsockopt IP_ADD_MEMBERSHIP", ifname, serr)
	}
	return c, nil
}

// NewUcastSender returns a socket sending to peer:port out of ifname with
// low-delay TOS.
func NewUcastSender(ifname string, peer [4]byte, port int) (*Conn, error) {
	fd, err := newSocket()
	if err != nil {
		return nil, err
	}
	if err := setOpts(fd, ifname, []opt{
		{"IP_TOS", unix.IPPROTO_IP, unix.IP_TOS, iptosLowDelay, false},
		{"SO_REUSEPORT", unix.SOL_SOCKET, unix.SO_REUSEPORT, 1, false},
	}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := bindToDevice(fd, ifname); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return wrap(fd, ifname, &unix.SockaddrInet4{Addr: peer, Port: port}), nil
}

func (c *Conn) control(f func(fd int)) error {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { f(int(fd)) })
}

// Name returns the interface name the socket serves.
func (c *Conn) Name() string { return c.name }

// Dest returns the destination of a sender ("" for a receiver).
func (c *Conn) Dest() string {
	if sa := c.dst.Load(); sa != nil {
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)).String()
	}
	return ""
}

// SetDest changes a sender's destination address (the port stays); it is
// ignored for a receiver.
func (c *Conn) SetDest(ip [4]byte) {
	if sa := c.dst.Load(); sa != nil && sa.Addr != ip {
		c.dst.Store(&unix.SockaddrInet4{Addr: ip, Port: sa.Port})
	}
}

// Send sends b as one datagram to the sender's destination. It never
// waits: a full socket buffer is an error (the message is lost, as a
// dropped packet would be).
func (c *Conn) Send(b []byte) error {
	dst := c.dst.Load()
	if dst == nil {
		return sockErr("send", c.name, errors.New("not a sender"))
	}
	var serr error
	if err := c.control(func(fd int) { serr = unix.Sendto(fd, b, 0, dst) }); err != nil {
		return err
	}
	if serr != nil {
		return sockErr("sendto "+c.Dest(), c.name, serr)
	}
	return nil
}

// Recv waits for one datagram, copies it into b and returns its length
// and source. A datagram larger than b is consumed, counted in Truncated
// and reported as ErrTruncated. After Close it returns an error wrapping
// os.ErrClosed; after the read deadline, one wrapping os.ErrDeadlineExceeded.
func (c *Conn) Recv(b []byte) (int, netip.AddrPort, error) {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	var n int
	var from syscall.Sockaddr
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		// syscall's Recvfrom, not x/sys/unix's: that one converts through
		// an anyToSockaddr that links every Sockaddr type of x/sys/unix
		// (removing it with unixsock's Accept4: -24576 bytes stripped amd64).
		n, from, rerr = syscall.Recvfrom(int(fd), b, unix.MSG_TRUNC)
		return rerr != unix.EAGAIN
	})
	if err != nil {
		return 0, netip.AddrPort{}, pollerr.Closed("recv", c.name, err)
	}
	if rerr != nil {
		return 0, netip.AddrPort{}, sockErr("recvfrom", c.name, rerr)
	}
	var src netip.AddrPort
	if sa, ok := from.(*syscall.SockaddrInet4); ok {
		src = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	}
	if n > len(b) {
		c.Truncated.Add(1)
		return 0, src, sockErr("recvfrom "+strconv.Itoa(n)+" bytes", c.name, ErrTruncated)
	}
	return n, src, nil
}

// SetReadDeadline sets the deadline for Recv.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.f.SetReadDeadline(t) }

// Close closes the socket; a pending Recv returns.
func (c *Conn) Close() error { return c.f.Close() }

// iptosLowDelay is IPTOS_LOWDELAY from <netinet/ip.h>.
const iptosLowDelay = 0x10
