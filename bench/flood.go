package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"habox/lab"
)

// floodRun runs the hostile packet flood (lab.HostileFlood) against habox.
type floodRun struct {
	res     lab.FloodResult
	pps     int
	dur     time.Duration
	dead    int   // "node1: is dead" lines on node2 during the flood
	holders []int // VIP holders after it
}

// flood floods node1's heartbeat port (keepalive 200 ms, deadtime 1 s)
// with 10 000 datagrams/s of each of garbage, wrong-key, 64 KB and
// replayed packets for 30 s (QUICK: 10 s), habox only.
func (r *report) flood() {
	if !slices.Contains(r.cfg.peers, lab.Habox) {
		return
	}
	f := &floodRun{pps: 10000, dur: 30 * time.Second}
	if r.cfg.quick {
		f.dur = 10 * time.Second
	}
	err := try("flood", func(t *runT) {
		l := lab.New(t, lab.Options{Keepalive: 200 * time.Millisecond, Deadtime: time.Second})
		l.Start()
		l.WaitOwner(0, 60*time.Second)
		time.Sleep(2 * time.Second)
		deadRe := `node ` + l.Nodes[0].Name + `: is dead`
		dead0 := l.Nodes[1].CountLog(deadRe)
		res, err := l.HostileFlood(f.pps, f.dur)
		if err != nil {
			t.Fatalf("flood: %v", err)
		}
		time.Sleep(2 * time.Second)
		f.res = res
		f.dead = l.Nodes[1].CountLog(deadRe) - dead0
		f.holders = l.Holders()
		logf("  flood: %s", res)
	})
	if err != nil {
		r.fail(err)
		return
	}
	r.floodRun = f
}

// floodTable renders the flood figures.
func (r *report) floodTable() string {
	f := r.floodRun
	if f == nil {
		return ""
	}
	var b strings.Builder
	res := f.res
	fmt.Fprintf(&b, "\nHostile flood on the heartbeat link (habox, keepalive 200 ms / deadtime 1 s; node2's namespace sends %d/s of each kind to node1's eth1:694 for %v; the flooder shares the machine, so the rate reached is what it could send)\n\n", f.pps, f.dur)
	b.WriteString("| kind | datagrams | rate reached | counted as (node1) |\n|---|---|---|---|\n")
	counted := map[string][]string{"garbage": {"badpackets-garbage"}, "wrongkey": {"badpackets-auth"},
		"maxsize": {"badpackets-toobig"}, "replay": {"badpackets-replay", "duppackets", "ignoredpackets", "okpackets"}}
	for _, k := range lab.FloodKinds {
		c := 0
		for _, name := range counted[k] {
			c += res.Counters[name]
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f/s | %s = %d |\n", k, res.Sent[k], res.PPS(k), strings.Join(counted[k], " + "), c)
	}
	failovers := f.dead
	if !slices.Equal(f.holders, []int{0}) {
		failovers++
	}
	fmt.Fprintf(&b, "\nnode1's daemon during the flood: CPU %.1f%% of a core, %.1f µs per datagram sent; VmRSS %.2f → max %.2f MiB; false failovers %d (node2 declared node1 dead %d times, holders after: %v); kernel socket drops %d; datagrams read %d + socket drops = %d of %d sent accounted for.\n",
		100*res.CPU.Seconds()/res.Elapsed.Seconds(), float64(res.CPUPerPacket().Nanoseconds())/1000,
		float64(res.RSSStart)/1024, float64(res.RSSMax)/1024, failovers, f.dead, f.holders, res.SockDrops,
		res.Counters["rxpackets"], res.Accounted(), res.Total())
	return b.String()
}
