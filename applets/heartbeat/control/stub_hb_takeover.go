package control

import "habox/applets/cli"

const usageHbTakeover = "hb_takeover [ARGS...]\n\t(not implemented yet)\n"

// HbTakeover is the hb_takeover applet.
var HbTakeover = cli.Applet{Name: "hb_takeover", Usage: usageHbTakeover, Run: func(env *cli.Env, args []string) int {
	env.Err("hb_takeover: not implemented yet\n")
	return 1
}}
