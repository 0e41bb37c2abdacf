package resources

import (
	"errors"
	"habox/applets/internal/hblog"
	"strconv"
	"time"

	"habox/conf"
)

// ErrLegacy is returned by Standby in auto_failback legacy mode.
var ErrLegacy = errors.New("Standby mode only implemented when nice_failback on")

// ErrShutdown is returned by Standby/Takeover during shutdown.
var ErrShutdown = errors.New("heartbeat is shutting down")

func parseKind(kind string) (Hold, bool) {
	switch kind {
	case "", "all":
		return All, true
	case "local":
		return Local, true
	case "foreign", "failback":
		return Foreign, true
	}
	return None, false
}

// Standby is hb_standby [all|foreign|local|failback]: ask the peer to take
// the given set of this node's groups.
func (m *Manager) Standby(kind string, now time.Duration) ([]Action, error) {
	h, ok := parseKind(kind)
	if !ok {
		return nil, errors.New("invalid standby type " + kind)
	}
	if !m.nice {
		return []Action{logA(hblog.InfoPri, ErrLegacy.Error())}, ErrLegacy
	}
	if m.ShuttingDown() {
		return nil, ErrShutdown
	}
	return []Action{
		logA(hblog.InfoPri, "Going standby ["+h.String()+"]."),
		sendA(NewMsg("ask_resources", "rsc_hold", h.String(), "info", "me")),
	}, nil
}

// Takeover is hb_takeover [all|foreign|local|failback]: ask the peer to go
// standby (the peer maps the type, 5.7).
func (m *Manager) Takeover(kind string, now time.Duration) ([]Action, error) {
	switch kind {
	case "":
		kind = "all"
	case "all", "local", "foreign", "failback":
	default:
		return nil, errors.New("invalid takeover type " + kind)
	}
	if m.ShuttingDown() {
		return nil, ErrShutdown
	}
	return []Action{sendA(NewMsg("hb_takeover", "rsc_hold", kind))}, nil
}

func (m *Manager) sendStandby(s standby) Action {
	return sendA(NewMsg("ask_resources", "rsc_hold", m.standbyType.String(), "info", standbyInfo[s]))
}

// askForResources is 3.0.6's ask_for_resources (the standby protocol): a
// state machine over m.going (not in standby, we go, the other goes, done).
func (m *Manager) askForResources(from string, msg Msg, now time.Duration) []Action {
	if !m.nice {
		return []Action{logA(hblog.InfoPri, ErrLegacy.Error())}
	}
	if m.state == rShutdown {
		return nil
	}
	info := msg.Get("info")
	rtype := All
	if msg.Has("rsc_hold") {
		rtype, _ = ParseHold(msg.Get("rsc_hold"))
	}
	if info == "" || from == "" {
		return []Action{logA(hblog.Err, "Received standby message without info/from")}
	}
	fromMe := from == m.cfg.Self
	mark, marked := msgMark(msg)
	if info == standbyCancel {
		if marked && !fromMe && mark.gen == m.peerSb.gen && mark.seq < m.peerSb.seq {
			// Sent before the standby message that began what we do
			// now (delivered out of order): it cancels an older one.
			return []Action{logA(hblog.DebugPri, "Ignored a standby cancel from "+from+" older than its last standby message")}
		}
		return m.standbyCancelled(from, fromMe, rtype)
	}
	if marked && !fromMe {
		m.peerSb = mark
	}
	orig := m.going
	if m.standbyUntil != 0 && now < m.standbyUntil && info == "me" {
		left := (int64((m.standbyUntil-now)/time.Millisecond) + 999) / 1000
		return []Action{logA(hblog.Warning, "Standby in progress- new request from "+from+" ignored ["+strconv.FormatInt(left, 10)+" seconds left]")}
	}
	var a []Action
	ignored := false
	switch m.going {
	case sbNot:
		a, ignored = m.standbyRequest(from, info, fromMe, rtype, now)
	case sbMe:
		a, ignored = m.standbyMine(from, info, fromMe, rtype, now)
	case sbOther:
		a, ignored = m.standbyTheirs(from, info, fromMe, rtype, now)
	case sbDone:
		a, ignored = m.standbyFinish(from, info, fromMe, rtype, now)
	}
	if ignored {
		a = append(a, logA(hblog.Err, "Ignored standby message '"+info+"' from "+from+" in state "+strconv.Itoa(int(orig))))
		if orig == sbNot && info == "other" && !fromMe && m.IsHabox(from) {
			// A late answer to a request we no longer make (it was
			// retransmitted after a partition, or it timed out): the
			// peer would wait an hour for our "done".
			a = append(a, sendCancel(rtype))
		}
	}
	return a
}

