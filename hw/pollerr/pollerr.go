// Package pollerr maps the errors of files on the Go runtime poller
// (sockets and ttys wrapped in *os.File and read through SyscallConn) to
// the ones callers test for.
package pollerr

import (
	"errors"
	"os"
)

// Closed returns err, except that the poller's "use of closed file"
// (internal/poll.ErrFileClosing, which RawConn.Read hands back unwrapped,
// so errors.Is cannot see it) becomes a *os.PathError{op, path,
// os.ErrClosed}: callers can test errors.Is(err, os.ErrClosed) to tell a
// Close from a failure.
func Closed(op, path string, err error) error {
	if err != nil && !errors.Is(err, os.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) && err.Error() == "use of closed file" {
		return &os.PathError{Op: op, Path: path, Err: os.ErrClosed}
	}
	return err
}
