package ipaddr

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"habox/hw/arp"
	"habox/hw/lockfile"
	"habox/hw/netif"
	"habox/hw/route"
	"habox/hw/safefile"
)

// DefaultRunDir holds the label lock and the pid files of background
// announcers; the environment variable HABOX_RUNDIR overrides it.
const DefaultRunDir = "/run/habox"

// HW is the System of the running machine. It keeps the AF_PACKET socket
// of the last announcement open for a ProcessRepeater to inherit; Close
// releases it.
type HW struct {
	RunDir string
	conn   *arp.Conn
	connIf int
}

// Close releases the announcement socket, if any.
func (h *HW) Close() error {
	if h.conn == nil {
		return nil
	}
	err := h.conn.Close()
	h.conn = nil
	return err
}

func (h *HW) dial(l netif.Link) (*arp.Conn, error) {
	if h.conn != nil && h.connIf == l.Index {
		return h.conn, nil
	}
	h.Close()
	c, err := arp.Dial(l.Index)
	if err != nil {
		return nil, err
	}
	h.conn, h.connIf = c, l.Index
	return c, nil
}

// Routes reads /proc/net/route.
func (h *HW) Routes() ([]route.Route, error) { return route.Read() }

// Link looks an interface up by name.
func (h *HW) Link(name string) (netif.Link, error) { return netif.LinkByName(name) }

// LinkByIndex returns the interface with the given index.
func (h *HW) LinkByIndex(index int) (netif.Link, error) {
	return netif.LinkByIndex(index)
}

// Addrs lists IPv4 addresses.
func (h *HW) Addrs() ([]netif.Addr, error) { return netif.Addrs(syscall.AF_INET) }

// AddAlias adds the address with its alias label, netmask and broadcast in
// one RTM_NEWADDR message. (netif.AddAlias does the same with ifconfig's
// ioctl sequence, but SIOCSIFNETMASK re-inserts the address, and on an
// interface without another IPv4 address that flushes all its routes; it
// also goes through a classful prefix route. Netlink is atomic.)
func (h *HW) AddAlias(l netif.Link, label string, p netip.Prefix, bcast netip.Addr) error {
	return netif.AddAddr(netif.Addr{Index: l.Index, Label: label, Prefix: p, Broadcast: bcast})
}

// DelAddr removes one address through netlink.
func (h *HW) DelAddr(a netif.Addr) error { return netif.DelAddr(a) }

// Lock takes the label lock RunDir/ipaddr.lock, creating RunDir.
func (h *HW) Lock() (func(), error) {
	if err := os.MkdirAll(h.RunDir, 0o755); err != nil {
		return nil, err
	}
	return lockfile.Lock(filepath.Join(h.RunDir, "ipaddr.lock"))
}

// Addrs6 lists IPv6 addresses.
func (h *HW) Addrs6() ([]netif.Addr, error) { return netif.Addrs(syscall.AF_INET6) }

// AddAddr6 adds an IPv6 address without duplicate address detection, so it
// is usable (and can be announced) at once.
func (h *HW) AddAddr6(l netif.Link, p netip.Prefix) error {
	return netif.AddAddr(netif.Addr{Index: l.Index, Prefix: p, Flags: netif.FlagNoDAD})
}

// Announce sends a gratuitous ARP request and reply back to back (IPv4),
// or one unsolicited neighbour advertisement (IPv6).
func (h *HW) Announce(l netif.Link, ip netip.Addr) error {
	c, err := h.dial(l)
	if err != nil {
		return err
	}
	return sendPairs(c, l, ip, 1, 0, nil, 0)
}

// sendPairs sends the announcements from..count-1 for ip. For IPv4 each
// is a gratuitous ARP request+reply pair (spec 7.4): pair 0 goes out at
// once, request and reply back to back; pair i >= 1 is a request sent
// i*interval after pair 0, then a reply interval/2 later. For IPv6 each is
// one unsolicited neighbour advertisement, interval apart. A send with
// from > 0 assumes announcement 0 was sent just before. Closing stop ends
// it early.
func sendPairs(c *arp.Conn, l netif.Link, ip netip.Addr, count int, interval time.Duration, stop <-chan struct{}, from int) error {
	var first, second []byte
	var err error
	if ip.Is4() {
		first, err = arp.Gratuitous(arp.OperationRequest, l.MAC, ip)
		second, _ = arp.Gratuitous(arp.OperationReply, l.MAC, ip)
	} else {
		first, err = arp.UnsolicitedNA(l.MAC, ip)
	}
	if err != nil {
		return err
	}
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-stop: // nil: never
			return false
		}
	}
	var werr error
	for i := from; i < count; i++ {
		if i > 0 {
			d := interval - interval/2
			if second == nil || i == 1 || i == from {
				d = interval
			}
			if !wait(d) {
				return nil
			}
		}
		if err := c.WriteFrame(first); err != nil && werr == nil {
			werr = err
		}
		if second == nil {
			continue
		}
		if i > 0 && !wait(interval/2) {
			return nil
		}
		if err := c.WriteFrame(second); err != nil && werr == nil {
			werr = err
		}
	}
	return werr
}

