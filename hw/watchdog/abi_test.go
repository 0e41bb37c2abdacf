package watchdog

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest/kabi"
)

// fakeDriver plays a watchdog driver at the ioctl(2) boundary as the
// kernel of the running GOARCH would: it answers only the request numbers
// of the kernel's headers (kabi) and reads and writes exactly the C types
// (a 4-byte int, a 40-byte struct watchdog_info) in the CPU's byte order.
// Under `make test-cross` this runs on each target arch, big-endian mips
// and mips64 included.
type fakeDriver struct {
	abi       kabi.ABI
	timeout   uint32
	max       uint32
	keepalive int
	calls     []uint64
}

func (d *fakeDriver) ioctl(fd int, req uint, arg unsafe.Pointer) error {
	r := uint64(req)
	d.calls = append(d.calls, r)
	v := d.abi.Values
	switch r {
	case v["WDIOC_SETTIMEOUT"]:
		p := (*[4]byte)(arg)
		d.timeout = min(binary.NativeEndian.Uint32(p[:]), d.max)
		binary.NativeEndian.PutUint32(p[:], d.timeout)
	case v["WDIOC_GETTIMEOUT"]:
		binary.NativeEndian.PutUint32((*[4]byte)(arg)[:], d.timeout)
	case v["WDIOC_GETSUPPORT"]:
		p := (*[kabi.WatchdogInfoSize]byte)(arg)
		binary.NativeEndian.PutUint32(p[0:], unix.WDIOF_SETTIMEOUT|unix.WDIOF_MAGICCLOSE|unix.WDIOF_KEEPALIVEPING)
		binary.NativeEndian.PutUint32(p[4:], 7)
		copy(p[8:], "Fake Watchdog\x00")
	case v["WDIOC_KEEPALIVE"]:
		d.keepalive++
	default:
		return unix.ENOTTY
	}
	return nil
}

func openFake(t *testing.T) (*Watchdog, *fakeDriver) {
	t.Helper()
	a, ok := kabi.For(runtime.GOARCH)
	if !ok {
		t.Fatalf("no kernel ABI table for %s", runtime.GOARCH)
	}
	path := filepath.Join(t.TempDir(), "watchdog")
	if err := os.WriteFile(path, nil, 0600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	d := &fakeDriver{abi: a, timeout: 60, max: 60}
	w.ioctl = d.ioctl
	return w, d
}

// TestIoctlsAgainstFakeDriver checks the request numbers and argument
// layouts hw/watchdog uses against the kernel's for this GOARCH.
func TestIoctlsAgainstFakeDriver(t *testing.T) {
	for _, c := range []struct {
		set, want time.Duration
	}{
		{2 * time.Second, 2 * time.Second},
		{1500 * time.Millisecond, 2 * time.Second}, // rounded up, as heartbeat does
		{17 * time.Second, 17 * time.Second},
		{90 * time.Second, 60 * time.Second}, // the driver clamps and writes back
	} {
		w, d := openFake(t)
		if err := w.SetTimeout(c.set); err != nil {
			t.Fatalf("SetTimeout(%v): %v", c.set, err)
		}
		if w.timeout != c.want {
			t.Errorf("SetTimeout(%v) kept %v, the driver chose %v", c.set, w.timeout, c.want)
		}
		got, err := w.Timeout()
		if err != nil || got != c.want {
			t.Errorf("SetTimeout(%v); Timeout() = %v, %v; want %v", c.set, got, err, c.want)
		}
		want := []uint64{d.abi.Values["WDIOC_SETTIMEOUT"], d.abi.Values["WDIOC_GETTIMEOUT"]}
		if len(d.calls) != 2 || d.calls[0] != want[0] || d.calls[1] != want[1] {
			t.Errorf("requests %#x, want %#x", d.calls, want)
		}
	}
	w, d := openFake(t)
	info, err := w.Support()
	if err != nil {
		t.Fatal(err)
	}
	if info.Identity != "Fake Watchdog" || info.Firmware != 7 || !info.HasMagicClose() ||
		Options(info.Options) != "settimeout,magicclose,keepaliveping" {
		t.Errorf("Support() = %+v (%s)", info, Options(info.Options))
	}
	if err := w.Keepalive(); err != nil {
		t.Fatal(err)
	}
	if d.keepalive != 1 || w.noIoctl {
		t.Errorf("Keepalive: driver saw %d WDIOC_KEEPALIVE, noIoctl %v", d.keepalive, w.noIoctl)
	}
}

// TestEmulatorENOSYSIsNotWatchdog: qemu-user answers ioctls it cannot
// translate (all WDIOC_*) with ENOSYS; that must read as "not a watchdog
// driver", like the kernel's ENOTTY, so feeding falls back to writes.
func TestEmulatorENOSYSIsNotWatchdog(t *testing.T) {
	for _, errno := range []unix.Errno{unix.ENOTTY, unix.ENOSYS} {
		w, _ := openFake(t)
		w.ioctl = func(int, uint, unsafe.Pointer) error { return errno }
		if err := w.SetTimeout(time.Second); !errors.Is(err, errors.ErrUnsupported) || !errors.Is(err, errno) {
			t.Errorf("%v: SetTimeout = %v, want ErrUnsupported wrapping it", errno, err)
		}
		if err := w.Keepalive(); err != nil {
			t.Errorf("%v: Keepalive = %v, want a fallback write", errno, err)
		}
	}
	w, _ := openFake(t)
	w.ioctl = func(int, uint, unsafe.Pointer) error { return unix.EIO }
	if err := w.Keepalive(); !errors.Is(err, unix.EIO) || errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("EIO: Keepalive = %v, want the EIO", err)
	}
}
