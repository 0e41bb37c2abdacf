package wire

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"habox/conf"
)

// The vectors are a copy of /work/shared/vectors (captured from the real
// heartbeat 3.0.6), kept in testdata so the tests are self-contained.
const vecDir = "testdata/vectors"

var vecKeys = map[string]struct {
	method conf.AuthMethod
	key    string
}{
	"sha1": {conf.AuthSHA1, "hblab-sha1-key"},
	"md5":  {conf.AuthMD5, "hblab-md5-key"},
	"crc":  {conf.AuthCRC, ""},
}

var vecUUID = map[string][]byte{
	"linuxha1": {0x1a, 0x5e, 0x1d, 0x01, 0x4b, 0x1a, 0x4c, 0x3b, 0x9d, 0, 0, 0, 0, 0, 0, 1},
	"linuxha2": {0x1a, 0x5e, 0x1d, 0x02, 0x4b, 0x1a, 0x4c, 0x3b, 0x9d, 0, 0, 0, 0, 0, 0, 2},
}

type vecRow struct {
	file, auth, typ, fields, from, seq, event, addr string
	size                                            int
}

func loadIndex(t testing.TB) []vecRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vecDir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []vecRow
	for i, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if i == 0 {
			continue
		}
		c := strings.Split(l, "\t")
		if len(c) != 10 {
			t.Fatalf("index.tsv line %d: %d columns", i+1, len(c))
		}
		n, _ := strconv.Atoi(c[8])
		rows = append(rows, vecRow{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], n})
	}
	if len(rows) != 43 {
		t.Fatalf("index.tsv: %d rows, want 43", len(rows))
	}
	return rows
}

