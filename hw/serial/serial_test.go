package serial

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
)

// newPty opens a pty pair: the master (non-blocking, with deadlines) and
// the slave's path. A slave descriptor stays open for the test's life so
// the pair survives a Port closing its end.
func newPty(t *testing.T) (*os.File, string) {
	m, path := hwtest.NewPty(t)
	hwtest.HoldOpen(t, path)
	return m, path
}

func attrsOf(t *testing.T, path string) unix.Termios {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return *a
}

func TestOpenRawAndRestore(t *testing.T) {
	for _, tc := range []struct {
		baud  int
		flow  bool
		speed uint32
	}{
		{9600, false, unix.B9600},
		{0, true, unix.B19200},
		{115200, false, unix.B115200},
		{460800, true, unix.B460800},
	} {
		t.Run(strconv.Itoa(tc.baud), func(t *testing.T) {
			_, path := newPty(t)
			before := attrsOf(t, path)
			if before.Lflag&unix.ICANON == 0 {
				t.Fatal("a fresh pty should start in canonical mode")
			}
			p, err := Open(path, Config{Baud: tc.baud, RTSCTS: tc.flow, VMin: 1, VTime: 1})
			if err != nil {
				t.Fatal(err)
			}
			a, err := p.Attrs()
			if err != nil {
				t.Fatal(err)
			}
			if a.Cflag&unix.CBAUD != tc.speed {
				t.Errorf("speed %#x, want %#x", a.Cflag&unix.CBAUD, tc.speed)
			}
			want := uint32(unix.CS8 | unix.CREAD | unix.CLOCAL)
			if a.Cflag&want != want || a.Cflag&(unix.PARENB|unix.CSTOPB) != 0 {
				t.Errorf("cflag %#x is not 8N1 with CREAD|CLOCAL", a.Cflag)
			}
			if got := a.Cflag&unix.CRTSCTS != 0; got != tc.flow {
				t.Errorf("CRTSCTS = %v, want %v", got, tc.flow)
			}
			if a.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 || a.Oflag&unix.OPOST != 0 ||
				a.Iflag&(unix.ICRNL|unix.IXON|unix.ISTRIP) != 0 {
				t.Errorf("not raw: iflag %#x oflag %#x lflag %#x", a.Iflag, a.Oflag, a.Lflag)
			}
			if a.Cc[unix.VMIN] != 1 || a.Cc[unix.VTIME] != 1 {
				t.Errorf("VMIN/VTIME = %d/%d, want 1/1", a.Cc[unix.VMIN], a.Cc[unix.VTIME])
			}
			if p.Saved() != before {
				t.Error("Saved() differs from the settings before Open")
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if after := attrsOf(t, path); after != before {
				t.Errorf("settings not restored:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

func TestHeartbeatIflag(t *testing.T) {
	m, path := newPty(t)
	p, err := Open(path, Config{Iflag: HeartbeatIflag})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, _ := p.Attrs()
	if a.Iflag&HeartbeatIflag != HeartbeatIflag || a.Lflag&unix.ICANON != 0 {
		t.Errorf("iflag %#x lflag %#x", a.Iflag, a.Lflag)
	}
	// IGNCR drops CR, ISTRIP clears the 8th bit.
	m.Write([]byte("a\r\xe2\n"))
	got := make([]byte, 3)
	p.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(p, got); err != nil || string(got) != "ab\n" {
		t.Errorf("read %q, %v; want \"ab\\n\"", got, err)
	}
}

func TestReadWriteDeadlineAndClose(t *testing.T) {
	m, path := newPty(t)
	p, err := Open(path, Config{Baud: 38400})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SendBreak(); err != nil {
		t.Fatal(err)
	}
	// Binary-safe both ways: CR, LF, 0xff and NUL arrive unchanged.
	msg := []byte("a\r\nb\x00\xff\x13\x03")
	if _, err := p.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := p.Drain(); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	m.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(m, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("master read %q, %v; want %q", got, err, msg)
	}
	if _, err := m.Write(msg); err != nil {
		t.Fatal(err)
	}
	p.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(p, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("port read %q, %v; want %q", got, err, msg)
	}
	p.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, err := p.Read(got); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read on a silent line: %v, want deadline exceeded", err)
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	p.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := p.Read(got); done <- err }()
	time.Sleep(20 * time.Millisecond)
	p.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("pending read after Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock a pending Read")
	}
}

func TestOpenErrors(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "file")
	os.WriteFile(reg, nil, 0600)
	_, pty := newPty(t)
	for _, tc := range []struct {
		path string
		baud int
		want error
	}{
		{"/dev/ttyNOSUCH9", 0, os.ErrNotExist},
		{os.DevNull, 0, ErrNotTTY},
		{reg, 0, ErrNotTTY},
		{pty, 12345, ErrBaud},
		{pty, 300, ErrBaud},
	} {
		p, err := Open(tc.path, Config{Baud: tc.baud})
		if !errors.Is(err, tc.want) {
			t.Errorf("Open(%s, %d) = %v, want %v", tc.path, tc.baud, err, tc.want)
		}
		if p != nil {
			p.Close()
		}
	}
}

func TestBaudsTable(t *testing.T) {
	want := map[int]uint32{9600: unix.B9600, 19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600,
		115200: unix.B115200, 230400: unix.B230400, 460800: unix.B460800}
	if len(speeds) != len(Bauds) || len(want) != len(Bauds) {
		t.Fatal("speeds and Bauds disagree")
	}
	for i, b := range Bauds {
		if speeds[i] != want[b] {
			t.Errorf("baud %d has speed %#x, want %#x", b, speeds[i], want[b])
		}
	}
}

func deadPid(t *testing.T) int {
	t.Helper()
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	pid := c.Process.Pid
	if Alive(pid) {
		t.Skip("pid reused already")
	}
	return pid
}

func TestLockFiles(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDevice(dir, "/dev/ttyS0")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "LCK..ttyS0")
	if l.Path() != path {
		t.Fatalf("lock path %s, want %s", l.Path(), path)
	}
	b, _ := os.ReadFile(path)
	pid := strconv.Itoa(os.Getpid())
	if want := string(bytes.Repeat([]byte{' '}, 10-len(pid))) + pid + "\n"; string(b) != want {
		t.Errorf("lock content %q, want %q", b, want)
	}
	// A lock holding our own pid is taken over (cluster-glue semantics).
	l2, err := LockDevice(dir, "/dev/ttyS0")
	if err != nil || l2.Path() != path {
		t.Fatalf("relock by the same process: %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("Unlock left the lock file")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("files left in the lock dir: %v", ents)
	}
}

func TestLockStaleAndForeign(t *testing.T) {
	dead := deadPid(t)
	// Sleep keeps a live foreign holder.
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	live := sleeper.Process.Pid
	bin := func(pid int) string {
		b := make([]byte, 4)
		b[0], b[1], b[2], b[3] = byte(pid), byte(pid>>8), byte(pid>>16), byte(pid>>24)
		return string(b)
	}
	for _, tc := range []struct {
		name, content string
		lockedBy      int // 0: stale, acquired
	}{
		{"dead ascii", "      " + strconv.Itoa(dead) + "\n", 0},
		{"garbage", "hello\n", 0},
		{"empty", "", 0},
		{"live ascii", strconv.Itoa(live) + "\n", live},
		{"live padded", "     " + strconv.Itoa(live) + "\n", live},
		{"live binary", bin(live), live},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "LCK..ttyUSB1")
			os.WriteFile(path, []byte(tc.content), 0644)
			l, err := LockDevice(dir, "/dev/ttyUSB1")
			if tc.lockedBy != 0 {
				var le *LockedError
				if !errors.As(err, &le) || le.PID != tc.lockedBy {
					t.Fatalf("got %v, want locked by %d", err, tc.lockedBy)
				}
				if b, _ := os.ReadFile(path); string(b) != tc.content {
					t.Error("a live holder's lock was touched")
				}
				return
			}
			if err != nil {
				t.Fatalf("stale lock not taken over: %v", err)
			}
			if pid, _ := ReadLock(path); pid != os.Getpid() {
				t.Errorf("lock holds pid %d, want ours", pid)
			}
			l.Unlock()
		})
	}
}

func TestLockName(t *testing.T) {
	for dev, want := range map[string]string{
		"/dev/ttyS0":                      "LCK..ttyS0",
		"/dev/ttyUSB1":                    "LCK..ttyUSB1",
		"/dev/pts/77":                     "LCK..pts77",
		"/dev/serial/by-id/usb-FTDI_x-if": "LCK..serialbyidusbFTDIxif",
		"/tmp/hblab/ttyA":                 "LCK..hblabttyA",
		"/dev/" + strings.Repeat("x", 70): "LCK.." + strings.Repeat("x", 63),
	} {
		if got := LockName(dev); got != want {
			t.Errorf("LockName(%q) = %q, want %q", dev, got, want)
		}
	}
	wd, _ := os.Getwd()
	if got, want := LockName("ttyX"), LockName(filepath.Join(wd, "ttyX")); got != want {
		t.Errorf("relative name %q, want %q", got, want)
	}
}

func TestUnlockLeavesForeignLock(t *testing.T) {
	dir := t.TempDir()
	l, err := LockDevice(dir, "/dev/ttyS1")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(l.Path(), []byte("         1\n"), 0644) // taken over by pid 1
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "LCK..ttyS1")); err != nil {
		t.Error("Unlock removed a lock it no longer holds")
	}
}

