// Package ipaddr implements the IPaddr applet, heartbeat's service-address
// takeover (spec 7: doc/spec/heartbeat-compat.md, section 7) without ifconfig, route or send_arp: an IPv4
// address is added on the lowest free alias label <iface>:<n> with one
// rtnetlink RTM_NEWADDR (label, netmask and broadcast at once, so no
// route is flushed on the way), announced with gratuitous ARP from an
// AF_PACKET socket, and removed again through rtnetlink. The IPv6addr
// applet does the same for IPv6 with rtnetlink and unsolicited neighbour
// advertisements.
//
// Argument parsing, interface selection (findif), label choice and the
// action decisions are pure and tested over a fake System; HW is the real
// one, on habox/hw.
package ipaddr

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"habox/applets/cli"
	"habox/applets/trace"
	"habox/conf"
	"habox/hw/netif"
)

const usage = `IPaddr [-c COUNT] [-i MS] IP[/BITS|/MASK[/IFACE][/BROADCAST]] start|stop|status|monitor|announce | --findif IP[/...]
Take over (start), release (stop) or check a service IPv4 address as heartbeat's
IPaddr does: alias IFACE:N with the lowest free N, gratuitous ARP on start.
Without IFACE the interface and netmask come from /proc/net/route (findif).
	-c COUNT	gratuitous ARP request+reply pairs sent on start (default 10; 0: none)
	-i MS		interval between pairs in milliseconds (default 500)
	--findif	with only IP[/...]: print "IFACE<TAB>netmask M<TAB>broadcast B", change nothing
status prints "Running OK" (exit 0), "stopped" (exit 7) or an error (exit 1);
monitor exits 0 when the address is configured and IFACE is up, else 7;
announce (habox) repeats start's gratuitous ARP for a configured address.
start waits up to $HABOX_IF_WAIT (default 10 s) for a missing IFACE or route.
As an OCF agent (Pacemaker: ocf:habox:IPaddr, the action alone as argument,
OCF_RESKEY_ip, cidr_netmask, nic, broadcast, iflabel, arp_count, arp_interval)
it also answers meta-data and validate-all, with OCF exit codes.
Bad input exits 2. Lock and pid files: $HABOX_RUNDIR (default /run/habox).`

// repeatFlag is the hidden option that turns the process into the detached
// background announcer started by ProcessRepeater.
const repeatFlag = "--garp-repeat"

// Applet is the IPaddr applet.
var Applet = cli.Applet{Name: "IPaddr", Usage: usage, Run: run, OCF: true}

const name = "IPaddr"

func runDir(env *cli.Env) string {
	if d := env.Getenv("HABOX_RUNDIR"); d != "" {
		return d
	}
	return DefaultRunDir
}

// announceOption reads the -c (count) and -i (interval in ms) options that
// IPaddr and IPv6addr share; it returns a usage message for a bad value.
func announceOption(a *cli.Args, count *int, interval *time.Duration) string {
	n, err := a.Int()
	switch {
	case err != nil:
		return err.Error()
	case a.Opt() == "-c" || a.Opt() == "--count":
		if n < 0 || n > 1000 {
			return "-c: count out of range (0..1000)"
		}
		*count = n
	default:
		if n < 0 || n > 60000 {
			return "-i: interval out of range (0..60000 ms)"
		}
		*interval = time.Duration(n) * time.Millisecond
	}
	return ""
}

func run(env *cli.Env, args []string) int {
	count, interval, findif := DefaultCount, DefaultInterval, false
	a := cli.NewArgs(args)
	for a.Next() {
		switch a.Opt() {
		case "-c", "--count", "-i", "--interval":
			if msg := announceOption(a, &count, &interval); msg != "" {
				return cli.UsageError(env, usage, msg)
			}
		case "--findif":
			findif = a.Flag()
		case repeatFlag:
			if err := runRepeat(runDir(env), a.Rest()); err != nil {
				return 1
			}
			return 0
		default:
			return cli.UsageError(env, usage, a.Unknown())
		}
	}
	if err := a.Err(); err != nil {
		return cli.UsageError(env, usage, err.Error())
	}
	rest := a.Rest()
	hw, rep := newHW(env)
	defer hw.Close()
	ag := &Agent{Sys: hw, Announcer: Announcer{Repeater: rep, Count: count, Interval: interval}, IfWait: DefaultIfWait}
	if v := env.Getenv(conf.IfWaitEnv); v != "" {
		if d, ok := conf.EnvTime(v); ok {
			ag.IfWait = d
		}
	}
	if isOCF(env, args) {
		return OCF(env, ag, args[0])
	}
	if findif {
		if len(rest) != 1 {
			return cli.UsageError(env, usage, "--findif takes one address argument")
		}
		return Findif(env, ag, rest[0])
	}
	if len(rest) != 2 {
		return cli.UsageError(env, usage, "")
	}
	return Action(env, ag, rest[0], rest[1])
}

