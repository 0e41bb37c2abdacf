// Package membership decides who is alive in a heartbeat cluster: node
// states init/up/active/dead, per-link up/dead, dead detection from each
// peer's advertised dead time (the `dt` field), late-heartbeat warnings,
// initdead and "communications up", as heartbeat 3.0.6 does (spec 5.1-5.3).
//
// It is pure: every method takes the current time as a monotonic offset
// (time.Duration since an arbitrary origin) and returns the events it
// caused, so a test replays "peer silent for deadtime" in microseconds.
// The daemon's event loop owns a Membership, feeds it authenticated
// packets and status messages, calls Tick periodically, logs each event's
// Text and acts on its Kind.
package membership

import (
	"habox/applets/cli"
	"habox/applets/internal/hblog"
	"strconv"
	"time"
)

// Node statuses (spec 5.1).
const (
	Init   = "init"
	Up     = "up"
	Active = "active"
	Dead   = "dead"
)

// Link statuses.
const (
	LinkUp   = "up"
	LinkDead = "dead"
)

// Kind says what happened.
type Kind int

// Event kinds.
const (
	LinkChange   Kind = iota // Link's status changed (Status is "up" or "dead")
	StatusChange             // Node advertised a new status (Status), logged for peers
	NodeDead                 // Node was declared dead (silent, or late heartbeat)
	LateWarn                 // a late heartbeat below deadtime (warning only)
	Returned                 // a status arrived from a node currently dead
	CommUp                   // every node was heard from or declared dead
	LocalDead                // own status not seen for deadtime: restart needed
)

// Event is one consequence of an input.
type Event struct {
	Kind   Kind
	Node   string
	Link   string
	Status string
	Heard  bool // NodeDead: packets had arrived since start or the previous death
	// Due is, for a NodeDead of Tick, the instant its dead interval ran
	// out (the event comes at the first Tick after it).
	Due   time.Duration
	Level hblog.Priority
	Text  string // the 3.0.6 log line, "" when nothing is logged
}

// Config holds the timing and topology.
type Config struct {
	Self      string   // local node name (lower case)
	Nodes     []string // every configured node, self included
	Links     []string // medium names (interface or device path)
	Deadtime  time.Duration
	Warntime  time.Duration
	Initdead  time.Duration
	Keepalive time.Duration
}

type link struct {
	status string
	last   time.Duration
	seen   bool
}

type node struct {
	name       string
	status     string
	dt         time.Duration // advertised dead time, 0 = not known
	heard      bool          // any accepted packet since start or death
	lastStatus time.Duration
	hasStatus  bool
	links      map[string]*link
}

// Membership is the cluster view of one node. Not safe for concurrent use:
// the event loop owns it.
type Membership struct {
	cfg    Config
	start  time.Duration
	nodes  map[string]*node
	order  []string
	commUp bool
}

// New returns the view at start time now: every node (self included) is
// "init", every link "dead".
func New(cfg Config, now time.Duration) *Membership {
	m := &Membership{cfg: cfg, start: now, nodes: map[string]*node{}}
	for _, n := range cfg.Nodes {
		if _, dup := m.nodes[n]; dup {
			continue
		}
		nd := &node{name: n, status: Init, links: map[string]*link{}}
		for _, l := range cfg.Links {
			nd.links[l] = &link{status: LinkDead}
		}
		m.nodes[n] = nd
		m.order = append(m.order, n)
	}
	return m
}

// Known reports whether name is a configured node.
func (m *Membership) Known(name string) bool { _, ok := m.nodes[name]; return ok }

// Nodes returns the configured node names in configuration order.
func (m *Membership) Nodes() []string { return append([]string(nil), m.order...) }

// Links returns the link names in configuration order.
func (m *Membership) Links() []string { return append([]string(nil), m.cfg.Links...) }

// NodeStatus returns the node's status, "" for an unknown node.
func (m *Membership) NodeStatus(name string) string {
	if n := m.nodes[name]; n != nil {
		return n.status
	}
	return ""
}

