package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Node is one cluster node: its namespaces, files and daemon.
type Node struct {
	Lab   *Lab
	Index int    // 0 or 1
	Name  string // uname -n and ha.cf node name
	Kind  Kind
	NS    *NS
	Dir   string // host directory: etc/ lib/ run/ log/ state/
	// Env is added to the daemon's environment at Start (e.g. the habox
	// test hook HABOX_CLOCK_OFFSET_FILE).
	Env []string

	anchor    *exec.Cmd
	anchorPid int

	mu      sync.Mutex
	started time.Time
	failed  bool // between HardFail and Recover: a dead machine
	daemon  *exec.Cmd
	done    chan struct{}
	stderr  *syncBuffer
}

// Peer returns the other node.
func (n *Node) Peer() *Node { return n.Lab.Nodes[1-n.Index] }

// Path returns the host path of a file inside the node's directory tree.
func (n *Node) Path(parts ...string) string {
	return filepath.Join(append([]string{n.Dir}, parts...)...)
}

// LogFile is the host path of the node's main log (ha.cf logfile, or
// keepalived's console output).
func (n *Node) LogFile() string {
	if n.Kind == Keepalived {
		return n.Path("log", "keepalived.log")
	}
	return n.Path("log", "ha-log")
}

// Log returns the node's log so far.
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.LogFile())
	return string(b)
}

// DebugLog returns the node's debug log (ha-debug).
func (n *Node) DebugLog() string {
	b, _ := os.ReadFile(n.Path("log", "ha-debug"))
	return string(b)
}

// WatchdogFile is the fake watchdog device (a regular file) when
// Options.Watchdog is set.
func (n *Node) WatchdogFile() string { return n.Path("watchdog") }

