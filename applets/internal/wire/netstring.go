package wire

import (
	"errors"
	"strconv"
)

// MaxMsg is the bound on an encoded message (cluster-glue MAXMSG): inputs
// and outputs must be strictly shorter.
const MaxMsg = 262144

// Encoding markers.
const (
	NetstringStart = "###\n"
	NetstringEnd   = "%%%\n"
	ClassicStart   = ">>>\n"
	ClassicEnd     = "<<<\n"
)

// Error categories.
var (
	ErrMalformed = errors.New("malformed message")
	ErrTooLarge  = errors.New("message too large")
	ErrFieldType = errors.New("unsupported field type")
	ErrBadName   = errors.New("bad field name")
	ErrBadValue  = errors.New("value cannot be encoded")
)

func malformed(op string, off int, detail string) error {
	return &Error{Op: op, Off: off, Detail: detail, Err: ErrMalformed}
}

// checkName validates a field name for either encoding: non-empty, no '=',
// no LF or NUL, not starting with '(' (it would read as a type prefix).
func checkName(op, name string) error {
	if name == "" || name[0] == '(' {
		return &Error{Op: op, Detail: strconv.Quote(name), Err: ErrBadName}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '=' || c == '\n' || c == 0 {
			return &Error{Op: op, Detail: strconv.Quote(name), Err: ErrBadName}
		}
	}
	return nil
}

func checkType(op string, t FieldType) error {
	if t != String && t != Binary {
		return &Error{Op: op, Detail: "type " + strconv.Itoa(int(t)), Err: ErrFieldType}
	}
	return nil
}

// AppendNetstring appends the netstring encoding of m, "###\n" through
// "%%%\n", without the auth trailer (see Keyring.AppendNetstring).
func AppendNetstring(dst []byte, m *Msg) ([]byte, error) {
	start := len(dst)
	dst = append(dst, NetstringStart...)
	for _, f := range m.Fields {
		if err := checkName("netstring", f.Name); err != nil {
			return dst[:start], err
		}
		if err := checkType("netstring", f.Type); err != nil {
			return dst[:start], err
		}
		n := 3 + len(f.Name) + 1 + len(f.Value)
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, ':', '(', '0'+byte(f.Type), ')')
		dst = append(dst, f.Name...)
		dst = append(dst, '=')
		dst = append(dst, f.Value...)
		dst = append(dst, ',')
	}
	dst = append(dst, NetstringEnd...)
	if len(dst)-start >= MaxMsg {
		return dst[:start], &Error{Op: "netstring", Detail: strconv.Itoa(len(dst)-start) + " bytes", Err: ErrTooLarge}
	}
	return dst, nil
}

// ParseNetstring parses one netstring message from the start of b, through
// "%%%\n", and returns it with the number of bytes consumed; the auth
// trailer (if any) is left in b[n:]. Values are copied out of b.
func ParseNetstring(b []byte) (*Msg, int, error) {
	if len(b) >= MaxMsg {
		return nil, 0, &Error{Op: "netstring", Detail: strconv.Itoa(len(b)) + " bytes", Err: ErrTooLarge}
	}
	s, err := scanNetstring(b, MaxMsg)
	if err != nil {
		return nil, 0, err
	}
	return buildNetstring(b, s), s.end, nil
}

// nsScan is what the allocation-free first pass over a netstring message
// found.
type nsScan struct {
	end    int // bytes through "%%%\n"
	fields int
	vals   int    // bytes of all items
	src    []byte // value of the first src field (when hasSrc)
	hasSrc bool
}

