package serial

import (
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest/kabi"
)

func abi(t *testing.T) kabi.ABI {
	t.Helper()
	a, ok := kabi.For(runtime.GOARCH)
	if !ok {
		t.Fatalf("no kernel ABI table for %s", runtime.GOARCH)
	}
	return a
}

// TestLinesDecoding decodes TIOCMGET words built from the kernel's bit
// values of the running arch (CTS, DSR, DCD and RI sit elsewhere on mips).
func TestLinesDecoding(t *testing.T) {
	v := abi(t).Values
	for name, l := range map[string]Lines{"TIOCM_DTR": DTR, "TIOCM_RTS": RTS, "TIOCM_CTS": CTS,
		"TIOCM_DSR": DSR, "TIOCM_CAR": DCD, "TIOCM_RNG": RI} {
		if uint64(l) != v[name] {
			t.Errorf("%s: Lines bit %#x, kernel %#x", name, uint32(l), v[name])
		}
	}
	for _, c := range []struct {
		word uint64
		want string
	}{
		{0, "DTR- RTS- CTS- DSR- DCD- RI-"},
		{v["TIOCM_DTR"] | v["TIOCM_RTS"], "DTR+ RTS+ CTS- DSR- DCD- RI-"},
		{v["TIOCM_CTS"] | v["TIOCM_CAR"], "DTR- RTS- CTS+ DSR- DCD+ RI-"},
		{v["TIOCM_DSR"] | v["TIOCM_RNG"] | v["TIOCM_LE"], "DTR- RTS- CTS- DSR+ DCD- RI+"},
		{v["TIOCM_DTR"] | v["TIOCM_RTS"] | v["TIOCM_CTS"] | v["TIOCM_DSR"] | v["TIOCM_CAR"] | v["TIOCM_RNG"], "DTR+ RTS+ CTS+ DSR+ DCD+ RI+"},
	} {
		if got := Lines(c.word).String(); got != c.want {
			t.Errorf("%#x: %q, want %q", c.word, got, c.want)
		}
	}
}

// fakeUART answers the TIOCM* requests of the running arch's kernel, with
// a C int behind the pointer, as a UART with a loopback plug: DTR comes
// back on DSR and DCD, RTS on CTS.
type fakeUART struct {
	abi  kabi.ABI
	out  uint32
	reqs []uint64
}

func (u *fakeUART) ioctl(fd int, req uint, arg unsafe.Pointer) error {
	v := u.abi.Values
	p := (*[4]byte)(arg)[:]
	r := uint64(req)
	u.reqs = append(u.reqs, r)
	outs := uint32(v["TIOCM_DTR"] | v["TIOCM_RTS"])
	switch r {
	case v["TIOCMGET"]:
		w := u.out
		if w&uint32(v["TIOCM_DTR"]) != 0 {
			w |= uint32(v["TIOCM_DSR"] | v["TIOCM_CAR"])
		}
		if w&uint32(v["TIOCM_RTS"]) != 0 {
			w |= uint32(v["TIOCM_CTS"])
		}
		binary.NativeEndian.PutUint32(p, w)
	case v["TIOCMSET"]:
		u.out = binary.NativeEndian.Uint32(p) & outs
	case v["TIOCMBIS"]:
		u.out |= binary.NativeEndian.Uint32(p) & outs
	case v["TIOCMBIC"]:
		u.out &^= binary.NativeEndian.Uint32(p)
	default:
		return unix.ENOTTY
	}
	return nil
}

func TestModemIoctlsAgainstFakeUART(t *testing.T) {
	_, path := newPty(t)
	p, err := Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	u := &fakeUART{abi: abi(t)}
	p.ioctl = u.ioctl
	steps := []struct {
		op   string
		do   func() error
		want string
	}{
		{"set DTR+RTS", func() error { return p.SetModemLines(DTR | RTS) }, "DTR+ RTS+ CTS+ DSR+ DCD+ RI-"},
		{"lower DTR", func() error { return p.LowerLines(DTR) }, "DTR- RTS+ CTS+ DSR- DCD- RI-"},
		{"lower RTS", func() error { return p.LowerLines(RTS) }, "DTR- RTS- CTS- DSR- DCD- RI-"},
		{"raise DTR", func() error { return p.RaiseLines(DTR) }, "DTR+ RTS- CTS- DSR+ DCD+ RI-"},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.op, err)
		}
		l, err := p.ModemLines()
		if err != nil {
			t.Fatalf("%s: ModemLines: %v", s.op, err)
		}
		if l.String() != s.want {
			t.Errorf("after %s: %s, want %s", s.op, l, s.want)
		}
	}
	v := u.abi.Values
	want := []uint64{v["TIOCMSET"], v["TIOCMGET"], v["TIOCMBIC"], v["TIOCMGET"], v["TIOCMBIC"], v["TIOCMGET"], v["TIOCMBIS"], v["TIOCMGET"]}
	if len(u.reqs) != len(want) {
		t.Fatalf("requests %#x, want %#x", u.reqs, want)
	}
	for i := range want {
		if u.reqs[i] != want[i] {
			t.Errorf("request %d: %#x, want %#x", i, u.reqs[i], want[i])
		}
	}
}

// TestModemLinesOnPty: a pty has no modem lines; the kernel says ENOTTY
// (EINVAL on some kernels) and the caller gets ErrNoModemLines.
func TestModemLinesOnPty(t *testing.T) {
	_, path := newPty(t)
	p, err := Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = p.ModemLines()
	if !errors.Is(err, ErrNoModemLines) || !strings.Contains(err.Error(), path+": no modem lines on this device") {
		t.Errorf("ModemLines on a pty: %v, want ErrNoModemLines naming the path", err)
	}
	if !errors.Is(err, unix.ENOTTY) && !errors.Is(err, unix.EINVAL) {
		t.Errorf("ModemLines on a pty: %v, want the ENOTTY or EINVAL kept", err)
	}
	for name, f := range map[string]func(Lines) error{"raise": p.RaiseLines, "lower": p.LowerLines, "set": p.SetModemLines} {
		if err := f(DTR); !errors.Is(err, ErrNoModemLines) {
			t.Errorf("%s on a pty: %v, want ErrNoModemLines", name, err)
		}
	}
}
