package arp

import (
	"encoding/binary"
	"os"

	"golang.org/x/sys/unix"
)

// Conn sends raw Ethernet frames on one interface through an AF_PACKET
// socket. It does not receive (protocol 0), so nothing queues up on it.
type Conn struct {
	fd      int
	ifindex int
}

// Dial opens a sending socket bound to the interface with index ifindex.
func Dial(ifindex int) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket AF_PACKET", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind AF_PACKET", err)
	}
	return &Conn{fd: fd, ifindex: ifindex}, nil
}

// WriteFrame sends one complete Ethernet frame (header included).
func (c *Conn) WriteFrame(frame []byte) error {
	if len(frame) < FrameHeaderLen {
		return ErrShort
	}
	sa := &unix.SockaddrLinklayer{
		Protocol: htons(binary.BigEndian.Uint16(frame[12:14])),
		Ifindex:  c.ifindex,
		Halen:    6,
	}
	copy(sa.Addr[:], frame[0:6])
	if err := unix.Sendto(c.fd, frame, 0, sa); err != nil {
		return os.NewSyscallError("sendto AF_PACKET", err)
	}
	return nil
}

// Close closes the socket.
func (c *Conn) Close() error { return unix.Close(c.fd) }

// htons converts to network byte order as SockaddrLinklayer.Protocol wants.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// File returns a duplicate of the socket as an *os.File (close-on-exec
// cleared only by os.StartProcess when passed in ProcAttr.Files), for
// handing the open socket to a child process. The caller closes it.
//
// Passing the socket on is not only convenient: closing the last reference
// to an AF_PACKET socket waits for an RCU grace period (synchronize_net in
// packet_release), 10..15 ms on a busy machine, which would otherwise
// delay the exit of a short-lived sender.
func (c *Conn) File() (*os.File, error) {
	fd, err := unix.FcntlInt(uintptr(c.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", err)
	}
	return os.NewFile(uintptr(fd), "packet"), nil
}

// NewConn wraps an AF_PACKET socket inherited from a parent process (see
// File) for sending on the interface with index ifindex.
func NewConn(fd, ifindex int) (*Conn, error) {
	dom, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil || dom != unix.AF_PACKET {
		return nil, os.NewSyscallError("inherited socket", unix.ENOTSOCK)
	}
	unix.CloseOnExec(fd)
	return &Conn{fd: fd, ifindex: ifindex}, nil
}
