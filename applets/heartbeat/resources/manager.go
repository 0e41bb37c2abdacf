package resources

import (
	"habox/applets/internal/hblog"
	"strconv"
	"time"

	"habox/conf"
)

// Config is what the Manager needs of the configuration.
type Config struct {
	Self     string
	Nodes    []string
	Groups   []conf.Group
	Mode     conf.AutoFailback
	Deadtime time.Duration
	Pid      int
	// Restarted is set after a re-execution that kept the resources
	// (3.0.6's -R with -C Held): the node starts holding Held and does not
	// request resources at comm-up.
	Restarted bool
	Held      Hold
	// RscrcvdDelay is the nice_failback deadlock breaker (3.0.6: a fixed
	// 10 s). Zero means: min(10 s, Deadtime), so fast ms timings are not
	// stuck for 10 s while slow second timings behave exactly as 3.0.6.
	RscrcvdDelay time.Duration
}

type rstate int

const (
	rInit rstate = iota
	rStarting
	rBothStarting
	rRscrcvd
	rStable
	rShutdown
)

type standby int

const (
	sbNot standby = iota
	sbMe
	sbOther
	sbDone
)

var standbyInfo = [4]string{"not", "me", "other", "done"}

const (
	standbyInitTO = 10 * time.Second
	standbyRscTO  = time.Hour
)

type queued struct {
	job  *Job
	done func(r Result) []Action
}

// Manager is the resource state machine of one node. Its methods take the
// current monotonic time and return the actions to perform, in order.
type Manager struct {
	cfg  Config
	view View
	nice bool
	auto bool

	held map[string]bool // groups we hold or are about to hold (intent)

	mine, theirs Hold
	otherStable  bool
	state        rstate
	rscrcvdAt    time.Duration // deadline, 0 = unset
	startingAt   time.Duration // when STARTING began (comm-up)
	// peerNice: the peer spoke the nice_failback protocol (starting or
	// resource); legacyPeer: it did not answer ours (a 3.0.6 peer in
	// auto_failback legacy, e.g. the guide's "nice_failback on"), so our
	// groups are requested with ip-request as in legacy mode.
	peerNice, legacyPeer bool
	peerActiveAt         time.Duration // when the peer was first seen active (0: not active)

	going        standby
	acquiring    bool          // going is sbDone because we take the peer's groups (its "done" came)
	standbyUntil time.Duration // 0 = none
	standbyType  Hold
	standbyEpoch int           // counts cancelled standby operations
	standbyAt    time.Duration // when the standby operation in progress began
	// owesCancel: our standby was cancelled when the habox peer was
	// declared dead while it waited (or may have waited) for our "done"
	// (we were giving, waiting for its release, whose "done" may have
	// been lost, or acquiring its groups); if it comes back without a restart (a healed
	// partition) it still waits and gets a "cancel".
	owesCancel bool
	// peerSb: the peer's newest standby message applied; an older
	// "cancel" (reordered) does not cancel what it began.
	peerSb seqMark

	// answerPeer: we sent "starting" but were stable at once (alone at
	// comm-up): the peer's first "resource" gets our full holding with
	// isstable=1, which 3.0.6 would send on leaving STARTING.
	answerPeer bool

	takeoverInProgress bool
	needsFailback      bool
	failbackHeld       bool          // SetFailbackHold: the peer sees fewer ping nodes
	failbackAt         time.Duration // retry time, 0 = none
	localDone          bool
	foreignDone        bool
	announced          bool
	requestedYet       bool

	hasResources map[string]bool // legacy: false after shutdone
	habox        map[string]Hold // peers known to run habox -> their holding
	// rscSeen: per peer, the generation and sequence number of the
	// newest "starting" or "resource" message applied (staleRsc).
	rscSeen map[string]seqMark
	// doubly: groups held here and claimed by the peer, with the time the
	// double ownership was first seen (resolveDouble acts after a grace).
	doubly map[string]time.Duration
	// heals counts healed-partition resolutions: a takeover started
	// before one must not claim the peer's groups when its job ends.
	heals int

	queue   []*queued
	running *queued
	nextID  int

	commUp             bool
	shutdownWanted     bool // waiting for comm-up or stability
	shutdownInProgress bool
	restart            bool
}

