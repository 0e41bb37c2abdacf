package ipaddr

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"habox/applets/cli"
	"habox/hw/hwtest"
)

// lab is the test network: the server namespace (where IPaddr runs, eth0
// 192.0.2.10/24 and eth1 198.51.100.10/24), a bridge namespace, and a client
// namespace (eth0 192.0.2.20/24) on the same bridge as the server's eth0.
type lab struct {
	srv, br, cli *hwtest.Netns
	runDir       string
	exe          string // symlink named IPaddr to the test binary
	ifWait       string // HABOX_IF_WAIT: short, bad input fails fast
}

func newLab(t *testing.T) *lab {
	t.Helper()
	hwtest.RequireRoot(t)
	hwtest.RequireCmd(t, "ip")
	l := &lab{srv: hwtest.NewNetns(t, "ips"), br: hwtest.NewNetns(t, "ipb"), cli: hwtest.NewNetns(t, "ipc"), runDir: t.TempDir(), ifWait: "200ms"}
	l.br.Exec(t, "ip", "link", "add", "br0", "type", "bridge")
	hwtest.Veth(t, l.srv, "eth0", "192.0.2.10/24", l.br, "p0", "")
	hwtest.Veth(t, l.cli, "eth0", "192.0.2.20/24", l.br, "p1", "")
	hwtest.Veth(t, l.srv, "eth1", "198.51.100.10/24", l.br, "p2", "")
	for _, p := range []string{"p0", "p1"} {
		l.br.Exec(t, "ip", "link", "set", p, "master", "br0")
	}
	l.br.Exec(t, "ip", "link", "set", "br0", "up")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l.exe = filepath.Join(t.TempDir(), "IPaddr")
	if err := os.Symlink(self, l.exe); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *lab) environ() []string {
	return []string{"HABOX_RUNDIR=" + l.runDir, "HABOX_IF_WAIT=" + l.ifWait}
}

// run runs the applet in-process inside the server namespace.
func (l *lab) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	l.srv.Do(t, func() {
		code = Applet.Run(&cli.Env{Stdout: &o, Stderr: &e, Environ: l.environ()}, args)
	})
	return code, o.String(), e.String()
}

// command returns the applet as a separate process in the server namespace.
func (l *lab) command(args ...string) *exec.Cmd {
	c := l.srv.Command(l.exe, args...)
	c.Env = append(os.Environ(), l.environ()...)
	return c
}

type ifAddr struct{ prefix, brd, label string }

var addrRE = regexp.MustCompile(`inet (\S+)(?: brd (\S+))? .*?(\S+)\\`)

// addrs lists the IPv4 addresses of dev in ns as the kernel reports them.
func addrs(t *testing.T, ns *hwtest.Netns, dev string) []ifAddr {
	t.Helper()
	var out []ifAddr
	for _, line := range strings.Split(ns.Exec(t, "ip", "-o", "-4", "addr", "show", "dev", dev), "\n") {
		if m := addrRE.FindStringSubmatch(line); m != nil {
			out = append(out, ifAddr{m[1], m[2], m[3]})
		}
	}
	return out
}

func findAddr(list []ifAddr, ip string) []ifAddr {
	var out []ifAddr
	for _, a := range list {
		if strings.HasPrefix(a.prefix, ip+"/") {
			out = append(out, a)
		}
	}
	return out
}

func mac(t *testing.T, ns *hwtest.Netns, dev string) net.HardwareAddr {
	t.Helper()
	f := strings.Fields(ns.Exec(t, "cat", "/sys/class/net/"+dev+"/address"))
	m, err := net.ParseMAC(f[0])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// capture is an AF_PACKET socket receiving ARP frames on one interface.
type capture struct{ fd int }

func newCapture(t testing.TB, ns *hwtest.Netns, dev string) *capture {
	return newCaptureProto(t, ns, dev, unix.ETH_P_ARP)
}

// newCaptureProto receives frames of one EtherType on dev in ns.
func newCaptureProto(t testing.TB, ns *hwtest.Netns, dev string, etherType uint16) *capture {
	t.Helper()
	c := &capture{fd: -1}
	ns.Do(t, func() {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			panic(err)
		}
		proto := int(htons(etherType))
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			panic(err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifi.Index}); err != nil {
			panic(err)
		}
		// kernel receive times, from the first frame on
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
			panic(err)
		}
		c.fd = fd
	})
	t.Cleanup(func() { unix.Close(c.fd) })
	return c
}

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

