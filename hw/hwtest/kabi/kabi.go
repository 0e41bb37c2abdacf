// Package kabi is a table of the Linux user ABI values that hw/ depends on,
// per GOARCH: ioctl request numbers (termios, modem lines, ptys, watchdog),
// termios flag bits and indices, and struct sizes. It is written down from
// the kernel's uapi headers (arch/*/include/uapi/asm/{ioctl,ioctls,termbits,
// termios}.h, include/uapi/asm-generic/*, include/uapi/linux/watchdog.h),
// independently of golang.org/x/sys, so tests can check x/sys and hw/
// against it on each architecture (`make test-cross` runs them under
// qemu-user), and TestTableMatchesHeaders checks the table against the
// installed cross headers (Debian's linux-libc-dev-*-cross).
//
// Only tests import it.
package kabi

// ABI is one architecture's values.
type ABI struct {
	GOARCH string
	// Triplet names the Debian multiarch directory of the arch's headers.
	Triplet string
	// Family is "generic" (asm-generic ioctl encoding and termbits) or
	// "mips" (3 direction bits, 13 size bits, its own ioctls and termbits).
	Family string
	// PtrSize is the size of a pointer and of a C long, in bytes.
	PtrSize uintptr
	// Values maps a kernel macro name (TCGETS, WDIOC_GETTIMEOUT, TIOCM_CTS,
	// IEXTEN, VMIN, NCCS...) to its value.
	Values map[string]uint64
}

// TermiosSize is the size of the kernel's struct termios, which TCGETS
// writes and TCSETS reads: four tcflag_t, c_line, then c_cc[NCCS].
func (a ABI) TermiosSize() uintptr { return 4*4 + 1 + uintptr(a.Values["NCCS"]) }

// TermiosCcOffset is the offset of c_cc in struct termios (c_line comes
// before it on every architecture habox targets).
func (a ABI) TermiosCcOffset() uintptr { return 17 }

// IfreqSize is the size of struct ifreq: a 16-byte name and a union whose
// largest member is struct ifmap (two unsigned longs, a short, three
// chars, padded to a long).
func (a ABI) IfreqSize() uintptr {
	ifmap := 2*a.PtrSize + 2 + 3
	ifmap = (ifmap + a.PtrSize - 1) / a.PtrSize * a.PtrSize
	return 16 + max(ifmap, 16)
}

// WatchdogInfoSize is sizeof(struct watchdog_info): options, firmware
// version and a 32-byte identity.
const WatchdogInfoSize = 40

// IOC encodes an ioctl request number as the arch's _IOC macro does; dir
// is a combination of the arch's _IOC_READ/_IOC_WRITE values.
func (a ABI) IOC(dir uint64, typ byte, nr byte, size uintptr) uint64 {
	sizeBits := a.Values["_IOC_SIZEBITS"]
	dirShift := 16 + sizeBits
	return dir<<dirShift | uint64(size)&(1<<sizeBits-1)<<16 | uint64(typ)<<8 | uint64(nr)
}

// Read and Write are the arch's _IOC_READ and _IOC_WRITE.
func (a ABI) Read() uint64 { return a.Values["_IOC_READ"] }

// Write is the arch's _IOC_WRITE.
func (a ABI) Write() uint64 { return a.Values["_IOC_WRITE"] }

// Arches lists every GOARCH in the table.
func Arches() []string {
	return []string{"amd64", "386", "arm", "arm64", "riscv64", "mips", "mipsle", "mips64", "mips64le"}
}

