package heartbeat

// A box without RTC and with /var on tmpfs reboots with
// hb_generation (and hb_uuid) gone and its clock at 2000-01-01, so its
// time-based generation is far below the one its peer remembers. Root
// tests with real daemons in network namespaces; the wall clock of one
// habox daemon is stepped with the test hook HABOX_CLOCK_OFFSET_FILE.

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"habox/lab"
)

// y2k is 2000-01-01 00:00:00 UTC, the clock of a box without RTC.
const y2k = 946684800

// clockFile creates node's clock offset file with off seconds and hooks
// it into its daemon's environment.
func clockFile(t *testing.T, n *lab.Node, off int64) string {
	t.Helper()
	p := n.Path("clock-offset")
	setClock(t, p, off)
	n.Env = append(n.Env, "HABOX_CLOCK_OFFSET_FILE="+p)
	return p
}

func setClock(t *testing.T, path string, off int64) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strconv.FormatInt(off, 10)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ownerWatch polls the VIP holders and remembers the most at once.
type ownerWatch struct {
	mu   sync.Mutex
	most int
	seen string
	stop chan struct{}
	done chan struct{}
}

func watchOwners(l *lab.Lab) *ownerWatch {
	w := &ownerWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if h := l.Holders(); len(h) > 0 {
				w.mu.Lock()
				if len(h) > w.most {
					w.most, w.seen = len(h), holders(l)
				}
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *ownerWatch) Stop() (int, string) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.most, w.seen
}

