// Package netlink sets network links up or down through rtnetlink
// (RTM_NEWLINK), what `ip link set IF up` does. Addresses are the business
// of hw/netif.
package netlink

import (
	"encoding/binary"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SetUp sets the link with index up (or down), waiting for the kernel's
// acknowledgement. Needs CAP_NET_ADMIN.
func SetUp(index int, up bool) error {
	var flags uint32
	if up {
		flags = unix.IFF_UP
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("bind", err)
	}
	req := linkRequest(index, flags, unix.IFF_UP, 1)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("sendto", err)
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("recvfrom", err)
		}
		if done, err := ack(buf[:n], 1); done {
			if err != nil {
				return &os.PathError{Op: "netlink set link", Path: "index " + strconv.Itoa(index), Err: err}
			}
			return nil
		}
	}
}

// linkRequest builds an RTM_NEWLINK request changing the flags in change
// to flags on interface index.
func linkRequest(index int, flags, change uint32, seq uint32) []byte {
	n := unix.SizeofNlMsghdr + unix.SizeofIfInfomsg
	b := make([]byte, n)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(n))
	ne.PutUint16(b[4:], unix.RTM_NEWLINK)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	ne.PutUint32(b[8:], seq)
	info := (*unix.IfInfomsg)(unsafe.Pointer(&b[unix.SizeofNlMsghdr]))
	info.Family = unix.AF_UNSPEC
	info.Index = int32(index)
	info.Flags = flags
	info.Change = change
	return b
}

// ack looks for the NLMSG_ERROR answer to seq in a receive buffer: done
// when found, with the kernel's error (nil for a plain ACK).
func ack(b []byte, seq uint32) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= unix.SizeofNlMsghdr {
		l := int(ne.Uint32(b[0:]))
		if l < unix.SizeofNlMsghdr || l > len(b) {
			return true, unix.EBADMSG
		}
		typ, s := ne.Uint16(b[4:]), ne.Uint32(b[8:])
		if typ == unix.NLMSG_ERROR && s == seq {
			if l < unix.SizeofNlMsghdr+4 {
				return true, unix.EBADMSG
			}
			if e := int32(ne.Uint32(b[unix.SizeofNlMsghdr:])); e != 0 {
				return true, unix.Errno(-e)
			}
			return true, nil
		}
		l = (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
		if l > len(b) {
			break
		}
		b = b[l:]
	}
	return false, nil
}