func durMS(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

// HaCf returns the ha.cf text the lab writes for this node.
func (n *Node) HaCf() string {
	o := &n.Lab.Opts
	var b strings.Builder
	fmt.Fprintf(&b, "# written by the habox lab for %s\n", n.Name)
	b.WriteString("logfile /var/log/ha-log\ndebugfile /var/log/ha-debug\nlogfacility none\nuse_logd no\n")
	fmt.Fprintf(&b, "keepalive %s\ndeadtime %s\n", durMS(o.Keepalive), durMS(o.Deadtime))
	if o.Warntime > 0 {
		fmt.Fprintf(&b, "warntime %s\n", durMS(o.Warntime))
	}
	fmt.Fprintf(&b, "initdead %s\nudpport 694\n", durMS(o.Initdead))
	if !o.NoBcast {
		b.WriteString("bcast eth1\n")
	}
	if o.Serial {
		fmt.Fprintf(&b, "baud %d\nserial %s\n", o.Baud, n.Lab.TTY(n.Index))
	}
	if o.Watchdog {
		fmt.Fprintf(&b, "watchdog %s\n", n.WatchdogFile())
	}
	if o.Debug > 0 {
		fmt.Fprintf(&b, "debug %d\n", o.Debug)
	}
	fmt.Fprintf(&b, "auto_failback %s\nnode %s\nnode %s\ncrm no\n", o.AutoFailback, n.Lab.Nodes[0].Name, n.Lab.Nodes[1].Name)
	b.WriteString(o.ExtraHaCf)
	return b.String()
}

// Haresources returns the haresources line: node1 owns the VIP (and the
// test script when Options.Script).
func (n *Node) Haresources() string {
	s := n.Lab.Nodes[0].Name + " " + VIP + "/24/eth0"
	if n.Lab.Opts.Script {
		s += " hatest"
	}
	return s + "\n"
}

// Authkeys returns the authkeys text for Options.Auth/Key.
func (n *Node) Authkeys() string {
	o := &n.Lab.Opts
	if o.Auth == "crc" {
		return "auth 1\n1 crc\n"
	}
	return fmt.Sprintf("auth 1\n1 %s %s\n", o.Auth, o.Key)
}

const hatestScript = `#!/bin/sh
# habox lab test resource. Touch STATE/fail-start or STATE/fail-stop to make
# start or stop fail, STATE/hang-start or STATE/hang-stop to make it hang
# (its pid in STATE/hang.pid). Events are appended to STATE/events.
d=%s
if [ -e $d/hang-$1 ]; then echo $$ >$d/hang.pid; echo "$(date +%%s.%%N) $1-hang" >>$d/events; sleep 1000; fi
case "$1" in
start)
	if [ -e $d/fail-start ]; then echo "hatest: start failure (test)" >&2; echo "$(date +%%s.%%N) start-failed" >>$d/events; exit 1; fi
	touch $d/running; echo "$(date +%%s.%%N) start" >>$d/events; exit 0;;
stop)
	if [ -e $d/fail-stop ]; then echo "hatest: stop failure (test)" >&2; echo "$(date +%%s.%%N) stop-failed" >>$d/events; exit 1; fi
	rm -f $d/running; echo "$(date +%%s.%%N) stop" >>$d/events; exit 0;;
status)
	if [ -e $d/running ]; then echo running; else echo stopped; fi; exit 0;;
*) echo "usage: $0 {start|stop|status}"; exit 1;;
esac
`

// writeFiles lays out the node's directory tree and configuration.
func (n *Node) writeFiles() {
	t := n.Lab.T
	t.Helper()
	for _, d := range []string{"etc", "lib", "run", "log", "state"} {
		if err := os.MkdirAll(n.Path(d), 0o755); err != nil {
			t.Fatalf("lab: %v", err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("lab: node %s: %v", n.Name, err)
		}
	}
	if n.Kind == Heartbeat {
		// A copy of the host's /etc/ha.d (harc, rc.d, resource.d, shellfuncs).
		must(run("cp", "-a", "/etc/ha.d/.", n.Path("etc")))
		must(run("cp", "-a", "/var/lib/heartbeat/.", n.Path("lib")))
	}
	// /run as Debian's tmpfiles.d makes it.
	for _, d := range []string{"heartbeat/ccm", "heartbeat/crm", "heartbeat/dopd", "crm", "resource-agents", "lock"} {
		must(os.MkdirAll(n.Path("run", d), 0o755))
	}
	for _, d := range []string{"heartbeat/ccm", "heartbeat/crm", "heartbeat/dopd", "crm"} {
		run("chown", "hacluster:haclient", n.Path("run", d))
		os.Chmod(n.Path("run", d), 0o750)
	}
	os.Chmod(n.Path("run", "resource-agents"), 0o1755)
	os.Chmod(n.Path("run", "lock"), 0o1777)
	if n.Kind == Keepalived {
		must(os.WriteFile(n.Path("etc", "keepalived.conf"), []byte(n.KeepalivedConf()), 0o644))
		return
	}
	must(os.WriteFile(n.Path("etc", "ha.cf"), []byte(n.HaCf()), 0o644))
	must(os.WriteFile(n.Path("etc", "haresources"), []byte(n.Haresources()), 0o644))
	must(os.WriteFile(n.Path("etc", "authkeys"), []byte(n.Authkeys()), 0o600))
	os.Chmod(n.Path("etc", "authkeys"), 0o600)
	must(os.MkdirAll(n.Path("etc", "resource.d"), 0o755))
	must(os.WriteFile(n.Path("etc", "resource.d", "hatest"), []byte(fmt.Sprintf(hatestScript, n.Path("state"))), 0o755))
	if n.Lab.Opts.Watchdog {
		must(os.WriteFile(n.WatchdogFile(), nil, 0o600))
	}
}

// KeepalivedAdvert maps a heartbeat keepalive to the closest VRRP advert
// interval keepalived accepts (centiseconds, at least 0.01 s).
func KeepalivedAdvert(keepalive time.Duration) string {
	cs := (keepalive + 5*time.Millisecond) / (10 * time.Millisecond)
	if cs < 1 {
		cs = 1
	}
	if cs >= 100 && cs%100 == 0 {
		return strconv.Itoa(int(cs / 100))
	}
	return strconv.FormatFloat(float64(cs)/100, 'f', 2, 64)
}

// KeepalivedConf returns keepalived's configuration for this node: VRRPv3
// on the service LAN (eth0, as VRRP is deployed: over the private veth a
// cut link would put the survivor in FAULT state), the VIP on eth0, node1
// preferred (priority 150, preempting).
func (n *Node) KeepalivedConf() string {
	prio := 150 - 50*n.Index
	return fmt.Sprintf(`global_defs {
	router_id %s
	vrrp_version 3
	vrrp_garp_master_delay 0
	vrrp_garp_master_repeat 3
	script_user root
	enable_script_security
}
vrrp_instance VI_1 {
	state BACKUP
	interface eth0
	virtual_router_id 51
	priority %d
	advert_int %s
	virtual_ipaddress {
		%s/24 dev eth0
	}
%s}
`, n.Name, prio, KeepalivedAdvert(n.Lab.Opts.Keepalive), VIP, n.Lab.Opts.VRRPExtra)
}

// startAnchor starts the long-lived process that holds the node's UTS
// and mount namespaces (inside its network namespace).
func (n *Node) startAnchor() {
	t := n.Lab.T
	t.Helper()
	binds := [][2]string{{n.Path("etc"), "/etc/ha.d"}, {n.Path("lib"), "/var/lib/heartbeat"}, {n.Path("run"), "/run"}, {n.Path("log"), "/var/log"}}
	var sh strings.Builder
	fmt.Fprintf(&sh, "hostname %s", n.Name)
	for _, b := range binds {
		fmt.Fprintf(&sh, " && mount --bind %s %s", b[0], b[1])
	}
	// Safety: a resource STOP failure makes 3.0.6's ResourceManager run
	// `reboot -nf` (systemctl on Debian): neutralised inside the node.
	if _, err := os.Stat("/usr/bin/systemctl"); err == nil {
		sh.WriteString(" && mount --bind /bin/true /usr/bin/systemctl")
	}
	sh.WriteString(" && echo ready $$ && exec sleep 2147483647")
	cmd := n.NS.Command("unshare", "--uts", "--mount", "--propagation", "private", "sh", "-c", sh.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("lab: anchor %s: %v", n.Name, err)
	}
	n.anchor = cmd
	n.Lab.defer_(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 2 || f[0] != "ready" {
		t.Fatalf("lab: anchor %s did not start: %q %v %s", n.Name, line, err, errb.String())
	}
	n.anchorPid, _ = strconv.Atoi(f[1])
}

// Command returns an unstarted command running in the node's network, UTS
// and mount namespaces (its hostname and bound directories).
func (n *Node) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"-t", strconv.Itoa(n.anchorPid), "-m", "-u", "-n", name}, args...)...)
}

