package wire

import (
	"errors"
	"strconv"

	"habox/applets/internal/hblog"
)

// FieldType is the type code of a field (cluster-glue's FT_*).
type FieldType uint8

// The field types habox carries. Codes 2..5 (nested messages, lists,
// compressed fields) never occur in R1 traffic and are rejected on input.
const (
	String FieldType = 0 // bytes without NUL, the common case
	Binary FieldType = 1 // raw bytes, e.g. 16-byte UUIDs
)

// Well-known field names (cluster-glue include/ha_msg.h).
const (
	T           = "t"        // message type
	St          = "st"       // node status
	Dt          = "dt"       // sender's dead time in ms, hex
	Protocol    = "protocol" // "1" while flow control is on, decimal
	Src         = "src"      // sender node name
	SrcUUID     = "srcuuid"  // sender UUID, binary 16 bytes
	Seq         = "seq"      // sequence number, hex
	Hg          = "hg"       // heartbeat generation, hex
	Ts          = "ts"       // wall clock seconds, hex
	Ld          = "ld"       // first line of /proc/loadavg
	TTL         = "ttl"      // hop count, decimal
	Auth        = "auth"     // classic authentication "<index> <token>"
	Dest        = "dest"     // addressee node name
	DestUUID    = "destuuid" // addressee UUID, binary 16 bytes
	FirstSeq    = "firstseq" // NS_rexmit: decimal; NS_nak_rexmit: hex
	LastSeq     = "lastseq"  // NS_rexmit: decimal
	AckSeq      = "ackseq"   // NS_ackmsg: hex
	Info        = "info"     // comment / reason
	RscHold     = "rsc_hold" // none, local, foreign, all (failback)
	Rtype       = "rtype"    // "full"
	IsStable    = "isstable" // "0" / "1"
	NodeList    = "nodelist" // repnodes: "n1 n2 " (trailing space)
	DelNodeList = "delnodelist"
	IPAddr      = "ipaddr" // ip-request(-resp): the group key
	WeOwn       = "weown"  // ip-request-resp: yes / no
	Ok          = "ok"     // ip-request-resp: "OK"
	Node        = "node"   // stonith
	Result      = "result" // stonith
)

// Message types (values of the t field) used in R1 traffic.
const (
	Status        = "status"
	NSRexmit      = "NS_rexmit"
	NSNakRexmit   = "NS_nak_rexmit"
	NSAckMsg      = "NS_ackmsg"
	NSSt          = "NS_st"
	ReqNodes      = "reqnodes"
	RepNodes      = "repnodes"
	Starting      = "starting"
	Resource      = "resource"
	AskResources  = "ask_resources"
	HbTakeover    = "hb_takeover"
	IPRequest     = "ip-request"
	IPRequestResp = "ip-request-resp"
	Shutdone      = "shutdone"
	Stonith       = "stonith"
)

// NoSeqPrefix starts the types that carry no sequence number.
const NoSeqPrefix = "NS_"

// Field is one (name, type, value) element of a message.
type Field struct {
	Name  string
	Type  FieldType
	Value []byte
}

// Msg is a heartbeat message: an ordered list of fields. Duplicate names
// are legal; lookups return the first occurrence. The zero value is an
// empty message.
type Msg struct {
	Fields []Field
}

// New returns a message whose first field is t=typ.
func New(typ string) *Msg {
	m := &Msg{Fields: make([]Field, 0, 16)}
	m.Add(T, typ)
	return m
}

func (m *Msg) index(name string) int {
	for i := range m.Fields {
		if m.Fields[i].Name == name {
			return i
		}
	}
	return -1
}

// Lookup returns the value of the first field called name.
func (m *Msg) Lookup(name string) ([]byte, bool) {
	if i := m.index(name); i >= 0 {
		return m.Fields[i].Value, true
	}
	return nil, false
}

// Has reports whether a field called name exists.
func (m *Msg) Has(name string) bool { return m.index(name) >= 0 }

// Get returns the value of the first field called name as a string, or ""
// when absent.
func (m *Msg) Get(name string) string {
	if i := m.index(name); i >= 0 {
		return string(m.Fields[i].Value)
	}
	return ""
}

// Type returns the message type (the t field).
func (m *Msg) Type() string { return m.Get(T) }

// IsNoSeq reports whether the message type starts with "NS_": such
// messages carry no seq and no ld and are not sequence-tracked.
func (m *Msg) IsNoSeq() bool {
	v, _ := m.Lookup(T)
	return len(v) >= 3 && string(v[:3]) == NoSeqPrefix
}

