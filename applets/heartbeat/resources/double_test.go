package resources

import (
	"habox/conf"
	"strings"
	"testing"
	"time"
)

// TestStaleShutdoneDoubleOwner: a shutdone left in a serial line's buffer
// from alice's previous run reaches bob while alice runs again and holds
// her group: bob takes it over, so both hold it. With habox
// on both sides the double ownership is seen in the statuses' habox field
// and resolved within the grace period: the node named in haresources
// keeps the group, the other one releases it.
func TestStaleShutdoneDoubleOwner(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			s := newSim(t, mode)
			s.commUp("alice", "bob")
			s.advance(2 * time.Second)
			s.heartbeats(200 * time.Millisecond)
			s.want(both)
			s.deliver("bob", "alice", NewMsg("shutdone"))
			s.drain()
			s.want("10.0.0.5=alice+bob svcb=bob")
			// Bounded: the grace (deadtime, 1 s here) plus the release.
			s.heartbeats(s.nodes["bob"].m.cfg.Deadtime + 500*time.Millisecond)
			s.want(both)
			if !s.logged("bob", "releasing resource group 10.0.0.5") {
				t.Errorf("bob did not log the release:\n%v", s.logs["bob"])
			}
			from := map[string]int{}
			for _, n := range s.names {
				from[n] = len(s.logs[n])
			}
			s.heartbeats(3 * time.Second)
			s.want(both)
			s.noDoubleOwner(t, from)
		})
	}
}

// TestDoubleOwner306Peer: the peer is heartbeat 3.0.6 (no habox field;
// its messages are injected here), whose stale shutdone made bob take
// alice's group while alice, restarted, claims it again in its rsc_hold.
// 3.0.6 never gives a group up on its own, so habox releases it after the
// grace period; nothing happens in legacy mode, where 3.0.6 announces no
// holdings.
func TestDoubleOwner306Peer(t *testing.T) {
	for _, mode := range modes[1:] {
		t.Run(mode.String(), func(t *testing.T) {
			s := newSim(t, mode)
			s.up["alice"] = false // messages from alice are injected, none reach it
			bob := s.nodes["bob"]
			bob.view.status["alice"] = "active"
			bob.view.heard["alice"] = true
			bob.view.commUp = true
			s.apply("bob", bob.m.CommUp(s.now))
			s.drain()
			resource := func(hold string) {
				s.apply("bob", bob.m.Message("alice", NewMsg("resource", "rsc_hold", hold, "rtype", "full", "isstable", "1"), s.now))
				s.drain()
			}
			resource("local")
			s.advance(2 * time.Second)
			s.want("10.0.0.5= svcb=bob")
			s.deliver("bob", "alice", NewMsg("shutdone")) // stale, from alice's previous run
			s.drain()
			s.want("10.0.0.5=bob svcb=bob")
			resource("local") // alice, running again, holds its group too
			s.advance(bob.m.cfg.Deadtime / 2)
			s.want("10.0.0.5=bob svcb=bob") // not before the grace period
			s.advance(bob.m.cfg.Deadtime)
			s.want("10.0.0.5= svcb=bob")
			if !s.logged("bob", "alice keeps it (alice is heartbeat 3.0.6") {
				t.Errorf("no resolution line:\n%v", s.logs["bob"])
			}
			if st := bob.m.RscStatus(); st != "local" {
				t.Errorf("bob rscstatus %s, want local", st)
			}
		})
	}
}

// TestOneNode: an ha.cf that names only this node (the peer is not
// installed yet) acquires the node's groups at comm-up in every mode, is
// stable (rscstatus not "transition") and shuts down at once.
func TestOneNode(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			v := &fakeView{status: map[string]string{"alice": "active"}, heard: map[string]bool{}, commUp: true}
			cfg := Config{Self: "alice", Nodes: []string{"alice"}, Groups: groups[:1], Mode: mode, Deadtime: time.Second, Pid: 42}
			m := New(cfg, v)
			var run []string
			var exited bool
			var apply func(acts []Action)
			apply = func(acts []Action) {
				for _, a := range acts {
					switch a.Kind {
					case Send:
						apply(m.Message("alice", a.Msg, 0))
					case Run:
						for _, s := range a.Job.Steps {
							run = append(run, [...]string{"take", "give", "refresh"}[s.Op]+" "+s.Key)
						}
						apply(m.JobDone(Result{ID: a.Job.ID}, 0))
					case Exit:
						exited = true
					}
				}
			}
			apply(m.CommUp(0))
			if got := strings.Join(run, ","); got != "take 10.0.0.5" {
				t.Fatalf("jobs at comm-up: %q", got)
			}
			if st := m.RscStatus(); st == "transition" {
				t.Errorf("rscstatus %s", st)
			}
			apply(m.Shutdown(time.Second))
			if !exited {
				t.Errorf("no exit after shutdown; rscstatus %s", m.RscStatus())
			}
			if got := strings.Join(run, ","); got != "take 10.0.0.5,give 10.0.0.5" {
				t.Errorf("jobs: %q", got)
			}
		})
	}
}

