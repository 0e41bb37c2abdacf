// Package hainit is the init applet: a tiny PID 1 for an initramfs, a
// rescue image or a test VM whose only userland is habox. It mounts the
// kernel filesystems, loads modules, names the host, configures addresses
// from the kernel command line, runs a boot script of applets (no shell),
// reaps every process and powers off at the end.
package hainit

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"habox/applets/cli"
	"habox/hw/boot"
)

const usage = `init [habox.WORD=VALUE...]
	PID 1 for an initramfs or VM whose only userland is habox (/init -> habox).
	Mounts /proc, /sys, /dev (devtmpfs) and /run unless present; loads the
	modules listed in /etc/modules (one "FILE [PARAMS]" a line, in order); sets
	the host name; brings lo and the habox.ip interfaces up; runs the boot
	script; reaps every process; powers off when nothing is left to run.
	Never linked by --install (it would shadow the host's init).
Kernel command line, then arguments:
	habox.node=NAME              host name (heartbeat's node name)
	habox.ip=IF:ADDR/BITS[,...]  bring IF up with ADDR (broadcast: last address)
	habox.run=FILE               boot script (default /etc/hainit.rc)
	habox.ctl=DEV                after the script, run commands read from DEV
	                             (a serial port); each answer ends "@@rc CODE"
Script: one command a line, # comments, words split on blanks (no quoting):
	APPLET [ARGS...]     run an applet (or /path/program) and wait for it
	bg APPLET [ARGS...]  run it in the background, output on the console
	wait APPLET          wait until the background APPLETs have ended
	kill SIGNAL APPLET   signal them (TERM KILL STOP CONT HUP INT USR1 USR2)
	sleep DURATION       e.g. 500ms, 3s
	echo WORDS...        print a line on the console
	ip IF ADDR/BITS [nobrd]  bring IF up with ADDR (nobrd: no broadcast address)
	poweroff | reboot    stop every process, sync, power off / reboot
Signals to init: TERM or INT reboot, USR2 power off, USR1 halt.`

// Applet is the init applet. NoLink: `habox --install` never links it.
var Applet = cli.Applet{Name: "init", Usage: usage, NoLink: true, Run: run}

