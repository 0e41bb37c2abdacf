package heartbeat

import (
	"strings"

	"habox/applets/heartbeat/control"
	"habox/applets/heartbeat/membership"
)

// simCtl is the control socket's view of a simulated daemon: the requests
// of cl_status, hb_standby and hb_takeover run the daemon's own handlers
// directly, as its event loop would (the simulator is that loop).
type simCtl struct{ d *daemon }

func (c simCtl) Snapshot() control.Snapshot { return c.d.snapshot() }
func (c simCtl) Standby(kind string) error  { return c.d.rscStandby(kind) }
func (c simCtl) Takeover(kind string) error { return c.d.rscTakeover(kind) }

// ask sends one control request line to the node's daemon through the
// control protocol and decodes the answer as cl_status does.
func (n *simNode) ask(line string) (control.Snapshot, error) {
	return control.DecodeResponse(strings.NewReader(control.Answer(simCtl{n.d}, line)))
}

// checkControl: once settled, what cl_status reports is the truth: no
// healthy node's rscstatus says "transition" with no resource work left,
// and each sees its healthy peer active. (rscstatus is 3.0.6's holding,
// which keeps a group whose start failed: not compared with the groups
// that run.)
// Checked once per keepalive of virtual time (decoding is not free).
func (s *sim) checkControl() {
	if s.now-s.lastCtl < simKeepalive {
		return
	}
	s.lastCtl = s.now
	for _, n := range s.nodes {
		if !n.healthy() {
			continue
		}
		snap, err := n.ask("snapshot")
		if err != nil {
			s.fail(n.name + ": cl_status snapshot: " + err.Error())
			return
		}
		if snap.Rsc == "transition" && !n.d.rsc.Busy() {
			s.fail(n.name + ": cl_status rscstatus transition with no resource work left (it holds " + n.d.rsc.Claim().String() + ")")
			return
		}
		for _, o := range s.nodes {
			if o == n || !o.healthy() {
				continue
			}
			for _, ni := range snap.Nodes {
				if ni.Name == o.name && ni.Status != membership.Active {
					s.fail(n.name + ": cl_status nodestatus " + o.name + " " + ni.Status + ", but it is up")
					return
				}
			}
		}
	}
}
