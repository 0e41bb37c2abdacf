package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"habox/applets/trace"
	"habox/lab"
)

// traceInNode is the trace file inside a node (its /var/log is the
// node's log directory on the host).
const traceInNode = "/var/log/habox-trace"

// traceLine is one line of a habox trace file (applets/trace).
type traceLine struct {
	at      time.Time
	ev, arg string
}

// enableTrace creates each node's trace file exclusively and has the
// daemons write to it.
func enableTrace(t *runT, l *lab.Lab) {
	for _, n := range l.Nodes {
		f, err := os.OpenFile(traceFile(n), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatalf("trace file: %v", err)
		}
		f.Close()
		n.Env = append(n.Env, trace.EnvVar+"="+traceInNode)
	}
}

func traceFile(n *lab.Node) string { return n.Path("log", filepath.Base(traceInNode)) }

func readTrace(n *lab.Node) []traceLine {
	b, _ := os.ReadFile(traceFile(n))
	var out []traceLine
	for _, ln := range strings.Split(string(b), "\n") {
		f := strings.SplitN(ln, " ", 3)
		if len(f) < 2 {
			continue
		}
		us, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		tl := traceLine{at: time.UnixMicro(us), ev: f[1]}
		if len(f) == 3 {
			tl.arg = f[2]
		}
		out = append(out, tl)
	}
	return out
}

// firstAfter returns the first line of event ev from index i on whose
// instant is after t (the zero time: any).
func firstAfter(ls []traceLine, i int, ev string, t time.Time) (traceLine, int, bool) {
	for ; i < len(ls); i++ {
		if ls[i].ev == ev && (t.IsZero() || ls[i].at.After(t)) {
			return ls[i], i, true
		}
	}
	return traceLine{}, 0, false
}

// Takeover steps, in order, as the report shows them.
var takeoverSteps = []string{
	"last packet from peer → dead decided",
	"deadtime expiry → dead decided (detection slack)",
	"dead decided → resource action started",
	"resource action started → address configured",
	"address configured → gratuitous ARP sent",
	"gratuitous ARP sent → seen on the wire (client)",
	"**dead decided → first gratuitous ARP on the wire (takeover overhead)**",
	"first gratuitous ARP on the wire → first client answer (10 ms probes)",
	"peer's failure → first client answer",
}

