package authkeygen

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"habox/applets/cli"
	"habox/applets/internal/wire"
	"habox/conf"
	"habox/hw/entropy"
	"habox/hw/hwtest"
)

func runEnv(t *testing.T, environ []string, random io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Environ: environ}
	if random == nil {
		random = entropy.Reader
	}
	return run(env, args, random), out.String(), errb.String()
}

func parseFile(t *testing.T, path string) (*conf.Authkeys, os.FileMode) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	a, err := conf.ParseAuthkeys(path, f, fi.Mode())
	if err != nil {
		t.Fatalf("conf.ParseAuthkeys rejects the generated file: %v", err)
	}
	return a, fi.Mode().Perm()
}

func isKeyChar(r rune) bool { return strings.ContainsRune(keyAlphabet, r) }

func TestEachMethodModeAndContent(t *testing.T) {
	old := unix.Umask(0077) // the directory must still end up 0755
	defer unix.Umask(old)
	for _, tc := range []struct {
		args   []string
		method conf.AuthMethod
		index  int
		keyLen int
	}{
		{nil, conf.AuthSHA1, 1, 40},
		{[]string{"-m", "md5", "-n", "0"}, conf.AuthMD5, 0, 40},
		{[]string{"-m", "sha1", "-n", "15", "-l", "64"}, conf.AuthSHA1, 15, 64},
		{[]string{"-m", "crc", "-n", "3"}, conf.AuthCRC, 3, 0},
	} {
		t.Run(string(tc.method), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "etc", "ha.d")
			code, _, errs := runEnv(t, []string{"HA_DIR=" + dir}, nil, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			path := filepath.Join(dir, "authkeys")
			a, mode := parseFile(t, path)
			if mode != 0600 {
				t.Errorf("mode %o, want 0600", mode)
			}
			if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0755 {
				t.Errorf("dir mode %o, want 0755", fi.Mode().Perm())
			}
			k := a.Keys[tc.index]
			if a.Active != tc.index || k == nil || k.Method != tc.method || len(k.Key) != tc.keyLen {
				t.Fatalf("parsed %+v (active %d), want %d %s with %d-char key", k, a.Active, tc.index, tc.method, tc.keyLen)
			}
			if strings.IndexFunc(string(k.Key), func(r rune) bool { return !isKeyChar(r) }) >= 0 {
				t.Errorf("key %q has characters outside [A-Za-z0-9]", k.Key)
			}
			b, _ := os.ReadFile(path)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			want := []string{strings.Join([]string{"auth", itoa(tc.index)}, " "), strings.TrimSpace(itoa(tc.index) + " " + string(tc.method) + " " + string(k.Key))}
			if len(lines) != 3 || lines[1] != want[0] || lines[2] != want[1] || lines[0][0] != '#' {
				t.Errorf("file:\n%s\nwant a comment, %q, %q", b, want[0], want[1])
			}
			if n := entries(t, dir); n != 1 {
				t.Errorf("%d files in %s, want only authkeys", n, dir)
			}
		})
	}
}

func itoa(i int) string { return cli.Itoa(i) }

func entries(t *testing.T, dir string) int {
	t.Helper()
	e, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(e)
}

func TestKeysDiffer(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		code, out, _ := runEnv(t, nil, nil, "-o", "-")
		if code != 0 || seen[out] {
			t.Fatalf("exit %d or repeated key", code)
		}
		seen[out] = true
	}
}

func TestStdout(t *testing.T) {
	dir := t.TempDir()
	code, out, _ := runEnv(t, []string{"HA_DIR=" + dir}, nil, "-o", "-", "-m", "md5", "-n", "2")
	if code != 0 {
		t.Fatal(code)
	}
	a, err := conf.ParseAuthkeys("stdout", strings.NewReader(out), 0600)
	if err != nil || a.Active != 2 || a.Keys[2].Method != conf.AuthMD5 {
		t.Fatalf("stdout %q: %v", out, err)
	}
	if entries(t, dir) != 0 {
		t.Error("-o - wrote a file")
	}
}

