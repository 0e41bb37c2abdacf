package conf

import (
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of heartbeat 3.0.6 (heartbeat.h).
const (
	MaxNodes    = 100 // MAXNODE
	MaxNodeName = 99  // HOSTLENG - 1
	MaxMedia    = 64  // MAXMEDIA
)

// DefaultUDPPort is heartbeat's port (service ha-cluster) when udpport is
// not given. habox does not read /etc/services.
const DefaultUDPPort = 694

// Baud rates heartbeat 3.0.6 accepts.
var baudRates = []int{9600, 19200, 38400, 57600, 115200, 230400, 460800}

// syslog facility names accepted by cluster-glue (glibc's facilitynames
// table) plus "none".
var facilities = []string{"auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr",
	"mail", "mark", "news", "security", "syslog", "user", "uucp",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7", "none"}

// directive kinds
const (
	optList   = iota // value list split on DELIMS, each token applied
	wholeLine        // the rest of the line is parsed by the handler
)

// directive is one ha.cf keyword.
type directive struct {
	name    string
	kind    int
	record  bool   // recorded in Set/Raw (3.0.6 record_value)
	ignored bool   // accepted but without effect in habox
	habox   bool   // habox only: 3.0.6 rejects it
	def     string // built-in default printed by heartbeat -D ("" none)
	expl    string // heartbeat -D explanation
	// set applies one token (optList) or the rest of the line (wholeLine);
	// it records its own errors and returns false on failure.
	set func(p *hacfParser, v string) bool
}

// directiveByName indexes directives.
var directiveByName map[string]*directive

func init() {
	directiveByName = make(map[string]*directive, len(directives))
	for _, d := range directives {
		directiveByName[d.name] = d
	}
}

// directives in the order of heartbeat 3.0.6's tables (config.c
// Directives[], WLdirectives[], then the HBcomm plugins Debian ships).
var directives = []*directive{
	{name: "cluster", record: true, def: "linux-ha", expl: "the name of cluster", set: setCluster},
	{name: "node", set: setNode},
	{name: "hopfudge", record: true, def: "1", expl: "# of hops above cluster size", set: setHopfudge},
	{name: "keepalive", record: true, def: "1000ms", expl: "keepalive time", set: setKeepalive},
	{name: "deadtime", record: true, def: "30000ms", expl: "node deadtime", set: setDeadtime},
	{name: "deadping", record: true, expl: "ping deadtime", set: setDeadping},
	{name: "initdead", record: true, expl: "initial deadtime", set: setInitdead},
	{name: "warntime", record: true, expl: "warning time", set: setWarntime},
	{name: "watchdog", record: true, expl: "watchdog device", set: setWatchdog},
	{name: "baud", record: true, def: "19200", expl: "baud rate", set: setBaud},
	{name: "udpport", record: true, expl: "UDP port number", set: setUDPPort},
	{name: "logfacility", record: true, expl: "syslog log facility", set: setFacility},
	{name: "logfile", record: true, expl: "log file", set: setLogfile},
	{name: "debugfile", record: true, expl: "debug file", set: setDebugfile},
	{name: "nice_failback", set: setNiceFailback},
	{name: "auto_failback", record: true, def: "legacy", expl: "auto failback", set: setAutoFailback},
	{name: "rtprio", record: true, expl: "realtime priority", set: setRtprio},
	{name: "hbgenmethod", record: true, def: "file", expl: "protocol generation computation method", set: setGenMethod},
	{name: "realtime", record: true, def: "true", expl: "enable realtime behavior?", set: setRealtime},
	{name: "debug", record: true, expl: "debug level", set: setDebug},
	{name: "msgfmt", record: true, def: "classic", expl: "message format in the wire", set: setMsgfmt},
	{name: "use_logd", record: true, expl: "use logging daemon", set: setUseLogd},
	{name: "conn_logd_time", record: true, ignored: true, def: "60", expl: "the interval to reconnect to logd", set: setConnLogdTime},
	{name: "use_apphbd", expl: "register with apphbd", set: checkBool},
	{name: "log_badpack", record: true, def: "true", expl: "warn about bad packets", set: setLogBadpack},
	{name: "syslogmsgfmt", record: true, def: "true", expl: "log to files in syslog format", set: setSyslogFmt},
	{name: "coredumps", record: true, def: "true", expl: "enable Linux-HA core dumps", set: setCoredumps},
	{name: "coreroot", record: true, ignored: true, expl: "set root directory of core dump area", set: acceptAny},
	{name: "crm_daemon_dir", record: true, ignored: true, expl: "location for Pacemaker daemons", set: setBeforePacemaker},
	{name: "crmd_spawns_pengine", record: true, ignored: true, expl: "should pengine be spawned directly by heartbeat", set: setBeforePacemakerBool},
	{name: "crm", expl: "historical alias for 'pacemaker'", set: setCrm},
	{name: "pacemaker", record: true, def: "false", expl: "enable Pacemaker resource management", set: setPacemaker},
	{name: "autojoin", record: true, def: "none", expl: "set automatic join mode/style", set: setAutojoin},
	{name: "uuidfrom", record: true, def: "file", expl: "set the source for uuid", set: setUUIDFrom},
	{name: "compression", record: true, ignored: true, def: "zlib", expl: "set compression module", set: setCompression},
	{name: "compression_threshold", record: true, ignored: true, def: "2", expl: "set compression threshold", set: setCompressionThreshold},
	{name: "traditional_compression", record: true, ignored: true, def: "no", expl: "set traditional_compression", set: checkBool},
	{name: "env", expl: "set environment variable for respawn clients and resource scripts", set: setEnv},
	{name: "max_rexmit_delay", record: true, def: "250", expl: "set the maximum rexmit delay time", set: setMaxRexmitDelay},
	{name: "record_config_changes", record: true, ignored: true, def: "on", expl: "record changes to the cib (valid only with: pacemaker on)", set: checkBool},
	{name: "record_pengine_inputs", record: true, ignored: true, def: "on", expl: "record the input used by the policy engine (valid only with: pacemaker on)", set: checkBool},
	{name: "enable_config_writes", record: true, ignored: true, def: "on", expl: "write configuration changes to disk (valid only with: pacemaker on)", set: checkBool},
	{name: "memreserve", record: true, ignored: true, def: "6500", expl: "number of kbytes to preallocate in heartbeat", set: setMemreserve},
	{name: "quorum_server", record: true, ignored: true, expl: "the name or ip of quorum server", set: acceptAny},

	{name: "stonith", kind: wholeLine, set: unsupportedLine},
	{name: "stonith_host", kind: wholeLine, set: unsupportedLine},
	{name: "apiauth", kind: wholeLine, set: setAPIAuth},
	{name: "respawn", kind: wholeLine, set: addRespawn},
	{name: "failfast", kind: wholeLine, set: unsupportedLine},

	{name: "bcast", set: addBcast},
	{name: "mcast", kind: wholeLine, set: addMcast},
	{name: "mcast6", kind: wholeLine, set: unsupportedLine},
	{name: "ping", set: addPing},
	{name: "ping6", set: unsupportedToken},
	{name: "ping_group", kind: wholeLine, set: addPingGroup},
	{name: "serial", set: addSerial},
	{name: "ucast", kind: wholeLine, set: addUcast},
	{name: "ucast6", kind: wholeLine, set: unsupportedLine},

	// habox only (heartbeat 3.0.6 calls them Illegal directive).
	{name: "habox_ipfail", record: true, habox: true, expl: "ipfail's policy built in", set: setIPFail},
	{name: "habox_track_carrier", habox: true, expl: "carrier loss counts as uplink loss", set: addTrackCarrier},
}

// Unsupported lists the directives heartbeat 3.0.6 accepts that habox
// does not implement, and what habox does when it meets them.
var Unsupported = []struct{ Directive, Handling, Reason string }{
	{"crm, pacemaker", "error unless false (off/no/n/0)", "habox is R1 (haresources) mode only; there is no CRM/Pacemaker"},
	{"crm_daemon_dir, crmd_spawns_pengine, record_config_changes, record_pengine_inputs, enable_config_writes, quorum_server", "accepted, ignored (syntax checked)", "only meaningful with pacemaker on"},
	{"stonith, stonith_host", "error", "habox has no STONITH plugins; running without the fencing the sysadmin configured would be unsafe"},
	{"respawn of a heartbeat API client (ccm, dopd, crmd, cib, attrd, ...), failfast", "error", "habox has no client API, so those clients cannot run; silently dropping them would change failover (and failfast's reboot guarantee). respawn of ipfail enables habox's built-in ipfail policy instead"},
	{"apiauth", "warning, ignored (syntax checked)", "habox has no client API; its control socket is root-only, so there is nothing to authorise"},
	{"ping6", "error", "habox has no IPv6 ping nodes"},
	{"mcast6, ucast6", "error", "habox has no IPv6 media"},
	{"autojoin other|any", "error (3.0.6's own R1 check)", "R1 resource management conflicts with autojoin"},
	{"use_logd on", "warning", "habox has no logging daemon; it logs to logfile/debugfile/syslog itself"},
	{"compression, compression_threshold, traditional_compression, memreserve, coreroot, conn_logd_time, env, use_apphbd", "accepted, ignored (syntax checked)", "no effect on an R1 two-node cluster with small messages"},
}

// hacfParser is the state of one ParseHaCf run.
type hacfParser struct {
	file  string
	cf    *HaCf
	errs  ErrorList
	warns []Warning
	ln    int    // current line
	dir   string // current directive

	bcastPort, ucastPort int // udpport latched by the first medium of the type
	serialBaud           int // baud latched by the first serial medium
	firstUDPMediaLine    int
	firstSerialLine      int
	udpport              int // current udpport value, 0 = not given
	baudSeen             bool
	watchdogSeen         bool
	pacemakerSeen        bool
	niceFailback         bool // 3.0.6's nice_failback variable
	nodeDecls            int  // node declarations, repeats included (3.0.6 counts them)
	ipfailLine           bool // a respawn line for ipfail
	ipfailOn, ipfailSet  bool // habox_ipfail
}

func (p *hacfParser) errorf(tok, msg string) {
	p.errs = append(p.errs, &Error{File: p.file, Line: p.ln, Directive: p.dir, Token: short(tok), Msg: msg})
}

func (p *hacfParser) warnf(msg string) {
	p.warns = append(p.warns, Warning{File: p.file, Line: p.ln, Msg: msg})
}

// ParseHaCf reads an ha.cf as heartbeat 3.0.6 does and applies the
// built-in defaults. name is the file name used in messages. The returned
// error, if any, is an ErrorList holding every problem of the file; the
// cross checks that need the other files (local node, timings) are done
// by Load. The HaCf is returned even when there are errors.
func ParseHaCf(name string, r io.Reader) (*HaCf, []Warning, error) {
	p := &hacfParser{file: name, cf: &HaCf{
		File: name, Set: map[string]bool{}, Raw: map[string]string{},
		Lines: map[string]int{}, bad: map[string]bool{},
	}}
	err := readLines(r, func(l rawLine) {
		p.ln, p.dir = l.n, ""
		if l.tooLong > 0 {
			p.errs = append(p.errs, tooLongError(name, l))
			return
		}
		if l.nul {
			p.warns = append(p.warns, nulWarning(name, l))
		}
		p.line(l.text)
	})
	if err != nil {
		p.errs = append(p.errs, &Error{File: name, Msg: "read error: " + err.Error()})
	}
	p.ln, p.dir = 0, ""
	p.defaults()
	if len(p.errs) > 0 {
		return p.cf, p.warns, p.errs
	}
	return p.cf, p.warns, nil
}

// line handles one line as parse_config does.
func (p *hacfParser) line(s string) {
	bp := skip(s, isWS)
	if i := strings.IndexByte(bp, '#'); i >= 0 {
		bp = bp[:i]
	}
	if i := strings.IndexAny(bp, "\r\n"); i >= 0 {
		bp = bp[:i]
	}
	if bp == "" {
		return
	}
	name, rest := cut(bp, isWS)
	if name == "udp" {
		p.warnf("directive 'udp' replaced by 'bcast' (heartbeat 3.0.6: WARNING: directive 'udp' replaced by 'bcast')")
		name = "bcast"
	}
	d := directiveByName[name]
	if d == nil {
		p.errorf(name, "unknown directive (heartbeat 3.0.6: Illegal directive ["+name+"] in "+p.file+")")
		return
	}
	p.dir = name
	if d.habox {
		p.warnf(name + " is habox-only: heartbeat 3.0.6 refuses it (Illegal directive), so keep it out of a 3.0.6 node's ha.cf; a 3.0.6 peer just ignores its effect")
	}
	rest = skip(rest, isDelim)
	if d.kind == wholeLine {
		if d.set(p, rest) {
			p.cf.Set[name] = true
			p.cf.Lines[name] = p.ln
		}
		return
	}
	toks := fields(rest, isDelim)
	if len(toks) == 0 {
		p.warnf(name + " without a value is ignored (as heartbeat 3.0.6 does)")
		return
	}
	for _, t := range toks {
		if !d.set(p, t) {
			p.cf.bad[name] = true
			continue
		}
		if d.record {
			p.cf.Set[name] = true
			p.cf.Raw[name] = t
			p.cf.Lines[name] = p.ln
		}
	}
}

// defaults applies the built-in defaults to every directive not given, as
// init_config does after parse_config (warntime, initdead and deadping are
// derived from deadtime).
func (p *hacfParser) defaults() {
	cf := p.cf
	for _, d := range directives {
		if d.def == "" || cf.Set[d.name] {
			continue
		}
		switch d.name {
		case "baud":
			cf.Baud = 19200
		case "pacemaker":
			// not given (or refused): nothing to apply
		case "auto_failback":
			// set_auto_failback("legacy"): unless nice_failback
			// already chose off, legacy it is.
			if !p.niceFailback {
				cf.AutoFailback = FailbackLegacy
			}
		default:
			d.set(p, d.def)
		}
		cf.Raw[d.name] = d.def
	}
	if cf.Warntime <= 0 {
		cf.Warntime = (cf.Deadtime / 2).Truncate(time.Millisecond)
		cf.Raw["warntime"] = msString(cf.Warntime)
	}
	if !cf.Set["initdead"] {
		switch dt := cf.Deadtime; {
		case dt > 10*time.Second:
			cf.Initdead = dt
		case dt < 6*time.Second:
			cf.Initdead = 12 * time.Second
		default:
			cf.Initdead = 2 * dt
		}
		cf.Raw["initdead"] = msString(cf.Initdead)
	}
	if !cf.Set["deadping"] {
		cf.Deadping = cf.Deadtime
		cf.Raw["deadping"] = msString(cf.Deadping)
	}
	if !cf.Set["udpport"] {
		cf.UDPPort = DefaultUDPPort
		cf.Raw["udpport"] = strconv.Itoa(DefaultUDPPort)
	}
	if !cf.Set["debug"] {
		cf.Raw["debug"] = "0"
	}
	cf.IPFail = p.ipfailOn || ((p.ipfailLine || len(cf.TrackCarrier) > 0) && !p.ipfailSet)
	if cf.IPFail && cf.AutoFailback == FailbackLegacy {
		if p.ipfailSet {
			p.ln, p.dir = cf.Lines["habox_ipfail"], "habox_ipfail"
			p.errorf("on", "ipfail's policy needs auto_failback on or off (ipfail refuses legacy)")
			p.ln, p.dir = 0, ""
		} else {
			p.warnf("ipfail's policy refuses auto_failback legacy (ipfail exits 100): the built-in ipfail policy and habox_track_carrier stay off")
		}
		cf.IPFail = false
	}
	if cf.AutoFailback == FailbackLegacy {
		p.warnf("Deprecated 'legacy' auto_failback option selected.")
		p.warnf("Please convert to 'auto_failback on'.")
		p.warnf("See documentation for conversion details.")
	}
}

// timeDirective parses a time token; min is the smallest valid ms value.
func (p *hacfParser) timeValue(v string, min int64, dst *time.Duration) bool {
	ms, ok := getMsec(v)
	if !ok || ms < min {
		what := "must be >= 0"
		if min > 0 {
			what = "must be > 0"
		}
		if !ok {
			p.errorf(v, "invalid time: write seconds (2, 1.5) or milliseconds glued to the number (500ms); "+what)
		} else {
			p.errorf(v, "invalid time: "+what)
		}
		return false
	}
	*dst = time.Duration(ms) * time.Millisecond
	return true
}

// intValue parses an atoi token within [min, max]. A token that is not a
// clean number is read as C's atoi would, with a warning.
func (p *hacfParser) intValue(v string, min, max int64, msg string) (int64, bool) {
	n, clean := atoi(v)
	if n < min || n > max {
		if msg == "" {
			msg = "must be a number from " + strconv.FormatInt(min, 10) + " to " + strconv.FormatInt(max, 10)
		}
		p.errorf(v, msg)
		return 0, false
	}
	if !clean {
		p.warnf(p.dir + " [" + short(v) + "] is not a plain number: read as " + strconv.FormatInt(n, 10) + " (as heartbeat 3.0.6's atoi does)")
	}
	return n, true
}

func (p *hacfParser) boolValue(v string, dst *bool) bool {
	b, ok := ParseBool(v)
	if !ok {
		p.errorf(v, "not a boolean: use on/off, yes/no, true/false, y/n, 1/0")
		return false
	}
	*dst = b
	return true
}

func setCluster(p *hacfParser, v string) bool { p.cf.Cluster = v; return true }

func setNode(p *hacfParser, v string) bool {
	n := strings.ToLower(v)
	if len(n) > MaxNodeName {
		p.errorf(v, "node name longer than "+strconv.Itoa(MaxNodeName)+" characters")
		return false
	}
	// 3.0.6 adds a repeated node again, so repeats count against MAXNODE.
	p.nodeDecls++
	if p.nodeDecls > MaxNodes {
		p.errorf(v, "too many node declarations: heartbeat 3.0.6 allows "+strconv.Itoa(MaxNodes)+" (repeats count)")
		return false
	}
	if slices.Contains(p.cf.Nodes, n) {
		p.warnf("node [" + n + "] declared twice; the repeat is ignored")
		return true
	}
	p.cf.Nodes = append(p.cf.Nodes, n)
	p.cf.Order = append(p.cf.Order, n)
	p.cf.Set["node"] = true
	p.cf.Lines["node"] = p.ln
	return true
}

func setHopfudge(p *hacfParser, v string) bool {
	n, ok := p.intValue(v, 0, 255, "")
	if ok {
		p.cf.HopFudge = int(n)
	}
	return ok
}

func setKeepalive(p *hacfParser, v string) bool { return p.timeValue(v, 1, &p.cf.Keepalive) }
func setDeadtime(p *hacfParser, v string) bool  { return p.timeValue(v, 0, &p.cf.Deadtime) }
func setDeadping(p *hacfParser, v string) bool  { return p.timeValue(v, 0, &p.cf.Deadping) }
func setInitdead(p *hacfParser, v string) bool  { return p.timeValue(v, 0, &p.cf.Initdead) }

func setWarntime(p *hacfParser, v string) bool {
	ms, ok := getMsec(v)
	if !ok || ms <= 0 {
		p.errorf(v, "invalid time, must be > 0 (heartbeat 3.0.6: Warn time ["+v+"] is invalid.)")
		return false
	}
	p.cf.Warntime = time.Duration(ms) * time.Millisecond
	return true
}

func setWatchdog(p *hacfParser, v string) bool {
	if p.watchdogSeen {
		p.errorf(v, "given twice (heartbeat 3.0.6: Watchdog device multiply specified.)")
		return false
	}
	p.watchdogSeen = true
	p.cf.Watchdog = v
	return true
}

func setBaud(p *hacfParser, v string) bool {
	if p.baudSeen {
		p.errorf(v, "given twice (heartbeat 3.0.6: Baudrate multiply specified.)")
		return false
	}
	p.baudSeen = true
	n, _ := atoi(v)
	for _, b := range baudRates {
		if int64(b) == n {
			if _, clean := atoi(v); !clean {
				p.warnf("baud [" + short(v) + "] is not a plain number: read as " + strconv.Itoa(b))
			}
			p.cf.Baud = b
			if p.firstSerialLine > 0 && b != p.serialBaud {
				p.warnf("baud " + v + " comes after the serial medium of line " + strconv.Itoa(p.firstSerialLine) +
					": heartbeat 3.0.6 fixes the speed when the first serial line is read, so the serial media keep " +
					strconv.Itoa(p.serialBaud) + " baud; put baud before the serial lines")
			}
			return true
		}
	}
	p.errorf(v, "invalid baud rate: use 9600, 19200, 38400, 57600, 115200, 230400 or 460800 (heartbeat 3.0.6: invalid baudrate ["+v+"] specified.)")
	return false
}

func setUDPPort(p *hacfParser, v string) bool {
	n, clean := atoi(v)
	if n <= 0 {
		p.errorf(v, "invalid port (heartbeat 3.0.6: invalid port ["+v+"] specified.)")
		return false
	}
	if n > 65535 {
		p.errorf(v, "invalid port: must be 1..65535")
		return false
	}
	if !clean {
		p.warnf("udpport [" + short(v) + "] is not a plain number: read as " + strconv.FormatInt(n, 10))
	}
	p.udpport = int(n)
	p.cf.UDPPort = int(n)
	if (p.bcastPort != 0 && p.bcastPort != int(n)) || (p.ucastPort != 0 && p.ucastPort != int(n)) {
		p.warnf("udpport " + v + " comes after the bcast/ucast medium of line " + strconv.Itoa(p.firstUDPMediaLine) +
			": heartbeat 3.0.6 fixes the port when the first medium of a type is read, so those media keep their port; put udpport before the media lines")
	}
	return true
}

func setFacility(p *hacfParser, v string) bool {
	for _, f := range facilities {
		if f == v {
			p.cf.Logfacility = v
			return true
		}
	}
	p.errorf(v, "unknown syslog facility: use none, daemon, local0..local7, user, auth, ... (heartbeat 3.0.6: Log facility("+v+") not valid)")
	return false
}

func setLogfile(p *hacfParser, v string) bool   { p.cf.Logfile = v; return true }
func setDebugfile(p *hacfParser, v string) bool { p.cf.Debugfile = v; return true }

func setNiceFailback(p *hacfParser, v string) bool {
	b, ok := ParseBool(v)
	p.warnf("nice_failback flag is obsolete.. Use auto_failback {on, off, legacy} instead.")
	switch {
	case !ok:
	case p.niceFailback: // an auto_failback on/off line came first: 3.0.6 and the guide agree
		p.warnf("'nice_failback " + v + "' has been changed to 'auto_failback off'")
		p.cf.AutoFailback = FailbackOff
	case b:
		// The guide's meaning ("do not take the resources back"), not
		// 3.0.6's (which ignores the value: legacy on its own).
		p.warnf("'nice_failback " + v + "' read as 'auto_failback off': resources stay where they are, as the guide says (heartbeat 3.0.6 reads it as 'auto_failback legacy', which always fails back); write 'auto_failback off' instead, on both nodes")
		p.niceFailback = true
		p.cf.AutoFailback = FailbackOff
		p.cf.Set["auto_failback"] = true // not the default: heartbeat -t shows no "# default"
	default:
		p.warnf("nice_failback " + v + " has been strictly interpreted as 'auto_failback legacy'")
		p.warnf("Consider converting to 'auto_failback on'.")
		p.warnf("When you do, then you can use ipfail, and hb_standby")
		p.cf.AutoFailback = FailbackLegacy
	}
	p.warnf("See documentation for details.")
	if !ok {
		p.errorf(v, "not a boolean: use on/off, yes/no, true/false, y/n, 1/0 (better: replace nice_failback by auto_failback)")
	}
	return ok
}

func setAutoFailback(p *hacfParser, v string) bool {
	if b, ok := ParseBool(v); ok {
		p.niceFailback = true
		if b {
			p.cf.AutoFailback = FailbackOn
		} else {
			p.cf.AutoFailback = FailbackOff
		}
		return true
	}
	if strings.EqualFold(v, "legacy") {
		p.niceFailback = false
		p.cf.AutoFailback = FailbackLegacy
		return true
	}
	p.errorf(v, "must be on, off or legacy")
	return false
}

func setRtprio(p *hacfParser, v string) bool {
	n, ok := p.intValue(v, 1, 99, "must be 1..99 (heartbeat 3.0.6: Illegal realtime priority ["+v+"])")
	if ok {
		p.cf.Rtprio = int(n)
	}
	return ok
}

func setGenMethod(p *hacfParser, v string) bool {
	if v != "file" && v != "time" {
		p.errorf(v, "must be file or time (heartbeat 3.0.6: Illegal hb generation method ["+v+"])")
		return false
	}
	p.cf.HbGenMethod = v
	return true
}

func setRealtime(p *hacfParser, v string) bool { return p.boolValue(v, &p.cf.Realtime) }

func setDebug(p *hacfParser, v string) bool {
	n, ok := p.intValue(v, 0, 255, "")
	if ok {
		p.cf.Debug = int(n)
	}
	return ok
}

func setMsgfmt(p *hacfParser, v string) bool {
	if v != "classic" && v != "netstring" {
		p.errorf(v, "must be classic or netstring")
		return false
	}
	p.cf.MsgFmt = v
	return true
}

func setUseLogd(p *hacfParser, v string) bool { return p.boolValue(v, &p.cf.UseLogd) }

func setConnLogdTime(p *hacfParser, v string) bool {
	var d time.Duration
	return p.timeValue(v, 1, &d)
}

func checkBool(p *hacfParser, v string) bool {
	var b bool
	return p.boolValue(v, &b)
}

func setLogBadpack(p *hacfParser, v string) bool { return p.boolValue(v, &p.cf.LogBadPack) }
func setSyslogFmt(p *hacfParser, v string) bool  { return p.boolValue(v, &p.cf.SyslogMsgFmt) }
func setCoredumps(p *hacfParser, v string) bool  { return p.boolValue(v, &p.cf.Coredumps) }

func acceptAny(p *hacfParser, v string) bool { return true }

func (p *hacfParser) beforePacemaker(v string) bool {
	if p.pacemakerSeen {
		p.errorf(v, "must come before the pacemaker/crm directive (heartbeat 3.0.6: If you specify "+v+", it must come before the pacemaker directive)")
		return false
	}
	return true
}

// setBeforePacemaker is crm_daemon_dir: 3.0.6 logs the ordering error but,
// through an inverted test, accepts the value anyway; so does habox (with
// a warning).
func setBeforePacemaker(p *hacfParser, v string) bool {
	if p.pacemakerSeen {
		p.warnf("crm_daemon_dir should come before the pacemaker/crm directive (heartbeat 3.0.6 logs: If you specify " + v + ", it must come before the pacemaker directive); ignored anyway")
	}
	return true
}

func setBeforePacemakerBool(p *hacfParser, v string) bool {
	return p.beforePacemaker(v) && checkBool(p, v)
}

func setCrm(p *hacfParser, v string) bool {
	if setPacemaker(p, v) {
		p.cf.Set["pacemaker"] = true
		p.cf.Raw["pacemaker"] = v
		p.cf.Lines["pacemaker"] = p.ln
		return true
	}
	return false
}

func setPacemaker(p *hacfParser, v string) bool {
	if p.pacemakerSeen {
		p.errorf(v, "given twice (heartbeat 3.0.6: pacemaker/crm directive used multiple times!)")
		return false
	}
	p.pacemakerSeen = true
	switch strings.ToLower(v) {
	case "minimal", "manual", "respawn", "ccm-only", "valgrind":
	default:
		on, ok := ParseBool(v)
		if !ok {
			p.errorf(v, "not a boolean: use on/off, yes/no, true/false, y/n, 1/0")
			return false
		}
		if !on {
			return true
		}
	}
	p.errorf(v, "not supported by habox (R1 haresources mode only): remove it or set it to no")
	return false
}

func setAutojoin(p *hacfParser, v string) bool {
	switch strings.ToLower(v) {
	case "none", "other", "any":
		return true
	}
	p.errorf(v, "must be none, other or any (heartbeat 3.0.6: Invalid autojoin directive ["+v+"])")
	return false
}

func setUUIDFrom(p *hacfParser, v string) bool {
	if v != "file" && v != "nodename" {
		p.errorf(v, "must be file or nodename (heartbeat 3.0.6: Invalid uuidfrom directive ["+v+"])")
		return false
	}
	p.cf.UUIDFrom = v
	return true
}

func setCompression(p *hacfParser, v string) bool {
	if v != "zlib" && v != "bz2" {
		p.errorf(v, "unknown compression module: use zlib or bz2 (heartbeat 3.0.6: Compression module("+v+") not found)")
		return false
	}
	return true
}

func setCompressionThreshold(p *hacfParser, v string) bool {
	_, ok := p.intValue(v, 1, 1<<21, "must be a number of KiB > 0 (heartbeat 3.0.6: set_compression_threshold: compress_threshhold("+v+") invalid)")
	return ok
}

func setEnv(p *hacfParser, v string) bool {
	i := strings.IndexByte(v, '=')
	if i <= 0 {
		p.errorf(v, "must be NAME=value (heartbeat 3.0.6: set_env: invalid nvpair("+v+"))")
		return false
	}
	if isTimeEnv(v[:i]) {
		if _, ok := EnvTime(v[i+1:]); !ok {
			p.errorf(v, "must be a time > 0: seconds (60) or milliseconds glued to the number (500ms)")
			return false
		}
	}
	p.cf.Env = append(p.cf.Env, v)
	return true
}

// Environment variables (set in the environment or by ha.cf "env" lines)
// that bound how long habox waits for resource scripts.
const (
	// RscTimeoutEnv limits every resource script action (default 60 s).
	RscTimeoutEnv = "HABOX_RSC_TIMEOUT"
	// KillTimeoutEnv limits how long "heartbeat -k" waits (default 300 s).
	KillTimeoutEnv = "HABOX_KILL_TIMEOUT"
	// IfWaitEnv bounds the wait for an interface that does not exist yet:
	// a UDP medium's at start-up, IPaddr's on start (default 10 s).
	IfWaitEnv = "HABOX_IF_WAIT"
)

func isTimeEnv(name string) bool {
	return name == RscTimeoutEnv || name == KillTimeoutEnv || name == IfWaitEnv
}

// EnvTime parses the value of a time variable (RscTimeoutEnv,
// KillTimeoutEnv) as ha.cf times are read; only times > 0 are valid.
func EnvTime(v string) (time.Duration, bool) {
	d, ok := ParseTime(v)
	return d, ok && d > 0
}

// Getenv returns the value the last "env NAME=value" line gave name, or "".
func (cf *HaCf) Getenv(name string) string {
	for i := len(cf.Env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(cf.Env[i], "="); k == name {
			return v
		}
	}
	return ""
}

func setMaxRexmitDelay(p *hacfParser, v string) bool {
	n, ok := p.intValue(v, 1, 1<<31-1, "must be a number of milliseconds > 0 (heartbeat 3.0.6: Invalid max_rexmit_delay time("+v+"))")
	if ok {
		p.cf.MaxRexmitDelay = time.Duration(n) * time.Millisecond
	}
	return ok
}

func setMemreserve(p *hacfParser, v string) bool {
	_, ok := p.intValue(v, 1, 1<<31-1, "must be a number of KiB > 0")
	return ok
}

func unsupportedLine(p *hacfParser, rest string) bool {
	// Only the first word is shown: stonith lines carry passwords.
	rest, _ = cut(rest, isWS)
	switch p.dir {
	case "stonith", "stonith_host":
		p.errorf(rest, "not supported by habox: it has no STONITH (fencing) plugins")
	case "failfast":
		p.errorf(rest, "not supported by habox: it has no client API, so it cannot run heartbeat clients that must reboot the machine when they die")
	default: // mcast6, ucast6
		p.errorf(rest, "not supported by habox: IPv6 media are not implemented (use mcast, ucast or bcast)")
	}
	p.cf.bad[p.dir] = true
	return false
}

// unsupportedToken rejects ping6 (option list).
func unsupportedToken(p *hacfParser, v string) bool {
	p.errorf(v, "not supported by habox: it has no IPv6 ping nodes (use ping with an IPv4 address)")
	return false
}

// checkPingAddr accepts an IPv4 literal or a host name for /etc/hosts.
func (p *hacfParser) checkPingAddr(v string) bool {
	if a, err := netip.ParseAddr(v); err == nil {
		if a.Is4() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return true
		}
		p.errorf(v, "not a unicast IPv4 address: a ping node is a router or host that answers ICMP echo")
		return false
	}
	if v == "" || strings.ContainsAny(v, "/:@") || len(v) > MaxNodeName {
		p.errorf(v, "not an IPv4 address or host name")
		return false
	}
	return true
}

// addPingNode appends a ping node, refusing names used twice.
func (p *hacfParser) addPingNode(n PingNode, tok string) bool {
	if slices.Contains(p.cf.Nodes, n.Name) {
		p.errorf(tok, "ping node "+n.Name+" has the name of a cluster node")
		return false
	}
	for _, o := range p.cf.PingNodes {
		if o.Name == n.Name {
			p.errorf(tok, "ping node "+n.Name+" declared twice (first on line "+strconv.Itoa(o.Line)+")")
			return false
		}
	}
	n.Line = p.ln
	p.cf.PingNodes = append(p.cf.PingNodes, n)
	p.cf.Order = append(p.cf.Order, n.Name)
	p.cf.Set[p.dir] = true
	p.cf.Lines[p.dir] = p.ln
	return true
}

// addPing is "ping addr...": one ping node per address, named after it.
func addPing(p *hacfParser, v string) bool {
	v = strings.ToLower(v)
	return p.checkPingAddr(v) && p.addPingNode(PingNode{Name: v, Addrs: []string{v}}, v)
}

// addPingGroup is "ping_group name addr [addr...]": one ping node, up
// while any address answers.
func addPingGroup(p *hacfParser, rest string) bool {
	f := fields(rest, isWS)
	if len(f) < 2 {
		p.errorf(rest, "syntax is ping_group <name> <address> [address...]")
		return false
	}
	name := strings.ToLower(f[0])
	if len(name) > MaxNodeName {
		p.errorf(f[0], "ping group name longer than "+strconv.Itoa(MaxNodeName)+" characters")
		return false
	}
	ok := true
	for _, a := range f[1:] {
		ok = p.checkPingAddr(a) && ok
	}
	return ok && p.addPingNode(PingNode{Name: name, Addrs: f[1:], Group: true}, f[0])
}

// apiClients are programs that need heartbeat 3.0.6's client API (a
// respawn line for them is refused).
var apiClients = []string{"ccm", "dopd", "crmd", "cib", "attrd", "stonithd", "pengine", "tengine", "mgmtd",
	"hbagent", "lha-snmpagent", "api_test", "ccm_testclient", "clmtest", "apphbtest", "drbd-peer-outdater", "quorumd"}

// IPFailName is the program name of heartbeat 3.0.6's ipfail; a respawn
// line running it enables habox's built-in ipfail policy.
const IPFailName = "ipfail"

// addRespawn is "respawn user /path [args]". ipfail's line turns on the
// built-in policy; API clients are refused; the user and the program are
// checked by Load.
func addRespawn(p *hacfParser, rest string) bool {
	f := fields(rest, isWS)
	if len(f) < 2 {
		p.errorf(rest, "syntax is respawn <user> <absolute path of the program> [arguments]")
		return false
	}
	user, path := f[0], f[1]
	if !strings.HasPrefix(path, "/") {
		p.errorf(path, "the program must be an absolute path (heartbeat 3.0.6: Client child command ["+path+"] is not full pathname)")
		return false
	}
	base := path[strings.LastIndexByte(path, '/')+1:]
	if base == IPFailName {
		p.warnf("respawn " + path + ": habox runs ipfail's policy built in (no process is started)")
		p.ipfailLine = true
		return true
	}
	if slices.Contains(apiClients, base) {
		p.errorf(path, "needs heartbeat 3.0.6's client API, which habox does not have: remove this respawn line (habox's own ipfail policy replaces ipfail; nothing replaces "+base+")")
		return false
	}
	p.cf.Respawns = append(p.cf.Respawns, Respawn{User: user, Path: path, Args: f[2:], Line: p.ln})
	return true
}

// setIPFail is habox_ipfail on|off.
func setIPFail(p *hacfParser, v string) bool {
	var b bool
	if !p.boolValue(v, &b) {
		return false
	}
	p.ipfailOn, p.ipfailSet = b, true
	return true
}

// addTrackCarrier is habox_track_carrier ifname...
func addTrackCarrier(p *hacfParser, v string) bool {
	if !checkIfName(p, v) {
		return false
	}
	if !slices.Contains(p.cf.TrackCarrier, v) {
		p.cf.TrackCarrier = append(p.cf.TrackCarrier, v)
	}
	p.cf.Set[p.dir] = true
	p.cf.Lines[p.dir] = p.ln
	return true
}

// setAPIAuth checks an apiauth line as set_api_authorization does and
// ignores it.
func setAPIAuth(p *hacfParser, rest string) bool {
	f := fields(rest, isWS)
	bad := len(f) < 2
	var uid, gid bool
	for _, t := range f[min(1, len(f)):] {
		switch {
		case strings.HasPrefix(t, "uid=") && !uid:
			uid = true
		case strings.HasPrefix(t, "gid=") && !gid:
			gid = true
		default:
			bad = true
		}
	}
	if bad {
		p.errorf(rest, "invalid apiauth line (heartbeat 3.0.6: Invalid apiauth directive ["+rest+"]); syntax: apiauth client [uid=uidlist] [gid=gidlist]")
		return false
	}
	p.warnf("apiauth ignored: habox has no client API (its control socket is for root only)")
	return true
}

// newMedium appends a medium, enforcing MAXMEDIA.
func (p *hacfParser) newMedium(m Medium, tok string) bool {
	if len(p.cf.Media) >= MaxMedia {
		p.errorf(tok, "too many media (heartbeat 3.0.6: Too many media specified (> "+strconv.Itoa(MaxMedia)+"))")
		return false
	}
	m.Line = p.ln
	p.cf.Media = append(p.cf.Media, m)
	p.cf.Set[string(m.Type)] = true
	p.cf.Lines[string(m.Type)] = p.ln
	return true
}

// latchUDP returns the port of a bcast/ucast medium: udpport as it stands
// when the first medium of that type is created.
func (p *hacfParser) latchUDP(port *int) int {
	if *port == 0 {
		*port = DefaultUDPPort
		if p.udpport > 0 {
			*port = p.udpport
		}
	}
	if p.firstUDPMediaLine == 0 {
		p.firstUDPMediaLine = p.ln
	}
	return *port
}

func checkIfName(p *hacfParser, dev string) bool {
	if len(dev) > 15 {
		p.errorf(dev, "interface name longer than 15 characters")
		return false
	}
	if strings.ContainsAny(dev, "/") {
		p.errorf(dev, "not an interface name")
		return false
	}
	return true
}

func addBcast(p *hacfParser, v string) bool {
	if !checkIfName(p, v) {
		return false
	}
	return p.newMedium(Medium{Type: Bcast, Dev: v, Port: p.latchUDP(&p.bcastPort)}, v)
}

func addSerial(p *hacfParser, v string) bool {
	if p.serialBaud == 0 {
		p.serialBaud = 19200
		if p.cf.Baud > 0 {
			p.serialBaud = p.cf.Baud
		}
		p.firstSerialLine = p.ln
	}
	if !strings.HasPrefix(v, "/") {
		p.errorf(v, "serial device must be a full path such as /dev/ttyS0 (heartbeat 3.0.6: Serial port not full pathname ["+v+"] in config file)")
		return false
	}
	return p.newMedium(Medium{Type: Serial, Dev: v, Baud: p.serialBaud}, v)
}

// addMcast parses "mcast dev group port ttl loop" as mcast_parse does.
func addMcast(p *hacfParser, rest string) bool {
	f := fields(rest, isWS)
	if len(f) == 0 {
		p.errorf("", "missing arguments: syntax is mcast <dev> <group> <port> <ttl 0..4> <loop 0|1> (heartbeat 3.0.6 crashes on a bare mcast line)")
		return false
	}
	dev := f[0]
	ok := checkIfName(p, dev)
	names := []string{"mcast address", "port", "ttl", "loop"}
	if len(f) < 5 {
		p.errorf(rest, "missing "+names[len(f)-1]+": syntax is mcast <dev> <group> <port> <ttl 0..4> <loop 0|1> (heartbeat 3.0.6: mcast ["+dev+"] missing "+names[len(f)-1]+")")
		return false
	}
	group, perr := netip.ParseAddr(f[1])
	if perr != nil || !group.Is4() || !group.IsMulticast() {
		p.errorf(f[1], "not an IPv4 multicast address (224.0.0.0/4), e.g. 239.0.0.1 (heartbeat 3.0.6: mcast ["+dev+"] bad addr ["+f[1]+"])")
		ok = false
	}
	port, pok := p.intValue(f[2], 1, 65535, "bad port: must be 1..65535 (heartbeat 3.0.6: mcast ["+dev+"] bad port)")
	ttl, tok := p.intValue(f[3], 0, 4, "bad ttl: heartbeat 3.0.6 accepts 0..4 only (mcast ["+dev+"] bad ttl)")
	loop, lok := p.intValue(f[4], 0, 1, "bad loop: must be 0 or 1 (heartbeat 3.0.6: mcast ["+dev+"] bad loop)")
	ok = ok && pok && tok && lok
	if len(f) > 5 {
		p.warnf("mcast: text after the loop field is ignored: " + short(strings.Join(f[5:], " ")))
	}
	if !ok {
		return false
	}
	return p.newMedium(Medium{Type: Mcast, Dev: dev, Group: group.String(), Port: int(port), TTL: int(ttl), Loop: loop == 1}, rest)
}

// addUcast parses "ucast dev peer" as ucast_parse does.
func addUcast(p *hacfParser, rest string) bool {
	f := fields(rest, isWS)
	if len(f) == 0 {
		p.errorf("", "missing arguments: syntax is ucast <dev> <peer address or host name> (heartbeat 3.0.6 crashes on a bare ucast line)")
		return false
	}
	if !checkIfName(p, f[0]) {
		return false
	}
	if len(f) < 2 {
		p.errorf(rest, "missing peer: syntax is ucast <dev> <peer address or host name> (heartbeat 3.0.6: ucast: ["+f[0]+"] missing target IP address/hostname)")
		return false
	}
	if len(f) > 2 {
		p.warnf("ucast takes one peer per line: " + short(strings.Join(f[2:], " ")) + " ignored (as heartbeat 3.0.6 does); write one ucast line per peer")
	}
	return p.newMedium(Medium{Type: Ucast, Dev: f[0], Peer: f[1], Port: p.latchUDP(&p.ucastPort)}, rest)
}
