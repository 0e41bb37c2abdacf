package cli

import (
	"errors"
	"strconv"
	"strings"
)

// Args reads options getopt-style, one at a time:
//
//	a := cli.NewArgs(args)
//	for a.Next() {
//		switch a.Opt() {
//		case "-f", "--force":
//			force = true
//		case "-c":
//			n, err := a.Int()
//			...
//		default:
//			return cli.UsageError(env, usage, a.Unknown())
//		}
//	}
//	rest := a.Rest()
//
// Options end at "--", at a lone "-", or at the first argument that does not
// start with "-" (with Permute, options may also follow such operands, as
// GNU getopt allows). A value is taken from "--name=value", from the rest of
// a short option ("-c5"), or from the next argument. Short options that
// take no value can be bundled: "-dv" is "-d" then "-v", "-dd" is "-d"
// twice: the rest of a short option read with Flag is the next option.
type Args struct {
	// Permute lets options follow operands ("DEVICE -b 9600"); Rest then
	// returns the operands in order, then everything after "--".
	Permute bool

	args     []string
	operands []string
	opt      string
	inline   string
	hasValue bool
	bundled  string // short options left of "-dv" after "-d"
	err      error
}

// NewArgs returns a reader over args (without the applet name).
func NewArgs(args []string) *Args { return &Args{args: args} }

// Next advances to the next option and reports whether there is one.
func (a *Args) Next() bool {
	if a.err != nil {
		return false
	}
	a.inline, a.hasValue = "", false
	if a.bundled != "" {
		a.opt, a.bundled = "-"+a.bundled[:1], a.bundled[1:]
		a.inline, a.hasValue = a.bundled, a.bundled != ""
		a.bundled = ""
		return true
	}
	for len(a.args) > 0 && a.Permute && !isOption(a.args[0]) && a.args[0] != "--" {
		a.operands, a.args = append(a.operands, a.args[0]), a.args[1:]
	}
	if len(a.args) == 0 {
		return false
	}
	s := a.args[0]
	if s == "--" {
		a.args = a.args[1:]
		return false
	}
	if !isOption(s) {
		return false
	}
	a.args = a.args[1:]
	if strings.HasPrefix(s, "--") {
		if i := strings.IndexByte(s, '='); i >= 0 {
			a.opt, a.inline, a.hasValue = s[:i], s[i+1:], true
			return true
		}
		a.opt = s
		return true
	}
	a.opt = s[:2]
	if len(s) > 2 {
		a.inline, a.hasValue = s[2:], true
	}
	return true
}

func isOption(s string) bool { return len(s) >= 2 && s[0] == '-' }

// Opt returns the current option, e.g. "-f" or "--force".
func (a *Args) Opt() string { return a.opt }

// Flag reports whether the current option was given without an inline value,
// as a boolean option must be. It returns false (and records an error) for
// "--flag=x"; after a short option ("-fx") the rest is read as bundled
// short options ("-f -x").
func (a *Args) Flag() bool {
	if !a.hasValue {
		return true
	}
	if !strings.HasPrefix(a.opt, "--") {
		a.bundled, a.inline, a.hasValue = a.inline, "", false
		return true
	}
	a.err = errors.New("option " + a.opt + " takes no value")
	return false
}

// Value returns the current option's value.
func (a *Args) Value() (string, error) {
	if a.hasValue {
		a.hasValue = false
		return a.inline, nil
	}
	if len(a.args) == 0 {
		a.err = errors.New("option " + a.opt + " requires a value")
		return "", a.err
	}
	v := a.args[0]
	a.args = a.args[1:]
	return v, nil
}

// Inline returns the value glued to the current option ("--name=value",
// "-cvalue") and consumes it, for an option whose value is optional.
func (a *Args) Inline() (string, bool) {
	v, ok := a.inline, a.hasValue
	a.inline, a.hasValue = "", false
	return v, ok
}

// Int returns the current option's value as a decimal integer.
func (a *Args) Int() (int, error) {
	v, err := a.Value()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		a.err = errors.New("option " + a.opt + ": not a number: " + v)
		return 0, a.err
	}
	return n, nil
}

// Unknown returns the message for an unrecognised current option.
func (a *Args) Unknown() string { return "unknown option " + a.opt }

// Err returns the first error met while reading values, if any.
func (a *Args) Err() error { return a.err }

// Rest returns the arguments after the options (with Permute, the
// operands met among them first).
func (a *Args) Rest() []string {
	if a.operands == nil {
		return a.args
	}
	return append(a.operands, a.args...)
}
