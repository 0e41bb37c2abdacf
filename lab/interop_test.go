package lab

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// badInterop are 3.0.6 log lines that must not appear between healthy
// peers: authentication failures, missing ACKs, sequence gaps, replays.
var badInterop = regexp.MustCompile(`failed authentication|authtoken does not match|netstring authentication failed|Invalid authentication|hist queue is filling up|lost packet|replay attack|Irretrievably lost|Cannot rexmit|should_drop_message`)

// skipIfNoHabox skips a test needing the habox daemon while its heartbeat
// applet is still the skeleton's stub.
func skipIfNoHabox(t *testing.T, kinds ...Kind) {
	t.Helper()
	for _, k := range kinds {
		if k == Habox {
			if ok, msg := HaboxDaemonReady(t); !ok {
				t.Skipf("skipping: habox heartbeat daemon not implemented yet (%s)", msg)
			}
			return
		}
	}
}

// TestInterop306 runs mixed pairs (habox + stock heartbeat 3.0.6, in both
// roles) for sha1, md5 and crc, and a 3.0.6 pair as the lab's baseline:
// both sides see each other active (cl_status), 3.0.6 logs no
// authentication failure, full history queue or lost packet in steady
// state, the owner hands over to the other kind on failure (hard failure
// for sha1/md5, graceful stop for crc) and gets the service back on return.
func TestInterop306(t *testing.T) {
	requireHB306(t)
	cases := []struct {
		name   string
		kinds  [2]Kind
		auth   string
		steady time.Duration
		hard   bool
	}{
		{"306-306-sha1", [2]Kind{Heartbeat, Heartbeat}, "sha1", 3 * time.Second, true},
		// keepalive 50ms: 20 s are ~400 messages, past the 375 unacked
		// messages after which 3.0.6 logs "hist queue is filling up".
		{"habox-306-sha1", [2]Kind{Habox, Heartbeat}, "sha1", 20 * time.Second, true},
		{"306-habox-sha1", [2]Kind{Heartbeat, Habox}, "sha1", 3 * time.Second, true},
		{"habox-306-md5", [2]Kind{Habox, Heartbeat}, "md5", 3 * time.Second, true},
		{"306-habox-md5", [2]Kind{Heartbeat, Habox}, "md5", 3 * time.Second, true},
		{"habox-306-crc", [2]Kind{Habox, Heartbeat}, "crc", 3 * time.Second, false},
		{"306-habox-crc", [2]Kind{Heartbeat, Habox}, "crc", 3 * time.Second, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			skipIfNoHabox(t, c.kinds[:]...)
			t.Parallel()
			l := New(t, Options{Kinds: c.kinds, Auth: c.auth, Keepalive: 50 * time.Millisecond,
				Deadtime: 2 * time.Second, Initdead: 4 * time.Second, Script: true})
			l.Start()
			l.WaitOwner(0, 30*time.Second)
			if !l.Nodes[0].WaitScript(true, 10*time.Second) {
				t.Fatalf("test resource not running on %s\n%s", l.Nodes[0].Name, l.LogTails(40))
			}
			p, err := StartProber(l.Client, 10*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			steadyFrom := time.Now()
			time.Sleep(c.steady)
			for _, n := range l.Nodes {
				if s := n.PeerStatus(); s != "active" {
					t.Errorf("%s (%s) sees %s as %q, want active", n.Name, n.Kind, n.Peer().Name, s)
				}
				if n.Kind == Heartbeat {
					if bad := badInterop.FindAllString(n.Log(), 5); len(bad) > 0 {
						t.Errorf("%s (3.0.6) logged %q in steady state\n%s", n.Name, bad, l.LogTails(40))
					}
				}
			}
			if lost := p.Lost(steadyFrom.Add(100*time.Millisecond), time.Now().Add(-100*time.Millisecond)); lost > 3 {
				t.Errorf("client lost %d probes in steady state", lost)
			}

			// Failover from node1 to node2 (the other kind).
			var t0 time.Time
			if c.hard {
				t0 = l.Nodes[0].HardFail()
			} else {
				t0 = l.Nodes[0].Stop(20 * time.Second)
			}
			if _, ok := p.WaitAnswer(1, t0, 15*time.Second); !ok {
				t.Fatalf("%s (%s) never answered after %s failed\n%s", l.Nodes[1].Name, c.kinds[1], l.Nodes[0].Name, l.LogTails(50))
			}
			out, err := p.Outage(0, 1, t0)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("failover %s -> %s (hard=%v): client outage %v", c.kinds[0], c.kinds[1], c.hard, out)
			l.WaitOwner(1, 5*time.Second)
			if !l.Nodes[1].WaitScript(true, 10*time.Second) {
				t.Errorf("test resource not running on %s after takeover", l.Nodes[1].Name)
			}

			// Failback: node1 returns and takes its group back (auto_failback on).
			if c.hard {
				l.Nodes[0].Recover()
			}
			t1 := time.Now()
			l.Nodes[0].Start()
			l.WaitBothActive(30 * time.Second)
			if _, ok := p.WaitAnswer(0, t1, 40*time.Second); !ok {
				t.Fatalf("%s (%s) did not get the service back\n%s", l.Nodes[0].Name, c.kinds[0], l.LogTails(50))
			}
			l.WaitOwner(0, 10*time.Second)
			if !l.Nodes[0].WaitScript(true, 10*time.Second) {
				t.Errorf("test resource not running on %s after failback", l.Nodes[0].Name)
			}
			if out, err := p.Outage(1, 0, t1); err == nil {
				t.Logf("failback %s -> %s: client outage %v", c.kinds[1], c.kinds[0], out)
			}
			for _, n := range l.Nodes {
				if !n.Running() {
					t.Errorf("%s (%s) is not running at the end", n.Name, n.Kind)
				}
			}
		})
	}
}

