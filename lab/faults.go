package lab

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Loss makes node n drop pct percent of the heartbeat packets (UDP port
// 694) it receives and sends on eth1, with nftables `numgen random`. It
// returns a function removing the rule.
func (n *Node) Loss(pct int) func() {
	t := n.Lab.T
	t.Helper()
	rules := fmt.Sprintf(`table inet halabloss {
	chain in { type filter hook input priority 0; iifname "eth1" udp dport 694 numgen random mod 100 < %d drop; }
	chain out { type filter hook output priority 0; oifname "eth1" udp dport 694 numgen random mod 100 < %d drop; }
}
`, pct, pct)
	cmd := n.NS.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("lab: nft on %s: %v: %s", n.Name, err, out)
	}
	return func() { n.NS.Run("nft", "delete", "table", "inet", "halabloss") }
}

// Partition drops every heartbeat packet between the nodes (UDP and, when
// configured, the serial link) while block is true.
func (l *Lab) Partition(block bool) {
	l.T.Helper()
	for _, n := range l.Nodes {
		if block {
			rules := `table inet halabpart {
	chain in { type filter hook input priority 0; iifname "eth1" drop; }
	chain out { type filter hook output priority 0; oifname "eth1" drop; }
}
`
			cmd := n.NS.Command("nft", "-f", "-")
			cmd.Stdin = strings.NewReader(rules)
			if out, err := cmd.CombinedOutput(); err != nil {
				l.T.Fatalf("lab: nft on %s: %v: %s", n.Name, err, out)
			}
		} else {
			n.NS.Run("nft", "delete", "table", "inet", "halabpart")
		}
	}
	if l.socat != nil {
		l.SerialBlock(block)
	}
}

// Burn starts n busy-loop processes (to saturate the machine's cores) and
// returns a function stopping them.
func Burn(n int) (stop func(), err error) {
	var cmds []*exec.Cmd
	stop = func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}
	for i := 0; i < n; i++ {
		c := exec.Command("sh", "-c", "while :; do :; done")
		if err := c.Start(); err != nil {
			stop()
			return nil, err
		}
		cmds = append(cmds, c)
	}
	return stop, nil
}

// CPUTicks returns utime+stime of the processes in clock ticks (1/100 s
// on Linux); processes that vanished count 0.
func CPUTicks(pids []int) int64 { return statSum(pids, 11, 12) }

// MinorFaults sums the minor page faults (minflt in /proc/PID/stat) of the
// processes.
func MinorFaults(pids []int) int64 { return statSum(pids, 7) }

// statSum sums fields (0 = the state, after the command's ")") of
// /proc/PID/stat over the processes.
func statSum(pids []int, fields ...int) int64 {
	var sum int64
	for _, p := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			continue
		}
		for _, i := range fields {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			sum += v
		}
	}
	return sum
}

// Mem sums VmRSS (from /proc/PID/status) and Pss (from smaps_rollup) over
// the processes, in KiB.
func Mem(pids []int) (rssKiB, pssKiB int64) {
	for _, p := range pids {
		rssKiB += procField("/proc/"+strconv.Itoa(p)+"/status", "VmRSS:")
		pssKiB += procField("/proc/"+strconv.Itoa(p)+"/smaps_rollup", "Pss:")
	}
	return
}

