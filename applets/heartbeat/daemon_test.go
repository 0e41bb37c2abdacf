package heartbeat

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"habox/applets/cli"
	"habox/applets/heartbeat/media"
	"habox/applets/heartbeat/membership"
	"habox/applets/heartbeat/resources"
	"habox/applets/internal/hblog"
	"habox/applets/internal/wire"
	"habox/conf"
	"habox/hw/hwtest"
	"habox/lab"
)

func TestNodeName(t *testing.T) {
	env := &cli.Env{Environ: []string{"HA_NODENAME=Alice"}}
	if n := nodeName(env); n != "alice" {
		t.Fatalf("HA_NODENAME: %q", n)
	}
	h, _ := os.Hostname()
	if n := nodeName(&cli.Env{}); n == "" || n != lower(h) {
		t.Fatalf("hostname: %q vs %q", n, h)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func TestRscMsgRoundTrip(t *testing.T) {
	r := resources.NewMsg("resource", "rsc_hold", "local", "rtype", "full", "isstable", "1")
	m := fromRsc(r)
	if m.Type() != "resource" || m.Get("rsc_hold") != "local" || len(m.Fields) != 4 {
		t.Fatalf("fromRsc: %+v", m)
	}
	m.SetBinary(wire.SrcUUID, make([]byte, 16))
	back := toRsc(m)
	if back.String() != "t=resource rsc_hold=local rtype=full isstable=1" {
		t.Fatalf("toRsc: %s", back)
	}
}

// TestReadPid: the pid a pid file names, and whether it is a running
// heartbeat (a stale one marks an unclean end).
func TestReadPid(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "pid")
	self := os.Getpid()
	other := exec.Command("sleep", "30") // a live process that is not heartbeat
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Wait()
	defer other.Process.Kill()
	for _, c := range []struct {
		content string
		pid     int
		alive   bool
	}{
		{"", 0, false},
		{"garbage\n", 0, false},
		{"1\n", 0, false},                       // init is never heartbeat
		{strconv.Itoa(self) + "\n", self, true}, // this test binary: heartbeat.test
		{"999999999\n", 999999999, false},       // gone: left by a killed heartbeat
		{strconv.Itoa(other.Process.Pid) + "\n", other.Process.Pid, false}, // a recycled pid
	} {
		os.WriteFile(f, []byte(c.content), 0o644)
		if pid, alive := pidFile(f); pid != c.pid || alive != c.alive {
			t.Errorf("pidFile(%q) = %d, %v, want %d, %v", c.content, pid, alive, c.pid, c.alive)
		}
		if want := map[bool]int{true: c.pid}[c.alive]; readPid(f) != want {
			t.Errorf("readPid(%q) = %d, want %d", c.content, readPid(f), want)
		}
	}
	if pid, _ := pidFile(filepath.Join(dir, "missing")); pid != 0 {
		t.Error("missing pid file")
	}
}

func TestConfigTimes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ha.cf"), nil, 0o644)
	a := configTimes(dir)
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "ha.cf"), later, later)
	b := configTimes(dir)
	if len(a) != 1 || a["ha.cf"].Equal(b["ha.cf"]) {
		t.Fatalf("mtimes %v %v", a, b)
	}
}

// TestSnapshotBadPackets: the dropped-packet counter is exposed as the
// badpackets parameter (cl_status hbparameter -p badpackets), whether or
// not logbadpack logs the drops.
func TestSnapshotBadPackets(t *testing.T) {
	for _, logged := range []bool{false, true} {
		hc := &conf.HaCf{Raw: map[string]string{"keepalive": "2"}, LogBadPack: logged}
		lg, err := hblog.New(hblog.Options{Logfile: filepath.Join(t.TempDir(), "log"), Node: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lg.Close() })
		mem := membership.New(membership.Config{Self: "alice", Nodes: []string{"alice", "bob"}}, 0)
		d := &daemon{self: "alice", hc: hc, log: lg, mem: mem, badLimit: hblog.NewLimiter(5, time.Minute),
			rsc: resources.New(resources.Config{Self: "alice", Nodes: []string{"alice", "bob"}}, mem)}
		if got := d.snapshot().Params["badpackets"]; got != "0" {
			t.Fatalf("logbadpack %v: badpackets %q at start", logged, got)
		}
		for i := 0; i < 7; i++ {
			d.bad("eth1", "bad auth")
		}
		p := d.snapshot().Params
		if p["badpackets"] != "7" || p["keepalive"] != "2" {
			t.Fatalf("logbadpack %v: params %v", logged, p)
		}
	}
}

