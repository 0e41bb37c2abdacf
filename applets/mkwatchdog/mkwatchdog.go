// Package mkwatchdog is the mkwatchdog applet: it makes /dev/watchdog
// usable by heartbeat. It reads the misc major from /proc/devices and the
// watchdog minor from /proc/misc, loads softdog when no watchdog driver is
// registered, creates the device node, and can test a device's write
// protocol and ioctls.
package mkwatchdog

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"habox/applets/cli"
	"habox/conf"
	"habox/hw/devnode"
	"habox/hw/kmod"
	"habox/hw/watchdog"
)

const usage = `mkwatchdog [-n] [-f] [-c HA_DIR] [-m SECONDS] [-w 0|1] [-d DEVICE] [-k RELEASE] [--module NAME] [--root DIR]
mkwatchdog -t [-m SECONDS] [-d DEVICE] [--root DIR]

Create the watchdog device heartbeat's "watchdog" directive opens. The misc
major comes from /proc/devices, the watchdog minor from /proc/misc; when no
watchdog driver is registered, softdog is loaded first (from
/lib/modules/RELEASE via modules.dep: .ko and .ko.gz in-process, .ko.xz and
.ko.zst through modprobe). A correct node already present is left alone.

	-n		Dry run: print what would be done, change nothing
	-c HA_DIR	Only if HA_DIR/ha.cf names a watchdog (else exit 0 doing
			nothing, also without ha.cf); its device is DEVICE
			unless -d is given. For boot scripts and init files.
	-f		Replace a wrong DEVICE (other numbers, a regular file)
	-m SECONDS	softdog soft_margin when loading it; the timeout set by -t
			(default: the driver's default; -t: 60)
	-w 0|1		softdog nowayout when loading it (1: a magic close no longer
			disarms it, so the box resets after heartbeat stops)
	-d DEVICE	Device node (default /dev/watchdog, mode 0600)
	-k RELEASE	Kernel release for the module tree (default: uname -r)
	--module NAME	Driver module to load (default softdog)
	--root DIR	Work on a fake root: DIR/proc/devices, DIR/proc/misc,
			DIR/lib/modules and DEVICE are read/created under DIR
	-t		Test the existing DEVICE instead: open it (this arms it), set
			and read back the timeout, one keepalive, magic close 'V',
			print the driver identity. Creates and loads nothing.

Exit status: 0 done (or nothing to do), 1 error, 2 usage,
3 (-t) DEVICE takes the writes but refuses watchdog ioctls (not a driver).`

// Applet is the mkwatchdog applet.
var Applet = cli.Applet{Name: "mkwatchdog", Usage: usage, Run: func(env *cli.Env, args []string) int {
	return run(env, args, system{kernel: kmod.Sys, release: kmod.Release, mknod: devnode.MknodChar})
}}

// system is what mkwatchdog needs of the machine beyond files; tests fake
// the kernel and the release.
type system struct {
	kernel  kmod.Kernel
	release func() (string, error)
	mknod   func(path string, perm os.FileMode, major, minor uint32) error
	// settle is how long to wait for /proc/misc after a load (1 s).
	settle time.Duration
}

type options struct {
	dry, force, test bool
	margin           int // 0: unset
	nowayout         int // -1: unset
	dev, release     string
	module, root     string
	haDir            string // -c: only when HA_DIR/ha.cf names a watchdog
	devGiven         bool
}

const name = "mkwatchdog"

func run(env *cli.Env, args []string, sys system) int {
	o := options{nowayout: -1, dev: "/dev/watchdog", module: "softdog", root: "/"}
	a := cli.NewArgs(args)
	for a.Next() {
		var err error
		switch a.Opt() {
		case "-n":
			o.dry = a.Flag()
		case "-f":
			o.force = a.Flag()
		case "-t":
			o.test = a.Flag()
		case "-m":
			if o.margin, err = a.Int(); err == nil && (o.margin < 1 || o.margin > 65535) {
				return cli.UsageError(env, usage, "-m: soft margin must be 1..65535 seconds")
			}
		case "-w":
			if o.nowayout, err = a.Int(); err == nil && o.nowayout != 0 && o.nowayout != 1 {
				return cli.UsageError(env, usage, "-w: nowayout must be 0 or 1")
			}
		case "-d":
			o.dev, err = a.Value()
			o.devGiven = true
		case "-c":
			o.haDir, err = a.Value()
		case "-k":
			o.release, err = a.Value()
		case "--module":
			o.module, err = a.Value()
		case "--root":
			o.root, err = a.Value()
		default:
			return cli.UsageError(env, usage, a.Unknown())
		}
		if err != nil {
			return cli.UsageError(env, usage, err.Error())
		}
	}
	if a.Err() != nil {
		return cli.UsageError(env, usage, a.Err().Error())
	}
	if len(a.Rest()) > 0 {
		return cli.UsageError(env, usage, "unexpected argument "+a.Rest()[0])
	}
	if o.root == "" || o.dev == "" || o.module == "" {
		return cli.UsageError(env, usage, "empty --root, -d or --module")
	}
	if o.test {
		return test(env, &o)
	}
	if o.haDir != "" && !o.test {
		dev, err := haCfWatchdog(filepath.Join(o.haDir, "ha.cf"))
		if err != nil {
			return cli.Fail(env, name, err, 1)
		}
		if dev == "" {
			env.Out(name, ": ", filepath.Join(o.haDir, "ha.cf"), " names no watchdog: nothing to do\n")
			return 0
		}
		if !o.devGiven {
			o.dev = dev
		}
	}
	if err := create(env, &o, sys); err != nil {
		return cli.Fail(env, name, err, 1)
	}
	return 0
}

