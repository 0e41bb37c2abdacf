package media

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"habox/conf"
	"habox/hw/hwtest"
	"habox/hw/serial"
)

// newPty opens a pty pair: the master and the slave's path.
// Two classic frames, as a 3.0.6 node writes them on a serial line.
const (
	frameA = ">>>\nt=status\nst=active\nsrc=alice\n<<<\n"
	frameB = ">>>\nt=status\nsrc=bob\n<<<\n"
)

func newPty(t *testing.T) (*os.File, string) { return hwtest.NewPty(t) }

// link points the stable device name at a pty slave (like a udev symlink
// that comes back when a USB adapter is replugged).
func link(t *testing.T, dev, target string) {
	t.Helper()
	tmp := dev + ".new"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dev); err != nil {
		t.Fatal(err)
	}
}

// readUntil reads from the master until want has been seen.
func readUntil(t *testing.T, m *os.File, want string) string {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(string(got), want) {
		m.SetReadDeadline(deadline)
		n, err := m.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("reading pty master: %v (got %q, want %q)", err, got, want)
		}
	}
	return string(got)
}

// serialSetup skips without root and returns the options of the tests'
// serial media: a private lock directory, fast reopening, no RTS/CTS.
func serialSetup(t *testing.T) Options {
	hwtest.RequireRoot(t) // /dev/ptmx and termios on the slave
	return Options{SerialLockDir: t.TempDir(), SerialBackoffMin: 20 * time.Millisecond,
		SerialBackoffMax: 200 * time.Millisecond, SerialNoRTSCTS: true}
}

func openSerialRunning(t *testing.T, dev string, baud int, o Options) (Medium, chan Packet, *syncBuffer) {
	t.Helper()
	log, buf := testLogger(t)
	m, err := OpenWith(conf.Medium{Type: conf.Serial, Dev: dev, Baud: baud}, log, o)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan Packet, 16)
	done := make(chan struct{})
	go func() { m.Run(ch); close(done) }()
	t.Cleanup(func() {
		m.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after Close")
		}
	})
	return m, ch, buf
}

