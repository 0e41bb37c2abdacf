package control

import "habox/applets/cli"

const usageClStatus = "cl_status [ARGS...]\n\t(not implemented yet)\n"

// ClStatus is the cl_status applet.
var ClStatus = cli.Applet{Name: "cl_status", Usage: usageClStatus, Run: func(env *cli.Env, args []string) int {
	env.Err("cl_status: not implemented yet\n")
	return 1
}}