// standbyCancel is habox's answer to an "other" for a standby request
// the node no longer makes; sent to habox peers only (3.0.6 would log it
// as an ignored standby message).
const standbyCancel = "cancel"

// sendCancel tells a habox peer that the standby of set kind is off.
func sendCancel(kind Hold) Action {
	return sendA(NewMsg("ask_resources", "rsc_hold", kind.String(), "info", standbyCancel))
}

// standbyCancelled: the peer is not going standby after all, or no
// longer completes ours; stop waiting for its "done". A cancel of another
// set is about an older standby: it ends nothing here (simulator ping
// node seed 39772: the peer cancelled a stale answer while we already
// answered its new request).
func (m *Manager) standbyCancelled(from string, fromMe bool, kind Hold) []Action {
	switch {
	case fromMe:
		return nil
	case kind != m.standbyType:
		return []Action{logA(hblog.DebugPri, "Ignored a standby cancel ["+kind.String()+"] from "+from+" during a standby ["+m.standbyType.String()+"]")}
	case m.going == sbOther:
		m.cancelStandby()
		m.otherStable = true
		return []Action{logA(hblog.InfoPri, from+" is not going standby (its request was stale): standby cancelled.")}
	case m.going == sbDone && !m.acquiring:
		// We released our groups; the peer cancelled its acquisition
		// when it declared us dead (simulator seed 23964).
		m.cancelStandby()
		m.otherStable = true
		a := []Action{logA(hblog.InfoPri, from+" cancelled the standby takeover of our resources.")}
		return append(a, m.sendHeld(true, "")...)
	}
	return nil
}

// standbyRequest: no standby in progress; a node asks to go standby
// ("me"), if both sides are stable.
func (m *Manager) standbyRequest(from, info string, fromMe bool, rtype Hold, now time.Duration) (a []Action, ignored bool) {
	if !m.otherStable {
		return []Action{logA(hblog.Warning, "standby message ["+hblog.Quote(info)+"] from "+from+" ignored.  Other side is in flux.")}, false
	}
	if m.state != rStable {
		return []Action{logA(hblog.Warning, "standby message ["+info+"] from "+from+" ignored.  local resources in flux.")}, false
	}
	m.standbyType = rtype
	if info == "me" {
		m.otherStable = false
		m.standbyAt = now
		m.owesCancel = false
		a = append(a, logA(hblog.InfoPri, from+" wants to go standby ["+rtype.String()+"]"))
		if fromMe {
			m.standbyUntil = now + standbyInitTO
			m.going = sbMe
		} else {
			m.going = sbOther
			a = append(a, m.sendStandby(sbOther))
			// 3.0.6 waits an hour here. The requester cancels when our
			// answer is not there within standbyInitTO (it can also be a
			// request that was cancelled meanwhile, retransmitted after
			// a heal): wait that long plus a deadtime for the transit,
			// an hour once its release has begun (theirResource).
			m.standbyUntil = now + standbyInitTO + m.cfg.Deadtime
		}
	} else {
		ignored = true
	}
	return a, ignored
}

