// Package icmp sends ICMP echo requests and receives the matching echo
// replies on a raw IPv4 socket, as heartbeat 3.0.6's ping and ping_group
// plugins do: no exec of ping(8). A classic BPF filter attached to the
// socket lets only echo replies carrying the connection's identifier
// through, so the daemon is not woken by the host's other ICMP traffic;
// Recv checks the same again (and the checksum) in user space.
package icmp

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"habox/hw/pollerr"
)

// ICMP types used here.
const (
	typeEchoReply   = 0
	typeEchoRequest = 8
	headerLen       = 8
)

// ErrBad is returned by ParseReply for a packet that is not a well-formed
// echo reply carrying the expected identifier.
var ErrBad = errors.New("icmp: not an echo reply for us")

// Checksum is the Internet checksum (RFC 1071) of b.
func Checksum(b []byte) uint16 {
	var s uint32
	for ; len(b) >= 2; b = b[2:] {
		s += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// AppendEcho appends an ICMP echo request (type 8) with identifier id,
// sequence seq and payload to dst.
func AppendEcho(dst []byte, id, seq uint16, payload []byte) []byte {
	start := len(dst)
	dst = append(dst, typeEchoRequest, 0, 0, 0, byte(id>>8), byte(id), byte(seq>>8), byte(seq))
	dst = append(dst, payload...)
	binary.BigEndian.PutUint16(dst[start+2:], Checksum(dst[start:]))
	return dst
}

// ParseReply checks an IPv4 packet (IP header included, as a raw socket
// delivers it) for an echo reply with identifier id and a valid checksum,
// and returns its source address and payload (a slice of pkt).
func ParseReply(pkt []byte, id uint16) (src [4]byte, payload []byte, err error) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return src, nil, ErrBad
	}
	ihl := int(pkt[0]&0x0f) * 4
	if ihl < 20 || len(pkt) < ihl+headerLen {
		return src, nil, ErrBad
	}
	if tot := int(binary.BigEndian.Uint16(pkt[2:])); tot >= ihl+headerLen && tot < len(pkt) {
		pkt = pkt[:tot]
	}
	copy(src[:], pkt[12:16])
	ic := pkt[ihl:]
	if ic[0] != typeEchoReply || ic[1] != 0 || binary.BigEndian.Uint16(ic[4:]) != id || Checksum(ic) != 0 {
		return src, nil, ErrBad
	}
	return src, ic[headerLen:], nil
}

// filter is the classic BPF program "echo reply with identifier id":
// x = IP header length; accept when byte x+0 == 0 and half-word x+4 == id.
func filter(id uint16) []unix.SockFilter {
	return []unix.SockFilter{
		{Code: unix.BPF_LDX | unix.BPF_B | unix.BPF_MSH, K: 0},
		{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_IND, K: 0},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 3, K: typeEchoReply},
		{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_IND, K: 4},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: uint32(id)},
		{Code: unix.BPF_RET | unix.BPF_K, K: 0xffff},
		{Code: unix.BPF_RET | unix.BPF_K, K: 0},
	}
}

// Conn is a raw ICMP socket for one identifier. Needs CAP_NET_RAW.
type Conn struct {
	f   *os.File
	id  uint16
	seq atomic.Uint32

	// Dropped counts packets Recv discarded (not a valid reply for us).
	Dropped atomic.Uint64
}

// Listen opens the socket for identifier id (heartbeat uses its pid &
// 0xffff) and attaches the reply filter.
func Listen(id uint16) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.IPPROTO_ICMP)
	if err != nil {
		return nil, os.NewSyscallError("socket icmp", err)
	}
	prog := filter(id)
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("setsockopt SO_ATTACH_FILTER", err)
	}
	return &Conn{f: os.NewFile(uintptr(fd), "icmp"), id: id}, nil
}

// ID returns the identifier of the connection's echo requests.
func (c *Conn) ID() uint16 { return c.id }

// Echo sends one echo request with the next sequence number to dst. It
// never waits: a full socket buffer is an error (the probe is lost).
func (c *Conn) Echo(dst [4]byte, payload []byte) error {
	pkt := AppendEcho(make([]byte, 0, headerLen+len(payload)), c.id, uint16(c.seq.Add(1)), payload)
	rc, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Sendto(int(fd), pkt, 0, &unix.SockaddrInet4{Addr: dst}) }); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "sendto icmp", Path: netip.AddrFrom4(dst).String(), Err: serr}
	}
	return nil
}

// Recv waits for the next echo reply for this identifier, reads it into
// b and returns its source and payload (a slice of b). Packets that fail
// the checks are counted in Dropped and skipped. After Close it returns
// an error wrapping os.ErrClosed.
func (c *Conn) Recv(b []byte) ([4]byte, []byte, error) {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return [4]byte{}, nil, err
	}
	for {
		var n int
		var rerr error
		err = rc.Read(func(fd uintptr) bool {
			// read(2), not unix.Recvfrom: the source is in the IP header
			// (see bench/size's ban on x/sys/unix's anyToSockaddr).
			n, rerr = unix.Read(int(fd), b)
			return rerr != unix.EAGAIN
		})
		if err != nil {
			return [4]byte{}, nil, pollerr.Closed("recv", "icmp", err)
		}
		if rerr != nil {
			return [4]byte{}, nil, os.NewSyscallError("recvfrom icmp", rerr)
		}
		src, payload, perr := ParseReply(b[:n], c.id)
		if perr == nil {
			return src, payload, nil
		}
		c.Dropped.Add(1)
	}
}

// SetReadDeadline sets the deadline for Recv.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.f.SetReadDeadline(t) }

// Close closes the socket; a pending Recv returns.
func (c *Conn) Close() error { return c.f.Close() }
