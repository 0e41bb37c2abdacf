package conf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"habox/hw/hwtest"
)

func parseAuth(t *testing.T, s string, mode fs.FileMode) (*Authkeys, ErrorList) {
	t.Helper()
	a, err := ParseAuthkeys("authkeys", strings.NewReader(s), mode)
	var el ErrorList
	if err != nil && !errors.As(err, &el) {
		t.Fatalf("error is %T", err)
	}
	if a == nil {
		t.Fatal("nil Authkeys")
	}
	return a, el
}

func TestAuthkeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		active int
		method AuthMethod
		key    string
		errs   []errWant
	}{
		{name: "sha1", in: "auth 1\n1 sha1 hblab-sha1-key\n", active: 1, method: AuthSHA1, key: "hblab-sha1-key"},
		{name: "md5", in: "auth 1\n1 md5 hblab-md5-key\n", active: 1, method: AuthMD5, key: "hblab-md5-key"},
		{name: "crc", in: "auth 1\n1 crc\n", active: 1, method: AuthCRC},
		{name: "comments", in: "# header\n\n  auth 2 # trailing\n1 md5 k1\n\t2 sha1 k2 ignored words\n#3 crc\n", active: 2, method: AuthSHA1, key: "k2"},
		{name: "index 0", in: "auth 0\n0 crc\n", active: 0, method: AuthCRC},
		{name: "index 15", in: "auth 15\n15 sha1 x\n", active: 15, method: AuthSHA1, key: "x"},
		{name: "glued", in: "auth3\n3sha1 key\n", active: 3, method: AuthSHA1, key: "key"},
		{name: "crlf", in: "auth 1\r\n1 sha1 abc\r\n", active: 1, method: AuthSHA1, key: "abc"},
		{name: "any a line", in: "auth 1\n1 sha1 k\nanything\n", active: 1, method: AuthSHA1, key: "k",
			errs: []errWant{{3, "anything", "any line starting with 'a' is read as the auth line"}}},
		{name: "auth trailing", in: "auth 1 2\n1 crc\n", active: 1, method: AuthCRC},
		{name: "index 16", in: "auth 1\n16 sha1 k\n1 crc\n", active: 1, method: AuthCRC,
			errs: []errWant{{2, "16", "Invalid authnum [16] in authkeys"}}},
		{name: "index -1", in: "auth 1\n-1 sha1 k\n1 crc\n", active: 1, method: AuthCRC,
			errs: []errWant{{2, "-1", "Invalid authnum [-1]"}}},
		{name: "crc key", in: "auth 1\n1 crc secret\n", active: -1,
			errs: []errWant{{2, "secret", "Auth method [crc] doesn't use a key"}, {1, "1", "Auth Key [1] not found in keyfile [authkeys]"}}},
		{name: "sha1 nokey", in: "auth 1\n1 sha1\n", active: -1,
			errs: []errWant{{2, "", "Auth method [sha1] requires a key"}, {1, "1", "not found"}}},
		{name: "bad method", in: "auth 1\n1 SHA1 k\n", active: -1,
			errs: []errWant{{2, "SHA1", "Invalid authtype [SHA1]"}, {1, "1", "not found"}}},
		{name: "entry first", in: "1 sha1 k\nauth 1\n", active: -1,
			errs: []errWant{{2, "1", "defined on line 1, before this auth line"}}},
		{name: "missing auth", in: "1 sha1 k\n", active: -1,
			errs: []errWant{{0, "", "Missing auth directive in keyfile [authkeys]"}}},
		{name: "empty", in: "", active: -1, errs: []errWant{{0, "", "Missing auth directive"}}},
		{name: "auth -1", in: "auth -1\n1 crc\n", active: -1, errs: []errWant{{0, "", "Missing auth directive"}}},
		{name: "bad auth", in: "auth one\n1 crc\n", active: -1, errs: []errWant{{1, "auth one", "Invalid auth line [auth one]"}}},
		{name: "not found", in: "auth 2\n1 crc\n", active: -1, errs: []errWant{{1, "2", "Auth Key [2] not found"}}},
		{name: "bad line", in: "auth 1\n1 crc\nsha1 key\nx\n1\n", active: 1, method: AuthCRC,
			errs: []errWant{{3, "sha1 key", "Auth line [sha1 key] is invalid."}, {4, "x", "is invalid"}, {5, "1", "is invalid"}}},
		{name: "redefined", in: "auth 1\n1 crc\n1 md5 k\n", active: 1, method: AuthMD5, key: "k"},
		{name: "second auth", in: "auth 1\n1 crc\nauth 2\n2 md5 k\n", active: 2, method: AuthMD5, key: "k"},
		{name: "long", in: "auth 1\n1 sha1 " + strings.Repeat("k", MaxLine) + "\n", active: -1,
			errs: []errWant{{2, "", "5118 bytes"}, {1, "1", "not found"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, errs := parseAuth(t, tc.in, 0o600)
			checkErrs(t, "authkeys", errs, tc.errs)
			if a.Active != tc.active {
				t.Fatalf("Active = %d, want %d", a.Active, tc.active)
			}
			if tc.active < 0 {
				return
			}
			k := a.Keys[a.Active]
			if k == nil || k.Index != tc.active || k.Method != tc.method || string(k.Key) != tc.key {
				t.Errorf("key %+v, want %s %q", k, tc.method, tc.key)
			}
			if tc.method == AuthCRC && k.Key != nil {
				t.Errorf("crc key not nil")
			}
		})
	}
}

