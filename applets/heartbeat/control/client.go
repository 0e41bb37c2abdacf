package control

import (
	"errors"
	"io"
	"os"
	"syscall"
	"time"

	"habox/applets/cli"
	"habox/hw/unixsock"
)

// DefaultClientTimeout bounds a whole request (connect, send, answer),
// like cl_status's 5 s alarm.
const DefaultClientTimeout = 5 * time.Second

// Client errors.
var (
	// ErrNotRunning: no daemon listens on the socket. Its text is the
	// reason 3.0.6's cl_status prints in that case.
	ErrNotRunning = errors.New("hb_api_signon: Can't initiate connection to heartbeat")
	// ErrPermission: the socket exists but we may not connect (not root).
	ErrPermission = errors.New("permission denied")
	// ErrTimeout: the daemon did not answer in time.
	ErrTimeout = errors.New("timed out waiting for heartbeat")
)

// SocketPath returns the control socket to use: opt (the -S option) when
// set, else $HA_CTLSOCK, else DefaultSocket.
func SocketPath(env *cli.Env, opt string) string {
	if opt != "" {
		return opt
	}
	if p := env.Getenv(SocketEnv); p != "" {
		return p
	}
	return DefaultSocket
}

// Query sends req to the daemon at path and returns its answer. Errors:
// ErrNotRunning, ErrPermission, ErrTimeout (all wrapped with the cause),
// *RefusedError, or another error for anything unexpected. The whole
// request takes at most DefaultClientTimeout.
func Query(path string, req Request) (Snapshot, error) {
	return QueryWithin(path, req, DefaultClientTimeout)
}

// QueryWithin is Query bounded by timeout.
func QueryWithin(path string, req Request, timeout time.Duration) (Snapshot, error) {
	deadline := time.Now().Add(timeout)
	c, err := unixsock.Dial(path, timeout)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOTDIR):
			return Snapshot{}, ErrNotRunning
		case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
			return Snapshot{}, cli.Wrap(err.Error(), ErrPermission)
		case errors.Is(err, syscall.ETIMEDOUT):
			return Snapshot{}, cli.Wrap(err.Error(), ErrTimeout)
		}
		return Snapshot{}, err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if _, err := io.WriteString(c, req.String()+"\n"); err != nil {
		return Snapshot{}, timeoutOr(err)
	}
	s, err := DecodeResponse(c)
	return s, timeoutOr(err)
}

func timeoutOr(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return cli.Wrap("control socket", ErrTimeout)
	}
	return err
}