// Set replaces the value of the first field called name with a string
// value, in place, or appends the field.
func (m *Msg) Set(name, value string) { m.set(name, String, []byte(value)) }

// SetBinary replaces the first field called name with a binary value (the
// slice is copied), in place, or appends the field.
func (m *Msg) SetBinary(name string, value []byte) {
	m.set(name, Binary, append([]byte(nil), value...))
}

func (m *Msg) set(name string, t FieldType, v []byte) {
	if i := m.index(name); i >= 0 {
		m.Fields[i].Type, m.Fields[i].Value = t, v
		return
	}
	m.Fields = append(m.Fields, Field{Name: name, Type: t, Value: v})
}

// Add appends a string field, even if one with that name exists.
func (m *Msg) Add(name, value string) {
	m.Fields = append(m.Fields, Field{Name: name, Type: String, Value: []byte(value)})
}

// AddBinary appends a binary field (the slice is copied).
func (m *Msg) AddBinary(name string, value []byte) {
	m.Fields = append(m.Fields, Field{Name: name, Type: Binary, Value: append([]byte(nil), value...)})
}

// Del removes every field called name.
func (m *Msg) Del(name string) {
	out := m.Fields[:0]
	for _, f := range m.Fields {
		if f.Name != name {
			out = append(out, f)
		}
	}
	for i := len(out); i < len(m.Fields); i++ {
		m.Fields[i] = Field{}
	}
	m.Fields = out
}

// Clone returns a deep copy of m.
func (m *Msg) Clone() *Msg {
	c := &Msg{Fields: make([]Field, len(m.Fields))}
	for i, f := range m.Fields {
		c.Fields[i] = Field{Name: f.Name, Type: f.Type, Value: append([]byte(nil), f.Value...)}
	}
	return c
}

// ErrNoField is returned by the typed accessors for an absent field.
var ErrNoField = errors.New("field missing")

// ErrNumber is returned by the typed accessors for a value that is not a
// number in the expected base.
var ErrNumber = errors.New("bad number")

// Hex returns the first field called name parsed as lower- or upper-case
// hexadecimal (seq, hg, ts, dt, ackseq, NS_nak_rexmit's firstseq). At most
// 16 digits; no sign, prefix or spaces.
func (m *Msg) Hex(name string) (uint64, error) {
	v, ok := m.Lookup(name)
	if !ok {
		return 0, &Error{Op: name, Err: ErrNoField}
	}
	n, ok := parseHex(v)
	if !ok {
		return 0, &Error{Op: name, Detail: quote(v), Err: ErrNumber}
	}
	return n, nil
}

// SetHex sets name to v in lower-case hex without leading zeros (%lx).
func (m *Msg) SetHex(name string, v uint64) {
	m.set(name, String, strconv.AppendUint(nil, v, 16))
}

// Dec returns the first field called name parsed as an unsigned decimal
// (NS_rexmit's firstseq/lastseq, protocol, ttl).
func (m *Msg) Dec(name string) (uint64, error) {
	v, ok := m.Lookup(name)
	if !ok {
		return 0, &Error{Op: name, Err: ErrNoField}
	}
	n, ok := parseDec(v)
	if !ok {
		return 0, &Error{Op: name, Detail: quote(v), Err: ErrNumber}
	}
	return n, nil
}

// SetDec sets name to v in decimal.
func (m *Msg) SetDec(name string, v uint64) {
	m.set(name, String, strconv.AppendUint(nil, v, 10))
}

// UUID returns a 16-byte binary field (srcuuid, destuuid); ok is false
// when the field is absent, not binary, or not 16 bytes long.
func (m *Msg) UUID(name string) (u [16]byte, ok bool) {
	i := m.index(name)
	if i < 0 || m.Fields[i].Type != Binary || len(m.Fields[i].Value) != 16 {
		return u, false
	}
	copy(u[:], m.Fields[i].Value)
	return u, true
}

func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | uint64(d)
	}
	return n, true
}

func parseDec(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// Error is a wire-level error: what was being done, where, and the
// category (one of the Err* sentinels, testable with errors.Is).
type Error struct {
	Op     string // "netstring", "classic", "auth", a field name...
	Off    int    // byte offset in the input, -1 when irrelevant
	Detail string
	Err    error
}

func (e *Error) Error() string {
	s := e.Op
	if e.Off > 0 {
		s += " at byte " + strconv.Itoa(e.Off)
	}
	s += ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the category sentinel.
func (e *Error) Unwrap() error { return e.Err }

// quote renders peer bytes for an error message (see hblog.Quote).
func quote(b []byte) string { return hblog.Quote(string(b)) }
