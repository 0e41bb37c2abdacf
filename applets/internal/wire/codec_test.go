package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"habox/conf"
)

// Appendix A.1 of the compatibility spec.
func TestAppendixA1(t *testing.T) {
	tests := []struct {
		in, key         string
		crc, md5, sha1_ string
	}{
		{"t=status\nst=active\n", "secret", "b7e1ed97", "0b8613f5699fe06384fb2e94291b385a", "07f984b16bbabff2152a828d70f0cd018933e7d8"},
		{"abc", strings.Repeat("K", 100), "d3e8c673", "a066dbf178348d094135cb2cf83557cc", "062ac27fbecdd280c9bd12d9e4de532d8f7a6a51"},
		{"x\xffy", "k", "2d4c2bb6", "21187208f31d99ecdb013b7eb41af48d", "7251711575d09db6a58a062a035890c40a566949"},
		{"", "k", "ffffffff", "cd32bedd46aa63cffa3023f050fc78e3", "3a84a218ee6665209bb70e84525dd837645a1965"},
	}
	for _, tc := range tests {
		for _, mc := range []struct {
			m    conf.AuthMethod
			want string
		}{{conf.AuthCRC, tc.crc}, {conf.AuthMD5, tc.md5}, {conf.AuthSHA1, tc.sha1_}} {
			kr, err := NewKeyringFor(3, mc.m, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := kr.Token(3, []byte(tc.in))
			if err != nil || got != mc.want {
				t.Errorf("%s(%q, %q) = %q %v, want %q", mc.m, tc.key, tc.in, got, err, mc.want)
			}
		}
	}
	// CRC-32/CKSUM check value (without length): 765e7680.
	if c := CRC([]byte("123456789")); c != 0x765e7680 {
		t.Errorf("CRC(123456789) = %08x", c)
	}
	// No leading zeros: find an input whose CRC starts with a zero nibble.
	kr, _ := NewKeyringFor(0, conf.AuthCRC, "")
	for i := 0; i < 1000; i++ {
		in := []byte{byte(i), byte(i >> 8)}
		if CRC(in) < 0x10000000 {
			tok, _ := kr.Token(0, in)
			if len(tok) >= 8 || tok[0] == '0' {
				t.Errorf("crc token %q has leading zeros", tok)
			}
			break
		}
	}
}

func appendixMsg() *Msg {
	m := New(Status)
	m.Add(St, "active")
	m.Add(Dt, "7530")
	m.Add(Protocol, "1")
	m.Add(Src, "alice")
	m.AddBinary(SrcUUID, []byte{0x3f, 0x2c, 0x11, 0x8e, 0x5d, 0x4a, 0x4b, 0x0c, 0x9e, 0x21, 0x6d, 0x7a, 0x50, 0x01, 0xaa, 0x42})
	m.Add(Seq, "2b")
	m.Add(Hg, "5f1e9a01")
	m.Add(Ts, "674467a0")
	m.Add(Ld, "0.05 0.03 0.00 1/123 4567")
	m.Add(TTL, "3")
	return m
}

const appendixClassic = ">>>\nt=status\nst=active\ndt=7530\nprotocol=1\nsrc=alice\n(1)srcuuid=PywRjl1KSwyeIW16UAGqQg==\n" +
	"seq=2b\nhg=5f1e9a01\nts=674467a0\nld=0.05 0.03 0.00 1/123 4567\nttl=3\nauth=1 b7b1f0c6fb4825edfedc6f67db00d2e18d0ef5d9\n<<<\n"

const appendixNetstring = "###\n11:(0)t=status,12:(0)st=active,10:(0)dt=7530,13:(0)protocol=1,12:(0)src=alice," +
	"27:(1)srcuuid=?,\x11\x8e]JK\x0c\x9e!mzP\x01\xaaB,9:(0)seq=2b,14:(0)hg=5f1e9a01," +
	"14:(0)ts=674467a0,31:(0)ld=0.05 0.03 0.00 1/123 4567,8:(0)ttl=3," +
	"50:(0)auth=1 b7b1f0c6fb4825edfedc6f67db00d2e18d0ef5d9,%%%\n" +
	"42:1 63079c0dd884a49f609ca6509fe68fa161b4bd6d,"

func TestAppendixA2(t *testing.T) {
	if len(appendixNetstring) != 311 {
		t.Fatalf("test constant is %d bytes", len(appendixNetstring))
	}
	kr, _ := NewKeyringFor(1, conf.AuthSHA1, "HI!")
	m := appendixMsg()
	body, _ := classicAuthInput(m, -1)
	for _, c := range []struct {
		m         conf.AuthMethod
		key, want string
	}{{conf.AuthCRC, "", "7557c5d0"}, {conf.AuthMD5, "Hello!", "fc55c02e647615159b9c8ecc0038a0b8"}, {conf.AuthSHA1, "HI!", "b7b1f0c6fb4825edfedc6f67db00d2e18d0ef5d9"}} {
		k, _ := NewKeyringFor(1, c.m, c.key)
		if got, _ := k.Token(1, body); got != c.want {
			t.Errorf("classic %s = %s, want %s", c.m, got, c.want)
		}
	}
	if err := kr.SetAuth(m); err != nil {
		t.Fatal(err)
	}
	cl, err := AppendClassic(nil, m)
	if err != nil || string(cl) != appendixClassic {
		t.Errorf("classic:\n%q\nwant\n%q (%v)", cl, appendixClassic, err)
	}
	ns, err := kr.AppendNetstring(nil, m)
	if err != nil || string(ns) != appendixNetstring {
		t.Errorf("netstring:\n%q\nwant\n%q (%v)", ns, appendixNetstring, err)
	}
	k5, _ := NewKeyringFor(1, conf.AuthMD5, "Hello!")
	if got, _ := k5.Token(1, []byte(appendixNetstring[:265])); got != "9bf1ad5e95637c8dbd6ca17402898903" {
		t.Errorf("netstring md5 = %s", got)
	}
	for _, in := range []string{appendixNetstring, appendixClassic, appendixClassic + "\x00"} {
		d, _, err := kr.Decode([]byte(in))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if u, ok := d.UUID(SrcUUID); !ok || u[0] != 0x3f || u[1] != ',' {
			t.Errorf("uuid %x", u)
		}
		if s, _ := d.Hex(Seq); s != 0x2b {
			t.Errorf("seq %d", s)
		}
	}
}

// TestNetstringQuirk: netstring verification uses our active key with the
// method of the received index; classic uses the index's own key.
func TestNetstringQuirk(t *testing.T) {
	sender, _ := NewKeyringFor(2, conf.AuthSHA1, "old")
	a := &conf.Authkeys{Active: 1}
	a.Keys[1] = &conf.AuthKey{Index: 1, Method: conf.AuthSHA1, Key: []byte("new")}
	a.Keys[2] = &conf.AuthKey{Index: 2, Method: conf.AuthSHA1, Key: []byte("old")}
	recv, err := NewKeyring(a)
	if err != nil {
		t.Fatal(err)
	}
	m := appendixMsg()
	ns, _ := sender.AppendNetstring(nil, m)
	if _, _, err := recv.Decode(ns); !errors.Is(err, ErrAuth) {
		t.Errorf("netstring with index 2 and key old: %v, want ErrAuth (3.0.6 quirk)", err)
	}
	cl, _ := sender.AppendClassic(nil, m)
	if _, _, err := recv.Decode(cl); err != nil {
		t.Errorf("classic with index 2: %v", err)
	}
	// The quirk the other way: index 2 (sha1, key old) signed with key
	// "new" verifies.
	q, _ := NewKeyringFor(2, conf.AuthSHA1, "new")
	ns, _ = q.AppendNetstring(nil, m)
	if _, _, err := recv.Decode(ns); err != nil {
		t.Errorf("netstring quirk: %v", err)
	}
	// Unknown index.
	u, _ := NewKeyringFor(7, conf.AuthSHA1, "new")
	ns, _ = u.AppendNetstring(nil, m)
	if _, _, err := recv.Decode(ns); !errors.Is(err, ErrAuthIndex) {
		t.Errorf("unknown index: %v", err)
	}
	cl, _ = u.AppendClassic(nil, m)
	if d, _, err := recv.Decode(cl); !errors.Is(err, ErrAuthIndex) || d != nil || !strings.Contains(err.Error(), `node ["alice"]`) {
		t.Errorf("unknown index classic: %v", err)
	}
}

func TestKeyringErrors(t *testing.T) {
	if _, err := NewKeyring(nil); err == nil {
		t.Error("nil authkeys accepted")
	}
	if _, err := NewKeyring(&conf.Authkeys{Active: 3}); err == nil {
		t.Error("missing active accepted")
	}
	if _, err := NewKeyringFor(16, conf.AuthCRC, ""); err == nil {
		t.Error("index 16 accepted")
	}
	if _, err := NewKeyringFor(1, "sha256", "x"); err == nil {
		t.Error("sha256 accepted")
	}
}

func TestMalformed(t *testing.T) {
	kr, _ := NewKeyringFor(1, conf.AuthCRC, "")
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrMalformed},
		{"garbage", "hello", ErrMalformed},
		{"no end", "###\n11:(0)t=status,", ErrMalformed},
		{"bad len", "###\n12:(0)t=status,%%%\n", ErrMalformed},
		{"huge len", "###\n99999999999:(0)t=status,%%%\n", ErrMalformed},
		{"neg len", "###\n-1:(0)t=status,%%%\n", ErrMalformed},
		{"no colon", "###\n11(0)t=status,%%%\n", ErrMalformed},
		{"type 2", "###\n11:(2)t=status,%%%\n", ErrFieldType},
		{"type x", "###\n11:(x)t=status,%%%\n", ErrMalformed},
		{"no =", "###\n10:(0)tstatus,%%%\n", ErrMalformed},
		{"empty name", "###\n10:(0)=status,%%%\n", ErrMalformed},
		{"no trailer", "###\n11:(0)t=status,%%%\n", ErrAuth},
		{"bad trailer", "###\n11:(0)t=status,%%%\n9:1 abc,", ErrAuth},
		{"trailer junk", "###\n11:(0)t=status,%%%\n5:1 abc,x", ErrAuth},
		{"trailer idx", "###\n11:(0)t=status,%%%\n6:16 abc,", ErrAuthIndex},
		{"classic no end", ">>>\nt=status\n", ErrMalformed},
		{"classic no LF end", ">>>\nt=status\n<<<", ErrMalformed},
		{"classic (0)", ">>>\n(0)t=status\n<<<\n", ErrFieldType},
		{"classic (3)", ">>>\n(3)t=status\n<<<\n", ErrFieldType},
		{"classic bad b64", ">>>\n(1)u=%%%\n<<<\n", ErrMalformed},
		{"classic no =", ">>>\nstatus\n<<<\n", ErrMalformed},
		{"classic no auth", ">>>\nt=status\n<<<\n", ErrAuth},
		{"classic bad auth", ">>>\nt=status\nauth=x\n<<<\n", ErrAuth},
		{"classic auth idx", ">>>\nt=status\nauth=4 1234\n<<<\n", ErrAuthIndex},
		{"classic after", ">>>\nt=status\n<<<\nx", ErrMalformed},
		{"too big", "###\n" + strings.Repeat("x", MaxMsg), ErrTooLarge},
		{"over MaxRecv", "###\n" + strings.Repeat("x", MaxRecv), ErrTooLarge},
		{"too many fields", "###\n" + strings.Repeat("5:(0)a=,", MaxFields+1) + "%%%\n", ErrTooLarge},
		{"classic too many fields", ">>>\n" + strings.Repeat("a=\n", MaxFields+1) + "<<<\n", ErrTooLarge},
		{"classic bad name", ">>>\n(1)(a=AA==\n<<<\n", ErrBadName},
		{"max fields", "###\n" + strings.Repeat("5:(0)a=,", MaxFields) + "%%%\n", ErrAuth},
		{"classic max fields", ">>>\n" + strings.Repeat("a=\n", MaxFields) + "<<<\n", ErrAuth},
	}
	for _, tc := range tests {
		_, _, err := kr.Decode([]byte(tc.in))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err=%v, want %v", tc.name, err, tc.want)
		}
	}
	// Blank lines are skipped and CR is part of a value (3.0.6).
	m, err := ParseClassic([]byte(">>>\n\n\nt=a\r\nx=\n<<<\n\x00\x00"))
	if err != nil || m.Get(T) != "a\r" || !m.Has("x") || m.Get("x") != "" {
		t.Errorf("ParseClassic: %v %v", m, err)
	}
}

