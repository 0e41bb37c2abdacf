package conf

import (
	"io"
	"strconv"
	"strings"
)

// DefaultsTable writes the table of built-in defaults exactly as
// heartbeat 3.0.6 prints it for `heartbeat -D` (dump_default_config).
func DefaultsTable(w io.Writer) error {
	const lhdr, chdr, rhdr = "Directive", "Default", "Description"
	l, c, r := len(lhdr), len(chdr), len(rhdr)
	for _, d := range directives {
		if d.def == "" {
			continue
		}
		l, c, r = max(l, len(d.name)), max(c, len(d.def)), max(r, len(d.expl))
	}
	var b strings.Builder
	row := func(a, v, e string) {
		b.WriteString(pad(a, l))
		b.WriteString("  ")
		b.WriteString(pad(v, c))
		b.WriteString("  ")
		b.WriteString(e)
		b.WriteByte('\n')
	}
	row(lhdr, chdr, rhdr)
	b.WriteString(strings.Repeat("-", min(80, l+c+r+4)))
	b.WriteByte('\n')
	for _, d := range directives {
		if d.def != "" {
			row(d.name, d.def, d.expl)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// pad left-aligns s in a field of n bytes.
func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// WriteEffective writes the effective configuration for `heartbeat -t`:
// every ha.cf directive with its value (defaults marked "# default"), the
// nodes and media, the haresources groups as parsed, the authkeys active
// entry (never a key), then the warnings. The output is itself a valid
// ha.cf: everything that is not a directive is a comment.
func (c *Config) WriteEffective(w io.Writer) error {
	var b strings.Builder
	line := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
		b.WriteByte('\n')
	}
	line("# habox effective configuration (heartbeat -t)")
	line("# directory ", c.Dir, ", local node ", c.LocalNode)
	if cf := c.HaCf; cf != nil {
		line("#")
		line("# ", cf.File)
		for _, d := range directives {
			if !d.record {
				continue
			}
			v, ok := c.effectiveValue(d.name)
			if !ok {
				line("# ", pad(d.name, 24), " (not set)")
				continue
			}
			if d.name == "warntime" && cf.Warntime <= 0 {
				// deadtime/2 rounded to 0: not writable as a directive
				line("# ", pad(d.name, 24), " ", v, " (deadtime/2)")
				continue
			}
			note := ""
			if !cf.Set[d.name] {
				note = "# default"
			}
			if d.ignored {
				if note == "" {
					note = "# ignored by habox"
				} else {
					note += " (ignored by habox)"
				}
			}
			if note != "" {
				line(pad(d.name, 24), " ", pad(v, 16), " ", note)
			} else {
				line(pad(d.name, 24), " ", v)
			}
		}
		for _, n := range cf.Nodes {
			line("node ", n)
		}
		for _, m := range cf.Media {
			switch m.Type {
			case Bcast:
				line(pad("bcast "+m.Dev, 41), " # udp port ", strconv.Itoa(m.Port))
			case Ucast:
				line(pad("ucast "+m.Dev+" "+m.Peer, 41), " # udp port ", strconv.Itoa(m.Port))
			case Serial:
				line(pad("serial "+m.Dev, 41), " # ", strconv.Itoa(m.Baud), " baud")
			case Mcast:
				loop := "0"
				if m.Loop {
					loop = "1"
				}
				line("mcast ", m.Dev, " ", m.Group, " ", strconv.Itoa(m.Port), " ", strconv.Itoa(m.TTL), " ", loop)
			}
		}
	}
	if h := c.Resources; h != nil {
		line("#")
		line("# ", h.File, ": ", strconv.Itoa(len(h.Groups)), " group(s)")
		for _, g := range h.Groups {
			line("# group ", g.Key, " (line ", strconv.Itoa(g.Line), "), preferred node ", g.Node)
			for _, r := range g.Resources {
				s := "#     " + r.Script
				for _, a := range r.Args {
					s += " " + a
				}
				line(s)
			}
		}
	}
	if a := c.Auth; a != nil {
		line("#")
		line("# ", a.File)
		if a.Active >= 0 && a.Active < MaxAuth && a.Keys[a.Active] != nil {
			line("# auth ", strconv.Itoa(a.Active), ": ", string(a.Keys[a.Active].Method), " (signs outgoing messages; key not shown)")
		} else {
			line("# no active key")
		}
		for i, k := range a.Keys {
			if k != nil && i != a.Active {
				line("# entry ", strconv.Itoa(i), ": ", string(k.Method), " (verifies incoming messages)")
			}
		}
	}
	if len(c.Warnings) > 0 {
		line("#")
		line("# warnings:")
		for _, wn := range c.Warnings {
			line("# ", wn.String())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// effectiveValue is the value of a recorded directive as habox will use it.
func (c *Config) effectiveValue(name string) (string, bool) {
	cf := c.HaCf
	switch name {
	case "keepalive":
		return msString(cf.Keepalive), true
	case "deadtime":
		return msString(cf.Deadtime), true
	case "warntime":
		return msString(cf.Warntime), true
	case "initdead":
		return msString(cf.Initdead), true
	case "deadping":
		return msString(cf.Deadping), true
	case "auto_failback":
		return cf.AutoFailback.String(), true
	case "udpport":
		return strconv.Itoa(cf.UDPPort), true
	case "baud":
		return strconv.Itoa(cf.Baud), true
	}
	v, ok := cf.Raw[name]
	return v, ok
}
