package ipaddr

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"habox/applets/cli"
	"habox/hw/netif"
)

// lateLink is a System whose interfaces appear only after misses lookups
// (an interface netifd brings up later, a bridge being rebuilt).
type lateLink struct {
	*fakeSys
	misses int
}

func (l *lateLink) Link(name string) (netif.Link, error) {
	if l.misses > 0 {
		l.misses--
		return netif.Link{}, &os.PathError{Op: "interface", Path: name, Err: netif.ErrNoInterface}
	}
	return l.fakeSys.Link(name)
}

// Start waits (bounded by IfWait) for a missing interface; stop and
// status do not wait.
func TestStartWaitsForInterface(t *testing.T) {
	tests := []struct {
		name   string
		action string
		misses int
		wait   time.Duration
		code   int
		minDur time.Duration
		maxDur time.Duration
		stderr string
	}{
		{"appears in time", "start", 3, 5 * time.Second, 0, 300 * time.Millisecond, 4 * time.Second, ""},
		{"never appears", "start", 1000, 300 * time.Millisecond, 2, 300 * time.Millisecond, 3 * time.Second, "eth1: unknown interface"},
		{"no wait configured", "start", 3, 0, 2, 0, 100 * time.Millisecond, "eth1: unknown interface"},
		{"stop does not wait", "stop", 1000, 5 * time.Second, 2, 0, 100 * time.Millisecond, "eth1: unknown interface"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := &lateLink{fakeSys: newFake(), misses: tt.misses}
			var o, e bytes.Buffer
			ag := &Agent{Sys: sys, Announcer: Announcer{Repeater: &fakeRepeater{}, Count: 1, Interval: 1}, IfWait: tt.wait}
			t0 := time.Now()
			code := Action(&cli.Env{Stdout: &o, Stderr: &e}, ag, "198.51.100.77/24/eth1", tt.action)
			d := time.Since(t0)
			if code != tt.code || !strings.Contains(e.String(), tt.stderr) {
				t.Errorf("exit %d %q, want %d %q", code, e.String(), tt.code, tt.stderr)
			}
			if d < tt.minDur || d > tt.maxDur {
				t.Errorf("took %v, want %v..%v", d, tt.minDur, tt.maxDur)
			}
		})
	}
}