func run(env *cli.Env, args []string) int {
	if os.Getpid() != 1 {
		env.Err("init: must run as process 1 (the kernel's init, e.g. /init -> habox)\n")
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	in := New(sysLinux{}, exe, env)
	cmd := in.Main(args)
	for {
		// Reboot returned: nothing else to do but keep PID 1 alive.
		in.logf("cannot shut down; halted")
		in.sys.Reboot(cmd)
		time.Sleep(time.Hour)
	}
}

// System is what init needs from the kernel (hw/ in production, a fake in
// tests).
type System interface {
	MountAll() []error
	Cmdline() ([]string, error)
	Sethostname(name string) error
	Modules() ([]string, error)
	LoadModule(path, params string) error
	LinkUp(name string) error
	AddAddr(a IfAddr) error
	Reap() (boot.Exit, error)
	Kill(pid int, sig syscall.Signal) error
	Reboot(cmd int) error
}

// Init is a running init.
type Init struct {
	sys   System
	exe   string // the habox binary: applets run as exe with argv[0] = name
	env   *cli.Env
	mu    sync.Mutex
	cond  *sync.Cond
	procs map[int]*child // started and not yet reaped
	down  chan int       // a signal asked for shutdown
}

type child struct {
	name   string
	code   int
	done   chan struct{} // closed when reaped
	copied chan struct{} // closed when its output pipe is drained; nil without pipe
}

// New returns an init over sys, running applets through exe.
func New(sys System, exe string, env *cli.Env) *Init {
	in := &Init{sys: sys, exe: exe, env: env, procs: map[int]*child{}, down: make(chan int, 1)}
	in.cond = sync.NewCond(&in.mu)
	return in
}

func (in *Init) logf(parts ...string) {
	in.env.Err("init: ", strings.Join(parts, ""), "\n")
}

// Main boots, runs the script and the command channel, waits for the
// processes to end, stops the rest and returns the shutdown command it
// asked the kernel for (boot.PowerOff, Restart or Halt).
func (in *Init) Main(args []string) int {
	for _, err := range in.sys.MountAll() {
		in.logf(err.Error())
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	// Signals whose Go default is to exit would kill PID 1 (a kernel
	// panic). Catching them (not ignoring: that would be inherited) keeps
	// init alive and leaves children the default dispositions. The fault
	// signals are among them: Go delivers only the ones sent by kill(2)
	// (SI_USER) to the channel; a real fault still panics or crashes.
	sink := make(chan os.Signal, 8)
	signal.Notify(sink, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE, syscall.SIGALRM,
		syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGXCPU, syscall.SIGXFSZ,
		syscall.SIGVTALRM, syscall.SIGPROF, syscall.SIGPWR, syscall.SIGTRAP,
		syscall.SIGABRT, syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGILL, syscall.SIGSYS)
	defer signal.Stop(sink)
	go func() {
		for range sink {
		}
	}()
	go func() {
		for s := range sigs {
			cmd := boot.Restart
			switch s {
			case syscall.SIGUSR2:
				cmd = boot.PowerOff
			case syscall.SIGUSR1:
				cmd = boot.Halt
			}
			select {
			case in.down <- cmd:
			default:
			}
		}
	}()
	go in.reap()

	words, err := in.sys.Cmdline()
	if err != nil {
		in.logf(err.Error())
	}
	b := ParseCmdline(append(words, args...))
	for _, err := range b.Errs {
		in.logf(err.Error())
	}
	in.loadModules()
	if b.Node != "" {
		if err := in.sys.Sethostname(b.Node); err != nil {
			in.logf(err.Error())
		}
	}
	if err := in.sys.LinkUp("lo"); err != nil {
		in.logf(err.Error())
	}
	for _, a := range b.Addrs {
		in.addr(a)
	}

	done := make(chan int, 1)
	go func() { done <- in.serve(b) }()
	select {
	case cmd := <-done:
		return in.shutdown(cmd)
	case cmd := <-in.down:
		return in.shutdown(cmd)
	}
}

// serve runs the boot script, then the command channel, then waits for
// every started process; it returns the shutdown command.
func (in *Init) serve(b Boot) int {
	text, err := os.ReadFile(b.Script)
	switch {
	case err == nil:
		cmds, err := ParseScript(string(text))
		if err != nil {
			in.logf(b.Script, ": ", err.Error())
		}
		for _, c := range cmds {
			if cmd, stop := in.Exec(c, nil); stop {
				return cmd
			}
		}
	case b.Script != DefaultScript || !errors.Is(err, os.ErrNotExist):
		in.logf(err.Error())
	}
	if b.Ctl != "" {
		if cmd, stop := in.control(b.Ctl); stop {
			return cmd
		}
	}
	in.mu.Lock()
	for len(in.procs) > 0 {
		in.cond.Wait()
	}
	in.mu.Unlock()
	in.logf("nothing left to run")
	return boot.PowerOff
}

func (in *Init) loadModules() {
	lines, err := in.sys.Modules()
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			in.logf(err.Error())
		}
		return
	}
	for _, l := range lines {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		path, params, _ := strings.Cut(strings.TrimSpace(l), " ")
		if path == "" {
			continue
		}
		if err := in.sys.LoadModule(path, strings.TrimSpace(params)); err != nil && !errors.Is(err, os.ErrExist) {
			in.logf(err.Error())
		}
	}
}

