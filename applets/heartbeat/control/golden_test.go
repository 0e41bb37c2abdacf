package control

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"habox/applets/cli"
	"habox/hw/hwtest"
)

// cl_log's stderr prefix: "Nov 25 15:37:52 vm cl_status: [10189]: ".
var clLogPrefix = regexp.MustCompile(`(?m)^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} \S+ cl_status: \[[0-9]+\]: `)

// TestClStatusMatches306WhenStopped runs heartbeat 3.0.6's own cl_status
// with no daemon (a private mount namespace hides any API socket) and
// ours with no daemon, and compares stdout, stderr (without time, host
// and pid) and exit codes.
func TestClStatusMatches306WhenStopped(t *testing.T) {
	hwtest.RequireRoot(t)
	real := "/usr/bin/cl_status"
	hwtest.RequireFile(t, real, "heartbeat 3.0.6's cl_status (Debian package heartbeat)")
	hwtest.RequireCmd(t, "unshare")
	sock := filepath.Join(t.TempDir(), "none.ctl")
	for _, args := range [][]string{
		{"hbstatus"}, {"hbstatus", "-v"}, {"hbstatus", "-m"}, {"listnodes"}, {"listnodes", "-v"},
		{"nodestatus", "alice"}, {"nodestatus"}, {"nodetype", "bob"}, {"listhblinks", "alice"},
		{"hblinkstatus", "alice", "eth0"}, {"rscstatus"}, {"hbparameter", "-p", "keepalive"},
		{"bogus"}, {"--help"},
	} {
		script := `mount --make-rprivate / && mkdir -p /var/run/heartbeat && mount -t tmpfs t /var/run/heartbeat && exec "$0" "$@"`
		cmd := exec.Command("unshare", append([]string{"-m", "sh", "-c", script, real}, args...)...)
		var rout, rerr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &rout, &rerr
		err := cmd.Run()
		rcode := 0
		if ee, ok := err.(*exec.ExitError); ok {
			rcode = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		var oout, oerr bytes.Buffer
		ocode := ClStatus.Run(&cli.Env{Stdout: &oout, Stderr: &oerr, Environ: []string{"HA_CTLSOCK=" + sock}}, args)
		name := strings.Join(args, " ")
		if oout.String() != rout.String() {
			t.Errorf("%s: stdout\nours %q\n3.0.6 %q", name, oout.String(), rout.String())
		}
		if ocode != rcode {
			t.Errorf("%s: exit %d, 3.0.6 %d", name, ocode, rcode)
		}
		if o, r := clLogPrefix.ReplaceAllString(oerr.String(), ""), clLogPrefix.ReplaceAllString(rerr.String(), ""); o != r {
			t.Errorf("%s: stderr\nours %q\n3.0.6 %q", name, o, r)
		}
	}
}
