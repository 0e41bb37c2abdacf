package serialtest

import "habox/applets/cli"

const usageApplet = "serialtest [ARGS...]\n\t(not implemented yet)\n"

// Applet is the serialtest applet.
var Applet = cli.Applet{Name: "serialtest", Usage: usageApplet, Run: func(env *cli.Env, args []string) int {
	env.Err("serialtest: not implemented yet\n")
	return 1
}}
