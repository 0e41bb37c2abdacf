package sched

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
)

func TestRange(t *testing.T) {
	if MinRR() < 1 || MaxRR() < MinRR() {
		t.Fatalf("min %d max %d", MinRR(), MaxRR())
	}
}

// TestSetRRAndLock runs in a child-free way: it switches the test process
// to SCHED_RR, checks this thread, and switches back.
func TestSetRRAndLock(t *testing.T) {
	hwtest.SkipUnderEmulator(t, "qemu-user 7.2 does not carry sched_setattr/sched_getattr through (getattr reads policy 0)")
	hwtest.RequireRoot(t)
	if err := SetRR(0); err != nil {
		t.Skipf("SCHED_RR not allowed here: %v", err)
	}
	defer func() {
		// SetOther undoes SetRR on every thread.
		if err := SetOther(); err != nil {
			t.Errorf("SetOther: %v", err)
		}
		tids, _ := tasks()
		for _, tid := range tids {
			if a, err := unix.SchedGetAttr(tid, 0); err == nil && a.Policy != 0 {
				t.Errorf("thread %d still in policy %d after SetOther", tid, a.Policy)
			}
		}
	}()
	a, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Policy != unix.SCHED_RR || int(a.Priority) != MinRR() {
		t.Fatalf("policy %#x prio %d", a.Policy, a.Priority)
	}
	before := vmRSS(t)
	if err := LockMemory(); err != nil {
		t.Logf("mlockall refused (RLIMIT_MEMLOCK?): %v", err)
	} else {
		// ONFAULT: locking must not fault in the runtime's whole heap arena.
		if grown := vmRSS(t) - before; grown > 16<<10 {
			t.Errorf("VmRSS grew by %d KiB when locking", grown)
		}
		UnlockMemory()
	}
	// Allocation still works after locking and unlocking.
	b := make([]byte, 32<<20)
	b[len(b)-1] = 1
}

func vmRSS(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// SpareThreads leaves at least n more OS threads in the process.
func TestSpareThreads(t *testing.T) {
	before, err := tasks()
	if err != nil {
		t.Fatal(err)
	}
	SpareThreads(len(before) + 4)
	after, err := tasks()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) < len(before)+5 {
		t.Fatalf("%d threads before, %d after SpareThreads(%d)", len(before), len(after), len(before)+4)
	}
}

// Threads counts the process's threads as /proc/self/task lists them.
func TestThreads(t *testing.T) {
	tids, err := tasks()
	if err != nil {
		t.Fatal(err)
	}
	if Threads() == 0 {
		// qemu-user writes /proc/self/stat itself, with num_threads 0.
		hwtest.SkipUnderEmulator(t, "qemu-user's /proc/self/stat has num_threads 0")
	}
	if n := Threads(); n < 1 || n > len(tids)+2 || n < len(tids)-2 {
		t.Fatalf("Threads() = %d, /proc/self/task has %d", n, len(tids))
	}
	if a := testing.AllocsPerRun(10, func() { Threads() }); a != 0 {
		t.Fatalf("Threads allocates %v times", a)
	}
}
