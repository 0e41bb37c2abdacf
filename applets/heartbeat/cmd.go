// Package heartbeat is the heartbeat applet: a drop-in heartbeat 3.0.6
// node in R1 (haresources) mode ("spec N.M" in comments: section N.M of
// doc/spec/heartbeat-compat.md). cmd.go is the command line (spec 5.9),
// daemon.go the event loop that ties media, wire, membership, resources,
// the watchdog and the control socket together.
//
// Paths and names, and how tests override them:
//
//	-c DIR / $HA_DIR        configuration directory (default /etc/ha.d)
//	-l DIR / $HA_VARLIB     state directory: hb_generation, hb_uuid (default /var/lib/heartbeat)
//	-p FILE                 pid file (default /var/run/heartbeat.pid)
//	-S PATH / $HA_CTLSOCK   control socket for cl_status, hb_standby, hb_takeover
//	$HA_NODENAME            node name instead of uname -n (lower-cased; nodeinfo still wins)
package heartbeat

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"habox/applets/cli"
	"habox/applets/heartbeat/control"
	"habox/applets/trace"
	"habox/conf"
	"habox/hw/safefile"
	"habox/hw/sched"
)

const usage = `heartbeat [-f] [-d]... [-c DIR] [-l DIR] [-p PIDFILE] [-S SOCKET] | -t | -k | -s | -r | -V | -D
heartbeat [OPTIONS] start|stop|status|restart|reload
Run a heartbeat 3.0.6 compatible cluster node (R1 mode: ha.cf, haresources,
authkeys). Without -f it detaches once the node started. The init-script
verbs: start = no option (detach), stop = -k, status = -s, reload (and
force-reload) = -r, restart = -k then start.
	-f		stay in the foreground (log lines also on stderr)
	-d		raise the debug level (repeatable)
	-c DIR		configuration directory (default $HA_DIR or /etc/ha.d)
	-l DIR		state directory (default $HA_VARLIB or /var/lib/heartbeat)
	-p FILE		pid file (default /var/run/heartbeat.pid)
	-S PATH		control socket (default $HA_CTLSOCK or ` + control.DefaultSocket + `)
	-t, --check	validate the configuration and check this machine has what it names
			(interfaces, ucast peers, serial devices, resource scripts);
			print the effective configuration; exit 0/1
	--other-host	with -t: the configuration is for another machine, so what
			this one lacks is only a warning
	-k		stop the running heartbeat (graceful: resources go to the peer) and wait
			(at most $HABOX_KILL_TIMEOUT, default 300 s; then exit 1)
	-s		report whether heartbeat runs (exit 0) or not (exit 1)
	-r		validate the configuration and make the running heartbeat reread it
	-V		print the version (3.0.6's line; --version adds habox's)
	-D		print the table of ha.cf defaults
The node name is uname -n lower-cased ($HA_NODENAME overrides it, for tests),
unless DIR/nodeinfo exists. -R -C HOLD are internal (re-execution on SIGHUP).`

// Applet is the heartbeat applet.
var Applet = cli.Applet{Name: "heartbeat", Usage: usage, Run: run}

// Version is what -V prints: the heartbeat release habox is compatible
// with, as the Debian binary prints it.
const Version = "3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)"

// Defaults of the paths.
const (
	DefaultVarLib  = "/var/lib/heartbeat"
	DefaultPidFile = "/var/run/heartbeat.pid"
	daemonMarker   = "HABOX_HEARTBEAT_DAEMON=1"
	// DefaultKillTimeout bounds how long -k waits for the daemon to exit
	// (conf.KillTimeoutEnv overrides it).
	DefaultKillTimeout = 300 * time.Second
)

type options struct {
	dir, varlib, pidfile, ctlsock string
	node                          string
	foreground, otherHost         bool
	debug                         int
	restart                       bool   // -R: re-executed after SIGHUP, resources kept
	held                          string // -C: what we hold at a -R restart (none, local, foreign, all)
	unclean                       int    // the pid of a predecessor that ended without removing its pid file (0: none)
	args                          []string
	rand                          func(n int64) int64 // the wire engine's randomness; nil: math/rand/v2 (the simulator seeds it)
	entropy                       io.Reader           // a new node UUID's bytes; nil: entropy.Unique (the simulator seeds it)
	load                          func() string       // the ld field; nil: /proc/loadavg (the simulator fixes it: a frame's size sets its time on a serial line)
}

