package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"habox/applets/cli"
	"habox/hw/hwtest"
)

func run(t *testing.T, argv ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code := dispatch(newRegistry(allApplets), env, argv)
	return code, out.String(), errb.String()
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		code    int
		outHas  string
		errHas  string
		outLine string // a whole stdout line that must be present
	}{
		{"banner", []string{"habox"}, 0, "Applets:", "", ""},
		{"help", []string{"habox", "--help"}, 0, "multi-call binary", "", ""},
		{"list", []string{"habox", "--list"}, 0, "", "", "IPaddr"},
		{"version", []string{"habox", "--version"}, 0, "dev", "", ""},
		{"unknown applet", []string{"habox", "nosuch"}, 2, "", "applet not found: nosuch", ""},
		{"unknown option", []string{"habox", "--nosuch"}, 2, "", "habox: unknown option --nosuch\n", ""},
		{"heartbeat -V", []string{"heartbeat", "-V"}, 0, "", "", "3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)"},
		{"bundled short options", []string{"heartbeat", "-ddV"}, 0, "", "", "3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)"},
		{"bundled unknown option", []string{"heartbeat", "-dz"}, 2, "", "unknown option -z", ""},
		{"heartbeat --version", []string{"heartbeat", "--version"}, 0, "3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)\nhabox dev\n", "", ""},
		{"authkeygen usage", []string{"authkeygen", "--bogus"}, 2, "", "usage: authkeygen [-m sha1|md5|crc] [-n INDEX] [-l LENGTH] [-o FILE|-] [-f] | --check [FILE]\n", ""},
		{"authkeygen --check FILE", []string{"authkeygen", "--check", "/nonexistent/authkeys"}, 1, "", "/nonexistent/authkeys", ""},
		{"authkeygen --check=FILE", []string{"authkeygen", "--check=/nonexistent/authkeys"}, 1, "", "/nonexistent/authkeys", ""},
		{"applet by argument", []string{"habox", "IPaddr", "--help"}, 0, "IPaddr [-c COUNT]", "", ""},
		{"help APPLET", []string{"habox", "--help", "IPaddr"}, 0, "IPaddr [-c COUNT]", "", ""},
		{"-h APPLET", []string{"habox", "-h", "cl_status"}, 0, "cl_status [-S SOCKET] SUB-COMMAND", "", ""},
		{"help unknown applet", []string{"habox", "--help", "nosuch"}, 2, "", "--help: applet not found: nosuch", ""},
		{"applet by argv0", []string{"/usr/sbin/IPaddr", "--help"}, 0, "IPaddr [-c COUNT]", "", ""},
		{"applet usage error", []string{"cl_status", "--bogus"}, 11, "", "", ""},
		{"install without dir", []string{"habox", "--install"}, 2, "", "usage: habox --install", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(t, tt.argv...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errs)
			}
			if !strings.Contains(out, tt.outHas) || !strings.Contains(errs, tt.errHas) {
				t.Errorf("stdout %q / stderr %q, want %q / %q", out, errs, tt.outHas, tt.errHas)
			}
			if tt.outLine != "" && !strings.Contains("\n"+out, "\n"+tt.outLine+"\n") {
				t.Errorf("stdout lacks line %q:\n%s", tt.outLine, out)
			}
		})
	}
}

// TestEveryAppletHasHelp: --help prints a synopsis starting with the name
// and exits 0, for every applet.
func TestEveryAppletHasHelp(t *testing.T) {
	for _, a := range allApplets {
		code, out, _ := run(t, "habox", a.Name, "--help")
		if code != 0 || !strings.HasPrefix(out, a.Name+" ") {
			t.Errorf("%s --help: exit %d, %q", a.Name, code, cli.Synopsis(out))
		}
	}
}