// New returns a Manager in state INIT holding nothing.
func New(cfg Config, view View) *Manager {
	if cfg.RscrcvdDelay == 0 {
		cfg.RscrcvdDelay = 10 * time.Second
		if cfg.Deadtime > 0 && cfg.Deadtime < cfg.RscrcvdDelay {
			cfg.RscrcvdDelay = cfg.Deadtime
		}
	}
	m := &Manager{cfg: cfg, view: view, held: map[string]bool{},
		hasResources: map[string]bool{}, habox: map[string]Hold{}, doubly: map[string]time.Duration{}, rscSeen: map[string]seqMark{}}
	m.nice = cfg.Mode != conf.FailbackLegacy
	m.auto = cfg.Mode == conf.FailbackOn
	m.otherStable = false
	for _, n := range cfg.Nodes {
		m.hasResources[n] = true
	}
	if cfg.Restarted {
		m.requestedYet = true
		for _, k := range m.keys(cfg.Held) {
			m.held[k] = true
		}
		m.mine = cfg.Held
	}
	return m
}

// SetHabox records what a peer's status said in its habox field: "" for
// a heartbeat 3.0.6 peer, else the peer's holding (none, local, foreign,
// all, from the peer's point of view). When a group we hold was also
// claimed by the peer (a partition, a late heartbeat, stale frames) and the
// peer now released it, the returned actions announce its addresses again
// so the LAN's ARP caches point here.
func (m *Manager) SetHabox(peer, field string, now time.Duration) []Action {
	if field == "" {
		delete(m.habox, peer)
		return nil
	}
	h, ok := ParseHold(field)
	if !ok {
		h = All // an older habox: assume it holds everything
	}
	m.habox[peer] = h
	var steps []Step
	for _, g := range m.cfg.Groups {
		switch {
		case !m.held[g.Key] || m.shutdownInProgress:
			delete(m.doubly, g.Key)
		case peerHas(g, peer, h):
			if _, ok := m.doubly[g.Key]; !ok {
				m.doubly[g.Key] = now
			}
		case m.isDoubly(g.Key):
			delete(m.doubly, g.Key)
			steps = append(steps, Step{Op: Refresh, Key: g.Key, Note: peer + " released resource group " + g.Key + " that both nodes held"})
		}
	}
	if len(steps) == 0 {
		return nil
	}
	return m.enqueue("refresh", steps, nil)
}

// peerHas: does holding h of node peer include group g (two-node view)?
func peerHas(g conf.Group, peer string, h Hold) bool {
	if g.Node == peer {
		return h&Local != 0
	}
	return h&Foreign != 0
}

// IsHabox reports whether peer's statuses say it runs habox.
func (m *Manager) IsHabox(peer string) bool { _, ok := m.habox[peer]; return ok }

// Held returns the keys of the groups this node holds or is acquiring,
// in haresources order.
func (m *Manager) Held() []string {
	var k []string
	for _, g := range m.cfg.Groups {
		if m.held[g.Key] {
			k = append(k, g.Key)
		}
	}
	return k
}

// Busy reports whether resource work runs or is queued.
func (m *Manager) Busy() bool { return m.running != nil || len(m.queue) > 0 }

// ShuttingDown reports whether a graceful shutdown started or is pending.
func (m *Manager) ShuttingDown() bool { return m.shutdownInProgress || m.shutdownWanted }

// Holding returns what this node holds (for a restart that keeps the
// resources): its own holding in nice_failback modes, else derived from
// the groups held.
func (m *Manager) Holding() Hold {
	if m.nice {
		return m.mine
	}
	return m.heldHold()
}

// Claim is what this node tells a habox peer it holds (the habox field of
// its statuses): the groups it holds or is acquiring, whatever its
// nice_failback holding says, so that a double ownership is seen however
// it came about (a self-addressed ip-request-resp still in flight when a
// healed partition reset the holding took a group the holding lacked).
func (m *Manager) Claim() Hold { return m.heldHold() }

// RscStatus is cl_status rscstatus: none, local, foreign, all, or
// transition while resource work runs. In nice_failback modes it is
// 3.0.6's own holding; in legacy mode (where 3.0.6 always says "none") it
// is derived from the groups actually held, which is more useful.
func (m *Manager) RscStatus() string {
	if !m.isStable() {
		return "transition"
	}
	if m.nice {
		return m.mine.String()
	}
	return m.heldHold().String()
}

