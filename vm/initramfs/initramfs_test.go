package initramfs

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// member is one parsed cpio entry.
type member struct {
	mode       uint32
	data       string
	rmaj, rmin uint32
}

// parseNewc reads a newc archive back, checking magic, padding and trailer.
func parseNewc(t *testing.T, b []byte) map[string]member {
	t.Helper()
	m := map[string]member{}
	off := 0
	field := func(i int) uint32 {
		v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
		if err != nil {
			t.Fatalf("offset %d field %d: %v", off, i, err)
		}
		return uint32(v)
	}
	for {
		if off+110 > len(b) || string(b[off:off+6]) != "070701" {
			t.Fatalf("bad header at %d", off)
		}
		mode, size, rmaj, rmin, nsize := field(1), field(6), field(9), field(10), field(11)
		name := string(b[off+110 : off+110+int(nsize)-1])
		if b[off+110+int(nsize)-1] != 0 {
			t.Fatalf("%s: name not NUL-terminated", name)
		}
		p := off + 110 + int(nsize)
		p = (p + 3) &^ 3
		data := string(b[p : p+int(size)])
		off = (p + int(size) + 3) &^ 3
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("%d bytes after the trailer", len(b)-off)
			}
			return m
		}
		if _, dup := m[name]; dup {
			t.Fatalf("duplicate %s", name)
		}
		m[name] = member{mode, data, rmaj, rmin}
	}
}

func TestArchive(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/f", []byte("hello"), 0o640)
	os.MkdirAll(dir+"/tree/sub", 0o700)
	os.WriteFile(dir+"/tree/sub/x", []byte("xyz"), 0o600)
	os.Symlink("sub/x", dir+"/tree/l")
	a := New()
	a.Bytes("/etc/a", 0o644, []byte("abc"))
	if err := a.File("usr/bin/f", dir+"/f", 0); err != nil {
		t.Fatal(err)
	}
	if err := a.File("g", dir+"/f", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := a.File("d", dir+"/tree", 0); err == nil {
		t.Error("File accepted a directory")
	}
	a.Symlink("init", "usr/bin/f")
	a.CharDev("dev/console", 0o600, 5, 1)
	a.Dir("tmp", 0o1777)
	if err := a.Tree("etc/t", dir+"/tree"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := a.WriteCpio(&buf); err != nil {
		t.Fatal(err)
	}
	m := parseNewc(t, buf.Bytes())
	want := map[string]member{
		"etc":         {TypeDir | 0o755, "", 0, 0},
		"etc/a":       {TypeReg | 0o644, "abc", 0, 0},
		"usr":         {TypeDir | 0o755, "", 0, 0},
		"usr/bin":     {TypeDir | 0o755, "", 0, 0},
		"usr/bin/f":   {TypeReg | 0o640, "hello", 0, 0},
		"g":           {TypeReg | 0o755, "hello", 0, 0},
		"init":        {TypeLink | 0o777, "usr/bin/f", 0, 0},
		"dev":         {TypeDir | 0o755, "", 0, 0},
		"dev/console": {TypeChar | 0o600, "", 5, 1},
		"tmp":         {TypeDir | 0o1777, "", 0, 0},
		"etc/t":       {TypeDir | 0o700, "", 0, 0},
		"etc/t/sub":   {TypeDir | 0o700, "", 0, 0},
		"etc/t/sub/x": {TypeReg | 0o600, "xyz", 0, 0},
		"etc/t/l":     {TypeLink | 0o777, "sub/x", 0, 0},
	}
	if len(m) != len(want) {
		t.Errorf("%d members, want %d: %v", len(m), len(want), a.Names())
	}
	for n, w := range want {
		if m[n] != w {
			t.Errorf("%s = %+v, want %+v", n, m[n], w)
		}
	}
	// Reproducible, and readable by GNU cpio when installed.
	var again bytes.Buffer
	a.WriteCpio(&again)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two writes differ")
	}
	if cpio, err := exec.LookPath("cpio"); err == nil {
		cmd := exec.Command(cpio, "-it", "--quiet")
		cmd.Stdin = bytes.NewReader(buf.Bytes())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("cpio -it: %v", err)
		}
		if got := strings.Fields(string(out)); len(got) != len(want) {
			t.Errorf("cpio -it lists %v", got)
		}
	}
	// Gzip round trip.
	var z bytes.Buffer
	if err := a.WriteGzip(&z); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&z)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, buf.Bytes()) {
		t.Error("gzip content differs")
	}
}

