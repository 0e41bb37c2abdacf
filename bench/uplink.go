package main

import (
	"time"

	"habox/lab"
)

// Uplink loss rows: the owner keeps running and its LAN and
// heartbeat links stay up, only its uplink dies; measured from the cut to
// the client's first answer from the other node, at keepalive 200 ms,
// deadping 1 s. The router namespace is the ping node.
const (
	uplinkSetting = "uplink 200ms/deadping 1s"
	pingCut       = runType("uplink cut (ping node, nft drop)")
	carrierCut    = runType("uplink carrier loss")
)

var uplinkTypes = []runType{pingCut, carrierCut}

// uplinkGoal is deadping + 2×keepalive + 50 ms.
const uplinkGoal = time.Second + 400*time.Millisecond + 50*time.Millisecond

// uplinks measures each peer's uplink failover: habox and 3.0.6 with a
// ping node and ipfail (built in on habox, the real ipfail on 3.0.6),
// habox with habox_track_carrier and keepalived with track_interface for
// carrier loss (keepalived has no ping nodes; its track_script would fork
// a ping per interval).
func (r *report) uplinks() {
	for _, p := range r.cfg.peers {
		for _, typ := range uplinkTypes {
			var extra, vrrp string
			switch {
			case typ == pingCut && p != lab.Keepalived:
				extra = "ping " + lab.RouterIP + "\ndeadping 1\nrespawn hacluster " + lab.IPFail + "\n"
			case typ == carrierCut && p == lab.Habox:
				extra = "habox_track_carrier eth0\n"
			case typ == carrierCut && p == lab.Keepalived:
				vrrp = "\ttrack_interface {\n\t\teth0\n\t}\n"
			default:
				continue
			}
			if r.cfg.smoke && p != r.cfg.peers[0] {
				continue
			}
			logf("uplink: %s, %s, n=%d", p, typ, r.cfg.n)
			err := try(string(p)+" "+string(typ), func(t *runT) { r.uplinkCycle(t, p, typ, extra, vrrp) })
			if err != nil {
				r.fail(err)
			}
		}
	}
}

func (r *report) uplinkCycle(t *runT, p lab.Kind, typ runType, extra, vrrp string) {
	l := lab.New(t, lab.Options{Kinds: [2]lab.Kind{p, p}, Keepalive: 200 * time.Millisecond, Deadtime: 3 * time.Second,
		Router: true, ExtraHaCf: extra, VRRPExtra: vrrp})
	l.Start()
	pr, err := lab.StartProber(l.Client, 10*time.Millisecond)
	if err != nil {
		t.Fatalf("prober: %v", err)
	}
	defer pr.Stop()
	owner := l.Nodes[0]
	cut := func(on bool) error {
		if typ == carrierCut {
			return owner.SetCarrier(!on)
		}
		return owner.CutUplink(on)
	}
	for i := 0; i < r.cfg.n; i++ {
		l.WaitOwner(0, 60*time.Second)
		// Steady: ipfail signed on, ping nodes seen, start-up dt boost over.
		time.Sleep(max(3*time.Second, time.Until(owner.StartedAt().Add(6*time.Second))))
		if _, ok := pr.WaitAnswer(0, time.Now(), 5*time.Second); !ok {
			t.Fatalf("client does not reach node1 before the cut\n%s", l.LogTails(25))
		}
		t0 := time.Now()
		if err := cut(true); err != nil {
			t.Fatalf("cut: %v", err)
		}
		at, ok := pr.WaitAnswer(1, t0, 20*time.Second)
		if !ok {
			t.Fatalf("%s: node2 never answered\n%s", typ, l.LogTails(40))
		}
		time.Sleep(300 * time.Millisecond)
		r.add(caseKey{uplinkSetting, p, typ}, at.Sub(t0), pr, t0)
		t.Logf("%s #%d: %v", typ, i+1, at.Sub(t0))
		if err := cut(false); err != nil {
			t.Fatalf("restore: %v", err)
		}
	}
	l.WaitOwner(0, 60*time.Second)
}
