package uplink

import (
	"strconv"
	"time"

	"habox/applets/internal/hblog"
)

// Ping node statuses (cl_status nodestatus).
const (
	StInit = "init"
	StPing = "ping"
	StDead = "dead"
)

// Stability is how long a lost ping node (or carrier) must stay back
// before it counts again.
const Stability = 5 * time.Second

// Event is a change the daemon logs: its 3.0.6 log line.
type Event struct {
	Node  string
	Level hblog.Priority
	Text  string
}

type pingNode struct {
	name     string
	status   string
	last     time.Duration // last reply
	since    time.Duration // up since
	everDead bool
}

type carrier struct {
	up       bool
	since    time.Duration
	everDown bool
}

// Tracker follows ping nodes and carriers. Pure: every method takes the
// time as a monotonic offset. Not safe for concurrent use.
type Tracker struct {
	deadping time.Duration
	start    time.Duration
	nodes    []*pingNode
	carriers map[string]*carrier
	order    []string
}

// NewTracker returns a tracker for the named ping nodes (ha.cf order) and
// tracked interfaces, every node init and every carrier up, at time now.
func NewTracker(nodes, ifaces []string, deadping, now time.Duration) *Tracker {
	t := &Tracker{deadping: deadping, start: now, carriers: map[string]*carrier{}}
	for _, n := range nodes {
		t.nodes = append(t.nodes, &pingNode{name: n, status: StInit})
	}
	for _, i := range ifaces {
		t.carriers[i] = &carrier{up: true, since: now}
		t.order = append(t.order, i)
	}
	return t
}

func (t *Tracker) node(name string) *pingNode {
	for _, n := range t.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// Nodes returns the ping node names in configuration order.
func (t *Tracker) Nodes() []string {
	var l []string
	for _, n := range t.nodes {
		l = append(l, n.name)
	}
	return l
}

// Status returns a ping node's status ("" if unknown).
func (t *Tracker) Status(name string) string {
	if n := t.node(name); n != nil {
		return n.status
	}
	return ""
}

// LinkStatus is the status of a ping node's only link: up or dead.
func (t *Tracker) LinkStatus(name string) string {
	if t.Status(name) == StPing {
		return "up"
	}
	return "dead"
}

// Heard records an authenticated echo reply from a ping node.
func (t *Tracker) Heard(name string, now time.Duration) []Event {
	n := t.node(name)
	if n == nil {
		return nil
	}
	prev := n.last
	n.last = now
	if n.status == StPing {
		return nil
	}
	ev := []Event{{name, hblog.InfoPri, "Link " + name + ":" + name + " up."}}
	if n.status == StDead && prev > 0 {
		// 3.0.6 logs a returning ping node like this, "is dead" included.
		ev = append(ev, Event{name, hblog.Crit, "Late heartbeat: Node " + name + ": interval " +
			strconv.FormatInt((now-prev).Milliseconds(), 10) + " ms (> deadtime)"},
			Event{name, hblog.Warning, "node " + name + ": is dead"})
	}
	n.status, n.since = StPing, now
	return append(ev, Event{name, hblog.InfoPri, "Status update for node " + name + ": status " + StPing})
}

// Tick declares dead the ping nodes silent for deadping.
func (t *Tracker) Tick(now time.Duration) []Event {
	var ev []Event
	for _, n := range t.nodes {
		last := n.last
		if n.status == StInit {
			last = t.start
		}
		if n.status != StDead && now-last > t.deadping {
			ev = append(ev, Event{n.name, hblog.Warning, "node " + n.name + ": is dead"})
			if n.status == StPing {
				ev = append(ev, Event{n.name, hblog.InfoPri, "Link " + n.name + ":" + n.name + " dead."})
			}
			n.status, n.everDead = StDead, true
		}
	}
	return ev
}

// Carrier records a carrier change of a tracked interface.
func (t *Tracker) Carrier(ifname string, up bool, now time.Duration) []Event {
	c := t.carriers[ifname]
	if c == nil || c.up == up {
		return nil
	}
	c.up, c.since = up, now
	if !up {
		c.everDown = true
		return []Event{{ifname, hblog.Warning, "Carrier lost on " + ifname + ": it counts as losing every ping node"}}
	}
	return []Event{{ifname, hblog.InfoPri, "Carrier back on " + ifname + " (counts again after " + strconv.Itoa(int(Stability/time.Second)) + " s without loss)"}}
}

// stable reports whether something up since since, after a loss if
// lost, counts at now.
func stable(lost bool, since, now time.Duration) bool {
	return !lost || now-since >= Stability
}

// NextDeadline returns when the next ping node falls dead if nothing
// arrives (false when none can).
func (t *Tracker) NextDeadline() (time.Duration, bool) {
	var at time.Duration
	ok := false
	for _, n := range t.nodes {
		last := n.last
		if n.status == StInit {
			last = t.start
		}
		if n.status != StDead && (!ok || last+t.deadping < at) {
			at, ok = last+t.deadping, true
		}
	}
	return at, ok
}

// Fresh reports whether every ping node that counts answered within
// window before now (true without ping nodes).
func (t *Tracker) Fresh(window, now time.Duration) bool {
	for _, n := range t.nodes {
		if n.status == StPing && now-n.last > window {
			return false
		}
	}
	return true
}

// Count is the number of usable ping nodes at now, as the policy
// compares it: 0 while a tracked carrier is down (or back for less than
// Stability); with only tracked carriers and no ping node, 1 when they
// are all usable.
func (t *Tracker) Count(now time.Duration) int {
	for _, i := range t.order {
		c := t.carriers[i]
		if !c.up || !stable(c.everDown, c.since, now) {
			return 0
		}
	}
	if len(t.nodes) == 0 {
		return 1
	}
	k := 0
	for _, n := range t.nodes {
		if n.status == StPing && stable(n.everDead, n.since, now) {
			k++
		}
	}
	return k
}