type frame struct {
	b  []byte
	at time.Time
}

// arpFor collects up to n ARP frames whose sender IP is ip, until
// timeout, with their kernel receive times.
func (c *capture) arpFor(ip string, n int, timeout time.Duration) []frame {
	want := netip.MustParseAddr(ip).As4()
	var out []frame
	deadline := time.Now().Add(timeout)
	buf, oob := make([]byte, 2048), make([]byte, 512)
	for len(out) < n {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		tv := unix.NsecToTimeval(left.Nanoseconds())
		unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		k, oobn, _, _, err := unix.Recvmsg(c.fd, buf, oob, 0)
		if err != nil || k < 42 || !bytes.Equal(buf[28:32], want[:]) {
			continue
		}
		at := time.Now()
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
				ts := *(*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
				at = time.Unix(ts.Unix())
			}
		}
		out = append(out, frame{append([]byte(nil), buf[:k]...), at})
	}
	return out
}

// wantGARP checks a frame against spec 7.4.
func wantGARP(t *testing.T, f []byte, op uint16, hw net.HardwareAddr, ip string) {
	t.Helper()
	a := netip.MustParseAddr(ip).As4()
	var want []byte
	want = append(want, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	want = append(want, hw...)
	want = append(want, 0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, byte(op))
	want = append(want, hw...)
	want = append(want, a[:]...)
	if op == 1 {
		want = append(want, 0, 0, 0, 0, 0, 0)
	} else {
		want = append(want, hw...)
	}
	want = append(want, a[:]...)
	if len(f) < 42 || !bytes.Equal(f[:42], want) {
		t.Errorf("frame\n got % x\nwant % x", f, want)
	}
	for _, b := range f[42:] {
		if b != 0 {
			t.Errorf("padding not zero: % x", f[42:])
			break
		}
	}
}

func neighMAC(t *testing.T, ns *hwtest.Netns, ip string) string {
	out := ns.Exec(t, "ip", "neigh", "show", ip, "dev", "eth0")
	f := strings.Fields(out)
	for i := range f {
		if f[i] == "lladdr" && i+1 < len(f) {
			return f[i+1]
		}
	}
	return ""
}

func TestStartStatusStopNetns(t *testing.T) {
	l := newLab(t)
	srvMAC := mac(t, l.srv, "eth0")
	// The client believes the service address is at some old MAC.
	l.cli.Exec(t, "ip", "neigh", "replace", "192.0.2.77", "lladdr", "02:00:00:00:00:99", "dev", "eth0", "nud", "stale")
	capCli := newCapture(t, l.cli, "eth0")

	t0 := time.Now()
	code, _, e := l.run(t, "-c", "3", "-i", "400", "192.0.2.77", "start")
	took := time.Since(t0)
	if code != 0 {
		t.Fatalf("start: %d %s", code, e)
	}
	if took > 600*time.Millisecond { // the repetitions take 1 s
		t.Errorf("start took %v: the repetitions must not block it", took)
	}
	got := findAddr(addrs(t, l.srv, "eth0"), "192.0.2.77")
	if len(got) != 1 || got[0] != (ifAddr{"192.0.2.77/24", "192.0.2.255", "eth0:0"}) {
		t.Fatalf("after start: %+v", got)
	}
	pidText, err := os.ReadFile(filepath.Join(l.runDir, "garp-192.0.2.77.pid"))
	if err != nil {
		t.Fatalf("no announcer pid file: %v", err)
	}
	frames := capCli.arpFor("192.0.2.77", 7, 3*time.Second)
	if len(frames) != 6 {
		t.Fatalf("client received %d GARP frames, want 6 (3 request+reply pairs)", len(frames))
	}
	for i, f := range frames {
		wantGARP(t, f.b, uint16(1+i%2), srvMAC, "192.0.2.77")
	}
	// 7.4 timing: a pair starts ~400 ms after the one before, its reply
	// ~200 ms after its request. Checked from below (never faster than
	// that, with 150 ms of slack): a loaded machine may delay a send (seen:
	// the repetitions 500 ms late), and all six arrived within the capture's 3 s.
	for i, min := range []time.Duration{0, 0, 400, 200, 200, 200} {
		if i > 0 && frames[i].at.Sub(frames[i-1].at) < (min-150)*time.Millisecond {
			t.Errorf("frame %d %v after frame %d, want about %dms", i, frames[i].at.Sub(frames[i-1].at), i-1, min)
		}
	}
	// the announcer has finished: gone, reaped (not a zombie of ours),
	// and its pid file removed
	pid := strings.TrimSpace(string(pidText))
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := os.Stat("/proc/" + pid)
		_, perr := os.Stat(filepath.Join(l.runDir, "garp-192.0.2.77.pid"))
		if os.IsNotExist(err) && os.IsNotExist(perr) {
			break
		}
		if time.Now().After(deadline) {
			st, _ := os.ReadFile("/proc/" + pid + "/stat")
			t.Fatalf("announcer %s not gone after its last frame: %q, pid file: %v", pid, st, perr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	deadline = time.Now().Add(2 * time.Second)
	for neighMAC(t, l.cli, "192.0.2.77") != srvMAC.String() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if m := neighMAC(t, l.cli, "192.0.2.77"); m != srvMAC.String() {
		t.Errorf("client neighbour table maps 192.0.2.77 to %q, want %s", m, srvMAC)
	}

	// start again: nothing changes, no new announcement
	if code, _, e := l.run(t, "192.0.2.77", "start"); code != 0 {
		t.Fatalf("second start: %d %s", code, e)
	}
	if got := findAddr(addrs(t, l.srv, "eth0"), "192.0.2.77"); len(got) != 1 {
		t.Errorf("second start: %+v", got)
	}
	if f := capCli.arpFor("192.0.2.77", 1, 300*time.Millisecond); len(f) != 0 {
		t.Errorf("second start announced again")
	}
	// a second address takes the next label, dotted mask and explicit broadcast
	if code, _, e := l.run(t, "-c", "1", "192.0.2.78/255.255.255.128/eth0/192.0.2.126", "start"); code != 0 {
		t.Fatalf("start .78: %d %s", code, e)
	}
	if got := findAddr(addrs(t, l.srv, "eth0"), "192.0.2.78"); len(got) != 1 || got[0] != (ifAddr{"192.0.2.78/25", "192.0.2.126", "eth0:1"}) {
		t.Errorf(".78: %+v", got)
	}
	// an address on eth1 used to check "present on another interface"
	l.srv.Exec(t, "ip", "addr", "add", "192.0.2.80/32", "dev", "eth1", "label", "eth1:7")

	for _, c := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"192.0.2.77", "status"}, 0, "Running OK\n"},
		{[]string{"192.0.2.77/24/eth0", "status"}, 0, "Running OK\n"},
		{[]string{"192.0.2.10/24/eth0", "status"}, 0, "Running OK\n"}, // the primary counts too
		{[]string{"192.0.2.79", "status"}, 7, "stopped\n"},
		{[]string{"192.0.2.80/24/eth0", "status"}, 1, "error: 192.0.2.80 is configured on eth1:7, expected on eth0\n"},
		{[]string{"192.0.2.77", "monitor"}, 0, ""},
		{[]string{"192.0.2.79", "monitor"}, 7, ""},
		{[]string{"192.0.2.80/24/eth0", "monitor"}, 7, ""},
		{[]string{"192.0.2.80/24/eth0", "start"}, 1, ""},
	} {
		code, out, e := l.run(t, c.args...)
		if code != c.code || out != c.out {
			t.Errorf("%v = %d %q (stderr %q), want %d %q", c.args, code, out, e, c.code, c.out)
		}
	}

	// stop removes exactly .77; the primary, .78 and eth1's alias survive
	if code, _, e := l.run(t, "192.0.2.77", "stop"); code != 0 {
		t.Fatalf("stop: %d %s", code, e)
	}
	left := addrs(t, l.srv, "eth0")
	if len(findAddr(left, "192.0.2.77")) != 0 || len(findAddr(left, "192.0.2.10")) != 1 || len(findAddr(left, "192.0.2.78")) != 1 {
		t.Errorf("after stop: %+v", left)
	}
	if len(findAddr(addrs(t, l.srv, "eth1"), "192.0.2.80")) != 1 {
		t.Error("stop removed another interface's address")
	}
	for _, args := range [][]string{{"192.0.2.77", "stop"}, {"192.0.2.80/24/eth0", "stop"}} {
		if code, _, e := l.run(t, args...); code != 0 {
			t.Errorf("%v: %d %s", args, code, e)
		}
	}
	if len(findAddr(addrs(t, l.srv, "eth1"), "192.0.2.80")) != 1 {
		t.Error("stop of eth0's address removed eth1's")
	}
	if code, out, _ := l.run(t, "192.0.2.77", "status"); code != 7 || out != "stopped\n" {
		t.Errorf("status after stop: %d %q", code, out)
	}
	// the freed label is reused
	if code, _, _ := l.run(t, "-c", "0", "192.0.2.81", "start"); code != 0 || findAddr(addrs(t, l.srv, "eth0"), "192.0.2.81")[0].label != "eth0:0" {
		t.Errorf("freed label not reused: %+v", addrs(t, l.srv, "eth0"))
	}
	// two aliases in a subnet of their own: the first is that subnet's
	// primary; stopping it must not take the second with it
	for _, a := range []string{"203.0.113.5/24/eth0", "203.0.113.6/24/eth0"} {
		if code, _, e := l.run(t, "-c", "0", a, "start"); code != 0 {
			t.Fatalf("start %s: %d %s", a, code, e)
		}
	}
	if code, _, e := l.run(t, "203.0.113.5/24/eth0", "stop"); code != 0 {
		t.Fatalf("stop 203.0.113.5: %d %s", code, e)
	}
	if got := addrs(t, l.srv, "eth0"); len(findAddr(got, "203.0.113.5")) != 0 || len(findAddr(got, "203.0.113.6")) != 1 {
		t.Errorf("stopping a subnet's first alias removed the others: %+v", got)
	}
	// monitor on a down interface
	l.srv.Exec(t, "ip", "link", "set", "eth0", "down")
	if code, _, _ := l.run(t, "192.0.2.78/25/eth0", "monitor"); code != 7 {
		t.Errorf("monitor with eth0 down = %d, want 7", code)
	}
	// status without any route left still finds it (no interface given)
	if code, out, _ := l.run(t, "192.0.2.81", "status"); code != 0 || out != "Running OK\n" {
		t.Errorf("status with eth0 down = %d %q", code, out)
	}
}

