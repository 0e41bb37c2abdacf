package ipaddr

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"habox/hw/hwtest"
)

// TestPidFileSymlinkAttack: the announcer's pid file and its old fixed
// temporary name planted as links in the run directory are not written
// through.
func TestPidFileSymlinkAttack(t *testing.T) {
	hwtest.RequireRoot(t)
	f := filepath.Join(hwtest.SharedDir(t), "garp-10.0.0.1.pid")
	intact := hwtest.PlantSymlink(t, f+".tmp"+strconv.Itoa(os.Getpid()))
	if err := writeFileAtomic(f, "42\n"); err != nil {
		t.Fatal(err)
	}
	intact()
	if b, _ := os.ReadFile(f); string(b) != "42\n" {
		t.Errorf("pid file holds %q", b)
	}
}