// TestLegacyPeerDetected: in auto_failback on/off, a 3.0.6
// peer that is active but never answers "starting" runs legacy (its ha.cf
// says nice_failback on): after the breaker's delay bob asks it for its
// group with ip-request, as legacy mode does, and takes it on the answer.
// A nice peer whose "starting" comes right after it turned active (it
// came up long after bob) is not mistaken for a legacy one.
func TestLegacyPeerDetected(t *testing.T) {
	for _, mode := range modes[1:] {
		t.Run(mode.String(), func(t *testing.T) {
			s := newSim(t, mode)
			s.up["alice"] = false // a 3.0.6 peer: its messages are injected
			bob := s.nodes["bob"]
			bob.view.status["alice"] = "active"
			bob.view.commUp = true
			s.apply("bob", bob.m.CommUp(s.now))
			s.drain()
			asked := func() bool {
				for _, m := range s.sent["bob"] {
					if m.Get("t") == "ip-request" && m.Get("ipaddr") == "svcb" {
						return true
					}
				}
				return false
			}
			s.advance(bob.m.cfg.RscrcvdDelay / 2)
			if asked() || bob.m.RscStatus() != "transition" {
				t.Fatalf("legacy peer assumed before the delay")
			}
			s.advance(bob.m.cfg.RscrcvdDelay)
			if !asked() || !s.logged("bob", "Node alice does not answer the nice_failback protocol") {
				t.Fatalf("no ip-request after the delay:\n%v", s.logs["bob"])
			}
			s.apply("bob", bob.m.Message("alice", NewMsg("ip-request-resp", "dest", "bob", "ipaddr", "svcb", "weown", "no", "ok", "OK"), s.now))
			s.drain()
			s.want("10.0.0.5= svcb=bob")
			if st := bob.m.RscStatus(); st == "transition" {
				t.Errorf("rscstatus %s", st)
			}
		})
		t.Run(mode.String()+"/late nice peer", func(t *testing.T) {
			s := newSim(t, mode)
			s.up["alice"] = false
			bob := s.nodes["bob"]
			bob.view.status["alice"] = "up" // in its initdead
			bob.view.commUp = true
			s.apply("bob", bob.m.CommUp(s.now))
			s.drain()
			s.advance(3 * bob.m.cfg.RscrcvdDelay)
			bob.view.status["alice"] = "active"
			s.advance(100 * time.Millisecond)
			s.apply("bob", bob.m.Message("alice", NewMsg("starting"), s.now))
			s.drain()
			s.advance(3 * bob.m.cfg.RscrcvdDelay)
			if s.logged("bob", "does not answer the nice_failback protocol") {
				t.Errorf("a nice peer taken for a legacy one:\n%v", s.logs["bob"])
			}
		})
	}
}

