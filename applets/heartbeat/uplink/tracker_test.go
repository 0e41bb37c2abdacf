package uplink

import (
	"reflect"
	"testing"
	"time"

	"habox/applets/internal/wire"
)

func texts(ev []Event) []string {
	var l []string
	for _, e := range ev {
		l = append(l, e.Text)
	}
	return l
}

func TestTrackerPingNode(t *testing.T) {
	s := time.Second
	tr := NewTracker([]string{"10.0.0.254", "uplinks"}, nil, 2*s, 0)
	if tr.Status("10.0.0.254") != StInit || tr.LinkStatus("uplinks") != "dead" || tr.Status("x") != "" {
		t.Fatal("initial statuses")
	}
	if got := texts(tr.Heard("10.0.0.254", s)); !reflect.DeepEqual(got, []string{"Link 10.0.0.254:10.0.0.254 up.", "Status update for node 10.0.0.254: status ping"}) {
		t.Errorf("Heard = %q", got)
	}
	if ev := tr.Heard("10.0.0.254", 2*s); ev != nil {
		t.Errorf("second reply: %q", texts(ev))
	}
	if c := tr.Count(2 * s); c != 1 {
		t.Errorf("count %d, want 1 (never lost: counts at once)", c)
	}
	// uplinks never answers: dead after deadping from start.
	if got := texts(tr.Tick(2100 * time.Millisecond)); !reflect.DeepEqual(got, []string{"node uplinks: is dead"}) {
		t.Errorf("Tick = %q", got)
	}
	if got := texts(tr.Tick(4100 * time.Millisecond)); !reflect.DeepEqual(got, []string{"node 10.0.0.254: is dead", "Link 10.0.0.254:10.0.0.254 dead."}) {
		t.Errorf("Tick = %q", got)
	}
	if c := tr.Count(5 * s); c != 0 {
		t.Errorf("count %d", c)
	}
	// Back: the lines 3.0.6 logs for a returning ping node.
	if got := texts(tr.Heard("10.0.0.254", 6*s)); !reflect.DeepEqual(got, []string{"Link 10.0.0.254:10.0.0.254 up.",
		"Late heartbeat: Node 10.0.0.254: interval 4000 ms (> deadtime)", "node 10.0.0.254: is dead",
		"Status update for node 10.0.0.254: status ping"}) {
		t.Errorf("return = %q", got)
	}
	if c := tr.Count(6*s + Stability - time.Millisecond); c != 0 {
		t.Errorf("back for less than Stability: count %d", c)
	}
	for now := 6 * s; now <= 6*s+Stability; now += s {
		tr.Heard("10.0.0.254", now)
		tr.Tick(now)
	}
	if c := tr.Count(6*s + Stability); c != 1 {
		t.Errorf("back for Stability: count %d", c)
	}
}

func TestTrackerCarrier(t *testing.T) {
	tr := NewTracker(nil, []string{"eth0"}, time.Second, 0)
	if tr.Count(0) != 1 {
		t.Fatal("carrier only, up: count 1")
	}
	if ev := tr.Carrier("eth0", false, time.Second); len(ev) != 1 || tr.Count(time.Second) != 0 {
		t.Fatalf("carrier down: %q count %d", texts(ev), tr.Count(time.Second))
	}
	if ev := tr.Carrier("eth0", false, time.Second); ev != nil || tr.Carrier("eth9", true, 0) != nil {
		t.Error("no change, unknown interface: no event")
	}
	tr.Carrier("eth0", true, 2*time.Second)
	if tr.Count(2*time.Second+Stability-1) != 0 || tr.Count(2*time.Second+Stability) != 1 {
		t.Error("carrier back counts after Stability")
	}
	// With ping nodes, a carrier loss zeroes the count.
	tr = NewTracker([]string{"gw"}, []string{"eth0"}, time.Second, 0)
	tr.Heard("gw", 0)
	tr.Carrier("eth0", false, 0)
	if tr.Count(0) != 0 {
		t.Error("carrier down with a ping node up: want 0")
	}
}

func TestProbe(t *testing.T) {
	k, err := wire.NewKeyringFor(1, "sha1", "secret")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Probe(k, "uplinks", true, 0x6543a1b2)
	if err != nil {
		t.Fatal(err)
	}
	if name, group, ok := ParseProbe(k, b); !ok || name != "uplinks" || !group {
		t.Errorf("ParseProbe = %q %v %v", name, group, ok)
	}
	other, _ := wire.NewKeyringFor(1, "sha1", "other")
	if _, _, ok := ParseProbe(other, b); ok {
		t.Error("accepted with the wrong key")
	}
	b[len(b)/2] ^= 1
	if _, _, ok := ParseProbe(k, b); ok {
		t.Error("accepted a corrupted probe")
	}
	st, _ := wire.NewKeyringFor(1, "sha1", "secret")
	m := wire.New(wire.Status)
	m.Add(wire.Src, "uplinks")
	m.Add(wire.Ts, "1")
	nb, _ := st.AppendNetstring(nil, m)
	if _, _, ok := ParseProbe(k, nb); ok {
		t.Error("accepted a status message")
	}
}

