// Package reboot restarts the machine at once, as heartbeat 3.0.6's
// ResourceManager does with `reboot -nf` after a resource stop failure:
// no shutdown scripts, no unmount (the file systems are synced first).
package reboot

import (
	"os"

	"golang.org/x/sys/unix"
)

// Now syncs the file systems and reboots. It returns only on failure.
func Now() error {
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART); err != nil {
		return &os.SyscallError{Syscall: "reboot", Err: err}
	}
	return nil
}