// TestBackgroundProcess runs start and stop as processes: start exits at
// once, a detached child keeps announcing, and stop kills it.
func TestBackgroundProcess(t *testing.T) {
	l := newLab(t)
	capCli := newCapture(t, l.cli, "eth0")
	t0 := time.Now()
	out, err := l.command("-c", "20", "-i", "200", "192.0.2.77", "start").CombinedOutput()
	if err != nil {
		t.Fatalf("start: %v %s", err, out)
	}
	took := time.Since(t0)
	if took > 1500*time.Millisecond {
		t.Errorf("start process took %v", took)
	}
	pidFile := filepath.Join(l.runDir, "garp-192.0.2.77.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("no pid file: %v", err)
	}
	pid := strings.TrimSpace(string(b))
	cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
	if !strings.Contains(string(cmdline), "--garp-repeat\x00eth0\x00192.0.2.77\x0020\x00200") {
		t.Fatalf("announcer cmdline %q", cmdline)
	}
	// first pair, then more from the child
	if f := capCli.arpFor("192.0.2.77", 4, 2*time.Second); len(f) != 4 {
		t.Fatalf("got %d frames, want >= 4", len(f))
	}
	if out, err := l.command("192.0.2.77", "stop").CombinedOutput(); err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("announcer still running after stop")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left: %v", err)
	}
	capCli.arpFor("192.0.2.77", 100, 50*time.Millisecond) // drain
	if f := capCli.arpFor("192.0.2.77", 1, 500*time.Millisecond); len(f) != 0 {
		t.Errorf("announcements after stop")
	}
}

