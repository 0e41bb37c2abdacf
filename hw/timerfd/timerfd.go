// Package timerfd is a one-shot timer on Linux's timerfd (CLOCK_MONOTONIC)
// read through the runtime's poller: it wakes its reader within
// microseconds of the deadline, where the runtime's own timers sleep in
// whole milliseconds (epoll_wait's timeout) and may fire up to 1 ms late.
package timerfd

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Timer is a one-shot timer. C receives a value each time it expires.
type Timer struct {
	C  <-chan struct{}
	c  chan struct{}
	fd int
	f  *os.File
}

// New creates a disarmed timer and its reader goroutine.
func New() (*Timer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, &os.SyscallError{Syscall: "timerfd_create", Err: err}
	}
	c := make(chan struct{}, 1)
	t := &Timer{C: c, c: c, fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}
	go t.read()
	return t, nil
}

func (t *Timer) read() {
	var b [8]byte
	for {
		if _, err := t.f.Read(b[:]); err != nil {
			return // closed
		}
		select {
		case t.c <- struct{}{}:
		default: // one pending expiry is enough
		}
	}
}

// Set arms the timer to expire once after d (at least 1 ns), replacing
// any earlier setting.
func (t *Timer) Set(d time.Duration) error {
	if d <= 0 {
		d = 1
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(t.fd, 0, &spec, nil); err != nil {
		return &os.SyscallError{Syscall: "timerfd_settime", Err: err}
	}
	return nil
}

// Close stops the timer and its reader.
func (t *Timer) Close() error { return t.f.Close() }