// LinkStatus returns the status of a node's link, "" if unknown.
func (m *Membership) LinkStatus(name, l string) string {
	if n := m.nodes[name]; n != nil {
		if lk := n.links[l]; lk != nil {
			return lk.status
		}
	}
	return ""
}

// IsCommUp reports whether communications are up.
func (m *Membership) IsCommUp() bool { return m.commUp }

// Heard reports whether a packet was accepted from the node since start
// or since it was last declared dead (3.0.6's anypacketsyet).
func (m *Membership) Heard(name string) bool {
	n := m.nodes[name]
	return n != nil && n.heard
}

// CountActive returns the number of nodes whose status is active.
func (m *Membership) CountActive() int {
	c := 0
	for _, n := range m.nodes {
		if n.status == Active {
			c++
		}
	}
	return c
}

// Alive reports whether the node is neither dead nor still init.
func (m *Membership) Alive(name string) bool {
	n := m.nodes[name]
	return n != nil && (n.status == Up || n.status == Active)
}

// Peers returns the other configured nodes in configuration order.
func (m *Membership) Peers() []string {
	var p []string
	for _, n := range m.order {
		if n != m.cfg.Self {
			p = append(p, n)
		}
	}
	return p
}

// SetLocal records the local node's own status (init, up, active).
func (m *Membership) SetLocal(st string) {
	if n := m.nodes[m.cfg.Self]; n != nil {
		n.status = st
	}
}

// Packet records any authenticated packet (duplicates included) from node
// on link: it keeps the link up. It returns a LinkChange when the link
// comes up.
func (m *Membership) Packet(name, l string, now time.Duration) []Event {
	n := m.nodes[name]
	if n == nil {
		return nil
	}
	lk := n.links[l]
	if lk == nil {
		lk = &link{status: LinkDead}
		n.links[l] = lk
	}
	lk.last, lk.seen = now, true
	if lk.status == LinkUp {
		return nil
	}
	lk.status = LinkUp
	return []Event{linkEvent(name, l, LinkUp)}
}

// Accepted records that a non-duplicate packet of any type was accepted
// from the node (it counts for "communications up").
func (m *Membership) Accepted(name string, now time.Duration) []Event {
	n := m.nodes[name]
	if n == nil {
		return nil
	}
	n.heard = true
	return m.checkCommUp(nil)
}

func linkEvent(name, l, st string) Event {
	return Event{Kind: LinkChange, Node: name, Link: l, Status: st, Level: hblog.InfoPri,
		Text: "Link " + name + ":" + l + " " + st + "."}
}

// Status records an accepted status message from node: st is its
// advertised status, dt its advertised dead time (0 when absent). The
// local node's own status (loop-back) only refreshes its liveness.
func (m *Membership) Status(name, st string, dt time.Duration, now time.Duration) []Event {
	n := m.nodes[name]
	if n == nil {
		return nil
	}
	var ev []Event
	n.heard = true
	if dt > 0 {
		n.dt = dt
	}
	if name == m.cfg.Self {
		n.lastStatus, n.hasStatus = now, true
		return m.checkCommUp(ev)
	}
	if n.status == Dead {
		ev = append(ev, Event{Kind: Returned, Node: name, Status: st})
	} else if n.hasStatus {
		iv := now - n.lastStatus
		ms := strconv.FormatInt(int64(iv/time.Millisecond), 10)
		switch {
		case iv > m.cfg.Deadtime:
			ev = append(ev, Event{Kind: LateWarn, Node: name, Level: hblog.Crit,
				Text: "Late heartbeat: Node " + name + ": interval " + ms + " ms (> deadtime)"})
			ev = append(ev, m.markDead(n)...)
		case iv > m.cfg.Warntime:
			ev = append(ev, Event{Kind: LateWarn, Node: name, Level: hblog.Warning,
				Text: "Late heartbeat: Node " + name + ": interval " + ms + " ms"})
		}
	}
	n.heard = true
	n.lastStatus, n.hasStatus = now, true
	if st != "" && st != n.status {
		n.status = st
		ev = append(ev, Event{Kind: StatusChange, Node: name, Status: st, Level: hblog.InfoPri,
			Text: "Status update for node " + name + ": status " + st})
	}
	return m.checkCommUp(ev)
}