func TestAuthkeysOtherEntries(t *testing.T) {
	a, errs := parseAuth(t, "auth 2\n1 md5 old\n2 sha1 new\n3 crc\n", 0o400)
	if errs != nil {
		t.Fatal(errs)
	}
	if a.Keys[1] == nil || a.Keys[3] == nil || a.Keys[0] != nil || string(a.Keys[1].Key) != "old" {
		t.Errorf("keys %+v", a.Keys)
	}
}

func TestAuthkeysMode(t *testing.T) {
	const good = "auth 1\n1 sha1 k\n"
	for _, m := range []fs.FileMode{0o600, 0o400, 0o620, 0o700, 0o602, 0o000, 0o200} {
		if _, errs := parseAuth(t, good, m); errs != nil {
			t.Errorf("mode %o refused: %v", m, errs)
		}
	}
	for _, m := range []fs.FileMode{0o644, 0o640, 0o604, 0o444, 0o660, 0o606, 0o777} {
		_, errs := parseAuth(t, good, m)
		want := "mode " + octal4(m) + ":"
		if len(errs) != 1 || !strings.Contains(errs[0].Msg, want) ||
			!strings.Contains(errs[0].Msg, "Bad permissions on keyfile [authkeys], 600 recommended.") {
			t.Errorf("mode %o: %v", m, errs)
		}
	}
	// Mode errors come with the file's other errors.
	_, errs := parseAuth(t, "auth 1\n1 sha1\n", 0o644)
	if len(errs) != 3 {
		t.Errorf("got %v", errs)
	}
	if octal4(0o644) != "0644" || octal4(0o4755) != "0755" {
		t.Errorf("octal4 %s %s", octal4(0o644), octal4(0o4755))
	}
}

