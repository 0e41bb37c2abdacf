// Package fsinfo tells what kind of file system holds a path (statfs), so
// the daemon can warn when its state would not survive a reboot.
package fsinfo

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Magic numbers of the RAM-backed file systems (<linux/magic.h>).
const (
	tmpfsMagic = 0x01021994
	ramfsMagic = 0x858458f6
)

// Volatile returns "tmpfs" or "ramfs" when path (or, if it does not exist
// yet, its nearest existing parent) is on a RAM-backed file system, and ""
// otherwise.
func Volatile(path string) (string, error) {
	p := filepath.Clean(path)
	for {
		var st unix.Statfs_t
		err := unix.Statfs(p, &st)
		if err == nil {
			switch uint64(st.Type) & 0xffffffff {
			case tmpfsMagic:
				return "tmpfs", nil
			case ramfsMagic:
				return "ramfs", nil
			}
			return "", nil
		}
		parent := filepath.Dir(p)
		if err != unix.ENOENT || parent == p {
			return "", &os.PathError{Op: "statfs", Path: p, Err: err}
		}
		p = parent
	}
}