// TestLateSelfRequestClaimed: alice's own self-addressed ip-request-resp
// (sent by req_our_resources when it declared bob dead) arrives after a
// healed partition reset her nice_failback holding, and takes her group
// while bob still holds it (simulator seed 6892). Her statuses must claim
// it (Claim, the habox field, counts the groups held, not the holding),
// so that bob sees the double ownership and releases the group.
func TestLateSelfRequestClaimed(t *testing.T) {
	s := newSim(t, conf.FailbackOff)
	s.commUp("alice", "bob")
	s.advance(2 * time.Second)
	s.standby("alice", "local")
	s.heartbeats(time.Second)
	s.want("10.0.0.5=bob svcb=bob")
	// The late request: alice takes her group, her holding stays none.
	s.deliver("alice", "alice", NewMsg("ip-request-resp", "dest", "alice", "ipaddr", "10.0.0.5", "weown", "yes", "ok", "OK"))
	s.drain()
	s.want("10.0.0.5=alice+bob svcb=bob")
	if c := s.nodes["alice"].m.Claim(); c != Local {
		t.Fatalf("alice claims %s while holding 10.0.0.5, want local", c)
	}
	s.heartbeats(s.nodes["bob"].m.cfg.Deadtime + 500*time.Millisecond)
	s.want(both)
	if !s.logged("bob", "releasing it, alice keeps it") {
		t.Errorf("bob did not resolve the double ownership:\n  %s", strings.Join(s.logs["bob"], "\n  "))
	}
}

// TestCancelledStandbyJobSendsNoDone: alice's hb_standby release is slow;
// bob dies meanwhile (the standby is cancelled) and alice asks for standby
// again. The first release then completes: its "done" must not complete
// the new request, which left alice waiting for bob's "done" for an hour,
// unstable, so that the double ownership with the restarted bob was never
// resolved (simulator seed 229). The new request times out instead.
func TestCancelledStandbyJobSendsNoDone(t *testing.T) {
	s := newSim(t, conf.FailbackOff)
	s.commUp("alice", "bob")
	s.advance(2 * time.Second)
	alice := s.nodes["alice"]
	alice.hold = true
	s.standby("alice", "all")
	if len(alice.jobs) != 1 {
		t.Fatalf("want the go_standby job held, got %d jobs:\n  %s", len(alice.jobs), strings.Join(s.logs["alice"], "\n  "))
	}
	s.kill("bob")
	if !s.logged("alice", "Cancelling pending standby operation") {
		t.Fatalf("standby not cancelled:\n  %s", strings.Join(s.logs["alice"], "\n  "))
	}
	s.standby("alice", "all")
	alice.hold = false
	s.runHeld(alice)
	if s.logged("alice", "Local standby process completed") {
		t.Errorf("the cancelled release completed the new standby request:\n  %s", strings.Join(s.logs["alice"], "\n  "))
	}
	s.advance(standbyInitTO + time.Second)
	if st := alice.m.RscStatus(); st == "transition" {
		t.Errorf("alice still in transition %v after the request timed out:\n  %s", standbyInitTO+time.Second, strings.Join(s.logs["alice"], "\n  "))
	}
}

// TestBrokenStandbyDoubleOwner: bob answers alice's hb_standby with
// "other", which is lost (a one-way partition), so alice's request times
// out while bob waits for her "done" under a one-hour guard. A double
// ownership arising meanwhile must still be resolved: after the grace
// period bob cancels the broken standby and releases alice's group
// (simulator seeds 1440, 5421, 7023, 7156).
func TestBrokenStandbyDoubleOwner(t *testing.T) {
	s := stableOff(t)
	s.cut = true // bob's "other" does not reach alice
	s.deliver("bob", "alice", NewMsg("ask_resources", "rsc_hold", "all", "info", "me"))
	s.drain()
	s.cut = false
	if !s.logged("bob", "alice wants to go standby [all]") {
		t.Fatalf("bob did not accept the standby request:\n  %s", strings.Join(s.logs["bob"], "\n  "))
	}
	// bob takes alice's group (a late self-addressed ip-request-resp).
	s.deliver("bob", "bob", NewMsg("ip-request-resp", "dest", "bob", "ipaddr", "10.0.0.5", "weown", "yes", "ok", "OK"))
	s.drain()
	s.want("10.0.0.5=alice+bob svcb=bob")
	s.heartbeats(s.nodes["bob"].m.cfg.Deadtime + time.Second)
	s.want(both)
	if !s.logged("bob", "Cancelling pending standby operation: both nodes hold resource group 10.0.0.5.") {
		t.Errorf("bob did not cancel the broken standby:\n  %s", strings.Join(s.logs["bob"], "\n  "))
	}
	if st := s.nodes["bob"].m.RscStatus(); st != "local" {
		t.Errorf("bob rscstatus %s, want local", st)
	}
}

