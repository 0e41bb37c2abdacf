package conf

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeDir writes a configuration directory; authkeys gets mode 0600.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		mode := os.FileMode(0o644)
		if name == AuthkeysFile {
			mode = 0o600
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(dir, name), mode) // umask-proof
	}
	return dir
}

func load(t *testing.T, dir, node string) (*Config, ErrorList) {
	t.Helper()
	c, err := Load(dir, node)
	var el ErrorList
	if err != nil && !errors.As(err, &el) {
		t.Fatalf("error is %T: %v", err, err)
	}
	if c == nil {
		t.Fatal("nil Config")
	}
	return c, el
}

// vectorSections splits a vectors/config/*.txt file into its "### name"
// sections.
func vectorSections(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	name := ""
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if strings.HasPrefix(l, "### ") {
			name = strings.TrimSpace(l[4:])
			continue
		}
		out[name] += l
	}
	return out
}

// TestLoadVectors loads the exact configurations of the 3.0.6 capture runs
// (testdata copied from /work/shared/vectors/config).
func TestLoadVectors(t *testing.T) {
	for _, auth := range []struct {
		file   string
		method AuthMethod
		key    string
	}{{"sha1.txt", AuthSHA1, "hblab-sha1-key"}, {"md5.txt", AuthMD5, "hblab-md5-key"}, {"crc.txt", AuthCRC, ""}} {
		s := vectorSections(t, filepath.Join("testdata", auth.file))
		for node, cfName := range map[string]string{"linuxha1": "ha.cf.n1", "linuxha2": "ha.cf.n2"} {
			t.Run(auth.file+"/"+node, func(t *testing.T) {
				dir := writeDir(t, map[string]string{HaCfFile: s[cfName], AuthkeysFile: s["authkeys"], HaresourcesFile: s["haresources"]})
				c, errs := load(t, dir, strings.ToUpper(node))
				if errs != nil {
					t.Fatal(errs)
				}
				cf := c.HaCf
				if c.LocalNode != node || cf.Keepalive != 2*time.Second || cf.Deadtime != 10*time.Second ||
					cf.Warntime != 5*time.Second || cf.Initdead != 20*time.Second || cf.UDPPort != 694 ||
					cf.AutoFailback != FailbackOff || cf.Logfacility != "none" || cf.UseLogd ||
					cf.Logfile != "/var/log/ha-log" || cf.Debugfile != "/var/log/ha-debug" ||
					!reflect.DeepEqual(cf.Nodes, []string{"linuxha1", "linuxha2"}) {
					t.Errorf("ha.cf %+v", cf)
				}
				tty := "/tmp/hblab/ttyA"
				if node == "linuxha2" {
					tty = "/tmp/hblab/ttyB"
				}
				// baud comes after serial in these files: the 3.0.6 latch
				// gives the default 19200, which is also the value given.
				want := []Medium{{Type: Bcast, Dev: "eth1", Port: 694, Line: 11}, {Type: Serial, Dev: tty, Baud: 19200, Line: 12}}
				if !reflect.DeepEqual(cf.Media, want) {
					t.Errorf("media %+v", cf.Media)
				}
				k := c.Auth.Keys[c.Auth.Active]
				if c.Auth.Active != 1 || k.Method != auth.method || string(k.Key) != auth.key {
					t.Errorf("auth %d %+v", c.Auth.Active, k)
				}
				g := c.Resources.Groups
				if len(g) != 1 || g[0].Node != "linuxha1" || g[0].Key != "10.77.0.3" || len(g[0].Resources) != 2 ||
					g[0].Resources[1].Script != "hblab-svc" {
					t.Errorf("groups %+v", g)
				}
				for _, w := range c.Warnings {
					if auth.method == AuthCRC && strings.HasPrefix(w.Msg, "crc at index 1 is active") {
						continue // said plainly, and expected
					}
					t.Errorf("unexpected warning %v", w)
				}
			})
		}
	}
}

const seedHaCf = `# the seed guide's example
udp eth1
nice_failback on
keepalive 2
deadtime 10
serial /dev/ttyS0
baud 19200
node linuxha1
node linuxha2
watchdog /dev/watchdog
`

