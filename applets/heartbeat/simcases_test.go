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

// TestSimReplayConcurrent: replays of one scenario running side by side
// give the same result. Scheduling must not leak into a seed: a
// goroutine that wrote the generation file behind the simulator's back
// made these steps (seed 1056: a clock step, a stop, a restart at the
// repair) fail in about one replay in three (fixed in 78d495e).
func TestSimReplayConcurrent(t *testing.T) {
	dir := simConf(t, "on")
	at := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	steps := []simStep{
		{At: at(21.32), Kind: "clock", Node: 0, Arg: int64(-(49*time.Minute + 15*time.Second))},
		{At: at(26.10), Kind: "stop", Node: 0},
		{At: at(34.17), Kind: "cut", Node: 0, Arg: 1 | 1<<1},
		{At: at(35.78), Kind: "start", Node: 1},
		{At: at(42.90), Kind: "pause", Node: 1, Arg: int64(6 * time.Second)},
		{At: at(52.71), Kind: "script", Node: 1, Arg: scriptHang},
		{At: at(61.98), Kind: "loss", Arg: 0},
		{At: at(69.30), Kind: "loss", Arg: 10},
		{At: at(72.20), Kind: "script", Node: 1, Arg: scriptOK},
	}
	const replays = 12
	type result struct {
		fail   string
		events int
	}
	out := make(chan result, replays)
	for i := 0; i < replays; i++ {
		go func() {
			f, _, ev := runSim(t, dir, 1056, steps)
			out <- result{f, ev}
		}()
	}
	first := <-out
	for i := 1; i < replays; i++ {
		if r := <-out; r != first {
			t.Fatalf("replays differ: %d events %q, %d events %q", first.events, first.fail, r.events, r.fail)
		}
	}
	if first.fail != "" {
		t.Errorf("seed 1056: %s", first.fail)
	}
}

// TestSimFenceWhenStopFails: bob's scripts hang during his graceful
// stop; each group's stop fails after its timeouts and bob fences (the
// runner reports it at once, and the watchdog, re-armed, resets the
// machine); he is killed -9 only later. The simulator reported the stop
// failures when the whole job ended, after the kill, so nothing fenced
// and the killed node's group ran beside the peer's takeover (simulator
// seeds 11857, 12697, 24532).
func TestSimFenceWhenStopFails(t *testing.T) {
	dir := simConf(t, "off")
	at := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	steps := []simStep{
		{At: at(27.88), Kind: "script", Node: 1, Arg: scriptHang},
		{At: at(34.69), Kind: "stop", Node: 1},
		{At: at(50.78), Kind: "kill", Node: 1},
	}
	for seed := int64(1); seed <= 10; seed++ {
		if f, trace, _ := runSim(t, dir, seed, steps); f != "" {
			t.Fatalf("seed %d: %s\n  %v", seed, f, trace)
		}
	}
}

// TestSimKilledJobLeavesNextProcess: alice, killed -9 during a slow
// graceful stop, is started again and takes her group back while the
// script her killed process ran is still running. The simulator wrote the
// killed process's whole job state when that job would have ended,
// stopping the group the new process had just started: it ran nowhere
// (simulator seed 45336). A killed process's runner starts no more
// actions; the one under way ends and changes only its own group.
func TestSimKilledJobLeavesNextProcess(t *testing.T) {
	dir := simConf(t, "on")
	at := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	steps := []simStep{
		{At: at(15.90), Kind: "kill", Node: 0},
		{At: at(25.04), Kind: "standby", Node: 1},
		{At: at(34.86), Kind: "script", Node: 0, Arg: scriptSlow},
		{At: at(38.37), Kind: "stop", Node: 0},
		{At: at(43.85), Kind: "kill", Node: 0},
	}
	for _, seed := range []int64{45336, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10} {
		if f, trace, _ := runSim(t, dir, seed, steps); f != "" {
			t.Fatalf("seed %d: %s\n  %v", seed, f, trace)
		}
	}
}

// replaySteps runs steps under cfg with n seeds from first, 100,000
// apart (the same faults, other randomness), and fails at the first
// invariant violation.
func replaySteps(t *testing.T, cfg simCfg, steps []simStep, first int64, n int) {
	t.Helper()
	for seed := first; seed < first+int64(n)*100000; seed += 100000 {
		if f, trace, _ := runSimWith(t, cfg, seed, steps); f != "" {
			t.Fatalf("seed %d: %s\n  %v", seed, f, trace)
		}
	}
}

// TestSimStaleStandbyAnswer replays the minimal steps of ping node seed
// 39772 (auto_failback on, ping; found before the carrier configurations
// renumbered the seeds) over 40 seeds: alice, partitioned, asks to go
// standby; at the heal her older, cancelled standby messages are
// retransmitted before the new request. She took bob's answer to the old
// request for hers and waited an hour ("transition"), or her cancel of it
// ended the standby bob had begun for the new one, and her group ran
// nowhere. Before the fix 19 of these 40 seeds failed.
func TestSimStaleStandbyAnswer(t *testing.T) {
	cfg := simPingCfgs(t)[0]
	steps := []simStep{
		{At: 19941588231, Kind: "upcut", Node: 1, Arg: 1},
		{At: 31922777418, Kind: "upheal", Node: 1},
		{At: 34636756094, Kind: "cut", Node: 0, Arg: 7},
		{At: 89206568198, Kind: "upflap", Node: 0, Arg: int64(24 * time.Second)},
		{At: 152239793254, Kind: "cut", Node: 1, Arg: 3},
		{At: 156807346691, Kind: "standby", Node: 0},
		{At: 159856954945, Kind: "upheal", Node: 0},
	}
	replaySteps(t, cfg, steps, 39772, 40)
}

// TestSimRexmitAfterInit replays the minimal steps of ping node seed
// 51939 (auto_failback off, ping_group; numbered before the carrier
// configurations): under 30 % loss alice crashes, losing her state, and
// restarts; bob loses her "active" status and, with it, her first
// "resource" messages. His retransmission requests for them were dropped
// because she was still "init" to him, so he never learnt she was stable
// and said "transition" for good. Before the fix the seed itself and one
// of the 40 others failed.
func TestSimRexmitAfterInit(t *testing.T) {
	cfg := simPingCfgs(t)[3]
	steps := []simStep{
		{At: 30520532136, Kind: "pingdown", Node: 0, Arg: 3},
		{At: 47543127634, Kind: "loss", Node: 1, Arg: 30},
		{At: 111350628337, Kind: "crash", Node: 0, Arg: 1},
		{At: 117189319624, Kind: "cut", Node: 0, Arg: 4},
	}
	replaySteps(t, cfg, steps, 51939, 41)
}
