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
