package lockfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
)

func TestExclusive(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l")
	unlock, err := Lock(p)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func())
	go func() {
		u, err := Lock(p)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("second Lock did not wait")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		u()
	case <-time.After(5 * time.Second):
		t.Fatal("second Lock still blocked after unlock")
	}
	if _, err := Lock(filepath.Join(t.TempDir(), "missing", "l")); err == nil {
		t.Error("lock in a missing directory succeeded")
	}
}

// TestLockRefusesLinks: a lock path planted as a symlink (to an existing
// file or to one root would create) or as a FIFO is refused.
func TestLockRefusesLinks(t *testing.T) {
	hwtest.RequireRoot(t)
	dir := hwtest.SharedDir(t)
	intact := hwtest.PlantSymlink(t, filepath.Join(dir, "l"))
	if u, err := Lock(filepath.Join(dir, "l")); err == nil {
		u()
		t.Error("Lock followed a planted symlink")
	}
	intact()
	dangling := filepath.Join(t.TempDir(), "nologin")
	os.Symlink(dangling, filepath.Join(dir, "d"))
	if u, err := Lock(filepath.Join(dir, "d")); err == nil {
		u()
		t.Error("Lock followed a dangling symlink")
	}
	if _, err := os.Lstat(dangling); err == nil {
		t.Error("Lock created the target of a dangling symlink")
	}
	unix.Mkfifo(filepath.Join(dir, "f"), 0o666)
	if u, err := Lock(filepath.Join(dir, "f")); err == nil {
		u()
		t.Error("Lock accepted a FIFO")
	}
}
