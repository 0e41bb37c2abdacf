// Package serialtest is the serialtest applet: it checks a heartbeat
// serial link (a null-modem cable between two boxes, or two ports of one
// box) and decodes live heartbeat traffic on it. The port is put in raw 8N1
// mode, locked with a UUCP lock file like heartbeat does, and restored on
// exit, including after SIGINT or SIGTERM.
package serialtest

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"habox/applets/cli"
	"habox/applets/internal/wire"
	"habox/conf"
	"habox/hw/serial"
)

const usage = `serialtest [-b BAUD] [-t SECONDS] [OPTIONS] MODE DEVICE...

Test a heartbeat serial link: raw 8N1, UUCP lock file (never fights a
running heartbeat for the port), previous settings restored on exit.

Modes:
	-r		Receive: print what arrives (like cat </dev/ttyS0); ends
			after -t seconds without data (default 10, 0: never)
	-s [TEXT]	Send TEXT and a newline (default: a hello with the host
			name; like echo hello >/dev/ttyS0)
	--echo		Echo server: send back everything received, for --ping on
			the other box; runs until interrupted (or -t idle seconds)
	--ping		Send -n numbered, checksummed probes to a box running
			--echo; report round-trip min/avg/max, lost and corrupted
			probes and the effective throughput
	--pair DEV1 DEV2  Both ends on this box: probes DEV1 -> DEV2, then
			DEV2 -> DEV1; one-way latency, lost, corrupted, throughput
	--watch		Decode heartbeat's classic frames on the line, one line per
			message: node, type, seq, status; with -k, verify them
	--lines		Show the modem lines (DTR RTS out, CTS DSR DCD RI in),
			toggle DTR and RTS and say whether the cable has handshake
			wiring (needed by --rtscts), three wires, or is a loopback
Options:
	-b BAUD		9600 19200 38400 57600 115200 230400 460800 (default 19200)
	-t SECONDS	-r: give up without data (default 10); --ping/--pair: wait
			per probe (default 2); --echo/--watch: stop when idle
	-n COUNT	Probes for --ping/--pair (default 10); --watch: stop
			after COUNT messages
	-l LENGTH	Probe payload bytes, 1..1000 (default 32)
	-k FILE		--watch: authkeys to verify messages with (mode 0600)
	--rtscts	Hardware flow control (heartbeat uses it; needs a cable
			with RTS/CTS wired)
	--lockdir DIR	UUCP lock directory (default /var/lock)
	--no-lock	Do not take the lock file

Exit status: 0 ok (link clean), 1 error (no such device, not a tty,
permission, I/O), 2 usage, 3 link not clean (lost or corrupted probes,
--watch: messages failing authentication), 4 no data within the timeout,
5 device locked or opened by heartbeat, 130 interrupted (--ping, --pair, -s;
-r, --echo and --watch stop normally on SIGINT/SIGTERM).`

// Exit codes.
const (
	exitOK      = 0
	exitErr     = 1
	exitUsage   = 2
	exitUnclean = 3
	exitNoData  = 4
	exitLocked  = 5
	exitSignal  = 130
)

const name = "serialtest"

// Applet is the serialtest applet.
var Applet = cli.Applet{Name: name, Usage: usage, Run: func(env *cli.Env, args []string) int {
	// SIGINT/SIGTERM cancel this run only: the handler is removed when
	// it returns, so nothing outlives the applet.
	ctx, stop := notifyStop(os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, env, args)
}}

type mode int

const (
	modeNone mode = iota
	modeRecv
	modeSend
	modeEcho
	modePing
	modePair
	modeWatch
	modeLines
)

type options struct {
	mode       mode
	baud       int
	timeout    time.Duration
	timeoutSet bool
	count      int
	countSet   bool
	length     int
	keys       string
	keyring    *wire.Keyring // loaded from keys
	rtscts     bool
	lockDir    string
	noLock     bool
	text       string
	devs       []string
}

func run(ctx stopper, env *cli.Env, args []string) int {
	o, code := parse(env, args)
	if o == nil {
		return code
	}
	return runMode(ctx, env, o)
}

