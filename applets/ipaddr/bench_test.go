package ipaddr

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
)

// BenchmarkIPaddrStart compares habox with heartbeat 3.0.6 as whole
// processes in a network namespace: "IPaddr <ip> start" from exec to the
// first gratuitous ARP frame received by the peer namespace, and to the
// exit of the start process, and "stop" from exec to exit. The habox binary
// is built from this tree; heartbeat's is /etc/ha.d/resource.d/IPaddr
// <ip>/24/eth0 (resource-agents + net-tools). Both are started directly
// from a thread inside the namespace (no "ip netns exec" in the timing)
// and run alternately; the medians of BENCH_RUNS (default 21) runs each are
// reported. Run it with `make bench-ipaddr`.
func BenchmarkIPaddrStart(b *testing.B) {
	hwtest.RequireRoot(b)
	gobin := hwtest.RequireCmd(b, "go")
	runs := 21
	if n, err := strconv.Atoi(os.Getenv("BENCH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	dir := b.TempDir()
	modfile, err := exec.Command(gobin, "env", "GOMOD").Output()
	if err != nil {
		b.Fatal(err)
	}
	build := exec.Command(gobin, "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, "habox"), ".")
	build.Dir = filepath.Dir(strings.TrimSpace(string(modfile)))
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	exe := filepath.Join(dir, "IPaddr")
	if err := os.Symlink("habox", exe); err != nil {
		b.Fatal(err)
	}
	hb := "/etc/ha.d/resource.d/IPaddr"
	if _, err := os.Stat(hb); err != nil {
		b.Logf("heartbeat 3.0.6 not installed (%s): measuring habox only", hb)
		hb = ""
	}

	srv, peer := hwtest.NewNetns(b, "bns"), hwtest.NewNetns(b, "bnp")
	hwtest.Veth(b, srv, "eth0", "192.0.2.10/24", peer, "eth0", "192.0.2.20/24")
	capt := newCapture(b, peer, "eth0")
	env := append(os.Environ(), "HABOX_RUNDIR="+filepath.Join(dir, "run"))
	const ip = "192.0.2.219" // not the usual example address: heartbeat's pid files are host-wide

	type series struct{ garp, exit, stop []time.Duration }
	var hx, hh series
	measure := func(s *series, startArgv, stopArgv []string) {
		capt.drain()
		// Output goes to a file, not a pipe: a pipe would make Wait also
		// wait for background children that inherited it (send_arp).
		out, err := os.CreateTemp(dir, "out")
		if err != nil {
			b.Fatal(err)
		}
		defer out.Close()
		cmd := exec.Command(startArgv[0], startArgv[1:]...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, out, out
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		first, ok := capt.firstFrom(ip, 3*time.Second)
		err = <-done
		exit := time.Since(t0)
		if err != nil || !ok {
			text, _ := os.ReadFile(out.Name())
			b.Fatalf("%v: %v (frame seen: %v)\n%s", startArgv, err, ok, text)
		}
		s.garp = append(s.garp, first.Sub(t0))
		s.exit = append(s.exit, exit)
		stop := exec.Command(stopArgv[0], stopArgv[1:]...)
		stop.Env, stop.Stdout, stop.Stderr = env, out, out
		t0 = time.Now()
		if err := stop.Run(); err != nil {
			text, _ := os.ReadFile(out.Name())
			b.Fatalf("%v: %v\n%s", stopArgv, err, text)
		}
		s.stop = append(s.stop, time.Since(t0))
	}
	for i := 0; i < b.N; i++ {
		hx, hh = series{}, series{}
		srv.Do(b, func() {
			for r := 0; r < runs; r++ {
				measure(&hx, []string{exe, ip, "start"}, []string{exe, ip, "stop"})
				if hb != "" {
					measure(&hh, []string{hb, ip + "/24/eth0", "start"}, []string{hb, ip + "/24/eth0", "stop"})
				}
			}
		})
	}
	ms := func(d []time.Duration) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(ms(hx.garp), "habox-garp-ms")
	b.ReportMetric(ms(hx.exit), "habox-exit-ms")
	b.ReportMetric(ms(hx.stop), "habox-stop-ms")
	b.Logf("median of %d runs: habox start->first GARP %.2f ms, start exit %.2f ms, stop %.2f ms",
		runs, ms(hx.garp), ms(hx.exit), ms(hx.stop))
	if hb != "" {
		b.ReportMetric(ms(hh.garp), "hb306-garp-ms")
		b.ReportMetric(ms(hh.exit), "hb306-exit-ms")
		b.ReportMetric(ms(hh.stop), "hb306-stop-ms")
		b.ReportMetric(ms(hh.garp)/ms(hx.garp), "garp-ratio")
		b.Logf("median of %d runs: heartbeat 3.0.6 start->first GARP %.2f ms, start exit %.2f ms, stop %.2f ms; ratio hb/habox: GARP %.1fx, stop %.1fx",
			runs, ms(hh.garp), ms(hh.exit), ms(hh.stop), ms(hh.garp)/ms(hx.garp), ms(hh.stop)/ms(hx.stop))
	}
}

// drain discards queued frames.
func (c *capture) drain() {
	buf := make([]byte, 2048)
	for {
		if _, _, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT); err != nil {
			return
		}
	}
}

// firstFrom returns the kernel receive time of the next ARP frame with
// sender IP ip.
func (c *capture) firstFrom(ip string, timeout time.Duration) (time.Time, bool) {
	f := c.arpFor(ip, 1, timeout)
	if len(f) == 0 {
		return time.Time{}, false
	}
	return f[0].at, true
}
