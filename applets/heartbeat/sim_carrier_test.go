package heartbeat

// Carrier tracking in the simulator: ha.cf's habox_track_carrier on a
// simulated interface of each machine, simLan, the service LAN to the
// clients (the ping node, when there is one, is reached another way, so
// losing the LAN's carrier does not cut the pings). The scenario pulls
// its cable, sets it down or deletes it, flaps it and restores it; the
// simulated kernel announces each change as the rtnetlink messages a
// real one sends (a dump of every link when a process subscribes), and
// the daemon's own filter (carrierOf) turns them into carrier events
// that go through its event loop (step), held while the process is
// paused and lost with it when it is killed. A node without carrier has
// no working uplink: the uplink invariant (simUplink.check) then wants
// every group on the other node once settled.

import (
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"habox/applets/heartbeat/uplink"
	"habox/hw/netlink"
)

// simLan is the tracked interface.
const simLan = "simlan"

// Configuration flags, or'ed into simCfg.ping with a ping kind.
const (
	pingLan     = 4 // habox_track_carrier simlan
	pingLanDeaf = 8 // the daemons never hear of carrier changes (TestSimCarrierInvariantBites)
)

// LAN states of a machine's simLan.
const (
	lanUp        = iota // up, with carrier
	lanNoCarrier        // cable pulled, switch port down
	lanAdminDown        // ip link set simlan down
	lanGone             // deleted (a USB NIC unplugged)
)

var lanStates = []string{"up", "no carrier", "down", "deleted"}

// simLanState is the tracked interface of each machine and which
// process incarnation subscribed to its link messages.
type simLanState struct {
	tracked  bool
	deaf     bool
	state    [2]int
	watchInc [2]int // incarnation whose watch receives link messages; 0 none
	flap     [2]int // generation of a flap
	flapping [2]bool
	back     [2]time.Duration // when it was last restored
}

// lanOK: node i's tracked interface (if any) is usable.
func (u *simUplink) lanOK(i int) bool { return !u.lan.tracked || u.lan.state[i] == lanUp }

// lanCalm: no carrier flapping.
func (u *simUplink) lanCalm() bool { return u.lan.flapping == [2]bool{} }

// simLink is node i's simLan as a link message says it.
func (u *simUplink) simLink(i int) netlink.Link {
	st := u.lan.state[i]
	return netlink.Link{Index: 4, Name: simLan, Up: st == lanUp || st == lanNoCarrier, Carrier: st == lanUp, Gone: st == lanGone}
}

// watchLinks is a process's rtnetlink subscription (daemon.watchLinks):
// the dump of every link arrives first, as the kernel answers it.
func (n *simNode) watchLinks(inc int) func() (*netlink.Watcher, error) {
	return func() (*netlink.Watcher, error) {
		u := n.s.up
		u.lan.watchInc[n.i] = inc
		for _, l := range []netlink.Link{{Index: 1, Name: "lo", Up: true, Carrier: true},
			{Index: 2, Name: "sim0", Up: true, Carrier: true}, {Index: 3, Name: "sim1", Up: true, Carrier: true}, u.simLink(n.i)} {
			u.linkMsg(n.i, l, time.Millisecond)
		}
		return nil, nil
	}
}

// linkMsg sends a link message to node i's subscribed process, which
// reads it after wait; its own filter keeps the tracked interfaces.
func (u *simUplink) linkMsg(i int, l netlink.Link, wait time.Duration) {
	n := u.s.nodes[i]
	inc := u.lan.watchInc[i]
	if inc == 0 || u.lan.deaf {
		return
	}
	u.s.after(wait, func() {
		if n.d == nil || n.inc != inc {
			return // the socket went with its process
		}
		if c, ok := carrierOf(l, n.d.hc.TrackCarrier); ok {
			n.deliver(event{carrier: &c})
		}
	})
}

// setLan changes node i's simLan to state st with the messages the
// kernel sends on the way: a deleted interface comes back down, then up
// without carrier, then with it.
func (u *simUplink) setLan(i, st int) {
	was := u.lan.state[i]
	if was == st {
		return
	}
	var path []int
	switch {
	case st != lanUp:
		path = []int{st}
	case was == lanGone:
		path = []int{lanAdminDown, lanNoCarrier, lanUp}
	case was == lanAdminDown:
		path = []int{lanNoCarrier, lanUp}
	default:
		path = []int{lanUp}
	}
	if st == lanUp {
		u.lan.back[i] = u.s.now
	}
	for k, p := range path {
		u.lan.state[i] = p
		u.linkMsg(i, u.simLink(i), time.Duration(k+1)*time.Millisecond)
	}
}

// lanApply performs a carrier step.
func (u *simUplink) lanApply(st simStep) {
	s, i := u.s, st.Node
	switch st.Kind {
	case "lanloss":
		u.lan.flap[i]++
		u.lan.flapping[i] = false
		u.setLan(i, int(st.Arg))
	case "lanback":
		u.lan.flap[i]++
		u.lan.flapping[i] = false
		u.setLan(i, lanUp)
	case "lanflap":
		// Lost for 1-4 s, back for 1-7 s, by turns, then restored.
		u.lan.flap[i]++
		u.lan.flapping[i] = true
		gen, end := u.lan.flap[i], s.now+time.Duration(st.Arg)
		on := time.Duration(1+s.r.Intn(4)) * time.Second
		off := time.Duration(1+s.r.Intn(7)) * time.Second
		var toggle func(lost bool)
		toggle = func(lost bool) {
			if u.lan.flap[i] != gen {
				return
			}
			if s.now >= end {
				lost = false
				u.lan.flapping[i] = false
			}
			was := u.reachAll()
			u.setLan(i, map[bool]int{true: lanNoCarrier, false: lanUp}[lost])
			u.changed(was)
			s.note(simNames[i] + "'s " + simLan + " " + map[bool]string{true: "lost carrier", false: "back"}[lost] + " (flapping)")
			s.disturb()
			if u.lan.flapping[i] {
				s.after(map[bool]time.Duration{true: on, false: off}[lost], func() { toggle(!lost) })
			}
		}
		toggle(true)
	}
}

// lanRepair ends carrier flapping; a lost carrier stays.
func (u *simUplink) lanRepair() {
	for i := range u.lan.flap {
		if u.lan.flapping[i] {
			u.setLan(i, lanUp)
		}
		u.lan.flap[i]++
		u.lan.flapping[i] = false
	}
}

// lanCheck is the settled cluster's view of the carrier: a healthy
// process counts no ping node while its tracked interface is unusable,
// and, with nothing but the carrier to count, one once it has been back
// for uplink.Stability.
func (u *simUplink) lanCheck() {
	if !u.lan.tracked {
		return
	}
	s := u.s
	for i, n := range s.nodes {
		if !n.healthy() || n.d.up == nil || s.now-n.boot < time.Second {
			continue
		}
		k := n.d.up.tr.Count(n.d.now())
		switch {
		case !u.lanOK(i) && k != 0:
			s.fail(n.name + ": its " + simLan + " is " + lanStates[u.lan.state[i]] + " but it counts " + strconv.Itoa(k) + " ping nodes")
		case u.lanOK(i) && u.hosts == 0 && k != 1 && s.now-u.lan.back[i] > uplink.Stability+time.Second:
			s.fail(n.name + ": its " + simLan + " is up but it counts " + strconv.Itoa(k) + " ping nodes")
		}
	}
}

func lanStepString(st simStep) string {
	who := " " + simNames[st.Node]
	switch st.Kind {
	case "lanloss":
		return who + " " + lanStates[st.Arg]
	case "lanflap":
		return who + " for " + time.Duration(st.Arg).String()
	}
	return who
}

// drawLanStep draws a carrier fault.
func drawLanStep(r *rand.Rand, st *simStep) {
	switch k := r.Intn(10); {
	case k < 5:
		st.Kind, st.Arg = "lanloss", int64(1+r.Intn(3))
	case k < 8:
		st.Kind = "lanback"
	default:
		st.Kind, st.Arg = "lanflap", int64(time.Duration(10+r.Intn(30))*time.Second)
	}
}

// TestSimCarrierInvariantBites: when the daemons never hear of a carrier
// change, the node holding a group keeps it after its LAN's carrier is
// lost; the uplink invariant must report it, in the configurations with
// and without a ping node (an invariant that cannot fail tests nothing).
// With the messages delivered, the same scenario passes.
func TestSimCarrierInvariantBites(t *testing.T) {
	for _, ping := range []int{pingLan, pingSingle | pingLan} {
		for _, deaf := range []bool{false, true} {
			p := ping
			if deaf {
				p |= pingLanDeaf
			}
			cfg := simCfg{dir: simConfPing(t, "on", ping), ping: p}
			for _, kind := range []int64{lanNoCarrier, lanAdminDown, lanGone} {
				steps := []simStep{{At: 20 * time.Second, Kind: "lanloss", Node: 0, Arg: kind}}
				fail, trace, _ := runSimWith(t, cfg, 1, steps)
				switch {
				case deaf && !strings.Contains(fail, "the only node that reaches the ping node"):
					t.Errorf("ping %d, %s, carrier events ignored: got %q, want the uplink invariant to fail\n  %s", ping, lanStates[kind], fail, strings.Join(trace, "\n  "))
				case !deaf && fail != "":
					t.Errorf("ping %d, %s: %s\n  %s", ping, lanStates[kind], fail, strings.Join(trace, "\n  "))
				}
			}
			// Both lose carrier: no group must move, but each must count
			// no ping node (the view invariant of lanCheck).
			steps := []simStep{{At: 20 * time.Second, Kind: "lanloss", Node: 0, Arg: lanNoCarrier}, {At: 20 * time.Second, Kind: "lanloss", Node: 1, Arg: lanGone}}
			fail, trace, _ := runSimWith(t, cfg, 1, steps)
			switch {
			case deaf && !strings.Contains(fail, "but it counts 1 ping nodes"):
				t.Errorf("ping %d, both lost, carrier events ignored: got %q, want the carrier view invariant to fail\n  %s", ping, fail, strings.Join(trace, "\n  "))
			case !deaf && fail != "":
				t.Errorf("ping %d, both lost: %s\n  %s", ping, fail, strings.Join(trace, "\n  "))
			}
		}
	}
}

// TestCarrierOf: a link message counts for a tracked interface only,
// usable when up with carrier and not deleted.
func TestCarrierOf(t *testing.T) {
	track := []string{"eth0", "eth1"}
	for _, c := range []struct {
		l      netlink.Link
		ok, up bool
	}{
		{netlink.Link{Name: "eth1", Up: true, Carrier: true}, true, true},
		{netlink.Link{Name: "eth0", Up: true}, true, false},
		{netlink.Link{Name: "eth0", Carrier: true}, true, false},
		{netlink.Link{Name: "eth0", Up: true, Carrier: true, Gone: true}, true, false},
		{netlink.Link{Name: "eth2", Up: true, Carrier: true}, false, false},
		{netlink.Link{Name: "eth", Up: true, Carrier: true}, false, false},
	} {
		e, ok := carrierOf(c.l, track)
		if ok != c.ok || ok && (e.up != c.up || e.ifname != c.l.Name) {
			t.Errorf("%+v: got %+v %v, want up %v ok %v", c.l, e, ok, c.up, c.ok)
		}
	}
}