// Exec runs a command in the node's namespaces and returns its combined
// output and exit code (-1 when it could not run).
func (n *Node) Exec(name string, args ...string) (string, int) {
	out, err := n.Command(name, args...).CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		return string(out) + err.Error(), -1
	}
	return string(out), 0
}

// Ctl runs a control tool of the node's kind (cl_status, hb_standby,
// hb_takeover): the stock tools for 3.0.6, the habox applets otherwise.
func (n *Node) Ctl(tool string, args ...string) (string, int) {
	if n.Kind == Habox {
		return n.Exec(HaboxBin(n.Lab.T), append([]string{tool}, args...)...)
	}
	switch tool {
	case "hb_standby", "hb_takeover":
		tool = "/usr/share/heartbeat/" + tool
	}
	return n.Exec(tool, args...)
}

// Start starts the node's daemon in the foreground (-f for heartbeat,
// -n for keepalived); its stdout/stderr are kept for failure messages.
func (n *Node) Start() {
	t := n.Lab.T
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.daemon != nil {
		t.Fatalf("lab: %s already started", n.Name)
	}
	var cmd *exec.Cmd
	switch n.Kind {
	case Habox:
		cmd = n.Command(HaboxBin(t), "heartbeat", "-f")
	case Heartbeat:
		cmd = n.Command(HB306, "-f")
	case Keepalived:
		cmd = n.Command("keepalived", "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp",
			"-f", n.Path("etc", "keepalived.conf"), "-p", "/run/keepalived.pid", "-r", "/run/keepalived_vrrp.pid")
	default:
		t.Fatalf("lab: unknown kind %q", n.Kind)
	}
	// Never let a daemon reboot the machine on a stop failure.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HA_REBOOT_ON_STOP_FAILURE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, n.Env...)
	n.stderr = &syncBuffer{}
	cmd.Stdout = n.stderr
	cmd.Stderr = n.stderr
	if n.Kind == Keepalived {
		f, err := os.OpenFile(n.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatalf("lab: %v", err)
		}
		cmd.Stdout, cmd.Stderr = f, f
		defer f.Close()
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("lab: start %s on %s: %v", n.Kind, n.Name, err)
	}
	n.daemon = cmd
	n.started = time.Now()
	done := make(chan struct{})
	n.done = done
	go func() { cmd.Wait(); close(done) }()
	n.Lab.defer_(func() { n.killAll() })
}

