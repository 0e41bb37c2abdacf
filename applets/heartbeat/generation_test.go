package heartbeat

import (
	"os"
	"strings"
	"testing"
	"time"

	"habox/lab"
)

// The generation is written while the media open, but nothing is sent
// before it is on disk: when it cannot be written (hb_generation is a
// directory) the daemon logs 3.0.6's line, exits 1 and the peer's side of
// the heartbeat link never sees a packet from it.
func TestNoPacketBeforeGenerationOnDisk(t *testing.T) {
	l := newLab(t, lab.Options{NoBcast: false})
	n := l.Nodes[0]
	if err := os.Mkdir(n.Path("lib", "hb_generation"), 0o755); err != nil {
		t.Fatal(err)
	}
	wait, err := lab.StartFirstPacket(l.Nodes[1].NS, lab.HBPrefix+"1")
	if err != nil {
		t.Fatal(err)
	}
	n.Start()
	if !n.Wait(20 * time.Second) {
		t.Fatalf("daemon still runs without a generation on disk\n%s", n.Log())
	}
	if at, err := wait(500 * time.Millisecond); err == nil {
		t.Fatalf("a heartbeat left at %v although the generation was never written\n%s", at, n.Log())
	}
	if !strings.Contains(n.Log(), "Cannot write generation file") {
		t.Fatalf("log lacks the generation error:\n%s", n.Log())
	}
}