func (o *options) path(p string) string { return filepath.Join(o.root, p) }

// haCfWatchdog returns the device of file's watchdog directive, "" when
// there is none or no file. A file heartbeat would refuse still names its
// watchdog: the device is wanted even if the daemon will complain.
func haCfWatchdog(file string) (string, error) {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	cf, _, _ := conf.ParseHaCf(file, f)
	if cf == nil {
		return "", nil
	}
	return cf.Watchdog, nil
}

func (o *options) params() string {
	var p []string
	if o.margin > 0 {
		p = append(p, "soft_margin="+strconv.Itoa(o.margin))
	}
	if o.nowayout >= 0 {
		p = append(p, "nowayout="+strconv.Itoa(o.nowayout))
	}
	return strings.Join(p, " ")
}

func create(env *cli.Env, o *options, sys system) error {
	devices, err := os.ReadFile(o.path("/proc/devices"))
	if err != nil {
		return err
	}
	major, ok := miscMajor(string(devices))
	if !ok {
		return errors.New(o.path("/proc/devices") + ": no \"misc\" character device major (kernel without CONFIG_MISC?)")
	}
	miscPath := o.path("/proc/misc")
	misc, err := os.ReadFile(miscPath)
	if err != nil {
		return err
	}
	minor, ok := miscMinor(string(misc), "watchdog")
	if !ok {
		if minor, err = load(env, o, sys); err != nil {
			return err
		}
	} else {
		env.Out(name, ": watchdog registered: misc ", strconv.Itoa(major), ":", strconv.Itoa(minor), "\n")
		if o.margin > 0 || o.nowayout >= 0 {
			env.Err(name, ": warning: a watchdog driver is already registered; -m/-w apply only when loading ", o.module, "\n")
		}
	}
	return mknod(env, o, sys, uint32(major), uint32(minor))
}

