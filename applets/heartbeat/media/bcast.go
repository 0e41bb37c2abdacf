package media

import (
	"net/netip"
	"sync"
	"time"

	"habox/applets/internal/hblog"
	"habox/hw/netif"
)

// How a bcast medium chose its destination. A bring-up script
// doing "ip addr add A/N dev IF" without "brd +" leaves the interface
// without an IPv4 broadcast address; 3.0.6 then sends to 0.0.0.0.
const (
	brdConfigured = iota // the interface's own broadcast address
	brdDerived           // address | ^netmask of its primary IPv4 address
	brdLimited           // 255.255.255.255, the socket bound to the device
)

// ifAddrs is what bcastDest needs to know of an interface; ok* tell
// whether the kernel reported the value.
type ifAddrs struct {
	brd, addr, mask       [4]byte
	okBrd, okAddr, okMask bool
}

// bcastDest chooses where a bcast medium sends: the configured broadcast
// address; else the directed broadcast derived from the address and
// prefix (prefixes up to /30); else the limited broadcast, which the
// sender's SO_BINDTODEVICE keeps on the interface.
func bcastDest(a ifAddrs) (dst [4]byte, how int) {
	if a.okBrd && a.brd != ([4]byte{}) {
		return a.brd, brdConfigured
	}
	if a.okAddr && a.okMask && a.addr != ([4]byte{}) {
		if ones := maskBits(a.mask); ones > 0 && ones <= 30 {
			for i := range dst {
				dst[i] = a.addr[i] | ^a.mask[i]
			}
			return dst, brdDerived
		}
	}
	return [4]byte{255, 255, 255, 255}, brdLimited
}

// bcastTarget resolves and re-resolves a bcast medium's destination,
// logging the choice whenever it is not the configured broadcast address
// and whenever it changes.
type bcastTarget struct {
	dev  string
	log  *hblog.Logger
	mu   sync.Mutex
	dst  [4]byte
	how  int
	seen bool
	last time.Time
	// every is Options.ResolveInterval.
	every time.Duration
}

// resolve reads the interface's addresses now and returns the destination.
// It fails only when the interface does not exist.
func (t *bcastTarget) resolve() ([4]byte, error) {
	if _, err := netif.Index(t.dev); err != nil {
		return [4]byte{}, err
	}
	var a ifAddrs
	var err error
	a.brd, err = netif.IPv4Broadcast(t.dev)
	a.okBrd = err == nil
	a.addr, err = netif.IPv4Addr(t.dev)
	a.okAddr = err == nil
	a.mask, err = netif.IPv4Netmask(t.dev)
	a.okMask = err == nil
	dst, how := bcastDest(a)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last = time.Now()
	if t.seen && dst == t.dst && how == t.how {
		return dst, nil
	}
	changed := t.seen
	t.dst, t.how, t.seen = dst, how, true
	if how == brdConfigured && !changed {
		return dst, nil // the usual case: nothing to say beyond 3.0.6's lines
	}
	d := netip.AddrFrom4(dst).String()
	msg := "glib: bcast " + t.dev + ": "
	switch how {
	case brdConfigured:
		msg += "sending to its broadcast address " + d
	case brdDerived:
		msg += "no IPv4 broadcast address configured; sending to " + d + ", derived from " +
			netip.PrefixFrom(netip.AddrFrom4(a.addr), maskBits(a.mask)).String()
	default:
		msg += "no IPv4 broadcast address and no address with a prefix below /31; sending to 255.255.255.255 bound to the device"
	}
	if changed {
		msg += " (the interface's addresses changed)"
	}
	if t.log != nil {
		t.log.Info(msg)
	}
	return dst, nil
}

// due reports whether Options.ResolveInterval has passed since the last resolve.
func (t *bcastTarget) due() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return time.Since(t.last) >= t.every
}

func maskBits(m [4]byte) int {
	n := 0
	for _, b := range m {
		for ; b&0x80 != 0; b <<= 1 {
			n++
		}
	}
	return n
}