func vecKeyring(t testing.TB, auth string) *Keyring {
	t.Helper()
	k, ok := vecKeys[auth]
	if !ok {
		t.Fatalf("unknown auth %q", auth)
	}
	kr, err := NewKeyringFor(1, k.method, k.key)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// wrongKeyring has the same method at index 1 but another key (for crc,
// which has no key, md5 at index 1 stands in).
func wrongKeyring(t testing.TB, auth string) *Keyring {
	k := vecKeys[auth]
	var kr *Keyring
	var err error
	if k.method == conf.AuthCRC {
		kr, err = NewKeyringFor(1, conf.AuthMD5, "x")
	} else {
		kr, err = NewKeyringFor(1, k.method, k.key+"x")
	}
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func readVec(t testing.TB, f string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vecDir, f))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkCommon checks the control fields every captured message carries.
func checkCommon(t *testing.T, name string, m *Msg, from string) {
	t.Helper()
	if got := m.Get(Src); got != from {
		t.Errorf("%s: src=%q, want %q", name, got, from)
	}
	if u, ok := m.UUID(SrcUUID); !ok || !bytes.Equal(u[:], vecUUID[from]) {
		t.Errorf("%s: srcuuid=%x, want %x", name, u, vecUUID[from])
	}
	for _, f := range []string{Hg, Ts} {
		if _, err := m.Hex(f); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if ttl, err := m.Dec(TTL); err != nil || ttl != 3 {
		t.Errorf("%s: ttl=%d %v, want 3", name, ttl, err)
	}
	if d := m.Get(Dest); d != "" {
		if u, ok := m.UUID(DestUUID); !ok || !bytes.Equal(u[:], vecUUID[d]) {
			t.Errorf("%s: destuuid=%x for dest %s", name, u, d)
		}
	}
	if m.Fields[len(m.Fields)-1].Name != Auth {
		t.Errorf("%s: last field %q, want auth", name, m.Fields[len(m.Fields)-1].Name)
	}
	if m.IsNoSeq() {
		if m.Has(Seq) || m.Has(Ld) {
			t.Errorf("%s: NS_ message with seq/ld", name)
		}
	} else if _, err := m.Hex(Seq); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

func TestVectorsUDP(t *testing.T) {
	n := 0
	for _, r := range loadIndex(t) {
		if !strings.HasPrefix(r.file, "udp/") {
			continue
		}
		n++
		t.Run(r.file, func(t *testing.T) {
			b := readVec(t, r.file)
			if len(b) != r.size {
				t.Fatalf("size %d, index says %d", len(b), r.size)
			}
			kr := vecKeyring(t, r.auth)
			m, f, err := kr.Decode(b)
			if err != nil || f != Netstring {
				t.Fatalf("Decode: %v (format %v)", err, f)
			}
			if m.Type() != r.typ {
				t.Errorf("t=%q, want %q", m.Type(), r.typ)
			}
			checkCommon(t, r.file, m, r.from)
			if r.seq != "" && m.Get(Seq) != r.seq {
				t.Errorf("seq=%q, want %q", m.Get(Seq), r.seq)
			}
			if r.fields != "" {
				for _, kv := range strings.Split(r.fields, ",") {
					name, val, _ := strings.Cut(kv, "=")
					if got := m.Get(name); got != val {
						t.Errorf("%s=%q, want %q", name, got, val)
					}
				}
			}
			// Re-encode: byte-identical, including the trailer.
			out, err := kr.AppendNetstring(nil, m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, b) {
				t.Errorf("re-encoding differs:\n got %q\nwant %q", out, b)
			}
			// The inner auth field is the classic auth of the other fields.
			c := m.Clone()
			c.Del(Auth)
			if err := kr.SetAuth(c); err != nil {
				t.Fatal(err)
			}
			if c.Get(Auth) != m.Get(Auth) {
				t.Errorf("inner auth %q, recomputed %q", m.Get(Auth), c.Get(Auth))
			}
			// The classic form of the same message authenticates too.
			cl, err := kr.AppendClassic(nil, m)
			if err != nil {
				t.Fatal(err)
			}
			m2, f2, err := kr.Decode(cl)
			if err != nil || f2 != Classic {
				t.Fatalf("classic round trip: %v", err)
			}
			if out2, _ := kr.AppendNetstring(nil, m2); !bytes.Equal(out2, b) {
				t.Errorf("classic round trip changed the message")
			}
			// Wrong key: rejected.
			if _, _, err := wrongKeyring(t, r.auth).Decode(b); !errors.Is(err, ErrAuth) {
				t.Errorf("wrong key: err=%v, want ErrAuth", err)
			}
		})
	}
	if n != 37 {
		t.Errorf("%d udp vectors, want 37", n)
	}
}

// serialCounts parses "91 messages: NS_ackmsg*16,ask_resources*4,...".
func serialCounts(t *testing.T, s string) (int, map[string]int) {
	total, rest, ok := strings.Cut(s, " messages: ")
	if !ok {
		t.Fatalf("bad fields column %q", s)
	}
	n, _ := strconv.Atoi(total)
	m := map[string]int{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(kv, "*")
		m[k], _ = strconv.Atoi(v)
	}
	return n, m
}

func TestVectorsSerial(t *testing.T) {
	n := 0
	for _, r := range loadIndex(t) {
		if !strings.HasPrefix(r.file, "serial/") {
			continue
		}
		n++
		t.Run(r.file, func(t *testing.T) {
			b := readVec(t, r.file)
			if len(b) != r.size {
				t.Fatalf("size %d, index says %d", len(b), r.size)
			}
			kr := vecKeyring(t, r.auth)
			want, counts := serialCounts(t, r.fields)
			frames := splitFrames(b)
			if len(frames) != want {
				t.Fatalf("%d frames, want %d", len(frames), want)
			}
			got := map[string]int{}
			var re []byte
			var last uint64
			for i, fb := range frames {
				m, f, err := kr.Decode(fb)
				if err != nil || f != Classic {
					t.Fatalf("frame %d: %v", i, err)
				}
				got[m.Type()]++
				checkCommon(t, r.file+"#"+strconv.Itoa(i), m, r.from)
				if !m.IsNoSeq() {
					s, _ := m.Hex(Seq)
					if s <= last && m.Type() != Status {
						// restarts reset the sequence (only with a status first)
						t.Logf("frame %d: seq %d after %d", i, s, last)
					}
					last = s
				}
				if re, err = kr.AppendClassic(re, m); err != nil {
					t.Fatal(err)
				}
				if _, _, err := wrongKeyring(t, r.auth).Decode(fb); !errors.Is(err, ErrAuth) {
					t.Errorf("frame %d wrong key: %v", i, err)
				}
			}
			for k, v := range counts {
				if got[k] != v {
					t.Errorf("%d %s messages, want %d", got[k], k, v)
				}
			}
			if !bytes.Equal(re, b) {
				t.Errorf("re-encoded stream differs from the capture")
			}
		})
	}
	if n != 6 {
		t.Errorf("%d serial vectors, want 6", n)
	}
}

// TestVectorsNegative flips every byte of each UDP vector (payload and
// digest) and truncates it at every length: all rejected, no panic.
func TestVectorsNegative(t *testing.T) {
	for _, r := range loadIndex(t) {
		if !strings.HasPrefix(r.file, "udp/") {
			continue
		}
		b := readVec(t, r.file)
		kr := vecKeyring(t, r.auth)
		c := append([]byte(nil), b...)
		for i := range c {
			for _, x := range []byte{0x01, 0x80} {
				c[i] ^= x
				m, _, err := kr.Decode(c)
				if err == nil {
					t.Errorf("%s: byte %d ^%#x accepted: %v", r.file, i, x, m.Fields)
				}
				c[i] ^= x
			}
		}
		for i := 0; i < len(b); i++ {
			if _, _, err := kr.Decode(b[:i]); err == nil {
				t.Errorf("%s: truncated at %d accepted", r.file, i)
			}
		}
		// trailing NULs are accepted, other trailing bytes are not
		if _, _, err := kr.Decode(append(append([]byte(nil), b...), 0)); err != nil {
			t.Errorf("%s + NUL: %v", r.file, err)
		}
		if _, _, err := kr.Decode(append(append([]byte(nil), b...), '\n')); err == nil {
			t.Errorf("%s + LF accepted", r.file)
		}
	}
}

func TestVectorsSerialNegative(t *testing.T) {
	for _, r := range loadIndex(t) {
		if !strings.HasPrefix(r.file, "serial/") {
			continue
		}
		b := readVec(t, r.file)
		kr := vecKeyring(t, r.auth)
		frames := splitFrames(b)
		for fi, f := range frames[:3] {
			c := append([]byte(nil), f...)
			for i := range c {
				c[i] ^= 0x01
				if _, _, err := kr.Decode(c); err == nil {
					t.Errorf("%s frame %d: byte %d flipped accepted", r.file, fi, i)
				}
				c[i] ^= 0x01
			}
			for i := 0; i < len(f); i++ {
				if _, _, err := kr.Decode(f[:i]); err == nil {
					t.Errorf("%s frame %d: truncated at %d accepted", r.file, fi, i)
				}
			}
			if _, _, err := kr.Decode(append(append([]byte(nil), f...), 0)); err != nil {
				t.Errorf("%s frame %d + NUL: %v", r.file, fi, err)
			}
		}
	}
}

// splitFrames cuts a captured serial stream (nothing between messages)
// into its classic messages. The serial medium's Framer, which also copes
// with line noise, is tested on the same captures in package media.
func splitFrames(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.Index(b, []byte(ClassicEnd))
		if i < 0 {
			break
		}
		out = append(out, b[:i+len(ClassicEnd)])
		b = b[i+len(ClassicEnd):]
	}
	return out
}
