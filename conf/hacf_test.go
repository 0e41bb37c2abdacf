package conf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func parseCf(t *testing.T, s string) (*HaCf, []Warning, ErrorList) {
	t.Helper()
	cf, w, err := ParseHaCf("ha.cf", strings.NewReader(s))
	var el ErrorList
	if err != nil && !errors.As(err, &el) {
		t.Fatalf("error is %T, not ErrorList", err)
	}
	if cf == nil {
		t.Fatal("nil HaCf")
	}
	return cf, w, el
}

// errWant is an expected error: line, token and a message substring.
type errWant struct {
	line int
	tok  string
	msg  string
}

func checkErrs(t *testing.T, file string, got ErrorList, want []errWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(got), len(want), got)
		return
	}
	for i, w := range want {
		g := got[i]
		if g.File != file || g.Line != w.line || g.Token != w.tok || !strings.Contains(g.Msg, w.msg) {
			t.Errorf("error %d = %q (line %d token %q); want line %d token %q msg ~%q", i, g.Error(), g.Line, g.Token, w.line, w.tok, w.msg)
		}
	}
}

func hasWarning(ws []Warning, sub string) bool {
	for _, w := range ws {
		if strings.Contains(w.Msg, sub) {
			return true
		}
	}
	return false
}

func TestHaCfDefaults(t *testing.T) {
	cf, w, errs := parseCf(t, "")
	if errs != nil {
		t.Fatal(errs)
	}
	want := HaCf{
		Keepalive: time.Second, Deadtime: 30 * time.Second, Warntime: 15 * time.Second,
		Initdead: 30 * time.Second, Deadping: 30 * time.Second, UDPPort: 694, Baud: 19200, HopFudge: 1,
		AutoFailback: FailbackLegacy, Realtime: true, MsgFmt: "classic", MaxRexmitDelay: 250 * time.Millisecond,
		LogBadPack: true, SyslogMsgFmt: true, UUIDFrom: "file", HbGenMethod: "file", Coredumps: true, Cluster: "linux-ha",
	}
	got := *cf
	got.File, got.Set, got.Raw, got.Lines, got.bad = "", nil, nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if len(cf.Set) != 0 {
		t.Errorf("Set = %v, want empty", cf.Set)
	}
	for k, v := range map[string]string{"keepalive": "1000ms", "deadtime": "30000ms", "warntime": "15000ms",
		"initdead": "30000ms", "deadping": "30000ms", "udpport": "694", "baud": "19200", "auto_failback": "legacy",
		"hopfudge": "1", "max_rexmit_delay": "250", "pacemaker": "false", "autojoin": "none", "debug": "0"} {
		if cf.Raw[k] != v {
			t.Errorf("Raw[%s] = %q, want %q", k, cf.Raw[k], v)
		}
	}
	for _, s := range []string{"Deprecated 'legacy' auto_failback option selected.", "Please convert to 'auto_failback on'.", "See documentation for conversion details."} {
		if !hasWarning(w, s) {
			t.Errorf("missing legacy warning %q in %v", s, w)
		}
	}
}

func TestHaCfInitdeadDefault(t *testing.T) {
	for _, tc := range []struct {
		deadtime string
		initdead time.Duration
	}{
		{"30", 30 * time.Second}, {"11", 11 * time.Second}, {"10", 20 * time.Second}, {"6", 12 * time.Second},
		{"5999ms", 12 * time.Second}, {"5", 12 * time.Second}, {"10001ms", 10001 * time.Millisecond},
	} {
		cf, _, errs := parseCf(t, "deadtime "+tc.deadtime+"\n")
		if errs != nil {
			t.Fatal(errs)
		}
		if cf.Initdead != tc.initdead || cf.Deadping != cf.Deadtime || cf.Warntime != (cf.Deadtime/2).Truncate(time.Millisecond) {
			t.Errorf("deadtime %s: initdead %v (want %v) deadping %v warntime %v", tc.deadtime, cf.Initdead, tc.initdead, cf.Deadping, cf.Warntime)
		}
	}
	cf, _, _ := parseCf(t, "deadtime 1001ms\n")
	if cf.Warntime != 500*time.Millisecond {
		t.Errorf("warntime of deadtime 1001ms = %v, want 500ms (integer division)", cf.Warntime)
	}
}