func TestRefuseWithoutForce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys")
	old := []byte("auth 1\n1 sha1 OldKeyOldKeyOldKey\n")
	os.WriteFile(path, old, 0600)
	code, _, errs := runEnv(t, nil, nil, "-o", path)
	if code != 1 || !strings.Contains(errs, "use -f") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, old) {
		t.Fatal("file changed without -f")
	}
	if entries(t, dir) != 1 {
		t.Error("temporary file left behind")
	}
	code, _, errs = runEnv(t, nil, nil, "-o", path, "-f")
	if code != 0 {
		t.Fatalf("-f: exit %d: %s", code, errs)
	}
	if b, _ := os.ReadFile(path); bytes.Equal(b, old) {
		t.Fatal("-f did not replace the file")
	}
	parseFile(t, path)
	// A directory in the way is never replaced.
	os.Mkdir(filepath.Join(dir, "d"), 0755)
	if code, _, _ := runEnv(t, nil, nil, "-o", filepath.Join(dir, "d"), "-f"); code != 1 {
		t.Errorf("directory target: exit %d", code)
	}
	if entries(t, dir) != 2 {
		t.Error("temporary file left behind")
	}
}

// TestAtomicReplace rewrites the file many times while readers read it:
// every read must see one complete, valid file.
func TestAtomicReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "authkeys")
	if code, _, errs := runEnv(t, nil, nil, "-o", path); code != 0 {
		t.Fatal(errs)
	}
	var stop atomic.Bool
	var reads, bad atomic.Int64
	var firstBad atomic.Value
	var wg sync.WaitGroup
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				b, err := os.ReadFile(path)
				if err != nil {
					bad.Add(1)
					firstBad.CompareAndSwap(nil, err.Error())
					continue
				}
				reads.Add(1)
				if _, err := conf.ParseAuthkeys(path, bytes.NewReader(b), 0600); err != nil || !bytes.HasSuffix(b, []byte("\n")) {
					bad.Add(1)
					firstBad.CompareAndSwap(nil, "partial file: "+string(b))
				}
			}
		}()
	}
	for i := 0; i < 60; i++ {
		m := []string{"sha1", "md5", "crc"}[i%3]
		if code, _, errs := runEnv(t, nil, nil, "-o", path, "-f", "-m", m); code != 0 {
			t.Fatal(errs)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d bad reads of %d, first: %v", bad.Load(), reads.Load(), firstBad.Load())
	}
	if reads.Load() == 0 {
		t.Fatal("readers never ran")
	}
	if entries(t, dir) != 1 {
		t.Error("temporary files left behind")
	}
}

func TestRandomKeyRejectionSampling(t *testing.T) {
	// 248..255 are rejected; 0 and 62 -> A, 61 and 247 -> 9.
	src := bytes.NewReader(append(bytes.Repeat([]byte{255, 248, 0, 61, 62, 247}, 20), make([]byte, 100)...))
	k, err := randomKey(src, 16)
	if err != nil {
		t.Fatal(err)
	}
	if string(k) != "A9A9A9A9A9A9A9A9" {
		t.Errorf("key %q", k)
	}
	if _, err := randomKey(bytes.NewReader(nil), 16); err == nil {
		t.Error("random source failure not reported")
	}
	if code, _, errs := runEnv(t, nil, strings.NewReader(""), "-o", "-"); code != 1 || !strings.Contains(errs, "random") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-m", "sha256"}, {"-n", "16"}, {"-n", "-1"}, {"-l", "8"}, {"-x"}, {"extra"}, {"-o"}, {"-f=1"}} {
		if code, _, _ := runEnv(t, nil, nil, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), mode)
		os.Chmod(p, mode)
		return p
	}
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		code          int
		want          string
	}{
		{"good", "auth 1\n1 sha1 abcdefghijklmnopqrstuvwxyz\n", 0600, 0, "ok: auth 1 (sha1, 26-character key), 1 entry, mode 0600"},
		{"two", "auth 2\n1 md5 abcdefghijklmnopqrstuvwxyz\n2 sha1 abcdefghijklmnopqrstuvwxyz\n", 0400, 0, "2 entries"},
		{"shortkey", "auth 1\n1 sha1 abc\n", 0600, 0, "only 3 characters"},
		{"crc", "auth 1\n1 crc\n", 0600, 0, "crc:2: warning: crc at index 1 is active: crc only detects corruption and authenticates nothing; anyone who can send on the heartbeat links can forge any message"},
		{"crc present", "auth 1\n1 sha1 abcdefghijklmnopqrstuvwxyz\n2 crc\n", 0600, 0, "crc present:3: warning: crc at index 2 is not active but is accepted: a packet naming index 2 is checked with crc, so crc only detects corruption"},
		{"readable", "auth 1\n1 sha1 abcdefghijklmnopqrstuvwxyz\n", 0644, 1, "chmod 600"},
		{"noauth", "1 sha1 abcdefghijklmnopqrstuvwxyz\n", 0600, 1, "no auth line"},
		{"badmethod", "auth 1\n1 sha256 abcdefghijklmnopqrstuvwxyz\n", 0600, 1, "unknown method"},
		{"crckey", "auth 1\n1 crc key\n", 0600, 1, "crc takes no key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(tc.name, tc.content, tc.mode)
			code, out, errs := runEnv(t, nil, nil, "--check", p)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s%s", code, tc.code, tc.want, out, errs)
			}
		})
	}
	if code, _, errs := runEnv(t, nil, nil, "--check", filepath.Join(dir, "missing")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Errorf("missing: %d %s", code, errs)
	}
	if code, _, _ := runEnv(t, nil, nil, "--check", dir); code != 1 {
		t.Errorf("directory: %d", code)
	}
}