// MarkDead declares a peer dead now, whatever its timers say (a peer
// that restarted within deadtime holding nothing is handled as dead and
// back): its status is dead until its next status message, which then
// reports it returned. It returns the NodeDead event without log text
// (the caller logs why), nothing for an unknown, local or dead node.
func (m *Membership) MarkDead(name string) []Event {
	n := m.nodes[name]
	if n == nil || name == m.cfg.Self || n.status == Dead {
		return nil
	}
	ev := m.markDead(n)
	ev[0].Text = ""
	return ev
}

func (m *Membership) markDead(n *node) []Event {
	heard := n.heard
	n.status = Dead
	n.heard = false
	n.hasStatus = false
	return []Event{{Kind: NodeDead, Node: n.name, Status: Dead, Heard: heard, Level: hblog.Warning,
		Text: "node " + n.name + ": is dead"}}
}

// interval is the dead interval applied to node n.
func (m *Membership) interval(n *node) time.Duration {
	if !m.commUp {
		return m.cfg.Initdead
	}
	if n.dt > 0 {
		return n.dt
	}
	return m.cfg.Deadtime
}

// Tick checks the dead timers of nodes and links at time now.
func (m *Membership) Tick(now time.Duration) []Event {
	var ev []Event
	for _, name := range m.order {
		n := m.nodes[name]
		iv := m.interval(n)
		if name != m.cfg.Self && n.status != Dead {
			since := m.start
			if n.hasStatus {
				since = n.lastStatus
			}
			if now-since > iv {
				dead := m.markDead(n)
				dead[0].Due = since + iv
				ev = append(ev, dead...)
			}
		}
		for _, l := range m.cfg.Links {
			lk := n.links[l]
			if lk.status == LinkUp && now-lk.last > iv {
				lk.status = LinkDead
				ev = append(ev, linkEvent(name, l, LinkDead))
			}
		}
	}
	return m.checkCommUp(ev)
}

// Next returns the earliest instant at which Tick will declare a node or
// a link dead (one nanosecond past its dead interval) if nothing is heard
// before; ok is false when no timer runs. The event loop sleeps until
// then instead of polling. It does not allocate.
func (m *Membership) Next() (at time.Duration, ok bool) {
	earliest := func(t time.Duration) {
		if !ok || t < at {
			at, ok = t, true
		}
	}
	for _, name := range m.order {
		n := m.nodes[name]
		iv := m.interval(n)
		if name != m.cfg.Self && n.status != Dead {
			since := m.start
			if n.hasStatus {
				since = n.lastStatus
			}
			earliest(since + iv + 1)
		}
		for _, l := range m.cfg.Links {
			if lk := n.links[l]; lk.status == LinkUp {
				earliest(lk.last + iv + 1)
			}
		}
	}
	return at, ok
}

// LinkNames returns the link names known for node (configuration order,
// then any others sorted).
func (m *Membership) LinkNames(name string) []string {
	n := m.nodes[name]
	if n == nil {
		return nil
	}
	out := append([]string(nil), m.cfg.Links...)
	var extra []string
	for l := range n.links {
		found := false
		for _, c := range m.cfg.Links {
			found = found || c == l
		}
		if !found {
			extra = append(extra, l)
		}
	}
	cli.Sort(extra)
	return append(out, extra...)
}

func (m *Membership) checkCommUp(ev []Event) []Event {
	if m.commUp {
		return ev
	}
	for _, n := range m.nodes {
		if n.name == m.cfg.Self {
			continue
		}
		if !n.heard && n.status != Dead {
			return ev
		}
	}
	m.commUp = true
	return append(ev, Event{Kind: CommUp})
}
