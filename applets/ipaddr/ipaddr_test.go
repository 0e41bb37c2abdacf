package ipaddr

import (
	"bytes"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"habox/applets/cli"
	"habox/hw/netif"
	"habox/hw/route"
)

func TestParseSpec(t *testing.T) {
	for _, c := range []struct {
		in    string
		ip    string
		bits  int
		iface string
		bcast string
	}{
		{"10.0.0.5", "10.0.0.5", -1, "", ""},
		{"10.0.0.5/24", "10.0.0.5", 24, "", ""},
		{"10.0.0.5/255.255.255.0", "10.0.0.5", 24, "", ""},
		{"10.0.0.5/24/eth1", "10.0.0.5", 24, "eth1", ""},
		{"10.0.0.5/24/eth1/10.0.0.255", "10.0.0.5", 24, "eth1", "10.0.0.255"},
		{"10.0.0.5/24/10.0.0.255", "10.0.0.5", 24, "", "10.0.0.255"},
		{"10.0.0.5/32/br-lan", "10.0.0.5", 32, "br-lan", ""},
		{"192.0.2.9/1", "192.0.2.9", 1, "", ""},
	} {
		sp, err := ParseSpec(c.in)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", c.in, err)
			continue
		}
		if sp.IP.String() != c.ip || sp.Bits != c.bits || sp.Iface != c.iface || (c.bcast != "" && sp.Bcast.String() != c.bcast) || (c.bcast == "" && sp.Bcast.IsValid()) {
			t.Errorf("ParseSpec(%q) = %+v", c.in, sp)
		}
	}
}

func TestParseSpecErrors(t *testing.T) {
	for _, c := range []struct{ in, msg string }{
		{"", "malformed address"},
		{"10.0.0", "malformed address"},
		{"10.0.0.256", "malformed address"},
		{"fe80::1", "malformed address"},
		{"eth0", "malformed address"},
		{"224.0.0.5", "not a unicast"},
		{"0.0.0.0", "not a unicast"},
		{"127.0.0.2/8", "not a unicast"},
		{"10.0.0.5/33", "out of range"},
		{"10.0.0.5/0", "out of range"},
		{"10.0.0.5/-1", "malformed netmask"},
		{"10.0.0.5/+8", "malformed netmask"},
		{"10.0.0.5/x", "malformed netmask"},
		{"10.0.0.5/", "empty netmask"},
		{"10.0.0.5//eth0", "empty netmask"},
		{"10.0.0.5/255.0.255.0", "not contiguous"},
		{"10.0.0.5/0.0.0.0", "not contiguous"},
		{"10.0.0.5/255.255.255.0.0", "malformed netmask"},
		{"10.0.0.5/24/eth0:1", "alias label"},
		{"10.0.0.5/24/averyveryverylongname", "bad interface"},
		{"10.0.0.5/24/eth0/10.0.0.x", "malformed broadcast"},
		{"10.0.0.5/24/10.0.0.255/eth0", "too many"},
		{"10.0.0.5/24/eth0/10.0.0.255/x", "too many"},
	} {
		_, err := ParseSpec(c.in)
		if err == nil {
			t.Errorf("ParseSpec(%q) accepted", c.in)
			continue
		}
		if _, ok := err.(*InputError); !ok || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseSpec(%q) = %v, want InputError containing %q", c.in, err, c.msg)
		}
	}
}

