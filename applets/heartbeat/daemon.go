package heartbeat

import (
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"habox/applets/cli"
	"habox/applets/heartbeat/media"
	"habox/applets/heartbeat/membership"
	"habox/applets/heartbeat/resources"
	"habox/applets/heartbeat/respawn"
	"habox/applets/heartbeat/uplink"
	"habox/applets/internal/hblog"
	"habox/applets/internal/wire"
	"habox/applets/ipaddr"
	"habox/applets/trace"
	"habox/conf"
	"habox/hw/entropy"
	"habox/hw/netlink"
	"habox/hw/reboot"
	"habox/hw/sched"
	"habox/hw/timerfd"
	"habox/hw/watchdog"
)

// watchdogDev is the part of *watchdog.Watchdog the daemon uses.
type watchdogDev interface {
	Feed() error
	SetTimeout(d time.Duration) error
	MagicClose() error
	Close() error
}

// daemon is one running node. Everything below is owned by the event loop
// goroutine (run); other goroutines talk to it over channels only.
type daemon struct {
	env  *cli.Env
	o    options
	cfg  *conf.Config
	hc   *conf.HaCf
	self string
	log  *hblog.Logger

	keys   *wire.Keyring
	eng    *wire.Engine
	mem    *membership.Membership
	rsc    *resources.Manager
	runner *resources.Runner
	media  []media.Medium
	serial bool
	wd     watchdogDev
	wdPath string
	fenced bool
	ctl    interface{ Close() error }
	// runJob starts a resource job; its result comes back as an evJob
	// event (real: runJobAsync). openWD opens a watchdog device (real:
	// watchdog.Open). openProber opens the ping nodes' echo socket (real:
	// listenPings); newTimer makes the uplink timer (real: newUpTimer);
	// watchLinks subscribes to link changes, whose carrier changes of
	// tracked interfaces watchCarrier forwards (real: netlink.WatchLinks;
	// the simulator's returns no watcher and steps carrier events in);
	// exec replaces the process with heartbeat -f and extra options, and
	// returns only on failure (real: reexec). The simulator replaces them.
	runJob     func(*resources.Job)
	openWD     func(path string) (watchdogDev, error)
	openProber func() (prober, error)
	newTimer   func() oneShot
	watchLinks func() (*netlink.Watcher, error)
	exec       func(extra ...string)

	clk         Clock
	tnow        time.Duration // Mono at the start of this loop turn
	twall       time.Time     // Wall at the start of this loop turn
	pkts        chan media.Packet
	jobs        chan resources.Result
	reqs        chan func()
	sigs        chan os.Signal
	local       string        // own status: init, up, active
	boostUntil  time.Duration // dt = deadtime+2000 until then
	boosted     bool
	waitRep     bool // comm up, waiting for repnodes
	active      bool
	loopback    []*wire.Msg
	exiting     bool
	exitAt      time.Duration
	exitCode    int
	restartExec bool
	lastRR      time.Duration
	rrThreads   int // threads when SetRR last ran
	badLimit    *hblog.Limiter
	badCount    uint64 // every dropped packet below, but duplicates
	drops       drops
	bigTokens   float64       // allowBig's bucket, in bytes
	bigLast     time.Duration // its last refill
	shutdownReq bool
	stopped     chan struct{} // closed when the event loop ended
	mtimes      map[string]time.Time
	closed      bool
	// reloadPending: ha.cf changed, restart when resources are quiet.
	reloadPending bool
	genGuessed    bool // the 3.0.6 generation fallback ran
	genCritLogged bool

	respawns *respawn.Supervisor // nil without respawn lines
	children []*childProc
	up       *uplinkState // ping nodes, carrier, ipfail policy; nil if none
	pings    chan pingReply
	carriers chan carrierEvent
	upTimer  <-chan time.Time
	heard    map[string]time.Time // last packet per peer, kept only when tracing
	genSaved chan error           // the generation's write; nil once waited for

	// deadline wakes the loop when the earliest dead timer of membership
	// runs out (membership.Next), precisely: the periodic tick alone would
	// add up to a tick interval to every failure detection.
	deadline oneShot       // nil: only the periodic tick
	dlAt     time.Duration // instant it is armed for
	dlArmed  bool
}

// now is the monotonic time since start, as of the start of this loop
// turn (see turn).
func (d *daemon) now() time.Duration { return d.tnow }

// timerNow is now as a time.Time for the wire engine's timers
// (retransmission, throttling, reqnodes): monotonic, never stepped; only
// differences of it mean anything.
func (d *daemon) timerNow() time.Time { return timerEpoch.Add(d.tnow) }

// timerEpoch is the origin of timerNow.
var timerEpoch = time.Unix(1<<30, 0)

// wall is the wall clock as of the start of this loop turn.
func (d *daemon) wall() time.Time { return d.twall }

// instant is the system time at which the clock read mono (for traces).
func (d *daemon) instant(mono time.Duration) time.Time {
	return time.Now().Add(mono - d.clk.Mono())
}

// turn starts an event-loop turn: it reads the clock once.
func (d *daemon) turn() { d.tnow, d.twall = d.clk.Mono(), d.clk.Wall() }

// memLimit is the Go runtime's soft memory limit in the daemon (unless
// GOMEMLIMIT is set): the heap is collected before the runtime's memory
// passes it, so a packet flood cannot grow the (locked) RSS (without a
// limit: up to 10.4 MiB in TestFaultHostileFlood). It needs headroom over
// the daemon's own footprint: at 6 MiB the runtime returned pages to the
// kernel and re-faulted them on every GC cycle of a 10,000 pps flood
// (perf stat over 10 s: 61,741 page faults, 3.73 s CPU; TestFaultFlood
// failed its 50% bound under load); at 8 MiB: 5,483 faults, 2.61 s, RSS
// 6.4 MiB (no limit: 684, 2.47 s; 10 MiB: RSS 8.7 MiB).
const memLimit = 8 << 20

