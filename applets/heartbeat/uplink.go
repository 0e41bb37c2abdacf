package heartbeat

import (
	"net/netip"
	"os"
	"strconv"
	"time"

	"habox/applets/heartbeat/control"
	"habox/applets/heartbeat/membership"
	"habox/applets/heartbeat/uplink"
	"habox/applets/internal/wire"
	"habox/conf"
	"habox/hw/icmp"
	"habox/hw/netlink"
	"habox/hw/udp"
)

// pingTarget is one address of a ping node.
type pingTarget struct {
	node  string
	group bool
	addr  [4]byte
}

// uplinkState is the daemon's side of ping nodes, carrier tracking and
// the built-in ipfail policy (package uplink). Owned by the event loop.
type uplinkState struct {
	tr      *uplink.Tracker
	pol     *uplink.Policy // nil: ping nodes only log
	peer    string
	conn    prober // nil without ping nodes
	watch   *netlink.Watcher
	timer   oneShot       // nil until first armed
	timerAt time.Duration // the instant it is armed for (timerOn)
	timerOn bool
	targets []pingTarget
	// peerGen, peerSeq: the generation and sequence number of the
	// newest ipfail message applied from the peer (staleMessage).
	peerGen string
	peerSeq uint64
}

// prober sends the echo requests to the ping nodes; the replies come
// back to the event loop as ping events. Real: *icmp.Conn, read by
// readPings (listenPings).
type prober interface {
	Echo(dst [4]byte, payload []byte) error
	Close() error
}

// oneShot is a timer whose expiry becomes one event of the loop; Set
// replaces the armed expiry.
type oneShot interface{ Set(time.Duration) error }

// listenPings opens the raw ICMP socket and forwards its echo replies to
// the event loop.
func (d *daemon) listenPings() (prober, error) {
	c, err := icmp.Listen(uint16(os.Getpid()))
	if err != nil {
		return nil, err
	}
	d.pings = make(chan pingReply, 16)
	go d.readPings(c)
	return c, nil
}

// runtimeTimer is a oneShot on the runtime's timers, firing on d.upTimer.
type runtimeTimer struct{ t *time.Timer }

func (t runtimeTimer) Set(d time.Duration) error { t.t.Reset(d); return nil }

// newUpTimer makes the uplink timer: its expiry is an upTimer event.
func (d *daemon) newUpTimer() oneShot {
	t := time.NewTimer(time.Hour)
	t.Stop()
	d.upTimer = t.C
	return runtimeTimer{t}
}

// carrierEvent is a tracked interface's carrier change.
type carrierEvent struct {
	ifname string
	up     bool
}

// openUplink sets up ping nodes (raw ICMP), carrier tracking (rtnetlink
// link events) and the policy, as configured.
func (d *daemon) openUplink() error {
	hc := d.hc
	if len(hc.PingNodes) == 0 && !hc.IPFail {
		return nil
	}
	u := &uplinkState{}
	var names []string
	for _, p := range hc.PingNodes {
		names = append(names, p.Name)
		for _, a := range p.Addrs {
			ip, err := udp.Resolve(a, "")
			if err != nil {
				return &os.PathError{Op: "ping node " + p.Name, Path: a, Err: err}
			}
			u.targets = append(u.targets, pingTarget{p.Name, p.Group, ip})
		}
	}
	var track []string
	if hc.IPFail {
		track = hc.TrackCarrier
	}
	u.tr = uplink.NewTracker(names, track, hc.Deadping, d.now())
	if len(u.targets) > 0 {
		c, err := d.openProber()
		if err != nil {
			return err
		}
		u.conn = c
		for _, p := range hc.PingNodes {
			kind := "ping"
			if p.Group {
				kind = "ping_group"
			}
			d.log.Info("glib: " + kind + " heartbeat started.")
		}
	}
	if len(track) > 0 {
		w, err := d.watchLinks()
		if err != nil {
			return err
		}
		if w != nil { // nil: the simulator steps carrier events in itself
			u.watch = w
			d.carriers = make(chan carrierEvent, 16)
			go d.watchCarrier(w, track)
		}
	}
	if hc.IPFail {
		for _, n := range hc.Nodes {
			if n != d.self {
				u.peer = n
			}
		}
		if len(hc.Nodes) != 2 {
			d.log.Warn("ipfail's policy works between two nodes only: " + strconv.Itoa(len(hc.Nodes)) + " configured, policy off")
		} else {
			u.pol = uplink.NewPolicy(2*hc.Keepalive, hc.AutoFailback == conf.FailbackOn, u.tr.Count(d.now()))
			d.log.Info("ipfail's policy runs inside heartbeat (no ipfail process, no client API)")
		}
	}
	d.up = u
	return nil
}

