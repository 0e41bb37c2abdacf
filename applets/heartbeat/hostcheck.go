package heartbeat

import (
	"os"
	"path/filepath"
	"strings"

	"habox/applets/heartbeat/resources"
	"habox/conf"
	"habox/hw/netif"
	"habox/hw/udp"
)

// host is what checkHost asks of the machine (a fake in tests).
type host interface {
	Interface(name string) bool
	Resolve(name string) bool      // an IPv4 literal or an /etc/hosts name
	CharDevice(path string) string // "" when a character device is there, else why not
	Script(name string) bool       // found as the runner would find it
}

// checkHost reports what this machine lacks for a configuration that is
// valid in itself: network interfaces of the media and of IPaddr
// resources, ucast peers habox cannot resolve (it never uses DNS), serial
// devices and resource scripts. Each problem names file:line, the token
// and the fix; 3.0.6 found them only at start or at takeover.
func checkHost(c *conf.Config, h host) []*conf.Error {
	var errs []*conf.Error
	hc := c.HaCf
	for _, m := range hc.Media {
		e := &conf.Error{File: hc.File, Line: m.Line, Directive: string(m.Type), Token: m.Dev}
		switch {
		case m.Type == conf.Serial:
			if why := h.CharDevice(m.Dev); why != "" {
				e.Msg = why + ": connect the serial port or fix the device name"
			}
		case !h.Interface(m.Dev):
			e.Msg = "no network interface " + m.Dev + " on this machine: fix the name (ip link lists them)"
		case m.Type == conf.Ucast && !h.Resolve(m.Peer):
			e.Token = m.Peer
			e.Msg = "cannot resolve " + m.Peer + ": neither an IPv4 address nor a name in " + udp.HostsFile +
				" (habox never uses DNS): write the address or add the name to " + udp.HostsFile
		}
		if e.Msg != "" {
			errs = append(errs, e)
		}
	}
	if c.Resources == nil {
		return errs
	}
	for _, g := range c.Resources.Groups {
		for _, rs := range g.Resources {
			e := &conf.Error{File: c.Resources.File, Line: g.Line, Token: rs.Text}
			if !h.Script(rs.Script) {
				e.Msg = "Resource script " + rs.Script + " not found in " + filepath.Join(c.Dir, "resource.d") +
					" or the init script directory: install it there or fix the name"
			} else if ifc := addrInterface(rs); ifc != "" && !h.Interface(ifc) {
				e.Msg = "no network interface " + ifc + " on this machine for " + rs.Script + ": fix the name (ip link lists them)"
			}
			if e.Msg != "" {
				errs = append(errs, e)
			}
		}
	}
	return errs
}

// addrInterface is the interface an IPaddr or IPv6addr resource names, or "".
func addrInterface(rs conf.Resource) string {
	if len(rs.Args) == 0 {
		return ""
	}
	switch rs.Script {
	case "IPaddr":
		sp, err := conf.ParseIPSpec(rs.Args[0])
		if err == nil {
			return sp.Iface
		}
	case "IPv6addr":
		sp, err := conf.ParseIPv6Spec(rs.Args[0])
		if err == nil {
			return sp.Iface
		}
	}
	return ""
}

// thisHost is the machine habox runs on.
type thisHost struct{ runner *resources.Runner }

func newThisHost(dir string) thisHost {
	self, _ := os.Executable()
	return thisHost{&resources.Runner{ResourceDir: filepath.Join(dir, "resource.d"), Self: self}}
}

func (thisHost) Interface(name string) bool {
	_, err := netif.Index(strings.TrimSpace(name))
	return err == nil
}

func (thisHost) Resolve(name string) bool {
	_, err := udp.Resolve(name, udp.HostsFile)
	return err == nil
}

func (thisHost) CharDevice(path string) string {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return "Nonexistent serial port (heartbeat 3.0.6 refuses to start)"
	case fi.Mode()&os.ModeCharDevice == 0:
		return "Serial port not a char device"
	}
	return ""
}

func (h thisHost) Script(name string) bool {
	_, _, ok := h.runner.Locate(name)
	return ok
}
