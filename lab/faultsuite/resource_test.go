package faultsuite

import (
	"bytes"
	"os"
	"testing"
	"time"

	"habox/lab"
)

// TestFaultResourceStartFailure: the owner's test resource fails to start.
// Documented behaviour (applets/heartbeat/doc.go, as 3.0.6): the whole
// group is stopped again and "Giving up resources due to failure of …" is
// logged (3.0.6's hb_standby after 30 s is not done). The operator's
// hb_takeover on the peer then moves the service there: one owner.
func TestFaultResourceStartFailure(t *testing.T) {
	k := kind(t)
	t.Parallel()
	if k != lab.Habox {
		t.Skip("habox's documented behaviour")
	}
	l := lab.New(t, lab.Options{Kinds: [2]lab.Kind{k, k}, Keepalive: 100 * time.Millisecond, Deadtime: time.Second, Script: true, Watchdog: true})
	n1, n2 := l.Nodes[0], l.Nodes[1]
	n1.FailScript("start", true)
	l.Start()
	n1.WaitLog(`Giving up resources due to failure of hatest`, 20*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for len(l.Holders()) != 0 || n1.ScriptRunning() {
		if time.Now().After(deadline) {
			t.Fatalf("group not stopped after the start failure: holders %v, script running %v\n%s", l.Holders(), n1.ScriptRunning(), l.LogTails(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, code := n2.Ctl("hb_takeover", "all"); code != 0 {
		t.Fatalf("hb_takeover all on %s: exit %d: %s", n2.Name, code, out)
	}
	l.WaitOwner(1, 20*time.Second)
	if !n2.WaitScript(true, 10*time.Second) {
		t.Errorf("test resource not running on %s after hb_takeover", n2.Name)
	}
	c := adopt(t, l)
	c.invariants()
}

// TestFaultResourceStopFailure: the owner cannot stop its test resource
// during hb_standby. Documented behaviour with a watchdog configured: after
// the stop retries, CRIT "Fencing this node: … watchdog … no longer fed",
// the watchdog is no longer fed and never magic-closed, so the board
// resets; the lab plays the reset (power loss of node1) and node2 must
// then own the service.
func TestFaultResourceStopFailure(t *testing.T) {
	k := kind(t)
	t.Parallel()
	if k != lab.Habox {
		t.Skip("3.0.6 reboots the machine on a stop failure")
	}
	l := lab.New(t, lab.Options{Kinds: [2]lab.Kind{k, k}, Keepalive: 100 * time.Millisecond, Deadtime: time.Second, Script: true, Watchdog: true})
	n1, n2 := l.Nodes[0], l.Nodes[1]
	l.Start()
	l.WaitOwner(0, 20*time.Second)
	if !n1.WaitScript(true, 10*time.Second) {
		t.Fatalf("test resource not running on %s", n1.Name)
	}
	n1.FailScript("stop", true)
	if out, code := n1.Ctl("hb_standby", "all"); code != 0 {
		t.Fatalf("hb_standby on %s: exit %d: %s", n1.Name, code, out)
	}
	n1.WaitLog(`CRIT: Fencing this node: .*watchdog`, 40*time.Second)
	sz := fileSize(n1.WatchdogFile())
	time.Sleep(time.Second) // 10 keepalives
	b, _ := os.ReadFile(n1.WatchdogFile())
	if int64(len(b)) != sz {
		t.Errorf("watchdog still fed after fencing: %d -> %d bytes", sz, len(b))
	}
	if bytes.IndexByte(b, 'V') >= 0 {
		t.Errorf("watchdog magic-closed: the board would not reset")
	}
	// The watchdog fires: node1 loses power.
	n1.HardFail()
	l.WaitOwner(1, 20*time.Second)
	if !n2.WaitScript(true, 10*time.Second) {
		t.Errorf("test resource not running on %s after the reset of %s", n2.Name, n1.Name)
	}
	// node1 reboots and rejoins. node2 got the group through the standby
	// node1 had asked for (an operator's move, not a takeover after a
	// death), so auto_failback does not move it back: one owner either way.
	n1.FailScript("stop", false)
	n1.Recover()
	os.WriteFile(n1.WatchdogFile(), nil, 0o600)
	n1.Start()
	l.WaitBothActive(30 * time.Second)
	time.Sleep(2 * time.Second)
	c := adopt(t, l)
	owner := c.invariants()
	t.Logf("owner after %s rejoined: %s", n1.Name, l.Nodes[owner].Name)
}

// adopt wraps an already started lab for the invariant checks, taking the
// current files and generations as the reference.
func adopt(t *testing.T, l *lab.Lab) *cluster {
	t.Helper()
	c := &cluster{Lab: l, t: t, stopW: make(chan struct{})}
	p, err := lab.StartProber(l.Client, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c.p = p
	t.Cleanup(func() { p.Stop() })
	for i, n := range l.Nodes {
		c.files[i] = map[string][]byte{}
		for _, f := range []string{"ha.cf", "haresources", "authkeys"} {
			b, _ := os.ReadFile(n.Path("etc", f))
			c.files[i][f] = b
		}
		c.gen[i] = n.Generation()
		if l.Opts.Watchdog {
			c.wd0[i] = fileSize(n.WatchdogFile())
		}
	}
	time.Sleep(500 * time.Millisecond) // watchdog feeds since wd0
	return c
}