func TestFindIf(t *testing.T) {
	sp := func(s string) Spec {
		x, err := ParseSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	base := []route.Route{
		rt("eth0", "0.0.0.0", 0, 0),
		rt("eth0", "192.0.2.0", 24, 0),
		rt("eth1", "10.0.0.0", 8, 0),
		rt("eth2", "10.1.0.0", 16, 0),
		rt("eth3", "10.1.2.0", 24, 10), // more specific but worse metric than eth2
		rt("*", "10.9.0.0", 16, 0),     // unreachable route: skipped
	}
	for _, c := range []struct {
		name, spec string
		routes     []route.Route
		want       string // findif line or error fragment
	}{
		{"subnet", "192.0.2.77", base, "eth0\tnetmask 255.255.255.0\tbroadcast 192.0.2.255"},
		{"given bits", "192.0.2.77/25", base, "eth0\tnetmask 255.255.255.128\tbroadcast 192.0.2.127"},
		{"given mask and bcast", "192.0.2.77/255.255.0.0/192.0.255.254", base, "eth0\tnetmask 255.255.0.0\tbroadcast 192.0.255.254"},
		{"longest prefix", "10.1.9.9", base, "eth2\tnetmask 255.255.0.0\tbroadcast 10.1.255.255"},
		{"worse metric not taken", "10.1.2.3", base, "eth2\tnetmask 255.255.0.0\tbroadcast 10.1.255.255"},
		{"blackhole skipped", "10.9.1.1", base, "eth1\tnetmask 255.0.0.0\tbroadcast 10.255.255.255"},
		{"default refused", "203.0.113.5", base, "Cannot use default route w/o netmask [203.0.113.5]"},
		{"default with netmask", "203.0.113.5/24", base, "eth0\tnetmask 255.255.255.0\tbroadcast 203.0.113.255"},
		{"no route", "203.0.113.5", base[1:], "No route to 203.0.113.5"},
		{"empty table", "203.0.113.5/24", nil, "No route to 203.0.113.5"},
		{"explicit iface", "203.0.113.5/24/eth9", nil, "eth9\tnetmask 255.255.255.0\tbroadcast 203.0.113.255"},
		{"tie: last wins", "172.16.0.1", []route.Route{rt("ethA", "172.16.0.0", 12, 5), rt("ethB", "172.16.0.0", 12, 5)}, "ethB\t"},
		{"lower metric replaces", "172.16.0.1", []route.Route{rt("ethA", "172.16.0.0", 12, 5), rt("ethB", "172.16.0.0", 12, 1)}, "ethB\t"},
		{"higher metric kept out", "172.16.0.1", []route.Route{rt("ethA", "172.16.0.0", 12, 1), rt("ethB", "172.16.0.0", 12, 5)}, "ethA\t"},
		{"order matters: specific first", "172.16.0.1", []route.Route{rt("ethA", "172.16.0.0", 24, 0), rt("ethB", "172.16.0.0", 12, 0)}, "ethA\tnetmask 255.255.255.0"},
		{"order matters: specific later, higher metric", "172.16.0.1", []route.Route{rt("ethA", "172.16.0.0", 12, 0), rt("ethB", "172.16.0.0", 24, 1)}, "ethA\tnetmask 255.240.0.0"},
		{"host route", "172.16.0.1", []route.Route{rt("ethA", "172.16.0.0", 12, 0), rt("ethH", "172.16.0.1", 32, 0)}, "ethH\tnetmask 255.255.255.255\tbroadcast 172.16.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch, err := FindIf(c.routes, sp(c.spec))
			got := ""
			if err != nil {
				got = err.Error()
				if _, ok := err.(*InputError); !ok {
					t.Errorf("error %v is not an InputError", err)
				}
			} else {
				got = FindIfLine(ch)
			}
			if !strings.HasPrefix(got, c.want) {
				t.Errorf("got %q, want prefix %q", got, c.want)
			}
		})
	}
}

func TestFreeLabel(t *testing.T) {
	addrs := []netif.Addr{{Label: "eth0"}, {Label: "eth0:0"}, {Label: "eth0:2"}, {Label: "eth10:1"}, {Label: "eth1:1"}}
	if l, _ := FreeLabel(addrs, "eth0"); l != "eth0:1" {
		t.Errorf("got %s, want eth0:1", l)
	}
	if l, _ := FreeLabel(addrs, "eth1"); l != "eth1:0" {
		t.Errorf("got %s, want eth1:0", l)
	}
	var full []netif.Addr
	for i := 0; i < MaxAlias; i++ {
		full = append(full, netif.Addr{Label: "e:" + cli.Itoa(i)})
	}
	if _, err := FreeLabel(full, "e"); err == nil {
		t.Error("all labels used: no error")
	}
	if _, err := FreeLabel(nil, "abcdefghijklmn"); err == nil {
		t.Error("label longer than 15 bytes accepted")
	}
}

