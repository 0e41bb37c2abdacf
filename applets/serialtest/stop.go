package serialtest

import (
	"errors"
	"os"
	"os/signal"
)

// stopper is the part of context.Context a run uses: Done is closed and
// Err is non-nil once the run must stop. Tests pass a context.Context; the
// applet passes a sigStop (package context costs ~24 KB of the binary).
type stopper interface {
	Done() <-chan struct{}
	Err() error
}

// errInterrupted is sigStop's Err after a signal.
var errInterrupted = errors.New("interrupted by a signal")

// sigStop is a stopper that stops at the first of its signals.
type sigStop struct {
	done chan struct{}
	sig  chan os.Signal
}

// Done is closed when a signal arrived.
func (s *sigStop) Done() <-chan struct{} { return s.done }

// Err is errInterrupted after a signal, nil before.
func (s *sigStop) Err() error {
	select {
	case <-s.done:
		return errInterrupted
	default:
		return nil
	}
}

// notifyStop returns a stopper that stops at the first of sigs, and the
// function that removes the handler (signal.NotifyContext without package
// context).
func notifyStop(sigs ...os.Signal) (*sigStop, func()) {
	s := &sigStop{done: make(chan struct{}), sig: make(chan os.Signal, 1)}
	signal.Notify(s.sig, sigs...)
	quit := make(chan struct{})
	go func() {
		select {
		case <-s.sig:
			close(s.done)
		case <-quit:
		}
	}()
	return s, func() { signal.Stop(s.sig); close(quit) }
}
