package serialtest

import (
	"errors"
	"os"
	"strconv"

	"habox/applets/cli"
	"habox/applets/internal/wire"
	"habox/conf"
)

// shownFields are printed after node, type and seq when present.
var shownFields = []string{wire.St, wire.Dest, wire.AckSeq, wire.RscHold, wire.Info, wire.Node, wire.Result, wire.IPAddr, wire.FirstSeq, wire.LastSeq}

// describe formats one message: "linuxha1 status seq=2b st=active".
func describe(m *wire.Msg) string {
	src := m.Get(wire.Src)
	if src == "" {
		src = "?"
	}
	typ := m.Type()
	if typ == "" {
		typ = "?"
	}
	s := src + " " + typ
	if m.Has(wire.Seq) {
		s += " seq=" + m.Get(wire.Seq)
	}
	for _, f := range shownFields {
		if v, ok := m.Lookup(f); ok {
			s += " " + f + "=" + printable(string(v))
		}
	}
	return s
}

// printable quotes values a terminal should not see raw.
func printable(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] > '~' || v[i] == ' ' {
			return strconv.Quote(v)
		}
	}
	return v
}

func loadKeys(path string) (*wire.Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	a, err := conf.ParseAuthkeys(path, f, fi.Mode())
	if err != nil {
		return nil, err
	}
	return wire.NewKeyring(a)
}

// watch prints one line per heartbeat message on the line.
func watch(ctx stopper, env *cli.Env, o *options, p *line) int {
	keys := o.keyring
	env.Err(name, ": watching heartbeat traffic on ", p.Path(), " at ", strconv.Itoa(o.baud), " baud")
	if keys == nil {
		env.Err(" (not verifying: no -k authkeys)")
	}
	env.Err("\n")
	var fr wire.Framer
	buf := make([]byte, 4096)
	msgs, bad, malformed := 0, 0, 0
read:
	for {
		n, err := readSome(ctx, p, buf, deadlineAfter(o.timeout))
		if err != nil {
			if !errors.Is(err, errTimeout) && ctx.Err() == nil {
				return cli.Fail(env, name, err, exitErr)
			}
			break
		}
		var frames [][]byte
		fr.Feed(buf[:n], func(f []byte) { frames = append(frames, f) })
		for _, frame := range frames {
			var m *wire.Msg
			var derr error
			if keys != nil {
				m, _, derr = keys.Decode(frame)
				if errors.Is(derr, wire.ErrAuth) || errors.Is(derr, wire.ErrAuthIndex) {
					// Decode builds no message it could not
					// authenticate; describe what failed anyway.
					m, _ = wire.ParseClassic(frame)
				}
			} else {
				m, derr = wire.ParseClassic(frame)
			}
			if m == nil {
				malformed++
				env.Out("malformed frame (", strconv.Itoa(len(frame)), " bytes): ", derr.Error(), "\n")
				continue
			}
			msgs++
			line := describe(m)
			if derr != nil {
				bad++
				line += " AUTH-FAILED (" + derr.Error() + ")"
			}
			env.Out(line, "\n")
			if o.countSet && msgs >= o.count {
				break read
			}
		}
	}
	summary := strconv.Itoa(msgs) + " messages"
	if keys != nil {
		summary += ", " + strconv.Itoa(bad) + " failed authentication"
	}
	if malformed > 0 {
		summary += ", " + strconv.Itoa(malformed) + " malformed"
	}
	if fr.Dropped > 0 {
		summary += ", " + strconv.FormatUint(fr.Dropped, 10) + " frames dropped (oversize or cut short)"
	}
	env.Err(name, ": ", summary, "\n")
	switch {
	case msgs == 0 && malformed == 0:
		if o.timeout > 0 && ctx.Err() == nil {
			env.Err(name, ": no heartbeat traffic within ", seconds(o.timeout), ": ", noDataHint,
				" (ha.cf: serial ", p.Path(), ", baud ", strconv.Itoa(o.baud), ")\n")
		}
		return exitNoData
	case bad > 0 || malformed > 0:
		return exitUnclean
	}
	return exitOK
}
