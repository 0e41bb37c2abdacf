package control

import "habox/applets/cli"

const usageHbStandby = "hb_standby [ARGS...]\n\t(not implemented yet)\n"

// HbStandby is the hb_standby applet.
var HbStandby = cli.Applet{Name: "hb_standby", Usage: usageHbStandby, Run: func(env *cli.Env, args []string) int {
	env.Err("hb_standby: not implemented yet\n")
	return 1
}}