// breakdown records the steps of one hard failure of node 1 seen from
// node 2's trace, the client's ARP capture and the prober.
func (r *report) breakdown(row string, l *lab.Lab, pr *lab.Prober, arp *lab.ARPWatch, t0 time.Time) {
	ls := readTrace(l.Nodes[1])
	dead, i, ok := firstAfter(ls, 0, "dead", t0)
	if !ok {
		return
	}
	add := func(step int, from, to time.Time) {
		if from.IsZero() || to.IsZero() {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.steps == nil {
			r.steps = map[string]map[string][]time.Duration{}
		}
		if r.steps[row] == nil {
			r.steps[row] = map[string][]time.Duration{}
		}
		k := takeoverSteps[step]
		r.steps[row][k] = append(r.steps[row][k], to.Sub(from))
	}
	get := func(ev string) time.Time {
		x, _, ok := firstAfter(ls, i, ev, time.Time{})
		if !ok {
			return time.Time{}
		}
		return x.at
	}
	heard, due, run, addr, garp := get("heard"), get("due"), get("run"), get("addr"), get("garp")
	var wire, answer time.Time
	if !run.IsZero() {
		wire, _ = arp.First(run)
	}
	for _, p := range pr.Probes() {
		if p.Node == 1 && p.Recv.After(t0) && (answer.IsZero() || p.Recv.Before(answer)) {
			answer = p.Recv
		}
	}
	add(0, heard, dead.at)
	add(1, due, dead.at)
	add(2, dead.at, run)
	add(3, run, addr)
	add(4, addr, garp)
	add(5, garp, wire)
	add(6, dead.at, wire)
	add(7, wire, answer)
	add(8, t0, answer)
}

// Start-up steps of habox (trace marks of applets/heartbeat), in order.
var startupMarks = []string{"start", "config", "generation", "media", "watchdog", "control", "persisted", "sent"}

// startupBreakdown records the start-up steps of node 1 started at t0
// whose first heartbeat was captured at wire.
func (r *report) startupBreakdown(n *lab.Node, t0, wire time.Time) {
	ls := readTrace(n)
	prev, prevName := t0, "launch (nsenter + exec)"
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.startSteps == nil {
		r.startSteps = map[string][]time.Duration{}
	}
	i := 0
	for _, m := range startupMarks {
		x, j, ok := firstAfter(ls, i, m, t0)
		if !ok {
			return
		}
		k := prevName + " → " + m
		if len(r.startOrder) < len(startupMarks)+1 && !containsStr(r.startOrder, k) {
			r.startOrder = append(r.startOrder, k)
		}
		r.startSteps[k] = append(r.startSteps[k], x.at.Sub(prev))
		prev, prevName, i = x.at, m, j
	}
	if x, _, ok := firstAfter(ls, 0, "start", t0); ok {
		r.startOwn = append(r.startOwn, wire.Sub(x.at))
	}
	k := "sent → on the wire (peer's capture)"
	if !containsStr(r.startOrder, k) {
		r.startOrder = append(r.startOrder, k)
	}
	r.startSteps[k] = append(r.startSteps[k], wire.Sub(prev))
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// breakdownTables formats the takeover and start-up breakdowns.
func (r *report) breakdownTables() string {
	var b strings.Builder
	var rows []string
	for _, s := range r.cfg.settings() {
		if r.steps[s.name] != nil {
			rows = append(rows, s.name)
		}
	}
	if len(rows) > 0 {
		b.WriteString("Hard failures of node1, from node2's trace (HABOX_TRACE: wall-clock µs marks written by the daemon and IPaddr), " +
			"the client's AF_PACKET capture of the VIP's gratuitous ARP and the 10 ms prober. ms: median / max (n).\n\n| step |")
		for _, row := range rows {
			b.WriteString(" " + r.used(lab.Habox, settingByName(r.cfg, row)).name + " |")
		}
		b.WriteString("\n|---|" + strings.Repeat("---|", len(rows)) + "\n")
		for _, st := range takeoverSteps {
			b.WriteString("| " + st + " |")
			for _, row := range rows {
				b.WriteString(" " + medMax(r.steps[row][st]) + " |")
			}
			b.WriteString("\n")
		}
	}
	if len(r.startOrder) > 0 {
		b.WriteString("\nStart-up of habox (keepalive 1 s), from its trace marks; ms: median / max (n).\n\n| step | ms |\n|---|---|\n")
		for _, k := range r.startOrder {
			b.WriteString("| " + k + " | " + medMax(r.startSteps[k]) + " |\n")
		}
	}
	return b.String()
}

func settingByName(c *config, name string) setting {
	for _, s := range c.settings() {
		if s.name == name {
			return s
		}
	}
	return setting{name: name}
}

func medMax(x []time.Duration) string {
	if len(x) == 0 {
		return "–"
	}
	_, hi := minmax(x)
	return fmt.Sprintf("%.2f / %.2f (%d)", msf(median(x)), msf(hi), len(x))
}

// takeoverGoal reports the overhead, slack and start-up goals of a takeover.
func (r *report) takeoverGoal() string {
	var b strings.Builder
	if s := r.startup[lab.Habox]; len(s) > 0 && len(r.launch) > 0 {
		own := median(s) - median(r.launch)
		fmt.Fprintf(&b, "- start → first heartbeat ≤ 5 ms excluding the launcher: %.1f ms (median %.1f ms minus the launcher's %.1f ms; Go runtime start included) — %s\n",
			msf(own), msf(median(s)), msf(median(r.launch)), verdictOf(own <= 5*time.Millisecond))
	}
	if len(r.startOwn) > 0 {
		_, hi := minmax(r.startOwn)
		fmt.Fprintf(&b, "  - of which from habox's first instruction of `heartbeat` (trace mark \"start\", after runtime start-up) to the packet on the wire: median %.2f ms, max %.2f ms\n",
			msf(median(r.startOwn)), msf(hi))
	}
	for _, s := range r.cfg.settings() {
		st := r.steps[s.name]
		if st == nil {
			continue
		}
		u := r.used(lab.Habox, s).name
		if x := st[takeoverSteps[6]]; len(x) > 0 {
			_, hi := minmax(x)
			ok := median(x) <= 2*time.Millisecond && hi <= 5*time.Millisecond
			fmt.Fprintf(&b, "- takeover overhead (dead decided → first GARP on the wire) ≤ 2 ms median / ≤ 5 ms max at %s: %.2f / %.2f ms — %s\n",
				u, msf(median(x)), msf(hi), verdictOf(ok))
		}
		if x := st[takeoverSteps[1]]; len(x) > 0 {
			_, hi := minmax(x)
			fmt.Fprintf(&b, "- detection slack (deadtime expiry → dead decided) ≤ 1 ms at %s: median %.2f ms, max %.2f ms — %s\n",
				u, msf(median(x)), msf(hi), verdictOf(median(x) <= time.Millisecond))
		}
	}
	return b.String()
}

func verdictOf(ok bool) string {
	if ok {
		return "met"
	}
	return "**MISSED**"
}