func (m *Manager) heldHold() Hold {
	h := None
	for _, g := range m.cfg.Groups {
		if m.held[g.Key] {
			if g.Node == m.cfg.Self {
				h |= Local
			} else {
				h |= Foreign
			}
		}
	}
	return h
}

func logA(l hblog.Priority, text string) Action { return Action{Kind: Log, Level: l, Text: text} }
func sendA(msg Msg) Action                      { return Action{Kind: Send, Msg: msg} }

func (m *Manager) isStable() bool {
	if !m.nice {
		return !m.Busy()
	}
	if m.shutdownInProgress && m.state == rInit {
		return true
	}
	return m.otherStable && m.stableButPeer()
}

// keys returns the group keys of the set h from this node's point of view.
func (m *Manager) keys(h Hold) []string {
	var k []string
	for _, g := range m.cfg.Groups {
		local := g.Node == m.cfg.Self
		if (local && h&Local != 0) || (!local && h&Foreign != 0) {
			k = append(k, g.Key)
		}
	}
	return k
}

func (m *Manager) keysOf(node string) []string {
	var k []string
	for _, g := range m.cfg.Groups {
		if g.Node == node {
			k = append(k, g.Key)
		}
	}
	return k
}

func (m *Manager) group(key string) *conf.Group {
	for i := range m.cfg.Groups {
		if m.cfg.Groups[i].Key == key {
			return &m.cfg.Groups[i]
		}
	}
	return nil
}

// enqueue adds a job; it starts at once when nothing runs.
func (m *Manager) enqueue(name string, steps []Step, done func(Result) []Action) []Action {
	m.nextID++
	q := &queued{job: &Job{ID: m.nextID, Name: name, Steps: steps}, done: done}
	m.queue = append(m.queue, q)
	return m.startNext()
}

func (m *Manager) startNext() []Action {
	if m.running != nil || len(m.queue) == 0 {
		return nil
	}
	m.running = m.queue[0]
	m.queue = m.queue[1:]
	return []Action{{Kind: Run, Job: m.running.job}}
}

// VerifyIdle queues the release of every group still running after the
// process before us ended without releasing (killed or crashed): an Idle
// step per group, as the first job, so any takeover runs after it.
func (m *Manager) VerifyIdle() []Action {
	var steps []Step
	for _, g := range m.cfg.Groups {
		steps = append(steps, Step{Op: Idle, Key: g.Key})
	}
	return m.enqueue("idle", steps, nil)
}

// JobDone records the result of the running job and starts the next one.
func (m *Manager) JobDone(r Result, now time.Duration) []Action {
	if m.running == nil || m.running.job.ID != r.ID {
		return nil
	}
	q := m.running
	m.running = nil
	for _, k := range r.Failed {
		for _, s := range q.job.Steps {
			if s.Key == k && s.Op == Take && !m.queued(k) {
				m.held[k] = false // the runner stopped the whole group
			}
		}
	}
	var a []Action
	if q.done != nil {
		a = append(a, q.done(r)...)
	}
	a = append(a, m.startNext()...)
	return append(a, m.shutdownIfNeeded(now)...)
}

// queued reports whether a job still queued takes or gives group k: its
// intent, set when it was queued, stands whatever an earlier job did
// (simulator seed 23890: a failed take cleared the intent of the take
// queued behind it, which then ran the group unclaimed).
func (m *Manager) queued(k string) bool {
	for _, q := range m.queue {
		for _, s := range q.job.Steps {
			if s.Key == k && (s.Op == Take || s.Op == Give) {
				return true
			}
		}
	}
	return false
}

func (m *Manager) announce(reason string) []Action {
	if m.announced || !m.localDone || !m.foreignDone {
		return nil
	}
	m.announced = true
	return []Action{logA(hblog.InfoPri, "Initial resource acquisition complete ("+reason+")")}
}

func (m *Manager) sendHeld(stable bool, comment string) []Action {
	if !m.nice {
		return nil
	}
	s := "0"
	if stable {
		s = "1"
	}
	msg := NewMsg("resource", "rsc_hold", m.mine.String(), "rtype", "full", "isstable", s)
	if comment != "" {
		msg = append(msg, Field{"info", comment})
	}
	return []Action{sendA(msg)}
}

