package conf

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// watchdog crashes the fuzz worker when one input takes more than 5 s, so
// that the fuzzer records it (a parser must never hang).
func watchdog(t *testing.T) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			panic("input took more than 5 s")
		}
	}()
	return func() { close(done) }
}

var hacfSeeds = []string{
	seedHaCf,
	"keepalive 500 ms\nbogus\nnode a,b\tc\r\nwarntime 5\rjunk\n# x\n",
	"bcast eth0\nudpport 700\nbcast eth1\nucast eth2 10.0.0.2\nserial /dev/ttyS0\nbaud 38400\nserial /dev/ttyS1\n",
	"mcast eth0 239.0.0.1 694 1 0\nmcast eth0 1.2.3.4 0 9 7\nmcast\nucast eth1\nucast eth1 a b c\n",
	"auto_failback on\nnice_failback off\nnice_failback x\ncrm no\npacemaker yes\nautojoin any\n",
	"stonith_host * baytech 10.0.0.3 login pw\napiauth ipfail uid=hacluster\nrespawn hacluster /x\nping 1.2.3.4\n",
	"env A=b =c D\nhopfudge 3x\nrtprio 0\ndebug 300\nmsgfmt netstring\nlogfacility local7\nuse_logd on\n",
	"deadtime 1.2.3\ninitdead .5\ndeadping 499us\nmax_rexmit_delay 10\ncompression bz2\nmemreserve 0\n",
	"udp eth1\nwatchdog /dev/watchdog\nwatchdog /dev/x\nbaud 1\nbaud 2\n" + strings.Repeat("y", 40) + "\n",
}

var authSeeds = []string{
	"auth 1\n1 sha1 hblab-sha1-key\n", "auth 1\n1 md5 hblab-md5-key\n", "auth 1\n1 crc\n",
	"# c\n auth3\n3sha1 key more\n1 crc x\n2 md5\n16 sha1 k\n-1 crc\nanything\n", "1 sha1 k\nauth 1\n",
	"auth one\nx\n1\n", "auth 99999999999\n", "\v\n\x00auth 1\n1 crc\r\n",
}

var resSeeds = []string{
	"linuxha1 192.168.85.3 httpd smb\n",
	"linuxha1 192.168.85.3/27/192.168.85.31 httpd smb maid::vacuum\n",
	"# c\nLinuxHA2\tIPaddr::10.0.0.5/24/eth1  Filesystem::/dev/sda1::/data1::ext2 # web\nlinuxha1 10.0.0.6 \\\n apache \\\n\tsquid\n",
	"linuxha1 10.0.0.1 httpd\nlinuxha2 10.0.0.1 smb\nlinuxha1 httpd\n", "linuxha1 10.0.0.1 \\\n\n", "linuxha1 a \\",
	"linuxha1 10.0.0.1::eth0 ::x a+b ../x\r\n", "node3 x\nlinuxha1 10.0.0.1 \\\n httpd # web\n",
}

// addVectorSeeds adds the ha.cf, authkeys and haresources of the capture
// runs.
func addVectorSeeds(add func(string), section string) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte("### ")) {
			continue
		}
		parts := strings.Split(string(b), "### ")
		for _, s := range parts {
			if strings.HasPrefix(s, section) {
				_, body, _ := strings.Cut(s, "\n")
				add(body)
			}
		}
	}
}

