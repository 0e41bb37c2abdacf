package faultsuite

import (
	"bytes"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"habox/hw/hwtest"
	"habox/lab"
)

// kind is the daemon under test: habox, or 3.0.6 to validate the suite.
func kind(t *testing.T) lab.Kind {
	t.Helper()
	hwtest.RequireRoot(t)
	for _, c := range []string{"unshare", "nsenter", "nft", "socat"} {
		hwtest.RequireCmd(t, c)
	}
	if os.Getenv("HABOX_FAULT_KIND") == "heartbeat" {
		if _, err := os.Stat(lab.HB306); err != nil {
			t.Skipf("skipping: %s not installed", lab.HB306)
		}
		return lab.Heartbeat
	}
	if ok, msg := lab.HaboxDaemonReady(t); !ok {
		t.Skipf("skipping: habox heartbeat daemon not implemented yet (%s)", msg)
	}
	return lab.Habox
}

// cluster is a started lab with the client probing and a watcher that
// records every VIP holder change.
type cluster struct {
	*lab.Lab
	t     *testing.T
	p     *lab.Prober
	files [2]map[string][]byte
	gen   [2][]byte
	wd0   [2]int64

	mu       sync.Mutex
	changes  []change
	stopW    chan struct{}
	watchers sync.WaitGroup
}

type change struct {
	at      time.Time
	holders []int
}

// start builds and starts a two-node cluster of kind k and waits until
// node1 serves the client.
func start(t *testing.T, k lab.Kind, o lab.Options) *cluster {
	t.Helper()
	o.Kinds = [2]lab.Kind{k, k}
	if k == lab.Heartbeat {
		o.Watchdog = false
	}
	c := &cluster{Lab: lab.New(t, o), t: t, stopW: make(chan struct{})}
	c.Start()
	c.WaitOwner(0, 30*time.Second)
	p, err := lab.StartProber(c.Client, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c.p = p
	t.Cleanup(func() { close(c.stopW); c.watchers.Wait(); p.Stop() })
	if _, ok := p.WaitAnswer(0, time.Now(), 5*time.Second); !ok {
		t.Fatalf("client does not reach node1\n%s", c.LogTails(30))
	}
	for i, n := range c.Nodes {
		c.files[i] = map[string][]byte{}
		if k == lab.Keepalived {
			continue // only watched for VIP holder changes
		}
		for _, f := range []string{"ha.cf", "haresources", "authkeys"} {
			b, err := os.ReadFile(n.Path("etc", f))
			if err != nil {
				t.Fatal(err)
			}
			c.files[i][f] = b
		}
		c.gen[i] = n.Generation()
		if o.Watchdog {
			c.wd0[i] = fileSize(n.WatchdogFile())
		}
	}
	c.watchers.Add(1)
	go c.watch()
	return c
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return -1
	}
	return st.Size()
}

