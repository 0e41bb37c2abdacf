// Package resources decides which node runs which haresources group, as
// heartbeat 3.0.6 does in R1 mode (spec 5.4-5.8): the legacy ip-request
// negotiation, the auto_failback on/off ("nice_failback") protocol with
// starting/resource/rsc_hold/isstable, takeover on death, graceful
// shutdown with shutdone, the standby/takeover protocol and healed
// partitions. Manager is a pure state machine driven by the event loop;
// Runner (runner.go) executes its jobs by running scripts.
//
// What 3.0.6 does with shell scripts (ResourceManager, req_resource,
// mach_down, rc.d/ip-request, rc.d/ip-request-resp, hb_standby) is done by
// Manager directly; the messages on the wire and the log texts are the same.
package resources

import (
	"habox/applets/internal/hblog"
	"strings"
	"time"
)

// Hold is a set of resource groups from one node's point of view: its own
// ("local") groups and the others' ("foreign"). 3.0.6's rsc_hold field.
type Hold uint8

// Hold values; All = Local|Foreign.
const (
	None    Hold = 0
	Local   Hold = 1
	Foreign Hold = 2
	All     Hold = 3
)

var holdNames = [4]string{"none", "local", "foreign", "all"}

// String returns the rsc_hold spelling.
func (h Hold) String() string { return holdNames[h&All] }

// ParseHold parses an rsc_hold value.
func ParseHold(s string) (Hold, bool) {
	for i, n := range holdNames {
		if n == s {
			return Hold(i), true
		}
	}
	return None, false
}

// Field is one string field of a cluster message.
type Field struct{ Name, Value string }

// Msg is a cluster message as the resource logic sees it: its own string
// fields in order (the daemon adds src, seq, ... when sending).
type Msg []Field

// NewMsg returns a message of type t with name/value pairs.
func NewMsg(t string, kv ...string) Msg {
	m := Msg{{"t", t}}
	for i := 0; i+1 < len(kv); i += 2 {
		m = append(m, Field{kv[i], kv[i+1]})
	}
	return m
}

// Get returns the first value of the field name, or "".
func (m Msg) Get(name string) string {
	for _, f := range m {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Has reports whether the message has the field.
func (m Msg) Has(name string) bool {
	for _, f := range m {
		if f.Name == name {
			return true
		}
	}
	return false
}

// String renders the message as name=value pairs (for tests and debug).
func (m Msg) String() string {
	var b strings.Builder
	for i, f := range m {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.Name + "=" + f.Value)
	}
	return b.String()
}

// Op is what a job step does to a group.
type Op int

// Job step operations: takegroup and givegroup of 3.0.6's ResourceManager,
// and Refresh: restart the group's IP address resources (IPaddr) so they
// announce themselves again with gratuitous ARP, other resources untouched
// (the keeper of a group after a healed partition, where both sides had
// announced the address), and Idle: give the group if any of its
// resources runs (after an unclean end of the process before us).
const (
	Take Op = iota
	Give
	Refresh
	Idle
)

// Step is one group operation of a job.
type Step struct {
	Op   Op
	Key  string // group key
	Note string // logged (info) before the step, e.g. "Taking over resource group K"
}

// Job is a batch of group operations run in order by the Runner; jobs run
// one at a time, never concurrently.
type Job struct {
	ID    int
	Name  string
	Steps []Step
}

// Result is the outcome of a job: the keys whose step failed.
type Result struct {
	ID     int
	Failed []string
}

// ActKind says what an Action asks the daemon to do.
type ActKind int

// Action kinds.
const (
	Send    ActKind = iota // send Msg to the cluster (and loop it back)
	Log                    // log Text at Level
	Run                    // run Job (at most one at a time)
	Exit                   // final shutdown phase: exit (Restart: re-exec after Delay)
	Restart                // healed partition with a 3.0.6 peer: give up all and restart
)

// Action is one effect requested by the Manager.
type Action struct {
	Kind    ActKind
	Msg     Msg
	Level   hblog.Priority
	Text    string
	Job     *Job
	Restart bool
	Delay   time.Duration
}

// View is what the Manager needs to know of membership;
// *membership.Membership implements it.
type View interface {
	NodeStatus(name string) string
	Heard(name string) bool
	CountActive() int
	IsCommUp() bool
}