// TestConcurrentStarts starts 8 addresses from 8 processes at once.
func TestConcurrentStarts(t *testing.T) {
	l := newLab(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := l.command("-c", "1", fmt.Sprintf("192.0.2.%d", 100+i), "start").CombinedOutput()
			if err != nil {
				errs[i] = fmt.Sprintf("%v %s", err, out)
			}
		}(i)
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			t.Errorf("start %d: %s", i, e)
		}
	}
	labels := map[string]string{}
	for _, a := range addrs(t, l.srv, "eth0") {
		if a.label == "eth0" {
			continue
		}
		if prev, dup := labels[a.label]; dup {
			t.Errorf("label %s used twice: %s and %s", a.label, prev, a.prefix)
		}
		labels[a.label] = a.prefix
	}
	for i := 0; i < n; i++ {
		if _, ok := labels[fmt.Sprintf("eth0:%d", i)]; !ok {
			t.Errorf("label eth0:%d missing: %v", i, labels)
		}
	}
}

// TestRouteSelection checks findif over a namespace with several routes
// and metrics, and compares every answer with heartbeat 3.0.6's own
// findif binary when it is installed.
func TestRouteSelection(t *testing.T) {
	l := newLab(t)
	l.srv.Exec(t, "ip", "link", "add", "eth2", "type", "veth", "peer", "name", "eth3")
	for _, d := range []string{"eth2", "eth3"} {
		l.srv.Exec(t, "ip", "link", "set", d, "up")
	}
	for _, r := range [][]string{
		{"10.0.0.0/8", "dev", "eth1", "metric", "10"},
		{"10.1.0.0/16", "dev", "eth3", "metric", "1"},
		{"10.1.0.0/16", "dev", "eth2", "metric", "5"},
		{"10.1.2.0/24", "dev", "eth2", "metric", "10"},
		{"10.2.0.0/16", "dev", "eth2", "metric", "7"},
		{"10.2.0.0/16", "dev", "eth3", "metric", "7"},
		{"172.16.9.9/32", "dev", "eth3"},
	} {
		l.srv.Exec(t, "ip", append([]string{"route", "append"}, r...)...)
	}
	oracle := "/usr/libexec/heartbeat/findif" // heartbeat 3.0.6
	if _, err := os.Stat(oracle); err != nil {
		t.Logf("no %s: comparing with fixed expectations only", oracle)
		oracle = ""
	}
	check := func(arg, want string) {
		t.Helper()
		code, out, e := l.run(t, "--findif", arg)
		got := out
		if code != 0 {
			got = strings.TrimPrefix(strings.TrimSpace(e), "IPaddr: ")
		}
		if got != want {
			t.Errorf("--findif %s = %q, want %q\n%s", arg, got, want, l.srv.Exec(t, "cat", "/proc/net/route"))
		}
		if oracle == "" {
			return
		}
		sp, _ := ParseSpec(arg)
		cmd := l.srv.Command(oracle)
		cmd.Env = []string{"OCF_RESKEY_ip=" + sp.IP.String(), "OCF_RESKEY_nic=" + sp.Iface}
		if sp.Bits > 0 {
			cmd.Env = append(cmd.Env, fmt.Sprintf("OCF_RESKEY_cidr_netmask=%d", sp.Bits))
		}
		if sp.Bcast.IsValid() {
			cmd.Env = append(cmd.Env, "OCF_RESKEY_broadcast="+sp.Bcast.String())
		}
		var o, oe bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &oe
		cmd.Run()
		ref := o.String()
		if ref == "" {
			ref = strings.TrimPrefix(strings.TrimSpace(oe.String()), "ERROR: ")
		}
		if strings.HasSuffix(ref, "No interface found.") && strings.HasPrefix(got, "No route to ") {
			return // findif 3.0.6 runs `route` here and prints its usage text
		}
		if got != ref {
			t.Errorf("--findif %s = %q, heartbeat's findif says %q", arg, got, ref)
		}
	}
	check("192.0.2.77", "eth0\tnetmask 255.255.255.0\tbroadcast 192.0.2.255\n")
	check("198.51.100.5", "eth1\tnetmask 255.255.255.0\tbroadcast 198.51.100.255\n")
	check("10.9.9.9", "eth1\tnetmask 255.0.0.0\tbroadcast 10.255.255.255\n")
	check("10.1.9.9", "eth3\tnetmask 255.255.0.0\tbroadcast 10.1.255.255\n")
	check("10.1.2.3", "eth3\tnetmask 255.255.0.0\tbroadcast 10.1.255.255\n") // the /24 has a worse metric
	check("10.2.3.4", "eth3\tnetmask 255.255.0.0\tbroadcast 10.2.255.255\n") // tie: the later line wins
	check("10.2.3.4/24/10.2.3.9", "eth3\tnetmask 255.255.255.0\tbroadcast 10.2.3.9\n")
	check("172.16.9.9", "eth3\tnetmask 255.255.255.255\tbroadcast 172.16.9.9\n")
	check("203.0.113.9", "No route to 203.0.113.9")
	check("203.0.113.9/24/eth2", "eth2\tnetmask 255.255.255.0\tbroadcast 203.0.113.255\n")

	// A default route with metric 0 comes first in the table and blocks
	// every later match with a higher metric (findif's rule, kept).
	l.srv.Exec(t, "ip", "route", "add", "default", "via", "192.0.2.1", "dev", "eth0")
	check("10.1.2.3", "Cannot use default route w/o netmask [10.1.2.3]")
	check("10.9.9.9/16", "eth0\tnetmask 255.255.0.0\tbroadcast 10.9.255.255\n")
	check("172.16.9.9", "eth3\tnetmask 255.255.255.255\tbroadcast 172.16.9.9\n")
	check("203.0.113.9", "Cannot use default route w/o netmask [203.0.113.9]")
	check("203.0.113.9/255.255.255.0", "eth0\tnetmask 255.255.255.0\tbroadcast 203.0.113.255\n")
	l.srv.Exec(t, "ip", "route", "del", "default")

	// start through the route table
	if code, _, e := l.run(t, "-c", "0", "10.1.9.9", "start"); code != 0 {
		t.Fatalf("start 10.1.9.9: %d %s", code, e)
	}
	if got := findAddr(addrs(t, l.srv, "eth3"), "10.1.9.9"); len(got) != 1 || got[0] != (ifAddr{"10.1.9.9/16", "10.1.255.255", "eth3:0"}) {
		t.Errorf("start via route: %+v", got)
	}
	// eth3 had no IPv4 address before: its other routes must survive
	if out := l.srv.Exec(t, "ip", "route", "show", "172.16.9.9/32"); !strings.Contains(out, "dev eth3") {
		t.Errorf("adding the first address of eth3 lost its routes: %q", out)
	}
}

