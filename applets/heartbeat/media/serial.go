package media

import (
	"errors"
	"os"
	"strconv"
	"sync"
	"time"

	"habox/applets/internal/hblog"
	"habox/applets/internal/wire"
	"habox/conf"
	"habox/hw/safefile"
	"habox/hw/serial"
)

const (
	serialChunk        = 512                    // bytes per write (spec 4.1.4)
	serialChunkTimeout = 500 * time.Millisecond // each chunk write
)

// serialMedium is a serial line carrying classic text frames.
type serialMedium struct {
	counters
	dev  string
	baud int
	log  *hblog.Logger
	lim  *hblog.Limiter
	o    Options

	mu      sync.Mutex
	port    *serial.Port
	lock    *serial.Lock
	failure string // why the line cannot be opened; "" while it is open

	qmu   sync.Mutex
	queue [][]byte
	kick  chan struct{}

	closeOnce sync.Once
	done      chan struct{}
	writerWG  sync.WaitGroup
}

func openSerial(m conf.Medium, log *hblog.Logger, o Options) (Medium, error) {
	dev := m.Dev
	if len(dev) == 0 || dev[0] != '/' {
		return nil, &Error{Msg: "Serial port not full pathname [" + dev + "] in config file"}
	}
	fi, err := os.Stat(dev)
	if err != nil {
		return nil, &Error{Msg: "Nonexistent serial port [" + dev + "] in config file", Err: err}
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		return nil, &Error{Msg: "Serial port [" + dev + "] not a char device in config file"}
	}
	baud := m.Baud
	if baud == 0 {
		baud = serial.DefaultBaud
	}
	if !serial.ValidBaud(baud) {
		return nil, &Error{Msg: "serial: invalid baud rate(" + strconv.Itoa(baud) + ")", Err: serial.ErrBaud}
	}
	s := &serialMedium{dev: dev, baud: baud, log: log, lim: newLimiter(), o: o,
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	if err := s.openPort(); err != nil {
		// A line that exists but cannot be opened now is a failed link,
		// reported as such (log, cl_status, heartbeat -s); Run keeps
		// trying.
		log.Error("glib: " + s.failedText(err))
	}
	log.Info("glib: Starting serial heartbeat on tty " + dev + " (" + strconv.Itoa(baud) + " baud)")
	s.writerWG.Add(1)
	go s.writer()
	return s, nil
}

// failedText is the log line of a line that cannot be opened.
func (s *serialMedium) failedText(err error) string {
	return "serial heartbeat link " + s.dev + " FAILED (nothing sent or heard on it): " + err.Error() + "; retrying"
}

// Failure implements Failer.
func (s *serialMedium) Failure() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
}

// lockDir returns the lock directory to use: Options.SerialLockDir,
// created when missing, else Options.s.o.SerialLockFallback; each change is
// logged.
func (s *serialMedium) lockDir() (string, error) {
	dir := s.o.SerialLockDir
	if dir == "" {
		dir = serial.LockDir
	}
	created, err := safefile.EnsureDir(dir, os.ModeSticky|0o777)
	if err == nil {
		if created {
			s.log.Warn("glib: lock directory " + dir + " was missing: created it (mode 1777)")
		}
		return dir, nil
	}
	created, ferr := safefile.EnsureDir(s.o.SerialLockFallback, os.ModeSticky|0o777)
	if ferr != nil {
		return "", &Error{Msg: "no lock directory: " + dir, Err: err}
	}
	if created {
		s.log.Warn("glib: created lock directory " + s.o.SerialLockFallback + " (mode 1777)")
	}
	logLimited(s.log, s.lim, "lockdir", "glib: lock directory "+dir+" missing and cannot be created ("+errText(err)+
		"): using "+s.o.SerialLockFallback+" for the lock of "+s.dev+" (programs using "+dir+" will not see it)")
	return s.o.SerialLockFallback, nil
}

// openPort locks and opens the line, discards whatever waits in its
// buffers (frames of a previous run must not be delivered now: an old
// shutdone would hand this node's groups to the peer), sends a break, as
// 3.0.6 does, and installs it. A failure is kept for Failure until the
// line opens.
func (s *serialMedium) openPort() (err error) {
	defer func() {
		s.mu.Lock()
		s.failure = ""
		if err != nil && err != os.ErrClosed {
			s.failure = err.Error()
		}
		s.mu.Unlock()
	}()
	dir, err := s.lockDir()
	if err != nil {
		return err
	}
	lk, err := serial.LockDevice(dir, s.dev)
	if err != nil {
		return &Error{Msg: "cannot lock line " + s.dev, Err: err}
	}
	p, err := serial.Open(s.dev, serial.Config{Baud: s.baud, RTSCTS: !s.o.SerialNoRTSCTS, VMin: 1, VTime: 1})
	if err != nil {
		lk.Unlock()
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return &Error{Msg: "cannot open " + s.dev, Err: err}
	}
	p.Flush()
	p.SendBreak()
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		p.Close()
		lk.Unlock()
		return os.ErrClosed
	default:
	}
	s.port, s.lock = p, lk
	return nil
}