// TestPidFileSymlinkAttack: the pid file and its old fixed temporary name
// planted as links by a local user are never written through, and a
// planted pid file is not believed.
func TestPidFileSymlinkAttack(t *testing.T) {
	hwtest.RequireRoot(t)
	f := filepath.Join(hwtest.SharedDir(t), "heartbeat.pid")
	tmpIntact := hwtest.PlantSymlink(t, f+".tmp")
	other := filepath.Join(t.TempDir(), "other.pid")
	os.WriteFile(other, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	if err := os.Symlink(other, f); err != nil {
		t.Fatal(err)
	}
	if pid := readPid(f); pid != 0 {
		t.Errorf("readPid followed a link to pid %d", pid)
	}
	if err := writePid(f); err != nil {
		t.Fatal(err)
	}
	tmpIntact()
	if pid := readPid(f); pid != os.Getpid() {
		t.Errorf("pid file holds %d, want %d", pid, os.Getpid())
	}
}

// TestPacketDropReasons: every dropped packet is
// counted under its reason (cl_status hbparameter -p badpackets-<reason>)
// and what a forged packet carries reaches the log quoted, one bounded
// line each.
func TestPacketDropReasons(t *testing.T) {
	logf := filepath.Join(t.TempDir(), "ha-log")
	lg, err := hblog.New(hblog.Options{Logfile: logf, Node: "alice", SyslogMsgFmt: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	keys, _ := wire.NewKeyringFor(1, conf.AuthSHA1, "k")
	wrong, _ := wire.NewKeyringFor(1, conf.AuthSHA1, "not-k")
	nodes := []string{"alice", "bob"}
	mem := membership.New(membership.Config{Self: "alice", Nodes: nodes, Links: []string{"eth1"},
		Deadtime: time.Hour, Warntime: time.Hour, Initdead: time.Hour, Keepalive: time.Second}, 0)
	d := &daemon{self: "alice", hc: &conf.HaCf{Raw: map[string]string{}, LogBadPack: true}, log: lg, mem: mem,
		keys: keys, badLimit: hblog.NewLimiter(1000, time.Minute), clk: &realClock{t0: time.Now()},
		eng: wire.NewEngine(wire.Config{Node: "alice", Gen: 5, Nodes: nodes, Keys: keys, InnerAuth: true}),
		rsc: resources.New(resources.Config{Self: "alice", Nodes: nodes}, mem)}
	bob := wire.NewEngine(wire.Config{Node: "bob", Gen: 7, Nodes: nodes, Keys: keys, InnerAuth: true})
	oldBob := wire.NewEngine(wire.Config{Node: "bob", Gen: 6, Nodes: nodes, Keys: keys, InnerAuth: true})
	enc := func(k *wire.Keyring, m *wire.Msg) []byte {
		b, err := k.AppendNetstring(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	stamped := func(e *wire.Engine) *wire.Msg {
		m := wire.New(wire.Status)
		m.Add(wire.St, "up")
		m, _, err := e.Send(m, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	forged := wire.New(wire.Status)
	forged.Add(wire.Src, "bob]\nDec 06 19:00:00 alice heartbeat: [1]: CRIT: forged")
	forged.Add(wire.Seq, "1")
	forged.Add(wire.Ts, "1")
	stranger := wire.New(wire.Status)
	stranger.Add(wire.Src, strings.Repeat("s", 20000))
	stranger.Add(wire.Seq, "1")
	stranger.Add(wire.Ts, "1")
	fields := wire.New(wire.Status)
	for i := 0; i <= wire.MaxFields; i++ {
		fields.Add("f", "")
	}
	good := enc(keys, stamped(bob))
	toBob := wire.New(wire.IPRequest)
	toBob.Add(wire.Dest, "bob")
	toBob, _, err = bob.Send(toBob, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ackBob := wire.New(wire.NSAckMsg)
	ackBob.Add(wire.Dest, "bob")
	ackBob.Add(wire.AckSeq, "1")
	ackBob, _, err = bob.Send(ackBob, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	old := enc(keys, stamped(oldBob))
	pkts := []struct {
		data   []byte
		reason string
	}{
		{[]byte("hello"), "garbage"},
		{[]byte("###\n5:(0)t=x"), "garbage"},
		{make([]byte, wire.MaxRecv), "toobig"},
		{enc(wrong, fields), "toobig"},
		{enc(wrong, forged), "auth"},
		{enc(keys, stranger), "invalid"},
		{good, "ok"},
		{good, "dup"},
		{enc(keys, toBob), "ok"},
		{enc(keys, ackBob), "ignored"},
		{old, "replay"},
	}
	want := map[string]int{}
	for _, p := range pkts {
		d.turn()
		d.packet(media.Packet{Link: "eth1", Data: p.data})
		want[p.reason]++
	}
	params := d.snapshot().Params
	total := 0
	for _, r := range []string{"garbage", "toobig", "auth", "invalid", "replay", "throttled", "dup", "ok", "ignored"} {
		key := "badpackets-" + r
		switch r {
		case "dup", "ok", "ignored":
			key = r + "packets"
		default:
			total += want[r]
		}
		if got := params[key]; got != strconv.Itoa(want[r]) {
			t.Errorf("%s = %q, want %d", key, got, want[r])
		}
	}
	if got := params["badpackets"]; got != strconv.Itoa(total) {
		t.Errorf("badpackets = %q, want %d", got, total)
	}
	if got := params["rxpackets"]; got != strconv.Itoa(len(pkts)) {
		t.Errorf("rxpackets = %q, want %d", got, len(pkts))
	}
	b, _ := os.ReadFile(logf)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if n := strings.Count(string(b), "bad packets so far]\n"); n != total {
		t.Errorf("%d bad-packet lines for %d bad packets:\n%s", n, total, b)
	}
	for _, l := range lines {
		if strings.Contains(l, "CRIT:") && !strings.Contains(l, `\n`) || len(l) > hblog.MaxLine+100 {
			t.Errorf("log line %.300q", l)
		}
	}
}

// TestMediaBoundIsDecodeBound: the media drop what Decode would refuse as
// too large, before copying it.
func TestMediaBoundIsDecodeBound(t *testing.T) {
	if media.MaxMessage != wire.MaxRecv {
		t.Fatalf("media.MaxMessage %d != wire.MaxRecv %d", media.MaxMessage, wire.MaxRecv)
	}
}

// TestScriptReasonsInHaLog: the real IPaddr applet, run by the daemon's
// runner for a group on a missing interface, gets its reason into ha-log
// under its 3.0.6 tag at ERROR; a failing user script's stderr is logged
// at ERROR under its own tag, escaped.
func TestScriptReasonsInHaLog(t *testing.T) {
	dir := t.TempDir()
	rd := filepath.Join(dir, "resource.d")
	os.Mkdir(rd, 0o755)
	os.WriteFile(filepath.Join(rd, "svc"), []byte("#!/bin/sh\n[ \"$1\" = status ] && exit 0\nprintf 'svc: cannot bind\\033[31m port 80\\n' >&2; exit 1\n"), 0o755)
	g := conf.Group{Node: "alice", Key: "10.0.0.5/24/eth9", Resources: []conf.Resource{
		{Script: "IPaddr", Args: []string{"10.0.0.5/24/eth9"}, Text: "10.0.0.5/24/eth9"},
		{Script: "svc", Text: "svc"},
	}}
	logf := filepath.Join(dir, "ha-log")
	lg, err := hblog.New(hblog.Options{Logfile: logf, Node: "alice", SyslogMsgFmt: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	hc := &conf.HaCf{Logfile: logf}
	d := &daemon{env: &cli.Env{Environ: []string{"PATH=/usr/bin:/bin", "HABOX_RUNDIR=" + dir}}, hc: hc, log: lg, self: "alice",
		o: options{dir: dir}, cfg: &conf.Config{HaCf: hc, Resources: &conf.Haresources{Groups: []conf.Group{g}}}}
	r := d.newRunner()
	r.Self = lab.HaboxBin(t)
	r.StopRetries, r.RetryDelay = 1, time.Millisecond
	r.Groups[g.Key] = conf.Group{Node: "alice", Key: g.Key, Resources: g.Resources[:1]}
	r.TakeGroup(g.Key)
	r.Groups[g.Key] = conf.Group{Node: "alice", Key: g.Key, Resources: g.Resources[1:]}
	r.TakeGroup(g.Key)
	b, _ := os.ReadFile(logf)
	for _, re := range []string{
		`alice IPaddr\(IPaddr_10\.0\.0\.5\)\[\d+\]: ERROR: eth9: unknown interface\n`,
		`heartbeat: \[\d+\]: ERROR: Return code 2 from ` + regexp.QuoteMeta(rd) + `/IPaddr\n`,
		`alice svc\[\d+\]: ERROR: svc: cannot bind\\x1b\[31m port 80\n`,
		`heartbeat: \[\d+\]: ERROR: Return code 1 from ` + regexp.QuoteMeta(rd) + `/svc\n`,
	} {
		if !regexp.MustCompile(re).Match(b) {
			t.Errorf("ha-log lacks %s:\n%s", re, b)
		}
	}
}

// TestLargePacketBudget: forged packets just under MaxRecv
// cost a hash of every byte; beyond bigBurst bytes in a burst they are
// dropped unread as throttled, while small ones are still checked.
func TestLargePacketBudget(t *testing.T) {
	lg, _ := hblog.New(hblog.Options{})
	keys, _ := wire.NewKeyringFor(1, conf.AuthSHA1, "k")
	wrong, _ := wire.NewKeyringFor(1, conf.AuthSHA1, "not-k")
	nodes := []string{"alice", "bob"}
	mem := membership.New(membership.Config{Self: "alice", Nodes: nodes}, 0)
	d := &daemon{self: "alice", hc: &conf.HaCf{Raw: map[string]string{}}, log: lg, mem: mem, keys: keys,
		badLimit: hblog.NewLimiter(5, time.Minute), clk: &realClock{t0: time.Now()},
		eng: wire.NewEngine(wire.Config{Node: "alice", Gen: 5, Nodes: nodes, Keys: keys}),
		rsc: resources.New(resources.Config{Self: "alice", Nodes: nodes}, mem)}
	big := wire.New(wire.Status)
	big.Add(wire.Src, "bob")
	big.Add("pad", strings.Repeat("x", 30000))
	bigPkt, _ := wrong.AppendNetstring(nil, big)
	small := wire.New(wire.Status)
	small.Add(wire.Src, "bob")
	smallPkt, _ := wrong.AppendNetstring(nil, small)
	for i := 0; i < 20; i++ {
		d.turn()
		d.packet(media.Packet{Link: "eth1", Data: bigPkt})
		d.turn()
		d.packet(media.Packet{Link: "eth1", Data: smallPkt})
	}
	p := d.snapshot().Params
	maxBig := bigBurst/len(bigPkt) + 1 // + what refills during the test
	if th, _ := strconv.Atoi(p["badpackets-throttled"]); th < 20-maxBig {
		t.Errorf("%s large packets throttled, want >= %d (%v)", p["badpackets-throttled"], 20-maxBig, p)
	}
	if a, _ := strconv.Atoi(p["badpackets-auth"]); a < 20 || a > 20+maxBig {
		t.Errorf("%d authentication failures, want all 20 small ones and at most %d large ones", a, maxBig)
	}
}
