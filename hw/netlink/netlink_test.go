package netlink

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCollectAck(t *testing.T) {
	msg := func(typ uint16, seq uint32, errno int32) []byte {
		b := make([]byte, unix.SizeofNlMsghdr+4)
		ne := binary.NativeEndian
		ne.PutUint32(b, uint32(len(b)))
		ne.PutUint16(b[4:], typ)
		ne.PutUint32(b[8:], seq)
		ne.PutUint32(b[unix.SizeofNlMsghdr:], uint32(errno))
		return b
	}
	for _, tc := range []struct {
		name string
		buf  []byte
		done bool
		err  error
	}{
		{"ack", msg(unix.NLMSG_ERROR, 1, 0), true, nil},
		{"error", msg(unix.NLMSG_ERROR, 1, -int32(unix.EPERM)), true, unix.EPERM},
		{"other seq", msg(unix.NLMSG_ERROR, 2, 0), false, nil},
		{"other then ack", append(msg(unix.RTM_NEWLINK, 1, 0), msg(unix.NLMSG_ERROR, 1, 0)...), true, nil},
		{"short", []byte{1, 2, 3}, false, nil},
		{"bad length", []byte{200, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, true, unix.EBADMSG},
	} {
		_, done, err := collect(tc.buf, 1, false, nil)
		if done != tc.done || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
			t.Errorf("%s: collect = %v, %v; want %v, %v", tc.name, done, err, tc.done, tc.err)
		}
	}
}