// parse reads the command line; on error it prints it and returns nil and
// the exit code.
func parse(env *cli.Env, args []string) (*options, int) {
	o := &options{baud: serial.DefaultBaud, count: 10, length: 32, lockDir: serial.LockDir}
	setMode := func(m mode) bool {
		if o.mode != modeNone && o.mode != m {
			return false
		}
		o.mode = m
		return true
	}
	// Options may come before and after the operands (TEXT, DEVICE), as
	// GNU getopt allows; "--" ends them.
	a := cli.NewArgs(args)
	a.Permute = true
	for a.Next() {
		var err error
		ok := true
		switch a.Opt() {
		case "-r":
			ok = a.Flag() && setMode(modeRecv)
		case "-s":
			ok = a.Flag() && setMode(modeSend)
		case "--echo":
			ok = a.Flag() && setMode(modeEcho)
		case "--ping":
			ok = a.Flag() && setMode(modePing)
		case "--pair":
			ok = a.Flag() && setMode(modePair)
		case "--watch":
			ok = a.Flag() && setMode(modeWatch)
		case "--lines":
			ok = a.Flag() && setMode(modeLines)
		case "-b":
			o.baud, err = a.Int()
		case "-t":
			var v string
			if v, err = a.Value(); err == nil {
				f, ok := conf.ParseDecimal(v)
				if !ok || f > 1e6 {
					return nil, cli.UsageError(env, usage, "-t: not a number of seconds: "+v)
				}
				o.timeout, o.timeoutSet = time.Duration(f*float64(time.Second)), true
			}
		case "-n":
			if o.count, err = a.Int(); err == nil && (o.count < 1 || o.count > 1000000) {
				return nil, cli.UsageError(env, usage, "-n: count must be 1..1000000")
			}
			o.countSet = true
		case "-l":
			if o.length, err = a.Int(); err == nil && (o.length < 1 || o.length > maxPayload) {
				return nil, cli.UsageError(env, usage, "-l: length must be 1..1000")
			}
		case "-k":
			o.keys, err = a.Value()
		case "--rtscts":
			o.rtscts = a.Flag()
		case "--lockdir":
			o.lockDir, err = a.Value()
		case "--no-lock":
			o.noLock = a.Flag()
		default:
			return nil, cli.UsageError(env, usage, a.Unknown())
		}
		if err == nil {
			err = a.Err()
		}
		if err != nil {
			return nil, cli.UsageError(env, usage, err.Error())
		}
		if !ok {
			return nil, cli.UsageError(env, usage, "choose one mode: -r, -s, --echo, --ping, --pair, --watch or --lines")
		}
	}
	if a.Err() != nil {
		return nil, cli.UsageError(env, usage, a.Err().Error())
	}
	if code := o.check(env, a.Rest()); code != exitOK {
		return nil, code
	}
	return o, exitOK
}

// check validates the options together, takes the operands (TEXT for -s,
// the devices) from rest and fills in the mode's default timeout.
func (o *options) check(env *cli.Env, rest []string) int {
	if !serial.ValidBaud(o.baud) {
		return cli.UsageError(env, usage, "-b: "+strconv.Itoa(o.baud)+": "+serial.ErrBaud.Error())
	}
	want := 1
	switch o.mode {
	case modeNone:
		return cli.UsageError(env, usage, "choose a mode: -r, -s, --echo, --ping, --pair, --watch or --lines")
	case modeSend:
		if len(rest) == 2 {
			o.text, rest = rest[0], rest[1:]
		} else {
			host, _ := os.Hostname()
			o.text = "hello from " + host + " (serialtest)"
		}
	case modePair:
		want = 2
	}
	if len(rest) != want {
		if want == 2 {
			return cli.UsageError(env, usage, "--pair needs two devices")
		}
		return cli.UsageError(env, usage, "need exactly one DEVICE")
	}
	o.devs = rest
	if o.mode == modePair && o.devs[0] == o.devs[1] {
		return cli.UsageError(env, usage, "--pair needs two different devices")
	}
	if o.keys != "" && o.mode != modeWatch {
		return cli.UsageError(env, usage, "-k applies to --watch only")
	}
	if !o.timeoutSet {
		switch o.mode {
		case modeRecv:
			o.timeout = 10 * time.Second
		case modePing, modePair:
			o.timeout = 2 * time.Second
		}
	}
	if (o.mode == modePing || o.mode == modePair) && o.timeout == 0 {
		return cli.UsageError(env, usage, "-t: --ping and --pair need a probe timeout above 0")
	}
	return exitOK
}

