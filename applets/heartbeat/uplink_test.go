package heartbeat

import (
	"math/rand"
	"strings"
	"testing"

	"habox/applets/cli"
	"habox/applets/heartbeat/uplink"
	"habox/applets/internal/hblog"
	"habox/applets/internal/wire"
	"habox/conf"
	"habox/hw/netlink"
)

// TestUplinkStaleMessage: an ipfail message of the peer older than one
// applied (a retransmission filling a gap, delivered after newer ones) is
// ignored; a new generation starts afresh. Before the fix a count of an
// older balance, arriving after the you_are_dead that followed our
// carrier loss, aborted the give-up, and the groups stayed on the node
// without uplink (simulator ping node seeds 278, 19133).
func TestUplinkStaleMessage(t *testing.T) {
	dir := simConfPing(t, "on", pingLan)
	c, err := conf.Load(dir, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	lg, err := hblog.New(hblog.Options{Node: "alice", Stderr: &log, Debug: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := &simNode{s: &sim{}}
	o := options{dir: dir, varlib: t.TempDir(), node: "alice", rand: rand.New(rand.NewSource(1)).Int63n, load: simLoad,
		entropy: rand.New(rand.NewSource(2))}
	d, err := newCore(&cli.Env{}, o, c, lg, simClock{n})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	d.watchLinks = func() (*netlink.Watcher, error) { return nil, nil }
	if err := d.openUplink(); err != nil {
		t.Fatal(err)
	}
	p := d.up.pol
	p.PeerUp(true)
	msg := func(typ, hg, seq, num string) *wire.Msg {
		m := wire.New(typ)
		m.Add(wire.Seq, seq)
		m.Add(wire.Hg, hg)
		if num != "" {
			m.Add(uplink.FNumPing, num)
		}
		return m
	}
	d.uplinkMessage("bob", msg(uplink.TNumPing, "1", "9", "1")) // balanced
	p.Count(0)                                                  // our carrier is lost
	d.uplinkMessage("bob", msg(uplink.TYouAreDead, "1", "a", ""))
	if p.Pending() != "all" {
		t.Fatalf("you_are_dead: pending %q, want all", p.Pending())
	}
	d.uplinkMessage("bob", msg(uplink.TNumPing, "1", "8", "0")) // balanced then, stale now
	d.uplinkMessage("bob", msg(uplink.TAbort, "1", "9", ""))
	if p.Pending() != "all" {
		t.Errorf("stale count and abort_giveup cancelled the give-up (pending %q)\n%s", p.Pending(), log.String())
	}
	if !strings.Contains(log.String(), "Ignored num_ping_nodes message 8 from bob: older than one applied") {
		t.Errorf("no debug line for the stale message:\n%s", log.String())
	}
	// The peer restarted: its new generation's sequence starts low.
	d.uplinkMessage("bob", msg(uplink.TAbort, "2", "3", ""))
	if p.Pending() != "" {
		t.Errorf("abort_giveup of a new generation ignored (pending %q)", p.Pending())
	}
}
