package wire

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"habox/applets/internal/hblog"
	"habox/hw/hwtest"
)

func TestGeneration(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1700000000, 0)
	path := filepath.Join(dir, GenerationFile)

	gen, logs, err := NextGeneration(dir, now)
	if err != nil || gen != 1700000001 || len(logs) != 1 || logs[0].Level != hblog.Warning ||
		logs[0].Text != "No Previous generation - starting at 1700000001" {
		t.Fatalf("missing file: %d %v %v", gen, logs, err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "     1700000001\n" || len(b) != 16 {
		t.Fatalf("file %q", b)
	}
	gen, logs, err = NextGeneration(dir, now)
	if err != nil || gen != 1700000002 || len(logs) != 0 {
		t.Fatalf("increment: %d %v %v", gen, logs, err)
	}
	// The file 3.0.6 writes, e.g. generation 5.
	os.WriteFile(path, []byte("              5\n"), 0o644)
	if gen, _, _ = NextGeneration(dir, now); gen != 6 {
		t.Fatalf("from 5: %d", gen)
	}
	if b, _ := os.ReadFile(path); string(b) != "              6\n" {
		t.Fatalf("file %q", b)
	}
	// Broken content -> 1.
	os.WriteFile(path, []byte("garbage\n"), 0o644)
	gen, logs, err = NextGeneration(dir, now)
	if err != nil || gen != 1 || len(logs) != 1 || logs[0].Text != "BROKEN previous generation - starting at 1" {
		t.Fatalf("broken: %d %v %v", gen, logs, err)
	}
	// Empty file counts as missing.
	os.WriteFile(path, nil, 0o644)
	if gen, _, _ = NextGeneration(dir, now); gen != 1700000001 {
		t.Fatalf("empty: %d", gen)
	}
	// No temporary file left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("dir has %d entries", len(ents))
	}
	// Unwritable location -> error.
	if _, _, err := NextGeneration("/proc/nonexistent/x", now); err == nil {
		t.Fatal("no error for an unwritable dir")
	}
	if TimeGeneration(now) != 1700000000 {
		t.Fatal("TimeGeneration")
	}
}

func TestUUID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub")
	rnd := bytes.NewReader(bytes.Repeat([]byte{0xff}, 16))
	u, logs, err := LoadUUID(dir, rnd)
	if err != nil || len(logs) != 1 || !strings.Contains(logs[0].Text, "No uuid found for current node - generating a new uuid.") {
		t.Fatalf("generate: %v %v", logs, err)
	}
	if u[6] != 0x4f || u[8] != 0xbf {
		t.Errorf("uuid %x", u)
	}
	b, _ := os.ReadFile(filepath.Join(dir, UUIDFile))
	if !bytes.Equal(b, u[:]) {
		t.Fatalf("file %x", b)
	}
	u2, logs, err := LoadUUID(dir, nil)
	if err != nil || len(logs) != 0 || u2 != u {
		t.Fatalf("reload: %x %v %v", u2, logs, err)
	}
	// The lab's pre-seeded file is used as is.
	os.WriteFile(filepath.Join(dir, UUIDFile), vecUUID["linuxha1"], 0o644)
	if u, _, _ = LoadUUID(dir, nil); !bytes.Equal(u[:], vecUUID["linuxha1"]) || UUIDString(u) != "1a5e1d01-4b1a-4c3b-9d00-000000000001" {
		t.Fatalf("seeded: %s", UUIDString(u))
	}
	// A wrong-sized file is replaced.
	os.WriteFile(filepath.Join(dir, UUIDFile), []byte("short"), 0o644)
	if _, logs, _ = LoadUUID(dir, nil); len(logs) != 1 {
		t.Fatal("short file kept")
	}
	if _, _, err := LoadUUID(dir+"/x", strings.NewReader("")); err == nil {
		t.Fatal("no error when random source fails")
	}
}

// TestStateFilesSymlinkAttack: links planted in a state directory others
// can write (the old fixed temporary names, the files themselves) are
// never written through.
func TestStateFilesSymlinkAttack(t *testing.T) {
	hwtest.RequireRoot(t)
	dir := hwtest.SharedDir(t)
	var intact []func()
	for _, name := range []string{"." + GenerationFile + ".tmp", "." + UUIDFile + ".tmp", GenerationFile, UUIDFile} {
		intact = append(intact, hwtest.PlantSymlink(t, filepath.Join(dir, name)))
	}
	gen, _, err := NextGeneration(dir, time.Unix(1700000000, 0))
	if err != nil || gen != 1700000001 {
		t.Errorf("NextGeneration = %d, %v; want a fresh 1700000001 (a link is no previous generation)", gen, err)
	}
	if _, _, err := LoadUUID(dir, bytes.NewReader(make([]byte, 16))); err != nil {
		t.Error(err)
	}
	for _, ok := range intact {
		ok()
	}
	for _, name := range []string{GenerationFile, UUIDFile} {
		if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s is not a regular file: %v", name, err)
		}
	}
}
