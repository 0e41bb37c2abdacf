package boot

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
)

func TestReapAndCode(t *testing.T) {
	for _, tc := range []struct {
		script string
		code   int
	}{
		{"exit 0", 0},
		{"exit 7", 7},
		{"kill -TERM $$", 128 + int(syscall.SIGTERM)},
	} {
		p, err := os.StartProcess("/bin/sh", []string{"sh", "-c", tc.script}, &os.ProcAttr{})
		if err != nil {
			t.Fatal(err)
		}
		pid := p.Pid
		p.Release()
		e, err := Reap()
		if err != nil {
			t.Fatal(err)
		}
		if e.Pid != pid || e.Code() != tc.code {
			t.Errorf("%q: reaped pid %d code %d, want %d %d", tc.script, e.Pid, e.Code(), pid, tc.code)
		}
	}
	if _, err := Reap(); !errors.Is(err, unix.ECHILD) {
		t.Errorf("Reap without children: %v, want ECHILD", err)
	}
}

func TestMounted(t *testing.T) {
	if !Mounted("/proc", "proc") {
		t.Error("/proc is not proc")
	}
	if Mounted("/proc", "sysfs") || Mounted("/nonexistent", "proc") || Mounted("/proc", "ext4") {
		t.Error("Mounted accepts a wrong type or path")
	}
}

func TestMountTmpfs(t *testing.T) {
	hwtest.RequireRoot(t)
	dir := filepath.Join(t.TempDir(), "m")
	if err := Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	if !Mounted(dir, "tmpfs") {
		t.Error("not a tmpfs after Mount")
	}
	if err := Mount("none", filepath.Join(t.TempDir(), "x"), "nosuchfs", 0, ""); err == nil {
		t.Error("mounting an unknown filesystem type succeeded")
	}
}