func TestLockDirMissing(t *testing.T) {
	_, err := LockDevice(filepath.Join(t.TempDir(), "nope"), "/dev/ttyS0")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want ErrNotExist", err)
	}
}

func TestUsers(t *testing.T) {
	_, path := newPty(t) // newPty keeps a descriptor: ours, not reported
	users, err := Users(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 0 {
		t.Fatalf("users %v, want none", users)
	}
	// A child holding the port open is reported with its name.
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "30")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	users, err = Users(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0].PID != cmd.Process.Pid || users[0].Comm != "sleep" {
		t.Errorf("users %+v, want sleep pid %d", users, cmd.Process.Pid)
	}
	for _, p := range []string{os.Args[0], os.DevNull} {
		if _, err := Users(p); !errors.Is(err, ErrNotTTY) {
			t.Errorf("Users(%s) = %v, want ErrNotTTY", p, err)
		}
	}
}

func TestReadLockFormats(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		content string
		pid     int
	}{
		{"     31033\n", 31033},
		{"31033", 31033},
		{"1234", 1234},               // four ASCII digits: text, not binary
		{"\x39\x79\x00\x00", 0x7939}, // binary, with a digit byte
		{"\x01\x00\x00\x00", 1},      // binary
		{"\xff\xff\xff\xff", 0},      // binary -1: invalid
		{"pid\n", 0},
	} {
		p := filepath.Join(dir, "LCK..x")
		os.WriteFile(p, []byte(tc.content), 0644)
		pid, err := ReadLock(p)
		if pid != tc.pid || (err == nil) != (tc.pid > 0) {
			t.Errorf("ReadLock(%q) = %d, %v; want %d", tc.content, pid, err, tc.pid)
		}
	}
}

