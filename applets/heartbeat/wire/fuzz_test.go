package wire

import (
	"bytes"
	"os"
	"path/filepath"
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
