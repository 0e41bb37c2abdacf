package serial

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"habox/hw/hwtest"
	"habox/hw/hwtest/names"
)

// ttylocker runs cluster-glue's own tty locking (st_ttylock from
// libstonith, which heartbeat 3.0.6 uses for its serial medium) in a
// python3 child: it prints st_ttylock's result, holds the lock until its
// stdin closes, then unlocks.
const ttylocker = `
import ctypes, sys, os
lib = ctypes.CDLL("libstonith.so.1")
dev = sys.argv[1].encode()
if dev == b"names":
    # Print the lock file st_ttylock creates for each path on stdin.
    for p in sys.stdin.read().split("\n"):
        if not p:
            continue
        before = set(os.listdir("/var/lock"))
        r = lib.st_ttylock(p.encode())
        new = set(os.listdir("/var/lock")) - before
        print(r, " ".join(new), flush=True)
        lib.st_ttyunlock(p.encode())
    sys.exit(0)
r = lib.st_ttylock(dev)
print(r, flush=True)
sys.stdin.read()
if r == 0:
    lib.st_ttyunlock(dev)
`

type glueLocker struct {
	cmd    *exec.Cmd
	stdin  *os.File
	result int
}

func startGlueLocker(t *testing.T, dev string) *glueLocker {
	t.Helper()
	py := hwtest.RequireCmd(t, "python3")
	if out, err := exec.Command(py, "-c", `import ctypes; ctypes.CDLL("libstonith.so.1")`).CombinedOutput(); err != nil {
		hwtest.Missing(t, "libstonith.so.1 (cluster-glue, installed with heartbeat) missing: "+string(out))
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", ttylocker, dev)
	cmd.Stdin = r
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	g := &glueLocker{cmd: cmd, stdin: w}
	t.Cleanup(func() { g.stop() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("ttylocker: %v", err)
	}
	if g.result, err = strconv.Atoi(strings.TrimSpace(line)); err != nil {
		t.Fatalf("ttylocker said %q", line)
	}
	return g
}

func (g *glueLocker) stop() {
	if g.stdin != nil {
		g.stdin.Close()
		g.stdin = nil
		g.cmd.Wait()
	}
}

// TestInteropLockNames compares LockName with the file st_ttylock creates.
func TestInteropLockNames(t *testing.T) {
	startGlueLocker(t, "/dev/"+names.Unique("probe")).stop() // skips when unavailable
	u := names.Unique("n")
	paths := []string{
		"/dev/ttyZZ" + u,
		"/dev/pts/9" + u,
		"/dev/serial/by-id/usb-FTDI_FT232R-if00-port0." + u,
		"/tmp/hblab-1234/tty_A." + u,
		"/dev/" + strings.Repeat("abcdefghij", 8) + u,
	}
	cmd := exec.Command("python3", "-c", ttylocker, "names")
	cmd.Stdin = strings.NewReader(strings.Join(paths, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(paths) {
		t.Fatalf("output %q", out)
	}
	for i, p := range paths {
		if want := "0 " + LockName(p); lines[i] != want {
			t.Errorf("%s: st_ttylock made %q, LockName says %q", p, lines[i], want)
		}
	}
}

// TestInteropClusterGlue checks both directions against heartbeat's lock
// code: we see its lock (same file name, same pid format) and it sees ours.
func TestInteropClusterGlue(t *testing.T) {
	dev := "/dev/" + names.Unique("hbxlk")
	path := filepath.Join(LockDir, LockName(dev))
	t.Cleanup(func() { os.Remove(path) })

	g := startGlueLocker(t, dev)
	if g.result != 0 {
		t.Fatalf("st_ttylock(%s) = %d", dev, g.result)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cluster-glue did not create %s: %v", path, err)
	}
	pid := g.cmd.Process.Pid
	if want := strings.Repeat(" ", 10-len(strconv.Itoa(pid))) + strconv.Itoa(pid) + "\n"; string(b) != want {
		t.Errorf("cluster-glue lock content %q, want %q", b, want)
	}
	_, err = LockDevice("", dev)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != pid {
		t.Fatalf("LockDevice under cluster-glue's lock: %v, want locked by %d", err, pid)
	}
	g.stop()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("st_ttyunlock left the file")
	}

	l, err := LockDevice("", dev)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if g := startGlueLocker(t, dev); g.result == 0 {
		t.Error("cluster-glue took a device we hold")
	}
	if pid, _ := ReadLock(path); pid != os.Getpid() {
		t.Errorf("our lock was overwritten by pid %d", pid)
	}
}
