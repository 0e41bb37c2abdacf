package resources

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"habox/applets/internal/hblog"
	"habox/applets/trace"
	"habox/conf"
)

// Logger is the part of hblog's *Logger the runner uses.
type Logger interface {
	Info(msg string)
	Warn(msg string)
	Error(msg string)
	Crit(msg string)
	Debug(level int, msg string)
	// Tagged logs a script's line under the script's own tag, as the
	// resource agents' ocf_log does (text carries its level word).
	Tagged(tag string, p hblog.Priority, text string)
}

// Exec runs one resource script action (RunProcess, or a fake in tests).
type Exec func(p Process) (Outcome, error)

// Runner executes Manager jobs: ResourceManager's takegroup and givegroup
// (spec 2.4-2.8) without a shell. It is safe to call Run from one
// goroutine at a time (the Manager never runs two jobs at once).
type Runner struct {
	// Groups are the haresources groups by key.
	Groups map[string]conf.Group
	// ResourceDir is $HA_DIR/resource.d; InitDirs the init script
	// directories searched after it (default: the first existing of
	// /etc/init.d, /etc/rc.d/init.d, /sbin/init.d, /usr/local/etc/rc.d,
	// /etc/rc.d, as 3.0.6's build chose).
	ResourceDir string
	InitDirs    []string
	// Self is the habox executable: the built-in resources (IPaddr,
	// IPv6addr) run it with argv[0] set to their name, unless ResourceDir
	// holds a user script of that name (which wins).
	Self string
	// Env is the environment of every script (the HA_* variables of 5.10).
	Env []string
	Log Logger
	// StopRetries is HA_STOPRETRYMAX (default 10), RetryDelay the pause
	// between stop attempts (default 1 s).
	StopRetries int
	RetryDelay  time.Duration
	// StopFailed is called when a stop failed and status says the
	// resource still runs: 3.0.6 reboots here. The daemon fences (see
	// fence.go). Nil: only logged.
	StopFailed func(resource string)
	// Timeout bounds every script action (HABOX_RSC_TIMEOUT; 0 means
	// DefaultTimeout): a start that runs out of time failed, a stop that
	// does is not retried and takes the stop-failure path.
	Timeout time.Duration
	// Exec runs a script; nil = os.StartProcess (RunProcess).
	Exec Exec
	// Builtins are the applets (IPaddr, IPv6addr) run in this process,
	// without fork and exec, when the script is habox's own (see
	// inProcess). Nil: every script runs through Exec.
	Builtins map[string]AppletRun
}

// errNotFound is run's error for a script that Locate does not find.
var errNotFound = errors.New("resource script not found")

// defaultInitDirs are the init directories 3.0.6's configure considered;
// Runner.InitDirs nil means the first of them that exists.
var defaultInitDirs = []string{"/etc/init.d", "/etc/rc.d/init.d", "/sbin/init.d", "/usr/local/etc/rc.d", "/etc/rc.d"}

// Run executes a job and returns its result: the keys whose step failed.
func (r *Runner) Run(j *Job) Result {
	res := Result{ID: j.ID}
	for _, s := range j.Steps {
		if s.Note != "" {
			r.Log.Info(s.Note)
		}
		var ok bool
		switch s.Op {
		case Take:
			ok = r.TakeGroup(s.Key)
		case Give:
			ok = r.GiveGroup(s.Key)
		case Idle:
			ok = r.IdleGroup(s.Key)
		default:
			ok = r.RefreshGroup(s.Key)
		}
		if !ok {
			res.Failed = append(res.Failed, s.Key)
		}
	}
	return res
}

func groupLine(g conf.Group) string {
	parts := []string{g.Node}
	for _, rs := range g.Resources {
		parts = append(parts, rs.Text)
	}
	return strings.Join(parts, " ")
}

// TakeGroup starts a group left to right, skipping resources already
// running. On the first failure the whole group is stopped.
func (r *Runner) TakeGroup(key string) bool {
	g, ok := r.Groups[key]
	if !ok {
		r.Log.Error("Cannot locate resource group " + key)
		return false
	}
	r.Log.Info("Acquiring resource group: " + groupLine(g))
	for _, rs := range g.Resources {
		if r.Owned(rs) {
			continue
		}
		if !r.action(rs, "start") {
			r.Log.Crit("Giving up resources due to failure of " + rs.Text)
			r.GiveGroup(key)
			return false
		}
	}
	return true
}

// RefreshGroup announces the address resources of a group again (IPaddr,
// IPv6addr: gratuitous ARP or unsolicited neighbour advertisements, the
// address staying in place) and leaves the others alone.
func (r *Runner) RefreshGroup(key string) bool {
	g, ok := r.Groups[key]
	if !ok {
		r.Log.Error("Cannot locate resource group " + key)
		return false
	}
	all := true
	for _, rs := range g.Resources {
		if !Builtin(rs.Script) {
			continue
		}
		r.Log.Info("Announcing " + rs.Text + " again")
		if !r.announce(rs) {
			all = false
		}
	}
	return all
}

