package mkwatchdog

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"habox/applets/cli"
	"habox/hw/devnode"
	"habox/hw/hwtest"
	"habox/hw/kmod"
)

const procDevices = `Character devices:
  1 mem
  4 /dev/vc/0
  4 tty
 10 misc
 13 input
249 watchdog
254 ndctl

Block devices:
  7 loop
 11 misc
259 blkext
`

const procMiscNoWatchdog = `234 btrfs-control
259 cpu_dma_latency
183 hw_random
`

const rel = "9.9.9-test"

// fakeKernel records module loads; loading the module named register
// appends a watchdog line to the fake /proc/misc, as the driver would.
type fakeKernel struct {
	root     string
	register string
	calls    []string
	images   [][]byte
}

func (k *fakeKernel) loaded(file, params string) {
	k.calls = append(k.calls, filepath.Base(file)+" ["+params+"]")
	if kmod.Name(file) == k.register {
		f, _ := os.OpenFile(filepath.Join(k.root, "proc/misc"), os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString("130 watchdog\n")
		f.Close()
	}
}

func (k *fakeKernel) FinitModule(f *os.File, params string) error {
	name, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		return err
	}
	k.loaded(name, params)
	return nil
}

func (k *fakeKernel) InitModule(image []byte, params string) error {
	k.images = append(k.images, append([]byte(nil), image...))
	k.loaded(string(bytes.Fields(image)[1]), params) // fixture images name themselves
	return nil
}

type fixture struct {
	root string
	k    *fakeKernel
	sys  system
}

// newRoot builds a fake root with /proc/devices, /proc/misc (with a
// watchdog line when registered) and a module tree with softdog.
func newRoot(t *testing.T, registered bool, softdogFile string) *fixture {
	t.Helper()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc"), 0755)
	os.WriteFile(filepath.Join(root, "proc/devices"), []byte(procDevices), 0644)
	misc := procMiscNoWatchdog
	if registered {
		misc += "130 watchdog\n"
	}
	os.WriteFile(filepath.Join(root, "proc/misc"), []byte(misc), 0644)
	mdir := filepath.Join(root, "lib/modules", rel)
	wd := filepath.Join(mdir, "kernel/drivers/watchdog")
	os.MkdirAll(wd, 0755)
	dep := "kernel/drivers/watchdog/watchdog.ko:\n" +
		"kernel/drivers/watchdog/" + softdogFile + ": kernel/drivers/watchdog/watchdog.ko\n"
	os.WriteFile(filepath.Join(mdir, "modules.dep"), []byte(dep), 0644)
	os.WriteFile(filepath.Join(wd, "watchdog.ko"), []byte("\x7fELF watchdog.ko"), 0644)
	img := []byte("\x7fELF " + softdogFile + " " + strings.Repeat("x", 3000))
	if strings.HasSuffix(softdogFile, ".gz") {
		var b bytes.Buffer
		z := gzip.NewWriter(&b)
		z.Write(img)
		z.Close()
		img = b.Bytes()
	}
	os.WriteFile(filepath.Join(wd, softdogFile), img, 0644)
	k := &fakeKernel{root: root, register: "softdog"}
	return &fixture{root: root, k: k, sys: system{
		kernel:  k,
		release: func() (string, error) { return rel, nil },
		mknod:   devnode.MknodChar,
		settle:  100 * time.Millisecond,
	}}
}

func (f *fixture) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code := run(env, append([]string{"--root", f.root}, args...), f.sys)
	return code, out.String(), errb.String()
}