// TestHaCfDirectives covers every directive: a valid value, an invalid one.
func TestHaCfDirectives(t *testing.T) {
	type tcase struct {
		in    string
		check func(*HaCf) bool
		errs  []errWant
		warn  string
	}
	cases := map[string]tcase{
		"cluster":          {in: "cluster mycluster", check: func(c *HaCf) bool { return c.Cluster == "mycluster" }},
		"node":             {in: "node Alpha, beta\tGAMMA", check: func(c *HaCf) bool { return reflect.DeepEqual(c.Nodes, []string{"alpha", "beta", "gamma"}) }},
		"node dup":         {in: "node a A", check: func(c *HaCf) bool { return len(c.Nodes) == 1 }, warn: "declared twice"},
		"node long":        {in: "node " + strings.Repeat("n", 100), errs: []errWant{{1, strings.Repeat("n", 61) + "...", "longer than 99"}}},
		"node 99":          {in: "node " + strings.Repeat("n", 99), check: func(c *HaCf) bool { return len(c.Nodes) == 1 }},
		"hopfudge":         {in: "hopfudge 3", check: func(c *HaCf) bool { return c.HopFudge == 3 }},
		"hopfudge bad":     {in: "hopfudge 256", errs: []errWant{{1, "256", "0 to 255"}}},
		"hopfudge atoi":    {in: "hopfudge abc", check: func(c *HaCf) bool { return c.HopFudge == 0 }, warn: "read as 0"},
		"keepalive":        {in: "keepalive 500ms", check: func(c *HaCf) bool { return c.Keepalive == 500*time.Millisecond }},
		"keepalive 0":      {in: "keepalive 0", errs: []errWant{{1, "0", "must be > 0"}}},
		"keepalive space":  {in: "keepalive 500 ms", errs: []errWant{{1, "ms", "invalid time"}}, check: func(c *HaCf) bool { return c.Keepalive == 500*time.Second }},
		"deadtime":         {in: "deadtime 10", check: func(c *HaCf) bool { return c.Deadtime == 10*time.Second }},
		"deadtime neg":     {in: "deadtime -1", errs: []errWant{{1, "-1", "invalid time"}}},
		"deadping":         {in: "deadping 20", check: func(c *HaCf) bool { return c.Deadping == 20*time.Second && c.Set["deadping"] }},
		"deadping bad":     {in: "deadping x", errs: []errWant{{1, "x", "invalid time"}}},
		"initdead":         {in: "initdead 60", check: func(c *HaCf) bool { return c.Initdead == 60*time.Second }},
		"initdead bad":     {in: "initdead 1m", errs: []errWant{{1, "1m", "invalid time"}}},
		"warntime":         {in: "warntime 5", check: func(c *HaCf) bool { return c.Warntime == 5*time.Second }},
		"warntime 0":       {in: "warntime 0", errs: []errWant{{1, "0", "Warn time [0] is invalid."}}},
		"watchdog":         {in: "watchdog /dev/watchdog", check: func(c *HaCf) bool { return c.Watchdog == "/dev/watchdog" }},
		"watchdog twice":   {in: "watchdog /dev/a\nwatchdog /dev/b", errs: []errWant{{2, "/dev/b", "Watchdog device multiply specified."}}},
		"baud":             {in: "baud 115200", check: func(c *HaCf) bool { return c.Baud == 115200 }},
		"baud bad":         {in: "baud 14400", errs: []errWant{{1, "14400", "invalid baudrate [14400] specified."}}},
		"baud twice":       {in: "baud 9600\nbaud 9600", errs: []errWant{{2, "9600", "Baudrate multiply specified."}}},
		"udpport":          {in: "udpport 700", check: func(c *HaCf) bool { return c.UDPPort == 700 }},
		"udpport 0":        {in: "udpport 0", errs: []errWant{{1, "0", "invalid port [0] specified."}}},
		"udpport big":      {in: "udpport 70000", errs: []errWant{{1, "70000", "1..65535"}}},
		"logfacility":      {in: "logfacility local0", check: func(c *HaCf) bool { return c.Logfacility == "local0" }},
		"logfacility no":   {in: "logfacility none", check: func(c *HaCf) bool { return c.Logfacility == "none" }},
		"logfacility bad":  {in: "logfacility LOCAL0", errs: []errWant{{1, "LOCAL0", "Log facility(LOCAL0) not valid"}}},
		"logfile":          {in: "logfile /var/log/ha-log", check: func(c *HaCf) bool { return c.Logfile == "/var/log/ha-log" }},
		"debugfile":        {in: "debugfile /var/log/ha-debug", check: func(c *HaCf) bool { return c.Debugfile == "/var/log/ha-debug" }},
		"auto_failback":    {in: "auto_failback on", check: func(c *HaCf) bool { return c.AutoFailback == FailbackOn }},
		"auto_failback 0":  {in: "auto_failback No", check: func(c *HaCf) bool { return c.AutoFailback == FailbackOff }},
		"auto_failback L":  {in: "auto_failback LEGACY", check: func(c *HaCf) bool { return c.AutoFailback == FailbackLegacy }},
		"auto_failback x":  {in: "auto_failback maybe", errs: []errWant{{1, "maybe", "on, off or legacy"}}},
		"nice_failback":    {in: "nice_failback on", check: func(c *HaCf) bool { return c.AutoFailback == FailbackOff }, warn: "read as 'auto_failback off'"},
		"nice_failback no": {in: "nice_failback no", check: func(c *HaCf) bool { return c.AutoFailback == FailbackLegacy }, warn: "Consider converting to 'auto_failback on'"},
		"nice then auto":   {in: "nice_failback on\nauto_failback on", check: func(c *HaCf) bool { return c.AutoFailback == FailbackOn }},
		"nice after auto":  {in: "auto_failback on\nnice_failback off", check: func(c *HaCf) bool { return c.AutoFailback == FailbackOff }, warn: "'nice_failback off' has been changed to 'auto_failback off'"},
		"nice bad":         {in: "nice_failback sure", errs: []errWant{{1, "sure", "not a boolean"}}, warn: "obsolete"},
		"rtprio":           {in: "rtprio 5", check: func(c *HaCf) bool { return c.Rtprio == 5 }},
		"rtprio bad":       {in: "rtprio 100", errs: []errWant{{1, "100", "Illegal realtime priority [100]"}}},
		"rtprio 0":         {in: "rtprio 0", errs: []errWant{{1, "0", "Illegal realtime priority [0]"}}},
		"hbgenmethod":      {in: "hbgenmethod time", check: func(c *HaCf) bool { return c.HbGenMethod == "time" }},
		"hbgenmethod bad":  {in: "hbgenmethod File", errs: []errWant{{1, "File", "Illegal hb generation method [File]"}}},
		"realtime":         {in: "realtime off", check: func(c *HaCf) bool { return !c.Realtime }},
		"realtime bad":     {in: "realtime 2", errs: []errWant{{1, "2", "not a boolean"}}},
		"debug":            {in: "debug 3", check: func(c *HaCf) bool { return c.Debug == 3 }},
		"debug bad":        {in: "debug 256", errs: []errWant{{1, "256", "0 to 255"}}},
		"msgfmt":           {in: "msgfmt netstring", check: func(c *HaCf) bool { return c.MsgFmt == "netstring" }},
		"msgfmt bad":       {in: "msgfmt Classic", errs: []errWant{{1, "Classic", "classic or netstring"}}},
		"use_logd":         {in: "use_logd no", check: func(c *HaCf) bool { return !c.UseLogd && c.Set["use_logd"] }},
		"use_logd bad":     {in: "use_logd maybe", errs: []errWant{{1, "maybe", "not a boolean"}}},
		"conn_logd_time":   {in: "conn_logd_time 30", check: func(c *HaCf) bool { return c.Raw["conn_logd_time"] == "30" }},
		"conn_logd bad":    {in: "conn_logd_time 0", errs: []errWant{{1, "0", "must be > 0"}}},
		"use_apphbd":       {in: "use_apphbd no", check: func(c *HaCf) bool { return true }},
		"use_apphbd bad":   {in: "use_apphbd x", errs: []errWant{{1, "x", "not a boolean"}}},
		"log_badpack":      {in: "log_badpack false", check: func(c *HaCf) bool { return !c.LogBadPack }},
		"log_badpack bad":  {in: "log_badpack x", errs: []errWant{{1, "x", "not a boolean"}}},
		"syslogmsgfmt":     {in: "syslogmsgfmt no", check: func(c *HaCf) bool { return !c.SyslogMsgFmt }},
		"syslogfmt bad":    {in: "syslogmsgfmt x", errs: []errWant{{1, "x", "not a boolean"}}},
		"coredumps":        {in: "coredumps off", check: func(c *HaCf) bool { return !c.Coredumps }},
		"coredumps bad":    {in: "coredumps x", errs: []errWant{{1, "x", "not a boolean"}}},
		"coreroot":         {in: "coreroot /var/lib/cores", check: func(c *HaCf) bool { return c.Raw["coreroot"] == "/var/lib/cores" }},
		"crm_daemon_dir":   {in: "crm_daemon_dir /usr/lib/pacemaker\ncrm off", check: func(c *HaCf) bool { return true }},
		"crm_daemon late":  {in: "crm off\ncrm_daemon_dir /x", check: func(c *HaCf) bool { return true }, warn: "must come before the pacemaker"},
		"crmd_spawns late": {in: "crm off\ncrmd_spawns_pengine no", errs: []errWant{{2, "no", "must come before the pacemaker"}}},
		"101 nodes":        {in: "node" + strings.Repeat(" a", 100) + " b", errs: []errWant{{1, "b", "too many node declarations"}}},
		"crmd_spawns":      {in: "crmd_spawns_pengine yes", check: func(c *HaCf) bool { return true }},
		"crmd_spawns bad":  {in: "crmd_spawns_pengine x", errs: []errWant{{1, "x", "not a boolean"}}},
		"crm no":           {in: "crm no", check: func(c *HaCf) bool { return c.Raw["pacemaker"] == "no" && c.Set["pacemaker"] }},
		"crm yes":          {in: "crm yes", errs: []errWant{{1, "yes", "not supported by habox (R1 haresources mode only)"}}},
		"crm respawn":      {in: "crm respawn", errs: []errWant{{1, "respawn", "not supported by habox (R1 haresources mode only)"}}},
		"crm bad":          {in: "crm perhaps", errs: []errWant{{1, "perhaps", "not a boolean"}}},
		"pacemaker":        {in: "pacemaker off", check: func(c *HaCf) bool { return c.Raw["pacemaker"] == "off" }},
		"pacemaker on":     {in: "pacemaker on", errs: []errWant{{1, "on", "R1 haresources mode only"}}},
		"pacemaker twice":  {in: "crm no\npacemaker no", errs: []errWant{{2, "no", "pacemaker/crm directive used multiple times!"}}},
		"autojoin":         {in: "autojoin None", check: func(c *HaCf) bool { return c.Raw["autojoin"] == "None" }},
		"autojoin any":     {in: "autojoin any", check: func(c *HaCf) bool { return c.Raw["autojoin"] == "any" }}, // refused by Load
		"autojoin bad":     {in: "autojoin all", errs: []errWant{{1, "all", "Invalid autojoin directive [all]"}}},
		"uuidfrom":         {in: "uuidfrom nodename", check: func(c *HaCf) bool { return c.UUIDFrom == "nodename" }},
		"uuidfrom bad":     {in: "uuidfrom uuid", errs: []errWant{{1, "uuid", "Invalid uuidfrom directive [uuid]"}}},
		"compression":      {in: "compression bz2", check: func(c *HaCf) bool { return c.Raw["compression"] == "bz2" }},
		"compression bad":  {in: "compression lz4", errs: []errWant{{1, "lz4", "zlib or bz2"}}},
		"compr_threshold":  {in: "compression_threshold 4", check: func(c *HaCf) bool { return c.Raw["compression_threshold"] == "4" }},
		"compr_thr bad":    {in: "compression_threshold 0", errs: []errWant{{1, "0", "compress_threshhold(0) invalid"}}},
		"trad_compr":       {in: "traditional_compression yes", check: func(c *HaCf) bool { return true }},
		"trad_compr bad":   {in: "traditional_compression x", errs: []errWant{{1, "x", "not a boolean"}}},
		"env":              {in: "env FOO=bar BAZ=", check: func(c *HaCf) bool { return strings.Join(c.Env, ",") == "FOO=bar,BAZ=" && c.Getenv("FOO") == "bar" }},
		"env timeouts":     {in: "env HABOX_RSC_TIMEOUT=90 HABOX_KILL_TIMEOUT=500ms\nenv HABOX_RSC_TIMEOUT=5", check: func(c *HaCf) bool { return c.Getenv(RscTimeoutEnv) == "5" && c.Getenv(KillTimeoutEnv) == "500ms" }},
		"env timeout bad":  {in: "env HABOX_RSC_TIMEOUT=1m", errs: []errWant{{1, "HABOX_RSC_TIMEOUT=1m", "must be a time > 0"}}},
		"env timeout 0":    {in: "env HABOX_KILL_TIMEOUT=0", errs: []errWant{{1, "HABOX_KILL_TIMEOUT=0", "must be a time > 0"}}},
		"env bad":          {in: "env =x", errs: []errWant{{1, "=x", "invalid nvpair(=x)"}}},
		"env noeq":         {in: "env FOO", errs: []errWant{{1, "FOO", "NAME=value"}}},
		"max_rexmit":       {in: "max_rexmit_delay 100", check: func(c *HaCf) bool { return c.MaxRexmitDelay == 100*time.Millisecond }},
		"max_rexmit bad":   {in: "max_rexmit_delay 0", errs: []errWant{{1, "0", "Invalid max_rexmit_delay time(0)"}}},
		"record_config":    {in: "record_config_changes off\nrecord_pengine_inputs off\nenable_config_writes off", check: func(c *HaCf) bool { return c.Raw["enable_config_writes"] == "off" }},
		"record bad":       {in: "record_pengine_inputs x", errs: []errWant{{1, "x", "not a boolean"}}},
		"memreserve":       {in: "memreserve 1000", check: func(c *HaCf) bool { return c.Raw["memreserve"] == "1000" }},
		"memreserve bad":   {in: "memreserve -5", errs: []errWant{{1, "-5", "KiB > 0"}}},
		"quorum_server":    {in: "quorum_server q.example", check: func(c *HaCf) bool { return true }},
		"stonith":          {in: "stonith baytech /etc/ha.d/conf/stonith.baytech", errs: []errWant{{1, "baytech", "not supported by habox"}}},
		"stonith_host":     {in: "stonith_host * null a b", errs: []errWant{{1, "*", "STONITH"}}},
		"apiauth":          {in: "apiauth ipfail uid=hacluster", check: func(c *HaCf) bool { return c.Set["apiauth"] }, warn: "apiauth ignored"},
		"apiauth bad":      {in: "apiauth ipfail", errs: []errWant{{1, "ipfail", "Invalid apiauth directive [ipfail]"}}},
		"apiauth bad2":     {in: "apiauth ipfail user=x", errs: []errWant{{1, "ipfail user=x", "Invalid apiauth directive"}}},
		"respawn": {in: "respawn nobody /bin/sleep 5 x", check: func(c *HaCf) bool {
			return reflect.DeepEqual(c.Respawns, []Respawn{{User: "nobody", Path: "/bin/sleep", Args: []string{"5", "x"}, Line: 1}}) && !c.IPFail
		}},
		"respawn ipfail":        {in: "auto_failback on\nrespawn hacluster /usr/libexec/heartbeat/ipfail", check: func(c *HaCf) bool { return c.IPFail && len(c.Respawns) == 0 }, warn: "ipfail's policy built in"},
		"respawn ipfail old":    {in: "auto_failback off\nrespawn hacluster /usr/lib/heartbeat/ipfail", check: func(c *HaCf) bool { return c.IPFail }},
		"respawn ipfail legacy": {in: "respawn hacluster /usr/libexec/heartbeat/ipfail", check: func(c *HaCf) bool { return !c.IPFail }, warn: "refuses auto_failback legacy"},
		"respawn ccm":           {in: "respawn hacluster /usr/libexec/heartbeat/ccm", errs: []errWant{{1, "/usr/libexec/heartbeat/ccm", "client API"}}},
		"respawn dopd":          {in: "respawn hacluster /usr/libexec/heartbeat/dopd", errs: []errWant{{1, "/usr/libexec/heartbeat/dopd", "client API"}}},
		"respawn crmd":          {in: "respawn hacluster /usr/lib/heartbeat/crmd", errs: []errWant{{1, "/usr/lib/heartbeat/crmd", "client API"}}},
		"respawn relative":      {in: "respawn hacluster bin/x", errs: []errWant{{1, "bin/x", "not full pathname"}}},
		"respawn short":         {in: "respawn hacluster", errs: []errWant{{1, "hacluster", "syntax is respawn"}}},
		"habox_ipfail":          {in: "auto_failback on\nhabox_ipfail on", check: func(c *HaCf) bool { return c.IPFail }, warn: "habox-only"},
		"habox_ipfail off":      {in: "auto_failback on\nrespawn hacluster /usr/libexec/heartbeat/ipfail\nhabox_ipfail off", check: func(c *HaCf) bool { return !c.IPFail }},
		"habox_ipfail legacy":   {in: "habox_ipfail on", errs: []errWant{{1, "on", "needs auto_failback on or off"}}},
		"habox_ipfail bad":      {in: "habox_ipfail maybe", errs: []errWant{{1, "maybe", "not a boolean"}}},
		"habox_track_carrier": {in: "auto_failback on\nhabox_track_carrier eth0, eth1 eth0", check: func(c *HaCf) bool {
			return reflect.DeepEqual(c.TrackCarrier, []string{"eth0", "eth1"}) && c.IPFail
		}, warn: "a 3.0.6 peer just ignores its effect"},
		"habox_track_carrier bad": {in: "habox_track_carrier averyveryverylongifname", errs: []errWant{{1, "averyveryverylongifname", "longer than 15"}}},
		"failfast":                {in: "failfast hacluster /bin/x", errs: []errWant{{1, "hacluster", "not supported by habox"}}},
		"bcast":                   {in: "bcast eth0 eth1", check: func(c *HaCf) bool { return len(c.Media) == 2 && c.Media[1].Dev == "eth1" && c.Media[1].Port == 694 }},
		"bcast long":              {in: "bcast averyveryverylongifname", errs: []errWant{{1, "averyveryverylongifname", "longer than 15"}}},
		"udp":                     {in: "udp eth1", check: func(c *HaCf) bool { return c.Media[0].Type == Bcast && c.Set["bcast"] }, warn: "directive 'udp' replaced by 'bcast'"},
		"mcast": {in: "mcast eth0 239.0.0.1 694 1 0", check: func(c *HaCf) bool {
			return reflect.DeepEqual(c.Media, []Medium{{Type: Mcast, Dev: "eth0", Group: "239.0.0.1", Port: 694, TTL: 1, Line: 1}})
		}},
		"mcast loop":     {in: "udpport 800\nmcast eth0 225.0.0.1 700 4 1", check: func(c *HaCf) bool { return c.Media[0].Port == 700 && c.Media[0].Loop && c.Media[0].TTL == 4 }},
		"mcast ttl":      {in: "mcast eth0 239.0.0.1 694 5 0", errs: []errWant{{1, "5", "bad ttl"}}},
		"mcast group":    {in: "mcast eth0 10.0.0.1 694 1 0", errs: []errWant{{1, "10.0.0.1", "bad addr [10.0.0.1]"}}},
		"mcast group2":   {in: "mcast eth0 240.0.0.1 694 1 0", errs: []errWant{{1, "240.0.0.1", "224.0.0.0/4"}}},
		"mcast port":     {in: "mcast eth0 239.0.0.1 0 1 0", errs: []errWant{{1, "0", "bad port"}}},
		"mcast loop bad": {in: "mcast eth0 239.0.0.1 694 1 2", errs: []errWant{{1, "2", "bad loop"}}},
		"mcast short":    {in: "mcast eth0 239.0.0.1 694", errs: []errWant{{1, "eth0 239.0.0.1 694", "missing ttl"}}},
		"mcast all bad":  {in: "mcast eth0 1.2.3.4 0 9 7", errs: []errWant{{1, "1.2.3.4", "bad addr"}, {1, "0", "bad port"}, {1, "9", "bad ttl"}, {1, "7", "bad loop"}}},
		"mcast empty":    {in: "mcast", errs: []errWant{{1, "", "crashes on a bare mcast line"}}},
		"ucast empty":    {in: "ucast ", errs: []errWant{{1, "", "crashes on a bare ucast line"}}},
		"mcast6":         {in: "mcast6 eth0 ff02::1 694 1 0", errs: []errWant{{1, "eth0", "IPv6"}}},
		"ucast":          {in: "ucast eth1 10.0.0.2", check: func(c *HaCf) bool { return c.Media[0].Peer == "10.0.0.2" && c.Media[0].Port == 694 }},
		"ucast extra":    {in: "ucast eth1 a b", check: func(c *HaCf) bool { return len(c.Media) == 1 }, warn: "one peer per line"},
		"ucast nopeer":   {in: "ucast eth1", errs: []errWant{{1, "eth1", "missing target IP address/hostname"}}},
		"ucast6":         {in: "ucast6 eth1 fe80::1", errs: []errWant{{1, "eth1", "IPv6"}}},
		"ping": {in: "ping 10.0.0.254 10.0.0.253\nping Router", check: func(c *HaCf) bool {
			return reflect.DeepEqual(c.PingNodes, []PingNode{{Name: "10.0.0.254", Addrs: []string{"10.0.0.254"}, Line: 1},
				{Name: "10.0.0.253", Addrs: []string{"10.0.0.253"}, Line: 1}, {Name: "router", Addrs: []string{"router"}, Line: 2}})
		}},
		"ping bad":       {in: "ping 224.0.0.1 0.0.0.0 a/b", errs: []errWant{{1, "224.0.0.1", "unicast IPv4"}, {1, "0.0.0.0", "unicast IPv4"}, {1, "a/b", "not an IPv4 address or host name"}}},
		"ping twice":     {in: "ping 10.0.0.1\nping 10.0.0.1", errs: []errWant{{2, "10.0.0.1", "declared twice (first on line 1)"}}},
		"ping node name": {in: "node a\nping a", errs: []errWant{{2, "a", "name of a cluster node"}}},
		"ping6":          {in: "ping6 ::1", errs: []errWant{{1, "::1", "IPv6 ping nodes"}}},
		"ping_group": {in: "ping_group G 10.0.0.1 10.0.0.2", check: func(c *HaCf) bool {
			return reflect.DeepEqual(c.PingNodes, []PingNode{{Name: "g", Addrs: []string{"10.0.0.1", "10.0.0.2"}, Group: true, Line: 1}})
		}},
		"ping_group short": {in: "ping_group g", errs: []errWant{{1, "g", "syntax is ping_group"}}},
		"ping_group bad":   {in: "ping_group g 10.0.0.1 ::1", errs: []errWant{{1, "::1", "unicast IPv4"}}},
		"serial":           {in: "serial /dev/ttyS0,/dev/ttyS1", check: func(c *HaCf) bool { return len(c.Media) == 2 && c.Media[0].Baud == 19200 }},
		"serial rel":       {in: "serial ttyS0", errs: []errWant{{1, "ttyS0", "Serial port not full pathname [ttyS0]"}}},
		"unknown":          {in: "keepalives 2", errs: []errWant{{1, "keepalives", "Illegal directive [keepalives] in ha.cf"}}},
		"case":             {in: "Keepalive 2", errs: []errWant{{1, "Keepalive", "Illegal directive [Keepalive]"}}},
		"comma directive":  {in: "node,a", errs: []errWant{{1, "node,a", "Illegal directive"}}},
		"normalpoll":       {in: "normalpoll true", errs: []errWant{{1, "normalpoll", "Illegal directive"}}},
		"novalue":          {in: "keepalive", check: func(c *HaCf) bool { return c.Keepalive == time.Second && !c.Set["keepalive"] }, warn: "without a value"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cf, w, errs := parseCf(t, tc.in+"\n")
			checkErrs(t, "ha.cf", errs, tc.errs)
			if tc.check != nil && !tc.check(cf) {
				t.Errorf("check failed: %+v", cf)
			}
			if tc.warn != "" && !hasWarning(w, tc.warn) {
				t.Errorf("no warning ~%q in %v", tc.warn, w)
			}
		})
	}
	// Every directive of the table is covered.
	for _, d := range directives {
		found := false
		for name, tc := range cases {
			if strings.HasPrefix(tc.in, d.name+" ") || strings.Contains(tc.in, "\n"+d.name+" ") || name == d.name {
				found = true
			}
		}
		if !found {
			t.Errorf("directive %s has no test case", d.name)
		}
	}
}

