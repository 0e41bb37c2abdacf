package ipaddr

import (
	"bytes"
	"encoding/xml"
	"net/netip"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"habox/applets/cli"
	"habox/hw/hwtest"
	"habox/hw/netif"
)

// ocfEnv is Pacemaker's environment for an instance with parameters kv
// (name=value).
func ocfEnv(kv ...string) []string {
	env := []string{"OCF_ROOT=/usr/lib/ocf", "OCF_RESOURCE_INSTANCE=vip"}
	for _, p := range kv {
		env = append(env, "OCF_RESKEY_"+p)
	}
	return env
}

func runOCF(f *fakeSys, r *fakeRepeater, action string, kv ...string) (code int, ag *Agent, stdout, stderr string) {
	var o, e bytes.Buffer
	ag = &Agent{Sys: f, Announcer: Announcer{Repeater: r, Count: DefaultCount, Interval: DefaultInterval}}
	code = OCF(&cli.Env{Stdout: &o, Stderr: &e, Environ: ocfEnv(kv...)}, ag, action)
	return code, ag, o.String(), e.String()
}

func TestIsOCF(t *testing.T) {
	for _, c := range []struct {
		env  []string
		args []string
		want bool
	}{
		{ocfEnv(), []string{"start"}, true},
		{[]string{"OCF_ROOT=/usr/lib/ocf"}, []string{"monitor"}, true},
		{nil, []string{"meta-data"}, true},
		{nil, []string{"start"}, false},                                 // haresources usage error, as before
		{ocfEnv(), []string{"192.0.2.5", "start"}, false},               // haresources mode even under Pacemaker
		{ocfEnv(), []string{"--findif", "192.0.2.5"}, false},            // an option, not an action
		{[]string{"OCF_ROOT="}, []string{"start"}, false},               // empty is unset
		{[]string{"OCF_RESOURCE_INSTANCE=x"}, []string{"stop"}, true},   // either variable
		{ocfEnv(), []string{}, false},                                   // no action
		{ocfEnv(), []string{"-c", "3", "192.0.2.5", "start"}, false},    // options: haresources
		{[]string{"OCF_RESKEY_ip=192.0.2.5"}, []string{"start"}, false}, // parameters alone are not OCF
	} {
		if got := isOCF(&cli.Env{Environ: c.env}, c.args); got != c.want {
			t.Errorf("isOCF(%q, %q) = %v, want %v", c.env, c.args, got, c.want)
		}
	}
}

// TestOCFLifecycle walks an instance through the actions ocf-tester and
// Pacemaker use, on the fake machine.
func TestOCFLifecycle(t *testing.T) {
	f, r := newFake(), &fakeRepeater{}
	params := []string{"ip=192.0.2.77", "cidr_netmask=24", "nic=eth0", "arp_count=3", "arp_interval=200"}
	steps := []struct {
		action string
		code   int
		addrs  int // addresses on the fake afterwards
	}{
		{"validate-all", 0, 2},
		{"monitor", 7, 2},
		{"status", 7, 2},
		{"stop", 0, 2},
		{"start", 0, 3},
		{"monitor", 0, 3},
		{"status", 0, 3},
		{"start", 0, 3}, // started twice: success, nothing added
		{"notify", 3, 3},
		{"promote", 3, 3},
		{"demote", 3, 3},
		{"migrate_to", 3, 3},
		{"stop", 0, 2},
		{"monitor", 7, 2},
		{"stop", 0, 2}, // stopping a stopped resource
	}
	for i, s := range steps {
		code, ag, _, e := runOCF(f, r, s.action, params...)
		if code != s.code || len(f.addrs) != s.addrs {
			t.Fatalf("step %d %s: exit %d with %d addresses, want %d with %d (stderr %q)", i, s.action, code, len(f.addrs), s.code, s.addrs, e)
		}
		if s.action == "start" && (ag.Count != 3 || ag.Interval != 200*time.Millisecond) {
			t.Errorf("arp_count/arp_interval not applied: %d %v", ag.Count, ag.Interval)
		}
		if s.code == 3 && !strings.Contains(e, "ocf-exit-reason:action "+s.action+" not implemented") {
			t.Errorf("%s: no exit reason: %q", s.action, e)
		}
	}
	if len(r.repeats) != 1 || r.repeats[0] != 3 {
		t.Errorf("announcer runs %v, want one with 3 pairs", r.repeats)
	}
}

