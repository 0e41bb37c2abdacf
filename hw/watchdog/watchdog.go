// Package watchdog drives a Linux watchdog device (/dev/watchdog) the way
// heartbeat 3.0.6 does: open it write-only, set the timeout, feed it one
// 0x00 byte at a time, and disarm it with the magic close character 'V'.
//
// When the path is not a watchdog driver (a FIFO or a regular file in
// tests), the ioctls fail with ENOTTY (ENOSYS under qemu-user, which does
// not know the watchdog ioctls): feeding falls back to plain writes,
// and the timeout and identity calls return an error wrapping
// errors.ErrUnsupported, so callers can log it and go on, as heartbeat does.
package watchdog

import (
	"errors"
	"os"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Watchdog is an open watchdog device. It is not safe for concurrent use.
type Watchdog struct {
	path    string
	fd      int
	noIoctl bool          // the device refused an ioctl with ENOTTY
	timeout time.Duration // last value set or read
	ioctl   func(fd int, req uint, arg unsafe.Pointer) error
}

// ioctl is ioctl(2) with a pointer argument. Every WDIOC_* call takes a
// pointer to a C int (4 bytes on every arch) or to a struct watchdog_info;
// x/sys's IoctlGetInt reads a Go int (8 bytes on 64-bit), which on
// big-endian mips64 put the kernel's 4 bytes in the high half.
func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

// Info is what WDIOC_GETSUPPORT reports about the driver.
type Info struct {
	Identity string // driver name, e.g. "Software Watchdog"
	Firmware uint32 // firmware version
	Options  uint32 // WDIOF_* capability bits
}

// HasMagicClose reports whether the driver announces WDIOF_MAGICCLOSE: a
// 'V' before close disarms it.
func (i Info) HasMagicClose() bool { return i.Options&unix.WDIOF_MAGICCLOSE != 0 }

// Open opens the watchdog device write-only. Opening a watchdog arms it:
// from now on it must be fed within its timeout, or disarmed with
// MagicClose (unless the driver runs in nowayout mode).
func Open(path string) (*Watchdog, error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &Watchdog{path: path, fd: fd, ioctl: ioctl}, nil
}

// Path returns the path the watchdog was opened with.
func (w *Watchdog) Path() string { return w.path }

// notWatchdog reports whether err says the file has no watchdog ioctls:
// ENOTTY from the kernel, ENOSYS from qemu-user for ioctls it cannot
// translate.
func notWatchdog(err error) bool { return errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.ENOSYS) }

func (w *Watchdog) ioctlErr(op string, err error) error {
	if notWatchdog(err) {
		w.noIoctl = true
		return &os.PathError{Op: op, Path: w.path, Err: unsupported{err}}
	}
	return &os.PathError{Op: op, Path: w.path, Err: err}
}

// unsupported marks an ioctl the file does not implement: it is both the
// errno and errors.ErrUnsupported.
type unsupported struct{ errno error }

func (u unsupported) Error() string {
	return "not a watchdog driver: " + u.errno.Error()
}
func (u unsupported) Is(target error) bool { return target == errors.ErrUnsupported }
func (u unsupported) Unwrap() error        { return u.errno }

// SetTimeout sets the timeout (WDIOC_SETTIMEOUT), rounded up to whole
// seconds as heartbeat does. Drivers may pick a nearby value, which they
// write back and Timeout reads again.
func (w *Watchdog) SetTimeout(d time.Duration) error {
	if w.fd < 0 {
		return &os.PathError{Op: "settimeout", Path: w.path, Err: os.ErrClosed}
	}
	if d <= 0 {
		return &os.PathError{Op: "settimeout", Path: w.path, Err: unix.EINVAL}
	}
	s := int((d + time.Second - 1) / time.Second)
	if s > 1<<30 {
		return &os.PathError{Op: "settimeout", Path: w.path, Err: unix.EINVAL}
	}
	v := int32(s)
	if err := w.ioctl(w.fd, unix.WDIOC_SETTIMEOUT, unsafe.Pointer(&v)); err != nil {
		return w.ioctlErr("WDIOC_SETTIMEOUT "+strconv.Itoa(s)+"s", err)
	}
	if v <= 0 { // _IOWR: the driver writes back what it chose; none did
		v = int32(s)
	}
	w.timeout = time.Duration(v) * time.Second
	return nil
}

// Timeout returns the driver's current timeout (WDIOC_GETTIMEOUT).
func (w *Watchdog) Timeout() (time.Duration, error) {
	if w.fd < 0 {
		return 0, &os.PathError{Op: "gettimeout", Path: w.path, Err: os.ErrClosed}
	}
	var s int32
	if err := w.ioctl(w.fd, unix.WDIOC_GETTIMEOUT, unsafe.Pointer(&s)); err != nil {
		return 0, w.ioctlErr("WDIOC_GETTIMEOUT", err)
	}
	w.timeout = time.Duration(s) * time.Second
	return w.timeout, nil
}

