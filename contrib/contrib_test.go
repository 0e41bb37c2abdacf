package contrib

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"habox/hw/hwtest"
)

// bin is the habox binary built once for the package's tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "contrib-test")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "habox")
	cmd := exec.Command("go", "build", "-o", bin, "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic("go build: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run runs a command with extra environment and returns its combined
// output and exit code.
func run(t *testing.T, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		t.Fatalf("%s: %v", name, err)
	}
	return string(out), 0
}

// linkNames returns the names `habox --install -s` links.
func linkNames(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	if out, rc := run(t, nil, bin, "--install", "-s", dir); rc != 0 {
		t.Fatalf("habox --install: %d %s", rc, out)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) < 5 {
		t.Fatalf("habox --install -s made only %v", names)
	}
	return names
}

// tree describes every entry under root: path, kind/mode, link target or
// content digest.
func tree(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		b.WriteString(rel + " " + fi.Mode().String())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			b.WriteString(" -> " + l)
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			b.WriteString(" " + hex.EncodeToString(sum(data)))
			b.WriteString(" size=" + strconv.Itoa(len(data)))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestShellSyntax(t *testing.T) {
	for _, f := range []string{"install.sh", "init.d/heartbeat", "openwrt/heartbeat", "initramfs-tools/hooks/habox"} {
		for _, sh := range []string{"sh", "dash", "bash", "busybox"} {
			p, err := exec.LookPath(sh)
			if err != nil {
				continue
			}
			args := []string{"-n", f}
			if sh == "busybox" {
				args = []string{"sh", "-n", f}
			}
			if out, rc := run(t, nil, p, args...); rc != 0 {
				t.Errorf("%s -n %s: %s", sh, f, out)
			}
		}
	}
	if out, rc := run(t, nil, "bash", "-n", "dracut/90habox/module-setup.sh"); rc != 0 {
		t.Errorf("bash -n module-setup.sh: %s", out)
	}
}

func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("systemd/heartbeat.service")
	if err != nil {
		t.Fatal(err)
	}
	// The unit's structure, whatever is installed on this machine.
	want := map[string]string{
		"Type":         "simple",
		"ExecStart":    "/usr/sbin/heartbeat -f",
		"Restart":      "on-failure",
		"ExecReload":   "/bin/kill -HUP $MAINPID",
		"KillMode":     "mixed",
		"LimitMEMLOCK": "infinity",
		// conditional, and it follows Environment=HA_DIR
		"ExecStartPre": "+/usr/sbin/mkwatchdog -c ${HA_DIR}",
	}
	got := map[string][]string{}
	section := ""
	for i, line := range strings.Split(string(unit), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#':
		case line[0] == '[':
			section = line
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("line %d: not key=value in a section: %q", i+1, line)
			}
			got[k] = append(got[k], v)
		}
	}
	for k, v := range want {
		found := false
		for _, g := range got[k] {
			found = found || g == v
		}
		if !found {
			t.Errorf("%s=%s missing (have %q)", k, v, got[k])
		}
	}
	if d := got["Documentation"]; len(d) > 0 {
		t.Errorf("Documentation=%q: nothing is installed for it to point at", d)
	}
	caps := strings.Fields(strings.Join(got["CapabilityBoundingSet"], " "))
	sort.Strings(caps)
	wantCaps := []string{"CAP_IPC_LOCK", "CAP_NET_ADMIN", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_BOOT", "CAP_SYS_NICE"}
	if strings.Join(caps, " ") != strings.Join(wantCaps, " ") {
		t.Errorf("CapabilityBoundingSet = %v, want %v", caps, wantCaps)
	}

	// systemd's own parser: the commands must exist, so point them at the
	// test binary; any warning (unknown key, bad value) fails.
	sa := hwtest.RequireCmd(t, "systemd-analyze")
	dir := t.TempDir()
	for _, n := range []string{"heartbeat", "mkwatchdog"} {
		if err := os.Symlink(bin, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	u := strings.ReplaceAll(string(unit), "/usr/sbin/", dir+"/")
	p := filepath.Join(dir, "heartbeat.service")
	if err := os.WriteFile(p, []byte(u), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sa, "verify", p)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, stderr.String())
	}
}

