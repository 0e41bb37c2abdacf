package hainit

import (
	"errors"
	"net/netip"
	"strings"
	"time"

	"habox/applets/cli"
)

// Boot is what the kernel command line asks of init.
type Boot struct {
	Node   string   // habox.node: host name
	Addrs  []IfAddr // habox.ip: interface addresses
	Script string   // habox.run: boot script (default DefaultScript)
	Ctl    string   // habox.ctl: command channel device, "" for none
	Errs   []error  // words that could not be read
	Extra  []string // other habox.* words, ignored
}

// IfAddr is one habox.ip item: an interface and its address.
type IfAddr struct {
	If     string
	Prefix netip.Prefix
	// NoBrd: no broadcast address, as busybox "ip addr add A/N dev IF"
	// without "brd +" leaves it (script: ip IF ADDR/BITS nobrd).
	NoBrd bool
}

// DefaultScript is the boot script run when habox.run is not given.
const DefaultScript = "/etc/hainit.rc"

// ParseCmdline reads the habox.* words of a kernel command line (and of
// init's own arguments, which come after it and win).
func ParseCmdline(words []string) Boot {
	b := Boot{Script: DefaultScript}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || !strings.HasPrefix(k, "habox.") {
			continue
		}
		switch k {
		case "habox.node":
			b.Node = v
		case "habox.run":
			b.Script = v
		case "habox.ctl":
			b.Ctl = v
		case "habox.ip":
			for _, item := range strings.Split(v, ",") {
				a, err := ParseIfAddr(item)
				if err != nil {
					b.Errs = append(b.Errs, err)
					continue
				}
				b.Addrs = append(b.Addrs, a)
			}
		default:
			b.Extra = append(b.Extra, w)
		}
	}
	return b
}

// ParseIfAddr reads "IF:A.B.C.D/BITS".
func ParseIfAddr(s string) (IfAddr, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i > 15 {
		return IfAddr{}, errors.New("habox.ip: want IF:ADDR/BITS: " + s)
	}
	p, err := netip.ParsePrefix(s[i+1:])
	if err != nil || !p.Addr().Is4() {
		return IfAddr{}, errors.New("habox.ip: want an IPv4 ADDR/BITS: " + s)
	}
	return IfAddr{If: s[:i], Prefix: p}, nil
}

// Broadcast returns the prefix's broadcast address (all host bits set).
func Broadcast(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	bits := p.Bits()
	for i := 0; i < 4; i++ {
		for b := 0; b < 8; b++ {
			if i*8+b >= bits {
				a[i] |= 0x80 >> b
			}
		}
	}
	return netip.AddrFrom4(a)
}

// Cmd is one script line.
type Cmd struct {
	Line int      // line number, 0 for the command channel
	Op   string   // "run", "bg", "sleep", "echo", "kill", "wait", "ip", "poweroff", "reboot"
	Args []string // the applet's argv for run/bg; the operands otherwise
	Dur  time.Duration
}

// ParseLine reads one script line; a blank or comment line gives ok false.
func ParseLine(line string) (c Cmd, ok bool, err error) {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	w := strings.Fields(line)
	if len(w) == 0 {
		return Cmd{}, false, nil
	}
	c = Cmd{Op: w[0], Args: w[1:]}
	need := func(min, max int, usage string) error {
		if len(c.Args) < min || (max >= 0 && len(c.Args) > max) {
			return errors.New("usage: " + usage)
		}
		return nil
	}
	switch w[0] {
	case "bg":
		err = need(1, -1, "bg APPLET [ARGS...]")
	case "sleep":
		if err = need(1, 1, "sleep DURATION (500ms, 2s)"); err == nil {
			c.Dur, err = time.ParseDuration(c.Args[0])
			if err != nil {
				err = errors.New("sleep: bad duration " + c.Args[0])
			} else if c.Dur < 0 {
				err = errors.New("sleep: negative duration")
			}
		}
	case "echo":
	case "kill":
		if err = need(2, 2, "kill SIGNAL APPLET"); err == nil {
			_, err = Signal(c.Args[0])
		}
	case "wait":
		err = need(1, 1, "wait APPLET")
	case "ip":
		if err = need(2, 3, "ip IF ADDR/BITS [nobrd]"); err == nil {
			_, err = ParseIfAddr(c.Args[0] + ":" + c.Args[1])
			if err == nil && len(c.Args) == 3 && c.Args[2] != "nobrd" {
				err = errors.New("ip: the third word can only be nobrd: " + c.Args[2])
			}
		}
	case "poweroff", "reboot":
		err = need(0, 0, w[0])
	default:
		c.Op, c.Args = "run", w
	}
	return c, true, err
}

// ParseScript reads a whole script; every bad line is reported.
func ParseScript(text string) ([]Cmd, error) {
	var cmds []Cmd
	var errs []error
	for i, line := range strings.Split(text, "\n") {
		c, ok, err := ParseLine(line)
		if err != nil {
			errs = append(errs, errors.New("line "+cli.Itoa(i+1)+": "+err.Error()))
			continue
		}
		if ok {
			c.Line = i + 1
			cmds = append(cmds, c)
		}
	}
	return cmds, errors.Join(errs...)
}
