package ipaddr

import (
	"net/netip"

	"habox/hw/route"
)

// Choice is where and how a service address is configured.
type Choice struct {
	Iface string
	Bits  int
	Bcast netip.Addr
	// Route is the route findif chose; zero when the interface was given.
	Route route.Route
}

// Mask returns the netmask as a dotted-quad address.
func (c Choice) Mask() netip.Addr { return route.BitsMask(c.Bits) }

// FindIf picks interface, netmask and broadcast for sp (spec 7.2).
//
// An interface given in sp is taken as is (its existence is checked by the
// caller); the netmask is then the given one, or /32 when none was given.
//
// Otherwise the routing table is scanned with the findif rule of heartbeat
// 3.0.6 (resource-agents tools/findif.c): a route matches when
// ip&mask == dest&mask; matches are taken in table order and a later match
// replaces the current choice only if its metric is <= and its prefix is
// at least as long as the current choice's. Consequences, kept on purpose:
// among equally specific routes with equal metrics the LAST one in the table
// wins; a more specific route with a higher metric does not replace a less
// specific one seen earlier, and a less specific route never replaces a more
// specific one, so the result can depend on table order (in the usual table
// it is the most specific, lowest-metric route; but a default route with
// metric 0, listed first, blocks every match with a higher metric).
// Prefixes are compared by
// length (findif compares the masks as host-order integers, which orders
// contiguous masks the same way on little-endian machines). Routes without
// an interface ("*": unreachable/blackhole) are skipped.
//
// The netmask is the chosen route's unless sp gives one. A choice made only
// through the default route (mask 0) needs an explicit netmask. The
// broadcast is sp's or ip | ^netmask.
func FindIf(routes []route.Route, sp Spec) (Choice, error) {
	c := Choice{Iface: sp.Iface, Bits: sp.Bits, Bcast: sp.Bcast}
	if c.Iface == "" {
		best := -1
		for i, r := range routes {
			if r.Bits < 0 || r.Iface == "*" || !r.Dest.Is4() {
				continue
			}
			p, err := sp.IP.Prefix(r.Bits)
			if err != nil {
				continue
			}
			d, _ := r.Dest.Prefix(r.Bits)
			if p != d {
				continue
			}
			if best < 0 || (r.Metric <= routes[best].Metric && r.Bits >= routes[best].Bits) {
				best = i
			}
		}
		if best < 0 {
			return c, &InputError{Msg: "No route to " + sp.IP.String(), notYet: true}
		}
		c.Route = routes[best]
		c.Iface = c.Route.Iface
		if c.Bits < 0 {
			if c.Route.Bits == 0 {
				return c, badInput("Cannot use default route w/o netmask [", sp.IP.String(), "]")
			}
			c.Bits = c.Route.Bits
		}
	}
	if c.Bits < 0 {
		c.Bits = 32
	}
	if !c.Bcast.IsValid() {
		c.Bcast = Broadcast(sp.IP, c.Bits)
	}
	return c, nil
}

// FindIfLine formats a choice like findif's output (spec 7.2):
// "<if>\tnetmask <a.b.c.d>\tbroadcast <a.b.c.d>".
func FindIfLine(c Choice) string {
	return c.Iface + "\tnetmask " + c.Mask().String() + "\tbroadcast " + c.Bcast.String()
}
