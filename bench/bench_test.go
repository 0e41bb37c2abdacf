package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"habox/hw/hwtest"
	"habox/lab"
)

// TestBenchSmoke runs the harness itself on the cheapest peer (keepalived,
// one sample of each run type at 200ms/1s) and checks that the report and
// a timeline picture are written. The real figures come from `make bench`.
func TestBenchSmoke(t *testing.T) {
	hwtest.RequireRoot(t)
	hwtest.RequireCmd(t, "keepalived")
	hwtest.RequireCmd(t, "gnuplot")
	dir := t.TempDir()
	r := &report{cfg: &config{smoke: true, n: 1, peers: []lab.Kind{lab.Keepalived}, out: dir,
		fastName: "10ms/40ms", fastKeep: 10 * time.Millisecond, fastDead: 40 * time.Millisecond}, loadStart: loadavg()}
	r.run()
	path, err := r.write()
	if err != nil {
		t.Fatal(err)
	}
	if r.failed > 0 {
		t.Fatalf("bench failures: %v", r.errors)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{"| 200ms/1s | hard failure |", "| 200ms/1s | graceful stop |", "| 200ms/1s | failback |", ".png)",
		"| uplink 200ms/deadping 1s | uplink carrier loss |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	for _, typ := range runTypes {
		s := r.samples[caseKey{"200ms/1s", lab.Keepalived, typ}]
		if len(s) == 0 || s[0] <= 0 {
			t.Errorf("%s: no positive outage sample: %v", typ, s)
		}
	}
	t.Logf("\n%s", r.table())
}