// TestHealDuringPeerStandby: alice answered bob's hb_standby and waits
// for his "done" when she sees the healed partition (bob's status
// arrived after his request). The heal must not cancel the standby: bob
// releases his groups and sends "done", which alice would then ignore,
// leaving his group running nowhere (simulator seeds 859, 8599).
func TestHealDuringPeerStandby(t *testing.T) {
	s := stableOff(t)
	bob := s.nodes["bob"]
	bob.hold = true
	s.standby("bob", "all")
	if len(bob.jobs) != 1 {
		t.Fatalf("want bob's go_standby job held, got %d:\n  %s", len(bob.jobs), strings.Join(s.logs["bob"], "\n  "))
	}
	s.apply("alice", s.nodes["alice"].m.PartitionHealed("bob", s.now))
	s.drain()
	bob.hold = false
	s.runHeld(bob)
	s.heartbeats(2 * time.Second)
	s.want("10.0.0.5=alice svcb=alice")
}

// TestStandbyDuringDoubleOwner: alice and bob both hold bob's group (a
// late self-addressed ip-request-resp) when bob asks alice to take his
// groups (hb_standby all); the double ownership has nearly outlasted the
// grace. Alice answers, bob releases everything (slowly), and alice's
// next tick comes before bob's next status. The double ownership predates
// the standby, so it is no sign that the standby broke: alice must not
// cancel it (she released bob's group and ignored his "done", so it ran
// nowhere: simulator seed 8182) but wait for his "done" and take both,
// and keep both though bob's last status still claimed his group.
func TestStandbyDuringDoubleOwner(t *testing.T) {
	s := stableOff(t)
	s.deliver("alice", "alice", NewMsg("ip-request-resp", "dest", "alice", "ipaddr", "svcb", "weown", "yes", "ok", "OK"))
	s.drain()
	s.want("10.0.0.5=alice svcb=alice+bob")
	grace := s.nodes["alice"].m.cfg.Deadtime
	s.heartbeats(grace - 200*time.Millisecond)
	s.want("10.0.0.5=alice svcb=alice+bob")
	bob := s.nodes["bob"]
	bob.hold = true
	s.standby("bob", "all")
	if len(bob.jobs) != 1 {
		t.Fatalf("want bob's go_standby job held, got %d:\n  %s", len(bob.jobs), strings.Join(s.logs["bob"], "\n  "))
	}
	s.advance(grace / 2) // alice's ticks, no status of bob's yet
	if s.logged("alice", "Cancelling pending standby operation") {
		t.Errorf("alice cancelled the standby bob runs:\n  %s", strings.Join(s.logs["alice"], "\n  "))
	}
	bob.hold = false
	s.runHeld(bob)
	// bob's "done" voids the claim of his last status: alice, holding
	// both now, must not release his group before his next status.
	s.advance(grace)
	s.want("10.0.0.5=alice svcb=alice")
	s.heartbeats(2 * grace)
	s.want("10.0.0.5=alice svcb=alice")
}

// TestStaleStandbyRequestCancelled: alice's hb_standby request, sent
// during a partition, reaches bob only when the healed link retransmits
// it; bob answers "other", which alice, no longer going standby, ignores.
// bob then waited an hour for her "done", refusing every standby request
// meanwhile (ipfail's give-up included: simulator ping node seed 237).
// alice (a habox node) tells him she is not going standby; he cancels.
func TestStaleStandbyRequestCancelled(t *testing.T) {
	s := stableOff(t)
	s.deliver("bob", "alice", NewMsg("ask_resources", "rsc_hold", "all", "info", "me"))
	s.drain()
	if !s.logged("bob", "alice wants to go standby [all]") {
		t.Fatalf("bob did not accept the standby request:\n  %s", strings.Join(s.logs["bob"], "\n  "))
	}
	s.heartbeats(time.Second)
	s.want(both)
	if st := s.nodes["bob"].m.RscStatus(); st == "transition" {
		t.Fatalf("bob still waits for alice's standby:\n  %s", strings.Join(s.logs["bob"], "\n  "))
	}
	s.standby("alice", "all")
	s.heartbeats(2 * time.Second)
	s.want("10.0.0.5=bob svcb=bob")
	for _, n := range []string{"alice", "bob"} {
		for _, l := range s.logs[n] {
			if strings.Contains(l, "Ignored standby message 'cancel'") {
				t.Errorf("%s: %s", n, l)
			}
		}
	}
}

