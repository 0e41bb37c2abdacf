package heartbeat

import (
	"errors"
	"slices"
	"strconv"
	"time"

	"habox/applets/heartbeat/control"
	"habox/applets/heartbeat/media"
)

// ctlTimeout bounds how long a control request waits for the event loop.
const ctlTimeout = 3 * time.Second

var errStopped = errors.New("heartbeat is stopping")

// serveControl opens the control socket of cl_status, hb_standby and
// hb_takeover; requests are executed by the event loop.
func (d *daemon) serveControl() error {
	s, err := control.Serve(d.o.ctlsock, d)
	if err != nil {
		return err
	}
	d.ctl = s
	return nil
}

// inLoop runs f on the event loop goroutine and waits for it.
func (d *daemon) inLoop(f func()) bool {
	done := make(chan struct{})
	select {
	case d.reqs <- func() { f(); close(done) }:
	case <-d.stopped:
		return false
	case <-time.After(ctlTimeout):
		return false
	}
	select {
	case <-done:
		return true
	case <-d.stopped:
		return false
	}
}

// Snapshot implements control.Daemon.
func (d *daemon) Snapshot() control.Snapshot {
	var s control.Snapshot
	d.inLoop(func() { s = d.snapshot() })
	return s
}

func (d *daemon) snapshot() control.Snapshot {
	s := control.Snapshot{Node: d.self, Version: Version, Rsc: d.rsc.RscStatus(), Params: map[string]string{}}
	for k, v := range d.hc.Raw {
		s.Params[k] = v
	}
	// Not an ha.cf directive: packets dropped as forged, replayed or
	// malformed since start, in total and by reason
	// (badpackets-<reason>), authentic duplicates (duppackets), and the
	// packets read in total and processed or ignored.
	var mediaDrops uint64
	for _, md := range d.media {
		if st, ok := md.(media.Statser); ok {
			mediaDrops += st.Stats().Dropped
		}
	}
	// Every packet read is in exactly one of ok, ignored, dup and the bad
	// reasons; rxpackets also counts the media's drops (oversize).
	for i, v := range [...]uint64{d.badCount + mediaDrops, d.drops.tooBig + mediaDrops, d.drops.garbage,
		d.drops.auth, d.drops.replay, d.drops.invalid, d.drops.throttled, d.drops.dup, d.drops.ok,
		d.drops.ignored, d.drops.rx + mediaDrops} {
		s.Params[packetCounters[i]] = strconv.FormatUint(v, 10)
	}
	// A medium that cannot be opened is a failed link on every node, not
	// one that merely hears nothing.
	for _, md := range d.media {
		if f, ok := md.(media.Failer); ok {
			if why := f.Failure(); why != "" {
				if s.Failed == nil {
					s.Failed = map[string]string{}
				}
				s.Failed[md.Name()] = why
			}
		}
	}
	pings := d.pingNodeInfos()
	order := d.hc.Order
	for _, n := range d.mem.Nodes() {
		if !slices.Contains(order, n) {
			order = append(order, n)
		}
	}
	// 3.0.6's API walks its node table last declared first (checked
	// against its cl_status listnodes in TestUplinkMixed).
	order = slices.Clone(order)
	slices.Reverse(order)
	for _, n := range order {
		if !d.mem.Known(n) {
			for _, p := range pings {
				if p.Name == n {
					s.Nodes = append(s.Nodes, p)
				}
			}
			continue
		}
		ni := control.NodeInfo{Name: n, Type: "normal", Status: d.mem.NodeStatus(n)}
		for _, l := range d.mem.LinkNames(n) {
			st := d.mem.LinkStatus(n, l)
			if _, failed := s.Failed[l]; failed {
				st = "failed"
			}
			ni.Links = append(ni.Links, control.LinkInfo{Name: l, Status: st})
		}
		s.Nodes = append(s.Nodes, ni)
	}
	return s
}

// packetCounters name snapshot's packet counters, in its order.
var packetCounters = [...]string{"badpackets", "badpackets-toobig", "badpackets-garbage", "badpackets-auth",
	"badpackets-replay", "badpackets-invalid", "badpackets-throttled", "duppackets", "okpackets",
	"ignoredpackets", "rxpackets"}

// Standby implements control.Daemon (hb_standby).
func (d *daemon) Standby(kind string) error {
	var err error
	if !d.inLoop(func() {
		err = d.rscStandby(kind)
	}) {
		return errStopped
	}
	return err
}

func (d *daemon) rscStandby(kind string) error {
	acts, err := d.rsc.Standby(kind, d.now())
	d.rscActs(acts)
	if err != nil {
		return &control.RefusedError{Reason: err.Error()}
	}
	return nil
}

// Takeover implements control.Daemon (hb_takeover).
func (d *daemon) Takeover(kind string) error {
	var err error
	if !d.inLoop(func() {
		err = d.rscTakeover(kind)
	}) {
		return errStopped
	}
	return err
}

func (d *daemon) rscTakeover(kind string) error {
	acts, err := d.rsc.Takeover(kind, d.now())
	d.rscActs(acts)
	if err != nil {
		return &control.RefusedError{Reason: err.Error()}
	}
	return nil
}
