package resources

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"habox/applets/internal/hblog"
	"habox/conf"
)

type memLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *memLog) add(p, s string)       { l.mu.Lock(); l.lines = append(l.lines, p+s); l.mu.Unlock() }
func (l *memLog) Info(s string)         { l.add("info: ", s) }
func (l *memLog) Warn(s string)         { l.add("WARN: ", s) }
func (l *memLog) Error(s string)        { l.add("ERROR: ", s) }
func (l *memLog) Crit(s string)         { l.add("CRIT: ", s) }
func (l *memLog) Debug(n int, s string) { l.add("debug: ", s) }
func (l *memLog) Tagged(tag string, p hblog.Priority, s string) {
	l.add(p.String()+" ", tag+": "+s)
}
func (l *memLog) String() string    { return strings.Join(l.lines, "\n") }
func (l *memLog) has(s string) bool { return strings.Contains(l.String(), s) }

func TestStatusOwned(t *testing.T) {
	for _, c := range []struct {
		out  string
		want bool
	}{
		{"", false},
		{"Running OK\n", true},
		{"INFO:  Running OK", true},
		{"svc is running", true},
		{"svc is not running", false},
		{"svc is NOT Running", false},
		{"stopped", false},
		{"OK", true},
		{"ERROR: OK?", true},
		{"notrunning", true}, // no space after "not": the glob does not match
	} {
		if got := StatusOwned(c.out); got != c.want {
			t.Errorf("StatusOwned(%q) = %v", c.out, got)
		}
	}
}

// script writes an LSB-ish shell script that records its calls in a
// state file.
func script(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

const svc = `state=$STATE_DIR/$(basename $0).$1
case "$2" in
start) [ -e $STATE_DIR/fail-start-$(basename $0) ] && { echo boom >&2; exit 1; }; touch $state; echo "start $1" >> $STATE_DIR/calls;;
stop) [ -e $STATE_DIR/fail-stop-$(basename $0) ] && exit 1; rm -f $state; echo "stop $1" >> $STATE_DIR/calls;;
status) [ -e $state ] && echo running || echo "is not running";;
esac
`

func newRunner(t *testing.T) (*Runner, *memLog, string) {
	dir := t.TempDir()
	rd := filepath.Join(dir, "resource.d")
	os.Mkdir(rd, 0o755)
	script(t, rd, "a", svc)
	script(t, rd, "b", svc)
	g := conf.Group{Node: "alice", Key: "a::1", Resources: []conf.Resource{
		{Script: "a", Args: []string{"1"}, Text: "a::1"},
		{Script: "b", Args: []string{"2"}, Text: "b::2"},
	}}
	l := &memLog{}
	r := &Runner{Groups: map[string]conf.Group{g.Key: g}, ResourceDir: rd, InitDirs: []string{},
		Env: []string{"STATE_DIR=" + dir, "PATH=/usr/bin:/bin"}, Log: l, StopRetries: 2, RetryDelay: 1}
	return r, l, dir
}

func calls(t *testing.T, dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "calls"))
	return strings.TrimSuffix(strings.ReplaceAll(string(b), "\n", ","), ",")
}

func TestTakeGiveOrder(t *testing.T) {
	r, l, dir := newRunner(t)
	if res := r.Run(&Job{ID: 1, Steps: []Step{{Op: Take, Key: "a::1"}}}); len(res.Failed) != 0 {
		t.Fatalf("take failed: %s", l)
	}
	// Already running resources are not started again.
	r.Run(&Job{ID: 2, Steps: []Step{{Op: Take, Key: "a::1"}}})
	r.Run(&Job{ID: 3, Steps: []Step{{Op: Give, Key: "a::1"}}})
	if got := calls(t, dir); got != "start 1,start 2,stop 2,stop 1" {
		t.Fatalf("calls %q\n%s", got, l)
	}
	for _, want := range []string{"info: Acquiring resource group: alice a::1 b::2",
		"info: Running " + r.ResourceDir + "/a 1 start", "info: Releasing resource group: alice a::1 b::2"} {
		if !l.has(want) {
			t.Errorf("log lacks %q:\n%s", want, l)
		}
	}
}

