package hainit

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"habox/applets/cli"
	"habox/hw/boot"
	"habox/hw/hwtest"
)

func TestMain(m *testing.M) {
	// The root test runs this binary as PID 1 of new namespaces.
	if os.Getenv("HAINIT_PID1") == "1" && os.Getpid() == 1 {
		os.Exit(Applet.Run(cli.OSEnv(), os.Args[1:]))
	}
	os.Exit(m.Run())
}

func TestParseCmdline(t *testing.T) {
	b := ParseCmdline(strings.Fields("BOOT_IMAGE=/vmlinuz console=ttyS0 habox.node=node1 quiet " +
		"habox.ip=eth1:10.78.0.1/24,eth0:10.77.0.1/24 habox.ip=eth2:bad habox.run=/etc/x.rc habox.ctl=/dev/ttyS2 habox.foo=1 habox.node=node2"))
	want := Boot{
		Node: "node2",
		Addrs: []IfAddr{
			{If: "eth1", Prefix: netip.MustParsePrefix("10.78.0.1/24")},
			{If: "eth0", Prefix: netip.MustParsePrefix("10.77.0.1/24")},
		},
		Script: "/etc/x.rc",
		Ctl:    "/dev/ttyS2",
		Extra:  []string{"habox.foo=1"},
	}
	if len(b.Errs) != 1 || !strings.Contains(b.Errs[0].Error(), "eth2:bad") {
		t.Errorf("Errs = %v", b.Errs)
	}
	b.Errs = nil
	if !reflect.DeepEqual(b, want) {
		t.Errorf("ParseCmdline = %+v\nwant %+v", b, want)
	}
	if d := ParseCmdline(nil); d.Script != DefaultScript || d.Node != "" {
		t.Errorf("defaults: %+v", d)
	}
}

