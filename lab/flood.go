package lab

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The packet kinds of HostileFlood, in the order they are
// interleaved on the wire.
var FloodKinds = []string{"garbage", "wrongkey", "maxsize", "replay"}

// FloodResult is what HostileFlood measured on the target node.
type FloodResult struct {
	Sent     map[string]int // datagrams sent per kind
	Elapsed  time.Duration
	CPU      time.Duration // the target daemon's CPU time during the flood
	RSSMax   int64         // KiB, sampled every 200 ms during the flood
	RSSStart int64         // KiB, before the flood
	// Counters: the target's cl_status hbparameter values (badpackets,
	// badpackets-<reason>, duppackets) after minus before the flood.
	Counters map[string]int
	// SockDrops: datagrams the kernel dropped on the target's UDP 694
	// sockets (receive queue full); ReasmFails: IP reassembly failures
	// (a 64 KB datagram is ~45 fragments).
	SockDrops, ReasmFails int
}

// PPS returns the achieved send rate of one kind.
func (r FloodResult) PPS(kind string) float64 { return float64(r.Sent[kind]) / r.Elapsed.Seconds() }

// Total returns the datagrams sent.
func (r FloodResult) Total() int {
	n := 0
	for _, v := range r.Sent {
		n += v
	}
	return n
}

// Accounted returns the datagrams the target accounted for: those its
// daemon read (rxpackets) plus the kernel's socket drops.
func (r FloodResult) Accounted() int { return r.Counters["rxpackets"] + r.SockDrops }

// Classified returns the sum of the daemon's per-outcome counters (bad,
// duplicate, processed, ignored), which must equal rxpackets.
func (r FloodResult) Classified() int {
	return r.Counters["badpackets"] + r.Counters["duppackets"] + r.Counters["okpackets"] + r.Counters["ignoredpackets"]
}

// CPUPerPacket returns the target daemon's CPU time per datagram sent.
func (r FloodResult) CPUPerPacket() time.Duration {
	if r.Total() == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Total())
}

// String is one summary line.
func (r FloodResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d datagrams in %v (", r.Total(), r.Elapsed.Round(time.Millisecond))
	sep := ""
	for _, k := range FloodKinds {
		if r.Sent[k] > 0 {
			fmt.Fprintf(&b, "%s%s %.0f/s", sep, k, r.PPS(k))
			sep = ", "
		}
	}
	fmt.Fprintf(&b, "); daemon CPU %v = %.1f%% of a core, %.2f µs/packet; RSS %d -> max %d KiB; counters %v; socket drops %d, reassembly failures %d; accounted %d of %d",
		r.CPU.Round(10*time.Millisecond), 100*r.CPU.Seconds()/r.Elapsed.Seconds(), float64(r.CPUPerPacket().Nanoseconds())/1000,
		r.RSSStart, r.RSSMax, r.Counters, r.SockDrops, r.ReasmFails, r.Accounted(), r.Total())
	return b.String()
}

// floodCounters are the cl_status parameters HostileFlood reads.
var floodCounters = []string{"badpackets", "badpackets-toobig", "badpackets-garbage", "badpackets-auth",
	"badpackets-replay", "badpackets-invalid", "badpackets-throttled", "duppackets", "okpackets", "ignoredpackets", "rxpackets"}

func (n *Node) counters() map[string]int {
	out := map[string]int{}
	for _, k := range floodCounters {
		s, code := n.Ctl("cl_status", "hbparameter", "-p", k)
		if v, err := strconv.Atoi(strings.TrimSpace(s)); code == 0 && err == nil {
			out[k] = v
		}
	}
	return out
}

// udpStats returns the kernel's drop count on the node's UDP sockets bound
// to port 694 and its IP reassembly failures.
func (n *Node) udpStats() (drops, reasm int) {
	out, _ := n.Exec("cat", "/proc/net/udp", "/proc/net/snmp")
	var ipHdr []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 12 && strings.HasSuffix(f[1], ":02B6"):
			v, _ := strconv.Atoi(f[len(f)-1])
			drops += v
		case len(f) > 1 && f[0] == "Ip:" && ipHdr == nil:
			ipHdr = f
		case len(f) > 1 && f[0] == "Ip:":
			for i, h := range ipHdr {
				if h == "ReasmFails" && i < len(f) {
					reasm, _ = strconv.Atoi(f[i])
				}
			}
		}
	}
	return drops, reasm
}

