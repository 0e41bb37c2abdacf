package media

import (
	"time"

	"habox/hw/udp"
)

// Options are the media's tunables, passed by value to OpenWith (no
// package globals: tests set their own and run in parallel). A zero field
// means the default in brackets.
type Options struct {
	// IfaceWait bounds how long a UDP medium waits at open for an
	// interface that does not exist yet (0: not at all; Open uses
	// DefaultIfaceWait).
	IfaceWait time.Duration
	// ReopenInterval bounds how often a medium whose interface vanished
	// tries to recreate its sockets [1 s].
	ReopenInterval time.Duration
	// ResolveInterval bounds how often a bcast medium re-reads its
	// interface's addresses (DHCP, a bring-up script may change them) [1 s].
	ResolveInterval time.Duration
	// HostsFile is where ucast peers given by name are looked up, never
	// DNS [udp.HostsFile].
	HostsFile string
	// SerialLockDir is where UUCP lock files go [hw/serial.LockDir]; it
	// is created (mode 1777, as distributions make it) when missing.
	SerialLockDir string
	// SerialLockFallback is used when SerialLockDir is missing and cannot
	// be created, e.g. a read-only /var [/run/lock].
	SerialLockFallback string
	// SerialNoRTSCTS turns hardware flow control off (3.0.6 has it on); a
	// three-wire null-modem cable needs it off.
	SerialNoRTSCTS bool
	// SerialBackoffMin and SerialBackoffMax bound the delay between
	// attempts to reopen a dead line, doubling in between [250 ms, 8 s].
	SerialBackoffMin, SerialBackoffMax time.Duration
	// SerialQueueMax bounds the messages waiting to be written; when the
	// line is stuck the oldest are dropped [32].
	SerialQueueMax int
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.ReopenInterval, time.Second)
	def(&o.ResolveInterval, time.Second)
	def(&o.SerialBackoffMin, 250*time.Millisecond)
	def(&o.SerialBackoffMax, 8*time.Second)
	if o.HostsFile == "" {
		o.HostsFile = udp.HostsFile
	}
	if o.SerialLockFallback == "" {
		o.SerialLockFallback = "/run/lock"
	}
	if o.SerialQueueMax <= 0 {
		o.SerialQueueMax = 32
	}
	return o
}