// runFake runs an action of the applet over a fake system.
func runFake(f *fakeSys, r *fakeRepeater, arg, action string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	env := &cli.Env{Stdout: &o, Stderr: &e}
	ag := &Agent{Sys: f, Announcer: Announcer{Repeater: r, Count: 10, Interval: 500}}
	code = Action(env, ag, arg, action)
	return code, o.String(), e.String()
}

func TestActionsFake(t *testing.T) {
	f, r := newFake(), &fakeRepeater{}
	// start picks eth0 (route), label eth0:0, /24, broadcast .255
	if code, _, e := runFake(f, r, "192.0.2.77", "start"); code != 0 {
		t.Fatalf("start: %d %s", code, e)
	}
	want := netif.Addr{Index: 2, Label: "eth0:0", Prefix: netip.MustParsePrefix("192.0.2.77/24"), Broadcast: netip.MustParseAddr("192.0.2.255")}
	if got := f.addrs[len(f.addrs)-1]; got != want {
		t.Errorf("added %+v, want %+v", got, want)
	}
	if len(f.announced) != 1 || len(r.repeats) != 1 || r.repeats[0] != 10 {
		t.Errorf("announced %v, repeats %v", f.announced, r.repeats)
	}
	// second start: nothing changes
	n := len(f.addrs)
	if code, _, _ := runFake(f, r, "192.0.2.77", "start"); code != 0 || len(f.addrs) != n || len(f.announced) != 1 {
		t.Errorf("second start: code %d, %d addrs, %d announcements", code, len(f.addrs), len(f.announced))
	}
	// announce: the announcements again, the address untouched
	if code, _, _ := runFake(f, r, "192.0.2.77", "announce"); code != 0 || len(f.addrs) != n || len(f.announced) != 2 || len(r.repeats) != 2 {
		t.Errorf("announce: code %d, %d addrs, %d announcements, repeats %v", code, len(f.addrs), len(f.announced), r.repeats)
	}
	if code, _, e := runFake(f, r, "192.0.2.79", "announce"); code != 7 || len(f.announced) != 2 || !strings.Contains(e, "IPaddr: announce: 192.0.2.79 on eth0 is not configured here: nothing to announce (exit 7: not running)") {
		t.Errorf("announce of an absent address: code %d, %d announcements, stderr %q", code, len(f.announced), e)
	}
	// a second address gets the next label
	runFake(f, r, "192.0.2.78/24/eth0", "start")
	if got := f.addrs[len(f.addrs)-1].Label; got != "eth0:1" {
		t.Errorf("second address label %s", got)
	}
	for _, c := range []struct {
		arg, action string
		code        int
		out         string
	}{
		{"192.0.2.77", "status", 0, "Running OK\n"},
		{"192.0.2.77/24/eth0", "status", 0, "Running OK\n"},
		{"192.0.2.77/24/eth1", "status", 1, "error: 192.0.2.77 is configured on eth0:0, expected on eth1\n"},
		{"192.0.2.79", "status", 7, "stopped\n"},
		{"192.0.2.77", "monitor", 0, ""},
		{"192.0.2.79", "monitor", 7, ""},
		{"192.0.2.77/24/eth1", "monitor", 7, ""},
		{"198.51.100.10/24/eth0", "start", 1, ""}, // present on eth1
	} {
		code, out, _ := runFake(f, r, c.arg, c.action)
		if code != c.code || out != c.out {
			t.Errorf("%s %s = %d %q, want %d %q", c.arg, c.action, code, out, c.code, c.out)
		}
	}
	// monitor on a down interface
	runFake(f, r, "192.0.2.90/24/eth2", "start")
	if code, _, _ := runFake(f, r, "192.0.2.90/24/eth2", "monitor"); code != 7 {
		t.Errorf("monitor on down interface = %d, want 7", code)
	}
	// stop removes exactly that one
	before := len(f.addrs)
	if code, _, e := runFake(f, r, "192.0.2.77", "stop"); code != 0 {
		t.Fatalf("stop: %d %s", code, e)
	}
	if len(f.addrs) != before-1 || Locate(f.addrs, netip.MustParseAddr("192.0.2.77"), 2).Here != nil {
		t.Errorf("after stop: %+v", f.addrs)
	}
	if len(r.canceled) == 0 || r.canceled[len(r.canceled)-1] != netip.MustParseAddr("192.0.2.77") {
		t.Errorf("stop did not cancel the announcer: %v", r.canceled)
	}
	// stop again: success, nothing touched
	if code, _, _ := runFake(f, r, "192.0.2.77", "stop"); code != 0 || len(f.addrs) != before-1 {
		t.Errorf("second stop: %d", code)
	}
	// stop on another interface than where it is: left alone
	if code, _, _ := runFake(f, r, "198.51.100.10/24/eth0", "stop"); code != 0 || Locate(f.addrs, netip.MustParseAddr("198.51.100.10"), 3).Here == nil {
		t.Errorf("stop touched another interface's address")
	}
	// the freed label is reused
	runFake(f, r, "192.0.2.91", "start")
	if got := f.addrs[len(f.addrs)-1].Label; got != "eth0:0" {
		t.Errorf("freed label not reused: %s", got)
	}
}

