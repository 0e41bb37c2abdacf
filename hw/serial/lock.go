package serial

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"habox/hw/safefile"
)

// LockDir is where UUCP-style device locks live (FHS 2.1, heartbeat,
// minicom, pppd).
const LockDir = "/var/lock"

// LockName returns the lock file name of a device exactly as heartbeat
// 3.0.6 names it (cluster-glue's st_ttylock): "LCK.." and the letters and
// digits of the absolute path after its first five characters ("/dev/"),
// at most 63 of them. /dev/ttyS0 gives LCK..ttyS0 (the FHS name),
// /dev/pts/3 LCK..pts3, /dev/ttyUSB-gps LCK..ttyUSBgps.
func LockName(dev string) string {
	if !filepath.IsAbs(dev) {
		if abs, err := filepath.Abs(dev); err == nil {
			dev = abs
		}
	}
	raw := make([]byte, 0, 63)
	for i := min(5, len(dev)); i < len(dev) && len(raw) < 63; i++ {
		c := dev[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			raw = append(raw, c)
		}
	}
	return "LCK.." + string(raw)
}

// LockedError reports a device locked by a live process.
type LockedError struct {
	Path string // the lock file
	PID  int    // the holder
}

func (e *LockedError) Error() string {
	return e.Path + ": device locked by pid " + strconv.Itoa(e.PID)
}

// Lock is a held device lock.
type Lock struct {
	path string
	pid  int
}

// Path returns the lock file path.
func (l *Lock) Path() string { return l.path }

// LockDevice creates the lock file of dev in dir (LockDir when empty),
// holding this process's pid in the HDB UUCP format: ten characters, right
// aligned, and a newline. A lock left by a dead process, or holding no
// pid, is removed; a live holder gives a *LockedError. A lock holding this
// process's own pid is taken over, as cluster-glue does (after a reboot a
// stale lock may carry the pid the same program gets again). The file is
// written under a random temporary name, created exclusively (the lock
// directory is world-writable: a predictable name could be a planted
// symlink), and linked into place, so other programs never see it half
// written.
func LockDevice(dir, dev string) (*Lock, error) {
	if dir == "" {
		dir = LockDir
	}
	pid := os.Getpid()
	path := filepath.Join(dir, LockName(dev))
	pidText := strconv.Itoa(pid)
	content := strings.Repeat(" ", max(0, 10-len(pidText))) + pidText + "\n"
	tmp, err := safefile.WriteTemp(dir, "LTMP.", []byte(content), 0o644, false)
	if err != nil {
		return nil, cliWrap("lock "+dev, err)
	}
	defer os.Remove(tmp)
	for try := 0; try < 3; try++ {
		err := os.Link(tmp, path)
		if err == nil {
			return &Lock{path: path, pid: pid}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, cliWrap("lock "+dev, err)
		}
		holder, err := ReadLock(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // released meanwhile
		}
		if err == nil && holder == pid {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, cliWrap("lock "+dev, err)
			}
			continue
		}
		if err == nil && holder > 0 && Alive(holder) {
			return nil, &LockedError{Path: path, PID: holder}
		}
		// Dead holder or unreadable lock: stale.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, cliWrap("remove stale lock", err)
		}
	}
	return nil, &os.PathError{Op: "lock " + dev, Path: path, Err: unix.EAGAIN}
}

// ReadLock returns the pid stored in a lock file, in the ASCII format
// (leading blanks allowed) or the old binary one (a 4-byte native int).
// A symlink or anything but a regular file is no lock (it is not followed).
func ReadLock(path string) (int, error) {
	b, err := safefile.ReadFile(path, 128)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	if pid, err := strconv.Atoi(s); err == nil && pid > 0 {
		return pid, nil
	}
	// The binary format: a little-endian int; pids are below 2^22, so its
	// last byte is 0, which a text file never holds.
	if len(b) == 4 && b[3] == 0 {
		if pid := int(int32(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)); pid > 0 {
			return pid, nil
		}
	}
	return 0, &os.PathError{Op: "read lock", Path: path, Err: errors.New("no pid in lock file")}
}

// Alive reports whether a process with this pid exists (kill(pid, 0)
// succeeds or is refused for permission).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := unix.Kill(pid, 0)
	return err == nil || err == unix.EPERM
}

// Unlock removes the lock file if it still holds this lock's pid.
func (l *Lock) Unlock() error {
	if l == nil || l.path == "" {
		return nil
	}
	pid, err := ReadLock(l.path)
	if err == nil && pid == l.pid {
		err = os.Remove(l.path)
	} else if err == nil || errors.Is(err, os.ErrNotExist) {
		err = nil // taken over by someone else or already gone: not ours
	}
	l.path = ""
	return err
}

func cliWrap(ctx string, err error) error { return &wrapErr{ctx, err} }

type wrapErr struct {
	ctx string
	err error
}

func (w *wrapErr) Error() string { return w.ctx + ": " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }
