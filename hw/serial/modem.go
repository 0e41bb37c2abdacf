package serial

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Lines is a set of modem control lines, as TIOCMGET reports them (the
// TIOCM_* bits, whose values differ between architectures: use the
// constants below).
type Lines uint32

// The modem lines serialtest --lines shows: outputs DTR and RTS, inputs
// CTS, DSR, DCD and RI.
const (
	DTR Lines = unix.TIOCM_DTR
	RTS Lines = unix.TIOCM_RTS
	CTS Lines = unix.TIOCM_CTS
	DSR Lines = unix.TIOCM_DSR
	DCD Lines = unix.TIOCM_CAR
	RI  Lines = unix.TIOCM_RNG
)

// Inputs are the lines the other end drives.
const Inputs = CTS | DSR | DCD | RI

// ErrNoModemLines is returned for a device without modem control lines: a
// pty (ENOTTY or EINVAL), or an adapter whose driver has none.
var ErrNoModemLines = errors.New("no modem lines on this device")

// String lists the lines as "DTR+ RTS- CTS+ DSR- DCD- RI-".
func (l Lines) String() string {
	s := ""
	for _, n := range []struct {
		bit  Lines
		name string
	}{{DTR, "DTR"}, {RTS, "RTS"}, {CTS, "CTS"}, {DSR, "DSR"}, {DCD, "DCD"}, {RI, "RI"}} {
		if s != "" {
			s += " "
		}
		s += n.name
		if l&n.bit != 0 {
			s += "+"
		} else {
			s += "-"
		}
	}
	return s
}

// ioctl is ioctl(2) with a pointer argument, for the TIOCM* requests,
// which take a pointer to a C int. They do not go through
// github.com/pkg/term: its Tiocmget reads a Go int (8 bytes: the kernel's
// 4 land in the high half on big-endian mips64) and its Tiocmset passes
// the value where the kernel wants a pointer.
func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

func (p *Port) modem(op string, req uint, v *uint32) error {
	return p.control(op, func(fd int) error {
		err := p.ioctl(fd, req, unsafe.Pointer(v))
		if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) {
			return &modemErr{err}
		}
		return err
	})
}

// modemErr is ErrNoModemLines with the errno the driver gave.
type modemErr struct{ errno error }

func (e *modemErr) Error() string        { return ErrNoModemLines.Error() + " (" + e.errno.Error() + ")" }
func (e *modemErr) Is(target error) bool { return target == ErrNoModemLines }
func (e *modemErr) Unwrap() error        { return e.errno }

// ModemLines reads the modem control lines (TIOCMGET).
func (p *Port) ModemLines() (Lines, error) {
	var v uint32
	err := p.modem("TIOCMGET", unix.TIOCMGET, &v)
	return Lines(v), err
}

// SetModemLines sets the output lines to exactly l (TIOCMSET).
func (p *Port) SetModemLines(l Lines) error {
	v := uint32(l)
	return p.modem("TIOCMSET", unix.TIOCMSET, &v)
}

// RaiseLines asserts the lines in l (TIOCMBIS), leaving the others.
func (p *Port) RaiseLines(l Lines) error {
	v := uint32(l)
	return p.modem("TIOCMBIS", unix.TIOCMBIS, &v)
}

// LowerLines clears the lines in l (TIOCMBIC), leaving the others.
func (p *Port) LowerLines(l Lines) error {
	v := uint32(l)
	return p.modem("TIOCMBIC", unix.TIOCMBIC, &v)
}
