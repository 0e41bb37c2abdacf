// Package hblog writes heartbeat 3.0.6 log lines (cluster-glue 1.0.12
// cl_log formats, doc/spec/heartbeat-compat.md section 6.1) to a logfile, a debugfile, syslog and
// optionally stderr, so scripts that watch heartbeat logs keep working.
//
// File lines with syslogmsgfmt true (the default):
//
//	Nov 25 13:14:54 alice heartbeat: [30622]: WARN: node bob: is dead
//
// and with syslogmsgfmt false:
//
//	heartbeat[30622]: 2015/02/04_15:57:04 info: Link bob:eth0 up.
//
// The debugfile receives every line, the logfile every line but debug
// ones. Syslog gets "[pid]: prio: text" under the tag "heartbeat" over the
// /dev/log datagram socket, with the RFC 3164 header glibc's syslog()
// writes. Files stay open; a file renamed or removed by logrotate is
// noticed within ReopenCheck and reopened (or at once with Reopen, e.g. on
// SIGHUP).
//
// A nil *Logger, or one without targets, accepts every call and drops it.
package hblog

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"habox/applets/cli"
	"habox/hw/safefile"
	"habox/hw/unixsock"
)

// Priority is a syslog severity.
type Priority int

// The syslog severities, in syslog's numbering.
const (
	Emerg Priority = iota
	Alert
	Crit
	Err
	Warning
	Notice
	InfoPri
	DebugPri
)

var prioWords = [...]string{"EMERG", "ALERT", "CRIT", "ERROR", "WARN", "notice", "info", "debug"}

// String returns the word cl_log prints for p ("ERROR", "info", ...).
func (p Priority) String() string {
	if p < 0 || int(p) >= len(prioWords) {
		return "(undef)"
	}
	return prioWords[p]
}

// DefaultSyslogPath is the local syslog socket.
const DefaultSyslogPath = "/dev/log"

// DefaultReopenCheck is how often the files' identity is checked for
// rotation.
const DefaultReopenCheck = 10 * time.Second

// Options configures a Logger. The first fields mirror ha.cf.
type Options struct {
	Logfile, Debugfile string
	// Facility is the logfacility name ("daemon", "local0", ...); "" or
	// "none" disables syslog.
	Facility     string
	SyslogMsgFmt bool
	// Node is the host name printed in syslog-format file lines (uname -n).
	Node string
	// Debug is the initial debug level; Debug(level, ...) lines with level
	// above it are dropped.
	Debug int
	// Stderr, when set, receives every line in the file format (foreground
	// runs).
	Stderr io.Writer
	// Fallback receives the lines (like Stderr) when a log file cannot be
	// opened, besides syslog (facility daemon when none is configured).
	Fallback io.Writer

	// Entity is the program tag; default "heartbeat".
	Entity string
	// Pid is printed in every line; default os.Getpid().
	Pid int
	// Now is the clock; default time.Now (tests inject a fixed time).
	Now func() time.Time
	// SyslogPath is the syslog socket; default /dev/log.
	SyslogPath string
	// ReopenCheck is the rotation check interval; default 10 s, negative
	// disables the check.
	ReopenCheck time.Duration
}

// Logger writes heartbeat log lines. It is safe for concurrent use.
type Logger struct {
	o        Options
	facility int // -1: no syslog
	debug    atomic.Int32

	mu        sync.Mutex
	log, dbg  *logFile
	sys       *unixsock.Dgram
	lastCheck time.Time
}

// logFile is an open append-only log file with the identity it had when
// opened.
type logFile struct {
	path string
	f    *os.File
	ino  uint64
	dev  uint64
}

// facilities are the syslog facility names by code (as
// cl_syslogfac_str2int knows them; 12-15 have none). An array the linker
// lays out, not a map literal that init code would build.
var facilities = [...]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
	16: "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// facility returns the code of the syslog facility name.
func facility(name string) (int, bool) {
	for c, n := range facilities {
		if n == name && n != "" {
			return c, true
		}
	}
	return 0, false
}

