package fsinfo

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
)

func TestVolatile(t *testing.T) {
	hwtest.RequireRoot(t)
	dir := t.TempDir()
	for _, fs := range []string{"tmpfs", "ramfs"} {
		mnt := filepath.Join(dir, fs)
		os.Mkdir(mnt, 0o755)
		if err := unix.Mount("fsinfo-test", mnt, fs, 0, ""); err != nil {
			t.Fatalf("mount %s: %v", fs, err)
		}
		t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
		for _, p := range []string{mnt, filepath.Join(mnt, "not", "yet", "there")} {
			if got, err := Volatile(p); got != fs || err != nil {
				t.Errorf("%s: %q %v, want %s", p, got, err, fs)
			}
		}
	}
	// /proc is neither.
	if got, err := Volatile("/proc/self"); got != "" || err != nil {
		t.Errorf("/proc/self: %q %v", got, err)
	}
}
