package lab

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest/names"
)

// NS is a network namespace owned by a lab. Unlike hwtest.Netns its
// methods return errors, so the bench harness can use it outside tests.
type NS struct {
	Name string
}

// Command returns an unstarted command running inside the namespace.
func (ns *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Run runs a command in the namespace; the error carries its output.
func (ns *NS) Run(name string, args ...string) error {
	_, err := ns.Output(name, args...)
	return err
}

// Output runs a command in the namespace and returns its combined output.
func (ns *NS) Output(name string, args ...string) (string, error) {
	out, err := ns.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("netns %s: %s %s: %v: %s", ns.Name, name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// Do runs f on an OS thread switched into the namespace. Sockets opened
// by f stay in the namespace when used from other goroutines later. The
// thread is switched back afterwards (and discarded if that fails): a
// locked goroutine on the main thread would otherwise leave the whole
// process looking like a member of the namespace.
func (ns *NS) Do(f func() error) error {
	fd, err := unix.Open("/var/run/netns/"+ns.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", ns.Name, err)
	}
	defer unix.Close(fd)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		err = f()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		} // else: stay locked, the thread dies with the goroutine
		done <- err
	}()
	return <-done
}

// Delete kills what still runs in the namespace and deletes it.
func (ns *NS) Delete() {
	for _, pid := range ns.Pids() {
		unix.Kill(pid, unix.SIGKILL)
	}
	exec.Command("ip", "netns", "del", ns.Name).Run()
}

// Pids lists the processes inside the namespace.
func (ns *NS) Pids() []int {
	out, err := exec.Command("ip", "netns", "pids", ns.Name).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

// run runs a host command (namespace administration only).
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// vethPair creates a veth pair ifA in a and ifB in b, both up, with the
// given CIDR addresses when not empty.
func vethPair(a *NS, ifA, addrA string, b *NS, ifB, addrB string) error {
	tmpA, tmpB := names.Unique("la"), names.Unique("lb")
	if err := run("ip", "link", "add", tmpA, "type", "veth", "peer", "name", tmpB); err != nil {
		return err
	}
	if err := run("ip", "link", "set", tmpA, "netns", a.Name, "name", ifA); err != nil {
		run("ip", "link", "del", tmpA)
		return err
	}
	if err := run("ip", "link", "set", tmpB, "netns", b.Name, "name", ifB); err != nil {
		return err
	}
	for _, x := range []struct {
		ns        *NS
		ifc, cidr string
	}{{a, ifA, addrA}, {b, ifB, addrB}} {
		if x.cidr != "" {
			if err := x.ns.Run("ip", "addr", "add", x.cidr, "brd", "+", "dev", x.ifc); err != nil {
				return err
			}
		}
		if err := x.ns.Run("ip", "link", "set", x.ifc, "up"); err != nil {
			return err
		}
	}
	return nil
}

// nsID returns the identity of pid's namespace of the kind (net, mnt...),
// "" if the process is gone.
func nsID(pid int, kind string) string {
	s, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + kind)
	return s
}

// procComm returns /proc/PID/comm without the newline.
func procComm(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(b))
}

// ProcessGone reports whether pid has exited (a zombie not reaped yet
// counts: it runs no more).
func ProcessGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z") || strings.HasPrefix(rest, "X")
}

// allPids lists every process of the machine.
func allPids() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if p, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

func signal(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }
