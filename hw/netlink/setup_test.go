package netlink_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
	"habox/hw/netif"
	"habox/hw/netlink"
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
			if err := netlink.SetUp(l.Index, up); err != nil {
				t.Fatalf("netlink.SetUp(%v): %v", up, err)
			}
			if l, _ = netif.LinkByName("d0"); l.Up() != up {
				t.Fatalf("after netlink.SetUp(%v): flags %#x", up, l.Flags)
			}
		}
		if err := netlink.SetUp(999999, true); !errors.Is(err, unix.ENODEV) {
			t.Errorf("netlink.SetUp(no such index) = %v, want ENODEV", err)
		}
	})
	if out := ns.Exec(t, "ip", "link", "show", "d0"); !strings.Contains(out, ",UP") {
		t.Errorf("ip link show d0: %s", out)
	}
}
