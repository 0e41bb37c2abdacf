package wire

import (
	"errors"
	"strings"
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

// garbagePacket is a forged datagram of about size bytes: a status from
// linuxha1 followed by as many one-letter fields as fit (3 bytes each in
// classic, 8 in netstring), signed with the wrong key.
func garbagePacket(f Format, size int) []byte {
	wrong, _ := NewKeyringFor(1, conf.AuthSHA1, "not-the-key")
	m := New(Status)
	m.Add(Src, "linuxha1")
	m.Add(Seq, "1")
	m.Add(Ts, "1")
	per := 3
	if f == Netstring {
		per = 8
	}
	for n := (size - 200) / per; n > 0; n-- {
		m.Add("a", "")
	}
	var b []byte
	if f == Netstring {
		b, _ = wrong.AppendNetstring(nil, m)
	} else {
		b, _ = wrong.AppendClassic(nil, m)
	}
	return b
}

// BenchmarkRejectGarbage: decode + authentication failure of
// a forged packet as large as UDP carries (~64 KB, ~21k classic fields)
// and of one just under MaxRecv. Reports fields per packet.
func BenchmarkRejectGarbage(b *testing.B) {
	kr, _ := NewKeyringFor(1, conf.AuthSHA1, "hblab-sha1-key")
	for _, c := range []struct {
		name string
		f    Format
		size int
	}{
		{"classic-64k", Classic, 65500},
		{"netstring-64k", Netstring, 65500},
		{"classic-maxrecv", Classic, MaxRecv - 1},
		{"netstring-maxrecv", Netstring, MaxRecv - 1},
		// The worst that reaches the token check: MaxFields fields just
		// under MaxRecv bytes (a full HMAC over ~32 KB).
		{"classic-maxfields", Classic, -1},
		{"netstring-maxfields", Netstring, -1},
	} {
		b.Run(c.name, func(b *testing.B) {
			if c.size < 0 {
				pkt := wideGarbage(c.f)
				b.SetBytes(int64(len(pkt)))
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := kr.Decode(pkt); !errors.Is(err, ErrAuth) {
						b.Fatal(err)
					}
				}
				return
			}
			pkt := garbagePacket(c.f, c.size)
			for len(pkt) >= c.size+1 {
				pkt = garbagePacket(c.f, c.size-(len(pkt)-c.size)-8)
			}
			b.SetBytes(int64(len(pkt)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := kr.Decode(pkt); err == nil {
					b.Fatal("forged packet accepted")
				}
			}
			b.ReportMetric(float64(bytesCount(pkt)), "fields")
		})
	}
}

func bytesCount(p []byte) int {
	n := 0
	for _, c := range p {
		if c == '\n' || c == ',' {
			n++
		}
	}
	return n
}

// wideGarbage is a forged status of MaxFields fields and just under
// MaxRecv bytes, signed with the wrong key.
func wideGarbage(f Format) []byte {
	wrong, _ := NewKeyringFor(1, conf.AuthSHA1, "not-the-key")
	m := New(Status)
	m.Add(Src, "linuxha1")
	m.Add(Seq, "1")
	m.Add(Ts, "1")
	v := strings.Repeat("x", (MaxRecv-4000)/(MaxFields-5))
	for len(m.Fields) < MaxFields-2 {
		m.Add("ab", v)
	}
	var b []byte
	if f == Netstring {
		b, _ = wrong.AppendNetstring(nil, m)
	} else {
		b, _ = wrong.AppendClassic(nil, m)
	}
	return b
}
