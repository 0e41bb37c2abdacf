package entropy

import (
	"bytes"
	"testing"
)

func TestFill(t *testing.T) {
	a, b := make([]byte, 64), make([]byte, 64)
	if err := Fill(a); err != nil {
		t.Fatal(err)
	}
	if n, err := Reader.Read(b); err != nil || n != 64 {
		t.Fatal(n, err)
	}
	if bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 64)) {
		t.Fatal("not random")
	}
	// Every byte value turns up in 64 KiB (a broken source would not).
	big := make([]byte, 1<<16)
	if err := Fill(big); err != nil {
		t.Fatal(err)
	}
	var seen [256]bool
	for _, c := range big {
		seen[c] = true
	}
	for v, ok := range seen {
		if !ok {
			t.Fatalf("byte %d never seen", v)
		}
	}
	if err := urandom(b); err != nil {
		t.Fatal(err)
	}
}

func TestUnique(t *testing.T) {
	a, b := make([]byte, 16), make([]byte, 16)
	if n, err := Unique.Read(a); err != nil || n != 16 {
		t.Fatal(n, err)
	}
	Unique.Read(b)
	if bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 16)) {
		t.Fatalf("not unique: %x %x", a, b)
	}
}
