package heartbeat

// # How habox's heartbeat differs from (or pins down) heartbeat 3.0.6
//
// One process. Media readers, timers, the resource runner and the control
// socket feed one event loop goroutine that owns all cluster state
// (membership, resources, the wire engine); nothing blocks it: resource
// scripts run in goroutines and report back as events. Clocks are
// monotonic. Timeouts are checked every min(250 ms, keepalive/4) (3.0.6:
// every 250 ms), so millisecond timings are honoured.
//
// On the wire habox is 3.0.6: netstring on UDP with the trailing auth,
// classic text on serial, control fields in 3.0.6's order, protocol=1 with
// ACKs, reqnodes/repnodes, retransmissions, st init→up→active and
// dt = deadtime+2000 for the first 5 s. Its status messages carry one
// extra field, habox=<holding> (none, local, foreign or all, as rsc_hold),
// which 3.0.6 ignores (an unknown field; it is inside the authenticated
// bytes like every field). It tells a habox node that its peer is habox
// and what it holds (used for healed partitions, below).
//
// Resources. The work of ResourceManager, req_resource, mach_down,
// rc.d/ip-request(-resp) and hb_standby is done in Go with the same
// messages and log texts; /etc/ha.d/harc and rc.d/* are not run. A script
// is looked up in DIR/resource.d, then in the first existing init
// directory (/etc/init.d on Debian), as 3.0.6 does. IPaddr (and the IP
// shorthand of haresources) and IPv6addr run the habox binary itself with
// argv[0] "IPaddr"/"IPv6addr" — no shell, ifconfig or send_arp needed —
// unless DIR/resource.d has a script of that name: a user script always
// wins. A script without a "#!" line is run by /bin/sh, as execvp (and
// 3.0.6's shell) would run it.
// Scripts get the HA_* environment of spec 5.10 (HA_CURHOST, HA_DIR,
// HA_FUNCS, HA_LOGFILE, HA_DEBUGLOG, HA_LOGFACILITY, HA_NICEFAILBACK,
// HA_LOGD, HA_DATEFMT, HA_debug, OCF_ROOT) plus ha.cf's "env" lines,
// stdout is read for status (running/OK/not running, spec 2.6). stderr
// lines are logged under the script's own tag, as resource-agents'
// ocf_log writes them: "IPaddr(IPaddr_10.0.0.5)[pid]: INFO: ..." for the
// built-in agents (whose start says the ifconfig command it stands for
// and the gratuitous ARP, and whose errors say why), "script[pid]: ..."
// otherwise; a line beginning with an ocf_log level word keeps that
// level, the others are ERROR when the action failed, else debug.
//
// Scripts that hang or talk too much (3.0.6 waits forever): every action
// runs in its own process group with a time limit, HABOX_RSC_TIMEOUT
// (default 60 s; seconds or "500ms"; an ha.cf line "env
// HABOX_RSC_TIMEOUT=90" wins over the environment). When it passes, the
// group gets SIGTERM and, 2 s later, SIGKILL. A start that timed out
// failed (the group is given up); a stop that timed out is not retried
// and takes the stop-failure path below, treating a status that times
// out as "still running". Output is always read to the end: the first
// 1 MiB of stdout and the last 64 stderr lines are kept, and the log says
// "truncated" when more came. heartbeat -k waits at most
// HABOX_KILL_TIMEOUT (default 300 s), then exits 1 naming the pid.
//
// Decisions where 3.0.6 leaves room or is slow:
//
//   - The nice_failback deadlock breaker (RSCRCVD → STABLE) is 3.0.6's
//     10 s, or the local deadtime when that is shorter, so that ms timings
//     do not wait 10 s when both nodes boot together.
//   - A node alone at comm-up in auto_failback on/off (its peer declared
//     dead after initdead), or whose peer dies during the start-up
//     negotiation, is STABLE at once; 3.0.6 stays STARTING until a peer
//     appears. rscstatus, standby and shutdown therefore work alone.
//   - cl_status rscstatus reports the groups actually held in legacy mode
//     too (3.0.6 always says "none" there).
//   - A failed start stops the whole group (3.0.6), but the "hb_standby
//     foreign after 30 s" that 3.0.6's ResourceManager schedules is not
//     done.
//   - A failed stop (after HA_STOPRETRYMAX retries, default 10, 1 s
//     apart) whose resource still runs: 3.0.6 kills itself and reboots
//     (reboot -nf). habox fences with the watchdog when `watchdog` is
//     configured: it logs CRIT, goes silent (no more heartbeats, no
//     shutdone: the peer takes over after deadtime) and stops feeding the
//     watchdog (re-armed if a clean shutdown had closed it), so the board
//     resets within ⌈deadtime+10ms⌉ s. Without a watchdog it reboots at
//     once (sync + reboot(2)) only when the environment has
//     HA_REBOOT_ON_STOP_FAILURE=yes, because ha.cf has no directive for
//     it; otherwise it logs CRIT and carries on.
//   - Healed partition (spec 5.8). With a 3.0.6 peer habox does what 3.0.6
//     does: give up every group, send shutdone, and re-execute itself after
//     deadtime+1 s. Between two habox nodes each side resolves at once,
//     without restart: for every group, the node named on its haresources
//     line keeps it (if neither node is named, the lower node name); the
//     other one releases it if the keeper holds it (per the habox field
//     of the keeper's status that revealed the heal), and the keeper takes
//     a group neither holds (e.g. the peer was shutting down). Both sides
//     apply the same rule, so exactly one owner remains and nothing flaps.
//     The keeper announces the group's addresses again (IPaddr stop+start,
//     a gratuitous ARP; other resources untouched) because the peer had
//     announced them during the partition; it does so once more if the
//     peer still claimed a group and releases it later. A "Late heartbeat
//     (> deadtime)" that took a live habox peer's groups is resolved the
//     same way (3.0.6 leaves both owners until a partition is seen); a
//     takeover whose job ends after the resolution does not claim the
//     peer's groups (no mach_down rsc_hold, habox field unchanged).
//   - nice_failback on means auto_failback off (the guide's meaning;
//     conf documents it). A heartbeat 3.0.6 peer whose ha.cf says
//     nice_failback on runs legacy and never answers "starting": habox
//     (in on/off) waits the deadlock breaker's delay, logs a warning
//     naming the peer, becomes stable and requests its groups with
//     ip-request, as legacy mode does. Such a pair behaves as legacy: each
//     group fails back to its node (3.0.6 asks for its own groups with
//     ip-request, which habox honours in every mode). 3.0.6 in on/off
//     paired with a legacy 3.0.6 would stay STARTING for ever.
//   - Double ownership however caused (frames of a previous run delivered
//     late, a lost message): a group this node holds and the peer claims
//     (the habox field of its statuses; a 3.0.6 peer's rsc_hold in
//     auto_failback on/off) for longer than deadtime while this node is
//     stable is released by the node that is not its keeper (the rule
//     above), with the error line "Both machines own resource group K
//     (for D): releasing it, P keeps it (why)". A 3.0.6 peer never
//     releases a group on its own, so habox releases it to a 3.0.6 peer.
//     3.0.6 only logs "Both machines own ..." and keeps both owners.
//     This does not wait for the peer to report its resource transition
//     complete: a restarted peer's "starting" delivered late (a serial
//     line that held its frames) would make the node wait for a
//     "resource isstable=1" that never comes; a 3.0.6 peer in that state
//     is given 4 × deadtime.
//   - Serial lines are flushed (TCIOFLUSH) when opened, then a break is
//     sent, as 3.0.6 does: frames left in the buffers by a previous run
//     are not delivered.
//   - SIGHUP (heartbeat -r) as 3.0.6: the new configuration is validated
//     (errors are logged, the running node carries on); when ha.cf or
//     haresources changed, heartbeat re-executes itself in place (same
//     pid, new generation) with -R -C HOLD and keeps its resources — the
//     peer logs a restart, not a death; when only authkeys changed it is
//     reread; otherwise "Configuration unchanged.".
//   - Without logfile, debugfile and logfacility 3.0.6 logs through
//     ha_logd; habox has no logd and writes logd's defaults itself:
//     /var/log/ha-log, /var/log/ha-debug and syslog facility daemon.
//   - realtime: SCHED_RR at rtprio (default: the minimum) for every thread,
//     with reset-on-fork so scripts run in the normal class, re-applied
//     every 10 s for threads the Go runtime adds; mlockall(MCL_CURRENT)
//     only (MCL_FUTURE would make later allocations fail under a small
//     RLIMIT_MEMLOCK). Failures are warnings.
//   - Watchdog: opened at start, WDIOC_SETTIMEOUT ⌈(deadtime+10ms)/1s⌉,
//     fed with 0x00 on every loop-back of our own status, magic 'V' close
//     when resource release starts at a clean shutdown, never otherwise.
//
// Names and paths for tests and embedded layouts: the node name is
// uname -n lower-cased, or $HA_NODENAME (DIR/nodeinfo still wins); the
// configuration directory is -c DIR or $HA_DIR; the state directory
// (hb_generation, hb_uuid) -l DIR or $HA_VARLIB; the pid file -p FILE; the
// control socket -S PATH or $HA_CTLSOCK. IPaddr's lock and pid files go
// to $HABOX_RUNDIR (default /run/habox), inherited by the scripts.
