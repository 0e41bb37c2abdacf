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
	b.WriteString("# habox effective configuration (heartbeat -t)\n# directory " + c.Dir + ", local node " + c.LocalNode + "\n")
	if cf := c.HaCf; cf != nil {
		b.WriteString("#\n# " + cf.File + "\n")
		for _, d := range directives {
			if d.record {
				c.writeDirective(&b, d)
			}
		}
		for _, n := range cf.Nodes {
			b.WriteString("node " + n + "\n")
		}
		for _, m := range cf.Media {
			b.WriteString(mediumLine(m) + "\n")
		}
		for _, n := range cf.PingNodes {
			if n.Group {
				b.WriteString("ping_group " + n.Name + " " + strings.Join(n.Addrs, " ") + "\n")
			} else {
				b.WriteString("ping " + n.Name + "\n")
			}
		}
		for _, r := range cf.Respawns {
			b.WriteString("respawn " + r.User + " " + strings.Join(append([]string{r.Path}, r.Args...), " ") + "\n")
		}
		for _, t := range cf.TrackCarrier {
			b.WriteString("habox_track_carrier " + t + "                 # habox only\n")
		}
	}
	if h := c.Resources; h != nil {
		b.WriteString("#\n# " + h.File + ": " + strconv.Itoa(len(h.Groups)) + " group(s)\n")
		for _, g := range h.Groups {
			b.WriteString("# group " + g.Key + " (line " + strconv.Itoa(g.Line) + "), preferred node " + g.Node + "\n")
			for _, r := range g.Resources {
				b.WriteString("#     " + r.Script)
				for _, a := range r.Args {
					b.WriteString(" " + a)
				}
				b.WriteByte('\n')
			}
		}
	}
	if a := c.Auth; a != nil {
		b.WriteString("#\n# " + a.File + "\n")
		if a.Active >= 0 && a.Active < MaxAuth && a.Keys[a.Active] != nil {
			b.WriteString("# auth " + strconv.Itoa(a.Active) + ": " + string(a.Keys[a.Active].Method) + " (signs outgoing messages; key not shown)\n")
		} else {
			b.WriteString("# no active key\n")
		}
		for i, k := range a.Keys {
			if k != nil && i != a.Active {
				b.WriteString("# entry " + strconv.Itoa(i) + ": " + string(k.Method) + " (verifies incoming messages)\n")
			}
		}
	}
	if len(c.Warnings) > 0 {
		b.WriteString("#\n# warnings:\n")
		for _, wn := range c.Warnings {
			b.WriteString("# " + wn.String() + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeDirective writes one recorded directive with its effective value.
func (c *Config) writeDirective(b *strings.Builder, d *directive) {
	v, ok := c.effectiveValue(d.name)
	switch {
	case !ok:
		b.WriteString("# " + pad(d.name, 24) + " (not set)\n")
		return
	case d.name == "warntime" && c.HaCf.Warntime <= 0:
		// deadtime/2 rounded to 0: not writable as a directive
		b.WriteString("# " + pad(d.name, 24) + " " + v + " (deadtime/2)\n")
		return
	}
	note := ""
	switch {
	case d.name == "habox_ipfail" && !c.HaCf.Set[d.name] && c.HaCf.IPFail:
		note = "# habox only; turned on by respawn ... ipfail or habox_track_carrier"
	case d.habox:
		note = "# habox only"
		if !c.HaCf.Set[d.name] {
			note += ", default"
		}
	case !c.HaCf.Set[d.name]:
		note = "# default"
	}
	if d.ignored {
		if note == "" {
			note = "# ignored by habox"
		} else {
			note += " (ignored by habox)"
		}
	}
	if note == "" {
		b.WriteString(pad(d.name, 24) + " " + v + "\n")
	} else {
		b.WriteString(pad(d.name, 24) + " " + pad(v, 16) + " " + note + "\n")
	}
}

// mediumLine is a medium as an ha.cf line, with its latched port or speed.
func mediumLine(m Medium) string {
	switch m.Type {
	case Bcast:
		return pad("bcast "+m.Dev, 41) + " # udp port " + strconv.Itoa(m.Port)
	case Ucast:
		return pad("ucast "+m.Dev+" "+m.Peer, 41) + " # udp port " + strconv.Itoa(m.Port)
	case Serial:
		return pad("serial "+m.Dev, 41) + " # " + strconv.Itoa(m.Baud) + " baud"
	}
	loop := "0"
	if m.Loop {
		loop = "1"
	}
	return "mcast " + m.Dev + " " + m.Group + " " + strconv.Itoa(m.Port) + " " + strconv.Itoa(m.TTL) + " " + loop
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
	case "habox_ipfail":
		if cf.IPFail {
			return "on", true
		}
		return "off", true
	}
	v, ok := cf.Raw[name]
	return v, ok
}