// New opens the targets of o. A missing directory of a log file is
// created (a bare image may lack /var/log). A file that still cannot be
// opened is left out: the lines go to syslog (facility daemon when none is
// configured) and to Fallback instead, and one warning says so. A missing
// syslog socket is not an error (syslog is retried on later lines, as
// syslog() does). Only an unknown facility is an error.
func New(o Options) (*Logger, error) {
	if o.Entity == "" {
		o.Entity = "heartbeat"
	}
	if o.Pid == 0 {
		o.Pid = os.Getpid()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SyslogPath == "" {
		o.SyslogPath = DefaultSyslogPath
	}
	if o.ReopenCheck == 0 {
		o.ReopenCheck = DefaultReopenCheck
	}
	l := &Logger{o: o, facility: -1}
	l.debug.Store(int32(o.Debug))
	if o.Facility != "" && o.Facility != "none" {
		fac, ok := facility(strings.ToLower(o.Facility))
		if !ok {
			return nil, cli.Wrap("logfacility "+o.Facility, os.ErrInvalid)
		}
		l.facility = fac
	}
	var failed []string
	for _, x := range []struct {
		path string
		lf   **logFile
	}{{o.Logfile, &l.log}, {o.Debugfile, &l.dbg}} {
		if x.path == "" {
			continue
		}
		lf, err := openLog(x.path)
		if err != nil && os.IsNotExist(err) {
			if os.MkdirAll(filepath.Dir(x.path), 0o755) == nil {
				lf, err = openLog(x.path)
			}
		}
		if err != nil {
			failed = append(failed, err.Error())
			continue
		}
		*x.lf = lf
	}
	l.lastCheck = o.Now()
	if failed != nil {
		if l.facility < 0 {
			l.facility = 3 // daemon
		}
		if l.o.Stderr == nil {
			l.o.Stderr = o.Fallback
		}
		l.Warn("Cannot open log file (" + strings.Join(failed, "; ") + "): logging to syslog (facility " +
			facilityName(l.facility) + ") and stderr instead")
	}
	return l, nil
}

func facilityName(code int) string {
	if code >= 0 && code < len(facilities) && facilities[code] != "" {
		return facilities[code]
	}
	return strconv.Itoa(code)
}

func openLog(path string) (*logFile, error) {
	// Never through a planted symlink, never into a FIFO or device.
	f, err := safefile.OpenAppend(path, 0o644)
	if err != nil {
		return nil, err
	}
	lf := &logFile{path: path, f: f}
	if fi, err := f.Stat(); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			lf.ino, lf.dev = st.Ino, uint64(st.Dev)
		}
	}
	return lf, nil
}

func (lf *logFile) close() {
	if lf != nil && lf.f != nil {
		lf.f.Close()
		lf.f = nil
	}
}