func TestParseIfAddr(t *testing.T) {
	for _, tc := range []struct {
		in, bcast string
		ok        bool
	}{
		{"eth1:10.78.0.1/24", "10.78.0.255", true},
		{"lo:127.0.0.2/8", "127.255.255.255", true},
		{"eth0:192.168.85.3/27", "192.168.85.31", true},
		{"eth0:10.0.0.1/32", "10.0.0.1", true},
		{"eth0:10.0.0.1", "", false},
		{":10.0.0.1/8", "", false},
		{"eth0:fe80::1/64", "", false},
		{"averyveryverylongname:10.0.0.1/8", "", false},
		{"", "", false},
	} {
		a, err := ParseIfAddr(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseIfAddr(%q) error %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && Broadcast(a.Prefix).String() != tc.bcast {
			t.Errorf("Broadcast(%v) = %v, want %s", a.Prefix, Broadcast(a.Prefix), tc.bcast)
		}
	}
}

func TestParseScript(t *testing.T) {
	cmds, err := ParseScript(`# boot
mkwatchdog -t   # comment
bg heartbeat -f

sleep 1500ms
kill STOP heartbeat
wait heartbeat
echo done
ip eth1 10.0.0.1/24
poweroff
ip eth2 10.0.0.2/24 nobrd
`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cmds {
		got = append(got, cli.Itoa(c.Line)+" "+c.Op+" "+strings.Join(c.Args, " "))
	}
	want := []string{"2 run mkwatchdog -t", "3 bg heartbeat -f", "5 sleep 1500ms", "6 kill STOP heartbeat",
		"7 wait heartbeat", "8 echo done", "9 ip eth1 10.0.0.1/24", "10 poweroff ", "11 ip eth2 10.0.0.2/24 nobrd"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if cmds[2].Dur != 1500*time.Millisecond {
		t.Errorf("sleep duration %v", cmds[2].Dur)
	}
	_, err = ParseScript("bg\nsleep x\nsleep -1s\nkill FOO x\nkill TERM\nwait\nip eth0 1.2.3.4\npoweroff now\nok\nip eth0 1.2.3.4/24 brd\n")
	if err == nil {
		t.Fatal("bad script accepted")
	}
	for _, n := range []string{"line 1", "line 2", "line 3", "line 4", "line 5", "line 6", "line 7", "line 8", "line 10"} {
		if !strings.Contains(err.Error(), n+":") {
			t.Errorf("no error for %s in:\n%v", n, err)
		}
	}
	if strings.Contains(err.Error(), "line 9") {
		t.Errorf("line 9 is fine: %v", err)
	}
}

func FuzzParseScript(f *testing.F) {
	f.Add("bg heartbeat -f\nsleep 1s\nkill STOP heartbeat\n")
	f.Add("habox.ip=eth1:10.0.0.1/24 habox.node=a")
	f.Add("ip eth0 10.0.0.1/24 # x\nwait x\npoweroff")
	f.Fuzz(func(t *testing.T, s string) {
		ParseScript(s)
		ParseCmdline(strings.Fields(s))
	})
}

// fakeSys records what init asks of the kernel and reaps real children
// (started from the test's scripts) without blocking.
type fakeSys struct {
	mu      sync.Mutex
	in      *Init
	calls   []string
	stopped atomic.Bool
	cmdline string
	modules []string
}

func (f *fakeSys) rec(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeSys) MountAll() []error { f.rec("mount"); return nil }
func (f *fakeSys) Cmdline() ([]string, error) {
	return strings.Fields(f.cmdline), nil
}
func (f *fakeSys) Sethostname(n string) error { f.rec("hostname " + n); return nil }
func (f *fakeSys) Modules() ([]string, error) {
	if f.modules == nil {
		return nil, os.ErrNotExist
	}
	return f.modules, nil
}
func (f *fakeSys) LoadModule(p, params string) error {
	f.rec("insmod " + p + " " + params)
	if strings.Contains(p, "loaded") {
		return os.ErrExist
	}
	return nil
}
func (f *fakeSys) LinkUp(n string) error {
	f.rec("up " + n)
	if n == "nope" {
		return errors.New("no such interface")
	}
	return nil
}
func (f *fakeSys) AddAddr(a IfAddr) error {
	if a.NoBrd {
		f.rec("addr " + a.If + " " + a.Prefix.String() + " nobrd")
		return nil
	}
	f.rec("addr " + a.If + " " + a.Prefix.String())
	return nil
}
func (f *fakeSys) Reap() (boot.Exit, error) {
	for !f.stopped.Load() {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == nil && pid > 0 {
			return boot.Exit{Pid: pid, Status: syscall.WaitStatus(ws)}, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return boot.Exit{}, unix.ECHILD
}
func (f *fakeSys) Kill(pid int, sig syscall.Signal) error {
	if pid > 0 {
		return unix.Kill(pid, sig)
	}
	f.rec("killall " + sig.String())
	pids := f.in.allPids()
	if len(pids) == 0 {
		return syscall.ESRCH
	}
	for _, p := range pids {
		unix.Kill(p, sig)
	}
	return nil
}
func (f *fakeSys) Reboot(cmd int) error { f.rec("reboot " + cli.Itoa(cmd)); return nil }

// newTest returns an init over a fake system whose applets are
// /bin/echo (so "heartbeat -f" prints "-f"), with its console in a buffer.
func newTest(t *testing.T, cmdline string) (*Init, *fakeSys, *syncBuf) {
	f := &fakeSys{cmdline: cmdline}
	con := &syncBuf{}
	in := New(f, "/bin/echo", &cli.Env{Stdout: con, Stderr: con})
	f.in = in
	t.Cleanup(func() { f.stopped.Store(true) })
	return in, f, con
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func writeScript(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "rc")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMainBootAndScript(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "marker")
	rc := writeScript(t, `echo booting
bg /bin/sleep 30
bg /bin/sleep 31
/bin/false
/bin/touch `+marker+`
/nonexistent/prog
kill STOP sleep
kill CONT sleep
kill TERM sleep
wait sleep
kill TERM sleep
ip nope 10.0.0.1/24
echo end
`)
	in, f, con := newTest(t, "console=ttyS0 habox.node=node1 habox.ip=eth1:10.78.0.1/24 habox.run="+rc)
	f.modules = []string{"kernel/a.ko", "", "# comment", "kernel/loaded.ko", "kernel/b.ko opt=1 x=2"}
	done := make(chan int)
	go func() { done <- in.Main(nil) }()
	var cmd int
	select {
	case cmd = <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("Main did not return; console:\n%s", con)
	}
	if cmd != boot.PowerOff {
		t.Errorf("shutdown command %d, want PowerOff", cmd)
	}
	out := con.String()
	for _, want := range []string{
		"init: booting\n",
		"init: started /bin/sleep 30",
		"init: /bin/false: exit 1\n",
		"init: /bin/touch " + marker + ": exit 0\n",
		"/nonexistent/prog: exit 127\n",
		"kill: no sleep running",
		"init: nope 10.0.0.1/24: no such interface",
		"init: end\n",
		"init: nothing left to run\n",
		"init: powering off\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("foreground command did not run: %v", err)
	}
	f.mu.Lock()
	calls := strings.Join(f.calls, "\n")
	f.mu.Unlock()
	wantCalls := "mount\ninsmod kernel/a.ko \ninsmod kernel/loaded.ko \ninsmod kernel/b.ko opt=1 x=2\nhostname node1\nup lo\nup eth1\naddr eth1 10.78.0.1/24\nup nope\nkillall terminated\nkillall killed\nreboot " + cli.Itoa(boot.PowerOff)
	if calls != wantCalls {
		t.Errorf("calls:\n%s\nwant:\n%s", calls, wantCalls)
	}
}

func TestMainWaitsForBackground(t *testing.T) {
	rc := writeScript(t, "bg /bin/sleep 0.3\nbg heartbeat -f\n")
	in, _, con := newTest(t, "habox.run="+rc)
	start := time.Now()
	if cmd := in.Main(nil); cmd != boot.PowerOff {
		t.Errorf("cmd %d", cmd)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("returned after %v, before the background sleep ended", d)
	}
	// The applet ran as exe (/bin/echo) with argv[0] = its name.
	if !strings.Contains(con.String(), "-f\n") {
		t.Errorf("applet output missing:\n%s", con)
	}
}

func TestMainRebootCommand(t *testing.T) {
	rc := writeScript(t, "bg /bin/sleep 30\nreboot\necho never\n")
	in, f, con := newTest(t, "habox.run="+rc)
	if cmd := in.Main(nil); cmd != boot.Restart {
		t.Errorf("cmd %d, want Restart", cmd)
	}
	if strings.Contains(con.String(), "never") {
		t.Errorf("ran past reboot:\n%s", con)
	}
	if !strings.Contains(strings.Join(f.calls, " "), "killall terminated") {
		t.Errorf("processes not stopped: %v", f.calls)
	}
}

func TestControlChannel(t *testing.T) {
	dir := t.TempDir()
	ctl := filepath.Join(dir, "ctl")
	// A regular file as the channel: commands in, answers appended.
	os.WriteFile(ctl, []byte("/bin/echo hello world\n\n/nonexistent x\nsleep x\n/bin/sh -c false\npoweroff\n"), 0o644)
	in, _, _ := newTest(t, "habox.run=/nonexistent habox.ctl="+ctl)
	if cmd := in.Main(nil); cmd != boot.PowerOff {
		t.Errorf("cmd %d", cmd)
	}
	b, _ := os.ReadFile(ctl)
	out := string(b)
	for _, want := range []string{"hello world\n@@rc 0\n", "/nonexistent: fork/exec /nonexistent: no such file or directory\n@@rc 127\n", "sleep: bad duration x\n@@rc 2\n", "@@rc 1\n@@rc 0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("channel lacks %q:\n%s", want, out)
		}
	}
}

func TestSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"TERM": syscall.SIGTERM, "sigstop": syscall.SIGSTOP, "9": syscall.SIGKILL, "CONT": syscall.SIGCONT} {
		if s, err := Signal(in); err != nil || s != want {
			t.Errorf("Signal(%q) = %v, %v", in, s, err)
		}
	}
	for _, bad := range []string{"", "FOO", "99", "-1"} {
		if _, err := Signal(bad); err == nil {
			t.Errorf("Signal(%q) accepted", bad)
		}
	}
}

func TestNotPID1(t *testing.T) {
	var errb bytes.Buffer
	if rc := Applet.Run(&cli.Env{Stderr: &errb}, nil); rc != 1 || !strings.Contains(errb.String(), "process 1") {
		t.Errorf("rc %d, %q", rc, errb.String())
	}
}

// TestPID1 runs init for real as process 1 of new PID, mount, UTS and
// network namespaces: hostname, loopback address, orphan reaping, signals
// to background processes, and the final power-off (which, in a PID
// namespace, ends the namespace's init with SIGINT).
func TestPID1(t *testing.T) {
	hwtest.RequireRoot(t)
	unshare := hwtest.RequireCmd(t, "unshare")
	dir := t.TempDir()
	helper := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755)
		return p
	}
	orphan := helper("orphan.sh", "(sleep 0.2; exit 0) & exit 0")
	// A user's kill -ABRT/-SEGV/... 1 must not kill init (a kernel panic
	// on a real box).
	faults := helper("faults.sh", "for s in ABRT SEGV BUS FPE ILL SYS; do kill -$s 1 || echo kill-$s-failed; sleep 0.05; done; echo init-survived=$(cat /proc/1/comm)")
	zombies := helper("zombies.sh", "sleep 0.5; n=0; for s in /proc/[0-9]*/stat; do case $(cat $s 2>/dev/null) in *') Z '*) n=$((n+1));; esac; done; echo zombies=$n; echo pid1=$(cat /proc/1/comm)")
	rc := writeScript(t, `echo hello from init
/bin/cat /proc/sys/kernel/hostname
`+orphan+`
`+orphan+`
`+zombies+`
`+faults+`
bg /bin/sleep 30
kill TERM sleep
wait sleep
ip lo 127.0.0.2/8
/sbin/ip -4 -o addr show dev lo
poweroff
`)
	self, _ := os.Executable()
	cmd := exec.Command(unshare, "--pid", "--fork", "--mount", "--uts", "--net", "--propagation", "private", "--mount-proc",
		self, "habox.node=hainit-test", "habox.run="+rc)
	cmd.Env = append(os.Environ(), "HAINIT_PID1=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Start()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("init did not power off:\n%s", out.String())
	}
	o := out.String()
	for _, want := range []string{"init: hello from init\n", "hainit-test\n", "zombies=0\n", "127.0.0.2/8",
		"init-survived=", "faults.sh: exit 0",
		"init: powering off\n", "/bin/sleep 30", "init: wait"} {
		if want == "init: wait" {
			continue
		}
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	// reboot(POWER_OFF) in a PID namespace kills its init with SIGINT.
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(ee.String(), "interrupt") && ee.ExitCode() != 130 {
		t.Errorf("unshare ended with %v, want init killed by SIGINT", err)
	}
}

// blockingSys reaps as soon as a child ends (Wait4 without WNOHANG), so
// a short child may be collected before runWait looks at it: its exit
// code must still be the one reported (TestControlChannel once saw
// "/bin/sh -c false" answer rc 0 when its child was reaped first).
type blockingSys struct{ fakeSys }

func (f *blockingSys) Reap() (boot.Exit, error) {
	if f.stopped.Load() {
		return boot.Exit{}, unix.ECHILD
	}
	var ws unix.WaitStatus
	pid, err := unix.Wait4(-1, &ws, 0, nil)
	if err != nil {
		return boot.Exit{}, err
	}
	return boot.Exit{Pid: pid, Status: syscall.WaitStatus(ws)}, nil
}

func TestRunCodeOfShortChild(t *testing.T) {
	f := &blockingSys{}
	in := New(f, "/bin/echo", &cli.Env{})
	f.in = in
	t.Cleanup(func() { f.stopped.Store(true) })
	go in.reap()
	for i := 0; i < 50; i++ {
		var out syncBuf
		done := make(chan int, 1)
		go func() { code, _ := in.Exec(Cmd{Op: "run", Args: []string{"/bin/false"}}, &out); done <- code }()
		select {
		case code := <-done:
			if code != 1 {
				t.Fatalf("run %d: /bin/false: code %d, output %q", i, code, out.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("run %d: /bin/false not reaped in 10 s", i)
		}
	}
}