func newDaemon(env *cli.Env, o options, c *conf.Config) (*daemon, error) {
	if env.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memLimit)
	}
	hc := c.HaCf
	debug := hc.Debug + o.debug
	var stderr = env.Stderr
	if !o.foreground {
		stderr = nil
	}
	// No log target: 3.0.6 hands its lines to ha_logd, whose defaults are
	// files and a facility that habox writes itself.
	hc.Logfile, hc.Debugfile, hc.Logfacility = hc.LogTargets()
	lg, err := hblog.New(hblog.Options{Logfile: hc.Logfile, Debugfile: hc.Debugfile, Facility: hc.Logfacility,
		SyslogMsgFmt: hc.SyslogMsgFmt, Node: o.node, Debug: debug, Stderr: stderr, Fallback: env.Stderr})
	if err != nil {
		return nil, err
	}
	clk := &realClock{t0: time.Now(), off: &clockOffset{path: env.Getenv("HABOX_CLOCK_OFFSET_FILE")}}
	d, err := newCore(env, o, c, lg, clk)
	if err == nil {
		err = d.openIO()
	}
	return d, err
}

// newCore builds a node on clk without touching the world beyond its
// state directory (o.varlib): no media, uplink, watchdog or control
// socket yet (openIO), resource jobs on the real runner.
func newCore(env *cli.Env, o options, c *conf.Config, lg *hblog.Logger, clk Clock) (*daemon, error) {
	hc := c.HaCf
	self := o.node
	if len(c.HaCf.Nodes) > 0 {
		// conf resolved nodeinfo; find ourselves among the nodes.
		if n := c.LocalNode; n != "" {
			self = n
		}
	}
	d := &daemon{env: env, o: o, cfg: c, hc: hc, self: self, log: lg, clk: clk,
		pkts: make(chan media.Packet, pktQueue), jobs: make(chan resources.Result, 4),
		reqs: make(chan func(), 16), sigs: make(chan os.Signal, 8), local: membership.Init,
		stopped:  make(chan struct{}),
		badLimit: hblog.NewLimiter(5, time.Minute)}
	d.turn()
	var err error
	d.runJob = d.runJobAsync
	d.openWD = openWatchdogDev
	d.openProber, d.newTimer, d.watchLinks, d.exec = d.listenPings, d.newUpTimer, netlink.WatchLinks, d.reexec
	for _, w := range c.Warnings {
		lg.Warn(w.Msg)
	}
	// What `heartbeat -t` refuses for this machine: said once at start,
	// rather than only at takeover.
	for _, e := range checkHost(c, newThisHost(o.dir)) {
		lg.Warn(e.Error())
	}
	lg.Info("**************************")
	lg.Info("Configuration validated. Starting heartbeat 3.0.6")
	lg.Info("heartbeat: version 3.0.6")

	d.realtime() // before the rest of the start-up: it runs in time on a busy machine
	d.warnVolatileState()
	var gen uint64
	if hc.HbGenMethod == "time" {
		gen = wire.TimeGeneration(d.wall())
	} else {
		var logs []wire.LogLine
		gen, logs = wire.PeekGeneration(o.varlib, d.wall())
		d.wireLogs(logs)
		// Written (fsync'd) while the media and sockets open; start waits
		// for it (generationSaved) before anything is sent.
		saved := make(chan error, 1)
		d.genSaved = saved
		if _, real := clk.(*realClock); real {
			go func(dir string) { saved <- wire.SaveGeneration(dir, gen) }(o.varlib)
		} else {
			saved <- wire.SaveGeneration(o.varlib, gen) // a simulated node: in step order
		}
	}
	trace.Mark("generation", "")
	lg.Info("Heartbeat generation: " + strconv.FormatUint(gen, 10))
	// A UUID must be unique, not secret: never wait seconds for the pool
	// after a boot (it is generated at every boot when the state is on tmpfs).
	rnd := o.entropy
	if rnd == nil {
		rnd = entropy.Unique
	}
	uuid, logs, err := wire.LoadUUID(o.varlib, rnd)
	d.wireLogs(logs)
	if err != nil {
		lg.Error("Cannot write uuid file: " + err.Error())
		return d, err
	}
	if d.keys, err = wire.NewKeyring(c.Auth); err != nil {
		return d, err
	}
	var pingNames []string
	for _, p := range hc.PingNodes {
		pingNames = append(pingNames, p.Name)
	}
	load := o.load
	if load == nil {
		load = loadAvg
	}
	d.eng = wire.NewEngine(wire.Config{Node: self, UUID: uuid, Gen: gen, Nodes: hc.Nodes, PingNodes: pingNames,
		TTL: hc.HopFudge + len(hc.Nodes) + len(pingNames), InnerAuth: hc.MsgFmt != "netstring", Keys: d.keys,
		MaxRexmitDelay: hc.MaxRexmitDelay, Load: load, Wall: d.wall, Rand: o.rand})

	var links []string
	for _, m := range hc.Media {
		links = append(links, m.Name())
	}
	d.mem = membership.New(membership.Config{Self: self, Nodes: hc.Nodes, Links: links,
		Deadtime: hc.Deadtime, Warntime: hc.Warntime, Initdead: hc.Initdead, Keepalive: hc.Keepalive}, 0)
	held, _ := resources.ParseHold(o.held)
	d.rsc = resources.New(resources.Config{Self: self, Nodes: hc.Nodes, Groups: c.Resources.Groups,
		Mode: hc.AutoFailback, Deadtime: hc.Deadtime, Pid: os.Getpid(), Restarted: o.restart, Held: held}, d.mem)
	d.mtimes = configTimes(o.dir)
	d.runner = d.newRunner()
	if len(hc.Respawns) > 0 {
		d.respawns = respawn.New(hc.Respawns, d.startRespawn)
	}
	return d, nil
}

