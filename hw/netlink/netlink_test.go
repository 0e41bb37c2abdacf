package netlink

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
	"habox/hw/netif"
)

func TestSetUpInNetns(t *testing.T) {
	ns := hwtest.NewNetns(t, "nlk")
	ns.Exec(t, "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
	ns.Do(t, func() {
		l, err := netif.LinkByName("d0")
		if err != nil {
			t.Fatal(err)
		}
		if l.Up() {
			t.Fatal("d0 up before SetUp")
		}
		for _, up := range []bool{true, false, true} {
			if err := SetUp(l.Index, up); err != nil {
				t.Fatalf("SetUp(%v): %v", up, err)
			}
			if l, _ = netif.LinkByName("d0"); l.Up() != up {
				t.Fatalf("after SetUp(%v): flags %#x", up, l.Flags)
			}
		}
		if err := SetUp(999999, true); !errors.Is(err, unix.ENODEV) {
			t.Errorf("SetUp(no such index) = %v, want ENODEV", err)
		}
	})
	if out := ns.Exec(t, "ip", "link", "show", "d0"); !strings.Contains(out, ",UP") {
		t.Errorf("ip link show d0: %s", out)
	}
}

func TestAck(t *testing.T) {
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
		done, err := ack(tc.buf, 1)
		if done != tc.done || !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
			t.Errorf("%s: ack = %v, %v; want %v, %v", tc.name, done, err, tc.done, tc.err)
		}
	}
}
