package kmod

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const depFixture = `kernel/arch/x86/events/amd/power.ko:
kernel/drivers/watchdog/watchdog.ko:
# comment
kernel/drivers/watchdog/softdog.ko: kernel/drivers/watchdog/watchdog.ko kernel/lib/pretimeout-x.ko
kernel/drivers/net/foo-bar.ko.xz:
/lib/modules/9.9.9-test/kernel/old/abs_path.ko.gz:
garbage line without colon
`

// fakeKernel records the module-loading calls.
type fakeKernel struct {
	calls []call
	err   map[string]error // by module file base name
}

type call struct {
	op, file, params string
	image            []byte
}

func (k *fakeKernel) FinitModule(f *os.File, params string) error {
	// The descriptor the kernel would read: name it through /proc.
	name, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		return err
	}
	k.calls = append(k.calls, call{op: "finit", file: name, params: params})
	return k.err[filepath.Base(name)]
}

func (k *fakeKernel) InitModule(image []byte, params string) error {
	k.calls = append(k.calls, call{op: "init", params: params, image: append([]byte(nil), image...)})
	return nil
}

func fixtureTree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lib/modules/9.9.9-test")
	for _, p := range []string{"kernel/drivers/watchdog", "kernel/lib", "kernel/old", "kernel/drivers/net"} {
		os.MkdirAll(filepath.Join(dir, p), 0755)
	}
	os.WriteFile(filepath.Join(dir, "modules.dep"), []byte(depFixture), 0644)
	for _, p := range []string{"kernel/drivers/watchdog/softdog.ko", "kernel/drivers/watchdog/watchdog.ko", "kernel/lib/pretimeout-x.ko"} {
		os.WriteFile(filepath.Join(dir, p), []byte("\x7fELF "+p), 0644)
	}
	return dir
}

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"softdog":                            "softdog",
		"kernel/drivers/watchdog/softdog.ko": "softdog",
		"foo-bar.ko.xz":                      "foo_bar",
		"x.ko.zst":                           "x",
		"/a/b/c_d.ko.gz":                     "c_d",
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFind(t *testing.T) {
	dir := fixtureTree(t)
	m, err := Find(dir, "softdog")
	if err != nil {
		t.Fatal(err)
	}
	if m.Path != filepath.Join(dir, "kernel/drivers/watchdog/softdog.ko") {
		t.Errorf("path %s", m.Path)
	}
	if len(m.Deps) != 2 || m.Deps[0] != filepath.Join(dir, "kernel/drivers/watchdog/watchdog.ko") {
		t.Errorf("deps %v", m.Deps)
	}
	if m, err := Find(dir, "foo_bar"); err != nil || !strings.HasSuffix(m.Path, "kernel/drivers/net/foo-bar.ko.xz") {
		t.Errorf("foo_bar: %+v, %v", m, err)
	}
	if m, err := Find(dir, "abs-path"); err != nil || m.Path != filepath.Join(dir, "kernel/old/abs_path.ko.gz") {
		t.Errorf("absolute entry: %+v, %v", m, err)
	}
	if _, err := Find(dir, "nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing module: %v", err)
	}
	if _, err := Find(t.TempDir(), "softdog"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing modules.dep: %v", err)
	}
}

func TestLoadModuleOrderAndParams(t *testing.T) {
	dir := fixtureTree(t)
	m, err := Find(dir, "softdog")
	if err != nil {
		t.Fatal(err)
	}
	k := &fakeKernel{err: map[string]error{"watchdog.ko": os.NewSyscallError("finit_module", errEEXIST())}}
	l := &Loader{Kernel: k}
	if err := l.LoadModule(m, "soft_margin=30 nowayout=0"); err != nil {
		t.Fatal(err)
	}
	want := []call{
		{op: "finit", file: m.Deps[1]},
		{op: "finit", file: m.Deps[0]}, // already loaded: EEXIST ignored
		{op: "finit", file: m.Path, params: "soft_margin=30 nowayout=0"},
	}
	if len(k.calls) != len(want) {
		t.Fatalf("calls %+v, want %+v", k.calls, want)
	}
	for i := range want {
		if k.calls[i].op != want[i].op || k.calls[i].file != want[i].file || k.calls[i].params != want[i].params {
			t.Errorf("call %d = %+v, want %+v", i, k.calls[i], want[i])
		}
	}
	// The module itself already loaded: reported as ErrExist.
	k.err["softdog.ko"] = errEEXIST()
	if err := l.Load(m.Path, ""); !errors.Is(err, os.ErrExist) {
		t.Errorf("already loaded: %v, want ErrExist", err)
	}
}

