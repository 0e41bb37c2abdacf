// Package serial opens a tty as a raw 8N1 line at one of heartbeat's baud
// rates, restores the previous settings on Close, and takes UUCP-style lock
// files (lock.go) so it never fights heartbeat or a modem program for the
// port.
//
// The port is opened non-blocking and handed to the Go runtime poller, so
// reads and writes honour deadlines and Close unblocks a pending Read.
package serial

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/pkg/term/termios"
	"golang.org/x/sys/unix"
)

// Bauds are the line speeds heartbeat 3.0.6 accepts in ha.cf.
var Bauds = []int{9600, 19200, 38400, 57600, 115200, 230400, 460800}

// ValidBaud reports whether b is one of Bauds.
func ValidBaud(b int) bool { return slices.Contains(Bauds, b) }

// speeds are the termios codes of Bauds, in the same order.
var speeds = [...]uint32{unix.B9600, unix.B19200, unix.B38400, unix.B57600, unix.B115200, unix.B230400, unix.B460800}

// DefaultBaud is heartbeat's default line speed.
const DefaultBaud = 19200

// ErrBaud is returned for a speed not in Bauds.
var ErrBaud = errors.New("unsupported baud rate (use 9600, 19200, 38400, 57600, 115200, 230400 or 460800)")

// ErrNotTTY is returned when the device is not a terminal.
var ErrNotTTY = errors.New("not a tty")

// Config is the line setup.
type Config struct {
	// Baud is the speed, one of Bauds; 0 means DefaultBaud.
	Baud int
	// RTSCTS enables hardware flow control (heartbeat sets it). Leave it
	// off for a three-wire null-modem cable.
	RTSCTS bool
	// VMin and VTime are the raw-mode read thresholds (heartbeat: 1 and 1).
	// They matter to readers sharing the line with blocking I/O; this
	// package's own reads are driven by the poller and deadlines. VMin 0
	// is raised to 1: with VMIN=0 an empty line would read as end of file.
	VMin, VTime uint8
	// Iflag holds input flags set on top of raw mode, e.g. HeartbeatIflag.
	Iflag uint32
}

// HeartbeatIflag is the input processing heartbeat 3.0.6 asks for on its
// serial medium: parity check, strip the 8th bit, ignore CR, break
// interrupts.
const HeartbeatIflag = unix.INPCK | unix.ISTRIP | unix.IGNCR | unix.BRKINT

// Port is an open serial line.
type Port struct {
	f     *os.File
	path  string
	saved unix.Termios
	mu    sync.Mutex
	dirty bool // settings changed and not yet restored
	ioctl func(fd int, req uint, arg unsafe.Pointer) error
}

// Open opens path read-write, without becoming its controlling terminal
// and without waiting for carrier, saves its settings and applies c.
func Open(path string, c Config) (*Port, error) {
	if c.Baud == 0 {
		c.Baud = DefaultBaud
	}
	i := slices.Index(Bauds, c.Baud)
	if i < 0 {
		return nil, &os.PathError{Op: "open", Path: path, Err: &baudError{c.Baud}}
	}
	speed := speeds[i]
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	t, err := termios.Tcgetattr(uintptr(fd))
	if err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) {
			err = ErrNotTTY
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	p := &Port{path: path, saved: *t, ioctl: ioctl}
	raw := *t
	MakeRaw(&raw, speed, c)
	if err := termios.Tcsetattr(uintptr(fd), termios.TCSANOW, &raw); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "set termios", Path: path, Err: err}
	}
	p.dirty = true
	p.f = os.NewFile(uintptr(fd), path)
	return p, nil
}

type baudError struct{ baud int }

func (e *baudError) Error() string { return strconv.Itoa(e.baud) + ": " + ErrBaud.Error() }
func (e *baudError) Unwrap() error { return ErrBaud }

// MakeRaw turns t into a raw 8N1 line at speed (a unix.Bxxx constant) with
// the receiver enabled and modem control lines ignored: no echo, no
// signals, no input or output translation, no software flow control.
func MakeRaw(t *unix.Termios, speed uint32, c Config) {
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR |
		unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF | unix.IXANY | unix.INPCK
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CSTOPB | unix.CRTSCTS | unix.CBAUD | unix.CBAUDEX
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL | speed
	if c.RTSCTS {
		t.Cflag |= unix.CRTSCTS
	}
	t.Iflag |= c.Iflag
	t.Cc[unix.VMIN] = max(c.VMin, 1)
	t.Cc[unix.VTIME] = c.VTime
}

// Path returns the device path.
func (p *Port) Path() string { return p.path }

// Read reads what has arrived, waiting until at least one byte is there or
// the read deadline passes (os.ErrDeadlineExceeded).
func (p *Port) Read(b []byte) (int, error) { return p.f.Read(b) }

// Write writes b, waiting while the line's output buffer is full.
func (p *Port) Write(b []byte) (int, error) { return p.f.Write(b) }

// SetReadDeadline sets the deadline of pending and future reads.
func (p *Port) SetReadDeadline(t time.Time) error { return p.f.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of pending and future writes.
func (p *Port) SetWriteDeadline(t time.Time) error { return p.f.SetWriteDeadline(t) }

func (p *Port) control(op string, f func(fd int) error) error {
	rc, err := p.f.SyscallConn()
	if err != nil {
		return &os.PathError{Op: op, Path: p.path, Err: err}
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return &os.PathError{Op: op, Path: p.path, Err: err}
	}
	if ferr != nil {
		return &os.PathError{Op: op, Path: p.path, Err: ferr}
	}
	return nil
}

// SendBreak sends a break (0.25 to 0.5 s of zero bits), as heartbeat does
// right after opening its serial medium. On a pty it is a no-op.
func (p *Port) SendBreak() error {
	return p.control("send break", func(fd int) error { return termios.Tcsendbreak(uintptr(fd), 0) })
}

// Drain waits until everything written has been transmitted.
func (p *Port) Drain() error {
	return p.control("drain", func(fd int) error { return termios.Tcdrain(uintptr(fd)) })
}

// Flush discards received but unread and written but untransmitted data.
func (p *Port) Flush() error {
	return p.control("flush", func(fd int) error { return termios.Tcflush(uintptr(fd), termios.TCIOFLUSH) })
}

// Attrs returns the line's current settings.
func (p *Port) Attrs() (unix.Termios, error) {
	var t unix.Termios
	err := p.control("get termios", func(fd int) error {
		a, err := termios.Tcgetattr(uintptr(fd))
		if err == nil {
			t = *a
		}
		return err
	})
	return t, err
}

// Saved returns the settings the line had before Open.
func (p *Port) Saved() unix.Termios { return p.saved }

// Restore puts back the settings the line had before Open. It is safe to
// call more than once and from another goroutine than the reader's.
func (p *Port) Restore() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.dirty {
		return nil
	}
	err := p.control("restore termios", func(fd int) error {
		return termios.Tcsetattr(uintptr(fd), termios.TCSANOW, &p.saved)
	})
	if err == nil {
		p.dirty = false
	}
	return err
}

// Close restores the previous settings and closes the line; a pending
// Read returns os.ErrClosed.
func (p *Port) Close() error {
	err := p.Restore()
	if cerr := p.f.Close(); err == nil && !errors.Is(cerr, os.ErrClosed) {
		err = cerr
	}
	return err
}