// standbyMine: we are going standby; the other node answers it can take
// our resources ("other"), or our own release is done ("done").
func (m *Manager) standbyMine(from, info string, fromMe bool, rtype Hold, now time.Duration) (a []Action, ignored bool) {
	if !fromMe && info == "other" && rtype != m.standbyType {
		// The answer to an older request of ours (retransmitted after a
		// heal, cancelled since), not to this one: a peer answers with
		// the set asked for. Taking it released the wrong set, and the
		// peer, no longer in the standby, ignored our "done" for an hour
		// (simulator ping node seed 39772).
		a = append(a, logA(hblog.InfoPri, "standby: ignored "+from+"'s answer for ["+rtype.String()+"]: we asked for ["+m.standbyType.String()+"]"))
		if m.IsHabox(from) {
			a = append(a, sendCancel(rtype))
		}
		return a, false
	}
	if !fromMe {
		m.standbyType = rtype
		m.standbyUntil = now + standbyRscTO
		if info == "other" {
			a = append(a, logA(hblog.InfoPri, "standby: "+from+" can take our "+rtype.String()+" resources"))
			a = append(a, m.goStandby(sbMe, rtype)...)
		} else {
			ignored = true
		}
	} else if info == "done" {
		a = append(a, logA(hblog.InfoPri, "Local standby process completed ["+rtype.String()+"]."))
		m.going = sbDone
		m.mine &^= m.standbyType
		m.standbyUntil = now + standbyRscTO
	} else {
		ignored = true
	}
	return a, ignored
}

// standbyTheirs: the other node is going standby; once it released its
// resources ("done") we acquire them.
func (m *Manager) standbyTheirs(from, info string, fromMe bool, rtype Hold, now time.Duration) (a []Action, ignored bool) {
	m.standbyType = rtype
	if info == "done" {
		m.standbyUntil = now + standbyRscTO
		if !fromMe {
			a = append(a, logA(hblog.InfoPri, "standby: acquire ["+rtype.String()+"] resources from "+from))
			a = append(a, m.goStandby(sbOther, m.standbyType)...)
			m.going, m.acquiring = sbDone, true
		} else {
			ignored = true
		}
	} else if !fromMe || info != "other" {
		ignored = true
	}
	return a, ignored
}

// standbyFinish: the acquisition is done; record who holds what and
// leave the standby protocol.
func (m *Manager) standbyFinish(from, info string, fromMe bool, rtype Hold, now time.Duration) (a []Action, ignored bool) {
	m.standbyType = rtype
	if info == "done" {
		m.standbyUntil = 0
		m.going, m.acquiring = sbNot, false
		if fromMe {
			a = append(a, logA(hblog.InfoPri, "Standby resource acquisition done ["+rtype.String()+"]."))
			if m.auto {
				m.localDone = true
				a = append(a, m.announce("auto_failback")...)
			}
			rup := None
			switch rtype {
			case Local:
				rup = Foreign
			case Foreign:
				rup = Local
			case All:
				rup = All
			}
			m.mine |= rup
			if rup&Foreign != 0 {
				// The peer asked us to hold its groups: a failback
				// still pending from its earlier death or restart
				// would hand them straight back (with ipfail, to the
				// node that lost its uplink).
				m.needsFailback, m.failbackAt = false, 0
			}
		} else {
			a = append(a, logA(hblog.InfoPri, "Other node completed standby takeover of "+rtype.String()+" resources."))
		}
		a = append(a, m.sendHeld(true, "")...)
	} else {
		ignored = true
	}
	return a, ignored
}

// goStandby gives up (who == sbMe) or acquires (sbOther) a resource set.
func (m *Manager) goStandby(who standby, set Hold) []Action {
	var a []Action
	op, action := Take, "acquire"
	if who == sbMe {
		m.otherStable = false
		m.mine &^= set
		a = append(a, m.sendHeld(false, "standby")...)
		op, action = Give, "give up"
	}
	act := set
	if set == Foreign && who != sbMe {
		act = Local
	} else if set == Local && who != sbMe {
		act = Foreign
	}
	if set == None {
		return append(a, logA(hblog.Err, "no resources to "+action))
	}
	a = append(a, logA(hblog.InfoPri, action+" "+act.String()+" HA resources (standby)."))
	var steps []Step
	for _, k := range m.keys(act) {
		m.held[k] = op == Take
		if op == Take {
			// The peer's "done" says it released them: the claim of its
			// last status is void (resolving that stale double ownership
			// left them running nowhere: simulator seed 8182).
			delete(m.doubly, k)
		}
		steps = append(steps, Step{Op: op, Key: k})
	}
	verb := "acquisition"
	if op == Give {
		verb = "release"
	}
	epoch := m.standbyEpoch
	return append(a, m.enqueue("go_standby", steps, func(Result) []Action {
		done := logA(hblog.InfoPri, act.String()+" HA resource "+verb+" completed (standby).")
		if epoch != m.standbyEpoch {
			// The standby was cancelled while the job ran: its "done"
			// would complete a later request (simulator seed 229).
			return []Action{done}
		}
		return []Action{done, m.sendStandby(sbDone)}
	})...)
}

// abandonStandby cancels the standby operation with the peer alive: if
// we were going standby, a habox peer that answered "other" waits for our
// "done", which the cancelled operation never sends; tell it.
func (m *Manager) abandonStandby() []Action {
	var a []Action
	if m.going == sbMe && m.IsHabox(m.peer()) {
		a = append(a, sendCancel(m.standbyType))
	}
	m.cancelStandby()
	return a
}

// cancelStandby leaves the standby protocol before it finished (peer
// dead, timeout, healed partition); jobs of the cancelled operation no
// longer send "done".
func (m *Manager) cancelStandby() {
	m.going, m.standbyUntil, m.acquiring = sbNot, 0, false
	m.standbyEpoch++
}

// Shutdown starts (or schedules) the graceful shutdown of 5.6: give up
// every group, then send shutdone. The daemon exits on the Exit action.
func (m *Manager) Shutdown(now time.Duration) []Action {
	if !m.commUp {
		if !m.shutdownWanted {
			m.shutdownWanted = true
			return []Action{logA(hblog.InfoPri, "Shutdown delayed until Communication is up.")}
		}
		return nil
	}
	if !m.isStable() {
		if !m.shutdownWanted {
			m.shutdownWanted = true
			return []Action{logA(hblog.Warning, "Shutdown delayed until current resource activity finishes.")}
		}
		return nil
	}
	m.shutdownWanted = false
	if m.shutdownInProgress {
		return []Action{logA(hblog.InfoPri, "Heartbeat shutdown already underway.")}
	}
	m.shutdownInProgress = true
	m.mine = None
	m.state = rShutdown
	var a []Action
	a = append(a, m.sendHeld(false, "shutdown")...)
	a = append(a, logA(hblog.InfoPri, "Heartbeat shutdown in progress. ("+strconv.Itoa(m.cfg.Pid)+")"))
	a = append(a, logA(hblog.InfoPri, "Giving up all HA resources."))
	var steps []Step
	for _, g := range m.cfg.Groups {
		m.held[g.Key] = false
		steps = append(steps, Step{Op: Give, Key: g.Key})
	}
	return append(a, m.enqueue("hb_giveup_resources", steps, func(Result) []Action {
		return []Action{logA(hblog.InfoPri, "All HA resources relinquished."), sendA(NewMsg("shutdone", "st", "dead"))}
	})...)
}

// Restarting reports whether the shutdown in progress ends in a restart.
func (m *Manager) Restarting() bool { return m.restart }

func (m *Manager) shutdownIfNeeded(now time.Duration) []Action {
	if m.shutdownWanted && m.commUp && m.isStable() {
		return m.Shutdown(now)
	}
	return nil
}

// Tick runs the timers: the RSCRCVD deadlock breaker, standby timeouts,
// auto-failback retries and a pending shutdown.
func (m *Manager) Tick(now time.Duration) []Action {
	var a []Action
	if m.nice && m.state == rRscrcvd && m.rscrcvdAt != 0 && now >= m.rscrcvdAt {
		m.state = rStable
		a = append(a, logA(hblog.InfoPri, "local resource transition completed."))
		a = append(a, m.reqOurResources(false)...)
		a = append(a, m.sendHeld(true, "")...)
		a = append(a, m.audit()...)
	}
	a = append(a, m.legacyPeerCheck(now)...)
	a = append(a, m.repeatStarting(now)...)
	if m.answerPeer && m.state == rStable && m.peerActiveAt != 0 && now >= m.peerActiveAt+m.cfg.RscrcvdDelay {
		// The peer's answer to our "starting" was lost (a one-way cut):
		// it waits for our "resource isstable=1" for good otherwise
		// (simulator seed 11730). Sent after the deadlock breaker's delay.
		m.answerPeer = false
		a = append(a, m.sendHeld(true, "")...)
	}
	if m.standbyUntil != 0 && now >= m.standbyUntil {
		switch m.going {
		case sbMe:
			a = append(a, logA(hblog.Warning, "No reply to standby request.  Standby request cancelled."))
		case sbOther:
			a = append(a, logA(hblog.Warning, "Standby request of "+m.peer()+" not carried out.  Standby cancelled."))
		}
		a = append(a, m.abandonStandby()...)
		m.otherStable = true
	}
	if m.failbackAt != 0 && now >= m.failbackAt {
		a = append(a, m.performAutoFailback(now)...)
	}
	a = append(a, m.resolveDouble(now)...)
	return append(a, m.shutdownIfNeeded(now)...)
}

