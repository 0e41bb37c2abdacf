package control

import (
	"bytes"
	"errors"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"habox/applets/cli"
	"habox/hw/unixsock"
)

// fakeDaemon implements Daemon.
type fakeDaemon struct {
	mu       sync.Mutex
	snap     Snapshot
	refuse   error
	requests []string
}

func (f *fakeDaemon) Snapshot() Snapshot { return f.snap }

func (f *fakeDaemon) Standby(kind string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, "standby "+kind)
	return f.refuse
}

func (f *fakeDaemon) Takeover(kind string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, "takeover "+kind)
	return f.refuse
}

func sampleSnapshot() Snapshot {
	return Snapshot{
		Node:    "alice",
		Version: "3.0.6 (habox test)",
		Rsc:     "local",
		Nodes: []NodeInfo{
			{Name: "alice", Type: "normal", Status: "active", Links: []LinkInfo{{"eth0", "up"}, {"/dev/ttyS0", "dead"}}},
			{Name: "bob", Type: "normal", Status: "dead", Links: []LinkInfo{{"eth0", "dead"}, {"/dev/ttyS0", "dead"}}},
			{Name: "10.0.0.254", Type: "ping", Status: "ping", Links: []LinkInfo{{"10.0.0.254", "up"}}},
		},
		Params: map[string]string{"keepalive": "2", "deadtime": "30", "logfile": "/var/log/ha log", "weird": "a\\b\nc\td"},
	}
}

func startServer(t *testing.T, d Daemon) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run", "habox.ctl")
	s, err := Serve(path, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return path
}

func run(a cli.Applet, sock string, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	env := &cli.Env{Stdout: &out, Stderr: &errb, Environ: []string{"HA_CTLSOCK=" + sock}}
	code := a.Run(env, args)
	return out.String(), errb.String(), code
}

