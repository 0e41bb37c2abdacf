package hblog

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"habox/hw/hwtest"
	"habox/hw/unixsock"
)

// TestSyslogLineMatchesGlibc has glibc's syslog() (through python3's
// syslog module) write the line cl_log would write, into a private mount
// namespace whose /dev/log is the test's socket, and compares it with
// SyslogLine (timestamps compared by shape: the two are taken apart).
func TestSyslogLineMatchesGlibc(t *testing.T) {
	hwtest.RequireRoot(t)
	hwtest.RequireCmd(t, "unshare")
	py := hwtest.RequireCmd(t, "python3")
	sock := filepath.Join(t.TempDir(), "log")
	srv, err := unixsock.ListenDgram(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	script := "mount --make-rprivate / && mount -t tmpfs t /dev && touch /dev/log && mount --bind " + sock + " /dev/log && " +
		py + ` -c "import syslog; syslog.openlog('heartbeat', syslog.LOG_CONS, syslog.LOG_LOCAL7); syslog.syslog(syslog.LOG_WARNING, '[1234]: WARN: node bob: is dead')"`
	if out, err := exec.Command("unshare", "-m", "sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("glibc syslog: %v\n%s", err, out)
	}
	buf := make([]byte, 1024)
	srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := srv.Recv(buf)
	if err != nil {
		t.Fatal(err)
	}
	glibc := string(buf[:n])
	local7, _ := facility("local7")
	ours := SyslogLine(time.Now(), local7, Warning, "heartbeat", 1234, "node bob: is dead")
	stamp := regexp.MustCompile(`^<188>[A-Z][a-z]{2} [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] `)
	if !stamp.MatchString(glibc) || !stamp.MatchString(ours) {
		t.Fatalf("header shape: glibc %q, ours %q", glibc, ours)
	}
	if glibc[20:] != ours[20:] {
		t.Errorf("glibc %q\nours  %q", glibc, ours)
	}
}

// clLogScript logs through cluster-glue's own cl_log (libplumb.so.2, the
// library heartbeat 3.0.6 uses) into a logfile and a debugfile.
const clLogScript = `
import ctypes, sys
lib = ctypes.CDLL("/usr/lib/libplumb.so.2")
keep = [ctypes.create_string_buffer(s.encode()) for s in ("heartbeat", sys.argv[1], sys.argv[2])]
lib.cl_log_set_entity(keep[0])
lib.cl_log_enable_stderr(0)
lib.cl_log_set_facility(-1)
lib.cl_log_set_logfile(keep[1])
lib.cl_log_set_debugfile(keep[2])
lib.cl_log_enable_syslog_filefmt(int(sys.argv[3]))
for prio, text in ((6, "Link bob:eth0 up."), (4, "node bob: is dead"), (7, "a debug line"),
                   (3, "an error"), (2, "crit"), (5, "notice"), (0, "emerg"), (1, "alert")):
    lib.cl_log(prio, b"%s", text.encode())
`

// TestFilesMatchClusterGlue compares hblog's files with those written by
// the real cl_log, for both syslogmsgfmt settings. Time, pid and host
// name are taken from the real lines.
func TestFilesMatchClusterGlue(t *testing.T) {
	py := hwtest.RequireCmd(t, "python3")
	hwtest.RequireFile(t, "/usr/lib/libplumb.so.2", "cluster-glue's libplumb.so.2 (package libplumb2, installed with heartbeat)")
	for _, fmtFlag := range []string{"1", "0"} {
		dir := t.TempDir()
		rl, rd := filepath.Join(dir, "real-log"), filepath.Join(dir, "real-debug")
		var realLog, realDbg []byte
		for try := 0; ; try++ {
			os.Remove(rl)
			os.Remove(rd)
			if out, err := exec.Command(py, "-c", clLogScript, rl, rd, fmtFlag).CombinedOutput(); err != nil {
				t.Fatalf("cl_log: %v\n%s", err, out)
			}
			realLog, _ = os.ReadFile(rl)
			realDbg, _ = os.ReadFile(rd)
			// One fixed clock on our side: retry when cl_log's lines
			// straddle a second boundary.
			lines := strings.Split(strings.TrimSpace(string(realDbg)), "\n")
			if len(lines) != 8 {
				t.Fatalf("cl_log wrote %q", realDbg)
			}
			if stampOf(lines[0]) == stampOf(lines[7]) || try == 3 {
				break
			}
		}
		first := strings.SplitN(string(realDbg), "\n", 2)[0]
		var node, pidText string
		var ts time.Time
		var err error
		if fmtFlag == "1" {
			// "Nov 25 15:35:30 vm heartbeat: [28303]: info: ..."
			f := strings.Fields(first)
			ts, err = time.ParseInLocation("Jan 02 15:04:05", strings.Join(f[:3], " "), time.Local)
			ts = ts.AddDate(time.Now().Year(), 0, 0)
			node, pidText = f[3], strings.Trim(f[5], "[]:")
		} else {
			// "heartbeat[28396]: 2026/11/25_15:35:31 info: ..."
			f := strings.Fields(first)
			pidText = strings.TrimSuffix(strings.TrimPrefix(f[0], "heartbeat["), "]:")
			ts, err = time.ParseInLocation("2006/01/02_15:04:05", f[1], time.Local)
		}
		if err != nil {
			t.Fatalf("parse %q: %v", first, err)
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil {
			t.Fatalf("pid in %q: %v", first, err)
		}
		ol, od := filepath.Join(dir, "our-log"), filepath.Join(dir, "our-debug")
		l, err := New(Options{Logfile: ol, Debugfile: od, SyslogMsgFmt: fmtFlag == "1", Node: node, Pid: pid,
			Now: func() time.Time { return ts }, Debug: 1})
		if err != nil {
			t.Fatal(err)
		}
		l.Info("Link bob:eth0 up.")
		l.Warn("node bob: is dead")
		l.Debug(1, "a debug line")
		l.Error("an error")
		l.Crit("crit")
		l.Notice("notice")
		l.Log(Emerg, "emerg")
		l.Log(Alert, "alert")
		l.Close()
		ourLog, _ := os.ReadFile(ol)
		ourDbg, _ := os.ReadFile(od)
		if string(ourLog) != string(realLog) {
			t.Errorf("syslogmsgfmt %s logfile:\nours:\n%s\ncl_log:\n%s", fmtFlag, ourLog, realLog)
		}
		if string(ourDbg) != string(realDbg) {
			t.Errorf("syslogmsgfmt %s debugfile:\nours:\n%s\ncl_log:\n%s", fmtFlag, ourDbg, realDbg)
		}
	}
}

// stampOf returns the time part of a cl_log file line (either format).
func stampOf(line string) string {
	f := strings.Fields(line)
	if len(f) > 3 && strings.HasPrefix(f[0], "heartbeat[") {
		return f[1]
	}
	if len(f) > 3 {
		return f[2]
	}
	return line
}