// TestStaleResourceMessageIgnored: messages arrive out of order (3.0.6
// delivers at once and requests the gap again), so bob's "resource"
// isstable=0 can come after his later isstable=1. Applied, it left alice
// believing bob in transition for good: rscstatus "transition", every
// standby refused, ipfail's give-up never due (simulator ping node seed
// 1059). An older message of the same generation is ignored.
func TestStaleResourceMessageIgnored(t *testing.T) {
	s := stableOff(t)
	newer := NewMsg("resource", "rsc_hold", "local", "rtype", "full", "isstable", "1", "seq", "b", "hg", "6b154e5f")
	older := NewMsg("resource", "rsc_hold", "none", "rtype", "full", "isstable", "0", "seq", "a", "hg", "6b154e5f")
	s.deliver("alice", "bob", newer)
	s.deliver("alice", "bob", older)
	s.drain()
	if st := s.nodes["alice"].m.RscStatus(); st == "transition" {
		t.Errorf("alice in transition after bob's stale resource message:\n  %s", strings.Join(s.logs["alice"], "\n  "))
	}
	// A new generation (bob restarted) starts afresh.
	restarted := NewMsg("resource", "rsc_hold", "none", "rtype", "full", "isstable", "0", "seq", "3", "hg", "6b154e60")
	s.deliver("alice", "bob", restarted)
	s.drain()
	if st := s.nodes["alice"].m.RscStatus(); st != "transition" {
		t.Errorf("alice ignored bob's first resource message after his restart: rscstatus %s", st)
	}
}

// TestHealCancelsOwnStandbyTellsPeer: bob's hb_standby, answered by
// alice, is cancelled on bob's side by a healed partition: his release
// then sends no "done", and alice waited for it for an hour, unstable,
// refusing every standby (ipfail's give-up included: simulator ping node
// seed 1119). bob tells her the standby is off.
func TestHealCancelsOwnStandbyTellsPeer(t *testing.T) {
	s := stableOff(t)
	bob := s.nodes["bob"]
	bob.hold = true
	s.standby("bob", "all")
	if !s.logged("bob", "standby: alice can take our all resources") {
		t.Fatalf("alice did not answer:\n  %s", strings.Join(s.logs["bob"], "\n  "))
	}
	s.apply("bob", bob.m.PartitionHealed("alice", s.now))
	s.drain()
	bob.hold = false
	s.runHeld(bob)
	s.heartbeats(2 * time.Second)
	if st := s.nodes["alice"].m.RscStatus(); st == "transition" {
		t.Errorf("alice still waits for bob's standby \"done\":\n  %s", strings.Join(s.logs["alice"], "\n  "))
	}
}

// TestHealDuringOwnAcquisition: bob takes alice's groups at her
// hb_standby (her "done" came) when he sees the healed partition. The
// heal must not cancel the standby: his acquisition's "done" is what
// alice waits for; without it she stayed in transition for the hour of
// the guard (simulator seed 859, once the precise dead timer ran).
func TestHealDuringOwnAcquisition(t *testing.T) {
	s := stableOff(t)
	bob := s.nodes["bob"]
	bob.hold = true
	s.standby("alice", "all")
	if len(bob.jobs) != 1 || !s.logged("bob", "standby: acquire [all] resources from alice") {
		t.Fatalf("want bob's acquisition held, got %d jobs:\n  %s", len(bob.jobs), strings.Join(s.logs["bob"], "\n  "))
	}
	// The status that shows the heal carries alice's claim: nothing.
	s.apply("bob", bob.m.SetHabox("alice", s.nodes["alice"].m.Claim().String(), s.now))
	s.apply("bob", bob.m.PartitionHealed("alice", s.now))
	s.drain()
	bob.hold = false
	s.runHeld(bob)
	s.heartbeats(2 * time.Second)
	if st := s.nodes["alice"].m.RscStatus(); st == "transition" {
		t.Errorf("alice still waits for bob's \"done\":\n  %s", strings.Join(s.logs["alice"], "\n  "))
	}
	s.want("10.0.0.5=bob svcb=bob")
}