func (in *Init) addr(a IfAddr) error {
	err := in.sys.LinkUp(a.If)
	if err == nil {
		err = in.sys.AddAddr(a)
		if errors.Is(err, os.ErrExist) {
			err = nil
		}
	}
	if err != nil {
		in.logf(a.If, " ", a.Prefix.String(), ": ", err.Error())
	}
	return err
}

// Exec runs one command. Foreground output goes to out (the console when
// nil). stop is true for poweroff/reboot, with the shutdown command.
func (in *Init) Exec(c Cmd, out io.Writer) (code int, stop bool) {
	say := func(s string) {
		if out != nil {
			io.WriteString(out, s+"\n")
		} else {
			in.logf(s)
		}
	}
	switch c.Op {
	case "poweroff":
		return boot.PowerOff, true
	case "reboot":
		return boot.Restart, true
	case "echo":
		say(strings.Join(c.Args, " "))
	case "sleep":
		time.Sleep(c.Dur)
	case "ip":
		a, _ := ParseIfAddr(c.Args[0] + ":" + c.Args[1])
		a.NoBrd = len(c.Args) == 3
		if in.addr(a) != nil {
			return 1, false
		}
	case "kill":
		sig, _ := Signal(c.Args[0])
		n := 0
		for _, pid := range in.pids(c.Args[1]) {
			if in.sys.Kill(pid, sig) == nil {
				n++
			}
		}
		if n == 0 {
			say("kill: no " + c.Args[1] + " running")
			return 1, false
		}
	case "wait":
		in.mu.Lock()
		for in.running(c.Args[0]) {
			in.cond.Wait()
		}
		in.mu.Unlock()
	case "bg":
		ch, _, err := in.start(c.Args, nil)
		if err != nil {
			say(err.Error())
			return 127, false
		}
		in.logf("started ", strings.Join(c.Args, " "), " (pid ", strconv.Itoa(ch), ")")
	case "run":
		code = in.runWait(c.Args, out)
		if out == nil {
			in.logf(strings.Join(c.Args, " "), ": exit ", strconv.Itoa(code))
		}
		return code, false
	}
	return 0, false
}

// runWait runs argv in the foreground with its output on out (or the
// console) and returns its exit code.
func (in *Init) runWait(argv []string, out io.Writer) int {
	_, c, err := in.start(argv, out)
	if err != nil {
		if out != nil {
			io.WriteString(out, err.Error()+"\n")
		} else {
			in.logf(err.Error())
		}
		return 127
	}
	<-c.done
	if c.copied != nil {
		// A daemonized grandchild may hold the pipe: do not wait for it.
		select {
		case <-c.copied:
		case <-time.After(200 * time.Millisecond):
		}
	}
	return c.code
}

