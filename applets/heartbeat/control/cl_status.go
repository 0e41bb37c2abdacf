package control

import (
	"errors"
	"os"
	"strings"
	"time"

	"habox/applets/cli"
	"habox/applets/internal/hblog"
)

const usageClStatus = `cl_status [-S SOCKET] SUB-COMMAND [OPTIONS] [ARGS]
	Report the state of the local heartbeat daemon (terse output for scripts).
	-S SOCKET	control socket (default $HA_CTLSOCK or ` + DefaultSocket + `)
	-m		sentences instead of terse output (every sub-command)
Sub-commands:
	hbstatus [-v]			is heartbeat running here (-v: version, nodes, links)
	listnodes [-n|-p] [-v]		node names (-n normal only, -p ping only, -v details)
	nodestatus NODE			init, up, active or dead (exit 0 for up/active)
	nodetype NODE			normal or ping
	listhblinks NODE [-v]		the node's heartbeat links (-v with status)
	hblinkstatus NODE LINK		up or dead (exit 0 for up)
	clientstatus NODE CLIENT [MS]	API client status (habox has none: offline)
	rscstatus			resources held: none, local, foreign, all or transition
	hbparameter -p NAME		value of an ha.cf directive (as written, or its default)
Exit: 0 ok, 1 stopped/down/dead, 11 parameter error, 12 timeout, 13 unknown error.
`

// cl_status exit codes (heartbeat 3.0.6 tools/cl_status.c).
const (
	exitOK      = 0
	exitFail    = 1
	exitParam   = 11
	exitTimeout = 12
	exitUnknown = 13
	stoppedText = "Heartbeat is stopped on this machine.\n"
	runningText = "Heartbeat is running on this machine.\n"
	refusesText = "Heartbeat is apparently running on this machine, but refuses my connection\n"
)

// ClStatus is the cl_status applet.
var ClStatus = cli.Applet{Name: "cl_status", Usage: usageClStatus, Run: runClStatus}

// subcommandOpts returns the getopt string of a cl_status sub-command.
func subcommandOpts(sub string) (string, bool) {
	switch sub {
	case "nodestatus", "nodetype", "hblinkstatus", "clientstatus", "rscstatus":
		return "m", true
	case "hbstatus", "listhblinks":
		return "mv", true
	case "listnodes":
		return "mpnv", true
	case "hbparameter":
		return "mp:", true
	}
	return "", false
}

// clStatus carries one run's streams and options.
type clStatus struct {
	env   *cli.Env
	log   *hblog.Logger
	human bool
}

// errorf logs an ERROR line on stderr in the cl_log format Debian's
// cl_status uses ("Mmm dd HH:MM:SS host cl_status: [pid]: ERROR: ...").
func (c *clStatus) errorf(parts ...string) {
	c.log.Error(strings.Join(parts, ""))
}

func runClStatus(env *cli.Env, args []string) int {
	return clStatusWithin(env, args, DefaultClientTimeout)
}

// clStatusWithin is cl_status with its requests bounded by timeout.
func clStatusWithin(env *cli.Env, args []string, timeout time.Duration) int {
	host, _ := os.Hostname()
	log, _ := hblog.New(hblog.Options{Entity: "cl_status", SyslogMsgFmt: true, Node: host, Stderr: env.Stderr})
	c := &clStatus{env: env, log: log}
	sock := "" // habox's control socket: -S PATH or -SPATH before the sub-command
	for len(args) >= 2 && args[0] == "-S" {
		sock, args = args[1], args[2:]
	}
	if len(args) > 0 && strings.HasPrefix(args[0], "-S") && len(args[0]) > 2 {
		sock, args = args[0][2:], args[1:]
	}
	if len(args) == 0 || (len(args) == 1 && args[0] == "-h") {
		env.Out(usageClStatus)
		return exitOK
	}
	sub := args[0]
	optstr, ok := subcommandOpts(sub)
	if !ok {
		c.errorf(sub, ": invalid sub-command.")
		return exitParam
	}
	opts, rest, bad := getopt(args[1:], optstr)
	if bad != "" {
		env.Err("cl_status: ", bad, "\n")
		return exitParam
	}
	_, c.human = opts['m']
	snap, err := QueryWithin(SocketPath(env, sock), Request{Verb: "snapshot"}, timeout)
	if sub == "hbstatus" {
		return c.hbstatus(snap, err, opts)
	}
	if err != nil {
		return c.signonFailed(err)
	}
	return c.answer(sub, snap, opts, rest)
}

