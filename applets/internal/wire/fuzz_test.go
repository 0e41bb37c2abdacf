package wire

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"habox/conf"
)

func sameMsg(a, b *Msg) bool {
	if len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		x, y := a.Fields[i], b.Fields[i]
		if x.Name != y.Name || x.Type != y.Type || !bytes.Equal(x.Value, y.Value) {
			return false
		}
	}
	return true
}

func fuzzKeyring() *Keyring {
	a := &conf.Authkeys{Active: 1}
	a.Keys[1] = &conf.AuthKey{Index: 1, Method: conf.AuthSHA1, Key: []byte("hblab-sha1-key")}
	a.Keys[2] = &conf.AuthKey{Index: 2, Method: conf.AuthMD5, Key: []byte("hblab-md5-key")}
	a.Keys[3] = &conf.AuthKey{Index: 3, Method: conf.AuthCRC}
	k, err := NewKeyring(a)
	if err != nil {
		panic(err)
	}
	return k
}

func FuzzNetstring(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(vecDir, "udp", "*.bin"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte(appendixNetstring))
	f.Add([]byte("###\n%%%\n5:1 abc,"))
	kr := fuzzKeyring()
	f.Fuzz(func(t *testing.T, data []byte) {
		m, _, err := kr.Decode(data)
		if err == nil {
			out, err := kr.AppendNetstring(nil, m)
			if err != nil {
				t.Fatalf("accepted message does not re-encode: %v", err)
			}
			m2, _, err := kr.Decode(out)
			if err != nil || !sameMsg(m, m2) {
				t.Fatalf("re-encoded message does not decode back: %v", err)
			}
		}
		m, n, err := ParseNetstring(data)
		if err != nil {
			return
		}
		if n > len(data) {
			t.Fatalf("consumed %d of %d", n, len(data))
		}
		out, err := AppendNetstring(nil, m)
		if err != nil {
			return // e.g. a name with LF: decodable, not encodable
		}
		m2, n2, err := ParseNetstring(out)
		if err != nil || n2 != len(out) || !sameMsg(m, m2) {
			t.Fatalf("round trip: %v", err)
		}
		if len(out) > n {
			t.Fatalf("re-encoding %d bytes longer than input %d", len(out), n)
		}
	})
}

func FuzzClassic(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(vecDir, "serial", "*.bin"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		for i, fb := range splitFrames(b) {
			if i < 12 {
				f.Add(fb)
			}
		}
		f.Add(b[:min(len(b), 2000)])
	}
	f.Add([]byte(appendixClassic))
	f.Add([]byte(">>>\n\n\nt=a\r\n(1)x=AA==\n<<<\n\x00"))
	kr := fuzzKeyring()
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, _, err := kr.Decode(data); err == nil {
			out, err := kr.AppendClassic(nil, m)
			if err != nil {
				t.Fatalf("accepted message does not re-encode: %v", err)
			}
			if _, _, err := kr.Decode(out); err != nil {
				t.Fatalf("re-encoded message does not decode: %v", err)
			}
		}
		if m, err := ParseClassic(data); err == nil {
			if out, err := AppendClassic(nil, m); err == nil {
				m2, err := ParseClassic(out)
				if err != nil || !sameMsg(m, m2) {
					t.Fatalf("round trip: %v", err)
				}
			}
		}
	})
}

// FuzzEngine feeds arbitrary (unauthenticated) netstring messages to an
// engine: it must never panic, and its answers must stay bounded.
func FuzzEngine(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(vecDir, "udp", "*.bin"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b, int64(0))
	}
	r := New(NSRexmit)
	r.Add(Src, "linuxha1")
	r.Add(Ts, "1")
	r.Add(FirstSeq, "1")
	r.Add(LastSeq, "999999999999")
	seed, _ := AppendNetstring(nil, r)
	f.Add(seed, int64(5))
	kr := fuzzKeyring()
	f.Fuzz(func(t *testing.T, data []byte, dt int64) {
		e := NewEngine(Config{Node: "linuxha2", Nodes: []string{"linuxha1", "linuxha2"}, Keys: kr, InnerAuth: true,
			Rand: func(n int64) int64 { return n / 2 }})
		now := time.Unix(0x6b06e310, 0)
		for i := 0; i < 3; i++ {
			e.Send(New(Status), now)
		}
		for i := 0; len(data) > 0 && i < 8; i++ {
			m, n, err := ParseNetstring(data)
			if err != nil {
				return
			}
			data = data[n:]
			v := e.Receive(m, now)
			if len(v.Send) > MaxRexmitBatch+1 || len(v.Lost) > SeqGap {
				t.Fatalf("unbounded verdict: %d sends, %d lost", len(v.Send), len(v.Lost))
			}
			now = now.Add(time.Duration(dt&0xffff) * time.Millisecond)
			out, _ := e.Due(now)
			if len(out) > 2*MaxMissing {
				t.Fatalf("%d due", len(out))
			}
		}
	})
}

