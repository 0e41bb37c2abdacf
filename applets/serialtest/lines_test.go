package serialtest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"habox/applets/cli"
	"habox/hw/serial"
)

// fakeCable plays the far side of a port's modem lines: what the inputs
// read given our outputs.
type fakeCable struct {
	out    serial.Lines
	inputs func(out serial.Lines) serial.Lines
	err    error
}

func (f *fakeCable) ModemLines() (serial.Lines, error) {
	if f.err != nil {
		return 0, f.err
	}
	return f.out | f.inputs(f.out)&serial.Inputs, nil
}
func (f *fakeCable) RaiseLines(l serial.Lines) error { f.out |= l; return f.err }
func (f *fakeCable) LowerLines(l serial.Lines) error { f.out &^= l; return f.err }

func TestLinesWiring(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inputs func(out serial.Lines) serial.Lines
		want   string
	}{
		{"three-wire", func(serial.Lines) serial.Lines { return 0 }, "three-wire cable"},
		{"handshake", func(serial.Lines) serial.Lines { return serial.CTS | serial.DSR | serial.DCD }, "null-modem cable with handshake wiring"},
		{"loopback", func(o serial.Lines) serial.Lines {
			in := serial.Lines(0)
			if o&serial.DTR != 0 {
				in |= serial.DSR | serial.DCD
			}
			if o&serial.RTS != 0 {
				in |= serial.CTS
			}
			return in
		}, "DTR comes back on DSR/DCD, RTS comes back on CTS"},
		{"rts-only loop", func(o serial.Lines) serial.Lines {
			if o&serial.RTS != 0 {
				return serial.CTS
			}
			return 0
		}, "(RTS comes back on CTS): a loopback plug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeCable{out: serial.DTR | serial.RTS, inputs: tc.inputs}
			env, out, errb := testEnv()
			code := showLines(context.Background(), env, "/dev/ttyS9", f, 0)
			if code != exitOK || !strings.Contains(out.String(), tc.want) {
				t.Errorf("exit %d, output lacks %q:\n%s%s", code, tc.want, out, errb)
			}
			if f.out != serial.DTR|serial.RTS {
				t.Errorf("outputs left at %v, want DTR and RTS restored", f.out)
			}
			if n := strings.Count(out.String(), "  set "); n != 4 {
				t.Errorf("%d samples printed, want 4:\n%s", n, out)
			}
		})
	}
}

func TestLinesNoModemLines(t *testing.T) {
	f := &fakeCable{err: serial.ErrNoModemLines}
	env, out, errb := testEnv()
	code := showLines(context.Background(), env, "/dev/pts/9", f, 0)
	if code != exitErr || !strings.Contains(errb.String(), "/dev/pts/9: no modem lines on this device") || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errb)
	}
	f = &fakeCable{err: unix.EIO}
	env, _, errb = testEnv()
	if code := showLines(context.Background(), env, "/dev/ttyS9", f, 0); code != exitErr || !strings.Contains(errb.String(), "input/output error") {
		t.Errorf("EIO: exit %d, stderr %q", code, errb)
	}
}

func testEnv() (*cli.Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, &out, &errb
}

// TestLinesOnPty runs --lines on a real pty, which has no modem lines.
func TestLinesOnPty(t *testing.T) {
	p := newPty(t)
	r := runApplet(t, "--lines", "--no-lock", p.path)
	if r.code != exitErr || !strings.Contains(r.errout, p.path+": no modem lines on this device") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", r.code, r.out, r.errout)
	}
}

// TestLinesInterrupted: a signal during the toggling stops it, puts DTR
// and RTS back and exits 130.
func TestLinesInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &fakeCable{out: serial.DTR, inputs: func(serial.Lines) serial.Lines { return 0 }}
	env, _, _ := testEnv()
	if code := showLines(ctx, env, "/dev/ttyS9", f, lineSettle); code != exitSignal || f.out != serial.DTR {
		t.Errorf("exit %d, outputs %v; want %d and DTR only", code, f.out, exitSignal)
	}
}
