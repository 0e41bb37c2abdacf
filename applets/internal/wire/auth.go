package wire

import (
	"errors"
	"strconv"

	"habox/applets/internal/wire/digest"
	"habox/conf"
)

// Authentication error categories.
var (
	ErrAuth      = errors.New("authentication failed")
	ErrAuthIndex = errors.New("unknown auth index")
	ErrNoKeys    = errors.New("no usable authkeys")
)

// MaxAuth is the number of authkeys indices (0..15).
const MaxAuth = 16

type keyEntry struct {
	method conf.AuthMethod
	key    []byte
}

// Keyring holds the authkeys entries: the active one signs, any defined
// one verifies classic messages, and netstring messages are verified with
// the 3.0.6 quirk (method of the received index, key of the active entry).
// A Keyring is immutable and safe for concurrent use.
type Keyring struct {
	active int
	keys   [MaxAuth]*keyEntry
}

// NewKeyring builds a Keyring from parsed authkeys. The active entry must
// exist; every entry must use crc, md5 or sha1.
func NewKeyring(a *conf.Authkeys) (*Keyring, error) {
	if a == nil {
		return nil, &Error{Op: "authkeys", Err: ErrNoKeys}
	}
	k := &Keyring{active: a.Active}
	for i, e := range a.Keys {
		if e == nil {
			continue
		}
		switch e.Method {
		case conf.AuthCRC, conf.AuthMD5, conf.AuthSHA1:
		default:
			return nil, &Error{Op: "authkeys", Detail: "index " + strconv.Itoa(i) + ": method " + strconv.Quote(string(e.Method)), Err: ErrNoKeys}
		}
		k.keys[i] = &keyEntry{method: e.Method, key: append([]byte(nil), e.Key...)}
	}
	if a.Active < 0 || a.Active >= MaxAuth || k.keys[a.Active] == nil {
		return nil, &Error{Op: "authkeys", Detail: "active index " + strconv.Itoa(a.Active) + " not defined", Err: ErrNoKeys}
	}
	return k, nil
}

// NewKeyringFor is a convenience for tests and tools: a keyring with a
// single entry at index, active.
func NewKeyringFor(index int, method conf.AuthMethod, key string) (*Keyring, error) {
	a := &conf.Authkeys{Active: index}
	if index >= 0 && index < MaxAuth {
		a.Keys[index] = &conf.AuthKey{Index: index, Method: method, Key: []byte(key)}
	}
	return NewKeyring(a)
}

// Active returns the index that signs outgoing messages.
func (k *Keyring) Active() int { return k.active }

// Method returns the method of index i ("" when undefined).
func (k *Keyring) Method(i int) conf.AuthMethod {
	if i < 0 || i >= MaxAuth || k.keys[i] == nil {
		return ""
	}
	return k.keys[i].method
}

// Token computes the token of data with index i's own method and key.
func (k *Keyring) Token(i int, data []byte) (string, error) {
	if i < 0 || i >= MaxAuth || k.keys[i] == nil {
		return "", &Error{Op: "auth", Detail: "index " + strconv.Itoa(i), Err: ErrAuthIndex}
	}
	e := k.keys[i]
	return string(appendToken(nil, e.method, e.key, data)), nil
}

// AppendAuthValue appends "<active> <token>" for data, signed with the
// active entry.
func (k *Keyring) AppendAuthValue(dst, data []byte) []byte {
	e := k.keys[k.active]
	dst = strconv.AppendInt(dst, int64(k.active), 10)
	dst = append(dst, ' ')
	return appendToken(dst, e.method, e.key, data)
}

// appendToken appends the lower-case token of data.
func appendToken(dst []byte, method conf.AuthMethod, key, data []byte) []byte {
	var kind digest.Kind
	switch method {
	case conf.AuthCRC:
		return strconv.AppendUint(dst, uint64(CRC(data)), 16)
	case conf.AuthMD5:
		kind = digest.MD5
	case conf.AuthSHA1:
		kind = digest.SHA1
	default:
		return dst
	}
	for _, c := range digest.HMAC(kind, key, data) {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// crcTable is the MSB-first table of polynomial 0x04C11DB7.
var crcTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for j := 0; j < 8; j++ {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC is heartbeat's crc method: CRC-32/CKSUM without the length, i.e.
// polynomial 0x04C11DB7 MSB-first, initial 0, final complement. It is not
// hash/crc32's IEEE checksum. Tokens print it with %lx (no leading zeros).
func CRC(data []byte) uint32 {
	var c uint32
	for _, b := range data {
		c = c<<8 ^ crcTable[byte(c>>24)^b]
	}
	return ^c
}

// parseAuthValue splits "<index> <token>" like sscanf("%d %s"): optional
// leading blanks, a decimal index, blanks, then a token up to the next
// blank.
func parseAuthValue(v []byte) (int, []byte, bool) {
	p := 0
	for p < len(v) && isSpace(v[p]) {
		p++
	}
	q := p
	for q < len(v) && v[q] >= '0' && v[q] <= '9' && q-p < 4 {
		q++
	}
	if q == p {
		return 0, nil, false
	}
	idx, _ := strconv.Atoi(string(v[p:q]))
	r := q
	for r < len(v) && isSpace(v[r]) {
		r++
	}
	if r == q {
		return 0, nil, false
	}
	s := r
	for s < len(v) && !isSpace(v[s]) {
		s++
	}
	if s == r {
		return 0, nil, false
	}
	return idx, v[r:s], true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
