package ipaddr

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"habox/hw/hwtest"
	hblab "habox/lab"
)

// ocfLab is a node namespace (eth0 192.0.2.10/24, 2001:db8::10/64, on a
// veth to a peer namespace) and an OCF provider directory holding the
// habox agents: DIR/habox/{IPaddr,IPv6addr} -> a copy of the binary, all
// world-readable (ocf-tester runs meta-data as nobody).
type ocfLab struct {
	ns, peer *hwtest.Netns
	ra       string // DIR: mounted over /usr/lib/ocf/resource.d by inRA
	runDir   string
}

func newOCFLab(t *testing.T) *ocfLab {
	t.Helper()
	hwtest.RequireRoot(t)
	hwtest.RequireCmd(t, "ip")
	bin := hblab.HaboxBin(t)
	l := &ocfLab{ns: hwtest.NewNetns(t, "pcmko"), peer: hwtest.NewNetns(t, "pcmkp"), runDir: t.TempDir()}
	hwtest.Veth(t, l.ns, "eth0", "192.0.2.10/24", l.peer, "eth0", "192.0.2.20/24")
	l.ns.Exec(t, "ip", "addr", "add", "2001:db8::10/64", "nodad", "dev", "eth0")
	top, err := os.MkdirTemp("", "pcmk-ocf-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	l.ra = filepath.Join(top, "ra")
	for _, d := range []string{top, filepath.Join(top, "bin"), l.ra, filepath.Join(l.ra, "habox"), filepath.Join(l.ra, "heartbeat")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(d, 0o755)
	}
	hwtest.Run(t, "cp", bin, filepath.Join(top, "bin", "habox"))
	for _, a := range []string{"IPaddr", "IPv6addr"} {
		if err := os.Symlink(filepath.Join(top, "bin", "habox"), filepath.Join(l.ra, "habox", a)); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// inRA runs a shell script in the node namespace with l.ra (and the
// system's heartbeat agents below it) mounted over /usr/lib/ocf/resource.d
// in a private mount namespace, so Pacemaker's tools find ocf:habox:*
// without touching the machine's files. It returns the combined output and
// the exit code.
func (l *ocfLab) inRA(t *testing.T, script string) (string, int) {
	t.Helper()
	hwtest.RequireCmd(t, "unshare")
	pre := "set -u; mount --bind /usr/lib/ocf/resource.d/heartbeat " + l.ra + "/heartbeat && mount --rbind " + l.ra + " /usr/lib/ocf/resource.d || exit 99\n"
	cmd := l.ns.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", pre+script)
	cmd.Env = append(os.Environ(), "HABOX_RUNDIR="+l.runDir)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v", err)
	}
	if code == 99 {
		t.Fatalf("cannot mount the agents over /usr/lib/ocf/resource.d:\n%s", out)
	}
	return string(out), code
}

// TestOCFTester: resource-agents' ocf-tester passes both agents (the
// whole OCF action sequence: probes, start, start twice, monitor, stop,
// stop twice, unsupported optional actions, meta-data as nobody against
// ra-api-1.dtd) on a real interface, and leaves no address behind.
func TestOCFTester(t *testing.T) {
	l := newOCFLab(t)
	hwtest.RequireCmd(t, "ocf-tester")
	hwtest.RequireCmd(t, "xmllint")
	for _, c := range []struct {
		agent string
		opts  []string
		addr  string
	}{
		{"IPaddr", []string{"ip=192.0.2.50", "cidr_netmask=24", "nic=eth0"}, "192.0.2.50/24"},
		{"IPaddr", []string{"ip=192.0.2.51", "iflabel=vip"}, "192.0.2.51/24"}, // nic and netmask from the routes
		{"IPv6addr", []string{"ipv6addr=2001:db8::50", "cidr_netmask=64", "nic=eth0"}, "2001:db8::50/64"},
		{"IPv6addr", []string{"ipv6addr=2001:db8::51"}, "2001:db8::51/64"},
	} {
		t.Run(c.agent+"/"+c.opts[0], func(t *testing.T) {
			args := []string{"-v", "-n", "vip"}
			for _, o := range c.opts {
				args = append(args, "-o", o)
			}
			cmd := l.ns.Command("ocf-tester", append(args, filepath.Join(l.ra, "habox", c.agent))...)
			cmd.Env = append(os.Environ(), "HABOX_RUNDIR="+l.runDir)
			out, err := cmd.CombinedOutput()
			t.Logf("ocf-tester %s:\n%s", strings.Join(args, " "), out)
			if err != nil || !strings.Contains(string(out), "passed all tests") {
				t.Fatalf("ocf-tester failed: %v", err)
			}
			if strings.Contains(string(out), "* rc=") {
				t.Errorf("ocf-tester reported a failed check")
			}
			if a := l.ns.Exec(t, "ip", "addr", "show", "dev", "eth0"); strings.Contains(a, c.addr) {
				t.Errorf("%s left behind:\n%s", c.addr, a)
			}
		})
	}
}

// TestOCFPacemakerValidate: Pacemaker's own tools find and accept the
// agents as ocf:habox:*: crm_resource lists them, reads their meta-data,
// and its --validate (the agent's validate-all) accepts a good
// configuration and rejects a bad one with the agent's reason; crm_verify
// accepts a CIB using them.
func TestOCFPacemakerValidate(t *testing.T) {
	l := newOCFLab(t)
	hwtest.RequireCmd(t, "crm_resource")
	hwtest.RequireCmd(t, "crm_verify")
	cib := filepath.Join(t.TempDir(), "cib.xml")
	if err := os.WriteFile(cib, []byte(`<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
<configuration><crm_config><cluster_property_set id="o"><nvpair id="o-s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes/><resources>
<primitive id="vip" class="ocf" provider="habox" type="IPaddr"><instance_attributes id="vip-a">
<nvpair id="vip-ip" name="ip" value="192.0.2.50"/><nvpair id="vip-m" name="cidr_netmask" value="24"/></instance_attributes>
<operations><op id="vip-mon" name="monitor" interval="2s"/></operations></primitive>
<primitive id="vip6" class="ocf" provider="habox" type="IPv6addr"><instance_attributes id="vip6-a">
<nvpair id="vip6-ip" name="ipv6addr" value="2001:db8::50"/></instance_attributes></primitive>
</resources><constraints/></configuration><status/></cib>`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		script string
		code   int
		want   string
	}{
		{"crm_resource --list-agents ocf:habox", 0, "IPaddr\nIPv6addr\n"},
		{"crm_resource --show-metadata ocf:habox:IPaddr", 0, `<parameter name="cidr_netmask">`},
		{"crm_resource --show-metadata ocf:habox:IPv6addr", 0, `<parameter name="ipv6addr" unique="1" required="1">`},
		{"crm_resource --validate --class ocf --provider habox --agent IPaddr --option ip=192.0.2.50 --option cidr_netmask=24 --option nic=eth0", 0, "returned 0 (ok)"},
		{"crm_resource --validate --class ocf --provider habox --agent IPaddr --option ip=192.0.2.500", 6, "ip: malformed address [192.0.2.500]"},
		{"crm_resource --validate --class ocf --provider habox --agent IPaddr --option ip=192.0.2.50 --option nic=eth7", 5, "eth7: unknown interface"},
		{"crm_resource --validate --class ocf --provider habox --agent IPv6addr --option ipv6addr=2001:db8::50", 0, "returned 0 (ok)"},
		{"crm_resource --validate --class ocf --provider habox --agent IPv6addr --option ipv6addr=2001:db8::50 --option cidr_netmask=200", 6, "prefix length out of range"},
		{"crm_verify -V --xml-file " + cib, 0, ""},
	} {
		out, code := l.inRA(t, c.script)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%s: exit %d, want %d with %q:\n%s", c.script, code, c.code, c.want, out)
		}
	}
}
