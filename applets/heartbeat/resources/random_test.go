package resources

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"habox/conf"
)

// TestRandomScenarios drives two-node clusters through random sequences
// of hard failures, reboots, graceful stops, standby and takeover
// requests, and checks after each quiet period that every group runs on
// exactly one live node.
func TestRandomScenarios(t *testing.T) {
	for seed := int64(1); seed <= 400; seed++ {
		for _, mode := range modes {
			runScenario(t, seed, mode, seed%2 == 0)
			if t.Failed() {
				return
			}
		}
	}
	t.Logf("operations: %v", opCount)
}

var opCount = map[string]int{}

func runScenario(t *testing.T, seed int64, mode conf.AutoFailback, slow bool) {
	r := rand.New(rand.NewSource(seed))
	s := newSim(t, mode)
	s.slow, s.rnd = slow, r.Intn
	s.commUp("alice", "bob")
	s.advance(2 * time.Second)
	var trail []string
	for step := 0; step < 12; step++ {
		n := s.names[r.Intn(2)]
		p := s.peer(n)
		switch op := r.Intn(7); {
		case op == 5 && s.up[n] && s.up[p]:
			trail = append(trail, "partition")
			s.cut = true
			for _, x := range s.names {
				y := s.peer(x)
				s.nodes[x].view.status[y] = "dead"
				s.apply(x, s.nodes[x].m.NodeDead(y, true, s.now))
			}
			s.drain()
			s.advance(2 * time.Second)
			s.cut = false
			// Each side learns the other's holding from its first status
			// after the heal, sent before either side resolved.
			for _, x := range s.names {
				y := s.peer(x)
				s.nodes[x].view.status[y] = "active"
				s.apply(x, s.nodes[x].m.SetHabox(y, s.nodes[y].m.Claim().String(), s.now))
			}
			for _, x := range s.names {
				s.apply(x, s.nodes[x].m.PartitionHealed(s.peer(x), s.now))
			}
			s.drain()
		case op == 0 && s.up[n] && s.up[p]:
			trail = append(trail, "kill "+n)
			s.nodes[n].running = map[string]bool{} // the machine reboots
			s.kill(n)
		case op == 1 && !s.up[n]:
			trail = append(trail, "boot "+n)
			s.boot(n, mode)
			s.nodes[n].running = map[string]bool{}
			if s.up[p] {
				s.nodes[p].view.status[n] = "up"
				s.nodes[p].view.heard[n] = true
			} else {
				s.nodes[n].view.status[p] = "dead"
				s.apply(n, s.nodes[n].m.NodeDead(p, false, s.now))
				s.drain()
			}
			s.commUp(n)
		case op == 2 && s.up[n] && s.up[p]:
			trail = append(trail, "stop "+n)
			s.apply(n, s.nodes[n].m.Shutdown(s.now))
			s.drain()
			s.advance(3 * time.Second)
			if s.nodes[n].exited {
				s.up[n] = false
				s.nodes[p].view.status[n] = "dead"
				s.apply(p, s.nodes[p].m.NodeDead(n, true, s.now))
				s.drain()
			}
		case op == 3 && s.up[n]:
			k := []string{"all", "local", "foreign"}[r.Intn(3)]
			trail = append(trail, "standby "+n+" "+k)
			acts, _ := s.nodes[n].m.Standby(k, s.now)
			s.apply(n, acts)
			s.drain()
		case op == 4 && s.up[n]:
			k := []string{"all", "local", "foreign", "failback"}[r.Intn(4)]
			trail = append(trail, "takeover "+n+" "+k)
			acts, _ := s.nodes[n].m.Takeover(k, s.now)
			s.apply(n, acts)
			s.drain()
		default:
			trail = append(trail, "wait")
		}
		opCount[strings.Fields(trail[len(trail)-1])[0]]++
		s.advance(3 * time.Second)
		// Invariant: every group runs on exactly one live node.
		for _, g := range groups {
			var on []string
			for _, x := range s.names {
				if s.up[x] && s.nodes[x].running[g.Key] {
					on = append(on, x)
				}
			}
			live := s.up["alice"] || s.up["bob"]
			if live && len(on) != 1 {
				t.Errorf("seed %d mode %s: group %s runs on %v after: %s\nalice:\n  %s\nbob:\n  %s", seed, mode, g.Key, on,
					strings.Join(trail, ", "), strings.Join(s.logs["alice"], "\n  "), strings.Join(s.logs["bob"], "\n  "))
				return
			}
		}
	}
}
