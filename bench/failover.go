package main

import (
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"habox/lab"
)

// setting is one keepalive/deadtime pair of the failover runs.
type setting struct {
	name                string
	keepalive, deadtime time.Duration
	peers               []lab.Kind // nil: every configured peer
	fastest             bool       // habox falls back to slower settings if unsafe
}

// fallbacks are tried for habox's fastest row when the requested setting
// does not hold a steady single owner on this machine.
var fallbacks = []setting{
	{name: "20ms/100ms", keepalive: 20 * time.Millisecond, deadtime: 100 * time.Millisecond},
	{name: "50ms/250ms", keepalive: 50 * time.Millisecond, deadtime: 250 * time.Millisecond},
	{name: "100ms/500ms", keepalive: 100 * time.Millisecond, deadtime: 500 * time.Millisecond},
}

// runType is what happens to the owner.
type runType string

const (
	hard     runType = "hard failure"
	graceful runType = "graceful stop"
	failback runType = "failback"
)

var runTypes = []runType{hard, graceful, failback}

type caseKey struct {
	setting string
	peer    lab.Kind
	typ     runType
}

// timeline is one run's probes relative to the event.
type timeline struct {
	points   []point       // probe sent offset and answering node (1, 2) or 0 lost
	takeover time.Duration // first answer from the new owner
}

type point struct {
	at   time.Duration
	node int
}

func (c *config) settings() []setting {
	fast := setting{"fastest (" + c.fastName + "; keepalived advert " + lab.KeepalivedAdvert(c.fastKeep) + "s)", c.fastKeep, c.fastDead, []lab.Kind{lab.Habox, lab.Keepalived}, true}
	mid := setting{"200ms/1s", 200 * time.Millisecond, time.Second, nil, false}
	slow := setting{"2s/10s", 2 * time.Second, 10 * time.Second, nil, false}
	switch {
	case c.smoke:
		return []setting{mid}
	case c.quick:
		return []setting{mid, fast}
	}
	return []setting{slow, mid, fast}
}

// failovers measures every (setting, peer): n hard failures and n graceful
// stops of the owner, each followed by its return (failback).
func (r *report) failovers() {
	for _, s := range r.cfg.settings() {
		for _, p := range r.cfg.peers {
			if s.peers != nil && !contains(s.peers, p) {
				continue
			}
			if r.cfg.smoke && p != r.cfg.peers[0] {
				continue
			}
			logf("failover: %s at %s, n=%d", p, s.name, r.cfg.n)
			run := s
			err := try(string(p)+" "+s.name, func(t *runT) { r.cycle(t, s, run, p) })
			if err != nil && s.fastest && p == lab.Habox {
				// The requested fastest setting is unsafe here: say so and
				// measure the next slower one in the same row.
				for _, fb := range fallbacks {
					if fb.deadtime <= s.deadtime {
						continue
					}
					r.cfg.notes = append(r.cfg.notes, "habox at "+run.name+" was NOT usable on this machine (the fastest row falls back to a slower setting): "+firstLine(err.Error()))
					r.clear(caseKey{s.name, p, hard}, caseKey{s.name, p, graceful}, caseKey{s.name, p, failback})
					run = fb
					logf("failover: habox fastest falls back to %s", run.name)
					if err = try(string(p)+" "+run.name, func(t *runT) { r.cycle(t, s, run, p) }); err == nil {
						break
					}
				}
			}
			if s.fastest && p == lab.Habox {
				r.fastUsed = run
			}
			if err != nil {
				r.fail(err)
			}
		}
	}
}

