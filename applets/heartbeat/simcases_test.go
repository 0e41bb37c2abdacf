package heartbeat

import (
	"testing"
	"time"
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