// TestHelpAppletIsAppletHelp: `habox --help APPLET` prints exactly what
// `APPLET --help` prints, as busybox does, for every applet.
func TestHelpAppletIsAppletHelp(t *testing.T) {
	for _, a := range allApplets {
		code, out, errs := run(t, "habox", "--help", a.Name)
		_, want, _ := run(t, a.Name, "--help")
		if code != 0 || out != want || errs != "" {
			t.Errorf("habox --help %s: exit %d, %q %q, want %q", a.Name, code, cli.Synopsis(out), errs, cli.Synopsis(want))
		}
	}
}

// TestEveryAppletHasVersion: APPLET --version names the applet and the
// habox version and exits 0 (heartbeat: 3.0.6's line first).
func TestEveryAppletHasVersion(t *testing.T) {
	for _, a := range allApplets {
		code, out, errs := run(t, "habox", a.Name, "--version")
		want := a.Name + " (habox dev)\n"
		if a.Name == "heartbeat" {
			want = "3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)\nhabox dev\n"
		}
		if code != 0 || out != want || errs != "" {
			t.Errorf("%s --version: exit %d, %q %q, want %q", a.Name, code, out, errs, want)
		}
	}
}

// TestNoDaemonOrFile: commands whose target is missing say so once and
// nothing misleading first.
func TestNoDaemonOrFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		argv     []string
		code     int
		out      string // exact stdout
		errHas   string
		errLines int
	}{
		{"hb_standby no daemon", []string{"hb_standby"}, 3, "", "Heartbeat is stopped on this machine.", 1},
		{"hb_takeover no daemon", []string{"hb_takeover"}, 3, "", "Heartbeat is stopped on this machine.", 1},
		{"authkeygen --check default file", []string{"authkeygen", "--check"}, 1, "", filepath.Join(dir, "authkeys"), 1},
		{"install into a missing dir", []string{"habox", "--install", "-s", filepath.Join(dir, "nodir")}, 1, "", filepath.Join(dir, "nodir"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
				Environ: []string{"HA_CTLSOCK=" + filepath.Join(dir, "no.ctl"), "HA_DIR=" + dir}}
			code := dispatch(newRegistry(allApplets), env, tt.argv)
			lines := strings.Count(errb.String(), "\n")
			if code != tt.code || out.String() != tt.out || !strings.Contains(errb.String(), tt.errHas) || lines != tt.errLines {
				t.Errorf("exit %d stdout %q stderr %q (%d lines); want %d %q ~%q (%d lines)", code, out.String(), errb.String(), lines, tt.code, tt.out, tt.errHas, tt.errLines)
			}
		})
	}
}

func TestRegistryRejectsDuplicates(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("duplicate applet name did not panic")
		}
	}()
	a := allApplets
	newRegistry(append(a, a[0]))
}

