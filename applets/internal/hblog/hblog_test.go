package hblog

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"habox/hw/hwtest"
	"habox/hw/unixsock"
)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// Golden lines from spec 6.1 (observed on 3.0.6 / cluster-glue 1.0.12).
func TestFileFormats(t *testing.T) {
	ts := time.Date(2026, time.November, 25, 13, 14, 54, 0, time.Local)
	ts2 := time.Date(2015, time.February, 4, 15, 57, 4, 0, time.Local)
	ts3 := time.Date(2026, time.November, 5, 1, 2, 3, 0, time.Local)
	tests := []struct {
		name   string
		t      time.Time
		msgfmt bool
		prio   Priority
		msg    string
		want   string
	}{
		{"warn", ts, true, Warning, "node bob: is dead", "Nov 25 13:14:54 alice heartbeat: [30622]: WARN: node bob: is dead\n"},
		{"glib", ts, true, InfoPri, "glib: UDP Broadcast heartbeat started on port 694 (694) interface eth0",
			"Nov 25 13:14:54 alice heartbeat: [30622]: info: glib: UDP Broadcast heartbeat started on port 694 (694) interface eth0\n"},
		{"day padded", ts3, true, Err, "x", "Nov 05 01:02:03 alice heartbeat: [30622]: ERROR: x\n"},
		{"classic", ts2, false, InfoPri, "Link bob:eth0 up.", "heartbeat[30622]: 2015/02/04_15:57:04 info: Link bob:eth0 up.\n"},
		{"crit", ts2, false, Crit, "c", "heartbeat[30622]: 2015/02/04_15:57:04 CRIT: c\n"},
		{"notice", ts2, false, Notice, "n", "heartbeat[30622]: 2015/02/04_15:57:04 notice: n\n"},
		{"trailing newline trimmed", ts, true, InfoPri, "x\n", "Nov 25 13:14:54 alice heartbeat: [30622]: info: x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := New(Options{SyslogMsgFmt: tt.msgfmt, Node: "alice", Pid: 30622, Now: fixedClock(tt.t), Stderr: &buf})
			if err != nil {
				t.Fatal(err)
			}
			l.Log(tt.prio, tt.msg)
			if got := buf.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPriorityWords(t *testing.T) {
	want := "EMERG ALERT CRIT ERROR WARN notice info debug"
	var w []string
	for p := Emerg; p <= DebugPri; p++ {
		w = append(w, p.String())
	}
	if got := strings.Join(w, " "); got != want {
		t.Errorf("got %q want %q", got, want)
	}
	if Priority(9).String() != "(undef)" {
		t.Error("out of range priority")
	}
}

func TestFilesAndDebugLevels(t *testing.T) {
	dir := t.TempDir()
	logf, dbgf := filepath.Join(dir, "ha-log"), filepath.Join(dir, "ha-debug")
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local)
	l, err := New(Options{Logfile: logf, Debugfile: dbgf, SyslogMsgFmt: true, Node: "n1", Pid: 7, Now: fixedClock(ts), Debug: 1})
	if err != nil {
		t.Fatal(err)
	}
	l.Info("one")
	l.Debug(1, "dbg1")
	l.Debug(2, "dbg2 hidden")
	l.SetDebug(2)
	l.Debug(2, "dbg2")
	if l.DebugLevel() != 2 {
		t.Error("DebugLevel")
	}
	l.SetDebug(-3)
	if l.DebugLevel() != 0 {
		t.Error("negative level not clamped")
	}
	l.Error("two")
	l.Close()
	l.Info("after close is dropped")
	pre := "Jan 02 03:04:05 n1 heartbeat: [7]: "
	wantLog := pre + "info: one\n" + pre + "ERROR: two\n"
	wantDbg := pre + "info: one\n" + pre + "debug: dbg1\n" + pre + "debug: dbg2\n" + pre + "ERROR: two\n"
	if b, _ := os.ReadFile(logf); string(b) != wantLog {
		t.Errorf("logfile:\n%s\nwant\n%s", b, wantLog)
	}
	if b, _ := os.ReadFile(dbgf); string(b) != wantDbg {
		t.Errorf("debugfile:\n%s\nwant\n%s", b, wantDbg)
	}
}

func TestNilAndEmptyLoggerSafe(t *testing.T) {
	var l *Logger
	l.Info("x")
	l.Debug(0, "x")
	l.SetDebug(3)
	l.Reopen()
	l.Close()
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.Warn("nothing happens")
	e.Close()
}

func TestBadFacility(t *testing.T) {
	if _, err := New(Options{Facility: "nosuch"}); err == nil {
		t.Error("unknown facility accepted")
	}
	if _, err := New(Options{Facility: "none"}); err != nil {
		t.Error(err)
	}
	// An unopenable log file is not an error: TestLogfileFallback.
}

// TestFacilityCodes: every facility name cl_syslogfac_str2int knows maps to
// its syslog code and back; other names and codes have none.
func TestFacilityCodes(t *testing.T) {
	want := map[string]int{
		"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5,
		"lpr": 6, "news": 7, "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
		"local0": 16, "local1": 17, "local2": 18, "local3": 19,
		"local4": 20, "local5": 21, "local6": 22, "local7": 23,
	}
	for name, code := range want {
		if c, ok := facility(name); !ok || c != code {
			t.Errorf("facility(%q) = %d, %v; want %d", name, c, ok, code)
		}
		if n := facilityName(code); n != name {
			t.Errorf("facilityName(%d) = %q, want %q", code, n, name)
		}
	}
	for _, name := range []string{"", "local8", "Daemon", "12"} {
		if c, ok := facility(name); ok {
			t.Errorf("facility(%q) = %d, want none", name, c)
		}
	}
	for _, code := range []int{-1, 12, 15, 24} {
		if n := facilityName(code); n != strconv.Itoa(code) {
			t.Errorf("facilityName(%d) = %q, want the number", code, n)
		}
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "ha-log")
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.Local)
	clock := func() time.Time { return now }
	l, err := New(Options{Logfile: logf, SyslogMsgFmt: true, Node: "n", Pid: 1, Now: clock, ReopenCheck: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("before")
	if err := os.Rename(logf, logf+".1"); err != nil {
		t.Fatal(err)
	}
	l.Info("still old") // within the check interval: goes to the renamed file
	now = now.Add(11 * time.Second)
	l.Info("new file")
	old, _ := os.ReadFile(logf + ".1")
	cur, _ := os.ReadFile(logf)
	if !strings.Contains(string(old), "before") || !strings.Contains(string(old), "still old") || strings.Contains(string(old), "new file") {
		t.Errorf("rotated file: %q", old)
	}
	if !strings.HasSuffix(string(cur), "info: new file\n") || strings.Contains(string(cur), "before") {
		t.Errorf("new file: %q", cur)
	}
	// Explicit Reopen (SIGHUP) after another rotation.
	os.Rename(logf, logf+".2")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Info("after hup")
	cur, _ = os.ReadFile(logf)
	if string(cur) != "Mar 04 05:06:18 n heartbeat: [1]: info: after hup\n" {
		t.Errorf("after Reopen: %q", cur)
	}
}

func TestSyslog(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	srv, err := unixsock.ListenDgram(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := time.Date(2026, time.November, 5, 13, 14, 54, 0, time.Local)
	l, err := New(Options{Facility: "local7", Pid: 1234, Now: fixedClock(ts), SyslogPath: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("Link bob:eth0 up.")
	l.Warn("node bob: is dead")
	l.SetDebug(1)
	l.Debug(1, "dbg")
	want := []string{
		"<190>Nov  5 13:14:54 heartbeat: [1234]: info: Link bob:eth0 up.",
		"<188>Nov  5 13:14:54 heartbeat: [1234]: WARN: node bob: is dead",
		"<191>Nov  5 13:14:54 heartbeat: [1234]: debug: dbg",
	}
	buf := make([]byte, 4096)
	for _, w := range want {
		srv.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := srv.Recv(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); got != w {
			t.Errorf("got  %q\nwant %q", got, w)
		}
	}
}

func TestSyslogDaemonRestart(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	l, err := New(Options{Facility: "daemon", Pid: 1, SyslogPath: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("no syslog yet: dropped, no error")
	srv, err := unixsock.ListenDgram(sock)
	if err != nil {
		t.Fatal(err)
	}
	l.Info("first")
	srv.Close()
	os.Remove(sock)
	srv, err = unixsock.ListenDgram(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l.Info("second") // old connection is dead: reconnects
	buf := make([]byte, 512)
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := srv.Recv(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(buf[:n]), "info: second") || !strings.HasPrefix(string(buf[:n]), "<30>") {
		t.Errorf("got %q", buf[:n])
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	r := &Limiter{Burst: 2, Interval: time.Second, Now: func() time.Time { return now }}
	var got []bool
	for i := 0; i < 5; i++ {
		got = append(got, r.Allow("a"))
	}
	if want := []bool{true, true, false, false, false}; !equalBools(got, want) {
		t.Errorf("got %v want %v", got, want)
	}
	if !r.Allow("b") {
		t.Error("keys must be independent")
	}
	now = now.Add(time.Second)
	ok, n := r.AllowN("a")
	if !ok || n != 3 {
		t.Errorf("after interval: ok=%v suppressed=%d, want true 3", ok, n)
	}
	r.Allow("a")
	r.Allow("a")
	if s := r.Suppressed(); s["a"] != 1 || len(s) != 1 {
		t.Errorf("Suppressed = %v", s)
	}
	if s := r.Suppressed(); len(s) != 0 {
		t.Errorf("Suppressed not reset: %v", s)
	}
	if SuppressedText(1) != "1 similar message suppressed" || SuppressedText(4) != "4 similar messages suppressed" {
		t.Error("SuppressedText")
	}
	var nilr *Limiter
	if !nilr.Allow("x") {
		t.Error("nil limiter must allow")
	}
}

func TestLimiterBoundedKeys(t *testing.T) {
	now := time.Unix(0, 0)
	r := &Limiter{Burst: 1, Interval: time.Minute, MaxKeys: 8, Now: func() time.Time { return now }}
	for i := 0; i < 1000; i++ {
		r.Allow(string(rune('a' + i%500)))
	}
	if len(r.keys) > 8 {
		t.Errorf("%d keys kept, max 8", len(r.keys))
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkLogFile(b *testing.B) {
	l, err := New(Options{Logfile: filepath.Join(b.TempDir(), "log"), SyslogMsgFmt: true, Node: "n"})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	for i := 0; i < b.N; i++ {
		l.Info("Link bob:eth0 up.")
	}
}

// TestLogfileSymlinkAttack: a logfile path planted as a link (a log
// directory others can write) is refused, never appended through; the
// lines go to the fallback instead.
func TestLogfileSymlinkAttack(t *testing.T) {
	hwtest.RequireRoot(t)
	dir := hwtest.SharedDir(t)
	for _, name := range []string{"Logfile", "Debugfile"} {
		path := filepath.Join(dir, name)
		intact := hwtest.PlantSymlink(t, path)
		var fb bytes.Buffer
		o := Options{Node: "alice", Pid: 1, Now: time.Now, Fallback: &fb, SyslogPath: filepath.Join(dir, "nolog")}
		if name == "Logfile" {
			o.Logfile = path
		} else {
			o.Debugfile = path
		}
		l, err := New(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		l.Log(Crit, "through the link")
		l.Close()
		intact()
		if !strings.Contains(fb.String(), "Cannot open log file") || !strings.Contains(fb.String(), "CRIT: through the link") {
			t.Errorf("%s: fallback got %q", name, fb.String())
		}
	}
}

// A missing log directory is created; a log file that cannot
// be opened falls back to syslog (facility daemon) and Fallback, with one
// warning naming the files.
func TestLogfileFallback(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "log")
	srv, err := unixsock.ListenDgram(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	created := filepath.Join(dir, "var", "log", "ha-log")
	l, err := New(Options{Logfile: created, Node: "alice", Pid: 1, SyslogPath: sock})
	if err != nil {
		t.Fatal(err)
	}
	l.Info("in the new directory")
	l.Close()
	if b, _ := os.ReadFile(created); !strings.Contains(string(b), "info: in the new directory") {
		t.Errorf("created log: %q", b)
	}

	var fb bytes.Buffer
	bad := filepath.Join(dir, "file")
	os.WriteFile(bad, nil, 0o644)
	l, err = New(Options{Logfile: filepath.Join(bad, "ha-log"), Debugfile: filepath.Join(bad, "ha-debug"),
		Node: "alice", Pid: 1, SyslogPath: sock, Fallback: &fb, Debug: 1})
	if err != nil {
		t.Fatalf("unopenable log file is fatal: %v", err)
	}
	l.Warn("still logged")
	l.Close()
	out := fb.String()
	if n := strings.Count(out, "Cannot open log file"); n != 1 {
		t.Errorf("%d warnings, want 1: %q", n, out)
	}
	if !strings.Contains(out, bad+"/ha-log") || !strings.Contains(out, bad+"/ha-debug") ||
		!strings.Contains(out, "logging to syslog (facility daemon) and stderr instead") || !strings.Contains(out, "WARN: still logged") {
		t.Errorf("fallback output %q", out)
	}
	buf := make([]byte, 4096)
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := srv.Recv(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "<28>") || !strings.Contains(string(buf[:n]), "Cannot open log file") {
		t.Errorf("syslog (daemon.warning = <28>): %q %v", buf[:n], err)
	}
}

// TestTagged: a resource script's line under its own tag, as ocf_log and
// logger -t write it, in both file formats, syslog and the debug rules;
// the tag and text are escaped like any message.
func TestTagged(t *testing.T) {
	ts := time.Date(2026, time.November, 5, 13, 14, 54, 0, time.Local)
	const tag = "IPaddr(IPaddr_10.0.0.5)[4711]"
	for _, tt := range []struct {
		name   string
		msgfmt bool
		debug  int
		prio   Priority
		text   string
		want   string
	}{
		{"info", true, 0, InfoPri, "INFO: ifconfig eth0:0 10.0.0.5", "Nov 05 13:14:54 alice " + tag + ": INFO: ifconfig eth0:0 10.0.0.5\n"},
		{"classic", false, 0, Err, "ERROR: eth9: unknown interface", tag + ": 2026/11/05_13:14:54 ERROR: eth9: unknown interface\n"},
		{"escaped", true, 0, Err, "ERROR: a\nNov 05 13:14:54 alice heartbeat: [1]: CRIT: forged", "Nov 05 13:14:54 alice " + tag + `: ERROR: a\x0aNov 05 13:14:54 alice heartbeat: [1]: CRIT: forged` + "\n"},
		{"debug hidden at level 0", true, 0, DebugPri, "x", ""},
		{"debug at level 1", true, 1, DebugPri, "x", "Nov 05 13:14:54 alice " + tag + ": x\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := New(Options{SyslogMsgFmt: tt.msgfmt, Node: "alice", Pid: 1, Now: fixedClock(ts), Stderr: &buf, Debug: tt.debug})
			if err != nil {
				t.Fatal(err)
			}
			l.Tagged(tag, tt.prio, tt.text)
			if got := buf.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	sock := filepath.Join(t.TempDir(), "log")
	srv, err := unixsock.ListenDgram(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	l, err := New(Options{Facility: "local7", Pid: 1, Now: fixedClock(ts), SyslogPath: sock,
		Logfile: filepath.Join(dir, "log"), Debugfile: filepath.Join(dir, "debug"), SyslogMsgFmt: true, Node: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Tagged("hatest[9]", Err, "ERROR: boom")
	buf := make([]byte, 4096)
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := srv.Recv(buf)
	if want := "<187>Nov  5 13:14:54 hatest[9]: ERROR: boom"; err != nil || string(buf[:n]) != want {
		t.Errorf("syslog got %q %v\nwant %q", buf[:n], err, want)
	}
	for _, f := range []string{"log", "debug"} {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); string(b) != "Nov 05 13:14:54 alice hatest[9]: ERROR: boom\n" {
			t.Errorf("%s: %q", f, b)
		}
	}
}
