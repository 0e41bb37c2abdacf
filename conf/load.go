package conf

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// File names inside the configuration directory.
const (
	HaCfFile        = "ha.cf"
	HaresourcesFile = "haresources"
	AuthkeysFile    = "authkeys"
	NodeinfoFile    = "nodeinfo"
)

// Load reads dir/ha.cf, dir/authkeys and dir/haresources, and runs the
// cross checks heartbeat 3.0.6 performs before starting (init_config, in
// its order), then checks haresources against the nodes. localNode is
// this node's name (uname -n); the first line of dir/nodeinfo, when that
// file exists, overrides it. Opening and stat-ing these files is the only
// I/O. Every problem of every file is returned as one ErrorList; warnings
// are in Config.Warnings. The Config is returned even when there are
// errors, as far as it could be read.
func Load(dir, localNode string) (*Config, error) {
	c := &Config{Dir: dir, LocalNode: strings.ToLower(localNode)}
	var errs ErrorList
	add := func(err error) {
		if l, ok := err.(ErrorList); ok {
			errs = append(errs, l...)
		}
	}

	if n, ok := readNodeinfo(filepath.Join(dir, NodeinfoFile)); ok {
		c.LocalNode = n
	}

	// ha.cf (parse_config)
	hp := filepath.Join(dir, HaCfFile)
	if f, err := os.Open(hp); err != nil {
		errs = append(errs, &Error{File: hp, Msg: openMsg(err) + " (heartbeat 3.0.6: Cannot open config file [" + hp + "]); " +
			"an annotated sample ha.cf is provided in the documentation: copy it to " + hp + ", read it, customize it, and try again"})
	} else {
		cf, w, perr := ParseHaCf(hp, f)
		f.Close()
		c.HaCf = cf
		c.Warnings = append(c.Warnings, w...)
		add(perr)
	}

	// authkeys (parse_authfile)
	ap := filepath.Join(dir, AuthkeysFile)
	if f, err := os.Open(ap); err != nil {
		errs = append(errs, &Error{File: ap, Msg: openMsg(err) + " (heartbeat 3.0.6: Cannot open keyfile [" + ap + "].  Stop.); create it with: auth 1 / 1 sha1 <secret>, mode 600"})
	} else {
		var mode os.FileMode
		if st, err := f.Stat(); err == nil {
			mode = st.Mode()
			if sys, ok := st.Sys().(*syscall.Stat_t); ok {
				if e := AuthkeysOwnerError(ap, PasswdFile, int(sys.Uid), os.Geteuid()); e != nil {
					errs = append(errs, e)
				}
			}
		}
		a, perr := ParseAuthkeys(ap, f, mode)
		f.Close()
		c.Auth = a
		c.Warnings = append(c.Warnings, a.Warnings...)
		add(perr)
	}

	if c.HaCf != nil {
		e, w := checkHaCf(c.HaCf, c.LocalNode)
		errs = append(errs, e...)
		c.Warnings = append(c.Warnings, w...)
	}

	// haresources (parse_ha_resources, R1 mode)
	rp := filepath.Join(dir, HaresourcesFile)
	if f, err := os.Open(rp); err != nil {
		errs = append(errs, &Error{File: rp, Msg: openMsg(err) + " (heartbeat 3.0.6: Cannot open resources file [" + rp + "]); " +
			"an annotated sample haresources file is provided in the documentation: copy it to " + rp + ", read it, customize it, and try again"})
	} else {
		var nodes []string
		if c.HaCf != nil {
			nodes = c.HaCf.Nodes
		}
		h, perr := ParseHaresources(rp, f, nodes)
		f.Close()
		c.Resources = h
		add(perr)
	}

	if len(errs) > 0 {
		return c, errs
	}
	return c, nil
}

// openMsg words an open error without the path (the Error carries it).
func openMsg(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	if os.IsNotExist(err) {
		return "missing"
	}
	return "cannot open: " + err.Error()
}

// readNodeinfo returns the lower-cased first line of a nodeinfo file.
func readNodeinfo(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	first, got := "", false
	readLines(f, func(l rawLine) {
		if !got {
			first, got = l.text, true
		}
	})
	first = strings.ToLower(strings.Trim(first, whitespace))
	return first, first != ""
}

// checkHaCf runs init_config's checks (3.0.6 order) that need more than
// one directive or the local node name.
func checkHaCf(cf *HaCf, local string) (ErrorList, []Warning) {
	c := &hacfCheck{cf: cf}
	c.nodesAndMedia(local)
	c.times()
	c.uplink()
	c.logging()
	c.r1()
	return c.errs, c.warns
}

// hacfCheck collects the errors and warnings of checkHaCf, each tied to
// the line of the directive it is about.
type hacfCheck struct {
	cf    *HaCf
	errs  ErrorList
	warns []Warning
}

