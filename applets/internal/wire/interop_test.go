package wire_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"habox/hw/hwtest"
	"habox/lab"
)

// TestInteropLoss306 runs habox beside the stock heartbeat 3.0.6 (the
// lab's mixed pair) with 10% random loss on the heartbeat link for 15 s at
// keepalive 50ms, in both directions, so gaps, NS_rexmit requests and
// answers, retransmitted copies and ACK-driven history trimming cross
// between the two implementations. 3.0.6 must detect gaps (proof that the
// loss bites) but log no authentication failure, no full history queue,
// no replay and no unrecoverable packet; habox's log must show that it
// retransmitted on 3.0.6's requests or recovered its own gaps.
func TestInteropLoss306(t *testing.T) {
	hwtest.SkipUnderEmulator(t, "runs the host's habox and heartbeat 3.0.6 in namespaces")
	hwtest.RequireRoot(t)
	hwtest.RequireFile(t, lab.HB306, "heartbeat 3.0.6 (Debian package heartbeat)")
	for _, c := range []string{"unshare", "nsenter", "nft"} {
		hwtest.RequireCmd(t, c)
	}
	if ok, msg := lab.HaboxDaemonReady(t); !ok {
		t.Skipf("habox daemon not ready: %s", msg)
	}
	bad := regexp.MustCompile(`failed authentication|authtoken does not match|netstring authentication failed|Invalid authentication|hist queue is filling up|replay attack|Irretrievably lost|Cannot rexmit|corrupted ackseq`)
	l := lab.New(t, lab.Options{Kinds: [2]lab.Kind{lab.Habox, lab.Heartbeat}, Keepalive: 50 * time.Millisecond,
		Deadtime: 2 * time.Second, Initdead: 4 * time.Second, Debug: 1})
	l.Start()
	l.WaitBothActive(30 * time.Second)
	for _, n := range l.Nodes {
		defer n.Loss(10)()
	}
	time.Sleep(15 * time.Second)
	hb, hx := l.Nodes[1], l.Nodes[0]
	for _, n := range l.Nodes {
		if s := n.PeerStatus(); s != "active" {
			t.Errorf("%s (%s) sees its peer as %q", n.Name, n.Kind, s)
		}
	}
	if got := bad.FindAllString(hb.Log(), 5); len(got) > 0 {
		t.Errorf("3.0.6 logged %q\n%s", got, l.LogTails(40))
	}
	if got := bad.FindAllString(hx.Log(), 5); len(got) > 0 {
		t.Errorf("habox logged %q\n%s", got, l.LogTails(40))
	}
	gaps306 := hb.CountLog(`lost packet\(s\) for \[` + hx.Name)
	gapsHx := hx.CountLog(`lost packet\(s\) for \[` + hb.Name)
	if gaps306 == 0 || gapsHx == 0 {
		t.Errorf("no gaps seen (3.0.6: %d, habox: %d): the loss did not bite", gaps306, gapsHx)
	}
	// Both sides asked for and got retransmissions (debug lines, the same
	// wording in both implementations).
	hbAnswered := strings.Count(hb.DebugLog(), "Retransmitting pkt")
	hxAnswered := strings.Count(hx.DebugLog(), "Retransmitting pkt")
	if hbAnswered == 0 || hxAnswered == 0 {
		t.Errorf("retransmissions: 3.0.6 resent %d for habox, habox resent %d for 3.0.6", hbAnswered, hxAnswered)
	}
	t.Logf("gaps: 3.0.6 saw %d from habox, habox %d from 3.0.6; retransmitted: by 3.0.6 %d, by habox %d",
		gaps306, gapsHx, hbAnswered, hxAnswered)
}
