package serialtest

import (
	"errors"
	"os"
	"strconv"

	"habox/applets/cli"
)

// receive copies what arrives to stdout until -t seconds pass without
// data (or a signal).
func receive(ctx stopper, env *cli.Env, o *options, p *line) int {
	env.Err(name, ": receiving on ", p.Path(), " at ", strconv.Itoa(o.baud), " baud")
	if o.timeout > 0 {
		env.Err(", until ", seconds(o.timeout), " without data")
	}
	env.Err("\n")
	buf := make([]byte, 4096)
	total := 0
	for {
		n, err := readSome(ctx, p, buf, deadlineAfter(o.timeout))
		if n > 0 {
			total += n
			if _, err := env.Stdout.Write(buf[:n]); err != nil {
				return cli.Fail(env, name, err, exitErr)
			}
			continue
		}
		switch {
		case errors.Is(err, errTimeout) && total == 0:
			env.Err(name, ": no data on ", p.Path(), " within ", seconds(o.timeout), ": ", noDataHint, "\n")
			return exitNoData
		case errors.Is(err, errTimeout), ctx.Err() != nil:
			env.Err(name, ": received ", strconv.Itoa(total), " bytes\n")
			if total == 0 {
				return exitNoData
			}
			return exitOK
		}
		return cli.Fail(env, name, err, exitErr)
	}
}

// send writes the text and a newline, and waits until it has left.
func send(ctx stopper, env *cli.Env, o *options, p *line) int {
	msg := []byte(o.text + "\n")
	if d := deadlineAfter(o.timeout); !d.IsZero() {
		p.SetWriteDeadline(d)
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.Write(msg)
		if err == nil {
			err = p.Drain()
		}
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		p.SetWriteDeadline(aLongTimeAgo)
		<-done
		env.Err(name, ": interrupted\n")
		return exitSignal
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		hint := ""
		if o.rtscts {
			hint = " (hardware flow control: CTS never came; try without --rtscts)"
		}
		env.Err(name, ": ", p.Path(), ": write timed out after ", seconds(o.timeout), hint, "\n")
		return exitErr
	}
	if err != nil {
		return cli.Fail(env, name, err, exitErr)
	}
	env.Err(name, ": sent ", strconv.Itoa(len(msg)), " bytes on ", p.Path(), " at ", strconv.Itoa(o.baud), " baud\n")
	return exitOK
}

// echo sends back everything it receives until interrupted (or idle for
// -t seconds when given).
func echo(ctx stopper, env *cli.Env, o *options, p *line) int {
	env.Err(name, ": echoing on ", p.Path(), " at ", strconv.Itoa(o.baud), " baud; stop with Ctrl-C\n")
	buf := make([]byte, 4096)
	total := 0
	for {
		n, err := readSome(ctx, p, buf, deadlineAfter(o.timeout))
		if n > 0 {
			p.SetWriteDeadline(deadlineAfter(writeTimeout(o, n)))
			if _, err := p.Write(buf[:n]); err != nil {
				return cli.Fail(env, name, err, exitErr)
			}
			total += n
			continue
		}
		if errors.Is(err, errTimeout) || ctx.Err() != nil {
			env.Err(name, ": echoed ", strconv.Itoa(total), " bytes\n")
			return exitOK
		}
		return cli.Fail(env, name, err, exitErr)
	}
}