func TestSerialMedium(t *testing.T) {
	o := serialSetup(t)
	master, slave := newPty(t)
	m, ch, logbuf := openSerialRunning(t, slave, 115200, o)
	if !strings.Contains(logbuf.String(), "info: glib: Starting serial heartbeat on tty "+slave+" (115200 baud)\n") {
		t.Errorf("started line: %q", logbuf.String())
	}
	if !m.Text() || m.Name() != slave {
		t.Error("Name/Text")
	}
	// Receive: garbage, a frame split across writes, CRs.
	master.Write([]byte("line noise\n\x00\x01\n>>"))
	time.Sleep(20 * time.Millisecond)
	master.Write([]byte(">\r\nt=status\r\nsrc=bob\n<<"))
	time.Sleep(20 * time.Millisecond)
	master.Write([]byte("<\ntrailing junk\n"))
	recv(t, ch, slave, ">>>\nt=status\nsrc=bob\n<<<\n")

	// An oversize frame is dropped and the next one still arrives.
	big := ">>>\n" + strings.Repeat("x=0123456789abcdef0123456789abcdef\n", MaxMessage/35+10) + "<<<\n"
	go master.Write([]byte(big + frameB))
	recv(t, ch, slave, frameB)
	// Run counts the drop after the read's frames were handed on.
	for end := time.Now().Add(time.Second); m.(Statser).Stats().Dropped == 0 && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	if s := m.(Statser).Stats(); s.Dropped != 1 {
		t.Errorf("dropped = %d, want 1", s.Dropped)
	}

	// Send: a message longer than one chunk arrives whole.
	msg := ">>>\n" + strings.Repeat("k=v\n", 300) + "<<<\n" // 1208 bytes: 3 chunks
	start := time.Now()
	if err := m.Send([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 100*time.Millisecond {
		t.Error("Send blocked")
	}
	got := readUntil(t, master, "<<<\n")
	if got != msg {
		t.Errorf("master read %d bytes, want %d", len(got), len(msg))
	}
	// Two pauses of 512*8/115200 s = 35.5 ms each between three chunks.
	if el := time.Since(start); el < 60*time.Millisecond {
		t.Errorf("3 chunks took %v: not paced", el)
	}
}

func TestSerialUnplugAndReconnect(t *testing.T) {
	o := serialSetup(t)
	dev := filepath.Join(t.TempDir(), "ttyHB")
	master, slave := newPty(t)
	link(t, dev, slave)
	m, ch, logbuf := openSerialRunning(t, dev, 460800, o)
	master.Write([]byte(frameA))
	recv(t, ch, dev, frameA)

	// Unplug: the other end goes away; reads fail, the device vanishes.
	master.Close()
	time.Sleep(100 * time.Millisecond)
	m.Send([]byte(frameB)) // lost, but no error, no block, no crash
	time.Sleep(300 * time.Millisecond)
	if !strings.Contains(logbuf.String(), "line dead, reopening") {
		t.Errorf("no dead-line log: %q", logbuf.String())
	}

	// Replug: a new pty appears under the same name.
	master2, slave2 := newPty(t)
	link(t, dev, slave2)
	deadline := time.Now().Add(5 * time.Second)
	for m.(Statser).Stats().Reopens == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not reopened; log: %q", logbuf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	master2.Write([]byte(frameB))
	recv(t, ch, dev, frameB)
	m.Send([]byte(frameA))
	if got := readUntil(t, master2, "<<<\n"); !strings.HasSuffix(got, frameA) {
		t.Errorf("after reconnect the master read %q", got)
	}
}

func TestSerialMissingAtStartIsDeadLink(t *testing.T) {
	o := serialSetup(t)
	// A char device that cannot be opened as a tty (/dev/null: not a
	// tty): Open succeeds (3.0.6's start-up checks pass), the link is
	// reported failed and Run keeps retrying without returning.
	m, _, logbuf := openSerialRunning(t, "/dev/null", 19200, o)
	time.Sleep(150 * time.Millisecond)
	if err := m.Send([]byte(frameA)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logbuf.String(), "ERROR: glib: serial heartbeat link /dev/null FAILED (nothing sent or heard on it): cannot open /dev/null: not a tty; retrying") {
		t.Errorf("log: %q", logbuf.String())
	}
	if why := m.(Failer).Failure(); why != "cannot open /dev/null: not a tty" {
		t.Errorf("Failure() = %q", why)
	}
}

func TestSerialSendQueueBounded(t *testing.T) {
	o := serialSetup(t)
	o.SerialQueueMax = 8
	master, slave := newPty(t)
	_ = master
	m, _, _ := openSerialRunning(t, slave, 9600, o)
	// At 9600 baud each 512-byte chunk takes 427 ms: the queue fills up
	// and the oldest messages are dropped instead of blocking.
	big := []byte(">>>\n" + strings.Repeat("a=b\n", 400) + "<<<\n")
	start := time.Now()
	for i := 0; i < o.SerialQueueMax+20; i++ {
		if err := m.Send(big); err != nil {
			t.Fatal(err)
		}
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Errorf("Send blocked: %v", time.Since(start))
	}
	if s := m.(Statser).Stats(); s.SendFails < 19 {
		t.Errorf("SendFails = %d, want >= 19 dropped", s.SendFails)
	}
	m.Close()
	if err := m.Send(big); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
}

// TestSerialLockDir: a missing lock directory is created (mode 1777); one
// that cannot be created is replaced by the fallback with a warning; with
// neither the medium is a failed link (Failure, an ERROR line) until a
// lock directory appears, and then it carries frames.
func TestSerialLockDir(t *testing.T) {
	o := serialSetup(t)
	base := t.TempDir()
	blocker := filepath.Join(base, "file") // a regular file: nothing can be created under it
	os.WriteFile(blocker, nil, 0o644)
	late := filepath.Join(base, "late") // a regular file until the "neither" case removes it
	os.WriteFile(late, nil, 0o644)
	for _, tc := range []struct {
		name, dir, fallback string
		used                string // where the lock must be; "" = no lock possible
		log                 string
	}{
		{"missing", filepath.Join(base, "a", "lock"), filepath.Join(base, "nofb"), filepath.Join(base, "a", "lock"),
			"WARN: glib: lock directory " + filepath.Join(base, "a", "lock") + " was missing: created it (mode 1777)"},
		{"fallback", filepath.Join(blocker, "lock"), filepath.Join(base, "run", "lock"), filepath.Join(base, "run", "lock"),
			"WARN: glib: lock directory " + filepath.Join(blocker, "lock") + " missing and cannot be created (Not a directory): using " + filepath.Join(base, "run", "lock")},
		{"neither", filepath.Join(blocker, "lock"), filepath.Join(late, "run"), "",
			"ERROR: glib: serial heartbeat link "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := o
			o.SerialLockDir, o.SerialLockFallback = tc.dir, tc.fallback
			master, slave := newPty(t)
			m, ch, logbuf := openSerialRunning(t, slave, 115200, o)
			if !strings.Contains(logbuf.String(), tc.log) {
				t.Errorf("log %q\nwant %q", logbuf.String(), tc.log)
			}
			why := m.(Failer).Failure()
			if tc.used == "" {
				if !strings.HasPrefix(why, "no lock directory: "+tc.dir) ||
					!strings.Contains(logbuf.String(), slave+" FAILED (nothing sent or heard on it): no lock directory") {
					t.Fatalf("failure %q, log %q", why, logbuf.String())
				}
				// The fallback becomes possible: the line opens, the
				// failure is cleared.
				os.Remove(late)
				deadline := time.Now().Add(5 * time.Second)
				for m.(Failer).Failure() != "" && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				tc.used = tc.fallback
			}
			if why := m.(Failer).Failure(); why != "" {
				t.Fatalf("failure %q with a usable lock directory", why)
			}
			if fi, err := os.Stat(tc.used); err != nil || fi.Mode() != os.ModeDir|os.ModeSticky|0o777 {
				t.Errorf("lock dir %s: %v %v, want mode 1777", tc.used, fi, err)
			}
			if _, err := os.Stat(filepath.Join(tc.used, serial.LockName(slave))); err != nil {
				t.Errorf("no lock file in %s: %v", tc.used, err)
			}
			master.Write([]byte(frameB))
			recv(t, ch, slave, frameB)
		})
	}
}

// TestSerialStaleInputFlushed: frames that arrived while no heartbeat was
// reading (a previous run's traffic in the line's buffer) are discarded
// when the medium opens the line, as 3.0.6 does (TCIOFLUSH); only what
// arrives afterwards is delivered.
func TestSerialStaleInputFlushed(t *testing.T) {
	o := serialSetup(t)
	master, slave := newPty(t)
	hwtest.HoldOpen(t, slave) // the line stays open across "restarts", as a UART's buffer does
	const stale = ">>>\nt=shutdone\nsrc=bob\n<<<\n"
	if _, err := master.Write([]byte(stale)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	_, ch, _ := openSerialRunning(t, slave, 115200, o)
	time.Sleep(100 * time.Millisecond)
	master.Write([]byte(frameB))
	recv(t, ch, slave, frameB)
}
