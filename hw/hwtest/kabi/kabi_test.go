package kabi

import (
	"bufio"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
)

// xsys is what golang.org/x/sys/unix says for the running GOARCH: the
// values hw/ passes to the kernel.
var xsys = map[string]uint64{
	"TCGETS": unix.TCGETS, "TCSETS": unix.TCSETS, "TCSETSW": unix.TCSETSW, "TCSETSF": unix.TCSETSF,
	"TCSBRK": unix.TCSBRK, "TCFLSH": unix.TCFLSH, "TCIOFLUSH": unix.TCIOFLUSH,
	"TIOCMGET": unix.TIOCMGET, "TIOCMBIS": unix.TIOCMBIS, "TIOCMBIC": unix.TIOCMBIC, "TIOCMSET": unix.TIOCMSET,
	"TIOCM_LE": unix.TIOCM_LE, "TIOCM_DTR": unix.TIOCM_DTR, "TIOCM_RTS": unix.TIOCM_RTS,
	"TIOCM_CTS": unix.TIOCM_CTS, "TIOCM_CAR": unix.TIOCM_CAR, "TIOCM_RNG": unix.TIOCM_RNG, "TIOCM_DSR": unix.TIOCM_DSR,
	"TIOCGPTN": unix.TIOCGPTN, "TIOCSPTLCK": unix.TIOCSPTLCK,
	"WDIOC_GETSUPPORT": unix.WDIOC_GETSUPPORT, "WDIOC_GETSTATUS": unix.WDIOC_GETSTATUS,
	"WDIOC_KEEPALIVE": unix.WDIOC_KEEPALIVE, "WDIOC_SETTIMEOUT": unix.WDIOC_SETTIMEOUT,
	"WDIOC_GETTIMEOUT": unix.WDIOC_GETTIMEOUT,
	"VMIN":             unix.VMIN, "VTIME": unix.VTIME,
	"BRKINT": unix.BRKINT, "INPCK": unix.INPCK, "ISTRIP": unix.ISTRIP, "IGNCR": unix.IGNCR, "IXON": unix.IXON,
	"OPOST": unix.OPOST,
	"CBAUD": unix.CBAUD, "CBAUDEX": unix.CBAUDEX, "CSIZE": unix.CSIZE, "CS8": unix.CS8, "CSTOPB": unix.CSTOPB,
	"CREAD": unix.CREAD, "PARENB": unix.PARENB, "CLOCAL": unix.CLOCAL, "CRTSCTS": unix.CRTSCTS,
	"B9600": unix.B9600, "B19200": unix.B19200, "B38400": unix.B38400, "B57600": unix.B57600, "B115200": unix.B115200,
	"ISIG": unix.ISIG, "ICANON": unix.ICANON, "ECHO": unix.ECHO, "ECHONL": unix.ECHONL, "IEXTEN": unix.IEXTEN,
}

// TestXSysMatchesKernel checks, on the architecture the test binary runs
// on (each of them under `make test-cross`), that every constant and
// struct layout hw/ takes from x/sys is the kernel's.
func TestXSysMatchesKernel(t *testing.T) {
	a, ok := For(runtime.GOARCH)
	if !ok {
		t.Fatalf("GOARCH %s is not in the table; add it from its kernel headers", runtime.GOARCH)
	}
	for name, got := range xsys {
		want, ok := a.Values[name]
		if !ok {
			t.Errorf("%s: not in the %s table", name, a.GOARCH)
			continue
		}
		if got != want {
			t.Errorf("%s/%s: x/sys has %#x, the kernel %#x", a.GOARCH, name, got, want)
		}
	}
	var tio unix.Termios
	if off := unsafe.Offsetof(tio.Cc); off != a.TermiosCcOffset() {
		t.Errorf("termios c_cc at offset %d, kernel %d", off, a.TermiosCcOffset())
	}
	if n := uintptr(len(tio.Cc)); n < uintptr(a.Values["NCCS"]) {
		t.Errorf("termios has %d control characters, kernel NCCS %d", n, a.Values["NCCS"])
	}
	// x/sys's Termios may carry c_ispeed/c_ospeed after c_cc (termios2's
	// tail): TCGETS writes only the kernel's prefix, so it must not be
	// smaller than that.
	if s := unsafe.Sizeof(tio); s < a.TermiosSize() {
		t.Errorf("unix.Termios is %d bytes, smaller than the kernel's struct termios (%d)", s, a.TermiosSize())
	}
	if s := unsafe.Sizeof(unix.Ifreq{}); s != a.IfreqSize() {
		t.Errorf("unix.Ifreq is %d bytes, kernel struct ifreq %d", s, a.IfreqSize())
	}
	if s := unsafe.Sizeof(unix.WatchdogInfo{}); s != WatchdogInfoSize {
		t.Errorf("unix.WatchdogInfo is %d bytes, kernel %d", s, WatchdogInfoSize)
	}
	if s := unsafe.Sizeof(uintptr(0)); s != a.PtrSize {
		t.Errorf("pointer size %d, table %d", s, a.PtrSize)
	}
}

