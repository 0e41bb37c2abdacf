package serialtest

import (
	"errors"
	"time"

	"habox/applets/cli"
	"habox/hw/serial"
)

// modemLines is what --lines needs from a port (a *serial.Port; fakes in
// tests).
type modemLines interface {
	ModemLines() (serial.Lines, error)
	RaiseLines(serial.Lines) error
	LowerLines(serial.Lines) error
}

// lineSample is the inputs seen with the outputs set as out.
type lineSample struct{ out, in serial.Lines }

// lineSettle is how long the inputs get to follow an output change (a
// loopback answers within microseconds; a USB adapter polls its status).
const lineSettle = 200 * time.Millisecond

// showLines prints the modem lines, toggles DTR and RTS, prints the inputs
// settle after each step, restores the outputs and says what the wiring
// looks like.
func showLines(ctx stopper, env *cli.Env, dev string, p modemLines, settle time.Duration) int {
	first, err := p.ModemLines()
	if errors.Is(err, serial.ErrNoModemLines) {
		env.Err(name, ": ", dev, ": no modem lines on this device (a pty, or an adapter without them): the cable's handshake wiring cannot be checked on it\n")
		return exitErr
	}
	if err != nil {
		return cli.Fail(env, name, err, exitErr)
	}
	env.Out(dev, ": ", first.String(), "\n")
	outs := serial.DTR | serial.RTS
	samples := []lineSample{{first & outs, first & serial.Inputs}}
	var ferr error
	for _, out := range []serial.Lines{serial.RTS, serial.DTR, 0, outs} {
		if err := p.LowerLines(outs &^ out); err != nil {
			ferr = err
			break
		}
		if err := p.RaiseLines(out); err != nil {
			ferr = err
			break
		}
		select {
		case <-ctx.Done():
			ferr = ctx.Err()
		case <-time.After(settle):
		}
		if ferr != nil {
			break
		}
		l, err := p.ModemLines()
		if err != nil {
			ferr = err
			break
		}
		samples = append(samples, lineSample{out, l & serial.Inputs})
		env.Out("  set ", (out | l&serial.Inputs).String(), "\n")
	}
	// Put DTR and RTS back as they were.
	p.LowerLines(outs &^ first)
	p.RaiseLines(first & outs)
	if ferr != nil && ferr == ctx.Err() {
		return exitSignal
	}
	if ferr != nil {
		return cli.Fail(env, name, ferr, exitErr)
	}
	env.Out(dev, ": ", wiring(samples), "\n")
	return exitOK
}

// wiring tells from the samples how the cable is wired, as far as one end
// can see it.
func wiring(s []lineSample) string {
	followDTR, followRTS := false, false
	any, always := serial.Lines(0), serial.Inputs
	for _, a := range s {
		any |= a.in
		always &= a.in
		for _, b := range s {
			if a.out&serial.DTR != b.out&serial.DTR && a.out&serial.RTS == b.out&serial.RTS &&
				a.in&(serial.DSR|serial.DCD) != b.in&(serial.DSR|serial.DCD) {
				followDTR = true
			}
			if a.out&serial.RTS != b.out&serial.RTS && a.out&serial.DTR == b.out&serial.DTR &&
				a.in&serial.CTS != b.in&serial.CTS {
				followRTS = true
			}
		}
	}
	switch {
	case followDTR || followRTS:
		w := ""
		if followDTR {
			w = "DTR comes back on DSR/DCD"
		}
		if followRTS {
			if w != "" {
				w += ", "
			}
			w += "RTS comes back on CTS"
		}
		return "inputs follow our outputs (" + w + "): a loopback plug, not a cable to another box"
	case any&^always&(serial.CTS|serial.DSR|serial.DCD) != 0:
		return "inputs changed on their own while we toggled (" + (any &^ always).String() +
			"): the other end is toggling too, or a line floats; run again"
	case always&(serial.CTS|serial.DSR|serial.DCD) != 0:
		return "handshake inputs held by the other end: a null-modem cable with handshake wiring, " +
			"and the other box has the port open (--rtscts can be used)"
	}
	return "no handshake input asserted: a three-wire cable (TX, RX, GND), or the other box " +
		"has the port closed; run serialtest --lines there: with handshake wiring its CTS/DSR/DCD " +
		"are asserted while this port is open. Over three wires, do not use --rtscts or flow control"
}
