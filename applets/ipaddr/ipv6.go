package ipaddr

import "habox/applets/cli"

const usage6 = "IPv6addr IPV6/BITS/IFACE start|stop|status|monitor\n\t(not implemented yet)"

// IPv6Applet is the IPv6addr applet.
var IPv6Applet = cli.Applet{Name: "IPv6addr", Usage: usage6, Run: func(env *cli.Env, args []string) int {
	env.Err("IPv6addr: not implemented yet\n")
	return 1
}}
