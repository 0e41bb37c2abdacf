// Command vmtest proves habox on a real kernel: it boots two qemu VMs
// (Debian's linux-image-amd64, TCG) from a habox-only initramfs and checks,
// from the host:
//
//   - mkwatchdog loads softdog and creates /dev/watchdog,
//   - serialtest passes over the 16550 line between the VMs (ttyS1 <-> ttyS1),
//   - heartbeat (serial /dev/ttyS1 + bcast eth1) gives node1 the service
//     address; the client on the shared segment sees the gratuitous ARP and
//     reaches it,
//   - node1 killed (qemu "quit" on its monitor) -> node2 takes over,
//   - node2's daemon hung (SIGSTOP) -> its watchdog resets the VM.
//
// Topology, all host-side sockets in a private network namespace or unix
// sockets: the service segment is a bridge in that namespace with one tap
// per VM (eth0), the namespace itself being the client (10.77.0.100); the
// heartbeat link (eth1) is a qemu UDP socket pair on the namespace's
// loopback; the serial line and the command channels (ttyS2, served by
// habox init) are unix sockets. Run as root:
//
//	go run ./vm/vmtest -habox ./habox [-install] [-v] [-keep]
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"habox/vm/initramfs"
)

const (
	vip     = "10.77.0.10"
	client  = "10.77.0.100"
	ctlDev  = "/dev/ttyS2"
	hbPort1 = 47001 // qemu UDP socket ends of the heartbeat link (netns loopback)
	hbPort2 = 47002
)

var (
	haboxPath = flag.String("habox", "./habox", "habox binary (must have the init applet)")
	kernel    = flag.String("kernel", "", "kernel image (default: newest /boot/vmlinuz-*)")
	install   = flag.Bool("install", false, "apt-get install qemu-system-x86 and linux-image-amd64 when missing")
	verbose   = flag.Bool("v", false, "copy the VMs' consoles to stdout")
	keep      = flag.Bool("keep", false, "keep the work directory")
	timeout   = flag.Duration("timeout", 5*time.Minute, "give up after this long")
	profile   = flag.String("profile", "default", "default, or minimal: the router-like box (see minimal.go)")
)

// result collects step outcomes.
type result struct {
	mu     sync.Mutex
	failed bool
	start  time.Time
}

var res = &result{start: time.Now()}

func logf(format string, a ...any) {
	fmt.Printf("[%6.1fs] %s\n", time.Since(res.start).Seconds(), fmt.Sprintf(format, a...))
}

func pass(format string, a ...any) { logf("ok    "+format, a...) }

func fail(format string, a ...any) {
	res.mu.Lock()
	res.failed = true
	res.mu.Unlock()
	logf("FAIL  "+format, a...)
}

// fatal is a failure the scenario cannot go on after.
type fatal struct{ msg string }

func must(err error, what string) {
	if err != nil {
		panic(fatal{what + ": " + err.Error()})
	}
}

func main() {
	flag.Parse()
	code := run()
	os.Exit(code)
}

