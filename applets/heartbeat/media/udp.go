package media

import (
	"errors"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"habox/applets/internal/hblog"
	"habox/conf"
	"habox/hw/netif"
	"habox/hw/udp"
)

// DefaultUDPPort is heartbeat's udpport default.
const DefaultUDPPort = 694

// udpMedium is a bcast, mcast or ucast medium: one sending and one
// receiving socket.
type udpMedium struct {
	counters
	name string
	log  *hblog.Logger
	lim  *hblog.Limiter
	// ready checks that the interface is there (exists; mcast: has an
	// IPv4 address); mk creates the socket pair, at start and again after
	// the interface vanished (a USB NIC replugged, a VLAN or bridge
	// recreated): sockets bound to a deleted device never work again.
	ready func() error
	mk    func() (tx, rx *udp.Conn, err error)
	// reopen is Options.ReopenInterval.
	reopen time.Duration
	// closedMsg is logged by Close when set (3.0.6's bcast plugin does).
	closedMsg string
	// refresh, when set, is called before each send to re-resolve the
	// destination (bcast: the interface's addresses may change).
	refresh func(tx *udp.Conn)
	// gotPrefix starts the debug line for a received packet, as the
	// plugin words it ("got", or "ucast: received").
	gotPrefix string

	mu        sync.Mutex
	tx, rx    *udp.Conn // nil while the interface is missing
	lastMake  time.Time
	ifindex   int // of the interface the sockets were made for
	lastCheck time.Time
	failure   string // why the sockets could not be made ("" when they were)

	closeOnce sync.Once
	done      chan struct{}
}

// debugPkt is 3.0.6's DEBUGPKT level: per-packet debug lines.
const debugPkt = 4

// newUDP makes the sockets of a UDP medium, waiting up to wait for the
// interface (ready) first. A medium whose interface is still missing then
// is returned failed (see Failure), and retries on every Send.
func newUDP(name string, ready func() error, mk func() (*udp.Conn, *udp.Conn, error), log *hblog.Logger, o Options) (*udpMedium, error) {
	u := &udpMedium{name: name, ready: ready, mk: mk, log: log, lim: newLimiter(), done: make(chan struct{}), lastMake: time.Now(),
		reopen: o.ReopenInterval}
	wait := o.IfaceWait
	deadline := time.Now().Add(wait)
	err := ready()
	if err != nil && wait > 0 {
		log.Info("glib: interface " + name + " is not there yet (" + errText(err) + "): waiting up to " + secs(wait) + " for it")
		for err != nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			err = ready()
		}
	}
	if err != nil {
		u.failure = "interface " + name + " missing: " + errText(err)
		log.Error("glib: heartbeat link " + name + " FAILED (nothing sent or heard on it): " + u.failure + "; retrying")
		return u, nil
	}
	if u.tx, u.rx, err = mk(); err != nil {
		return nil, err
	}
	u.ifindex, _ = netif.Index(name)
	u.lastCheck = time.Now()
	return u, nil
}

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// Failure implements Failer: why the medium has no sockets ("" when it has).
func (u *udpMedium) Failure() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.failure
}

func port(m conf.Medium) int {
	if m.Port > 0 {
		return m.Port
	}
	return DefaultUDPPort
}

func openBcast(m conf.Medium, log *hblog.Logger, o Options) (Medium, error) {
	p := port(m)
	target := &bcastTarget{dev: m.Dev, log: log, every: o.ResolveInterval}
	u, err := newUDP(m.Dev, ifExists(m.Dev), func() (*udp.Conn, *udp.Conn, error) {
		brd, err := target.resolve()
		if err != nil {
			return nil, nil, &Error{Msg: "IP interface [" + m.Dev + "] does not exist", Err: err}
		}
		tx, err := udp.NewBcastSender(m.Dev, brd, p)
		if err != nil {
			return nil, nil, &Error{Msg: "Error setting up broadcast send socket on " + m.Dev, Err: err}
		}
		rx, err := udp.NewBcastReceiver(m.Dev, p)
		if err != nil {
			tx.Close()
			return nil, nil, &Error{Msg: "Unable to bind socket. Giving up", Err: err}
		}
		return tx, rx, nil
	}, log, o)
	if err != nil {
		return nil, err
	}
	u.refresh = func(tx *udp.Conn) {
		if target.due() {
			if brd, err := target.resolve(); err == nil {
				tx.SetDest(brd)
			}
		}
	}
	log.Info("glib: UDP Broadcast heartbeat started on port " + itoa(p) + " (" + itoa(p) + ") interface " + m.Dev)
	u.gotPrefix = "glib: got "
	u.closedMsg = "glib: UDP Broadcast heartbeat closed on port " + itoa(p) + " interface " + m.Dev + " - Status: "
	return u, nil
}