// openIO opens the node's media, uplink, watchdog and control socket and
// sets the real-time policy.
func (d *daemon) openIO() error {
	hc, lg := d.hc, d.log

	ifWait, warn := envTime(d.env, hc, conf.IfWaitEnv, media.DefaultIfaceWait)
	if warn != "" {
		lg.Warn(warn)
	}
	for _, m := range hc.Media {
		md, err := media.OpenWith(m, lg, media.Options{IfaceWait: ifWait})
		if err != nil {
			lg.Error(err.Error())
			return err
		}
		d.media = append(d.media, md)
		if md.Text() {
			d.serial = true
		}
	}
	trace.Mark("media", "")
	if err := d.openUplink(); err != nil {
		lg.Error(err.Error())
		return err
	}
	d.openWatchdog()
	trace.Mark("watchdog", "")
	if err := d.serveControl(); err != nil {
		lg.Error("Cannot open control socket " + d.o.ctlsock + ": " + err.Error())
		return err
	}
	trace.Mark("control", "")
	return nil
}

// generationSaved waits until the new generation is on disk (it must be
// before any packet carries it) and logs a failure as 3.0.6 does.
func (d *daemon) generationSaved() error {
	if d.genSaved == nil {
		return nil
	}
	err := <-d.genSaved
	d.genSaved = nil
	if err != nil {
		d.log.Error("Cannot write generation file: " + err.Error())
	}
	return err
}