func TestHaCfLexical(t *testing.T) {
	in := "  # a comment\n" +
		"\n" +
		"keepalive 2 # trailing comment\n" +
		"deadtime 10#glued comment\n" +
		"node a,b\t, c\r\n" +
		"warntime 5\rjunk after CR\n" +
		"\t \f\n" +
		"node d#e f\n"
	cf, _, errs := parseCf(t, in)
	if errs != nil {
		t.Fatal(errs)
	}
	if cf.Keepalive != 2*time.Second || cf.Deadtime != 10*time.Second || cf.Warntime != 5*time.Second {
		t.Errorf("times %v %v %v", cf.Keepalive, cf.Deadtime, cf.Warntime)
	}
	if !reflect.DeepEqual(cf.Nodes, []string{"a", "b", "c", "d"}) {
		t.Errorf("nodes %v", cf.Nodes)
	}
	if cf.Lines["deadtime"] != 4 || cf.Lines["node"] != 8 {
		t.Errorf("lines %v", cf.Lines)
	}
}

// TestHaCfAllErrors checks that every error of a file is reported, in
// order, each with its line and token.
func TestHaCfAllErrors(t *testing.T) {
	in := "keepalive 2\n" +
		"keepalive 500 ms\n" +
		"bogus 1\n" +
		"deadtime ten\n" +
		"node a\n" +
		"baud 12345\n" +
		"serial tty0\n" +
		"mcast eth0 239.0.0.1 694 9 0\n" +
		"crm yes\n" +
		strings.Repeat("x", MaxLine+1) + "\n" +
		"stonith_host * baytech 10.0.0.3 mylogin mysecretpassword\n"
	_, _, errs := parseCf(t, in)
	checkErrs(t, "ha.cf", errs, []errWant{
		{2, "ms", "invalid time"},
		{3, "bogus", "Illegal directive [bogus]"},
		{4, "ten", "invalid time"},
		{6, "12345", "invalid baudrate"},
		{7, "tty0", "not full pathname"},
		{8, "9", "bad ttl"},
		{9, "yes", "R1 haresources mode only"},
		{10, "", "5118 bytes"},
		{11, "*", "STONITH"},
	})
	if strings.Contains(errs.Error(), "mysecretpassword") {
		t.Errorf("a stonith password leaked into the errors: %v", errs)
	}
	if !strings.HasPrefix(errs[0].Error(), "ha.cf:2: keepalive: [ms] ") {
		t.Errorf("format: %q", errs[0].Error())
	}
}

