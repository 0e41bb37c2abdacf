// Package hwtest holds helpers for tests that need root, network namespaces,
// veth links and ptys. It is imported only by _test.go files.
//
// Root tests call RequireRoot first: outside CI they skip with a clear
// message when not root; under CI=true a skip would hide a missing test, so
// they fail instead.
package hwtest

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest/names"
)

// init keeps the main goroutine on the main thread, so no goroutine that
// switches namespaces (Netns.Do, packages' own helpers) can run there: Go
// never terminates the main thread, and one left in a test namespace makes
// that namespace's cleanup kill the test binary.
func init() { runtime.LockOSThread() }

// Missing skips t because a prerequisite is missing (what says which and
// how to get it), or fails it when CI=true: there every prerequisite is
// installed and a skipped test would hide a broken one.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(what + "; CI=true forbids skipping this test (.ci/run must provide it)")
	} else {
		t.Skip("skipping: " + what)
	}
}

// RequireRoot skips t when the test is not running as root, or fails it
// when CI=true.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root (network namespaces, raw sockets, mknod); run `sudo make test`")
	}
}

// RequireCmd skips (or, under CI=true, fails) t when a command is missing.
func RequireCmd(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not installed")
	}
	return p
}

// RequireFile skips (or, under CI=true, fails) t when path does not exist;
// what names what is missing and where it comes from.
func RequireFile(t testing.TB, path, what string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, what+" missing ("+err.Error()+")")
	}
}

// Emulator returns the value of HABOX_EMULATOR: "qemu-user" when `make
// test-cross` runs the test binary of another architecture under
// qemu-user, "" on a native run.
func Emulator() string { return os.Getenv("HABOX_EMULATOR") }

// SkipUnderEmulator skips t, giving why, when the test runs under an
// emulator (HABOX_EMULATOR set) that cannot provide what it needs: qemu-user
// translates system calls, but not network namespaces, netlink, raw
// sockets or the ioctls of real devices. On a native run it does nothing,
// so such a test still runs (or fails) there.
func SkipUnderEmulator(t testing.TB, why string) {
	t.Helper()
	if e := Emulator(); e != "" {
		t.Skip("skipping under " + e + " (HABOX_EMULATOR): " + why + "; covered by the native run")
	}
}

// Run runs a command and fails t with its output when it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Netns is a network namespace created for one test and deleted with it.
type Netns struct {
	Name string
}

// NewNetns creates a network namespace with a unique name (from prefix)
// and its loopback up; t.Cleanup deletes it, killing what still runs there.
func NewNetns(t testing.TB, prefix string) *Netns {
	t.Helper()
	RequireRoot(t)
	ns := &Netns{Name: names.Unique(prefix)}
	Run(t, "ip", "netns", "add", ns.Name)
	t.Cleanup(func() {
		if pids, err := exec.Command("ip", "netns", "pids", ns.Name).Output(); err == nil {
			for _, p := range strings.Fields(string(pids)) {
				if pid, err := strconv.Atoi(p); err == nil {
					unix.Kill(pid, unix.SIGKILL)
				}
			}
		}
		exec.Command("ip", "netns", "del", ns.Name).Run()
	})
	ns.Exec(t, "ip", "link", "set", "lo", "up")
	return ns
}