func FuzzHaCf(f *testing.F) {
	for _, s := range hacfSeeds {
		f.Add(s)
	}
	addVectorSeeds(func(s string) { f.Add(s) }, "ha.cf")
	f.Fuzz(func(t *testing.T, in string) {
		defer watchdog(t)()
		cf, _, err := ParseHaCf("ha.cf", strings.NewReader(in))
		if cf == nil {
			t.Fatal("nil HaCf")
		}
		lines := strings.Count(in, "\n") + 1
		if err != nil {
			el, ok := err.(ErrorList)
			if !ok || len(el) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			for _, e := range el {
				if e.File != "ha.cf" || e.Line < 0 || e.Line > lines || e.Msg == "" {
					t.Fatalf("bad error %+v", e)
				}
			}
		}
		if cf.Keepalive <= 0 || cf.Deadtime < 0 || cf.Warntime < 0 || cf.Initdead < 0 || len(cf.Media) > MaxMedia || len(cf.Nodes) > MaxNodes {
			t.Fatalf("bad values %+v", cf)
		}
		for _, n := range cf.Nodes {
			if n != strings.ToLower(n) || n == "" || len(n) > MaxNodeName {
				t.Fatalf("bad node %q", n)
			}
		}
		for _, m := range cf.Media {
			switch m.Type {
			case Bcast, Ucast, Mcast:
				if m.Port < 1 || m.Port > 65535 || m.Dev == "" || m.TTL < 0 || m.TTL > 4 {
					t.Fatalf("bad medium %+v", m)
				}
			case Serial:
				if !strings.HasPrefix(m.Dev, "/") || m.Baud == 0 {
					t.Fatalf("bad medium %+v", m)
				}
			default:
				t.Fatalf("bad medium %+v", m)
			}
		}
		if err != nil {
			return
		}
		// A clean file's effective configuration is a clean ha.cf with
		// the same values.
		var b bytes.Buffer
		(&Config{HaCf: cf}).WriteEffective(&b)
		cf2, _, err := ParseHaCf("effective", &b)
		if err != nil {
			t.Fatalf("effective output does not parse: %v\n%s", err, b.String())
		}
		if cf2.Keepalive != cf.Keepalive || cf2.Deadtime != cf.Deadtime || cf2.Warntime != cf.Warntime ||
			cf2.Initdead != cf.Initdead || len(cf2.Nodes) != len(cf.Nodes) || len(cf2.Media) != len(cf.Media) ||
			cf2.AutoFailback != cf.AutoFailback {
			t.Fatalf("round trip differs:\n%+v\n%+v\n%s", cf, cf2, b.String())
		}
	})
}

func FuzzAuthkeys(f *testing.F) {
	for _, s := range authSeeds {
		f.Add(s, uint16(0o600))
		f.Add(s, uint16(0o644))
	}
	addVectorSeeds(func(s string) { f.Add(s, uint16(0o600)) }, "authkeys")
	f.Fuzz(func(t *testing.T, in string, mode uint16) {
		defer watchdog(t)()
		a, err := ParseAuthkeys("authkeys", strings.NewReader(in), fs.FileMode(mode)&fs.ModePerm)
		if a == nil {
			t.Fatal("nil Authkeys")
		}
		if a.Active < -1 || a.Active >= MaxAuth || (a.Active >= 0 && a.Keys[a.Active] == nil) {
			t.Fatalf("bad active %d", a.Active)
		}
		if err == nil && a.Active < 0 {
			t.Fatal("no error without an active key")
		}
		if mode&0o044 != 0 && err == nil {
			t.Fatal("readable keyfile accepted")
		}
		for i, k := range a.Keys {
			if k == nil {
				continue
			}
			if k.Index != i || (k.Method == AuthCRC) != (k.Key == nil) || strings.ContainsAny(string(k.Key), " \t\n\r\v\f") {
				t.Fatalf("bad key %+v", k)
			}
		}
	})
}

func FuzzHaresources(f *testing.F) {
	for _, s := range resSeeds {
		f.Add(s)
	}
	addVectorSeeds(func(s string) { f.Add(s) }, "haresources")
	f.Fuzz(func(t *testing.T, in string) {
		defer watchdog(t)()
		h, err := ParseHaresources("haresources", strings.NewReader(in), twoNodes)
		if h == nil {
			t.Fatal("nil Haresources")
		}
		if err != nil {
			if el, ok := err.(ErrorList); !ok || len(el) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
		}
		for _, g := range h.Groups {
			if g.Line < 1 || g.Node == "" || g.Node != strings.ToLower(g.Node) {
				t.Fatalf("bad group %+v", g)
			}
			if len(g.Resources) > 0 && g.Key != g.Resources[0].Text {
				t.Fatalf("key %q", g.Key)
			}
			if err == nil && (g.Node != "linuxha1" && g.Node != "linuxha2" || len(g.Resources) == 0) {
				t.Fatalf("accepted bad group %+v", g)
			}
			for _, r := range g.Resources {
				if r.Text == "" || strings.ContainsAny(r.Text, " \t") || (err == nil && (r.Script == "" || strings.Contains(r.Text, "#"))) {
					t.Fatalf("bad resource %+v", r)
				}
			}
		}
	})
}
