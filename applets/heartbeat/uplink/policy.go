package uplink

import (
	"strconv"
	"time"

	"habox/applets/internal/hblog"
)

// Message types and fields of ipfail (3.0.6 contrib/ipfail).
const (
	TNumPing    = "num_ping_nodes"
	TYouAreDead = "you_are_dead"
	TAbort      = "abort_giveup"
	TClientStat = "hbapi-clstat" // API client join/leave (T_APICLISTAT)
	FNumPing    = "num_ping"
	ClientName  = "ipfail"
)

// ActKind says what the daemon must do.
type ActKind int

// Action kinds.
const (
	Log    ActKind = iota // log Text at Level
	Send                  // send message Type (Fields) to the peer only
	GiveUp                // hb_standby Hold ("all" or "foreign")
)

// Action is one consequence of an input.
type Action struct {
	Kind   ActKind
	Level  hblog.Priority
	Text   string
	Type   string
	Fields [][2]string
	Hold   string
}

func logA(l hblog.Priority, s string) Action { return Action{Kind: Log, Level: l, Text: s} }

// Policy is ipfail's decision for one node of a pair. Pure; not safe for
// concurrent use.
type Policy struct {
	delay      time.Duration
	failbackOn bool

	count    int // last count sent (and compared)
	peerUp   bool
	pending  string // hold of a scheduled give-up, "" none
	due      time.Duration
	retrying bool
	// claim: the peer reported fewer ping nodes while ours were not
	// fresh; you_are_dead waits until they answer again.
	claim     bool
	peerCount int
	peerKnown bool // peerCount came since the peer is up
	// recheck: when a give-up was asked, the time to ask again for the
	// counts in case the standby was ignored (the other side in flux);
	// Settled cancels it.
	recheck time.Duration
}

// RecheckAfter is how long after a give-up the counts are compared again
// unless Settled says nothing is left to give up.
const RecheckAfter = 3 * time.Second

// Settled records that we hold nothing more to give up: no re-check.
func (p *Policy) Settled() { p.recheck = 0 }

// NewPolicy returns the policy of a node that sees count ping nodes.
// delay is 2×keepalive; failbackOn is auto_failback on.
func NewPolicy(delay time.Duration, failbackOn bool, count int) *Policy {
	return &Policy{delay: delay, failbackOn: failbackOn, count: count}
}

// PeerFewer reports whether the peer, up, said it sees fewer ping nodes
// than we do: an automatic failback to it would only make it give the
// groups up again (the daemon holds failbacks meanwhile).
func (p *Policy) PeerFewer() bool { return p.peerUp && p.peerKnown && p.peerCount < p.count }

// Pending returns the hold of a scheduled give-up ("" when none).
func (p *Policy) Pending() string { return p.pending }

// Due returns when a scheduled give-up or re-check fires (false when
// none is). A give-up that is due but waits for stable resources has no
// time: the periodic Tick finds when they are.
func (p *Policy) Due() (time.Duration, bool) {
	waiting := p.pending != "" && p.retrying
	switch {
	case p.pending != "" && !waiting && (p.recheck == 0 || p.due < p.recheck):
		return p.due, true
	case p.recheck > 0:
		return p.recheck, true
	}
	return 0, false
}

func (p *Policy) sendCount() Action {
	// ipfail also adds F_ORIG, which is "src": the daemon's stamp.
	return Action{Kind: Send, Type: TNumPing, Fields: [][2]string{{FNumPing, strconv.Itoa(p.count)}}}
}

// PeerUp says whether the peer is up (its ipfail, or habox's policy,
// can hear us). Coming up, we send our count, as ipfail does when the
// peer's ipfail joins.
func (p *Policy) PeerUp(up bool) []Action {
	if up == p.peerUp {
		return nil
	}
	p.peerUp = up
	if !up {
		p.pending, p.peerKnown = "", false
		return nil
	}
	return []Action{p.sendCount()}
}

// Joined is the peer's ipfail signing on: send our count.
func (p *Policy) Joined() []Action {
	if !p.peerUp {
		return nil
	}
	return []Action{p.sendCount()}
}

// Count records our usable ping node count; a change is sent to the peer.
func (p *Policy) Count(n int) []Action {
	if n == p.count {
		return nil
	}
	p.count, p.claim = n, false
	if !p.peerUp {
		return nil
	}
	return []Action{logA(hblog.InfoPri, "Ping node count is now "+strconv.Itoa(n)+": telling the other node."), p.sendCount()}
}