func TestClStatus(t *testing.T) {
	sock := startServer(t, &fakeDaemon{snap: sampleSnapshot()})
	verboseNodes := "\nalice\tactive\t(nodetype: normal)\n\teth0\tup\n\t/dev/ttyS0\tdead\n" +
		"\nbob\tdead\t(nodetype: normal)\n\teth0\tdead\n\t/dev/ttyS0\tdead\n" +
		"\n10.0.0.254\tping\t(nodetype: ping)\n\t10.0.0.254\tup\n"
	tests := []struct {
		args    []string
		out     string
		errPart string
		code    int
	}{
		{[]string{"hbstatus"}, "Heartbeat is running on this machine.\n", "", 0},
		{[]string{"hbstatus", "-m"}, "Heartbeat is running on this machine.\n", "", 0},
		{[]string{"hbstatus", "-v"}, "version:\t3.0.6 (habox test)\nmanaged by:\t\"haresources\"\n" + verboseNodes, "", 0},
		{[]string{"hbstatus", "-v", "-m"}, "Heartbeat version 3.0.6 (habox test)\nResources controlled by \"haresources\"\nThe nodes are as follow:\n" +
			"\nalice\tactive\t(nodetype: normal)\n\tthis node has the following heartbeat links:\n\teth0\tup\n\t/dev/ttyS0\tdead\n" +
			"\nbob\tdead\t(nodetype: normal)\n\tthis node has the following heartbeat links:\n\teth0\tdead\n\t/dev/ttyS0\tdead\n" +
			"\n10.0.0.254\tping\t(nodetype: ping)\n\tthis node has the following heartbeat links:\n\t10.0.0.254\tup\n", "", 0},
		{[]string{"listnodes"}, "alice\nbob\n10.0.0.254\n", "", 0},
		{[]string{"listnodes", "-n"}, "alice\nbob\n", "", 0},
		{[]string{"listnodes", "-p"}, "10.0.0.254\n", "", 0},
		{[]string{"listnodes", "-np"}, "alice\nbob\n10.0.0.254\n", "", 0},
		{[]string{"listnodes", "-m"}, "The nodes are as follow:\nalice\nbob\n10.0.0.254\n", "", 0},
		{[]string{"listnodes", "-v"}, verboseNodes, "", 0},
		{[]string{"listnodes", "-x"}, "", "invalid option -- 'x'", 11},
		{[]string{"listnodes", "-nx"}, "", "invalid option -- 'x'", 11},
		{[]string{"listnodes", "--bogus"}, "", "unrecognized option '--bogus'", 11},
		{[]string{"hbparameter", "-mpkeepalive"}, "Heartbeat parameter keepalive's value: 2\n", "", 0},
		{[]string{"nodestatus", "alice"}, "active\n", "", 0},
		{[]string{"nodestatus", "BOB"}, "dead\n", "", 1},
		{[]string{"nodestatus", "10.0.0.254"}, "ping\n", "", 0},
		{[]string{"nodestatus", "-m", "bob"}, "The cluster node bob is dead\n", "", 1},
		{[]string{"nodestatus"}, "", "Not enough parameters.\n", 11},
		{[]string{"nodestatus", "carol"}, "", "Error. May be due to incorrect node name\n", 11},
		{[]string{"nodetype", "bob"}, "normal\n", "", 0},
		{[]string{"nodetype", "10.0.0.254", "-m"}, "The node 10.0.0.254's type: ping\n", "", 0},
		{[]string{"nodetype"}, "", "No enough parameter.\n", 11},
		{[]string{"nodetype", "carol"}, "", "Error. May be due to incorrect node name\n", 11},
		{[]string{"listhblinks", "bob"}, "\teth0\n\t/dev/ttyS0\n", "", 0},
		{[]string{"listhblinks", "-v", "alice"}, "\teth0\tup\n\t/dev/ttyS0\tdead\n", "", 0},
		{[]string{"listhblinks", "alice", "-m"}, "\tthis node has the following heartbeat links:\n\teth0\n\t/dev/ttyS0\n", "", 0},
		{[]string{"listhblinks"}, "", "No enough parameter.\n", 11},
		{[]string{"listhblinks", "carol"}, "", "ERROR: Cannot start heartbeat link interface walk.", 13},
		{[]string{"hblinkstatus", "alice", "eth0"}, "up\n", "", 0},
		{[]string{"hblinkstatus", "bob", "eth0"}, "dead\n", "", 1},
		{[]string{"hblinkstatus", "-m", "alice", "eth0"}, "The node alice's heartbeat link eth0 is up\n", "", 0},
		{[]string{"hblinkstatus", "alice"}, "", "No enough parameter.\n", 11},
		{[]string{"hblinkstatus", "alice", "eth7"}, "", "ERROR: Cannot get heartbeat link status", 13},
		{[]string{"clientstatus", "alice", "ipfail"}, "offline\n", "", 1},
		{[]string{"rscstatus"}, "local\n", "", 0},
		{[]string{"rscstatus", "-m"}, "This node is holding local resources.\n", "", 0},
		{[]string{"hbparameter", "-p", "keepalive"}, "2\n", "", 0},
		{[]string{"hbparameter", "-pdeadtime"}, "30\n", "", 0},
		{[]string{"hbparameter", "-m", "-p", "logfile"}, "Heartbeat parameter logfile's value: /var/log/ha log\n", "", 0},
		{[]string{"hbparameter", "-p", "weird"}, "a\\b\nc\td\n", "", 0},
		{[]string{"hbparameter", "-p", "hbversion"}, "3.0.6 (habox test)\n", "", 0},
		{[]string{"hbparameter", "-p", "nosuch"}, "", "ERROR: Cannot get parameter nosuch's value", 1},
		{[]string{"hbparameter"}, "", "ERROR: parameter name required", 11},
		{[]string{"hbparameter", "-p"}, "", "option requires an argument -- 'p'", 11},
		{[]string{"frobnicate"}, "", "cl_status: [", 11},
		{[]string{"--bogus"}, "", "ERROR: --bogus: invalid sub-command.", 11},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			out, errs, code := run(ClStatus, sock, tt.args...)
			if out != tt.out {
				t.Errorf("stdout %q\nwant   %q", out, tt.out)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errs)
			}
			if tt.errPart == "" && errs != "" || !strings.Contains(errs, tt.errPart) {
				t.Errorf("stderr %q, want it to contain %q", errs, tt.errPart)
			}
		})
	}
}

