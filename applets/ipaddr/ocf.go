package ipaddr

import (
	"errors"
	"strconv"
	"strings"
	"syscall"
	"time"

	"habox/applets/cli"
	"habox/conf"
	"habox/hw/route"
)

// OCF resource agent exit codes (OCF resource agent API 1.1).
const (
	ocfErrGeneric       = 1
	ocfErrUnimplemented = 3
	ocfErrPerm          = 4
	ocfErrInstalled     = 5
	ocfErrConfigured    = 6
	ocfNotRunning       = 7
)

// isOCF reports whether the applet was started as an OCF resource agent:
// the action is the only argument, and Pacemaker's environment (OCF_ROOT,
// OCF_RESOURCE_INSTANCE) is there, or the action is meta-data. A single
// argument is a usage error in haresources mode, so that mode is
// unchanged.
func isOCF(env *cli.Env, args []string) bool {
	return len(args) == 1 && (args[0] == "meta-data" ||
		env.Getenv("OCF_ROOT") != "" || env.Getenv("OCF_RESOURCE_INSTANCE") != "")
}

// reskey returns the first non-empty OCF_RESKEY_<name> of names.
func reskey(env *cli.Env, names ...string) string {
	for _, n := range names {
		if v := env.Getenv("OCF_RESKEY_" + n); v != "" {
			return v
		}
	}
	return ""
}

// ocfInt reads an integer parameter in 0..max (any of names), or def.
func ocfInt(env *cli.Env, def, max int, names ...string) (int, error) {
	v := reskey(env, names...)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return 0, badInput(names[0], ": not a number in 0..", strconv.Itoa(max), " [", v, "]")
	}
	return n, nil
}

// isTrue is ocf_is_true: yes, true, 1, on, y (any case).
func isTrue(v string) bool {
	for _, t := range []string{"1", "yes", "true", "on", "y"} {
		if strings.EqualFold(v, t) {
			return true
		}
	}
	return false
}

// ocfReason ends an action with code, giving Pacemaker the reason on
// stderr in its "ocf-exit-reason:" form, on one line and escaped.
func ocfReason(env *cli.Env, code int, msg string) int {
	q := strconv.Quote(msg)
	env.Err("ocf-exit-reason:", q[1:len(q)-1], "\n")
	return code
}

// ocfErr ends an action with err: bad parameters give input, missing
// privileges OCF_ERR_PERM, anything else OCF_ERR_GENERIC.
func ocfErr(env *cli.Env, err error, input int) int {
	var ie *InputError
	code := ocfErrGeneric
	switch {
	case errors.As(err, &ie):
		code = input
	case errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES):
		code = ocfErrPerm
	}
	return ocfReason(env, code, err.Error())
}

// ocfAction answers meta-data, usage and unimplemented actions (done);
// the others are left to the caller.
func ocfAction(env *cli.Env, agent, meta, action string) (code int, done bool) {
	switch action {
	case "start", "stop", "monitor", "status", "validate-all":
		return 0, false
	case "meta-data":
		env.Out(meta)
	case "usage", "help":
		env.Out("usage: ", agent, " {start|stop|monitor|status|meta-data|validate-all}\n")
	default:
		return ocfReason(env, ocfErrUnimplemented, "action "+action+" not implemented"), true
	}
	return 0, true
}

// ocfSpec reads the IPaddr parameters: ip, cidr_netmask, nic, broadcast.
func ocfSpec(env *cli.Env) (Spec, error) {
	sp := Spec{Bits: -1}
	var err error
	ip := reskey(env, "ip")
	if ip == "" {
		return sp, badInput("parameter ip is required")
	}
	if sp.IP, err = conf.ParseServiceIP(ip); err != nil {
		return sp, cli.Wrap("ip", input(err))
	}
	if m := reskey(env, "cidr_netmask"); m != "" {
		if sp.Bits, err = conf.ParseMask(m); err != nil {
			return sp, cli.Wrap("cidr_netmask", input(err))
		}
	}
	if n := reskey(env, "nic"); n != "" {
		if err = conf.CheckIfName(n); err != nil {
			return sp, cli.Wrap("nic", input(err))
		}
		sp.Iface = n
	}
	if b := reskey(env, "broadcast"); b != "" {
		if sp.Bcast, err = conf.ParseIPv4(b); err != nil {
			return sp, cli.Wrap("broadcast", input(err))
		}
	}
	return sp, nil
}