func openMcast(m conf.Medium, log *hblog.Logger, o Options) (Medium, error) {
	g, err := netip.ParseAddr(m.Group)
	if err != nil || !g.Is4() || !g.IsMulticast() {
		return nil, &Error{Msg: "mcast [" + m.Dev + "] bad addr [" + m.Group + "]"}
	}
	group := g.As4()
	p := m.Port
	if p <= 0 {
		return nil, &Error{Msg: "mcast [" + m.Dev + "] missing port"}
	}
	ready := func() error {
		_, err := netif.IPv4Addr(m.Dev) // it must exist and have an IPv4 address
		return err
	}
	u, err := newUDP(m.Dev, ready, func() (*udp.Conn, *udp.Conn, error) {
		tx, err := udp.NewMcastSender(m.Dev, group, p, m.TTL, m.Loop)
		if err != nil {
			return nil, nil, &Error{Msg: "Error setting outbound mcast interface", Err: err}
		}
		rx, err := udp.NewMcastReceiver(m.Dev, group, p)
		if err != nil {
			tx.Close()
			return nil, nil, &Error{Msg: "Can't join multicast group " + m.Group + " on interface " + m.Dev, Err: err}
		}
		return tx, rx, nil
	}, log, o)
	if err != nil {
		return nil, err
	}
	loop := "0"
	if m.Loop {
		loop = "1"
	}
	log.Info("glib: UDP multicast heartbeat started for group " + m.Group + " port " + itoa(p) +
		" interface " + m.Dev + " (ttl=" + itoa(m.TTL) + " loop=" + loop + ")")
	u.gotPrefix = "glib: got "
	return u, nil
}

func openUcast(m conf.Medium, log *hblog.Logger, o Options) (Medium, error) {
	p := port(m)
	if m.Peer == "" {
		return nil, &Error{Msg: "ucast: [" + m.Dev + "] missing target IP address/hostname"}
	}
	peer, err := udp.Resolve(m.Peer, o.HostsFile)
	if err != nil {
		return nil, &Error{Msg: "ucast: cannot resolve [" + m.Peer + "]", Err: err}
	}
	u, err := newUDP(m.Dev, ifExists(m.Dev), func() (*udp.Conn, *udp.Conn, error) {
		tx, err := udp.NewUcastSender(m.Dev, peer, p)
		if err != nil {
			return nil, nil, &Error{Msg: "ucast: Error creating write socket", Err: err}
		}
		rx, err := udp.NewUcastReceiver(m.Dev, p)
		if err != nil {
			tx.Close()
			return nil, nil, &Error{Msg: "ucast: unable to bind socket. Giving up", Err: err}
		}
		return tx, rx, nil
	}, log, o)
	if err != nil {
		return nil, err
	}
	log.Info("glib: ucast: started on port " + itoa(p) + " interface " + m.Dev + " to " + netip.AddrFrom4(peer).String())
	u.gotPrefix = "glib: ucast: received "
	return u, nil
}

func ifExists(dev string) func() error {
	return func() error {
		_, err := netif.Index(dev)
		return err
	}
}

// errText is the strerror part of an error (what C's %s of strerror shows).
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return capitalize(pe.Err.Error())
	}
	return err.Error()
}

