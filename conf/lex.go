package conf

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxLine is the longest line (without its newline) the parsers accept.
// heartbeat 3.0.6 reads lines with fgets into a 5120-byte buffer
// (cluster-glue MAXLINE; haresources uses MAXLINE-1), so a longer line is
// silently cut and its tail read as a line of its own. habox reports such a
// line as an error instead of guessing.
const MaxLine = 5118

// whitespace is heartbeat's WHITESPACE set; delims is its DELIMS set (the
// option-list separators, with the comma).
const (
	whitespace = " \t\n\r\f"
	delims     = ", \t\n\r\f"
)

// rawLine is one physical line of a configuration file.
type rawLine struct {
	n       int    // 1-based line number
	text    string // without the trailing newline, cut at a NUL byte
	tooLong int    // length when longer than MaxLine (text is then empty)
	nul     bool   // a NUL byte was found (text is cut there, as C sees it)
}

// readLines calls fn for every line of r, bounding memory by MaxLine. The
// only error returned is a read error of r.
func readLines(r io.Reader, fn func(l rawLine)) error {
	br := bufio.NewReaderSize(r, 4096)
	n := 0
	var buf []byte
	long := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if long > 0 {
				long += len(chunk)
			} else if len(buf)+len(chunk) > MaxLine+1 {
				long = len(buf) + len(chunk)
				buf = buf[:0]
			} else {
				buf = append(buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		complete := len(chunk) > 0 && chunk[len(chunk)-1] == '\n'
		if complete || (err == io.EOF && (len(buf) > 0 || long > 0)) {
			n++
			l := rawLine{n: n}
			if long > 0 {
				if complete {
					long--
				}
				if long > MaxLine {
					l.tooLong = long
				}
			}
			if l.tooLong == 0 {
				s := string(buf)
				s = strings.TrimSuffix(s, "\n")
				if len(s) > MaxLine {
					l.tooLong = len(s)
				} else {
					if i := strings.IndexByte(s, 0); i >= 0 {
						s = s[:i]
						l.nul = true
					}
					l.text = s
				}
			}
			fn(l)
			buf = buf[:0]
			long = 0
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// tooLongError describes an overlong line.
func tooLongError(file string, l rawLine) *Error {
	return &Error{File: file, Line: l.n, Msg: "line is " + strconv.Itoa(l.tooLong) +
		" bytes long; heartbeat 3.0.6 reads at most " + strconv.Itoa(MaxLine) +
		" bytes per line (5120-byte buffer) and would read the rest as a new line: split it"}
}

// nulWarning describes a line cut at a NUL byte.
func nulWarning(file string, l rawLine) Warning {
	return Warning{File: file, Line: l.n, Msg: "NUL byte in line: the rest of the line is ignored (as heartbeat 3.0.6 does)"}
}

// isWS reports whether c is in heartbeat's WHITESPACE set.
func isWS(c byte) bool { return strings.IndexByte(whitespace, c) >= 0 }

// isDelim reports whether c is in heartbeat's DELIMS set.
func isDelim(c byte) bool { return strings.IndexByte(delims, c) >= 0 }

// skip returns s without its leading bytes for which in is true.
func skip(s string, in func(byte) bool) string {
	i := 0
	for i < len(s) && in(s[i]) {
		i++
	}
	return s[i:]
}

// cut splits s at the first byte for which in is true.
func cut(s string, in func(byte) bool) (tok, rest string) {
	i := 0
	for i < len(s) && !in(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// fields splits s on bytes for which in is true, dropping empty fields.
func fields(s string, in func(byte) bool) []string {
	var out []string
	for {
		s = skip(s, in)
		if s == "" {
			return out
		}
		var t string
		t, s = cut(s, in)
		out = append(out, t)
	}
}

// ParseTime converts a heartbeat time value as cluster-glue's cl_get_msec
// does: optional leading white space, a number of digits and dots, optional
// white space, then an optional unit: none = seconds, a unit beginning with
// "ms" = milliseconds, "us" = microseconds (case-insensitive). The result
// is rounded to the nearest millisecond. Negative, empty, malformed or
// absurdly large values (over 100 years) are invalid.
func ParseTime(s string) (time.Duration, bool) {
	ms, ok := getMsec(s)
	if !ok {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// getMsec is cl_get_msec: the value in milliseconds.
func getMsec(s string) (int64, bool) {
	cp := skip(s, isWS)
	if cp == "" || !isNumChar(cp[0]) {
		return 0, false
	}
	n := 0
	for n < len(cp) && isNumChar(cp[n]) {
		n++
	}
	units := skip(cp[n:], isWS)
	mult, div := 1000.0, 1.0
	switch {
	case len(units) >= 2 && strings.EqualFold(units[:2], "ms"):
		mult = 1
	case len(units) >= 2 && strings.EqualFold(units[:2], "us"):
		mult, div = 1, 1000
	case units != "" && units[0] != '\n' && units[0] != '\r':
		return 0, false
	}
	d := atof(cp[:n])*mult/div + 0.5
	if d >= 100*365*24*3600*1000 {
		return 0, false
	}
	return int64(d), true
}

func isNumChar(c byte) bool { return c == '.' || (c >= '0' && c <= '9') }

// atof parses the longest prefix of s of the form digits[.digits] as
// strtod does (s holds only digits and dots); "" and "." are 0.
func atof(s string) float64 {
	i := 0
	for i < len(s) && s[i] != '.' {
		i++
	}
	if i < len(s) {
		j := i + 1
		for j < len(s) && s[j] != '.' {
			j++
		}
		s = s[:j]
	}
	if s == "" || s == "." {
		return 0
	}
	f, ok := ParseDecimal(s)
	if !ok || math.IsInf(f, 1) {
		return 0 // as strconv.ParseFloat's error result was
	}
	return f
}

// ParseBool reads a boolean as cluster-glue's cl_str_to_boolean does:
// case-insensitive true/on/yes/y/1 or false/off/no/n/0. ok is false for
// anything else.
func ParseBool(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "true", "on", "yes", "y", "1":
		return true, true
	case "false", "off", "no", "n", "0":
		return false, true
	}
	return false, false
}

// atoi is C's atoi: leading white space, an optional sign, digits; the rest
// is ignored. clean is false when there were no digits or trailing text.
// The value saturates at ±2^31.
func atoi(s string) (v int64, clean bool) {
	t := skip(s, func(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') })
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		if v < 1<<31 {
			v = v*10 + int64(t[i]-'0')
		}
		i++
	}
	if v > 1<<31 {
		v = 1 << 31
	}
	if neg {
		v = -v
	}
	return v, i > 0 && i == len(t)
}

// msString formats a duration as heartbeat prints times: "<n>ms".
func msString(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// short shortens a token for an error message.
func short(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}
