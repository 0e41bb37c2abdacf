package lab

import (
	"testing"
	"time"

	"habox/hw/hwtest"
)

// requireHB306 skips (or fails under CI=true) when the stock daemon is missing.
func requireHB306(t *testing.T) {
	t.Helper()
	hwtest.RequireRoot(t)
	hwtest.RequireFile(t, HB306, "heartbeat 3.0.6 (Debian package heartbeat)")
	for _, c := range []string{"unshare", "nsenter", "socat", "nft"} {
		hwtest.RequireCmd(t, c)
	}
}

// TestLab306Failover is the lab's self-test and the bench baseline: two
// stock 3.0.6 nodes come up active, node1 holds the VIP and the client
// reaches it; a hard failure of node1 moves the VIP to node2.
func TestLab306Failover(t *testing.T) {
	requireHB306(t)
	l := New(t, Options{Kinds: [2]Kind{Heartbeat, Heartbeat}, Keepalive: 200 * time.Millisecond, Deadtime: time.Second, Script: true})
	l.Start()
	l.WaitOwner(0, 20*time.Second)
	if got := l.ClientReaches(2 * time.Second); got != 0 {
		t.Fatalf("client reached node %d, want node 0", got)
	}
	p, err := StartProber(l.Client, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if _, ok := p.WaitAnswer(0, time.Now(), 2*time.Second); !ok {
		t.Fatal("no answer from node1 before the failure")
	}
	t0 := l.Nodes[0].HardFail()
	if _, ok := p.WaitAnswer(1, t0, 10*time.Second); !ok {
		t.Fatalf("node2 never answered after the failure\n%s", l.LogTails(40))
	}
	out, err := p.Outage(0, 1, t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3.0.6 hard-failure outage at 200ms/1s: %v", out)
	if out < 500*time.Millisecond || out > 5*time.Second {
		t.Errorf("outage %v outside the plausible range for deadtime 1s", out)
	}
	if !l.Nodes[1].WaitScript(true, 5*time.Second) {
		t.Errorf("test resource not started on node2\n%s", l.LogTails(60))
	}
	l.Nodes[1].WaitLog(`node linuxha1: is dead`, 2*time.Second)
}