// For returns the table of goarch; ok is false for an arch not in it.
func For(goarch string) (a ABI, ok bool) {
	triplets := map[string]string{
		"amd64": "x86_64-linux-gnu", "386": "i686-linux-gnu", "arm": "arm-linux-gnueabihf",
		"arm64": "aarch64-linux-gnu", "riscv64": "riscv64-linux-gnu",
		"mips": "mips-linux-gnu", "mipsle": "mipsel-linux-gnu",
		"mips64": "mips64-linux-gnuabi64", "mips64le": "mips64el-linux-gnuabi64",
	}
	a.Triplet, ok = triplets[goarch]
	if !ok {
		return ABI{}, false
	}
	a.GOARCH = goarch
	a.PtrSize = 8
	switch goarch {
	case "386", "arm", "mips", "mipsle":
		a.PtrSize = 4
	}
	a.Family = "generic"
	fam := generic
	if goarch == "mips" || goarch == "mipsle" || goarch == "mips64" || goarch == "mips64le" {
		a.Family, fam = "mips", mips
	}
	a.Values = map[string]uint64{}
	for k, v := range common {
		a.Values[k] = v
	}
	for k, v := range fam {
		a.Values[k] = v
	}
	r, w := a.Read(), a.Write()
	for k, v := range map[string]uint64{
		"TIOCGPTN":         a.IOC(r, 'T', 0x30, 4),
		"TIOCSPTLCK":       a.IOC(w, 'T', 0x31, 4),
		"WDIOC_GETSUPPORT": a.IOC(r, 'W', 0, WatchdogInfoSize),
		"WDIOC_GETSTATUS":  a.IOC(r, 'W', 1, 4),
		"WDIOC_KEEPALIVE":  a.IOC(r, 'W', 5, 4),
		"WDIOC_SETTIMEOUT": a.IOC(r|w, 'W', 6, 4),
		"WDIOC_GETTIMEOUT": a.IOC(r, 'W', 7, 4),
	} {
		a.Values[k] = v
	}
	return a, true
}

// common holds the values that are the same on every arch in the table.
var common = map[string]uint64{
	"TCIOFLUSH": 2,
	"VTIME":     5,
	"TIOCM_LE":  0x001, "TIOCM_DTR": 0x002, "TIOCM_RTS": 0x004,
	"BRKINT": 0x002, "INPCK": 0x010, "ISTRIP": 0x020, "IGNCR": 0x080, "IXON": 0x400,
	"OPOST": 0x01,
	"CBAUD": 0x100f, "CBAUDEX": 0x1000, "CSIZE": 0x30, "CS8": 0x30, "CSTOPB": 0x40,
	"CREAD": 0x80, "PARENB": 0x100, "CLOCAL": 0x800, "CRTSCTS": 0x80000000,
	"B9600": 0xd, "B19200": 0xe, "B38400": 0xf, "B57600": 0x1001, "B115200": 0x1002,
	"ISIG": 0x1, "ICANON": 0x2, "ECHO": 0x8, "ECHONL": 0x40,
}

// generic is asm-generic's ioctl encoding, ioctls and termbits (x86, arm,
// arm64, riscv64).
var generic = map[string]uint64{
	"_IOC_SIZEBITS": 14, "_IOC_DIRBITS": 2, "_IOC_NONE": 0, "_IOC_WRITE": 1, "_IOC_READ": 2,
	"TCGETS": 0x5401, "TCSETS": 0x5402, "TCSETSW": 0x5403, "TCSETSF": 0x5404,
	"TCSBRK": 0x5409, "TCFLSH": 0x540b,
	"TIOCMGET": 0x5415, "TIOCMBIS": 0x5416, "TIOCMBIC": 0x5417, "TIOCMSET": 0x5418,
	"TIOCM_CTS": 0x020, "TIOCM_CAR": 0x040, "TIOCM_RNG": 0x080, "TIOCM_DSR": 0x100,
	"NCCS": 19, "VMIN": 6,
	"IEXTEN": 0x8000,
}

// mips is arch/mips: its ioctl encoding (_IOC_NONE is a bit of its own),
// SysV-numbered termios ioctls, modem bits and termbits.
var mips = map[string]uint64{
	"_IOC_SIZEBITS": 13, "_IOC_DIRBITS": 3, "_IOC_NONE": 1, "_IOC_READ": 2, "_IOC_WRITE": 4,
	"TCGETS": 0x540d, "TCSETS": 0x540e, "TCSETSW": 0x540f, "TCSETSF": 0x5410,
	"TCSBRK": 0x5405, "TCFLSH": 0x5407,
	"TIOCMGET": 0x741d, "TIOCMBIS": 0x741b, "TIOCMBIC": 0x741c, "TIOCMSET": 0x741a,
	"TIOCM_CTS": 0x040, "TIOCM_CAR": 0x100, "TIOCM_RNG": 0x200, "TIOCM_DSR": 0x400,
	"NCCS": 23, "VMIN": 4,
	"IEXTEN": 0x100,
}