// CommUp is called once when communications come up (before the node
// goes active).
func (m *Manager) CommUp(now time.Duration) []Action {
	m.commUp = true
	var a []Action
	dead := 0
	for _, n := range m.cfg.Nodes {
		if n != m.cfg.Self && m.view.NodeStatus(n) == "dead" {
			dead++
		}
	}
	if dead == 0 {
		m.foreignDone = true
	}
	if m.nice {
		a = append(a, sendA(NewMsg("starting")))
		m.state = rStarting
		m.startingAt = now
		if m.cfg.Restarted {
			// 3.0.6: "if (first_time && WeAreRestarting) state = STABLE".
			m.state = rStable
			m.localDone, m.foreignDone = true, true
		}
		if m.peer() == "" && !m.cfg.Restarted {
			// ha.cf names only this node (its peer is not installed
			// yet): nobody to negotiate with, nobody will be declared
			// dead. 3.0.6 would stay STARTING for ever; habox takes its
			// groups at once.
			m.state = rStable
			m.otherStable = true
			a = append(a, m.reqOurResources(false)...)
		}
		if m.nobodyElse() && m.otherStable {
			// Alone: the peers' groups were taken when they were declared
			// dead. 3.0.6 would stay STARTING until a peer shows up;
			// habox is stable at once (rscstatus, standby and shutdown
			// work while alone). The peer that shows up answers our
			// "starting" and waits, as from a starting 3.0.6, for our
			// "resource isstable=1": answerPeer sends it.
			m.state = rStable
			m.answerPeer = true
		}
	} else if !m.requestedYet {
		m.requestedYet = true
		a = append(a, m.reqOurResources(false)...)
	}
	if m.shutdownWanted {
		a = append(a, m.Shutdown(now)...)
	}
	return a
}

const rmCmd = "/usr/share/heartbeat/ResourceManager listkeys "

// reqOurResources is 3.0.6's req_our_resources plus req_resource for each
// local key.
func (m *Manager) reqOurResources(anyway bool) []Action {
	if m.shutdownInProgress {
		return nil
	}
	if m.nice {
		if (m.theirs&Foreign != 0 || m.mine&Local != 0) && !anyway && m.going == sbNot {
			return []Action{logA(hblog.InfoPri, "Local Resource acquisition completed. (none)")}
		}
		m.mine |= Local
	}
	up := m.view.CountActive()
	if m.view.NodeStatus(m.cfg.Self) != "active" {
		up++
	}
	alone := up < 2
	var a []Action
	keys := m.keysOf(m.cfg.Self)
	for _, k := range keys {
		if m.held[k] {
			continue
		}
		if (m.nice && !m.legacyPeer) || alone {
			a = append(a, sendA(NewMsg("ip-request-resp", "dest", m.cfg.Self, "ipaddr", k, "weown", "yes", "ok", "OK")))
		} else {
			a = append(a, sendA(NewMsg("ip-request", "ipaddr", k)))
		}
	}
	if len(keys) == 0 {
		a = append(a, logA(hblog.InfoPri, "No local resources ["+rmCmd+m.cfg.Self+"] to acquire."))
	} else {
		a = append(a, logA(hblog.InfoPri, "Local Resource acquisition completed."))
	}
	a = append(a, m.sendHeld(true, "req_our_resources()")...)
	m.localDone = true
	return append(a, m.announce("req_our_resources")...)
}

