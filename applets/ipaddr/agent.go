package ipaddr

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"habox/applets/trace"
	"habox/hw/netif"
	"habox/hw/route"
)

// System is what the IPaddr logic needs from the machine. HW implements it
// with hw/ (ioctls, netlink, AF_PACKET); tests use a fake.
type System interface {
	Routes() ([]route.Route, error)
	// Link returns the interface; a missing one gives an error wrapping
	// netif.ErrNoInterface.
	Link(name string) (netif.Link, error)
	// Addrs lists the IPv4 addresses of all interfaces with their labels.
	Addrs() ([]netif.Addr, error)
	// AddAlias configures p (address and prefix length) with broadcast
	// bcast on interface l under the alias label, all or nothing.
	AddAlias(l netif.Link, label string, p netip.Prefix, bcast netip.Addr) error
	// DelAddr removes exactly one address.
	DelAddr(a netif.Addr) error
	// Lock serialises label choice between processes.
	Lock() (unlock func(), err error)
	// Announce sends one gratuitous ARP request and one reply for ip.
	Announce(l netif.Link, ip netip.Addr) error
}

// Repeater sends the gratuitous ARP pairs after the first one in the
// background (spec 7.4 timing) and stops them on request.
type Repeater interface {
	// Repeat sends pairs 2..count of an announcement whose first pair
	// went out just now, without blocking.
	Repeat(l netif.Link, ip netip.Addr, count int, interval time.Duration) error
	// Cancel stops a running Repeat for ip; none running is not an error.
	Cancel(ip netip.Addr) error
}

// Defaults of the gratuitous ARP announcement (heartbeat: send_arp -i 500 -r 10).
const (
	DefaultCount    = 10
	DefaultInterval = 500 * time.Millisecond
	// DefaultIfWait is how long start waits for a missing interface
	// (HABOX_IF_WAIT overrides it).
	DefaultIfWait = 10 * time.Second
	// MaxAlias bounds the alias numbers tried (<iface>:0 .. <iface>:511).
	MaxAlias = 512
)

// Announcer is the part IPaddr and IPv6addr share: how an address just
// configured is announced (gratuitous ARP, unsolicited neighbour
// advertisements) and the announcement repeated in the background.
type Announcer struct {
	Repeater Repeater // nil: no background repetitions
	Count    int      // announcements on start; 0 sends none
	Interval time.Duration
}

// added announces ip, just configured on l, through send when Count > 0,
// replacing a repetition still running for it.
func (an *Announcer) added(send func(netif.Link, netip.Addr) error, l netif.Link, ip netip.Addr) error {
	if an.Count <= 0 {
		return nil
	}
	an.cancel(ip)
	return announce(send, an.Repeater, l, ip, an.Count, an.Interval)
}

// cancel stops the background repetition for ip, if any.
func (an *Announcer) cancel(ip netip.Addr) {
	if an.Repeater != nil {
		an.Repeater.Cancel(ip)
	}
}

// Agent runs the IPaddr actions.
type Agent struct {
	Sys System
	Announcer
	// IfLabel, when set, is the alias suffix start uses (iface:IfLabel,
	// OCF's iflabel) instead of the lowest free iface:N.
	IfLabel string
	// IfWait bounds how long start waits for a missing interface or route
	// (ResolveWait); 0: not at all.
	IfWait time.Duration
}

// Target is a resolved service address: where it belongs.
type Target struct {
	Link   netif.Link
	Prefix netip.Prefix // service address and netmask bits
	Bcast  netip.Addr
}

// Resolve chooses interface, netmask and broadcast for sp and checks that
// the interface exists.
func (a *Agent) Resolve(sp Spec) (Target, error) {
	var routes []route.Route
	if sp.Iface == "" {
		var err error
		if routes, err = a.Sys.Routes(); err != nil {
			return Target{}, err
		}
	}
	c, err := FindIf(routes, sp)
	if err != nil {
		return Target{}, err
	}
	l, err := a.Sys.Link(c.Iface)
	if err != nil {
		if errors.Is(err, netif.ErrNoInterface) {
			return Target{}, &InputError{Msg: c.Iface + ": unknown interface", notYet: true}
		}
		return Target{}, err
	}
	return Target{Link: l, Prefix: netip.PrefixFrom(sp.IP, c.Bits), Bcast: c.Bcast}, nil
}

