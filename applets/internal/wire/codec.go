package wire

import (
	"crypto/subtle"
	"strconv"
)

// Format is an encoding.
type Format uint8

// The two encodings of heartbeat 3.0.6.
const (
	Netstring Format = 1 // "###\n" ... "%%%\n" + auth trailer: UDP, ICMP
	Classic   Format = 2 // ">>>\n" ... "<<<\n": serial, FIFO
)

func (f Format) String() string {
	switch f {
	case Netstring:
		return "netstring"
	case Classic:
		return "classic"
	}
	return "unknown"
}

// Detect returns the encoding of payload by its prefix, or 0.
func Detect(b []byte) Format {
	switch {
	case hasPrefix(b, NetstringStart):
		return Netstring
	case hasPrefix(b, ClassicStart):
		return Classic
	}
	return 0
}

// Bounds on a received message, checked before anything is parsed or
// allocated. R1 traffic is far below both: a status is ~300
// bytes and 15 fields; the largest message, repnodes with 100 nodes of 99
// bytes, is ~20 KB and 10 fields.
const (
	MaxRecv   = 32768 // bytes; larger payloads fail with ErrTooLarge
	MaxFields = 256   // fields; more fail with ErrTooLarge
)

// Decode authenticates and parses one payload (a datagram or a serial
// frame), auto-detecting the encoding as 3.0.6 does:
//
//   - netstring: authenticated only by the trailing "LEN:N token,"
//     netstring, over the bytes "###\n" through "%%%\n"; the token is
//     recomputed with the method of index N and the key of OUR active entry
//     (the 3.0.6 quirk). An inner auth field is an ordinary field.
//   - classic: authenticated by its auth field, with index N's own method
//     and key, over the field lines other than auth.
//
// Trailing NUL bytes are accepted. Rejection is cheap and comes first: a
// payload of MaxRecv bytes or more, or with more than MaxFields fields, is
// refused unread; the framing is checked and the token verified without
// allocating per field; only an authentic payload is built into a Msg. On
// any error the message is nil; an authentication error (errors.Is ErrAuth
// or ErrAuthIndex) names the payload's src, quoted.
func (k *Keyring) Decode(b []byte) (*Msg, Format, error) {
	if len(b) >= MaxRecv {
		return nil, 0, &Error{Op: "decode", Detail: strconv.Itoa(len(b)) + " bytes", Err: ErrTooLarge}
	}
	switch Detect(b) {
	case Netstring:
		m, err := k.decodeNetstring(b)
		return m, Netstring, err
	case Classic:
		m, err := k.decodeClassic(b)
		return m, Classic, err
	}
	return nil, 0, malformed("decode", 0, "neither ### nor >>> at start")
}

// tokenOK compares a received token with the expected one in constant
// time.
func tokenOK(want, got []byte) bool { return subtle.ConstantTimeCompare(want, got) == 1 }

func nodeDetail(src []byte, hasSrc bool) string {
	if !hasSrc {
		return "no src"
	}
	return "node [" + quote(src) + "]"
}

func (k *Keyring) decodeNetstring(b []byte) (*Msg, error) {
	s, err := scanNetstring(b, MaxFields)
	if err != nil {
		return nil, err
	}
	n := s.end
	rest := b[n:]
	for len(rest) > 0 && rest[len(rest)-1] == 0 {
		rest = rest[:len(rest)-1]
	}
	if len(rest) == 0 {
		return nil, &Error{Op: "netstring", Off: n, Detail: "no auth trailer, " + nodeDetail(s.src, s.hasSrc), Err: ErrAuth}
	}
	item, next, err := peelNetstring(rest, 0)
	if err != nil || next != len(rest) {
		return nil, &Error{Op: "netstring", Off: n, Detail: "malformed auth trailer, " + nodeDetail(s.src, s.hasSrc), Err: ErrAuth}
	}
	idx, tok, ok := parseAuthValue(rest[item : next-1])
	if !ok {
		return nil, &Error{Op: "netstring", Off: n, Detail: "malformed auth trailer, " + nodeDetail(s.src, s.hasSrc), Err: ErrAuth}
	}
	if idx < 0 || idx >= MaxAuth || k.keys[idx] == nil {
		return nil, &Error{Op: "netstring", Off: n, Detail: "index " + strconv.Itoa(idx) + ", " + nodeDetail(s.src, s.hasSrc), Err: ErrAuthIndex}
	}
	var buf [64]byte
	if !tokenOK(appendToken(buf[:0], k.keys[idx].method, k.keys[k.active].key, b[:n]), tok) {
		return nil, &Error{Op: "netstring", Off: n, Detail: nodeDetail(s.src, s.hasSrc), Err: ErrAuth}
	}
	return buildNetstring(b, s), nil
}

