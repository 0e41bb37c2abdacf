package resources

import (
	"bytes"
	"os"
	"strings"
	"time"

	"habox/applets/cli"
)

// AppletRun is an applet's entry point (cli.Applet.Run).
type AppletRun func(env *cli.Env, args []string) int

// inProcess returns the applet that runs script in this process: habox's
// own IPaddr/IPv6addr when haresources names it with no user script in
// resource.d (builtin), or when resource.d's script is a link to the
// habox binary. A user's own script gets nil: it runs as a process.
func (r *Runner) inProcess(script, path string, builtin bool) AppletRun {
	run := r.Builtins[script]
	if run == nil || (!builtin && !sameFile(path, r.Self)) {
		return nil
	}
	return run
}

// RunInProcess runs an applet in this process as RunProcess runs a
// script: argv[1:] as arguments, env as its environment, stdout and
// stderr kept within the same limits, no stdin. Pid is this process's. It
// gives up waiting after timeout (the applet goroutine is left to end on
// its own) and turns a panic into exit code 1.
func RunInProcess(run AppletRun, argv, env []string, timeout time.Duration) Outcome {
	type result struct {
		code        int
		stdout      string
		stderr      []string
		outCut, cut bool
	}
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		res := result{code: 1}
		defer func() {
			if v := recover(); v != nil {
				errb.WriteString("\nERROR: internal error in " + argv[0] + ": panic\n")
			}
			res.stdout, res.outCut = drainBytes(&out, MaxStdout)
			res.stderr, res.cut = drainLines(&errb, MaxStderrLines, MaxStderrLine)
			done <- res
		}()
		res.code = run(&cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: env}, argv[1:])
	}()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case res := <-done:
		return Outcome{Pid: os.Getpid(), Stdout: res.stdout, Stderr: res.stderr, Code: res.code, Truncated: res.outCut || res.cut}
	case <-expired:
		return Outcome{Pid: os.Getpid(), Code: 128, TimedOut: true}
	}
}
