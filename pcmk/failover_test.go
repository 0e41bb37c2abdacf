package pcmk

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var vip = netip.MustParseAddr("10.99.0.50")

// pinger pings the service address from the client every 50 ms and
// records reply times (ping -D) and duplicate replies.
type pinger struct {
	replies chan float64 // unix seconds of each reply
	dups    int
	done    chan struct{}
}

func (c *cluster) ping(t *testing.T) (*pinger, func()) {
	cmd := c.client.Command("ping", "-n", "-D", "-i", "0.05", "-W", "1", vip.String())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &pinger{replies: make(chan float64, 100000), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		s := bufio.NewScanner(out)
		for s.Scan() {
			l := s.Text()
			if !strings.HasPrefix(l, "[") || !strings.Contains(l, "bytes from") {
				continue
			}
			if strings.Contains(l, "DUP!") {
				p.dups++
			}
			if ts, err := strconv.ParseFloat(l[1:strings.IndexByte(l, ']')], 64); err == nil {
				p.replies <- ts
			}
		}
		io.Copy(io.Discard, out)
	}()
	return p, func() { cmd.Process.Kill(); cmd.Wait(); <-p.done }
}

// firstAfter returns the first reply at or after t.
func (p *pinger) firstAfter(t time.Time, d time.Duration) (time.Time, bool) {
	deadline := time.After(d)
	for {
		select {
		case ts := <-p.replies:
			rt := time.Unix(0, int64(ts*1e9))
			if !rt.Before(t) {
				return rt, true
			}
		case <-deadline:
			return time.Time{}, false
		}
	}
}

type failoverRun struct {
	failover time.Duration
	startMS  []int
	maxOwn   int
	samples  int
	dups     int
	from, to string
}

// failover starts a 3-node cluster running rsc (one primitive, monitor
// every 2 s), waits for the client to get replies from the address, kills
// the node running it and measures until the address answers again from
// another node, checking that no two live nodes hold it at any sample.
func failover(t *testing.T, class, provider, agent string) failoverRun {
	rsc := fmt.Sprintf(`<primitive id="vip" class="%s" provider="%s" type="%s"><instance_attributes id="vip-a">
<nvpair id="vip-ip" name="ip" value="%s"/><nvpair id="vip-m" name="cidr_netmask" value="24"/><nvpair id="vip-n" name="nic" value="eth0"/>
</instance_attributes><operations><op id="vip-mon" name="monitor" interval="2s" timeout="20s"/></operations></primitive>`, class, provider, agent, vip)
	c := newCluster(t, 3, rsc, "", "")
	w := c.watchOwners(vip)
	owner := c.waitOwner(vip, 60*time.Second)
	p, stopPing := c.ping(t)
	defer stopPing()
	if _, ok := p.firstAfter(time.Now(), 10*time.Second); !ok {
		t.Fatalf("the client gets no reply from %s on %s", vip, owner.name)
	}
	w.pause()
	killed := time.Now()
	c.kill(owner)
	w2 := c.watchOwners(vip)
	// A reply already past the port when it went down is not the new
	// owner's: count from 100 ms on (failover takes seconds).
	back, ok := p.firstAfter(killed.Add(100*time.Millisecond), 60*time.Second)
	if !ok {
		t.Fatalf("%s: no reply within 60 s after killing %s", agent, owner.name)
	}
	now := c.waitOwner(vip, 10*time.Second)
	time.Sleep(time.Second) // a few more samples and pings with the new owner
	w2.pause()
	r := failoverRun{failover: back.Sub(killed), maxOwn: max(w.max, w2.max), samples: w.samples + w2.samples, dups: p.dups, from: owner.name, to: now.name}
	r.startMS = c.cibStartTimes(now, "vip")
	if r.failover < time.Second {
		t.Errorf("failover in %v, faster than the 1 s token: a reply from the killed node?", r.failover)
	}
	if now == owner {
		t.Errorf("the address is still on the killed node")
	}
	if r.maxOwn != 1 || r.dups != 0 {
		t.Errorf("%s: up to %d live owners at once (%d samples), %d duplicate replies", agent, r.maxOwn, r.samples, r.dups)
	}
	return r
}

func runs() int {
	if n, err := strconv.Atoi(os.Getenv("PCMK_RUNS")); err == nil && n > 0 && n <= 20 {
		return n
	}
	return 3
}

// TestFailover runs habox's ocf:habox:IPaddr and resource-agents'
// ocf:heartbeat:IPaddr2 in turns on fresh clusters (PCMK_RUNS each,
// default 3), kills the node holding the address each time, and reports
// kill-to-first-reply times and Pacemaker's start operation times side by
// side.
func TestFailover(t *testing.T) {
	requireCluster(t)
	agents := []struct{ class, provider, agent string }{
		{"ocf", "habox", "IPaddr"},
		{"ocf", "heartbeat", "IPaddr2"},
	}
	res := make([][]failoverRun, len(agents))
	for i := 0; i < runs(); i++ {
		for j, a := range agents {
			name := fmt.Sprintf("%s:%s:%s/%d", a.class, a.provider, a.agent, i+1)
			t.Run(name, func(t *testing.T) {
				r := failover(t, a.class, a.provider, a.agent)
				t.Logf("%s: %s -> %s in %v, start %v ms, max live owners %d over %d samples", name, r.from, r.to, r.failover.Round(time.Millisecond), r.startMS, r.maxOwn, r.samples)
				res[j] = append(res[j], r)
			})
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n3 nodes, corosync token 1000 ms, monitor 2 s; kill -> first ping reply from the new owner:\n")
	fmt.Fprintf(&b, "%-28s %-36s %-9s %s\n", "agent", "failover runs (s)", "median", "start op (ms, median)")
	for j, a := range agents {
		var fs []float64
		var st []int
		var runs []string
		for _, r := range res[j] {
			fs = append(fs, r.failover.Seconds())
			runs = append(runs, strconv.FormatFloat(r.failover.Seconds(), 'f', 2, 64))
			st = append(st, r.startMS...)
		}
		if len(fs) == 0 {
			continue
		}
		sort.Float64s(fs)
		sort.Ints(st)
		med := "-"
		if len(st) > 0 {
			med = strconv.Itoa(st[len(st)/2])
		}
		fmt.Fprintf(&b, "%-28s %-36s %-9s %s\n", a.class+":"+a.provider+":"+a.agent, strings.Join(runs, " "), strconv.FormatFloat(fs[len(fs)/2], 'f', 2, 64), med)
	}
	t.Log(b.String())
}
