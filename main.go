// Command habox is a multi-call binary that brings Linux-HA heartbeat
// failover to embedded boxes. It runs the applet named by basename(argv[0])
// (a symlink or hard link), or the one named by its first argument:
//
//	habox [--help [APPLET] | --list | --version | --install [-s] [--ocf] DIR]
//	habox APPLET [ARGS...]
//	APPLET [ARGS...]
//
// Comments throughout the source cite "spec N.M": section N.M of
// doc/spec/heartbeat-compat.md, the heartbeat 3.0.6 compatibility
// specification habox implements (with the 3.0.6 source files each fact
// comes from).
package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"habox/applets/authkeygen"
	"habox/applets/cli"
	"habox/applets/hainit"
	"habox/applets/haresources2crm"
	"habox/applets/heartbeat"
	"habox/applets/heartbeat/control"
	"habox/applets/ipaddr"
	"habox/applets/mkwatchdog"
	"habox/applets/serialtest"
)

// version is set at link time: -ldflags '-X main.version=...'.
var version = "dev"

// allApplets lists every applet of the binary; registry indexes it. A
// slice of pointers to the applets' variables is laid out by the linker
// (no code runs to build it).
var allApplets = []*cli.Applet{
	&heartbeat.Applet,
	&ipaddr.Applet,
	&ipaddr.IPv6Applet,
	&serialtest.Applet,
	&mkwatchdog.Applet,
	&authkeygen.Applet,
	&control.ClStatus,
	&control.HbStandby,
	&control.HbTakeover,
	&hainit.Applet,
	&haresources2crm.Applet,
}

// Registry maps applet names to applets.
type Registry map[string]*cli.Applet

// newRegistry indexes applets by name. A duplicate or empty name is a
// programming error and panics.
func newRegistry(list []*cli.Applet) Registry {
	r := make(Registry, len(list))
	for _, a := range list {
		if a.Name == "" || a.Run == nil {
			panic("habox: applet without name or Run")
		}
		if _, dup := r[a.Name]; dup {
			panic("habox: duplicate applet " + a.Name)
		}
		r[a.Name] = a
	}
	return r
}

// Names returns the applet names in sorted order.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	cli.Sort(names)
	return names
}

func main() {
	cli.Version = version
	os.Exit(dispatch(newRegistry(allApplets), cli.OSEnv(), os.Args))
}

// dispatch runs the applet argv names and returns its exit code.
func dispatch(r Registry, env *cli.Env, argv []string) int {
	name := "habox"
	if len(argv) > 0 {
		name = filepath.Base(argv[0])
	}
	if a, ok := r[name]; ok {
		return r.run(env, a, argv[1:])
	}
	if len(argv) < 2 {
		r.banner(env)
		return 0
	}
	args := argv[2:]
	switch argv[1] {
	case "--help", "-h":
		if len(args) == 0 {
			r.banner(env)
			return 0
		}
		if a, ok := r[args[0]]; ok && len(args) == 1 {
			return cli.Help(env, a.Usage)
		}
		env.Err("habox: --help: applet not found: ", strings.Join(args, " "), " (habox --list lists them)\n")
		return 2
	case "--list", "-l":
		for _, n := range r.Names() {
			env.Out(n, "\n")
		}
		return 0
	case "--version", "-V":
		env.Out(version, "\n")
		return 0
	case "--install":
		return r.install(env, args)
	}
	if a, ok := r[argv[1]]; ok {
		return r.run(env, a, args)
	}
	if strings.HasPrefix(argv[1], "-") {
		env.Err("habox: unknown option ", argv[1], "\n")
	} else {
		env.Err("habox: applet not found: ", argv[1], " (habox --list lists them)\n")
	}
	env.Err("usage: habox [--help [APPLET]|--list|--version|--install [-s] DIR] | APPLET [ARGS...]\n")
	return 2
}

// run answers --help and --version for every applet, then runs it
// (heartbeat answers --version itself: 3.0.6's line, then habox's).
func (r Registry) run(env *cli.Env, a *cli.Applet, args []string) int {
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
		return cli.Help(env, a.Usage)
	}
	if len(args) == 1 && args[0] == "--version" && a.Name != "heartbeat" {
		env.Out(a.Name, " (habox ", version, ")\n")
		return 0
	}
	return a.Run(env, args)
}