// Message handles a cluster message of a resource-related type from node
// from (the local node included: the daemon loops its own messages back).
func (m *Manager) Message(from string, msg Msg, now time.Duration) []Action {
	t := msg.Get("t")
	self := from == m.cfg.Self
	var a []Action
	switch t {
	case "shutdone":
		if m.commUp {
			a = append(a, m.processResources(t, from, msg, now)...)
		}
		if self {
			a = append(a, Action{Kind: Exit, Restart: m.restart, Delay: m.restartDelay()})
			return a
		}
		m.hasResources[from] = false
		m.otherStable = false
		m.theirs = None
		a = append(a, logA(hblog.InfoPri, "Received shutdown notice from '"+from+"'."))
		return append(a, m.takeoverFromNode(from, now)...)
	}
	if !m.commUp && !self {
		// 3.0.6 installs these handlers at comm-up. Our own messages
		// (self-addressed ip-request-resp of a takeover during initdead)
		// are handled at once: 3.0.6 sees them only after comm-up because
		// they travel through its FIFO.
		return nil
	}
	switch t {
	case "starting", "resource":
		if !self && m.staleRsc(from, msg) {
			return []Action{logA(hblog.DebugPri, "Ignored "+t+" message "+msg.Get("seq")+" from "+from+": older than one applied")}
		}
		a = append(a, m.processResources(t, from, msg, now)...)
	case "ask_resources":
		a = append(a, m.askForResources(from, msg, now)...)
	case "ip-request":
		if !self {
			a = append(a, m.ipRequest(from, msg.Get("ipaddr"))...)
		}
	case "ip-request-resp":
		if msg.Get("dest") == m.cfg.Self {
			a = append(a, m.ipRequestResp(msg)...)
		}
	case "hb_takeover":
		if !self {
			kind := "all"
			switch msg.Get("rsc_hold") {
			case "local":
				kind = "foreign"
			case "foreign":
				kind = "local"
			}
			sa, _ := m.Standby(kind, now)
			a = append(a, sa...)
		}
	}
	return append(a, m.shutdownIfNeeded(now)...)
}

func (m *Manager) restartDelay() time.Duration {
	if !m.restart {
		return 0
	}
	return m.cfg.Deadtime + time.Second
}

// ipRequest is rc.d/ip-request on the node asked to give a group up.
func (m *Manager) ipRequest(from, key string) []Action {
	if key == "" || m.group(key) == nil {
		return nil
	}
	resp := func(weown string) Action {
		return sendA(NewMsg("ip-request-resp", "dest", from, "ipaddr", key, "weown", weown, "ok", "OK"))
	}
	if !m.held[key] {
		return []Action{resp("no")}
	}
	m.held[key] = false
	return m.enqueue("ip-request", []Step{{Op: Give, Key: key}}, func(Result) []Action {
		return []Action{resp("yes")}
	})
}

// ipRequestResp is rc.d/ip-request-resp on the requester: take the group.
func (m *Manager) ipRequestResp(msg Msg) []Action {
	key := msg.Get("ipaddr")
	if key == "" || m.group(key) == nil || m.shutdownInProgress {
		return nil
	}
	a := []Action{logA(hblog.InfoPri, "received ip-request-resp "+key+" "+msg.Get("ok")+" "+msg.Get("weown"))}
	m.held[key] = true
	return append(a, m.enqueue("ip-request-resp", []Step{{Op: Take, Key: key}}, func(Result) []Action {
		m.localDone = true
		return m.announce("ip-request-resp")
	})...)
}

func updHold(full bool, cur, up Hold) Hold {
	if full || up == None {
		return up
	}
	return up | cur
}

// seqMark is a message's place in its sender's sequence space.
type seqMark struct {
	gen string
	seq uint64
}

// msgMark returns msg's seqMark (false without sequence fields).
func msgMark(msg Msg) (seqMark, bool) {
	seq, err := strconv.ParseUint(msg.Get("seq"), 16, 64)
	gen := msg.Get("hg")
	return seqMark{gen, seq}, err == nil && gen != ""
}

// staleRsc reports whether msg, the peer's "starting" or "resource", is
// older than one already applied that set the peer's state ("starting",
// or a "resource" with isstable: its full holding and stability).
// Messages are delivered as they arrive (a gap is requested again and
// filled later, as 3.0.6 does), so an older "isstable=0" or "starting"
// could otherwise undo the newer state and leave the peer in transition
// for good (simulator ping node seed 1059). A newer additive message
// (mach_down's rsc_hold=foreign) sets no state: an older full one still
// applies (dropped, the peer's isstable=1 was lost for good: seed 29353).
// A message without sequence fields, or of a new generation, is never
// stale.
func (m *Manager) staleRsc(from string, msg Msg) bool {
	mark, ok := msgMark(msg)
	if !ok {
		return false
	}
	if last, ok := m.rscSeen[from]; ok && last.gen == mark.gen && mark.seq < last.seq {
		return true
	}
	if msg.Get("t") == "resource" && !msg.Has("isstable") {
		return false
	}
	for _, n := range m.cfg.Nodes { // bounded: configured nodes only
		if n == from {
			m.rscSeen[from] = mark
		}
	}
	return false
}