// Exec runs a command inside the namespace and returns its output; a
// failure fails t.
func (ns *Netns) Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	return Run(t, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Command returns an unstarted command that runs inside the namespace.
func (ns *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Do runs f on an OS thread switched into the namespace, for in-process
// code that opens sockets there. The thread is switched back afterwards;
// if that fails it stays locked and dies with its goroutine (never the
// main thread: a thread left in the namespace would make its cleanup list
// and kill the test binary).
func (ns *Netns) Do(t testing.TB, f func()) {
	t.Helper()
	fd, err := unix.Open("/var/run/netns/"+ns.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open netns %s: %v", ns.Name, err)
	}
	defer unix.Close(fd)
	done := make(chan any, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- err
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer func() {
			r := recover()
			if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
				runtime.UnlockOSThread()
			}
			done <- r
		}()
		f()
	}()
	if r := <-done; r != nil {
		t.Fatalf("in netns %s: %v", ns.Name, r)
	}
}

// WaitUp waits until the kernel reports ifname operationally up: until
// linkwatch has run after "ip link set up" (which can take a while on a
// loaded machine) the device's queue drops every packet sent.
func (ns *Netns) WaitUp(t testing.TB, ifname string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := exec.Command("ip", "-n", ns.Name, "-o", "link", "show", "dev", ifname).CombinedOutput()
		if err == nil && strings.Contains(string(out), "state UP") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s in %s not up: %s %v", ifname, ns.Name, out, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Veth creates a veth pair: ifA in a, ifB in b (either may be nil for the
// root namespace... which tests must not use; pass namespaces), both up,
// with the given CIDR addresses when not empty.
func Veth(t testing.TB, a *Netns, ifA, addrA string, b *Netns, ifB, addrB string) {
	t.Helper()
	tmpA, tmpB := names.Unique("va"), names.Unique("vb")
	Run(t, "ip", "link", "add", tmpA, "type", "veth", "peer", "name", tmpB)
	Run(t, "ip", "link", "set", tmpA, "netns", a.Name, "name", ifA)
	Run(t, "ip", "link", "set", tmpB, "netns", b.Name, "name", ifB)
	for _, x := range []struct {
		ns        *Netns
		ifc, cidr string
	}{{a, ifA, addrA}, {b, ifB, addrB}} {
		if x.cidr != "" {
			x.ns.Exec(t, "ip", "addr", "add", x.cidr, "brd", "+", "dev", x.ifc)
		}
		x.ns.Exec(t, "ip", "link", "set", x.ifc, "up")
	}
}

// NewPty opens a pty pair for a serial-line test: the master end
// (non-blocking, so deadlines work; closed in t.Cleanup) and the slave's
// path, which plays the serial port under test.
func NewPty(t testing.TB) (*os.File, string) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	m := os.NewFile(uintptr(fd), "ptmx")
	t.Cleanup(func() { m.Close() })
	return m, "/dev/pts/" + strconv.Itoa(int(n))
}

// HoldOpen opens path (a pty slave) for the rest of the test, so the pair
// outlives the descriptors of the code under test.
func HoldOpen(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Nobody is the uid and gid an unprivileged attacker runs as in tests.
const Nobody = 65534

// SharedDir returns a new directory of mode 0777 that uid Nobody can reach
// and write, like a world-writable /var/lock but without the sticky bit,
// so fs.protected_symlinks cannot hide a link-following bug. Root only.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hwtest-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// PlantSymlink makes uid Nobody create the symlink link -> a new root-owned
// victim file (mode 0644, known content), as a local attacker would. The
// returned function fails t when the victim was changed through the link.
func PlantSymlink(t testing.TB, link string) (victimIntact func()) {
	t.Helper()
	vdir, err := os.MkdirTemp("", "hwtest-victim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(vdir) })
	os.Chmod(vdir, 0o755)
	victim := vdir + "/precious"
	const content = "root:precious:data\n"
	if err := os.WriteFile(victim, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ln", "-s", victim, link)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: Nobody, Gid: Nobody}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("plant %s as uid %d: %v: %s", link, Nobody, err, out)
	}
	return func() {
		t.Helper()
		b, err := os.ReadFile(victim)
		var mode os.FileMode
		if fi, err := os.Stat(victim); err == nil {
			mode = fi.Mode()
		}
		if err != nil || string(b) != content || mode != 0o644 {
			t.Errorf("%s changed through the planted link %s: now %q (%v), mode %v", victim, link, b, err, mode)
		}
	}
}