// load loads the watchdog module and returns the minor it registered.
func load(env *cli.Env, o *options, sys system) (int, error) {
	rel := o.release
	if rel == "" {
		var err error
		if rel, err = sys.release(); err != nil {
			return 0, err
		}
	}
	dir := o.path(filepath.Join(kmod.ModulesDir, rel))
	m, err := kmod.Find(dir, o.module)
	if err != nil {
		err = cli.Wrap("no watchdog driver registered in "+o.path("/proc/misc")+" and cannot load "+o.module, err)
		if errors.Is(err, os.ErrNotExist) {
			err = cli.Wrap(err.Error(), errors.New("no module tree for kernel "+rel+
				" (-k RELEASE); a kernel without loadable modules needs the driver built in, e.g. CONFIG_SOFT_WATCHDOG=y"))
		}
		return 0, err
	}
	params := o.params()
	desc := m.Path
	if params != "" {
		desc += " " + params
	}
	if o.dry {
		for i := len(m.Deps) - 1; i >= 0; i-- {
			env.Out(name, ": would load ", m.Deps[i], "\n")
		}
		env.Out(name, ": would load ", desc, "\n")
		return WatchdogMinor, nil
	}
	l := &kmod.Loader{Kernel: sys.kernel}
	if o.root != "/" {
		l.ModprobeArgs = []string{"-d", o.root, "-S", rel}
	} else if o.release != "" {
		l.ModprobeArgs = []string{"-S", rel}
	}
	if err := l.LoadModule(m, params); err != nil {
		if !errors.Is(err, os.ErrExist) {
			return 0, err
		}
		env.Err(name, ": warning: ", o.module, " was already loaded\n")
	} else {
		env.Out(name, ": loaded ", desc, "\n")
	}
	settle := sys.settle
	if settle == 0 {
		settle = time.Second
	}
	deadline := time.Now().Add(settle)
	for {
		misc, err := os.ReadFile(o.path("/proc/misc"))
		if err != nil {
			return 0, err
		}
		if minor, ok := miscMinor(string(misc), "watchdog"); ok {
			return minor, nil
		}
		if time.Now().After(deadline) {
			return 0, errors.New(o.module + " loaded but no watchdog appeared in " + o.path("/proc/misc") + " (another driver holding the misc minor? see dmesg)")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mknod(env *cli.Env, o *options, sys system, major, minor uint32) error {
	dev := o.path(o.dev)
	nums := strconv.Itoa(int(major)) + " " + strconv.Itoa(int(minor))
	n, err := devnode.Stat(dev)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case n.Kind == devnode.Char && n.Major == major && n.Minor == minor:
		env.Out(name, ": ", dev, " is already c ", nums, ": nothing to do\n")
		if n.Perm&0077 != 0 {
			env.Err(name, ": warning: ", dev, " has mode 0", strconv.FormatUint(uint64(n.Perm), 8), "; 0600 recommended\n")
		}
		return nil
	default:
		what := n.Kind.String()
		if n.Kind == devnode.Char || n.Kind == devnode.Block {
			what += " " + strconv.Itoa(int(n.Major)) + ":" + strconv.Itoa(int(n.Minor))
		}
		if n.Kind != devnode.Char && n.Kind != devnode.Block && n.Kind != devnode.Regular {
			return errors.New(dev + " exists and is a " + what + "; remove it by hand")
		}
		if !o.force {
			return errors.New(dev + " exists and is a " + what + ", not c " + nums + "; use -f to replace it")
		}
		if o.dry {
			env.Out(name, ": would remove ", dev, " (", what, ")\n")
		} else {
			if err := os.Remove(dev); err != nil {
				return err
			}
			env.Out(name, ": removed ", dev, " (", what, ")\n")
		}
	}
	if o.dry {
		env.Out(name, ": would create ", dev, " c ", nums, " mode 0600\n")
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dev), 0755); err != nil {
		return err
	}
	if err := sys.mknod(dev, 0600, major, minor); err != nil {
		return err
	}
	env.Out(name, ": created ", dev, " c ", nums, " mode 0600\n")
	return nil
}

// test exercises an existing device: the ioctls heartbeat uses and its
// write protocol.
func test(env *cli.Env, o *options) int {
	dev := o.path(o.dev)
	timeout := 60
	if o.margin > 0 {
		timeout = o.margin
	}
	w, err := watchdog.Open(dev)
	if errors.Is(err, syscall.EBUSY) {
		env.Err(name, ": ", dev, ": busy: heartbeat or another watchdog daemon has it open (a watchdog allows one user)\n")
		return 1
	}
	if err != nil {
		return cli.Fail(env, name, err, 1)
	}
	defer w.Close()
	notDriver, failed := false, false
	check := func(err error) bool {
		if err == nil {
			return true
		}
		if errors.Is(err, errors.ErrUnsupported) {
			notDriver = true
		} else {
			failed = true
		}
		env.Err(name, ": ", err.Error(), "\n")
		return false
	}
	info, err := w.Support()
	if check(err) {
		env.Out(dev, ": identity \"", info.Identity, "\" firmware ", strconv.FormatUint(uint64(info.Firmware), 10),
			" options ", watchdog.Options(info.Options), "\n")
		if !info.HasMagicClose() {
			env.Err(name, ": warning: the driver does not announce magic close: it may reset the box ",
				strconv.Itoa(timeout), " s after this test\n")
		}
	}
	if err := w.SetTimeout(time.Duration(timeout) * time.Second); check(err) {
		if got, err := w.Timeout(); check(err) {
			env.Out(dev, ": timeout set to ", strconv.Itoa(timeout), " s, driver reports ", strconv.Itoa(int(got/time.Second)), " s\n")
		}
	}
	if err := w.Keepalive(); err != nil {
		env.Err(name, ": keepalive: ", err.Error(), "\n")
		w.MagicClose()
		return 1
	}
	env.Out(dev, ": keepalive ok\n")
	if err := w.MagicClose(); err != nil {
		return cli.Fail(env, name, err, 1)
	}
	env.Out(dev, ": magic close 'V' written\n")
	switch {
	case failed:
		return 1
	case notDriver:
		env.Err(name, ": ", dev, " takes the write protocol but is not a watchdog driver\n")
		return 3
	}
	return 0
}
