package main

import (
	"fmt"
	"strings"
	"time"
)

// The "minimal box" profile: the box as a router integrator
// builds it, on a real kernel.
//
//   - the image has no /var/lock, /var/lib or /var/log, and /var is a
//     symlink to /tmp (RAM): hb_generation and hb_uuid die with every reset;
//   - eth1 (the heartbeat link) is configured as busybox `ip addr add
//     10.78.0.N/24 dev eth1` leaves it, without a broadcast address;
//   - heartbeat starts from the boot script, so a reset node comes back by
//     itself;
//   - node1, the owner, hangs (SIGSTOP), its watchdog resets it, and it
//     comes back with its RTC at 2000-01-01 (qemu -rtc base=2000-01-01; a
//     box without RTC battery): its generation is then far below the one
//     node2 remembers. It must rejoin, and the cluster keep exactly one
//     owner (auto_failback off: node2). Measured: reset -> node2 sees node1
//     active again.
const minimalHaCf = "# habox vmtest: minimal box\n" + haCfBody

func minimalRC(n int) string {
	return fmt.Sprintf(`# habox vmtest boot script: minimal box, node%d
echo habox vmtest: booting (minimal box)
mkwatchdog
ip eth1 10.78.0.%d/24 nobrd
bg heartbeat -f
`, n, n)
}

func minimal(work, ns, kimg, kdir string, arp *capture, vms *[]*vm) {
	img1 := buildImage(work, kdir, "node1", minimalHaCf, minimalRC(1), true)
	img2 := buildImage(work, kdir, "node2", minimalHaCf, minimalRC(2), true)
	node1 := newVM(1, work, ns, kimg, img1)
	node1.ips = "eth0:10.77.0.1/24" // eth1: the boot script, without broadcast
	*vms = append(*vms, node1)
	must(node1.start(), "start node1")
	waitFile(node1.dir("serial.sock"), 20*time.Second)
	node2 := newVM(2, work, ns, kimg, img2)
	node2.ips = "eth0:10.77.0.2/24"
	*vms = append(*vms, node2)
	must(node2.start(), "start node2")
	for _, v := range []*vm{node1, node2} {
		if _, err := v.con.waitFor("init: commands from "+ctlDev, 150*time.Second); err != nil {
			panic(fatal{v.name + " did not boot: " + err.Error()})
		}
		pass("%s booted (minimal box: no /var/lock, /var -> /tmp, eth1 without broadcast address)", v.name)
	}
	t0 := time.Now()
	mac, err := waitOwner(ns, 90*time.Second, node1.mac, node2.mac)
	switch {
	case err != nil:
		panic(fatal{"client cannot reach " + vip + ": " + err.Error()})
	case mac != node1.mac:
		fail("%s answered from %s, want node1 (%s)", vip, mac, node1.mac)
	default:
		pass("client reaches %s on node1 %.1fs after boot", vip, time.Since(t0).Seconds())
	}
	for _, v := range []*vm{node1, node2} {
		for _, want := range []string{
			"glib: bcast eth1: no IPv4 broadcast address configured; sending to 10.78.0.255, derived from 10.78.0." + fmt.Sprint(v.n) + "/24",
			"WARN: State directory /var/lib/heartbeat is on ",
		} {
			if v.con.has(want) {
				pass("%s: %q", v.name, want)
			} else {
				fail("%s: no %q on the console", v.name, want)
			}
		}
		out, rc := v.ctl("cl_status hblinkstatus " + v.peer.name + " /dev/ttyS1")
		if rc == 0 && strings.Contains(out, "up") {
			pass("%s: serial link up although the image has no /var/lock", v.name)
		} else {
			fail("%s: serial link to %s: %q (%d)", v.name, v.peer.name, out, rc)
		}
		out, rc = v.ctl("cl_status nodestatus " + v.peer.name)
		if rc != 0 || !strings.Contains(out, "active") {
			fail("%s: sees %s as %q (%d)", v.name, v.peer.name, out, rc)
		}
	}

	// node1 hangs; its watchdog resets it; it comes back with the clock
	// of a box without RTC.
	if _, rc := node1.ctl("kill STOP heartbeat"); rc != 0 {
		fail("node1: kill STOP heartbeat failed")
	}
	if _, err := node1.con.waitFor("softdog: Initiating system reboot", 60*time.Second); err != nil {
		panic(fatal{"node1: heartbeat stopped, but no watchdog reset: " + err.Error()})
	}
	reset := time.Now()
	select {
	case <-node1.exited:
	case <-time.After(20 * time.Second):
		panic(fatal{"node1: softdog fired, but the VM did not reset"})
	}
	node1.extra = []string{"-rtc", "base=2000-01-01"}
	must(node1.start(), "restart node1")
	if _, err := node1.con.waitFor("init: commands from "+ctlDev, 150*time.Second); err != nil {
		panic(fatal{"node1 did not boot again: " + err.Error()})
	}
	booted := time.Since(reset)
	pass("node1 reset by its watchdog, booted again with -rtc base=2000-01-01 after %.1fs", booted.Seconds())
	rejoined := time.Duration(0)
	for end := time.Now().Add(90 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		out, rc := node2.ctl("cl_status nodestatus node1")
		if rc == 0 && strings.Contains(out, "active") {
			rejoined = time.Since(reset)
			break
		}
	}
	if rejoined == 0 {
		fail("node1 did not rejoin within 90 s of its boot")
	} else {
		pass("reset -> rejoin: %.1fs (boot %.1fs, then %.1fs until node2 sees node1 active)", rejoined.Seconds(), booted.Seconds(), (rejoined - booted).Seconds())
	}
	for _, c := range []struct {
		v    *vm
		want string
	}{
		{node1, "No Previous generation - starting at 9466"},
		{node1, "Raising heartbeat generation from 9466"},
		{node2, "attempted replay attack [node1]"},
		{node2, "Heartbeat restart on node node1"},
	} {
		if l, err := c.v.con.waitFor(c.want, 5*time.Second); err == nil {
			pass("%s: %s", c.v.name, strings.TrimSpace(l))
		} else {
			fail("%s: %v", c.v.name, err)
		}
	}
	// Exactly one owner: node2 (auto_failback off), never node1 again.
	time.Sleep(3 * time.Second)
	out1, rc1 := node1.ctl("IPaddr " + vip + "/24/eth0 status")
	out2, rc2 := node2.ctl("IPaddr " + vip + "/24/eth0 status")
	if rc2 == 0 && strings.Contains(out2, "Running") && rc1 == 7 {
		pass("exactly one owner after the rejoin: node2 holds %s, node1 does not", vip)
	} else {
		fail("owners after the rejoin: node1 %q (%d), node2 %q (%d)", out1, rc1, out2, rc2)
	}
	if node1.con.has("Acquiring resource group") {
		fail("node1 acquired the group after its reset")
	}
	if mac, err := waitOwner(ns, 10*time.Second, node2.mac); err != nil || mac != node2.mac {
		fail("client: %s from %q (%v), want node2", vip, mac, err)
	}
}
