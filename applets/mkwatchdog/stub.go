package mkwatchdog

import "habox/applets/cli"

const usageApplet = "mkwatchdog [ARGS...]\n\t(not implemented yet)\n"

// Applet is the mkwatchdog applet.
var Applet = cli.Applet{Name: "mkwatchdog", Usage: usageApplet, Run: func(env *cli.Env, args []string) int {
	env.Err("mkwatchdog: not implemented yet\n")
	return 1
}}
