package initramfs

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Options describe a habox root filesystem.
type Options struct {
	Habox   string            // the habox binary
	HaDir   string            // copied to /etc/ha.d when not ""
	KDir    string            // /lib/modules/RELEASE to take modules from
	Load    []string          // modules loaded at boot by init (/etc/modules)
	Carry   []string          // modules only copied (e.g. softdog for mkwatchdog)
	Files   map[string]string // extra files: image path -> host path
	Modules []string          // filled in: the module files copied, image paths
	// Bare makes a router-like image: no /var/lock, /var/lib or /var/log,
	// and /var a symlink to /tmp (RAM, as OpenWrt has it).
	Bare bool
}

// Build returns the archive of a minimal root whose only userland is
// habox: /init and every applet link point to /usr/sbin/habox.
func Build(o *Options) (*Archive, error) {
	a := New()
	dirs := []string{"dev", "proc", "sys", "run", "etc", "root", "var/lib/heartbeat", "var/log", "var/lock"}
	if o.Bare {
		dirs = dirs[:6]
	}
	for _, d := range dirs {
		a.Dir(d, 0o755)
	}
	a.Dir("tmp", 0o1777)
	if o.Bare {
		a.Symlink("var", "tmp")
	} else {
		a.Symlink("var/run", "../run")
	}
	a.Symlink("sbin", "usr/sbin")
	a.Symlink("bin", "usr/sbin")
	// The kernel opens /dev/console for init before devtmpfs is mounted.
	a.CharDev("dev/console", 0o600, 5, 1)

	if err := a.File("usr/sbin/habox", o.Habox, 0o755); err != nil {
		return nil, err
	}
	names, err := appletLinks(o.Habox)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		a.Symlink("usr/sbin/"+n, "habox")
	}
	a.Symlink("init", "usr/sbin/habox")

	if o.HaDir != "" {
		// A node cannot start without these; an image without them is
		// a mistake found only at boot.
		for _, f := range []string{"ha.cf", "authkeys", "haresources"} {
			if fi, err := os.Stat(filepath.Join(o.HaDir, f)); err != nil || !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%s: no %s (HA_DIR must hold ha.cf, authkeys and haresources)", o.HaDir, f)
			}
		}
		if err := a.Tree("etc/ha.d", o.HaDir); err != nil {
			return nil, err
		}
		if fi, err := os.Stat(filepath.Join(o.HaDir, "authkeys")); err == nil && fi.Mode().Perm()&0o044 != 0 {
			return nil, fmt.Errorf("%s/authkeys is readable by others (mode %v): heartbeat refuses it; chmod 600", o.HaDir, fi.Mode().Perm())
		}
	}
	a.Dir("etc/ha.d/resource.d", 0o755)
	a.Symlink("etc/ha.d/resource.d/IPaddr", "/usr/sbin/habox")

	if len(o.Load)+len(o.Carry) > 0 {
		if err := o.addModules(a); err != nil {
			return nil, err
		}
	}
	for dst, src := range o.Files {
		if err := a.File(dst, src, 0); err != nil {
			return nil, err
		}
	}
	// The keys are root's only, however they got in (-ha-dir, -file).
	if e := a.entries["etc/ha.d/authkeys"]; e != nil && e.Mode&^0o7777 == TypeReg {
		e.Mode = TypeReg | 0o600
	}
	if o.HaDir != "" && !a.Has("etc/hainit.rc") {
		a.Bytes("etc/hainit.rc", 0o644, []byte(defaultScript(o.HaDir)))
	}
	return a, nil
}

// defaultScript is the boot script of an image with a configuration and
// no script of its own: run heartbeat, with the watchdog if ha.cf names one.
func defaultScript(haDir string) string {
	s := "# /etc/hainit.rc, written by mkinitramfs: the boot script of habox init\n" +
		"# (one applet a line; see `habox init --help`).\n"
	cf, _ := os.ReadFile(filepath.Join(haDir, "ha.cf"))
	for _, l := range strings.Split(string(cf), "\n") {
		if f := strings.Fields(strings.SplitN(l, "#", 2)[0]); len(f) > 1 && f[0] == "watchdog" {
			s += "mkwatchdog\n"
			break
		}
	}
	return s + "bg heartbeat -f\n"
}

// appletLinks returns the names `habox --install -s` links (every applet
// but those marked NoLink).
func appletLinks(habox string) ([]string, error) {
	dir, err := os.MkdirTemp("", "habox-links")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if out, err := exec.Command(habox, "--install", "-s", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s --install: %v: %s", habox, err, out)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s --install made no links", habox)
	}
	return names, nil
}

// depLine is a modules.dep line: a module file and its dependencies.
type depLine struct {
	path string
	deps []string
}

func modName(p string) string {
	b := path.Base(p)
	if i := strings.Index(b, ".ko"); i >= 0 {
		b = b[:i]
	}
	return strings.ReplaceAll(b, "-", "_")
}

func readDep(kdir string) (map[string]depLine, error) {
	f, err := os.Open(filepath.Join(kdir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]depLine{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		p, deps, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		m[modName(p)] = depLine{p, strings.Fields(deps)}
	}
	return m, sc.Err()
}

// addModules copies the modules (and what they depend on) under
// lib/modules/RELEASE, writes a modules.dep listing only them, and
// /etc/modules with the boot-time ones in load order.
func (o *Options) addModules(a *Archive) error {
	dep, err := readDep(o.KDir)
	if err != nil {
		return err
	}
	builtin, _ := os.ReadFile(filepath.Join(o.KDir, "modules.builtin"))
	rel := filepath.Base(o.KDir)
	copied := map[string]bool{}
	var order []string // load order of o.Load, dependencies first
	var visit func(p string, load bool) error
	visit = func(p string, load bool) error {
		if copied[p] {
			return nil
		}
		l := dep[modName(p)]
		// modules.dep lists what a module needs, the last one first to load.
		for i := len(l.deps) - 1; i >= 0; i-- {
			if err := visit(l.deps[i], load); err != nil {
				return err
			}
		}
		copied[p] = true
		if err := a.File("lib/modules/"+rel+"/"+p, filepath.Join(o.KDir, p), 0o644); err != nil {
			return err
		}
		o.Modules = append(o.Modules, "lib/modules/"+rel+"/"+p)
		if load {
			order = append(order, p)
		}
		return nil
	}
	for i, list := range [][]string{o.Load, o.Carry} {
		for _, name := range list {
			l, ok := dep[modName(name)]
			if !ok {
				if strings.Contains(string(builtin), "/"+modName(name)+".ko\n") {
					continue // built into the kernel
				}
				return fmt.Errorf("module %s not in %s/modules.dep", name, o.KDir)
			}
			if err := visit(l.path, i == 0); err != nil {
				return err
			}
		}
	}
	var lines []string
	for _, l := range dep {
		if copied[l.path] {
			lines = append(lines, strings.TrimSpace(l.path+": "+strings.Join(l.deps, " "))+"\n")
		}
	}
	sort.Strings(lines)
	a.Bytes("lib/modules/"+rel+"/modules.dep", 0o644, []byte(strings.Join(lines, "")))
	if len(order) > 0 {
		a.Bytes("etc/modules", 0o644, []byte(strings.Join(order, "\n")+"\n"))
	}
	return nil
}
