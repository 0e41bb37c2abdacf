package heartbeat

import (
	"os"
	"sort"
	"testing"
	"time"

	"habox/lab"
)

// TestMeasure reports habox's failover figures: client-seen outage for a
// hard failure and a graceful stop at keepalive 100ms / deadtime 1s, and
// the idle VmRSS of habox next to the 3.0.6 process tree in the same lab.
// It is slow and only runs with HABOX_MEASURE=N (N rounds).
func TestMeasure(t *testing.T) {
	rounds := 0
	if s := os.Getenv("HABOX_MEASURE"); s != "" {
		for _, c := range s {
			rounds = rounds*10 + int(c-'0')
		}
	}
	if rounds <= 0 {
		t.Skip("set HABOX_MEASURE=N to measure (N rounds)")
	}
	var hard, grace []time.Duration
	for i := 0; i < rounds; i++ {
		l := newLab(t, lab.Options{AutoFailback: "off", Serial: true})
		l.Start()
		l.WaitOwner(0, 10*time.Second)
		time.Sleep(6 * time.Second) // past the start-up dt boost; idle
		if i == 0 {
			rss, pss := lab.Mem(l.Nodes[0].DaemonPids())
			t.Logf("habox idle: VmRSS %d KiB, PSS %d KiB (%d process)", rss, pss, len(l.Nodes[0].DaemonPids()))
		}
		p, err := lab.StartProber(l.Client, 10*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		at := l.Nodes[0].HardFail()
		l.WaitOwner(1, 10*time.Second)
		o, err := outage(p, 0, 1, at)
		if err != nil {
			t.Fatal(err)
		}
		hard = append(hard, o)
		// node 2 owns it now (auto_failback off): restart node 1, then
		// stop node 2 gracefully.
		l.Nodes[0].Recover()
		l.Nodes[0].Start()
		l.WaitBothActive(10 * time.Second)
		time.Sleep(6 * time.Second)
		at = l.Nodes[1].Stop(10 * time.Second)
		l.WaitOwner(0, 10*time.Second)
		o, err = outage(p, 1, 0, at)
		if err != nil {
			t.Fatal(err)
		}
		grace = append(grace, o)
		l.Close()
	}
	med := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	t.Logf("hard failure outage: median %v of %v", med(hard), hard)
	t.Logf("graceful stop outage: median %v of %v", med(grace), grace)

	if _, err := os.Stat(lab.HB306); err == nil {
		l := newLab(t, lab.Options{AutoFailback: "off", Serial: true, Kinds: [2]lab.Kind{lab.Heartbeat, lab.Heartbeat}})
		l.Start()
		time.Sleep(6 * time.Second)
		rss, pss := lab.Mem(l.Nodes[0].DaemonPids())
		t.Logf("heartbeat 3.0.6 idle: VmRSS %d KiB, PSS %d KiB (%d processes)", rss, pss, len(l.Nodes[0].DaemonPids()))
	}
}