// legacyPeerCheck: in auto_failback on/off, a heartbeat 3.0.6 peer that
// is active but has not answered our "starting" within the deadlock
// breaker's delay runs auto_failback legacy (3.0.6 reads the guide's
// "nice_failback on" so). 3.0.6 would stay STARTING for ever and take
// nothing; habox becomes stable and asks the peer for its groups with
// ip-request, as legacy mode does: the peer hands them over (or says it
// does not hold them), and it asks for its own groups the same way. Such
// a pair therefore always fails back, whatever habox's own mode says.
func (m *Manager) legacyPeerCheck(now time.Duration) []Action {
	peer := m.peer()
	if peer == "" || m.view.NodeStatus(peer) != "active" {
		m.peerActiveAt = 0
		return nil
	}
	if m.peerActiveAt == 0 {
		m.peerActiveAt = max(now, 1) // its "starting" follows its first active status
	}
	if !m.nice || !m.commUp || m.state != rStarting || m.peerNice || m.legacyPeer || m.IsHabox(peer) ||
		now < max(m.startingAt, m.peerActiveAt)+m.cfg.RscrcvdDelay {
		return nil
	}
	m.legacyPeer = true
	m.state = rStable
	m.otherStable = true
	m.foreignDone = true
	a := []Action{logA(hblog.Warning, "Node "+peer+" does not answer the nice_failback protocol: it runs auto_failback legacy (heartbeat 3.0.6 reads 'nice_failback on' so). Resources always fail back in this pair; set 'auto_failback off' (or on) on both nodes.")}
	return append(a, m.reqOurResources(true)...)
}

// repeatStarting: a habox peer, active for the deadlock breaker's delay,
// has not answered our "starting" (lost, and its restart reset the
// sequence tracking that would have had it sent again): say it again
// (simulator seed 85396). 3.0.6 would stay STARTING for ever.
func (m *Manager) repeatStarting(now time.Duration) []Action {
	peer := m.peer()
	if !m.nice || !m.commUp || m.state != rStarting || !m.IsHabox(peer) || m.peerActiveAt == 0 ||
		now < max(m.startingAt, m.peerActiveAt)+m.cfg.RscrcvdDelay {
		return nil
	}
	m.startingAt = now
	return []Action{logA(hblog.InfoPri, "No answer from "+peer+" to our 'starting': sending it again."), sendA(NewMsg("starting"))}
}

// keeper is the node that keeps group g when it and peer both hold it:
// the node named on its haresources line, else the lower node name.
func (m *Manager) keeper(g conf.Group, peer string) string {
	if g.Node == m.cfg.Self || g.Node == peer {
		return g.Node
	}
	return min(m.cfg.Self, peer)
}

func (m *Manager) isDoubly(key string) bool { _, ok := m.doubly[key]; return ok }

// peer returns the other node of a two-node cluster ("" if none).
func (m *Manager) peer() string {
	for _, n := range m.cfg.Nodes {
		if n != m.cfg.Self {
			return n
		}
	}
	return ""
}

