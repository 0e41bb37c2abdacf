package sched

import (
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
	hwtest.RequireRoot(t)
	if err := SetRR(0); err != nil {
		t.Skipf("SCHED_RR not allowed here: %v", err)
	}
	defer func() {
		tids, _ := tasks()
		for _, tid := range tids {
			unix.SchedSetAttr(tid, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: 0}, 0)
		}
	}()
	a, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Policy != unix.SCHED_RR || int(a.Priority) != MinRR() {
		t.Fatalf("policy %#x prio %d", a.Policy, a.Priority)
	}
	if err := LockMemory(); err != nil {
		t.Logf("mlockall refused (RLIMIT_MEMLOCK?): %v", err)
	} else {
		UnlockMemory()
	}
	// Allocation still works after locking and unlocking.
	b := make([]byte, 32<<20)
	b[len(b)-1] = 1
}