// processResources is 3.0.6's process_resources for the nice_failback
// protocol messages (starting, resource, shutdone): it moves the resource
// state machine, then audits who holds what.
func (m *Manager) processResources(t, from string, msg Msg, now time.Duration) []Action {
	if !m.nice {
		return nil
	}
	self := from == m.cfg.Self
	newState := m.state
	var a []Action
	if !self && (t == "starting" || t == "resource") {
		m.peerNice = true
	}
	switch t {
	case "starting":
		if !self {
			var ok bool
			if a, newState, ok = m.onStarting(); !ok {
				return a
			}
		}
	case "resource":
		var stop bool
		if a, newState, stop = m.onResource(self, msg, now); stop {
			return a
		}
	case "shutdone":
		if !self {
			// 3.0.6 starts a standby-style acquisition here (going_standby
			// DONE), which keeps the audit below quiet; habox takes over
			// through takeoverFromNode only, so it skips the audit.
			m.otherStable = true
			m.theirs = None
			return a
		}
		newState = rShutdown
		m.mine = None
	}
	m.state = newState
	if m.state == rRscrcvd && m.rscrcvdAt == 0 {
		m.rscrcvdAt = now + m.cfg.RscrcvdDelay
		if m.rscrcvdAt == 0 {
			m.rscrcvdAt = 1
		}
	}
	a = append(a, m.audit()...)
	return a
}

// onStarting handles the peer's "starting": both nodes starting at once,
// or a peer restarting while we run. ok is false for a message that does
// not fit the state (only an error is logged then).
func (m *Manager) onStarting() (a []Action, newState rstate, ok bool) {
	newState = m.state
	switch m.state {
	case rRscrcvd, rStable, rShutdown:
	case rStarting:
		newState = rBothStarting
		m.foreignDone = true
		a = append(a, m.announce("HB_R_BOTHSTARTING")...)
	default:
		return []Action{logA(hblog.Err, "Received 'starting' message in state "+strconv.Itoa(int(m.state)))}, newState, false
	}
	m.otherStable = false
	if m.takeoverInProgress {
		a = append(a, logA(hblog.Warning, "T_STARTING received during takeover."))
	}
	a = append(a, m.sendHeld(m.state == rStable, "")...)
	return a, newState, true
}

// onResource handles a "resource" message (rsc_hold: what its sender
// holds), the peer's or our own looped back. stop is set for a message
// that is dropped with an error, without the audit.
func (m *Manager) onResource(self bool, msg Msg, now time.Duration) (a []Action, newState rstate, stop bool) {
	newState = m.state
	n, ok := ParseHold(msg.Get("rsc_hold"))
	if !msg.Has("rsc_hold") {
		return []Action{logA(hblog.Err, "resource message without rsc_hold field.")}, newState, true
	}
	if !ok {
		a = append(a, logA(hblog.Err, "encode_resources: bad resource type ["+hblog.Quote(msg.Get("rsc_hold"))+"]"))
	}
	full := msg.Get("rtype") == "full"
	switch m.state {
	case rBothStarting, rStarting:
		newState = rRscrcvd
		if !m.auto {
			m.foreignDone = true
			a = append(a, m.announce("T_RESOURCES")...)
		}
	case rRscrcvd, rStable, rShutdown:
	default:
		if !self {
			return append(a, logA(hblog.Err, "resource message received in state "+strconv.Itoa(int(m.state)))), newState, true
		}
		// Our own (mach_down after a takeover during initdead): 3.0.6
		// sees it only after comm-up because it travels through the
		// FIFO; habox records it whenever it comes.
	}
	if !self {
		return m.theirResource(a, full, n, msg, newState, now)
	}
	return m.ownResource(a, full, n, msg, newState)
}

