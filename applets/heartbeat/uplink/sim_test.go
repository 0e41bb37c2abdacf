package uplink

import (
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The simulator runs two nodes, a and b, each with a Tracker (one ping
// node, "gw") and a Policy, joined by a message queue with seeded
// latencies, over one resource group preferred by a. Each node pings gw
// every keepalive at its own phase; a node whose uplink is cut gets no
// reply. A give-up moves the group to the other node after a standby
// time. Every step is recorded and printed when a check fails.

const (
	simKA       = 200 * time.Millisecond
	simDeadping = time.Second
	simStep     = 10 * time.Millisecond
	simStandby  = 150 * time.Millisecond
)

type simMsg struct {
	at       time.Duration
	to       string
	typ, num string
}

type simNode struct {
	name   string
	tr     *Tracker
	pol    *Policy
	uplink bool
	phase  time.Duration
	// intermittent: when on > 0 the uplink answers for on, then is
	// silent for off, repeatedly (from flapFrom).
	on, off, flapFrom time.Duration
}

type sim struct {
	t       *testing.T
	r       *rand.Rand
	now     time.Duration
	nodes   map[string]*simNode
	q       []simMsg
	holder  string        // who holds the group
	moving  string        // target of a move in progress
	movedAt time.Duration // when the move completes
	moves   int
	steps   []string
	// ignore: give-ups the resource layer ignores (other side in flux)
	ignore int
}

func newSimulation(t *testing.T, seed int64) *sim {
	s := &sim{t: t, r: rand.New(rand.NewSource(seed)), nodes: map[string]*simNode{}, holder: "a"}
	for _, n := range []string{"a", "b"} {
		s.nodes[n] = &simNode{name: n, tr: NewTracker([]string{"gw"}, nil, simDeadping, 0),
			pol: NewPolicy(2*simKA, true, 0), uplink: true,
			phase: time.Duration(s.r.Int63n(int64(simKA/simStep))) * simStep}
	}
	s.step("seed " + strconv.FormatInt(seed, 10) + ", phases a=" + s.nodes["a"].phase.String() + " b=" + s.nodes["b"].phase.String())
	for _, n := range []string{"a", "b"} {
		s.apply(s.nodes[n], s.nodes[n].pol.PeerUp(true))
	}
	s.run(3 * time.Second)
	return s
}

func (s *sim) step(txt string) { s.steps = append(s.steps, s.now.String()+" "+txt) }

func (s *sim) peer(n string) string {
	if n == "a" {
		return "b"
	}
	return "a"
}

func (s *sim) answers(n *simNode) bool {
	if n.on > 0 && s.now >= n.flapFrom {
		return (s.now-n.flapFrom)%(n.on+n.off) < n.on
	}
	return n.uplink
}

func (s *sim) apply(n *simNode, acts []Action) {
	for _, a := range acts {
		switch a.Kind {
		case Log:
			s.step(n.name + ": " + a.Text)
		case Send:
			num := ""
			for _, f := range a.Fields {
				if f[0] == FNumPing {
					num = f[1]
				}
			}
			lat := time.Duration(1+s.r.Intn(20)) * time.Millisecond
			s.q = append(s.q, simMsg{at: s.now + lat, to: s.peer(n.name), typ: a.Type, num: num})
			s.step(n.name + " sends " + a.Type + " " + num)
		case GiveUp:
			s.step(n.name + " gives up " + a.Hold)
			if s.ignore > 0 {
				s.ignore--
				s.step("standby request ignored: other side in flux")
				continue
			}
			if s.moving != "" {
				continue
			}
			if s.holder == n.name && (a.Hold == "all" || n.name != "a") {
				s.moving, s.movedAt = s.peer(n.name), s.now+simStandby
			}
		}
	}
}

// run advances the clock by d.
func (s *sim) run(d time.Duration) {
	end := s.now + d
	for s.now < end {
		s.now += simStep
		for _, n := range []*simNode{s.nodes["a"], s.nodes["b"]} {
			if (s.now-n.phase)%simKA == 0 && s.answers(n) {
				s.events(n, n.tr.Heard("gw", s.now))
			}
			s.events(n, n.tr.Tick(s.now))
			s.apply(n, n.pol.Count(n.tr.Count(s.now)))
			s.apply(n, n.pol.Tick(s.moving == "", n.tr.Fresh(2*simKA, s.now), s.now))
			if s.holder != n.name && s.moving != n.name {
				n.pol.Settled() // holds nothing, as the daemon tells it
			}
		}
		var rest, due []simMsg
		for _, m := range s.q {
			if m.at > s.now {
				rest = append(rest, m)
			} else {
				due = append(due, m)
			}
		}
		s.q = rest
		for _, m := range due {
			n := s.nodes[m.to]
			foreign := s.holder == n.name && n.name != "a"
			s.apply(n, n.pol.Message(m.typ, m.num, foreign, s.moving == "", n.tr.Fresh(2*simKA, s.now), s.now))
		}
		if s.moving != "" && s.now >= s.movedAt {
			s.holder, s.moving = s.moving, ""
			s.moves++
			s.step("group now on " + s.holder)
		}
	}
}

func (s *sim) events(n *simNode, ev []Event) {
	for _, e := range ev {
		s.step(n.name + ": " + e.Text)
	}
}

func (s *sim) cut(n string, up bool) {
	s.nodes[n].uplink = up
	s.step("uplink of " + n + " " + map[bool]string{true: "restored", false: "cut"}[up])
}

// want checks the holder and the number of moves so far.
func (s *sim) want(holder string, moves int) {
	s.t.Helper()
	if s.holder != holder || s.moving != "" || s.moves != moves {
		s.t.Fatalf("want group on %s after %d moves, got %s (moving to %q) after %d moves; steps:\n%s",
			holder, moves, s.holder, s.moving, s.moves, strings.Join(s.steps, "\n"))
	}
}

// TestPolicyScenarios runs each scenario over many seeds (phases and
// latencies).
func TestPolicyScenarios(t *testing.T) {
	scenarios := map[string]func(s *sim){
		"owner cut moves once, restore brings it back once": func(s *sim) {
			s.cut("a", false)
			t0 := s.now
			for s.holder != "b" && s.now-t0 < 3*time.Second {
				s.run(simStep)
			}
			if took := s.now - t0; took > simDeadping+2*simKA+simStandby+simKA+100*time.Millisecond {
				s.t.Fatalf("failover took %v; steps:\n%s", took, strings.Join(s.steps, "\n"))
			}
			s.run(3 * time.Second)
			s.want("b", 1)
			s.cut("a", true)
			s.run(Stability - time.Second)
			s.want("b", 1) // not before the uplink was steady for Stability
			s.run(3 * time.Second)
			s.want("a", 2)
			s.run(5 * time.Second)
			s.want("a", 2)
		},
		"standby cut: nothing moves": func(s *sim) {
			s.cut("b", false)
			s.run(5 * time.Second)
			s.want("a", 0)
			s.cut("b", true)
			s.run(8 * time.Second)
			s.want("a", 0)
		},
		"both cut at once: nothing moves": func(s *sim) {
			s.cut("a", false)
			s.cut("b", false)
			s.run(5 * time.Second)
			s.want("a", 0)
			s.cut("a", true)
			s.cut("b", true)
			s.run(10 * time.Second)
			s.want("a", 0)
		},
		"intermittent ping node after the loss: no flapping": func(s *sim) {
			s.cut("a", false)
			s.run(3 * time.Second)
			s.want("b", 1)
			a := s.nodes["a"]
			a.on, a.off, a.flapFrom = 3*time.Second, 1500*time.Millisecond, s.now
			s.step("uplink of a intermittent: 3 s on, 1.5 s off")
			s.run(30 * time.Second)
			s.want("b", 1)
			a.on = 0
			s.cut("a", true)
			s.run(8 * time.Second)
			s.want("a", 2)
		},
		"give-up ignored once: asked again": func(s *sim) {
			s.ignore = 1
			s.cut("a", false)
			s.run(6 * time.Second) // deadping + 2×keepalive + RecheckAfter + a margin
			s.want("b", 1)
			s.run(5 * time.Second)
			s.want("b", 1)
		},
		"owner cut, then the standby's cut too: stays": func(s *sim) {
			s.cut("a", false)
			s.run(3 * time.Second)
			s.want("b", 1)
			s.cut("b", false)
			s.run(5 * time.Second)
			s.want("b", 1)
		},
	}
	for name, f := range scenarios {
		t.Run(name, func(t *testing.T) {
			for seed := int64(1); seed <= 200; seed++ {
				f(newSimulation(t, seed))
			}
		})
	}
}