// ocfAgent sets the announcement and label parameters on ag.
func ocfAgent(env *cli.Env, ag *Agent) error {
	for _, n := range []string{"lvs_support", "local_start_script", "local_stop_script"} {
		if v := reskey(env, n); v != "" && (n != "lvs_support" || isTrue(v)) {
			return badInput(n, " is not supported by habox's IPaddr")
		}
	}
	var err error
	if ag.Count, err = ocfInt(env, ag.Count, 1000, "arp_count", "ARP_REPEAT"); err != nil {
		return err
	}
	ms, err := ocfInt(env, int(ag.Interval/time.Millisecond), 60000, "arp_interval", "ARP_INTERVAL_MS")
	ag.Interval = time.Duration(ms) * time.Millisecond
	if l := reskey(env, "iflabel"); l != "" && err == nil {
		if err = conf.CheckIfName(l); err != nil {
			return cli.Wrap("iflabel", input(err))
		}
		ag.IfLabel = l
	}
	return err
}

// nicBits is the prefix length of an address given with nic but without
// cidr_netmask, as resource-agents' findif chooses it: that of the
// matching route through nic; -1 (/32) when there is none.
func nicBits(sys System, sp Spec) int {
	routes, err := sys.Routes()
	if err != nil {
		return -1
	}
	var on []route.Route
	for _, r := range routes {
		if r.Iface == sp.Iface {
			on = append(on, r)
		}
	}
	sp.Iface = ""
	if c, err := FindIf(on, sp); err == nil {
		return c.Bits
	}
	return -1
}

// OCF runs an action of IPaddr as an OCF resource agent, with parameters
// named like resource-agents' IPaddr/IPaddr2 in OCF_RESKEY_* variables,
// and returns the OCF exit code. monitor checks that the address is
// configured on its interface and the interface is up.
func OCF(env *cli.Env, ag *Agent, action string) int {
	if code, done := ocfAction(env, name, metaData(name, ipaddrMeta), action); done {
		return code
	}
	sp, err := ocfSpec(env)
	if err == nil {
		err = ocfAgent(env, ag)
	}
	if err != nil {
		return ocfErr(env, err, ocfErrConfigured)
	}
	if sp.Iface != "" && sp.Bits < 0 {
		sp.Bits = nicBits(ag.Sys, sp)
	}
	resolve := ag.Resolve
	if action == "start" {
		resolve = ag.ResolveWait
	}
	t, err := resolve(sp)
	if err != nil {
		if action == "start" || action == "validate-all" {
			return ocfErr(env, err, ocfErrInstalled)
		}
		var found bool
		if t, found, err = ag.ResolveAny(sp); err != nil {
			return ocfErr(env, err, ocfErrGeneric)
		}
		if !found {
			return ocfStopped(action)
		}
	}
	return ocfDo(env, action, func() error { return start4(env, ag, t) }, func() error { return stop4(env, ag, t) },
		func() (State, error) { st, _, err := ag.Status(t); return st, err }, func() (State, error) { return ag.Monitor(t) })
}

// ocfStopped is the result of an action for an address that cannot be
// on this node (its interface or route is missing).
func ocfStopped(action string) int {
	if action == "stop" {
		return 0
	}
	return ocfNotRunning
}

// ocfDo runs start, stop, status, monitor or validate-all (nothing more to
// check) on a resolved address.
func ocfDo(env *cli.Env, action string, start, stop func() error, status, monitor func() (State, error)) int {
	var err error
	switch action {
	case "validate-all":
		return 0
	case "start":
		err = start()
	case "stop":
		err = stop()
	default:
		var st State
		if action == "monitor" {
			st, err = monitor()
		} else {
			st, err = status()
		}
		if err == nil && st == Misplaced {
			return ocfReason(env, ocfErrGeneric, "the address is configured on another interface")
		}
		if err == nil {
			return int(st)
		}
	}
	if err != nil {
		return ocfErr(env, err, ocfErrConfigured) // bad input here: iflabel too long
	}
	return 0
}

// OCF6 runs an action of IPv6addr as an OCF resource agent, with
// resource-agents' IPv6addr parameters ipv6addr, cidr_netmask and nic.
func OCF6(env *cli.Env, ag *Agent6, action string) int {
	if code, done := ocfAction(env, name6, metaData(name6, ipv6addrMeta), action); done {
		return code
	}
	ip := reskey(env, "ipv6addr")
	if ip == "" {
		return ocfReason(env, ocfErrConfigured, "parameter ipv6addr is required")
	}
	sp, err := conf.IPv6SpecFrom(ip, reskey(env, "cidr_netmask"), reskey(env, "nic"))
	err = input(err)
	if err != nil {
		return ocfErr(env, err, ocfErrConfigured)
	}
	t, err := ag.Resolve6(sp)
	if err != nil {
		var ie *InputError
		if action == "start" || action == "validate-all" || !errors.As(err, &ie) {
			return ocfErr(env, err, ocfErrInstalled)
		}
		return ocfStopped(action)
	}
	return ocfDo(env, action, func() error { return start6(env, ag, t) }, func() error { return stop6(env, ag, t) },
		func() (State, error) { return ag.Status(t) }, func() (State, error) { return ag.Monitor(t) })
}