// announce makes the address of rs known again: habox's IPaddr/IPv6addr
// (built in, or linked into resource.d) re-send their announcements
// without touching the address; a user's own script is restarted.
func (r *Runner) announce(rs conf.Resource) bool {
	path, builtin, ok := r.Locate(rs.Script)
	if ok && (builtin || sameFile(path, r.Self)) {
		return r.action(rs, "announce")
	}
	return r.action(rs, "stop") && r.action(rs, "start")
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// GiveGroup stops a group right to left whatever its state, retrying
// failed stops. A stop that ran out of time is not retried (the script
// hangs; each try would cost the whole timeout again).
func (r *Runner) GiveGroup(key string) bool {
	g, ok := r.Groups[key]
	if !ok {
		r.Log.Error("Cannot locate resource group " + key)
		return false
	}
	r.Log.Info("Releasing resource group: " + groupLine(g))
	all := true
	retries, delay := r.StopRetries, r.RetryDelay
	if retries <= 0 {
		retries = 10
	}
	if delay <= 0 {
		delay = time.Second
	}
	for i := len(g.Resources) - 1; i >= 0; i-- {
		rs := g.Resources[i]
		o, err := r.run(rs, "stop", true)
		if err == errNotFound {
			// Nothing to retry, and nothing that could be running.
			r.Log.Error("Resource script " + rs.Script + " not found: " + rs.Text + " cannot be running; continuing with resource release.")
			continue
		}
		for n := 0; !succeeded(o, err) && !o.TimedOut && n < retries; n++ {
			time.Sleep(delay)
			r.Log.Info("Retrying failed stop operation [" + rs.Text + "]")
			o, err = r.run(rs, "stop", true)
		}
		if succeeded(o, err) {
			continue
		}
		// After a stop that hung, a status that hangs too proves nothing:
		// the resource may still run.
		if owned, sure := r.status(rs); owned || !sure {
			all = false
			r.Log.Crit("Resource STOP failure. Reboot required!")
			r.Log.Crit("Killing heartbeat ungracefully!")
			if r.StopFailed != nil {
				r.StopFailed(rs.Text)
			}
			continue
		}
		r.Log.Error("Resource script for " + rs.Text + " probably not LSB-compliant.")
		r.Log.Warn("It (" + rs.Text + ") did not report success on stop, but status says it is not running.")
		r.Log.Info("Continuing with resource release.")
	}
	return all
}

// IdleGroup releases a group if any of its resources runs (a status that
// hangs counts as running): what 3.0.6's "ResourceManager verifyallidle"
// checks, and Debian's init script runs before heartbeat starts, with its
// warning. The daemon runs it first after its predecessor ended without
// releasing (killed or crashed, perhaps halfway through a start or stop).
func (r *Runner) IdleGroup(key string) bool {
	g, ok := r.Groups[key]
	if !ok {
		r.Log.Error("Cannot locate resource group " + key)
		return false
	}
	for _, rs := range g.Resources {
		if owned, sure := r.status(rs); owned || !sure {
			r.Log.Crit("Resource " + rs.Text + " is active, and should not be!")
			r.Log.Crit("Non-idle resources can affect data integrity!")
			return r.GiveGroup(key)
		}
	}
	return true
}

// Owned runs "status" and interprets stdout as ResourceManager does (spec 2.6).
func (r *Runner) Owned(rs conf.Resource) bool {
	owned, _ := r.status(rs)
	return owned
}

// status is Owned that also says whether the answer is sure: a status
// that ran out of time is not.
func (r *Runner) status(rs conf.Resource) (owned, sure bool) {
	o, err := r.run(rs, "status", false)
	if o.TimedOut {
		return false, false
	}
	return err == nil && StatusOwned(o.Stdout), true
}

// StatusOwned interprets a status script's stdout (spec 2.6): "not
// running" (any case of N/O/T, R) means no; "running" or "OK" means yes;
// anything else no.
func StatusOwned(out string) bool {
	if globNotRunning(out) {
		return false
	}
	return containsRunning(out) || strings.Contains(out, "OK")
}

// containsRunning matches *[Rr]unning*.
func containsRunning(s string) bool {
	return strings.Contains(s, "Running") || strings.Contains(s, "running")
}

// globNotRunning matches *[Nn][Oo][Tt] *[Rr]unning*: "not", then any
// text beginning with a space, then [Rr]unning.
func globNotRunning(s string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if !(s[i] == 'N' || s[i] == 'n') || !(s[i+1] == 'O' || s[i+1] == 'o') || !(s[i+2] == 'T' || s[i+2] == 't') {
			continue
		}
		rest := s[i+3:]
		if len(rest) == 0 || rest[0] != ' ' {
			continue
		}
		if containsRunning(rest) {
			return true
		}
	}
	return false
}

func (r *Runner) action(rs conf.Resource, act string) bool {
	return succeeded(r.run(rs, act, true))
}