func TestEncodeErrors(t *testing.T) {
	kr, _ := NewKeyringFor(1, conf.AuthCRC, "")
	for _, m := range []*Msg{
		{Fields: []Field{{Name: "", Value: []byte("x")}}},
		{Fields: []Field{{Name: "a=b", Value: []byte("x")}}},
		{Fields: []Field{{Name: "a\nb", Value: []byte("x")}}},
		{Fields: []Field{{Name: "(1)a", Value: []byte("x")}}},
		{Fields: []Field{{Name: "a", Type: 2, Value: []byte("x")}}},
		{Fields: []Field{{Name: "a", Value: make([]byte, MaxMsg)}}},
	} {
		if _, err := kr.AppendNetstring(nil, m); err == nil {
			t.Errorf("netstring %q accepted", m.Fields[0].Name)
		}
		if _, err := kr.AppendClassic(nil, m); err == nil {
			t.Errorf("classic %q accepted", m.Fields[0].Name)
		}
	}
	m := &Msg{Fields: []Field{{Name: "a", Value: []byte("x\x13y")}}}
	if _, err := AppendClassic(nil, m); !errors.Is(err, ErrBadValue) {
		t.Errorf("0x13 in classic: %v", err)
	}
	if _, err := AppendNetstring(nil, m); err != nil {
		t.Errorf("0x13 in netstring: %v", err)
	}
	// LF round trip through 0x13 escaping.
	m = New("x")
	m.Add("a", "line1\nline2")
	b, _ := kr.AppendClassic(nil, m)
	if !bytes.Contains(b, []byte("a=line1\x13line2\n")) {
		t.Errorf("LF not escaped: %q", b)
	}
	d, _, err := kr.Decode(b)
	if err != nil || d.Get("a") != "line1\nline2" {
		t.Errorf("LF round trip: %q %v", d.Get("a"), err)
	}
}