// Findif prints the interface selection for arg (spec 7.2 output format).
func Findif(env *cli.Env, ag *Agent, arg string) int {
	sp, err := ParseSpec(arg)
	if err != nil {
		return failAs(env, name+": ", err)
	}
	t, err := ag.Resolve(sp)
	if err != nil {
		return failAs(env, name+": ", err)
	}
	c := Choice{Iface: t.Link.Name, Bits: t.Prefix.Bits(), Bcast: t.Bcast}
	env.Out(FindIfLine(c), "\n")
	return 0
}

// Action runs start, stop, status, monitor or announce for arg and returns
// the exit code.
func Action(env *cli.Env, ag *Agent, arg, action string) int {
	switch action {
	case "start", "stop", "status", "monitor", "announce":
	default:
		return cli.UsageError(env, usage, "unknown action "+strconv.Quote(action))
	}
	sp, err := ParseSpec(arg)
	if err != nil {
		return fail(env, err)
	}
	resolve := ag.Resolve
	if action == "start" {
		resolve = ag.ResolveWait
	}
	t, err := resolve(sp)
	if err != nil {
		var ie *InputError
		if action == "start" || sp.Iface != "" || !errors.As(err, &ie) {
			return fail(env, err)
		}
		// No route any more (e.g. the interface went down): stop, status
		// and monitor still find the address wherever it is.
		var found bool
		if t, found, err = ag.ResolveAny(sp); err != nil {
			return fail(env, err)
		}
		if !found {
			return stoppedResult(env, name, action, sp.IP.String())
		}
	}
	ip := sp.IP.String()
	switch action {
	case "start":
		if sp.Iface == "" {
			ocfLog(env, "INFO", "Using calculated nic for ", ip, ": ", t.Link.Name)
		}
		if sp.Bits < 0 {
			ocfLog(env, "INFO", "Using calculated netmask for ", ip, ": ", maskString(t.Prefix.Bits()))
		}
		if err := start4(env, ag, t); err != nil {
			return fail(env, err)
		}
		return 0
	case "stop":
		if err := stop4(env, ag, t); err != nil {
			return fail(env, err)
		}
		return 0
	case "status":
		st, label, err := ag.Status(t)
		if err != nil {
			return fail(env, err)
		}
		switch st {
		case Running:
			env.Out("Running OK\n")
		case Stopped:
			env.Out("stopped\n")
		default:
			env.Out("error: ", ip, " is configured on ", label, ", expected on ", t.Link.Name, "\n")
		}
		return int(st)
	case "announce":
		st, _, err := ag.Status(t)
		if err != nil {
			return fail(env, err)
		}
		return ag.reannounce(env, name, st, ag.Sys.Announce, t)
	default: // monitor
		st, err := ag.Monitor(t)
		if err != nil {
			return fail(env, err)
		}
		return int(st)
	}
}

// newHW returns the machine's System and the background announcer that
// both applets use.
func newHW(env *cli.Env) (*HW, *ProcessRepeater) {
	if !trace.On() {
		trace.Open(env.Getenv(trace.EnvVar))
	}
	dir := runDir(env)
	hw := &HW{RunDir: dir}
	return hw, &ProcessRepeater{Exe: "/proc/self/exe", RunDir: dir, Environ: env.Environ, HW: hw}
}

// start4 configures and announces t's address, telling on stderr what it
// did in the words of 3.0.6's agent (the ifconfig command it would have
// run, the gratuitous ARP); a failed announcement only warns.
func start4(env *cli.Env, ag *Agent, t Target) error {
	label, changed, err := ag.Start(t)
	if err != nil && !IsAnnounceError(err) {
		return err
	}
	ip := t.Prefix.Addr().String()
	if changed {
		ocfLog(env, "INFO", "ifconfig ", label, " ", ip, " netmask ", maskString(t.Prefix.Bits()), " broadcast ", t.Bcast.String())
		if ag.Count > 0 {
			ocfLog(env, "INFO", "Sending Gratuitous Arp for ", ip, " on ", label, " [", t.Link.Name, "]")
		}
	}
	if err != nil {
		ocfLog(env, "WARNING", err.Error())
	}
	return nil
}