func run() (code int) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "vmtest: needs root (network namespace, taps)")
		return 1
	}
	work, err := os.MkdirTemp("", "habox-vmtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "vmtest:", err)
		return 1
	}
	var vms []*vm
	ns := "hbvm" + strconv.Itoa(os.Getpid())
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			fail("%s", f.msg)
		}
		for _, v := range vms {
			v.stop()
		}
		exec.Command("ip", "netns", "del", ns).Run()
		if res.failed {
			for _, v := range vms {
				v.dumpTail(40)
			}
			fmt.Printf("vmtest: FAILED (%.0fs); consoles kept in %s\n", time.Since(res.start).Seconds(), work)
			code = 1
			return
		}
		if !*keep {
			os.RemoveAll(work)
		}
		fmt.Printf("vmtest: PASS (%.0fs)\n", time.Since(res.start).Seconds())
	}()
	watchdogTimer := time.AfterFunc(*timeout, func() {
		fmt.Printf("vmtest: FAIL: over %v; consoles in %s\n", *timeout, work)
		for _, v := range vms {
			v.stop()
		}
		exec.Command("ip", "netns", "del", ns).Run()
		os.Exit(1)
	})
	defer watchdogTimer.Stop()

	kimg, kdir := findKernel()
	if *profile == "minimal" {
		setupNetns(ns)
		arp := startCapture(ns)
		defer arp.stop()
		minimal(work, ns, kimg, kdir, arp, &vms)
		return 0
	}
	image := buildImage(work, kdir, "initramfs", haCf, defaultRC, false)
	setupNetns(ns)
	arp := startCapture(ns)
	defer arp.stop()

	node1 := newVM(1, work, ns, kimg, image)
	vms = append(vms, node1)
	must(node1.start(), "start node1")
	waitFile(node1.dir("serial.sock"), 20*time.Second)
	node2 := newVM(2, work, ns, kimg, image)
	vms = append(vms, node2)
	must(node2.start(), "start node2")
	for _, v := range []*vm{node1, node2} {
		if _, err := v.con.waitFor("init: commands from "+ctlDev, 150*time.Second); err != nil {
			panic(fatal{v.name + " did not boot: " + err.Error()})
		}
		pass("%s booted (habox init, command channel on %s)", v.name, ctlDev)
	}

	// mkwatchdog ran in the boot script.
	for _, v := range []*vm{node1, node2} {
		if v.con.has("init: mkwatchdog: exit 0") && v.con.has("softdog") {
			pass("%s: mkwatchdog loaded softdog", v.name)
		} else {
			fail("%s: mkwatchdog did not load softdog", v.name)
		}
		out, rc := v.ctl("mkwatchdog -n")
		if rc == 0 && strings.Contains(out, "nothing to do") {
			pass("%s: /dev/watchdog in place", v.name)
		} else {
			fail("%s: mkwatchdog -n: rc %d\n%s", v.name, rc, out)
		}
	}

	// serialtest over the UART: node2 echoes, node1 pings.
	if _, rc := node2.ctl("bg serialtest --echo /dev/ttyS1"); rc != 0 {
		fail("node2: serialtest --echo did not start")
	}
	time.Sleep(time.Second)
	out, rc := node1.ctl("serialtest --ping -n 10 /dev/ttyS1")
	if rc == 0 {
		pass("serialtest --ping over ttyS1 <-> ttyS1: %s", summary(out))
	} else {
		fail("serialtest --ping: rc %d\n%s", rc, out)
	}
	node2.ctl("kill TERM serialtest")
	node2.ctl("wait serialtest")

	// heartbeat on both; node1 takes the service address.
	for _, v := range []*vm{node1, node2} {
		if _, rc := v.ctl("bg heartbeat -f"); rc != 0 {
			fail("%s: heartbeat did not start", v.name)
		}
	}
	t0 := time.Now()
	mac, err := waitOwner(ns, 90*time.Second, node1.mac, node2.mac)
	switch {
	case err != nil:
		fail("client cannot reach %s: %v", vip, err)
	case mac != node1.mac:
		fail("%s answered from %s, want node1 (%s)", vip, mac, node1.mac)
	default:
		pass("client reaches %s on node1 (%s) %.1fs after heartbeat start", vip, mac, time.Since(t0).Seconds())
	}
	// Exactly one owner.
	out1, rc1 := node1.ctl("IPaddr " + vip + "/24/eth0 status")
	out2, rc2 := node2.ctl("IPaddr " + vip + "/24/eth0 status")
	if rc1 == 0 && strings.Contains(out1, "Running") && rc2 == 7 {
		pass("IPaddr status: node1 holds %s, node2 does not", vip)
	} else {
		fail("IPaddr status: node1 %q (%d), node2 %q (%d)", out1, rc1, out2, rc2)
	}
	if arp.sawGARP(node1.mac, 20*time.Second) {
		pass("client saw node1's gratuitous ARP for %s", vip)
	} else {
		fail("no gratuitous ARP for %s from node1", vip)
	}
	for _, v := range []*vm{node1, node2} {
		out, rc := v.ctl("cl_status nodestatus node1")
		out2, rc2 := v.ctl("cl_status nodestatus node2")
		if rc == 0 && rc2 == 0 && strings.Contains(out, "active") && strings.Contains(out2, "active") {
			pass("%s: cl_status sees node1 and node2 active", v.name)
		} else {
			fail("%s: cl_status nodestatus: %q (%d) %q (%d)", v.name, out, rc, out2, rc2)
		}
	}
	for _, v := range []*vm{node1, node2} {
		out, rc := v.ctl("cl_status hblinkstatus " + other(v).name + " /dev/ttyS1")
		if rc == 0 && strings.Contains(out, "up") {
			pass("%s: serial link to %s up", v.name, other(v).name)
		} else {
			fail("%s: serial link to %s: %q (%d)", v.name, other(v).name, out, rc)
		}
	}

	// node1 dies: node2 takes over.
	t0 = time.Now()
	must(node1.quit(), "quit node1")
	arp.reset()
	mac, err = waitOwner(ns, 60*time.Second, node2.mac)
	if err != nil {
		fail("after node1's death, %s unreachable: %v", vip, err)
	} else {
		pass("node1 killed: client reaches %s on node2 (%s) after %.1fs", vip, mac, time.Since(t0).Seconds())
	}
	if arp.sawGARP(node2.mac, 20*time.Second) {
		pass("client saw node2's gratuitous ARP")
	} else {
		fail("no gratuitous ARP from node2")
	}

	// node2's daemon hangs: the watchdog resets the VM.
	t0 = time.Now()
	if _, rc := node2.ctl("kill STOP heartbeat"); rc != 0 {
		fail("node2: kill STOP heartbeat failed")
	}
	if _, err := node2.con.waitFor("softdog: Initiating system reboot", 60*time.Second); err != nil {
		fail("node2: heartbeat stopped, but no watchdog reset: %v", err)
	} else {
		select {
		case <-node2.exited:
			pass("node2's heartbeat hung (SIGSTOP): softdog reset the VM after %.1fs", time.Since(t0).Seconds())
		case <-time.After(20 * time.Second):
			fail("node2: softdog fired, but the VM did not reset")
		}
	}
	return 0
}

