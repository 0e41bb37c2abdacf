package netlink

import (
	"encoding/binary"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Link is the state of one network interface from an rtnetlink link
// message.
type Link struct {
	Index   int
	Name    string
	Up      bool // administratively up (IFF_UP)
	Carrier bool // lower layer up (IFF_LOWER_UP): cable in, veth peer up
	Gone    bool // the interface was deleted
}

// Watcher receives link changes as the kernel announces them (the
// RTNLGRP_LINK multicast group): no polling.
type Watcher struct {
	f   *os.File
	buf []byte
	q   []Link
}

// WatchLinks subscribes to link changes and asks for a dump of every
// link, so the first Next calls return the current state of each.
func WatchLinks() (*Watcher, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	req := appendHeader(nil, unix.SizeofIfInfomsg, unix.RTM_GETLINK, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, 1)
	req = append(req, ifinfomsg(0, 0, 0)...)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("sendto", err)
	}
	return &Watcher{f: os.NewFile(uintptr(fd), "rtnetlink"), buf: make([]byte, 32*1024)}, nil
}

// Next waits for the next link message. After Close it returns an error.
func (w *Watcher) Next() (Link, error) {
	rc, err := w.f.SyscallConn()
	if err != nil {
		return Link{}, err
	}
	for len(w.q) == 0 {
		var n int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			// read(2), not unix.Recvfrom: see Request.
			n, rerr = unix.Read(int(fd), w.buf)
			return rerr != unix.EAGAIN
		}); err != nil {
			return Link{}, err
		}
		if rerr == unix.ENOBUFS {
			continue // overrun: later messages still tell the state
		}
		if rerr != nil {
			return Link{}, os.NewSyscallError("recvfrom", rerr)
		}
		w.q = ParseLinks(w.buf[:n])
	}
	l := w.q[0]
	w.q = w.q[1:]
	return l, nil
}

// Close ends the subscription; a pending Next returns.
func (w *Watcher) Close() error { return w.f.Close() }

// ParseLinks returns the RTM_NEWLINK/RTM_DELLINK messages of a netlink
// receive buffer; anything else or malformed is skipped.
func ParseLinks(b []byte) []Link {
	ne := binary.NativeEndian
	var out []Link
	for m := range messages(b, nil) {
		typ, body := m.typ, m.payload
		if (typ != unix.RTM_NEWLINK && typ != unix.RTM_DELLINK) || len(body) < unix.SizeofIfInfomsg {
			continue
		}
		flags := ne.Uint32(body[8:])
		lk := Link{Index: int(int32(ne.Uint32(body[4:]))), Up: flags&unix.IFF_UP != 0,
			Carrier: flags&unix.IFF_LOWER_UP != 0, Gone: typ == unix.RTM_DELLINK}
		for at, v := range Attrs(body[unix.SizeofIfInfomsg:]) {
			if at == unix.IFLA_IFNAME {
				lk.Name = strings.TrimRight(string(v), "\x00")
			}
		}
		out = append(out, lk)
	}
	return out
}
