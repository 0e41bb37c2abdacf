package pollerr

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestClosed closes a pipe while a reader waits on the poller through
// SyscallConn, the way hw/udp, hw/icmp and hw/unixsock read: the error the
// runtime returns must become os.ErrClosed, and other errors stay.
func TestClosed(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- rc.Read(func(fd uintptr) bool {
			_, err := unix.Read(int(fd), make([]byte, 1))
			return err != unix.EAGAIN
		})
	}()
	r.Close()
	raw := <-done
	if errors.Is(raw, os.ErrClosed) {
		t.Logf("the runtime wraps os.ErrClosed itself now: %v", raw)
	}
	if err := Closed("recv", "pipe", raw); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Closed(%v) = %v, want os.ErrClosed", raw, err)
	}
	other := os.ErrDeadlineExceeded
	if err := Closed("recv", "pipe", other); err != other {
		t.Errorf("Closed(deadline) = %v, want it unchanged", err)
	}
	if Closed("recv", "pipe", nil) != nil {
		t.Error("Closed(nil) != nil")
	}
}
