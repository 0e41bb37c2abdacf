package conf

import "strconv"

// Error formats as "file:line: directive: token: msg", leaving out empty
// parts.
func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	s += ": "
	if e.Directive != "" {
		s += e.Directive + ": "
	}
	if e.Token != "" {
		s += "[" + e.Token + "] "
	}
	return s + e.Msg
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