// pingReply is an echo reply for us: its source and payload.
type pingReply struct {
	src     [4]byte
	payload []byte
}

// readPings forwards echo replies to the event loop.
func (d *daemon) readPings(c *icmp.Conn) {
	buf := make([]byte, 64*1024)
	for {
		src, payload, err := c.Recv(buf)
		if err != nil {
			return
		}
		select {
		case d.pings <- pingReply{src, append([]byte(nil), payload...)}:
		case <-d.stopped:
			return
		}
	}
}

// pingReplied handles an echo reply: an authenticated probe for a ping
// node from one of its addresses is a heartbeat from that node.
func (d *daemon) pingReplied(r pingReply) {
	name, group, ok := uplink.ParseProbe(d.keys, r.payload)
	if ok {
		for _, t := range d.up.targets {
			if t.node == name && t.group == group && t.addr == r.src {
				d.uplinkEvents(d.up.tr.Heard(name, d.now()))
				return
			}
		}
	}
	d.bad("ping", "bad ping reply from "+netip.AddrFrom4(r.src).String())
}

// watchCarrier forwards carrier changes of the tracked interfaces.
func (d *daemon) watchCarrier(w *netlink.Watcher, track []string) {
	for {
		l, err := w.Next()
		if err != nil {
			return
		}
		if c, ok := carrierOf(l, track); ok {
			select {
			case d.carriers <- c:
			case <-d.stopped:
				return
			}
		}
	}
}

// carrierOf is the carrier state a link message gives a tracked
// interface: usable when up with carrier and not deleted. ok is false
// for an interface not tracked.
func carrierOf(l netlink.Link, track []string) (c carrierEvent, ok bool) {
	for _, t := range track {
		if l.Name == t {
			return carrierEvent{t, l.Up && l.Carrier && !l.Gone}, true
		}
	}
	return c, false
}

// sendProbes sends one echo request per ping address, with the payload
// 3.0.6's ping plugin sends for each status message.
func (d *daemon) sendProbes() {
	if d.up == nil || d.up.conn == nil || d.fenced {
		return
	}
	ts := uint64(d.wall().Unix())
	for _, t := range d.up.targets {
		p, err := uplink.Probe(d.keys, t.node, t.group, ts)
		if err == nil {
			err = d.up.conn.Echo(t.addr, p)
		}
		if err != nil {
			d.log.Debug(1, "ping "+t.node+": "+err.Error())
		}
	}
}

func (d *daemon) uplinkEvents(ev []uplink.Event) {
	for _, e := range ev {
		d.logAt(e.Level, e.Text)
	}
}

// uplinkTick runs the ping node timers and the policy.
func (d *daemon) uplinkTick() {
	if d.up == nil {
		return
	}
	// Replies already received count before anyone is declared dead
	// (after a stall, the tick and the replies are ready together).
	for n := 0; n < 64; n++ {
		select {
		case r := <-d.pings:
			d.pingReplied(r)
			continue
		default:
		}
		break
	}
	now := d.now()
	d.uplinkEvents(d.up.tr.Tick(now))
	p := d.up.pol
	if p == nil {
		return
	}
	peerUp := d.active && d.mem.NodeStatus(d.up.peer) == membership.Active && !d.rsc.ShuttingDown()
	d.policyActs(p.PeerUp(peerUp))
	d.policyActs(p.Count(d.up.tr.Count(now)))
	d.policyActs(p.Tick(d.rscStable(), d.up.tr.Fresh(2*d.hc.Keepalive, now), now))
	d.rsc.SetFailbackHold(p.PeerFewer())
	if !d.holdsGroups(false) {
		p.Settled() // gave everything up: nothing to re-check
	}
}

// armUplinkTimer sets the uplink timer to the next ping node deadline or
// give-up, so neither waits for the next periodic tick (up to 250 ms).
func (d *daemon) armUplinkTimer() {
	if d.up == nil {
		return
	}
	at, ok := d.up.tr.NextDeadline()
	if d.up.pol != nil {
		if due, pending := d.up.pol.Due(); pending && (!ok || due < at) {
			at, ok = due, true
		}
	}
	if !ok {
		return
	}
	if d.up.timerOn && at == d.up.timerAt {
		return // armed for it already: not one Reset per packet
	}
	d.up.timerAt, d.up.timerOn = at, true
	wait := at - d.now() + time.Millisecond // deadlines are "more than"
	if d.up.timer == nil {
		d.up.timer = d.newTimer()
	}
	d.up.timer.Set(max(wait, 0))
}

func (d *daemon) rscStable() bool { return !d.rsc.Busy() && d.rsc.RscStatus() != "transition" }