// ResolveWait is Resolve for start: while the interface (or, without
// one named, the route) does not exist yet, it retries every 100 ms for
// up to IfWait (a bridge being rebuilt, an interface netifd brings up
// later).
func (a *Agent) ResolveWait(sp Spec) (Target, error) {
	deadline := time.Now().Add(a.IfWait)
	for {
		t, err := a.Resolve(sp)
		var ie *InputError
		if err == nil || !errors.As(err, &ie) || !ie.notYet || !time.Now().Before(deadline) {
			return t, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Placement says where an address currently is.
type Placement struct {
	Here  *netif.Addr // on the target interface (any label)
	Other *netif.Addr // only on another interface
}

// Locate finds ip among addrs relative to the interface with index ifindex.
func Locate(addrs []netif.Addr, ip netip.Addr, ifindex int) Placement {
	var p Placement
	for i := range addrs {
		a := &addrs[i]
		if a.Prefix.Addr() != ip {
			continue
		}
		if a.Index == ifindex {
			p.Here = a
			return p
		}
		if p.Other == nil {
			p.Other = a
		}
	}
	return p
}

// FreeLabel returns the lowest alias label iface:n (0 <= n < MaxAlias)
// that no address in addrs carries.
func FreeLabel(addrs []netif.Addr, iface string) (string, error) {
	used := make(map[string]bool)
	for _, a := range addrs {
		if strings.HasPrefix(a.Label, iface+":") {
			used[a.Label] = true
		}
	}
	for n := 0; n < MaxAlias; n++ {
		l := iface + ":" + strconv.Itoa(n)
		if len(l) > 15 {
			return "", errors.New("interface name " + iface + " too long for an alias label (15 bytes max)")
		}
		if !used[l] {
			return l, nil
		}
	}
	return "", errors.New("no free alias label on " + iface + " (all of :0..:" + strconv.Itoa(MaxAlias-1) + " in use)")
}

// fixedLabel returns the label iface:suffix when it fits the 15 bytes of
// an interface name and no address carries it yet.
func fixedLabel(addrs []netif.Addr, iface, suffix string) (string, error) {
	l := iface + ":" + suffix
	if len(l) > 15 {
		return "", badInput("label ", l, " too long (15 bytes max)")
	}
	for _, a := range addrs {
		if a.Label == l {
			return "", errors.New("label " + l + " already used by " + a.Prefix.String())
		}
	}
	return l, nil
}

// Start configures the address (spec 7.3): nothing is changed when it is
// already on the target interface under any label; present on another
// interface is an error; otherwise the lowest free alias label is taken
// under the lock and the address announced.
// It reports the label used and whether anything was changed.
func (a *Agent) Start(t Target) (label string, changed bool, err error) {
	unlock, err := a.Sys.Lock()
	if err != nil {
		return "", false, err
	}
	label, changed, err = a.add(t)
	unlock()
	if err != nil || !changed {
		return label, changed, err
	}
	if trace.On() {
		trace.Mark("addr", t.Prefix.Addr().String())
	}
	return label, true, a.added(a.Sys.Announce, t.Link, t.Prefix.Addr())
}

// announce sends the first announcement now and leaves the others to r.
// The repetitions start even when the first send fails (the link may be
// down now and up later).
func announce(first func(netif.Link, netip.Addr) error, r Repeater, l netif.Link, ip netip.Addr, count int, interval time.Duration) error {
	err := first(l, ip)
	if trace.On() {
		trace.Mark("garp", ip.String())
	}
	if count > 1 && r != nil {
		if rerr := r.Repeat(l, ip, count, interval); err == nil {
			err = rerr
		}
	}
	if err != nil {
		return &announceError{err}
	}
	return nil
}

// announceError is a failed announcement after the address was added:
// start still succeeded, the caller warns.
type announceError struct{ err error }

func (e *announceError) Error() string { return "announcement: " + e.err.Error() }
func (e *announceError) Unwrap() error { return e.err }

// IsAnnounceError reports whether err only concerns the gratuitous ARP of
// an address that was configured.
func IsAnnounceError(err error) bool {
	var ae *announceError
	return errors.As(err, &ae)
}

func (a *Agent) add(t Target) (string, bool, error) {
	addrs, err := a.Sys.Addrs()
	if err != nil {
		return "", false, err
	}
	ip := t.Prefix.Addr()
	p := Locate(addrs, ip, t.Link.Index)
	if p.Here != nil {
		return p.Here.Label, false, nil
	}
	if p.Other != nil {
		return "", false, errors.New(ip.String() + " is already configured on " + p.Other.Label + ", not on " + t.Link.Name)
	}
	label, err := FreeLabel(addrs, t.Link.Name)
	if a.IfLabel != "" {
		label, err = fixedLabel(addrs, t.Link.Name, a.IfLabel)
	}
	if err != nil {
		return "", false, err
	}
	if err := a.Sys.AddAlias(t.Link, label, t.Prefix, t.Bcast); err != nil {
		return "", false, err
	}
	return label, true, nil
}

// Stop removes the address from the target interface and stops its
// announcement. Not configured there is success (removed = false); a copy
// on another interface is left alone.
func (a *Agent) Stop(t Target) (removed bool, err error) {
	ip := t.Prefix.Addr()
	a.cancel(ip)
	addrs, err := a.Sys.Addrs()
	if err != nil {
		return false, err
	}
	p := Locate(addrs, ip, t.Link.Index)
	if p.Here == nil {
		return false, nil
	}
	if err := a.Sys.DelAddr(*p.Here); err != nil {
		return false, err
	}
	return true, nil
}

// State is the result of status and monitor.
type State int

// States, with their LSB/OCF exit codes.
const (
	Running   State = 0
	Stopped   State = 7
	Misplaced State = 1 // on another interface than the target
)

// Status reports whether the address is on the target interface (Running),
// absent (Stopped) or only on another interface (Misplaced, with its label).
func (a *Agent) Status(t Target) (State, string, error) {
	addrs, err := a.Sys.Addrs()
	if err != nil {
		return Misplaced, "", err
	}
	p := Locate(addrs, t.Prefix.Addr(), t.Link.Index)
	switch {
	case p.Here != nil:
		return Running, p.Here.Label, nil
	case p.Other != nil:
		return Misplaced, p.Other.Label, nil
	}
	return Stopped, "", nil
}

// Monitor reports Running when the address is on the target interface and
// that interface is up, Stopped otherwise.
func (a *Agent) Monitor(t Target) (State, error) {
	st, _, err := a.Status(t)
	if err != nil {
		return Stopped, err
	}
	if st != Running || !t.Link.Up() {
		return Stopped, nil
	}
	return Running, nil
}