// TestOCFMonitorChecksAddress: monitor reports what is really configured,
// not what the agent did last.
func TestOCFMonitorChecksAddress(t *testing.T) {
	f, r := newFake(), &fakeRepeater{}
	p := []string{"ip=192.0.2.77", "cidr_netmask=24"}
	if code, _, _, e := runOCF(f, r, "start", p...); code != 0 {
		t.Fatalf("start: %d %s", code, e)
	}
	got := f.addrs[len(f.addrs)-1]
	want := netif.Addr{Index: 2, Label: "eth0:0", Prefix: netip.MustParsePrefix("192.0.2.77/24"), Broadcast: netip.MustParseAddr("192.0.2.255")}
	if got != want {
		t.Fatalf("added %+v, want %+v", got, want)
	}
	f.addrs = f.addrs[:len(f.addrs)-1] // someone removed it
	if code, _, _, _ := runOCF(f, r, "monitor", p...); code != 7 {
		t.Errorf("monitor after the address vanished: %d, want 7", code)
	}
	// on a down interface the address does not serve
	p = []string{"ip=192.0.2.90", "cidr_netmask=24", "nic=eth2"}
	runOCF(f, r, "start", p...)
	if code, _, _, _ := runOCF(f, r, "monitor", p...); code != 7 {
		t.Errorf("monitor on a down interface: %d, want 7", code)
	}
	// configured on another interface than nic: an error, not "stopped"
	if code, _, _, e := runOCF(f, r, "monitor", "ip=198.51.100.10", "nic=eth0"); code != 7 {
		t.Errorf("monitor of an address on another interface: %d %q", code, e)
	}
	if code, _, _, e := runOCF(f, r, "status", "ip=198.51.100.10", "nic=eth0"); code != 1 || !strings.Contains(e, "ocf-exit-reason:") {
		t.Errorf("status of an address on another interface: %d %q", code, e)
	}
}

func TestOCFParameters(t *testing.T) {
	for _, c := range []struct {
		name   string
		params []string
		label  string
		prefix string
		bcast  string
	}{
		{"route chooses nic and netmask", []string{"ip=192.0.2.50"}, "eth0:0", "192.0.2.50/24", "192.0.2.255"},
		{"nic without netmask takes the nic's route", []string{"ip=198.51.100.50", "nic=eth1"}, "eth1:0", "198.51.100.50/24", "198.51.100.255"},
		{"nic without a matching route: /32", []string{"ip=203.0.113.9", "nic=eth1"}, "eth1:0", "203.0.113.9/32", "203.0.113.9"},
		{"dotted netmask", []string{"ip=192.0.2.50", "cidr_netmask=255.255.255.128"}, "eth0:0", "192.0.2.50/25", "192.0.2.127"},
		{"broadcast", []string{"ip=192.0.2.50", "cidr_netmask=24", "broadcast=192.0.2.254"}, "eth0:0", "192.0.2.50/24", "192.0.2.254"},
		{"iflabel", []string{"ip=192.0.2.50", "nic=eth0", "iflabel=vip"}, "eth0:vip", "192.0.2.50/24", "192.0.2.255"},
		{"IPaddr's ARP names", []string{"ip=192.0.2.50", "ARP_REPEAT=2", "ARP_INTERVAL_MS=100"}, "eth0:0", "192.0.2.50/24", "192.0.2.255"},
		{"lvs_support false is fine", []string{"ip=192.0.2.50", "lvs_support=false"}, "eth0:0", "192.0.2.50/24", "192.0.2.255"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			code, _, _, e := runOCF(f, &fakeRepeater{}, "start", c.params...)
			if code != 0 {
				t.Fatalf("start: %d %q", code, e)
			}
			got := f.addrs[len(f.addrs)-1]
			if got.Label != c.label || got.Prefix.String() != c.prefix || got.Broadcast.String() != c.bcast {
				t.Errorf("added %s %s brd %s, want %s %s brd %s", got.Label, got.Prefix, got.Broadcast, c.label, c.prefix, c.bcast)
			}
		})
	}
}

func TestOCFErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		action string
		params []string
		setup  func(*fakeSys)
		code   int
		reason string
	}{
		{"ip missing", "start", nil, nil, 6, "parameter ip is required"},
		{"ip missing validate", "validate-all", nil, nil, 6, "parameter ip is required"},
		{"ip malformed", "validate-all", []string{"ip=10.0.0"}, nil, 6, "ip: malformed address [10.0.0]"},
		{"ip IPv6", "start", []string{"ip=2001:db8::1"}, nil, 6, "ip: malformed address"},
		{"multicast", "start", []string{"ip=224.0.0.5"}, nil, 6, "ip: not a unicast address"},
		{"netmask", "start", []string{"ip=192.0.2.5", "cidr_netmask=33"}, nil, 6, "cidr_netmask: netmask bits out of range"},
		{"nic alias", "start", []string{"ip=192.0.2.5", "nic=eth0:1"}, nil, 6, "nic: bad interface name [eth0:1]"},
		{"broadcast", "start", []string{"ip=192.0.2.5", "broadcast=x"}, nil, 6, "broadcast: malformed"},
		{"arp_count", "start", []string{"ip=192.0.2.5", "arp_count=-1"}, nil, 6, "arp_count: not a number in 0..1000 [-1]"},
		{"arp_interval", "start", []string{"ip=192.0.2.5", "arp_interval=1s"}, nil, 6, "arp_interval: not a number"},
		{"iflabel", "start", []string{"ip=192.0.2.5", "iflabel=a b"}, nil, 6, "iflabel: bad interface name"},
		{"iflabel too long", "start", []string{"ip=192.0.2.5", "nic=eth0", "iflabel=verylonglabel"}, nil, 6, "label eth0:verylonglabel too long"},
		{"lvs_support", "start", []string{"ip=192.0.2.5", "lvs_support=true"}, nil, 6, "lvs_support is not supported"},
		{"local script", "validate-all", []string{"ip=192.0.2.5", "local_start_script=/x"}, nil, 6, "local_start_script is not supported"},
		{"nic missing here", "start", []string{"ip=192.0.2.5", "nic=eth9"}, nil, 5, "eth9: unknown interface"},
		{"nic missing here validate", "validate-all", []string{"ip=192.0.2.5", "nic=eth9"}, nil, 5, "eth9: unknown interface"},
		{"no route", "start", []string{"ip=203.0.113.5"}, func(f *fakeSys) { f.routes = f.routes[1:] }, 5, "No route to 203.0.113.5"},
		{"probe nic missing here", "monitor", []string{"ip=192.0.2.5", "nic=eth9"}, nil, 7, ""},
		{"stop nic missing here", "stop", []string{"ip=192.0.2.5", "nic=eth9"}, nil, 0, ""},
		{"on another interface", "start", []string{"ip=198.51.100.10", "nic=eth0"}, nil, 1, "198.51.100.10 is already configured on eth1"},
		{"eperm", "start", []string{"ip=192.0.2.5"}, func(f *fakeSys) { f.addErr = syscall.EPERM }, 4, "operation not permitted"},
		{"failure", "start", []string{"ip=192.0.2.5"}, func(f *fakeSys) { f.addErr = errBoom }, 1, "boom"},
		{"reason escaped", "start", []string{"ip=10.0.0\nocf-exit-reason:forged"}, nil, 6, `ip: malformed address [10.0.0\nocf-exit-reason:forged]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			if c.setup != nil {
				c.setup(f)
			}
			code, _, _, e := runOCF(f, &fakeRepeater{}, c.action, c.params...)
			if code != c.code || (c.reason != "" && !strings.Contains(e, "ocf-exit-reason:"+c.reason)) {
				t.Errorf("exit %d stderr %q, want %d and reason %q", code, e, c.code, c.reason)
			}
			if strings.Count("\n"+e, "\nocf-exit-reason:") > 1 || strings.Count(e, "\n") > 1 {
				t.Errorf("more than one reason line: %q", e)
			}
			if len(f.addrs) != 2 {
				t.Errorf("addresses changed: %+v", f.addrs)
			}
		})
	}
}

func TestOCF6(t *testing.T) {
	f, r := newFake(), &fakeRepeater{}
	f.addrs = append(f.addrs, netif.Addr{Index: 2, Prefix: netip.MustParsePrefix("2001:db8::10/64")})
	run := func(action string, kv ...string) (int, string) {
		var e bytes.Buffer
		ag := &Agent6{Sys: f, Announcer: Announcer{Repeater: r, Count: DefaultCount6, Interval: DefaultInterval6}}
		return OCF6(&cli.Env{Stdout: &bytes.Buffer{}, Stderr: &e, Environ: ocfEnv(kv...)}, ag, action), e.String()
	}
	p := []string{"ipv6addr=2001:db8::77"}
	for i, s := range []struct {
		action string
		kv     []string
		code   int
		reason string
	}{
		{"validate-all", p, 0, ""},
		{"monitor", p, 7, ""},
		{"start", p, 0, ""},
		{"monitor", p, 0, ""},
		{"start", p, 0, ""},
		{"monitor", []string{"ipv6addr=2001:db8::77", "cidr_netmask=64", "nic=eth0"}, 0, ""},
		{"stop", p, 0, ""},
		{"monitor", p, 7, ""},
		{"stop", p, 0, ""},
		{"promote", p, 3, "not implemented"},
		{"start", nil, 6, "parameter ipv6addr is required"},
		{"start", []string{"ipv6addr=192.0.2.1"}, 6, "malformed IPv6 address"},
		{"start", []string{"ipv6addr=2001:db8::77", "cidr_netmask=129"}, 6, "prefix length out of range"},
		{"start", []string{"ipv6addr=2001:db9::1"}, 5, "no interface has a global address"},
		{"monitor", []string{"ipv6addr=2001:db9::1"}, 7, ""},
		{"start", []string{"ipv6addr=2001:db8::77", "nic=eth9"}, 5, "eth9: unknown interface"},
	} {
		code, e := run(s.action, s.kv...)
		if code != s.code || !strings.Contains(e, s.reason) {
			t.Errorf("step %d %s %q: %d %q, want %d %q", i, s.action, s.kv, code, e, s.code, s.reason)
		}
	}
	if len(f.announced) != 1 || len(r.repeats) != 1 || r.repeats[0] != DefaultCount6 {
		t.Errorf("announced %v, repeats %v", f.announced, r.repeats)
	}
}

// agentMeta is the part of the OCF meta-data the tests read.
type agentMeta struct {
	Name    string `xml:"name,attr"`
	Version string `xml:"version"`
	Params  []struct {
		Name     string `xml:"name,attr"`
		Required string `xml:"required,attr"`
		Content  struct {
			Type    string `xml:"type,attr"`
			Default string `xml:"default,attr"`
		} `xml:"content"`
	} `xml:"parameters>parameter"`
	Actions []struct {
		Name    string `xml:"name,attr"`
		Timeout string `xml:"timeout,attr"`
	} `xml:"actions>action"`
}

// TestOCFMetaData: the meta-data parses, lists exactly the parameters the
// agent reads with the defaults it uses, and validates against
// resource-agents' DTD and schema when xmllint is there.
func TestOCFMetaData(t *testing.T) {
	for _, c := range []struct {
		agent  string
		run    func(*cli.Env) int
		params map[string]string // name -> default
	}{
		{"IPaddr", func(e *cli.Env) int { return OCF(e, &Agent{}, "meta-data") }, map[string]string{
			"ip": "", "nic": "", "cidr_netmask": "", "broadcast": "", "iflabel": "",
			"arp_count": strconv.Itoa(DefaultCount), "arp_interval": strconv.Itoa(int(DefaultInterval / time.Millisecond)),
			"ARP_REPEAT": strconv.Itoa(DefaultCount), "ARP_INTERVAL_MS": strconv.Itoa(int(DefaultInterval / time.Millisecond))}},
		{"IPv6addr", func(e *cli.Env) int { return OCF6(e, &Agent6{}, "meta-data") }, map[string]string{
			"ipv6addr": "", "cidr_netmask": "", "nic": ""}},
	} {
		t.Run(c.agent, func(t *testing.T) {
			var o bytes.Buffer
			if code := c.run(&cli.Env{Stdout: &o}); code != 0 {
				t.Fatalf("meta-data exit %d", code)
			}
			var m agentMeta
			if err := xml.Unmarshal(o.Bytes(), &m); err != nil {
				t.Fatalf("meta-data is not XML: %v\n%s", err, o.String())
			}
			if m.Name != c.agent || m.Version != "1.1" {
				t.Errorf("agent %q OCF version %q", m.Name, m.Version)
			}
			got := map[string]string{}
			for _, p := range m.Params {
				got[p.Name] = p.Content.Default
				if (p.Required == "1") != (p.Name == "ip" || p.Name == "ipv6addr") {
					t.Errorf("%s required=%q", p.Name, p.Required)
				}
			}
			if len(got) != len(c.params) {
				t.Errorf("parameters %v, want %v", got, c.params)
			}
			for n, d := range c.params {
				if g, ok := got[n]; !ok || g != d {
					t.Errorf("parameter %s default %q (present %v), want %q", n, g, ok, d)
				}
			}
			var acts []string
			for _, a := range m.Actions {
				acts = append(acts, a.Name)
				if a.Timeout == "" {
					t.Errorf("action %s without timeout", a.Name)
				}
			}
			sort.Strings(acts)
			if strings.Join(acts, " ") != "meta-data monitor start status stop validate-all" {
				t.Errorf("actions %v", acts)
			}
			hwtest.RequireCmd(t, "xmllint") // the DTD and schema come with resource-agents
			for _, args := range [][]string{{"--noout", "--valid", "-"}, {"--noout", "--relaxng", "metadata.rng", "-"}} {
				cmd := exec.Command("xmllint", args...)
				cmd.Dir = "/usr/share/resource-agents"
				cmd.Stdin = bytes.NewReader(o.Bytes())
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("xmllint %v: %v\n%s", args, err, out)
				}
			}
		})
	}
}