// TestInstall builds the binary and installs links twice (idempotent):
// symlinks with -s, hard links without; a link runs its applet; init is
// never linked.
func TestInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "habox")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, symlink := range []bool{true, false} {
		dir := t.TempDir()
		args := []string{"--install", dir}
		if symlink {
			args = []string{"--install", "-s", dir}
		}
		for i := 0; i < 2; i++ {
			if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("%v (run %d): %v\n%s", args, i+1, err, out)
			}
		}
		for _, a := range allApplets {
			p := filepath.Join(dir, a.Name)
			fi, err := os.Lstat(p)
			if a.NoLink {
				if err == nil {
					t.Errorf("%s was linked", p)
				}
				continue
			}
			if err != nil {
				t.Fatalf("missing %s: %v", p, err)
			}
			if got := fi.Mode()&os.ModeSymlink != 0; got != symlink {
				t.Errorf("%s: symlink %v, want %v", p, got, symlink)
			}
		}
		out, err := exec.Command(filepath.Join(dir, "IPaddr"), "--help").Output()
		if err != nil || !strings.HasPrefix(string(out), "IPaddr ") {
			t.Errorf("link IPaddr --help: %v %q", err, out)
		}
	}
	// --ocf: only the OCF agents, in $OCF_ROOT/resource.d/habox (created).
	root := t.TempDir()
	for i := 0; i < 2; i++ {
		cmd := exec.Command(bin, "--install", "-s", "--ocf")
		cmd.Env = append(os.Environ(), "OCF_ROOT="+root)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("--install -s --ocf (run %d): %v\n%s", i+1, err, out)
		}
	}
	ents, err := os.ReadDir(filepath.Join(root, "resource.d/habox"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if err != nil || strings.Join(names, " ") != "IPaddr IPv6addr" {
		t.Fatalf("resource.d/habox holds %v (%v), want IPaddr IPv6addr", names, err)
	}
	out, err := exec.Command(filepath.Join(root, "resource.d/habox/IPv6addr"), "meta-data").Output()
	if err != nil || !strings.Contains(string(out), `<resource-agent name="IPv6addr">`) {
		t.Errorf("resource.d/habox/IPv6addr meta-data: %v %q", err, out)
	}
}

// TestInstallKeepsForeignFiles: --install never replaces a file that is not
// a link to habox (a user's script, another package's binary or link) and
// names each one it skipped; links to habox, stale links to a habox and
// copies of the binary are replaced or kept.
func TestInstallKeepsForeignFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "habox")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, symlink := range []bool{true, false} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "heartbeat"), []byte("mine\n"), 0o755)      // a user's file
		os.Symlink("/usr/lib/heartbeat/heartbeat", filepath.Join(dir, "cl_status")) // another package's link
		os.Mkdir(filepath.Join(dir, "hb_standby"), 0o755)                           // a directory
		os.Symlink("/opt/old/habox", filepath.Join(dir, "hb_takeover"))             // a stale install: replaced
		data, _ := os.ReadFile(bin)
		os.WriteFile(filepath.Join(dir, "IPaddr"), data, 0o755) // a copy of habox: replaced
		args := []string{"--install", dir}
		if symlink {
			args = []string{"--install", "-s", dir}
		}
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		for _, n := range []string{"heartbeat", "cl_status", "hb_standby"} {
			if want := "habox: --install: skipped " + filepath.Join(dir, n) + ": exists and is not a link to habox"; !strings.Contains(string(out), want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, out)
			}
		}
		if strings.Count(string(out), "skipped") != 3 {
			t.Errorf("%v: want exactly 3 skipped:\n%s", args, out)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "heartbeat")); string(b) != "mine\n" {
			t.Errorf("the user's heartbeat was replaced: %q", b)
		}
		if l, _ := os.Readlink(filepath.Join(dir, "cl_status")); l != "/usr/lib/heartbeat/heartbeat" {
			t.Errorf("cl_status link now %q", l)
		}
		bi, _ := os.Stat(bin)
		for _, n := range []string{"hb_takeover", "IPaddr"} {
			fi, err := os.Stat(filepath.Join(dir, n))
			if err != nil || !os.SameFile(fi, bi) {
				t.Errorf("%v: %s not replaced by a link to habox: %v", args, n, err)
			}
		}
	}
}

// TestDemoColoursOnlyOnTerminal: demo.sh's say/die print escape sequences
// on a terminal only, so `make demo > log` stays plain text.
func TestDemoColoursOnlyOnTerminal(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := `eval "$(sed -n '/^if \[ -t 1 \]/,/^die()/p' demo/demo.sh)"; say hello`
	out, err := exec.Command(bash, "-c", script).Output()
	if err != nil || !strings.Contains(string(out), "==> hello") || strings.Contains(string(out), "\033") {
		t.Errorf("to a pipe: %q %v", out, err)
	}
	master, slave := hwtest.NewPty(t)
	tty, err := os.OpenFile(slave, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	cmd := exec.Command(bash, "-c", script)
	cmd.Stdout = tty
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	master.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := master.Read(buf)
	if !strings.Contains(string(buf[:n]), "\033[1m==> hello") {
		t.Errorf("to a terminal: %q", buf[:n])
	}
}