func TestNoRouteStatusStop(t *testing.T) {
	f, r := newFake(), &fakeRepeater{}
	runFake(f, r, "192.0.2.77", "start")
	f.routes = nil // interface lost its routes
	if code, out, _ := runFake(f, r, "192.0.2.77", "status"); code != 0 || out != "Running OK\n" {
		t.Errorf("status without route: %d %q", code, out)
	}
	if code, _, _ := runFake(f, r, "192.0.2.77", "stop"); code != 0 || len(f.addrs) != 2 {
		t.Errorf("stop without route: %d, %d addrs", code, len(f.addrs))
	}
	if code, out, _ := runFake(f, r, "192.0.2.77", "status"); code != 7 || out != "stopped\n" {
		t.Errorf("status without route after stop: %d %q", code, out)
	}
	if code, _, e := runFake(f, r, "192.0.2.77", "start"); code != 2 || !strings.Contains(e, "No route to 192.0.2.77") {
		t.Errorf("start without route: %d %q", code, e)
	}
}

func TestErrorsFake(t *testing.T) {
	for _, c := range []struct {
		name, arg, action string
		setup             func(*fakeSys)
		code              int
		msg               string
	}{
		{"malformed", "10.0.0", "start", nil, 2, "malformed address"},
		{"bits", "192.0.2.5/40", "start", nil, 2, "out of range"},
		{"unknown iface", "192.0.2.5/24/eth9", "start", nil, 2, "eth9: unknown interface"},
		{"unknown iface status", "192.0.2.5/24/eth9", "status", nil, 2, "eth9: unknown interface"},
		{"no route", "203.0.113.5", "start", func(f *fakeSys) { f.routes = f.routes[1:] }, 2, "No route to 203.0.113.5"},
		{"default route", "203.0.113.5", "start", nil, 2, "Cannot use default route w/o netmask [203.0.113.5]"},
		{"eperm", "192.0.2.5/24/eth0", "start", func(f *fakeSys) { f.addErr = syscall.EPERM }, 2, "needs root"},
		{"ioctl failure", "192.0.2.5/24/eth0", "start", func(f *fakeSys) { f.addErr = errBoom }, 1, "boom"},
		{"bad action", "192.0.2.5", "restart", nil, 2, "unknown action"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			if c.setup != nil {
				c.setup(f)
			}
			code, _, e := runFake(f, &fakeRepeater{}, c.arg, c.action)
			if code != c.code || !strings.Contains(e, c.msg) {
				t.Errorf("code %d stderr %q, want %d %q", code, e, c.code, c.msg)
			}
			if c.code != 0 && len(f.addrs) != 2 {
				t.Errorf("failure changed addresses: %+v", f.addrs)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"192.0.2.5"}, {"-c"}, {"-c", "x", "1.2.3.4", "start"}, {"-c", "-1", "1.2.3.4", "start"},
		{"-i", "99999999", "1.2.3.4", "start"}, {"--bogus", "1.2.3.4", "start"}, {"--findif"}, {"--findif=1", "1.2.3.4"}, {"1.2.3.4", "start", "x"}} {
		var e bytes.Buffer
		code := Applet.Run(&cli.Env{Stdout: &e, Stderr: &e}, args)
		if code != 2 || !strings.Contains(e.String(), "usage: IPaddr ") {
			t.Errorf("%q: code %d, %q", args, code, e.String())
		}
	}
	if !strings.HasPrefix(Applet.Usage, "IPaddr [-c COUNT] [-i MS] IP") || !strings.Contains(Applet.Usage, "(default 10") {
		t.Errorf("usage text: %q", Applet.Usage)
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"10.0.0.5", "10.0.0.5/24/eth0/10.0.0.255", "10.0.0.5/255.255.255.0", "1.2.3.4/24/1.2.3.255", "x/y/z/w/v", "10.0.0.5//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			if _, ok := err.(*InputError); !ok {
				t.Fatalf("non-input error %v", err)
			}
			return
		}
		if !sp.IP.Is4() || sp.Bits < -1 || sp.Bits > 32 || sp.Bits == 0 {
			t.Fatalf("bad spec %+v", sp)
		}
		c, err := FindIf(nil, Spec{IP: sp.IP, Bits: sp.Bits, Iface: "x", Bcast: sp.Bcast})
		if err != nil || !c.Bcast.Is4() {
			t.Fatalf("FindIf with iface: %v %+v", err, c)
		}
	})
}