// TestOlderStableAfterAdditiveResource: alice, taking over bob's group,
// answers his "starting" with her full holding and isstable=1, then her
// takeover's additive "resource rsc_hold=foreign info=mach_down"; bob
// receives them in the other order. The additive message says nothing of
// her stability: the older full message must still apply (it was dropped
// as older, and bob waited for a stable peer for good, rscstatus
// "transition": simulator seed 29353).
func TestOlderStableAfterAdditiveResource(t *testing.T) {
	s := newSim(t, conf.FailbackOff)
	s.commUp("alice", "bob")
	s.advance(2 * time.Second)
	s.heartbeats(time.Second)
	bob := s.nodes["bob"]
	s.apply("bob", bob.m.Message("alice", NewMsg("resource", "rsc_hold", "all", "rtype", "full", "isstable", "0", "seq", "30", "hg", "6b154e41"), s.now))
	s.drain()
	if st := bob.m.RscStatus(); st != "transition" {
		t.Fatalf("bob rscstatus %s with alice in transition", st)
	}
	additive := NewMsg("resource", "rsc_hold", "foreign", "info", "mach_down", "seq", "33", "hg", "6b154e41")
	full := NewMsg("resource", "rsc_hold", "all", "rtype", "full", "isstable", "1", "seq", "32", "hg", "6b154e41")
	s.apply("bob", bob.m.Message("alice", additive, s.now))
	s.apply("bob", bob.m.Message("alice", full, s.now))
	s.drain()
	if st := bob.m.RscStatus(); st == "transition" {
		t.Errorf("bob in transition after alice's isstable=1 arrived behind her mach_down:\n  %s", strings.Join(s.logs["bob"], "\n  "))
	}
	// Older than a full message, the additive one is stale.
	s.apply("bob", bob.m.Message("alice", NewMsg("resource", "rsc_hold", "none", "rtype", "full", "isstable", "1", "seq", "40", "hg", "6b154e41"), s.now))
	s.apply("bob", bob.m.Message("alice", NewMsg("resource", "rsc_hold", "foreign", "info", "mach_down", "seq", "3f", "hg", "6b154e41"), s.now))
	s.drain()
	if bob.m.theirs != None {
		t.Errorf("bob has alice holding %s after her newer full 'none'", bob.m.theirs)
	}
}

// TestAloneAnswersPeerWithoutItsResource: alice came up alone (bob dead)
// and was stable at once; bob, running, got her "starting" but his answer
// never reached her (a one-way cut), so he waits for her "resource
// isstable=1" (simulator seed 11730). Once bob has been active for the
// deadlock breaker's delay, she sends it unasked.
func TestAloneAnswersPeerWithoutItsResource(t *testing.T) {
	s := newSim(t, conf.FailbackOff)
	alice := s.nodes["alice"]
	s.up["bob"] = false
	s.seesDead("alice", "bob", false) // initdead ran out
	s.commUp("alice")
	s.advance(time.Second)
	if st := alice.m.RscStatus(); st == "transition" {
		t.Fatalf("alone: rscstatus %s:\n  %s", st, strings.Join(s.logs["alice"], "\n  "))
	}
	answers := func() int {
		n := 0
		for _, m := range s.sent["alice"] {
			if m.Get("t") == "resource" && m.Get("isstable") == "1" {
				n++
			}
		}
		return n
	}
	before := answers()
	alice.view.status["bob"] = "active" // bob's answer to her "starting" is lost
	s.advance(alice.m.cfg.RscrcvdDelay / 2)
	if answers() != before {
		t.Fatal("answered at once: bob's own answer may still come")
	}
	s.advance(alice.m.cfg.RscrcvdDelay)
	if answers() != before+1 {
		t.Errorf("%d resource isstable=1 sent to bob after %v, want 1", answers()-before, alice.m.cfg.RscrcvdDelay*3/2)
	}
}