// invocation is a parsed command line: the options and the one action.
type invocation struct {
	o       options
	mode    string // "" (start), -t/--check, -k, -s, -r, -V, --version or -D
	restart bool   // the restart verb: -k, then start
}

func run(env *cli.Env, args []string) int {
	in, msg := parse(env, args)
	if msg != "" {
		return cli.UsageError(env, usage, msg)
	}
	return in.do(env)
}

// parse reads the options and an init-script verb over the defaults and
// $HA_DIR, $HA_VARLIB, $HA_CTLSOCK; a non-empty message is a usage error.
func parse(env *cli.Env, args []string) (*invocation, string) {
	in := &invocation{o: options{dir: conf.DefaultDir, varlib: DefaultVarLib, pidfile: DefaultPidFile, ctlsock: control.DefaultSocket}}
	if d := env.Getenv(conf.DirEnv); d != "" {
		in.o.dir = d
	}
	if d := env.Getenv("HA_VARLIB"); d != "" {
		in.o.varlib = d
	}
	if s := env.Getenv("HA_CTLSOCK"); s != "" {
		in.o.ctlsock = s
	}
	a := cli.NewArgs(args)
	for a.Next() {
		if msg := in.option(a); msg != "" {
			return nil, msg
		}
	}
	if err := a.Err(); err != nil {
		return nil, err.Error()
	}
	if rest := a.Rest(); len(rest) > 0 {
		if msg := in.verb(rest); msg != "" {
			return nil, msg
		}
		args = args[:len(args)-1] // a detaching start re-executes without the verb
	}
	if in.o.otherHost && in.mode != "-t" && in.mode != "--check" {
		return nil, "--other-host goes with -t"
	}
	in.o.node = nodeName(env)
	in.o.args = args
	return in, ""
}