func (r Registry) banner(env *cli.Env) {
	env.Out("habox ", version, " multi-call binary: Linux-HA heartbeat failover for small boxes.\n\n",
		"Usage: habox APPLET [ARGS...]  or  APPLET [ARGS...] through a link named APPLET\n",
		"       habox --help APPLET | --list | --version | --install [-s] DIR | --install [-s] --ocf [DIR]\n\n",
		"Applets:\n\t", strings.Join(r.Names(), ", "), "\n")
}

// install creates a link named after every applet in dir pointing to the
// running binary: hard links, or symlinks with -s. Links that already point
// to this binary are left alone, so it can run again (like busybox --install);
// existing files that are not links to habox are never replaced: each is
// named on stderr as skipped (exit status 0, as busybox).
// With --ocf it links only the OCF resource agents, by default in
// $OCF_ROOT/resource.d/habox (OCF_ROOT: /usr/lib/ocf), creating it.
func (r Registry) install(env *cli.Env, args []string) int {
	const usage = "habox --install [-s] DIR | --install [-s] --ocf [DIR]"
	symlink, ocf := false, false
	for len(args) > 0 && (args[0] == "-s" || args[0] == "--ocf") {
		symlink, ocf = symlink || args[0] == "-s", ocf || args[0] == "--ocf"
		args = args[1:]
	}
	if ocf && len(args) == 0 {
		root := env.Getenv("OCF_ROOT")
		if root == "" {
			root = "/usr/lib/ocf"
		}
		args = []string{root + "/resource.d/habox"}
	}
	if len(args) != 1 {
		return cli.UsageError(env, usage, "")
	}
	if ocf {
		if err := os.MkdirAll(args[0], 0o755); err != nil {
			return cli.Fail(env, "habox", err, 1)
		}
	} else if fi, err := os.Stat(args[0]); err != nil || !fi.IsDir() {
		if err == nil {
			err = &os.PathError{Op: "--install", Path: args[0], Err: syscall.ENOTDIR}
		}
		return cli.Fail(env, "habox", err, 1) // one error, not one per applet
	}
	self, err := os.Executable()
	if err != nil {
		return cli.Fail(env, "habox", err, 1)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return cli.Fail(env, "habox", err, 1)
	}
	code := 0
	for _, n := range r.Names() {
		if r[n].NoLink || (ocf && !r[n].OCF) {
			continue
		}
		if err := installLink(self, filepath.Join(args[0], n), symlink); errors.Is(err, errNotOurs) {
			env.Err("habox: --install: skipped ", filepath.Join(args[0], n), ": ", errNotOurs.Error(), "\n")
		} else if err != nil {
			env.Err("habox: --install: ", err.Error(), "\n")
			code = 1
		}
	}
	return code
}

// errNotOurs marks an existing file that --install leaves alone.
var errNotOurs = errors.New("exists and is not a link to habox: left alone (remove it to install this applet)")

// installLink makes dst a link to target. An existing dst is replaced only
// when it is ours (see ours); anything else, a user's script or another
// package's binary, is left alone with errNotOurs, as busybox does.
func installLink(target, dst string, symlink bool) error {
	if fi, err := os.Lstat(dst); err == nil {
		if symlink && fi.Mode()&os.ModeSymlink != 0 {
			if cur, _ := os.Readlink(dst); cur == target {
				return nil
			}
		}
		if !symlink && fi.Mode().IsRegular() {
			if ti, err := os.Stat(target); err == nil && os.SameFile(fi, ti) {
				return nil
			}
		}
		if !ours(dst, target, fi) {
			return &os.PathError{Op: "install", Path: dst, Err: errNotOurs}
		}
		if err := os.Remove(dst); err != nil {
			return err
		}
	}
	if symlink {
		return os.Symlink(target, dst)
	}
	return os.Link(target, dst)
}

// ours reports whether --install may replace dst (fi is its Lstat): a
// symlink whose text names a file called habox (an older install, even
// dangling), or anything resolving to habox itself: the same file as self
// or a byte-identical copy.
func ours(dst, self string, fi os.FileInfo) bool {
	if fi.Mode()&os.ModeSymlink != 0 {
		if cur, err := os.Readlink(dst); err == nil && filepath.Base(cur) == "habox" {
			return true
		}
	}
	di, err := os.Stat(dst)
	si, serr := os.Stat(self)
	if err != nil || serr != nil || !di.Mode().IsRegular() {
		return false
	}
	if os.SameFile(di, si) {
		return true
	}
	if di.Size() != si.Size() {
		return false
	}
	a, err := os.ReadFile(dst)
	b, serr := os.ReadFile(self)
	return err == nil && serr == nil && bytes.Equal(a, b)
}