// HostileFlood floods node 0's heartbeat address (eth1, port 694) from
// node 1's namespace for d with pps datagrams per second of each kind of
// FloodKinds, interleaved: random garbage (a quarter starting with the
// netstring magic), well-framed vectors with a wrong key, 65507-byte
// datagrams (the largest UDP payload; well framed, ~8000 fields, wrong key)
// and replays (node 1's own live packets, captured now, and the vectors'
// 3.0.6 packets, which authenticate but belong to an old generation).
// It measures node 0's daemon: CPU, RSS, drop counters, kernel drops.
// only, when not empty, restricts the flood to those kinds.
func (l *Lab) HostileFlood(pps int, d time.Duration, only ...string) (FloodResult, error) {
	n1, n2 := l.Nodes[0], l.Nodes[1]
	var res FloodResult
	live, err := CaptureUDP(n1.NS, 694, 40, 10*time.Second)
	if err != nil {
		return res, err
	}
	var replays [][]byte
	for _, x := range live {
		if bytes.Contains(x.Payload, []byte("src="+n2.Name)) {
			replays = append(replays, x.Payload)
		}
	}
	vec, err := ReplayPayloads("sha1")
	if err != nil {
		return res, err
	}
	replays = append(replays, vec...)
	wrong, err := WrongKeyPayloads()
	if err != nil {
		return res, err
	}
	garbage := RandomPayloads(500)
	max := maxSizePayload()
	all := map[string][][]byte{"garbage": garbage, "wrongkey": wrong, "maxsize": {max}, "replay": replays,
		"widekey": {wideWrongKey(wrong[0])}}
	names := FloodKinds
	if len(only) > 0 {
		names = only
	}
	var kinds [][][]byte
	for _, k := range names {
		if all[k] == nil {
			return res, fmt.Errorf("unknown flood kind %q", k)
		}
		kinds = append(kinds, all[k])
	}
	var mix [][]byte
	for i := 0; i < 2000; i++ {
		for _, k := range kinds {
			mix = append(mix, k[i%len(k)])
		}
	}
	pids := n1.DaemonPids()
	before := n1.counters()
	drops0, reasm0 := n1.udpStats()
	res.RSSStart, _ = Mem(pids)
	res.RSSMax = res.RSSStart
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(200 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if rss, _ := Mem(pids); rss > res.RSSMax {
					res.RSSMax = rss
				}
			}
		}
	}()
	cpu0 := CPUTicks(pids)
	t0 := time.Now()
	sent, err := Flood(n2.NS, HBPrefix+"1:694", pps*len(kinds), d, mix)
	res.Elapsed = time.Since(t0)
	// Let the daemon drain its socket before the counters are read.
	time.Sleep(500 * time.Millisecond)
	res.CPU = time.Duration(CPUTicks(pids)-cpu0) * 10 * time.Millisecond
	close(stop)
	wg.Wait()
	if err != nil {
		return res, err
	}
	res.Sent = map[string]int{}
	for i := 0; i < sent; i++ {
		res.Sent[names[i%len(kinds)]]++
	}
	after := n1.counters()
	res.Counters = map[string]int{}
	for k, v := range after {
		res.Counters[k] = v - before[k]
	}
	drops1, reasm1 := n1.udpStats()
	res.SockDrops, res.ReasmFails = drops1-drops0, reasm1-reasm0
	return res, nil
}

// wideWrongKey turns a wrong-key datagram into one just under the
// daemon's 32 KB limit (one 30000-byte field added; the trailer is then
// simply wrong): the most a forged packet can make the daemon hash. Not
// in FloodKinds; HostileFlood sends it when asked ("widekey").
func wideWrongKey(b []byte) []byte {
	end := bytes.Index(b, []byte("%%%\n"))
	if end < 0 {
		return b
	}
	pad := "(0)pad=" + strings.Repeat("x", 30000)
	out := append([]byte(nil), b[:end]...)
	out = append(out, strconv.Itoa(len(pad))+":"+pad+","...)
	return append(out, b[end:]...)
}

// maxSizePayload is a 65507-byte netstring datagram (the largest IPv4 UDP
// payload) of one-letter fields, with a wrong-key trailer.
func maxSizePayload() []byte {
	const size = 65507
	b := []byte("###\n")
	for len(b) < size-100 {
		b = append(b, "5:(0)a=,"...)
	}
	b = append(b, "%%%\n"...)
	r := size - len(b) // for "M:1 0...0,"
	m := r - 2
	for len(strconv.Itoa(m))+m+2 > r {
		m--
	}
	b = append(b, strconv.Itoa(m)+":1 "+strings.Repeat("0", m-2)+","...)
	return b
}
