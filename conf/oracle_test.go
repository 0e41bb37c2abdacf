package conf

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"habox/hw/hwtest"
)

const realHeartbeat = "/usr/libexec/heartbeat/heartbeat"

// runReal starts Debian's heartbeat 3.0.6 on a configuration directory in
// private pid, mount, uts and network namespaces (node name n1, a veth
// hb0 with a broadcast address) and reports whether it accepted the
// configuration (it logged "heartbeat: version 3.0.6", which comes after
// the haresources check; it is then killed) and its log.
func runReal(t *testing.T, dir string) (accepted bool, out string) {
	return runRealWait(t, dir, "", 0)
}

// runRealWait is runReal that, once the daemon is accepted, also waits
// (up to 10 s) until its log holds n lines containing marker.
func runRealWait(t *testing.T, dir, marker string, n int) (accepted bool, out string) {
	return runRealPty(t, dir, marker, n, "")
}

// runRealPty is runRealWait with a pty pair linked at ptyFor (and
// ptyFor.peer) for serial media.
func runRealPty(t *testing.T, dir, marker string, n int, ptyFor string) (accepted bool, out string) {
	t.Helper()
	lib := t.TempDir()
	script := `set -e
ip link add hb0 type veth peer name hb1
ip addr add 10.9.0.1/24 broadcast 10.9.0.255 dev hb0
ip addr add 10.9.1.1/24 broadcast 10.9.1.255 dev hb1
ip link set hb0 up; ip link set hb1 up
if [ -n "$HABOX_PTY" ]; then socat pty,raw,echo=0,link=$HABOX_PTY pty,raw,echo=0,link=$HABOX_PTY.peer & sleep 0.5; fi
hostname n1
mount --bind ` + dir + ` /etc/ha.d
mount --bind ` + lib + ` /var/lib/heartbeat
mount -t tmpfs tmpfs /run
mkdir -p /run/heartbeat/ccm /run/heartbeat/crm /run/heartbeat/dopd /run/crm /run/resource-agents /run/lock
exec ` + realHeartbeat + ` -f`
	cmd := exec.Command("unshare", "--pid", "--fork", "--kill-child", "--mount", "--uts", "--net",
		"--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "HABOX_PTY="+ptyFor)
	errf, err := os.Create(filepath.Join(lib, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = errf, errf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	// killNS kills the namespace's init (the daemon), which takes every
	// process of the pid namespace with it, then unshare.
	killNS := func() {
		pid := strconv.Itoa(cmd.Process.Pid)
		if b, err := os.ReadFile("/proc/" + pid + "/task/" + pid + "/children"); err == nil {
			for _, c := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(c); err == nil {
					syscall.Kill(n, syscall.SIGKILL)
				}
			}
		}
		cmd.Process.Kill()
		<-exited
	}
	log := filepath.Join(dir, "log")
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(log)
		if strings.Contains(string(b), "info: heartbeat: version 3.0.6") && strings.Count(string(b), marker) >= n {
			accepted = true
			killNS()
			break
		}
		select {
		case <-exited:
		case <-time.After(50 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
			killNS()
			t.Fatalf("heartbeat 3.0.6 neither started nor failed in 30 s")
		}
		break
	}
	b, _ := os.ReadFile(log)
	return accepted, string(b)
}

// TestOracle feeds the same configurations to habox's parser and to the
// real heartbeat 3.0.6, and checks that both accept or both refuse them.
func TestOracle(t *testing.T) {
	hwtest.SkipUnderEmulator(t, "compares the parser with the host's heartbeat 3.0.6 in namespaces; conf's other tests run the parser here")
	if testing.Short() {
		t.Skip("runs the real daemon")
	}
	hwtest.RequireRoot(t)
	hwtest.RequireFile(t, realHeartbeat, "heartbeat 3.0.6 (Debian package heartbeat)")
	hwtest.RequireCmd(t, "unshare")
	hwtest.RequireCmd(t, "ip")

	const base = "node n1\nbcast hb0\n"
	const res = "n1 habox-oracle-none\n"
	const auth = "auth 1\n1 crc\n"
	type tcase struct {
		name, hacf, authkeys, haresources, nodeinfo string
		mode                                        os.FileMode
		// diverge marks a configuration 3.0.6 accepts and habox refuses
		// on purpose (see the package documentation).
		diverge bool
		// ownWords: both accept, but habox means something else on
		// purpose and says so in its own words instead of 3.0.6's.
		ownWords bool
	}
	cases := []tcase{
		{name: "base", hacf: base},
		{name: "keepalive ms glued", hacf: base + "keepalive 500ms\n"},
		{name: "keepalive space ms", hacf: base + "keepalive 500 ms\n"},
		{name: "deadtime small", hacf: base + "keepalive 2\ndeadtime 4\n"},
		{name: "deadtime ok", hacf: base + "keepalive 2\ndeadtime 4001ms\n"},
		{name: "initdead small", hacf: base + "deadtime 10\ninitdead 5\n"},
		{name: "initdead warn", hacf: base + "deadtime 3\ninitdead 9\n"},
		{name: "warntime 0", hacf: base + "warntime 0\n"},
		{name: "deadping", hacf: base + "keepalive 2\ndeadping 3\n"},
		{name: "hopfudge atoi", hacf: base + "hopfudge abc\n"},
		{name: "hopfudge 256", hacf: base + "hopfudge 256\n"},
		{name: "baud bad", hacf: base + "baud 12345\n"},
		{name: "baud twice", hacf: base + "baud 9600\nbaud 9600\n"},
		{name: "watchdog twice", hacf: base + "watchdog /dev/x\nwatchdog /dev/y\n"},
		{name: "udpport 0", hacf: "udpport 0\n" + base},
		{name: "udpport junk", hacf: "udpport 695x\n" + base},
		{name: "facility case", hacf: base + "logfacility LOCAL0\n"},
		{name: "facility ok", hacf: base + "logfacility local3\n"},
		{name: "auto_failback bad", hacf: base + "auto_failback maybe\n"},
		{name: "auto_failback LEGACY", hacf: base + "auto_failback LEGACY\n"},
		{name: "nice_failback", hacf: base + "nice_failback on\n", ownWords: true}, // the guide's meaning: auto_failback off
		{name: "nice_failback bad", hacf: base + "nice_failback sure\n"},
		{name: "rtprio 0", hacf: base + "rtprio 0\n"},
		{name: "rtprio 99", hacf: base + "rtprio 99\n"},
		{name: "hbgenmethod case", hacf: base + "hbgenmethod File\n"},
		{name: "msgfmt case", hacf: base + "msgfmt Classic\n"},
		{name: "msgfmt netstring", hacf: base + "msgfmt netstring\n"},
		{name: "crm no", hacf: base + "crm no\n"},
		{name: "crm twice", hacf: base + "crm no\npacemaker no\n"},
		{name: "autojoin any", hacf: base + "autojoin any\n"},
		{name: "autojoin None", hacf: base + "autojoin None\n"},
		{name: "autojoin bad", hacf: base + "autojoin all\n"},
		{name: "uuidfrom bad", hacf: base + "uuidfrom uuid\n"},
		{name: "compression lz4", hacf: base + "compression lz4\n"},
		{name: "compression bz2", hacf: base + "compression bz2\n"},
		{name: "compression_threshold 0", hacf: base + "compression_threshold 0\n"},
		{name: "env ok", hacf: base + "env FOO=bar\n"},
		{name: "env bad", hacf: base + "env =x\n"},
		{name: "max_rexmit_delay 0", hacf: base + "max_rexmit_delay 0\n"},
		{name: "memreserve 0", hacf: base + "memreserve 0\n"},
		{name: "debug 256", hacf: base + "debug 256\n"},
		{name: "realtime bad", hacf: base + "realtime 2\n"},
		{name: "mcast ok", hacf: "node n1\nmcast hb0 239.0.0.1 694 1 0\n"},
		{name: "mcast ttl 5", hacf: "node n1\nmcast hb0 239.0.0.1 694 5 0\n"},
		{name: "mcast unicast group", hacf: "node n1\nmcast hb0 10.0.0.1 694 1 0\n"},
		{name: "mcast short", hacf: "node n1\nmcast hb0 239.0.0.1 694\n"},
		{name: "mcast loop 2", hacf: "node n1\nmcast hb0 239.0.0.1 694 1 2\n"},
		{name: "ucast ok", hacf: "node n1\nucast hb0 10.9.0.2\n"},
		{name: "ucast no peer", hacf: "node n1\nucast hb0\n"},
		{name: "serial relative", hacf: base + "serial tty0\n"},
		{name: "directive case", hacf: base + "Keepalive 2\n"},
		{name: "unknown", hacf: base + "bogus 1\n"},
		{name: "comma directive", hacf: base + "node,n2\n"},
		{name: "comma list", hacf: "node n2,n1\nbcast hb0\n"},
		{name: "udp", hacf: "node n1\nudp hb0\n"},
		{name: "upper node", hacf: "node N1\nbcast hb0\n"},
		{name: "not local", hacf: "node n2\nbcast hb0\n"},
		{name: "no media", hacf: "node n1\n"},
		{name: "no value", hacf: base + "keepalive\n"},
		{name: "comments", hacf: "# x\n  node n1 # me\nbcast hb0#x\n\n"},
		{name: "apiauth ok", hacf: base + "apiauth ipfail uid=hacluster\n"},
		{name: "apiauth bad", hacf: base + "apiauth ipfail\n"},
		{name: "use_logd off", hacf: base + "use_logd off\n"},
		{name: "mcast empty", hacf: base + "mcast\n"},
		{name: "ucast empty", hacf: base + "ucast\n"},
		{name: "udpport after bcast", hacf: base + "udpport 700\n"},
		{name: "cr ends line", hacf: base + "warntime 5\rjunk\n"},
		{name: "101 nodes", hacf: base + "node" + strings.Repeat(" x", 50) + "\nnode" + strings.Repeat(" y", 50) + "\n"},
		{name: "deadtime 0", hacf: base + "deadtime 0\n"},
		{name: "initdead 0", hacf: base + "initdead 0\n"},
		{name: "hopfudge -1", hacf: base + "hopfudge -1\n"},
		{name: "debug -1", hacf: base + "debug -1\n"},
		{name: "mcast extra", hacf: "node n1\nmcast hb0 239.0.0.1 694 1 0 extra\n"},
		{name: "facility kern", hacf: base + "logfacility kern\n"},
		{name: "crm_daemon_dir late", hacf: base + "crm no\ncrm_daemon_dir /x\n"},
		{name: "crmd_spawns_pengine", hacf: base + "crmd_spawns_pengine yes\n"},
		{name: "crmd_spawns_pengine late", hacf: base + "crm no\ncrmd_spawns_pengine yes\n"},
		{name: "100 nodes", hacf: base + "node" + strings.Repeat(" x", 49) + "\nnode" + strings.Repeat(" y", 50) + "\n"},
		{name: "nice after auto", hacf: base + "auto_failback on\nnice_failback on\n"},
		{name: "time dots", hacf: base + "keepalive .5\ndeadtime 1.2.3\n"},
		{name: "time us", hacf: base + "keepalive 499us\n"},
		{name: "authkeys glued", hacf: base, authkeys: "auth3\n3sha1 key\n"},
		{name: "authkeys auth trailing", hacf: base, authkeys: "auth 1 2\n1 crc\n"},
		{name: "nodeinfo", hacf: "node n2\nbcast hb0\n", haresources: "n2 habox-oracle-none\n", nodeinfo: "N2\n"},
		{name: "authkeys 0644", hacf: base, mode: 0o644},
		{name: "authkeys 0620", hacf: base, mode: 0o620},
		{name: "authkeys 0604", hacf: base, mode: 0o604},
		{name: "authkeys crc key", hacf: base, authkeys: "auth 1\n1 crc x\n"},
		{name: "authkeys order", hacf: base, authkeys: "1 sha1 k\nauth 1\n"},
		{name: "authkeys extra words", hacf: base, authkeys: "auth 1\n1 sha1 k more words\n"},
		{name: "authkeys not found", hacf: base, authkeys: "auth 2\n1 crc\n"},
		{name: "authkeys index 0", hacf: base, authkeys: "auth 0\n0 md5 k\n"},
		{name: "authkeys index 16", hacf: base, authkeys: "auth 1\n1 crc\n16 crc\n"},
		{name: "authkeys a-line", hacf: base, authkeys: "auth 1\n1 crc\nanything\n"},
		{name: "authkeys method case", hacf: base, authkeys: "auth 1\n1 SHA1 k\n"},
		{name: "haresources bad node", hacf: base, haresources: "n2 habox-oracle-none\n"},
		{name: "haresources upper node", hacf: base, haresources: "N1 habox-oracle-none\n"},
		{name: "haresources comment", hacf: base, haresources: "# c\n  # c2\n\nn1 habox-oracle-none # c\n"},
		{name: "ping", hacf: base + "ping 10.9.0.254 10.9.0.253\n"},
		{name: "ping only", hacf: "node n1\nping 10.9.0.254\n"},
		{name: "ping_group", hacf: base + "ping_group up 10.9.0.254 10.9.0.253\ndeadping 5\n"},
		{name: "respawn", hacf: base + "respawn hacluster /bin/true -x\n"},
		{name: "respawn no user", hacf: base + "respawn habox-nouser /bin/true\n"},
		{name: "respawn not executable", hacf: base + "respawn hacluster /etc/hostname\n"},
		{name: "respawn missing", hacf: base + "respawn hacluster /habox/none\n"},
		{name: "respawn relative", hacf: base + "respawn hacluster bin/true\n"},
		{name: "respawn ipfail", hacf: base + "auto_failback on\nrespawn hacluster /usr/libexec/heartbeat/ipfail\n"},
		{name: "diverge: respawn ccm", hacf: base + "respawn hacluster /usr/libexec/heartbeat/ccm\n", diverge: true},
		{name: "diverge: ping6", hacf: base + "ping6 ::1\n", diverge: true},
		{name: "diverge: udpport 70000", hacf: "udpport 70000\n" + base, diverge: true},
		{name: "diverge: long line", hacf: base + "keepalive 2" + strings.Repeat(" ", 6000) + "\n", diverge: true},
		{name: "diverge: duplicate key", hacf: "node n1 n2\nbcast hb0\n", haresources: "n1 habox-a\nn2 habox-a\n", diverge: true},
		{name: "diverge: key elsewhere", hacf: "node n1 n2\nbcast hb0\n", haresources: "n1 habox-a\nn2 habox-b habox-a\n", diverge: true},
		{name: "diverge: continuation comment", hacf: base, haresources: "n1 habox-a \\\n habox-b # c\n", diverge: true},
		{name: "diverge: node only", hacf: base, haresources: "n1\n", diverge: true},
		{name: "diverge: continuation empty", hacf: base, haresources: "n1 habox-a \\\n\n", diverge: true},
		{name: "diverge: ip args", hacf: base, haresources: "n1 10.9.0.7::hb0\n", diverge: true},
		{name: "diverge: regex key", hacf: base, haresources: "n1 habox+a\n", diverge: true},
		{name: "diverge: crlf", hacf: base, haresources: "n1 habox-a\r\n", diverge: true},
		{name: "diverge: slash script", hacf: base, haresources: "n1 ../habox-a\n", diverge: true},
		{name: "diverge: mcast ttl wraps", hacf: "node n1\nmcast hb0 239.0.0.1 694 257 0\n", diverge: true},
		{name: "haresources continuation", hacf: base, haresources: "n1 habox-oracle-none \\\n  habox-oracle-two\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{
				HaCfFile:        "logfacility none\nlogfile " + filepath.Join(dir, "log") + "\n" + tc.hacf,
				AuthkeysFile:    tc.authkeys,
				HaresourcesFile: tc.haresources,
				NodeinfoFile:    tc.nodeinfo,
			}
			if files[AuthkeysFile] == "" {
				files[AuthkeysFile] = auth
			}
			if files[HaresourcesFile] == "" {
				files[HaresourcesFile] = res
			}
			for name, body := range files {
				if body == "" {
					continue
				}
				mode := os.FileMode(0o644)
				if name == AuthkeysFile {
					mode = 0o600
					if tc.mode != 0 {
						mode = tc.mode
					}
				}
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(body), mode); err != nil {
					t.Fatal(err)
				}
				os.Chmod(p, mode)
			}
			c, err := Load(dir, "n1")
			real, out := runReal(t, dir)
			if tc.diverge {
				if !real || err == nil {
					t.Errorf("expected a deliberate divergence: 3.0.6 accepted=%v, habox accepted=%v\nhabox: %v\n3.0.6 log:\n%s", real, err == nil, err, out)
				}
				return
			}
			if real != (err == nil) {
				t.Errorf("heartbeat 3.0.6 accepted=%v, habox accepted=%v\nhabox: %v\n3.0.6 log:\n%s", real, err == nil, err, out)
			}
			// Every specific error or warning 3.0.6 logs is quoted in
			// habox's errors and warnings.
			msgs := ""
			if err != nil {
				msgs = err.Error()
			}
			for _, w := range c.Warnings {
				msgs += "\n" + w.String()
			}
			msgs = strings.ReplaceAll(msgs, dir+"/", "/etc/ha.d//")
			// Only the configuration phase: what follows is the start.
			out, _, _ = strings.Cut(out, "info: heartbeat: version 3.0.6")
			for _, l := range strings.Split(out, "\n") {
				_, e, ok := strings.Cut(l, "ERROR: ")
				if !ok {
					_, e, ok = strings.Cut(l, "WARN: ")
					e = strings.TrimPrefix(e, "WARNING: ")
				}
				if !ok || genericError(e) || tc.ownWords {
					continue
				}
				if !strings.Contains(msgs, e) {
					t.Errorf("3.0.6 error %q is not quoted by habox:\n%s", e, msgs)
				}
			}
		})
	}
}