func (f *fixture) node(t *testing.T) devnode.Node {
	t.Helper()
	n, err := devnode.Stat(filepath.Join(f.root, "dev/watchdog"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var want10130 = devnode.Node{Kind: devnode.Char, Major: 10, Minor: 130, Perm: 0600}

func TestParsers(t *testing.T) {
	if m, ok := miscMajor(procDevices); !ok || m != 10 {
		t.Errorf("miscMajor = %d, %v", m, ok)
	}
	if _, ok := miscMajor("Block devices:\n 10 misc\n"); ok {
		t.Error("block section used")
	}
	if m, ok := miscMinor(procMiscNoWatchdog+"130 watchdog\n", "watchdog"); !ok || m != 130 {
		t.Errorf("miscMinor = %d, %v", m, ok)
	}
	if _, ok := miscMinor(procMiscNoWatchdog, "watchdog"); ok {
		t.Error("watchdog found where there is none")
	}
	if _, ok := miscMinor("x watchdog\n-1 watchdog\n", "watchdog"); ok {
		t.Error("bad numbers accepted")
	}
}

func FuzzParsers(f *testing.F) {
	f.Add(procDevices)
	f.Add(procMiscNoWatchdog + "130 watchdog\n")
	f.Fuzz(func(t *testing.T, s string) {
		if m, ok := miscMajor(s); ok && (m < 0 || m >= 1<<12) {
			t.Fatal(m)
		}
		if m, ok := miscMinor(s, "watchdog"); ok && (m < 0 || m >= 1<<20) {
			t.Fatal(m)
		}
	})
}

func TestCreateIdempotent(t *testing.T) {
	hwtest.RequireRoot(t)
	f := newRoot(t, true, "softdog.ko")
	code, out, errs := f.run(t)
	if code != 0 || !strings.Contains(out, "created "+filepath.Join(f.root, "dev/watchdog")+" c 10 130 mode 0600") {
		t.Fatalf("first run: %d\n%s%s", code, out, errs)
	}
	if n := f.node(t); n != want10130 {
		t.Fatalf("node %+v", n)
	}
	code, out, _ = f.run(t)
	if code != 0 || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second run: %d %s", code, out)
	}
	if len(f.k.calls) != 0 {
		t.Errorf("loaded modules with a watchdog registered: %v", f.k.calls)
	}
}

func TestReplaceOnlyWithForce(t *testing.T) {
	hwtest.RequireRoot(t)
	for _, tc := range []struct {
		name string
		make func(p string) error
	}{
		{"wrong numbers", func(p string) error { return devnode.MknodChar(p, 0600, 10, 131) }},
		{"regular file", func(p string) error { return os.WriteFile(p, []byte("oops"), 0644) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRoot(t, true, "softdog.ko")
			p := filepath.Join(f.root, "dev/watchdog")
			os.MkdirAll(filepath.Dir(p), 0755)
			if err := tc.make(p); err != nil {
				t.Fatal(err)
			}
			before, _ := devnode.Stat(p)
			code, _, errs := f.run(t)
			if code != 1 || !strings.Contains(errs, "use -f") {
				t.Fatalf("without -f: %d %s", code, errs)
			}
			if n, _ := devnode.Stat(p); n != before {
				t.Fatal("changed without -f")
			}
			code, out, _ := f.run(t, "-f", "-n")
			if code != 0 || !strings.Contains(out, "would remove") || !strings.Contains(out, "would create") {
				t.Fatalf("-f -n: %d %s", code, out)
			}
			if n, _ := devnode.Stat(p); n != before {
				t.Fatal("changed by a dry run")
			}
			code, out, errs = f.run(t, "-f")
			if code != 0 || !strings.Contains(out, "removed") {
				t.Fatalf("-f: %d %s %s", code, out, errs)
			}
			if n := f.node(t); n != want10130 {
				t.Errorf("node %+v", n)
			}
		})
	}
}

func TestDirectoryNeverReplaced(t *testing.T) {
	f := newRoot(t, true, "softdog.ko")
	os.MkdirAll(filepath.Join(f.root, "dev/watchdog"), 0755)
	code, _, errs := f.run(t, "-f")
	if code != 1 || !strings.Contains(errs, "remove it by hand") {
		t.Fatalf("%d %s", code, errs)
	}
}

func TestDryRun(t *testing.T) {
	f := newRoot(t, false, "softdog.ko")
	code, out, errs := f.run(t, "-n", "-m", "30")
	if code != 0 {
		t.Fatalf("%d %s", code, errs)
	}
	for _, w := range []string{"would load " + filepath.Join(f.root, "lib/modules", rel, "kernel/drivers/watchdog/watchdog.ko"),
		"softdog.ko soft_margin=30", "would create " + filepath.Join(f.root, "dev/watchdog") + " c 10 130"} {
		if !strings.Contains(out, w) {
			t.Errorf("dry run output lacks %q:\n%s", w, out)
		}
	}
	if len(f.k.calls) != 0 {
		t.Error("dry run loaded modules")
	}
	if _, err := os.Stat(filepath.Join(f.root, "dev")); !errors.Is(err, os.ErrNotExist) {
		t.Error("dry run created /dev")
	}
}

func TestLoadSoftdog(t *testing.T) {
	hwtest.RequireRoot(t)
	for _, file := range []string{"softdog.ko", "softdog.ko.gz"} {
		t.Run(file, func(t *testing.T) {
			f := newRoot(t, false, file)
			code, out, errs := f.run(t, "-m", "30", "-w", "1")
			if code != 0 {
				t.Fatalf("%d %s %s", code, out, errs)
			}
			want := []string{"watchdog.ko []", file + " [soft_margin=30 nowayout=1]"}
			if strings.Join(f.k.calls, ",") != strings.Join(want, ",") {
				t.Errorf("loads %v, want %v", f.k.calls, want)
			}
			if strings.HasSuffix(file, ".gz") {
				if len(f.k.images) != 1 || !bytes.HasPrefix(f.k.images[0], []byte("\x7fELF softdog.ko.gz xxx")) || len(f.k.images[0]) != 3000+len("\x7fELF softdog.ko.gz ") {
					t.Errorf("init_module image not the decompressed module (%d images)", len(f.k.images))
				}
			} else if len(f.k.images) != 0 {
				t.Error(".ko went through init_module")
			}
			if n := f.node(t); n != want10130 {
				t.Errorf("node %+v", n)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	// The module loads but registers nothing.
	f := newRoot(t, false, "softdog.ko")
	f.k.register = "none"
	code, _, errs := f.run(t)
	if code != 1 || !strings.Contains(errs, "no watchdog appeared") {
		t.Errorf("silent module: %d %s", code, errs)
	}
	// No such module.
	f = newRoot(t, false, "softdog.ko")
	code, _, errs = f.run(t, "--module", "i6300esb")
	if code != 1 || !strings.Contains(errs, "cannot load i6300esb") || !strings.Contains(errs, "not found") {
		t.Errorf("missing module: %d %s", code, errs)
	}
	// No module tree for this release.
	code, _, errs = f.run(t, "-k", "0.0.0")
	if code != 1 || !strings.Contains(errs, "modules.dep") {
		t.Errorf("missing tree: %d %s", code, errs)
	}
	// No misc major.
	os.WriteFile(filepath.Join(f.root, "proc/devices"), []byte("Character devices:\n  1 mem\n"), 0644)
	code, _, errs = f.run(t)
	if code != 1 || !strings.Contains(errs, "misc") {
		t.Errorf("no misc: %d %s", code, errs)
	}
}

func TestUsage(t *testing.T) {
	f := newRoot(t, true, "softdog.ko")
	for _, args := range [][]string{{"-w", "2"}, {"-m", "0"}, {"-x"}, {"extra"}, {"-m"}, {"-n=1"}} {
		if code, _, _ := f.run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestTestFakeDevice(t *testing.T) {
	f := newRoot(t, true, "softdog.ko")
	fifo := filepath.Join(f.root, "fifo")
	if err := unix.Mkfifo(fifo, 0600); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	code, out, errs := f.run(t, "-t", "-d", "/fifo", "-m", "20")
	if code != 3 || !strings.Contains(errs, "not a watchdog driver") || !strings.Contains(out, "magic close 'V' written") {
		t.Fatalf("-t on a FIFO: %d\n%s%s", code, out, errs)
	}
	r.SetReadDeadline(time.Now().Add(2 * time.Second))
	b, _ := io.ReadAll(r)
	if len(b) == 0 || b[len(b)-1] != 'V' || string(b) != "\x00V" {
		t.Errorf("bytes written %q, want keepalive 0x00 then 'V'", b)
	}
	// A regular file: same protocol.
	os.WriteFile(filepath.Join(f.root, "file"), nil, 0600)
	if code, _, _ := f.run(t, "-t", "-d", "/file"); code != 3 {
		t.Errorf("-t on a file: %d", code)
	}
	if b, _ := os.ReadFile(filepath.Join(f.root, "file")); !bytes.HasSuffix(b, []byte("V")) {
		t.Errorf("file got %q", b)
	}
	if code, _, errs := f.run(t, "-t", "-d", "/missing"); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("-t missing: %d %s", code, errs)
	}
}

// TestOnlyIfConfigured: -c HA_DIR does nothing unless ha.cf names a
// watchdog, and then creates the device ha.cf names (the
// inittab and unit lines are conditional, and honour HA_DIR).
func TestOnlyIfConfigured(t *testing.T) {
	hwtest.RequireRoot(t)
	for _, tc := range []struct {
		name, hacf string // "" = no ha.cf
		created    string // device created under the root, "" = none
	}{
		{"no ha.cf", "", ""},
		{"no watchdog", "node a\nbcast eth0\n", ""},
		{"commented", "# watchdog /dev/watchdog\nnode a\n", ""},
		{"watchdog", "node a\nwatchdog /dev/watchdog\n", "dev/watchdog"},
		{"other device", "watchdog /dev/wd1\nnode a\n", "dev/wd1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRoot(t, true, "softdog.ko")
			ha := t.TempDir()
			if tc.hacf != "" {
				os.WriteFile(filepath.Join(ha, "ha.cf"), []byte(tc.hacf), 0o644)
			}
			code, out, errs := f.run(t, "-c", ha)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
			for _, d := range []string{"dev/watchdog", "dev/wd1"} {
				_, err := os.Lstat(filepath.Join(f.root, d))
				if (err == nil) != (d == tc.created) {
					t.Errorf("%s exists: %v, want %v\n%s", d, err == nil, d == tc.created, out)
				}
			}
			if tc.created == "" && !strings.Contains(out, "names no watchdog: nothing to do") {
				t.Errorf("out %q", out)
			}
		})
	}
}
