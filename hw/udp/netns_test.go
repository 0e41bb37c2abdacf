package udp

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
)

// doIn runs f on an OS thread switched into ns and switches the thread
// back afterwards. hwtest.Netns.Do leaves the thread in the namespace and
// relies on the thread dying with its goroutine; when the goroutine lands
// on the main thread (which never dies) the whole process then counts as
// inside the namespace and its cleanup (`ip netns pids` + SIGKILL) kills
// the test binary.
func doIn(t testing.TB, ns *hwtest.Netns, f func()) {
	t.Helper()
	target, err := unix.Open("/var/run/netns/"+ns.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open netns %s: %v", ns.Name, err)
	}
	defer unix.Close(target)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- err
			return // thread stays locked and dies: nothing changed yet
		}
		defer unix.Close(orig)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		f()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			done <- err
			return // leave the thread locked: it dies with the goroutine
		}
		runtime.UnlockOSThread()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("in netns %s: %v", ns.Name, err)
	}
}
