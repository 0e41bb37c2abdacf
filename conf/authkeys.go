package conf

import (
	"io"
	"io/fs"
	"strconv"
	"strings"
)

// MaxAuth is the number of authkeys slots (heartbeat MAXAUTH): indices
// 0..15.
const MaxAuth = 16

// ParseAuthkeys reads an authkeys file as heartbeat 3.0.6's parse_authfile
// does. mode is the file's mode (from stat): if the group- or other-read
// bit is set (mode & 0044) the file is refused, as heartbeat does. The
// returned error, if any, is an ErrorList with every problem found; the
// Authkeys is returned even then (Active is -1 when no active key was
// selected).
func ParseAuthkeys(name string, r io.Reader, mode fs.FileMode) (*Authkeys, error) {
	a := &Authkeys{File: name, Active: -1}
	var errs ErrorList
	fail := failer(name, &errs)
	if mode.Perm()&0o044 != 0 {
		fail(0, "", "", "mode "+octal4(mode)+": the keys are readable by group or others "+
			"(heartbeat 3.0.6: Bad permissions on keyfile ["+name+"], 600 recommended.); run: chmod 600 "+name)
	}
	authnum, authLine, badAuth := -1, 0, false
	definedAt := [MaxAuth]int{}
	err := readLines(r, func(l rawLine) {
		if l.tooLong > 0 {
			errs = append(errs, tooLongError(name, l))
			return
		}
		bp := skip(l.text, isWS)
		if bp == "" || bp[0] == '#' {
			return
		}
		if bp[0] == 'a' {
			n, ok := scanAuth(bp)
			if !ok {
				badAuth = true
				fail(l.n, "auth", bp, "invalid auth line: write auth <n>, n = 0..15 (heartbeat 3.0.6: Invalid auth line ["+short(l.text)+"]; any line starting with 'a' is read as the auth line)")
				return
			}
			authnum, authLine = n, l.n
			return
		}
		k, warn := parseKeyEntry(name, l, bp, fail)
		if k == nil {
			return
		}
		if warn != nil {
			a.Warnings = append(a.Warnings, *warn)
		}
		idx := k.Index
		a.Keys[idx] = k
		definedAt[idx] = l.n
		if int(idx) == authnum {
			a.Active = int(idx)
		}
	})
	if err != nil {
		fail(0, "", "", "read error: "+err.Error())
	}
	if a.Active < 0 && !(badAuth && authnum < 0) {
		switch {
		case authnum < 0:
			fail(0, "auth", "", "no auth line: add auth <n> before the entries (heartbeat 3.0.6: Missing auth directive in keyfile ["+name+"])")
		case authnum < MaxAuth && definedAt[authnum] > 0 && definedAt[authnum] < authLine:
			fail(authLine, "auth", strconv.Itoa(authnum), "key "+strconv.Itoa(authnum)+" is defined on line "+
				strconv.Itoa(definedAt[authnum])+", before this auth line; heartbeat 3.0.6 only selects entries that follow the auth line: move the auth line to the top (heartbeat 3.0.6: Auth Key ["+strconv.Itoa(authnum)+"] not found in keyfile ["+name+"])")
		default:
			fail(authLine, "auth", strconv.Itoa(authnum), "no entry "+strconv.Itoa(authnum)+" follows the auth line (heartbeat 3.0.6: Auth Key ["+strconv.Itoa(authnum)+"] not found in keyfile ["+name+"])")
		}
	}
	a.Warnings = append(a.Warnings, crcWarnings(a)...)
	if len(errs) > 0 {
		return a, errs
	}
	return a, nil
}

