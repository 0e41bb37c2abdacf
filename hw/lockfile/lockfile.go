// Package lockfile provides an exclusive advisory lock (flock(2)) on a file,
// shared by processes and by goroutines of one process alike (every Lock
// opens its own file description).
package lockfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// Lock creates path if needed and blocks until it holds an exclusive flock
// on it. The returned function releases the lock.
func Lock(path string) (unlock func(), err error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return func() { unix.Close(fd) }, nil
}