func (k *Keyring) decodeClassic(b []byte) (*Msg, error) {
	// First pass, allocation-free: validate every line as ParseClassic
	// would, count the fields, find the first auth field and the src.
	var (
		src             []byte
		authOff         int
		hasAuth, hasSrc bool
		nf              int
		scratch, abuf   [128]byte
	)
	if !hasPrefix(b, ClassicStart) {
		return nil, malformed("classic", 0, "no >>>")
	}
	it := classicLines{b: b, p: len(ClassicStart)}
	for {
		line, off, ok, err := it.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if nf++; nf > MaxFields {
			return nil, &Error{Op: "classic", Off: off, Detail: "more than " + strconv.Itoa(MaxFields) + " fields", Err: ErrTooLarge}
		}
		t, name, val, err := classicField(line, off, scratch[:0])
		if err != nil {
			return nil, err
		}
		switch {
		case !hasAuth && string(name) == Auth:
			hasAuth, authOff = true, off
		case !hasSrc && string(name) == Src && t == String:
			hasSrc, src = true, val
		}
	}
	if !hasAuth {
		return nil, &Error{Op: "classic", Detail: "no auth field, " + nodeDetail(src, hasSrc), Err: ErrAuth}
	}
	// The auth value as parsed: LF escapes undone (binary: decoded).
	_, _, auth, _ := classicField(b[authOff:authOff+indexByte(b[authOff:], '\n')], authOff, scratch[:0])
	auth = append(abuf[:0], auth...)
	if b[authOff] != '(' {
		for i, c := range auth {
			if c == lfEscape {
				auth[i] = '\n'
			}
		}
	}
	idx, tok, ok := parseAuthValue(auth)
	if !ok {
		return nil, &Error{Op: "classic", Detail: "malformed auth field, " + nodeDetail(src, hasSrc), Err: ErrAuth}
	}
	if idx < 0 || idx >= MaxAuth || k.keys[idx] == nil {
		return nil, &Error{Op: "classic", Detail: "Invalid authentication type [" + strconv.Itoa(idx) + "] in message, " + nodeDetail(src, hasSrc), Err: ErrAuthIndex}
	}
	// Second pass: the authentication input, every line but the auth
	// fields as classicAuthInput re-encodes it (binary values in canonical
	// base64).
	in := make([]byte, 0, len(b))
	it = classicLines{b: b, p: len(ClassicStart)}
	for {
		line, off, ok, _ := it.next()
		if !ok {
			break
		}
		t, name, val, _ := classicField(line, off, scratch[:0])
		if string(name) == Auth {
			continue
		}
		if t == Binary {
			in = append(in, "(1)"...)
			in = append(in, name...)
			in = append(in, '=')
			in = b64AppendEncode(in, val)
		} else {
			in = append(in, line...)
		}
		in = append(in, '\n')
	}
	var buf [64]byte
	e := k.keys[idx]
	if !tokenOK(appendToken(buf[:0], e.method, e.key, in), tok) {
		return nil, &Error{Op: "classic", Detail: nodeDetail(src, hasSrc) + " failed authentication", Err: ErrAuth}
	}
	return ParseClassic(b)
}

