package pcmk

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"habox/hw/hwtest"
	hblab "habox/lab"
)

// TestMigrate converts a heartbeat R1 configuration with haresources2crm,
// forms the cluster from the generated corosync.conf (its token from
// keepalive/deadtime), loads the generated crmsh configuration with
// `crm configure load update`, and checks that every haresources group
// runs, complete, on the node its line names.
func TestMigrate(t *testing.T) {
	requireCluster(t)
	hwtest.RequireCmd(t, "crm")
	dir := t.TempDir()
	files := map[string]string{
		"ha.cf": "keepalive 250ms\ndeadtime 1\nauto_failback off\nbcast eth0\nnode node1 node2 node3\n",
		"haresources": "node2 10.99.0.60/24/eth0 hbtest IPaddr::10.99.0.61/24\n" +
			"node3 IPaddr2::10.99.0.62/24/eth0\n",
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conv := func(args ...string) string {
		out, err := exec.Command(hblab.HaboxBin(t), append([]string{"haresources2crm", "-d", dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("haresources2crm %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	coro, crm := conv("--corosync"), conv()
	t.Logf("haresources2crm output:\n%s", crm)
	// an R1 resource script: an LSB init script, state in the node's /run
	lsbScripts = map[string]string{"hbtest": `#!/bin/sh
case "$1" in
start) touch /run/hbtest.running ;;
stop) rm -f /run/hbtest.running ;;
status) [ -e /run/hbtest.running ] || { echo stopped; exit 3; }; echo running ;;
*) exit 3 ;;
esac
`}
	defer func() { lsbScripts = nil }()
	c := newCluster(t, 3, "", "", coro)
	n1 := c.nodes[0]
	if out, err := c.run(n1, "corosync-cmapctl", "-g", "totem.token"); err != nil || !strings.Contains(out, "= 1000") {
		t.Errorf("totem.token: %v %s", err, out)
	}
	cfg := filepath.Join(n1.dir, "migrated.crm")
	writeFile(t, cfg, []byte(crm), 0o644, -1, -1)
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := c.run(n1, "crm", "configure", "load", "update", cfg)
		if err == nil && !strings.Contains(out, "ERROR") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("crm configure load update: %v\n%s", err, out)
		}
		time.Sleep(time.Second)
	}
	want := map[string][]string{ // node -> addresses of its group
		"node2": {"10.99.0.60", "10.99.0.61"},
		"node3": {"10.99.0.62"},
	}
	for node, addrs := range want {
		for _, a := range addrs {
			if o := c.waitOwner(netip.MustParseAddr(a), 60*time.Second); o.name != node {
				t.Errorf("%s runs on %s, haresources says %s", a, o.name, node)
			}
		}
	}
	out, err := c.run(n1, "crm_resource", "--locate", "--resource", "hbtest")
	if err != nil || !strings.Contains(out, "is running on: node2") {
		t.Errorf("hbtest: %v %s", err, out)
	}
	for _, nd := range c.nodes {
		_, err := c.run(nd, "test", "-e", "/run/hbtest.running")
		if (err == nil) != (nd.name == "node2") {
			t.Errorf("hbtest started on %s: %v", nd.name, err == nil)
		}
	}
	out, _ = c.run(n1, "crm_mon", "-1", "-r")
	t.Logf("crm_mon:\n%s", out)
}
