package netlink

import (
	"encoding/binary"
	"os"

	"golang.org/x/sys/unix"
)

// ReplyTimeout bounds the wait for each part of the kernel's answer to a
// Request, so a lost reply cannot hang the caller.
const ReplyTimeout = 5

// Request sends one rtnetlink request (typ, flags without NLM_F_REQUEST,
// body after the header) and returns the payloads of the answers: for a
// dump every part until NLMSG_DONE, for NLM_F_ACK nothing once the
// acknowledgement came. An NLMSG_ERROR with a non-zero code becomes that
// errno; no answer within ReplyTimeout seconds gives EAGAIN.
func Request(typ, flags uint16, body []byte) ([][]byte, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	tv := unix.Timeval{Sec: ReplyTimeout}
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, os.NewSyscallError("bind", err)
	}
	const seq = 1
	msg := appendHeader(make([]byte, 0, unix.NLMSG_HDRLEN+len(body)), len(body), typ, flags|unix.NLM_F_REQUEST, seq)
	msg = append(msg, body...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, os.NewSyscallError("sendto", err)
	}
	dump := flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP
	buf := make([]byte, 1<<16)
	var out [][]byte
	for {
		// read(2), not unix.Recvfrom: the sender is always the kernel (see
		// bench/size's ban on x/sys/unix's anyToSockaddr).
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, os.NewSyscallError("recvfrom", err)
		}
		var done bool
		if out, done, err = collect(buf[:n], seq, dump, out); done || err != nil {
			return out, err
		}
	}
}

// appendHeader appends a struct nlmsghdr for a body of n bytes.
func appendHeader(b []byte, n int, typ, flags uint16, seq uint32) []byte {
	ne := binary.NativeEndian
	b = ne.AppendUint32(b, uint32(unix.NLMSG_HDRLEN+n))
	b = ne.AppendUint16(b, typ)
	b = ne.AppendUint16(b, flags)
	b = ne.AppendUint32(b, seq)
	return ne.AppendUint32(b, 0)
}

// collect adds the answers to seq in one receive buffer to out (copies of
// their payloads). done is set by NLMSG_DONE, by an NLMSG_ERROR (err is the
// kernel's errno, nil for a plain acknowledgement; a dump goes on after an
// acknowledgement) and, for a request that is no dump, by the first
// answer. A malformed message gives EBADMSG.
func collect(b []byte, seq uint32, dump bool, out [][]byte) (_ [][]byte, done bool, err error) {
	for m := range messages(b, &err) {
		payload := m.payload
		if m.seq != seq {
			continue
		}
		switch m.typ {
		case unix.NLMSG_DONE:
			return out, true, nil
		case unix.NLMSG_ERROR:
			if len(payload) < 4 {
				return out, true, unix.EBADMSG
			}
			if code := int32(binary.NativeEndian.Uint32(payload[:4])); code != 0 {
				return out, true, unix.Errno(-code)
			}
			if !dump {
				return out, true, nil
			}
		default:
			out = append(out, append([]byte(nil), payload...))
		}
	}
	if err != nil {
		return out, true, err
	}
	return out, !dump && len(out) > 0, nil
}

// message is one netlink message of a receive buffer.
type message struct {
	typ     uint16
	seq     uint32
	payload []byte
}

// messages iterates over the netlink messages in a receive buffer. A
// length field that does not fit sets *bad (when not nil) to EBADMSG and
// ends the iteration.
func messages(b []byte, bad *error) func(yield func(message) bool) {
	return func(yield func(message) bool) {
		ne := binary.NativeEndian
		for len(b) >= unix.NLMSG_HDRLEN {
			l := int(ne.Uint32(b[0:4]))
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				if bad != nil {
					*bad = unix.EBADMSG
				}
				return
			}
			if !yield(message{ne.Uint16(b[4:6]), ne.Uint32(b[8:12]), b[unix.NLMSG_HDRLEN:l]}) {
				return
			}
			l = (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
			if l > len(b) {
				return
			}
			b = b[l:]
		}
	}
}

// Attrs iterates over the rtattrs in b (type without NLA_F_NESTED, value);
// a malformed one ends the iteration.
func Attrs(b []byte) func(yield func(uint16, []byte) bool) {
	return func(yield func(uint16, []byte) bool) {
		for len(b) >= 4 {
			l := int(binary.NativeEndian.Uint16(b[0:2]))
			t := binary.NativeEndian.Uint16(b[2:4])
			if l < 4 || l > len(b) {
				return
			}
			if !yield(t&^unix.NLA_F_NESTED, b[4:l]) {
				return
			}
			l = (l + 3) &^ 3
			if l > len(b) {
				return
			}
			b = b[l:]
		}
	}
}

// AppendAttr appends one rtattr of type typ holding v, padded to 4 bytes.
func AppendAttr(b []byte, typ uint16, v []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(v)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
