package hblog

import "strconv"

// MaxQuote is how many bytes of a peer-supplied string Quote keeps.
const MaxQuote = 64

// MaxLine is the longest message text Log writes (before the prefix); a
// longer one is cut and ends with "...".
const MaxLine = 512

// Quote renders a string that came from the network or a file for a log
// line: double-quoted, control bytes, non-ASCII and invalid UTF-8
// escaped, and cut after MaxQuote bytes with "..." appended.
func Quote(s string) string {
	if len(s) > MaxQuote {
		return strconv.QuoteToASCII(s[:MaxQuote]) + "..."
	}
	return strconv.QuoteToASCII(s)
}

// sanitize makes msg safe as the text of one log line: control bytes other
// than TAB (an embedded LF would forge a line) become \xNN, and the text
// is cut after MaxLine bytes. Clean text is returned as is.
func sanitize(msg string) string {
	clean := len(msg) <= MaxLine
	for i := 0; clean && i < len(msg); i++ {
		clean = !isCtl(msg[i])
	}
	if clean {
		return msg
	}
	cut := len(msg) > MaxLine
	if cut {
		msg = msg[:MaxLine]
	}
	b := make([]byte, 0, len(msg)+16)
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if isCtl(c) {
			b = append(b, '\\', 'x', hexDigit[c>>4], hexDigit[c&15])
			continue
		}
		b = append(b, c)
	}
	if cut {
		b = append(b, "..."...)
	}
	return string(b)
}

func isCtl(c byte) bool { return c < 0x20 && c != '\t' || c == 0x7f }

const hexDigit = "0123456789abcdef"