// fakeHabox is a stand-in binary whose --install -s makes two links.
func fakeHabox(t *testing.T, dir string) string {
	p := filepath.Join(dir, "habox")
	os.WriteFile(p, []byte("#!/bin/sh\n[ \"$1\" = --install ] && ln -s x \"$3/heartbeat\" && ln -s x \"$3/IPaddr\"\n"), 0o755)
	return p
}

func TestBuild(t *testing.T) {
	dir := t.TempDir()
	kdir := filepath.Join(dir, "lib/modules/6.1.0-test")
	for _, p := range []string{"kernel/a/virtio.ko", "kernel/a/virtio_ring.ko", "kernel/n/virtio_net.ko", "kernel/n/failover.ko", "kernel/w/softdog.ko", "kernel/w/watchdog.ko", "kernel/x/unused.ko"} {
		os.MkdirAll(filepath.Dir(filepath.Join(kdir, p)), 0o755)
		os.WriteFile(filepath.Join(kdir, p), []byte("module "+p), 0o644)
	}
	os.WriteFile(kdir+"/modules.dep", []byte(`kernel/a/virtio_ring.ko:
kernel/a/virtio.ko: kernel/a/virtio_ring.ko
kernel/n/failover.ko:
kernel/n/virtio_net.ko: kernel/n/failover.ko kernel/a/virtio.ko kernel/a/virtio_ring.ko
kernel/w/watchdog.ko:
kernel/w/softdog.ko: kernel/w/watchdog.ko
kernel/x/unused.ko:
`), 0o644)
	os.WriteFile(kdir+"/modules.builtin", []byte("kernel/drivers/tty/serial/8250/8250.ko\n"), 0o644)
	hadir := filepath.Join(dir, "ha.d")
	os.Mkdir(hadir, 0o755)
	os.WriteFile(hadir+"/ha.cf", []byte("node a\n"), 0o644)
	os.WriteFile(hadir+"/authkeys", []byte("auth 1\n1 crc\n"), 0o600)
	os.WriteFile(hadir+"/haresources", []byte("a 10.0.0.1\n"), 0o644)
	os.WriteFile(dir+"/rc", []byte("bg heartbeat -f\n"), 0o644)
	o := &Options{Habox: fakeHabox(t, dir), HaDir: hadir, KDir: kdir,
		Load: []string{"virtio_net", "8250"}, Carry: []string{"softdog"},
		Files: map[string]string{"etc/hainit.rc": dir + "/rc"}}
	a, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	a.WriteCpio(&buf)
	m := parseNewc(t, buf.Bytes())
	checks := map[string]string{
		"init":                       "usr/sbin/habox",
		"usr/sbin/heartbeat":         "habox",
		"usr/sbin/IPaddr":            "habox",
		"etc/ha.d/resource.d/IPaddr": "/usr/sbin/habox",
		"var/run":                    "../run",
		"etc/ha.d/ha.cf":             "node a\n",
		"etc/hainit.rc":              "bg heartbeat -f\n",
		"etc/modules":                "kernel/a/virtio_ring.ko\nkernel/a/virtio.ko\nkernel/n/failover.ko\nkernel/n/virtio_net.ko\n",
		"lib/modules/6.1.0-test/modules.dep": "kernel/a/virtio.ko: kernel/a/virtio_ring.ko\nkernel/a/virtio_ring.ko:\nkernel/n/failover.ko:\n" +
			"kernel/n/virtio_net.ko: kernel/n/failover.ko kernel/a/virtio.ko kernel/a/virtio_ring.ko\nkernel/w/softdog.ko: kernel/w/watchdog.ko\nkernel/w/watchdog.ko:\n",
		"lib/modules/6.1.0-test/kernel/w/softdog.ko": "module kernel/w/softdog.ko",
	}
	for n, want := range checks {
		if m[n].data != want {
			t.Errorf("%s = %q, want %q", n, m[n].data, want)
		}
	}
	if m["etc/ha.d/authkeys"].mode != TypeReg|0o600 {
		t.Errorf("authkeys mode %o", m["etc/ha.d/authkeys"].mode)
	}
	if _, ok := m["lib/modules/6.1.0-test/kernel/x/unused.ko"]; ok {
		t.Error("unused module copied")
	}
	if _, ok := m["dev/null"]; ok {
		t.Error("dev/null in the image: init would not mount devtmpfs")
	}
	if c := m["dev/console"]; c.mode != TypeChar|0o600 || c.rmaj != 5 || c.rmin != 1 {
		t.Errorf("dev/console %+v", c)
	}

	// A bare image: no /var/lock, /var/lib, /var/log; /var -> tmp.
	o.Bare = true
	bare, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	var bb bytes.Buffer
	bare.WriteCpio(&bb)
	bm := parseNewc(t, bb.Bytes())
	for _, n := range []string{"var/lock", "var/lib/heartbeat", "var/log", "var/run"} {
		if _, ok := bm[n]; ok {
			t.Errorf("bare image has %s", n)
		}
	}
	if bm["var"].data != "tmp" || bm["tmp"].mode != TypeDir|0o1777 {
		t.Errorf("bare image: var %+v, tmp %+v", bm["var"], bm["tmp"])
	}
	o.Bare = false

	// Without a script of its own, an image with a configuration runs
	// heartbeat (and mkwatchdog when ha.cf names a watchdog).
	delete(o.Files, "etc/hainit.rc")
	for _, tc := range []struct{ cf, want string }{
		{"node a\n#watchdog /dev/watchdog\n", "bg heartbeat -f\n"},
		{"node a\nwatchdog /dev/watchdog # softdog\n", "mkwatchdog\nbg heartbeat -f\n"},
	} {
		os.WriteFile(hadir+"/ha.cf", []byte(tc.cf), 0o644)
		a, err := Build(o)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		a.WriteCpio(&b)
		rc := parseNewc(t, b.Bytes())["etc/hainit.rc"].data
		if !strings.HasSuffix(rc, "\n"+tc.want) || strings.Count(rc, "mkwatchdog") != strings.Count(tc.want, "mkwatchdog") {
			t.Errorf("ha.cf %q: default script\n%s\nwant it to end with\n%s", tc.cf, rc, tc.want)
		}
	}

	// Errors: a readable authkeys, an unknown module.
	os.Chmod(hadir+"/authkeys", 0o644)
	if _, err := Build(o); err == nil || !strings.Contains(err.Error(), "authkeys") {
		t.Errorf("readable authkeys: %v", err)
	}
	os.Chmod(hadir+"/authkeys", 0o600)
	// An HA_DIR lacking a file a node needs is refused, naming it.
	for _, f := range []string{"ha.cf", "authkeys", "haresources"} {
		os.Rename(hadir+"/"+f, dir+"/moved")
		if _, err := Build(o); err == nil || !strings.Contains(err.Error(), hadir+": no "+f) {
			t.Errorf("HA_DIR without %s: %v", f, err)
		}
		os.Rename(dir+"/moved", hadir+"/"+f)
	}
	// authkeys added with -file is 0600 in the image whatever its mode.
	os.WriteFile(dir+"/ak", []byte("auth 1\n1 crc\n"), 0o644)
	o.Files["etc/ha.d/authkeys"] = dir + "/ak"
	if a, err := Build(o); err != nil {
		t.Error(err)
	} else {
		var b bytes.Buffer
		a.WriteCpio(&b)
		if m := parseNewc(t, b.Bytes())["etc/ha.d/authkeys"]; m.mode != TypeReg|0o600 || m.data != "auth 1\n1 crc\n" {
			t.Errorf("-file authkeys: mode %o %q", m.mode, m.data)
		}
	}
	delete(o.Files, "etc/ha.d/authkeys")
	o.Load = []string{"nosuchmod"}
	if _, err := Build(o); err == nil || !strings.Contains(err.Error(), "nosuchmod") {
		t.Errorf("unknown module: %v", err)
	}
}
