package heartbeat

// Root tests: two habox nodes and a client in network namespaces (the lab
// package: veth, a bridge LAN, a private heartbeat link, a pty pair as
// serial link), real IPaddr, real UDP/serial, ms timings.

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"habox/applets/heartbeat/resources"
	"habox/hw/hwtest"
	"habox/hw/serial"
	"habox/lab"
)

const (
	tKeepalive = 100 * time.Millisecond
	tDeadtime  = time.Second
)

func newLab(t *testing.T, o lab.Options) *lab.Lab {
	t.Helper()
	hwtest.RequireRoot(t)
	hwtest.RequireCmd(t, "socat")
	if o.Keepalive == 0 {
		o.Keepalive, o.Deadtime, o.Warntime, o.Initdead = tKeepalive, tDeadtime, 500*time.Millisecond, 2*time.Second
	}
	if ok, msg := lab.HaboxDaemonReady(t); !ok {
		t.Fatalf("habox heartbeat not usable: %s", msg)
	}
	return lab.New(t, o)
}

func holders(l *lab.Lab) string {
	var s []string
	for _, i := range l.Holders() {
		s = append(s, l.Nodes[i].Name)
	}
	return strings.Join(s, "+")
}

// arpWatch captures ARP on the client's bridge and reports whether a
// gratuitous ARP for the VIP (sender IP = VIP) was seen.
type arpWatch struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	seen bool
	done chan struct{}
}

func watchGARP(t *testing.T, l *lab.Lab) *arpWatch {
	hwtest.RequireCmd(t, "tcpdump")
	w := &arpWatch{done: make(chan struct{})}
	w.cmd = l.Client.Command("tcpdump", "-l", "-n", "-i", "br0", "arp")
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.cmd.Process.Kill(); w.cmd.Wait() })
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			// "Request who-has 10.77.0.3 tell 10.77.0.3" or "Reply 10.77.0.3 is-at ..."
			if strings.Contains(line, "tell "+lab.VIP+",") || strings.Contains(line, "Reply "+lab.VIP+" is-at") {
				w.mu.Lock()
				w.seen = true
				w.mu.Unlock()
			}
		}
	}()
	time.Sleep(300 * time.Millisecond) // let tcpdump attach
	return w
}

