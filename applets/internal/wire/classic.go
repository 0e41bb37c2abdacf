package wire

import (
	"strconv"
)

// lfEscape replaces LF inside classic string values.
const lfEscape = 0x13

// AppendClassic appends the classic text encoding of m, ">>>\n" through
// "<<<\n", without a trailing NUL and without (re)computing the auth field
// (see Keyring.AppendClassic).
func AppendClassic(dst []byte, m *Msg) ([]byte, error) {
	start := len(dst)
	dst = append(dst, ClassicStart...)
	dst, err := appendClassicBody(dst, m, -1)
	if err != nil {
		return dst[:start], err
	}
	dst = append(dst, ClassicEnd...)
	if len(dst)-start >= MaxMsg {
		return dst[:start], &Error{Op: "classic", Detail: strconv.Itoa(len(dst)-start) + " bytes", Err: ErrTooLarge}
	}
	return dst, nil
}

// appendClassicBody appends the "name=value\n" lines of every field except
// index skip (-1: none). This is also the classic authentication input.
func appendClassicBody(dst []byte, m *Msg, skip int) ([]byte, error) {
	for i := range m.Fields {
		if i == skip {
			continue
		}
		var err error
		if dst, err = appendClassicField(dst, &m.Fields[i]); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func appendClassicField(dst []byte, f *Field) ([]byte, error) {
	if err := checkName("classic", f.Name); err != nil {
		return dst, err
	}
	switch f.Type {
	case String:
		dst = append(dst, f.Name...)
		dst = append(dst, '=')
		for _, c := range f.Value {
			switch c {
			case '\n':
				c = lfEscape
			case lfEscape:
				return dst, &Error{Op: "classic", Detail: "field " + f.Name + " contains byte 0x13", Err: ErrBadValue}
			}
			dst = append(dst, c)
		}
	case Binary:
		dst = append(dst, "(1)"...)
		dst = append(dst, f.Name...)
		dst = append(dst, '=')
		dst = b64AppendEncode(dst, f.Value)
	default:
		return dst, checkType("classic", f.Type)
	}
	return append(dst, '\n'), nil
}

// ParseClassic parses one classic text message: ">>>\n", field lines,
// "<<<\n", optionally followed by NUL bytes (3.0.6's codec appends one).
// Blank lines are skipped as 3.0.6 does; CR is part of a value. No
// authentication is done (see Keyring.Decode).
func ParseClassic(b []byte) (*Msg, error) {
	if len(b) >= MaxMsg {
		return nil, &Error{Op: "classic", Detail: strconv.Itoa(len(b)) + " bytes", Err: ErrTooLarge}
	}
	if !hasPrefix(b, ClassicStart) {
		return nil, malformed("classic", 0, "no >>>")
	}
	// Count lines first so the field slice is allocated once.
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	m := &Msg{Fields: make([]Field, 0, n+2)}
	it := classicLines{b: b, p: len(ClassicStart)}
	for {
		line, off, ok, err := it.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return m, nil
		}
		if err := parseClassicLine(m, line, off); err != nil {
			return nil, err
		}
	}
}

// classicLines iterates over the field lines of a classic message after
// ">>>\n", without allocating.
type classicLines struct {
	b []byte
	p int
}

// next returns the next non-blank line (without its LF) and its offset;
// ok is false at a valid end ("<<<\n" and only NULs after it).
func (it *classicLines) next() (line []byte, off int, ok bool, err error) {
	b, p := it.b, it.p
	for p < len(b) && b[p] == '\n' {
		p++
	}
	if p >= len(b) {
		return nil, p, false, malformed("classic", p, "truncated, no <<<")
	}
	if hasPrefix(b[p:], ClassicEnd) {
		for q := p + len(ClassicEnd); q < len(b); q++ {
			if b[q] != 0 {
				return nil, q, false, malformed("classic", q, "data after <<<")
			}
		}
		it.p = len(b)
		return nil, p, false, nil
	}
	e := indexByte(b[p:], '\n')
	if e < 0 {
		return nil, p, false, malformed("classic", p, "truncated line")
	}
	it.p = p + e + 1
	return b[p : p+e], p, true, nil
}

// splitClassicLine splits "[(t)]name=value" and checks the type prefix.
func splitClassicLine(line []byte, off int) (FieldType, []byte, []byte, error) {
	t := String
	if len(line) > 0 && line[0] == '(' {
		if len(line) < 3 || line[2] != ')' || line[1] < '0' || line[1] > '9' {
			return 0, nil, nil, malformed("classic", off, "bad type prefix in "+quote(line))
		}
		t = FieldType(line[1] - '0')
		if t != Binary {
			// "(0)" is rejected by 3.0.6 as well.
			return 0, nil, nil, &Error{Op: "classic", Off: off, Detail: "type " + strconv.Itoa(int(t)), Err: ErrFieldType}
		}
		line = line[3:]
	}
	eq := indexByte(line, '=')
	if eq <= 0 {
		return 0, nil, nil, malformed("classic", off, "no name= in "+quote(line))
	}
	return t, line[:eq], line[eq+1:], nil
}

func parseClassicLine(m *Msg, line []byte, off int) error {
	t, name, val, err := splitClassicLine(line, off)
	if err != nil {
		return err
	}
	var v []byte
	if t == Binary {
		v = make([]byte, b64DecodedLen(len(val)))
		k, ok := b64Decode(v, val)
		if !ok {
			return malformed("classic", off, "bad base64 in field "+quote(name))
		}
		v = v[:k]
	} else {
		v = make([]byte, len(val))
		for i, c := range val {
			if c == lfEscape {
				c = '\n'
			}
			v[i] = c
		}
	}
	m.Fields = append(m.Fields, Field{Name: intern(name), Type: t, Value: v})
	return nil
}
