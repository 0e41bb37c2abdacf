package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"habox/lab"
)

// size is one line of the size table.
type size struct {
	what  string
	bytes int64
	note  string
}

// idle is the idle footprint of one peer's owner node.
type idle struct {
	procs          int
	rssKiB, pssKiB int64
	cpu            time.Duration // CPU time over the window
	window         time.Duration
	err            error
}

// crossArches mirrors the Makefile's CROSS list.
var crossArches = []struct{ name, goarch, extra string }{
	{"amd64", "amd64", ""}, {"386", "386", ""}, {"armv5", "arm", "GOARM=5"}, {"armv7", "arm", "GOARM=7"},
	{"arm64", "arm64", ""}, {"mips", "mips", "GOMIPS=softfloat"}, {"mipsle", "mipsle", "GOMIPS=softfloat"},
}

// sizes measures habox per arch (stripped static, as `make size` builds
// it), and the installed heartbeat 3.0.6 and keepalived with their libraries.
func (r *report) sizes() {
	dir, err := os.MkdirTemp("", "habox-bench-size-")
	if err != nil {
		r.fail(err)
		return
	}
	defer os.RemoveAll(dir)
	arches := crossArches
	if r.cfg.quick || r.cfg.smoke {
		arches = arches[:1]
	}
	for _, a := range arches {
		out := filepath.Join(dir, "habox-"+a.name)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+a.goarch)
		if a.extra != "" {
			cmd.Env = append(cmd.Env, a.extra)
		}
		if b, err := cmd.CombinedOutput(); err != nil {
			r.fail(fmt.Errorf("build habox for %s: %v: %s", a.name, err, b))
			continue
		}
		st, _ := os.Stat(out)
		r.sizeRows = append(r.sizeRows, size{"habox " + a.name + " (static, stripped)", st.Size(), ""})
	}
	for _, d := range []struct{ name, bin, plugins string }{
		{"heartbeat 3.0.6", lab.HB306, "/usr/lib/heartbeat/plugins"},
		{"keepalived", "/usr/sbin/keepalived", ""},
	} {
		st, err := os.Stat(d.bin)
		if err != nil {
			continue
		}
		r.sizeRows = append(r.sizeRows, size{d.name + " daemon", st.Size(), d.bin})
		own, sys, n := libSizes(d.bin)
		r.sizeRows = append(r.sizeRows, size{d.name + " shared libraries (without libc/libm/ld.so)", own, fmt.Sprintf("%d libraries", n)})
		r.sizeRows = append(r.sizeRows, size{d.name + " daemon + all shared libraries", st.Size() + own + sys, "incl. libc"})
		if d.plugins != "" {
			p := dirSize(d.plugins)
			r.sizeRows = append(r.sizeRows, size{d.name + " plugins", p, d.plugins})
			r.sizeRows = append(r.sizeRows, size{d.name + " daemon + libraries (without libc) + plugins", st.Size() + own + p, ""})
		}
	}
}

var lddLine = regexp.MustCompile(`=> (/\S+)`)

// libSizes sums the shared libraries ldd reports for bin: own (without
// the C library family) and sys (libc, libm, ld.so).
func libSizes(bin string) (own, sys int64, n int) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return 0, 0, 0
	}
	for _, m := range lddLine.FindAllStringSubmatch(string(out), -1) {
		p, err := filepath.EvalSymlinks(m[1])
		if err != nil {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		base := filepath.Base(m[1])
		if strings.HasPrefix(base, "libc.so") || strings.HasPrefix(base, "libm.so") || strings.HasPrefix(base, "ld-linux") {
			sys += st.Size()
		} else {
			own += st.Size()
			n++
		}
	}
	if ld, err := filepath.EvalSymlinks("/lib64/ld-linux-x86-64.so.2"); err == nil {
		if st, err := os.Stat(ld); err == nil {
			sys += st.Size()
		}
	}
	return
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// idleAll measures every peer's owner node at keepalive 1 s (deadtime 5 s,
// media bcast eth1 + serial; keepalived advert 1 s) concurrently: RSS/PSS summed over the daemon's
// processes, CPU time over the window.
func (r *report) idleAll() {
	window := 60 * time.Second
	if r.cfg.quick || r.cfg.smoke {
		window = 10 * time.Second
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	r.idle = map[lab.Kind]idle{}
	for _, p := range r.cfg.peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res idle
			err := try("idle "+string(p), func(t *runT) {
				// bcast + a pty serial link, as the reference figures of
				// running-heartbeat-3.0.6.md (6 processes for 3.0.6).
				l := lab.New(t, lab.Options{Kinds: [2]lab.Kind{p, p}, Keepalive: time.Second, Deadtime: 5 * time.Second, Serial: p != lab.Keepalived})
				l.Start()
				l.WaitOwner(0, 60*time.Second)
				time.Sleep(3 * time.Second)
				pids := l.Nodes[0].DaemonPids()
				res.procs = len(pids)
				res.rssKiB, res.pssKiB = lab.Mem(pids)
				c0 := lab.CPUTicks(pids)
				time.Sleep(window)
				res.cpu = time.Duration(lab.CPUTicks(l.Nodes[0].DaemonPids())-c0) * 10 * time.Millisecond
				res.window = window
			})
			if err != nil {
				res.err = err
				r.fail(err)
			}
			mu.Lock()
			r.idle[p] = res
			mu.Unlock()
		}()
	}
	wg.Wait()
}

