package lab

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// uplinkCf is the ha.cf tail of the uplink tests: the router is the ping
// node, deadping 1 s (keepalive 200 ms).
const uplinkCf = "ping " + RouterIP + "\ndeadping 1\n"

// newUplinkLab starts a two-node lab with a router and extra ha.cf lines,
// and waits until node1 holds the VIP and both see the ping node.
func newUplinkLab(t *testing.T, kinds [2]Kind, extra string) *Lab {
	t.Helper()
	// deadtime 3 s: a loaded test machine must not partition the pair.
	l := New(t, Options{Kinds: kinds, Keepalive: 200 * time.Millisecond, Deadtime: 3 * time.Second,
		Router: true, ExtraHaCf: extra})
	l.Start()
	l.WaitOwner(0, 20*time.Second)
	for _, n := range l.Nodes {
		if strings.Contains(extra, "ping ") {
			n.WaitLog(`Status update for (ping )?node `+strings.ReplaceAll(RouterIP, ".", `\.`)+`: status ping`, 10*time.Second)
		}
	}
	return l
}

// measureMove cuts with f at t0 and returns the time until the client's
// first answer from node `to` (the service was still answered by `from`
// meanwhile: only the uplink died).
func measureMove(t *testing.T, l *Lab, from, to int, f func() error) time.Duration {
	t.Helper()
	p, err := StartProber(l.Client, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if _, ok := p.WaitAnswer(from, time.Now(), 3*time.Second); !ok {
		t.Fatalf("no answer from %s before the cut\n%s", l.Nodes[from].Name, l.LogTails(30))
	}
	t0 := time.Now()
	if err := f(); err != nil {
		t.Fatal(err)
	}
	at, ok := p.WaitAnswer(to, t0, 10*time.Second)
	if !ok {
		t.Fatalf("%s never answered after the cut\n%s", l.Nodes[to].Name, l.LogTails(60))
	}
	return at.Sub(t0)
}

// both cuts (or restores) the uplinks of both nodes at the same instant.
func both(t *testing.T, l *Lab, cut bool) {
	t.Helper()
	errs := make(chan error, 2)
	for _, n := range l.Nodes {
		go func() { errs <- n.CutUplink(cut) }()
	}
	for range l.Nodes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// stays checks for d that node i alone holds the VIP.
func stays(t *testing.T, l *Lab, i int, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if h := l.Holders(); len(h) != 1 || h[0] != i {
			t.Fatalf("VIP holders %v, want only %s\n%s", h, l.Nodes[i].Name, l.LogTails(60))
		}
	}
}

// TestUplinkFailover: habox pairs with the router as ping node.
func TestUplinkFailover(t *testing.T) {
	requireHB306(t)
	t.Parallel()
	t.Run("owner uplink cut and restored", func(t *testing.T) {
		t.Parallel()
		// ipfail's 3.0.6 respawn line turns the built-in policy on.
		l := newUplinkLab(t, [2]Kind{Habox, Habox}, uplinkCf+"respawn hacluster /usr/libexec/heartbeat/ipfail\n")
		l.Nodes[0].WaitLog(`ipfail's policy runs inside heartbeat`, time.Second)
		// cl_status sees the ping node as 3.0.6 shows it.
		for _, c := range []struct{ args, want string }{
			{"listnodes", RouterIP + "\nlinuxha2\nlinuxha1\n"}, // as 3.0.6: last declared first
			{"nodetype " + RouterIP, "ping\n"},
			{"nodestatus " + RouterIP, "ping\n"},
			{"nodetype linuxha2", "normal\n"},
		} {
			if out, _ := l.Nodes[0].Ctl("cl_status", strings.Fields(c.args)...); out != c.want {
				t.Errorf("cl_status %s = %q, want %q", c.args, out, c.want)
			}
		}
		out := measureMove(t, l, 0, 1, func() error { return l.Nodes[0].CutUplink(true) })
		t.Logf("uplink cut -> served by the other node: %v (goal <= deadping + 2xkeepalive + 50ms = 1450ms)", out)
		if out > 2500*time.Millisecond {
			t.Errorf("outage %v", out)
		}
		l.Nodes[0].WaitLog(`node `+strings.ReplaceAll(RouterIP, ".", `\.`)+`: is dead`, time.Second)
		stays(t, l, 1, 2*time.Second)
		if err := l.Nodes[0].CutUplink(false); err != nil {
			t.Fatal(err)
		}
		back := l.WaitOwner(0, 15*time.Second)
		t.Logf("uplink restored -> back on node1 after %v (5 s hysteresis)", back)
		if back < 4*time.Second {
			t.Errorf("came back after %v, before the uplink was steady for 5 s", back)
		}
		stays(t, l, 0, 6*time.Second)
		for _, n := range l.Nodes {
			if c := n.CountLog(`Going standby`); c != 1 {
				t.Errorf("%s went standby %d times, want 1 (no flapping)\n%s", n.Name, c, l.LogTails(80))
			}
		}
	})
	t.Run("both uplinks cut", func(t *testing.T) {
		t.Parallel()
		// deadping 2 s: a test machine stalling for a second must not
		// look like a third uplink loss.
		l := newUplinkLab(t, [2]Kind{Habox, Habox}, "ping "+RouterIP+"\ndeadping 2\nhabox_ipfail on\n")
		both(t, l, true)
		for _, n := range l.Nodes {
			n.WaitLog(`node `+strings.ReplaceAll(RouterIP, ".", `\.`)+`: is dead`, 3*time.Second)
		}
		stays(t, l, 0, 3*time.Second)
		both(t, l, false)
		stays(t, l, 0, 7*time.Second)
		for _, n := range l.Nodes {
			if c := n.CountLog(`Going standby`); c != 0 {
				t.Errorf("%s went standby %d times, want 0\n%s", n.Name, c, l.LogTails(80))
			}
		}
	})
	t.Run("carrier loss", func(t *testing.T) {
		t.Parallel()
		l := newUplinkLab(t, [2]Kind{Habox, Habox}, "habox_track_carrier eth0\n")
		out := measureMove(t, l, 0, 1, func() error { return l.Nodes[0].SetCarrier(false) })
		t.Logf("carrier lost -> served by the other node: %v", out)
		l.Nodes[0].WaitLog(`Carrier lost on eth0`, time.Second)
		if err := l.Nodes[0].SetCarrier(true); err != nil {
			t.Fatal(err)
		}
		l.WaitOwner(0, 15*time.Second)
	})
}

// TestUplinkMixed: a habox node and a stock 3.0.6 node running ipfail
// (respawn hacluster /usr/libexec/heartbeat/ipfail on both; on habox the
// line turns the built-in policy on) fail over when the owner's uplink
// is cut and fail back when it returns, in both directions.
func TestUplinkMixed(t *testing.T) {
	requireHB306(t)
	t.Parallel()
	for _, kinds := range [][2]Kind{{Habox, Heartbeat}, {Heartbeat, Habox}} {
		t.Run(string(kinds[0])+" owner", func(t *testing.T) {
			t.Parallel()
			l := newUplinkLab(t, kinds, uplinkCf+"respawn hacluster "+IPFail+"\n")
			// cl_status shows the ping node as 3.0.6 does.
			for _, args := range []string{"listnodes", "nodetype " + RouterIP, "nodestatus " + RouterIP,
				"listhblinks " + RouterIP, "listhblinks " + RouterIP + " -v", "hblinkstatus " + RouterIP + " " + RouterIP,
				"listnodes -p", "listnodes -n", "nodestatus nosuchnode", "nodetype nosuchnode"} {
				a, ca := l.Nodes[0].Ctl("cl_status", strings.Fields(args)...)
				b, cb := l.Nodes[1].Ctl("cl_status", strings.Fields(args)...)
				if a != b || ca != cb {
					t.Errorf("cl_status %s: %s says %q (exit %d), %s says %q (exit %d)", args, kinds[0], a, ca, kinds[1], b, cb)
				}
			}
			// ipfail signs on after comm-up and sends its count when it
			// learns the other side joined; give it a moment.
			time.Sleep(time.Second)
			out := measureMove(t, l, 0, 1, func() error { return l.Nodes[0].CutUplink(true) })
			t.Logf("%s owner: uplink cut -> served by %s: %v", kinds[0], kinds[1], out)
			stays(t, l, 1, 2*time.Second)
			if err := l.Nodes[0].CutUplink(false); err != nil {
				t.Fatal(err)
			}
			back := l.WaitOwner(0, 20*time.Second)
			t.Logf("%s owner: uplink restored -> back after %v", kinds[0], back)
			stays(t, l, 0, 3*time.Second)
			// The owner logs its ping node's death and return with the
			// lines 3.0.6 writes (pattern taken from 3.0.6's own logs).
			r := regexp.QuoteMeta(RouterIP)
			seq := regexp.MustCompile(`(?s)WARN: node ` + r + `: is dead\n[^\n]*info: Link ` + r + `:` + r + ` dead\.\n.*` +
				`info: Link ` + r + `:` + r + ` up\.\n[^\n]*CRIT: Late heartbeat: Node ` + r + `: interval \d+ ms \(> deadtime\)\n` +
				`[^\n]*WARN: node ` + r + `: is dead\n[^\n]*info: Status update for node ` + r + `: status ping\n`)
			var own strings.Builder
			for _, line := range strings.Split(l.Nodes[0].Log(), "\n") {
				if strings.Contains(line, " heartbeat: ") && strings.Contains(line, RouterIP) {
					own.WriteString(line + "\n")
				}
			}
			switch {
			case seq.MatchString(own.String()):
			case kinds[0] == Habox:
				t.Errorf("habox's ping node lines differ from 3.0.6's:\n%s", own.String())
			default:
				// 3.0.6 itself does not always log all of them (a
				// loaded machine reorders its processes' lines).
				t.Logf("3.0.6's ping node lines this time:\n%s", own.String())
			}
			if testing.Verbose() {
				for _, n := range l.Nodes {
					for _, line := range strings.Split(n.Log(), "\n") {
						if strings.Contains(line, "ipfail") || strings.Contains(line, RouterIP) || strings.Contains(line, "standby") {
							t.Log(line)
						}
					}
				}
			}
		})
	}
}
