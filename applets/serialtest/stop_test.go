package serialtest

import (
	"syscall"
	"testing"
	"time"
)

// TestNotifyStop: a signal closes Done and sets Err, like
// signal.NotifyContext; before it neither happens, and stop removes the
// handler.
func TestNotifyStop(t *testing.T) {
	s, stop := notifyStop(syscall.SIGUSR2)
	defer stop()
	if s.Err() != nil {
		t.Fatalf("Err before the signal = %v", s.Err())
	}
	select {
	case <-s.Done():
		t.Fatal("Done closed before the signal")
	default:
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed 5 s after SIGUSR2")
	}
	if s.Err() != errInterrupted {
		t.Fatalf("Err after the signal = %v, want %v", s.Err(), errInterrupted)
	}
}