// theirResource records what the peer holds and, once the peer reports its
// transition complete, takes our own resources and becomes stable.
func (m *Manager) theirResource(a []Action, full bool, n Hold, msg Msg, newState rstate, now time.Duration) ([]Action, rstate, bool) {
	m.theirs = updHold(full, m.theirs, n)
	if m.answerPeer && m.state == rStable {
		m.answerPeer = false
		a = append(a, m.sendHeld(true, "")...)
	}
	if m.going == sbOther && msg.Get("info") == "standby" {
		m.standbyUntil = now + standbyRscTO // its release has begun
	}
	if msg.Has("isstable") {
		if msg.Get("isstable") == "1" {
			if !m.otherStable {
				a = append(a, logA(hblog.InfoPri, "remote resource transition completed."))
				m.otherStable = true
				a = append(a, m.sendHeld(m.state == rStable, "")...)
				a = append(a, m.performAutoFailback(now)...)
			}
		} else {
			m.otherStable = false
		}
	}
	if m.state != rStable && m.state != rShutdown && m.otherStable {
		a = append(a, logA(hblog.InfoPri, "remote resource transition completed."))
		m.state = newState
		a = append(a, m.reqOurResources(false)...)
		newState = rStable
		m.state = rStable
		a = append(a, m.sendHeld(true, "")...)
		a = append(a, m.performAutoFailback(now)...)
		m.foreignDone = true
		if !m.auto && m.theirs&Foreign != 0 {
			m.localDone = true
		}
		a = append(a, m.announce("T_RESOURCES(them)")...)
	}
	return a, newState, false
}

// ownResource applies our own "resource" message looped back.
func (m *Manager) ownResource(a []Action, full bool, n Hold, msg Msg, newState rstate) ([]Action, rstate, bool) {
	// Our own message loops back after we may have changed mine
	// again: a full update only repeats what we set when sending
	// it (3.0.6 re-applies it, "probably unnecessary", and can
	// briefly log "No one owns our local resources!"); the
	// additive mach_down message is applied.
	if !full {
		m.mine = updHold(false, m.mine, n)
	}
	if m.mine&Local != 0 {
		m.localDone = true
		a = append(a, m.announce("T_RESOURCES(us)")...)
	}
	switch msg.Get("info") {
	case "mach_down":
		a = append(a, logA(hblog.InfoPri, "mach_down takeover complete."))
		m.takeoverInProgress = false
		m.mine |= Foreign
		m.needsFailback = true
		m.otherStable = true
		m.foreignDone = true
		a = append(a, m.announce("mach_down")...)
	case "shutdown":
		newState = rShutdown
	}
	return a, newState, false
}

func (m *Manager) audit() []Action {
	if !m.nice {
		return nil
	}
	var a []Action
	if m.mine&Local != 0 && m.theirs&Foreign != 0 {
		a = append(a, logA(hblog.Err, "Both machines own our resources!"))
	}
	if m.theirs&Local != 0 && m.mine&Foreign != 0 {
		a = append(a, logA(hblog.Err, "Both machines own foreign resources!"))
	}
	if m.isStable() && !m.shutdownInProgress && m.state != rShutdown {
		if m.mine&Local == 0 && m.theirs&Foreign == 0 && len(m.keysOf(m.cfg.Self)) > 0 {
			a = append(a, logA(hblog.Err, "No one owns our local resources!"))
		}
		if m.theirs&Local == 0 && m.mine&Foreign == 0 && len(m.keys(Foreign)) > 0 {
			a = append(a, logA(hblog.Err, "No one owns foreign resources!"))
		}
	}
	return a
}

func (m *Manager) performAutoFailback(now time.Duration) []Action {
	m.failbackAt = 0
	if m.shutdownInProgress || m.mine&Foreign == 0 || !m.needsFailback || !m.auto {
		m.needsFailback = false
		return nil
	}
	if m.going != sbNot || !m.otherStable || m.state != rStable {
		m.failbackAt = now + time.Second
		return []Action{logA(hblog.DebugPri, "Auto failback delayed.")}
	}
	if m.failbackHeld {
		m.failbackAt = now + time.Second
		return []Action{logA(hblog.DebugPri, "Auto failback delayed: the other node sees fewer ping nodes.")}
	}
	m.standbyType = Foreign
	m.needsFailback = false
	return []Action{sendA(NewMsg("ask_resources", "rsc_hold", Foreign.String(), "info", "me"))}
}

// SetFailbackHold holds automatic failbacks while on (ipfail's policy:
// the peer sees fewer ping nodes, so it would give the groups straight
// back; 3.0.6 hands them over and ipfail moves them back). A held
// failback is retried every second and runs once the hold is off.
func (m *Manager) SetFailbackHold(on bool) { m.failbackHeld = on }