// TestAuthkeysCRCWarnings: crc active, or present at another index (a
// forger names that index), is said plainly with its line; sha1/md5 alone
// give no warning.
func TestAuthkeysCRCWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // "line:text" per warning
	}{
		{"sha1", "auth 1\n1 sha1 k\n", nil},
		{"md5 and sha1", "auth 2\n1 md5 k\n2 sha1 k\n", nil},
		{"crc active", "auth 1\n1 crc\n", []string{"2:crc at index 1 is active: crc only detects corruption and authenticates nothing; anyone who can send"}},
		{"crc present", "auth 1\n1 sha1 k\n\n15 crc\n", []string{"4:crc at index 15 is not active but is accepted: a packet naming index 15 is checked with crc"}},
		{"both", "auth 0\n0 crc\n3 crc\n", []string{"2:crc at index 0 is active", "3:crc at index 3 is not active"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, errs := parseAuth(t, tc.in, 0o600)
			if errs != nil {
				t.Fatal(errs)
			}
			if len(a.Warnings) != len(tc.want) {
				t.Fatalf("warnings %v, want %d", a.Warnings, len(tc.want))
			}
			for i, w := range a.Warnings {
				line, text, _ := strings.Cut(tc.want[i], ":")
				if strconv.Itoa(w.Line) != line || !strings.HasPrefix(w.Msg, text) || !strings.Contains(w.Msg, "Use sha1") {
					t.Errorf("warning %d: %s, want line %s %q", i, w, line, text)
				}
			}
		})
	}
}

// TestAuthkeysKeyWithSpaces: a key cut at its first blank (as 3.0.6 reads
// it) is warned about, naming how much is used, never the key itself.
func TestAuthkeysKeyWithSpaces(t *testing.T) {
	a, errs := parseAuth(t, "auth 1\n1 sha1 correct horse battery\n2 md5 fine\t \n", 0o600)
	if errs != nil {
		t.Fatal(errs)
	}
	if string(a.Keys[1].Key) != "correct" {
		t.Fatalf("key %q, want the 3.0.6 reading %q", a.Keys[1].Key, "correct")
	}
	if len(a.Warnings) != 1 {
		t.Fatalf("warnings %v, want one (trailing blanks are no second word)", a.Warnings)
	}
	w := a.Warnings[0]
	if w.Line != 2 || !strings.Contains(w.Msg, "the key of entry 1 contains white space: only its first 7 characters (up to the first blank) are used") {
		t.Errorf("warning %s", w)
	}
	for _, secret := range []string{"correct", "horse", "battery"} {
		if strings.Contains(w.String(), secret) {
			t.Errorf("warning prints the key: %s", w)
		}
	}
}

func TestAuthkeysOwnerError(t *testing.T) {
	passwd := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/sh\nmallory:x:1001:1001::/home/m:/bin/sh\n"), 0o644)
	for _, tc := range []struct {
		owner, self int
		want        string // "" = accepted
	}{
		{0, 0, ""},
		{0, 1001, ""},
		{500, 500, ""}, // the daemon's own user
		{1001, 0, "authkeys: owned by uid 1001 (mallory), not root: that user can change the keys and forge messages; run: chown root authkeys"},
		{4242, 0, "authkeys: owned by uid 4242, not root"},
	} {
		e := AuthkeysOwnerError("authkeys", passwd, tc.owner, tc.self)
		switch {
		case tc.want == "" && e != nil:
			t.Errorf("owner %d self %d refused: %v", tc.owner, tc.self, e)
		case tc.want != "" && (e == nil || !strings.HasPrefix(e.Error(), tc.want)):
			t.Errorf("owner %d self %d: %v, want %q", tc.owner, tc.self, e, tc.want)
		}
	}
}

// TestLoadRefusesForeignOwner: Load (heartbeat -t, start) refuses an
// authkeys file a user owns, even with mode 0600.
func TestLoadRefusesForeignOwner(t *testing.T) {
	hwtest.RequireRoot(t) // chown
	dir := t.TempDir()
	ak := filepath.Join(dir, "authkeys")
	os.WriteFile(ak, []byte("auth 1\n1 sha1 k\n"), 0o600)
	if err := os.Chown(ak, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir, "alice")
	if err == nil || !strings.Contains(err.Error(), ak+": owned by uid 65534") {
		t.Fatalf("Load: %v", err)
	}
}
