package wire

import (
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

// Decode parses and authenticates one payload (a datagram or a serial
// frame), auto-detecting the encoding as 3.0.6 does:
//
//   - netstring: authenticated only by the trailing "LEN:N token,"
//     netstring, over the bytes "###\n" through "%%%\n"; the token is
//     recomputed with the method of index N and the key of OUR active entry
//     (the 3.0.6 quirk). An inner auth field is an ordinary field.
//   - classic: authenticated by its auth field, with index N's own method
//     and key, over the field lines other than auth.
//
// Trailing NUL bytes are accepted. On an authentication failure (errors.Is
// ErrAuth or ErrAuthIndex) the parsed message is returned as well, so the
// caller can log its src; on any other error the message is nil.
func (k *Keyring) Decode(b []byte) (*Msg, Format, error) {
	if len(b) >= MaxMsg {
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

func (k *Keyring) decodeNetstring(b []byte) (*Msg, error) {
	m, n, err := ParseNetstring(b)
	if err != nil {
		return nil, err
	}
	rest := b[n:]
	for len(rest) > 0 && rest[len(rest)-1] == 0 {
		rest = rest[:len(rest)-1]
	}
	if len(rest) == 0 {
		return m, &Error{Op: "netstring", Off: n, Detail: "no auth trailer", Err: ErrAuth}
	}
	item, next, err := peelNetstring(rest, 0)
	if err != nil || next != len(rest) {
		return m, &Error{Op: "netstring", Off: n, Detail: "malformed auth trailer", Err: ErrAuth}
	}
	idx, tok, ok := parseAuthValue(rest[item : next-1])
	if !ok {
		return m, &Error{Op: "netstring", Off: n, Detail: "malformed auth trailer", Err: ErrAuth}
	}
	if idx < 0 || idx >= MaxAuth || k.keys[idx] == nil {
		return m, &Error{Op: "netstring", Off: n, Detail: "index " + strconv.Itoa(idx), Err: ErrAuthIndex}
	}
	var buf [64]byte
	want := appendToken(buf[:0], k.keys[idx].method, k.keys[k.active].key, b[:n])
	if string(want) != string(tok) {
		return m, &Error{Op: "netstring", Off: n, Detail: "node [" + quote([]byte(m.Get(Src))) + "]", Err: ErrAuth}
	}
	return m, nil
}

func (k *Keyring) decodeClassic(b []byte) (*Msg, error) {
	m, err := ParseClassic(b)
	if err != nil {
		return nil, err
	}
	ai := m.index(Auth)
	if ai < 0 {
		return m, &Error{Op: "classic", Detail: "no auth field, node [" + quote([]byte(m.Get(Src))) + "]", Err: ErrAuth}
	}
	idx, tok, ok := parseAuthValue(m.Fields[ai].Value)
	if !ok {
		return m, &Error{Op: "classic", Detail: "malformed auth field, node [" + quote([]byte(m.Get(Src))) + "]", Err: ErrAuth}
	}
	if idx < 0 || idx >= MaxAuth || k.keys[idx] == nil {
		return m, &Error{Op: "classic", Detail: "Invalid authentication type [" + strconv.Itoa(idx) + "] in message", Err: ErrAuthIndex}
	}
	body, err := classicAuthInput(m, ai)
	if err != nil {
		return m, err
	}
	var buf [64]byte
	e := k.keys[idx]
	if string(appendToken(buf[:0], e.method, e.key, body)) != string(tok) {
		return m, &Error{Op: "classic", Detail: "node [" + quote([]byte(m.Get(Src))) + "] failed authentication", Err: ErrAuth}
	}
	return m, nil
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
