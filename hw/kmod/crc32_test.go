package kmod

import (
	"hash/crc32"
	"testing"
)

// TestChecksumIEEEMatchesStdlib compares with hash/crc32 on every length
// up to 300 and on the check string.
func TestChecksumIEEEMatchesStdlib(t *testing.T) {
	if got := ChecksumIEEE([]byte("123456789")); got != 0xCBF43926 {
		t.Fatalf("check value %#x, want 0xcbf43926", got)
	}
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(i*131 + 7)
	}
	for n := range len(b) + 1 {
		if got, want := ChecksumIEEE(b[:n]), crc32.ChecksumIEEE(b[:n]); got != want {
			t.Fatalf("length %d: %#x, want %#x", n, got, want)
		}
	}
}

// FuzzChecksumIEEE: ChecksumIEEE agrees with hash/crc32 on any input.
func FuzzChecksumIEEE(f *testing.F) {
	f.Add([]byte("habox"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := ChecksumIEEE(b), crc32.ChecksumIEEE(b); got != want {
			t.Fatalf("%#x, want %#x", got, want)
		}
	})
}