func (c *hacfCheck) fail(dir string, tok, msg string) {
	c.errs = append(c.errs, &Error{File: c.cf.File, Line: c.cf.Lines[dir], Directive: dir, Token: tok, Msg: msg})
}

func (c *hacfCheck) warn(dir, msg string) {
	c.warns = append(c.warns, Warning{File: c.cf.File, Line: c.cf.Lines[dir], Msg: msg})
}

// nodesAndMedia: some medium, some node, and this node among them.
func (c *hacfCheck) nodesAndMedia(local string) {
	cf := c.cf
	badMedia := false
	for _, m := range []string{"bcast", "mcast", "ucast", "serial", "ping", "ping6", "ping_group", "mcast6", "ucast6"} {
		badMedia = badMedia || cf.bad[m]
	}
	if len(cf.Media) == 0 && len(cf.PingNodes) == 0 && !badMedia {
		c.fail("", "", "no heartbeat medium: add a bcast, mcast, ucast or serial line (heartbeat 3.0.6: No heartbeat media defined)")
	}
	if len(cf.Nodes) == 0 && !cf.bad["node"] {
		c.fail("", "", "no node lines: declare every cluster node with node <name> (heartbeat 3.0.6: no nodes defined)")
	}
	if local == "" {
		c.fail("node", "", "the local node name is unknown (uname -n is empty and there is no nodeinfo file)")
	} else if len(cf.Nodes) > 0 && !slices.Contains(cf.Nodes, local) {
		c.fail("node", local, "this node is not declared (heartbeat 3.0.6: Current node ["+local+"] not in configuration!); "+
			"by default, cluster nodes are named by `uname -n` and must be declared with a 'node' directive in the ha.cf file "+
			"(declared: "+strings.Join(cf.Nodes, ", ")+")")
	}
}

// times: deadtime, initdead and deadping against keepalive, and what a
// serial line can carry at that keepalive.
func (c *hacfCheck) times() {
	cf := c.cf
	ka, dt := cf.Keepalive.Milliseconds(), cf.Deadtime.Milliseconds()
	timesOK := !cf.bad["keepalive"] && !cf.bad["deadtime"]
	if timesOK && dt <= 2*ka {
		c.fail("deadtime", "", "deadtime must be more than twice keepalive (heartbeat 3.0.6: Dead time ["+
			strconv.FormatInt(dt, 10)+"] is too small compared to keeplive ["+strconv.FormatInt(ka, 10)+"])")
	}
	id := cf.Initdead.Milliseconds()
	if !cf.bad["initdead"] && !cf.bad["deadtime"] {
		if id < dt {
			c.fail("initdead", "", "initdead must be >= deadtime (heartbeat 3.0.6: Initial dead time ["+
				strconv.FormatInt(id, 10)+"] is smaller than deadtime ["+strconv.FormatInt(dt, 10)+"])")
		} else if cf.Initdead < 10*time.Second {
			c.warn("initdead", "Initial dead time ["+strconv.FormatInt(id, 10)+" ms] may be too small! "+
				"Initial dead time accounts for slow network startup time. It should be >= deadtime and >= 10 seconds")
		}
	}
	if cf.Set["deadping"] && !cf.bad["keepalive"] && cf.Deadping.Milliseconds() <= 2*ka {
		c.fail("deadping", "", "deadping must be more than twice keepalive (heartbeat 3.0.6: Ping dead time ["+
			strconv.FormatInt(cf.Deadping.Milliseconds(), 10)+"] is too small compared to keeplive ["+strconv.FormatInt(ka, 10)+"])")
	}
	if !cf.bad["keepalive"] {
		for _, m := range cf.Media {
			if m.Type == Serial {
				if msg := SerialLoad(m.Dev, m.Baud, cf.Keepalive); msg != "" {
					c.warns = append(c.warns, Warning{File: cf.File, Line: m.Line, Msg: msg})
				}
			}
		}
	}
}

// uplink: ipfail's policy and ping nodes belong together; respawn lines
// must name runnable programs.
func (c *hacfCheck) uplink() {
	cf := c.cf
	if cf.IPFail && len(cf.PingNodes) == 0 && len(cf.TrackCarrier) == 0 {
		c.warn("habox_ipfail", "ipfail's policy has nothing to compare: add ping or ping_group nodes (or habox_track_carrier)")
	}
	if len(cf.PingNodes) > 0 && !cf.IPFail {
		c.warn("ping", "ping nodes without ipfail's policy only log: add habox_ipfail on (or respawn hacluster /usr/libexec/heartbeat/ipfail) to fail over when the uplink dies")
	}
	for _, r := range cf.Respawns {
		if msg := checkRespawn(r, PasswdFile); msg != "" {
			c.errs = append(c.errs, &Error{File: cf.File, Line: r.Line, Directive: "respawn", Token: short(r.User + " " + r.Path), Msg: msg})
		}
	}
}

