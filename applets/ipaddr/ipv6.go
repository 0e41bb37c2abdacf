package ipaddr

import (
	"errors"
	"net/netip"
	"strconv"
	"time"

	"habox/applets/cli"
	"habox/conf"
	"habox/hw/netif"
)

const usage6 = `IPv6addr [-c COUNT] [-i MS] IPV6[/BITS[/IFACE]] start|stop|status|monitor|announce
Take over (start), release (stop) or check a service IPv6 address (heartbeat's
IPv6addr): added through rtnetlink without duplicate address detection, then
announced with unsolicited neighbour advertisements (override flag) to ff02::1.
Without IFACE (or BITS) the interface (and prefix length) is the first one
holding a global address in the same prefix.
	-c COUNT	neighbour advertisements sent on start (default 5; 0: none)
	-i MS		interval between advertisements in milliseconds (default 1000)
status prints "Running OK" (exit 0), "stopped" (exit 7) or an error (exit 1);
monitor exits 0 when the address is configured and IFACE is up, else 7;
announce (habox) repeats start's advertisements for a configured address.
As an OCF agent (ocf:habox:IPv6addr, OCF_RESKEY_ipv6addr, cidr_netmask, nic)
it also answers meta-data and validate-all, with OCF exit codes.
Bad input exits 2. Pid files: $HABOX_RUNDIR (default /run/habox).`

// IPv6Applet is the IPv6addr applet.
var IPv6Applet = cli.Applet{Name: "IPv6addr", Usage: usage6, Run: run6, OCF: true}

// IPv6addr defaults, as resource-agents' IPv6addr: 5 advertisements 1 s apart.
const (
	DefaultCount6    = 5
	DefaultInterval6 = time.Second
)

// Spec6 is a parsed IPv6addr argument (conf.IPv6Spec).
type Spec6 = conf.IPv6Spec

// ParseSpec6 parses an IPv6addr argument (conf.ParseIPv6Spec); a
// malformed one is an *InputError.
func ParseSpec6(s string) (Spec6, error) {
	sp, err := conf.ParseIPv6Spec(s)
	return sp, input(err)
}

// System6 is what IPv6addr needs from the machine (HW implements it).
type System6 interface {
	Link(name string) (netif.Link, error)
	LinkByIndex(index int) (netif.Link, error)
	Addrs6() ([]netif.Addr, error)
	AddAddr6(l netif.Link, p netip.Prefix) error
	DelAddr(a netif.Addr) error
	Announce(l netif.Link, ip netip.Addr) error
}

// Agent6 runs the IPv6addr actions.
type Agent6 struct {
	Sys System6
	Announcer
}

// ChooseIf6 picks the interface and prefix length for sp from the
// configured addresses, like IPv6addr's scan_if: the first global-scope
// address (scope 0) whose own prefix contains sp.IP, and whose prefix
// length equals sp.Bits when that is given. It returns the interface index
// and prefix length.
func ChooseIf6(addrs []netif.Addr, sp Spec6, ifindex int) (index, bits int, err error) {
	for _, a := range addrs {
		if a.Scope != 0 || !a.Prefix.Addr().Is6() || (ifindex > 0 && a.Index != ifindex) {
			continue
		}
		if sp.Bits > 0 && a.Prefix.Bits() != sp.Bits {
			continue
		}
		if a.Prefix.Masked().Contains(sp.IP) {
			return a.Index, a.Prefix.Bits(), nil
		}
	}
	return 0, 0, badInput("no interface has a global address in the prefix of ", sp.IP.String(), "; give ipv6/bits/iface")
}

// Resolve6 finds the interface and prefix length of sp.
func (a *Agent6) Resolve6(sp Spec6) (Target, error) {
	var l netif.Link
	var err error
	if sp.Iface != "" {
		if l, err = a.Sys.Link(sp.Iface); err != nil {
			if errors.Is(err, netif.ErrNoInterface) {
				return Target{}, badInput(sp.Iface, ": unknown interface")
			}
			return Target{}, err
		}
		if sp.Bits > 0 {
			return Target{Link: l, Prefix: netip.PrefixFrom(sp.IP, sp.Bits)}, nil
		}
	}
	addrs, err := a.Sys.Addrs6()
	if err != nil {
		return Target{}, err
	}
	index, bits, err := ChooseIf6(addrs, sp, l.Index)
	if err != nil {
		return Target{}, err
	}
	if l.Name == "" {
		if l, err = a.Sys.LinkByIndex(index); err != nil {
			return Target{}, err
		}
	}
	return Target{Link: l, Prefix: netip.PrefixFrom(sp.IP, bits)}, nil
}