func succeeded(o Outcome, err error) bool { return err == nil && !o.TimedOut && o.Code == 0 }

// Locate finds a resource script: resource.d first, then the init
// directories. IPaddr without a user script is the habox binary itself.
func (r *Runner) Locate(script string) (path string, builtin bool, ok bool) {
	dirs := append([]string{r.ResourceDir}, r.initDirs()...)
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, script)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, false, true
		}
		if d == r.ResourceDir && Builtin(script) && r.Self != "" {
			return r.Self, true, true
		}
	}
	if Builtin(script) && r.Self != "" {
		return r.Self, true, true
	}
	return "", false, false
}

// Builtin reports whether a resource script is an applet of the habox
// binary (IPaddr, IPv6addr).
func Builtin(script string) bool { return script == "IPaddr" || script == "IPv6addr" }

func (r *Runner) initDirs() []string {
	if r.InitDirs != nil {
		return r.InitDirs
	}
	for _, d := range defaultInitDirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return []string{d}
		}
	}
	return nil
}

func (r *Runner) run(rs conf.Resource, act string, logRun bool) (Outcome, error) {
	path, builtin, ok := r.Locate(rs.Script)
	if !ok {
		r.Log.Error("Cannot locate resource script " + rs.Script)
		return Outcome{Code: 1}, errNotFound
	}
	argv := []string{path}
	if builtin {
		argv[0] = rs.Script
	}
	argv = append(argv, rs.Args...)
	argv = append(argv, act)
	shown := path
	if builtin {
		shown = filepath.Join(r.ResourceDir, rs.Script)
	}
	cmdline := shown + " " + strings.Join(append(append([]string(nil), rs.Args...), act), " ")
	if logRun {
		r.Log.Info("Running " + cmdline)
	}
	ex := r.Exec
	if ex == nil {
		ex = RunProcess
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if trace.On() {
		trace.Mark("run", rs.Script+" "+act)
	}
	var o Outcome
	var err error
	if run := r.inProcess(rs.Script, path, builtin); run != nil {
		o = RunInProcess(run, argv, r.Env, timeout)
	} else {
		o, err = ex(Process{Path: path, Argv: argv, Env: r.Env, Timeout: timeout})
	}
	if trace.On() {
		trace.Mark("ran", rs.Script+" "+act)
	}
	r.logStderr(rs, o, logRun && (err != nil || o.Code != 0 || o.TimedOut))
	if o.Truncated {
		r.Log.Warn("Output of " + cmdline + " truncated: kept the first 1 MiB of stdout and the last " +
			strconv.Itoa(MaxStderrLines) + " lines of stderr")
	}
	if o.TimedOut {
		r.Log.Error(cmdline + " timed out after " + strconv.FormatFloat(timeout.Seconds(), 'g', -1, 64) + " s (HABOX_RSC_TIMEOUT): its process group was killed")
	}
	if err != nil {
		r.Log.Error("Cannot run " + shown + ": " + err.Error())
		o.Code = 1
		return o, err
	}
	if o.Code != 0 && logRun && !o.TimedOut {
		r.Log.Error("Return code " + strconv.Itoa(o.Code) + " from " + shown)
	}
	return o, nil
}

// logStderr logs a script's stderr lines under its tag: "IPaddr(IPaddr_
// 10.0.0.5)[pid]" for IPaddr and IPv6addr (3.0.6's OCF_RESOURCE_INSTANCE;
// built in, linked into resource.d or 3.0.6's own wrapper alike),
// "script[pid]" otherwise. A line that starts with an ocf_log level word
// (INFO:, WARNING:, ERROR:, ...) is logged at that level; the others at
// ERROR when the action failed (status excepted: its exit code is an
// answer), else at debug.
func (r *Runner) logStderr(rs conf.Resource, o Outcome, failed bool) {
	if len(o.Stderr) == 0 {
		return
	}
	tag := rs.Script
	if Builtin(rs.Script) && len(rs.Args) > 0 {
		ip, _, _ := strings.Cut(rs.Args[0], "/")
		tag += "(" + rs.Script + "_" + ip + ")"
	}
	tag += "[" + strconv.Itoa(o.Pid) + "]"
	for _, l := range o.Stderr {
		p, ok := ocfLevel(l)
		switch {
		case ok:
		case failed:
			p, l = hblog.Err, "ERROR: "+l
		default:
			p = hblog.DebugPri
		}
		r.Log.Tagged(tag, p, l)
	}
}

// ocfLevel reads the level word ocf_log and ha_log put first on a line.
func ocfLevel(line string) (hblog.Priority, bool) {
	word, _, ok := strings.Cut(line, ":")
	if !ok {
		return 0, false
	}
	switch word {
	case "CRIT":
		return hblog.Crit, true
	case "ERROR":
		return hblog.Err, true
	case "WARNING", "WARN":
		return hblog.Warning, true
	case "INFO", "info":
		return hblog.InfoPri, true
	case "DEBUG", "debug":
		return hblog.DebugPri, true
	}
	return 0, false
}
