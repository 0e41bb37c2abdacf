package heartbeat

import (
	"slices"
	"testing"

	"habox/applets/cli"
	"habox/applets/heartbeat/control"
	"habox/conf"
)

// TestParse: the command line's options, init-script verbs and their
// conflicts, without running anything.
func TestParse(t *testing.T) {
	env := &cli.Env{Environ: []string{"HA_NODENAME=Alice", "HA_VARLIB=/v", "HA_CTLSOCK=/s"}}
	for _, tc := range []struct {
		args    []string
		mode    string
		restart bool
		rest    []string // o.args: what a detaching start re-executes with
		msg     string   // usage error
		check   func(o options) bool
	}{
		{args: nil, rest: nil, check: func(o options) bool {
			return o.dir == conf.DefaultDir && o.varlib == "/v" && o.ctlsock == "/s" && o.pidfile == DefaultPidFile && o.node == "alice"
		}},
		{args: []string{"-f", "-dd", "-c", "/etc/x", "-l", "/l", "-p", "/p", "-S", "/c"}, rest: []string{"-f", "-dd", "-c", "/etc/x", "-l", "/l", "-p", "/p", "-S", "/c"},
			check: func(o options) bool {
				return o.foreground && o.debug == 2 && o.dir == "/etc/x" && o.varlib == "/l" && o.pidfile == "/p" && o.ctlsock == "/c"
			}},
		{args: []string{"-R", "-C", "foreign"}, rest: []string{"-R", "-C", "foreign"}, check: func(o options) bool { return o.restart && o.held == "foreign" }},
		{args: []string{"-t", "--other-host"}, mode: "-t", rest: []string{"-t", "--other-host"}, check: func(o options) bool { return o.otherHost }},
		{args: []string{"--check"}, mode: "--check", rest: []string{"--check"}},
		{args: []string{"-c", "/d", "start"}, rest: []string{"-c", "/d"}},
		{args: []string{"stop"}, mode: "-k", rest: []string{}},
		{args: []string{"restart"}, mode: "-k", restart: true, rest: []string{}},
		{args: []string{"status"}, mode: "-s", rest: []string{}},
		{args: []string{"force-reload"}, mode: "-r", rest: []string{}},
		{args: []string{"-V"}, mode: "-V", rest: []string{"-V"}},
		{args: []string{"-k", "-s"}, msg: "only one of -t -k -s -r -V -D"},
		{args: []string{"-s", "status"}, msg: "-s and status given"},
		{args: []string{"bogus"}, msg: "unexpected argument bogus (verbs: start stop status restart reload)"},
		{args: []string{"start", "now"}, msg: "unexpected argument now"},
		{args: []string{"--other-host"}, msg: "--other-host goes with -t"},
		{args: []string{"-x"}, msg: "unknown option -x"},
		{args: []string{"-c"}, msg: "option -c requires a value"},
		{args: []string{"--check=yes"}, msg: "option --check takes no value"},
	} {
		in, msg := parse(env, tc.args)
		if msg != tc.msg {
			t.Errorf("%q: usage error %q, want %q", tc.args, msg, tc.msg)
			continue
		}
		if msg != "" {
			continue
		}
		if in.mode != tc.mode || in.restart != tc.restart || !slices.Equal(in.o.args, tc.rest) {
			t.Errorf("%q: mode %q restart %v args %q, want %q %v %q", tc.args, in.mode, in.restart, in.o.args, tc.mode, tc.restart, tc.rest)
		}
		if tc.check != nil && !tc.check(in.o) {
			t.Errorf("%q: options %+v", tc.args, in.o)
		}
	}
	if in, _ := parse(&cli.Env{Environ: []string{"HA_DIR=/h"}}, nil); in.o.ctlsock != control.DefaultSocket || in.o.varlib != DefaultVarLib || in.o.dir != "/h" {
		t.Errorf("defaults %+v", in.o)
	}
}
