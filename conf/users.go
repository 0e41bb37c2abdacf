package conf

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// PasswdFile is the system's account file, which Load checks respawn users
// and the authkeys owner against.
const PasswdFile = "/etc/passwd"

// User is an account of the passwd file.
type User struct {
	Name     string
	UID, GID int
	Home     string
}

// LookupUser finds an account by name or numeric uid in the passwd(5) file
// at passwd, usually PasswdFile (no NSS: habox has no libc).
func LookupUser(passwd, name string) (User, bool) {
	f, err := os.Open(passwd)
	if err != nil {
		return User{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// name:x:uid:gid:gecos:home:shell
		p := strings.Split(sc.Text(), ":")
		if len(p) < 7 {
			continue
		}
		uid, e1 := strconv.Atoi(p[2])
		gid, e2 := strconv.Atoi(p[3])
		if e1 != nil || e2 != nil {
			continue
		}
		if p[0] == name || p[2] == name {
			return User{Name: p[0], UID: uid, GID: gid, Home: p[5]}, true
		}
	}
	return User{}, false
}

// checkRespawn checks that a respawn line's user exists in passwd and its
// program is an executable file, as 3.0.6 does before starting it; "" when
// fine.
func checkRespawn(r Respawn, passwd string) string {
	if _, ok := LookupUser(passwd, r.User); !ok {
		return "no such user " + short(r.User) + " in " + passwd + " (heartbeat 3.0.6: Invalid uid [" + short(r.User) + "] specified for client child)"
	}
	st, err := os.Stat(r.Path)
	switch {
	case err != nil:
		return "program " + short(r.Path) + ": " + openMsg(err) + " (heartbeat 3.0.6: Client child command [" + short(r.Path) + "] is not executable)"
	case !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0:
		return "program " + short(r.Path) + " is not an executable file (heartbeat 3.0.6: Client child command [" + short(r.Path) + "] is not executable)"
	}
	return ""
}