// waitPeerActive polls until n sees its peer active and returns when.
func waitPeerActive(t *testing.T, l *lab.Lab, n *lab.Node, d time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if n.PeerStatus() == "active" {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not see %s active after %v\n%s", n.Name, n.Peer().Name, d, l.LogTails(40))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rebootLosingState hard-fails node r, waits for its peer to take over,
// then "reboots" it as a box without RTC and with the state on tmpfs:
// hb_generation and hb_uuid gone, wall clock at 2000-01-01. It returns the
// start instant.
func rebootLosingState(t *testing.T, l *lab.Lab, r *lab.Node) time.Time {
	t.Helper()
	r.HardFail()
	l.WaitOwner(r.Peer().Index, 15*time.Second)
	r.Recover()
	for _, f := range []string{"hb_generation", "hb_uuid"} {
		if err := os.Remove(r.Path("lib", f)); err != nil {
			t.Fatal(err)
		}
	}
	clockFile(t, r, y2k-time.Now().Unix())
	t0 := time.Now()
	r.Start()
	return t0
}

func TestRejoinLostStateClockBehind(t *testing.T) {
	l := newLab(t, lab.Options{})
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	r, p := l.Nodes[0], l.Nodes[1]
	before := r.Generation()
	w := watchOwners(l)
	t0 := rebootLosingState(t, l, r)
	at := waitPeerActive(t, l, p, 20*time.Second)
	rejoin := at.Sub(t0)
	t.Logf("lost hb_generation, clock 2000-01-01: start -> peer sees it active %v (%.1f keepalives)", rejoin, float64(rejoin)/float64(tKeepalive))
	r.WaitLog(`No Previous generation - starting at 9466848`, time.Second)
	p.WaitLog(`attempted replay attack \[`+r.Name+`\]\? \[gen = 9466848`, time.Second)
	raised := r.WaitLog(`Raising heartbeat generation from 9466848\d+ to \d+: node `+p.Name+` remembers generation \d+ for us`, time.Second)
	old, _ := strconv.ParseUint(strings.TrimSpace(string(before)), 10, 64)
	want := "to " + strconv.FormatUint(old+1, 10) + ":"
	if !strings.Contains(raised, want) {
		t.Errorf("raised %q, want %q (the generation the peer remembered + 1)", raised, want)
	}
	if got := strings.TrimSpace(string(r.Generation())); got != strconv.FormatUint(old+1, 10) {
		t.Errorf("hb_generation %q after the raise, want %d (persisted)", got, old+1)
	}
	// A few keepalives after start-up; the bound leaves room for a loaded
	// machine (the hint path itself is checked by the log lines above).
	if rejoin > 5*time.Second {
		t.Errorf("rejoin took %v, want a few keepalives after start-up", rejoin)
	}
	// auto_failback on: the group goes back, never two owners.
	l.WaitOwner(0, 10*time.Second)
	time.Sleep(time.Second)
	if most, who := w.Stop(); most > 1 {
		t.Errorf("%d owners at once (%s)", most, who)
	}
	if c := p.CountLog(`Heartbeat restart on node ` + r.Name); c != 1 {
		t.Errorf("%d restarts of %s seen by %s, want 1\n%s", c, r.Name, p.Name, p.Log())
	}
}

// With a stock 3.0.6 peer, which has no hint: after 3 unanswered reqnodes
// the habox node takes the peer's clock + 1 as its generation.
func TestRejoinLostStateClockBehind306(t *testing.T) {
	require306(t)
	l := newLab(t, lab.Options{Kinds: [2]lab.Kind{lab.Habox, lab.Heartbeat}})
	l.Start()
	l.WaitOwner(0, 20*time.Second)
	r, p := l.Nodes[0], l.Nodes[1]
	w := watchOwners(l)
	t0 := rebootLosingState(t, l, r)
	at := waitPeerActive(t, l, p, 30*time.Second)
	rejoin := at.Sub(t0)
	t.Logf("3.0.6 peer, lost hb_generation, clock 2000-01-01: start -> peer sees it active %v", rejoin)
	p.WaitLog(`attempted replay attack \[`+r.Name+`\]\? \[gen = 9466848`, time.Second)
	r.WaitLog(`Raising heartbeat generation from 9466848\d+ to \d+: node `+p.Name+` answered none of 3 node list requests`, time.Second)
	if r.CountLog(`CRIT`) != 0 {
		t.Errorf("CRIT logged although the node rejoined:\n%s", r.Log())
	}
	if rejoin > 8*time.Second {
		t.Errorf("rejoin took %v", rejoin)
	}
	l.WaitOwner(0, 20*time.Second)
	time.Sleep(time.Second)
	if most, who := w.Stop(); most > 1 {
		t.Errorf("%d owners at once (%s)", most, who)
	}
}

var tsField = regexp.MustCompile(`src=([a-z0-9]+),[^\n]*?ts=([0-9a-f]+),`)

// lastTs captures n's messages on its peer's heartbeat link and returns
// the ts of one.
func lastTs(t *testing.T, l *lab.Lab, n *lab.Node) int64 {
	t.Helper()
	// Both nodes send: 30 packets usually hold some of n. A loaded test
	// machine can fill them with the peer's (CI runs on 2 cores), so
	// three tries; a node really silent that long is declared dead, which
	// the callers check.
	for try := 0; try < 3; try++ {
		caps, err := lab.CaptureUDP(n.Peer().NS, 694, 30, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range caps {
			if m := tsField.FindSubmatch(c.Payload); m != nil && string(m[1]) == n.Name {
				ts, _ := strconv.ParseInt(string(m[2]), 16, 64)
				return ts
			}
		}
	}
	t.Fatalf("no message from %s captured in three tries", n.Name)
	return 0
}

// Clock steps of hours (NTP at boot, a wrong RTC corrected) forward and
// back on one node: no false failover, no packet rejected, no node or
// link declared dead. (Late-heartbeat warnings are not counted: on a
// loaded test machine they come from scheduling, not from the clock.)
func TestClockSteps(t *testing.T) {
	l := newLab(t, lab.Options{Keepalive: 200 * time.Millisecond, Deadtime: 2 * time.Second, Warntime: time.Second, Initdead: 4 * time.Second})
	f := clockFile(t, l.Nodes[0], 0)
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	time.Sleep(5 * time.Second) // past the start-up dt boost
	w := watchOwners(l)
	for _, off := range []int64{3 * 3600, -3 * 3600, 0} {
		setClock(t, f, off)
		time.Sleep(time.Second)
		// The step is real: node1's statuses carry the stepped ts.
		if ts := lastTs(t, l, l.Nodes[0]); ts < time.Now().Unix()+off-5 || ts > time.Now().Unix()+off+5 {
			t.Fatalf("offset %d s: %s sends ts %d, now is %d", off, l.Nodes[0].Name, ts, time.Now().Unix())
		}
		time.Sleep(3 * time.Second)
	}
	if most, who := w.Stop(); most != 1 || who != l.Nodes[0].Name {
		t.Errorf("owners %d (%s), want only %s", most, who, l.Nodes[0].Name)
	}
	for _, n := range l.Nodes {
		if c := n.CountLog(`is dead|dead\.|replay|bad packets|CRIT|restart on node|partition`); c != 0 {
			t.Errorf("%s logged %d failure lines after clock steps:\n%s", n.Name, c, n.Log())
		}
		if out, _ := n.Ctl("cl_status", "hbparameter", "-p", "badpackets"); strings.TrimSpace(out) != "0" {
			t.Errorf("%s: badpackets %q", n.Name, out)
		}
	}
}

// When even the 3.0.6 peer's clock + 1 is below the generation it
// remembers (here: the node ran a year ahead before it lost its state),
// nothing can be guessed: after 10 unanswered reqnodes the node logs one
// CRIT line with the fix.
func TestRejoinImpossible306(t *testing.T) {
	require306(t)
	l := newLab(t, lab.Options{Kinds: [2]lab.Kind{lab.Habox, lab.Heartbeat}})
	r, p := l.Nodes[0], l.Nodes[1]
	f := clockFile(t, r, 365*24*3600)
	l.Start()
	l.WaitOwner(0, 20*time.Second)
	r.HardFail()
	l.WaitOwner(1, 15*time.Second)
	r.Recover()
	for _, name := range []string{"hb_generation", "hb_uuid"} {
		os.Remove(r.Path("lib", name))
	}
	setClock(t, f, 0)
	r.Start()
	r.WaitLog(`Node `+p.Name+` has not answered 10 node list requests: it most likely drops every message of ours as a replay`, 30*time.Second)
	crit := r.WaitLog(`CRIT: .*`, time.Second)
	for _, want := range []string{"Fix: restart heartbeat on " + p.Name, "keep /var/lib/heartbeat on persistent storage", "-l DIR / HA_VARLIB=DIR"} {
		if !strings.Contains(crit, want) {
			t.Errorf("CRIT line lacks %q: %s", want, crit)
		}
	}
	time.Sleep(2 * time.Second)
	if n := r.CountLog(`CRIT`); n != 1 {
		t.Errorf("%d CRIT lines, want 1", n)
	}
	// It never became active, so it never took the group: one owner.
	if h := l.Holders(); len(h) != 1 || h[0] != 1 {
		t.Errorf("holders %v, want only %s", h, p.Name)
	}
}