func TestInstall(t *testing.T) {
	names := linkNames(t)
	dest := t.TempDir()
	env := []string{"DESTDIR=" + dest, "PREFIX=/usr"}
	out, rc := run(t, env, "sh", "install.sh", bin)
	if rc != 0 {
		t.Fatalf("install.sh: exit %d\n%s", rc, out)
	}
	if !strings.Contains(out, "authkeygen") {
		t.Errorf("no authkeygen hint in output:\n%s", out)
	}
	fi, err := os.Lstat(dest + "/usr/sbin/habox")
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o755 {
		t.Fatalf("usr/sbin/habox: %v %v", fi, err)
	}
	for _, n := range names {
		if l, err := os.Readlink(dest + "/usr/sbin/" + n); err != nil || l != "habox" {
			t.Errorf("usr/sbin/%s: link %q, %v; want -> habox", n, l, err)
		}
	}
	if _, err := os.Lstat(dest + "/usr/sbin/init"); err == nil {
		t.Errorf("usr/sbin/init installed: init must never be linked on a host")
	}
	if l, err := os.Readlink(dest + "/etc/ha.d/resource.d/IPaddr"); err != nil || l != "/usr/sbin/habox" {
		t.Errorf("resource.d/IPaddr: %q %v", l, err)
	}
	for _, a := range []string{"IPaddr", "IPv6addr"} {
		if l, err := os.Readlink(dest + "/usr/lib/ocf/resource.d/habox/" + a); err != nil || l != "/usr/sbin/habox" {
			t.Errorf("ocf resource.d/habox/%s: %q %v", a, l, err)
		}
	}
	for _, f := range []string{"ha.cf", "haresources"} {
		fi, err := os.Stat(dest + "/etc/ha.d/" + f)
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("etc/ha.d/%s: %v %v", f, fi, err)
		}
	}
	if _, err := os.Lstat(dest + "/etc/ha.d/authkeys"); err == nil {
		t.Errorf("authkeys installed")
	}
	// The links work: an applet link runs that applet.
	out, rc = run(t, nil, dest+"/usr/sbin/IPaddr", "--help")
	if rc != 0 || !strings.Contains(out, "IPaddr") {
		t.Errorf("usr/sbin/IPaddr --help: %d %s", rc, out)
	}

	// Idempotent: a second run changes nothing.
	before := tree(t, dest)
	if out, rc := run(t, env, "sh", "install.sh", bin); rc != 0 {
		t.Fatalf("second install.sh: exit %d\n%s", rc, out)
	}
	if after := tree(t, dest); after != before {
		t.Errorf("second run changed the tree:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// A user's files are never overwritten; stale links are repaired.
	mine := []byte("# my cluster\nnode a b\n")
	if err := os.WriteFile(dest+"/etc/ha.d/ha.cf", mine, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dest+"/etc/ha.d/ha.cf", 0o600)
	other := []byte("#!/bin/sh\necho not habox\n")
	if err := os.Remove(dest + "/usr/sbin/" + names[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dest+"/usr/sbin/"+names[0], other, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Remove(dest + "/usr/sbin/" + names[1])
	os.Symlink("/nonexistent", dest+"/usr/sbin/"+names[1])
	out, rc = run(t, env, "sh", "install.sh", bin)
	if rc != 0 {
		t.Fatalf("third install.sh: exit %d\n%s", rc, out)
	}
	if got, _ := os.ReadFile(dest + "/etc/ha.d/ha.cf"); !bytes.Equal(got, mine) {
		t.Errorf("user's ha.cf overwritten: %q", got)
	}
	if fi, _ := os.Stat(dest + "/etc/ha.d/ha.cf"); fi.Mode().Perm() != 0o600 {
		t.Errorf("user's ha.cf mode changed: %v", fi.Mode())
	}
	if got, _ := os.ReadFile(dest + "/usr/sbin/" + names[0]); !bytes.Equal(got, other) {
		t.Errorf("foreign file usr/sbin/%s overwritten", names[0])
	}
	if !strings.Contains(out, names[0]+" exists and is not a link") {
		t.Errorf("no warning about usr/sbin/%s:\n%s", names[0], out)
	}
	if l, _ := os.Readlink(dest + "/usr/sbin/" + names[1]); l != "habox" {
		t.Errorf("stale link usr/sbin/%s not repaired: %q", names[1], l)
	}
}

func TestInstallPrefixAndInit(t *testing.T) {
	for _, tc := range []struct{ init, file string }{
		{"systemd", "/lib/systemd/system/heartbeat.service"},
		{"sysv", "/etc/init.d/heartbeat"},
		{"openwrt", "/etc/init.d/heartbeat"},
	} {
		dest := t.TempDir()
		env := []string{"DESTDIR=" + dest, "PREFIX=/opt/ha", "INIT=" + tc.init}
		if out, rc := run(t, env, "sh", "install.sh", bin); rc != 0 {
			t.Fatalf("INIT=%s: exit %d\n%s", tc.init, rc, out)
		}
		if l, _ := os.Readlink(dest + "/etc/ha.d/resource.d/IPaddr"); l != "/opt/ha/sbin/habox" {
			t.Errorf("PREFIX=/opt/ha: resource.d/IPaddr -> %q", l)
		}
		if l, _ := os.Readlink(dest + "/opt/ha/sbin/heartbeat"); l != "habox" {
			t.Errorf("PREFIX=/opt/ha: sbin/heartbeat -> %q", l)
		}
		// The init file follows PREFIX.
		if b, err := os.ReadFile(dest + tc.file); err != nil {
			t.Errorf("INIT=%s: %v", tc.init, err)
		} else if s := string(b); strings.Contains(s, "/usr/sbin/") || !strings.Contains(s, "/opt/ha/sbin/heartbeat") {
			t.Errorf("INIT=%s: %s does not follow PREFIX=/opt/ha:\n%s", tc.init, tc.file, s)
		}
	}
	for _, env := range [][]string{{"INIT=upstart"}, {"PREFIX=usr"}} {
		dest := t.TempDir()
		env = append(env, "DESTDIR="+dest)
		if out, rc := run(t, env, "sh", "install.sh", bin); rc == 0 {
			t.Errorf("%v accepted:\n%s", env, out)
		}
		// Refused before anything was installed.
		if ents, _ := os.ReadDir(dest); len(ents) != 0 {
			t.Errorf("%v: installed %v before refusing", env, ents)
		}
	}
	if out, rc := run(t, []string{"DESTDIR=" + t.TempDir()}, "sh", "install.sh", "/nonexistent/habox"); rc == 0 || !strings.Contains(out, "make") {
		t.Errorf("missing binary: exit %d %s", rc, out)
	}
}

// TestInstallBusybox: INIT=busybox adds the inittab lines (with PREFIX)
// once: to busybox's default table when there is no /etc/inittab, at the
// end of an existing one otherwise.
func TestInstallBusybox(t *testing.T) {
	for _, existing := range []string{"", "::sysinit:/etc/init.d/rcS\nttyS0::respawn:/sbin/getty -L ttyS0 115200 vt100\n"} {
		dest := t.TempDir()
		if existing != "" {
			os.MkdirAll(dest+"/etc", 0o755)
			os.WriteFile(dest+"/etc/inittab", []byte(existing), 0o644)
		}
		env := []string{"DESTDIR=" + dest, "PREFIX=/opt/ha", "INIT=busybox"}
		for i := 0; i < 2; i++ {
			if out, rc := run(t, env, "sh", "install.sh", bin); rc != 0 {
				t.Fatalf("INIT=busybox run %d: exit %d\n%s", i+1, rc, out)
			}
		}
		b, _ := os.ReadFile(dest + "/etc/inittab")
		s := string(b)
		for _, want := range []string{"::respawn:/opt/ha/sbin/heartbeat -f\n", "::sysinit:/opt/ha/sbin/mkwatchdog -c /etc/ha.d\n", "::shutdown:/opt/ha/sbin/heartbeat -k\n"} {
			if strings.Count(s, want) != 1 {
				t.Errorf("inittab has %q %d times, want once:\n%s", want, strings.Count(s, want), s)
			}
		}
		if existing != "" && !strings.HasPrefix(s, existing) {
			t.Errorf("existing inittab not kept first:\n%s", s)
		}
		if existing == "" && !strings.Contains(s, "::sysinit:/etc/init.d/rcS\n") {
			t.Errorf("no busybox default lines:\n%s", s)
		}
	}
}

// TestInstallCross installs a binary that cannot run here (as a cross
// build for a router): the applet names come from HOST_HABOX.
func TestInstallCross(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "habox-mipsle")
	elf := append([]byte("\x7fELF\x01\x02\x01"), make([]byte, 200)...)
	os.WriteFile(foreign, elf, 0o755)
	dest := t.TempDir()
	out, rc := run(t, []string{"DESTDIR=" + dest, "HOST_HABOX=" + bin}, "sh", "install.sh", foreign)
	if rc != 0 {
		t.Fatalf("install.sh: %d\n%s", rc, out)
	}
	if got, _ := os.ReadFile(dest + "/usr/sbin/habox"); !bytes.Equal(got, elf) {
		t.Error("installed binary is not the cross-built one")
	}
	for _, n := range linkNames(t) {
		if l, _ := os.Readlink(dest + "/usr/sbin/" + n); l != "habox" {
			t.Errorf("usr/sbin/%s -> %q", n, l)
		}
	}
	out, rc = run(t, []string{"DESTDIR=" + t.TempDir(), "HOST_HABOX=/nonexistent"}, "sh", "install.sh", foreign)
	if rc == 0 || !strings.Contains(out, "HOST_HABOX") {
		t.Errorf("no runnable habox: exit %d\n%s", rc, out)
	}
}

func TestInittab(t *testing.T) {
	data, err := os.ReadFile("inittab")
	if err != nil {
		t.Fatal(err)
	}
	applets := map[string]bool{}
	out, _ := run(t, nil, bin, "--list")
	for _, n := range strings.Fields(out) {
		applets[n] = true
	}
	actions := map[string]bool{"sysinit": true, "wait": true, "once": true, "respawn": true, "askfirst": true, "shutdown": true, "restart": true, "ctrlaltdel": true}
	seen := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.SplitN(line, ":", 4)
		if len(f) != 4 || !actions[f[2]] {
			t.Fatalf("line %d: not id:runlevels:action:process: %q", i+1, line)
		}
		argv := strings.Fields(f[3])
		if len(argv) == 0 || !strings.HasPrefix(argv[0], "/usr/sbin/") || !applets[filepath.Base(argv[0])] {
			t.Errorf("line %d: %q is not a habox applet", i+1, f[3])
		}
		seen[f[2]] = f[3]
	}
	if seen["respawn"] != "/usr/sbin/heartbeat -f" {
		t.Errorf("respawn line = %q, want /usr/sbin/heartbeat -f", seen["respawn"])
	}
	// As its comment says: only when ha.cf names a watchdog.
	if seen["sysinit"] != "/usr/sbin/mkwatchdog -c /etc/ha.d" {
		t.Errorf("sysinit line = %q, want /usr/sbin/mkwatchdog -c /etc/ha.d", seen["sysinit"])
	}
}

// fakeDaemon writes a stand-in heartbeat for the init script tests: -t
// checks, otherwise it daemonizes and writes the pid file; its process
// logs HUP and TERM into log.
func fakeDaemon(t *testing.T, dir string) (daemon, log string) {
	t.Helper()
	daemon, log = filepath.Join(dir, "heartbeat"), filepath.Join(dir, "log")
	// env --default-signal=HUP: a shell cannot trap a signal ignored when
	// it started, and a test run under nohup ignores SIGHUP.
	script := `#!/bin/sh
if [ "$1" = -t ]; then echo "check $*" >>"` + log + `"; [ ! -e "` + dir + `/badconf" ]; exit; fi
while [ $# -gt 0 ]; do case $1 in -p) pf=$2; shift;; esac; shift; done
echo "start" >>"` + log + `"
env --default-signal=HUP sh -c 'trap "echo hup >>$1" HUP; trap "echo term >>$1; exit 0" TERM; echo $$ >"$0"; while :; do sleep 0.05; done' "$pf" "` + log + `" </dev/null >/dev/null 2>&1 &
exit 0
`
	if err := os.WriteFile(daemon, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	mk := filepath.Join(dir, "mkwatchdog")
	if err := os.WriteFile(mk, []byte("#!/bin/sh\necho mkwatchdog >>\""+log+"\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return daemon, log
}

func TestSysVScript(t *testing.T) {
	dir := t.TempDir()
	daemon, log := fakeDaemon(t, dir)
	hadir := filepath.Join(dir, "ha.d")
	os.Mkdir(hadir, 0o755)
	pidfile := filepath.Join(dir, "hb.pid")
	env := []string{"HEARTBEAT=" + daemon, "HA_DIR=" + hadir, "PIDFILE=" + pidfile,
		"HA_DEFAULTS=/nonexistent", "STOP_WAIT=5"}
	initd := func(action string) (string, int) { return run(t, env, "sh", "init.d/heartbeat", action) }
	t.Cleanup(func() { initd("stop") })
	readLog := func() string { b, _ := os.ReadFile(log); return string(b) }

	steps := []struct {
		action string
		rc     int
		setup  func()
	}{
		{"start", 6, nil}, // no ha.cf
		{"start", 6, func() {
			os.WriteFile(hadir+"/ha.cf", []byte("node a\n"), 0o644)
			os.WriteFile(dir+"/badconf", nil, 0o644)
		}},
		{"status", 3, func() { os.Remove(dir + "/badconf") }},
		{"reload", 7, nil},
		{"start", 0, nil},
		{"status", 0, nil},
		{"start", 0, nil}, // already running
		{"reload", 0, nil},
		{"restart", 0, nil},
		{"stop", 0, nil},
		{"status", 3, nil},
		{"stop", 0, nil}, // already stopped
		{"status", 1, func() { os.WriteFile(pidfile, []byte("999999\n"), 0o644) }},
		{"bogus", 2, nil},
		{"start", 5, func() { env[0] = "HEARTBEAT=/nonexistent/heartbeat" }},
	}
	for i, s := range steps {
		if s.setup != nil {
			s.setup()
		}
		out, rc := initd(s.action)
		if rc != s.rc {
			t.Fatalf("step %d %s: exit %d, want %d\n%s\nlog:\n%s", i, s.action, rc, s.rc, out, readLog())
		}
	}
	// The daemon saw: two starts (start, restart), one HUP, two TERMs.
	time.Sleep(200 * time.Millisecond)
	l := readLog()
	if c := strings.Count(l, "start\n"); c != 2 {
		t.Errorf("%d starts, want 2:\n%s", c, l)
	}
	if !strings.Contains(l, "hup\n") || strings.Count(l, "term\n") != 2 {
		t.Errorf("want one hup and two terms:\n%s", l)
	}
	if strings.Contains(l, "mkwatchdog") {
		t.Errorf("mkwatchdog ran without a watchdog directive:\n%s", l)
	}
}

func TestSysVWatchdog(t *testing.T) {
	dir := t.TempDir()
	daemon, log := fakeDaemon(t, dir)
	hadir := filepath.Join(dir, "ha.d")
	os.Mkdir(hadir, 0o755)
	env := []string{"HEARTBEAT=" + daemon, "HA_DIR=" + hadir, "PIDFILE=" + dir + "/hb.pid", "HA_DEFAULTS=/nonexistent"}
	t.Cleanup(func() { run(t, env, "sh", "init.d/heartbeat", "stop") })
	for _, tc := range []struct {
		hacf string
		want bool
	}{
		{"node a\n#watchdog /dev/watchdog\n", false},
		{"node a\nwatchdog " + dir + "/nowatchdog # comment\n", true},
		{"node a\n  watchdog\t/dev/null\n", false}, // a char device already
	} {
		os.Remove(log)
		os.WriteFile(hadir+"/ha.cf", []byte(tc.hacf), 0o644)
		if out, rc := run(t, env, "sh", "init.d/heartbeat", "start"); rc != 0 {
			t.Fatalf("start: %d %s", rc, out)
		}
		if out, rc := run(t, env, "sh", "init.d/heartbeat", "stop"); rc != 0 {
			t.Fatalf("stop: %d %s", rc, out)
		}
		b, _ := os.ReadFile(log)
		if got := strings.Contains(string(b), "mkwatchdog"); got != tc.want {
			t.Errorf("ha.cf %q: mkwatchdog ran = %v, want %v", tc.hacf, got, tc.want)
		}
	}
}

func TestOpenWrtScript(t *testing.T) {
	dir := t.TempDir()
	daemon, log := fakeDaemon(t, dir)
	hadir := filepath.Join(dir, "ha.d")
	os.Mkdir(hadir, 0o755)
	os.WriteFile(hadir+"/ha.cf", []byte("watchdog /dev/watchdog\nnode a\n"), 0o644)
	// procd's helpers, recording their calls.
	harness := `
calls=` + dir + `/calls
procd_open_instance() { echo "open" >>$calls; }
procd_set_param() { echo "set $*" >>$calls; }
procd_close_instance() { echo "close" >>$calls; }
procd_send_signal() { echo "signal $*" >>$calls; }
. ./openwrt/heartbeat
PROG=` + daemon + ` MKWATCHDOG=` + dir + `/mkwatchdog HA_DIR=` + hadir + `
"$1"
`
	if out, rc := run(t, nil, "sh", "-c", harness, "sh", "start_service"); rc != 0 {
		t.Fatalf("start_service: %d %s", rc, out)
	}
	if out, rc := run(t, nil, "sh", "-c", harness, "sh", "reload_service"); rc != 0 {
		t.Fatalf("reload_service: %d %s", rc, out)
	}
	calls, _ := os.ReadFile(dir + "/calls")
	want := "open\nset command " + daemon + " -f -c " + hadir + "\n"
	if !strings.HasPrefix(string(calls), want) || !strings.Contains(string(calls), "set respawn") ||
		!strings.Contains(string(calls), "close\nsignal heartbeat * HUP\n") {
		t.Errorf("procd calls:\n%s\nwant prefix:\n%s", calls, want)
	}
	if b, _ := os.ReadFile(log); !strings.Contains(string(b), "mkwatchdog") || !strings.Contains(string(b), "check -t") {
		t.Errorf("daemon/mkwatchdog log:\n%s", b)
	}
	os.WriteFile(dir+"/badconf", nil, 0o644)
	if _, rc := run(t, nil, "sh", "-c", harness, "sh", "start_service"); rc == 0 {
		t.Errorf("start_service with a bad configuration succeeded")
	}
}

// haDir writes a small /etc/ha.d with an authkeys of mode 0600.
func haDir(t *testing.T, watchdog bool) string {
	t.Helper()
	d := t.TempDir()
	cf := "node a b\nbcast eth1\n"
	if watchdog {
		cf += "watchdog /dev/watchdog\n"
	}
	os.WriteFile(d+"/ha.cf", []byte(cf), 0o644)
	os.WriteFile(d+"/haresources", []byte("a 10.0.0.1\n"), 0o644)
	os.WriteFile(d+"/authkeys", []byte("auth 1\n1 sha1 k\n"), 0o600)
	os.Mkdir(d+"/resource.d", 0o755)
	return d
}

// checkImageTree checks a hook's result under root.
func checkImageTree(t *testing.T, root string) {
	t.Helper()
	fi, err := os.Stat(root + "/usr/sbin/habox")
	if err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("usr/sbin/habox: %v %v", fi, err)
	}
	for _, n := range linkNames(t) {
		p := root + "/usr/sbin/" + n
		if got, err := filepath.EvalSymlinks(p); err != nil || got != root+"/usr/sbin/habox" {
			t.Errorf("%s resolves to %q, %v", p, got, err)
		}
	}
	if _, err := os.Lstat(root + "/usr/sbin/init"); err == nil {
		t.Errorf("usr/sbin/init in the image")
	}
	if fi, err := os.Stat(root + "/etc/ha.d/authkeys"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("etc/ha.d/authkeys: %v %v", fi, err)
	}
	for _, f := range []string{"ha.cf", "haresources"} {
		if _, err := os.Stat(root + "/etc/ha.d/" + f); err != nil {
			t.Error(err)
		}
	}
}

func TestInitramfsToolsHook(t *testing.T) {
	hook, err := os.ReadFile("initramfs-tools/hooks/habox")
	if err != nil {
		t.Fatal(err)
	}
	const real = ". /usr/share/initramfs-tools/hook-functions"
	if !bytes.Contains(hook, []byte(real)) {
		t.Fatalf("hook does not source %s", real)
	}
	dir := t.TempDir()
	// Stand-ins for initramfs-tools' helpers.
	stub := dir + "/hook-functions"
	os.WriteFile(stub, []byte(`
copy_exec() { mkdir -p "$DESTDIR$(dirname "$2")"; cp "$1" "$DESTDIR$2"; echo "copy_exec $*" >>"$CALLS"; }
manual_add_modules() { echo "modules $*" >>"$CALLS"; }
`), 0o644)
	h := filepath.Join(dir, "habox-hook")
	os.WriteFile(h, bytes.Replace(hook, []byte(real), []byte(". "+stub), 1), 0o755)
	if out, rc := run(t, nil, "sh", h, "prereqs"); rc != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("prereqs: %d %q", rc, out)
	}
	for _, wd := range []bool{false, true} {
		dest, calls := t.TempDir(), dir+"/calls"
		os.Remove(calls)
		env := []string{"DESTDIR=" + dest, "HABOX=" + bin, "HA_DIR=" + haDir(t, wd), "CALLS=" + calls}
		if out, rc := run(t, env, "sh", h); rc != 0 {
			t.Fatalf("hook: %d %s", rc, out)
		}
		checkImageTree(t, dest)
		c, _ := os.ReadFile(calls)
		if got := strings.Contains(string(c), "modules softdog"); got != wd {
			t.Errorf("watchdog=%v: softdog added = %v (%s)", wd, got, c)
		}
		// Run twice, as update-initramfs never does but a user might.
		if out, rc := run(t, env, "sh", h); rc != 0 {
			t.Fatalf("hook again: %d %s", rc, out)
		}
	}
	// Without habox installed the hook does nothing.
	dest := t.TempDir()
	if out, rc := run(t, []string{"DESTDIR=" + dest, "HABOX=/nonexistent"}, "sh", h); rc != 0 {
		t.Errorf("no habox: %d %s", rc, out)
	}
	if ents, _ := os.ReadDir(dest); len(ents) != 0 {
		t.Errorf("no habox: wrote %v", ents)
	}
}

func TestDracutModule(t *testing.T) {
	dir := t.TempDir()
	initdir := t.TempDir()
	// Stand-ins for dracut's helpers, then the module's functions.
	harness := `
initdir=` + initdir + `
require_binaries() { [ -x "$1" ]; }
inst_simple() { mkdir -p "$initdir$(dirname "$2")"; cp "$1" "$initdir$2"; }
inst_dir() { mkdir -p "$initdir$1"; }
ln_r() { ln -sr "$initdir$1" "$initdir$2"; }
instmods() { echo "instmods $*" >>` + dir + `/calls; }
. ./dracut/90habox/module-setup.sh
rc=0; check || rc=$?; echo "check=$rc"
installkernel
install
`
	env := []string{"HABOX=" + bin, "HA_DIR=" + haDir(t, true)}
	out, rc := run(t, env, "bash", "-c", "set -e; "+harness)
	if rc != 0 || !strings.Contains(out, "check=255") {
		t.Fatalf("module: %d %s", rc, out)
	}
	checkImageTree(t, initdir)
	if c, _ := os.ReadFile(dir + "/calls"); string(c) != "instmods softdog\n" {
		t.Errorf("instmods calls: %q", c)
	}
	env[0] = "HABOX=/nonexistent"
	if out, _ := run(t, env, "bash", "-c", harness); !strings.Contains(out, "check=1") {
		t.Errorf("check without habox: %s", out)
	}
}

func sum(data []byte) []byte { h := sha256.Sum256(data); return h[:] }

// TestSysVRealDaemon runs the SysV script against the built habox in a
// network namespace: start takes the service address, status/reload work,
// restart keeps it, stop releases it.
func TestSysVRealDaemon(t *testing.T) {
	ns := hwtest.NewNetns(t, "sysv")
	ns.Exec(t, "ip", "link", "add", "hb0", "type", "veth", "peer", "name", "hb1")
	ns.Exec(t, "ip", "addr", "add", "10.99.0.1/24", "brd", "+", "dev", "hb0")
	ns.Exec(t, "ip", "link", "set", "hb0", "up")
	ns.Exec(t, "ip", "link", "set", "hb1", "up")
	dir := t.TempDir()
	hadir := dir + "/ha.d"
	os.MkdirAll(hadir, 0o755)
	hacf := "logfile " + dir + "/ha-log\nlogfacility none\nuse_logd no\n" +
		"keepalive 200ms\ndeadtime 1\ninitdead 2\nudpport 694\nbcast hb0\nauto_failback off\nnode alpha beta\ncrm no\n"
	os.WriteFile(hadir+"/ha.cf", []byte(hacf), 0o644)
	os.WriteFile(hadir+"/haresources", []byte("alpha 10.99.0.50/24/hb0\n"), 0o644)
	os.WriteFile(hadir+"/authkeys", []byte("auth 1\n1 sha1 sysv-test-key\n"), 0o600)
	os.Symlink(bin, dir+"/heartbeat")
	env := []string{"HEARTBEAT=" + dir + "/heartbeat", "HA_DIR=" + hadir, "PIDFILE=" + dir + "/hb.pid",
		"HA_DEFAULTS=/nonexistent", "HA_NODENAME=alpha", "HA_VARLIB=" + dir, "HA_CTLSOCK=" + dir + "/ctl.sock", "STOP_WAIT=20"}
	initd := func(action string) (string, int) {
		return run(t, env, "ip", "netns", "exec", ns.Name, "sh", "init.d/heartbeat", action)
	}
	t.Cleanup(func() { initd("stop") })
	hasVIP := func() bool {
		out, _ := run(t, nil, "ip", "-n", ns.Name, "-4", "addr", "show", "dev", "hb0")
		return strings.Contains(out, "10.99.0.50/24")
	}
	waitVIP := func(want bool) {
		t.Helper()
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if hasVIP() == want {
				return
			}
		}
		b, _ := os.ReadFile(dir + "/ha-log")
		t.Fatalf("service address present = %v, want %v; log:\n%s", !want, want, b)
	}
	for _, s := range []struct {
		action string
		rc     int
		vip    int // 1: must hold the address afterwards, 0: must not, -1: don't check
	}{
		{"status", 3, 0},
		{"start", 0, 1},
		{"status", 0, 1},
		{"start", 0, 1},
		{"reload", 0, 1},
		{"restart", 0, 1},
		{"stop", 0, 0},
		{"status", 3, 0},
		{"reload", 7, 0},
	} {
		out, rc := initd(s.action)
		if rc != s.rc {
			b, _ := os.ReadFile(dir + "/ha-log")
			t.Fatalf("%s: exit %d, want %d\n%s\nlog:\n%s", s.action, rc, s.rc, out, b)
		}
		if strings.Contains(out, "effective configuration") {
			t.Errorf("%s: heartbeat -t output not silenced:\n%s", s.action, out)
		}
		if s.vip >= 0 {
			waitVIP(s.vip == 1)
		}
	}
	// A broken configuration is refused with LSB 6 (not configured).
	os.WriteFile(hadir+"/ha.cf", []byte("bogus directive\n"), 0o644)
	if out, rc := initd("start"); rc != 6 {
		t.Errorf("start with a bad ha.cf: exit %d, want 6\n%s", rc, out)
	}
	// An interface that a later boot script brings up does not block the
	// start (heartbeat waits for it); -t only warns about it.
	os.WriteFile(hadir+"/ha.cf", []byte(strings.Replace(hacf, "bcast hb0", "bcast late0", 1)), 0o644)
	if out, rc := initd("start"); rc != 0 {
		b, _ := os.ReadFile(dir + "/ha-log")
		t.Fatalf("start before its interface exists: exit %d, want 0\n%s\nlog:\n%s", rc, out, b)
	}
	ns.Exec(t, "ip", "link", "add", "late0", "type", "veth", "peer", "name", "late1")
	ns.Exec(t, "ip", "addr", "add", "10.98.0.1/24", "dev", "late0")
	ns.Exec(t, "ip", "link", "set", "late0", "up")
	waitVIP(true)
}

// TestInitramfsToolsReal runs the hook through Debian's own mkinitramfs
// when initramfs-tools and a kernel's modules are installed (make vmtest
// installs linux-image-amd64, which brings them), and lists the image.
func TestInitramfsToolsReal(t *testing.T) {
	hwtest.RequireRoot(t)
	mk, err := exec.LookPath("mkinitramfs")
	if err != nil {
		t.Skip("initramfs-tools not installed")
	}
	deps, _ := filepath.Glob("/lib/modules/*/modules.dep")
	if len(deps) == 0 {
		t.Skip("no kernel module tree")
	}
	kver := filepath.Base(filepath.Dir(deps[0]))
	conf := t.TempDir()
	os.MkdirAll(conf+"/hooks", 0o755)
	os.WriteFile(conf+"/initramfs.conf", []byte("MODULES=list\nBUSYBOX=auto\nCOMPRESS=gzip\nUMASK=0077\n"), 0o644)
	os.WriteFile(conf+"/modules", nil, 0o644)
	hook, _ := os.ReadFile("initramfs-tools/hooks/habox")
	os.WriteFile(conf+"/hooks/habox", hook, 0o755)
	img := filepath.Join(t.TempDir(), "initrd.img")
	out, rc := run(t, []string{"HABOX=" + bin, "HA_DIR=" + haDir(t, true)}, mk, "-d", conf, "-o", img, kver)
	if rc != 0 {
		t.Fatalf("mkinitramfs: %d\n%s", rc, out)
	}
	if fi, err := os.Stat(img); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("image %v %v: the secret in authkeys must not be readable by others", fi, err)
	}
	list, rc := run(t, nil, "lsinitramfs", img)
	if rc != 0 {
		t.Fatalf("lsinitramfs: %s", list)
	}
	for _, want := range []string{"usr/sbin/habox", "usr/sbin/heartbeat", "usr/sbin/IPaddr", "etc/ha.d/authkeys", "etc/ha.d/ha.cf", "softdog.ko"} {
		if !strings.Contains(list, want) {
			t.Errorf("image lacks %s", want)
		}
	}
}