// TestHaCfLatching: udpport and baud are fixed by the first medium of each
// type, as the 3.0.6 plugins do.
func TestHaCfLatching(t *testing.T) {
	cf, w, errs := parseCf(t, "bcast eth0\nudpport 700\nbcast eth1\nucast eth2 10.0.0.2\nserial /dev/ttyS0\nbaud 38400\nserial /dev/ttyS1\n")
	if errs != nil {
		t.Fatal(errs)
	}
	ports := []int{}
	for _, m := range cf.Media {
		ports = append(ports, m.Port+m.Baud)
	}
	if !reflect.DeepEqual(ports, []int{694, 694, 700, 19200, 19200}) {
		t.Errorf("ports/bauds %v", ports)
	}
	if cf.UDPPort != 700 || cf.Baud != 38400 {
		t.Errorf("UDPPort %d Baud %d", cf.UDPPort, cf.Baud)
	}
	if !hasWarning(w, "udpport 700 comes after the bcast/ucast medium of line 1") || !hasWarning(w, "baud 38400 comes after the serial medium of line 5") {
		t.Errorf("warnings %v", w)
	}
	cf, w, _ = parseCf(t, "udpport 701\nbaud 57600\nbcast eth0\nserial /dev/ttyS0\nudpport 701\n")
	if cf.Media[0].Port != 701 || cf.Media[1].Baud != 57600 || hasWarning(w, "comes after") {
		t.Errorf("media %+v warnings %v", cf.Media, w)
	}
}

func TestHaCfTooManyMedia(t *testing.T) {
	_, _, errs := parseCf(t, "bcast"+strings.Repeat(" e", MaxMedia+1)+"\n")
	checkErrs(t, "ha.cf", errs, []errWant{{1, "e", "Too many media specified (> 64)"}})
}