// runMode opens the ports and runs the mode.
func runMode(ctx stopper, env *cli.Env, o *options) int {
	if o.keys != "" {
		var err error
		if o.keyring, err = loadKeys(o.keys); err != nil {
			return cli.Fail(env, name, err, exitErr)
		}
	}
	var ports []*line
	defer func() {
		for _, p := range ports {
			if err := p.close(); err != nil {
				env.Err(name, ": ", err.Error(), "\n")
			}
		}
	}()
	for _, d := range o.devs {
		p, code := open(env, o, d)
		if p == nil {
			return code
		}
		ports = append(ports, p)
	}
	switch o.mode {
	case modeRecv:
		return receive(ctx, env, o, ports[0])
	case modeSend:
		return send(ctx, env, o, ports[0])
	case modeEcho:
		return echo(ctx, env, o, ports[0])
	case modePing:
		return ping(ctx, env, o, ports[0])
	case modePair:
		return pair(ctx, env, o, ports[0], ports[1])
	case modeLines:
		return showLines(ctx, env, o.devs[0], ports[0], lineSettle)
	}
	return watch(ctx, env, o, ports[0])
}

// line is an open, locked port.
type line struct {
	*serial.Port
	lock *serial.Lock
}

func (l *line) close() error {
	err := l.Port.Close()
	if uerr := l.lock.Unlock(); err == nil {
		err = uerr
	}
	return err
}

// open locks and opens dev, printing a clear error and returning the exit
// code on failure.
func open(env *cli.Env, o *options, dev string) (*line, int) {
	var lock *serial.Lock
	if !o.noLock {
		var err error
		lock, err = serial.LockDevice(o.lockDir, dev)
		var le *serial.LockedError
		switch {
		case errors.As(err, &le):
			env.Err(name, ": ", dev, " is locked by pid ", strconv.Itoa(le.PID), " (", le.Path,
				"): is heartbeat running on it? stop it first, or use another port\n")
			return nil, exitLocked
		case errors.Is(err, os.ErrNotExist):
			env.Err(name, ": warning: lock directory ", o.lockDir, " missing: running without a lock file\n")
			lock = nil
		case err != nil:
			env.Err(name, ": cannot lock ", dev, ": ", err.Error(), " (--lockdir DIR, or --no-lock)\n")
			return nil, exitErr
		}
	}
	// heartbeat 3.0.6 drops its lock file once the port is open: look for
	// it among the port's users too.
	users, _ := serial.Users(dev)
	for _, u := range users {
		if strings.HasPrefix(u.Comm, "heartbeat") {
			lock.Unlock()
			env.Err(name, ": ", dev, " is in use by heartbeat (pid ", strconv.Itoa(u.PID),
				"): stop it first, or use another port\n")
			return nil, exitLocked
		}
	}
	for _, u := range users {
		env.Err(name, ": warning: ", dev, " is also open by pid ", strconv.Itoa(u.PID), " (", u.Comm,
			"), which may read part of the data\n")
	}
	p, err := serial.Open(dev, serial.Config{Baud: o.baud, RTSCTS: o.rtscts, VMin: 1, VTime: 1})
	if err != nil {
		lock.Unlock()
		msg := err.Error()
		switch {
		case errors.Is(err, os.ErrNotExist):
			msg = dev + ": no such device"
		case errors.Is(err, serial.ErrNotTTY):
			msg = dev + ": not a tty (a serial port is /dev/ttyS0, /dev/ttyUSB0, /dev/ttyAMA0...)"
		case errors.Is(err, os.ErrPermission):
			msg = dev + ": permission denied (run as root or join the port's group, e.g. dialout)"
		case errors.Is(err, syscall.EBUSY):
			msg = dev + ": device busy (opened exclusively by another program)"
		}
		env.Err(name, ": ", msg, "\n")
		return nil, exitErr
	}
	return &line{Port: p, lock: lock}, exitOK
}

// errTimeout is a read that saw no data before its deadline.
var errTimeout = errors.New("timeout")

// readSome reads into b, waiting until data arrives, ctx is done
// (ctx.Err()), or deadline passes (errTimeout; zero deadline: never).
func readSome(ctx stopper, p *line, b []byte, deadline time.Time) (int, error) {
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		d := time.Now().Add(100 * time.Millisecond)
		if !deadline.IsZero() && deadline.Before(d) {
			d = deadline
		}
		p.SetReadDeadline(d)
		n, err := p.Read(b)
		if n > 0 {
			return n, nil
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if !deadline.IsZero() && !time.Now().Before(deadline) {
				return 0, errTimeout
			}
			continue
		}
		if err == nil {
			continue
		}
		return 0, err
	}
}

func deadlineAfter(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

const noDataHint = "check the cable is a null-modem and the other side is running"

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}