// option applies the current option of a; a non-empty message is a usage
// error.
func (in *invocation) option(a *cli.Args) string {
	o := &in.o
	var err error
	switch a.Opt() {
	case "-f":
		o.foreground = a.Flag()
	case "-d":
		if a.Flag() {
			o.debug++
		}
	case "-c":
		o.dir, err = a.Value()
	case "-l":
		o.varlib, err = a.Value()
	case "-p":
		o.pidfile, err = a.Value()
	case "-S":
		o.ctlsock, err = a.Value()
	case "-R":
		o.restart = a.Flag()
	case "--other-host":
		o.otherHost = a.Flag()
	case "-C":
		o.held, err = a.Value()
	case "-t", "--check", "-k", "-s", "-r", "-V", "-D", "--version":
		if !a.Flag() {
			break
		}
		if in.mode != "" {
			return "only one of -t -k -s -r -V -D"
		}
		in.mode = a.Opt()
	default:
		return a.Unknown()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// verb applies the init-script verb that ends the command line (rest is
// what follows the options); a non-empty message is a usage error.
func (in *invocation) verb(rest []string) string {
	mode, ok := initVerbs[rest[0]]
	switch {
	case !ok:
		return "unexpected argument " + rest[0] + " (verbs: start stop status restart reload)"
	case len(rest) > 1:
		return "unexpected argument " + rest[1]
	case in.mode != "":
		return in.mode + " and " + rest[0] + " given"
	}
	in.mode, in.restart = mode, rest[0] == "restart"
	return ""
}

// do performs the action and returns the exit code.
func (in *invocation) do(env *cli.Env) int {
	o := &in.o
	switch in.mode {
	case "-V":
		env.Out(Version, "\n") // exactly 3.0.6's line: scripts parse it
		return 0
	case "--version":
		env.Out(Version, "\nhabox ", cli.Version, "\n")
		return 0
	case "-D":
		if err := conf.DefaultsTable(env.Stdout); err != nil {
			return cli.Fail(env, "heartbeat", err, 1)
		}
		return 0
	case "-t", "--check":
		c, ok := check(env, o)
		if !ok || !checkThisHost(env, o, c) {
			return 1
		}
		c.WriteEffective(env.Stdout)
		return 0
	case "-k":
		rc := kill(env, o)
		if rc != 0 || !in.restart {
			return rc
		}
	case "-s":
		return status(env, o)
	case "-r":
		return reload(env, o)
	}
	return start(env, o, o.args)
}

// initVerbs maps the init-script verbs (the guide's
// "/etc/ha.d/heartbeat start" in rc.local) to the options they stand for;
// restart is -k followed by a start.
var initVerbs = map[string]string{"start": "", "stop": "-k", "status": "-s", "restart": "-k", "reload": "-r", "force-reload": "-r"}

// nodeName is uname -n lower-cased, or $HA_NODENAME.
func nodeName(env *cli.Env) string {
	if n := env.Getenv("HA_NODENAME"); n != "" {
		return strings.ToLower(n)
	}
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return strings.ToLower(h)
}

// check loads and validates the configuration; errors go to stderr.
func check(env *cli.Env, o *options) (*conf.Config, bool) {
	c, err := conf.Load(o.dir, o.node)
	if c != nil {
		for _, w := range c.Warnings {
			env.Err(w.String(), "\n")
		}
	}
	if err != nil {
		env.Err(err.Error(), "\n")
		env.Err("heartbeat: Heartbeat not started: configuration error.\n")
		return c, false
	}
	return c, true
}

// checkThisHost prints what this machine lacks for c: errors, or
// warnings with --other-host. It reports whether c fits.
func checkThisHost(env *cli.Env, o *options, c *conf.Config) bool {
	errs := checkHost(c, newThisHost(o.dir))
	for _, e := range errs {
		if o.otherHost {
			env.Err(e.AsWarning().String(), "\n")
		} else {
			env.Err(e.Error(), "\n")
		}
	}
	if len(errs) > 0 && !o.otherHost {
		env.Err("heartbeat: this machine lacks what the configuration names (for another machine's configuration: heartbeat -t --other-host).\n")
		return false
	}
	return true
}

// readPid returns the pid in the pid file if that process runs.
func readPid(file string) int {
	if pid, alive := pidFile(file); alive {
		return pid
	}
	return 0
}

// pidFile returns the pid a pid file names (0: none or unreadable) and
// whether that process is a running heartbeat.
func pidFile(file string) (pid int, alive bool) {
	b, err := safefile.ReadFile(file, 64)
	if err != nil {
		return 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0, false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return pid, false
	}
	// A recycled pid belonging to some other program is not heartbeat.
	if cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil {
		s := string(cmd)
		if !strings.Contains(s, "heartbeat") && !strings.Contains(s, "habox") {
			return pid, false
		}
	}
	return pid, true
}

func kill(env *cli.Env, o *options) int {
	pid := readPid(o.pidfile)
	if pid == 0 {
		env.Err("INFO: Heartbeat already stopped.\n")
		return 0
	}
	// The limit may be in ha.cf (env line); a configuration that does not
	// load does not stop -k.
	var hc *conf.HaCf
	if f, err := os.Open(filepath.Join(o.dir, "ha.cf")); err == nil {
		hc, _, _ = conf.ParseHaCf(f.Name(), f)
		f.Close()
	}
	limit, warn := envTime(env, hc, conf.KillTimeoutEnv, DefaultKillTimeout)
	if warn != "" {
		env.Err("heartbeat: ", warn, "\n")
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return cli.Fail(env, "heartbeat", cli.Wrap("kill "+strconv.Itoa(pid), err), 1)
	}
	end := time.Now().Add(limit)
	for syscall.Kill(pid, 0) == nil && !isZombie(pid) {
		if time.Now().After(end) {
			env.Err("heartbeat: pid ", strconv.Itoa(pid), " still running after ", strconv.FormatFloat(limit.Seconds(), 'g', -1, 64),
				" s (", conf.KillTimeoutEnv, "): resources may still be stopping, see its log\n")
			return 1
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}

func status(env *cli.Env, o *options) int {
	pid := readPid(o.pidfile)
	if pid == 0 {
		env.Out("heartbeat is stopped. No process\n")
		return 1
	}
	h, _ := os.Hostname()
	env.Out("heartbeat OK [pid ", strconv.Itoa(pid), " et al] is running on ", h, " [", o.node, "]...\n")
	// Media that cannot be opened are failed links, said here too.
	if snap, err := control.Query(o.ctlsock, control.Request{Verb: "snapshot"}); err == nil {
		names := make([]string, 0, len(snap.Failed))
		for l := range snap.Failed {
			names = append(names, l)
		}
		cli.Sort(names)
		for _, l := range names {
			env.Out("heartbeat link ", l, " FAILED: ", snap.Failed[l], "\n")
		}
	}
	return 0
}

func reload(env *cli.Env, o *options) int {
	if _, ok := check(env, o); !ok {
		return 1
	}
	pid := readPid(o.pidfile)
	if pid == 0 {
		env.Err("heartbeat: not running.\n")
		return 1
	}
	env.Err("heartbeat: Signalling heartbeat pid ", strconv.Itoa(pid), " to reread config files\n")
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		return cli.Fail(env, "heartbeat", err, 1)
	}
	return 0
}

// start validates, refuses a second instance, daemonizes (unless -f) and
// runs the node.
func start(env *cli.Env, o *options, args []string) int {
	trace.Open(env.Getenv(trace.EnvVar))
	trace.Mark("start", "")
	child := env.Getenv(strings.SplitN(daemonMarker, "=", 2)[0]) != ""
	// The process that will run the node parses its configuration in the
	// real-time class already (realtime is on by default): on a busy
	// machine that parse is the slowest step before the first heartbeat.
	// Undone below when ha.cf says realtime off; a failure is logged by
	// the daemon's own attempt later.
	early := (o.foreground || child) && sched.SetRR(0) == nil
	c, ok := check(env, o)
	trace.Mark("config", "")
	if early && (c == nil || !c.HaCf.Realtime) {
		sched.SetOther()
	}
	if !ok {
		return 1
	}
	pid, alive := pidFile(o.pidfile)
	if alive && pid != os.Getpid() {
		env.Err("heartbeat: already running [pid ", strconv.Itoa(pid), "].\n")
		return 0
	}
	if pid != 0 {
		// Left by a process that was killed or crashed (a clean end and a
		// re-execution remove it); our own pid: recycled after a reboot
		// with /var/run kept.
		o.unclean = pid
	}
	if !o.foreground && !child {
		return daemonize(env, args)
	}
	var ready io.WriteCloser
	if child {
		ready = os.NewFile(3, "ready")
	}
	d, err := newDaemon(env, *o, c)
	if err == nil {
		err = writePid(o.pidfile)
	}
	if d != nil {
		if gerr := d.generationSaved(); err == nil {
			err = gerr
		}
	}
	if err != nil {
		if ready != nil {
			io.WriteString(ready, err.Error()+"\n")
			ready.Close()
		}
		env.Err("heartbeat: ", err.Error(), "\n")
		if d != nil {
			d.close()
		}
		return 1
	}
	defer os.Remove(o.pidfile)
	trace.Mark("persisted", "")
	if ready != nil {
		io.WriteString(ready, "ok\n")
		ready.Close()
	}
	return d.run()
}

// writePid replaces the pid file atomically, never through a planted link.
func writePid(file string) error {
	return safefile.Replace(file, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
}

// daemonize re-executes the binary in a new session (Go cannot fork) with
// a marker in the environment and waits until the child wrote its pid
// file (it then prints "ok" on fd 3) or failed.
func daemonize(env *cli.Env, args []string) int {
	exe, err := os.Executable()
	if err != nil {
		return cli.Fail(env, "heartbeat", err, 1)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return cli.Fail(env, "heartbeat", err, 1)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return cli.Fail(env, "heartbeat", err, 1)
	}
	envv := append(append([]string(nil), env.Environ...), daemonMarker)
	p, err := os.StartProcess(exe, append([]string{"heartbeat"}, args...), &os.ProcAttr{
		Dir:   "/",
		Env:   envv,
		Files: []*os.File{null, null, null, w},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	w.Close()
	null.Close()
	if err != nil {
		r.Close()
		return cli.Fail(env, "heartbeat", err, 1)
	}
	b, _ := io.ReadAll(io.LimitReader(r, 4096))
	r.Close()
	msg := strings.TrimSpace(string(b))
	if msg == "ok" {
		p.Release()
		return 0
	}
	if msg == "" {
		msg = "daemon exited during start-up"
	}
	env.Err("heartbeat: ", msg, "\n")
	p.Wait()
	return 1
}