// parseKeyEntry reads one "<n> <method> [<key>]" line of authkeys as
// parse_authfile does; nil when the line is refused (reported through
// fail), with a warning for a key cut at white space.
func parseKeyEntry(name string, l rawLine, bp string, fail func(ln int, dir, tok, msg string)) (*AuthKey, *Warning) {
	idx, method, key, n, more := scanEntry(bp)
	if n < 2 {
		fail(l.n, "", bp, "invalid line: write <n> <method> [<key>], e.g. 1 sha1 SecretKey (heartbeat 3.0.6: Auth line ["+short(l.text)+"] is invalid.)")
		return nil, nil
	}
	if idx < 0 || idx >= MaxAuth {
		fail(l.n, "", strconv.FormatInt(idx, 10), "index out of range 0..15 (heartbeat 3.0.6: Invalid authnum ["+strconv.FormatInt(idx, 10)+"] in "+name+")")
		return nil, nil
	}
	m := AuthMethod(method)
	switch m {
	case AuthCRC, AuthMD5, AuthSHA1:
	default:
		fail(l.n, "", method, "unknown method: use sha1, md5 or crc (heartbeat 3.0.6: Invalid authtype ["+method+"])")
		return nil, nil
	}
	if m == AuthCRC && key != "" {
		fail(l.n, method, key, "crc takes no key (heartbeat 3.0.6: Auth method [crc] doesn't use a key)")
		return nil, nil
	}
	if m != AuthCRC && key == "" {
		fail(l.n, method, "", "a key is required (heartbeat 3.0.6: Auth method ["+method+"] requires a key)")
		return nil, nil
	}
	k := &AuthKey{Index: int(idx), Method: m, Line: l.n}
	if key != "" {
		k.Key = []byte(key)
	}
	if more && m != AuthCRC {
		return k, &Warning{File: name, Line: l.n, Msg: "the key of entry " + strconv.FormatInt(idx, 10) +
			" contains white space: only its first " + strconv.Itoa(len(key)) + " characters (up to the first blank) are used, " +
			"as heartbeat 3.0.6 reads it; the rest of the line is ignored. Write the key without blanks (authkeygen)"}
	}
	return k, nil
}

// crcWarnings says plainly when crc is active, or merely present: the
// receiver takes the method from the index a packet names (heartbeat 3.0.6
// does the same), so a crc entry at any index lets anyone on the
// heartbeat links forge messages, whatever "auth" selects.
func crcWarnings(a *Authkeys) []Warning {
	var w []Warning
	for _, k := range a.Keys {
		if k == nil || k.Method != AuthCRC {
			continue
		}
		i := strconv.Itoa(k.Index)
		msg := "crc at index " + i + " is active: "
		if k.Index != a.Active {
			msg = "crc at index " + i + " is not active but is accepted: a packet naming index " + i + " is checked with crc, so "
		}
		w = append(w, Warning{File: a.File, Line: k.Line, Msg: msg +
			"crc only detects corruption and authenticates nothing; anyone who can send on the heartbeat links " +
			"can forge any message (take resources over, shut nodes down). Use sha1 (authkeygen) and delete every crc line"})
	}
	return w
}

// octal4 formats permission bits as "0644".
func octal4(m fs.FileMode) string {
	s := strconv.FormatUint(uint64(m.Perm()), 8)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// scanInt is scanf's %d: skips white space, reads an optional sign and at
// least one digit. Values beyond int32 saturate (and so fail range checks).
func scanInt(s string) (v int64, rest string, ok bool) {
	s = skip(s, isCSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if v <= 1<<31 {
			v = v*10 + int64(s[i]-'0')
		}
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	if neg {
		v = -v
	}
	return v, s[i:], true
}

// scanAuth is sscanf(bp, "auth %d").
func scanAuth(s string) (int, bool) {
	if !strings.HasPrefix(s, "auth") {
		return 0, false
	}
	v, _, ok := scanInt(s[4:])
	if !ok || v < -1<<31 || v >= 1<<31 {
		return 0, false
	}
	return int(v), true
}

// scanEntry is sscanf(bp, "%d%s%s"); n is the number of items converted;
// more reports text after the key (which sscanf ignores).
func scanEntry(s string) (idx int64, method, key string, n int, more bool) {
	idx, rest, ok := scanInt(s)
	if !ok {
		return 0, "", "", 0, false
	}
	word := func() string {
		rest = skip(rest, isCSpace)
		var w string
		w, rest = cut(rest, isCSpace)
		return w
	}
	if method = word(); method == "" {
		return idx, "", "", 1, false
	}
	if key = word(); key == "" {
		return idx, method, "", 2, false
	}
	return idx, method, key, 3, skip(rest, isCSpace) != ""
}

// AuthkeysOwnerError refuses an authkeys file owned by anyone but root or
// self (the daemon's effective uid), like a bad mode: its owner can rewrite
// the keys. It names the owner, as found in the passwd file; nil when the
// owner is fine.
func AuthkeysOwnerError(name, passwd string, owner, self int) *Error {
	if owner == 0 || owner == self {
		return nil
	}
	who := "uid " + strconv.Itoa(owner)
	if u, ok := LookupUser(passwd, strconv.Itoa(owner)); ok && u.UID == owner {
		who += " (" + short(u.Name) + ")"
	}
	return &Error{File: name, Msg: "owned by " + who + ", not root: that user can change the keys and forge messages; run: chown root " + name}
}