// TestBadInputNetns checks every refusal: exit 2 and a clear message,
// nothing changed.
func TestBadInputNetns(t *testing.T) {
	l := newLab(t)
	// The kernel's duplicate address detection may finish between the two
	// snapshots (an IPv6 address loses its "tentative" flag): not a change.
	snapshot := func() string { return strings.ReplaceAll(l.srv.Exec(t, "ip", "-o", "addr"), " tentative", "") }
	before := snapshot()
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"192.0.2", "start"}, "malformed address [192.0.2]"},
		{[]string{"192.0.2.77/33", "start"}, "netmask bits out of range (1..32) [33]"},
		{[]string{"192.0.2.77/24/eth9", "start"}, "eth9: unknown interface"},
		{[]string{"192.0.2.77/24/eth9", "stop"}, "eth9: unknown interface"},
		{[]string{"203.0.113.9", "start"}, "No route to 203.0.113.9"},
		{[]string{"192.0.2.77", "bounce"}, "unknown action"},
	} {
		code, _, e := l.run(t, c.args...)
		if code != 2 || !strings.Contains(e, c.msg) {
			t.Errorf("%v: %d %q, want 2 %q", c.args, code, e, c.msg)
		}
	}
	l.srv.Exec(t, "ip", "route", "add", "default", "via", "192.0.2.1")
	if code, _, e := l.run(t, "203.0.113.9", "start"); code != 2 || !strings.Contains(e, "Cannot use default route w/o netmask [203.0.113.9]") {
		t.Errorf("default route: %d %q", code, e)
	}
	// not root: the same process without capabilities
	hwtest.RequireCmd(t, "setpriv")
	cmd := l.srv.Command("setpriv", "--inh-caps=-all", "--bounding-set=-all", "--", l.exe, "192.0.2.77", "start")
	cmd.Env = append(os.Environ(), l.environ()...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "needs root") {
		t.Errorf("without CAP_NET_ADMIN: %v %q", err, out)
	}
	l.srv.Exec(t, "ip", "route", "del", "default")
	if after := snapshot(); after != before {
		t.Errorf("bad input changed addresses:\n%s\n%s", before, after)
	}
}