// stop4 removes t's address, telling on stderr when it did.
func stop4(env *cli.Env, ag *Agent, t Target) error {
	removed, err := ag.Stop(t)
	if removed {
		ocfLog(env, "INFO", "IP Address ", t.Prefix.Addr().String(), " released")
	}
	return err
}

// ocfLog writes one line to stderr as resource-agents' ocf_log does when
// it has no log file: "LEVEL: text" with LEVEL INFO, WARNING or ERROR.
// Run by heartbeat, these lines reach ha-log under the agent's tag
// ("IPaddr(IPaddr_10.0.0.5)[pid]: INFO: ...").
func ocfLog(env *cli.Env, level string, text ...string) {
	env.Err(level, ": ", strings.Join(text, ""), "\n")
}

// maskString is a prefix length as a dotted netmask.
func maskString(bits int) string { return Choice{Bits: bits}.Mask().String() }

// reannounce is the "announce" action of both applets (a habox
// extension): the gratuitous ARPs / neighbour advertisements of start, sent
// again for an address already configured on the target interface, without
// touching the address (exit 0); 7 when it is not here, 1 when it is on
// another interface. The daemon uses it after a healed partition, where the
// peer had announced the address too.
func (an *Announcer) reannounce(env *cli.Env, name string, st State, send func(netif.Link, netip.Addr) error, t Target) int {
	ip := t.Prefix.Addr()
	if st != Running {
		return notHere(env, name, ip.String()+" on "+t.Link.Name, st)
	}
	an.cancel(ip)
	if err := announce(send, an.Repeater, t.Link, ip, max(an.Count, 1), an.Interval); err != nil {
		ocfLog(env, "WARNING", err.Error())
	}
	return 0
}

func stoppedResult(env *cli.Env, name, action, ip string) int {
	switch action {
	case "status":
		env.Out("stopped\n")
		return int(Stopped)
	case "monitor":
		return int(Stopped)
	case "announce":
		return notHere(env, name, ip, Stopped)
	}
	return 0
}

// notHere is announce's answer for an address that is not configured:
// the reason on stderr and the status code (7, "not running").
func notHere(env *cli.Env, name, where string, st State) int {
	env.Err(name, ": announce: ", where, " is not configured here: nothing to announce (exit ", strconv.Itoa(int(st)), ": not running)\n")
	return int(st)
}

// fail prints err as an ocf_log ERROR line and returns its exit code: 2
// for bad input and for missing privileges, 1 otherwise.
func fail(env *cli.Env, err error) int { return failAs(env, "ERROR: ", err) }

// failAs is fail with another prefix ("IPaddr: " for --findif, whose
// messages are compared with findif's own).
func failAs(env *cli.Env, prefix string, err error) int {
	var ie *InputError
	code, hint := 1, ""
	switch {
	case errors.As(err, &ie):
		code = 2
	case errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES):
		code, hint = 2, " (changing addresses needs root: CAP_NET_ADMIN and CAP_NET_RAW)"
	}
	env.Err(prefix, err.Error(), hint, "\n")
	return code
}

// ResolveAny finds sp's address on whatever interface carries it.
func (a *Agent) ResolveAny(sp Spec) (Target, bool, error) {
	addrs, err := a.Sys.Addrs()
	if err != nil {
		return Target{}, false, err
	}
	for _, ad := range addrs {
		if ad.Prefix.Addr() != sp.IP {
			continue
		}
		ifname := ad.Label
		for i := 0; i < len(ifname); i++ {
			if ifname[i] == ':' {
				ifname = ifname[:i]
				break
			}
		}
		l, err := a.Sys.Link(ifname)
		if err != nil || l.Index != ad.Index {
			return Target{}, false, errors.New("cannot find the interface of " + ad.Label)
		}
		return Target{Link: l, Prefix: netip.PrefixFrom(sp.IP, ad.Prefix.Bits()), Bcast: ad.Broadcast}, true, nil
	}
	return Target{}, false, nil
}
