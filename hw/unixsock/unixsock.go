// Package unixsock opens Unix domain sockets with golang.org/x/sys/unix
// instead of package net, which would cost ~250 KB of binary. Every socket
// is non-blocking and wrapped in an *os.File, so reads and accepts park on
// the Go runtime poller, deadlines work, and Close unblocks a waiting
// reader.
//
// It serves the daemon's local control socket (stream) and syslog over
// /dev/log (datagram).
package unixsock

import (
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"habox/hw/pollerr"
)

// Conn is a connected stream socket. It is an *os.File underneath: Read,
// Write, SetDeadline and Close behave as on a pollable file.
type Conn struct {
	*os.File
}

// Listener is a listening stream socket bound to a path.
type Listener struct {
	f    *os.File
	path string
}

// wrap makes fd non-blocking and hands it to the runtime poller.
func wrap(fd int, name string) (*os.File, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("setnonblock", err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// Listen creates a stream socket at path with the given file mode (e.g.
// 0600: only root may connect). A stale socket file left by a dead process
// is replaced; a path where something still accepts connections is an
// error, so two daemons never share one socket.
func Listen(path string, mode os.FileMode) (*Listener, error) {
	if c, err := Dial(path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, &os.PathError{Op: "listen", Path: path, Err: errors.New("socket in use by a running process")}
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, &os.PathError{Op: "listen", Path: path, Err: errors.New("exists and is not a socket")}
		}
		os.Remove(path)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// The mode is set on the socket's inode before bind, which creates the
	// file with it (less the umask): no window in which others could
	// connect, and no chmod by path that a link swapped in could redirect.
	if err := unix.Fchmod(fd, uint32(mode.Perm())); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("fchmod", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "bind", Path: path, Err: err}
	}
	if err := unix.Listen(fd, 16); err != nil {
		unix.Close(fd)
		os.Remove(path)
		return nil, &os.PathError{Op: "listen", Path: path, Err: err}
	}
	f, err := wrap(fd, path)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	return &Listener{f: f, path: path}, nil
}

// Path returns the socket's file name.
func (l *Listener) Path() string { return l.path }

// Accept waits for a connection. After Close it returns an error wrapping
// os.ErrClosed.
func (l *Listener) Accept() (*Conn, error) {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var nfd int
	var aerr error
	err = rc.Read(func(fd uintptr) bool {
		// syscall's Accept4, not x/sys/unix's: see hw/udp's Recv.
		nfd, _, aerr = syscall.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		return aerr != unix.EAGAIN
	})
	if err != nil {
		return nil, pollerr.Closed("accept", l.path, err)
	}
	if aerr != nil {
		return nil, os.NewSyscallError("accept", aerr)
	}
	return &Conn{os.NewFile(uintptr(nfd), l.path)}, nil
}

// Close stops listening, wakes a blocked Accept and removes the socket file.
func (l *Listener) Close() error {
	err := l.f.Close()
	os.Remove(l.path)
	return err
}

// Dial connects to the stream socket at path, waiting at most timeout for
// room in a full accept queue.
func Dial(path string, timeout time.Duration) (*Conn, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		if err != unix.EAGAIN || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		unix.Close(fd)
		if err == unix.EAGAIN {
			err = syscall.ETIMEDOUT
		}
		return nil, &os.PathError{Op: "connect", Path: path, Err: err}
	}
	return &Conn{os.NewFile(uintptr(fd), path)}, nil
}

// CloseWrite shuts down the sending side, so the peer reads EOF.
func (c *Conn) CloseWrite() error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Shutdown(int(fd), unix.SHUT_WR) }); err != nil {
		return err
	}
	return os.NewSyscallError("shutdown", serr)
}

// PeerUID returns the user id of the connected process (SO_PEERCRED).
func (c *Conn) PeerUID() (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *unix.Ucred
	var gerr error
	if err := rc.Control(func(fd uintptr) { cred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return -1, err
	}
	if gerr != nil {
		return -1, os.NewSyscallError("getsockopt SO_PEERCRED", gerr)
	}
	return int(cred.Uid), nil
}

// Dgram is an unconnected-or-connected Unix datagram socket, e.g. a client
// of the syslog socket /dev/log.
type Dgram struct {
	f    *os.File
	path string
}

// DialDgram connects a datagram socket to path (such as "/dev/log").
func DialDgram(path string) (*Dgram, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "connect", Path: path, Err: err}
	}
	return &Dgram{f: os.NewFile(uintptr(fd), path), path: path}, nil
}

// ListenDgram binds a datagram socket at path (tests use it as a fake
// syslog daemon).
func ListenDgram(path string) (*Dgram, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "bind", Path: path, Err: err}
	}
	return &Dgram{f: os.NewFile(uintptr(fd), path), path: path}, nil
}

// Send writes one datagram without blocking: a full receiver queue returns
// EAGAIN at once (a stuck syslog daemon must not stall heartbeats).
func (d *Dgram) Send(b []byte) error {
	rc, err := d.f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { _, serr = unix.Write(int(fd), b) }); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "send", Path: d.path, Err: serr}
	}
	return nil
}

// Recv reads one datagram into b, waiting on the poller; deadlines set
// with SetReadDeadline apply.
func (d *Dgram) Recv(b []byte) (int, error) {
	return d.f.Read(b)
}

// SetReadDeadline sets the deadline for Recv.
func (d *Dgram) SetReadDeadline(t time.Time) error { return d.f.SetReadDeadline(t) }

// Close closes the socket.
func (d *Dgram) Close() error { return d.f.Close() }
