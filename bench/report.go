package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"habox/lab"
)

// report collects every figure of one bench run.
type report struct {
	cfg       *config
	started   time.Time
	loadStart string
	elapsed   time.Duration

	mu          sync.Mutex
	samples     map[caseKey][]time.Duration
	timelines   map[caseKey]timeline
	sizeRows    []size
	idle        map[lab.Kind]idle
	startup     map[lab.Kind][]time.Duration
	ipaddr      map[string][]time.Duration
	ipaddrBench []string
	errors      []string
	failed      int
	pictures    []string
	fastUsed    setting                               // habox's setting in the fastest row (after fallbacks)
	steps       map[string]map[string][]time.Duration // takeover breakdown: row -> step -> samples
	startSteps  map[string][]time.Duration            // start-up breakdown: step -> samples
	startOrder  []string
	startOwn    []time.Duration // trace mark "start" -> first heartbeat on the wire
	launch      []time.Duration // nsenter + exec of /bin/true in a node
	floodRun    *floodRun
}

// used returns the timings peer p really ran with in row s.
func (r *report) used(p lab.Kind, s setting) setting {
	if s.fastest && p == lab.Habox && r.fastUsed.deadtime > 0 {
		return r.fastUsed
	}
	return s
}

func (r *report) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed++
	r.errors = append(r.errors, err.Error())
	logf("FAILED: %v", err)
}

func (r *report) run() {
	if r.cfg.only != "uplink" {
		r.failovers()
	}
	r.uplinks()
	if r.cfg.smoke || r.cfg.only != "" {
		return
	}
	logf("idle footprint")
	r.idleAll()
	logf("start -> first heartbeat")
	r.startups()
	logf("IPaddr start latency")
	r.ipaddrLatency()
	logf("sizes")
	r.sizes()
	logf("hostile flood")
	r.flood()
}

func peerName(k lab.Kind) string {
	switch k {
	case lab.Habox:
		return "habox"
	case lab.Heartbeat:
		return "heartbeat 3.0.6"
	}
	return "keepalived"
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond))
}

// cell formats a case as "median [min–max] (n)".
func (r *report) cell(k caseKey) string {
	s := r.samples[k]
	if len(s) == 0 {
		return "–"
	}
	lo, hi := minmax(s)
	return fmt.Sprintf("%s [%s–%s] n=%d", ms(median(s)), ms(lo), ms(hi), len(s))
}

func (r *report) ratio(a, b caseKey) string {
	x, y := r.samples[a], r.samples[b]
	if len(x) == 0 || len(y) == 0 || median(y) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(median(x))/float64(median(y)))
}

func (r *report) perDeadtime(k caseKey, s setting) string {
	x := r.samples[k]
	if len(x) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(median(x))/float64(masterDown(k.peer, r.used(k.peer, s))))
}