func TestPolicyMessages(t *testing.T) {
	p := NewPolicy(400*time.Millisecond, true, 2)
	if acts := p.Count(2); acts != nil {
		t.Errorf("no change: %v", acts)
	}
	acts := p.PeerUp(true)
	if len(acts) != 1 || acts[0].Type != TNumPing || !reflect.DeepEqual(acts[0].Fields, [][2]string{{"num_ping", "2"}}) {
		t.Fatalf("PeerUp = %+v", acts)
	}
	if acts := p.Message(TNumPing, "1", false, true, true, 0); acts[len(acts)-1].Type != TYouAreDead {
		t.Errorf("more: %+v", acts)
	}
	p.Message(TNumPing, "3", false, true, true, 0)
	if p.Pending() != "all" {
		t.Fatal("less: no give-up scheduled")
	}
	if acts := p.Tick(true, true, 399*time.Millisecond); acts != nil {
		t.Error("fired before 2×keepalive")
	}
	if acts := p.Tick(true, true, 400*time.Millisecond); len(acts) != 1 || acts[0].Kind != GiveUp || acts[0].Hold != "all" {
		t.Errorf("Tick = %+v", acts)
	}
	p.Message(TYouAreDead, "", false, true, true, time.Second)
	p.Message(TAbort, "", false, true, true, time.Second)
	if p.Pending() != "" {
		t.Error("abort_giveup did not cancel")
	}
	// More, but our own replies are late: wait until they are fresh.
	p.Message(TAbort, "", false, true, true, time.Second)
	if acts := p.Message(TNumPing, "0", false, true, false, time.Second); len(acts) != 1 || acts[0].Kind != Log {
		t.Errorf("stale: %+v", acts)
	}
	if acts := p.Tick(true, false, time.Second); acts != nil {
		t.Errorf("still stale: %+v", acts)
	}
	if acts := p.Tick(true, true, time.Second); len(acts) != 2 || acts[1].Type != TYouAreDead {
		t.Errorf("fresh again: %+v", acts)
	}
	// Balanced while holding foreign groups, auto_failback on: give them back.
	p.Message(TNumPing, "2", true, true, true, 2*time.Second)
	if p.Pending() != "foreign" {
		t.Errorf("balanced: pending %q, want foreign", p.Pending())
	}
	// Resources unstable when due: wait, then re-send the count.
	p = NewPolicy(time.Second, false, 0)
	p.PeerUp(true)
	p.Message(TYouAreDead, "", false, true, true, 0)
	if acts := p.Tick(false, true, 2*time.Second); acts != nil {
		t.Errorf("unstable: %+v", acts)
	}
	// Waiting for stable resources is no deadline: a due time in the
	// past made the daemon's uplink timer fire at once, again and again
	// (a busy loop until the resources were stable).
	if at, ok := p.Due(); ok && at <= 2*time.Second {
		t.Errorf("waiting for stable resources: due at %v, in the past", at)
	}
	if acts := p.Tick(true, true, 3*time.Second); len(acts) != 1 || acts[0].Type != TNumPing {
		t.Errorf("stable again: %+v", acts)
	}
	if acts := p.Message(TNumPing, "x", false, true, true, 0); len(acts) != 1 || acts[0].Kind != Log {
		t.Errorf("bad count: %+v", acts)
	}
}

// TestPolicyPeerFewer: failbacks are held only while the peer, up, has
// said it sees fewer ping nodes.
func TestPolicyPeerFewer(t *testing.T) {
	p := NewPolicy(time.Second, true, 1)
	p.PeerUp(true)
	if p.PeerFewer() {
		t.Error("peer's count unknown, yet fewer")
	}
	p.Message(TNumPing, "0", false, true, true, 0)
	if !p.PeerFewer() {
		t.Error("peer sees 0, we see 1: not fewer")
	}
	p.Message(TNumPing, "1", false, true, true, 0)
	if p.PeerFewer() {
		t.Error("balanced, yet fewer")
	}
	p.Message(TNumPing, "0", false, true, true, 0)
	p.PeerUp(false)
	p.PeerUp(true)
	if p.PeerFewer() {
		t.Error("the peer came back: its old count still counts")
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{400 * time.Millisecond: "0.4", 2 * time.Second: "2", 1050 * time.Millisecond: "1.05", 10 * time.Millisecond: "0.01"} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %q, want %q", d, got, want)
		}
	}
}
