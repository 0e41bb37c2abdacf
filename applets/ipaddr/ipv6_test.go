package ipaddr

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"habox/applets/cli"
	"habox/hw/netif"
)

func TestParseSpec6(t *testing.T) {
	for _, c := range []struct {
		in    string
		ip    string
		bits  int
		iface string
		err   string
	}{
		{"2001:db8::77", "2001:db8::77", -1, "", ""},
		{"2001:db8::77/64", "2001:db8::77", 64, "", ""},
		{"2001:db8::77/64/eth0", "2001:db8::77", 64, "eth0", ""},
		{"fd00::1/8/br-lan", "fd00::1", 8, "br-lan", ""},
		{"2001:db8::77/129", "", 0, "", "out of range"},
		{"2001:db8::77/0", "", 0, "", "out of range"},
		{"2001:db8::77/x", "", 0, "", "malformed prefix"},
		{"2001:db8::77/64/eth0/x", "", 0, "", "too many"},
		{"2001:db8::77/64/eth0:1", "", 0, "", "alias label"},
		{"192.0.2.1/24", "", 0, "", "malformed IPv6"},
		{"::ffff:192.0.2.1", "", 0, "", "malformed IPv6"},
		{"fe80::1%eth0", "", 0, "", "malformed IPv6"},
		{"fe80::1", "", 0, "", "not a global"},
		{"ff02::1", "", 0, "", "not a global"},
		{"::1", "", 0, "", "not a global"},
		{"2001:db8:::1", "", 0, "", "malformed IPv6"},
	} {
		sp, err := ParseSpec6(c.in)
		if c.err != "" {
			if _, ok := err.(*InputError); !ok || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseSpec6(%q) = %v, want error %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || sp.IP.String() != c.ip || sp.Bits != c.bits || sp.Iface != c.iface {
			t.Errorf("ParseSpec6(%q) = %+v %v", c.in, sp, err)
		}
	}
}

func TestChooseIf6(t *testing.T) {
	addrs := []netif.Addr{
		{Index: 2, Prefix: netip.MustParsePrefix("fe80::1/64"), Scope: 253},
		{Index: 2, Prefix: netip.MustParsePrefix("2001:db8:1::10/64")},
		{Index: 3, Prefix: netip.MustParsePrefix("2001:db8::10/48")},
		{Index: 4, Prefix: netip.MustParsePrefix("2001:db8::20/64")},
	}
	for _, c := range []struct {
		spec        string
		ifindex     int
		index, bits int
	}{
		{"2001:db8:1::77", 0, 2, 64},
		{"2001:db8::77", 0, 3, 48}, // the first match in order wins
		{"2001:db8::77/64", 0, 4, 64},
		{"2001:db8::77", 4, 4, 64},
		{"2001:db8:0:5::77", 0, 3, 48},
		{"2001:db9::77", 0, 0, 0},
		{"2001:db8:1::77/48", 0, 0, 0},
	} {
		sp, err := ParseSpec6(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		i, b, err := ChooseIf6(addrs, sp, c.ifindex)
		if c.index == 0 {
			if err == nil {
				t.Errorf("%s: chose %d/%d, want an error", c.spec, i, b)
			}
			continue
		}
		if err != nil || i != c.index || b != c.bits {
			t.Errorf("%s: %d/%d %v, want %d/%d", c.spec, i, b, err, c.index, c.bits)
		}
	}
}

func TestActions6Fake(t *testing.T) {
	f, r := newFake(), &fakeRepeater{}
	f.addrs = append(f.addrs, netif.Addr{Index: 2, Prefix: netip.MustParsePrefix("2001:db8::10/64")},
		netif.Addr{Index: 3, Prefix: netip.MustParsePrefix("2001:db8:3::80/64")})
	run := func(arg, action string) (int, string, string) {
		var o, e bytes.Buffer
		code := Action6(&cli.Env{Stdout: &o, Stderr: &e}, &Agent6{Sys: f, Announcer: Announcer{Repeater: r, Count: 5, Interval: 1000}}, arg, action)
		return code, o.String(), e.String()
	}
	if code, _, e := run("2001:db8::77", "start"); code != 0 {
		t.Fatalf("start: %d %s", code, e)
	}
	if got := f.addrs[len(f.addrs)-1]; got != (netif.Addr{Index: 2, Prefix: netip.MustParsePrefix("2001:db8::77/64")}) {
		t.Errorf("added %+v", got)
	}
	if len(f.announced) != 1 || len(r.repeats) != 1 || r.repeats[0] != 5 {
		t.Errorf("announced %v repeats %v", f.announced, r.repeats)
	}
	n := len(f.addrs)
	if code, _, _ := run("2001:db8::77/64/eth0", "start"); code != 0 || len(f.addrs) != n || len(f.announced) != 1 {
		t.Errorf("second start changed something")
	}
	for _, c := range []struct {
		arg, action string
		code        int
		out         string
	}{
		{"2001:db8::77", "status", 0, "Running OK\n"},
		{"2001:db8::78", "status", 7, "stopped\n"},
		{"2001:db8::77/64/eth1", "status", 1, "error: 2001:db8::77 is configured on another interface than eth1\n"},
		{"2001:db8::77", "monitor", 0, ""},
		{"2001:db8::78", "monitor", 7, ""},
		{"2001:db9::1", "status", 7, "stopped\n"},
		{"2001:db8:3::80/64/eth0", "start", 1, ""},
		{"2001:db8::79/64/eth9", "start", 2, ""},
		{"2001:db9::1", "start", 2, ""},
		{"2001:db8::79", "reload", 2, ""},
	} {
		code, out, e := run(c.arg, c.action)
		if code != c.code || out != c.out {
			t.Errorf("%s %s = %d %q (%s), want %d %q", c.arg, c.action, code, out, e, c.code, c.out)
		}
	}
	if code, _, _ := run("2001:db8::77", "stop"); code != 0 || len(f.addrs) != n-1 {
		t.Errorf("stop: %d %+v", code, f.addrs)
	}
	if code, _, _ := run("2001:db8::77", "stop"); code != 0 {
		t.Errorf("second stop: %d", code)
	}
	if len(r.canceled) < 2 {
		t.Errorf("stop did not cancel the announcer")
	}
}

func TestUsage6(t *testing.T) {
	for _, args := range [][]string{{}, {"2001:db8::1"}, {"-c", "x", "2001:db8::1", "start"}, {"-z", "2001:db8::1", "start"}} {
		var e bytes.Buffer
		if code := IPv6Applet.Run(&cli.Env{Stdout: &e, Stderr: &e}, args); code != 2 || !strings.Contains(e.String(), "usage: IPv6addr ") {
			t.Errorf("%q: %d %q", args, code, e.String())
		}
	}
}

func FuzzParseSpec6(f *testing.F) {
	for _, s := range []string{"2001:db8::77/64/eth0", "fd00::1", "::/0", "2001:db8::1/64/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec6(s)
		if err != nil {
			if _, ok := err.(*InputError); !ok {
				t.Fatalf("non-input error %v", err)
			}
			return
		}
		if !sp.IP.Is6() || sp.Bits == 0 || sp.Bits > 128 {
			t.Fatalf("bad spec %+v", sp)
		}
	})
}