// StartedAt is when Start last started the daemon. Heartbeat (3.0.6 and
// habox) advertises deadtime+2 s during its first 5 s, so a failure right
// after a start is detected 2 s later than in steady state.
func (n *Node) StartedAt() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.started
}

// Pid returns the daemon's main process id (0 when not started).
func (n *Node) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.daemon == nil {
		return 0
	}
	return n.daemon.Process.Pid
}

// Running reports whether the daemon started by Start is still running.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.daemon == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// Wait waits up to d for the daemon to exit and reports whether it did.
func (n *Node) Wait(d time.Duration) bool {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// forget clears the record of a daemon that has exited, so Start may run again.
func (n *Node) forget() {
	n.mu.Lock()
	n.daemon, n.done = nil, nil
	n.mu.Unlock()
}

// Pids lists the node's processes: everything in its network namespace
// but the anchor (daemons, their children even in mount namespaces of
// their own, as keepalived's VRRP child, and resource scripts).
func (n *Node) Pids() []int {
	want := nsID(n.anchorPid, "net")
	if want == "" {
		return nil
	}
	var pids []int
	for _, p := range allPids() {
		if p != n.anchorPid && nsID(p, "net") == want {
			pids = append(pids, p)
		}
	}
	return pids
}

// DaemonPids lists only the daemon's own long-lived processes (by command
// name), for memory and CPU accounting.
func (n *Node) DaemonPids() []int {
	name := map[Kind]string{Habox: "habox", Heartbeat: "heartbeat", Keepalived: "keepalived"}[n.Kind]
	if p := n.Pid(); p != 0 {
		if c := procComm(p); c != "" && c != "nsenter" {
			name = c // e.g. a habox binary under another name
		}
	}
	var pids []int
	for _, p := range n.Pids() {
		if procComm(p) == name {
			pids = append(pids, p)
		}
	}
	return pids
}

// Signal sends sig to the daemon's main process.
func (n *Node) Signal(sig syscall.Signal) error {
	pid := n.Pid()
	if pid == 0 {
		return fmt.Errorf("%s: no daemon", n.Name)
	}
	return signal(pid, sig)
}

// SignalAll sends sig to every daemon process of the node.
func (n *Node) SignalAll(sig syscall.Signal) {
	for _, p := range n.DaemonPids() {
		signal(p, sig)
	}
}

// killAll SIGKILLs every process in the node's mount namespace but the
// anchor, and reaps the daemon.
func (n *Node) killAll() {
	for i := 0; i < 50; i++ {
		pids := n.Pids()
		if len(pids) == 0 {
			break
		}
		for _, p := range pids {
			signal(p, syscall.SIGSTOP)
		}
		for _, p := range pids {
			signal(p, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	n.Wait(2 * time.Second)
	n.forget()
}

// Kill SIGKILLs the daemon (all its processes) and returns the instant.
func (n *Node) Kill() time.Time {
	t0 := time.Now()
	n.killAll()
	return t0
}

// KillDaemon SIGKILLs the daemon's own processes only, as an operator's
// kill -9 does: the resource scripts it runs are left to what the daemon
// arranged for them.
func (n *Node) KillDaemon() {
	n.SignalAll(syscall.SIGKILL)
	n.Wait(5 * time.Second)
	n.forget()
}

// SetLinks brings the node's eth0 and eth1 down or up (a pulled cable).
func (n *Node) SetLinks(up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return n.NS.Run("sh", "-c", "ip link set eth0 "+state+" && ip link set eth1 "+state)
}

// CutUplink drops (or, cut false, lets through again) everything the
// node sends to the router, with an nftables table of its own: the
// node's "WAN" is dead while its service LAN and heartbeat links work.
func (n *Node) CutUplink(cut bool) error {
	if !cut {
		return n.NS.Run("nft", "delete", "table", "ip", "habox_uplink")
	}
	if err := n.NS.Run("nft", "add", "table", "ip", "habox_uplink"); err != nil {
		return err
	}
	if err := n.NS.Run("nft", "add", "chain", "ip", "habox_uplink", "out", "{", "type", "filter", "hook", "output", "priority", "0", ";", "}"); err != nil {
		return err
	}
	return n.NS.Run("nft", "add", "rule", "ip", "habox_uplink", "out", "ip", "daddr", RouterIP, "drop")
}

// SetCarrier takes the bridge port of the node's eth0 down (or up): the
// node sees its service interface lose carrier, as when a cable is pulled.
func (n *Node) SetCarrier(up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return n.Lab.Client.Run("ip", "link", "set", "p"+strconv.Itoa(n.Index+1), state)
}

// HardFail takes the node down like a power loss: its links are cut (and
// the serial link blocked when configured) first, so nothing it does
// afterwards reaches anyone, then every process of the node is frozen
// (SIGSTOP, so none can react, e.g. keepalived's VRRP child to its
// parent's death) and everything is SIGKILLed. It returns the instant the
// cut began: the client's service and the peer's heartbeats stop there
// together (freezing first let the node answer the client for as long as
// the freeze took, tens of ms on a loaded machine, which made outages at
// a 40 ms deadtime look shorter than the deadtime).
func (n *Node) HardFail() time.Time {
	t := n.Lab.T
	t.Helper()
	pids := n.Pids()
	n.mu.Lock()
	n.failed = true
	n.mu.Unlock()
	t0 := time.Now()
	if err := n.NS.Do(func() error { return linksDown() }); err != nil {
		t.Fatalf("lab: cut links of %s: %v", n.Name, err)
	}
	if n.Lab.socat != nil {
		n.Lab.SerialBlock(true)
	}
	for _, p := range pids {
		signal(p, syscall.SIGSTOP)
	}
	waitStopped(pids, 200*time.Millisecond)
	n.killAll()
	return t0
}

// waitStopped waits until every process is stopped (state T) or gone.
func waitStopped(pids []int, d time.Duration) {
	deadline := time.Now().Add(d)
	for _, p := range pids {
		for time.Now().Before(deadline) {
			st := procState(p)
			if st == "" || st == "T" || st == "t" || st == "Z" {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// procState returns the one-letter state of a process ("" if gone).
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+3 > len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// Recover undoes HardFail as a reboot would: stale VIP and test-resource
// state removed, links up, a new serial link (frames the failed node had
// written before the freeze must not reach the peer after its restart:
// socat still held them). The daemon is not started.
func (n *Node) Recover() {
	t := n.Lab.T
	t.Helper()
	n.NS.Run("ip", "addr", "del", VIP+"/24", "dev", "eth0")
	os.Remove(n.Path("state", "running"))
	// A reboot empties /run (tmpfs): stale pid files go.
	if m, _ := filepath.Glob(n.Path("run", "*.pid")); len(m) > 0 {
		for _, f := range m {
			os.Remove(f)
		}
	}
	if err := n.SetLinks(true); err != nil {
		t.Fatalf("lab: %v", err)
	}
	n.Lab.replaceSerial()
	n.mu.Lock()
	n.failed = false
	n.mu.Unlock()
}

// Stop stops the daemon gracefully (SIGTERM, like heartbeat -k) and
// waits up to d for it to exit; it returns the instant SIGTERM was sent.
func (n *Node) Stop(d time.Duration) time.Time {
	t := n.Lab.T
	t.Helper()
	t0 := time.Now()
	if err := n.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("lab: stop %s: %v", n.Name, err)
	}
	if !n.Wait(d) {
		t.Fatalf("lab: %s (%s) did not stop within %v\n%s", n.Name, n.Kind, d, n.Lab.LogTails(30))
	}
	// 3.0.6 children exit right after the master; reap leftovers.
	n.killAll()
	return t0
}

// PeerStatus asks the node's daemon for the peer's status (cl_status
// nodestatus), or for keepalived "active" when the daemon runs.
func (n *Node) PeerStatus() string {
	if n.Kind == Keepalived {
		if n.Running() {
			return "active"
		}
		return "dead"
	}
	out, _ := n.Ctl("cl_status", "nodestatus", n.Peer().Name)
	return strings.TrimSpace(out)
}

// HoldsVIP reports whether the VIP is configured on the node's eth0 (a
// node between HardFail and Recover is a dead machine and holds nothing).
func (n *Node) HoldsVIP() bool {
	n.mu.Lock()
	failed := n.failed
	n.mu.Unlock()
	if failed {
		return false
	}
	out, err := exec.Command("ip", "-n", n.NS.Name, "-o", "-4", "addr", "show", "dev", "eth0").Output()
	return err == nil && strings.Contains(string(out), " "+VIP+"/")
}

// ScriptRunning reports whether the test resource reports running.
func (n *Node) ScriptRunning() bool {
	_, err := os.Stat(n.Path("state", "running"))
	return err == nil
}

// FailScript makes the node's test resource fail on "start" or "stop"
// (fail true) or work again. A stop failure is refused for 3.0.6 nodes,
// whose ResourceManager answers it with a reboot.
func (n *Node) FailScript(action string, fail bool) {
	t := n.Lab.T
	t.Helper()
	if action == "stop" && fail && n.Kind == Heartbeat {
		t.Fatalf("lab: refusing a stop failure on a 3.0.6 node (it reboots)")
	}
	f := n.Path("state", "fail-"+action)
	if fail {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatalf("lab: %v", err)
		}
		return
	}
	os.Remove(f)
}

// WaitScript waits up to d for the test resource to be running (or
// stopped) on the node and reports whether it got there.
func (n *Node) WaitScript(running bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for n.ScriptRunning() != running {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// WaitLog waits up to d for a log line matching the regular expression
// and returns it; it fails the test on timeout.
func (n *Node) WaitLog(re string, d time.Duration) string {
	t := n.Lab.T
	t.Helper()
	if s, ok := n.WaitLogOK(re, d); ok {
		return s
	}
	t.Fatalf("lab: %s: no log line matching %q within %v\n%s", n.Name, re, d, n.Lab.LogTails(40))
	return ""
}

// WaitLogOK is WaitLog without failing: it reports whether a line matched.
func (n *Node) WaitLogOK(re string, d time.Duration) (string, bool) {
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for {
		if m := rx.FindString(n.Log()); m != "" {
			return m, true
		}
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CountLog counts log lines matching the regular expression.
func (n *Node) CountLog(re string) int {
	return len(regexp.MustCompile(re).FindAllStringIndex(n.Log(), -1))
}

// Generation returns the node's /var/lib/heartbeat/hb_generation bytes.
func (n *Node) Generation() []byte {
	b, _ := os.ReadFile(n.Path("lib", "hb_generation"))
	return b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
