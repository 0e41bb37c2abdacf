package heartbeat

import "time"

// Clock is the daemon's time source. The event loop reads it once per
// turn (daemon.turn): every decision of that turn sees the same instant.
// Mono drives timers and liveness and never jumps; Wall is what goes on
// the wire (ts, time-based generations) and may be stepped. The simulator
// (sim_test.go) drives a virtual one.
type Clock interface {
	Mono() time.Duration
	Wall() time.Time
}

// realClock is the system clock: monotonic time since start, and the wall
// clock with the HABOX_CLOCK_OFFSET_FILE test offset.
type realClock struct {
	t0  time.Time
	off *clockOffset
}

func (c *realClock) Mono() time.Duration { return time.Since(c.t0) }
func (c *realClock) Wall() time.Time     { return c.off.wall() }
