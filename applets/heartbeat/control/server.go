package control

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"habox/hw/unixsock"
)

// ServerTimeout bounds one connection: a client that does not send its
// request in time is dropped.
const ServerTimeout = 5 * time.Second

// Server is a running control socket.
type Server struct {
	ln *unixsock.Listener
	d  Daemon
	wg sync.WaitGroup
}

// Serve listens on path (mode 0600, parent directory created 0755 when
// missing) and answers requests from d until Close. Only root and the
// daemon's own user may talk to it (SO_PEERCRED), whatever the file mode.
func Serve(path string, d Daemon) (*Server, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0755); err != nil {
		return nil, err
	}
	ln, err := unixsock.Listen(path, 0600)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, d: d}
	s.wg.Add(1)
	go s.loop()
	return s, nil
}

func (s *Server) loop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and friends: do not spin
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(c)
		}()
	}
}

// handle answers one request.
func (s *Server) handle(c *unixsock.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(ServerTimeout))
	if uid, err := c.PeerUID(); err != nil || (uid != 0 && uid != os.Geteuid()) {
		io.WriteString(c, EncodeError("permission denied"))
		return
	}
	line, err := readLine(c, maxRequest)
	if err != nil {
		io.WriteString(c, EncodeError(err.Error()))
		return
	}
	io.WriteString(c, Answer(s.d, line))
}

// Answer returns the response to one request line.
func Answer(d Daemon, line string) string {
	req, err := ParseRequest(line)
	if err != nil {
		return EncodeError(err.Error() + ": " + strings.ToValidUTF8(trunc(line, 60), "?"))
	}
	switch req.Verb {
	case "snapshot":
		return EncodeSnapshot(d.Snapshot())
	case "standby":
		err = d.Standby(req.Kind)
	case "takeover":
		err = d.Takeover(req.Kind)
	}
	if err != nil {
		return EncodeError(err.Error())
	}
	return OK
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// errLongLine is returned for a request line over the limit.
var errLongLine = errors.New("request too long")

// readLine reads bytes up to a newline (not included), at most max.
func readLine(r io.Reader, max int) (string, error) {
	buf := make([]byte, 0, 128)
	one := make([]byte, 256)
	for {
		n, err := r.Read(one)
		for i := 0; i < n; i++ {
			if one[i] == '\n' {
				return string(buf), nil
			}
			if len(buf) >= max {
				return "", errLongLine
			}
			buf = append(buf, one[i])
		}
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				return string(buf), nil
			}
			return "", err
		}
	}
}

// Path returns the socket path.
func (s *Server) Path() string { return s.ln.Path() }

// Close stops accepting, removes the socket file and waits for running
// requests (each bounded by ServerTimeout).
func (s *Server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}
