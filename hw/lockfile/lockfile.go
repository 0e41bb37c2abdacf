// Package lockfile provides an exclusive advisory lock (flock(2)) on a file,
// shared by processes and by goroutines of one process alike (every Lock
// opens its own file description).
package lockfile

import (
	"os"

	"golang.org/x/sys/unix"

	"habox/hw/safefile"
)

// Lock creates path if needed and blocks until it holds an exclusive flock
// on it. A symlink or anything but a regular file at path is refused, never
// followed. The returned function releases the lock.
func Lock(path string) (unlock func(), err error) {
	f, err := safefile.OpenLock(path, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return func() { f.Close() }, nil
}
