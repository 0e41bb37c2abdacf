package heartbeat

import (
	"math/rand"
	"os"
	"strings"
	"testing"
)

// TestSimStaysOutOfRealtime: simulated nodes run the daemon's real start-up,
// which must not put the test process into SCHED_RR or lock its memory (a
// spinning SCHED_RR test starves every timing test beside it).
func TestSimStaysOutOfRealtime(t *testing.T) {
	if f, _, _ := runSim(t, simConf(t, "on"), 1, genScenario(rand.New(rand.NewSource(1)), 10)); f != "" {
		t.Fatal(f)
	}
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/stat")
		if err != nil {
			continue
		}
		// fields after "(comm) ": state is 3rd, policy the 41st
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) > 38 && f[38] != "0" {
			t.Errorf("thread %s has scheduling policy %s after a simulation, want 0 (SCHED_OTHER)", task.Name(), f[38])
		}
	}
	if b, _ := os.ReadFile("/proc/self/status"); strings.Contains(string(b), "VmLck:") && !strings.Contains(string(b), "VmLck:\t       0 kB") {
		t.Errorf("memory locked after a simulation:\n%s", b)
	}
}