// startups measures start → first heartbeat packet on the wire (seen on
// the peer's side of eth1), with node2 not running.
func (r *report) startups() {
	n := max(r.cfg.n, 3)
	r.startup = map[lab.Kind][]time.Duration{}
	for _, p := range r.cfg.peers {
		err := try("startup "+string(p), func(t *runT) {
			l := lab.New(t, lab.Options{Kinds: [2]lab.Kind{p, p}, Keepalive: time.Second, Deadtime: 5 * time.Second})
			if p == lab.Habox {
				lab.HaboxBin(t) // build before timing
				enableTrace(t, l)
			}
			if len(r.launch) == 0 {
				// The launcher's own cost (nsenter + exec), included in every figure.
				for i := 0; i < 5; i++ {
					t0 := time.Now()
					l.Nodes[0].Command("/bin/true").Run()
					r.launch = append(r.launch, time.Since(t0))
				}
			}
			for i := 0; i < n; i++ {
				wait, err := lab.StartFirstPacket(l.Nodes[1].NS, firstSrc(p))
				if err != nil {
					t.Fatalf("capture: %v", err)
				}
				t0 := time.Now()
				l.Nodes[0].Start()
				at, err := wait(15 * time.Second)
				if err != nil {
					t.Fatalf("%v\n%s", err, l.LogTails(20))
				}
				r.mu.Lock()
				r.startup[p] = append(r.startup[p], at.Sub(t0))
				r.mu.Unlock()
				if p == lab.Habox {
					r.startupBreakdown(l.Nodes[0], t0, at)
				}
				l.Nodes[0].Kill()
				l.Nodes[0].Recover()
				os.Remove(l.Nodes[0].Path("run", "heartbeat.pid"))
				time.Sleep(200 * time.Millisecond)
			}
		})
		if err != nil {
			r.fail(err)
		}
	}
}

// ipaddrLatency includes the IPaddr engineer's BenchmarkIPaddrStart
// (applets/ipaddr: exec → first gratuitous ARP, start exit, stop; habox vs
// 3.0.6's resource.d/IPaddr) when present; otherwise it times
// `IPaddr VIP/24/eth0 start` itself in a lab node (nsenter included).
func (r *report) ipaddrLatency() {
	if b, _ := exec.Command("sh", "-c", "grep -l 'func BenchmarkIPaddrStart' applets/ipaddr/*_test.go 2>/dev/null").Output(); len(b) > 0 {
		runs := "21"
		if r.cfg.quick {
			runs = "5"
		}
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^BenchmarkIPaddrStart$", "-benchtime", "1x", "-v", "./applets/ipaddr/")
		cmd.Env = append(os.Environ(), "BENCH_RUNS="+runs)
		out, err := cmd.CombinedOutput()
		if err != nil {
			r.fail(fmt.Errorf("ipaddr benchmark: %v: %s", err, trim(string(out), 2000)))
		}
		for _, line := range strings.Split(string(out), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "Benchmark") || strings.Contains(line, "median of") {
				r.ipaddrBench = append(r.ipaddrBench, line)
			}
		}
		return
	}
	n := max(r.cfg.n, 3)
	r.ipaddr = map[string][]time.Duration{}
	err := try("ipaddr", func(t *runT) {
		l := lab.New(t, lab.Options{Kinds: [2]lab.Kind{lab.Habox, lab.Heartbeat}})
		hb := lab.HaboxBin(t)
		type tool struct {
			name string
			node *lab.Node
			argv []string
		}
		tools := []tool{{"habox IPaddr", l.Nodes[0], []string{hb, "IPaddr"}}}
		if _, err := os.Stat(lab.HB306); err == nil {
			tools = append(tools, tool{"3.0.6 resource.d/IPaddr", l.Nodes[1], []string{"/etc/ha.d/resource.d/IPaddr"}})
		}
		for _, tl := range tools {
			for i := 0; i < n; i++ {
				// Output to a file: a background GARP sender keeping a
				// pipe open must not count.
				f, err := os.CreateTemp("", "ipaddr-out-")
				if err != nil {
					t.Fatalf("%v", err)
				}
				cmd := tl.node.Command(tl.argv[0], append(tl.argv[1:], lab.VIP+"/24/eth0", "start")...)
				cmd.Stdout, cmd.Stderr = f, f
				t0 := time.Now()
				err = cmd.Run()
				d := time.Since(t0)
				f.Close()
				out, _ := os.ReadFile(f.Name())
				os.Remove(f.Name())
				if err != nil || !tl.node.HoldsVIP() {
					t.Fatalf("%s start: %v: %s", tl.name, err, out)
				}
				stop := tl.node.Command(tl.argv[0], append(tl.argv[1:], lab.VIP+"/24/eth0", "stop")...)
				if err := stop.Run(); err != nil {
					t.Fatalf("%s stop: %v", tl.name, err)
				}
				r.mu.Lock()
				r.ipaddr[tl.name] = append(r.ipaddr[tl.name], d)
				r.mu.Unlock()
			}
		}
	})
	if err != nil {
		r.fail(err)
	}
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minmax(ds []time.Duration) (lo, hi time.Duration) {
	for i, d := range ds {
		if i == 0 || d < lo {
			lo = d
		}
		if i == 0 || d > hi {
			hi = d
		}
	}
	return
}

// firstSrc is node1's address its heartbeats come from: eth1 for
// heartbeat, the service LAN for keepalived's VRRP.
func firstSrc(p lab.Kind) string {
	if p == lab.Keepalived {
		return lab.LANPrefix + "1"
	}
	return lab.HBPrefix + "1"
}