// resolveDouble ends a double ownership that outlasted the grace period
// (deadtime) while this node is stable, however it came about (frames of a
// previous run delivered late, a lost message). 3.0.6 only logs "Both
// machines own ..." and leaves both owners. With a habox peer (its claim
// is in the habox field of its statuses) the node that is not the keeper
// releases the group, so exactly one owner remains whichever side acts
// first. A 3.0.6 peer's claim is its rsc_hold (nice_failback modes only;
// legacy 3.0.6 does not announce holdings), and as 3.0.6 never gives a
// group up on its own, habox releases it.
func (m *Manager) resolveDouble(now time.Duration) []Action {
	for k := range m.doubly {
		if !m.held[k] {
			// Released meanwhile: a later claim needs a fresh status.
			delete(m.doubly, k)
		}
	}
	peer := m.peer()
	if peer == "" || m.shutdownInProgress || m.Busy() || m.view.NodeStatus(peer) == "dead" {
		return nil
	}
	a := m.cancelBrokenStandby(now)
	_, habox := m.habox[peer]
	if m.nice && !m.stableButPeer() { // legacy: stable when not busy
		return a
	}
	if !habox {
		// 3.0.6 peer: track its rsc_hold claims here (SetHabox does it for
		// habox peers).
		for _, g := range m.cfg.Groups {
			claims := m.nice && m.view.NodeStatus(peer) == "active" &&
				peerHas(g, peer, m.theirs)
			switch {
			case !m.held[g.Key] || !claims:
				delete(m.doubly, g.Key)
			case !m.isDoubly(g.Key):
				m.doubly[g.Key] = now
			}
		}
	}
	grace := m.cfg.Deadtime
	if !m.otherStable && !habox {
		grace = peerTransitionBound * m.cfg.Deadtime
	}
	var steps []Step
	for _, g := range m.cfg.Groups {
		since, ok := m.doubly[g.Key]
		if !ok || now-since < grace {
			continue
		}
		why := peer + " is heartbeat 3.0.6, which never releases it"
		if habox {
			if m.keeper(g, peer) == m.cfg.Self {
				continue // the peer releases it; SetHabox announces it again
			}
			why = peer + " is named for it in haresources"
			if g.Node != peer {
				why = peer + " is the lower node name"
			}
		}
		delete(m.doubly, g.Key)
		m.held[g.Key] = false
		if g.Node == m.cfg.Self {
			m.mine &^= Local
			m.theirs |= Foreign
		} else {
			m.mine &^= Foreign
			m.theirs |= Local
		}
		a = append(a, logA(hblog.Err, "Both machines own resource group "+g.Key+" (for "+(now-since).Round(time.Millisecond).String()+"): releasing it, "+peer+" keeps it ("+why+")."))
		steps = append(steps, Step{Op: Give, Key: g.Key, Note: "Double ownership with " + peer + ": releasing resource group " + g.Key})
	}
	if len(steps) == 0 {
		return a
	}
	m.heals++
	return append(a, m.enqueue("double", steps, func(Result) []Action {
		return m.sendHeld(true, "")
	})...)
}

// peerTransitionBound, in deadtimes, is how long a double ownership with a
// heartbeat 3.0.6 peer that has not reported its resource transition
// complete is left alone: its "resource isstable=1" was lost or, as for a
// stale "starting" of a node that was already stable (a serial line that
// delivered a restarted peer's frames late), will never come.
const peerTransitionBound = 4

// stableButPeer: this node is stable except that the peer has not
// reported its transition complete. A double ownership resolves then
// too: for a habox peer its statuses claim the group (in a transition
// the giver releases before the taker acquires, so a claim by both that
// lasts deadtime is no transition); a 3.0.6 peer gets peerTransitionBound.
func (m *Manager) stableButPeer() bool {
	return m.nice && !m.takeoverInProgress && m.going == sbNot && m.standbyUntil == 0 &&
		!m.Busy() && (m.state == rStable || m.state == rShutdown || m.state == rInit)
}

