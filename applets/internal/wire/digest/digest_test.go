package digest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"hash"
	"math/rand"
	"testing"
)

func std(k Kind) func() hash.Hash {
	if k == MD5 {
		return md5.New
	}
	return sha1.New
}

func TestKnownAnswers(t *testing.T) {
	tests := []struct {
		kind Kind
		in   string
		want string
	}{
		{MD5, "", "d41d8cd98f00b204e9800998ecf8427e"},
		{MD5, "abc", "900150983cd24fb0d6963f7d28e17f72"},
		{MD5, "12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"},
		{SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{SHA1, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(Sum(tt.kind, []byte(tt.in))); got != tt.want {
			t.Errorf("Sum(%d, %q) = %s, want %s", tt.kind, tt.in, got, tt.want)
		}
	}
}

// TestHMACSpecVectors uses heartbeat-compat.md Appendix A.1 (computed by
// the installed heartbeat 3.0.6 plugins).
func TestHMACSpecVectors(t *testing.T) {
	tests := []struct {
		kind     Kind
		key, msg string
		want     string
	}{
		{MD5, "secret", "t=status\nst=active\n", "0b8613f5699fe06384fb2e94291b385a"},
		{SHA1, "secret", "t=status\nst=active\n", "07f984b16bbabff2152a828d70f0cd018933e7d8"},
		{MD5, string(bytes.Repeat([]byte("K"), 100)), "abc", "a066dbf178348d094135cb2cf83557cc"},
		{SHA1, string(bytes.Repeat([]byte("K"), 100)), "abc", "062ac27fbecdd280c9bd12d9e4de532d8f7a6a51"},
		{MD5, "k", "x\xffy", "21187208f31d99ecdb013b7eb41af48d"},
		{SHA1, "k", "x\xffy", "7251711575d09db6a58a062a035890c40a566949"},
		{MD5, "k", "", "cd32bedd46aa63cffa3023f050fc78e3"},
		{SHA1, "k", "", "3a84a218ee6665209bb70e84525dd837645a1965"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(HMAC(tt.kind, []byte(tt.key), []byte(tt.msg))); got != tt.want {
			t.Errorf("HMAC(%d, %q, %q) = %s, want %s", tt.kind, tt.key, tt.msg, got, tt.want)
		}
	}
}

// TestAgainstStdlib compares every length 0..300 and random splits.
func TestAgainstStdlib(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	data := make([]byte, 300)
	rng.Read(data)
	for _, k := range []Kind{MD5, SHA1} {
		for n := 0; n <= len(data); n++ {
			msg := data[:n]
			want := std(k)()
			want.Write(msg)
			split := 0
			if n > 0 {
				split = rng.Intn(n)
			}
			if got := Sum(k, msg[:split], msg[split:]); !bytes.Equal(got, want.Sum(nil)) {
				t.Fatalf("kind %d len %d: %x != %x", k, n, got, want.Sum(nil))
			}
			key := data[:n%150]
			mac := hmac.New(std(k), key)
			mac.Write(msg)
			if got := HMAC(k, key, msg); !bytes.Equal(got, mac.Sum(nil)) {
				t.Fatalf("HMAC kind %d len %d key %d: %x != %x", k, n, len(key), got, mac.Sum(nil))
			}
		}
	}
}

func FuzzDigest(f *testing.F) {
	f.Add([]byte("key"), []byte("message"))
	f.Fuzz(func(t *testing.T, key, msg []byte) {
		for _, k := range []Kind{MD5, SHA1} {
			mac := hmac.New(std(k), key)
			mac.Write(msg)
			if got := HMAC(k, key, msg); !bytes.Equal(got, mac.Sum(nil)) {
				t.Fatalf("HMAC kind %d mismatch", k)
			}
		}
	})
}

func BenchmarkHMACSHA1Status(b *testing.B) {
	msg := bytes.Repeat([]byte("t=status\n"), 30)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		HMAC(SHA1, []byte("hblab-sha1-key"), msg)
	}
}

func BenchmarkStdHMACSHA1Status(b *testing.B) {
	msg := bytes.Repeat([]byte("t=status\n"), 30)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		m := hmac.New(sha1.New, []byte("hblab-sha1-key"))
		m.Write(msg)
		m.Sum(nil)
	}
}
