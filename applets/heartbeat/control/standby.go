package control

import (
	"errors"

	"habox/applets/cli"
)

const usageHbStandby = `hb_standby [-S SOCKET] [all|foreign|local|failback]
	Ask the local heartbeat to give its resources to the other node
	(default all; failback = foreign). Needs auto_failback on or off.
	-S SOCKET	control socket (default $HA_CTLSOCK or ` + DefaultSocket + `)
Exit: 0 accepted, 1 refused (reason on stderr), 2 usage, 3 heartbeat not running.
`

const usageHbTakeover = `hb_takeover [-S SOCKET] [all|foreign|local|failback]
	Ask the other node to hand resources to this one (default all).
	-S SOCKET	control socket (default $HA_CTLSOCK or ` + DefaultSocket + `)
Exit: 0 accepted, 1 refused (reason on stderr), 2 usage, 3 heartbeat not running.
`

// Exit codes of hb_standby and hb_takeover.
const (
	exitRefused    = 1
	exitUsage      = 2
	exitNotRunning = 3
)

// HbStandby is the hb_standby applet.
var HbStandby = cli.Applet{Name: "hb_standby", Usage: usageHbStandby, Run: func(env *cli.Env, args []string) int {
	return runResourceRequest(env, args, "hb_standby", usageHbStandby, "standby")
}}

// HbTakeover is the hb_takeover applet.
var HbTakeover = cli.Applet{Name: "hb_takeover", Usage: usageHbTakeover, Run: func(env *cli.Env, args []string) int {
	return runResourceRequest(env, args, "hb_takeover", usageHbTakeover, "takeover")
}}

func runResourceRequest(env *cli.Env, args []string, name, usage, verb string) int {
	sock := ""
	a := cli.NewArgs(args)
	for a.Next() {
		switch a.Opt() {
		case "-S":
			v, err := a.Value()
			if err != nil {
				return cli.UsageError(env, usage, err.Error())
			}
			sock = v
		case "-h", "--help":
			return cli.Help(env, usage)
		default:
			return cli.UsageError(env, usage, a.Unknown())
		}
	}
	rest := a.Rest()
	if len(rest) > 1 {
		return cli.UsageError(env, usage, "too many arguments")
	}
	kind := "all"
	if len(rest) == 1 {
		kind = rest[0]
	}
	if !validKind(kind) {
		return cli.UsageError(env, usage, "wrong resources("+kind+").")
	}
	if verb == "standby" && kind == "failback" {
		kind = "foreign" // as heartbeat's hb_standby script maps it
	}
	_, err := Query(SocketPath(env, sock), Request{Verb: verb, Kind: kind})
	var refused *RefusedError
	switch {
	case err == nil:
		// Said once the daemon accepted it (3.0.6's script says it
		// before trying, even when heartbeat is not running).
		if verb == "standby" {
			env.Out("Going standby [", kind, "].\n")
		} else {
			env.Out("Taking over [", kind, "] resources.\n")
		}
		return exitOK
	case errors.As(err, &refused):
		env.Err(name, ": refused: ", refused.Reason, "\n")
		return exitRefused
	case errors.Is(err, ErrNotRunning):
		env.Err(name, ": ", stoppedText)
		return exitNotRunning
	}
	return cli.Fail(env, name, err, exitRefused)
}
