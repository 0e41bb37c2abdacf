package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"habox/applets/cli"
)

func run(t *testing.T, argv ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code := dispatch(newRegistry(allApplets()), env, argv)
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
		{"applet by argument", []string{"habox", "IPaddr", "--help"}, 0, "IPaddr [-c COUNT]", "", ""},
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
	for _, a := range allApplets() {
		code, out, _ := run(t, "habox", a.Name, "--help")
		if code != 0 || !strings.HasPrefix(out, a.Name+" ") {
			t.Errorf("%s --help: exit %d, %q", a.Name, code, cli.Synopsis(out))
		}
	}
}

func TestRegistryRejectsDuplicates(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("duplicate applet name did not panic")
		}
	}()
	a := allApplets()
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
		for _, a := range allApplets() {
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
