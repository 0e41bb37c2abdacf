package authkeygen

import "habox/applets/cli"

const usageApplet = "authkeygen [ARGS...]\n\t(not implemented yet)\n"

// Applet is the authkeygen applet.
var Applet = cli.Applet{Name: "authkeygen", Usage: usageApplet, Run: func(env *cli.Env, args []string) int {
	env.Err("authkeygen: not implemented yet\n")
	return 1
}}
