// Package control is the daemon's local control socket and the applets
// that use it: cl_status, hb_standby and hb_takeover.
//
// The socket (DefaultSocket, mode 0600, root only) takes one request per
// connection in a tiny line protocol; words are separated by one space and
// escaped (\\ \s \t \n) so any value survives:
//
//	request:  "snapshot" | "standby KIND" | "takeover KIND"   (KIND: all|foreign|local|failback)
//	response: "ok" then, for snapshot, one record per line and "." at the end:
//	            node NAME            the local node
//	            version TEXT
//	            rsc none|local|foreign|all|transition
//	            nodeinfo NAME TYPE STATUS
//	            link NODE LINK STATUS
//	            param NAME VALUE
//	          or "err MESSAGE" (a refused request, with the daemon's reason).
//
// cl_status formats the snapshot on the client side, so the daemon only
// has to hand over its state (the Daemon interface).
package control

import (
	"bufio"
	"errors"
	"habox/applets/cli"
	"io"
	"strings"
)

// DefaultSocket is the control socket path; env HA_CTLSOCK or the applets'
// -S option override it.
const DefaultSocket = "/var/run/heartbeat/habox.ctl"

// SocketEnv names the environment variable overriding DefaultSocket.
const SocketEnv = "HA_CTLSOCK"

// Snapshot is the daemon state cl_status reports.
type Snapshot struct {
	Node, Version string
	Nodes         []NodeInfo        // every configured node incl. self
	Rsc           string            // none|local|foreign|all|transition
	Params        map[string]string // ha.cf directive -> value text (conf.HaCf.Raw)
	// Failed maps each local medium that cannot be opened (its links have
	// Status "failed") to the reason.
	Failed map[string]string
}

// NodeInfo is one node: Type "normal" (or "ping"), Status
// init|up|active|dead.
type NodeInfo struct {
	Name, Type, Status string
	Links              []LinkInfo
}

// LinkInfo is one heartbeat link of a node: Status up|dead, or failed
// when the local medium cannot be opened.
type LinkInfo struct{ Name, Status string }

// Daemon is what the control socket needs from the heartbeat daemon. The
// methods are called from the socket's goroutines.
type Daemon interface {
	Snapshot() Snapshot
	Standby(kind string) error  // hb_standby [all|foreign|local|failback]
	Takeover(kind string) error // hb_takeover [all|foreign|local|failback]
}

// Limits of the protocol.
const (
	maxRequest  = 512
	maxResponse = 1 << 20
)

// Kinds are the resource sets of hb_standby and hb_takeover.
var Kinds = []string{"all", "foreign", "local", "failback"}

func validKind(k string) bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// Request is a parsed request line.
type Request struct {
	Verb string // snapshot, standby, takeover
	Kind string
}

// ErrBadRequest is returned for a malformed request.
var ErrBadRequest = errors.New("bad request")

// ParseRequest parses one request line (without its newline).
func ParseRequest(line string) (Request, error) {
	if len(line) > maxRequest {
		return Request{}, ErrBadRequest
	}
	w := strings.Split(line, " ")
	switch {
	case len(w) == 1 && w[0] == "snapshot":
		return Request{Verb: "snapshot"}, nil
	case len(w) == 2 && (w[0] == "standby" || w[0] == "takeover") && validKind(w[1]):
		return Request{Verb: w[0], Kind: w[1]}, nil
	}
	return Request{}, ErrBadRequest
}

// String returns the request line.
func (r Request) String() string {
	if r.Kind == "" {
		return r.Verb
	}
	return r.Verb + " " + r.Kind
}

// escape makes s one protocol word.
func escape(s string) string {
	if !strings.ContainsAny(s, "\\ \t\n\r") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case ' ':
			b.WriteString(`\s`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescape reverses escape; a malformed escape is an error.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", ErrBadResponse
		}
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 's':
			b.WriteByte(' ')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", ErrBadResponse
		}
	}
	return b.String(), nil
}

func line(w ...string) string {
	for i := range w {
		w[i] = escape(w[i])
	}
	return strings.Join(w, " ") + "\n"
}