// cancelBrokenStandby ends a standby operation during which both nodes
// held a group for the grace period that this node is to release: in a
// working standby the giver releases before the taker acquires, so the
// operation broke (a message lost in a partition, a peer restarted) and
// would otherwise keep this node unstable, and the double ownership
// unresolved, for the hour of its guard (simulator seeds 1440, 5421, 7023,
// 7156). The grace counts from the start of the operation: a double
// ownership that predates it may be what the giver is releasing (its
// claim drops at its next status), and cancelling then dropped its
// "done", so its groups ran nowhere (seed 8182). A 3.0.6 peer's claim is
// its latest rsc_hold ("none" once it gives its groups up).
func (m *Manager) cancelBrokenStandby(now time.Duration) []Action {
	if m.going == sbNot && m.standbyUntil == 0 {
		return nil
	}
	peer := m.peer()
	_, habox := m.habox[peer]
	for _, g := range m.cfg.Groups {
		if habox && m.keeper(g, peer) == m.cfg.Self {
			continue // the peer releases it
		}
		if !habox && !peerHas(g, peer, m.theirs) {
			continue
		}
		if since, ok := m.doubly[g.Key]; ok && now-max(since, m.standbyAt) >= m.cfg.Deadtime {
			a := append([]Action{logA(hblog.Warning, "Cancelling pending standby operation: both nodes hold resource group "+g.Key+".")}, m.abandonStandby()...)
			m.otherStable = true
			return a
		}
	}
	return nil
}

// PartitionHealed is called when a peer considered dead turns out to be
// alive with the same generation (spec 5.8). With a 3.0.6 peer habox does what
// 3.0.6 does: give up everything and restart (the Restart action). With a
// habox peer both sides resolve in one step without restart. For each
// group the keeper is the node named on its haresources line (if neither
// side is named, the lower node name); the other node releases the group
// only when the keeper holds it (its status just said so in its habox
// field), the keeper takes a group that neither holds and announces the
// addresses of the groups it keeps again (Refresh). Both sides apply the
// same rule, so exactly one owner remains.
func (m *Manager) PartitionHealed(peer string, now time.Duration) []Action {
	peerHold, ok := m.habox[peer]
	if !ok {
		m.restart = true
		return []Action{{Kind: Restart}}
	}
	if m.shutdownInProgress {
		return nil
	}
	var steps []Step
	for _, g := range m.cfg.Groups {
		keeper := m.keeper(g, peer)
		switch {
		case keeper != m.cfg.Self && m.held[g.Key] && peerHas(g, peer, peerHold):
			m.held[g.Key] = false
			steps = append(steps, Step{Op: Give, Key: g.Key, Note: "Partition with " + peer + " healed: releasing resource group " + g.Key})
		case keeper == m.cfg.Self && !m.held[g.Key] && !peerHas(g, peer, peerHold):
			m.held[g.Key] = true
			steps = append(steps, Step{Op: Take, Key: g.Key, Note: "Partition with " + peer + " healed: taking resource group " + g.Key})
		case keeper == m.cfg.Self && m.held[g.Key]:
			// The peer may have announced the address during the
			// partition (even if it released it already): announce it
			// again so the LAN's ARP caches point here. SetHabox does it
			// once more if the peer still claims it and releases later.
			steps = append(steps, Step{Op: Refresh, Key: g.Key, Note: "Partition with " + peer + " healed: keeping resource group " + g.Key})
		}
	}
	a := []Action{logA(hblog.InfoPri, "Healed partition with habox node "+peer+": the node named in haresources keeps each group.")}
	m.heals++
	if m.nice {
		m.mine = m.heldHold()
		m.theirs = None
		for _, g := range m.cfg.Groups {
			if !m.held[g.Key] {
				if g.Node == m.cfg.Self {
					m.theirs |= Foreign
				} else {
					m.theirs |= Local
				}
			}
		}
		m.otherStable = true
		m.takeoverInProgress = false
		if m.state != rShutdown {
			m.state = rStable
		}
		if m.going != sbOther && !m.acquiring {
			// sbOther: the peer asked us to take its groups (hb_standby)
			// and releases them: its "done" is still to come. acquiring:
			// it released them and waits for ours, which the acquisition
			// sends when it ends.
			a = append(a, m.abandonStandby()...)
		}
		if m.owesCancel {
			// We cancelled our standby at its death, silently (simulator
			// seed 28753: it waited for our "done" for an hour).
			m.owesCancel = false
			a = append(a, sendCancel(m.standbyType))
		}
	}
	if len(steps) == 0 {
		return append(a, m.sendHeld(true, "")...)
	}
	return append(a, m.enqueue("partition", steps, func(Result) []Action {
		return m.sendHeld(true, "")
	})...)
}
