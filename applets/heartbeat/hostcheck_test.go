package heartbeat

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"habox/conf"
	"habox/lab"
)

// fakeHost has eth0, eth1, the hosts "bob" and 10.0.0.2, /dev/ttyS0 and
// the scripts IPaddr and httpd.
type fakeHost struct{}

func (fakeHost) Interface(n string) bool { return n == "eth0" || n == "eth1" }
func (fakeHost) Resolve(n string) bool   { return n == "bob" || n == "10.0.0.2" }
func (fakeHost) Script(n string) bool    { return n == "IPaddr" || n == "httpd" }
func (fakeHost) CharDevice(p string) string {
	if p == "/dev/ttyS0" {
		return ""
	}
	return "Nonexistent serial port"
}

// writeHaDir writes a configuration for node alice with the given media
// lines and haresources line.
func writeHaDir(t *testing.T, media, res string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{
		"ha.cf":       "keepalive 1\ndeadtime 10\n" + media + "node alice bob\n",
		"haresources": res + "\n",
		"authkeys":    "auth 1\n1 sha1 k\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCheckHost: what the machine lacks, one error each, with file:line,
// token and fix.
func TestCheckHost(t *testing.T) {
	for _, tt := range []struct {
		name, media, res string
		want             []string // substrings, one error each, in order
	}{
		{"all there", "bcast eth1\nucast eth1 bob\nserial /dev/ttyS0\n", "alice 10.0.0.5/24/eth0 httpd", nil},
		{"media interface", "bcast eth9\n", "alice httpd",
			[]string{"ha.cf:3: bcast: [eth9] no network interface eth9 on this machine: fix the name"}},
		{"ucast interface", "ucast eth7 bob\n", "alice httpd", []string{"ha.cf:3: ucast: [eth7] no network interface eth7"}},
		{"ucast name", "ucast eth1 carol\n", "alice httpd",
			[]string{"ha.cf:3: ucast: [carol] cannot resolve carol: neither an IPv4 address nor a name in /etc/hosts (habox never uses DNS)"}},
		{"serial", "bcast eth1\nserial /dev/ttyS9\n", "alice httpd",
			[]string{"ha.cf:4: serial: [/dev/ttyS9] Nonexistent serial port: connect the serial port or fix the device name"}},
		{"scripts (the README's httpd smb maid)", "bcast eth1\n", "alice 10.0.0.5 httpd smb maid::vacuum",
			[]string{"haresources:1: [smb] Resource script smb not found in ", "haresources:1: [maid::vacuum] Resource script maid not found"}},
		{"IPaddr interface", "bcast eth1\n", "alice 10.0.0.5/24/eth3 httpd",
			[]string{"haresources:1: [10.0.0.5/24/eth3] no network interface eth3 on this machine for IPaddr"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := conf.Load(writeHaDir(t, tt.media, tt.res), "alice")
			if err != nil {
				t.Fatal(err)
			}
			errs := checkHost(c, fakeHost{})
			if len(errs) != len(tt.want) {
				t.Fatalf("%d problems, want %d: %v", len(errs), len(tt.want), errs)
			}
			for i, w := range tt.want {
				if got := strings.TrimPrefix(errs[i].Error(), c.Dir+"/"); !strings.HasPrefix(got, w) {
					t.Errorf("got  %q\nwant %q...", got, w)
				}
			}
		})
	}
}

// TestCheckThisHostCommand: heartbeat -t on this machine refuses what it
// lacks (exit 1, every problem named); with --other-host the same are
// warnings and the effective configuration is printed (exit 0).
func TestCheckThisHostCommand(t *testing.T) {
	bin := lab.HaboxBin(t)
	dir := writeHaDir(t, "bcast habox-no0\nucast lo habox-no-such-host\nserial /dev/habox-no-tty\n", "alice 10.0.0.5/24/habox-no1 habox-no-script")
	run := func(args ...string) (string, int) {
		cmd := exec.Command(bin, append([]string{"heartbeat", "-c", dir}, args...)...)
		cmd.Env = append(os.Environ(), "HA_NODENAME=alice")
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	problems := []string{"ha.cf:3: bcast: [habox-no0] no network interface", "ha.cf:4: ucast: [habox-no-such-host] cannot resolve",
		"ha.cf:5: serial: [/dev/habox-no-tty] Nonexistent serial port", "haresources:1: [10.0.0.5/24/habox-no1] no network interface habox-no1",
		"haresources:1: [habox-no-script] Resource script habox-no-script not found"}
	out, code := run("-t")
	if code != 1 || strings.Contains(out, "effective configuration") || !strings.Contains(out, "heartbeat -t --other-host") {
		t.Fatalf("-t: exit %d\n%s", code, out)
	}
	for _, p := range problems {
		if !strings.Contains(out, filepath.Join(dir, p)) {
			t.Errorf("-t lacks %q:\n%s", p, out)
		}
	}
	out, code = run("-t", "--other-host")
	if code != 0 || !strings.Contains(out, "effective configuration") {
		t.Fatalf("-t --other-host: exit %d\n%s", code, out)
	}
	for _, p := range problems {
		file, rest, _ := strings.Cut(p, ": ")
		if !strings.Contains(out, filepath.Join(dir, file)+": warning: "+rest) {
			t.Errorf("-t --other-host lacks the warning %q:\n%s", p, out)
		}
	}
	if _, code := run("--other-host"); code != 2 {
		t.Errorf("--other-host without -t: exit %d, want 2", code)
	}
}