// genericError reports 3.0.6 error and warning lines that habox words its
// own way or leaves out (summaries, plugin noise, runtime failures, logd
// and core dump advice).
func genericError(e string) bool {
	for _, g := range []string{"Heartbeat not started: configuration error.", "Configuration error, heartbeat not started.",
		"Authentication configuration error.", "glib: ", "Cannot chdir to", "Illegal bcast", "Illegal mcast", "Illegal ucast", "Illegal serial",
		"LoadPlugin on ", "Lookup extended#2 returned FALSE", "Table size: ",
		"See documentation for details.",
		// warnings habox leaves out: it has no logd, no core dump setup
		"Logging daemon is disabled", "Core dumps could be lost", "Consider setting"} {
		if strings.HasPrefix(e, g) {
			return true
		}
	}
	return false
}

// TestOracleMediaPorts checks the udpport latch against the ports the real
// daemon opens: each UDP plugin takes udpport as it stands when its first
// medium is declared.
func TestOracleMediaPorts(t *testing.T) {
	hwtest.SkipUnderEmulator(t, "compares the parser with the host's heartbeat 3.0.6 in namespaces; conf's other tests run the parser here")
	if testing.Short() {
		t.Skip("runs the real daemon")
	}
	hwtest.RequireRoot(t)
	hwtest.RequireFile(t, realHeartbeat, "heartbeat 3.0.6 (Debian package heartbeat)")
	hwtest.RequireCmd(t, "unshare")
	hwtest.RequireCmd(t, "ip")
	for _, hacf := range []string{
		"udpport 700\nbcast hb0\n",
		"bcast hb0\nudpport 700\nbcast hb1\n",
		"bcast hb0\nudpport 700\nucast hb0 10.9.0.2\n",
		"ucast hb0 10.9.0.2\nudpport 701\nbcast hb1\nucast hb1 10.9.1.2\n",
		"udpport 702\nmcast hb0 239.0.0.9 703 1 0\nbcast hb1\n",
	} {
		t.Run(strings.ReplaceAll(hacf, "\n", ";"), func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{
				HaCfFile:        "logfacility none\nlogfile " + filepath.Join(dir, "log") + "\nnode n1\n" + hacf,
				AuthkeysFile:    "auth 1\n1 crc\n",
				HaresourcesFile: "n1 habox-oracle-none\n",
			}
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(dir, "n1")
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, m := range c.HaCf.Media {
				want = append(want, string(m.Type)+" "+m.Dev+" "+strconv.Itoa(m.Port))
			}
			ok, out := runRealWait(t, dir, "started", len(want))
			if !ok {
				t.Fatalf("3.0.6 refused:\n%s", out)
			}
			var got []string
			for _, l := range strings.Split(out, "\n") {
				f := strings.Fields(l)
				for i := range f {
					switch {
					case strings.HasSuffix(l, "interface "+f[len(f)-1]) && strings.Contains(l, "UDP Broadcast heartbeat started on port") && f[i] == "port":
						got = append(got, "bcast "+f[len(f)-1]+" "+f[i+1])
					case strings.Contains(l, "ucast: started on port") && f[i] == "port":
						got = append(got, "ucast "+f[i+3]+" "+f[i+1])
					case strings.Contains(l, "UDP multicast heartbeat started") && f[i] == "port":
						got = append(got, "mcast "+f[i+3]+" "+f[i+1])
					}
				}
			}
			sort.Strings(want)
			sort.Strings(got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("3.0.6 opened %q, habox says %q\n%s", got, want, out)
			}
		})
	}
}

