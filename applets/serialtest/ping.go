package serialtest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"time"

	"habox/applets/cli"
	"habox/hw/kmod"
)

// A probe is one text line, safe on any 8N1 or 7-bit line:
//
//	"@" SEQ " " PAYLOAD " " CRC LF
//
// SEQ is decimal from 1, PAYLOAD is LENGTH characters [A-Za-z0-9] derived
// from SEQ, CRC is the CRC-32 (IEEE) of "@" SEQ " " PAYLOAD in 8 hex digits.
const maxPayload = 1000

const probeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// makeProbe returns probe seq with a payload of n characters.
func makeProbe(seq, n int) []byte {
	b := append([]byte{'@'}, strconv.Itoa(seq)...)
	b = append(b, ' ')
	x := uint32(seq)*2654435761 + 12345
	for i := 0; i < n; i++ {
		x = x*1664525 + 1013904223
		b = append(b, probeAlphabet[(x>>24)%uint32(len(probeAlphabet))])
	}
	sum := kmod.ChecksumIEEE(b)
	b = append(b, ' ')
	h := strconv.FormatUint(uint64(sum), 16)
	for i := len(h); i < 8; i++ {
		b = append(b, '0')
	}
	b = append(b, h...)
	return append(b, '\n')
}

// parseProbe checks a received line (without LF). seq is -1 when the line
// carries no readable sequence number; ok is false when it is corrupted.
func parseProbe(l []byte) (seq int, ok bool) {
	l = bytes.TrimRight(l, "\r")
	if len(l) < 2 || l[0] != '@' {
		return -1, false
	}
	sp := bytes.IndexByte(l, ' ')
	if sp < 0 {
		return -1, false
	}
	seq, err := strconv.Atoi(string(l[1:sp]))
	if err != nil || seq < 1 {
		return -1, false
	}
	last := bytes.LastIndexByte(l, ' ')
	if last <= sp || len(l)-last-1 != 8 {
		return seq, false
	}
	sum, err := strconv.ParseUint(string(l[last+1:]), 16, 32)
	if err != nil || uint32(sum) != kmod.ChecksumIEEE(l[:last]) {
		return seq, false
	}
	want := makeProbe(seq, last-sp-1) // l plus its LF; l is the caller's buffer, never appended to
	return seq, len(want) == len(l)+1 && bytes.Equal(want[:len(l)], l)
}

// lineReader splits a port's input into lines.
type lineReader struct {
	p       *line
	pending []byte
	buf     [4096]byte
	garbage int // bytes dropped from over-long lines
}

const maxLine = 2 * maxPayload

// next returns the next line without its LF.
func (r *lineReader) next(ctx stopper, deadline time.Time) ([]byte, error) {
	for {
		if i := bytes.IndexByte(r.pending, '\n'); i >= 0 {
			l := append([]byte(nil), r.pending[:i]...)
			r.pending = append(r.pending[:0], r.pending[i+1:]...)
			return l, nil
		}
		if len(r.pending) > maxLine {
			r.garbage += len(r.pending)
			r.pending = r.pending[:0]
		}
		n, err := readSome(ctx, r.p, r.buf[:], deadline)
		if err != nil {
			return nil, err
		}
		r.pending = append(r.pending, r.buf[:n]...)
	}
}

// stats of a probe run.
type stats struct {
	sent, ok, lost, corrupt, late int
	min, max, sum                 time.Duration
	bytes                         int
	elapsed                       time.Duration
}

func (s *stats) add(d time.Duration) {
	if s.ok == 0 || d < s.min {
		s.min = d
	}
	if d > s.max {
		s.max = d
	}
	s.sum += d
	s.ok++
}

func (s *stats) clean() bool { return s.ok == s.sent && s.lost == 0 && s.corrupt == 0 }

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }

// probeRun sends o.count probes on tx and waits for each on rx (the same
// port for --ping, through the echo box; the other port for --pair).
// what names the measured time ("round trip" or "one-way").
func probeRun(ctx stopper, env *cli.Env, o *options, tx, rx *line, title string) (*stats, error) {
	tx.Flush()
	if rx != tx {
		rx.Flush()
	}
	lr := &lineReader{p: rx}
	s := &stats{}
	start := time.Now()
	for seq := 1; seq <= o.count; seq++ {
		probe := makeProbe(seq, o.length)
		t0 := time.Now()
		tx.SetWriteDeadline(deadlineAfter(writeTimeout(o, len(probe))))
		if _, err := tx.Write(probe); err != nil {
			return s, err
		}
		s.sent++
		deadline := t0.Add(o.timeout)
	wait:
		for {
			l, err := lr.next(ctx, deadline)
			switch {
			case errors.Is(err, errTimeout):
				s.lost++
				break wait
			case err != nil:
				return s, err
			}
			got, ok := parseProbe(l)
			switch {
			case got == seq && ok:
				s.add(time.Since(t0))
				s.bytes += len(probe)
				if rx == tx {
					s.bytes += len(probe)
				}
				break wait
			case ok && got < seq:
				s.late++ // the answer to a probe already counted lost
			case got == seq, got < 0 && len(l) > 0, ok && got > seq:
				s.corrupt++
				break wait
			}
		}
		progress(env, title, seq, o.count, s)
	}
	s.elapsed = time.Since(start)
	if isTerminal(env.Stderr) {
		env.Err("\n")
	}
	return s, nil
}

