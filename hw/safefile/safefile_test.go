package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
)

// TestRefusesPlanted: every helper, given a name an attacker planted as a
// symlink (or a FIFO), fails without touching the link's target and
// without blocking.
func TestRefusesPlanted(t *testing.T) {
	hwtest.RequireRoot(t)
	dir := hwtest.SharedDir(t)
	for _, tc := range []struct {
		name string
		do   func(path string) error
	}{
		{"Create", func(p string) error { f, err := Create(p, 0o644); closeF(f); return err }},
		{"OpenAppend", func(p string) error { f, err := OpenAppend(p, 0o644); closeF(f); return err }},
		{"OpenLock", func(p string) error { f, err := OpenLock(p, 0o600); closeF(f); return err }},
		{"Open", func(p string) error { f, err := Open(p); closeF(f); return err }},
		{"ReadFile", func(p string) error { _, err := ReadFile(p, 100); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			link := filepath.Join(dir, tc.name+".link")
			intact := hwtest.PlantSymlink(t, link)
			if err := tc.do(link); err == nil {
				t.Error("a planted symlink was opened")
			}
			intact()
			fifo := filepath.Join(dir, tc.name+".fifo")
			if err := unix.Mkfifo(fifo, 0o666); err != nil {
				t.Fatal(err)
			}
			if err := tc.do(fifo); err == nil {
				t.Error("a FIFO was opened as a file")
			}
		})
	}
}

func closeF(f *os.File) {
	if f != nil {
		f.Close()
	}
}

func TestReplaceAndTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state")
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	for _, data := range []string{"one\n", "two\n"} {
		if err := Replace(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := ReadFile(p, 100)
		if string(b) != data || err != nil {
			t.Errorf("read %q, %v; want %q", b, err, data)
		}
	}
	if fi, _ := os.Stat(p); fi.Mode() != 0o644 {
		t.Errorf("mode %v under umask 077, want 0644", fi.Mode())
	}
	if b, _ := ReadFile(p, 2); string(b) != "tw" {
		t.Errorf("ReadFile ignored its limit: %q", b)
	}
	a, _ := WriteTemp(dir, "LTMP.", nil, 0o644, false)
	b, _ := WriteTemp(dir, "LTMP.", nil, 0o644, false)
	if a == b || !strings.HasPrefix(filepath.Base(a), "LTMP.") || len(filepath.Base(a)) < 10 {
		t.Errorf("temporary names %q %q: want distinct random LTMP.<hex>", a, b)
	}
	if _, err := Create(a, 0o644); !errors.Is(err, os.ErrExist) {
		t.Errorf("Create over an existing file: %v, want EEXIST", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("dir holds %d entries, want state and two temporaries", len(ents))
	}
}

func TestEnsureDir(t *testing.T) {
	old := unix.Umask(0o022)
	defer unix.Umask(old)
	d := filepath.Join(t.TempDir(), "var", "lock")
	created, err := EnsureDir(d, os.ModeSticky|0o777)
	if err != nil || !created {
		t.Fatalf("EnsureDir = %v, %v", created, err)
	}
	if fi, _ := os.Stat(d); fi.Mode() != os.ModeDir|os.ModeSticky|0o777 {
		t.Errorf("mode %v, want dtrwxrwxrwx", fi.Mode())
	}
	if created, err := EnsureDir(d, 0o700); created || err != nil {
		t.Errorf("existing dir: %v, %v", created, err)
	}
	// A dangling link (Debian: /var/lock -> /run/lock, /run/lock missing):
	// its target is created, the link kept.
	base := t.TempDir()
	os.Symlink("../run/lock", filepath.Join(base, "lock"))
	os.Mkdir(filepath.Join(base, "var"), 0o755)
	os.Rename(filepath.Join(base, "lock"), filepath.Join(base, "var", "lock"))
	if created, err := EnsureDir(filepath.Join(base, "var", "lock"), os.ModeSticky|0o777); !created || err != nil {
		t.Errorf("dangling link: %v, %v", created, err)
	}
	if fi, err := os.Stat(filepath.Join(base, "run", "lock")); err != nil || fi.Mode() != os.ModeDir|os.ModeSticky|0o777 {
		t.Errorf("link target: %v %v", fi, err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := EnsureDir(f, 0o755); err == nil {
		t.Error("a file accepted as a directory")
	}
}

// Overwrite rewrites an existing file of the same size in place, and
// declines (writing nothing) a missing file, another size or a symlink.
func TestOverwrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "gen")
	if ok, err := Overwrite(p, []byte("0123456789abcdef")); ok || err != nil {
		t.Fatalf("missing file: ok %v err %v", ok, err)
	}
	os.WriteFile(p, []byte("xxxxxxxxxxxxxxxx"), 0o644)
	if ok, err := Overwrite(p, []byte("0123456789abcdef")); !ok || err != nil {
		t.Fatalf("same size: ok %v err %v", ok, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "0123456789abcdef" {
		t.Fatalf("content %q", b)
	}
	if ok, _ := Overwrite(p, []byte("short")); ok {
		t.Fatal("another size was overwritten")
	}
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("yyyyyyyyyyyyyyyy"), 0o644)
	link := filepath.Join(dir, "link")
	os.Symlink(victim, link)
	if ok, _ := Overwrite(link, []byte("0123456789abcdef")); ok {
		t.Fatal("wrote through a symlink")
	}
	if b, _ := os.ReadFile(victim); string(b) != "yyyyyyyyyyyyyyyy" {
		t.Fatalf("victim changed: %q", b)
	}
}