// table is the main table (markdown, also printed).
func (r *report) table() string {
	var b strings.Builder
	b.WriteString("Failover outage as the client sees it, ms: median [min–max], probes every 10 ms\n\n")
	b.WriteString("| setting | run | habox | heartbeat 3.0.6 | keepalived | habox/3.0.6 | habox/keepalived | outage÷deadtime habox / 3.0.6 / keepalived |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.cfg.settings() {
		for _, typ := range runTypes {
			h, o, k := caseKey{s.name, lab.Habox, typ}, caseKey{s.name, lab.Heartbeat, typ}, caseKey{s.name, lab.Keepalived, typ}
			if len(r.samples[h])+len(r.samples[o])+len(r.samples[k]) == 0 {
				continue
			}
			pd := "–"
			if typ == hard {
				pd = r.perDeadtime(h, s) + " / " + r.perDeadtime(o, s) + " / " + r.perDeadtime(k, s)
			}
			hc := r.cell(h)
			if u := r.used(lab.Habox, s); u.deadtime != s.deadtime && len(r.samples[h]) > 0 {
				hc += " (at " + u.name + ")"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", s.name, typ, hc, r.cell(o), r.cell(k), r.ratio(h, o), r.ratio(h, k), pd)
		}
	}
	if r.hasUplink() {
		b.WriteString("\nUplink loss → service answered by the other node, ms from the cut: median [min–max] (the owner keeps running; goal for habox ≤ deadping + 2×keepalive + 50 ms = " + ms(uplinkGoal) + " ms)\n\n")
		b.WriteString("| setting | run | habox | heartbeat 3.0.6 + ipfail | keepalived track_interface |\n|---|---|---|---|---|\n")
		for _, typ := range uplinkTypes {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", uplinkSetting, typ, r.cell(caseKey{uplinkSetting, lab.Habox, typ}),
				r.cell(caseKey{uplinkSetting, lab.Heartbeat, typ}), r.cell(caseKey{uplinkSetting, lab.Keepalived, typ}))
		}
	}
	if len(r.idle) > 0 {
		b.WriteString("\nIdle footprint of the owner node (keepalive 1 s, media bcast + serial pty; keepalived advert 1 s)\n\n")
		b.WriteString("| daemon | processes | VmRSS sum | PSS sum | CPU time | CPU % of a core | start → first heartbeat on the wire (median [min–max]) |\n|---|---|---|---|---|---|---|\n")
		for _, p := range r.cfg.peers {
			i, ok := r.idle[p]
			st := "–"
			if s := r.startup[p]; len(s) > 0 {
				lo, hi := minmax(s)
				st = fmt.Sprintf("%.1f ms [%.1f–%.1f] n=%d", msf(median(s)), msf(lo), msf(hi), len(s))
			}
			if !ok || i.err != nil {
				fmt.Fprintf(&b, "| %s | – | – | – | – | – | %s |\n", peerName(p), st)
				continue
			}
			fmt.Fprintf(&b, "| %s | %d | %.2f MiB | %.2f MiB | %.2f s / %v | %.3f %% | %s |\n", peerName(p), i.procs,
				float64(i.rssKiB)/1024, float64(i.pssKiB)/1024, i.cpu.Seconds(), i.window, 100*i.cpu.Seconds()/i.window.Seconds(), st)
		}
	}
	b.WriteString(r.floodTable())
	if len(r.launch) > 0 {
		fmt.Fprintf(&b, "\nStart → first heartbeat is measured from exec of the launcher (nsenter into the node) to the first heartbeat (UDP 694 or VRRP) captured on the peer's side; the launcher alone (nsenter + exec of /bin/true) takes %.1f ms (median). keepalived starts as backup and sends its first advert only when it becomes master (≈ 3 adverts + skew).\n", msf(median(r.launch)))
	}
	return b.String()
}

