package resources

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"habox/conf"
	"habox/hw/hwtest"
	"habox/lab"
)

// TestRunProcessChatty: a script writing far more than the limits
// completes; the first MiB of stdout and the last stderr lines are kept.
func TestRunProcessChatty(t *testing.T) {
	for _, tt := range []struct {
		name, script string
		check        func(o Outcome) bool
	}{
		{"2 MB on stdout", `head -c 2000000 /dev/zero | tr '\0' x; exit 4`,
			func(o Outcome) bool {
				return len(o.Stdout) == MaxStdout && strings.Trim(o.Stdout, "x") == "" && o.Code == 4
			}},
		{"2 MB of stderr lines", `i=0; while [ $i -lt 40000 ]; do echo "line $i ........................................" >&2; i=$((i+1)); done; echo done`,
			func(o Outcome) bool {
				return o.Stdout == "done\n" && len(o.Stderr) == MaxStderrLines && strings.HasPrefix(o.Stderr[MaxStderrLines-1], "line 39999 ")
			}},
		{"one 2 MB stderr line", `head -c 2000000 /dev/zero | tr '\0' y >&2; echo >&2; echo last >&2`,
			func(o Outcome) bool {
				return len(o.Stderr) == 2 && len(o.Stderr[0]) == MaxStderrLine && o.Stderr[1] == "last"
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, err := RunProcess(Process{Path: "/bin/sh", Argv: []string{"sh", "-c", tt.script}, Timeout: time.Minute})
			if err != nil || o.TimedOut || !o.Truncated || !tt.check(o) {
				t.Fatalf("err %v timedout %v truncated %v code %d stdout %d bytes, %d stderr lines %.80q",
					err, o.TimedOut, o.Truncated, o.Code, len(o.Stdout), len(o.Stderr), o.Stderr)
			}
		})
	}
}

// TestRunProcessTimeoutKillsGroup: a script that outlives its timeout is
// killed with its whole process group: SIGTERM first, SIGKILL for what
// ignores it.
func TestRunProcessTimeoutKillsGroup(t *testing.T) {
	for _, tt := range []struct {
		name, script string
		minKill      time.Duration // SIGKILL needed: at least KillGrace
	}{
		{"obeys SIGTERM", `sleep 1000 & sleep 1000`, 0},
		{"ignores SIGTERM", `trap "" TERM; sleep 1000 & sleep 1000`, KillGrace},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			const timeout = time.Second
			t0 := time.Now()
			o, err := RunProcess(Process{Path: "/bin/sh", Argv: []string{"sh", "-c", "echo $$ >" + pidFile + "; " + tt.script}, Timeout: timeout})
			took := time.Since(t0)
			if err != nil || !o.TimedOut || o.Code != 128 {
				t.Fatalf("outcome %+v err %v", o, err)
			}
			if took < timeout+tt.minKill || took > timeout+KillGrace+5*time.Second {
				t.Fatalf("returned after %v", took)
			}
			b, _ := os.ReadFile(pidFile)
			pgid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if pgid <= 1 {
				t.Fatalf("pid file %q", b)
			}
			// Killed members that init has not reaped yet still count.
			for end := time.Now().Add(2 * time.Second); !GroupGone(pgid) && time.Now().Before(end); {
				time.Sleep(10 * time.Millisecond)
			}
			if !GroupGone(pgid) {
				t.Fatalf("process group %d still has members", pgid)
			}
		})
	}
}

// svcHang is svc with actions that hang when STATE_DIR/hang-ACTION-NAME
// exists.
const svcHang = `[ -e $STATE_DIR/hang-$2-$(basename $0) ] && exec sleep 1000
` + svc