// uplinkMessage handles ipfail's messages from the peer.
func (d *daemon) uplinkMessage(src string, m *wire.Msg) {
	if d.up == nil || d.up.pol == nil || src == d.self || src != d.up.peer {
		return
	}
	if m.Type() == uplink.TClientStat {
		if m.Get(wire.St) == "join" && m.Get("from_id") == uplink.ClientName {
			d.policyActs(d.up.pol.Joined())
		}
		return
	}
	if d.up.staleMessage(m) {
		d.log.Debug(1, "Ignored "+m.Type()+" message "+m.Get(wire.Seq)+" from "+src+": older than one applied")
		return
	}
	foreign := d.holdsGroups(true)
	now := d.now()
	d.policyActs(d.up.pol.Message(m.Type(), m.Get(uplink.FNumPing), foreign, d.rscStable(), d.up.tr.Fresh(2*d.hc.Keepalive, now), now))
	d.rsc.SetFailbackHold(d.up.pol.PeerFewer())
}

// staleMessage reports whether m, an ipfail message of the peer, is older
// than one already applied, and records it otherwise. Messages are
// delivered as they arrive (a gap is filled later by a retransmission),
// and each carries the peer's view of the counts when it was sent: a
// count or abort_giveup of an older balance, retransmitted after the
// you_are_dead that followed a carrier loss, cancelled the give-up for
// good (simulator ping node seeds 278, 19133). A message of another
// generation (the peer restarted) is never stale.
func (u *uplinkState) staleMessage(m *wire.Msg) bool {
	seq, err := strconv.ParseUint(m.Get(wire.Seq), 16, 64)
	if err != nil {
		return false
	}
	gen := m.Get(wire.Hg)
	if gen == u.peerGen && seq < u.peerSeq {
		return true
	}
	u.peerGen, u.peerSeq = gen, seq
	return false
}

func (d *daemon) policyActs(acts []uplink.Action) {
	for _, a := range acts {
		switch a.Kind {
		case uplink.Log:
			d.logAt(a.Level, a.Text)
		case uplink.Send:
			m := wire.New(a.Type)
			for _, f := range a.Fields {
				m.Add(f[0], f[1])
			}
			m.Add(wire.Dest, d.up.peer)
			d.send(m)
		case uplink.GiveUp:
			if !d.holdsGroups(a.Hold == "foreign") {
				d.log.Info("Nothing to give up [" + a.Hold + "]: no resource group held.")
				d.up.pol.Settled()
				continue
			}
			if err := d.rscStandby(a.Hold); err != nil {
				d.log.Warn("ipfail policy: giving up " + a.Hold + " resources refused: " + err.Error())
			}
		}
	}
}

// holdsGroups reports whether we hold a resource group (of the peer only,
// when foreign): ipfail's give-up of nothing would only start an empty
// standby exchange.
func (d *daemon) holdsGroups(foreign bool) bool {
	for _, k := range d.rsc.Held() {
		for _, g := range d.cfg.Resources.Groups {
			if g.Key == k && (!foreign || g.Node != d.self) {
				return true
			}
		}
	}
	return false
}

// announceClient sends the API client-status join of ipfail at comm-up,
// so a 3.0.6 peer's ipfail sends its count as it does when our ipfail
// signs on.
func (d *daemon) announceClient() {
	if d.up == nil || d.up.pol == nil {
		return
	}
	m := wire.New(uplink.TClientStat)
	m.Add(wire.St, "join")
	m.Add("from_id", uplink.ClientName)
	m.Add("to_id", uplink.ClientName)
	m.Add("src", d.self)
	m.Add(wire.Info, "signon")
	m.Add("client_gen", "1")
	d.send(m)
}

// uplinkHealed sends our ping node count again after a healed
// partition: the heal gives each group to its home node whatever the
// counts say, so ipfail's decision must be taken again (the peer may
// have been dead and back between two ticks, unseen by PeerUp).
func (d *daemon) uplinkHealed() {
	if d.up != nil && d.up.pol != nil {
		d.policyActs(d.up.pol.Joined())
	}
}

// pingNodeInfos lists the ping nodes for cl_status.
func (d *daemon) pingNodeInfos() []control.NodeInfo {
	if d.up == nil {
		return nil
	}
	var l []control.NodeInfo
	for _, n := range d.up.tr.Nodes() {
		l = append(l, control.NodeInfo{Name: n, Type: "ping", Status: d.up.tr.Status(n),
			Links: []control.LinkInfo{{Name: n, Status: d.up.tr.LinkStatus(n)}}})
	}
	return l
}

func (d *daemon) closeUplink() {
	if d.up == nil {
		return
	}
	if d.up.conn != nil {
		d.up.conn.Close()
	}
	if d.up.watch != nil {
		d.up.watch.Close()
	}
}
