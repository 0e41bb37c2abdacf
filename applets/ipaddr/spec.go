package ipaddr

import (
	"errors"
	"net/netip"
	"strings"

	"habox/conf"
	"habox/hw/route"
)

// Spec is a parsed IPaddr resource argument (conf.IPSpec).
type Spec = conf.IPSpec

// InputError is bad input from the command line: the applet exits 2.
type InputError struct {
	Msg string
	// notYet: the interface or the route is missing, which may change
	// (the interface is brought up later).
	notYet bool
}

func (e *InputError) Error() string { return e.Msg }

func badInput(parts ...string) error { return &InputError{Msg: strings.Join(parts, "")} }

// ParseSpec parses an IPaddr argument (conf.ParseIPSpec); a malformed one
// is an *InputError.
func ParseSpec(s string) (Spec, error) {
	sp, err := conf.ParseIPSpec(s)
	return sp, input(err)
}

// input turns conf's *ArgError into *InputError (exit 2), keeping the
// message; other errors pass.
func input(err error) error {
	var ae *conf.ArgError
	if errors.As(err, &ae) {
		return &InputError{Msg: err.Error()}
	}
	return err
}

// Broadcast returns ip | ^mask, the highest address of ip's subnet.
func Broadcast(ip netip.Addr, bits int) netip.Addr {
	a, m := ip.As4(), route.BitsMask(bits).As4()
	for i := range a {
		a[i] |= ^m[i]
	}
	return netip.AddrFrom4(a)
}
