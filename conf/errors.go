package conf

import "strconv"

// Error formats as "file:line: directive: token: msg", leaving out empty
// parts.
func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	return s + ": " + e.detail()
}

// detail is the error after its position: "directive: [token] msg".
func (e *Error) detail() string {
	s := ""
	if e.Directive != "" {
		s += e.Directive + ": "
	}
	if e.Token != "" {
		s += "[" + e.Token + "] "
	}
	return s + e.Msg
}

// AsWarning is the same problem reported as a warning (e.g. by
// `heartbeat -t --other-host`, where this machine's lacks do not count).
func (e *Error) AsWarning() Warning {
	return Warning{File: e.File, Line: e.Line, Msg: e.detail()}
}

// String formats a warning like an error.
func (w Warning) String() string {
	s := w.File
	if w.Line > 0 {
		s += ":" + strconv.Itoa(w.Line)
	}
	return s + ": warning: " + w.Msg
}

// ErrorList is every problem found in a configuration; it is returned as a
// single error whose text has one problem per line.
type ErrorList []*Error

// failer returns the fail function of a parser of the file name: each
// call adds an Error to *errs.
func failer(name string, errs *ErrorList) func(ln int, dir, tok, msg string) {
	return func(ln int, dir, tok, msg string) {
		*errs = append(*errs, &Error{File: name, Line: ln, Directive: dir, Token: short(tok), Msg: msg})
	}
}

func (l ErrorList) Error() string {
	s := ""
	for i, e := range l {
		if i > 0 {
			s += "\n"
		}
		s += e.Error()
	}
	return s
}