// Start adds and announces the address unless it is already on the
// interface; on another interface it is an error.
func (a *Agent6) Start(t Target) (changed bool, err error) {
	ip := t.Prefix.Addr()
	addrs, err := a.Sys.Addrs6()
	if err != nil {
		return false, err
	}
	p := Locate(addrs, ip, t.Link.Index)
	if p.Here != nil {
		return false, nil
	}
	if p.Other != nil {
		return false, errors.New(ip.String() + " is already configured on interface #" + strconv.Itoa(p.Other.Index) + ", not on " + t.Link.Name)
	}
	if err := a.Sys.AddAddr6(t.Link, t.Prefix); err != nil {
		return false, err
	}
	return true, a.added(a.Sys.Announce, t.Link, ip)
}

// Stop removes the address from the interface (not configured: success).
func (a *Agent6) Stop(t Target) (bool, error) {
	ip := t.Prefix.Addr()
	a.cancel(ip)
	addrs, err := a.Sys.Addrs6()
	if err != nil {
		return false, err
	}
	p := Locate(addrs, ip, t.Link.Index)
	if p.Here == nil {
		return false, nil
	}
	return true, a.Sys.DelAddr(*p.Here)
}

// Status is Running, Stopped or Misplaced (on another interface).
func (a *Agent6) Status(t Target) (State, error) {
	addrs, err := a.Sys.Addrs6()
	if err != nil {
		return Misplaced, err
	}
	p := Locate(addrs, t.Prefix.Addr(), t.Link.Index)
	switch {
	case p.Here != nil:
		return Running, nil
	case p.Other != nil:
		return Misplaced, nil
	}
	return Stopped, nil
}

// Monitor is Running when the address is on the interface and the
// interface is up, Stopped otherwise.
func (a *Agent6) Monitor(t Target) (State, error) {
	st, err := a.Status(t)
	if err != nil || st != Running || !t.Link.Up() {
		return Stopped, err
	}
	return Running, nil
}

// start6 adds and announces t's address, telling on stderr what it added.
func start6(env *cli.Env, ag *Agent6, t Target) error {
	changed, err := ag.Start(t)
	if err != nil && !IsAnnounceError(err) {
		return err
	}
	if changed {
		ocfLog(env, "INFO", t.Prefix.String(), " added on ", t.Link.Name)
	}
	if err != nil {
		ocfLog(env, "WARNING", err.Error())
	}
	return nil
}

// stop6 removes t's address, telling on stderr when it did.
func stop6(env *cli.Env, ag *Agent6, t Target) error {
	removed, err := ag.Stop(t)
	if removed && err == nil {
		ocfLog(env, "INFO", t.Prefix.Addr().String(), " released")
	}
	return err
}

const name6 = "IPv6addr"

func run6(env *cli.Env, args []string) int {
	count, interval := DefaultCount6, DefaultInterval6
	a := cli.NewArgs(args)
	for a.Next() {
		switch a.Opt() {
		case "-c", "--count", "-i", "--interval":
			if msg := announceOption(a, &count, &interval); msg != "" {
				return cli.UsageError(env, usage6, msg)
			}
		default:
			return cli.UsageError(env, usage6, a.Unknown())
		}
	}
	if err := a.Err(); err != nil {
		return cli.UsageError(env, usage6, err.Error())
	}
	rest := a.Rest()
	hw, rep := newHW(env)
	defer hw.Close()
	ag := &Agent6{Sys: hw, Announcer: Announcer{Repeater: rep, Count: count, Interval: interval}}
	if isOCF(env, args) {
		return OCF6(env, ag, args[0])
	}
	if len(rest) != 2 {
		return cli.UsageError(env, usage6, "")
	}
	return Action6(env, ag, rest[0], rest[1])
}

// Action6 runs an IPv6addr action and returns the exit code.
func Action6(env *cli.Env, ag *Agent6, arg, action string) int {
	switch action {
	case "start", "stop", "status", "monitor", "announce":
	default:
		return cli.UsageError(env, usage6, "unknown action "+strconv.Quote(action))
	}
	fail6 := func(err error) int { return fail(env, err) }
	sp, err := ParseSpec6(arg)
	if err != nil {
		return fail6(err)
	}
	t, err := ag.Resolve6(sp)
	if err != nil {
		var ie *InputError
		if action == "start" || !errors.As(err, &ie) || sp.Iface != "" {
			return fail6(err)
		}
		return stoppedResult(env, name6, action, sp.IP.String()) // no matching prefix: the address cannot be here
	}
	switch action {
	case "start":
		if err := start6(env, ag, t); err != nil {
			return fail6(err)
		}
		return 0
	case "stop":
		if err := stop6(env, ag, t); err != nil {
			return fail6(err)
		}
		return 0
	case "monitor":
		st, err := ag.Monitor(t)
		if err != nil {
			return fail6(err)
		}
		return int(st)
	}
	st, err := ag.Status(t)
	if err != nil {
		return fail6(err)
	}
	if action == "announce" {
		return ag.reannounce(env, name6, st, ag.Sys.Announce, t)
	}
	switch st {
	case Running:
		env.Out("Running OK\n")
	case Stopped:
		env.Out("stopped\n")
	default:
		env.Out("error: ", sp.IP.String(), " is configured on another interface than ", t.Link.Name, "\n")
	}
	return int(st)
}
