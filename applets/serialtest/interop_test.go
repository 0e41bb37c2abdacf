package serialtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"habox/hw/hwtest"
	"habox/lab"
)

// TestInteropHeartbeat306 runs the stock heartbeat 3.0.6 on one end of a
// socat pty pair: serialtest must refuse the port heartbeat holds (its
// cluster-glue lock, named the same way) and decode and verify the live
// traffic arriving at the other end.
func TestInteropHeartbeat306(t *testing.T) {
	hwtest.RequireRoot(t)
	hwtest.RequireCmd(t, "socat")
	hwtest.RequireFile(t, lab.HB306, "heartbeat 3.0.6 (Debian package heartbeat)")
	l := lab.New(t, lab.Options{Kinds: [2]lab.Kind{lab.Heartbeat, lab.Heartbeat}, Serial: true})
	n1 := l.Nodes[0]
	n1.Start()
	n1.WaitLog(`Starting serial heartbeat`, 10*time.Second)

	// heartbeat 3.0.6 holds its lock file (in the node's /run/lock) only
	// while it opens the port; then its serial children keep it open.
	locks := n1.Path("run", "lock")
	isHB := func(msg, prefix string) bool {
		for _, pid := range n1.Pids() {
			if strings.Contains(msg, prefix+strconv.Itoa(pid)) {
				return true
			}
		}
		return false
	}
	// Right at start-up the lock file may still be there; then heartbeat's
	// serial children hold the port open without one.
	var r result
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		r = runApplet(t, "-r", "-t", "0.5", "--lockdir", locks, l.TTY(0))
		if r.code != exitLocked {
			t.Fatalf("serialtest on heartbeat's port: exit %d: %s", r.code, r.errout)
		}
		if isHB(r.errout, "locked by pid ") {
			t.Logf("caught heartbeat's lock file: %s", r.errout)
			continue
		}
		break
	}
	if !isHB(r.errout, "in use by heartbeat (pid ") {
		t.Errorf("not refused as in use by a heartbeat process %v: %s", n1.Pids(), r.errout)
	}

	keys := filepath.Join(t.TempDir(), "authkeys")
	os.WriteFile(keys, []byte("auth 1\n1 sha1 "+lab.VectorKeys["sha1"]+"\n"), 0600)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r = start(ctx, "--watch", "-n", "6", "-k", keys, "--lockdir", t.TempDir(), l.TTY(1))()
	if r.code != 0 {
		t.Fatalf("watch: exit %d\n%s%s\n%s", r.code, r.out, r.errout, l.LogTails(20))
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 6:\n%s", len(lines), r.out)
	}
	status := 0
	for _, ln := range lines {
		if !strings.HasPrefix(ln, n1.Name+" ") || strings.Contains(ln, "AUTH-FAILED") {
			t.Errorf("line %q", ln)
		}
		if strings.HasPrefix(ln, n1.Name+" status seq=") && strings.Contains(ln, " st=") {
			status++
		}
	}
	if status == 0 {
		t.Errorf("no status message seen:\n%s", r.out)
	}
	t.Logf("live 3.0.6 traffic:\n%s", r.out)
}
