package heartbeat

import (
	"os"
	"strconv"
	"strings"
	"time"

	"habox/applets/internal/wire"
	"habox/hw/fsinfo"
)

// Recovery of a node that lost hb_generation and whose clock is behind
// (README "Lost state, wrong clock"). The peer remembers a
// higher generation for us and drops everything we send as a replay:
//
//   - a habox peer says so in its statuses (wire.GenHint); we raise our
//     generation to the remembered one +1 at once (Verdict.RaiseGen);
//   - a 3.0.6 peer says nothing, but never answers our reqnodes: after
//     reqnodesGuess unanswered ones we raise our generation to the peer's
//     wall clock (its ts) +1, which is above any time-based generation we
//     had before, if its clock is right;
//   - after reqnodesCrit unanswered ones we log, once, what to do.
//
// The generation only ever goes up, and is persisted before it is sent.
const (
	reqnodesGuess = 3
	reqnodesCrit  = 10
)

// raiseGeneration persists gen and makes the engine use it, then sends a
// status at once (a peer only accepts a new generation from a status).
func (d *daemon) raiseGeneration(gen uint64, why string) {
	old := d.eng.Sender.Gen
	if gen <= old {
		return
	}
	if d.hc.HbGenMethod != "time" {
		if err := wire.SaveGeneration(d.o.varlib, gen); err != nil {
			d.log.Error("Cannot write generation file: " + err.Error() + " (raising the generation in memory only)")
		}
	}
	d.log.Warn("Raising heartbeat generation from " + u10(old) + " to " + u10(gen) + ": " + why)
	d.eng.SetGeneration(gen, d.timerNow())
	d.log.Info("Heartbeat generation: " + u10(gen))
	d.sendStatus()
	d.sendDue()
}

// checkReqNodes applies the 3.0.6 fallback while the reqnodes exchange
// runs unanswered.
func (d *daemon) checkReqNodes() {
	node, n, ts := d.eng.ReqNodesUnanswered()
	if node == "" {
		return
	}
	if n >= reqnodesGuess && !d.genGuessed {
		d.genGuessed = true
		gen := d.eng.Sender.Gen
		if ts+1 > gen {
			d.raiseGeneration(ts+1, "node "+node+" answered none of "+strconv.Itoa(n)+
				" node list requests; it probably drops our messages as replays (lost "+wire.GenerationFile+
				", clock behind): using its clock + 1")
		} else {
			d.log.Warn("Node " + node + " answered none of " + strconv.Itoa(n) + " node list requests, and its clock (" +
				u10(ts) + ") is not ahead of our generation " + u10(gen) + ": cannot guess a higher generation")
		}
	}
	if n >= reqnodesCrit && !d.genCritLogged {
		d.genCritLogged = true
		d.log.Crit("Node " + node + " has not answered " + strconv.Itoa(n) + " node list requests: it most likely drops every message of ours " +
			"as a replay (its log: \"attempted replay attack [" + d.self + "]\") because it remembers a higher generation than our " +
			u10(d.eng.Sender.Gen) + " (this node lost " + d.o.varlib + "/" + wire.GenerationFile + " and its clock is behind). " +
			"Fix: restart heartbeat on " + node + ", or set this node's clock and restart it; for good, keep " + d.o.varlib +
			" on persistent storage (not tmpfs), or start with -l DIR / HA_VARLIB=DIR on a persistent file system")
	}
}

// warnVolatileState warns when the state directory would not survive a
// reboot.
func (d *daemon) warnVolatileState() {
	if d.hc.HbGenMethod == "time" {
		return
	}
	dir := d.o.varlib
	if dir == "" {
		dir = wire.DefaultStateDir
	}
	if fs, err := fsinfo.Volatile(dir); err == nil && fs != "" {
		d.log.Warn("State directory " + dir + " is on " + fs + ": " + wire.GenerationFile + " is lost at every reboot. " +
			"A node whose clock is behind after a reboot (no RTC) then starts with a generation its peer rejects as a replay; " +
			"habox peers correct it within a few keepalives, a heartbeat 3.0.6 peer only if its own clock is right. " +
			"Keep the state on persistent storage: -l DIR or HA_VARLIB=DIR")
	}
}

// clockOffset is the test hook HABOX_CLOCK_OFFSET_FILE: a file holding a
// signed number of seconds added to the wall clock the protocol uses
// (generation from time, ts), re-read at most every 100 ms, so a test can
// step the clock of one daemon by hours. Timers use the monotonic clock and
// are never affected.
type clockOffset struct {
	path string
	next time.Time
	off  time.Duration
}

func (c *clockOffset) wall() time.Time {
	now := time.Now()
	if c == nil || c.path == "" {
		return now
	}
	if !now.Before(c.next) {
		c.next = now.Add(100 * time.Millisecond)
		if b, err := os.ReadFile(c.path); err == nil {
			if s, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
				c.off = time.Duration(s) * time.Second
			}
		}
	}
	return now.Round(0).Add(c.off)
}

func u10(v uint64) string { return strconv.FormatUint(v, 10) }