// TestHangingActions: a start that times out is a failed start (the group
// is given up); a stop that times out is not retried and fences unless a
// (timely) status says the resource is not running.
func TestHangingActions(t *testing.T) {
	for _, tt := range []struct {
		name      string
		take      bool     // start the group first
		hang      []string // actions of b that hang
		op        Op
		wantFence bool
		wantLog   []string
		wantCalls string
	}{
		{"start hangs", false, []string{"start"}, Take, false,
			[]string{"b 2 start timed out after 2 s", "CRIT: Giving up resources due to failure of b::2"}, "start 1,stop 2,stop 1"},
		{"stop hangs, status says running", true, []string{"stop"}, Give, true,
			[]string{"b 2 stop timed out after 2 s", "CRIT: Resource STOP failure. Reboot required!"}, "start 1,start 2,stop 1"},
		{"stop and status hang", true, []string{"stop", "status"}, Give, true,
			[]string{"b 2 stop timed out", "CRIT: Resource STOP failure. Reboot required!"}, "start 1,start 2,stop 1"},
		{"stop hangs, status says stopped", true, []string{"stop"}, Give, false,
			[]string{"b 2 stop timed out", "Resource script for b::2 probably not LSB-compliant."}, "start 1,start 2,stop 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, l, dir := newRunner(t)
			script(t, r.ResourceDir, "b", svcHang)
			r.Timeout = 2 * time.Second
			var fenced []string
			r.StopFailed = func(rs string) { fenced = append(fenced, rs) }
			if tt.take {
				if res := r.Run(&Job{ID: 1, Steps: []Step{{Op: Take, Key: "a::1"}}}); len(res.Failed) != 0 {
					t.Fatalf("take: %s", l)
				}
			}
			for _, a := range tt.hang {
				os.WriteFile(filepath.Join(dir, "hang-"+a+"-b"), nil, 0o644)
			}
			if tt.name == "stop hangs, status says stopped" {
				os.Remove(filepath.Join(dir, "b.2"))
			}
			res := r.Run(&Job{ID: 2, Steps: []Step{{Op: tt.op, Key: "a::1"}}})
			if wantFailed := tt.op == Take || tt.wantFence; (len(res.Failed) == 1) != wantFailed {
				t.Fatalf("result %+v\n%s", res, l)
			}
			if (len(fenced) == 1) != tt.wantFence {
				t.Fatalf("fenced %v\n%s", fenced, l)
			}
			for _, w := range tt.wantLog {
				if !l.has(w) {
					t.Errorf("log lacks %q:\n%s", w, l)
				}
			}
			if l.has("Retrying failed stop operation [b::2]") {
				t.Errorf("a stop that timed out was retried:\n%s", l)
			}
			if got := calls(t, dir); got != tt.wantCalls {
				t.Errorf("calls %q, want %q", got, tt.wantCalls)
			}
		})
	}
}

// TestOutputTruncatedLogged: the runner says when it discarded output;
// a status script's stderr goes to debug (hblog escapes it).
func TestOutputTruncatedLogged(t *testing.T) {
	r, l, _ := newRunner(t)
	script(t, r.ResourceDir, "a", `printf 'bad\033[2Jline\n' >&2; head -c 1100000 /dev/zero; echo running`)
	if r.Owned(conf.Resource{Script: "a", Text: "a"}) {
		t.Fatal("the word running came after the first MiB: it must not be seen")
	}
	for _, w := range []string{"WARN: Output of " + r.ResourceDir + "/a status truncated", "debug a[", "]: bad\x1b[2Jline"} {
		if !l.has(w) {
			t.Errorf("log lacks %q:\n%s", w, l)
		}
	}
}

// BenchmarkRunProcessChatty: a start script writing 2 MB to stdout.
func BenchmarkRunProcessChatty(b *testing.B) {
	for i := 0; i < b.N; i++ {
		o, err := RunProcess(Process{Path: "/bin/sh", Argv: []string{"sh", "-c", `head -c 2000000 /dev/zero`}, Timeout: time.Minute})
		if err != nil || len(o.Stdout) != MaxStdout {
			b.Fatalf("%v %d", err, len(o.Stdout))
		}
	}
}