// logging is 3.0.6's check_logd_usage: where the logs go without logd.
func (c *hacfCheck) logging() {
	cf := c.cf
	// check_logd_usage
	syslog := syslogFacility(cf.Logfacility)
	logdDefaults := LogdLogfile + ", " + LogdDebugfile + " and syslog facility " + LogdFacility
	if cf.noLogTarget() {
		switch {
		case !cf.Set["use_logd"]:
			c.warn("", "No log entry found in ha.cf: habox logs where heartbeat 3.0.6's logd would by default, to "+
				logdDefaults+"; add logfile, debugfile or logfacility to choose")
		case !cf.UseLogd:
			c.fail("use_logd", "", "no logfile, debugfile or logfacility and use_logd off: nothing would be logged (heartbeat 3.0.6: No log entry found in ha.cf and use_logd is set to off)")
		default:
			c.warn("use_logd", "use_logd on: habox has no logging daemon and logs to logd's defaults itself, "+
				logdDefaults+"; add logfile, debugfile or logfacility to choose")
		}
	} else if cf.Set["use_logd"] && cf.UseLogd {
		c.warn("use_logd", "use_logd on: habox has no logging daemon and logs to the configured logfile/debugfile/logfacility itself")
	}
	if syslog {
		if cf.Logfile == "" {
			cf.Logfile = "/dev/null"
			cf.Raw["logfile"] = "/dev/null"
		}
		if cf.Debugfile == "" {
			cf.Debugfile = "/dev/null"
			cf.Raw["debugfile"] = "/dev/null"
		}
	}
}

// r1 is 3.0.6's r1_style_valid: haresources mode excludes autojoin.
func (c *hacfCheck) r1() {
	cf := c.cf
	// r1_style_valid
	if aj := cf.Raw["autojoin"]; aj != "" && !strings.EqualFold(aj, "none") && !cf.bad["autojoin"] {
		c.fail("autojoin", aj, "habox runs R1 (haresources) resource management only: remove autojoin or set it to none "+
			"(heartbeat 3.0.6: R1 style resource management conflicts with  autojoin set / You need either unset autojoin or enable crm)")
	}
}

// StatusBytes is about the size of a status message on a serial line
// (classic text with framing); other messages and retransmissions come on
// top.
const StatusBytes = 220

// SerialLoad returns a warning when the statuses alone keep a serial line
// at least half busy: StatusBytes every keepalive, 10 bits a byte (8N1)
// against the baud rate. "" when the line has room.
func SerialLoad(dev string, baud int, keepalive time.Duration) string {
	if baud <= 0 || keepalive <= 0 {
		return ""
	}
	bps := int64(StatusBytes*10) * int64(time.Second) / int64(keepalive)
	pct := bps * 100 / int64(baud)
	if pct < 50 {
		return ""
	}
	msg := "serial " + dev + ": a status message (~" + strconv.Itoa(StatusBytes) + " bytes) every keepalive " +
		strconv.FormatInt(keepalive.Milliseconds(), 10) + " ms is " + strconv.FormatInt(bps, 10) + " bit/s, " +
		strconv.FormatInt(pct, 10) + " % of " + strconv.Itoa(baud) + " baud"
	if pct >= 100 {
		msg += ": the line cannot carry it"
	} else {
		msg += ", leaving little room for resource messages and retransmissions"
	}
	// The keepalive at which the statuses take a third of the line.
	ka := int64(StatusBytes*10*3) * 1000 / int64(baud)
	return msg + " (raise baud, or keepalive to " + strconv.FormatInt(ka, 10) + " ms or more)"
}

// The targets heartbeat 3.0.6 ends up with when ha.cf names none of
// logfile, debugfile and logfacility: its messages then go to ha_logd,
// whose defaults (no /etc/logd.cf) are these (spec 6.1). habox has no
// logd and writes them itself.
const (
	LogdLogfile   = "/var/log/ha-log"
	LogdDebugfile = "/var/log/ha-debug"
	LogdFacility  = "daemon"
)

// noLogTarget reports whether ha.cf names no usable log target (3.0.6's
// check_logd_usage: no file, and no facility a process may log to).
func (cf *HaCf) noLogTarget() bool {
	return cf.Logfile == "" && cf.Debugfile == "" && !syslogFacility(cf.Logfacility)
}

// syslogFacility reports whether a logfacility value sends lines to syslog
// ("none" does not, and a process cannot log as kern).
func syslogFacility(f string) bool { return f != "" && f != "none" && f != "kern" }

// LogTargets returns where the daemon logs: the configured logfile,
// debugfile and facility, or logd's defaults (LogdLogfile, LogdDebugfile,
// LogdFacility) when ha.cf names no usable target.
func (cf *HaCf) LogTargets() (logfile, debugfile, facility string) {
	if cf.noLogTarget() {
		return LogdLogfile, LogdDebugfile, LogdFacility
	}
	return cf.Logfile, cf.Debugfile, cf.Logfacility
}
