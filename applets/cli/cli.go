// Package cli holds what every habox applet shares: the Applet type, the
// environment an applet runs in, a small getopt-style argument reader and
// error helpers.
//
// habox deliberately avoids the fmt and flag packages in everything linked
// into the binary: fmt's reflection-based printer costs ~160 KB of a binary
// that must fit a router's flash (see README, "Size"). Applets build their
// output with strings and strconv and print it with Env.Out / Env.Err.
package cli

import (
	"io"
	"os"
	"strconv"
	"strings"
)

// Version is the habox version (set by main from its link-time value).
var Version = "dev"

// Applet is one command of the multi-call binary.
type Applet struct {
	// Name is the command name, matched against basename(argv[0]).
	Name string
	// Usage is the busybox-style help text: a one-line synopsis, then one
	// line per option with its default. The first line is printed on usage
	// errors, all of it for --help.
	Usage string
	// Run executes the applet with its arguments (without the applet name)
	// and returns the process exit code. It must not call os.Exit or touch
	// global state, so tests can run it in-process.
	Run func(env *Env, args []string) int
	// NoLink keeps `habox --install` from creating a link for the applet,
	// for names that must never shadow a host's own command (init).
	NoLink bool
	// OCF marks an applet that is also an OCF resource agent: `habox
	// --install --ocf` links it under /usr/lib/ocf/resource.d/habox.
	OCF bool
}

// Env is what an applet may use of its process: standard streams and
// environment variables.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Environ is the environment as KEY=value strings.
	Environ []string
}

// OSEnv returns the environment of the running process.
func OSEnv() *Env {
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ()}
}

// Getenv returns the value of the environment variable key, or "".
func (e *Env) Getenv(key string) string {
	for i := len(e.Environ) - 1; i >= 0; i-- {
		kv := e.Environ[i]
		if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
			return kv[len(key)+1:]
		}
	}
	return ""
}

// Out writes the concatenation of parts to stdout.
func (e *Env) Out(parts ...string) { writeAll(e.Stdout, parts) }

// Err writes the concatenation of parts to stderr.
func (e *Env) Err(parts ...string) { writeAll(e.Stderr, parts) }

func writeAll(w io.Writer, parts []string) {
	if w == nil {
		return
	}
	io.WriteString(w, strings.Join(parts, ""))
}

// Synopsis returns the first line of a usage text.
func Synopsis(usage string) string {
	if i := strings.IndexByte(usage, '\n'); i >= 0 {
		return usage[:i]
	}
	return usage
}

// Help prints a full usage text to stdout and returns 0.
func Help(env *Env, usage string) int {
	if !strings.HasSuffix(usage, "\n") {
		usage += "\n"
	}
	env.Out(usage)
	return 0
}

// UsageError prints "name: msg" (when msg is not empty; name is the first
// word of the synopsis) and the synopsis to stderr, and returns the usage
// exit code 2.
func UsageError(env *Env, usage, msg string) int {
	syn := Synopsis(usage)
	if msg != "" {
		name := syn
		if i := strings.IndexByte(syn, ' '); i >= 0 {
			name = syn[:i]
		}
		env.Err(name, ": ", msg, "\n")
	}
	env.Err("usage: ", syn, "\n")
	return 2
}

// Fail prints "name: err" to stderr and returns code.
func Fail(env *Env, name string, err error, code int) int {
	env.Err(name, ": ", err.Error(), "\n")
	return code
}

// Itoa is strconv.Itoa, here so callers building messages need one import.
func Itoa(i int) string { return strconv.Itoa(i) }