// BenchmarkKillAfterTimeout: how long after its timeout a hung script's
// process group is gone (SIGTERM obeyed), reported as kill-ms.
func BenchmarkKillAfterTimeout(b *testing.B) {
	const timeout = 50 * time.Millisecond
	var total time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		o, err := RunProcess(Process{Path: "/bin/sh", Argv: []string{"sh", "-c", "sleep 1000 & sleep 1000"}, Timeout: timeout})
		if err != nil || !o.TimedOut {
			b.Fatalf("%+v %v", o, err)
		}
		total += time.Since(t0) - timeout
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "kill-ms")
}

// TestScriptWithoutShebang: a script without a "#!" line runs through
// /bin/sh (execvp's ENOEXEC rule), with its arguments and $0.
func TestScriptWithoutShebang(t *testing.T) {
	for _, tt := range []struct{ name, text string }{
		{"#! line", "#!/bin/sh\n" + svc},
		{"no #! line", svc},
		{"comment first", "# old-style init script\n" + svc},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, l, dir := newRunner(t)
			if err := os.WriteFile(filepath.Join(r.ResourceDir, "b"), []byte(tt.text), 0o755); err != nil {
				t.Fatal(err)
			}
			r.Run(&Job{ID: 1, Steps: []Step{{Op: Take, Key: "a::1"}}})
			owned := r.Owned(conf.Resource{Script: "b", Args: []string{"2"}})
			r.Run(&Job{ID: 2, Steps: []Step{{Op: Give, Key: "a::1"}}})
			if got := calls(t, dir); !owned || got != "start 1,start 2,stop 2,stop 1" || l.has("ERROR") {
				t.Fatalf("owned %v calls %q\n%s", owned, got, l)
			}
		})
	}
}

// TestForeignBinaryNotRunByShell: a binary the kernel cannot run (here an
// ELF header for no known machine; in the field a binary for another CPU)
// fails to start; it is not handed to /bin/sh, which would run its bytes
// as commands.
func TestForeignBinaryNotRunByShell(t *testing.T) {
	r, _, dir := newRunner(t)
	ran := filepath.Join(dir, "ran")
	if err := os.WriteFile(filepath.Join(r.ResourceDir, "b"), []byte("\x7fELF >"+ran+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	o, err := RunProcess(Process{Path: filepath.Join(r.ResourceDir, "b"), Argv: []string{"b", "start"}})
	if err == nil || !errors.Is(err, syscall.ENOEXEC) {
		t.Errorf("got %+v, %v; want exec format error", o, err)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("the shell ran the binary's bytes as commands")
	}
}

// TestScriptDiesWithDaemon: a script still running when the process that
// started it is killed -9 is killed too; it would otherwise finish a
// start or stop behind the back of the next heartbeat. The test runs
// itself as that process.
func TestScriptDiesWithDaemon(t *testing.T) {
	if f := os.Getenv("HABOX_TEST_SCRIPT_PID"); f != "" {
		RunProcess(Process{Path: "/bin/sh", Argv: []string{"sh", "-c", "echo $$ >" + f + ".new && mv " + f + ".new " + f + " && sleep 1000"}, Timeout: time.Minute})
		os.Exit(3)
	}
	hwtest.SkipUnderEmulator(t, "re-executes the test binary, which needs qemu registered with binfmt_misc")
	pidFile := filepath.Join(t.TempDir(), "pid")
	cmd := exec.Command(os.Args[0], "-test.run=^TestScriptDiesWithDaemon$")
	cmd.Env = append(os.Environ(), "HABOX_TEST_SCRIPT_PID="+pidFile)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	var pid int
	for end := time.Now().Add(10 * time.Second); pid == 0 && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if pid <= 1 {
		t.Fatal("the script did not start")
	}
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) }) // its sleep, which is not ours to kill
	cmd.Process.Kill()
	for end := time.Now().Add(5 * time.Second); !lab.ProcessGone(pid) && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if !lab.ProcessGone(pid) {
		t.Fatalf("script %d outlived the process that ran it", pid)
	}
}
