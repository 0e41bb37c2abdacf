package heartbeat

import (
	"math/rand"
	"testing"
	"time"

	"habox/applets/internal/wire"
)

// TestSimPeerRestartWithinDeadtime replays the minimal steps of simulator
// seed 8528 (auto_failback legacy) over many seeds: bob stops, alice
// stops, bob crashes losing its state and boots while alice, repaired,
// restarts within deadtime. Bob handles her as dead and back, takes her
// group and must take his own at once: counting the restarting alice as
// active, he asked her for it with an ip-request, which she dropped
// before comm-up, so his group ran nowhere.
func TestSimPeerRestartWithinDeadtime(t *testing.T) {
	dir := simConf(t, "legacy")
	at := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	steps := []simStep{
		{At: at(21.28), Kind: "stop", Node: 1},
		{At: at(35.69), Kind: "delay", Arg: int64(800 * time.Millisecond)},
		{At: at(46.25), Kind: "stop", Node: 0},
		{At: at(47.34), Kind: "crash", Node: 1, Arg: 1},
	}
	for seed := int64(1); seed <= 40; seed++ {
		if f, trace, _ := runSim(t, dir, seed, steps); f != "" {
			t.Fatalf("seed %d: %s\n  %v", seed, f, trace)
		}
	}
}

// simLoad is a simulated node's ld field: the host's /proc/loadavg
// varies in length with the machine's load, and a frame's size sets its
// time on a stalled serial line (sim.heal), so a seed must not read it.
func simLoad() string { return "0.00 0.00 0.00 1/100 1000" }

// TestSimNoHostLoad: a simulated node stamps the simulator's ld field,
// not the host's load average.
func TestSimNoHostLoad(t *testing.T) {
	s := &sim{seed: 1, r: rand.New(rand.NewSource(1)), dir: simConf(t, "on")}
	n := &simNode{s: s, name: "alice", varlib: t.TempDir(), running: map[string]bool{}}
	s.nodes = []*simNode{n}
	n.start()
	if n.d == nil {
		t.Fatalf("not started: %s", s.failure)
	}
	defer n.d.close()
	m, _, err := n.d.eng.Send(wire.New(wire.Status), n.d.timerNow())
	if err != nil {
		t.Fatal(err)
	}
	if ld := m.Get(wire.Ld); ld != simLoad() {
		t.Errorf("ld %q, want the simulator's %q", ld, simLoad())
	}
}
