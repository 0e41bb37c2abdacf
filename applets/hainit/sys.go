package hainit

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"strings"
	"syscall"

	"habox/hw/boot"
	"habox/hw/kmod"
	"habox/hw/netif"
	"habox/hw/netlink"
	"habox/hw/serial"
)

// sysLinux is System on the running kernel.
type sysLinux struct{}

// MountAll mounts the kernel filesystems that are not there yet.
func (sysLinux) MountAll() []error {
	var errs []error
	const nosuid, nodev, noexec = syscall.MS_NOSUID, syscall.MS_NODEV, syscall.MS_NOEXEC
	for _, m := range []struct {
		src, dst, fs string
		flags        uintptr
		data         string
	}{
		{"proc", "/proc", "proc", nosuid | nodev | noexec, ""},
		{"sysfs", "/sys", "sysfs", nosuid | nodev | noexec, ""},
		{"devtmpfs", "/dev", "devtmpfs", nosuid, "mode=0755"},
		{"devpts", "/dev/pts", "devpts", nosuid | noexec, "gid=5,mode=0620,ptmxmode=0666"},
		{"tmpfs", "/run", "tmpfs", nosuid | nodev, "mode=0755"},
	} {
		switch {
		case m.fs == "devtmpfs":
			// A populated /dev (a host's, in tests) is kept.
			if _, err := os.Stat("/dev/null"); err == nil {
				continue
			}
		case boot.Mounted(m.dst, m.fs):
			continue
		}
		if err := boot.Mount(m.src, m.dst, m.fs, m.flags, m.data); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func (sysLinux) Cmdline() ([]string, error) {
	b, err := os.ReadFile("/proc/cmdline")
	return strings.Fields(string(b)), err
}

func (sysLinux) Sethostname(name string) error { return boot.Sethostname(name) }

// Modules returns /etc/modules' lines, with paths relative to
// /lib/modules/RELEASE made absolute.
func (sysLinux) Modules() ([]string, error) {
	b, err := os.ReadFile("/etc/modules")
	if err != nil {
		return nil, err
	}
	rel, err := kmod.Release()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && l[0] != '/' && l[0] != '#' {
			l = kmod.ModulesDir + "/" + rel + "/" + l
		}
		out = append(out, l)
	}
	return out, nil
}

func (sysLinux) LoadModule(path, params string) error {
	return (&kmod.Loader{}).Load(path, params)
}

func (sysLinux) LinkUp(name string) error {
	l, err := netif.LinkByName(name)
	if err != nil {
		return err
	}
	return netlink.SetUp(l.Index, true)
}

func (sysLinux) AddAddr(a IfAddr) error {
	l, err := netif.LinkByName(a.If)
	if err != nil {
		return err
	}
	na := netif.Addr{Index: l.Index, Label: a.If, Prefix: a.Prefix, Broadcast: Broadcast(a.Prefix)}
	if a.NoBrd {
		na.Broadcast = netip.Addr{}
	}
	err = netif.AddAddr(na)
	if errors.Is(err, syscall.EEXIST) {
		return os.ErrExist
	}
	return err
}

func (sysLinux) Reap() (boot.Exit, error)               { return boot.Reap() }
func (sysLinux) Kill(pid int, sig syscall.Signal) error { return boot.Kill(pid, sig) }
func (sysLinux) Reboot(cmd int) error                   { return boot.Reboot(cmd) }

// openCtl opens the command channel: a serial port in raw mode (no echo,
// no line editing) at 115200 baud, or any other file as it is.
func openCtl(dev string) (io.ReadWriteCloser, error) {
	p, err := serial.Open(dev, serial.Config{Baud: 115200})
	if errors.Is(err, serial.ErrNotTTY) {
		return os.OpenFile(dev, os.O_RDWR, 0)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}