// The habox node's eth1 is configured the busybox way,
// "ip addr add 10.78.0.1/24 dev eth1" without "brd +", so it has no IPv4
// broadcast address; the stock 3.0.6 peer's eth1 has one (without it,
// 3.0.6 itself sends to 0.0.0.0, i.e. nowhere). habox derives 10.78.0.255,
// says so, and the pair runs clean in both roles.
func TestInterop306NoBroadcastAddress(t *testing.T) {
	requireHB306(t)
	skipIfNoHabox(t, Habox)
	for _, kinds := range [][2]Kind{{Habox, Heartbeat}, {Heartbeat, Habox}} {
		t.Run(string(kinds[0])+"-"+string(kinds[1]), func(t *testing.T) {
			l := New(t, Options{Kinds: kinds, Keepalive: 100 * time.Millisecond, Deadtime: 2 * time.Second, Initdead: 4 * time.Second})
			var hb *Node
			for _, n := range l.Nodes {
				if n.Kind == Habox {
					hb = n
				}
			}
			addr := HBPrefix + strconv.Itoa(hb.Index+1) + "/24"
			for _, args := range [][]string{{"addr", "del", addr, "dev", "eth1"}, {"addr", "add", addr, "dev", "eth1"}} {
				if err := hb.NS.Run("ip", args...); err != nil {
					t.Fatal(err)
				}
			}
			if out, _ := hb.NS.Output("ip", "-4", "-o", "addr", "show", "dev", "eth1"); strings.Contains(out, " brd ") {
				t.Fatalf("eth1 still has a broadcast address: %s", out)
			}
			l.Start()
			time.Sleep(3 * time.Second)
			for _, n := range l.Nodes {
				if s := n.PeerStatus(); s != "active" {
					t.Errorf("%s (%s) sees %s as %q, want active", n.Name, n.Kind, n.Peer().Name, s)
				}
			}
			if bad := badInterop.FindAllString(hb.Peer().Log(), 5); len(bad) > 0 {
				t.Errorf("3.0.6 logged %q\n%s", bad, l.LogTails(40))
			}
			want := "glib: bcast eth1: no IPv4 broadcast address configured; sending to " + HBPrefix + "255, derived from " + addr
			if !strings.Contains(hb.Log(), want) {
				t.Errorf("habox did not log %q\n%s", want, l.LogTails(40))
			}
		})
	}
}
