package membership

import (
	"habox/applets/internal/hblog"
	"strings"
	"testing"
	"time"
)

const ms = time.Millisecond

func cfg() Config {
	return Config{Self: "alice", Nodes: []string{"alice", "bob"}, Links: []string{"eth1", "/dev/ttyS0"},
		Keepalive: 100 * ms, Deadtime: 1000 * ms, Warntime: 500 * ms, Initdead: 3000 * ms}
}

func texts(ev []Event) string {
	var s []string
	for _, e := range ev {
		if e.Text != "" {
			s = append(s, e.Text)
		}
	}
	return strings.Join(s, "|")
}

func has(ev []Event, k Kind, node string) bool {
	for _, e := range ev {
		if e.Kind == k && e.Node == node {
			return true
		}
	}
	return false
}

func TestInitdeadThenCommUp(t *testing.T) {
	m := New(cfg(), 0)
	if m.NodeStatus("bob") != Init || m.LinkStatus("bob", "eth1") != LinkDead {
		t.Fatalf("initial states: %s %s", m.NodeStatus("bob"), m.LinkStatus("bob", "eth1"))
	}
	if ev := m.Tick(2999 * ms); len(ev) != 0 {
		t.Fatalf("events before initdead: %v", ev)
	}
	ev := m.Tick(3001 * ms)
	if !has(ev, NodeDead, "bob") || !has(ev, CommUp, "") {
		t.Fatalf("want bob dead + comm up, got %v", ev)
	}
	if got := texts(ev); got != "node bob: is dead" {
		t.Fatalf("log: %q", got)
	}
	if !m.IsCommUp() || m.NodeStatus("bob") != Dead {
		t.Fatal("state after initdead")
	}
}

func TestPeerSilentForItsDeadtime(t *testing.T) {
	m := New(cfg(), 0)
	ev := m.Packet("bob", "eth1", 10*ms)
	if got := texts(ev); got != "Link bob:eth1 up." {
		t.Fatalf("link up log: %q", got)
	}
	ev = m.Status("bob", Up, 3000*ms, 10*ms)
	if !has(ev, StatusChange, "bob") || !has(ev, CommUp, "") {
		t.Fatalf("want status change + comm up: %v", ev)
	}
	if got := texts(ev); got != "Status update for node bob: status up" {
		t.Fatalf("status log: %q", got)
	}
	// The peer advertised dt=3000ms: our own deadtime (1s) is not used.
	for now := 10 * ms; now <= 3000*ms; now += 50 * ms {
		if ev := m.Tick(now); has(ev, NodeDead, "bob") {
			t.Fatalf("bob declared dead at %v before its dt", now)
		}
	}
	ev = m.Tick(3011 * ms)
	if !has(ev, NodeDead, "bob") {
		t.Fatalf("bob not dead after its dt: %v", ev)
	}
	if !strings.Contains(texts(ev), "Link bob:eth1 dead.") {
		t.Fatalf("link dead not logged: %q", texts(ev))
	}
	if m.Alive("bob") || m.Heard("bob") {
		t.Fatal("dead node still alive/heard")
	}
}

func TestLateHeartbeat(t *testing.T) {
	m := New(cfg(), 0)
	m.Status("bob", Active, 1000*ms, 0)
	ev := m.Status("bob", Active, 1000*ms, 600*ms)
	if got := texts(ev); got != "Late heartbeat: Node bob: interval 600 ms" {
		t.Fatalf("warn: %q", got)
	}
	if ev[0].Level != hblog.Warning {
		t.Fatalf("level %v", ev[0].Level)
	}
	ev = m.Status("bob", Active, 1000*ms, 1700*ms)
	if !strings.HasPrefix(texts(ev), "Late heartbeat: Node bob: interval 1100 ms (> deadtime)|node bob: is dead") {
		t.Fatalf("crit: %q", texts(ev))
	}
	if !has(ev, NodeDead, "bob") || !has(ev, StatusChange, "bob") {
		t.Fatalf("late beyond deadtime must kill then revive: %v", ev)
	}
}

func TestOneLinkLost(t *testing.T) {
	m := New(cfg(), 0)
	for now := time.Duration(0); now < 5000*ms; now += 100 * ms {
		m.Packet("bob", "eth1", now)
		if now < 1000*ms {
			m.Packet("bob", "/dev/ttyS0", now)
		}
		ev := m.Status("bob", Active, 1000*ms, now)
		ev = append(ev, m.Tick(now+50*ms)...)
		if has(ev, NodeDead, "bob") {
			t.Fatalf("node died with one link left at %v", now)
		}
	}
	if m.LinkStatus("bob", "/dev/ttyS0") != LinkDead || m.LinkStatus("bob", "eth1") != LinkUp {
		t.Fatalf("links: serial %s eth1 %s", m.LinkStatus("bob", "/dev/ttyS0"), m.LinkStatus("bob", "eth1"))
	}
}

