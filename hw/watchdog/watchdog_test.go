package watchdog

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakes returns a FIFO (with a reader already open) and a regular file
// standing in for a watchdog device, and a function reading what was
// written to each.
func fakes(t *testing.T) map[string]func() []byte {
	t.Helper()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0600); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	reg := filepath.Join(dir, "file")
	if err := os.WriteFile(reg, nil, 0600); err != nil {
		t.Fatal(err)
	}
	return map[string]func() []byte{
		fifo: func() []byte {
			r.SetReadDeadline(time.Now().Add(2 * time.Second))
			b, _ := io.ReadAll(r) // the writer closed: EOF
			return b
		},
		reg: func() []byte {
			b, err := os.ReadFile(reg)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
	}
}

func TestWriteProtocolOnFakeDevices(t *testing.T) {
	for path, written := range fakes(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			w, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.SetTimeout(1500 * time.Millisecond); !errors.Is(err, errors.ErrUnsupported) || !notWatchdog(err) {
				t.Errorf("SetTimeout on a non-watchdog: %v, want ErrUnsupported wrapping ENOTTY (ENOSYS under qemu-user)", err)
			}
			if _, err := w.Timeout(); !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("Timeout: %v, want ErrUnsupported", err)
			}
			if _, err := w.Identity(); !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("Identity: %v, want ErrUnsupported", err)
			}
			if err := w.Feed(); err != nil {
				t.Fatal(err)
			}
			if err := w.Keepalive(); err != nil { // falls back to a write
				t.Fatal(err)
			}
			if err := w.MagicClose(); err != nil {
				t.Fatal(err)
			}
			if got, want := string(written()), "\x00\x00V"; got != want {
				t.Errorf("bytes written %q, want %q", got, want)
			}
			if err := w.Feed(); !errors.Is(err, os.ErrClosed) {
				t.Errorf("Feed after close: %v, want ErrClosed", err)
			}
			if err := w.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func TestCloseWithoutMagic(t *testing.T) {
	for path, written := range fakes(t) {
		w, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Feed(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := string(written()); got != "\x00" {
			t.Errorf("%s: bytes written %q, want a single 0x00", path, got)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want ErrNotExist", err)
	}
	w, err := Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.SetTimeout(0); !errors.Is(err, unix.EINVAL) {
		t.Errorf("SetTimeout(0) = %v, want EINVAL", err)
	}
	// /dev/null is a character device that is not a watchdog.
	if err := w.SetTimeout(time.Second); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("SetTimeout on /dev/null = %v, want ErrUnsupported", err)
	}
}

// TestRealDevice exercises a real driver when one is present (a VM with
// softdog); the build machines have none.
func TestRealDevice(t *testing.T) {
	const dev = "/dev/watchdog"
	if _, err := os.Stat(dev); err != nil {
		t.Skip("no " + dev + " on this machine")
	}
	w, err := Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer w.MagicClose()
	if err := w.SetTimeout(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if d, err := w.Timeout(); err != nil || d <= 0 {
		t.Fatalf("Timeout = %v, %v", d, err)
	}
	if id, err := w.Identity(); err != nil || id == "" {
		t.Fatalf("Identity = %q, %v", id, err)
	}
	if err := w.Keepalive(); err != nil {
		t.Fatal(err)
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		o    uint32
		want string
	}{
		{0, ""},
		{unix.WDIOF_SETTIMEOUT | unix.WDIOF_MAGICCLOSE | unix.WDIOF_KEEPALIVEPING, "settimeout,magicclose,keepaliveping"},
		{unix.WDIOF_OVERHEAT | 0x10000, "overheat,0x10000"},
	} {
		if got := Options(tc.o); got != tc.want {
			t.Errorf("Options(%#x) = %q, want %q", tc.o, got, tc.want)
		}
	}
}