// dropPort closes the current line (after a failure).
func (s *serialMedium) dropPort(p *serial.Port) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.port != p || p == nil {
		return
	}
	p.Close()
	s.lock.Unlock()
	s.port, s.lock = nil, nil
}

func (s *serialMedium) current() *serial.Port {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.port
}

func (s *serialMedium) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *serialMedium) Name() string { return s.dev }
func (s *serialMedium) Text() bool   { return true }

// Send queues one classic text message for the writer; it never blocks.
// When the queue is full (line stuck) the oldest message is dropped.
func (s *serialMedium) Send(b []byte) error {
	if s.closed() {
		return &os.PathError{Op: "send", Path: s.dev, Err: os.ErrClosed}
	}
	msg := make([]byte, len(b))
	copy(msg, b)
	s.qmu.Lock()
	if len(s.queue) >= s.o.SerialQueueMax {
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.sendFails.Add(1)
	}
	s.queue = append(s.queue, msg)
	s.qmu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

func (s *serialMedium) pop() []byte {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if len(s.queue) == 0 {
		return nil
	}
	m := s.queue[0]
	s.queue[0] = nil
	s.queue = s.queue[1:]
	return m
}

// chunkPause is the pause between 512-byte chunks: the time the line
// needs to transmit one chunk (512*8/baud s).
func (s *serialMedium) chunkPause() time.Duration {
	return time.Duration(serialChunk*8) * time.Second / time.Duration(s.baud)
}

// writer writes queued messages in paced chunks.
func (s *serialMedium) writer() {
	defer s.writerWG.Done()
	for {
		select {
		case <-s.done:
			return
		case <-s.kick:
		}
		for msg := s.pop(); msg != nil; msg = s.pop() {
			if !s.write(msg) {
				s.sendFails.Add(1)
			}
			if s.closed() {
				return
			}
		}
	}
}

// write sends one message; false when it was lost.
func (s *serialMedium) write(msg []byte) bool {
	p := s.current()
	if p == nil {
		return false // dead line: the message is lost, as on a cut cable
	}
	for len(msg) > 0 {
		n := min(len(msg), serialChunk)
		p.SetWriteDeadline(time.Now().Add(serialChunkTimeout))
		if _, err := p.Write(msg[:n]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				logLimited(s.log, s.lim, "wtimeout", "glib: TTY write timeout on ["+s.dev+"] (no connection or bad cable? [see documentation])")
			} else if !s.closed() {
				logLimited(s.log, s.lim, "wfail", "glib: TTY write failure on ["+s.dev+"]: "+errText(err))
			}
			return false
		}
		msg = msg[n:]
		if len(msg) > 0 {
			select {
			case <-s.done:
				return false
			case <-time.After(s.chunkPause()):
			}
		}
	}
	return true
}

// Run reads frames until Close; a dead line is closed and reopened with
// backoff.
func (s *serialMedium) Run(out chan<- Packet) {
	var fr wire.Framer
	buf := make([]byte, 4096)
	backoff := s.o.SerialBackoffMin
	emit := func(frame []byte) {
		select {
		case out <- Packet{Link: s.dev, Data: frame}:
			s.received.Add(1)
		case <-s.done:
		}
	}
	for !s.closed() {
		p := s.current()
		if p == nil {
			select {
			case <-s.done:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, s.o.SerialBackoffMax)
			if err := s.openPort(); err != nil {
				if !s.closed() {
					logLimitedErr(s.log, s.lim, "open", "glib: "+s.failedText(err))
				}
				continue
			}
			s.reopens.Add(1)
			s.log.Info("glib: serial line " + s.dev + " reopened")
			fr.Reset()
			continue
		}
		n, err := p.Read(buf)
		if n > 0 {
			before := fr.Dropped
			fr.Feed(buf[:n], emit)
			if d := fr.Dropped - before; d > 0 {
				s.dropped.Add(d)
				logLimited(s.log, s.lim, "frame", "glib: serial_read: dropped malformed or oversize frame on "+s.dev)
			}
			backoff = s.o.SerialBackoffMin
		}
		if err != nil {
			if s.closed() {
				return
			}
			logLimited(s.log, s.lim, "eof", "glib: EOF in ttygets ["+s.dev+"]: "+errText(err)+": line dead, reopening")
			s.dropPort(p)
			fr.Reset()
		}
	}
}

// Close stops Run and the writer and releases the line and its lock.
func (s *serialMedium) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		if s.port != nil {
			err = s.port.Close()
			s.lock.Unlock()
			s.port, s.lock = nil, nil
		}
		s.mu.Unlock()
		s.writerWG.Wait()
	})
	return err
}