func TestClStatusHelpAndSocketOption(t *testing.T) {
	sock := startServer(t, &fakeDaemon{snap: sampleSnapshot()})
	out, _, code := run(ClStatus, "/nonexistent")
	if code != 0 || !strings.HasPrefix(out, "cl_status [-S SOCKET]") {
		t.Errorf("no args: %d %q", code, out)
	}
	// -S wins over $HA_CTLSOCK.
	out, _, code = run(ClStatus, "/nonexistent", "-S", sock, "rscstatus")
	if code != 0 || out != "local\n" {
		t.Errorf("-S: %d %q", code, out)
	}
	out, _, code = run(ClStatus, "/nonexistent", "-S"+sock, "rscstatus")
	if code != 0 || out != "local\n" {
		t.Errorf("-SPATH: %d %q", code, out)
	}
	if SocketPath(&cli.Env{}, "") != DefaultSocket {
		t.Error("default socket")
	}
}

func TestClStatusDaemonAbsent(t *testing.T) {
	dir := t.TempDir()
	for _, sock := range []string{filepath.Join(dir, "none.ctl"), stale(t, dir)} {
		out, errs, code := run(ClStatus, sock, "hbstatus")
		if out != "Heartbeat is stopped on this machine.\n" || code != 1 {
			t.Errorf("%s hbstatus: %q %d", sock, out, code)
		}
		out, errs, code = run(ClStatus, sock, "nodestatus", "alice")
		if out != "" || code != 1 || !strings.Contains(errs, "cl_status: [") ||
			!strings.Contains(errs, "ERROR: Cannot signon with heartbeat\n") || !strings.Contains(errs, "ERROR: REASON: ") {
			t.Errorf("%s nodestatus: %q %q %d", sock, out, errs, code)
		}
		for _, a := range []cli.Applet{HbStandby, HbTakeover} {
			_, errs, code = run(a, sock)
			if code != 3 || !strings.Contains(errs, "Heartbeat is stopped on this machine.") {
				t.Errorf("%s %s: %q %d", sock, a.Name, errs, code)
			}
		}
	}
}

// stale leaves a socket file nobody listens on (a crashed daemon).
func stale(t *testing.T, dir string) string {
	p := filepath.Join(dir, "stale.ctl")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false) // the file stays, as after a crash
	ln.Close()
	return p
}

func TestClStatusTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	clStatus := cli.Applet{Name: "cl_status", Run: func(env *cli.Env, args []string) int { return clStatusWithin(env, args, timeout) }}
	p := filepath.Join(t.TempDir(), "mute.ctl")
	ln, err := unixsock.Listen(p, 0600) // accepts (backlog) but never answers
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	_, _, code := run(clStatus, p, "hbstatus")
	if code != 12 {
		t.Errorf("hbstatus on a mute daemon: exit %d, want 12", code)
	}
	_, _, code = run(clStatus, p, "listnodes")
	if code != 12 {
		t.Errorf("listnodes on a mute daemon: exit %d, want 12", code)
	}
	if took := time.Since(start); took < 2*timeout || took > 3*time.Second {
		t.Errorf("two requests took %v with a %v timeout each", took, timeout)
	}
}

func TestStandbyTakeover(t *testing.T) {
	d := &fakeDaemon{snap: sampleSnapshot()}
	sock := startServer(t, d)
	tests := []struct {
		a    cli.Applet
		args []string
		out  string
		req  string
		code int
	}{
		{HbStandby, nil, "Going standby [all].\n", "standby all", 0},
		{HbStandby, []string{"local"}, "Going standby [local].\n", "standby local", 0},
		{HbStandby, []string{"failback"}, "Going standby [foreign].\n", "standby foreign", 0},
		{HbTakeover, nil, "Taking over [all] resources.\n", "takeover all", 0},
		{HbTakeover, []string{"failback"}, "Taking over [failback] resources.\n", "takeover failback", 0},
		{HbTakeover, []string{"foreign"}, "Taking over [foreign] resources.\n", "takeover foreign", 0},
		{HbStandby, []string{"some"}, "", "", 2},
		{HbStandby, []string{"all", "local"}, "", "", 2},
		{HbTakeover, []string{"-x"}, "", "", 2},
	}
	for _, tt := range tests {
		d.requests = nil
		out, errs, code := run(tt.a, sock, tt.args...)
		if out != tt.out || code != tt.code {
			t.Errorf("%s %v: %q %d (stderr %q)", tt.a.Name, tt.args, out, code, errs)
		}
		var want []string
		if tt.req != "" {
			want = []string{tt.req}
		}
		if !reflect.DeepEqual(d.requests, want) {
			t.Errorf("%s %v: daemon got %q, want %q", tt.a.Name, tt.args, d.requests, want)
		}
	}
	d.refuse = errors.New("Standby mode only implemented when nice_failback on")
	_, errs, code := run(HbStandby, sock)
	if code != 1 || errs != "hb_standby: refused: Standby mode only implemented when nice_failback on\n" {
		t.Errorf("refused: %q %d", errs, code)
	}
}