func TestLoadSeedGuide(t *testing.T) {
	dir := writeDir(t, map[string]string{
		HaCfFile:        seedHaCf,
		HaresourcesFile: "linuxha1 192.168.85.3/27/192.168.85.31 httpd smb maid::vacuum\n",
		AuthkeysFile:    "auth 1\n1 sha1 SeedSecret\n",
		NodeinfoFile:    "LinuxHA2\nignored\n",
	})
	c, errs := load(t, dir, "somethingelse")
	if errs != nil {
		t.Fatal(errs)
	}
	if c.LocalNode != "linuxha2" {
		t.Errorf("nodeinfo not applied: %q", c.LocalNode)
	}
	cf := c.HaCf
	if cf.AutoFailback != FailbackOff || cf.Watchdog != "/dev/watchdog" || cf.Initdead != 20*time.Second || cf.Media[0].Type != Bcast {
		t.Errorf("%+v", cf)
	}
	for _, w := range []string{"replaced by 'bcast'", "nice_failback flag is obsolete", "read as 'auto_failback off'",
		"write 'auto_failback off' instead", "No log entry found"} {
		if !hasWarning(c.Warnings, w) {
			t.Errorf("missing warning ~%q", w)
		}
	}
	var out bytes.Buffer
	if err := c.WriteEffective(&out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"keepalive                2000ms\n", "initdead                 20000ms          # default\n",
		"auto_failback            off\n", "node linuxha1\nnode linuxha2\n", "bcast eth1 ", "# udp port 694\n",
		"serial /dev/ttyS0 ", "# 19200 baud\n", "# group 192.168.85.3/27/192.168.85.31 (line 1), preferred node linuxha1\n",
		"#     IPaddr 192.168.85.3/27/192.168.85.31\n", "#     maid vacuum\n", "# auth 1: sha1", "# warnings:\n", "local node linuxha2"} {
		if !strings.Contains(s, want) {
			t.Errorf("effective output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "SeedSecret") {
		t.Error("the key is printed")
	}
	// The effective output is itself a valid ha.cf with the same values.
	cf2, _, err := ParseHaCf("effective", strings.NewReader(s))
	if err != nil {
		t.Fatalf("effective output does not parse: %v\n%s", err, s)
	}
	if cf2.Keepalive != cf.Keepalive || cf2.Deadtime != cf.Deadtime || cf2.Initdead != cf.Initdead ||
		cf2.Warntime != cf.Warntime || !reflect.DeepEqual(cf2.Nodes, cf.Nodes) || len(cf2.Media) != len(cf.Media) ||
		cf2.AutoFailback != cf.AutoFailback || cf2.Watchdog != cf.Watchdog || cf2.MaxRexmitDelay != cf.MaxRexmitDelay {
		t.Errorf("round trip differs:\n%+v\n%+v", cf, cf2)
	}
}

const okRes = "linuxha1 10.0.0.1 httpd\n"
const okAuth = "auth 1\n1 crc\n"

// TestLoadChecks covers init_config's cross checks, in its order.
func TestLoadChecks(t *testing.T) {
	const media = "bcast eth0\nlogfile /var/log/ha-log\n"
	const nodes = "node linuxha1 linuxha2\n"
	for _, tc := range []struct {
		name string
		cf   string
		errs []errWant
		warn string
	}{
		{"ok", media + nodes, nil, ""},
		{"no media", nodes + "logfile /l\n", []errWant{{0, "", "No heartbeat media defined"}}, ""},
		{"no nodes", media, []errWant{{0, "", "no nodes defined"}}, ""},
		{"not local", media + "node a b\n", []errWant{{3, "linuxha1", "Current node [linuxha1] not in configuration!"}}, ""},
		{"deadtime", media + nodes + "keepalive 2\ndeadtime 4\n", []errWant{{5, "", "Dead time [4000] is too small compared to keeplive [2000]"}}, ""},
		{"deadtime ok", media + nodes + "keepalive 2\ndeadtime 4001ms\n", nil, ""},
		{"initdead small", media + nodes + "deadtime 10\ninitdead 5\n", []errWant{{5, "", "Initial dead time [5000] is smaller than deadtime [10000]"}}, ""},
		{"initdead warn", media + nodes + "keepalive 1\ndeadtime 3\ninitdead 9\n", nil, "Initial dead time [9000 ms] may be too small!"},
		{"deadping", media + nodes + "keepalive 2\ndeadping 3\n", []errWant{{5, "", "Ping dead time [3000] is too small compared to keeplive [2000]"}}, ""},
		{"logd off", "bcast eth0\n" + nodes + "use_logd off\n", []errWant{{3, "", "No log entry found in ha.cf and use_logd is set to off"}}, ""},
		{"logd on", media + nodes + "use_logd yes\n", nil, "habox has no logging daemon"},
		{"autojoin", media + nodes + "autojoin other\n", []errWant{{4, "other", "R1 style resource management conflicts with  autojoin set"}}, ""},
		{"bad keepalive no cascade", media + nodes + "keepalive 0\ndeadtime 1\n", []errWant{{4, "0", "must be > 0"}}, ""},
		{"only ping", "ping 10.0.0.1\nlogfile /l\n" + nodes, nil, "ping nodes without ipfail's policy only log"},
		{"ipfail nothing", media + nodes + "auto_failback on\nhabox_ipfail on\n", nil, "nothing to compare"},
		{"serial busy", media + nodes + "keepalive 200ms\ndeadtime 2\nserial /dev/null\n", nil,
			"serial /dev/null: a status message (~220 bytes) every keepalive 200 ms is 11000 bit/s, 57 % of 19200 baud, leaving little room"},
		{"respawn ok", media + nodes + "respawn root /bin/true\n", nil, ""},
		{"respawn no user", media + nodes + "respawn habox-none /bin/true\n", []errWant{{4, "habox-none /bin/true", "Invalid uid [habox-none] specified for client child"}}, ""},
		{"respawn not exec", media + nodes + "respawn root /etc/passwd\n", []errWant{{4, "root /etc/passwd", "is not executable"}}, ""},
		{"respawn missing", media + nodes + "respawn root /habox/none\n", []errWant{{4, "root /habox/none", "missing"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeDir(t, map[string]string{HaCfFile: tc.cf, HaresourcesFile: okRes, AuthkeysFile: okAuth})
			c, all := load(t, dir, "linuxha1")
			var errs ErrorList
			for _, e := range all {
				if e.File == filepath.Join(dir, HaCfFile) {
					e.File = "ha.cf"
					errs = append(errs, e)
				}
			}
			checkErrs(t, "ha.cf", errs, tc.errs)
			if tc.warn != "" && !hasWarning(c.Warnings, tc.warn) {
				t.Errorf("no warning ~%q in %v", tc.warn, c.Warnings)
			}
		})
	}
}

func TestLoadSyslogDevNull(t *testing.T) {
	dir := writeDir(t, map[string]string{HaCfFile: "bcast eth0\nnode n1\nlogfacility local0\n", HaresourcesFile: "n1 x\n", AuthkeysFile: okAuth})
	c, errs := load(t, dir, "n1")
	if errs != nil {
		t.Fatal(errs)
	}
	if c.HaCf.Logfile != "/dev/null" || c.HaCf.Debugfile != "/dev/null" || hasWarning(c.Warnings, "No log entry") {
		t.Errorf("%q %q %v", c.HaCf.Logfile, c.HaCf.Debugfile, c.Warnings)
	}
}

// TestLoadAllFiles: errors of all three files come back together.
func TestLoadAllFiles(t *testing.T) {
	dir := writeDir(t, map[string]string{
		HaCfFile:        "bcast eth0\nnode linuxha1\nlogfile /l\nkeepalive x\n",
		HaresourcesFile: "nodex 10.0.0.1\n",
		AuthkeysFile:    "auth 1\n1 sha1\n",
	})
	os.Chmod(filepath.Join(dir, AuthkeysFile), 0o640)
	_, errs := load(t, dir, "linuxha1")
	got := []string{}
	for _, e := range errs {
		got = append(got, filepath.Base(e.File)+":"+e.Msg)
	}
	want := []string{"ha.cf:invalid time: ", "authkeys:mode 0640: ", "authkeys:a key is required",
		"authkeys:no entry 1 follows", "haresources:the first word of a line"}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestLoadMissing(t *testing.T) {
	dir := t.TempDir()
	_, errs := load(t, dir, "n1")
	checkErrs(t, filepath.Join(dir, HaCfFile), errs[:1], []errWant{{0, "", "Cannot open config file"}})
	if len(errs) != 3 || !strings.Contains(errs[1].Msg, "Cannot open keyfile") || !strings.Contains(errs[2].Msg, "Cannot open resources file") {
		t.Errorf("%v", errs)
	}
	dir = writeDir(t, map[string]string{HaCfFile: "bcast eth0\nnode n1\nlogfile /l\n", AuthkeysFile: okAuth})
	_, errs = load(t, dir, "n1")
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "Cannot open resources file ["+filepath.Join(dir, HaresourcesFile)+"]") {
		t.Errorf("missing haresources: %v", errs)
	}
}

func TestDefaultsTable(t *testing.T) {
	var b bytes.Buffer
	if err := DefaultsTable(&b); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/heartbeat-D.txt") // `heartbeat -D` of Debian's 3.0.6
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	// Compare with the installed daemon too, when there is one.
	if out, err := exec.Command("/usr/libexec/heartbeat/heartbeat", "-D").Output(); err == nil && string(out) != b.String() {
		t.Errorf("differs from the installed heartbeat -D:\n%s", out)
	}
}

// A serial line too slow for the statuses is warned about,
// with the numbers.
func TestSerialLoad(t *testing.T) {
	for _, tc := range []struct {
		baud int
		ka   time.Duration
		want string // "" = no warning
	}{
		{19200, 200 * time.Millisecond, "11000 bit/s, 57 % of 19200 baud, leaving little room for resource messages and retransmissions (raise baud, or keepalive to 343 ms or more)"},
		{19200, 100 * time.Millisecond, "22000 bit/s, 114 % of 19200 baud: the line cannot carry it (raise baud, or keepalive to 343 ms or more)"},
		{9600, time.Second, ""},
		{9600, 400 * time.Millisecond, "5500 bit/s, 57 % of 9600 baud"},
		{19200, time.Second, ""},
		{115200, 100 * time.Millisecond, ""},
		{0, time.Second, ""},
	} {
		got := SerialLoad("/dev/ttyS0", tc.baud, tc.ka)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%d baud, keepalive %v: %q, want ~%q", tc.baud, tc.ka, got, tc.want)
		}
	}
}

// TestLogTargets: without a usable log target the warning says where
// habox logs instead (logd's defaults), and LogTargets, which the daemon
// uses, returns exactly those.
func TestLogTargets(t *testing.T) {
	const base = "bcast eth0\nnode linuxha1 linuxha2\n"
	const said = "habox logs where heartbeat 3.0.6's logd would by default, to /var/log/ha-log, /var/log/ha-debug and syslog facility daemon"
	logd := [3]string{"/var/log/ha-log", "/var/log/ha-debug", "daemon"}
	for _, tc := range []struct {
		name, cf string
		warn     string // "" = no warning about logging
		want     [3]string
	}{
		{"nothing", "", "No log entry found in ha.cf: " + said, logd},
		{"logfacility none", "logfacility none\n", "No log entry found in ha.cf: " + said, logd},
		{"logfacility kern", "logfacility kern\n", "No log entry found in ha.cf: " + said, logd},
		{"use_logd on", "use_logd on\n", "logs to logd's defaults itself, /var/log/ha-log, /var/log/ha-debug and syslog facility daemon", logd},
		{"logfile", "logfile /l\n", "", [3]string{"/l", "", ""}},
		{"facility", "logfacility local0\n", "", [3]string{"/dev/null", "/dev/null", "local0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeDir(t, map[string]string{HaCfFile: base + tc.cf, HaresourcesFile: okRes, AuthkeysFile: okAuth})
			c, errs := load(t, dir, "linuxha1")
			if errs != nil {
				t.Fatal(errs)
			}
			if tc.warn != "" && !hasWarning(c.Warnings, tc.warn) {
				t.Errorf("no warning ~%q in %v", tc.warn, c.Warnings)
			}
			if tc.warn == "" && (hasWarning(c.Warnings, "No log entry") || hasWarning(c.Warnings, "logd")) {
				t.Errorf("unexpected warning in %v", c.Warnings)
			}
			var got [3]string
			got[0], got[1], got[2] = c.HaCf.LogTargets()
			if got != tc.want {
				t.Errorf("LogTargets %q, want %q", got, tc.want)
			}
		})
	}
}
