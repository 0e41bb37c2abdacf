// Package respawn runs heartbeat's respawn clients with 3.0.6's rules
// (doc/spec/ipfail-respawn-ping.md §3): each program is started as its user
// once communications are up and restarted when it exits, unless
// heartbeat is shutting down or the program exited with code 100; a
// client that dies within 30 s of its start is a short run, and after
// more than 10 short runs in a row it is "respawning too fast" and not
// restarted; at shutdown the clients get SIGTERM in reverse order of
// their lines, each waited for before the next.
//
// The Supervisor is pure bookkeeping driven by the daemon's event loop;
// starting and signalling processes goes through the Starter it is given.
package respawn

import (
	"strconv"
	"strings"
	"time"

	"habox/applets/internal/hblog"
	"habox/conf"
)

// 3.0.6's limits (heartbeat.c).
const (
	ShortRun     = 30 * time.Second // a run shorter than this is short
	MaxShortRuns = 10               // more short runs in a row: too fast
	NoRespawn    = 100              // exit code that means "do not restart"
)

// Process is a started client.
type Process interface {
	Pid() int
	Signal(sig int) error
}

// Starter starts a respawn line's program as its user.
type Starter func(r conf.Respawn) (Process, error)

// Log is a line for the daemon's log.
type Log struct {
	Level hblog.Priority
	Text  string
}

type client struct {
	cfg     conf.Respawn
	proc    Process
	started time.Duration
	short   int
}

// Supervisor keeps the respawn clients running. Not safe for concurrent
// use.
type Supervisor struct {
	start    Starter
	clients  []*client
	stopping bool
}

// New returns a supervisor for the respawn lines (ha.cf order).
func New(lines []conf.Respawn, start Starter) *Supervisor {
	s := &Supervisor{start: start}
	for _, r := range lines {
		s.clients = append(s.clients, &client{cfg: r})
	}
	return s
}

func cmdline(r conf.Respawn) string { return strings.Join(append([]string{r.Path}, r.Args...), " ") }

func (s *Supervisor) run(c *client, now time.Duration) []Log {
	p, err := s.start(c.cfg)
	if err != nil {
		return []Log{{hblog.Err, "Cannot start respawn client \"" + cmdline(c.cfg) + "\" as " + c.cfg.User + ": " + err.Error()}}
	}
	c.proc, c.started = p, now
	return []Log{{hblog.InfoPri, "Starting \"" + cmdline(c.cfg) + "\" as user " + c.cfg.User + " (pid " + strconv.Itoa(p.Pid()) + ")"}}
}

// Start starts every client (at comm-up).
func (s *Supervisor) Start(now time.Duration) []Log {
	var l []Log
	for _, c := range s.clients {
		if c.proc == nil && !s.stopping {
			l = append(l, s.run(c, now)...)
		}
	}
	return l
}

// Exited records that the process pid ended (code is its exit code, or
// -1 when killed by signal sig) and restarts it if the rules say so.
func (s *Supervisor) Exited(pid, code, sig int, now time.Duration) []Log {
	for _, c := range s.clients {
		if c.proc == nil || c.proc.Pid() != pid {
			continue
		}
		c.proc = nil
		cmd := cmdline(c.cfg)
		var l []Log
		if code >= 0 {
			lv := hblog.InfoPri
			if code != 0 {
				lv = hblog.Warning
			}
			l = append(l, Log{lv, "Managed " + cmd + " process " + strconv.Itoa(pid) + " exited with return code " + strconv.Itoa(code) + "."})
		} else {
			l = append(l, Log{hblog.Warning, "Managed " + cmd + " process " + strconv.Itoa(pid) + " killed by signal " + strconv.Itoa(sig) + "."})
		}
		if s.stopping || code == NoRespawn {
			return l
		}
		if now-c.started < ShortRun {
			c.short++
		} else {
			c.short = 0
		}
		if c.short > MaxShortRuns {
			c.short = 0
			return append(l, Log{hblog.Err, "Client " + cmd + " \"respawning too fast\""})
		}
		l = append(l, Log{hblog.Err, "Respawning client \"" + cmd + "\":"})
		return append(l, s.run(c, now)...)
	}
	return nil
}

// Stop ends respawning and returns the running clients in reverse order
// of their lines: the daemon sends each SIGTERM and waits for it to exit
// before the next, so a client never outlives one listed after it.
func (s *Supervisor) Stop() []Process {
	s.stopping = true
	var ps []Process
	for i := len(s.clients) - 1; i >= 0; i-- {
		if p := s.clients[i].proc; p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// Running returns the pids of the running clients in line order.
func (s *Supervisor) Running() []int {
	var pids []int
	for _, c := range s.clients {
		if c.proc != nil {
			pids = append(pids, c.proc.Pid())
		}
	}
	return pids
}