// start starts argv[0] (an applet of exe, or an absolute path) with
// stdout/stderr on out, or on init's own when out is nil. It returns the
// child's record, which the reaper completes: a short child may be reaped
// (and gone from procs) before the caller looks it up.
func (in *Init) start(argv []string, out io.Writer) (int, *child, error) {
	path := in.exe
	if strings.HasPrefix(argv[0], "/") {
		path = argv[0]
	}
	files := []*os.File{nil, nil, nil}
	var copied chan struct{}
	for i, w := range []io.Writer{in.env.Stdout, in.env.Stderr} {
		if out != nil {
			w = out
		}
		if f, ok := w.(*os.File); ok {
			files[i+1] = f
			continue
		}
		if w == nil {
			continue
		}
		if out != nil && i == 1 {
			files[2] = files[1] // one pipe for both
			break
		}
		// Not a file (a serial port, a test buffer): copy through a pipe.
		pr, pw, err := os.Pipe()
		if err != nil {
			return 0, nil, err
		}
		defer pw.Close()
		files[i+1] = pw
		c := make(chan struct{})
		go func() { io.Copy(w, pr); pr.Close(); close(c) }()
		copied = c
	}
	if f, err := os.Open(os.DevNull); err == nil {
		files[0] = f
		defer f.Close()
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	p, err := os.StartProcess(path, argv, &os.ProcAttr{Dir: "/", Env: in.env.Environ, Files: files,
		Sys: &syscall.SysProcAttr{Setsid: true}})
	if err != nil {
		return 0, nil, cli.Wrap(argv[0], err)
	}
	pid := p.Pid
	p.Release() // the reaper, not os.Process.Wait, collects it
	c := &child{name: baseName(argv[0]), done: make(chan struct{}), copied: copied}
	in.procs[pid] = c
	return pid, c, nil
}

// reap collects every ended child, started by init or orphaned.
func (in *Init) reap() {
	for {
		e, err := in.sys.Reap()
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		in.mu.Lock()
		if c := in.procs[e.Pid]; c != nil {
			c.code = e.Code()
			close(c.done)
			delete(in.procs, e.Pid)
		}
		in.cond.Broadcast()
		in.mu.Unlock()
	}
}

func (in *Init) allPids() []int {
	in.mu.Lock()
	defer in.mu.Unlock()
	var p []int
	for pid := range in.procs {
		p = append(p, pid)
	}
	return p
}

func (in *Init) running(name string) bool {
	for _, c := range in.procs {
		if c.name == name {
			return true
		}
	}
	return false
}

func (in *Init) pids(name string) []int {
	in.mu.Lock()
	defer in.mu.Unlock()
	var pids []int
	for pid, c := range in.procs {
		if c.name == name {
			pids = append(pids, pid)
		}
	}
	return pids
}

// control serves the command channel dev until it ends or asks for a
// shutdown.
func (in *Init) control(dev string) (int, bool) {
	f, err := openCtl(dev)
	if err != nil {
		in.logf(err.Error())
		return 0, false
	}
	defer f.Close()
	in.logf("commands from ", dev)
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadString('\n')
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			c, ok, perr := ParseLine(line)
			code := 0
			switch {
			case perr != nil:
				io.WriteString(f, perr.Error()+"\n")
				code = 2
			case ok:
				var stop bool
				if code, stop = in.Exec(c, f); stop {
					io.WriteString(f, "@@rc 0\n")
					return code, true
				}
			}
			io.WriteString(f, "@@rc "+strconv.Itoa(code)+"\n")
		}
		if err != nil {
			in.logf(dev, ": ", err.Error())
			return 0, false
		}
	}
}

// shutdown stops every process (TERM, up to 3 s, then KILL) and asks the
// kernel for cmd.
func (in *Init) shutdown(cmd int) int {
	in.logf("stopping all processes")
	in.sys.Kill(-1, syscall.SIGTERM)
	// Give init's own children up to 3 s to end (heartbeat releases its
	// resources on TERM); kill(-1, 0) cannot tell, kernel threads count.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && len(in.allPids()) > 0 {
		time.Sleep(50 * time.Millisecond)
	}
	in.sys.Kill(-1, syscall.SIGKILL)
	switch cmd {
	case boot.Restart:
		in.logf("rebooting")
	case boot.Halt:
		in.logf("halting")
	default:
		in.logf("powering off")
	}
	if err := in.sys.Reboot(cmd); err != nil {
		in.logf(err.Error())
	}
	return cmd
}

// Signal returns the signal named s (TERM, SIGTERM or 15).
func Signal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	switch strings.TrimPrefix(strings.ToUpper(s), "SIG") {
	case "TERM":
		return syscall.SIGTERM, nil
	case "KILL":
		return syscall.SIGKILL, nil
	case "STOP":
		return syscall.SIGSTOP, nil
	case "CONT":
		return syscall.SIGCONT, nil
	case "HUP":
		return syscall.SIGHUP, nil
	case "INT":
		return syscall.SIGINT, nil
	case "USR1":
		return syscall.SIGUSR1, nil
	case "USR2":
		return syscall.SIGUSR2, nil
	}
	return 0, errors.New("unknown signal " + s)
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