// ProcessRepeater sends the repetitions from a detached child process so
// that a start run by the daemon exits at once: Exe (normally
// /proc/self/exe) is started as "IPaddr --garp-repeat IFACE IP COUNT MS" in
// its own session with stdio on /dev/null, and its pid is kept in
// RunDir/garp-<ip>.pid for Cancel. When HW holds the socket of the first
// announcement, the child inherits it as fd 3 (argument "fd3").
type ProcessRepeater struct {
	Exe     string
	RunDir  string
	Environ []string
	HW      *HW
}

func (r *ProcessRepeater) pidFile(ip netip.Addr) string {
	return filepath.Join(r.RunDir, "garp-"+ip.String()+".pid")
}

// Repeat starts the child.
func (r *ProcessRepeater) Repeat(l netif.Link, ip netip.Addr, count int, interval time.Duration) error {
	if err := os.MkdirAll(r.RunDir, 0o755); err != nil {
		return err
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	argv := []string{"IPaddr", repeatFlag, l.Name, ip.String(), strconv.Itoa(count), strconv.FormatInt(interval.Milliseconds(), 10)}
	files := []*os.File{null, null, null}
	if r.HW != nil && r.HW.conn != nil && r.HW.connIf == l.Index {
		if f, err := r.HW.conn.File(); err == nil {
			defer f.Close()
			files = append(files, f)
			argv = append(argv, "fd3")
		}
	}
	p, err := os.StartProcess(r.Exe, argv, &os.ProcAttr{
		Dir:   "/",
		Env:   r.Environ,
		Files: files,
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return err
	}
	pid := p.Pid
	// Reap it when it ends, should this process live that long (an
	// in-process caller); a short-lived start exits first and leaves the
	// child to init.
	go p.Wait()
	return writeFileAtomic(r.pidFile(ip), strconv.Itoa(pid)+"\n")
}

// Cancel kills the child announcing ip, if it still runs.
func (r *ProcessRepeater) Cancel(ip netip.Addr) error {
	f := r.pidFile(ip)
	b, err := safefile.ReadFile(f, 64)
	if err != nil {
		return nil
	}
	os.Remove(f)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 || !isRepeater(pid, ip) {
		return nil
	}
	if p, err := os.FindProcess(pid); err == nil {
		p.Signal(syscall.SIGTERM)
	}
	return nil
}

// isRepeater checks that pid is still our announcer for ip (the pid file
// may be stale and the pid reused).
func isRepeater(pid int, ip netip.Addr) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(string(b), "\x00")
	return len(args) >= 4 && args[1] == repeatFlag && args[3] == ip.String()
}

func writeFileAtomic(name, data string) error {
	return safefile.Replace(name, []byte(data), 0o644)
}

// runRepeat is the child's body: pairs 2..count, then it removes its pid
// file if the file still names it.
func runRepeat(runDir string, args []string) error {
	if len(args) < 4 || len(args) > 5 {
		return syscall.EINVAL
	}
	iface, ipText, countText, msText := args[0], args[1], args[2], args[3]
	ip, err := netip.ParseAddr(ipText)
	if err != nil {
		return err
	}
	count, err := strconv.Atoi(countText)
	if err != nil {
		return err
	}
	ms, err := strconv.Atoi(msText)
	if err != nil {
		return err
	}
	l, err := netif.LinkByName(iface)
	if err != nil {
		return err
	}
	var c *arp.Conn
	if len(args) == 5 && args[4] == "fd3" {
		c, err = arp.NewConn(3, l.Index)
	} else {
		c, err = arp.Dial(l.Index)
	}
	if err != nil {
		return err
	}
	err = sendPairs(c, l, ip, count, time.Duration(ms)*time.Millisecond, nil, 1)
	c.Close()
	r := &ProcessRepeater{RunDir: runDir}
	if b, e := safefile.ReadFile(r.pidFile(ip), 64); e == nil && strings.TrimSpace(string(b)) == strconv.Itoa(os.Getpid()) {
		os.Remove(r.pidFile(ip))
	}
	return err
}

// GoRepeater sends the repetitions from a goroutine, for a long-running
// caller (the daemon) that uses Agent in-process. Repeat opens the socket
// in the calling thread's network namespace.
type GoRepeater struct {
	mu   sync.Mutex
	stop map[netip.Addr]chan struct{}
}

// Repeat starts the goroutine.
func (g *GoRepeater) Repeat(l netif.Link, ip netip.Addr, count int, interval time.Duration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stop == nil {
		g.stop = make(map[netip.Addr]chan struct{})
	}
	if old := g.stop[ip]; old != nil {
		close(old)
	}
	// The socket is opened here, in the caller's network namespace (the
	// goroutine may run on any thread).
	c, err := arp.Dial(l.Index)
	if err != nil {
		return err
	}
	ch := make(chan struct{})
	g.stop[ip] = ch
	go func() {
		sendPairs(c, l, ip, count, interval, ch, 1)
		c.Close()
		g.mu.Lock()
		if g.stop[ip] == ch {
			delete(g.stop, ip)
		}
		g.mu.Unlock()
	}()
	return nil
}

// Cancel stops the goroutine for ip.
func (g *GoRepeater) Cancel(ip netip.Addr) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ch := g.stop[ip]; ch != nil {
		close(ch)
		delete(g.stop, ip)
	}
	return nil
}