func (r *report) hasUplink() bool {
	for _, p := range []lab.Kind{lab.Habox, lab.Heartbeat, lab.Keepalived} {
		for _, typ := range uplinkTypes {
			if len(r.samples[caseKey{uplinkSetting, p, typ}]) > 0 {
				return true
			}
		}
	}
	return false
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// goals compares habox with the project's goals.
func (r *report) goals() string {
	var b strings.Builder
	if !contains(r.cfg.peers, lab.Habox) {
		return "habox was not measured in this run: no goal can be checked.\n"
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**MISSED**"
	}
	for _, s := range r.cfg.settings() {
		k := caseKey{s.name, lab.Habox, hard}
		if x := r.samples[k]; len(x) > 0 {
			_, hi := minmax(x)
			u := r.used(lab.Habox, s)
			lim := u.deadtime + 20*time.Millisecond
			fmt.Fprintf(&b, "- hard-failure outage ≤ deadtime + 20 ms at %s (habox ran %s/%s; ≤ %s ms): median %s ms, max %s ms — %s\n",
				s.name, u.keepalive, u.deadtime, ms(lim), ms(median(x)), ms(hi), verdict(median(x) <= lim))
		}
		g := caseKey{s.name, lab.Habox, graceful}
		if x := r.samples[g]; len(x) > 0 {
			fmt.Fprintf(&b, "- graceful handover ≤ 50 ms at %s: median %s ms — %s\n", s.name, ms(median(x)), verdict(median(x) <= 50*time.Millisecond))
		}
	}
	for _, s := range r.cfg.settings() {
		if !s.fastest {
			continue
		}
		h, k := r.samples[caseKey{s.name, lab.Habox, hard}], r.samples[caseKey{s.name, lab.Keepalived, hard}]
		if len(h) > 0 && len(k) > 0 {
			u := r.used(lab.Habox, s)
			fmt.Fprintf(&b, "- fastest setting no slower than keepalived's fastest: habox at %s/%s %s ms vs keepalived %s ms (ratio %.2f) — %s (CPU saturation at the fastest setting: the fault suite's TestFaultCPUSaturation logs it)\n",
				u.keepalive, u.deadtime, ms(median(h)), ms(median(k)), float64(median(h))/float64(median(k)), verdict(median(h) <= median(k)))
		}
	}
	if i, ok := r.idle[lab.Habox]; ok && i.err == nil {
		rss := float64(i.rssKiB) / 1024
		fmt.Fprintf(&b, "- idle VmRSS ≤ 5 MiB: %.2f MiB — %s\n", rss, verdict(rss <= 5))
		pct := 100 * i.cpu.Seconds() / i.window.Seconds()
		fmt.Fprintf(&b, "- idle CPU ≤ 0.1 %% of a core at keepalive 1 s: %.3f %% (%.2f s in %v; resolution 10 ms) — %s\n", pct, i.cpu.Seconds(), i.window, verdict(pct <= 0.1))
	}
	if s := r.startup[lab.Habox]; len(s) > 0 {
		fmt.Fprintf(&b, "- start → first heartbeat on the wire ≤ 5 ms: median %.1f ms (includes nsenter+exec) — %s\n", msf(median(s)), verdict(median(s) <= 5*time.Millisecond))
	}
	return b.String()
}

// write writes the markdown report and the timeline pictures.
func (r *report) write() (string, error) {
	name := r.started.UTC().Format("2006-01-02")
	if r.cfg.quick {
		name += "-quick"
	}
	if r.cfg.smoke {
		name += "-smoke"
	}
	if err := os.MkdirAll(r.cfg.out, 0o755); err != nil {
		return "", err
	}
	picDir := filepath.Join(r.cfg.out, name)
	r.plots(picDir)
	var b strings.Builder
	fmt.Fprintf(&b, "# habox bench %s\n\n", r.started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Mode: %s, n=%d per case, %s, %d CPUs, %s; run time %s; load average at start %s, at end %s (other work on the machine makes outages noisier). Re-run: `make bench` (`make bench QUICK=1`).\n\n",
		map[bool]string{true: "QUICK", false: "full"}[r.cfg.quick], r.cfg.n, runtime.Version(), runtime.NumCPU(), kernel(), r.elapsed.Round(time.Second), r.loadStart, loadavg())
	b.WriteString("Lab: lab — two nodes and a client in network namespaces (bridge for the service LAN, veth eth1 heartbeat link), " +
		"each node with its own UTS/mount namespace. The client sends a UDP probe to the service IP every 10 ms; a responder on each node " +
		"answers while that node holds the IP. Outage = last answer from the old owner → first answer from the new one. " +
		"Hard failure = SIGKILL of every daemon process and both links down at the same instant; graceful = SIGTERM (as `heartbeat -k`); " +
		"failback = the old owner restarted (after a hard failure: its stale IP removed and links up, as after a reboot), auto_failback on / VRRP preempt. " +
		"Same ha.cf/haresources/authkeys (sha1) for habox and 3.0.6; keepalived: VRRPv3 on the service LAN eth0, advert interval = keepalive (min 0.01 s), priorities 150/100.\n\n")
	for _, n := range r.cfg.notes {
		b.WriteString("**Note:** " + n + "\n\n")
	}
	b.WriteString("## Main table\n\n")
	b.WriteString(r.table())
	if bd := r.breakdownTables(); bd != "" {
		b.WriteString("\n## Where the time goes (habox)\n\n" + bd)
	}
	b.WriteString("\n## Goals\n\n")
	b.WriteString(r.goals())
	b.WriteString(r.takeoverGoal())
	b.WriteString("\nReference figures measured in the same kind of lab (doc/spec/running-heartbeat-3.0.6.md): 3.0.6 hard failure 2 s/10 s ≈ 9999 ms, 200 ms/1 s ≈ 1290 ms, graceful ≈ 511 ms, idle VmRSS ≈ 41.75 MiB over 6 processes, start → first heartbeat 24 ms; keepalived advert 0.01 s ≈ 49 ms.\n")
	if len(r.sizeRows) > 0 {
		b.WriteString("\n## Sizes\n\n| what | bytes | MiB | note |\n|---|---|---|---|\n")
		for _, s := range r.sizeRows {
			fmt.Fprintf(&b, "| %s | %d | %.2f | %s |\n", s.what, s.bytes, float64(s.bytes)/(1<<20), s.note)
		}
	}
	if len(r.ipaddr) > 0 || len(r.ipaddrBench) > 0 {
		b.WriteString("\n## IPaddr start latency\n\n")
		if len(r.ipaddr) > 0 {
			b.WriteString("`IPaddr 10.77.0.3/24/eth0 start` run in a node's namespaces (nsenter included for both), until it exits:\n\n| tool | median | min–max | n |\n|---|---|---|---|\n")
		}
		for _, name := range []string{"habox IPaddr", "3.0.6 resource.d/IPaddr"} {
			if s := r.ipaddr[name]; len(s) > 0 {
				lo, hi := minmax(s)
				fmt.Fprintf(&b, "| %s | %.1f ms | %.1f–%.1f ms | %d |\n", name, msf(median(s)), msf(lo), msf(hi), len(s))
			}
		}
		if len(r.ipaddrBench) > 0 {
			b.WriteString("From applets/ipaddr BenchmarkIPaddrStart (exec → first gratuitous ARP seen by the peer, start exit, stop; habox vs 3.0.6's resource.d/IPaddr):\n\n```\n" + strings.Join(r.ipaddrBench, "\n") + "\n```\n")
		}
	}
	if len(r.pictures) > 0 {
		b.WriteString("\n## Timelines (first run of each case)\n\n")
		for _, p := range r.pictures {
			rel, _ := filepath.Rel(r.cfg.out, p)
			fmt.Fprintf(&b, "![%s](%s)\n\n", filepath.Base(p), rel)
		}
	}
	b.WriteString("\n## All samples (ms)\n\n")
	for _, p := range r.cfg.peers {
		for _, typ := range uplinkTypes {
			if x := r.samples[caseKey{uplinkSetting, p, typ}]; len(x) > 0 {
				var v []string
				for _, d := range x {
					v = append(v, ms(d))
				}
				fmt.Fprintf(&b, "- %s, %s, %s: %s\n", uplinkSetting, peerName(p), typ, strings.Join(v, " "))
			}
		}
	}
	for _, s := range r.cfg.settings() {
		for _, p := range r.cfg.peers {
			for _, typ := range runTypes {
				if x := r.samples[caseKey{s.name, p, typ}]; len(x) > 0 {
					var v []string
					for _, d := range x {
						v = append(v, ms(d))
					}
					fmt.Fprintf(&b, "- %s, %s, %s: %s\n", s.name, peerName(p), typ, strings.Join(v, " "))
				}
			}
		}
	}
	if len(r.errors) > 0 {
		b.WriteString("\n## Failures\n\n")
		for _, e := range r.errors {
			b.WriteString("```\n" + trim(e, 3000) + "\n```\n")
		}
	}
	path := filepath.Join(r.cfg.out, name+".md")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "\n…"
	}
	return s
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return "Linux " + strings.TrimSpace(string(b))
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// plots writes one PNG per (setting, run type) with a panel per peer:
// probes answered by node 1 / node 2 or lost, the event and the takeover.
func (r *report) plots(dir string) {
	if _, err := exec.LookPath("gnuplot"); err != nil {
		r.cfg.notes = append(r.cfg.notes, "gnuplot not installed: no timeline pictures.")
		return
	}
	for _, s := range r.cfg.settings() {
		for _, typ := range runTypes {
			var peers []lab.Kind
			for _, p := range r.cfg.peers {
				if _, ok := r.timelines[caseKey{s.name, p, typ}]; ok {
					peers = append(peers, p)
				}
			}
			if len(peers) == 0 {
				continue
			}
			os.MkdirAll(dir, 0o755)
			base := unsafeName.ReplaceAllString(strings.ToLower(string(typ)+"-"+strings.SplitN(s.name, " ", 2)[0]), "-")
			data := filepath.Join(dir, base+".dat")
			png := filepath.Join(dir, base+".png")
			var d, g strings.Builder
			fmt.Fprintf(&g, "set terminal pngcairo size 1000,%d font ',9'\nset output '%s'\n", 60+200*len(peers), png)
			fmt.Fprintf(&g, "set multiplot layout %d,1 title '%s at %s: client probes every 10 ms (red = lost)'\n", len(peers), typ, s.name)
			g.WriteString("set yrange [-0.5:2.5]\nset ytics ('lost' 0, 'node1' 1, 'node2' 2)\nset xlabel 'ms from the event'\nset grid xtics\n")
			event := map[runType]string{hard: "kill -9 + links cut", graceful: "SIGTERM", failback: "node1 started"}[typ]
			for i, p := range peers {
				tl := r.timelines[caseKey{s.name, p, typ}]
				fmt.Fprintf(&d, "# %s\n", p)
				for _, pt := range tl.points {
					fmt.Fprintf(&d, "%.1f %d\n", msf(pt.at), pt.node)
				}
				d.WriteString("\n\n")
				take := msf(tl.takeover)
				fmt.Fprintf(&g, "set title '%s: median outage %s ms'\n", peerName(p), ms(median(r.samples[caseKey{s.name, p, typ}])))
				fmt.Fprintf(&g, "set arrow 1 from 0, graph 0 to 0, graph 1 nohead lc rgb 'red' lw 2\nset label 1 '%s' at 0, graph 0.9 offset 0.5,0 tc rgb 'red'\n", event)
				fmt.Fprintf(&g, "set arrow 2 from %.1f, graph 0 to %.1f, graph 1 nohead lc rgb 'blue' lw 2\nset label 2 'takeover' at %.1f, graph 0.75 offset 0.5,0 tc rgb 'blue'\n", take, take, take)
				fmt.Fprintf(&g, "plot '%s' index %d using 1:($2==0?0:1/0) with points pt 7 ps 0.4 lc rgb 'red' notitle, '' index %d using 1:($2>0?$2:1/0) with points pt 7 ps 0.4 lc rgb 'dark-green' notitle\n", data, i, i)
			}
			g.WriteString("unset multiplot\n")
			if err := os.WriteFile(data, []byte(d.String()), 0o644); err != nil {
				r.fail(err)
				continue
			}
			cmd := exec.Command("gnuplot")
			cmd.Stdin = strings.NewReader(g.String())
			if out, err := cmd.CombinedOutput(); err != nil {
				r.fail(fmt.Errorf("gnuplot %s: %v: %s", png, err, out))
				continue
			}
			os.Remove(data)
			r.pictures = append(r.pictures, png)
		}
	}
}