// TestKeySignsAndVerifies: a generated key works with the wire package:
// a message signed by one node's keyring verifies on the other's, and a
// tampered one does not.
func TestKeySignsAndVerifies(t *testing.T) {
	for _, m := range []string{"sha1", "md5", "crc"} {
		t.Run(m, func(t *testing.T) {
			code, out, _ := runEnv(t, nil, nil, "-o", "-", "-m", m, "-n", "7")
			if code != 0 {
				t.Fatal(code)
			}
			a, err := conf.ParseAuthkeys("authkeys", strings.NewReader(out), 0600)
			if err != nil {
				t.Fatal(err)
			}
			k, err := wire.NewKeyring(a)
			if err != nil {
				t.Fatal(err)
			}
			msg := wire.New("status")
			msg.Add("st", "active")
			msg.Add("src", "linuxha1")
			msg.Add("seq", "2b")
			frame, err := k.AppendClassic(nil, msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(frame, []byte("auth=7 ")) {
				t.Errorf("frame not signed with index 7:\n%s", frame)
			}
			got, _, err := k.Decode(frame)
			if err != nil || got.Get("src") != "linuxha1" {
				t.Fatalf("verify: %v", err)
			}
			bad := bytes.Replace(frame, []byte("st=active"), []byte("st=standby"), 1)
			if _, _, err := k.Decode(bad); !errors.Is(err, wire.ErrAuth) {
				t.Errorf("tampered message: %v, want ErrAuth", err)
			}
			// A different generated key does not verify (except crc, keyless).
			_, out2, _ := runEnv(t, nil, nil, "-o", "-", "-m", m, "-n", "7")
			a2, _ := conf.ParseAuthkeys("authkeys", strings.NewReader(out2), 0600)
			k2, _ := wire.NewKeyring(a2)
			if _, _, err := k2.Decode(frame); (err == nil) != (m == "crc") {
				t.Errorf("other key: %v", err)
			}
		})
	}
}

// TestCheckOwner: --check refuses a file owned by another user (mode 0600
// or not) and names the owner, as heartbeat would.
func TestCheckOwner(t *testing.T) {
	hwtest.RequireRoot(t)
	p := filepath.Join(t.TempDir(), "authkeys")
	os.WriteFile(p, []byte("auth 1\n1 sha1 abcdefghijklmnopqrstuvwxyz\n"), 0o600)
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runEnv(t, nil, nil, "--check", p)
	if code != 1 || !strings.Contains(errs, p+": owned by uid 65534") || !strings.Contains(errs, "run: chown root "+p) {
		t.Errorf("exit %d:\n%s%s", code, out, errs)
	}
}
