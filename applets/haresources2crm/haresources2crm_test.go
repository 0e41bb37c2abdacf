package haresources2crm

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"habox/applets/cli"
)

func runIn(t *testing.T, hacf, haresources string, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	if hacf != "" {
		os.WriteFile(filepath.Join(dir, "ha.cf"), []byte(hacf), 0o644)
	}
	if haresources != "" {
		os.WriteFile(filepath.Join(dir, "haresources"), []byte(haresources), 0o644)
	}
	var o, e bytes.Buffer
	code := Applet.Run(&cli.Env{Stdout: &o, Stderr: &e}, append([]string{"-d", dir}, args...))
	return code, strings.ReplaceAll(o.String(), dir, "DIR"), strings.ReplaceAll(e.String(), dir, "DIR")
}

const hacf = `keepalive 250ms
deadtime 1
auto_failback off
bcast eth0
node alpha Beta gamma
`

func TestCrm(t *testing.T) {
	code, out, errs := runIn(t, hacf, `# web and storage
alpha 10.0.0.10 IPaddr::10.0.0.11/24/eth1/10.0.0.255 Filesystem::/dev/sdb1::/srv::ext4 httpd
Beta IPaddr2::10.0.1.5/24 IPv6addr::2001:db8::5/64/eth0 \
     Delay::2::1 MailTo::ops@example.org::failover httpd
`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := `# heartbeat R1 cluster of DIR/ha.cf and DIR/haresources (haresources2crm)
# apply on one node: crm configure load update FILE
# R1 had no fencing: configure a stonith device, then set stonith-enabled=true
# R1 monitored no script: add op monitor to lsb: and ocf:heartbeat: primitives whose monitor you trust
property stonith-enabled=false
rsc_defaults resource-stickiness=INFINITY
primitive IPaddr_10_0_0_10 ocf:habox:IPaddr params ip=10.0.0.10 op monitor interval=10s timeout=20s
primitive IPaddr_10_0_0_11 ocf:habox:IPaddr params ip=10.0.0.11 cidr_netmask=24 nic=eth1 broadcast=10.0.0.255 op monitor interval=10s timeout=20s
primitive Filesystem__dev_sdb1 ocf:heartbeat:Filesystem params device="/dev/sdb1" directory="/srv" fstype="ext4"
primitive httpd lsb:httpd
group group_1 IPaddr_10_0_0_10 IPaddr_10_0_0_11 Filesystem__dev_sdb1 httpd
location prefer_group_1 group_1 100: alpha
primitive IPaddr_10_0_1_5 ocf:habox:IPaddr params ip=10.0.1.5 cidr_netmask=24 op monitor interval=10s timeout=20s
primitive IPv6addr_2001_db8__5 ocf:habox:IPv6addr params ipv6addr=2001:db8::5 cidr_netmask=64 nic=eth0 op monitor interval=10s timeout=20s
primitive Delay_2 ocf:heartbeat:Delay params startdelay="2" stopdelay="1"
primitive MailTo_ops_example_org ocf:heartbeat:MailTo params email="ops@example.org" subject="failover"
primitive httpd_2 lsb:httpd
group group_2 IPaddr_10_0_1_5 IPv6addr_2001_db8__5 Delay_2 MailTo_ops_example_org httpd_2
location prefer_group_2 group_2 100: beta
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

func TestStickiness(t *testing.T) {
	for _, c := range []struct{ failback, want string }{
		{"", "rsc_defaults resource-stickiness=0\n"}, // legacy: fails back
		{"auto_failback on\n", "rsc_defaults resource-stickiness=0\n"},
		{"auto_failback off\n", "rsc_defaults resource-stickiness=INFINITY\n"},
	} {
		code, out, errs := runIn(t, "node a b\nbcast eth0\n"+c.failback, "a 10.0.0.1\n")
		if code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("%q: exit %d %s\n%s", c.failback, code, errs, out)
		}
	}
}

func TestCorosync(t *testing.T) {
	code, out, errs := runIn(t, hacf, "", "--corosync")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := `# corosync.conf for the nodes of DIR/ha.cf (haresources2crm --corosync)
# deadtime 1s, keepalive 250ms; create the key with corosync-keygen
totem {
	version: 2
	cluster_name: linux-ha
	transport: knet
	crypto_cipher: aes256
	crypto_hash: sha256
	token: 1000
	token_retransmits_before_loss_const: 4
	token_coefficient: 0
}
nodelist {
	node {
		ring0_addr: alpha
		name: alpha
		nodeid: 1
	}
	node {
		ring0_addr: beta
		name: beta
		nodeid: 2
	}
	node {
		ring0_addr: gamma
		name: gamma
		nodeid: 3
	}
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_syslog: yes
}
`
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	// two nodes: two_node; heartbeat's defaults (keepalive 2 s, deadtime 30 s)
	_, out, _ = runIn(t, "node a b\nbcast eth0\n", "", "--corosync")
	for _, s := range []string{"\ttoken: 30000\n", "\ttoken_retransmits_before_loss_const: 30\n", "\ttwo_node: 1\n"} {
		if !strings.Contains(out, s) {
			t.Errorf("defaults: no %q in\n%s", s, out)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name, hacf, haresources string
		args                    []string
		code                    int
		msg                     string
	}{
		{"no ha.cf", "", "a 10.0.0.1\n", nil, 1, "ha.cf: no such file"},
		{"no haresources", "node a\nbcast eth0\n", "", nil, 1, "haresources: no such file"},
		{"bad node", "node a\nbcast eth0\n", "b 10.0.0.1\n", nil, 1, "haresources:1: [b] the first word of a line must be a node"},
		{"bad address", "node a\nbcast eth0\n", "a IPaddr::10.0.0.300\n", nil, 1, "haresources:1: [IPaddr::10.0.0.300] malformed address"},
		{"unknown script with arguments", "node a\nbcast eth0\n", "a 10.0.0.1 myscript::x\n", nil, 1, "haresources:1: [myscript::x] no OCF agent known for myscript"},
		{"too many arguments", "node a\nbcast eth0\n", "a Delay::1::2::3\n", nil, 1, "Delay takes at most 2 arguments"},
		{"quote in argument", "node a\nbcast eth0\n", "a MailTo::a\"b\n", nil, 1, "has a quote or backslash"},
		{"usage", "node a\n", "", []string{"extra"}, 2, "usage: haresources2crm"},
		{"bad option", "node a\n", "", []string{"-x"}, 2, "unknown option -x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runIn(t, c.hacf, c.haresources, c.args...)
			if code != c.code || !strings.Contains(errs, c.msg) {
				t.Errorf("exit %d stderr %q, want %d %q", code, errs, c.code, c.msg)
			}
			if code != 0 && out != "" {
				t.Errorf("output on failure: %q", out)
			}
		})
	}
}