func TestMsgHelpers(t *testing.T) {
	m := New(Status)
	m.Add("x", "1")
	m.Add("x", "2")
	if m.Get("x") != "1" || m.Type() != Status {
		t.Error("lookup must return the first")
	}
	m.Set("x", "3")
	if m.Get("x") != "3" || len(m.Fields) != 3 {
		t.Error("Set must replace the first in place")
	}
	m.Set("y", "4")
	if m.Fields[3].Name != "y" {
		t.Error("Set must append")
	}
	m.Del("x")
	if m.Has("x") || len(m.Fields) != 2 {
		t.Errorf("Del: %v", m.Fields)
	}
	m.SetHex(Seq, 0x2b)
	m.SetDec(FirstSeq, 43)
	if m.Get(Seq) != "2b" || m.Get(FirstSeq) != "43" {
		t.Error("SetHex/SetDec")
	}
	if v, err := m.Hex(Seq); v != 43 || err != nil {
		t.Error("Hex")
	}
	if v, err := m.Dec(FirstSeq); v != 43 || err != nil {
		t.Error("Dec")
	}
	for _, bad := range []string{"", "0x10", "-1", "1 ", "g", "11111111111111111"} {
		m.Set("n", bad)
		if _, err := m.Hex("n"); !errors.Is(err, ErrNumber) {
			t.Errorf("Hex(%q) = %v", bad, err)
		}
	}
	if _, err := m.Hex("absent"); !errors.Is(err, ErrNoField) {
		t.Error("absent")
	}
	m.Set("n", "12a")
	if _, err := m.Dec("n"); !errors.Is(err, ErrNumber) {
		t.Error("Dec(12a)")
	}
	if m.IsNoSeq() || !New(NSAckMsg).IsNoSeq() {
		t.Error("IsNoSeq")
	}
	c := m.Clone()
	c.Fields[0].Value[0] = 'X'
	if m.Type() != Status {
		t.Error("Clone shares memory")
	}
}