func (w *arpWatch) Seen(d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		w.mu.Lock()
		s := w.seen
		w.mu.Unlock()
		if s {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// TestFailover runs, for each auto_failback mode, on bcast + serial: the
// start-up negotiation, a hard failure (SIGKILL + links cut) with the VIP
// answering from node 2 and a GARP on the LAN, the failback per mode, and
// a graceful stop that hands over without waiting for deadtime.
func TestFailover(t *testing.T) {
	for _, mode := range []string{"legacy", "on", "off"} {
		t.Run(mode, func(t *testing.T) {
			l := newLab(t, lab.Options{AutoFailback: mode, Serial: true})
			l.Start()
			l.WaitOwner(0, 10*time.Second)
			n1, n2 := l.Nodes[0], l.Nodes[1]
			// The start-up negotiation of the mode (spec 5.4).
			n1.WaitLog(`received ip-request-resp `+lab.VIP+`/24/eth0 OK (yes|no)`, 2*time.Second)
			if mode == "legacy" {
				if n1.CountLog(`transition completed`) != 0 {
					t.Errorf("nice_failback messages in legacy mode")
				}
			} else {
				for _, n := range l.Nodes {
					n.WaitLog(`(remote|local) resource transition completed\.`, 3*time.Second)
					n.WaitLog(`Initial resource acquisition complete`, 3*time.Second)
					if c := n.CountLog(`No one owns|Both machines own`); c != 0 {
						t.Errorf("%s: %d resource audit errors at start-up\n%s", n.Name, c, n.Log())
					}
				}
			}
			if got := l.ClientReaches(2 * time.Second); got != 0 {
				t.Fatalf("client reaches node %d before failure", got)
			}
			p, err := lab.StartProber(l.Client, 10*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			garp := watchGARP(t, l)
			limit := 5 * time.Second
			if mode == "on" {
				// Past the start-up dt boost (deadtime+2 s for 5 s, as
				// 3.0.6): the outage is then deadtime plus the takeover.
				time.Sleep(5 * time.Second)
				limit = tDeadtime + 1500*time.Millisecond
			}
			time.Sleep(200 * time.Millisecond)

			at := n1.HardFail()
			l.WaitOwner(1, 10*time.Second)
			out, err := outage(p, 0, 1, at)
			if err != nil {
				t.Fatalf("no answer from node 2 after the failure: %v\n%s", err, l.LogTails(30))
			}
			t.Logf("%s: hard failure outage %v", mode, out)
			if out > limit {
				t.Errorf("hard failure outage %v > %v", out, limit)
			}
			if !garp.Seen(3 * time.Second) {
				t.Errorf("no gratuitous ARP for %s seen by the client", lab.VIP)
			}
			n2.WaitLog(`Resources being acquired from `+n1.Name, 2*time.Second)
			n2.WaitLog(`node `+n1.Name+`: is dead`, time.Second)

			// node 1 comes back.
			n1.Recover()
			n1.Start()
			l.WaitBothActive(10 * time.Second)
			back := 0
			if mode == "off" {
				back = 1
				time.Sleep(3 * time.Second)
				if h := holders(l); h != n2.Name {
					t.Fatalf("auto_failback off: holders %q, want %s\n%s", h, n2.Name, l.LogTails(30))
				}
			} else {
				l.WaitOwner(0, 10*time.Second)
			}

			// Graceful stop of the owner: the peer takes over at once.
			owner, other := l.Nodes[back], l.Nodes[1-back]
			time.Sleep(300 * time.Millisecond)
			at = owner.Stop(10 * time.Second)
			l.WaitOwner(1-back, 5*time.Second)
			out, err = outage(p, back, 1-back, at)
			if err != nil {
				t.Fatalf("graceful: %v\n%s", err, l.LogTails(30))
			}
			t.Logf("%s: graceful stop outage %v", mode, out)
			other.WaitLog(`Received shutdown notice from '`+owner.Name+`'`, time.Second)
			log := other.Log()
			i := strings.Index(log, "Received shutdown notice from '"+owner.Name+"'")
			if j := strings.LastIndex(log, "node "+owner.Name+": is dead"); j > i {
				// A death after the notice is normal later, but the takeover
				// must come from the notice: "Resources being acquired" right
				// after it.
				k := strings.Index(log[i:], "Resources being acquired from "+owner.Name)
				if k < 0 || i+k > j {
					t.Errorf("graceful takeover waited for deadtime:\n%s", log[i:])
				}
			}
			if !owner.Wait(5 * time.Second) {
				t.Errorf("stopped node did not exit")
			}
			if !strings.Contains(owner.Log(), owner.Name+" Heartbeat shutdown complete.") {
				t.Errorf("no shutdown complete line")
			}
		})
	}
}

// TestOneMediumLost: with bcast + serial, losing the UDP link leaves the
// cluster intact (serial carries on) and logs the dead link.
func TestOneMediumLost(t *testing.T) {
	// 115200 baud: at 19200 a 100 ms keepalive (~250-byte statuses) would
	// fill the line.
	l := newLab(t, lab.Options{AutoFailback: "on", Serial: true, Baud: 115200})
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	if err := n1.NS.Run("ip", "link", "set", "eth1", "down"); err != nil {
		t.Fatal(err)
	}
	n2.WaitLog(`Link `+n1.Name+`:eth1 dead\.`, 5*time.Second)
	time.Sleep(2 * tDeadtime)
	if h := holders(l); h != n1.Name {
		t.Fatalf("holders %q after losing one medium\n%s", h, l.LogTails(20))
	}
	if n2.CountLog(`is dead`) != 0 || n2.PeerStatus() != "active" {
		t.Fatalf("node declared dead with the serial link alive\n%s", l.LogTails(20))
	}
	n1.NS.Run("ip", "link", "set", "eth1", "up")
	n2.WaitLog(`Link `+n1.Name+`:eth1 up\.`, 5*time.Second)
}

// TestSerialOnly: a cluster whose only medium is the pty pair.
func TestSerialOnly(t *testing.T) {
	l := newLab(t, lab.Options{AutoFailback: "off", Serial: true, NoBcast: true, Baud: 115200})
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	l.Nodes[0].HardFail()
	l.WaitOwner(1, 10*time.Second)
	l.Nodes[1].WaitLog(`Link `+l.Nodes[0].Name+`:.*tty.* dead\.`, 5*time.Second)
}

// TestHealedPartition: both sides take everything during a partition;
// when it heals, two habox nodes resolve to exactly one owner (the node
// named in haresources) in one step, without restarting.
func TestHealedPartition(t *testing.T) {
	l := newLab(t, lab.Options{AutoFailback: "off"})
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	l.Partition(true)
	deadline := time.Now().Add(10 * time.Second)
	for len(l.Holders()) != 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(l.Holders()) != 2 {
		t.Fatalf("partition: holders %q\n%s", holders(l), l.LogTails(20))
	}
	l.Partition(false)
	l.WaitOwner(0, 10*time.Second)
	time.Sleep(3 * tDeadtime)
	if h := holders(l); h != l.Nodes[0].Name {
		t.Fatalf("after healing: holders %q\n%s", h, l.LogTails(30))
	}
	for _, n := range l.Nodes {
		if !n.Running() || strings.Contains(n.Log(), "Heartbeat shutdown complete") {
			t.Fatalf("%s restarted after the partition\n%s", n.Name, l.LogTails(30))
		}
		n.WaitLog(`returning after partition`, time.Second)
	}
	// The keeper announced the address again: the client reaches it.
	l.Nodes[0].WaitLog(`Announcing `+lab.VIP+`/24/eth0 again`, time.Second)
	if got := l.ClientReaches(3 * time.Second); got != 0 {
		t.Fatalf("client reaches node %d after the healed partition", got)
	}
}

// TestScriptFailure: a resource whose start fails makes the node give the
// whole group up (the VIP started before it is stopped again).
func TestScriptFailure(t *testing.T) {
	l := newLab(t, lab.Options{AutoFailback: "legacy", Script: true})
	n1 := l.Nodes[0]
	if err := os.WriteFile(n1.Path("state", "fail-start"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l.Start()
	n1.WaitLog(`CRIT: Giving up resources due to failure of hatest`, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	if n1.HoldsVIP() || n1.ScriptRunning() {
		t.Fatalf("group not released after the start failure\n%s", l.LogTails(30))
	}
	n1.WaitLog(`ERROR: Return code 1 from .*hatest`, time.Second)
	// The reasons reach ha-log under the scripts' own tags (3.0.6's
	// IPaddr agent wording for the address that did start).
	n1.WaitLog(`hatest\[\d+\]: ERROR: hatest: start failure \(test\)`, time.Second)
	ip := regexp.QuoteMeta(lab.VIP)
	n1.WaitLog(`IPaddr\(IPaddr_`+ip+`\)\[\d+\]: INFO: ifconfig eth0:0 `+ip+` netmask 255\.255\.255\.0 broadcast 10\.77\.0\.255`, time.Second)
	n1.WaitLog(`IPaddr\(IPaddr_`+ip+`\)\[\d+\]: INFO: Sending Gratuitous Arp for `+ip+` on eth0:0 \[eth0\]`, time.Second)
	n1.WaitLog(`IPaddr\(IPaddr_`+ip+`\)\[\d+\]: INFO: IP Address `+ip+` released`, time.Second)
}

// TestStandbyTakeover drives hb_standby and hb_takeover through the
// control socket.
func TestStandbyTakeover(t *testing.T) {
	l := newLab(t, lab.Options{AutoFailback: "off"})
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	n1 := l.Nodes[0]
	if out, rc := n1.Ctl("hb_standby"); rc != 0 {
		t.Fatalf("hb_standby: %d %s", rc, out)
	}
	l.WaitOwner(1, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	if out, _ := n1.Ctl("cl_status", "rscstatus"); strings.TrimSpace(out) != "none" {
		t.Errorf("rscstatus on node 1 after standby: %q", out)
	}
	if out, rc := n1.Ctl("hb_takeover", "local"); rc != 0 {
		t.Fatalf("hb_takeover: %d %s", rc, out)
	}
	l.WaitOwner(0, 10*time.Second)
}

// TestForgedAndReplayed: 1,000 packets signed with a wrong key and the
// replayed captures of a real 3.0.6 run are dropped: no failover, the
// peer stays active, the log is rate-limited.
func TestForgedAndReplayed(t *testing.T) {
	l := newLab(t, lab.Options{AutoFailback: "on"})
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	forged, err := lab.WrongKeyPayloads()
	if err != nil {
		t.Skipf("vectors: %v", err)
	}
	replay, err := lab.ReplayPayloads("sha1")
	if err != nil {
		t.Skipf("vectors: %v", err)
	}
	var all [][]byte
	for len(all) < 1000 {
		all = append(all, forged...)
	}
	all = append(all[:1000], replay...)
	dst := lab.HBPrefix + "2:694"
	n, err := lab.Flood(l.Nodes[0].NS, dst, 2000, time.Second, all)
	if err != nil || n < len(all) {
		t.Fatalf("flood sent %d/%d: %v", n, len(all), err)
	}
	time.Sleep(2 * tDeadtime)
	if h := holders(l); h != l.Nodes[0].Name {
		t.Fatalf("holders %q after forged packets\n%s", h, l.LogTails(30))
	}
	n2 := l.Nodes[1]
	if n2.PeerStatus() != "active" || n2.CountLog(`is dead`) != 0 {
		t.Fatalf("peer lost\n%s", l.LogTails(30))
	}
	if c := n2.CountLog(`bad packets so far`); c == 0 || c > 20 {
		t.Fatalf("%d bad-packet log lines (want rate-limited, > 0)", c)
	}
}

// TestConfigErrors: start is refused with the errors on stderr, exit 1,
// and -t prints the effective configuration of a good one (no root).
func TestConfigErrors(t *testing.T) {
	bin := lab.HaboxBin(t)
	dir := t.TempDir()
	write := func(name, s string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("ha.cf", "keepalive 1\ndeadtime 1\nbcast eth9\nnode alice bob\nbogus 1\n", 0o644)
	write("authkeys", "auth 1\n1 sha1 k\n", 0o644) // group/other readable: refused
	write("haresources", "carol 10.0.0.5\n", 0o644)
	cmd := exec.Command(bin, "heartbeat", "-f", "-c", dir, "-l", t.TempDir(), "-p", filepath.Join(dir, "pid"))
	cmd.Env = append(os.Environ(), "HA_NODENAME=alice")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1\n%s", err, out)
	}
	for _, want := range []string{"bogus", "Dead time", "Bad permissions on keyfile", "carol", "Heartbeat not started: configuration error."} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	write("ha.cf", "keepalive 100ms\ndeadtime 1\ninitdead 2\nbcast eth9\nnode alice bob\n", 0o644)
	os.Chmod(filepath.Join(dir, "authkeys"), 0o600)
	write("haresources", "alice 10.0.0.5\n", 0o644)
	// eth9 is another machine's interface.
	cmd = exec.Command(bin, "heartbeat", "-t", "--other-host", "-c", dir)
	cmd.Env = append(os.Environ(), "HA_NODENAME=alice")
	out, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "keepalive") {
		t.Fatalf("-t on a good configuration: %v\n%s", err, out)
	}
	// crc merely present (not active) is said plainly by -t.
	write("authkeys", "auth 1\n1 sha1 k\n2 crc\n", 0o600)
	cmd = exec.Command(bin, "heartbeat", "-t", "--other-host", "-c", dir)
	cmd.Env = append(os.Environ(), "HA_NODENAME=alice")
	out, err = cmd.CombinedOutput()
	if want := filepath.Join(dir, "authkeys") + ":3: warning: crc at index 2 is not active but is accepted"; err != nil || !strings.Contains(string(out), want) {
		t.Fatalf("-t with an inactive crc entry: %v, output lacks %q\n%s", err, want, out)
	}
	cmd = exec.Command(bin, "heartbeat", "-V")
	if out, _ := cmd.Output(); strings.TrimSpace(string(out)) != Version {
		t.Fatalf("-V: %q", out)
	}
}

// TestCommandLine: -s and -k without a daemon, and the refusal of a
// second instance (the pid file names a live process whose command line
// says heartbeat: this test binary).
func TestCommandLine(t *testing.T) {
	bin := lab.HaboxBin(t)
	dir := t.TempDir()
	pid := filepath.Join(dir, "pid")
	run := func(args ...string) (string, int) {
		cmd := exec.Command(bin, append([]string{"heartbeat"}, args...)...)
		cmd.Env = append(os.Environ(), "HA_NODENAME=alice")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := run("-s", "-p", pid); code != 1 || !strings.Contains(out, "heartbeat is stopped. No process") {
		t.Fatalf("-s: %d %q", code, out)
	}
	if out, code := run("-k", "-p", pid); code != 0 || !strings.Contains(out, "Heartbeat already stopped.") {
		t.Fatalf("-k: %d %q", code, out)
	}
	os.WriteFile(filepath.Join(dir, "ha.cf"), []byte("keepalive 100ms\ndeadtime 1\ninitdead 2\nbcast eth9\nnode alice bob\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "authkeys"), []byte("auth 1\n1 sha1 k\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "haresources"), []byte("alice 10.0.0.5\n"), 0o644)
	os.WriteFile(pid, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	want := "heartbeat: already running [pid " + strconv.Itoa(os.Getpid()) + "]."
	if out, code := run("-f", "-c", dir, "-l", dir, "-p", pid); code != 0 || !strings.Contains(out, want) {
		t.Fatalf("second instance: %d %q", code, out)
	}
	if out, code := run("-s", "-p", pid); code != 0 || !strings.Contains(out, "heartbeat OK [pid "+strconv.Itoa(os.Getpid())+" et al] is running on") {
		t.Fatalf("-s running: %d %q", code, out)
	}
	if out, code := run("-D"); code != 0 || !strings.Contains(out, "keepalive") {
		t.Fatalf("-D: %d %q", code, out)
	}
	if _, code := run("-x"); code != 2 {
		t.Fatalf("bad option: exit %d", code)
	}
}

// TestWatchdog: with `watchdog FILE` the daemon feeds 0x00 every
// keepalive and writes the magic 'V' on a clean stop.
func TestWatchdog(t *testing.T) {
	l := newLab(t, lab.Options{AutoFailback: "on", Watchdog: true})
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	n1 := l.Nodes[0]
	wd := n1.Path("watchdog")
	b1, _ := os.ReadFile(wd)
	time.Sleep(10 * tKeepalive)
	b2, _ := os.ReadFile(wd)
	if len(b2)-len(b1) < 5 || strings.Trim(string(b2), "\x00") != "" {
		t.Fatalf("watchdog fed %d bytes in 10 keepalives: %q", len(b2)-len(b1), b2)
	}
	n1.WaitLog(`Using watchdog device: `, time.Second)
	n1.Stop(10 * time.Second)
	b3, _ := os.ReadFile(wd)
	if !strings.Contains(string(b3), "V") {
		t.Fatalf("no magic close: %q", b3[len(b3)-min(len(b3), 16):])
	}
}

// outage waits up to 3 s for node to to answer the prober after the
// instant at, then measures the handover (lab.Prober.Outage).
func outage(p *lab.Prober, from, to int, at time.Time) (time.Duration, error) {
	end := time.Now().Add(3 * time.Second)
	for {
		o, err := p.Outage(from, to, at)
		if err == nil || time.Now().After(end) {
			return o, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReloadKeepsResources: SIGHUP after an ha.cf change re-executes the
// daemon (same pid, new generation) without touching the resources; the
// peer sees a restart, not a death.
func TestReloadKeepsResources(t *testing.T) {
	l := newLab(t, lab.Options{AutoFailback: "on"})
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	pid := n1.Pid()
	f, err := os.OpenFile(n1.Path("etc", "ha.cf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("# changed\n")
	f.Close()
	future := time.Now().Add(2 * time.Second)
	os.Chtimes(n1.Path("etc", "ha.cf"), future, future)
	if err := n1.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	n1.WaitLog(`ha.cf changed: restarting heartbeat, keeping resources`, 3*time.Second)
	n2.WaitLog(`Heartbeat restart on node `+n1.Name, 5*time.Second)
	l.WaitBothActive(10 * time.Second)
	time.Sleep(2 * tDeadtime)
	if h := holders(l); h != n1.Name {
		t.Fatalf("holders %q after reload\n%s", h, l.LogTails(30))
	}
	if n1.Pid() != pid || !n1.Running() {
		t.Fatalf("daemon did not re-execute in place")
	}
	if c := n1.CountLog(`Releasing resource group`); c != 0 {
		t.Fatalf("resources released during reload\n%s", n1.Log())
	}
	if c := n2.CountLog(`is dead|Resources being acquired`); c != 0 {
		t.Fatalf("peer took over during reload\n%s", n2.Log())
	}
	n1.Signal(syscall.SIGHUP)
	n1.WaitLog(`Configuration unchanged\.`, 3*time.Second)
}

// TestHealedPartition306: with a heartbeat 3.0.6 peer habox does what
// 3.0.6 does after a partition (both give up everything and restart);
// the cluster ends with exactly one owner.
func TestHealedPartition306(t *testing.T) {
	require306(t)
	l := newLab(t, lab.Options{AutoFailback: "on", Kinds: [2]lab.Kind{lab.Habox, lab.Heartbeat}})
	l.Start()
	l.WaitOwner(0, 20*time.Second)
	time.Sleep(5 * time.Second) // past the start-up dt boost
	l.Partition(true)
	deadline := time.Now().Add(15 * time.Second)
	for len(l.Holders()) != 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if len(l.Holders()) != 2 {
		t.Fatalf("partition: holders %q\n%s", holders(l), l.LogTails(20))
	}
	l.Partition(false)
	n1 := l.Nodes[0]
	n1.WaitLog(`Cluster node `+l.Nodes[1].Name+` returning after partition\.`, 5*time.Second)
	n1.WaitLog(`Heartbeat shutdown complete\.`, 10*time.Second)
	stable := 0
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end) && stable < 20; time.Sleep(100 * time.Millisecond) {
		if len(l.Holders()) == 1 {
			stable++
		} else {
			stable = 0
		}
	}
	if stable < 20 {
		t.Fatalf("no single owner after the healed partition: %q\n%s", holders(l), l.LogTails(40))
	}
	if !n1.Running() {
		t.Fatal("habox did not restart")
	}
}

// TestStopFailureFences: a resource that cannot be stopped during a
// graceful stop makes the node fence itself with the watchdog (3.0.6
// reboots): it goes silent without shutdone, stops feeding the watchdog,
// and the peer takes over after deadtime.
func TestStopFailureFences(t *testing.T) {
	t.Setenv("HA_STOPRETRYMAX", "1")
	l, n1, n2 := scriptLab(t, lab.Options{AutoFailback: "on", Watchdog: true})
	os.WriteFile(n1.Path("state", "fail-stop"), nil, 0o644)
	n1.Signal(syscall.SIGTERM)
	n1.WaitLog(`Retrying failed stop operation \[hatest\]`, 5*time.Second)
	n1.WaitLog(`CRIT: Resource STOP failure\. Reboot required!`, 5*time.Second)
	n1.WaitLog(`Fencing this node`, 2*time.Second)
	n2.WaitLog(`node `+n1.Name+`: is dead`, 5*time.Second)
	l.WaitOwner(1, 10*time.Second)
	if n2.CountLog(`Received shutdown notice`) != 0 {
		t.Fatalf("a fenced node sent shutdone\n%s", n2.Log())
	}
	b1, _ := os.ReadFile(n1.Path("watchdog"))
	time.Sleep(5 * tKeepalive)
	b2, _ := os.ReadFile(n1.Path("watchdog"))
	if len(b2) != len(b1) {
		t.Fatalf("fenced node still feeds its watchdog")
	}
	if !n1.Running() {
		t.Fatal("fenced node exited (it must wait for the reset)")
	}
}

// TestHangingScripts: resource actions are bounded (HABOX_RSC_TIMEOUT
// from an ha.cf env line). Node 1's stop hangs during heartbeat -k: it
// times out, is not retried, and takes the stop-failure path (fencing
// with the watchdog, so the daemon stays up) while -k itself gives up
// after HABOX_KILL_TIMEOUT. Node 2 takes over; its start hangs, times
// out and is a failed start. Each hung script's process group is gone.
func TestHangingScripts(t *testing.T) {
	l, n1, n2 := scriptLab(t, lab.Options{AutoFailback: "on", Watchdog: true, ExtraHaCf: "env HABOX_RSC_TIMEOUT=1\n"})
	os.WriteFile(n1.Path("state", "hang-stop"), nil, 0o644)
	os.WriteFile(n2.Path("state", "hang-start"), nil, 0o644)
	t0 := time.Now()
	kill := n1.Command("env", "HABOX_KILL_TIMEOUT=4", lab.HaboxBin(t), "heartbeat", "-k")
	var out strings.Builder
	kill.Stdout, kill.Stderr = &out, &out
	if err := kill.Start(); err != nil {
		t.Fatal(err)
	}
	// Bounded here too: before the fix, -k never returned.
	timer := time.AfterFunc(20*time.Second, func() { kill.Process.Kill() })
	err := kill.Wait()
	timer.Stop()
	ee, _ := err.(*exec.ExitError)
	if took := time.Since(t0); ee == nil || ee.ExitCode() != 1 || !strings.Contains(out.String(), "still running after 4 s (HABOX_KILL_TIMEOUT)") {
		t.Fatalf("heartbeat -k: %v after %v: %q\n%s", err, took, out.String(), l.LogTails(30))
	}
	n1.WaitLog(`ERROR: .*hatest stop timed out after 1 s \(HABOX_RSC_TIMEOUT\): its process group was killed`, 5*time.Second)
	n1.WaitLog(`CRIT: Resource STOP failure\. Reboot required!`, 2*time.Second)
	n1.WaitLog(`Fencing this node`, 2*time.Second)
	if n1.CountLog(`Retrying failed stop operation`) != 0 {
		t.Fatalf("a stop that timed out was retried\n%s", n1.Log())
	}
	assertGroupGone(t, n1)
	n2.WaitLog(`ERROR: .*hatest start timed out after 1 s`, 15*time.Second)
	n2.WaitLog(`CRIT: Giving up resources due to failure of hatest`, 2*time.Second)
	assertGroupGone(t, n2)
}

// TestKilledDuringRelease: heartbeat is killed -9 while its graceful stop
// hangs in a script (an operator's answer to a stop that does not end).
// The hung script dies with it. The box still holds the address and the
// resource, which bob takes over too; the restarted heartbeat finds its
// pid file left behind, makes the group idle first (3.0.6's verifyallidle
// warning) and joins: one holder again. Before, both kept the address.
func TestKilledDuringRelease(t *testing.T) {
	l, n1, n2 := scriptLab(t, lab.Options{AutoFailback: "off"})
	os.WriteFile(n1.Path("state", "hang-stop"), nil, 0o644)
	n1.Signal(syscall.SIGTERM)
	hung := hangPid(n1, 5*time.Second)
	if hung == 0 {
		t.Fatalf("the stop did not hang\n%s", l.LogTails(20))
	}
	t.Cleanup(func() { syscall.Kill(-hung, syscall.SIGKILL) }) // its sleep
	n1.KillDaemon()
	for end := time.Now().Add(2 * time.Second); !lab.ProcessGone(hung) && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	if !lab.ProcessGone(hung) {
		t.Fatalf("the hung stop script %d outlived heartbeat", hung)
	}
	os.Remove(n1.Path("state", "hang-stop"))
	n2.WaitLog(`node `+n1.Name+`: is dead`, 5*time.Second)
	n2.WaitLog(`mach_down takeover complete`, 10*time.Second)
	if h := holders(l); h != n1.Name+"+"+n2.Name || !n1.ScriptRunning() {
		t.Fatalf("holders %q, script on node 1 %v: not the half-released box this test is about", h, n1.ScriptRunning())
	}
	n1.Start()
	n1.WaitLog(`WARN: heartbeat \[\d+\] ended without shutting down`, 5*time.Second)
	n1.WaitLog(`CRIT: Resource \S+ is active, and should not be!`, 5*time.Second)
	n1.WaitLog(`Releasing resource group`, 5*time.Second)
	l.WaitOwner(1, 10*time.Second)
	if !n1.WaitScript(false, 5*time.Second) || !n2.ScriptRunning() {
		t.Fatalf("test resource: node 1 %v, node 2 %v\n%s", n1.ScriptRunning(), n2.ScriptRunning(), l.LogTails(30))
	}
	l.WaitBothActive(10 * time.Second)
	if h := holders(l); h != n2.Name {
		t.Fatalf("holders %q after node 1 joined", h)
	}
}

// scriptLab starts a lab whose node 1 runs the VIP and the test script
// resource, and waits until it does.
func scriptLab(t *testing.T, o lab.Options) (l *lab.Lab, n1, n2 *lab.Node) {
	t.Helper()
	o.Script = true
	l = newLab(t, o)
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	n1, n2 = l.Nodes[0], l.Nodes[1]
	if !n1.WaitScript(true, 5*time.Second) {
		t.Fatal("test resource not running on node 1")
	}
	return l, n1, n2
}

// hangPid waits up to d for the node's hung test script to write its pid
// (STATE/hang.pid) and returns it, 0 if none.
func hangPid(n *lab.Node, d time.Duration) int {
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(n.Path("state", "hang.pid"))
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 1 {
			return pid
		}
		if !time.Now().Before(end) {
			return 0
		}
	}
}

// assertGroupGone checks that the process group of the node's hung test
// script (STATE/hang.pid) has no member left.
func assertGroupGone(t *testing.T, n *lab.Node) {
	t.Helper()
	pgid := hangPid(n, 0)
	if pgid == 0 {
		t.Fatalf("%s: no hung script (STATE/hang.pid)", n.Name)
	}
	for end := time.Now().Add(2 * time.Second); !resources.GroupGone(pgid) && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	if !resources.GroupGone(pgid) {
		t.Fatalf("%s: the hung script's process group %d still has members", n.Name, pgid)
	}
}

func require306(t *testing.T) {
	t.Helper()
	hwtest.RequireFile(t, lab.HB306, "heartbeat 3.0.6 (Debian package heartbeat)")
}

// TestMixed306 checks the R1 protocols that the lab's interop test does
// not: legacy mode (ip-request / ip-request-resp) in both roles, and the
// standby protocol driven by hb_takeover from each side.
func TestMixed306(t *testing.T) {
	require306(t)
	t.Run("legacy", func(t *testing.T) {
		l := newLab(t, lab.Options{AutoFailback: "legacy", Kinds: [2]lab.Kind{lab.Habox, lab.Heartbeat}})
		l.Start()
		l.WaitOwner(0, 20*time.Second)
		l.Nodes[0].HardFail()
		l.WaitOwner(1, 20*time.Second)
		l.Nodes[0].Recover()
		l.Nodes[0].Start()
		l.WaitBothActive(20 * time.Second)
		// habox asks 3.0.6 for its group back (ip-request).
		l.WaitOwner(0, 20*time.Second)
		l.Nodes[0].WaitLog(`received ip-request-resp .* OK yes`, 5*time.Second)
	})
	t.Run("standby", func(t *testing.T) {
		l := newLab(t, lab.Options{AutoFailback: "off", Kinds: [2]lab.Kind{lab.Heartbeat, lab.Habox}})
		l.Start()
		l.WaitOwner(0, 20*time.Second)
		time.Sleep(tDeadtime + 500*time.Millisecond) // both stable
		if out, rc := l.Nodes[1].Ctl("hb_takeover", "all"); rc != 0 {
			t.Fatalf("habox hb_takeover: %d %s", rc, out)
		}
		l.WaitOwner(1, 20*time.Second)
		l.Nodes[1].WaitLog(`Standby resource acquisition done \[all\]\.`, 10*time.Second)
		if out, rc := l.Nodes[0].Ctl("hb_takeover", "all"); rc != 0 {
			t.Fatalf("3.0.6 hb_takeover: %d %s", rc, out)
		}
		l.WaitOwner(0, 20*time.Second)
		l.Nodes[1].WaitLog(`Other node completed standby takeover of all resources\.`, 10*time.Second)
	})
}

// TestUnicastAndMulticast: the other UDP media (ucast lines for both
// nodes, as one shared ha.cf would have them; mcast on the heartbeat
// link) carry a cluster through a hard failure.
func TestUnicastAndMulticast(t *testing.T) {
	for name, extra := range map[string]string{
		"ucast": "ucast eth1 " + lab.HBPrefix + "1\nucast eth1 " + lab.HBPrefix + "2\n",
		"mcast": "mcast eth1 239.0.0.42 694 1 0\n",
	} {
		t.Run(name, func(t *testing.T) {
			l := newLab(t, lab.Options{AutoFailback: "on", NoBcast: true, ExtraHaCf: extra})
			l.Start()
			l.WaitOwner(0, 10*time.Second)
			l.Nodes[0].HardFail()
			l.WaitOwner(1, 10*time.Second)
		})
	}
}

// TestSerialLockDirAndFailedLink: node1's image lacks the lock directory
// (/var/lock -> /run/lock, /run/lock missing): habox creates it and its
// serial link works. node2's line is locked by another live program: the
// link is reported failed (ERROR line, cl_status "failed", heartbeat -s)
// rather than silent, until the lock goes away and the link comes up.
func TestSerialLockDirAndFailedLink(t *testing.T) {
	l := newLab(t, lab.Options{AutoFailback: "off", Serial: true, Baud: 115200})
	n1, n2 := l.Nodes[0], l.Nodes[1]
	if err := os.RemoveAll(n1.Path("run", "lock")); err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("sleep", "60")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	lockFile := n2.Path("run", "lock", serial.LockName(l.TTY(1)))
	os.WriteFile(lockFile, []byte(strconv.Itoa(holder.Process.Pid)+"\n"), 0o644)
	l.Start()

	n1.WaitLog(`WARN: glib: lock directory /var/lock was missing: created it \(mode 1777\)`, 5*time.Second)
	if fi, err := os.Stat(n1.Path("run", "lock")); err != nil || fi.Mode() != os.ModeDir|os.ModeSticky|0o777 {
		t.Errorf("node1 lock dir: %v %v", fi, err)
	}
	n2.WaitLog(`ERROR: glib: serial heartbeat link `+l.TTY(1)+` FAILED \(nothing sent or heard on it\): cannot lock line `+l.TTY(1)+`: .*device locked by pid `+strconv.Itoa(holder.Process.Pid), 5*time.Second)
	for _, node := range []string{n1.Name, n2.Name} {
		if out, rc := n2.Ctl("cl_status", "hblinkstatus", node, l.TTY(1)); strings.TrimSpace(out) != "failed" || rc == 0 {
			t.Errorf("cl_status hblinkstatus %s %s: %q rc %d, want failed", node, l.TTY(1), out, rc)
		}
	}
	if out, _ := n2.Exec(lab.HaboxBin(t), "heartbeat", "-s"); !strings.Contains(out, "heartbeat link "+l.TTY(1)+" FAILED: cannot lock line") {
		t.Errorf("heartbeat -s: %q", out)
	}
	if out, _ := n1.Exec(lab.HaboxBin(t), "heartbeat", "-s"); strings.Contains(out, "FAILED") {
		t.Errorf("heartbeat -s on the working node: %q", out)
	}

	holder.Process.Kill()
	holder.Wait()
	n2.WaitLog(`info: glib: serial line `+l.TTY(1)+` reopened`, 15*time.Second)
	n2.WaitLog(`Link `+n1.Name+`:`+l.TTY(1)+` up\.`, 5*time.Second)
	if out, _ := n2.Exec(lab.HaboxBin(t), "heartbeat", "-s"); strings.Contains(out, "FAILED") {
		t.Errorf("heartbeat -s after recovery: %q", out)
	}
}

// TestStaleSerialFrames: on a serial-only cluster the line
// stalls (socat stopped) while node 1 stops gracefully, so its status and
// shutdone frames stay in the line's buffer; node 2 declares it dead and
// takes the group over; node 1 starts again, alone, and takes its group
// too. When the line moves again node 2 receives the old run's frames
// (among them the shutdone) and then the new run's: both nodes claim the
// group in their statuses. The double ownership must be resolved within
// a bounded time (the grace of one deadtime plus the release), leaving
// the group on node 1, the node named in haresources, with both daemons
// running.
func TestStaleSerialFrames(t *testing.T) {
	l := newLab(t, lab.Options{AutoFailback: "off", Serial: true, NoBcast: true, Baud: 115200})
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	l.SerialBlock(true)
	n1.Stop(10 * time.Second)
	l.WaitOwner(1, 10*time.Second)
	n1.Start()
	n1.WaitLog(`node `+n2.Name+`: is dead`, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for len(l.Holders()) != 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if h := holders(l); h != n1.Name+"+"+n2.Name {
		t.Fatalf("set-up: holders %q, want both\n%s", h, l.LogTails(30))
	}
	l.SerialBlock(false)
	at := time.Now()
	// Bound: the frames flow again (deadtime), the grace (deadtime), the
	// release (IPaddr stop), with margin for a loaded machine.
	limit := 3*tDeadtime + 3*time.Second
	for time.Since(at) < limit && holders(l) != n1.Name {
		time.Sleep(50 * time.Millisecond)
	}
	if h := holders(l); h != n1.Name {
		t.Fatalf("%v after the line moved again: holders %q, want %s\n%s", time.Since(at).Round(time.Millisecond), h, n1.Name, l.LogTails(40))
	}
	t.Logf("double ownership resolved %v after the line moved again", time.Since(at).Round(time.Millisecond))
	time.Sleep(3 * tDeadtime)
	if h := holders(l); h != n1.Name {
		t.Fatalf("later: holders %q\n%s", h, l.LogTails(40))
	}
	for _, n := range l.Nodes {
		if !n.Running() {
			t.Fatalf("%s stopped\n%s", n.Name, l.LogTails(40))
		}
	}
	// The group is node 1's local one (node 2 has none of its own): node 1
	// holds local, node 2 not foreign.
	for i, n := range l.Nodes {
		out, _ := n.Ctl("cl_status", "rscstatus")
		st := strings.TrimSpace(out)
		if ok := map[string]bool{"local": i == 0, "all": i == 0, "none": i == 1}[st] || (i == 1 && st == "local"); !ok {
			t.Errorf("%s rscstatus %q", n.Name, st)
		}
	}
}

// TestOneNodeHaCf: an ha.cf naming only this node (its peer
// is not installed yet) acquires its group after initdead in every mode,
// reports a holding (not "transition") and stops at once on SIGTERM.
func TestOneNodeHaCf(t *testing.T) {
	for _, mode := range []string{"off", "on", "legacy"} {
		t.Run(mode, func(t *testing.T) {
			l := newLab(t, lab.Options{AutoFailback: mode})
			n1 := l.Nodes[0]
			cf := n1.Path("etc", "ha.cf")
			b, err := os.ReadFile(cf)
			if err != nil {
				t.Fatal(err)
			}
			one := strings.Replace(string(b), "node "+l.Nodes[1].Name+"\n", "", 1)
			if one == string(b) {
				t.Fatalf("no node line for %s in\n%s", l.Nodes[1].Name, b)
			}
			if err := os.WriteFile(cf, []byte(one), 0o644); err != nil {
				t.Fatal(err)
			}
			n1.Start()
			l.WaitOwner(0, l.Opts.Initdead+5*time.Second)
			n1.WaitLog(`Initial resource acquisition complete`, 2*time.Second)
			// Stable once the start job ended (before: "transition" for ever).
			st := ""
			for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
				out, _ := n1.Ctl("cl_status", "rscstatus")
				if st = strings.TrimSpace(out); st != "transition" {
					break
				}
			}
			if st == "transition" {
				t.Errorf("rscstatus %q", st)
			}
			n1.Stop(5 * time.Second)
			n1.WaitLog(n1.Name+` Heartbeat shutdown complete\.`, 2*time.Second)
			if log := n1.Log(); strings.Contains(log, "Shutdown delayed") {
				t.Errorf("shutdown delayed:\n%s", log)
			}
			if n1.HoldsVIP() {
				t.Errorf("VIP still up after the stop")
			}
		})
	}
}

// TestMixedNiceFailback: both ha.cf files say the guide's
// `nice_failback on`; habox reads it as auto_failback off, heartbeat 3.0.6
// as auto_failback legacy, so 3.0.6 never answers habox's "starting".
// habox notices, says so, and acquires its group the legacy way
// (ip-request), so the pair behaves as legacy: the group always fails
// back to the node named in haresources, with one owner at every step.
// (Before, habox waited in "transition" for ever and took nothing.)
func TestMixedNiceFailback(t *testing.T) {
	require306(t)
	l := newLab(t, lab.Options{AutoFailback: "legacy", Kinds: [2]lab.Kind{lab.Habox, lab.Heartbeat}})
	for _, n := range l.Nodes {
		cf := n.Path("etc", "ha.cf")
		b, err := os.ReadFile(cf)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.Replace(string(b), "auto_failback legacy\n", "nice_failback on\n", 1)
		if err := os.WriteFile(cf, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n1, n2 := l.Nodes[0], l.Nodes[1]
	l.Start()
	l.WaitOwner(0, 10*time.Second)
	n1.WaitLog(`Node `+n2.Name+` does not answer the nice_failback protocol`, time.Second)
	n1.WaitLog(`received ip-request-resp `+lab.VIP+`/24/eth0 OK no`, time.Second)
	if out, _ := n1.Ctl("cl_status", "rscstatus"); strings.TrimSpace(out) == "transition" {
		t.Errorf("habox rscstatus %q", strings.TrimSpace(out))
	}
	n1.HardFail()
	l.WaitOwner(1, 20*time.Second)
	n1.Recover()
	n1.Start()
	l.WaitBothActive(20 * time.Second)
	l.WaitOwner(0, 10*time.Second) // legacy: it fails back
	n1.WaitLog(`received ip-request-resp `+lab.VIP+`/24/eth0 OK yes`, time.Second)
}

// TestInitVerbs: heartbeat start|stop|status|restart|reload,
// the guide's rc.local line and init-script habit, act like the options
// they stand for, on a real daemon in a private namespace.
func TestInitVerbs(t *testing.T) {
	bin := lab.HaboxBin(t)
	ns := hwtest.NewNetns(t, "firstiv")
	dir := t.TempDir()
	pidf := filepath.Join(dir, "pid")
	os.WriteFile(filepath.Join(dir, "ha.cf"), []byte("logfile "+filepath.Join(dir, "ha-log")+"\nkeepalive 100ms\ndeadtime 1\ninitdead 2\nucast lo 127.0.0.1\nnode alice bob\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "authkeys"), []byte("auth 1\n1 sha1 k\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "haresources"), nil, 0o644)
	run := func(args ...string) (string, int) {
		t.Helper()
		args = append([]string{"-c", dir, "-l", dir, "-p", pidf, "-S", filepath.Join(dir, "ctl")}, args...)
		cmd := ns.Command(bin, append([]string{"heartbeat"}, args...)...)
		cmd.Env = append(os.Environ(), "HA_NODENAME=alice", "HABOX_RUNDIR="+dir)
		cmd.WaitDelay = 20 * time.Second
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	pid := func() string { b, _ := os.ReadFile(pidf); return strings.TrimSpace(string(b)) }
	t.Cleanup(func() { run("stop") })
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"status"}, 1, "heartbeat is stopped. No process"},
		{[]string{"stop"}, 0, "Heartbeat already stopped."},
		{[]string{"start"}, 0, ""},
		{[]string{"status"}, 0, "heartbeat OK [pid "},
		{[]string{"start"}, 0, "already running"},
		{[]string{"reload"}, 0, "to reread config files"},
		{[]string{"restart"}, 0, ""},
		{[]string{"status"}, 0, "heartbeat OK [pid "},
		{[]string{"stop"}, 0, ""},
		{[]string{"status"}, 1, "heartbeat is stopped. No process"},
		{[]string{"bogus"}, 2, "unexpected argument bogus"},
		{[]string{"-s", "status"}, 2, "-s and status given"},
		{[]string{"start", "now"}, 2, "unexpected argument now"},
	}
	var before string
	for _, s := range steps {
		if s.args[0] == "restart" {
			before = pid()
		}
		out, code := run(s.args...)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Fatalf("heartbeat %v: exit %d %q, want %d %q", s.args, code, out, s.code, s.want)
		}
		if s.args[0] == "restart" {
			if after := pid(); after == before || after == "" {
				t.Errorf("restart: pid %q -> %q", before, after)
			}
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "ha-log"))
	for _, w := range []string{"Configuration unchanged", "Heartbeat shutdown complete"} {
		if !strings.Contains(string(log), w) {
			t.Errorf("ha-log lacks %q:\n%s", w, log)
		}
	}
}

// TestCRCWarnedAtStartup: a cluster authenticated with crc works (3.0.6
// compatible) but each daemon's start-up log says plainly that crc
// authenticates nothing.
func TestCRCWarnedAtStartup(t *testing.T) {
	l := newLab(t, lab.Options{Auth: "crc"})
	l.Start()
	for _, n := range l.Nodes {
		n.WaitLog(`WARN: crc at index 1 is active: crc only detects corruption and authenticates nothing; anyone who can send on the heartbeat links can forge any message`, time.Second)
	}
}