func procField(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, key) {
			f := strings.Fields(line[len(key):])
			if len(f) > 0 {
				v, _ := strconv.ParseInt(f[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

// VectorsDir locates the captured 3.0.6 packets: $HABOX_VECTORS, else
// the copy committed with the wire package.
func VectorsDir() string {
	if d := os.Getenv("HABOX_VECTORS"); d != "" {
		return d
	}
	if mod, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		return filepath.Join(filepath.Dir(strings.TrimSpace(string(mod))), "applets", "internal", "wire", "testdata", "vectors")
	}
	return filepath.Join("applets", "internal", "wire", "testdata", "vectors")
}

// ReplayPayloads returns the captured 3.0.6 UDP packets of
// shared/vectors/udp signed with auth (sha1, md5 or crc).
func ReplayPayloads(auth string) ([][]byte, error) {
	dir := filepath.Join(VectorsDir(), "udp")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	r, ok := map[string][2]int{"sha1": {1, 99}, "md5": {100, 199}, "crc": {200, 299}}[auth]
	if !ok {
		return nil, fmt.Errorf("unknown auth %q", auth)
	}
	lo, hi := r[0], r[1]
	var out [][]byte
	for _, e := range ents {
		num, err := strconv.Atoi(strings.SplitN(e.Name(), "-", 2)[0])
		if err != nil || num < lo || num > hi {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s vectors in %s", auth, dir)
	}
	return out, nil
}

// WrongKeyPayloads returns the vectors with valid netstring framing whose
// outer authentication trailer is recomputed with a wrong key.
func WrongKeyPayloads() ([][]byte, error) {
	in, err := ReplayPayloads("sha1")
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for i, b := range in {
		end := strings.Index(string(b), "%%%\n")
		if end < 0 {
			continue
		}
		body := b[:end+4]
		var h hash.Hash
		if i%2 == 0 {
			h = hmac.New(sha1.New, []byte("not-the-key"))
		} else {
			h = hmac.New(md5.New, []byte("not-the-key"))
		}
		h.Write(body)
		item := "1 " + hex.EncodeToString(h.Sum(nil))
		out = append(out, append(append([]byte(nil), body...), []byte(strconv.Itoa(len(item))+":"+item+",")...))
	}
	return out, nil
}

// RandomPayloads returns n random datagrams of 1..1400 bytes; every
// fourth starts with the netstring magic to reach deeper into a decoder.
func RandomPayloads(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		var l [2]byte
		rand.Read(l[:])
		b := make([]byte, 1+int(binary.BigEndian.Uint16(l[:]))%1400)
		rand.Read(b)
		if i%4 == 0 && len(b) > 4 {
			copy(b, "###\n")
		}
		out[i] = b
	}
	return out
}

// Flood sends payloads round-robin from ns to dst (ip:port) at pps
// packets per second for d, and returns how many it sent.
func Flood(ns *NS, dst string, pps int, d time.Duration, payloads [][]byte) (int, error) {
	var conn *net.UDPConn
	err := ns.Do(func() error {
		a, err := net.ResolveUDPAddr("udp4", dst)
		if err != nil {
			return err
		}
		c, err := net.DialUDP("udp4", nil, a)
		conn = c
		return err
	})
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if len(payloads) == 0 {
		return 0, fmt.Errorf("no payloads")
	}
	start := time.Now()
	sent := 0
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		el := time.Since(start)
		if el >= d {
			break
		}
		due := int(el.Seconds()*float64(pps)) + 1
		for sent < due {
			conn.Write(payloads[sent%len(payloads)]) // errors (ICMP unreachable) are expected
			if sent++; sent%256 == 0 && time.Since(start) >= d {
				break // a flooder slower than pps still stops on time
			}
		}
	}
	return sent, nil
}

// ipPacketSocket opens, in ns, a packet socket that receives every IPv4
// packet (link headers removed) on all of ns's interfaces.
func ipPacketSocket(ns *NS) (int, error) {
	fd := -1
	err := ns.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_IP)))
		return err
	})
	return fd, err
}

// CaptureUDP captures the payloads of UDP datagrams to port in ns (any
// interface, AF_PACKET) until count were seen or d passed. It returns
// each payload with its capture time.
func CaptureUDP(ns *NS, port int, count int, d time.Duration) ([]Captured, error) {
	fd, err := ipPacketSocket(ns)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return captureLoop(fd, port, count, d)
}

// Captured is one captured UDP payload.
type Captured struct {
	At      time.Time
	Payload []byte
}

func captureLoop(fd, port, count int, d time.Duration) ([]Captured, error) {
	deadline := time.Now().Add(d)
	buf := make([]byte, 65536)
	var out []Captured
	for len(out) < count {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		tv := unix.NsecToTimeval(left.Nanoseconds())
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		n, _, err := unix.Recvfrom(fd, buf, 0)
		now := time.Now()
		if err != nil {
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			return out, err
		}
		p := buf[:n]
		if len(p) < 20 || p[0]>>4 != 4 || p[9] != syscall.IPPROTO_UDP {
			continue
		}
		ihl := int(p[0]&15) * 4
		if len(p) < ihl+8 || int(binary.BigEndian.Uint16(p[ihl+2:])) != port {
			continue
		}
		out = append(out, Captured{At: now, Payload: append([]byte(nil), p[ihl+8:]...)})
	}
	return out, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// StartFirstPacket opens an AF_PACKET capture in ns now and returns a
// function waiting up to d for the first heartbeat packet from src: a UDP
// datagram to port 694 or a VRRP packet (IP protocol 112). It returns the
// capture instant.
func StartFirstPacket(ns *NS, src string) (wait func(d time.Duration) (time.Time, error), err error) {
	ip := net.ParseIP(src).To4()
	if ip == nil {
		return nil, fmt.Errorf("bad IPv4 address %q", src)
	}
	fd, err := ipPacketSocket(ns)
	if err != nil {
		return nil, err
	}
	return func(d time.Duration) (time.Time, error) {
		defer unix.Close(fd)
		deadline := time.Now().Add(d)
		buf := make([]byte, 65536)
		for {
			left := time.Until(deadline)
			if left <= 0 {
				return time.Time{}, fmt.Errorf("no heartbeat packet from %s within %v", src, d)
			}
			tv := unix.NsecToTimeval(left.Nanoseconds())
			unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
			n, _, err := unix.Recvfrom(fd, buf, 0)
			now := time.Now()
			if err != nil {
				if err == unix.EAGAIN || err == unix.EINTR {
					continue
				}
				return time.Time{}, err
			}
			p := buf[:n]
			if len(p) < 20 || p[0]>>4 != 4 || !net.IP(p[12:16]).Equal(ip) {
				continue
			}
			ihl := int(p[0]&15) * 4
			switch {
			case p[9] == 112:
				return now, nil
			case p[9] == syscall.IPPROTO_UDP && len(p) >= ihl+4 && binary.BigEndian.Uint16(p[ihl+2:]) == 694:
				return now, nil
			}
		}
	}, nil
}