// watch samples the VIP holders every 50 ms and records changes (from
// the state at its start).
func (c *cluster) watch() {
	defer c.watchers.Done()
	last := c.Holders()
	for {
		select {
		case <-c.stopW:
			return
		case <-time.After(50 * time.Millisecond):
		}
		h := c.Holders()
		if !equal(h, last) {
			c.mu.Lock()
			c.changes = append(c.changes, change{time.Now(), h})
			c.mu.Unlock()
			last = h
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// changesSince returns the holder changes recorded after t0.
func (c *cluster) changesSince(t0 time.Time) []change {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []change
	for _, x := range c.changes {
		if x.at.After(t0) {
			out = append(out, x)
		}
	}
	return out
}

// noFailover asserts that node1 kept the service alone since t0: no holder
// change, node2 never declared node1 dead, the client kept reaching node1.
func (c *cluster) noFailover(t0 time.Time) {
	c.t.Helper()
	if ch := c.changesSince(t0); len(ch) > 0 {
		c.t.Errorf("VIP holders changed: %v\n%s", ch, c.LogTails(40))
	}
	if n := c.Nodes[1].CountLog(`node ` + c.Nodes[0].Name + `: is dead`); n > 0 {
		c.t.Errorf("%s declared %s dead %d times", c.Nodes[1].Name, c.Nodes[0].Name, n)
	}
	if sw := c.p.Switches(t0); sw > 0 {
		c.t.Errorf("the client saw the answering node change %d times", sw)
	}
}

// invariants checks what every case must leave behind: exactly one node
// holds the service, the client reaches it, configuration files and
// hb_generation unchanged, both daemons running, the watchdog fed.
func (c *cluster) invariants() int {
	c.t.Helper()
	var h []int
	deadline := time.Now().Add(10 * time.Second)
	for {
		h = c.Holders()
		if len(h) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(h) != 1 {
		c.t.Fatalf("VIP holders %v, want exactly one\n%s", h, c.LogTails(40))
	}
	if _, ok := c.p.WaitAnswer(h[0], time.Now(), 5*time.Second); !ok {
		c.t.Errorf("client does not reach the holder %s", c.Nodes[h[0]].Name)
	}
	for i, n := range c.Nodes {
		for f, want := range c.files[i] {
			got, err := os.ReadFile(n.Path("etc", f))
			if err != nil || !bytes.Equal(got, want) {
				c.t.Errorf("%s: %s changed or unreadable (%v)", n.Name, f, err)
			}
		}
		if st, err := os.Stat(n.Path("etc", "authkeys")); err != nil || st.Mode().Perm() != 0o600 {
			c.t.Errorf("%s: authkeys mode changed: %v %v", n.Name, st.Mode(), err)
		}
		if g := n.Generation(); len(g) == 0 || !bytes.Equal(g, c.gen[i]) {
			c.t.Errorf("%s: hb_generation %q, was %q", n.Name, g, c.gen[i])
		}
		if !n.Running() {
			c.t.Errorf("%s: daemon not running\n%s", n.Name, c.LogTails(30))
		}
		if c.Opts.Watchdog {
			if sz := fileSize(n.WatchdogFile()); sz <= c.wd0[i] {
				c.t.Errorf("%s: watchdog not fed (size %d, was %d)", n.Name, sz, c.wd0[i])
			}
			if b, _ := os.ReadFile(n.WatchdogFile()); bytes.IndexByte(b, 'V') >= 0 {
				c.t.Errorf("%s: watchdog magic-closed while running", n.Name)
			}
		}
	}
	return h[0]
}

// TestFaultMediumLost: with bcast + serial, losing either medium does not
// fail over, logs "Link …dead." and, when it returns, "Link … up.". The
// watchdog (a regular file) is fed with 0x00, and a graceful stop ends it
// with the magic 'V'.
func TestFaultMediumLost(t *testing.T) {
	k := kind(t)
	t.Parallel()
	c := start(t, k, lab.Options{Keepalive: 100 * time.Millisecond, Deadtime: time.Second, Serial: true, Watchdog: true})
	n1, n2 := c.Nodes[0], c.Nodes[1]
	t0 := time.Now()
	for _, m := range []struct {
		link     string // as node1 names its link to node2
		down, up func()
	}{
		{"eth1", func() { n2.NS.Run("ip", "link", "set", "eth1", "down") }, func() { n2.NS.Run("ip", "link", "set", "eth1", "up") }},
		{c.TTY(0), func() { c.SerialBlock(true) }, func() { c.SerialBlock(false) }},
	} {
		ups := n1.CountLog(regexp.QuoteMeta("Link " + n2.Name + ":" + m.link + " up."))
		m.down()
		n1.WaitLog(regexp.QuoteMeta("Link "+n2.Name+":"+m.link+" dead."), 10*time.Second)
		time.Sleep(500 * time.Millisecond)
		m.up()
		deadline := time.Now().Add(10 * time.Second)
		for n1.CountLog(regexp.QuoteMeta("Link "+n2.Name+":"+m.link+" up.")) <= ups {
			if time.Now().After(deadline) {
				t.Fatalf("no new %q line after the medium came back\n%s", "Link "+n2.Name+":"+m.link+" up.", c.LogTails(30))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	c.noFailover(t0)
	c.invariants()
	if c.Opts.Watchdog {
		b, _ := os.ReadFile(n2.WatchdogFile())
		if len(b) < 10 || bytes.Count(b, []byte{0}) != len(b) {
			t.Errorf("watchdog of %s: %d bytes, want many 0x00 feeds only", n2.Name, len(b))
		}
		n2.Stop(20 * time.Second)
		b, _ = os.ReadFile(n2.WatchdogFile())
		if len(b) == 0 || b[len(b)-1] != 'V' {
			t.Errorf("watchdog of %s not magic-closed at graceful stop (last bytes %q)", n2.Name, b[max(0, len(b)-4):])
		}
	}
}

// TestFaultRandomLoss: random loss on the heartbeat link (nftables numgen
// on the receiving side of both nodes) causes no failover.
func TestFaultRandomLoss(t *testing.T) {
	k := kind(t)
	for _, tc := range []struct {
		pct                 int
		keepalive, deadtime time.Duration
		d                   time.Duration
	}{
		// deadtime ≥ 5×keepalive: 10× here, so that 30% loss (0.3^10 per
		// window) is survivable by design; 60 s of it.
		{30, 100 * time.Millisecond, time.Second, 60 * time.Second},
		{5, 100 * time.Millisecond, 500 * time.Millisecond, 30 * time.Second},
	} {
		t.Run(strconv.Itoa(tc.pct)+"pct-"+tc.keepalive.String()+"-"+tc.deadtime.String(), func(t *testing.T) {
			t.Parallel()
			c := start(t, k, lab.Options{Keepalive: tc.keepalive, Deadtime: tc.deadtime, Watchdog: true})
			t0 := time.Now()
			for _, n := range c.Nodes {
				defer n.Loss(tc.pct)()
			}
			time.Sleep(tc.d)
			c.noFailover(t0)
			c.invariants()
		})
	}
}

// TestFaultCPUSaturation: both cores saturated by busy loops for 60 s at
// keepalive 100 ms / deadtime 500 ms: no false failover. A second cluster
// at habox's fastest setting (10 ms / 40 ms, or HABOX_FAULT_FAST=K/D; 0:
// none) runs under the same load and its result is reported (the bench's
// "fastest safe setting"); with HABOX_FAULT_KEEPALIVED=1 a keepalived
// pair at the same advert interval too, for comparison.
func TestFaultCPUSaturation(t *testing.T) {
	k := kind(t)
	c := start(t, k, lab.Options{Keepalive: 100 * time.Millisecond, Deadtime: 500 * time.Millisecond, Watchdog: true})
	var fast, kad *cluster
	fk, fd := 10*time.Millisecond, 40*time.Millisecond
	if s := os.Getenv("HABOX_FAULT_FAST"); strings.Contains(s, "/") {
		a, b, _ := strings.Cut(s, "/")
		var err1, err2 error
		if fk, err1 = time.ParseDuration(a); err1 == nil {
			fd, err2 = time.ParseDuration(b)
		}
		if err1 != nil || err2 != nil || fd <= 2*fk {
			t.Fatalf("HABOX_FAULT_FAST=%q: want KEEPALIVE/DEADTIME, deadtime > 2×keepalive", s)
		}
	}
	if k == lab.Habox && os.Getenv("HABOX_FAULT_FAST") != "0" {
		fast = start(t, k, lab.Options{Keepalive: fk, Deadtime: fd, Initdead: 2 * time.Second})
		if os.Getenv("HABOX_FAULT_KEEPALIVED") == "1" {
			kad = start(t, lab.Keepalived, lab.Options{Keepalive: fk, Deadtime: fd})
		}
	}
	stop, err := lab.Burn(2 * runtime.NumCPU())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	time.Sleep(60 * time.Second)
	stop()
	c.noFailover(t0)
	c.invariants()
	if fast != nil {
		n := len(fast.changesSince(t0))
		d := fast.Nodes[1].CountLog(`node ` + fast.Nodes[0].Name + `: is dead`)
		t.Logf("fastest setting %v/%v under saturation: %d VIP holder changes, node2 declared node1 dead %d times", fk, fd, n, d)
	}
	if kad != nil {
		t.Logf("keepalived at advert %ss under saturation: %d VIP holder changes", lab.KeepalivedAdvert(fk), len(kad.changesSince(t0)))
	}
}

// TestFaultPartition: a full partition (heartbeat link dropped) makes both
// nodes take the service; after the heal exactly one owner remains within
// 2×keepalive (plus scheduling slack) and nothing flaps for 30 s.
func TestFaultPartition(t *testing.T) {
	k := kind(t)
	t.Parallel()
	keep := 500 * time.Millisecond
	c := start(t, k, lab.Options{Keepalive: keep, Deadtime: 2 * time.Second, Watchdog: true})
	c.Partition(true)
	deadline := time.Now().Add(15 * time.Second)
	for !c.Nodes[1].HoldsVIP() {
		if time.Now().After(deadline) {
			t.Fatalf("node2 did not take the service during the partition\n%s", c.LogTails(30))
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(keep)
	// The link is healed in both directions only when Partition returns
	// (it runs nft in each namespace, hundreds of ms under load).
	c.Partition(false)
	heal := time.Now()
	// Each sample runs ip in both namespaces (slow under load): a sample
	// that saw two holders proves both held at an instant after it began;
	// one that saw one proves the resolution before it ended. The bound is
	// checked on the former, so sampling time is not counted against the
	// daemons, and the report gives both.
	var double, one time.Duration
	deadline = time.Now().Add(30 * time.Second)
	for {
		began := time.Since(heal)
		h := c.Holders()
		if len(h) == 1 {
			one = time.Since(heal)
			break
		}
		if len(h) > 1 {
			double = began
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %v holders 30 s after the heal\n%s", c.Holders(), c.LogTails(40))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("one owner seen %v after the heal, two still seen at %v (keepalive %v)", one, double, keep)
	if k == lab.Habox && double > 2*keep+300*time.Millisecond {
		t.Errorf("both nodes still held the address %v after the heal, want ≤ 2×keepalive = %v (+300 ms scheduling slack)", double, 2*keep)
	}
	resolved := time.Now()
	time.Sleep(30 * time.Second)
	if ch := c.changesSince(resolved.Add(100 * time.Millisecond)); len(ch) > 0 {
		t.Errorf("holders flapped after the resolution: %v", ch)
	}
	if sw := c.p.Switches(resolved.Add(time.Second)); sw > 0 {
		t.Errorf("client saw %d owner switches after the resolution", sw)
	}
	owner := c.invariants()
	if k == lab.Habox && owner != 0 {
		t.Errorf("owner after the heal is %s, want %s (first on the haresources line)", c.Nodes[owner].Name, c.Nodes[0].Name)
	}
}

// TestFaultStopCont: SIGSTOP of the active daemon → the peer takes over
// after deadtime; SIGCONT → the stopped node notices, one owner remains.
func TestFaultStopCont(t *testing.T) {
	k := kind(t)
	t.Parallel()
	c := start(t, k, lab.Options{Keepalive: 200 * time.Millisecond, Deadtime: time.Second, Watchdog: true})
	n1, n2 := c.Nodes[0], c.Nodes[1]
	t0 := time.Now()
	n1.SignalAll(sigSTOP)
	deadline := t0.Add(10 * time.Second)
	for !n2.HoldsVIP() {
		if time.Now().After(deadline) {
			n1.SignalAll(sigCONT)
			t.Fatalf("node2 did not take over while node1 was stopped\n%s", c.LogTails(30))
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(t0)
	if took < c.Opts.Deadtime/2 {
		t.Errorf("node2 took over after %v, before the deadtime %v", took, c.Opts.Deadtime)
	}
	if _, ok := c.p.WaitAnswer(1, t0, 5*time.Second); !ok {
		t.Errorf("client not served by node2 during the stop")
	}
	time.Sleep(time.Second)
	cont := time.Now()
	n1.SignalAll(sigCONT)
	deadline = cont.Add(20 * time.Second)
	for len(c.Holders()) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("holders %v 20 s after SIGCONT\n%s", c.Holders(), c.LogTails(40))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("one owner (%v) %v after SIGCONT", c.Holders(), time.Since(cont))
	settled := time.Now()
	time.Sleep(5 * time.Second)
	if ch := c.changesSince(settled.Add(100 * time.Millisecond)); len(ch) > 0 {
		t.Errorf("holders changed after settling: %v", ch)
	}
	c.invariants()
}

const (
	sigSTOP = syscall.SIGSTOP
	sigCONT = syscall.SIGCONT
)

// badLine matches habox's rate-limited bad-packet log lines (3.0.6's text,
// then "[LINK: N bad packets so far…]").
var badLine = regexp.MustCompile(`\[\S+: (\d+) bad packets so far`)

// TestFaultFlood: 10,000 packets/s for 30 s at the owner's heartbeat port
// (random bytes, valid framing with a wrong key, replays of the shared
// vectors and of live captures) are dropped and counted; no failover; the
// daemon stays below 50% of a core.
func TestFaultFlood(t *testing.T) {
	k := kind(t)
	t.Parallel()
	c := start(t, k, lab.Options{Keepalive: 100 * time.Millisecond, Deadtime: time.Second, Watchdog: true})
	n1, n2 := c.Nodes[0], c.Nodes[1]
	live, err := lab.CaptureUDP(n1.NS, 694, 40, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var replays [][]byte
	for _, x := range live {
		if bytes.Contains(x.Payload, []byte("src="+n2.Name)) {
			replays = append(replays, x.Payload)
		}
	}
	vec, err := lab.ReplayPayloads("sha1")
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := lab.WrongKeyPayloads()
	if err != nil {
		t.Fatal(err)
	}
	random := lab.RandomPayloads(500)
	// Interleave: 2 random, 1 wrong key, 1 replay (vector or live).
	var mix [][]byte
	bad := 0
	for i := 0; i < 2000; i++ {
		switch i % 4 {
		case 0, 1:
			mix = append(mix, random[i%len(random)])
			bad++
		case 2:
			mix = append(mix, wrong[i%len(wrong)])
			bad++
		case 3:
			if i%8 == 3 && len(replays) > 0 {
				mix = append(mix, replays[i%len(replays)])
			} else {
				mix = append(mix, vec[i%len(vec)])
			}
		}
	}
	pids := n1.DaemonPids()
	cpu0, faults0 := lab.CPUTicks(pids), lab.MinorFaults(pids)
	t0 := time.Now()
	sent, err := lab.Flood(n2.NS, lab.HBPrefix+"1:694", 10000, 30*time.Second, mix)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(t0)
	cpu := time.Duration(lab.CPUTicks(pids)-cpu0) * 10 * time.Millisecond
	pct := 100 * cpu.Seconds() / el.Seconds()
	t.Logf("flood: %d packets in %v (%.0f/s); %s CPU %v = %.1f%% of a core", sent, el.Round(time.Millisecond), float64(sent)/el.Seconds(), n1.Name, cpu, pct)
	if float64(sent)/el.Seconds() < 8000 {
		t.Errorf("flooder reached only %.0f packets/s", float64(sent)/el.Seconds())
	}
	if pct >= 50 {
		t.Errorf("daemon CPU %.1f%% of a core during the flood, want < 50%%", pct)
	}
	// Page faults hardly depend on the machine's load: a Go memory limit
	// without headroom made the runtime return and re-fault its pages on
	// every GC cycle (0.31-0.62 faults per packet with a 6 MiB limit;
	// 0.05-0.10 at 8 MiB; 0.007 without a limit).
	faults := lab.MinorFaults(pids) - faults0
	t.Logf("%s: %d minor page faults during the flood (%.2f per packet)", n1.Name, faults, float64(faults)/float64(sent))
	if 5*faults >= int64(sent) {
		t.Errorf("%d page faults for %d packets, want < 0.2 per packet", faults, sent)
	}
	if k == lab.Habox {
		// The daemon's counter: from cl_status when it exposes it
		// (hbparameter -p badpackets), else the rate-limited log lines
		// ("… [eth1: N bad packets so far]", 5 per minute and link).
		wantBad := sent * bad / len(mix)
		out, code := n1.Ctl("cl_status", "hbparameter", "-p", "badpackets")
		if v, err := strconv.Atoi(strings.TrimSpace(out)); code == 0 && err == nil {
			t.Logf("%s counted %d bad packets (%d sent that cannot authenticate)", n1.Name, v, wantBad)
			if v < wantBad/2 {
				t.Errorf("only %d bad packets counted, %d sent", v, wantBad)
			}
		} else {
			counted := 0
			lines := badLine.FindAllStringSubmatch(n1.Log(), -1)
			for _, m := range lines {
				if v, _ := strconv.Atoi(m[1]); v > counted {
					counted = v
				}
			}
			t.Logf("%s logged %d rate-limited bad-packet lines, last count %d (counter not exposed by cl_status)", n1.Name, len(lines), counted)
			if len(lines) == 0 || counted == 0 {
				t.Errorf("no bad packet counted in the log during the flood")
			}
		}
	}
	c.noFailover(t0)
	c.invariants()
}

// TestFaultHostileFlood: keepalive 200 ms / deadtime 1 s,
// node2's namespace floods node1's heartbeat port with pps datagrams per
// second (HABOX_FLOOD_PPS, default 10000) of each of garbage, wrong-key,
// max-size (65507 bytes) and replayed packets (HABOX_FLOOD_KINDS: a
// subset) for HABOX_FLOOD_SECS (default 10; make bench runs 30).
// No false failover, node1's daemon stays at or under 8 MiB RSS, and its
// counters plus the kernel's socket drops account for what was sent.
func TestFaultHostileFlood(t *testing.T) {
	k := kind(t)
	if k != lab.Habox {
		t.Skip("habox's counters only")
	}
	secs := 10
	if s, err := strconv.Atoi(os.Getenv("HABOX_FLOOD_SECS")); err == nil && s > 0 {
		secs = s
	}
	pps := 10000
	if s, err := strconv.Atoi(os.Getenv("HABOX_FLOOD_PPS")); err == nil && s > 0 {
		pps = s
	}
	c := start(t, k, lab.Options{Keepalive: 200 * time.Millisecond, Deadtime: time.Second, Watchdog: true})
	n1 := c.Nodes[0]
	t0 := time.Now()
	var only []string
	if s := os.Getenv("HABOX_FLOOD_KINDS"); s != "" {
		only = strings.Split(s, ",")
	}
	r, err := c.HostileFlood(pps, time.Duration(secs)*time.Second, only...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("flood: %s", r)
	// The rate reached depends on the machine (the flooder shares it);
	// the figures are logged, and a flood must have happened.
	for kind, n := range r.Sent {
		if r.PPS(kind) < 1000 {
			t.Errorf("flooder reached only %.0f %s packets/s (%d sent)", r.PPS(kind), kind, n)
		}
	}
	if r.RSSMax > 8*1024 {
		t.Errorf("%s RSS reached %d KiB, want <= 8192", n1.Name, r.RSSMax)
	}
	// Every datagram read is counted once, as bad (by reason), duplicate,
	// processed or ignored; what the daemon did not read, the kernel
	// dropped (socket queue full, or a 64 KB datagram not reassembled).
	// The daemon also reads the cluster's own traffic (~10 packets/s).
	// (cl_status reads one counter per call: the cluster's own packets
	// between the calls make a small difference.)
	if rx, cl := r.Counters["rxpackets"], r.Classified(); rx < cl || rx > cl+20 {
		t.Errorf("rxpackets %d but the outcome counters sum to %d: %v", rx, cl, r.Counters)
	}
	acc, sent := r.Accounted(), r.Total()
	legit := 50 * int(r.Elapsed.Seconds()+5)
	if lost := sent - acc; lost > sent/100 && lost > r.ReasmFails {
		t.Errorf("%d of %d datagrams not accounted for (reassembly failures %d)", lost, sent, r.ReasmFails)
	}
	if acc > sent+legit {
		t.Errorf("accounted %d, more than the %d sent", acc, sent)
	}
	for kind, reason := range map[string]string{"garbage": "garbage", "wrongkey": "auth", "maxsize": "toobig", "replay": "replay"} {
		if r.Sent[kind] > 0 && r.Counters["badpackets-"+reason] == 0 {
			t.Errorf("%d %s datagrams sent, none counted as %s", r.Sent[kind], kind, reason)
		}
	}
	c.noFailover(t0)
	c.invariants()
}