// TestOracleSerialBaud checks the baud latch against the speed 3.0.6
// actually sets: the serial plugin takes baud as it stands when the first
// serial line is read.
func TestOracleSerialBaud(t *testing.T) {
	hwtest.SkipUnderEmulator(t, "compares the parser with the host's heartbeat 3.0.6 in namespaces; conf's other tests run the parser here")
	if testing.Short() {
		t.Skip("runs the real daemon")
	}
	hwtest.RequireRoot(t)
	hwtest.RequireFile(t, realHeartbeat, "heartbeat 3.0.6 (Debian package heartbeat)")
	hwtest.RequireCmd(t, "unshare")
	hwtest.RequireCmd(t, "ip")
	hwtest.RequireCmd(t, "socat")
	for _, tc := range []struct{ hacf, baud string }{
		{"serial TTY\nbaud 38400\n", "19200"},
		{"baud 38400\nserial TTY\n", "38400"},
		{"baud 9600\nbcast hb0\nserial TTY\n", "9600"},
	} {
		t.Run(strings.ReplaceAll(tc.hacf, "\n", ";"), func(t *testing.T) {
			dir := t.TempDir()
			tty := filepath.Join(t.TempDir(), "ttyA")
			files := map[string]string{
				HaCfFile:        "logfacility none\nlogfile " + filepath.Join(dir, "log") + "\nnode n1\n" + strings.ReplaceAll(tc.hacf, "TTY", tty),
				AuthkeysFile:    "auth 1\n1 crc\n",
				HaresourcesFile: "n1 habox-oracle-none\n",
			}
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(dir, "n1")
			if err != nil {
				t.Fatal(err)
			}
			var habox string
			for _, m := range c.HaCf.Media {
				if m.Type == Serial {
					habox = strconv.Itoa(m.Baud)
				}
			}
			ok, out := runRealPty(t, dir, "Starting serial heartbeat on tty", 1, tty)
			if !ok {
				t.Fatalf("3.0.6 refused:\n%s", out)
			}
			want := "Starting serial heartbeat on tty " + tty + " (" + tc.baud + " baud)"
			if !strings.Contains(out, want) || habox != tc.baud {
				t.Errorf("habox says %s baud; 3.0.6 log (want %q):\n%s", habox, want, out)
			}
		})
	}
}