func other(v *vm) *vm { return v.peer }

// summary returns serialtest's result line (the one counting lost probes).
func summary(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "lost") {
			return strings.TrimSpace(lines[i])
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// findKernel returns the newest /boot/vmlinuz-* and its module tree,
// installing the Debian packages when asked to.
func findKernel() (string, string) {
	find := func() (string, string) {
		if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
			return "", ""
		}
		k := *kernel
		if k == "" {
			m, _ := filepath.Glob("/boot/vmlinuz-*")
			sort.Strings(m)
			if len(m) == 0 {
				return "", ""
			}
			k = m[len(m)-1]
		}
		kdir := "/lib/modules/" + strings.TrimPrefix(filepath.Base(k), "vmlinuz-")
		if _, err := os.Stat(kdir + "/modules.dep"); err != nil {
			return "", ""
		}
		return k, kdir
	}
	if k, d := find(); k != "" {
		return k, d
	}
	if !*install {
		panic(fatal{"no qemu-system-x86_64 or no /boot/vmlinuz-* with modules: apt-get install qemu-system-x86 linux-image-amd64 (or run with -install)"})
	}
	logf("installing qemu-system-x86 linux-image-amd64 (about 95 MB to download)")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "--no-install-recommends", "qemu-system-x86", "linux-image-amd64"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			panic(fatal{fmt.Sprintf("apt-get %s: %v\n%s", args[0], err, out)})
		}
	}
	k, d := find()
	if k == "" {
		panic(fatal{"packages installed, still no kernel/qemu"})
	}
	return k, d
}

const haCf = "# habox vmtest cluster\n" + haCfBody

// haCfBody is the ha.cf both profiles share.
const haCfBody = `logfacility none
logfile /var/log/ha-log
use_logd no
keepalive 500ms
deadtime 5
warntime 3
initdead 10
udpport 694
baud 19200
serial /dev/ttyS1
bcast eth1
watchdog /dev/watchdog
auto_failback off
node node1 node2
crm no
`

const defaultRC = "# habox vmtest boot script\necho habox vmtest: booting\nmkwatchdog\n"

