package resources

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"habox/applets/cli"
	"habox/applets/ipaddr"
	"habox/conf"
	"habox/hw/hwtest"
	"habox/lab"
)

// TestMain lets the test binary act as the habox binary when IPaddr run
// in-process starts its background announcer (/proc/self/exe).
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "IPaddr" {
		os.Exit(ipaddr.Applet.Run(cli.OSEnv(), os.Args[1:]))
	}
	os.Exit(m.Run())
}

const inProcChild = "HABOX_INPROC_TEST_CHILD"

// The built-in IPaddr run in the daemon's process gives the same log
// lines (but the pid in the tag) and the same results as the habox
// binary run as a process: take and give a group in a network namespace
// with the shorthand (no resource.d script), with resource.d/IPaddr a
// link to habox (also in-process), and with the exec path. The test
// re-executes itself inside the namespace so that every thread of the
// in-process runs is in it.
func TestInProcessIPaddrMatchesExec(t *testing.T) {
	if os.Getenv(inProcChild) != "" {
		inProcessChild(t)
		return
	}
	hwtest.SkipUnderEmulator(t, "re-executes the test binary, which needs qemu registered with binfmt_misc")
	hwtest.RequireRoot(t)
	bin := lab.HaboxBin(t)
	ns := hwtest.NewNetns(t, "speedip")
	peer := hwtest.NewNetns(t, "speedpe")
	hwtest.Veth(t, ns, "eth0", "192.0.2.10/24", peer, "eth0", "192.0.2.20/24")
	ns.WaitUp(t, "eth0")
	cmd := ns.Command(os.Args[0], "-test.run=^TestInProcessIPaddrMatchesExec$", "-test.v")
	cmd.Env = append(os.Environ(), inProcChild+"=1", "HABOX_BIN="+bin)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
		}
	}()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

var pidTag = regexp.MustCompile(`\[[0-9]+\]`)

func inProcessChild(t *testing.T) {
	bin := os.Getenv("HABOX_BIN")
	g := conf.Group{Key: "192.0.2.99", Node: "alice", Resources: []conf.Resource{
		{Text: "192.0.2.99/24/eth0", Script: "IPaddr", Args: []string{"192.0.2.99/24/eth0"}}}}
	type result struct {
		log          string
		took, gave   bool
		held, second bool
		tags         []string
	}
	run := func(mode string) result {
		dir := t.TempDir()
		rd := filepath.Join(dir, "resource.d")
		os.Mkdir(rd, 0o755)
		if mode == "link" || mode == "linkexec" {
			if err := os.Symlink(bin, filepath.Join(rd, "IPaddr")); err != nil {
				t.Fatal(err)
			}
		}
		lg := &memLog{}
		r := &Runner{Groups: map[string]conf.Group{g.Key: g}, ResourceDir: rd, InitDirs: []string{}, Self: bin,
			Env: []string{"HABOX_RUNDIR=" + filepath.Join(dir, "run"), "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, Log: lg}
		if mode == "builtin" || mode == "link" {
			r.Builtins = map[string]AppletRun{"IPaddr": ipaddr.Applet.Run}
		}
		var res result
		res.took = r.TakeGroup(g.Key)
		res.held = r.Owned(g.Resources[0])
		res.second = r.TakeGroup(g.Key) // already running: status says so, no start
		res.gave = r.GiveGroup(g.Key)
		if r.Owned(g.Resources[0]) {
			t.Errorf("%s: address still there after the release", mode)
		}
		res.tags = pidTag.FindAllString(lg.String(), -1)
		res.log = pidTag.ReplaceAllString(lg.String(), "[PID]")
		res.log = strings.ReplaceAll(res.log, rd, "RD")
		return res
	}
	ex, in, lx, ln := run("exec"), run("builtin"), run("linkexec"), run("link")
	self := "[" + strconv.Itoa(os.Getpid()) + "]"
	for name, r := range map[string]result{"exec": ex, "builtin": in, "linkexec": lx, "link": ln} {
		if !r.took || !r.held || !r.second || !r.gave || len(r.tags) == 0 {
			t.Errorf("%s: took %v held %v second take %v gave %v tags %v\n%s", name, r.took, r.held, r.second, r.gave, r.tags, r.log)
		}
		for _, tag := range r.tags {
			if (tag == self) != (name == "builtin" || name == "link") {
				t.Errorf("%s: tag %s, this process is %s: wrong path taken", name, tag, self)
			}
		}
	}
	if in.log != ex.log {
		t.Errorf("in-process log differs from the exec path:\n--- exec\n%s\n--- in-process\n%s", ex.log, in.log)
	}
	if ln.log != lx.log {
		t.Errorf("resource.d/IPaddr -> habox: in-process log differs from the exec path:\n--- exec\n%s\n--- in-process\n%s", lx.log, ln.log)
	}
	t.Logf("log (all paths):\n%s", ex.log)
}
