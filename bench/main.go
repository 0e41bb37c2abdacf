// Command bench measures failover as a client sees it, and the footprint,
// of habox, the stock heartbeat 3.0.6 and keepalived side by side, in
// network namespaces built by lab (`make bench`).
//
//	go run ./bench                 # full run, <= ~15 min
//	QUICK=1 go run ./bench         # < 3 min: fewer samples and settings
//
// Environment: QUICK=1; N=<samples per case>; PEERS=habox,heartbeat,keepalived
// (default all available); OUT=<results dir> (default bench/results);
// FAST=<keepalive>/<deadtime> habox's fastest setting (default 10ms/40ms);
// HABOX_BIN=<prebuilt binary> (default: built with go build); SMOKE=1 (one
// sample of one case, for the harness's own test); ONLY=uplink (just the
// uplink-loss rows). Needs root.
//
// It writes OUT/<date>.md (OUT/<date>-quick.md with QUICK=1), timeline
// pictures OUT/<date>[-quick]/*.png (gnuplot), and prints the main table.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"habox/lab"
)

// config of one bench run.
type config struct {
	quick, smoke bool
	only         string // ONLY=uplink: just the uplink rows
	n            int
	peers        []lab.Kind
	out          string
	notes        []string // reported plainly in the results file

	fastName           string // habox's fastest setting, FAST=keepalive/deadtime
	fastKeep, fastDead time.Duration
}

func main() {
	debug.SetGCPercent(400)
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: needs root (network namespaces)")
		os.Exit(2)
	}
	c := &config{quick: os.Getenv("QUICK") == "1", smoke: os.Getenv("SMOKE") == "1", out: os.Getenv("OUT"), only: os.Getenv("ONLY")}
	if c.out == "" {
		c.out = filepath.Join("bench", "results")
	}
	c.n = 5
	if c.quick {
		c.n = 2
	}
	if c.smoke {
		c.n = 1
	}
	if s := os.Getenv("N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			fmt.Fprintln(os.Stderr, "bench: bad N")
			os.Exit(2)
		}
		c.n = v
	}
	c.fastName = "10ms/40ms"
	if s := os.Getenv("FAST"); s != "" {
		c.fastName = s
	}
	k, d, ok := strings.Cut(c.fastName, "/")
	var err1, err2 error
	c.fastKeep, err1 = time.ParseDuration(k)
	c.fastDead, err2 = time.ParseDuration(d)
	if !ok || err1 != nil || err2 != nil || c.fastDead <= 2*c.fastKeep {
		fmt.Fprintln(os.Stderr, "bench: FAST must be KEEPALIVE/DEADTIME with deadtime > 2×keepalive, e.g. 10ms/40ms")
		os.Exit(2)
	}
	want := "habox,heartbeat,keepalived"
	if s := os.Getenv("PEERS"); s != "" {
		want = s
	}
	for _, p := range strings.Split(want, ",") {
		switch strings.TrimSpace(p) {
		case "habox":
			if ok, msg := lab.HaboxDaemonReady(&runT{name: "probe"}); !ok {
				c.notes = append(c.notes, "habox was NOT measured: its heartbeat daemon is not implemented yet ("+msg+").")
				continue
			}
			c.peers = append(c.peers, lab.Habox)
		case "heartbeat":
			if _, err := os.Stat(lab.HB306); err != nil {
				c.notes = append(c.notes, "heartbeat 3.0.6 was NOT measured: "+lab.HB306+" missing.")
				continue
			}
			c.peers = append(c.peers, lab.Heartbeat)
		case "keepalived":
			c.peers = append(c.peers, lab.Keepalived)
		default:
			fmt.Fprintln(os.Stderr, "bench: unknown peer", p)
			os.Exit(2)
		}
	}
	start := time.Now()
	r := &report{cfg: c, started: start, loadStart: loadavg()}
	r.run()
	r.elapsed = time.Since(start)
	path, err := r.write()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Print(r.table())
	fmt.Printf("\nreport: %s (%s)\n", path, r.elapsed.Round(time.Second))
	if r.failed > 0 {
		fmt.Fprintf(os.Stderr, "bench: %d case(s) failed, see the report\n", r.failed)
		os.Exit(1)
	}
}

// runT implements lab.T outside the testing package: Fatalf panics with a
// fatal value that try recovers; Cleanup functions run at close.
type runT struct {
	name     string
	cleanups []func()
}

type fatal struct{ msg string }

func (r *runT) Helper()                         {}
func (r *runT) Logf(format string, args ...any) { logf("  "+r.name+": "+format, args...) }
func (r *runT) Fatalf(format string, args ...any) {
	panic(fatal{fmt.Sprintf(format, args...)})
}
func (r *runT) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *runT) close() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}

// try runs f with a fresh runT, turning Fatalf into an error and always
// running the cleanups.
func try(name string, f func(t *runT)) (err error) {
	t := &runT{name: name}
	defer func() {
		if v := recover(); v != nil {
			if fe, ok := v.(fatal); ok {
				err = fmt.Errorf("%s: %s", name, fe.msg)
			} else {
				err = fmt.Errorf("%s: panic: %v\n%s", name, v, debug.Stack())
			}
		}
		t.close()
	}()
	f(t)
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}
