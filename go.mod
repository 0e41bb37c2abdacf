module habox

go 1.26.0

require golang.org/x/sys v0.50.0

// hw/serial's termios calls (Tcgetattr, Tcsetattr, Tcflush, Tcdrain,
// Tcsendbreak) go through pkg/term's termios package. v1.1.0 hard-coded
// x86's TCGETS/TCSETS (wrong on MIPS: 0x540d/0x540e); v1.2.0-beta.2 takes
// them from x/sys per GOARCH, proven by make test-cross on mipsle, mips,
// armv7, arm64 and mips64 (termios on ptys under qemu-user) and by
// hw/hwtest/kabi against the kernel headers. The modem-line calls
// (TIOCMGET/SET/BIS/BIC) stay in hw/serial over x/sys: pkg/term's Tiocmget
// reads a Go int (the kernel's 4 bytes land in the high half on
// big-endian mips64) and its Tiocmset passes the value where the kernel
// wants a pointer.
require github.com/pkg/term v1.2.0-beta.2