// TestGoRepeater runs the package API the way a long-running daemon would:
// the repetitions come from a goroutine, and Stop cancels them.
func TestGoRepeater(t *testing.T) {
	l := newLab(t)
	capCli := newCapture(t, l.cli, "eth0")
	hw := &HW{RunDir: l.runDir}
	defer hw.Close()
	rep := &GoRepeater{}
	ag := &Agent{Sys: hw, Announcer: Announcer{Repeater: rep, Count: 50, Interval: 100 * time.Millisecond}}
	sp, err := ParseSpec("192.0.2.77/24/eth0")
	if err != nil {
		t.Fatal(err)
	}
	var tg Target
	l.srv.Do(t, func() {
		if tg, err = ag.Resolve(sp); err != nil {
			panic(err)
		}
		if _, _, err = ag.Start(tg); err != nil {
			panic(err)
		}
	})
	// The goroutine keeps its sockets: the AF_PACKET socket was opened in
	// the namespace, so sending works from any thread.
	if f := capCli.arpFor("192.0.2.77", 6, 2*time.Second); len(f) != 6 {
		t.Fatalf("got %d frames, want 6", len(f))
	}
	l.srv.Do(t, func() {
		if _, err = ag.Stop(tg); err != nil {
			panic(err)
		}
	})
	capCli.arpFor("192.0.2.77", 100, 50*time.Millisecond) // drain
	if f := capCli.arpFor("192.0.2.77", 1, 400*time.Millisecond); len(f) != 0 {
		t.Errorf("frames after Stop: %d", len(f))
	}
}

