package devnode

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"habox/hw/hwtest"
)

func TestStat(t *testing.T) {
	n, err := Stat("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	if n.Kind != Char || n.Major != 1 || n.Minor != 3 {
		t.Errorf("/dev/null = %+v, want char 1:3", n)
	}
	f := filepath.Join(t.TempDir(), "f")
	os.WriteFile(f, nil, 0640)
	if n, err := Stat(f); err != nil || n.Kind != Regular || n.Perm != 0640 {
		t.Errorf("regular file = %+v, %v", n, err)
	}
	if n, err := Stat(t.TempDir()); err != nil || n.Kind != Other {
		t.Errorf("directory = %+v, %v", n, err)
	}
	if _, err := Stat(f + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if Char.String() != "character device" || Other.String() != "not a device" {
		t.Error("Kind.String")
	}
}

func TestMknodChar(t *testing.T) {
	hwtest.RequireRoot(t)
	p := filepath.Join(t.TempDir(), "watchdog")
	if err := MknodChar(p, 0600, 10, 130); err != nil {
		t.Fatal(err)
	}
	n, err := Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if n != (Node{Kind: Char, Major: 10, Minor: 130, Perm: 0600}) {
		t.Errorf("node = %+v, want char 10:130 0600", n)
	}
	if err := MknodChar(p, 0600, 10, 130); !errors.Is(err, os.ErrExist) {
		t.Errorf("second mknod: %v, want ErrExist", err)
	}
	// Large device numbers round-trip.
	q := filepath.Join(t.TempDir(), "big")
	if err := MknodChar(q, 0644, 511, 70000); err != nil {
		t.Fatal(err)
	}
	if n, _ := Stat(q); n.Major != 511 || n.Minor != 70000 || n.Perm != 0644 {
		t.Errorf("big node = %+v", n)
	}
}
