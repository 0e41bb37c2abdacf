package uplink

import (
	"strconv"

	"habox/applets/internal/wire"
)

// Probe returns the ICMP echo payload heartbeat 3.0.6's ping plugin sends
// for ping node name (spec 4.1.5): an NS_st message with st=ping,
// info=ping (or ping_group), src=name and ts, with the classic auth field
// inside and the netstring auth trailer, signed with the active key.
func Probe(k *wire.Keyring, name string, group bool, ts uint64) ([]byte, error) {
	m := wire.New(wire.NSSt)
	m.Add(wire.St, StPing)
	m.Add("info", info(group))
	m.Add(wire.Src, name)
	m.Add(wire.Ts, strconv.FormatUint(ts, 16))
	if err := k.SetAuth(m); err != nil {
		return nil, err
	}
	return k.AppendNetstring(nil, m)
}

func info(group bool) string {
	if group {
		return "ping_group"
	}
	return "ping"
}

// ParseProbe decodes and authenticates an echo reply's payload and
// returns the ping node it speaks for. ok is false for anything that is
// not a probe we could have sent.
func ParseProbe(k *wire.Keyring, b []byte) (name string, group bool, ok bool) {
	m, _, err := k.Decode(b)
	if err != nil || m.Type() != wire.NSSt || m.Get(wire.St) != StPing {
		return "", false, false
	}
	switch m.Get("info") {
	case "ping":
	case "ping_group":
		group = true
	default:
		return "", false, false
	}
	name = m.Get(wire.Src)
	return name, group, name != ""
}
