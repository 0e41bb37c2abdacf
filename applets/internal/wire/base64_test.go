package wire

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// checkBase64 compares b64Decode and b64AppendEncode with
// encoding/base64's StdEncoding.
func checkBase64(t *testing.T, in []byte) {
	t.Helper()
	want := make([]byte, base64.StdEncoding.DecodedLen(len(in)))
	wn, werr := base64.StdEncoding.Decode(want, in)
	got := make([]byte, b64DecodedLen(len(in)))
	gn, ok := b64Decode(got, in)
	if ok != (werr == nil) || ok && !bytes.Equal(got[:gn], want[:wn]) {
		t.Fatalf("b64Decode(%q) = %q, %v; encoding/base64: %q, %v", in, got[:gn], ok, want[:wn], werr)
	}
	if enc, want := b64AppendEncode([]byte("x"), in), base64.StdEncoding.AppendEncode([]byte("x"), in); !bytes.Equal(enc, want) {
		t.Fatalf("b64AppendEncode(%q) = %q, want %q", in, enc, want)
	}
}

// TestBase64MatchesStdlib covers padding, line breaks, bad characters and
// trailing bits, and round trips of every length up to 40.
func TestBase64MatchesStdlib(t *testing.T) {
	for _, s := range []string{
		"", "=", "==", "A", "AA", "AA=", "AA==", "AAA=", "AAAA", "AAA", "AB==", "AAB=",
		"QUJD", "QUI=", "QQ==", "QQ=", "QQ===", "QQ==QQ==", "QQ==\n", "Q\r\nQ=\n=", "QUJD\nRA==",
		"QR==", "QUK=", "Q===", "=QQQ", "QU=I", "QUJD!", "QUJD RA==", "\n\n", "QQ==\nx",
		"-_-_", "QUJD\x00",
	} {
		checkBase64(t, []byte(s))
	}
	for n := 0; n <= 40; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		checkBase64(t, b)
		checkBase64(t, base64.StdEncoding.AppendEncode(nil, b))
	}
}

// FuzzBase64: decoding and encoding agree with encoding/base64 on any
// input.
func FuzzBase64(f *testing.F) {
	f.Add([]byte("QUJD\nRA=="))
	f.Add([]byte("QQ=\r\n="))
	f.Fuzz(func(t *testing.T, in []byte) { checkBase64(t, in) })
}