// rotated reports whether the path no longer names the open file.
func (lf *logFile) rotated() bool {
	fi, err := os.Lstat(lf.path)
	if err != nil {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && (st.Ino != lf.ino || uint64(st.Dev) != lf.dev)
}

// reopen replaces the open file by a fresh open of its path; on failure
// the old file is kept.
func (lf *logFile) reopen() error {
	if lf == nil {
		return nil
	}
	n, err := openLog(lf.path)
	if err != nil {
		return err
	}
	lf.close()
	*lf = *n
	return nil
}

// Info logs at info priority.
func (l *Logger) Info(msg string) { l.Log(InfoPri, msg) }

// Notice logs at notice priority.
func (l *Logger) Notice(msg string) { l.Log(Notice, msg) }

// Warn logs at warning priority ("WARN").
func (l *Logger) Warn(msg string) { l.Log(Warning, msg) }

// Error logs at error priority ("ERROR").
func (l *Logger) Error(msg string) { l.Log(Err, msg) }

// Crit logs at critical priority ("CRIT").
func (l *Logger) Crit(msg string) { l.Log(Crit, msg) }

// Debug logs msg at debug priority when the debug level is at least level.
func (l *Logger) Debug(level int, msg string) {
	if l == nil || int(l.debug.Load()) < level {
		return
	}
	l.Log(DebugPri, msg)
}

// SetDebug sets the debug level (SIGUSR1/SIGUSR2 raise and lower it).
func (l *Logger) SetDebug(level int) {
	if l == nil {
		return
	}
	if level < 0 {
		level = 0
	}
	l.debug.Store(int32(level))
}

// DebugLevel returns the current debug level.
func (l *Logger) DebugLevel() int {
	if l == nil {
		return 0
	}
	return int(l.debug.Load())
}

// Log writes msg at priority p to every target that takes it. Control
// bytes in msg are escaped and msg is cut at MaxLine bytes, so one call is
// always one line of bounded length.
func (l *Logger) Log(p Priority, msg string) {
	if l == nil {
		return
	}
	l.write(p, "", msg)
}

// Tagged logs text under another program's tag, as the resource agents'
// shell library (ocf_log, logger -t TAG) does: the line reads "TAG: text"
// where heartbeat's own read "heartbeat: [pid]: prio: text", e.g.
// "Nov 25 13:14:54 alice IPaddr(IPaddr_10.0.0.5)[1234]: INFO: ...", so
// text carries its own level word. p is the syslog priority and picks the
// targets as for Log; debug lines need debug level 1. Tag and text are
// escaped and cut as Log's messages are.
func (l *Logger) Tagged(tag string, p Priority, text string) {
	if l == nil || p == DebugPri && l.DebugLevel() < 1 {
		return
	}
	l.write(p, sanitize(tag), text)
}

// write formats and writes one line; tag "" means heartbeat's own.
func (l *Logger) write(p Priority, tag, msg string) {
	now := l.o.Now()
	msg = sanitize(strings.TrimRight(msg, "\n"))
	line := l.fileLine(now, p, tag, msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.o.ReopenCheck > 0 && now.Sub(l.lastCheck) >= l.o.ReopenCheck {
		l.lastCheck = now
		for _, lf := range []*logFile{l.log, l.dbg} {
			if lf != nil && lf.rotated() {
				lf.reopen()
			}
		}
	}
	if l.dbg != nil && l.dbg.f != nil {
		l.dbg.f.WriteString(line)
	}
	if p != DebugPri && l.log != nil && l.log.f != nil {
		l.log.f.WriteString(line)
	}
	if l.o.Stderr != nil {
		io.WriteString(l.o.Stderr, line)
	}
	if l.facility >= 0 {
		l.syslog(now, p, tag, msg)
	}
}

// fileLine formats one file line per the syslogmsgfmt setting; with a
// tag, "TAG: msg" replaces "heartbeat: [pid]: prio: msg".
func (l *Logger) fileLine(t time.Time, p Priority, tag, msg string) string {
	var b strings.Builder
	b.Grow(64 + len(msg))
	if l.o.SyslogMsgFmt {
		b.WriteString(t.Format("Jan 02 15:04:05 "))
		b.WriteString(l.o.Node)
		b.WriteByte(' ')
	}
	if tag != "" {
		b.WriteString(tag)
		b.WriteString(": ")
	} else if l.o.SyslogMsgFmt {
		b.WriteString(l.o.Entity)
		b.WriteString(": [")
		b.WriteString(strconv.Itoa(l.o.Pid))
		b.WriteString("]: ")
	} else {
		b.WriteString(l.o.Entity)
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(l.o.Pid))
		b.WriteString("]: ")
	}
	if !l.o.SyslogMsgFmt {
		b.WriteString(t.Format("2006/01/02_15:04:05 "))
	}
	if tag == "" {
		b.WriteString(p.String())
		b.WriteString(": ")
	}
	b.WriteString(msg)
	b.WriteByte('\n')
	return b.String()
}

// SyslogLine returns the datagram glibc's syslog() sends for
// openlog(entity, LOG_CONS, facility) and the cl_log text: the RFC 3164
// header "<PRI>Mmm dd HH:MM:SS " (day space-padded), then
// "entity: [pid]: prio: text".
func SyslogLine(t time.Time, facility int, p Priority, entity string, pid int, msg string) string {
	var b strings.Builder
	b.WriteByte('<')
	b.WriteString(strconv.Itoa(facility<<3 | int(p)))
	b.WriteByte('>')
	b.WriteString(t.Format("Jan _2 15:04:05 "))
	b.WriteString(entity)
	b.WriteString(": [")
	b.WriteString(strconv.Itoa(pid))
	b.WriteString("]: ")
	b.WriteString(p.String())
	b.WriteString(": ")
	b.WriteString(msg)
	return b.String()
}

// syslog sends one line; the socket is (re)connected on demand so a
// restarted syslog daemon is picked up. Called with l.mu held.
func (l *Logger) syslog(t time.Time, p Priority, tag, msg string) {
	line := SyslogLine(t, l.facility, p, l.o.Entity, l.o.Pid, msg)
	if tag != "" {
		line = line[:strings.IndexByte(line, '>')+17] + tag + ": " + msg
	}
	for try := 0; try < 2; try++ {
		if l.sys == nil {
			s, err := unixsock.DialDgram(l.o.SyslogPath)
			if err != nil {
				return
			}
			l.sys = s
		}
		err := l.sys.Send([]byte(line))
		if err == nil || isAgain(err) {
			return // a full syslog queue drops the line rather than block
		}
		l.sys.Close()
		l.sys = nil
	}
}

func isAgain(err error) bool {
	var pe *os.PathError
	if e, ok := err.(*os.PathError); ok {
		pe = e
	}
	return pe != nil && (pe.Err == syscall.EAGAIN || pe.Err == syscall.ENOBUFS)
}

// Reopen closes and reopens the log files and the syslog socket (after log
// rotation; the daemon calls it on SIGHUP).
func (l *Logger) Reopen() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var first error
	for _, lf := range []*logFile{l.log, l.dbg} {
		if err := lf.reopen(); err != nil && first == nil {
			first = err
		}
	}
	if l.sys != nil {
		l.sys.Close()
		l.sys = nil
	}
	return first
}

// Close closes every target; later calls are dropped silently.
func (l *Logger) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.log.close()
	l.dbg.close()
	l.log, l.dbg = nil, nil
	if l.sys != nil {
		l.sys.Close()
		l.sys = nil
	}
	l.facility = -1
	l.o.Stderr = nil
	return nil
}