func TestLoadGzipInMemory(t *testing.T) {
	dir := t.TempDir()
	img := bytes.Repeat([]byte("\x7fELF module image "), 5000)
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(img)
	w.Close()
	p := filepath.Join(dir, "softdog.ko.gz")
	os.WriteFile(p, z.Bytes(), 0644)
	k := &fakeKernel{}
	if err := (&Loader{Kernel: k}).Load(p, "nowayout=1"); err != nil {
		t.Fatal(err)
	}
	if len(k.calls) != 1 || k.calls[0].op != "init" || k.calls[0].params != "nowayout=1" || !bytes.Equal(k.calls[0].image, img) {
		t.Fatalf("calls %+v", k.calls)
	}
	// A corrupt .gz is an error naming the file, and nothing is loaded.
	bad := filepath.Join(dir, "bad.ko.gz")
	os.WriteFile(bad, z.Bytes()[:z.Len()/2], 0644)
	k.calls = nil
	if err := (&Loader{Kernel: k}).Load(bad, ""); err == nil || !strings.Contains(err.Error(), "bad.ko.gz") || len(k.calls) != 0 {
		t.Errorf("truncated gz: %v, calls %d", err, len(k.calls))
	}
	os.WriteFile(bad, []byte("not gzip"), 0644)
	if err := (&Loader{Kernel: k}).Load(bad, ""); err == nil {
		t.Error("non-gzip accepted")
	}
}

func TestLoadXzNeedsModprobe(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "soft-dog.ko.xz")
	os.WriteFile(p, []byte("xz"), 0644)
	k := &fakeKernel{}
	if err := (&Loader{Kernel: k, ModprobeDirs: []string{filepath.Join(dir, "nobin")}}).Load(p, ""); !errors.Is(err, ErrNeedModprobe) {
		t.Errorf("no modprobe: %v, want ErrNeedModprobe", err)
	}

	// A fake modprobe records its arguments.
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0755)
	out := filepath.Join(dir, "argv")
	os.WriteFile(filepath.Join(bin, "modprobe"), []byte("#!/bin/sh\necho \"$@\" > "+out+"\n"), 0755)
	l := &Loader{Kernel: k, ModprobeDirs: []string{bin}, ModprobeArgs: []string{"-d", "/img", "-S", "9.9"}}
	if err := l.Load(p, "soft_margin=5 nowayout=0"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if string(got) != "-d /img -S 9.9 soft_dog soft_margin=5 nowayout=0\n" {
		t.Errorf("modprobe argv %q", got)
	}
	os.WriteFile(filepath.Join(bin, "modprobe"), []byte("#!/bin/sh\nexit 1\n"), 0755)
	if err := l.Load(strings.TrimSuffix(p, ".xz")+".zst", ""); err == nil {
		t.Error("failing modprobe not reported")
	}
	if len(k.calls) != 0 {
		t.Error("xz module went through the syscalls")
	}
	if err := l.Load(filepath.Join(dir, "x.o"), ""); err == nil {
		t.Error("unknown extension accepted")
	}
}

func TestRelease(t *testing.T) {
	r, err := Release()
	if err != nil || r == "" {
		t.Fatalf("Release() = %q, %v", r, err)
	}
}

func FuzzParseDep(f *testing.F) {
	f.Add(depFixture, "softdog")
	f.Add("a.ko: b.ko c.ko\n", "a")
	f.Add(":\n::\n", "")
	f.Fuzz(func(t *testing.T, dep, name string) {
		m, err := ParseDep(strings.NewReader(dep), name)
		if err == nil && (m == nil || m.Name != Name(name)) {
			t.Fatalf("ParseDep(%q) = %+v", name, m)
		}
	})
}

func errEEXIST() error { return syscall.EEXIST }