func BenchmarkUsers(b *testing.B) {
	fd, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer fd.Close()
	unix.IoctlSetPointerInt(int(fd.Fd()), unix.TIOCSPTLCK, 0)
	n, _ := unix.IoctlGetUint32(int(fd.Fd()), unix.TIOCGPTN)
	path := "/dev/pts/" + strconv.Itoa(int(n))
	for i := 0; i < b.N; i++ {
		if _, err := Users(path); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLockSymlinkAttack: a local user plants symlinks where the lock code
// writes (the old LTMP.<pid> name and the lock itself) in a world-writable
// lock directory; root's lock must never write through them.
func TestLockSymlinkAttack(t *testing.T) {
	hwtest.RequireRoot(t)
	dir := hwtest.SharedDir(t)
	tmpIntact := hwtest.PlantSymlink(t, filepath.Join(dir, "LTMP."+strconv.Itoa(os.Getpid())))
	lockIntact := hwtest.PlantSymlink(t, filepath.Join(dir, "LCK..ttyS3"))
	l, err := LockDevice(dir, "/dev/ttyS3")
	if err != nil {
		t.Fatal(err)
	}
	tmpIntact()
	lockIntact()
	if fi, err := os.Lstat(l.Path()); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("lock %s is not a regular file: %v %v", l.Path(), fi, err)
	}
	if pid, err := ReadLock(l.Path()); pid != os.Getpid() {
		t.Errorf("lock holds %d (%v), want our pid", pid, err)
	}
	l.Unlock()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "LTMP."+strconv.Itoa(os.Getpid()) {
		t.Errorf("lock dir holds %v, want only the attacker's link", ents)
	}
}

func TestValidBaud(t *testing.T) {
	for _, tc := range []struct {
		baud int
		ok   bool
	}{{9600, true}, {19200, true}, {115200, true}, {460800, true}, {0, false}, {4800, false}, {9601, false}, {921600, false}} {
		if ValidBaud(tc.baud) != tc.ok {
			t.Errorf("ValidBaud(%d) = %v", tc.baud, !tc.ok)
		}
	}
}
