// Package lab builds a two-node heartbeat cluster plus a client in network
// namespaces, for the interop tests, the fault suite and the bench harness.
// It is test support: it uses fmt, os/exec and net freely and must never be
// imported by a package linked into the habox binary.
//
// Topology (every name unique per lab, everything deleted by Close):
//
//	client ns:  br0 10.77.0.100/24  ── port ─ node1 eth0 10.77.0.1/24
//	                                └─ port ─ node2 eth0 10.77.0.2/24
//	node1 eth1 10.78.0.1/24 ──────── veth ─── node2 eth1 10.78.0.2/24
//	optional serial link: a socat pty pair (DIR/ttyA for node1, DIR/ttyB for node2)
//
// The service (VIP 10.77.0.3/24 on eth0, optionally a test script) starts
// on node1 per haresources. Each node runs in its own UTS and mount
// namespace held by an anchor process, with per-node directories bound
// over /etc/ha.d, /var/lib/heartbeat, /run and /var/log (see
// doc/spec/running-heartbeat-3.0.6.md), so both habox and the stock
// heartbeat 3.0.6 run with their default paths.
package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"habox/hw/hwtest/names"
)

// T is what the lab needs of a test; testing.TB satisfies it, and the
// bench harness provides its own.
type T interface {
	Helper()
	Logf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Kind selects the daemon a node runs.
type Kind string

// Daemon kinds.
const (
	Habox      Kind = "habox"
	Heartbeat  Kind = "heartbeat-3.0.6"
	Keepalived Kind = "keepalived"
)

// Addresses used in every lab (each lab has its own namespaces, so labs
// running in parallel do not collide).
const (
	VIP       = "10.77.0.3"
	ClientIP  = "10.77.0.100"
	LANPrefix = "10.77.0."
	HBPrefix  = "10.78.0."
	ProbePort = 7007
	RouterIP  = "10.77.0.254"
	// HB306 is the stock heartbeat daemon.
	HB306 = "/usr/libexec/heartbeat/heartbeat"
	// IPFail is 3.0.6's ipfail as Debian 12 installs it (older packages:
	// /usr/lib/heartbeat/ipfail).
	IPFail = "/usr/libexec/heartbeat/ipfail"
)

// Options describe the cluster a lab builds.
type Options struct {
	Kinds        [2]Kind       // daemon per node; zero value: habox on both
	Names        [2]string     // node names (uname -n); default linuxha1, linuxha2
	Keepalive    time.Duration // default 200ms
	Deadtime     time.Duration // default 5×keepalive (at least 2×keepalive+1ms)
	Warntime     time.Duration // written only when set (3.0.6 default: deadtime/2)
	Initdead     time.Duration // default max(deadtime, 2s)
	Auth         string        // sha1 (default), md5, crc
	Key          string        // authkeys key; default the vector key for Auth
	AutoFailback string        // on (default), off, legacy
	NoBcast      bool          // no bcast eth1 medium
	Serial       bool          // add a serial medium over a socat pty pair
	Baud         int           // serial speed, default 19200
	Script       bool          // add the test script resource "hatest" after the VIP
	Router       bool          // a router namespace at RouterIP on the service LAN (a ping node)
	VRRPExtra    string        // appended inside keepalived's vrrp_instance (e.g. track_interface)
	Watchdog     bool          // configure a fake watchdog (a regular file DIR/node/watchdog)
	ExtraHaCf    string        // appended to ha.cf verbatim
	Debug        int           // ha.cf debug level (0 = none)
}

// VectorKeys are the keys of shared/vectors, so that replayed captures
// authenticate (and must be rejected by sequence/generation checks).
var VectorKeys = map[string]string{"sha1": "hblab-sha1-key", "md5": "hblab-md5-key", "crc": ""}

func (o *Options) defaults() {
	for i := range o.Kinds {
		if o.Kinds[i] == "" {
			o.Kinds[i] = Habox
		}
	}
	if o.Names[0] == "" {
		o.Names = [2]string{"linuxha1", "linuxha2"}
	}
	if o.Keepalive == 0 {
		o.Keepalive = 200 * time.Millisecond
	}
	if o.Deadtime == 0 {
		o.Deadtime = 5 * o.Keepalive
	}
	if o.Deadtime <= 2*o.Keepalive {
		o.Deadtime = 2*o.Keepalive + time.Millisecond
	}
	if o.Initdead == 0 {
		o.Initdead = max(o.Deadtime, 2*time.Second)
	}
	if o.Auth == "" {
		o.Auth = "sha1"
	}
	if o.Key == "" {
		o.Key = VectorKeys[o.Auth]
	}
	if o.AutoFailback == "" {
		o.AutoFailback = "on"
	}
	if o.Baud == 0 {
		o.Baud = 19200
	}
}

// Lab is one built topology.
type Lab struct {
	T      T
	Opts   Options
	Dir    string // host directory holding per-node trees, logs and ptys
	Client *NS
	Router *NS // with Options.Router
	Nodes  [2]*Node

	mu       sync.Mutex
	cleanups []func()
	socat    *exec.Cmd
	resp     []*Responder
	closed   bool
}

// New builds the topology for opts, writes each node's configuration and
// starts the anchors and probe responders, but no daemon (Node.Start).
// Everything is torn down in t.Cleanup (and by Close), also on failure.
func New(t T, opts Options) *Lab {
	t.Helper()
	opts.defaults()
	l := &Lab{T: t, Opts: opts}
	t.Cleanup(l.Close)
	dir, err := os.MkdirTemp("", "halab-")
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	l.Dir = dir
	l.defer_(func() { os.RemoveAll(dir) })

	l.Client = l.newNS("hlc")
	l.Nodes[0] = &Node{Lab: l, Index: 0, Name: opts.Names[0], Kind: opts.Kinds[0]}
	l.Nodes[1] = &Node{Lab: l, Index: 1, Name: opts.Names[1], Kind: opts.Kinds[1]}
	for _, n := range l.Nodes {
		n.NS = l.newNS(fmt.Sprintf("hl%d", n.Index+1))
		n.Dir = filepath.Join(dir, n.Name)
	}
	l.must(l.Client.Run("ip", "link", "add", "br0", "type", "bridge", "forward_delay", "0"))
	l.must(l.Client.Run("ip", "addr", "add", ClientIP+"/24", "dev", "br0"))
	l.must(l.Client.Run("ip", "link", "set", "br0", "up"))
	// Accept gratuitous ARP at once (default locktime 1 s could hide a
	// quick takeover from the client).
	l.must(l.Client.Run("sh", "-c", "sysctl -qw net.ipv4.neigh.br0.locktime=0"))
	for _, n := range l.Nodes {
		port := fmt.Sprintf("p%d", n.Index+1)
		l.must(vethPair(n.NS, "eth0", fmt.Sprintf("%s%d/24", LANPrefix, n.Index+1), l.Client, port, ""))
		l.must(l.Client.Run("ip", "link", "set", port, "master", "br0"))
		// Responders bind the VIP before the node holds it.
		l.must(n.NS.Run("sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1"))
	}
	l.must(vethPair(l.Nodes[0].NS, "eth1", HBPrefix+"1/24", l.Nodes[1].NS, "eth1", HBPrefix+"2/24"))
	if opts.Router {
		l.Router = l.newNS("hlr")
		l.must(vethPair(l.Router, "eth0", RouterIP+"/24", l.Client, "pr", ""))
		l.must(l.Client.Run("ip", "link", "set", "pr", "master", "br0"))
	}
	if opts.Serial {
		l.startSerial()
	}
	for _, n := range l.Nodes {
		n.writeFiles()
		n.startAnchor()
	}
	for _, n := range l.Nodes {
		r, err := StartResponder(n.NS, n.Index)
		if err != nil {
			t.Fatalf("lab: responder on %s: %v", n.Name, err)
		}
		l.resp = append(l.resp, r)
		l.defer_(r.Close)
	}
	return l
}

// Close stops every daemon and tears the topology down; it is idempotent
// and registered with t.Cleanup by New.
func (l *Lab) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	fns := l.cleanups
	l.cleanups = nil
	l.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// defer_ registers f to run at Close, in reverse order.
func (l *Lab) defer_(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cleanups = append(l.cleanups, f)
}

func (l *Lab) must(err error) {
	l.T.Helper()
	if err != nil {
		l.T.Fatalf("lab: %v", err)
	}
}

// newNS creates a uniquely named network namespace deleted at Close.
func (l *Lab) newNS(prefix string) *NS {
	l.T.Helper()
	ns := &NS{Name: names.Unique(prefix)}
	if err := run("ip", "netns", "add", ns.Name); err != nil {
		l.T.Fatalf("lab: %v", err)
	}
	l.defer_(ns.Delete)
	l.must(ns.Run("ip", "link", "set", "lo", "up"))
	return ns
}

// startSerial joins DIR/ttyA and DIR/ttyB with socat.
func (l *Lab) startSerial() {
	l.T.Helper()
	a, b := l.TTY(0), l.TTY(1)
	cmd := exec.Command("socat", "pty,raw,echo=0,link="+a, "pty,raw,echo=0,link="+b)
	if err := cmd.Start(); err != nil {
		l.T.Fatalf("lab: socat: %v", err)
	}
	l.socat = cmd
	l.defer_(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, ea := os.Stat(a)
		_, eb := os.Stat(b)
		if ea == nil && eb == nil {
			return
		}
		if time.Now().After(deadline) {
			l.T.Fatalf("lab: socat ptys %s %s did not appear", a, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replaceSerial replaces the serial link by a new pty pair under the same
// names: what the old one still buffered (frames of a node that lost
// power) is gone, as with a real line. The surviving node sees its line
// die and reopens it.
func (l *Lab) replaceSerial() {
	l.T.Helper()
	if l.socat == nil {
		return
	}
	l.socat.Process.Kill()
	l.socat.Wait()
	os.Remove(l.TTY(0))
	os.Remove(l.TTY(1))
	l.startSerial()
}

// TTY is node i's end of the serial link (a symlink to a pty).
func (l *Lab) TTY(i int) string {
	return filepath.Join(l.Dir, []string{"ttyA", "ttyB"}[i])
}

// SerialBlock stops (SIGSTOP) or resumes the socat joining the serial
// link: a blocked serial medium.
func (l *Lab) SerialBlock(block bool) {
	l.T.Helper()
	if l.socat == nil {
		l.T.Fatalf("lab: no serial link")
	}
	sig := "STOP"
	if !block {
		sig = "CONT"
	}
	l.must(run("kill", "-"+sig, fmt.Sprint(l.socat.Process.Pid)))
}

// Start starts both daemons (node1 first, then node2 after a short gap)
// and waits until both report the peer active.
func (l *Lab) Start() {
	l.T.Helper()
	l.Nodes[0].Start()
	l.Nodes[1].Start()
	l.WaitBothActive(l.Opts.Initdead + 20*time.Second)
}

// WaitBothActive waits until each node reports the other one active.
func (l *Lab) WaitBothActive(d time.Duration) {
	l.T.Helper()
	deadline := time.Now().Add(d)
	for {
		s0 := l.Nodes[0].PeerStatus()
		s1 := l.Nodes[1].PeerStatus()
		if s0 == "active" && s1 == "active" {
			return
		}
		if time.Now().After(deadline) {
			l.T.Fatalf("lab: nodes not both active after %v: %s sees %q, %s sees %q\n%s", d,
				l.Nodes[0].Name, s0, l.Nodes[1].Name, s1, l.LogTails(30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Holders returns the indexes of the nodes that hold the VIP on eth0.
func (l *Lab) Holders() []int {
	var h []int
	for _, n := range l.Nodes {
		if n.HoldsVIP() {
			h = append(h, n.Index)
		}
	}
	return h
}

// WaitOwner waits until exactly node i holds the VIP.
func (l *Lab) WaitOwner(i int, d time.Duration) time.Duration {
	l.T.Helper()
	start := time.Now()
	deadline := start.Add(d)
	for {
		h := l.Holders()
		if len(h) == 1 && h[0] == i {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			l.T.Fatalf("lab: VIP holders %v after %v, want only %s\n%s", h, d, l.Nodes[i].Name, l.LogTails(40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// LogTails returns the last n lines of each node's log, for failure messages.
func (l *Lab) LogTails(n int) string {
	var b strings.Builder
	for _, nd := range l.Nodes {
		lines := strings.Split(strings.TrimRight(nd.Log(), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- %s (%s) log tail:\n%s\n", nd.Name, nd.Kind, strings.Join(lines, "\n"))
		if nd.stderr != nil {
			if s := nd.stderr.String(); s != "" {
				fmt.Fprintf(&b, "--- %s stderr:\n%s\n", nd.Name, tail(s, 2000))
			}
		}
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// ClientReaches probes the VIP from the client a few times and returns
// the index of the node that answered, or -1.
func (l *Lab) ClientReaches(d time.Duration) int {
	l.T.Helper()
	p, err := StartProber(l.Client, 10*time.Millisecond)
	if err != nil {
		l.T.Fatalf("lab: prober: %v", err)
	}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		time.Sleep(30 * time.Millisecond)
		if r := p.Last(); r.Node >= 0 {
			p.Stop()
			return r.Node
		}
	}
	p.Stop()
	return -1
}
