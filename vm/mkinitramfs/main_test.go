package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImageIsPrivateAndIgnored: the image carries the cluster's keys, so
// it is written mode 0600 (even over an older, readable one) and the
// Makefile's output name is git-ignored.
func TestImageIsPrivateAndIgnored(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mkinitramfs")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	habox := filepath.Join(dir, "habox")
	os.WriteFile(habox, []byte("#!/bin/sh\n[ \"$1\" = --install ] && ln -s x \"$3/heartbeat\"\n"), 0o755)
	ha := filepath.Join(dir, "ha.d")
	os.Mkdir(ha, 0o755)
	os.WriteFile(ha+"/ha.cf", []byte("node a\n"), 0o644)
	os.WriteFile(ha+"/authkeys", []byte("auth 1\n1 sha1 secret\n"), 0o600)
	os.WriteFile(ha+"/haresources", []byte("a 10.0.0.1\n"), 0o644)
	img := filepath.Join(dir, "habox-initramfs.cpio.gz")
	os.WriteFile(img, []byte("old"), 0o644)
	cmd := exec.Command(bin, "-o", img, "-habox", habox, "-ha-dir", ha, "-carry", "")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkinitramfs: %v\n%s", err, out)
	}
	if fi, err := os.Stat(img); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("image mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	os.Remove(ha + "/haresources")
	if out, err := exec.Command(bin, "-o", img, "-habox", habox, "-ha-dir", ha, "-carry", "").CombinedOutput(); err == nil ||
		!strings.Contains(string(out), ha+": no haresources") {
		t.Errorf("HA_DIR without haresources: %v\n%s", err, out)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git to check .gitignore")
	}
	if out, err := exec.Command("git", "-C", "../..", "check-ignore", "-q", "habox-initramfs.cpio.gz").CombinedOutput(); err != nil {
		t.Errorf("habox-initramfs.cpio.gz is not git-ignored: %v %s", err, out)
	}
}