func TestStartFailureStopsGroup(t *testing.T) {
	r, l, dir := newRunner(t)
	os.WriteFile(filepath.Join(dir, "fail-start-b"), nil, 0o644)
	res := r.Run(&Job{ID: 1, Steps: []Step{{Op: Take, Key: "a::1"}}})
	if len(res.Failed) != 1 {
		t.Fatalf("result %+v", res)
	}
	if got := calls(t, dir); got != "start 1,stop 2,stop 1" {
		t.Fatalf("calls %q", got)
	}
	for _, want := range []string{"ERROR: Return code 1 from " + r.ResourceDir + "/b", "CRIT: Giving up resources due to failure of b::2", "]: ERROR: boom"} {
		if !l.has(want) {
			t.Errorf("log lacks %q:\n%s", want, l)
		}
	}
}

func TestStopFailureFences(t *testing.T) {
	r, l, dir := newRunner(t)
	r.Run(&Job{ID: 1, Steps: []Step{{Op: Take, Key: "a::1"}}})
	os.WriteFile(filepath.Join(dir, "fail-stop-a"), nil, 0o644)
	var fenced []string
	r.StopFailed = func(rs string) { fenced = append(fenced, rs) }
	res := r.Run(&Job{ID: 2, Steps: []Step{{Op: Give, Key: "a::1"}}})
	if len(res.Failed) != 1 || len(fenced) != 1 || fenced[0] != "a::1" {
		t.Fatalf("res %+v fenced %v\n%s", res, fenced, l)
	}
	if strings.Count(l.String(), "Retrying failed stop operation [a::1]") != 2 || !l.has("CRIT: Resource STOP failure. Reboot required!") {
		t.Fatalf("log:\n%s", l)
	}
}

func TestLocateIPaddr(t *testing.T) {
	r, _, _ := newRunner(t)
	r.Self = "/usr/sbin/habox"
	if p, builtin, ok := r.Locate("IPaddr"); !ok || !builtin || p != "/usr/sbin/habox" {
		t.Fatalf("builtin IPaddr: %s %v %v", p, builtin, ok)
	}
	script(t, r.ResourceDir, "IPaddr", "echo user\n")
	if p, builtin, ok := r.Locate("IPaddr"); !ok || builtin || p != filepath.Join(r.ResourceDir, "IPaddr") {
		t.Fatalf("user IPaddr must win: %s %v %v", p, builtin, ok)
	}
	if p, builtin, ok := r.Locate("IPv6addr"); !ok || !builtin || p != "/usr/sbin/habox" {
		t.Fatalf("builtin IPv6addr: %s %v %v", p, builtin, ok)
	}
	if _, _, ok := r.Locate("nosuch"); ok {
		t.Fatal("found a missing script")
	}
}

func TestBuiltinArgv0(t *testing.T) {
	r, _, _ := newRunner(t)
	r.Self = "/usr/sbin/habox"
	var gotArgv []string
	r.Exec = func(p Process) (Outcome, error) {
		gotArgv = p.Argv
		return Outcome{Stdout: "Running OK\n"}, nil
	}
	if !r.Owned(conf.Resource{Script: "IPaddr", Args: []string{"10.0.0.5/24/eth0"}}) {
		t.Fatal("not owned")
	}
	if strings.Join(gotArgv, " ") != "IPaddr 10.0.0.5/24/eth0 status" {
		t.Fatalf("argv %q", gotArgv)
	}
}

func TestRunProcessBackgroundChild(t *testing.T) {
	o, err := RunProcess(Process{Path: "/bin/sh", Argv: []string{"sh", "-c", "echo hi; sleep 5 & exit 3"}, Timeout: time.Minute})
	if err != nil || o.Code != 3 || o.Stdout != "hi\n" || o.TimedOut {
		t.Fatalf("outcome %+v err %v", o, err)
	}
}

