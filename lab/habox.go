package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	haboxOnce sync.Once
	haboxPath string
	haboxErr  string
)

// HaboxBin returns the path of a habox binary: $HABOX_BIN when set,
// otherwise one built once per process with `go build` from the module
// root into a temporary directory.
func HaboxBin(t T) string {
	t.Helper()
	haboxOnce.Do(func() {
		if p := os.Getenv("HABOX_BIN"); p != "" {
			haboxPath, _ = filepath.Abs(p)
			return
		}
		mod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil || strings.TrimSpace(string(mod)) == "" {
			haboxErr = "cannot find the module root (go env GOMOD)"
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(mod)))
		removeStaleBins()
		dir, err := os.MkdirTemp("", "habox-lab-bin-"+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			haboxErr = err.Error()
			return
		}
		out := filepath.Join(dir, "habox")
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			haboxErr = "go build habox: " + err.Error() + ": " + string(b)
			return
		}
		haboxPath = out
	})
	if haboxPath == "" {
		t.Fatalf("lab: %s", haboxErr)
	}
	return haboxPath
}

// removeStaleBins deletes binaries built by earlier processes that are gone.
func removeStaleBins() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "habox-lab-bin-*"))
	for _, d := range dirs {
		f := strings.Split(filepath.Base(d), "-")
		if len(f) < 5 { // old naming without a pid: remove when an hour old
			if st, err := os.Stat(d); err == nil && time.Since(st.ModTime()) > time.Hour {
				os.RemoveAll(d)
			}
			continue
		}
		pid, err := strconv.Atoi(f[3])
		if err != nil {
			continue
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
			os.RemoveAll(d)
		}
	}
}

// HaboxDaemonReady reports whether the habox binary has a working
// heartbeat applet (not the skeleton's stub), with the stub's message.
func HaboxDaemonReady(t T) (bool, string) {
	t.Helper()
	out, _ := exec.Command(HaboxBin(t), "heartbeat", "-V").CombinedOutput()
	s := string(out)
	if strings.Contains(s, "not implemented") {
		return false, strings.TrimSpace(s)
	}
	return true, ""
}
