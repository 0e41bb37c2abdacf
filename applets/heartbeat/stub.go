package heartbeat

import "habox/applets/cli"

const usageApplet = "heartbeat [ARGS...]\n\t(not implemented yet)\n"

// Applet is the heartbeat applet.
var Applet = cli.Applet{Name: "heartbeat", Usage: usageApplet, Run: func(env *cli.Env, args []string) int {
	env.Err("heartbeat: not implemented yet\n")
	return 1
}}