// signonFailed reports a query that got no snapshot, as cl_status does
// when it cannot sign on, and returns the exit code.
func (c *clStatus) signonFailed(err error) int {
	if errors.Is(err, ErrTimeout) {
		return exitTimeout
	}
	c.errorf("Cannot signon with heartbeat")
	c.errorf("REASON: ", err.Error())
	if errors.Is(err, ErrNotRunning) || errors.Is(err, ErrPermission) {
		return exitFail
	}
	return exitUnknown
}

// answer prints what sub-command sub asks of the snapshot and returns the
// exit code.
func (c *clStatus) answer(sub string, snap Snapshot, opts map[byte]string, rest []string) int {
	env := c.env
	switch sub {
	case "listnodes":
		_, n := opts['n']
		_, p := opts['p']
		_, v := opts['v']
		c.listNodes(snap, n, p, v)
		return exitOK
	case "nodestatus":
		return c.nodestatus(snap, rest)
	case "nodetype":
		return c.nodetype(snap, rest)
	case "listhblinks":
		if len(rest) < 1 {
			env.Err("No enough parameter.\n")
			return exitParam
		}
		_, v := opts['v']
		return c.listLinks(snap, rest[0], v)
	case "hblinkstatus":
		return c.hblinkstatus(snap, rest)
	case "clientstatus":
		if len(rest) < 2 {
			env.Err("No enough parameter.\n")
			return exitParam
		}
		env.Out("offline\n") // habox has no API clients
		return exitFail
	case "rscstatus":
		if c.human {
			env.Out("This node is holding ", snap.Rsc, " resources.\n")
		} else {
			env.Out(snap.Rsc, "\n")
		}
		return exitOK
	case "hbparameter":
		return c.hbparameter(snap, opts['p'], opts)
	}
	return exitUnknown
}

// getopt reads options anywhere among args with the shared parser
// (permuting, bundling "-mv"), per optstr ("p:" takes a value), and words
// errors as glibc's getopt does. It returns the options, the other
// arguments and a message for a bad option.
func getopt(args []string, optstr string) (map[byte]string, []string, string) {
	opts := map[byte]string{}
	a := cli.NewArgs(args)
	a.Permute = true
	for a.Next() {
		o := a.Opt()
		if len(o) != 2 || o[1] == '-' {
			return nil, nil, "unrecognized option '" + o + "'"
		}
		k := strings.IndexByte(optstr, o[1])
		if k < 0 || o[1] == ':' {
			return nil, nil, "invalid option -- '" + o[1:] + "'"
		}
		if k+1 < len(optstr) && optstr[k+1] == ':' {
			v, err := a.Value()
			if err != nil {
				return nil, nil, "option requires an argument -- '" + o[1:] + "'"
			}
			opts[o[1]] = v
			continue
		}
		a.Flag()
		opts[o[1]] = ""
	}
	return opts, a.Rest(), ""
}

func (c *clStatus) hbstatus(s Snapshot, err error, opts map[byte]string) int {
	_, verbose := opts['v']
	if err != nil {
		switch {
		case errors.Is(err, ErrNotRunning):
			c.env.Out(stoppedText)
			if verbose {
				c.env.Out("(", err.Error(), ")\n")
			}
			return exitFail
		case errors.Is(err, ErrTimeout):
			return exitTimeout
		}
		c.env.Out(refusesText)
		if verbose {
			c.env.Out("(", err.Error(), ")\n")
		}
		return exitOK
	}
	if !verbose {
		c.env.Out(runningText)
		return exitOK
	}
	if c.human {
		if s.Version != "" {
			c.env.Out("Heartbeat version ", s.Version, "\n")
		} else {
			c.env.Out(runningText)
		}
		c.env.Out("Resources controlled by \"haresources\"\n")
	} else {
		v := s.Version
		if v == "" {
			v = "unknown"
		}
		c.env.Out("version:\t", v, "\n", "managed by:\t\"haresources\"\n")
	}
	c.listNodes(s, false, false, true)
	return exitOK
}

