// Package boot holds the system calls a PID 1 needs: mounting the kernel
// filesystems, setting the hostname, reaping every child, signalling
// processes and powering the machine off or rebooting it.
package boot

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Mount mounts fstype on target (created 0755 if missing); a target that is
// already a mount point of that type is fine.
func Mount(source, target, fstype string, flags uintptr, data string) error {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		if errors.Is(err, unix.EBUSY) {
			return nil
		}
		return &os.PathError{Op: "mount " + fstype, Path: target, Err: err}
	}
	return nil
}

// Sethostname sets the kernel's host name (what uname -n prints).
func Sethostname(name string) error {
	return os.NewSyscallError("sethostname", unix.Sethostname([]byte(name)))
}

// Exit is how a reaped child ended.
type Exit struct {
	Pid    int
	Status syscall.WaitStatus
}

// Code returns the exit code, or 128+signal for a child killed by a signal
// (as a shell reports it).
func (e Exit) Code() int {
	if e.Status.Signaled() {
		return 128 + int(e.Status.Signal())
	}
	return e.Status.ExitStatus()
}

// Reap waits for any child (including orphans re-parented to PID 1) to
// end. It returns an error wrapping unix.ECHILD when there is none.
func Reap() (Exit, error) {
	var ws unix.WaitStatus
	for {
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return Exit{}, os.NewSyscallError("wait4", err)
		}
		return Exit{Pid: pid, Status: syscall.WaitStatus(ws)}, nil
	}
}

// Kill sends sig to pid (-1: every process but the caller and PID 1).
func Kill(pid int, sig syscall.Signal) error {
	return os.NewSyscallError("kill", unix.Kill(pid, sig))
}

// Shutdown actions for Reboot. They are small numbers, not the kernel's
// magic LINUX_REBOOT_CMD_* values, which overflow int on 32-bit targets.
const (
	PowerOff = 1 + iota
	Restart
	Halt
)

// Reboot syncs the filesystems and powers off, restarts or halts the
// machine (cmd is PowerOff, Restart or Halt). It returns only on error.
func Reboot(cmd int) error {
	var magic uint32
	switch cmd {
	case PowerOff:
		magic = unix.LINUX_REBOOT_CMD_POWER_OFF
	case Restart:
		magic = unix.LINUX_REBOOT_CMD_RESTART
	case Halt:
		magic = unix.LINUX_REBOOT_CMD_HALT
	default:
		return os.NewSyscallError("reboot", unix.EINVAL)
	}
	unix.Sync()
	// The kernel reads cmd as an unsigned int; int32 keeps the bits on
	// 32-bit targets.
	return os.NewSyscallError("reboot", unix.Reboot(int(int32(magic))))
}

// Mounted reports whether target is the root of a filesystem of type
// fstype ("proc", "sysfs", "tmpfs", "devpts"), judged by statfs.
func Mounted(target, fstype string) bool {
	var st unix.Statfs_t
	if unix.Statfs(target, &st) != nil {
		return false
	}
	magic := map[string]int64{"proc": unix.PROC_SUPER_MAGIC, "sysfs": unix.SYSFS_MAGIC,
		"tmpfs": unix.TMPFS_MAGIC, "devpts": unix.DEVPTS_SUPER_MAGIC}
	m, ok := magic[fstype]
	return ok && int64(st.Type) == m
}