// TestGiverDeclaresTakerDeadMidStandby: bob answered alice's hb_standby
// and waits for her "done"; alice, releasing, declares bob dead (he was
// paused) and cancels her standby silently, as to a dead peer. Bob never
// saw a partition, so he waited for the "done" for 3.0.6's hour,
// "transition" (simulator seed 28753). When the partition heals alice
// tells him the standby is off.
func TestGiverDeclaresTakerDeadMidStandby(t *testing.T) {
	s := stableOff(t)
	alice, bob := s.nodes["alice"], s.nodes["bob"]
	alice.hold = true
	s.standby("alice", "all")
	if !s.logged("alice", "standby: bob can take our all resources") || len(alice.jobs) != 1 {
		t.Fatalf("standby not under way:\n  %s", strings.Join(s.logs["alice"], "\n  "))
	}
	s.cut = true // bob paused: alice declares him dead
	s.seesDead("alice", "bob", true)
	alice.hold = false
	s.runHeld(alice)
	s.cut = false // bob resumes; alice sees the partition healed
	alice.view.status["bob"] = "active"
	s.apply("alice", alice.m.PartitionHealed("bob", s.now))
	s.drain()
	s.heartbeats(3 * time.Second)
	if st := bob.m.RscStatus(); st == "transition" {
		t.Errorf("bob still waits for alice's standby:\n  %s", strings.Join(s.logs["bob"], "\n  "))
	}
}

// TestTakerDeclaresGiverDeadMidStandby: alice went standby, released her
// groups and sent "done"; bob, acquiring them slowly, declares her dead
// (a one-way cut) and cancels, so his acquisition sends no "done". Alice
// never saw a partition and waited for that "done" for 3.0.6's hour,
// "transition" (simulator seed 23964). When the partition heals bob
// tells her the standby is off.
func TestTakerDeclaresGiverDeadMidStandby(t *testing.T) {
	s := stableOff(t)
	bob := s.nodes["bob"]
	bob.hold = true
	s.standby("alice", "all")
	if !s.logged("bob", "standby: acquire [all] resources from alice") || len(bob.jobs) != 1 {
		t.Fatalf("bob not acquiring:\n  %s", strings.Join(s.logs["bob"], "\n  "))
	}
	s.cut = true
	s.seesDead("bob", "alice", true)
	bob.hold = false
	s.runHeld(bob)
	s.healedTaker(t)
}

// healedTaker ends a cut after bob, the taker of alice's standby,
// declared her dead and took her groups: once he sees her again she no
// longer waits for his standby "done", and he keeps both groups.
func (s *sim) healedTaker(t *testing.T) {
	t.Helper()
	s.cut = false
	s.healSeen("bob", "alice")
	s.heartbeats(3 * time.Second)
	if st := s.nodes["alice"].m.RscStatus(); st == "transition" {
		t.Errorf("alice still waits for bob's standby 'done':\n  %s", strings.Join(s.logs["alice"], "\n  "))
	}
	s.want("10.0.0.5=bob svcb=bob")
}

// TestTakerWaitingDeclaresGiverDead: bob answered alice's hb_standby and
// waits for her "done", which a one-way cut loses; he declares her dead
// and takes her groups. At the heal alice still waited for his "done":
// he owes her a "cancel" from that state too (simulator ping node seed
// 14559).
func TestTakerWaitingDeclaresGiverDead(t *testing.T) {
	s := stableOff(t)
	alice, bob := s.nodes["alice"], s.nodes["bob"]
	alice.hold = true
	s.standby("alice", "all")
	if !s.logged("alice", "standby: bob can take our all resources") || len(alice.jobs) != 1 {
		t.Fatalf("alice not releasing:\n  %s", strings.Join(s.logs["alice"], "\n  "))
	}
	s.cut = true // her "done" is lost
	alice.hold = false
	s.runHeld(alice)
	s.seesDead("bob", "alice", true)
	s.runHeld(bob)
	s.healedTaker(t)
}

// TestReorderedCancelKeepsNewStandby: bob's "cancel" of a standby alice
// never saw, then his new hb_standby request; delivered out of order
// (the request first), the cancel must not cancel the standby the
// request began: bob released his group and alice, no longer in the
// standby, ignored his "done", so it ran nowhere (simulator seed 6672).
func TestReorderedCancelKeepsNewStandby(t *testing.T) {
	s := stableOff(t)
	s.cut = true // only what is delivered below passes
	s.deliver("alice", "bob", NewMsg("ask_resources", "rsc_hold", "all", "info", "me", "seq", "34", "hg", "6b154e41"))
	s.deliver("alice", "bob", NewMsg("ask_resources", "rsc_hold", "all", "info", "cancel", "seq", "33", "hg", "6b154e41"))
	s.drain()
	s.cut = false
	if s.logged("alice", "bob is not going standby") {
		t.Errorf("the older cancel cancelled the new standby:\n  %s", strings.Join(s.logs["alice"], "\n  "))
	}
	if st := s.nodes["alice"].m.RscStatus(); st != "transition" {
		t.Errorf("alice rscstatus %s, want transition (bob's standby under way)", st)
	}
}