func TestProtocolRoundTrip(t *testing.T) {
	s := sampleSnapshot()
	got, err := DecodeResponse(strings.NewReader(EncodeSnapshot(s)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip:\n%+v\n%+v", got, s)
	}
	if _, err := DecodeResponse(strings.NewReader(OK)); err != nil {
		t.Error(err)
	}
	var re *RefusedError
	if _, err := DecodeResponse(strings.NewReader(EncodeError("no way\nreally"))); !errors.As(err, &re) || re.Reason != "no way\nreally" {
		t.Errorf("err response: %v", err)
	}
	for _, bad := range []string{"", "ok\n", "ok\nnode a\n", "hello\n", "err\n", "ok\nlink x y z\n.\n", "ok\n.\nextra\n", "ok\nnode a\\q\n.\n",
		"ok\nnodeinfo a normal up\nnodeinfo a normal up\n.\n"} {
		if _, err := DecodeResponse(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	for _, r := range []struct {
		line string
		ok   bool
	}{{"snapshot", true}, {"standby all", true}, {"takeover failback", true}, {"standby", false}, {"standby some", false},
		{"snapshot x", false}, {"standby  all", false}, {"", false}, {strings.Repeat("x", 600), false}} {
		req, err := ParseRequest(r.line)
		if (err == nil) != r.ok {
			t.Errorf("ParseRequest(%q) = %v, %v", r.line, req, err)
		}
		if err == nil && req.String() != r.line {
			t.Errorf("String() = %q", req.String())
		}
	}
}

func TestServerBadRequestAndClose(t *testing.T) {
	d := &fakeDaemon{snap: sampleSnapshot()}
	path := filepath.Join(t.TempDir(), "c.ctl")
	s, err := Serve(path, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Serve(path, d); err == nil {
		t.Error("second server on a live socket accepted")
	}
	c, err := unixsock.Dial(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("launch missiles\n"))
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = DecodeResponse(c)
	c.Close()
	var re *RefusedError
	if !errors.As(err, &re) || !strings.HasPrefix(re.Reason, "bad request") {
		t.Errorf("bad request answer: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if _, err := Query(path, Request{Verb: "snapshot"}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("after Close: %v", err)
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"snapshot", "standby all", "takeover failback", "standby \\s"} {
		f.Add(s)
	}
	d := &fakeDaemon{snap: sampleSnapshot()}
	f.Fuzz(func(t *testing.T, line string) {
		req, err := ParseRequest(line)
		if err == nil && req.String() != line {
			t.Fatalf("%q parsed as %+v", line, req)
		}
		resp := Answer(d, line)
		if _, err := DecodeResponse(strings.NewReader(resp)); err != nil {
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("Answer(%q) undecodable: %v", line, err)
			}
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add(EncodeSnapshot(sampleSnapshot()))
	f.Add(OK)
	f.Add(EncodeError("x y"))
	f.Add("ok\nparam a\\sb c\\n\n.\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := DecodeResponse(strings.NewReader(in))
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to something that decodes the same.
		again, err := DecodeResponse(strings.NewReader(EncodeSnapshot(s)))
		if err != nil {
			t.Fatalf("re-encoded snapshot undecodable: %v", err)
		}
		if len(s.Params) == 0 {
			s.Params = nil
		}
		if len(again.Params) == 0 {
			again.Params = nil
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("round trip changed %+v into %+v", s, again)
		}
	})
}
