package ipaddr

import "habox/applets/cli"

const usageIPv6Applet = "IPv6addr [ARGS...]\n\t(not implemented yet)\n"

// IPv6Applet is the IPv6addr applet.
var IPv6Applet = cli.Applet{Name: "IPv6addr", Usage: usageIPv6Applet, Run: func(env *cli.Env, args []string) int {
	env.Err("IPv6addr: not implemented yet\n")
	return 1
}}
