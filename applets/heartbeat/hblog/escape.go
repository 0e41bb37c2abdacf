package hblog

import (
	"strconv"
	"unicode/utf8"
)

// Escape makes text from outside the daemon (a script's output, a file, a
// peer) safe to put in a log line: backslash, control bytes and invalid
// UTF-8 become \\, \n, \r, \t or \xNN, so nothing can forge or split a
// line; printable text, quotes included, is kept as it is. Text longer
// than max bytes (max > 0) is cut and marked with "...".
func Escape(s string, max int) string {
	clean := max <= 0 || len(s) <= max
	for i := 0; clean && i < len(s); i++ {
		clean = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\'
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		if max > 0 && len(b) >= max {
			return string(append(b, "..."...))
		}
		c := s[i]
		switch {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c >= 0x20 && c < 0x7f:
			b = append(b, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError && strconv.IsPrint(r) {
				b = append(b, s[i:i+n]...)
				i += n
				continue
			}
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		}
		i++
	}
	return string(b)
}

const hex = "0123456789abcdef"
