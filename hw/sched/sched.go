// Package sched puts the daemon in the real-time class and locks its
// memory, as heartbeat 3.0.6 does with `realtime on` (SCHED_RR at rtprio,
// mlockall). Every call may fail without privileges or under a small
// RLIMIT_MEMLOCK; callers warn and carry on.
package sched

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MinRR returns the minimum SCHED_RR priority (1 on Linux).
func MinRR() int {
	p, _, errno := unix.Syscall(unix.SYS_SCHED_GET_PRIORITY_MIN, unix.SCHED_RR, 0, 0)
	if errno != 0 || int(p) < 1 {
		return 1
	}
	return int(p)
}

// MaxRR returns the maximum SCHED_RR priority (99 on Linux).
func MaxRR() int {
	p, _, errno := unix.Syscall(unix.SYS_SCHED_GET_PRIORITY_MAX, unix.SCHED_RR, 0, 0)
	if errno != 0 || int(p) < 1 {
		return 99
	}
	return int(p)
}

// resetOnFork (SCHED_FLAG_RESET_ON_FORK) keeps children (resource
// scripts) out of the real-time class, as 3.0.6 makes its script children
// non-realtime.
const resetOnFork = 0x01

// SetRR switches every thread of the process to SCHED_RR at prio (0: the
// minimum). Linux scheduling policies are per thread and, with
// SCHED_RESET_ON_FORK, not inherited by threads the Go runtime creates
// later: call it again from time to time (it only touches threads not yet
// switched when called repeatedly, cheaply enough for a 10 s period).
func SetRR(prio int) error {
	if prio <= 0 {
		prio = MinRR()
	}
	tids, err := tasks()
	if err != nil {
		return &os.SyscallError{Syscall: "sched_setattr", Err: err}
	}
	var first error
	for _, tid := range tids {
		if p, err := unix.SchedGetAttr(tid, 0); err == nil && p.Policy == unix.SCHED_RR && int(p.Priority) == prio {
			continue
		}
		attr := &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_RR, Flags: resetOnFork, Priority: uint32(prio)}
		if err := unix.SchedSetAttr(tid, attr, 0); err != nil && err != unix.ESRCH && first == nil {
			first = &os.SyscallError{Syscall: "sched_setattr", Err: err}
		}
	}
	return first
}

// SetOther puts every thread of the process back in the normal class
// (SCHED_OTHER), undoing SetRR.
func SetOther() error {
	tids, err := tasks()
	if err != nil {
		return &os.SyscallError{Syscall: "sched_setattr", Err: err}
	}
	var first error
	for _, tid := range tids {
		attr := &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: 0 /* SCHED_OTHER */}
		if err := unix.SchedSetAttr(tid, attr, 0); err != nil && err != unix.ESRCH && first == nil {
			first = &os.SyscallError{Syscall: "sched_setattr", Err: err}
		}
	}
	return first
}

var (
	statMu   sync.Mutex
	statBuf  [512]byte
	statPath = []byte("/proc/self/stat\x00")
	fdcwd    = unix.AT_FDCWD
	atFDCWD  = uintptr(fdcwd) // -100 as the syscall takes it
)

// Threads returns the number of threads of the process (0 if unknown),
// from /proc/self/stat without allocating a directory listing.
func Threads() int {
	statMu.Lock()
	defer statMu.Unlock()
	buf := &statBuf
	// openat by hand: unix.Open would allocate the C string each time.
	r, _, errno := unix.Syscall6(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(&statPath[0])),
		uintptr(unix.O_RDONLY|unix.O_CLOEXEC), 0, 0, 0)
	if errno != 0 {
		return 0
	}
	fd := int(r)
	n, _ := unix.Read(fd, buf[:])
	unix.Close(fd)
	b := buf[:max(n, 0)]
	// Field 20 (num_threads) is the 18th after the ")" closing comm.
	i := len(b) - 1
	for i >= 0 && b[i] != ')' {
		i--
	}
	field, v := 0, 0
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == ' ':
			field++
			if field > 18 {
				return v
			}
		case field == 18 && c >= '0' && c <= '9':
			v = v*10 + int(c-'0')
		}
	}
	return 0
}

func tasks() ([]int, error) {
	d, err := os.Open("/proc/self/task")
	if err != nil {
		return []int{0}, nil
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, n := range names {
		if id, err := strconv.Atoi(n); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// LockMemory locks the process's memory as it is faulted in:
// mlockall(MCL_CURRENT|MCL_ONFAULT). ONFAULT matters for a Go program:
// plain MCL_CURRENT faults in every mapped page, including the whole
// 64 MiB heap arena the runtime maps at start (VmRSS ~75 MiB instead of a
// few MiB); and MCL_FUTURE is not used because under a small
// RLIMIT_MEMLOCK (8 MiB on many systems) later allocations would fail once
// the heap grows past the limit.
func LockMemory() error {
	if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_ONFAULT); err != nil {
		return &os.SyscallError{Syscall: "mlockall", Err: err}
	}
	return nil
}

// UnlockMemory undoes LockMemory.
func UnlockMemory() error {
	if err := unix.Munlockall(); err != nil {
		return &os.SyscallError{Syscall: "munlockall", Err: err}
	}
	return nil
}

// SpareThreads makes the Go runtime start n more OS threads now and keep
// them idle for reuse: n goroutines lock themselves to threads at the
// same time, then unlock and end. A SetRR that follows puts them in the
// real-time class too, so the runtime rarely needs a new (non-real-time,
// see resetOnFork) thread later, when a goroutine blocks in a system call
// on a saturated machine.
func SpareThreads(n int) {
	var ready, release sync.WaitGroup
	ready.Add(n)
	release.Add(1)
	var done sync.WaitGroup
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			ready.Done()
			release.Wait()
			runtime.UnlockOSThread()
		}()
	}
	ready.Wait()
	release.Done()
	done.Wait()
}
