// Package conf reads heartbeat's three configuration files — ha.cf,
// haresources and authkeys — exactly as heartbeat 3.0.6 reads them, and
// validates them. It is pure: it parses what it is given and never touches
// the system (interface and device checks belong to the daemon); Load only
// opens and stats the files.
//
// Every problem of every file is reported (not just the first), each as an
// *Error naming file:line, the directive, the offending token and a
// message that quotes heartbeat 3.0.6's own wording where it has one.
//
// # ha.cf
//
// Lexical rules as in 3.0.6: a line is at most 5118 bytes (longer lines
// are an error, where 3.0.6 would silently split them); '#' anywhere starts
// a comment; a CR ends the line; the directive is case-sensitive; values
// are split on blanks and commas and applied one by one ("node a b" is two
// nodes, "keepalive 500 ms" is an error); "udp" is rewritten to "bcast"
// with a warning; an unknown word is an error ("Illegal directive").
// udpport and baud are latched by the first medium of each type, as the
// 3.0.6 plugins do (a warning says so when they come too late). Built-in
// defaults are those of `heartbeat -D` (see DefaultsTable); warntime
// defaults to deadtime/2, initdead to deadtime (deadtime > 10 s), 12 s
// (deadtime < 6 s) or 2×deadtime, deadping to deadtime, udpport to 694
// (/etc/services is not read).
//
// Supported (used by habox): node, keepalive, deadtime, warntime,
// initdead, deadping, hopfudge, udpport, baud, bcast (and udp), mcast,
// ucast, serial, ping, ping_group (IPv4 addresses or /etc/hosts names),
// respawn (ordinary programs, run as the user given; a respawn line for
// ipfail enables habox's built-in ipfail policy instead of starting a
// process), auto_failback, nice_failback (obsolete; habox follows the guide:
// nice_failback on = auto_failback off, with a warning, where 3.0.6 reads
// it as legacy, i.e. always fail back; nice_failback off = legacy, and
// after an auto_failback on/off line either value gives off, as in
// 3.0.6), watchdog, logfile, debugfile, logfacility,
// use_logd (off), debug, realtime, rtprio, msgfmt, max_rexmit_delay,
// uuidfrom, hbgenmethod, coredumps, log_badpack, syslogmsgfmt, cluster,
// env (NAME=value, set for resource scripts as 3.0.6 sets it for its
// children; HABOX_RSC_TIMEOUT and HABOX_KILL_TIMEOUT must be times > 0).
//
// habox only (heartbeat 3.0.6 calls them Illegal directive; `heartbeat -t`
// warns so): habox_ipfail on|off turns the built-in ipfail policy on
// without a respawn line (or off despite one); habox_track_carrier IF...
// makes carrier loss on IF count like losing every ping node (and turns
// the policy on unless habox_ipfail off). Both need auto_failback on or
// off, as ipfail does. A 3.0.6 peer just ignores their effect.
//
// Accepted and ignored (syntax checked as 3.0.6 does): compression,
// compression_threshold, traditional_compression, memreserve, coreroot,
// conn_logd_time, use_apphbd, crm_daemon_dir, crmd_spawns_pengine,
// record_config_changes, record_pengine_inputs, enable_config_writes,
// quorum_server; apiauth (with a warning: habox has no client API);
// crm/pacemaker set to false; autojoin none.
//
// Refused (error): crm/pacemaker true (habox is R1 haresources mode
// only); stonith, stonith_host (no fencing plugins: running without the
// fencing the sysadmin configured would be unsafe); respawn of a program
// that needs 3.0.6's client API (ccm, dopd, crmd, cib, attrd, ...) and
// failfast (no client API: silently dropping them would change failover);
// ping6, mcast6, ucast6 (no IPv6 ping nodes or media); autojoin other|any
// (3.0.6's own R1 conflict error). use_logd on is a warning: habox has no
// logging daemon and logs to logfile, debugfile and syslog itself. See
// Unsupported.
//
// Where 3.0.6 is sloppier, habox is stricter and says why: numbers with
// trailing text ("694x") are read as C's atoi reads them, with a warning;
// values 3.0.6 would silently wrap (udpport > 65535, mcast ttl 260) are
// errors; node names longer than 99 bytes and interface names longer than
// 15 are errors; a node declared twice is a warning (it still counts
// against the 100 declarations 3.0.6 allows); a bare "mcast" or "ucast"
// line (which crashes 3.0.6) is an error. Warnings 3.0.6 prints that make
// no sense for habox (logd and core dump advice) are left out.
//
// TestOracle (root, Debian's heartbeat installed) runs the real 3.0.6
// daemon on about 100 configurations in private namespaces and checks
// that habox accepts and refuses exactly the same ones, that every error
// and warning 3.0.6 logs while reading them is quoted in habox's messages,
// and that the deliberate divergences (API-client respawn lines, ping6, udpport > 65535,
// overlong lines, haresources key traps) are the only ones.
//
// # haresources
//
// Lines are read as ResourceManager sees them (comments stripped, "\"
// continuations joined, blanks squeezed, node name lower-cased). Each
// line's first word must be a node of ha.cf ("Bad nodename"); the first
// resource is the group key; an IP shorthand (glob [0-9]*.[0-9]*.[0-9]*.[0-9]*)
// means IPaddr::<it>; script::a::b passes the arguments a b. Because
// ResourceManager finds groups with egrep " key ", duplicate keys, keys
// that appear as a word on another line (or match one through '.'
// wildcards) and keys with other regex characters are errors; so are a
// '#' or an empty line after a continuation, a trailing "\" on the last
// line and carriage returns.
//
// # authkeys
//
// As parse_authfile: any line starting with 'a' is the auth line ("auth
// %d"); entries are scanf "%d%s%s" (only the first word after the method
// is the key); indices 0..15; crc takes no key, md5 and sha1 need one; the
// auth line must come before the entry it selects. A file readable by
// group or others (mode & 0044) is refused ("Bad permissions on keyfile
// [...], 600 recommended."), naming its mode.
package conf
