package lab

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ARPWatch records when ARP packets whose sender address is one IPv4
// address (gratuitous ARP for the VIP) are seen in a namespace.
type ARPWatch struct {
	fd   int
	ip   [4]byte
	stop atomic.Bool
	done chan struct{}

	mu    sync.Mutex
	times []time.Time
}

// StartARPWatch opens an AF_PACKET socket for ARP in ns now and records
// every ARP packet sent from ip until Stop.
func StartARPWatch(ns *NS, ip string) (*ARPWatch, error) {
	w := &ARPWatch{done: make(chan struct{})}
	copy(w.ip[:], net.ParseIP(ip).To4())
	err := ns.Do(func() error {
		var err error
		w.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
		return err
	})
	if err != nil {
		return nil, err
	}
	tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
	unix.SetsockoptTimeval(w.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	// The kernel's receive timestamp: this process may wait long for a
	// CPU on a loaded machine, the packet's arrival does not.
	unix.SetsockoptInt(w.fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	go w.loop()
	return w, nil
}

func (w *ARPWatch) loop() {
	defer close(w.done)
	defer unix.Close(w.fd)
	buf := make([]byte, 1500)
	oob := make([]byte, 128)
	for !w.stop.Load() {
		n, oobn, _, _, err := unix.Recvmsg(w.fd, buf, oob, 0)
		now := time.Now()
		if err == nil {
			now = kernelStamp(oob[:oobn], now)
		}
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		// ARP for IPv4 over Ethernet: sender protocol address at 14..18.
		if n < 28 || buf[2] != 8 || buf[3] != 0 || [4]byte(buf[14:18]) != w.ip {
			continue
		}
		w.mu.Lock()
		w.times = append(w.times, now)
		w.mu.Unlock()
	}
}

// First returns the first ARP packet from the address seen after t.
func (w *ARPWatch) First(after time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.times {
		if t.After(after) {
			return t, true
		}
	}
	return time.Time{}, false
}

// Stop ends the reader (within its 100 ms receive timeout), which closes
// the socket.
func (w *ARPWatch) Stop() {
	w.stop.Store(true)
	<-w.done
}

// kernelStamp returns the SCM_TIMESTAMPNS instant in a control message,
// or def.
func kernelStamp(oob []byte, def time.Time) time.Time {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return def
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			return time.Unix(ts.Unix())
		}
	}
	return def
}