// TestTableMatchesHeaders checks the table against the kernel headers of
// every architecture, as Debian ships them for cross compilers
// (linux-libc-dev-<arch>-cross; .ci/run installs them).
func TestTableMatchesHeaders(t *testing.T) {
	hwtest.SkipUnderEmulator(t, "reads the host's cross headers")
	wd, err := os.ReadFile("/usr/include/linux/watchdog.h")
	if err != nil {
		missing(t, "linux-libc-dev", err)
	}
	for _, arch := range Arches() {
		a, _ := For(arch)
		t.Run(arch, func(t *testing.T) {
			dirs := []string{"/usr/" + a.Triplet + "/include", "/usr/include/" + a.Triplet}
			var inc string
			for _, d := range dirs {
				if _, err := os.Stat(d + "/asm/ioctls.h"); err == nil {
					inc = d
					break
				}
			}
			if inc == "" {
				missing(t, "linux-libc-dev-"+debArch(arch)+"-cross", os.ErrNotExist)
			}
			generic := inc + "/asm-generic/"
			if _, err := os.Stat(generic + "ioctls.h"); err != nil {
				generic = "/usr/include/asm-generic/"
			}
			h := headerDefs{}
			for _, f := range []string{inc + "/asm/ioctls.h", inc + "/asm/termbits.h", inc + "/asm/termios.h", inc + "/asm/ioctl.h",
				generic + "ioctls.h", generic + "termbits.h", generic + "termbits-common.h", generic + "termios.h", generic + "ioctl.h"} {
				h.read(t, f)
			}
			h.parse(string(wd))
			for name, want := range a.Values {
				got, err := h.eval(name, a, 0)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if got != want {
					t.Errorf("%s: headers say %#x, table %#x", name, got, want)
				}
			}
		})
	}
}

func missing(t *testing.T, pkg string, err error) {
	t.Helper()
	hwtest.Missing(t, pkg+" not installed ("+err.Error()+")")
}

func debArch(goarch string) string {
	if d, ok := map[string]string{"386": "i386", "arm": "armhf", "mipsle": "mipsel", "mips64le": "mips64el"}[goarch]; ok {
		return d
	}
	return goarch
}

// headerDefs holds #define NAME VALUE lines; the first definition wins,
// so an arch header read before asm-generic overrides it (as its #ifndef
// guards do).
type headerDefs map[string]string

var defineRE = regexp.MustCompile(`^#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.+)$`)

func (h headerDefs) read(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return
		}
		t.Fatal(err)
	}
	h.parse(string(b))
}

func (h headerDefs) parse(text string) {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		m := defineRE.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		v := m[2]
		if i := strings.Index(v, "/*"); i >= 0 {
			v = v[:i]
		}
		if _, ok := h[m[1]]; !ok {
			h[m[1]] = strings.TrimSpace(v)
		}
	}
}

var iocRE = regexp.MustCompile(`^_IO(R|W|WR)?\(\s*('.'|[A-Z_]+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*([^)]+)\)$`)

var cSizes = map[string]uintptr{"int": 4, "unsigned int": 4, "struct watchdog_info": WatchdogInfoSize}

func (h headerDefs) eval(name string, a ABI, depth int) (uint64, error) {
	v, ok := h[name]
	if !ok {
		return 0, errString("not defined in the headers")
	}
	if depth > 5 {
		return 0, errString("alias loop")
	}
	v = strings.TrimSuffix(strings.TrimSpace(v), "U")
	if n, err := strconv.ParseUint(v, 0, 64); err == nil {
		return n, nil
	}
	if len(v) == 3 && v[0] == '\'' && v[2] == '\'' {
		return uint64(v[1]), nil
	}
	if m := iocRE.FindStringSubmatch(v); m != nil {
		typ, err := h.evalTok(m[2], a, depth)
		if err != nil {
			return 0, err
		}
		nr, _ := strconv.ParseUint(m[3], 0, 8)
		size, ok := cSizes[strings.TrimSpace(m[4])]
		if !ok {
			return 0, errString("unknown size of " + m[4])
		}
		dirs := map[string]string{"R": "_IOC_READ", "W": "_IOC_WRITE", "WR": "both"}
		var dir uint64
		for _, d := range []string{"_IOC_READ", "_IOC_WRITE"} {
			if dirs[m[1]] == d || dirs[m[1]] == "both" {
				x, err := h.eval(d, a, depth+1)
				if err != nil {
					return 0, err
				}
				dir |= x
			}
		}
		return a.IOC(dir, byte(typ), byte(nr), size), nil
	}
	return h.eval(v, a, depth+1)
}

func (h headerDefs) evalTok(tok string, a ABI, depth int) (uint64, error) {
	if len(tok) == 3 && tok[0] == '\'' {
		return uint64(tok[1]), nil
	}
	return h.eval(tok, a, depth+1)
}

type errString string

func (e errString) Error() string { return string(e) }
