package ipaddr

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"habox/applets/cli"
	"habox/hw/netif"
	"habox/hw/route"
)

// TestMain lets the test binary act as the habox binary when the applet
// re-executes itself (/proc/self/exe) as the background announcer.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "IPaddr" {
		os.Exit(Applet.Run(cli.OSEnv(), os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeSys is an in-memory System.
type fakeSys struct {
	mu        sync.Mutex
	routes    []route.Route
	links     map[string]netif.Link
	addrs     []netif.Addr
	addErr    error // returned by AddAlias
	delErr    error
	announced []netip.Addr
	annErr    error // returned by Announce
	locks     int
}

func newFake() *fakeSys {
	return &fakeSys{links: map[string]netif.Link{
		"eth0": {Name: "eth0", Index: 2, Flags: syscall.IFF_UP, MAC: [6]byte{2, 0, 0, 0, 0, 1}},
		"eth1": {Name: "eth1", Index: 3, Flags: syscall.IFF_UP, MAC: [6]byte{2, 0, 0, 0, 0, 2}},
		"eth2": {Name: "eth2", Index: 4, Flags: 0, MAC: [6]byte{2, 0, 0, 0, 0, 3}},
	}, addrs: []netif.Addr{
		{Index: 2, Label: "eth0", Prefix: netip.MustParsePrefix("192.0.2.10/24")},
		{Index: 3, Label: "eth1", Prefix: netip.MustParsePrefix("198.51.100.10/24")},
	}, routes: []route.Route{
		rt("eth0", "0.0.0.0", 0, 0),
		rt("eth0", "192.0.2.0", 24, 0),
		rt("eth1", "198.51.100.0", 24, 0),
	}}
}

func rt(iface, dest string, bits int, metric uint32) route.Route {
	return route.Route{Iface: iface, Dest: netip.MustParseAddr(dest), Mask: route.BitsMask(bits), Bits: bits, Metric: metric}
}

func (f *fakeSys) Routes() ([]route.Route, error) { return f.routes, nil }
func (f *fakeSys) Link(name string) (netif.Link, error) {
	l, ok := f.links[name]
	if !ok {
		return l, &os.PathError{Op: "interface", Path: name, Err: netif.ErrNoInterface}
	}
	return l, nil
}
func (f *fakeSys) Addrs() ([]netif.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]netif.Addr(nil), f.addrs...), nil
}
func (f *fakeSys) AddAlias(l netif.Link, label string, p netip.Prefix, bcast netip.Addr) error {
	if f.addErr != nil {
		return f.addErr
	}
	if !strings.HasPrefix(label, l.Name+":") {
		return errors.New("label " + label + " not an alias of " + l.Name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addrs = append(f.addrs, netif.Addr{Index: l.Index, Label: label, Prefix: p, Broadcast: bcast})
	return nil
}
func (f *fakeSys) DelAddr(a netif.Addr) error {
	if f.delErr != nil {
		return f.delErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, b := range f.addrs {
		if b == a {
			f.addrs = append(f.addrs[:i], f.addrs[i+1:]...)
			return nil
		}
	}
	return syscall.EADDRNOTAVAIL
}
func (f *fakeSys) Lock() (func(), error) {
	f.mu.Lock()
	f.locks++
	f.mu.Unlock()
	return func() {}, nil
}
func (f *fakeSys) Announce(l netif.Link, ip netip.Addr) error {
	f.announced = append(f.announced, ip)
	return f.annErr
}

type fakeRepeater struct {
	repeats  []int
	canceled []netip.Addr
}

func (r *fakeRepeater) Repeat(l netif.Link, ip netip.Addr, count int, interval time.Duration) error {
	r.repeats = append(r.repeats, count)
	return nil
}
func (r *fakeRepeater) Cancel(ip netip.Addr) error {
	r.canceled = append(r.canceled, ip)
	return nil
}

var errBoom = errors.New("boom")

func (f *fakeSys) Addrs6() ([]netif.Addr, error) {
	all, _ := f.Addrs()
	var out []netif.Addr
	for _, a := range all {
		if a.Prefix.Addr().Is6() {
			out = append(out, a)
		}
	}
	return out, nil
}
func (f *fakeSys) AddAddr6(l netif.Link, p netip.Prefix) error {
	if f.addErr != nil {
		return f.addErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addrs = append(f.addrs, netif.Addr{Index: l.Index, Prefix: p})
	return nil
}
func (f *fakeSys) LinkByIndex(index int) (netif.Link, error) {
	for _, l := range f.links {
		if l.Index == index {
			return l, nil
		}
	}
	return netif.Link{}, netif.ErrNoInterface
}