func TestReturnedFromDead(t *testing.T) {
	m := New(cfg(), 0)
	m.Status("bob", Active, 1000*ms, 0)
	m.Tick(1500 * ms)
	if m.NodeStatus("bob") != Dead {
		t.Fatal("not dead")
	}
	ev := m.Status("bob", Active, 1000*ms, 2000*ms)
	if !has(ev, Returned, "bob") || m.NodeStatus("bob") != Active {
		t.Fatalf("return: %v %s", ev, m.NodeStatus("bob"))
	}
	if strings.Contains(texts(ev), "Late heartbeat") {
		t.Fatal("return from death must not count as late")
	}
}

// TestMarkDead: a peer declared dead by the caller (restarted within
// deadtime holding nothing) no longer counts as active until its next
// status, which reports it returned; the local node and a dead node are
// not marked.
func TestMarkDead(t *testing.T) {
	m := New(cfg(), 0)
	m.SetLocal(Active)
	m.Status("bob", Active, 1000*ms, 100*ms)
	if n := m.CountActive(); n != 2 {
		t.Fatalf("active before: %d", n)
	}
	ev := m.MarkDead("bob")
	if len(ev) != 1 || ev[0].Kind != NodeDead || !ev[0].Heard || ev[0].Text != "" {
		t.Fatalf("MarkDead events: %+v", ev)
	}
	if m.NodeStatus("bob") != Dead || m.CountActive() != 1 {
		t.Fatalf("after MarkDead: bob %s, %d active", m.NodeStatus("bob"), m.CountActive())
	}
	if ev := m.MarkDead("bob"); ev != nil {
		t.Fatalf("dead node marked again: %v", ev)
	}
	if ev := m.MarkDead("alice"); ev != nil || m.NodeStatus("alice") != Active {
		t.Fatalf("local node marked: %v", ev)
	}
	ev = m.Status("bob", Init, 1000*ms, 200*ms)
	if !has(ev, Returned, "bob") || !has(ev, StatusChange, "bob") || m.NodeStatus("bob") != Init {
		t.Fatalf("status after MarkDead: %v %s", ev, m.NodeStatus("bob"))
	}
	if strings.Contains(texts(ev), "Late heartbeat") {
		t.Fatalf("late heartbeat after MarkDead: %q", texts(ev))
	}
}

func TestUnknownNodeIgnored(t *testing.T) {
	m := New(cfg(), 0)
	if ev := append(m.Packet("mallory", "eth1", 0), m.Status("mallory", Up, 0, 0)...); len(ev) != 0 {
		t.Fatalf("unknown node produced %v", ev)
	}
}

func BenchmarkTick(b *testing.B) {
	m := New(cfg(), 0)
	m.Status("bob", Active, time.Second, 0)
	for i := 0; i < b.N; i++ {
		m.Tick(time.Duration(i%900) * ms)
	}
}

// Next names the exact instant the dead timer runs out: a Tick one
// nanosecond before it changes nothing, a Tick at it declares the node
// (and its link) dead, and Due says when the interval ended. Driven by
// the injected clock, so it checks precision without timing anything.
func TestNextIsTheDeadline(t *testing.T) {
	m := New(cfg(), 0)
	if at, ok := m.Next(); !ok || at != 3000*ms+1 {
		t.Fatalf("initdead deadline: %v %v", at, ok)
	}
	m.Packet("bob", "eth1", 10*ms)
	m.Status("bob", Active, 700*ms, 10*ms)
	m.Status("alice", Active, 0, 10*ms)
	m.Tick(20 * ms) // comm up: bob is heard
	m.Packet("bob", "eth1", 40*ms)
	m.Status("bob", Active, 700*ms, 40*ms)
	at, ok := m.Next()
	if !ok || at != 740*ms+1 {
		t.Fatalf("Next = %v %v, want 740ms+1ns (last status + advertised dt)", at, ok)
	}
	if ev := m.Tick(at - 1); len(ev) != 0 {
		t.Fatalf("Tick 1 ns before Next: %v", ev)
	}
	ev := m.Tick(at)
	if !has(ev, NodeDead, "bob") {
		t.Fatalf("Tick at Next: %v", ev)
	}
	for _, e := range ev {
		if e.Kind == NodeDead && e.Due != 740*ms {
			t.Fatalf("Due = %v, want 740ms", e.Due)
		}
	}
	if _, ok := m.Next(); ok {
		t.Fatal("a deadline is still pending with bob and his link dead")
	}
}

// Next does not allocate: the event loop calls it after every event.
func TestNextAllocations(t *testing.T) {
	m := New(cfg(), 0)
	m.Packet("bob", "eth1", 10*ms)
	if n := testing.AllocsPerRun(100, func() { m.Next() }); n != 0 {
		t.Fatalf("Next allocates %v times", n)
	}
}