func (c *clStatus) listNodes(s Snapshot, normalOnly, pingOnly, verbose bool) {
	if normalOnly && pingOnly {
		normalOnly, pingOnly = false, false
	}
	if c.human {
		c.env.Out("The nodes are as follow:\n")
	}
	for _, n := range s.Nodes {
		if normalOnly && n.Type != "normal" || pingOnly && n.Type != "ping" {
			continue
		}
		if verbose {
			c.env.Out("\n", n.Name, "\t", n.Status, "\t(nodetype: ", n.Type, ")\n")
			c.writeLinks(&n, true)
		} else {
			c.env.Out(n.Name, "\n")
		}
	}
}

func (c *clStatus) writeLinks(n *NodeInfo, verbose bool) {
	if c.human {
		c.env.Out("\tthis node has the following heartbeat links:\n")
	}
	for _, l := range n.Links {
		if verbose {
			c.env.Out("\t", l.Name, "\t", l.Status, "\n")
		} else {
			c.env.Out("\t", l.Name, "\n")
		}
	}
}

// find returns the named node (node names are case-insensitive).
func find(s Snapshot, name string) *NodeInfo {
	for i := range s.Nodes {
		if strings.EqualFold(s.Nodes[i].Name, name) {
			return &s.Nodes[i]
		}
	}
	return nil
}

func (c *clStatus) nodestatus(s Snapshot, rest []string) int {
	if len(rest) < 1 {
		c.env.Err("Not enough parameters.\n")
		return exitParam
	}
	n := find(s, rest[0])
	if n == nil {
		c.env.Err("Error. May be due to incorrect node name\n")
		return exitParam
	}
	if c.human {
		c.env.Out("The cluster node ", rest[0], " is ", n.Status, "\n")
	} else {
		c.env.Out(n.Status, "\n")
	}
	switch n.Status {
	case "active", "up", "ping":
		return exitOK
	}
	return exitFail
}

func (c *clStatus) nodetype(s Snapshot, rest []string) int {
	if len(rest) < 1 {
		c.env.Err("No enough parameter.\n")
		return exitParam
	}
	n := find(s, rest[0])
	if n == nil {
		c.env.Err("Error. May be due to incorrect node name\n")
		return exitParam
	}
	if c.human {
		c.env.Out("The node ", rest[0], "'s type: ", n.Type, "\n")
	} else {
		c.env.Out(n.Type, "\n")
	}
	return exitOK
}

func (c *clStatus) listLinks(s Snapshot, node string, verbose bool) int {
	n := find(s, node)
	if n == nil {
		c.errorf("Cannot start heartbeat link interface walk.")
		c.errorf("REASON: unknown node ", node)
		return exitUnknown
	}
	c.writeLinks(n, verbose)
	return exitOK
}

func (c *clStatus) hblinkstatus(s Snapshot, rest []string) int {
	if len(rest) < 2 {
		c.env.Err("No enough parameter.\n")
		return exitParam
	}
	n := find(s, rest[0])
	var st string
	if n != nil {
		for _, l := range n.Links {
			if l.Name == rest[1] {
				st = l.Status
			}
		}
	}
	if st == "" {
		c.errorf("Cannot get heartbeat link status")
		if n == nil {
			c.errorf("REASON: unknown node ", rest[0])
		} else {
			c.errorf("REASON: unknown link ", rest[1])
		}
		return exitUnknown
	}
	if c.human {
		c.env.Out("The node ", rest[0], "'s heartbeat link ", rest[1], " is ", st, "\n")
	} else {
		c.env.Out(st, "\n")
	}
	if st == "up" {
		return exitOK
	}
	return exitFail
}

func (c *clStatus) hbparameter(s Snapshot, name string, opts map[byte]string) int {
	if _, ok := opts['p']; !ok || name == "" {
		c.errorf("parameter name required")
		return exitParam
	}
	v, ok := s.Params[name]
	if !ok {
		switch name {
		case "hbversion":
			v, ok = s.Version, s.Version != ""
		case "node":
			v, ok = s.Node, s.Node != ""
		}
	}
	if !ok {
		c.errorf("Cannot get parameter ", name, "'s value")
		c.errorf("REASON: parameter not set")
		return exitFail
	}
	if c.human {
		c.env.Out("Heartbeat parameter ", name, "'s value: ", v, "\n")
	} else {
		c.env.Out(v, "\n")
	}
	return exitOK
}