// scanNetstring validates the framing and every item of the netstring
// message at the start of b, up to maxFields fields, without allocating.
func scanNetstring(b []byte, maxFields int) (nsScan, error) {
	var s nsScan
	if !hasPrefix(b, NetstringStart) {
		return s, malformed("netstring", 0, "no ###")
	}
	p := len(NetstringStart)
	for !hasPrefix(b[p:], NetstringEnd) {
		item, next, err := peelNetstring(b, p)
		if err != nil {
			return s, err
		}
		_, name, val, err := splitItem(b[item:next-1], item)
		if err != nil {
			return s, err
		}
		if s.fields++; s.fields > maxFields {
			return s, &Error{Op: "netstring", Off: p, Detail: "more than " + strconv.Itoa(maxFields) + " fields", Err: ErrTooLarge}
		}
		if !s.hasSrc && string(name) == Src {
			s.src, s.hasSrc = val, true
		}
		s.vals += next - 1 - item
		p = next
	}
	s.end = p + len(NetstringEnd)
	return s, nil
}

// buildNetstring is the second pass: one allocation for the fields, one
// for the values.
func buildNetstring(b []byte, s nsScan) *Msg {
	m := &Msg{Fields: make([]Field, 0, s.fields+4)}
	vals := make([]byte, 0, s.vals)
	for p := len(NetstringStart); p < s.end-len(NetstringEnd); {
		item, next, _ := peelNetstring(b, p)
		t, name, val, _ := splitItem(b[item:next-1], item)
		off := len(vals)
		vals = append(vals, val...)
		m.Fields = append(m.Fields, Field{Name: intern(name), Type: t, Value: vals[off:len(vals):len(vals)]})
		p = next
	}
	return m
}

// peelNetstring reads "LEN:" at p and returns the item start and the
// position after its closing comma.
func peelNetstring(b []byte, p int) (item, next int, err error) {
	q := p
	n := 0
	for q < len(b) && b[q] >= '0' && b[q] <= '9' {
		if q-p >= 7 { // MaxMsg has 6 digits
			return 0, 0, malformed("netstring", p, "length too long")
		}
		n = n*10 + int(b[q]-'0')
		q++
	}
	if q == p {
		if q >= len(b) {
			return 0, 0, malformed("netstring", p, "truncated, no %%%")
		}
		return 0, 0, malformed("netstring", p, "expected length, got "+quote(b[q:q+1]))
	}
	if q >= len(b) || b[q] != ':' {
		return 0, 0, malformed("netstring", q, "expected ':' after length")
	}
	item = q + 1
	if n > len(b)-item-1 {
		return 0, 0, malformed("netstring", p, "length "+strconv.Itoa(n)+" beyond end")
	}
	if b[item+n] != ',' {
		return 0, 0, malformed("netstring", item+n, "expected ','")
	}
	return item, item + n + 1, nil
}

// splitItem splits "(t)name=value".
func splitItem(it []byte, off int) (FieldType, []byte, []byte, error) {
	if len(it) < 5 || it[0] != '(' || it[2] != ')' || it[1] < '0' || it[1] > '9' {
		return 0, nil, nil, malformed("netstring", off, "bad type prefix in "+quote(it))
	}
	t := FieldType(it[1] - '0')
	if t != String && t != Binary {
		return 0, nil, nil, &Error{Op: "netstring", Off: off, Detail: "type " + strconv.Itoa(int(t)), Err: ErrFieldType}
	}
	rest := it[3:]
	eq := indexByte(rest, '=')
	if eq <= 0 {
		return 0, nil, nil, malformed("netstring", off, "no name= in "+quote(it))
	}
	return t, rest[:eq], rest[eq+1:], nil
}

func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// known field names, interned so that decoding does not allocate a string
// per field.
var known = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{T, St, Dt, Protocol, Src, SrcUUID, Seq, Hg, Ts, Ld, TTL,
		Auth, Dest, DestUUID, FirstSeq, LastSeq, AckSeq, Info, RscHold, Rtype, IsStable,
		NodeList, DelNodeList, IPAddr, WeOwn, Ok, Node, Result} {
		m[n] = n
	}
	return m
}()

func intern(b []byte) string {
	if s, ok := known[string(b)]; ok {
		return s
	}
	return string(b)
}