func contains(ks []lab.Kind, k lab.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// masterDown is the time after which a peer declares the owner dead: the
// heartbeat deadtime, or VRRP's Master_Down_Interval for keepalived's
// backup (priority 100).
func masterDown(p lab.Kind, s setting) time.Duration {
	if p != lab.Keepalived {
		return s.deadtime
	}
	adv := advertDur(s.keepalive)
	return 3*adv + adv*(256-100)/256
}

func advertDur(keepalive time.Duration) time.Duration {
	cs := (keepalive + 5*time.Millisecond) / (10 * time.Millisecond)
	return max(cs, 1) * 10 * time.Millisecond
}

// cycle measures peer p with the timings of run, recording under row s.
func (r *report) cycle(t *runT, s, run setting, p lab.Kind) {
	l := lab.New(t, lab.Options{Kinds: [2]lab.Kind{p, p}, Keepalive: run.keepalive, Deadtime: run.deadtime,
		Initdead: max(run.deadtime, 2*time.Second)})
	if p == lab.Habox {
		enableTrace(t, l)
	}
	l.Start()
	l.WaitOwner(0, 60*time.Second)
	pr, err := lab.StartProber(l.Client, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("prober: %v", err)
	}
	defer pr.Stop()
	arp, err := lab.StartARPWatch(l.Client, lab.VIP)
	if err != nil {
		t.Fatalf("arp capture: %v", err)
	}
	defer arp.Stop()
	down := masterDown(p, run)
	settle := func() {
		if p != lab.Keepalived {
			l.WaitBothActive(60 * time.Second)
		}
		l.WaitOwner(0, 30*time.Second)
		time.Sleep(max(time.Second, 2*run.keepalive, min(down/2, 2*time.Second)))
		// Steady state: heartbeat advertises deadtime+2 s for 5 s after a start.
		if p != lab.Keepalived {
			time.Sleep(time.Until(l.Nodes[0].StartedAt().Add(5500 * time.Millisecond)))
		}
		if _, ok := pr.WaitAnswer(0, time.Now(), 5*time.Second); !ok {
			t.Fatalf("client does not reach node1 before the run (VIP holders %v)\n%s", l.Holders(), l.LogTails(25))
		}
		// A random phase against the heartbeat interval.
		time.Sleep(time.Duration(rand.Int64N(int64(run.keepalive) + 1)))
	}
	for _, typ := range []runType{hard, graceful} {
		for i := 0; i < r.cfg.n; i++ {
			settle()
			var t0 time.Time
			if typ == hard {
				t0 = l.Nodes[0].HardFail()
			} else {
				t0 = l.Nodes[0].Stop(60 * time.Second)
			}
			if _, ok := pr.WaitAnswer(1, t0, 3*down+20*time.Second); !ok {
				t.Fatalf("%s: node2 never answered\n%s", typ, l.LogTails(30))
			}
			out, err := pr.Outage(0, 1, t0)
			if err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			time.Sleep(300 * time.Millisecond)
			r.add(caseKey{s.name, p, typ}, out, pr, t0)
			if p == lab.Habox && typ == hard {
				r.breakdown(s.name, l, pr, arp, t0)
			}
			t.Logf("%s #%d: %v", typ, i+1, out)
			if typ == hard {
				l.Nodes[0].Recover()
			}
			if p != lab.Keepalived {
				l.WaitOwner(1, 10*time.Second)
			}
			t1 := time.Now()
			l.Nodes[0].Start()
			if _, ok := pr.WaitAnswer(0, t1, 90*time.Second); !ok {
				t.Fatalf("failback: node1 never answered again\n%s", l.LogTails(30))
			}
			fb, err := pr.Outage(1, 0, t1)
			if err != nil {
				t.Fatalf("failback: %v", err)
			}
			time.Sleep(300 * time.Millisecond)
			r.add(caseKey{s.name, p, failback}, fb, pr, t1)
			t.Logf("failback #%d: %v", i+1, fb)
		}
	}
}

// clear drops the samples and timelines of the keys.
func (r *report) clear(keys ...caseKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		delete(r.samples, k)
		delete(r.timelines, k)
		if k.peer == lab.Habox {
			delete(r.steps, k.setting)
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// add records one outage and, for the first sample of a case, its timeline.
func (r *report) add(k caseKey, d time.Duration, pr *lab.Prober, t0 time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.samples == nil {
		r.samples = map[caseKey][]time.Duration{}
		r.timelines = map[caseKey]timeline{}
	}
	r.samples[k] = append(r.samples[k], d)
	if _, ok := r.timelines[k]; ok {
		return
	}
	var tl timeline
	end := time.Now().Add(-50 * time.Millisecond) // later probes may still be in flight
	for _, x := range pr.Probes() {
		if x.Sent.Before(t0.Add(-time.Second)) || x.Sent.After(end) {
			continue
		}
		tl.points = append(tl.points, point{x.Sent.Sub(t0), x.Node + 1})
	}
	tl.takeover = takeoverOffset(pr.Probes(), t0)
	r.timelines[k] = tl
}

// takeoverOffset finds the first answer after t0 following a gap (the new
// owner), relative to t0.
func takeoverOffset(ps []lab.Probe, t0 time.Time) time.Duration {
	var a []lab.Probe
	for _, x := range ps {
		if x.Node >= 0 && x.Recv.After(t0) {
			a = append(a, x)
		}
	}
	sort.Slice(a, func(i, j int) bool { return a[i].Recv.Before(a[j].Recv) })
	prevNode := -1
	for _, x := range ps {
		if x.Node >= 0 && !x.Recv.After(t0) {
			prevNode = x.Node
		}
	}
	for _, x := range a {
		if x.Node != prevNode {
			return x.Recv.Sub(t0)
		}
	}
	return 0
}