// refDecode is Decode as it was before the cheap-reject path (parse the
// whole message, then authenticate it), kept as the oracle of
// FuzzDecodeCheap: both must accept the same payloads and build the same
// message.
func refDecode(k *Keyring, b []byte) (*Msg, bool) {
	switch Detect(b) {
	case Netstring:
		m, n, err := ParseNetstring(b)
		if err != nil {
			return nil, false
		}
		rest := b[n:]
		for len(rest) > 0 && rest[len(rest)-1] == 0 {
			rest = rest[:len(rest)-1]
		}
		item, next, err := peelNetstring(rest, 0)
		if len(rest) == 0 || err != nil || next != len(rest) {
			return nil, false
		}
		idx, tok, ok := parseAuthValue(rest[item : next-1])
		if !ok || idx < 0 || idx >= MaxAuth || k.keys[idx] == nil {
			return nil, false
		}
		return m, string(appendToken(nil, k.keys[idx].method, k.keys[k.active].key, b[:n])) == string(tok)
	case Classic:
		m, err := ParseClassic(b)
		if err != nil {
			return nil, false
		}
		ai := m.index(Auth)
		if ai < 0 {
			return nil, false
		}
		idx, tok, ok := parseAuthValue(m.Fields[ai].Value)
		if !ok || idx < 0 || idx >= MaxAuth || k.keys[idx] == nil {
			return nil, false
		}
		body, err := classicAuthInput(m, ai)
		if err != nil {
			return nil, false
		}
		e := k.keys[idx]
		return m, string(appendToken(nil, e.method, e.key, body)) == string(tok)
	}
	return nil, false
}

// resign returns b with a valid signature under k's active entry when the
// reference parser reads it (netstring: the trailer replaced; classic: the
// first auth line replaced), so the fuzzer reaches the accepting paths.
func resign(k *Keyring, b []byte) []byte {
	switch Detect(b) {
	case Netstring:
		if _, n, err := ParseNetstring(b); err == nil {
			a := k.AppendAuthValue(nil, b[:n])
			out := append(append([]byte(nil), b[:n]...), strconv.Itoa(len(a))+":"...)
			return append(append(out, a...), ',')
		}
	case Classic:
		m, err := ParseClassic(b)
		if err != nil {
			return nil
		}
		ai := m.index(Auth)
		if ai < 0 {
			return nil
		}
		body, err := classicAuthInput(m, ai)
		if err != nil {
			return nil
		}
		it := classicLines{b: b, p: len(ClassicStart)}
		for {
			line, off, ok, _ := it.next()
			if !ok {
				return nil
			}
			if _, name, _, err := splitClassicLine(line, off); err == nil && string(name) == Auth {
				out := append([]byte(nil), b[:off]...)
				out = append(out, "auth="...)
				out = k.AppendAuthValue(out, body)
				return append(out, b[off+len(line):]...)
			}
		}
	}
	return nil
}

// FuzzDecodeCheap checks the cheap-reject Decode against the reference
// (parse, then authenticate): same verdict and same message for arbitrary
// payloads and for the same payloads validly re-signed, except that
// payloads over MaxRecv bytes or MaxFields fields must be refused.
func FuzzDecodeCheap(f *testing.F) {
	for _, dir := range []string{"udp", "serial"} {
		files, _ := filepath.Glob(filepath.Join(vecDir, dir, "*.bin"))
		for _, p := range files {
			b, _ := os.ReadFile(p)
			for i, fb := range splitFrames(b) {
				if i < 4 {
					f.Add(fb)
				}
			}
			if dir == "udp" {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(appendixNetstring))
	f.Add([]byte(appendixClassic))
	f.Add([]byte(">>>\n\nt=a\r\n(1)x=AB==\n(1)auth=MSBh\nauth=1 x\x13y\n<<<\n\x00"))
	kr := fuzzKeyring()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, resign(kr, data)} {
			if b == nil {
				continue
			}
			m, _, err := kr.Decode(b)
			ref, ok := refDecode(kr, b)
			if ok && ref != nil && (len(b) >= MaxRecv || len(ref.Fields) > MaxFields) {
				if !errors.Is(err, ErrTooLarge) {
					t.Fatalf("over the limits (%d bytes, %d fields) but: %v", len(b), len(ref.Fields), err)
				}
				continue
			}
			if (err == nil) != ok {
				t.Fatalf("Decode: %v, reference accepts: %v (%q)", err, ok, b)
			}
			if err == nil && !sameMsg(m, ref) {
				t.Fatalf("messages differ")
			}
			if err != nil && m != nil {
				t.Fatalf("message returned with error %v", err)
			}
		}
	})
}

// TestResignAccepted: FuzzDecodeCheap's re-signing does reach the
// accepting path (else the fuzzer would only compare rejections).
func TestResignAccepted(t *testing.T) {
	kr := fuzzKeyring()
	for _, in := range []string{appendixNetstring, appendixClassic, ">>>\n\nt=a\r\n(1)x=AB==\n(1)auth=MSBh\nauth=1 x\x13y\n<<<\n\x00"} {
		b := resign(kr, []byte(in))
		if _, _, err := kr.Decode(b); err != nil {
			t.Errorf("%q: %v", b, err)
		}
		if _, ok := refDecode(kr, b); !ok {
			t.Errorf("%q: reference refuses", b)
		}
	}
}
