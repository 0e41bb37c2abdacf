package resources

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"habox/conf"
)

// status delivers one status of peer p to n the way the daemon does: the
// habox field first, then (late > deadtime) the dead marking with its
// takeover and the healed-partition resolution.
func (s *sim) status(n string, late bool) {
	p := s.peer(n)
	sn := s.nodes[n]
	s.apply(n, sn.m.SetHabox(p, s.nodes[p].m.Claim().String(), s.now))
	if late {
		sn.view.status[p] = "dead"
		s.apply(n, sn.m.NodeDead(p, true, s.now))
		sn.view.status[p] = "active"
		s.apply(n, sn.m.PartitionHealed(p, s.now))
	}
}

// heartbeats exchanges statuses for d (every 50 ms, both ways).
func (s *sim) heartbeats(d time.Duration) {
	for end := s.now + d; s.now < end; {
		for _, n := range s.names {
			if s.up[n] && s.up[s.peer(n)] {
				s.status(n, false)
			}
		}
		s.drain()
		s.advance(50 * time.Millisecond)
	}
}

// stableOff is a pair in auto_failback off, started, exchanging statuses,
// each node running its own group.
func stableOff(t *testing.T) *sim {
	s := newSim(t, conf.FailbackOff)
	s.commUp("alice", "bob")
	s.advance(2 * time.Second)
	s.heartbeats(time.Second)
	s.want(both)
	return s
}

// standby runs hb_standby kind on node n and delivers what follows.
func (s *sim) standby(n, kind string) {
	s.t.Helper()
	acts, err := s.nodes[n].m.Standby(kind, s.now)
	if err != nil {
		s.t.Fatal(err)
	}
	s.apply(n, acts)
	s.drain()
}

// runHeld finishes the jobs node sn holds, in order, delivering what
// follows each.
func (s *sim) runHeld(sn *simNode) {
	for len(sn.jobs) > 0 {
		j := sn.jobs[0]
		sn.jobs = sn.jobs[1:]
		s.finish(sn, j)
		s.drain()
	}
}

// seesDead: n declares p dead (heard: packets came from p since start or
// its previous death), p itself running on.
func (s *sim) seesDead(n, p string, heard bool) {
	sn := s.nodes[n]
	sn.view.status[p] = "dead"
	s.apply(n, sn.m.NodeDead(p, heard, s.now))
	s.drain()
}

// healSeen: n sees p active again with the status p sends now (its habox
// field first, as the daemon delivers it), a healed partition.
func (s *sim) healSeen(n, p string) {
	sn := s.nodes[n]
	sn.view.status[p] = "active"
	s.apply(n, sn.m.SetHabox(p, s.nodes[p].m.Claim().String(), s.now))
	s.apply(n, sn.m.PartitionHealed(p, s.now))
	s.drain()
}

// noDoubleOwner checks that no node logged a double owner after its
// first from lines and that each node advertises what it holds.
func (s *sim) noDoubleOwner(t *testing.T, from map[string]int) {
	t.Helper()
	for _, n := range s.names {
		for _, l := range s.logs[n][from[n]:] {
			if strings.Contains(l, "Both machines own") {
				t.Errorf("%s still logs %q after the resolution:\n  %s", n, l, strings.Join(s.logs[n], "\n  "))
				break
			}
		}
	}
	// Advertised holdings match what runs.
	for _, n := range s.names {
		if h, want := s.nodes[n].m.Holding(), s.nodes[n].m.heldHold(); s.nodes[n].m.nice && s.nodes[n].m.advertisedMismatch() {
			t.Errorf("%s advertises %s, holds %s", n, h, want)
		}
	}
}

