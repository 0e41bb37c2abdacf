package conf

import (
	"io"
	"strconv"
	"strings"
)

// egrepMeta are the characters, other than '.', that make a group key a
// different regular expression in ResourceManager's egrep lookups.
const egrepMeta = `*+?()[]{}|^$\`

// maxLogical bounds a line joined from "\" continuations.
const maxLogical = 1 << 16

// ParseHaresources reads a haresources file the way the R1 scripts see it
// (ResourceManager's canonicalisation: comments stripped, "\" continuation
// lines joined, blanks squeezed) and checks it as heartbeat 3.0.6 does
// (every line's first word is a configured node, compared
// case-insensitively), plus the traps of its regex-based group lookup:
// duplicate keys, a key that is also a word of another line, keys with
// regex characters. nodes are the node names of ha.cf (when there are
// none, the node check is skipped: ha.cf's own error says so). The returned error,
// if any, is an ErrorList with every problem found.
func ParseHaresources(name string, r io.Reader, nodes []string) (*Haresources, error) {
	h := &Haresources{File: name}
	var errs ErrorList
	fail := failer(name, &errs)
	lines := joinContinuations(name, r, &errs, fail)
	h.Groups = parseGroups(name, lines, nodes, fail)
	checkKeys(h.Groups, fail)
	checkNodeRegex(nodes, fail)
	if len(errs) > 0 {
		return h, errs
	}
	return h, nil
}

// logicalLine is one haresources line after continuations are joined: the
// physical line it starts on and its text without the comment.
type logicalLine struct {
	n    int
	text string
}

// joinContinuations joins physical lines into logical ones as
// ResourceManager's sed does: a comment is cut from a line's start, a
// trailing "\" continues it on the next line. The traps of that sed (an
// empty or commented continuation, a "\" on the last line, DOS line
// endings, runaway continuations) are reported through fail; lines too
// long for 3.0.6 are added to errs.
func joinContinuations(name string, r io.Reader, errs *ErrorList, fail func(ln int, dir, tok, msg string)) []logicalLine {
	var lines []logicalLine
	var cur []byte
	start, contFrom := 0, 0 // first line of cur; line of the "\" awaiting a continuation
	tooLong, open := false, false
	flush := func() {
		lines = append(lines, logicalLine{start, string(cur)})
		cur, open = nil, false
	}
	err := readLines(r, func(l rawLine) {
		if l.tooLong > 0 {
			*errs = append(*errs, tooLongError(name, l))
			if open {
				flush()
			}
			return
		}
		if strings.IndexByte(l.text, '\r') >= 0 {
			fail(l.n, "", "", "carriage return in line (DOS line ending?): ResourceManager would take it as part of a name; convert the file with dos2unix")
		}
		t := l.text
		if !open {
			if i := strings.IndexByte(t, '#'); i >= 0 {
				t = t[:i]
			}
			cur, start, tooLong, open = []byte(t), l.n, false, true
		} else {
			if strings.Trim(t, " \t") == "" {
				fail(l.n, "", "", "empty line after the continuation \"\\\" of line "+strconv.Itoa(contFrom)+": the group ends here; remove the \"\\\" or the empty line")
			} else if strings.IndexByte(t, '#') >= 0 {
				fail(l.n, "", "", "'#' in a continuation line: ResourceManager does not strip comments there, so the words after '#' would become resources; move the comment to a line of its own")
			}
			if len(cur)+len(t) > maxLogical {
				if !tooLong {
					fail(l.n, "", "", "group continued over more than "+strconv.Itoa(maxLogical)+" bytes: split it into several groups")
				}
				tooLong = true
				t = ""
			}
			cur = append(cur, t...)
		}
		if n := len(cur); n > 0 && cur[n-1] == '\\' {
			cur = cur[:n-1]
			contFrom = l.n
			return
		}
		flush()
	})
	if err != nil {
		fail(0, "", "", "read error: "+err.Error())
	}
	if open {
		fail(contFrom, "", "\\", "continuation \"\\\" on the last line: ResourceManager would keep the backslash as part of a resource; remove it")
		flush()
	}
	return lines
}

// parseGroups reads each logical line as a resource group: a node name
// (one of nodes, compared case-insensitively, when nodes is not empty),
// then its resources.
func parseGroups(name string, lines []logicalLine, nodes []string, fail func(ln int, dir, tok, msg string)) []Group {
	known := map[string]bool{}
	for _, n := range nodes {
		known[strings.ToLower(n)] = true
	}
	var groups []Group
	for _, l := range lines {
		f := fields(l.text, func(c byte) bool { return c == ' ' || c == '\t' })
		if len(f) == 0 {
			continue
		}
		g := Group{Node: strings.ToLower(f[0]), Line: l.n}
		if len(known) > 0 && !known[g.Node] {
			fail(l.n, "", f[0], "the first word of a line must be a node declared in ha.cf (heartbeat 3.0.6: Bad nodename in "+name+" ["+f[0]+"])")
		}
		if len(f) == 1 {
			fail(l.n, "", f[0], "no resources after the node name")
		}
		for _, t := range f[1:] {
			res, msg := parseResource(t)
			if msg != "" {
				fail(l.n, "", t, msg)
			}
			g.Resources = append(g.Resources, res)
		}
		if len(g.Resources) > 0 {
			g.Key = g.Resources[0].Text
		}
		groups = append(groups, g)
	}
	return groups
}

// isIPShorthand is ResourceManager's isip: the shell glob
// [0-9]*.[0-9]*.[0-9]*.[0-9]* (a leading digit, then three dots each
// followed by a digit).
func isIPShorthand(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	i := 1
	for k := 0; k < 3; k++ {
		for {
			j := strings.IndexByte(s[i:], '.')
			if j < 0 {
				return false
			}
			i += j
			if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				i += 2
				break
			}
			i++
		}
	}
	return true
}

// parseResource splits one resource as ResourceManager's canonname,
// resource2script and resource2arg do. msg is non-empty for a resource
// the scripts would mishandle.
func parseResource(t string) (Resource, string) {
	r := Resource{Text: t}
	if strings.IndexByte(t, '#') >= 0 {
		return Resource{Text: t, Script: t}, "'#' in a resource name (from a continuation line): comments are not stripped there"
	}
	if isIPShorthand(t) {
		r.Script = "IPaddr"
		r.Args = []string{t}
		if strings.Contains(t, "::") {
			return r, "an IP address shorthand cannot take \"::\" arguments (ResourceManager would drop the address); write IPaddr::" + t
		}
		return r, ""
	}
	i := strings.Index(t, "::")
	if i < 0 {
		r.Script = t
	} else {
		r.Script = t[:i]
		for _, a := range strings.Split(t[i+2:], "::") {
			if a != "" {
				r.Args = append(r.Args, a)
			}
		}
	}
	switch {
	case r.Script == "":
		return r, "empty script name before \"::\""
	case strings.IndexByte(r.Script, '/') >= 0:
		return r, "a script name cannot contain '/': scripts are looked up in /etc/ha.d/resource.d and /etc/init.d"
	}
	return r, ""
}

// wildEq reports whether pattern p, with '.' matching any byte, equals s.
func wildEq(p, s string) bool {
	if len(p) != len(s) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '.' && p[i] != s[i] {
			return false
		}
	}
	return true
}

// checkKeys enforces unique keys that occur nowhere else: ResourceManager
// finds a group with egrep " key " over every line.
func checkKeys(groups []Group, fail func(ln int, dir, tok, msg string)) {
	type ref struct{ group, pos int }
	byText := map[string][]ref{}
	byLen := map[int][]ref{}
	keyAt := map[string]int{}
	for gi, g := range groups {
		for ri, r := range g.Resources {
			byText[r.Text] = append(byText[r.Text], ref{gi, ri})
			byLen[len(r.Text)] = append(byLen[len(r.Text)], ref{gi, ri})
		}
	}
	budget := 1 << 24 // wildcard comparisons, so that huge files stay fast
	for gi, g := range groups {
		if g.Key == "" {
			continue
		}
		if strings.ContainsAny(g.Key, egrepMeta) {
			fail(g.Line, "", g.Key, "group key contains a regular-expression character ("+egrepMeta+"): ResourceManager looks groups up with egrep and would not find it")
		}
		if first, dup := keyAt[g.Key]; dup {
			fail(g.Line, "", g.Key, "group key already used on line "+strconv.Itoa(groups[first].Line)+": the first resource of a line names its group and must be unique")
			continue
		}
		keyAt[g.Key] = gi
		reported := map[int]bool{}
		for _, c := range byText[g.Key] {
			if c.group == gi || reported[c.group] || c.pos == 0 {
				continue // duplicate keys are reported on their own line
			}
			reported[c.group] = true
			fail(g.Line, "", g.Key, "group key also appears on line "+strconv.Itoa(groups[c.group].Line)+
				": ResourceManager finds a group by searching \" key \" on every line, so it would take both lines as the group (heartbeat trap: keys must not occur anywhere else)")
		}
		if strings.IndexByte(g.Key, '.') < 0 {
			continue
		}
		for _, c := range byLen[len(g.Key)] {
			if budget--; budget < 0 {
				break
			}
			o := groups[c.group].Resources[c.pos].Text
			if c.group == gi || reported[c.group] || o == g.Key || !wildEq(g.Key, o) {
				continue
			}
			reported[c.group] = true
			fail(g.Line, "", g.Key, "group key matches ["+o+"] on line "+strconv.Itoa(groups[c.group].Line)+
				": ResourceManager searches keys with egrep, where '.' matches any character, so it would take both lines as the group")
		}
	}
}

// checkNodeRegex reports node names that match each other when their dots
// are read as regex wildcards (ResourceManager's listkeys uses egrep).
func checkNodeRegex(nodes []string, fail func(ln int, dir, tok, msg string)) {
	for i, a := range nodes {
		if strings.IndexByte(a, '.') < 0 {
			continue
		}
		for j, b := range nodes {
			if i != j && a != b && wildEq(strings.ToLower(a), strings.ToLower(b)) {
				fail(0, "", a, "node name ["+a+"] also matches node ["+b+"] in ResourceManager's egrep lookups ('.' matches any character): the scripts would mix up their groups")
			}
		}
	}
}
