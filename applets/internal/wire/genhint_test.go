package wire

import (
	"testing"
	"time"
)

// A node that lost hb_generation and whose clock is behind
// restarts with a generation lower than the one its peer remembers. The
// peer drops it as a replay and, for HintWindow, advertises the remembered
// generation in its statuses; the restarted node raises its own to that
// +1, and its next status is accepted as a restart.
func TestGenerationHint(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	a := newEngine(t, "linuxha1", nil)
	b := newEngine(t, "linuxha2", nil)
	a.Sender.Gen = 1796529601
	v := b.Receive(wireCopy(t, a, must(a.Send(status(StActive), t0))), t0)
	if !v.Deliver {
		t.Fatalf("first status: %+v", v)
	}
	// No replay seen: no hint.
	if m := must(b.Send(status(StActive), t0)); m.Has(GenHint) {
		t.Fatalf("hint without a replay: %q", m.Get(GenHint))
	}

	// linuxha1 restarts with a time-based generation from a 2000-01-01 clock.
	r := newEngine(t, "linuxha1", nil)
	r.Sender.Gen = 946684805
	v = b.Receive(wireCopy(t, r, must(r.Send(status(StInit), t0))), t0)
	if !v.Replay || v.Deliver {
		t.Fatalf("low generation accepted: %+v", v)
	}
	hinted := wireCopy(t, b, must(b.Send(status(StActive), t0.Add(time.Second))))
	if got, want := hinted.Get(GenHint), "linuxha1 6b14ddc1"; got != want {
		t.Fatalf("hint %q, want %q", got, want)
	}
	v = r.Receive(hinted, t0.Add(time.Second))
	if !v.Deliver || v.RaiseGen != 1796529602 {
		t.Fatalf("restarted node: RaiseGen %d, want 1796529602 (%+v)", v.RaiseGen, v)
	}
	r.SetGeneration(v.RaiseGen, t0.Add(time.Second))
	r.SetGeneration(5, t0.Add(time.Second)) // never lowered
	if r.Sender.Gen != 1796529602 {
		t.Fatalf("generation %d after raise", r.Sender.Gen)
	}
	v = b.Receive(wireCopy(t, r, must(r.Send(status(StInit), t0.Add(time.Second)))), t0.Add(time.Second))
	if !v.Deliver || !v.Restart {
		t.Fatalf("raised status not accepted as a restart: %+v", v)
	}
	// Once a status of the restarted node is accepted, the hint stops
	// (else it would raise again and again).
	if m := must(b.Send(status(StActive), t0.Add(time.Second))); m.Has(GenHint) {
		t.Fatalf("hint still sent after the restart: %q", m.Get(GenHint))
	}
	// A hint equal to or below our generation, or for another node, changes
	// nothing (forged here with a bare Sender: the engine sends its own).
	for i, h := range []string{"linuxha1 6b14ddc2", "linuxha1 6b14ddc0", "linuxha2 ffffffff", "linuxha1 zz", "linuxha1", ""} {
		m := status(StActive)
		m.Set(GenHint, h)
		b.Sender.Stamp(m, t0.Add(2*time.Second))
		if v = r.Receive(wireCopy(t, b, m), t0.Add(2*time.Second)); !v.Deliver || v.RaiseGen != 0 {
			t.Errorf("hint %d %q: RaiseGen %d (%+v)", i, h, v.RaiseGen, v)
		}
	}
	// Without an accepted status, the hint stops HintWindow after the
	// last replay.
	r2 := newEngine(t, "linuxha1", nil)
	r2.Sender.Gen = 1
	b.Receive(wireCopy(t, r2, must(r2.Send(status(StInit), t0))), t0.Add(3*time.Second))
	if m := must(b.Send(status(StActive), t0.Add(3*time.Second+HintWindow))); !m.Has(GenHint) {
		t.Error("no hint within HintWindow")
	}
	if m := must(b.Send(status(StActive), t0.Add(4*time.Second+HintWindow))); m.Has(GenHint) {
		t.Errorf("hint still sent after HintWindow: %q", m.Get(GenHint))
	}
	// Our own copies from before the raise are duplicates, not replays.
	old := newEngine(t, "linuxha1", nil)
	old.Sender.Gen = 946684805
	if v = r.Receive(wireCopy(t, old, must(old.Send(status(StInit), t0))), t0); v.Replay || !v.Duplicate || len(v.Logs) != 0 {
		t.Errorf("own old copy: %+v", v)
	}
}

// With a peer that drops our messages (3.0.6 remembering a higher
// generation), reqnodes stays unanswered: the count and the peer's ts are
// what the daemon's fallback needs.
func TestReqNodesUnanswered(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	a := newEngine(t, "linuxha1", nil)
	b := newEngine(t, "linuxha2", nil)
	a.Receive(wireCopy(t, b, must(b.Send(status(StActive), time.Unix(1796529600, 0)))), t0)
	if !a.StartReqNodes(t0) {
		t.Fatal("no reqnodes exchange")
	}
	for i := 0; i < 3; i++ {
		if out, _ := a.Due(t0.Add(time.Duration(i) * time.Second)); len(out) != 1 || out[0].Type() != ReqNodes {
			t.Fatalf("reqnodes %d: %v", i, out)
		}
	}
	if node, n, ts := a.ReqNodesUnanswered(); node != "linuxha2" || n != 3 || ts != 1796529600 {
		t.Fatalf("unanswered: %s %d %d", node, n, ts)
	}
	a.SetGeneration(1796529601, t0.Add(3*time.Second))
	if _, n, _ := a.ReqNodesUnanswered(); n != 0 {
		t.Errorf("count not reset by a raise: %d", n)
	}
	if out, _ := a.Due(t0.Add(3 * time.Second)); len(out) != 1 {
		t.Errorf("reqnodes not repeated at once after the raise")
	}
	rep := New(RepNodes)
	rep.Add(Dest, "linuxha1")
	rep.Add(NodeList, "linuxha1 linuxha2 ")
	rep.Add(DelNodeList, " ")
	a.Receive(wireCopy(t, b, must(b.Send(rep, t0))), t0.Add(4*time.Second))
	if node, n, _ := a.ReqNodesUnanswered(); node != "" || n != 0 {
		t.Errorf("after repnodes: %s %d", node, n)
	}
}
