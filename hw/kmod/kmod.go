// Package kmod loads kernel modules without modprobe: it finds a module
// and its dependencies in modules.dep, then loads plain .ko files with
// finit_module(2) and .ko.gz files, decompressed in memory, with
// init_module(2). For .ko.xz and .ko.zst it runs modprobe when one is
// installed.
package kmod

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ModulesDir is where module trees live, one per kernel release.
const ModulesDir = "/lib/modules"

// Kernel is the pair of module-loading system calls, so callers can test
// their logic with a fake. Sys is the real kernel.
type Kernel interface {
	// FinitModule loads the module in the open file f.
	FinitModule(f *os.File, params string) error
	// InitModule loads a module image.
	InitModule(image []byte, params string) error
}

// Sys is the running kernel.
var Sys Kernel = sysKernel{}

type sysKernel struct{}

func (sysKernel) FinitModule(f *os.File, params string) error {
	return unix.FinitModule(int(f.Fd()), params, 0)
}

func (sysKernel) InitModule(image []byte, params string) error {
	return unix.InitModule(image, params)
}

// Release returns the running kernel's release (uname -r).
func Release() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", os.NewSyscallError("uname", err)
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}

// ErrNotFound is returned when modules.dep does not list the module.
var ErrNotFound = errors.New("module not found in modules.dep")

// ErrNeedModprobe is returned for an xz or zstd compressed module when
// no modprobe is installed.
var ErrNeedModprobe = errors.New("module is xz/zstd compressed and no modprobe is installed to load it (install kmod, or ship the module as .ko or .ko.gz)")

// Module is a module file and the files it depends on, as listed in
// modules.dep: paths under the release's module directory.
type Module struct {
	Name string   // canonical name, e.g. "softdog"
	Path string   // absolute path of the module file
	Deps []string // absolute paths, in modules.dep order (load last first)
}

// Name returns the module name of a file: its base name without .ko and
// a compression suffix, with '-' read as '_' as the kernel does.
func Name(path string) string {
	b := filepath.Base(path)
	for _, suf := range []string{".gz", ".xz", ".zst"} {
		b = strings.TrimSuffix(b, suf)
	}
	b = strings.TrimSuffix(b, ".ko")
	return strings.ReplaceAll(b, "-", "_")
}

// Find looks name up in dir/modules.dep (dir is e.g.
// /lib/modules/6.1.0-18-amd64).
func Find(dir, name string) (*Module, error) {
	dep := filepath.Join(dir, "modules.dep")
	f, err := os.Open(dep)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ParseDep(f, name)
	if err != nil {
		return nil, &os.PathError{Op: "find " + name, Path: dep, Err: err}
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Join(dir, strings.TrimPrefix(p, filepath.Join(ModulesDir, filepath.Base(dir))))
		}
		return filepath.Join(dir, p)
	}
	m.Path = abs(m.Path)
	for i := range m.Deps {
		m.Deps[i] = abs(m.Deps[i])
	}
	return m, nil
}

// ParseDep returns name's line of a modules.dep stream, with paths as
// written (relative to the release directory).
func ParseDep(r io.Reader, name string) (*Module, error) {
	want := Name(name)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.IndexByte(line, ':')
		if i <= 0 {
			continue
		}
		if Name(line[:i]) != want {
			continue
		}
		return &Module{Name: want, Path: line[:i], Deps: strings.Fields(line[i+1:])}, nil
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, ErrNotFound
}

// Loader loads modules into a Kernel.
type Loader struct {
	// Kernel receives the system calls; nil means Sys.
	Kernel Kernel
	// Modprobe is the modprobe binary for xz/zstd modules; "" searches
	// ModprobeDirs.
	Modprobe string
	// ModprobeDirs is where modprobe is searched for; nil means /sbin,
	// /usr/sbin, /bin and /usr/bin.
	ModprobeDirs []string
	// ModprobeArgs is passed before the module name (e.g. "-d", root).
	ModprobeArgs []string
	// Start runs a program and waits for it; nil uses os.StartProcess.
	Start func(argv []string) error
}

// LoadModule loads m's dependencies (last listed first, without
// parameters; already loaded ones are fine) then m with params
// ("soft_margin=60 nowayout=0"). A module that is already loaded gives an
// error wrapping os.ErrExist.
func (l *Loader) LoadModule(m *Module, params string) error {
	for i := len(m.Deps) - 1; i >= 0; i-- {
		if err := l.Load(m.Deps[i], ""); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	return l.Load(m.Path, params)
}

// Load loads one module file, by its compression: finit_module for .ko,
// in-memory gunzip and init_module for .ko.gz, modprobe for .ko.xz and
// .ko.zst.
func (l *Loader) Load(path, params string) error {
	k := l.Kernel
	if k == nil {
		k = Sys
	}
	switch {
	case strings.HasSuffix(path, ".ko"):
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := k.FinitModule(f, params); err != nil {
			return &os.PathError{Op: "finit_module", Path: path, Err: err}
		}
		return nil
	case strings.HasSuffix(path, ".ko.gz"):
		img, err := Gunzip(path)
		if err != nil {
			return err
		}
		if err := k.InitModule(img, params); err != nil {
			return &os.PathError{Op: "init_module", Path: path, Err: err}
		}
		return nil
	case strings.HasSuffix(path, ".ko.xz"), strings.HasSuffix(path, ".ko.zst"):
		return l.modprobe(path, params)
	}
	return &os.PathError{Op: "load module", Path: path, Err: errors.New("not a .ko, .ko.gz, .ko.xz or .ko.zst file")}
}

// defaultModprobeDirs is where a modprobe binary is searched for when
// Loader.ModprobeDirs is nil.
var defaultModprobeDirs = []string{"/sbin", "/usr/sbin", "/bin", "/usr/bin"}

// maxModule bounds a decompressed module (the largest in-tree modules are
// tens of MiB with debug info).
const maxModule = 256 << 20

// Gunzip reads and decompresses a .ko.gz file in memory.
func Gunzip(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, err := gunzip(b, maxModule)
	if err != nil {
		return nil, &os.PathError{Op: "gunzip", Path: path, Err: err}
	}
	return img, nil
}

func (l *Loader) modprobe(path, params string) error {
	bin := l.Modprobe
	dirs := l.ModprobeDirs
	if dirs == nil {
		dirs = defaultModprobeDirs
	}
	if bin == "" {
		for _, d := range dirs {
			p := filepath.Join(d, "modprobe")
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0111 != 0 {
				bin = p
				break
			}
		}
	}
	if bin == "" {
		return &os.PathError{Op: "load module", Path: path, Err: ErrNeedModprobe}
	}
	argv := append([]string{bin}, l.ModprobeArgs...)
	argv = append(argv, Name(path))
	argv = append(argv, strings.Fields(params)...)
	start := l.Start
	if start == nil {
		start = Run
	}
	if err := start(argv); err != nil {
		return &os.PathError{Op: "modprobe", Path: path, Err: err}
	}
	return nil
}

// Run starts argv[0] with the process's standard streams and waits for it;
// a non-zero exit is an error.
func Run(argv []string) error {
	p, err := os.StartProcess(argv[0], argv, &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
	if err != nil {
		return err
	}
	st, err := p.Wait()
	if err != nil {
		return err
	}
	if !st.Success() {
		return errors.New(strings.Join(argv, " ") + ": " + st.String())
	}
	return nil
}