// buildImage writes the cluster configuration (ha.cf text hacf) and an
// initramfs NAME.cpio.gz with the boot script rcText.
func buildImage(work, kdir, name, hacf, rcText string, bare bool) string {
	out, err := exec.Command(*haboxPath, "--list").Output()
	must(err, *haboxPath+" --list")
	if !strings.Contains("\n"+string(out), "\ninit\n") {
		panic(fatal{*haboxPath + " has no init applet: main.go must register hainit.Applet"})
	}
	ha := filepath.Join(work, name+".ha.d")
	must(os.MkdirAll(ha, 0o755), "mkdir")
	key := make([]byte, 16)
	copy(key, clusterKey[:])
	must(os.WriteFile(ha+"/ha.cf", []byte(hacf), 0o644), "ha.cf")
	must(os.WriteFile(ha+"/haresources", []byte("node1 "+vip+"/24/eth0\n"), 0o644), "haresources")
	must(os.WriteFile(ha+"/authkeys", []byte("auth 1\n1 sha1 "+hex.EncodeToString(key)+"\n"), 0o600), "authkeys")
	rc := filepath.Join(work, name+".hainit.rc")
	must(os.WriteFile(rc, []byte(rcText), 0o644), "hainit.rc")
	o := &initramfs.Options{Habox: *haboxPath, HaDir: ha, KDir: kdir,
		Load:  []string{"virtio_pci", "virtio_net"},
		Carry: []string{"softdog"},
		Files: map[string]string{"etc/hainit.rc": rc}, Bare: bare}
	a, err := initramfs.Build(o)
	must(err, "initramfs")
	img := filepath.Join(work, name+".cpio.gz")
	f, err := os.Create(img)
	must(err, "initramfs")
	must(a.WriteGzip(f), "initramfs")
	must(f.Close(), "initramfs")
	fi, _ := os.Stat(img)
	pass("initramfs: %d entries, %d KiB, modules %d from %s", len(a.Names()), fi.Size()>>10, len(o.Modules), kdir)
	return img
}

func sh(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// setupNetns creates the client namespace: bridge br0 (10.77.0.100/24)
// with tap1 and tap2 for the VMs' eth0.
func setupNetns(ns string) {
	must(sh("ip", "netns", "add", ns), "netns")
	for _, c := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "br0", "type", "bridge", "forward_delay", "0"},
		{"addr", "add", client + "/24", "dev", "br0"},
		{"link", "set", "br0", "up"},
		{"tuntap", "add", "dev", "tap1", "mode", "tap"},
		{"tuntap", "add", "dev", "tap2", "mode", "tap"},
		{"link", "set", "tap1", "master", "br0", "up"},
		{"link", "set", "tap2", "master", "br0", "up"},
	} {
		must(sh(append([]string{"ip", "-n", ns}, c...)...), "netns setup")
	}
}

func waitFile(p string, d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	panic(fatal{p + " did not appear"})
}

// waitOwner pings the service address from the client until it answers
// from one of macs; it returns the MAC that answered.
func waitOwner(ns string, d time.Duration, macs ...string) (string, error) {
	last := ""
	for end := time.Now().Add(d); time.Now().Before(end); {
		err := exec.Command("ip", "netns", "exec", ns, "ping", "-c1", "-W1", "-n", vip).Run()
		if err == nil {
			out, _ := exec.Command("ip", "-n", ns, "neigh", "show", vip).Output()
			last = string(out)
			for _, m := range macs {
				if strings.Contains(last, m) {
					return m, nil
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if last != "" {
		return "", fmt.Errorf("answers, but from %q", strings.TrimSpace(last))
	}
	return "", errors.New("no answer")
}

// capture is tcpdump watching ARP on the client's bridge.
type capture struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	from  int
}

func startCapture(ns string) *capture {
	c := &capture{}
	c.cmd = exec.Command("ip", "netns", "exec", ns, "tcpdump", "-l", "-n", "-e", "-i", "br0", "arp")
	p, err := c.cmd.StdoutPipe()
	must(err, "tcpdump")
	must(c.cmd.Start(), "tcpdump (apt-get install tcpdump)")
	go func() {
		sc := bufio.NewScanner(p)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *capture) reset() {
	c.mu.Lock()
	c.from = len(c.lines)
	c.mu.Unlock()
}

// sawGARP waits for a gratuitous ARP (sender = target = the service
// address) sent by mac.
func (c *capture) sawGARP(mac string, d time.Duration) bool {
	req := regexp.MustCompile(`^.*` + regexp.QuoteMeta(mac) + ` > ff:ff:ff:ff:ff:ff.*(who-has ` + regexp.QuoteMeta(vip) + ` tell ` + regexp.QuoteMeta(vip) + `|Reply ` + regexp.QuoteMeta(vip) + ` is-at ` + regexp.QuoteMeta(mac) + `)`)
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		c.mu.Lock()
		for _, l := range c.lines[c.from:] {
			if req.MatchString(l) {
				c.mu.Unlock()
				return true
			}
		}
		c.mu.Unlock()
	}
	return false
}

func (c *capture) stop() {
	if c.cmd.Process != nil {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	}
}

// clusterKey is the authkeys key of every image of one run.
var clusterKey = func() (k [16]byte) {
	rand.Read(k[:])
	return
}()
