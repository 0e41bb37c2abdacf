package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLookupUser reads accounts from the passwd file it is given, by name
// or numeric uid, skipping malformed lines.
func TestLookupUser(t *testing.T) {
	passwd := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/sh\n"+
		"short:x:5:5\n"+
		"baduid:x:u:5::/:/bin/sh\n"+
		"hacluster:x:108:115::/var/lib/heartbeat:/usr/sbin/nologin\n"), 0o644)
	for _, tc := range []struct {
		name string
		want User
		ok   bool
	}{
		{"root", User{"root", 0, 0, "/root"}, true},
		{"hacluster", User{"hacluster", 108, 115, "/var/lib/heartbeat"}, true},
		{"108", User{"hacluster", 108, 115, "/var/lib/heartbeat"}, true},
		{"short", User{}, false},
		{"baduid", User{}, false},
		{"nobody", User{}, false},
	} {
		if u, ok := LookupUser(passwd, tc.name); u != tc.want || ok != tc.ok {
			t.Errorf("%s: %+v %v, want %+v %v", tc.name, u, ok, tc.want, tc.ok)
		}
	}
	if _, ok := LookupUser(filepath.Join(t.TempDir(), "missing"), "root"); ok {
		t.Error("a missing passwd file found root")
	}
	msg := checkRespawn(Respawn{User: "nobody", Path: "/bin/sh"}, passwd)
	if !strings.Contains(msg, "no such user nobody in "+passwd) {
		t.Errorf("respawn check names %q", msg)
	}
	if msg := checkRespawn(Respawn{User: "hacluster", Path: "/bin/sh"}, passwd); msg != "" {
		t.Errorf("respawn of an existing user: %q", msg)
	}
}