// TestConcurrentStartsInProcess releases 16 starts of different addresses
// at the same instant (each on its own thread in the namespace, each with
// its own lock file description): labels must still be distinct. Then 16
// concurrent stops must leave only the primary. Several rounds, as a race
// does not show every time.
func TestConcurrentStartsInProcess(t *testing.T) {
	l := newLab(t)
	const n = 16
	all := func(action string) []int {
		var ready, done sync.WaitGroup
		gate := make(chan struct{})
		codes := make([]int, n)
		for i := 0; i < n; i++ {
			ready.Add(1)
			done.Add(1)
			go func(i int) {
				defer done.Done()
				l.srv.Do(t, func() {
					ready.Done()
					<-gate
					codes[i] = Applet.Run(&cli.Env{Environ: l.environ()}, []string{"-c", "0", fmt.Sprintf("192.0.2.%d/24/eth0", 100+i), action})
				})
			}(i)
		}
		ready.Wait()
		close(gate)
		done.Wait()
		return codes
	}
	for round := 0; round < 8; round++ {
		for i, c := range all("start") {
			if c != 0 {
				t.Errorf("round %d: start %d: exit %d", round, i, c)
			}
		}
		seen := map[string]string{}
		for _, a := range addrs(t, l.srv, "eth0") {
			if prev, dup := seen[a.label]; dup {
				t.Errorf("round %d: label %s used twice: %s and %s", round, a.label, prev, a.prefix)
			}
			seen[a.label] = a.prefix
		}
		if len(seen) != n+1 {
			t.Errorf("round %d: %d labels, want %d: %v", round, len(seen), n+1, seen)
		}
		for i, c := range all("stop") {
			if c != 0 {
				t.Errorf("round %d: stop %d: exit %d", round, i, c)
			}
		}
		if got := addrs(t, l.srv, "eth0"); len(got) != 1 || got[0].label != "eth0" {
			t.Fatalf("round %d: after the stops: %+v", round, got)
		}
	}
}