// progress updates the progress line: in place on a terminal, else one
// line per tenth of the run.
func progress(env *cli.Env, title string, seq, count int, s *stats) {
	tty := isTerminal(env.Stderr)
	if !tty && seq != count && seq%max(1, count/10) != 0 {
		return
	}
	line := name + ": " + title + " " + strconv.Itoa(seq) + "/" + strconv.Itoa(count) +
		": " + strconv.Itoa(s.ok) + " ok, " + strconv.Itoa(s.lost) + " lost, " + strconv.Itoa(s.corrupt) + " corrupted"
	if s.ok > 0 {
		line += ", avg " + ms(s.sum/time.Duration(s.ok)) + " ms"
	}
	if tty {
		env.Err("\r", line, "   ")
	} else {
		env.Err(line, "\n")
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// report prints a run's statistics.
func report(env *cli.Env, o *options, s *stats, title, what string) {
	probeLen := len(makeProbe(o.count, o.length))
	env.Out("--- ", title, ": ", strconv.Itoa(s.sent), " probes of up to ", strconv.Itoa(probeLen), " bytes at ",
		strconv.Itoa(o.baud), " baud ---\n")
	env.Out(strconv.Itoa(s.ok), " ok, ", strconv.Itoa(s.lost), " lost, ", strconv.Itoa(s.corrupt), " corrupted")
	if s.late > 0 {
		env.Out(" (", strconv.Itoa(s.late), " late answers ignored)")
	}
	env.Out("\n")
	if s.ok > 0 {
		env.Out(what, " min/avg/max ", ms(s.min), "/", ms(s.sum/time.Duration(s.ok)), "/", ms(s.max), " ms\n")
	}
	if s.elapsed > 0 {
		bps := float64(s.bytes) / s.elapsed.Seconds()
		rate := float64(o.baud) / 10 // 8N1: 10 bits per byte
		env.Out("throughput ", strconv.FormatFloat(bps, 'f', 0, 64), " bytes/s (",
			strconv.FormatFloat(100*bps/rate, 'f', 0, 64), "% of the ", strconv.FormatFloat(rate, 'f', 0, 64),
			" bytes/s line rate)\n")
		if bps > 1.1*rate {
			env.Out("(faster than 8N1 at ", strconv.Itoa(o.baud), " baud: not a real UART, e.g. a pty or a USB adapter)\n")
		}
	}
}

// writeTimeout bounds a write of n bytes: four times its transmission
// time plus two seconds.
func writeTimeout(o *options, n int) time.Duration {
	return time.Duration(4*n*10)*time.Second/time.Duration(o.baud) + 2*time.Second
}

var aLongTimeAgo = time.Unix(1, 0)

func ping(ctx stopper, env *cli.Env, o *options, p *line) int {
	s, err := probeRun(ctx, env, o, p, p, "ping "+p.Path())
	if ctx.Err() != nil {
		report(env, o, s, p.Path()+" ping (interrupted)", "round trip")
		return exitSignal
	}
	if err != nil {
		return cli.Fail(env, name, err, exitErr)
	}
	report(env, o, s, p.Path()+" ping", "round trip")
	switch {
	case s.clean():
		return exitOK
	case s.ok == 0 && s.corrupt == 0:
		env.Err(name, ": no answer from the other side: ", noDataHint, " with serialtest --echo\n")
		return exitNoData
	}
	env.Err(name, ": link not clean\n")
	return exitUnclean
}

func pair(ctx stopper, env *cli.Env, o *options, a, b *line) int {
	code := exitOK
	for _, d := range [][2]*line{{a, b}, {b, a}} {
		title := d[0].Path() + " -> " + d[1].Path()
		s, err := probeRun(ctx, env, o, d[0], d[1], title)
		if ctx.Err() != nil {
			report(env, o, s, title+" (interrupted)", "one-way")
			return exitSignal
		}
		if err != nil {
			return cli.Fail(env, name, err, exitErr)
		}
		report(env, o, s, title, "one-way")
		switch {
		case s.clean():
		case s.ok == 0 && s.corrupt == 0:
			env.Err(name, ": nothing sent on ", d[0].Path(), " arrived on ", d[1].Path(),
				": check that its TX is wired to the other's RX (a null-modem cable)\n")
			code = exitNoData
		default:
			if code == exitOK {
				code = exitUnclean
			}
		}
	}
	return code
}