func TestAnnounceFailureWarns(t *testing.T) {
	f, r := newFake(), &fakeRepeater{}
	f.annErr = syscall.ENETDOWN
	code, _, e := runFake(f, r, "192.0.2.77/24/eth0", "start")
	if code != 0 || !strings.Contains(e, "WARNING: announcement: network is down") {
		t.Errorf("code %d stderr %q", code, e)
	}
	if Locate(f.addrs, netip.MustParseAddr("192.0.2.77"), 2).Here == nil || len(r.repeats) != 1 {
		t.Errorf("address %+v, repeats %v: want added and repeating", f.addrs, r.repeats)
	}
}

// TestActionLogLines: what start, stop and a bad interface say on stderr,
// in 3.0.6's agent's words (ocf_log lines the daemon puts in ha-log).
func TestActionLogLines(t *testing.T) {
	for _, tt := range []struct {
		arg, action string
		code        int
		want        string
	}{
		{"192.0.2.77", "start", 0, "INFO: Using calculated nic for 192.0.2.77: eth0\n" +
			"INFO: Using calculated netmask for 192.0.2.77: 255.255.255.0\n" +
			"INFO: ifconfig eth0:0 192.0.2.77 netmask 255.255.255.0 broadcast 192.0.2.255\n" +
			"INFO: Sending Gratuitous Arp for 192.0.2.77 on eth0:0 [eth0]\n"},
		{"192.0.2.77/25/eth0", "start", 0, "INFO: ifconfig eth0:0 192.0.2.77 netmask 255.255.255.128 broadcast 192.0.2.127\n" +
			"INFO: Sending Gratuitous Arp for 192.0.2.77 on eth0:0 [eth0]\n"},
		{"192.0.2.10/24/eth0", "start", 0, ""}, // already there: nothing done, nothing said
		{"192.0.2.77/24/eth9", "start", 2, "ERROR: eth9: unknown interface\n"},
		{"192.0.2.10/24/eth0", "stop", 0, "INFO: IP Address 192.0.2.10 released\n"},
	} {
		f, r := newFake(), &fakeRepeater{}
		code, _, e := runFake(f, r, tt.arg, tt.action)
		if code != tt.code || e != tt.want {
			t.Errorf("%s %s: exit %d, stderr\n%s\nwant exit %d\n%s", tt.arg, tt.action, code, e, tt.code, tt.want)
		}
	}
}
