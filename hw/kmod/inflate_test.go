package kmod

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand"
	"testing"
)

func gz(t testing.TB, data []byte, level int, name string) []byte {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Name, w.Comment, w.Extra = name, name, []byte(name)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func samples() [][]byte {
	r := rand.New(rand.NewSource(1))
	random := make([]byte, 100000)
	r.Read(random)
	text := bytes.Repeat([]byte("module_layout softdog watchdog nowayout soft_margin \x00\x01\x7fELF "), 3000)
	mixed := make([]byte, 0, 200000)
	for i := 0; i < 2000; i++ {
		if r.Intn(2) == 0 {
			mixed = append(mixed, random[r.Intn(1000):][:r.Intn(90)]...)
		} else {
			mixed = append(mixed, text[:r.Intn(200)]...)
		}
	}
	return [][]byte{nil, {0}, []byte("a"), random, text, mixed}
}

func TestGunzipMatchesStdlib(t *testing.T) {
	for i, data := range samples() {
		for _, level := range []int{gzip.NoCompression, gzip.BestSpeed, gzip.DefaultCompression, gzip.BestCompression, gzip.HuffmanOnly} {
			z := gz(t, data, level, "softdog.ko")
			got, err := gunzip(z, 1<<30)
			if err != nil {
				t.Fatalf("sample %d level %d: %v", i, level, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("sample %d level %d: output differs (%d vs %d bytes)", i, level, len(got), len(data))
			}
		}
	}
	// Two members concatenated, as gzip -c a b > ab.gz writes.
	two := append(gz(t, []byte("first "), 6, ""), gz(t, []byte("second"), 1, "")...)
	if got, err := gunzip(two, 100); err != nil || string(got) != "first second" {
		t.Errorf("multi-member: %q, %v", got, err)
	}
}

func TestGunzipErrors(t *testing.T) {
	data := samples()[5]
	z := gz(t, data, 6, "")
	bad := append([]byte(nil), z...)
	bad[len(bad)-6] ^= 0xff // CRC
	trunc := z[:len(z)/2]
	flip := append([]byte(nil), z...)
	flip[len(flip)/2] ^= 0x55
	for name, in := range map[string][]byte{"crc": bad, "truncated": trunc, "flipped": flip, "not gzip": []byte("ELF..........."), "empty": nil} {
		if _, err := gunzip(in, 1<<30); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := gunzip(z, len(data)-1); err == nil {
		t.Error("limit not enforced")
	}
}

func FuzzGunzip(f *testing.F) {
	for _, d := range samples()[:5] {
		f.Add(gz(f, d[:min(len(d), 3000)], 6, "x"))
	}
	f.Add(gz(f, []byte("hello hello hello"), 0, ""))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := gunzip(in, 1<<20)
		if err != nil {
			return
		}
		r, err := gzip.NewReader(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("we decoded what compress/gzip rejects: %v", err)
		}
		want, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("we decoded what compress/gzip rejects: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatal("output differs from compress/gzip")
		}
	})
}

func BenchmarkGunzip(b *testing.B) {
	z := gz(b, samples()[5], 6, "")
	b.SetBytes(int64(len(samples()[5])))
	for i := 0; i < b.N; i++ {
		gunzip(z, 1<<30)
	}
}
