package heartbeat

// The daemon on a bare router image: empty tmpfs /var and /run, an
// interface that comes up late, a serial line too slow for the statuses.
// Root tests with the real daemon in a network namespace and a private
// mount namespace.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"habox/hw/hwtest"
	"habox/lab"
)

func writeConf(t *testing.T, hacf string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ha.cf"), []byte(hacf), 0o644)
	os.WriteFile(filepath.Join(dir, "authkeys"), []byte("auth 1\n1 sha1 k\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "haresources"), []byte("bare1 10.99.0.3/24/eth0\n"), 0o644)
	return dir
}

// /var and /run are empty tmpfs (no /var/run, /var/log, /var/lib), and the
// heartbeat interface comes up 1 s after the daemon started: the
// directories are created, the state-on-tmpfs warning given, the interface
// waited for and used.
func TestBareImage(t *testing.T) {
	hwtest.RequireCmd(t, "unshare")
	bin := lab.HaboxBin(t)
	a := hwtest.NewNetns(t, "bare")
	b := hwtest.NewNetns(t, "barp")
	dir := writeConf(t, "logfile /var/log/ha-log\nlogfacility none\nkeepalive 200ms\ndeadtime 2\ninitdead 30\nbcast eth1\nauto_failback on\nnode bare1 bare2\n")
	script := `mount -t tmpfs none /var && mount -t tmpfs none /run && ls -A /var /run &&
HA_NODENAME=bare1 HABOX_IF_WAIT=20 "$0" heartbeat -f -c "$1" >/dev/null 2>&1 & pid=$!
sleep 4; kill -KILL $pid; wait $pid
echo "== files"; find /var /run | sort
echo "== log"; cat /var/log/ha-log`
	cmd := exec.Command("timeout", "30", "ip", "netns", "exec", a.Name, "unshare", "-m", "--propagation", "private", "sh", "-c", script, bin, dir)
	outc := make(chan string, 1)
	go func() {
		out, err := cmd.CombinedOutput()
		if err != nil {
			out = append(out, err.Error()...)
		}
		outc <- string(out)
	}()
	time.Sleep(time.Second)
	hwtest.Veth(t, a, "eth1", "10.7.0.1/24", b, "eth1", "10.7.0.2/24")
	out := <-outc
	files, log, _ := strings.Cut(out, "== log")
	for _, f := range []string{"/var/run/heartbeat\n", "/var/run/heartbeat/habox.ctl\n", "/var/lib/heartbeat/hb_generation\n", "/var/log/ha-log\n"} {
		if !strings.Contains(files, f) {
			t.Errorf("%s not created:\n%s", strings.TrimSpace(f), out)
		}
	}
	for _, want := range []string{
		"WARN: State directory /var/lib/heartbeat is on tmpfs",
		"info: glib: interface eth1 is not there yet (",
		"waiting up to 20 s for it",
		"info: glib: UDP Broadcast heartbeat started on port 694 (694) interface eth1",
		"info: Link bare1:eth1 up.",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(log, "FAILED") || strings.Contains(log, "ERROR") {
		t.Errorf("errors logged:\n%s", out)
	}
}

// heartbeat -t warns about a serial line the statuses keep busy, with the
// numbers (and the daemon logs the same line at start-up: c.Warnings).
func TestSerialCapacityWarning(t *testing.T) {
	bin := lab.HaboxBin(t)
	dir := writeConf(t, "logfile /dev/null\nkeepalive 200ms\ndeadtime 2\ninitdead 10\nbaud 19200\nserial /dev/null\nnode bare1 bare2\n")
	cmd := exec.Command(bin, "heartbeat", "-t", "-c", dir)
	cmd.Env = append(os.Environ(), "HA_NODENAME=bare1")
	out, _ := cmd.CombinedOutput()
	want := "ha.cf:6: warning: serial /dev/null: a status message (~220 bytes) every keepalive 200 ms is 11000 bit/s, 57 % of 19200 baud"
	if !strings.Contains(string(out), want) {
		t.Errorf("heartbeat -t:\n%s\nwant ~%q", out, want)
	}
}