// newRunner builds the resource runner with the script environment of
// spec 5.10.
func (d *daemon) newRunner() *resources.Runner {
	hc := d.hc
	groups := map[string]conf.Group{}
	for _, g := range d.cfg.Resources.Groups {
		groups[g.Key] = g
	}
	self, _ := os.Executable()
	env := []string{
		"HA_CURHOST=" + d.self,
		"HA_DIR=" + d.o.dir,
		"HA_FUNCS=" + filepath.Join(d.o.dir, "shellfuncs"),
		"HA_DATEFMT=%Y/%m/%d_%T\t",
		"HA_LOGFILE=" + hc.Logfile,
		"HA_DEBUGLOG=" + hc.Debugfile,
		"HA_LOGFACILITY=" + hc.Logfacility,
		"HA_LOGD=no",
		"OCF_ROOT=/usr/lib/ocf",
		"HA_NODENAME=" + d.self,
	}
	if hc.AutoFailback != conf.FailbackLegacy {
		env = append(env, "HA_NICEFAILBACK=yes")
	}
	if hc.Debug > 0 {
		env = append(env, "HA_debug="+strconv.Itoa(hc.Debug))
	}
	for _, kv := range d.env.Environ {
		k := kv
		if i := strings.IndexByte(kv, '='); i >= 0 {
			k = kv[:i]
		}
		switch {
		case k == "PATH", k == "HABOX_RUNDIR", k == trace.EnvVar, k == "LANG", k == "TZ", k == "HOME", k == conf.IfWaitEnv:
			env = append(env, kv)
		}
	}
	if d.env.Getenv("PATH") == "" {
		env = append(env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	}
	for _, kv := range hc.Env {
		env = setEnv(env, kv)
	}
	retries, _ := strconv.Atoi(d.env.Getenv("HA_STOPRETRYMAX"))
	timeout, warn := envTime(d.env, hc, conf.RscTimeoutEnv, resources.DefaultTimeout)
	if warn != "" {
		d.log.Warn(warn)
	}
	return &resources.Runner{Groups: groups, ResourceDir: filepath.Join(d.o.dir, "resource.d"),
		Self: self, Env: env, Log: d.log, StopFailed: d.stopFailed, StopRetries: retries, Timeout: timeout,
		Builtins: map[string]resources.AppletRun{ipaddr.Applet.Name: ipaddr.Applet.Run, ipaddr.IPv6Applet.Name: ipaddr.IPv6Applet.Run}}
}

// setEnv sets NAME=value in env, replacing an earlier NAME.
func setEnv(env []string, kv string) []string {
	name, _, _ := strings.Cut(kv, "=")
	out := env[:0]
	for _, e := range env {
		if n, _, _ := strings.Cut(e, "="); n != name {
			out = append(out, e)
		}
	}
	return append(out, kv)
}

// envTime reads a time variable (conf.RscTimeoutEnv, conf.KillTimeoutEnv)
// from ha.cf's env lines, which win as 3.0.6's setenv makes them win, or
// else from the environment. An invalid value in the environment gives
// def and a warning (ha.cf values were validated by conf).
func envTime(env *cli.Env, hc *conf.HaCf, name string, def time.Duration) (time.Duration, string) {
	v := ""
	if hc != nil {
		v = hc.Getenv(name)
	}
	if v == "" {
		v = env.Getenv(name)
	}
	if v == "" {
		return def, ""
	}
	if t, ok := conf.EnvTime(v); ok {
		return t, ""
	}
	return def, name + "=" + hblog.Quote(v) + " is not a time > 0 (write 60 or 500ms): using " +
		strconv.FormatFloat(def.Seconds(), 'g', -1, 64) + " s"
}

// stopFailed is called (from the runner goroutine) when a resource could
// not be stopped and still runs: 3.0.6 reboots (reboot -nf). habox fences
// with the watchdog when one is configured (stops feeding it: the board
// resets within the watchdog timeout); otherwise it reboots only when
// HA_REBOOT_ON_STOP_FAILURE=yes, else it logs and carries on.
func (d *daemon) stopFailed(rsc string) {
	done := make(chan struct{})
	f := func() {
		defer close(done)
		d.fence(rsc)
	}
	select {
	case d.reqs <- f:
		<-done
	case <-d.stopped:
	}
}

// fence is stopFailed on the event loop.
func (d *daemon) fence(rsc string) {
	if d.wd == nil && d.hc.Watchdog != "" {
		// Closed with the magic character when the shutdown began:
		// arm it again to fence.
		if w, err := d.openWD(d.hc.Watchdog); err == nil {
			secs := (d.hc.Deadtime + 10*time.Millisecond + time.Second - 1) / time.Second
			w.SetTimeout(secs * time.Second)
			w.Feed()
			d.wd, d.wdPath = w, d.hc.Watchdog
		}
	}
	if d.wd != nil {
		// Like 3.0.6's "kill -9 heartbeat; reboot -nf": go silent (the
		// peer declares us dead after deadtime, no shutdone) and let
		// the watchdog reset the machine (its timeout is deadtime+10ms
		// rounded up to seconds).
		d.fenced = true
		d.log.Crit("Fencing this node: heartbeats stopped, watchdog " + d.wdPath + " no longer fed (resource " + rsc + " could not be stopped)")
		return
	}
	if d.env.Getenv("HA_REBOOT_ON_STOP_FAILURE") == "yes" {
		d.log.Crit("Rebooting: resource " + rsc + " could not be stopped")
		d.log.Close()
		if err := reboot.Now(); err != nil {
			d.log.Error("reboot: " + err.Error())
		}
		return
	}
	d.log.Crit("Resource " + rsc + " could not be stopped and no watchdog is configured: not rebooting (set HA_REBOOT_ON_STOP_FAILURE=yes to reboot as 3.0.6 does)")
}

// openWatchdogDev opens a real watchdog device.
func openWatchdogDev(path string) (watchdogDev, error) {
	w, err := watchdog.Open(path)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (d *daemon) openWatchdog() {
	if d.hc.Watchdog == "" {
		return
	}
	w, err := d.openWD(d.hc.Watchdog)
	if err != nil {
		d.log.Error("Cannot open watchdog device: " + d.hc.Watchdog)
		return
	}
	d.wd, d.wdPath = w, d.hc.Watchdog
	d.log.Notice("Using watchdog device: " + d.hc.Watchdog)
	secs := (d.hc.Deadtime + 10*time.Millisecond + time.Second - 1) / time.Second
	if err := w.SetTimeout(secs * time.Second); err != nil {
		d.log.Error("Cannot set watchdog timeout: " + err.Error())
	}
	d.feedWatchdog()
}

func (d *daemon) feedWatchdog() {
	if d.wd == nil || d.fenced {
		return
	}
	if err := d.wd.Feed(); err != nil {
		d.log.Error("Watchdog write failure: closing " + d.wdPath + "!")
		d.wd.Close()
		d.wd = nil
	}
}

func (d *daemon) closeWatchdog() {
	if d.wd == nil || d.fenced {
		return
	}
	d.wd.MagicClose()
	d.wd = nil
}

// spareThreads is how many idle OS threads the daemon starts in the
// real-time class (about 60 KB of memory together).
const spareThreads = 4

// wantRealtime reports whether this node runs in the real-time class: when
// ha.cf asks for it (the default) and the node is on the real clock (a
// simulated node in a test process must not make that process SCHED_RR).
func (d *daemon) wantRealtime() bool {
	_, real := d.clk.(*realClock)
	return real && d.hc.Realtime
}

func (d *daemon) realtime() {
	if !d.wantRealtime() {
		return
	}
	// Threads the runtime would start later under load would not be
	// real-time (SCHED_RESET_ON_FORK): start spares now.
	sched.SpareThreads(spareThreads)
	if err := sched.SetRR(d.hc.Rtprio); err != nil {
		d.log.Warn("Cannot set realtime scheduling (SCHED_RR): " + err.Error())
	}
	if err := sched.LockMemory(); err != nil {
		d.log.Warn("Cannot lock ourselves into memory: " + err.Error())
	}
}

func (d *daemon) close() {
	if d.closed {
		return
	}
	d.closed = true
	d.stopRespawns()
	for _, m := range d.media {
		m.Close()
	}
	d.closeUplink()
	if d.ctl != nil {
		d.ctl.Close()
	}
	d.closeWatchdog()
	d.log.Close()
}

// event is one input of the event loop: exactly one field is set (tick
// and status are the two timers).
type event struct {
	pkt      *media.Packet
	job      *resources.Result
	req      func()
	sig      os.Signal
	status   bool
	tick     bool
	ping     *pingReply
	carrier  *carrierEvent
	deadline bool // the precise dead timer (armDeadline) ran out
	upTimer  bool // the uplink timer (armUplinkTimer) ran out
}

// tickInterval is the period of the tick timer: keepalive/4 within
// [10 ms, 250 ms].
func (d *daemon) tickInterval() time.Duration {
	return min(max(d.hc.Keepalive/4, 10*time.Millisecond), 250*time.Millisecond)
}

// run is the event loop: the real inputs (media, runner, control socket,
// signals, tickers, uplink) turned into events for step.
func (d *daemon) run() int {
	if err := d.generationSaved(); err != nil {
		return 1
	}
	signal.Notify(d.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(d.sigs)
	for _, m := range d.media {
		go m.Run(d.pkts)
	}
	status := time.NewTicker(d.hc.Keepalive)
	tick := time.NewTicker(d.tickInterval())
	defer status.Stop()
	defer tick.Stop()
	var deadline <-chan struct{}
	if tf, err := timerfd.New(); err == nil {
		d.deadline, deadline = tf, tf.C
		defer tf.Close()
	} else {
		d.log.Warn("No precise timer (" + err.Error() + "): dead nodes are detected at the next tick")
	}

	d.begin()
	for {
		var ev event
		select {
		case p := <-d.pkts:
			ev.pkt = &p
		case r := <-d.jobs:
			ev.job = &r
		case f := <-d.reqs:
			ev.req = f
		case s := <-d.sigs:
			ev.sig = s
		case <-status.C:
			ev.status = true
		case <-tick.C:
			ev.tick = true
		case r := <-d.pings:
			ev.ping = &r
		case c := <-d.carriers:
			ev.carrier = &c
		case <-deadline:
			ev.deadline = true
		case <-d.upTimer:
			ev.upTimer = true
		}
		done := d.step(ev)
		if ev.pkt != nil {
			media.Recycle(*ev.pkt) // nothing of p.Data is kept
		}
		if done {
			return d.finish()
		}
	}
}

// begin is the first turn of the event loop. Start-up (5.2): st=init
// with dt = deadtime+2000 for 5 s, then up. After an unclean end of the
// process before us, the first resource job makes every group idle.
func (d *daemon) begin() {
	d.turn()
	if d.o.unclean != 0 && !d.o.restart {
		d.log.Warn("heartbeat [" + strconv.Itoa(d.o.unclean) + "] ended without shutting down: stopping the resources it left running")
		d.rscActs(d.rsc.VerifyIdle())
	}
	d.boostUntil, d.boosted = d.now()+5*time.Second, true
	d.sendStatus()
	trace.Mark("sent", "")
	d.setLocal(membership.Up)
	d.sendStatus()
	d.drain()
}

// step is one turn of the event loop: it handles ev at one instant of the
// clock and reports whether the daemon is done (finish).
func (d *daemon) step(ev event) bool {
	d.turn()
	switch {
	case ev.pkt != nil:
		d.packet(*ev.pkt)
	case ev.job != nil:
		d.rscActs(d.rsc.JobDone(*ev.job, d.now()))
	case ev.req != nil:
		ev.req()
	case ev.sig != nil:
		d.signal(ev.sig)
	case ev.status:
		d.sendStatus()
	case ev.tick:
		d.tick()
	case ev.ping != nil:
		d.pingReplied(*ev.ping)
	case ev.carrier != nil:
		d.uplinkEvents(d.up.tr.Carrier(ev.carrier.ifname, ev.carrier.up, d.now()))
		d.uplinkTick()
	case ev.upTimer:
		d.up.timerOn = false
		d.uplinkTick()
	case ev.deadline:
		d.dlArmed = false
		d.memEvents(d.mem.Tick(d.now()))
	}
	d.armUplinkTimer()
	d.drain()
	d.maybeRestart()
	if d.exiting && d.now() >= d.exitAt {
		return true
	}
	d.armDeadline()
	return false
}

// armDeadline arms the precise timer for membership's earliest dead
// timer when it is earlier than the one armed. A deadline pushed later
// by a heartbeat just makes the armed timer fire early once (Tick finds
// nothing) and be armed again: one timer per dead interval, not one per
// packet.
func (d *daemon) armDeadline() {
	if d.deadline == nil {
		return
	}
	at, ok := d.mem.Next()
	if !ok || d.dlArmed && at >= d.dlAt {
		return
	}
	d.dlAt, d.dlArmed = at, true
	if err := d.deadline.Set(at - d.now()); err != nil {
		d.dlArmed = false
	}
}

func (d *daemon) finish() int {
	close(d.stopped)
	d.log.Info(d.self + " Heartbeat shutdown complete.")
	restart := d.restartExec
	d.close()
	if restart {
		// 3.0.6 re-executes itself after giving everything up (healed
		// partition): same arguments, in the foreground of the process
		// that already detached, with a fresh generation.
		d.exec()
		return 1
	}
	return d.exitCode
}

func (d *daemon) signal(s os.Signal) {
	switch s {
	case syscall.SIGTERM, syscall.SIGINT:
		d.shutdown()
	case syscall.SIGHUP:
		d.reload()
	case syscall.SIGUSR1:
		d.log.SetDebug(d.log.DebugLevel() + 1)
		d.log.Info("debug now set to " + strconv.Itoa(d.log.DebugLevel()))
	case syscall.SIGUSR2:
		if l := d.log.DebugLevel(); l > 0 {
			d.log.SetDebug(l - 1)
		}
		d.log.Info("debug now set to " + strconv.Itoa(d.log.DebugLevel()))
	}
}

// shutdown starts the graceful shutdown of 5.6.
func (d *daemon) shutdown() {
	if d.shutdownReq {
		return
	}
	d.shutdownReq = true
	d.sendStatus()
	acts := d.rsc.Shutdown(d.now())
	for _, a := range acts {
		if a.Kind == resources.Run {
			d.closeWatchdog() // a long resource stop must not reset the box
		}
	}
	d.rscActs(acts)
}

// configTimes returns the modification times of ha.cf and haresources.
func configTimes(dir string) map[string]time.Time {
	t := map[string]time.Time{}
	for _, f := range []string{conf.HaCfFile, "haresources"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t[f] = fi.ModTime()
		}
	}
	return t
}

// reload handles SIGHUP as 3.0.6 (5.9): when ha.cf (or haresources)
// changed, heartbeat re-executes itself keeping its resources (-R -C
// HOLD); else when authkeys changed it is reread; else nothing changed.
// An invalid new configuration is logged and ignored.
func (d *daemon) reload() {
	c, err := conf.Load(d.o.dir, d.o.node)
	if err != nil {
		d.log.Error("Configuration reload failed: " + strings.ReplaceAll(err.Error(), "\n", "; "))
		return
	}
	now := configTimes(d.o.dir)
	for f, t := range now {
		if !t.Equal(d.mtimes[f]) {
			if d.shutdownReq {
				d.log.Warn("Configuration change (" + f + ") ignored: shutdown in progress")
				return
			}
			d.log.Info("Configuration file " + f + " changed: restarting heartbeat, keeping resources.")
			d.reloadPending = true
			d.maybeRestart()
			return
		}
	}
	keys, err := wire.NewKeyring(c.Auth)
	if err != nil {
		d.log.Error("Authentication reparsing error: " + err.Error())
		return
	}
	changed := false
	for i := range c.Auth.Keys {
		a, b := c.Auth.Keys[i], d.cfg.Auth.Keys[i]
		if (a == nil) != (b == nil) || a != nil && (a.Method != b.Method || string(a.Key) != string(b.Key)) {
			changed = true
		}
	}
	if changed || c.Auth.Active != d.cfg.Auth.Active {
		d.log.Info("Rereading authentication file.")
		d.keys = keys
		d.eng.Sender.Keys = keys
		d.cfg.Auth = c.Auth
		return
	}
	d.log.Info("Configuration unchanged.")
}

// maybeRestart performs a pending restart once communications are up and
// no resource work runs (3.0.6 also waits for a stable state).
func (d *daemon) maybeRestart() {
	if !d.reloadPending || d.shutdownReq || !d.active || d.rsc.Busy() || d.rsc.RscStatus() == "transition" {
		return
	}
	d.reloadPending = false
	d.restartKeeping()
}

// restartKeeping re-executes heartbeat at once with -R -C HOLD: the new
// process (same pid, new generation) starts holding what we hold and
// does not touch the resources.
func (d *daemon) restartKeeping() {
	d.close()
	d.exec("-R", "-C", d.rsc.Holding().String())
	d.exiting, d.exitAt, d.exitCode = true, 0, 1
}

// reexec replaces the process with heartbeat -f, the original options
// (without -f, -R, -C) and extra; it returns only on failure.
func (d *daemon) reexec(extra ...string) {
	exe, err := os.Executable()
	if err == nil {
		args := append([]string{"heartbeat", "-f"}, extra...)
		rest := d.o.args
		for i := 0; i < len(rest); i++ {
			switch rest[i] {
			case "-f", "-R":
				continue
			case "-C":
				i++
				continue
			}
			args = append(args, rest[i])
		}
		var envv []string
		for _, kv := range d.env.Environ {
			if kv != daemonMarker {
				envv = append(envv, kv)
			}
		}
		os.Remove(d.o.pidfile)
		err = syscall.Exec(exe, args, envv)
	}
	d.env.Err("heartbeat: restart failed: ", err.Error(), "\n")
}

func (d *daemon) setLocal(st string) {
	if d.local == st {
		return
	}
	d.local = st
	d.mem.SetLocal(st)
	d.log.Info("Local status now set to: '" + st + "'")
}

func (d *daemon) deadtimeAdvertised() time.Duration {
	if d.boosted {
		return d.hc.Deadtime + 2*time.Second
	}
	return d.hc.Deadtime
}

func (d *daemon) sendStatus() {
	m := wire.New(wire.Status)
	m.Add(wire.St, d.local)
	m.SetHex(wire.Dt, uint64(d.deadtimeAdvertised()/time.Millisecond))
	m.Add("habox", d.rsc.Claim().String())
	d.send(m)
	d.sendProbes()
}

// send stamps, encodes and transmits m on every medium, then loops it
// back for local processing.
func (d *daemon) send(m *wire.Msg) {
	m, logs, err := d.eng.Send(m, d.timerNow())
	d.wireLogs(logs)
	if err != nil {
		d.log.Error("Cannot send " + m.Type() + " message: " + err.Error())
		return
	}
	d.transmit(m)
	d.loopback = append(d.loopback, m)
}

// transmit encodes an already stamped message and sends it on every
// medium (netstring on UDP, classic text on serial).
func (d *daemon) transmit(m *wire.Msg) {
	if d.fenced {
		return
	}
	ns, err := d.keys.AppendNetstring(nil, m)
	if err != nil {
		d.log.Error("Cannot encode " + m.Type() + " message: " + err.Error())
		return
	}
	var cl []byte
	if d.serial {
		if cl, err = d.keys.AppendClassic(nil, m); err != nil {
			d.log.Error("Cannot encode " + m.Type() + " message: " + err.Error())
		}
	}
	for _, md := range d.media {
		b := ns
		if md.Text() {
			b = cl
		}
		if b == nil {
			continue
		}
		if err := md.Send(b); err != nil {
			d.log.Debug(1, "send on "+md.Name()+": "+err.Error())
		}
	}
}

func (d *daemon) wireLogs(logs []wire.LogLine) {
	for _, l := range logs {
		d.logAt(l.Level, l.Text)
	}
}

// drain processes our own messages (loop-back) until none is left.
func (d *daemon) drain() {
	for i := 0; len(d.loopback) > 0 && i < 10000; i++ {
		m := d.loopback[0]
		d.loopback = d.loopback[1:]
		d.deliver(d.self, m, wire.Verdict{Deliver: true, ForUs: true})
	}
}

// pktQueue bounds the packets waiting for the event loop: with MaxMessage
// (32 KB) each, at most 1 MB. A real cluster needs a few; under a flood
// the rest wait in (or are dropped by) the kernel's socket buffer.
const pktQueue = 32

// Large packets are rare in R1 traffic (statuses are ~400 bytes) but cost
// a hash over every byte before their token is known to be wrong: those
// over bigPacket bytes are authenticated within a budget of bigRate bytes
// per second (burst bigBurst), beyond which they are dropped unread as
// throttled. Small packets, heartbeats among them, are always checked.
const (
	bigPacket = 2048
	bigRate   = 128 << 10
	bigBurst  = 128 << 10
)

// allowBig reports whether a packet of n bytes may be authenticated now.
func (d *daemon) allowBig(n int, now time.Duration) bool {
	if n <= bigPacket || n >= wire.MaxRecv { // the latter: refused unread by Decode
		return true
	}
	if d.bigLast == 0 {
		d.bigTokens = bigBurst
	} else {
		d.bigTokens = min(bigBurst, d.bigTokens+(now-d.bigLast).Seconds()*bigRate)
	}
	d.bigLast = now
	if d.bigTokens < float64(n) {
		return false
	}
	d.bigTokens -= float64(n)
	return true
}

// drops counts dropped packets by reason; cl_status hbparameter -p
// badpackets-<reason> reports each (see snapshot).
type drops struct {
	tooBig    uint64 // >= wire.MaxRecv bytes or > wire.MaxFields fields (media drops added in snapshot)
	garbage   uint64 // not a message: framing, field syntax
	auth      uint64 // authentication failed, unknown auth index
	replay    uint64 // older generation (status) or not the current one (control)
	invalid   uint64 // authentic but missing fields, bad numbers, unknown node
	throttled uint64 // NS_rexmit/NS_nak_rexmit over the peer's budget, large packets over theirs
	dup       uint64 // authentic, already seen (not counted as bad)

	// Not dropped: every packet the daemon reads (rx) lands in exactly one
	// counter of this struct.
	rx      uint64
	ok      uint64 // authentic, new and processed
	ignored uint64 // authentic NS_ message for another node (ours echoed too)
}

// packet is the receive path: decode + authenticate, sequence tracking,
// link and node liveness, then delivery. One packet per event-loop turn;
// wire.Decode bounds its cost (MaxRecv bytes, MaxFields fields, no
// allocation per field before authentication), and the loop's select
// serves the timers between packets.
func (d *daemon) packet(p media.Packet) {
	now := d.now()
	d.drops.rx++
	if !d.allowBig(len(p.Data), now) {
		d.drops.throttled++
		d.bad(p.Link, "large packet ("+strconv.Itoa(len(p.Data))+" bytes) over the budget of "+strconv.Itoa(bigRate>>10)+" KB/s: not authenticated")
		return
	}
	m, _, err := d.keys.Decode(p.Data)
	if err != nil {
		switch {
		case errors.Is(err, wire.ErrTooLarge):
			d.drops.tooBig++
		case errors.Is(err, wire.ErrAuth), errors.Is(err, wire.ErrAuthIndex):
			d.drops.auth++
		default:
			d.drops.garbage++
		}
		d.bad(p.Link, err.Error())
		return
	}
	v := d.eng.Receive(m, d.timerNow())
	if v.Bad || v.Replay {
		// Forged, replayed or malformed: counted, logged rate-limited.
		if v.Replay {
			d.drops.replay++
		} else {
			d.drops.invalid++
		}
		why := "dropped"
		if n := len(v.Logs); n > 0 {
			// The reason is the last line ("node X changed its uuid"
			// may come before a replay).
			d.wireLogs(v.Logs[:n-1])
			why = v.Logs[n-1].Text
		}
		d.bad(p.Link, why)
		return
	}
	src := strings.ToLower(m.Get(wire.Src))
	switch {
	case v.Throttled:
		d.drops.throttled++
		d.badCount++ // not logged: the engine logs what it suppressed
	case v.Duplicate:
		d.drops.dup++
	case v.ForUs || !m.IsNoSeq():
		d.drops.ok++ // for us, or sequence-tracked
	default:
		d.drops.ignored++ // an NS_ message for another node
	}
	d.wireLogs(v.Logs)
	for _, out := range v.Send {
		d.transmit(out)
	}
	if v.RaiseGen > 0 {
		d.raiseGeneration(v.RaiseGen, "node "+src+" remembers generation "+u10(v.RaiseGen-1)+" for us and drops our messages as replays")
	}
	if v.Link {
		d.memEvents(d.mem.Packet(src, p.Link, now))
		if trace.On() && src != d.self {
			if d.heard == nil {
				d.heard = map[string]time.Time{}
			}
			d.heard[src] = d.instant(now)
		}
	}
	if src == d.self || v.Duplicate || !v.Deliver {
		return
	}
	d.memEvents(d.mem.Accepted(src, now))
	d.deliver(src, m, v)
}

// bad counts a dropped packet and logs it, rate-limited per link.
func (d *daemon) bad(link, why string) {
	d.badCount++
	if !d.hc.LogBadPack {
		return
	}
	// 3.0.6's own text first (log watchers grep for it), then habox's
	// count; at most 5 lines a minute per link.
	if ok, n := d.badLimit.AllowN(link); ok {
		msg := why + " [" + link + ": " + strconv.FormatUint(d.badCount, 10) + " bad packets so far"
		if n > 0 {
			msg += ", " + hblog.SuppressedText(n)
		}
		d.log.Error(msg + "]")
	}
}

// deliver processes a new message from src (possibly ourselves).
func (d *daemon) deliver(src string, m *wire.Msg, v wire.Verdict) {
	now := d.now()
	switch t := m.Type(); t {
	case wire.Status:
		var dt time.Duration
		if x, err := m.Hex(wire.Dt); err == nil {
			dt = time.Duration(x) * time.Millisecond
		}
		if src == d.self {
			d.memEvents(d.mem.Status(src, m.Get(wire.St), dt, now))
			d.feedWatchdog()
			return
		}
		d.rscActs(d.rsc.SetHabox(src, m.Get("habox"), now))
		if v.Restart && m.Get("habox") == resources.None.String() && d.mem.NodeStatus(src) != membership.Dead {
			// A habox peer restarted before we declared it dead (it
			// rebooted within deadtime) and holds nothing: what its old
			// process held is gone, as if it had died. Take it over as at
			// its death; its new process then negotiates as any node
			// that comes back (without this both nodes logged "No one
			// owns ... resources!" and the groups ran nowhere: simulator
			// seeds 27, 336, 397, 670). Membership has it dead meanwhile,
			// so the takeover does not count it active (in legacy mode
			// it sent its ip-request to the restarting peer, which
			// dropped it before comm-up: seed 8528).
			d.log.Warn("Node " + src + " restarted holding no resources: handling it as dead and back")
			d.memEvents(d.mem.MarkDead(src))
		}
		wasDead := d.mem.NodeStatus(src) == membership.Dead
		ev := d.mem.Status(src, m.Get(wire.St), dt, now)
		d.memEvents(ev)
		for _, e := range ev {
			if e.Kind == membership.NodeDead && d.rsc.IsHabox(src) {
				// "Late heartbeat ... (> deadtime)": declared dead (and its
				// groups taken) by the very status that shows it alive.
				// 3.0.6 leaves both owners until a partition is seen;
				// between habox nodes resolve it now.
				d.rscActs(d.rsc.PartitionHealed(src, now))
				d.uplinkHealed()
			}
		}
		if wasDead && v.Partition {
			d.log.Crit("Cluster node " + src + " returning after partition.")
			d.log.Info("For information on cluster partitions, See URL: http://linux-ha.org/wiki/Split_Brain")
			d.log.Warn("Deadtime value may be too small.")
			d.log.Info("See FAQ for information on tuning deadtime.")
			d.log.Info("URL: http://linux-ha.org/wiki/FAQ#Heavy_Load")
			d.rscActs(d.rsc.PartitionHealed(src, now))
			d.uplinkHealed()
		}
	case wire.RepNodes:
		if src != d.self && d.waitRep {
			d.commNowUp()
		}
	case "starting", "resource", "ask_resources", "ip-request", "ip-request-resp", "hb_takeover", "shutdone":
		d.rscActs(d.rsc.Message(src, toRsc(m), now))
	case uplink.TNumPing, uplink.TYouAreDead, uplink.TAbort, uplink.TClientStat:
		d.uplinkMessage(src, m)
	}
}

func toRsc(m *wire.Msg) resources.Msg {
	var r resources.Msg
	for _, f := range m.Fields {
		if f.Type == wire.String {
			r = append(r, resources.Field{Name: f.Name, Value: string(f.Value)})
		}
	}
	return r
}

func fromRsc(r resources.Msg) *wire.Msg {
	m := wire.New(r.Get("t"))
	for _, f := range r {
		if f.Name != "t" {
			m.Add(f.Name, f.Value)
		}
	}
	return m
}

// memEvents acts on membership events.
func (d *daemon) memEvents(ev []membership.Event) {
	for _, e := range ev {
		if e.Text != "" {
			d.logAt(e.Level, e.Text)
		}
		switch e.Kind {
		case membership.NodeDead:
			if trace.On() {
				trace.Mark("dead", e.Node)
				trace.MarkAt(d.heard[e.Node], "heard", e.Node)
				if e.Due > 0 {
					trace.MarkAt(d.instant(e.Due), "due", e.Node)
				}
			}
			d.eng.SetStatus(e.Node, wire.StDead)
			d.rscActs(d.rsc.NodeDead(e.Node, e.Heard, d.now()))
		case membership.StatusChange:
			d.eng.SetStatus(e.Node, e.Status)
		case membership.CommUp:
			if d.eng.StartReqNodes(d.timerNow()) {
				d.waitRep = true
				d.sendDue()
			} else {
				d.commNowUp()
			}
		}
	}
}

// logAt logs a line produced by the pure packages; their debug lines need
// debug level 1 or more.
func (d *daemon) logAt(p hblog.Priority, text string) {
	if p == hblog.DebugPri {
		d.log.Debug(1, text)
		return
	}
	d.log.Log(p, text)
}

// commNowUp: communications are up (and the node list exchange is done).
func (d *daemon) commNowUp() {
	if d.active {
		return
	}
	d.waitRep = false
	d.active = true
	d.log.Info("Comm_now_up(): updating status to active")
	d.setLocal(membership.Active)
	d.sendStatus()
	d.rscActs(d.rsc.CommUp(d.now()))
	d.announceClient()
	d.startRespawns()
}

func (d *daemon) sendDue() {
	out, logs := d.eng.Due(d.timerNow())
	d.wireLogs(logs)
	for _, m := range out {
		d.transmit(m)
	}
}

// tick runs the timers: dead detection, resource timers, retransmission
// requests, the end of the start-up dt boost, real-time upkeep.
func (d *daemon) tick() {
	now := d.now()
	if d.boosted && now >= d.boostUntil {
		d.boosted = false
		d.sendStatus()
	}
	d.memEvents(d.mem.Tick(now))
	d.rscActs(d.rsc.Tick(now))
	d.uplinkTick()
	d.sendDue()
	if d.waitRep {
		d.checkReqNodes()
	}
	if d.waitRep && !d.eng.ReqNodesPending() {
		d.commNowUp()
	}
	// A thread the runtime started since is not real-time yet: switch it
	// at once (one small /proc read per tick), and every 10 s anyway.
	if d.wantRealtime() {
		if n := sched.Threads(); now-d.lastRR > 10*time.Second || n != d.rrThreads {
			d.lastRR, d.rrThreads = now, n
			sched.SetRR(d.hc.Rtprio) // new runtime threads
		}
	}
}

// runJobAsync runs a job on the real runner in a goroutine; the result
// comes back through d.jobs.
func (d *daemon) runJobAsync(job *resources.Job) {
	go func() { d.jobs <- d.runner.Run(job) }()
}

// rscActs performs the resource manager's actions.
func (d *daemon) rscActs(acts []resources.Action) {
	for _, a := range acts {
		switch a.Kind {
		case resources.Log:
			d.logAt(a.Level, a.Text)
		case resources.Send:
			d.send(fromRsc(a.Msg))
		case resources.Run:
			d.runJob(a.Job)
		case resources.Exit:
			if d.fenced {
				continue // wait silently for the watchdog reset
			}
			d.exiting = true
			d.restartExec = a.Restart
			// 3.0.6 waits 1 s, sends a status, waits 1 s more; habox keeps
			// heartbeating for two keepalives (0.3 s to 2 s) so the peer
			// hears shutdone, retransmissions included.
			linger := min(max(2*d.hc.Keepalive, 300*time.Millisecond), 2*time.Second)
			d.exitAt = d.now() + linger + a.Delay
		case resources.Restart:
			d.log.Info("Giving up all resources and restarting heartbeat after the healed partition.")
			d.closeWatchdog()
			d.rscActs(d.rsc.Shutdown(d.now()))
		}
	}
}