// TestLateHeartbeatHabox: a status of a live habox peer arrives after more
// than deadtime; the receiver declares the peer dead, takes its groups,
// and must give them back at once: exactly one owner, with the takeover
// job finishing at once, or only after the peer's status was seen.
func TestLateHeartbeatHabox(t *testing.T) {
	for _, mode := range modes {
		for _, held := range []bool{false, true} {
			name := mode.String() + "/jobs-at-once"
			if held {
				name = mode.String() + "/jobs-late"
			}
			t.Run(name, func(t *testing.T) {
				s := newSim(t, mode)
				s.commUp("alice", "bob")
				s.advance(2 * time.Second)
				s.want(both)
				s.nodes["alice"].hold = held
				s.status("alice", true)
				s.drain()
				// bob keeps heartbeating while alice's jobs are pending.
				s.status("alice", false)
				s.status("bob", false)
				s.drain()
				if held {
					sn := s.nodes["alice"]
					sn.hold = false
					for len(sn.jobs) > 0 {
						j := sn.jobs[0]
						sn.jobs = sn.jobs[1:]
						s.finish(sn, j)
						s.drain()
					}
				}
				s.heartbeats(100 * time.Millisecond)
				from := map[string]int{}
				for _, n := range s.names {
					from[n] = len(s.logs[n])
				}
				s.heartbeats(3 * time.Second)
				s.want(both)
				s.noDoubleOwner(t, from)
				// Stable: no more resource work.
				for _, n := range s.names {
					if s.nodes[n].m.Busy() {
						t.Errorf("%s still busy", n)
					}
				}
			})
		}
	}
}

// TestLateHeartbeatsRandom: repeated late heartbeats on either side (or
// both), with resource jobs finishing after random delays, interleaved
// with ordinary statuses; once statuses flow normally again every group
// runs on exactly one node, its keeper, and the advertised holdings match.
func TestLateHeartbeatsRandom(t *testing.T) { lateHeartbeatsRandom(t, both) }

// TestLateHeartbeatsOneGroup is TestLateHeartbeatsRandom with the lab's
// layout: one group, on the first node's line.
func TestLateHeartbeatsOneGroup(t *testing.T) {
	saved := groups
	groups = groups[:1]
	defer func() { groups = saved }()
	lateHeartbeatsRandom(t, "10.0.0.5=alice")
}

// lateHeartbeatsRandom runs 300 seeds of random late heartbeats in every
// mode and wants the owners want at the end.
func lateHeartbeatsRandom(t *testing.T, want string) {
	for seed := int64(1); seed <= 300; seed++ {
		for _, mode := range modes {
			r := rand.New(rand.NewSource(seed))
			s := newSim(t, mode)
			s.slow, s.rnd = true, r.Intn
			s.commUp("alice", "bob")
			s.advance(2 * time.Second)
			var trail []string
			for i := 0; i < 1+r.Intn(4); i++ {
				n := s.names[r.Intn(2)]
				switch r.Intn(3) {
				case 0:
					trail = append(trail, "late at "+n)
					s.status(n, true)
				case 1:
					trail = append(trail, "late at both")
					s.status("alice", true)
					s.status("bob", true)
				default:
					trail = append(trail, "status")
					s.status(n, false)
				}
				s.drain()
				s.heartbeats(time.Duration(r.Intn(400)) * time.Millisecond)
			}
			s.heartbeats(3 * time.Second)
			if got := s.owners(); got != want {
				t.Fatalf("seed %d mode %s: owners %s after %v\nalice:\n  %s\nbob:\n  %s", seed, mode, got, trail,
					strings.Join(s.logs["alice"], "\n  "), strings.Join(s.logs["bob"], "\n  "))
			}
			for _, n := range s.names {
				if m := s.nodes[n].m; m.nice && m.advertisedMismatch() {
					t.Fatalf("seed %d mode %s: %s advertises %s, holds %s after %v\n  %s", seed, mode, n, m.Holding(), m.heldHold(), trail,
						strings.Join(s.logs[n], "\n  "))
				}
			}
		}
	}
}

// advertisedMismatch: the holding m advertises differs from the groups it
// holds (bits for which no group exists do not count: 3.0.6 holds
// "local" with no local group).
func (m *Manager) advertisedMismatch() bool {
	mask := None
	if len(m.keys(Local)) > 0 {
		mask |= Local
	}
	if len(m.keys(Foreign)) > 0 {
		mask |= Foreign
	}
	return m.Holding()&mask != m.heldHold()
}