// NodeDead is called when membership declared a peer dead; heard tells
// whether packets had arrived from it since start or its previous death
// (3.0.6's anypacketsyet).
func (m *Manager) NodeDead(node string, heard bool, now time.Duration) []Action {
	if node == m.cfg.Self {
		return nil
	}
	clear(m.doubly) // its claims died with it
	var a []Action
	if m.going != sbNot {
		a = append(a, logA(hblog.InfoPri, "Cancelling pending standby operation"))
		m.owesCancel = (m.going == sbMe || m.going == sbOther || m.acquiring) && m.IsHabox(node)
		m.cancelStandby()
		if !m.otherStable && m.mine == All {
			m.otherStable = true
		}
	}
	if m.shutdownInProgress {
		return a
	}
	defer func() {
		// Our peer died while we were still negotiating: nothing more will
		// come from it, and its groups are being taken. 3.0.6 would stay
		// in STARTING/RSCRCVD (rscstatus "transition", shutdown delayed)
		// until the 10 s breaker or forever; habox is stable when no peer
		// is left.
		if m.nice && m.state >= rStarting && m.state <= rRscrcvd && m.nobodyElse() {
			m.state = rStable
		}
	}()
	m.needsFailback = true
	need := true
	if heard {
		if m.nice {
			need = m.theirs != None
		} else {
			need = m.hasResources[node]
		}
	}
	if need {
		a = append(a, sendA(NewMsg("stonith", "node", node, "result", "n_stnth")))
		a = append(a, logA(hblog.Warning, "No STONITH device configured."), logA(hblog.Warning, "Shared disks are not protected."))
		return append(a, m.takeoverFromNode(node, now)...)
	}
	a = append(a, logA(hblog.InfoPri, "Dead node "+node+" gave up resources."))
	a = append(a, sendA(NewMsg("stonith", "node", node, "result", "unneeded")))
	if m.nice {
		if m.mine == All {
			m.otherStable = true
			return a
		}
		if m.mine&Local == 0 {
			a = append(a, m.reqOurResources(true)...)
		}
		if m.mine&Foreign == 0 {
			a = append(a, m.takeoverFromNode(node, now)...)
		}
		return a
	}
	return append(a, m.takeoverFromNode(node, now)...)
}

// nobodyElse reports whether every other node is dead.
func (m *Manager) nobodyElse() bool {
	for _, n := range m.cfg.Nodes {
		if n != m.cfg.Self && m.view.NodeStatus(n) != "dead" {
			return false
		}
	}
	return true
}

// takeoverFromNode is 3.0.6's takeover_from_node plus mach_down.
func (m *Manager) takeoverFromNode(node string, now time.Duration) []Action {
	if m.shutdownInProgress {
		return []Action{logA(hblog.InfoPri, "Resource takeover cancelled - shutdown in progress.")}
	}
	a := []Action{logA(hblog.InfoPri, "Resources being acquired from "+node+".")}
	var steps []Step
	for _, k := range m.keysOf(node) {
		m.held[k] = true
		steps = append(steps, Step{Op: Take, Key: k, Note: "Taking over resource group " + k})
	}
	if m.nice {
		m.mine |= Foreign
		m.theirs = None
		m.otherStable = true
		m.takeoverInProgress = true
	}
	heals := m.heals
	a = append(a, m.enqueue("mach_down", steps, func(Result) []Action {
		var d []Action
		if m.nice && heals != m.heals {
			// The peer was alive (a late heartbeat, a healed partition)
			// and PartitionHealed settled who holds what meanwhile:
			// claiming its groups now would contradict that.
			return append(d, logA(hblog.InfoPri, "mach_down takeover for node "+node+" superseded by the healed partition."))
		}
		if m.nice {
			d = append(d, sendA(NewMsg("resource", "rsc_hold", "foreign", "info", "mach_down")))
		}
		d = append(d, logA(hblog.InfoPri, "mach_down takeover complete for node "+node+"."))
		if !m.nice {
			m.foreignDone = true
			d = append(d, m.announce("status")...)
		}
		return d
	})...)
	a = append(a, m.reqOurResources(true)...)
	return a
}
