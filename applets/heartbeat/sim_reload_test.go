package heartbeat

import (
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSimReload: SIGHUP (heartbeat -r, init reload) as 3.0.6 does it,
// under packet loss and delay. With nothing changed bob only logs
// "Configuration unchanged."; with haresources changed alice re-executes
// herself keeping her groups: no script runs, bob logs a restart, never a
// death, and the invariants hold throughout.
func TestSimReload(t *testing.T) {
	for _, fb := range []string{"on", "off", "legacy"} {
		for seed := int64(1); seed <= 10; seed++ {
			r := rand.New(rand.NewSource(seed))
			at := 20*time.Second + time.Duration(r.Int63n(int64(10*time.Second)))
			steps := []simStep{
				{At: at - 5*time.Second, Kind: "loss", Arg: int64(r.Intn(3) * 10)},
				{At: at - 4*time.Second, Kind: "delay", Arg: int64(time.Duration(r.Intn(4)) * 100 * time.Millisecond)},
				{At: at - time.Duration(r.Int63n(int64(3*time.Second))), Kind: "reload", Node: 1},
				{At: at, Kind: "reload", Node: 0, Arg: 1},
			}
			var before, after []string // log lines before and after alice's reload
			// A configuration directory of its own: the reload touches
			// haresources there.
			f, trace, _ := runSimWith(t, simCfg{dir: simConf(t, fb), ping: pingNone, onLog: func(n *simNode, line string) {
				if strings.Contains(line, "Configuration file haresources changed") || len(after) > 0 {
					after = append(after, n.name+" "+line)
				} else {
					before = append(before, n.name+" "+line)
				}
			}}, seed, steps)
			fail := func(why string) {
				t.Fatalf("auto_failback %s, seed %d: %s\nlogged after the reload:\n  %s\ntrace:\n  %s", fb, seed, why,
					strings.Join(after, "\n  "), strings.Join(trace, "\n  "))
			}
			if f != "" {
				fail(f)
			}
			if !strings.Contains(strings.Join(before, "\n"), "bob heartbeat[100]: ") ||
				!strings.Contains(strings.Join(before, "\n"), "Configuration unchanged.") {
				fail("bob did not log \"Configuration unchanged.\"")
			}
			log := strings.Join(after, "\n")
			if !strings.HasPrefix(log, "alice ") || !strings.Contains(log, "bob heartbeat[100]: ") ||
				!strings.Contains(log, "Heartbeat restart on node alice") || !strings.Contains(log, "alice heartbeat[101]: ") {
				fail("alice did not re-execute, or bob did not see a restart")
			}
			for _, bad := range []string{"node alice: is dead", "Running", "Releasing resource group", "Acquiring resource group"} {
				if strings.Contains(log, bad) {
					fail("logged " + strconv.Quote(bad))
				}
			}
		}
	}
}