func (p *Policy) schedule(hold string, now time.Duration) Action {
	p.pending, p.due, p.retrying = hold, now+p.delay, false
	return logA(hblog.InfoPri, "Delayed giveup in "+seconds(p.delay)+" seconds.")
}

// seconds formats d as seconds with up to three decimals ("0.4", "2").
func seconds(d time.Duration) string {
	s := strconv.FormatInt(int64(d/time.Second), 10)
	if ms := int64(d % time.Second / time.Millisecond); ms > 0 {
		f := strconv.FormatInt(1000+ms, 10)[1:]
		for f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		s += "." + f
	}
	return s
}

// Message handles an ipfail message from the peer. holdsForeign says
// whether we hold groups of the peer; stable whether our resources are
// stable; fresh whether every ping node we count answered within the
// last 2×keepalive (Tracker.Fresh).
func (p *Policy) Message(typ, numPing string, holdsForeign, stable, fresh bool, now time.Duration) []Action {
	switch typ {
	case TNumPing:
		n, err := strconv.Atoi(numPing)
		if err != nil || n < 0 {
			return []Action{logA(hblog.Warning, "Ignored num_ping_nodes message with a bad count")}
		}
		p.peerCount, p.peerKnown, p.claim = n, true, false
		switch {
		case p.count > n && !fresh:
			// Our own replies are late: our uplink may be dying too
			// (both cut). Claim only once they answer again.
			p.claim = true
			return []Action{logA(hblog.InfoPri, "Other node has less visible ping nodes; ours have not answered lately: waiting before telling it.")}
		case p.count > n:
			return []Action{logA(hblog.InfoPri, "Telling other node that we have more visible ping nodes."),
				{Kind: Send, Type: TYouAreDead}}
		case p.count < n:
			acts := []Action{logA(hblog.InfoPri, "Giving up because we have less visible ping nodes.")}
			if p.pending == "all" {
				return acts
			}
			return append(acts, p.schedule("all", now))
		}
		acts := []Action{logA(hblog.InfoPri, "Ping node count is balanced."), {Kind: Send, Type: TAbort}}
		if p.pending != "" {
			p.pending = ""
			return append(acts, logA(hblog.InfoPri, "Giveup aborted: the ping node count is balanced."))
		}
		if p.failbackOn && stable && holdsForeign {
			acts = append(acts, p.schedule("foreign", now))
		}
		return acts
	case TYouAreDead:
		// Our count goes along: a you_are_dead answering a count we
		// no longer have (start-up, a recovery crossing it on the wire)
		// is then aborted by the peer before the give-up is due.
		acts := []Action{logA(hblog.InfoPri, "Giving up because we were told that we have less ping nodes.")}
		if p.pending == "all" {
			return acts // already due: keep its time, no ping-pong
		}
		return append(acts, p.schedule("all", now), p.sendCount())
	case TAbort:
		if p.pending != "" {
			p.pending = ""
			return []Action{logA(hblog.InfoPri, "Giveup aborted by the other node.")}
		}
	}
	return nil
}

// Tick fires a due give-up when our resources are stable; otherwise it
// waits, and once they are stable it re-sends our count so the decision
// is taken again on fresh numbers (ipfail does the same).
func (p *Policy) Tick(stable, fresh bool, now time.Duration) []Action {
	if p.claim && fresh && p.peerUp {
		p.claim = false
		if p.count > p.peerCount {
			return []Action{logA(hblog.InfoPri, "Telling other node that we have more visible ping nodes."), {Kind: Send, Type: TYouAreDead}}
		}
	}
	if p.recheck > 0 && now >= p.recheck {
		p.recheck = 0
		if p.peerUp && p.pending == "" {
			return []Action{logA(hblog.InfoPri, "Still holding resources after giving up: comparing ping node counts again."), p.sendCount()}
		}
	}
	if p.pending == "" || now < p.due {
		return nil
	}
	if !stable {
		p.retrying = true
		return nil
	}
	if p.retrying {
		p.pending, p.retrying = "", false
		if p.peerUp {
			return []Action{p.sendCount()}
		}
		return nil
	}
	h := p.pending
	p.pending, p.recheck = "", now+RecheckAfter
	return []Action{{Kind: GiveUp, Hold: h}}
}
