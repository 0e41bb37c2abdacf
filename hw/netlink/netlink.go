// Package netlink talks rtnetlink: Request is the one request/answer loop
// (with a receive timeout) that hw/netif's address calls use too; SetUp
// sets a link up or down (RTM_NEWLINK, what `ip link set IF up` does);
// WatchLinks follows link changes. Addresses are the business of
// hw/netif.
package netlink

import (
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SetUp sets the link with index up (or down), waiting for the kernel's
// acknowledgement (at most ReplyTimeout seconds). Needs CAP_NET_ADMIN.
func SetUp(index int, up bool) error {
	var flags uint32
	if up {
		flags = unix.IFF_UP
	}
	if _, err := Request(unix.RTM_NEWLINK, unix.NLM_F_ACK, ifinfomsg(index, flags, unix.IFF_UP)); err != nil {
		return &os.PathError{Op: "netlink set link", Path: "index " + strconv.Itoa(index), Err: err}
	}
	return nil
}

// ifinfomsg is a struct ifinfomsg changing the flags in change to flags
// on interface index (0: all, for a dump).
func ifinfomsg(index int, flags, change uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	info := (*unix.IfInfomsg)(unsafe.Pointer(&b[0]))
	info.Family = unix.AF_UNSPEC
	info.Index = int32(index)
	info.Flags = flags
	info.Change = change
	return b
}