// EncodeSnapshot writes the "ok" response carrying s.
func EncodeSnapshot(s Snapshot) string {
	var b strings.Builder
	b.WriteString("ok\n")
	b.WriteString(line("node", s.Node))
	b.WriteString(line("version", s.Version))
	b.WriteString(line("rsc", s.Rsc))
	for _, n := range s.Nodes {
		b.WriteString(line("nodeinfo", n.Name, n.Type, n.Status))
		for _, l := range n.Links {
			b.WriteString(line("link", n.Name, l.Name, l.Status))
		}
	}
	for _, rec := range []struct {
		kind string
		m    map[string]string
	}{{"param", s.Params}, {"failed", s.Failed}} {
		names := make([]string, 0, len(rec.m))
		for k := range rec.m {
			names = append(names, k)
		}
		cli.Sort(names)
		for _, k := range names {
			b.WriteString(line(rec.kind, k, rec.m[k]))
		}
	}
	b.WriteString(".\n")
	return b.String()
}

// OK is the response to an accepted standby or takeover.
const OK = "ok\n.\n"

// EncodeError writes the "err" response.
func EncodeError(msg string) string { return line("err", msg) }

// ErrBadResponse is returned for a malformed response.
var ErrBadResponse = errors.New("malformed response from the daemon")

// RefusedError is a request the daemon refused, with its reason.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

// DecodeResponse reads a response: the snapshot for "ok" + records + "."
// (no records for an accepted standby/takeover), or a *RefusedError for
// "err".
func DecodeResponse(r io.Reader) (Snapshot, error) {
	var s Snapshot
	sc := bufio.NewScanner(io.LimitReader(r, maxResponse))
	sc.Buffer(make([]byte, 4096), maxResponse)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return s, err
		}
		return s, ErrBadResponse
	}
	first := strings.Split(sc.Text(), " ")
	switch {
	case first[0] == "err" && len(first) == 2:
		msg, err := unescape(first[1])
		if err != nil {
			return s, err
		}
		return s, &RefusedError{Reason: msg}
	case first[0] != "ok" || len(first) != 1:
		return s, ErrBadResponse
	}
	nodes := map[string]int{} // index in s.Nodes by name
	ended := false
	for sc.Scan() {
		if ended {
			return s, ErrBadResponse
		}
		t := sc.Text()
		if t == "." {
			ended = true
			continue
		}
		w := strings.Split(t, " ")
		for i := range w {
			u, err := unescape(w[i])
			if err != nil {
				return s, err
			}
			w[i] = u
		}
		if err := s.addRecord(w, nodes); err != nil {
			return s, err
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	if !ended {
		return s, ErrBadResponse // cut short
	}
	return s, nil
}

// addRecord adds one unescaped record (node, version, rsc, nodeinfo, link,
// param, failed) to s; nodes indexes s.Nodes by name. Unknown records are
// skipped: a newer daemon may add some.
func (s *Snapshot) addRecord(w []string, nodes map[string]int) error {
	switch {
	case w[0] == "node" && len(w) == 2:
		s.Node = w[1]
	case w[0] == "version" && len(w) == 2:
		s.Version = w[1]
	case w[0] == "rsc" && len(w) == 2:
		s.Rsc = w[1]
	case w[0] == "nodeinfo" && len(w) == 4:
		if _, dup := nodes[w[1]]; dup {
			return ErrBadResponse
		}
		nodes[w[1]] = len(s.Nodes)
		s.Nodes = append(s.Nodes, NodeInfo{Name: w[1], Type: w[2], Status: w[3]})
	case w[0] == "link" && len(w) == 4:
		i, ok := nodes[w[1]]
		if !ok {
			return ErrBadResponse
		}
		s.Nodes[i].Links = append(s.Nodes[i].Links, LinkInfo{Name: w[2], Status: w[3]})
	case w[0] == "param" && len(w) == 3:
		if s.Params == nil {
			s.Params = map[string]string{}
		}
		s.Params[w[1]] = w[2]
	case w[0] == "failed" && len(w) == 3:
		if s.Failed == nil {
			s.Failed = map[string]string{}
		}
		s.Failed[w[1]] = w[2]
	}
	return nil
}
