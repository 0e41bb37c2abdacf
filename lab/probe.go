package lab

import (
	"encoding/binary"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Responder answers probes sent to VIP:ProbePort on one node, tagging
// each answer with the node's index. It is bound to the VIP (nonlocal
// bind), so it answers exactly while its node holds the VIP and is
// reachable.
type Responder struct {
	conn *net.UDPConn
	wg   sync.WaitGroup
}

// StartResponder starts a responder in ns for node index idx.
func StartResponder(ns *NS, idx int) (*Responder, error) {
	r := &Responder{}
	err := ns.Do(func() error {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(VIP), Port: ProbePort})
		r.conn = c
		return err
	})
	if err != nil {
		return nil, err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 64)
		for {
			n, from, err := r.conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if n < 8 {
				continue
			}
			buf[8] = byte(idx)
			r.conn.WriteToUDP(buf[:9], from)
		}
	}()
	return r, nil
}

// Close stops the responder.
func (r *Responder) Close() {
	r.conn.Close()
	r.wg.Wait()
}

// Probe is one probe the client sent and its first answer.
type Probe struct {
	Seq  int
	Sent time.Time
	Recv time.Time // zero: lost
	Node int       // answering node index, -1 when lost
}

// Prober sends a probe to VIP:ProbePort from the client every interval
// and records who answers.
type Prober struct {
	conn     *net.UDPConn
	interval time.Duration
	start    time.Time
	stop     chan struct{}
	wg       sync.WaitGroup

	mu     sync.Mutex
	probes []Probe
}

// StartProber starts probing from ns (the client namespace).
func StartProber(ns *NS, interval time.Duration) (*Prober, error) {
	p := &Prober{interval: interval, stop: make(chan struct{})}
	err := ns.Do(func() error {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ClientIP)})
		p.conn = c
		return err
	})
	if err != nil {
		return nil, err
	}
	p.start = time.Now()
	p.wg.Add(2)
	go p.send()
	go p.recv()
	return p, nil
}

func (p *Prober) send() {
	defer p.wg.Done()
	dst := &net.UDPAddr{IP: net.ParseIP(VIP), Port: ProbePort}
	tk := time.NewTicker(p.interval)
	defer tk.Stop()
	var b [8]byte
	for seq := 0; ; seq++ {
		binary.BigEndian.PutUint64(b[:], uint64(seq))
		p.mu.Lock()
		p.probes = append(p.probes, Probe{Seq: seq, Sent: time.Now(), Node: -1})
		p.mu.Unlock()
		p.conn.WriteToUDP(b[:], dst)
		select {
		case <-p.stop:
			return
		case <-tk.C:
		}
	}
}

func (p *Prober) recv() {
	defer p.wg.Done()
	buf := make([]byte, 64)
	oob := make([]byte, 128)
	// Answers are stamped by the kernel on arrival: on a loaded machine
	// this process may wait long for a CPU before it reads them.
	if rc, err := p.conn.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) })
	}
	for {
		n, oobn, _, _, err := p.conn.ReadMsgUDP(buf, oob)
		now := time.Now()
		if err != nil {
			return
		}
		now = kernelStamp(oob[:oobn], now)
		if n != 9 {
			continue
		}
		seq := int(binary.BigEndian.Uint64(buf[:8]))
		p.mu.Lock()
		if seq >= 0 && seq < len(p.probes) && p.probes[seq].Node < 0 {
			p.probes[seq].Recv = now
			p.probes[seq].Node = int(buf[8])
		}
		p.mu.Unlock()
	}
}

// Stop stops probing (waiting one interval for late answers).
func (p *Prober) Stop() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	time.Sleep(p.interval)
	p.conn.Close()
	p.wg.Wait()
}

// Start is the instant probing began.
func (p *Prober) Start() time.Time { return p.start }

// Probes returns a copy of the probes so far.
func (p *Prober) Probes() []Probe {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Probe(nil), p.probes...)
}

// Last returns the most recently answered probe (Node -1 if none).
func (p *Prober) Last() Probe {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.probes) - 1; i >= 0; i-- {
		if p.probes[i].Node >= 0 {
			return p.probes[i]
		}
	}
	return Probe{Node: -1}
}

// answers returns the answered probes ordered by receive time.
func answers(ps []Probe) []Probe {
	var a []Probe
	for _, p := range ps {
		if p.Node >= 0 {
			a = append(a, p)
		}
	}
	sort.Slice(a, func(i, j int) bool { return a[i].Recv.Before(a[j].Recv) })
	return a
}

// Outage measures a handover as the client saw it: from the last answer
// of node from to the first answer of node to received after the instant
// after. It fails when node to never answered after after.
func (p *Prober) Outage(from, to int, after time.Time) (time.Duration, error) {
	a := answers(p.Probes())
	first := -1
	for i, x := range a {
		if x.Node == to && x.Recv.After(after) {
			first = i
			break
		}
	}
	if first < 0 {
		return 0, fmt.Errorf("node %d never answered after the event", to+1)
	}
	for i := first - 1; i >= 0; i-- {
		if a[i].Node == from {
			return a[first].Recv.Sub(a[i].Recv), nil
		}
	}
	return 0, fmt.Errorf("node %d never answered before node %d took over", from+1, to+1)
}

// WaitAnswer waits until node idx answers a probe sent after the instant
// after, and returns when it answered.
func (p *Prober) WaitAnswer(idx int, after time.Time, d time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(d)
	for {
		for _, x := range p.Probes() {
			if x.Node == idx && x.Sent.After(after) {
				return x.Recv, true
			}
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Switches counts how often the answering node changed after the instant
// after (flapping shows as more than the expected number).
func (p *Prober) Switches(after time.Time) int {
	n, last := 0, -1
	for _, x := range answers(p.Probes()) {
		if x.Recv.Before(after) {
			last = x.Node
			continue
		}
		if last >= 0 && x.Node != last {
			n++
		}
		last = x.Node
	}
	return n
}

// Lost counts unanswered probes sent in [from, to).
func (p *Prober) Lost(from, to time.Time) int {
	n := 0
	for _, x := range p.Probes() {
		if x.Node < 0 && !x.Sent.Before(from) && x.Sent.Before(to) {
			n++
		}
	}
	return n
}

// linksDown sets eth0 and eth1 of the calling thread's network namespace
// down with two ioctls (microseconds, no process start).
func linksDown() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, name := range []string{"eth0", "eth1"} {
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
			return fmt.Errorf("%s: SIOCGIFFLAGS: %w", name, err)
		}
		ifr.SetUint16(ifr.Uint16() &^ unix.IFF_UP)
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
			return fmt.Errorf("%s: SIOCSIFFLAGS: %w", name, err)
		}
	}
	return nil
}
