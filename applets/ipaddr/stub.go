package ipaddr

import "habox/applets/cli"

const usageApplet = "IPaddr [ARGS...]\n\t(not implemented yet)\n"

// Applet is the IPaddr applet.
var Applet = cli.Applet{Name: "IPaddr", Usage: usageApplet, Run: func(env *cli.Env, args []string) int {
	env.Err("IPaddr: not implemented yet\n")
	return 1
}}