// classicField splits and checks one classic line like parseClassicLine
// and checkName, without allocating when the decoded value of a binary
// field fits in tmp's capacity. A string value is returned raw (LF still
// escaped as 0x13).
func classicField(line []byte, off int, tmp []byte) (FieldType, []byte, []byte, error) {
	t, name, val, err := splitClassicLine(line, off)
	if err != nil {
		return t, name, val, err
	}
	if name[0] == '(' || indexByte(name, 0) >= 0 {
		return t, name, val, &Error{Op: "classic", Off: off, Detail: quote(name), Err: ErrBadName}
	}
	if t == Binary {
		n := b64DecodedLen(len(val))
		if n > cap(tmp) {
			tmp = make([]byte, n)
		}
		n, ok := b64Decode(tmp[:n], val)
		if !ok {
			return t, name, val, malformed("classic", off, "bad base64 in field "+quote(name))
		}
		val = tmp[:n]
	}
	return t, name, val, nil
}

// classicAuthInput is the classic authentication input: every field but the
// auth fields, as classic lines. skip is the index of the first auth field
// (all fields named auth are excluded, as in 3.0.6).
func classicAuthInput(m *Msg, skip int) ([]byte, error) {
	n := 0
	for _, f := range m.Fields {
		n += len(f.Name) + len(f.Value)*4/3 + 8
	}
	out := make([]byte, 0, n)
	for i := range m.Fields {
		if i == skip || m.Fields[i].Name == Auth {
			continue
		}
		var err error
		if out, err = appendClassicField(out, &m.Fields[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetAuth computes the classic auth field of m with the active entry and
// sets it in place (or appends it), as 3.0.6 does when msgfmt is classic.
func (k *Keyring) SetAuth(m *Msg) error {
	body, err := classicAuthInput(m, -1)
	if err != nil {
		return err
	}
	m.set(Auth, String, k.AppendAuthValue(make([]byte, 0, 48), body))
	return nil
}

// AppendNetstring appends the netstring encoding of m followed by the auth
// trailer signed with the active entry: exactly what 3.0.6 sends on UDP. m
// is sent as is (call SetAuth first for the inner auth field).
func (k *Keyring) AppendNetstring(dst []byte, m *Msg) ([]byte, error) {
	start := len(dst)
	dst, err := AppendNetstring(dst, m)
	if err != nil {
		return dst, err
	}
	var buf [64]byte
	a := k.AppendAuthValue(buf[:0], dst[start:])
	dst = strconv.AppendInt(dst, int64(len(a)), 10)
	dst = append(dst, ':')
	dst = append(dst, a...)
	dst = append(dst, ',')
	if len(dst)-start >= MaxMsg {
		return dst[:start], &Error{Op: "netstring", Detail: strconv.Itoa(len(dst)-start) + " bytes", Err: ErrTooLarge}
	}
	return dst, nil
}

// AppendClassic appends the classic text of m with a freshly computed auth
// field (in place of the first auth field, or last), as 3.0.6's serial
// writer does. m itself is not modified.
func (k *Keyring) AppendClassic(dst []byte, m *Msg) ([]byte, error) {
	ai := m.index(Auth)
	body, err := classicAuthInput(m, ai)
	if err != nil {
		return dst, err
	}
	var buf [64]byte
	a := Field{Name: Auth, Type: String, Value: k.AppendAuthValue(buf[:0], body)}
	start := len(dst)
	dst = append(dst, ClassicStart...)
	for i := range m.Fields {
		f := &m.Fields[i]
		if i == ai {
			f = &a
		}
		if dst, err = appendClassicField(dst, f); err != nil {
			return dst[:start], err
		}
	}
	if ai < 0 {
		dst, _ = appendClassicField(dst, &a)
	}
	dst = append(dst, ClassicEnd...)
	if len(dst)-start >= MaxMsg {
		return dst[:start], &Error{Op: "classic", Detail: strconv.Itoa(len(dst)-start) + " bytes", Err: ErrTooLarge}
	}
	return dst, nil
}