func capitalize(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

func (u *udpMedium) Name() string { return u.name }
func (u *udpMedium) Text() bool   { return false }

// Send sends b as one datagram; a failure is counted and returned. When
// the interface is missing, has vanished (ENODEV, ENXIO) or was replaced
// by a new one of the same name (a rebuilt bridge: checked at most once
// per ReopenInterval), the sockets are recreated (at most once per
// ReopenInterval) and the send retried once.
func (u *udpMedium) Send(b []byte) error {
	u.mu.Lock()
	tx := u.tx
	recheck := tx != nil && time.Since(u.lastCheck) >= u.reopen
	if recheck {
		u.lastCheck = time.Now()
	}
	u.mu.Unlock()
	if recheck {
		if idx, err := netif.Index(u.name); err != nil || idx != u.ifindex {
			u.remake()
		}
	}
	if tx == nil && u.remake() {
		u.mu.Lock()
		tx = u.tx
		u.mu.Unlock()
	}
	if tx == nil {
		u.sendFails.Add(1)
		return &Error{Msg: "heartbeat link " + u.name + " FAILED", Err: errors.New(u.Failure())}
	}
	if u.refresh != nil {
		u.refresh(tx)
	}
	err := tx.Send(b)
	if err != nil && deviceGone(err) && u.remake() {
		u.mu.Lock()
		tx = u.tx
		u.mu.Unlock()
		err = tx.Send(b)
	}
	if err != nil {
		u.sendFails.Add(1)
	}
	return err
}

func deviceGone(err error) bool {
	return errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ENXIO)
}

// remake recreates both sockets (in the network namespace of the calling
// thread: the daemon's); the reader notices its socket was replaced. It
// reports whether new sockets are in place.
func (u *udpMedium) remake() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	select {
	case <-u.done:
		return false
	default:
	}
	if time.Since(u.lastMake) < u.reopen {
		return false
	}
	u.lastMake = time.Now()
	err := u.ready()
	var tx, rx *udp.Conn
	if err == nil {
		tx, rx, err = u.mk()
	}
	if err != nil {
		why := "interface " + u.name + " missing: " + errText(err)
		if u.failure == "" {
			u.log.Error("glib: heartbeat link " + u.name + " FAILED (nothing sent or heard on it): " + why + "; retrying")
		}
		u.failure = why
		if u.tx != nil { // the old sockets serve a device that is gone
			u.tx.Close()
			u.rx.Close()
			u.tx, u.rx = nil, nil
		}
		return false
	}
	if u.tx != nil {
		u.tx.Close()
		u.rx.Close() // wakes Run, which picks up the new socket
	}
	u.tx, u.rx = tx, rx
	u.ifindex, _ = netif.Index(u.name)
	u.lastCheck = time.Now()
	u.failure = ""
	u.reopens.Add(1)
	u.log.Info("glib: " + u.name + ": interface reappeared, sockets reopened")
	return true
}

// Run receives datagrams until Close.
func (u *udpMedium) Run(out chan<- Packet) {
	buf := make([]byte, MaxMessage)
	for {
		u.mu.Lock()
		rx := u.rx
		u.mu.Unlock()
		if rx == nil { // interface missing: Send makes the sockets
			select {
			case <-u.done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		n, from, err := rx.Recv(buf)
		if err != nil {
			select {
			case <-u.done:
				return
			default:
			}
			if errors.Is(err, os.ErrClosed) {
				continue // replaced by remake (Close would have closed done first)
			}
			if errors.Is(err, udp.ErrTruncated) {
				u.dropped.Add(1)
				logLimited(u.log, u.lim, "trunc", "glib: "+u.name+": dropped oversize datagram from "+from.String())
				continue
			}
			logLimited(u.log, u.lim, "recv", "glib: Error receiving from socket: "+errText(err))
			select { // do not spin on a persistent error
			case <-u.done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		if u.log.DebugLevel() >= debugPkt {
			u.log.Debug(debugPkt, u.gotPrefix+itoa(n)+" byte packet from "+from.Addr().String())
		}
		data := make([]byte, n)
		copy(data, buf[:n])
		select {
		case out <- Packet{Link: u.name, Data: data}:
			u.received.Add(1)
		case <-u.done:
			return
		}
	}
}

// Close closes both sockets and stops Run.
func (u *udpMedium) Close() error {
	var err error
	u.closeOnce.Do(func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		close(u.done)
		if u.rx != nil {
			err = u.rx.Close()
			if e := u.tx.Close(); err == nil {
				err = e
			}
		}
		if u.closedMsg != "" {
			status := "1" // HA_OK
			if err != nil {
				status = "0" // HA_FAIL
			}
			u.log.Info(u.closedMsg + status)
		}
	})
	return err
}