// TestGARPMatchesSendArp compares our frames with those of heartbeat's own
// send_arp (libnet), sent from the same interface: byte for byte.
func TestGARPMatchesSendArp(t *testing.T) {
	sendArp := "/usr/libexec/heartbeat/send_arp"
	if _, err := os.Stat(sendArp); err != nil {
		hwtest.RequireCmd(t, "send_arp") // skips, or fails under CI
	}
	l := newLab(t)
	capCli := newCapture(t, l.cli, "eth0")
	// A private pid file: send_arp's default one is named after the
	// address in the host's /run, where another IPaddr stop may kill it.
	const ip = "192.0.2.213"
	l.srv.Exec(t, sendArp, "-i", "100", "-r", "1", "-p", filepath.Join(l.runDir, "send_arp.pid"), "eth0", ip, "auto", ip, "ffffffffffff")
	theirs := capCli.arpFor(ip, 2, 3*time.Second)
	if code, _, e := l.run(t, "-c", "1", ip+"/24/eth0", "start"); code != 0 {
		t.Fatalf("start: %d %s", code, e)
	}
	ours := capCli.arpFor(ip, 2, 3*time.Second)
	if len(theirs) != 2 || len(ours) != 2 {
		t.Fatalf("send_arp sent %d frames, habox %d; want 2 each", len(theirs), len(ours))
	}
	for i := range ours {
		if !bytes.Equal(ours[i].b, theirs[i].b) {
			t.Errorf("frame %d\nhabox    % x\nsend_arp % x", i, ours[i].b, theirs[i].b)
		}
	}
}

// Start waits (HABOX_IF_WAIT) for an interface that appears later (a bridge being rebuilt, netifd bringing it up).
func TestStartWaitsForInterfaceNetns(t *testing.T) {
	l := newLab(t)
	l.ifWait = "10"
	done := make(chan string, 1)
	go func() {
		code, _, e := l.run(t, "192.0.2.88/24/eth7", "start")
		done <- fmt.Sprint(code, " ", e)
	}()
	time.Sleep(500 * time.Millisecond)
	hwtest.Veth(t, l.srv, "eth7", "", l.br, "p7", "")
	select {
	case r := <-done:
		if !strings.HasPrefix(r, "0 ") {
			t.Fatalf("start: %s", r)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("start did not return")
	}
	if out := l.srv.Exec(t, "ip", "-o", "-4", "addr", "show", "dev", "eth7"); !strings.Contains(out, "192.0.2.88/24") {
		t.Errorf("address not on eth7: %s", out)
	}
}
