package wire

import (
	"testing"

	"habox/conf"
)

var benchMethods = []struct {
	name   string
	method conf.AuthMethod
	key    string
}{
	{"crc", conf.AuthCRC, ""},
	{"md5", conf.AuthMD5, "hblab-md5-key"},
	{"sha1", conf.AuthSHA1, "hblab-sha1-key"},
}

// benchStatus is a steady-state status message as 3.0.6 sends it.
func benchStatus(b *testing.B, kr *Keyring) *Msg {
	m := appendixMsg()
	if err := kr.SetAuth(m); err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkEncodeSign: inner classic auth + netstring + trailer (what
// every UDP send costs).
func BenchmarkEncodeSign(b *testing.B) {
	for _, bm := range benchMethods {
		b.Run(bm.name, func(b *testing.B) {
			kr, _ := NewKeyringFor(1, bm.method, bm.key)
			m := benchStatus(b, kr)
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				if err := kr.SetAuth(m); err != nil {
					b.Fatal(err)
				}
				var err error
				if buf, err = kr.AppendNetstring(buf[:0], m); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkVerifyDecode: Decode of a netstring datagram (trailer check).
func BenchmarkVerifyDecode(b *testing.B) {
	for _, bm := range benchMethods {
		b.Run(bm.name, func(b *testing.B) {
			kr, _ := NewKeyringFor(1, bm.method, bm.key)
			pkt, _ := kr.AppendNetstring(nil, benchStatus(b, kr))
			b.SetBytes(int64(len(pkt)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := kr.Decode(pkt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyDecodeClassic: Decode of a serial frame (auth field).
func BenchmarkVerifyDecodeClassic(b *testing.B) {
	for _, bm := range benchMethods {
		b.Run(bm.name, func(b *testing.B) {
			kr, _ := NewKeyringFor(1, bm.method, bm.key)
			pkt, _ := kr.AppendClassic(nil, benchStatus(b, kr))
			b.SetBytes(int64(len(pkt)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := kr.Decode(pkt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