// Support returns the driver's identity and capabilities (WDIOC_GETSUPPORT).
func (w *Watchdog) Support() (Info, error) {
	if w.fd < 0 {
		return Info{}, &os.PathError{Op: "getsupport", Path: w.path, Err: os.ErrClosed}
	}
	var wi unix.WatchdogInfo
	if err := w.ioctl(w.fd, unix.WDIOC_GETSUPPORT, unsafe.Pointer(&wi)); err != nil {
		return Info{}, w.ioctlErr("WDIOC_GETSUPPORT", err)
	}
	id := wi.Identity[:]
	for i, c := range id {
		if c == 0 {
			id = id[:i]
			break
		}
	}
	return Info{Identity: string(id), Firmware: wi.Version, Options: wi.Options}, nil
}

// Identity returns the driver's identity string (WDIOC_GETSUPPORT).
func (w *Watchdog) Identity() (string, error) {
	i, err := w.Support()
	return i.Identity, err
}

// Feed tickles the watchdog by writing one 0x00 byte, as heartbeat 3.0.6
// does once per keepalive.
func (w *Watchdog) Feed() error { return w.write("write", 0) }

// Keepalive tickles the watchdog with WDIOC_KEEPALIVE, or with Feed when
// the file is not a watchdog driver.
func (w *Watchdog) Keepalive() error {
	if w.fd < 0 {
		return &os.PathError{Op: "keepalive", Path: w.path, Err: os.ErrClosed}
	}
	if !w.noIoctl {
		var dummy int32 // WDIOC_KEEPALIVE is _IOR(int) though no driver writes it
		err := w.ioctl(w.fd, unix.WDIOC_KEEPALIVE, unsafe.Pointer(&dummy))
		if err == nil {
			return nil
		}
		if !notWatchdog(err) {
			return &os.PathError{Op: "WDIOC_KEEPALIVE", Path: w.path, Err: err}
		}
		w.noIoctl = true
	}
	return w.Feed()
}

// MagicClose writes the magic character 'V' and closes the device, which
// disarms drivers that support it (WDIOF_MAGICCLOSE) unless they run in
// nowayout mode. The device is closed even when the write fails.
func (w *Watchdog) MagicClose() error {
	err := w.write("write magic", 'V')
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close closes the device without the magic character: a driver with
// WDIOF_MAGICCLOSE keeps counting and resets the machine unless the device
// is reopened and fed in time. Closing twice is a no-op.
func (w *Watchdog) Close() error {
	if w.fd < 0 {
		return nil
	}
	err := unix.Close(w.fd)
	w.fd = -1
	if err != nil {
		return &os.PathError{Op: "close", Path: w.path, Err: err}
	}
	return nil
}

func (w *Watchdog) write(op string, b byte) error {
	if w.fd < 0 {
		return &os.PathError{Op: op, Path: w.path, Err: os.ErrClosed}
	}
	buf := [1]byte{b}
	for {
		n, err := unix.Write(w.fd, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: op, Path: w.path, Err: err}
		}
		if n != 1 {
			return &os.PathError{Op: op, Path: w.path, Err: unix.EIO}
		}
		return nil
	}
}

// Options names the WDIOF_* capability bits set in o, e.g.
// "settimeout,magicclose,keepaliveping".
func Options(o uint32) string {
	names := []struct {
		bit  uint32
		name string
	}{
		{unix.WDIOF_OVERHEAT, "overheat"},
		{unix.WDIOF_FANFAULT, "fanfault"},
		{unix.WDIOF_EXTERN1, "extern1"},
		{unix.WDIOF_EXTERN2, "extern2"},
		{unix.WDIOF_POWERUNDER, "powerunder"},
		{unix.WDIOF_CARDRESET, "cardreset"},
		{unix.WDIOF_POWEROVER, "powerover"},
		{unix.WDIOF_SETTIMEOUT, "settimeout"},
		{unix.WDIOF_MAGICCLOSE, "magicclose"},
		{unix.WDIOF_PRETIMEOUT, "pretimeout"},
		{unix.WDIOF_ALARMONLY, "alarmonly"},
		{unix.WDIOF_KEEPALIVEPING, "keepaliveping"},
	}
	s := ""
	for _, n := range names {
		if o&n.bit != 0 {
			if s != "" {
				s += ","
			}
			s += n.name
			o &^= n.bit
		}
	}
	if o != 0 {
		if s != "" {
			s += ","
		}
		s += "0x" + strconv.FormatUint(uint64(o), 16)
	}
	return s
}