// TestStartingRepeatedToHaboxPeer: bob restarts while alice runs; his
// "starting" is lost (and his restart reset the tracking that would have
// had it sent again), so alice never answers and bob stays STARTING,
// rscstatus "transition" (simulator seed 85396). Once alice, a habox
// peer, has been active for the deadlock breaker's delay without
// answering, bob says "starting" again.
func TestStartingRepeatedToHaboxPeer(t *testing.T) {
	s := stableOff(t)
	s.boot("bob", conf.FailbackOff) // bob's process restarts
	bob := s.nodes["bob"]
	bob.view.status["alice"] = "active"
	bob.view.commUp = true
	s.apply("bob", bob.m.SetHabox("alice", s.nodes["alice"].m.Claim().String(), s.now))
	s.cut = true // his "starting" is lost
	s.apply("bob", bob.m.CommUp(s.now))
	s.drain()
	s.cut = false
	s.advance(bob.m.cfg.RscrcvdDelay / 2)
	if st := bob.m.RscStatus(); st != "transition" {
		t.Fatalf("bob rscstatus %s before any answer", st)
	}
	s.advance(bob.m.cfg.RscrcvdDelay + 200*time.Millisecond)
	s.heartbeats(time.Second)
	if st := bob.m.RscStatus(); st == "transition" {
		t.Errorf("bob still STARTING after alice stayed silent:\n  %s", strings.Join(s.logs["bob"], "\n  "))
	}
}

// TestStaleStandbyAnswer: alice asks to go standby [all] and her request
// is lost; bob's answer to an older request of hers, for [foreign],
// arrives (retransmitted after a heal). Taking it, she released the wrong
// set and waited an hour for bob, who had cancelled that standby
// (simulator ping node seed 39772). She ignores it and cancels it on
// bob's side; her own request, when it arrives, completes.
func TestStaleStandbyAnswer(t *testing.T) {
	s := stableOff(t)
	s.cut = true
	s.standby("alice", "all")
	s.deliver("alice", "bob", NewMsg("ask_resources", "rsc_hold", "foreign", "info", "other"))
	s.drain()
	s.cut = false
	if s.logged("alice", "standby: bob can take our foreign resources") {
		t.Fatalf("alice took the stale answer:\n  %s", strings.Join(s.logs["alice"], "\n  "))
	}
	cancelled := false
	for _, m := range s.sent["alice"] {
		cancelled = cancelled || m.Get("info") == "cancel" && m.Get("rsc_hold") == "foreign"
	}
	if !cancelled {
		t.Errorf("alice did not cancel the stale standby on bob's side: sent %v", s.sent["alice"])
	}
	s.deliver("bob", "alice", NewMsg("ask_resources", "rsc_hold", "all", "info", "me"))
	s.drain()
	s.heartbeats(time.Second)
	s.want("10.0.0.5=bob svcb=bob")
	if st := s.nodes["alice"].m.RscStatus(); st != "none" {
		t.Errorf("alice rscstatus %s, want none\n  %s", st, strings.Join(s.logs["alice"], "\n  "))
	}
}

// TestCancelOfOtherSet: bob answered alice's request to go standby [all]
// when her "cancel" of an older [foreign] standby arrives (the one
// TestStaleStandbyAnswer sends): it must not cancel the standby under
// way, or bob ignores her "done" and her group runs nowhere (simulator
// ping node seed 39772).
func TestCancelOfOtherSet(t *testing.T) {
	s := stableOff(t)
	alice := s.nodes["alice"]
	alice.hold = true
	s.standby("alice", "all")
	s.deliver("bob", "alice", NewMsg("ask_resources", "rsc_hold", "foreign", "info", "cancel"))
	s.drain()
	if s.logged("bob", "standby cancelled") {
		t.Fatalf("bob cancelled the [all] standby:\n  %s", strings.Join(s.logs["bob"], "\n  "))
	}
	alice.hold = false
	s.runHeld(alice)
	s.heartbeats(time.Second)
	s.want("10.0.0.5=bob svcb=bob")
}