func TestRefreshGroup(t *testing.T) {
	g := conf.Group{Node: "alice", Key: "10.0.0.5", Resources: []conf.Resource{
		{Script: "IPaddr", Args: []string{"10.0.0.5"}, Text: "10.0.0.5"},
		{Script: "svc", Text: "svc"},
	}}
	for _, tt := range []struct {
		name       string
		userScript bool
		want       string
	}{
		{"built-in IPaddr re-announces without touching the address", false, "IPaddr 10.0.0.5 announce"},
		{"a user's own resource.d/IPaddr is restarted", true, "IPaddr 10.0.0.5 stop,IPaddr 10.0.0.5 start"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := &memLog{}
			dir := t.TempDir()
			if tt.userScript {
				if err := os.WriteFile(filepath.Join(dir, "IPaddr"), []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			var calls []string
			r := &Runner{Groups: map[string]conf.Group{g.Key: g}, ResourceDir: dir, InitDirs: []string{},
				Self: "/bin/habox", Log: l,
				Exec: func(p Process) (Outcome, error) {
					calls = append(calls, filepath.Base(p.Argv[0])+" "+strings.Join(p.Argv[1:], " "))
					return Outcome{}, nil
				}}
			if res := r.Run(&Job{ID: 1, Steps: []Step{{Op: Refresh, Key: g.Key}}}); len(res.Failed) != 0 {
				t.Fatalf("refresh failed: %s", l)
			}
			if got := strings.Join(calls, ","); got != tt.want {
				t.Fatalf("calls %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStderrLogged: a script's stderr lines reach the log under its tag,
// at their ocf_log level, at ERROR when the action failed, else at debug.
func TestStderrLogged(t *testing.T) {
	ip := conf.Resource{Script: "IPaddr", Args: []string{"10.0.0.5/24/eth9"}, Text: "IPaddr::10.0.0.5/24/eth9"}
	svc := conf.Resource{Script: "svc", Text: "svc"}
	for _, tt := range []struct {
		name   string
		rs     conf.Resource
		act    string
		stderr []string
		code   int
		want   []string
	}{
		{"IPaddr start", ip, "start", []string{"INFO: ifconfig eth0:0 10.0.0.5 netmask 255.255.255.0 broadcast 10.0.0.255", "WARNING: announcement: network is down"}, 0,
			[]string{"info IPaddr(IPaddr_10.0.0.5)[42]: INFO: ifconfig eth0:0 10.0.0.5", "WARN IPaddr(IPaddr_10.0.0.5)[42]: WARNING: announcement: network is down"}},
		{"IPaddr linked into resource.d", ip, "stop", []string{"INFO: IP Address 10.0.0.5 released"}, 0,
			[]string{"info IPaddr(IPaddr_10.0.0.5)[42]: INFO: IP Address 10.0.0.5 released"}},
		{"IPaddr bad interface", ip, "start", []string{"ERROR: eth9: unknown interface"}, 2,
			[]string{"ERROR IPaddr(IPaddr_10.0.0.5)[42]: ERROR: eth9: unknown interface", "ERROR: Return code 2 from"}},
		{"failing script", svc, "start", []string{"cannot bind port 80"}, 1,
			[]string{"ERROR svc[42]: ERROR: cannot bind port 80"}},
		{"failing stop", svc, "stop", []string{"still busy"}, 1,
			[]string{"ERROR svc[42]: ERROR: still busy"}},
		{"chatty success", svc, "start", []string{"starting..."}, 0,
			[]string{"debug svc[42]: starting..."}},
		{"status answering 7", svc, "status", []string{"no pid file"}, 7,
			[]string{"debug svc[42]: no pid file"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := &memLog{}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "svc"), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(tt.name, "linked") {
				os.Symlink("/bin/true", filepath.Join(dir, "IPaddr")) // as make install links it to habox
			}
			r := &Runner{ResourceDir: dir, InitDirs: []string{}, Self: "/bin/habox", Log: l,
				Exec: func(p Process) (Outcome, error) {
					return Outcome{Pid: 42, Stderr: tt.stderr, Code: tt.code}, nil
				}}
			r.run(tt.rs, tt.act, tt.act != "status")
			for _, w := range tt.want {
				if !l.has(w) {
					t.Errorf("log lacks %q:\n%s", w, l)
				}
			}
			for _, e := range tt.stderr {
				if n := strings.Count(l.String(), e); n != 1 {
					t.Errorf("%q logged %d times:\n%s", e, n, l)
				}
			}
		})
	}
}

// TestMissingScript: a script that is not there fails the start at once,
// and its stop is neither retried nor blamed on LSB compliance: the log
// says the script was not found.
func TestMissingScript(t *testing.T) {
	r, l, dir := newRunner(t)
	g := r.Groups["a::1"]
	g.Resources = append(g.Resources, conf.Resource{Script: "maid", Args: []string{"vacuum"}, Text: "maid::vacuum"})
	r.Groups["a::1"] = g
	res := r.Run(&Job{ID: 1, Steps: []Step{{Op: Take, Key: "a::1"}}})
	if len(res.Failed) != 1 || calls(t, dir) != "start 1,start 2,stop 2,stop 1" {
		t.Fatalf("result %+v calls %q\n%s", res, calls(t, dir), l)
	}
	for _, w := range []string{"ERROR: Cannot locate resource script maid", "CRIT: Giving up resources due to failure of maid::vacuum",
		"ERROR: Resource script maid not found: maid::vacuum cannot be running; continuing with resource release."} {
		if !l.has(w) {
			t.Errorf("log lacks %q:\n%s", w, l)
		}
	}
	if l.has("Retrying failed stop operation [maid::vacuum]") || l.has("LSB") {
		t.Errorf("missing script retried or blamed on LSB:\n%s", l)
	}
}

// TestIdleGroup: an Idle step releases a group only if one of its
// resources runs (or its status hangs), with 3.0.6's verifyallidle
// warning.
func TestIdleGroup(t *testing.T) {
	for _, tt := range []struct {
		name    string
		running []string // state files present: which resources run
		hang    bool     // a's status hangs
		calls   string
		warned  string
	}{
		{"idle", nil, false, "", ""},
		{"first runs", []string{"a.1"}, false, "stop 2,stop 1", "a::1"},
		{"last runs", []string{"b.2"}, false, "stop 2,stop 1", "b::2"},
		{"status hangs", nil, true, "stop 2,stop 1", "a::1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, l, dir := newRunner(t)
			script(t, r.ResourceDir, "a", svcHang)
			r.Timeout = 200 * time.Millisecond
			for _, f := range tt.running {
				os.WriteFile(filepath.Join(dir, f), nil, 0o644)
			}
			if tt.hang {
				os.WriteFile(filepath.Join(dir, "hang-status-a"), nil, 0o644)
			}
			res := r.Run(&Job{ID: 1, Steps: []Step{{Op: Idle, Key: "a::1"}}})
			if len(res.Failed) != 0 || calls(t, dir) != tt.calls {
				t.Fatalf("failed %v calls %q, want %q\n%s", res.Failed, calls(t, dir), tt.calls, l)
			}
			warn := "CRIT: Resource " + tt.warned + " is active, and should not be!"
			if tt.warned != "" && (!l.has(warn) || !l.has("CRIT: Non-idle resources can affect data integrity!")) {
				t.Errorf("log lacks %q:\n%s", warn, l)
			}
			if tt.warned == "" && l.has("CRIT") {
				t.Errorf("warned of an idle group:\n%s", l)
			}
		})
	}
}
