package heartbeat

import (
	"os"
	"strconv"
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

// The node's process parses its configuration in the real-time class
// already; with `realtime off` in ha.cf every thread ends in the normal
// class again; with the default the main thread is SCHED_RR (threads the
// runtime starts later join at the next 10 s re-application).
func TestEarlyRealtimeFollowsHaCf(t *testing.T) {
	for _, c := range []struct {
		extra string
		rr    bool
	}{{"", true}, {"realtime off\n", false}} {
		l := newLab(t, lab.Options{ExtraHaCf: c.extra})
		n := l.Nodes[0]
		n.Start()
		l.WaitOwner(0, 30*time.Second)
		pid := n.Pid()
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		if err != nil || len(tasks) == 0 {
			t.Fatalf("threads of %d: %v", pid, err)
		}
		for _, task := range tasks {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/stat")
			if err != nil {
				continue
			}
			f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
			policy := f[38] // field 41 of stat: policy (2 = SCHED_RR)
			if c.rr && task.Name() != strconv.Itoa(pid) {
				continue
			}
			if (policy == "2") != c.rr {
				t.Errorf("ha.cf %q: thread %s has policy %s", c.extra, task.Name(), policy)
			}
		}
		l.Close()
	}
}
