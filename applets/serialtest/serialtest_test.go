package serialtest

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"habox/applets/cli"
	"habox/hw/hwtest"
	"habox/hw/serial"
)

// pty is a pseudo-terminal pair: the master stands for the far end of
// the cable, the slave path is the "serial port" under test.
type pty struct {
	m    *os.File
	path string
}

func newPty(t *testing.T) *pty {
	t.Helper()
	p := &pty{}
	p.m, p.path = hwtest.NewPty(t)
	// Keep the slave open so the pair outlives the applet's descriptor, and
	// give it a distinctive "previous" setup (9600 baud, canonical).
	hold := hwtest.HoldOpen(t, p.path)
	tio := p.termios(t)
	tio.Cflag = tio.Cflag&^unix.CBAUD | unix.B9600
	if err := unix.IoctlSetTermios(int(hold.Fd()), unix.TCSETS, &tio); err != nil {
		t.Fatal(err)
	}
	return p
}

// termios reads the slave's settings through the master.
func (p *pty) termios(t *testing.T) unix.Termios {
	t.Helper()
	var tio *unix.Termios
	err := withFd(p.m, func(fd int) (err error) { tio, err = unix.IoctlGetTermios(fd, unix.TCGETS); return })
	if err != nil {
		t.Fatal(err)
	}
	return *tio
}

func withFd(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// waitRaw waits until the applet has put the slave in raw mode.
func (p *pty) waitRaw(t *testing.T) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if p.termios(t).Lflag&unix.ICANON == 0 {
			return
		}
	}
	t.Fatal("the port was never switched to raw mode")
}

// expectRestored checks the slave's settings are back to before.
func (p *pty) expectRestored(t *testing.T, before unix.Termios) {
	t.Helper()
	if after := p.termios(t); after != before {
		t.Errorf("%s: settings not restored:\nbefore %+v\nafter  %+v", p.path, before, after)
	}
}

type result struct {
	code        int
	out, errout string
}

// start runs the applet in the background; wait returns its result.
func start(ctx context.Context, args ...string) func() result {
	var out, errb bytes.Buffer
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	done := make(chan int, 1)
	go func() { done <- run(ctx, env, args) }()
	return func() result {
		code := <-done
		return result{code, out.String(), errb.String()}
	}
}

func runApplet(t *testing.T, args ...string) result {
	t.Helper()
	return start(context.Background(), args...)()
}

// relay joins two pty masters like a null-modem cable; mangle may alter
// or drop (nil) what goes from a to b.
func relay(t *testing.T, a, b *pty, both bool, mangle func([]byte) []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	cp := func(dst, src *os.File, f func([]byte) []byte) {
		defer wg.Done()
		buf := make([]byte, 4096)
		for ctx.Err() == nil {
			src.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			n, err := src.Read(buf)
			if n > 0 {
				d := buf[:n]
				if f != nil {
					d = f(append([]byte(nil), d...))
				}
				dst.Write(d)
			}
			if err != nil && !os.IsTimeout(err) {
				time.Sleep(10 * time.Millisecond) // EIO while no slave is open
			}
		}
	}
	wg.Add(1)
	go cp(b.m, a.m, mangle)
	if both {
		wg.Add(1)
		go cp(a.m, b.m, nil)
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func lockDir(t *testing.T) string { return t.TempDir() }

func TestReceive(t *testing.T) {
	p := newPty(t)
	before := p.termios(t)
	locks := lockDir(t)
	wait := start(context.Background(), "-r", "-t", "0.5", "-b", "115200", "--lockdir", locks, p.path)
	p.waitRaw(t)
	// While it runs: the lock file names us, the line is 115200 8N1.
	pid, err := serial.ReadLock(filepath.Join(locks, serial.LockName(p.path)))
	if err != nil || pid != os.Getpid() {
		t.Errorf("lock file: pid %d, %v", pid, err)
	}
	if c := p.termios(t).Cflag; c&unix.CBAUD != unix.B115200 || c&unix.CSIZE != unix.CS8 {
		t.Errorf("cflag %#x", c)
	}
	p.m.Write([]byte("hello\r\nworld\n"))
	r := wait()
	if r.code != 0 || r.out != "hello\r\nworld\n" {
		t.Errorf("exit %d, out %q, err %s", r.code, r.out, r.errout)
	}
	p.expectRestored(t, before)
	if ents, _ := os.ReadDir(locks); len(ents) != 0 {
		t.Errorf("lock dir not empty after exit: %v", ents)
	}
}

func TestReceiveTimeout(t *testing.T) {
	p := newPty(t)
	before := p.termios(t)
	t0 := time.Now()
	r := runApplet(t, "-r", "-t", "0.3", "--lockdir", lockDir(t), p.path)
	if r.code != exitNoData || !strings.Contains(r.errout, "check the cable is a null-modem and the other side is running") {
		t.Errorf("exit %d: %s", r.code, r.errout)
	}
	if d := time.Since(t0); d < 300*time.Millisecond || d > 20*time.Second {
		t.Errorf("returned after %v", d)
	}
	p.expectRestored(t, before)
}

func TestSend(t *testing.T) {
	p := newPty(t)
	before := p.termios(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-s", "ping from A"}, "ping from A\n"},
		{[]string{"-s"}, "hello from "},
		{[]string{"-s", "options after TEXT", "-b", "57600"}, "options after TEXT\n"},
	} {
		r := runApplet(t, append(append([]string{"--lockdir", lockDir(t)}, tc.args...), p.path)...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.errout)
		}
		p.m.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 256)
		n, _ := p.m.Read(buf)
		if !strings.HasPrefix(string(buf[:n]), tc.want) || !strings.HasSuffix(string(buf[:n]), "\n") {
			t.Errorf("%v: far end got %q, want %q...", tc.args, buf[:n], tc.want)
		}
		p.expectRestored(t, before)
	}
}

func TestEcho(t *testing.T) {
	p := newPty(t)
	before := p.termios(t)
	wait := start(context.Background(), "--echo", "-t", "0.5", "--lockdir", lockDir(t), p.path)
	p.waitRaw(t)
	msg := []byte("abc\x00\xff\n")
	p.m.Write(msg)
	got := make([]byte, len(msg))
	p.m.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(p.m, got); err != nil || !bytes.Equal(got, msg) {
		t.Errorf("echoed %q, %v", got, err)
	}
	r := wait()
	if r.code != 0 || !strings.Contains(r.errout, "echoed 6 bytes") {
		t.Errorf("exit %d: %s", r.code, r.errout)
	}
	p.expectRestored(t, before)
}

// TestPingEcho runs --ping on one pty and --echo on another, joined by a
// relay standing for the null-modem cable.
func TestPingEcho(t *testing.T) {
	a, b := newPty(t), newPty(t)
	beforeA, beforeB := a.termios(t), b.termios(t)
	relay(t, a, b, true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	echoDone := start(ctx, "--echo", "--lockdir", lockDir(t), b.path)
	b.waitRaw(t)
	r := runApplet(t, "--ping", "-n", "20", "-l", "100", "-b", "38400", "--lockdir", lockDir(t), a.path)
	cancel()
	e := echoDone()
	if r.code != 0 || !strings.Contains(r.out, "20 ok, 0 lost, 0 corrupted") || !strings.Contains(r.out, "round trip min/avg/max") ||
		!strings.Contains(r.out, "throughput") || !strings.Contains(r.errout, "20/20: 20 ok") {
		t.Errorf("ping: exit %d\n%s%s", r.code, r.out, r.errout)
	}
	if e.code != 0 || !strings.Contains(e.errout, "echoed") {
		t.Errorf("echo: exit %d %s", e.code, e.errout)
	}
	a.expectRestored(t, beforeA)
	b.expectRestored(t, beforeB)
}

// TestPingLossAndCorruption drops probe 3 and corrupts probe 5 on the way.
func TestPingLossAndCorruption(t *testing.T) {
	a, b := newPty(t), newPty(t)
	relay(t, a, b, true, func(d []byte) []byte {
		switch {
		case bytes.HasPrefix(d, []byte("@3 ")):
			return nil
		case bytes.HasPrefix(d, []byte("@5 ")):
			d[len(d)/2] ^= 0x01
		}
		return d
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	echoDone := start(ctx, "--echo", "--no-lock", b.path)
	b.waitRaw(t)
	r := runApplet(t, "--ping", "-n", "6", "-t", "0.5", "--no-lock", a.path)
	cancel()
	echoDone()
	if r.code != exitUnclean || !strings.Contains(r.out, "4 ok, 1 lost, 1 corrupted") {
		t.Errorf("exit %d\n%s%s", r.code, r.out, r.errout)
	}
}

func TestPingNoAnswer(t *testing.T) {
	p := newPty(t)
	r := runApplet(t, "--ping", "-n", "2", "-t", "0.2", "--no-lock", p.path)
	if r.code != exitNoData || !strings.Contains(r.out, "0 ok, 2 lost") || !strings.Contains(r.errout, "null-modem") {
		t.Errorf("exit %d\n%s%s", r.code, r.out, r.errout)
	}
}

func TestPair(t *testing.T) {
	a, b := newPty(t), newPty(t)
	beforeA, beforeB := a.termios(t), b.termios(t)
	relay(t, a, b, true, nil)
	locks := lockDir(t)
	r := runApplet(t, "--pair", "-n", "15", "--lockdir", locks, a.path, b.path)
	if r.code != 0 || strings.Count(r.out, "15 ok, 0 lost, 0 corrupted") != 2 ||
		!strings.Contains(r.out, a.path+" -> "+b.path) || !strings.Contains(r.out, b.path+" -> "+a.path) ||
		strings.Count(r.out, "one-way min/avg/max") != 2 {
		t.Errorf("exit %d\n%s%s", r.code, r.out, r.errout)
	}
	a.expectRestored(t, beforeA)
	b.expectRestored(t, beforeB)
	if ents, _ := os.ReadDir(locks); len(ents) != 0 {
		t.Errorf("locks left: %v", ents)
	}
}

func TestPairOneWire(t *testing.T) {
	a, b := newPty(t), newPty(t)
	relay(t, a, b, false, nil) // only a's TX reaches b's RX
	r := runApplet(t, "--pair", "-n", "3", "-t", "0.2", "--no-lock", a.path, b.path)
	if r.code != exitNoData || !strings.Contains(r.errout, "nothing sent on "+b.path+" arrived on "+a.path) ||
		!strings.Contains(r.out, "3 ok, 0 lost") {
		t.Errorf("exit %d\n%s%s", r.code, r.out, r.errout)
	}
}

// vector is a serial stream written by the real heartbeat 3.0.6 (the copy
// committed with the wire package).
const vector = "../internal/wire/testdata/vectors/serial/sha1-AtoB-linuxha1.bin"

// wantTypes is the message count per type of the vector (vectors/README.md).
var wantTypes = map[string]int{"NS_ackmsg": 16, "ask_resources": 4, "hb_takeover": 1, "ip-request-resp": 2, "repnodes": 2,
	"reqnodes": 2, "resource": 18, "shutdone": 1, "starting": 2, "status": 42, "stonith": 1}

func watchVector(t *testing.T, extra ...string) result {
	t.Helper()
	data, err := os.ReadFile(vector)
	if err != nil {
		t.Fatal(err)
	}
	p := newPty(t)
	before := p.termios(t)
	wait := start(context.Background(), append(append([]string{"--watch", "-t", "1", "--lockdir", lockDir(t)}, extra...), p.path)...)
	p.waitRaw(t)
	go func() {
		// Chunks of odd sizes, as a line delivers them.
		for len(data) > 0 {
			n := min(len(data), 777)
			p.m.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := p.m.Write(data[:n]); err != nil {
				return
			}
			data = data[n:]
		}
	}()
	r := wait()
	p.expectRestored(t, before)
	return r
}

func TestWatchVector(t *testing.T) {
	r := watchVector(t)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errout)
	}
	lines := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
	if len(lines) != 91 {
		t.Fatalf("%d lines, want 91:\n%s", len(lines), r.out)
	}
	got := map[string]int{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "linuxha1" {
			t.Fatalf("line %q", l)
		}
		got[f[1]]++
	}
	for typ, n := range wantTypes {
		if got[typ] != n {
			t.Errorf("%s: %d messages, want %d", typ, got[typ], n)
		}
	}
	if len(got) != len(wantTypes) {
		t.Errorf("types %v", got)
	}
	if lines[0] != "linuxha1 status seq=1 st=init" {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(r.out, "\nlinuxha1 status seq=2a st=active\n") {
		t.Error("no line for status seq=2a")
	}
	if !strings.Contains(r.errout, "91 messages") || !strings.Contains(r.errout, "not verifying") {
		t.Errorf("summary: %s", r.errout)
	}
}

func writeKeys(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "authkeys")
	if err := os.WriteFile(p, []byte(content), 0600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWatchVerify(t *testing.T) {
	r := watchVector(t, "-k", writeKeys(t, "auth 1\n1 sha1 hblab-sha1-key\n"))
	if r.code != 0 || strings.Count(r.out, "\n") != 91 || strings.Contains(r.out, "AUTH-FAILED") ||
		!strings.Contains(r.errout, "91 messages, 0 failed authentication") {
		t.Errorf("good key: exit %d\n%s", r.code, r.errout)
	}
	r = watchVector(t, "-k", writeKeys(t, "auth 1\n1 sha1 wrong-key\n"))
	if r.code != exitUnclean || strings.Count(r.out, "AUTH-FAILED") != 91 {
		t.Errorf("wrong key: exit %d, %d failures\n%s", r.code, strings.Count(r.out, "AUTH-FAILED"), r.errout)
	}
}

func TestWatchNoTraffic(t *testing.T) {
	p := newPty(t)
	r := runApplet(t, "--watch", "-t", "0.2", "--no-lock", p.path)
	if r.code != exitNoData || !strings.Contains(r.errout, "no heartbeat traffic") {
		t.Errorf("exit %d: %s", r.code, r.errout)
	}
	// Bad authkeys file: a clear error before touching the port.
	keys := writeKeys(t, "auth 1\n1 sha1 k\n")
	os.Chmod(keys, 0644)
	locks := lockDir(t)
	if r := runApplet(t, "--watch", "-k", keys, "--lockdir", locks, p.path); r.code != exitErr || !strings.Contains(r.errout, "chmod 600") ||
		strings.Contains(r.errout, "watching") {
		t.Errorf("readable authkeys: exit %d: %s", r.code, r.errout)
	}
}

func TestLocked(t *testing.T) {
	p := newPty(t)
	before := p.termios(t)
	locks := lockDir(t)
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	lockFile := filepath.Join(locks, serial.LockName(p.path))
	pid := strconv.Itoa(sleeper.Process.Pid)
	os.WriteFile(lockFile, []byte(strings.Repeat(" ", 10-len(pid))+pid+"\n"), 0644)
	r := runApplet(t, "-r", "-t", "0.1", "--lockdir", locks, p.path)
	if r.code != exitLocked || !strings.Contains(r.errout, "locked by pid "+pid) {
		t.Errorf("exit %d: %s", r.code, r.errout)
	}
	if p.termios(t) != before {
		t.Error("a locked port was reconfigured")
	}
	if _, err := os.Stat(lockFile); err != nil {
		t.Error("the holder's lock file was removed")
	}
	// The holder dies: its lock is stale and taken over.
	sleeper.Process.Kill()
	sleeper.Wait()
	r = runApplet(t, "-r", "-t", "0.1", "--lockdir", locks, p.path)
	if r.code != exitNoData {
		t.Errorf("stale lock: exit %d: %s", r.code, r.errout)
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Error("lock file left after a run over a stale lock")
	}
	// No lock directory: warn and go on.
	r = runApplet(t, "-r", "-t", "0.1", "--lockdir", filepath.Join(locks, "none"), p.path)
	if r.code != exitNoData || !strings.Contains(r.errout, "without a lock file") {
		t.Errorf("missing lock dir: exit %d: %s", r.code, r.errout)
	}
}

// holdOpen runs sleep, renamed name, with the port open, as heartbeat's
// serial children hold theirs (without a lock file, in 3.0.6).
func holdOpen(t *testing.T, p *pty, name string) int {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	data, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin, data, 0755)
	f, err := os.OpenFile(p.path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, "30")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

func TestInUseByHeartbeat(t *testing.T) {
	p := newPty(t)
	before := p.termios(t)
	pid := holdOpen(t, p, "heartbeat")
	r := runApplet(t, "-r", "-t", "0.1", "--lockdir", lockDir(t), p.path)
	if r.code != exitLocked || !strings.Contains(r.errout, "in use by heartbeat (pid "+strconv.Itoa(pid)+")") {
		t.Errorf("exit %d: %s", r.code, r.errout)
	}
	p.expectRestored(t, before)
	// Any other program holding the port: a warning, and the test runs.
	q := newPty(t)
	pid = holdOpen(t, q, "minicom")
	r = runApplet(t, "-r", "-t", "0.1", "--lockdir", lockDir(t), q.path)
	if r.code != exitNoData || !strings.Contains(r.errout, "also open by pid "+strconv.Itoa(pid)+" (minicom)") {
		t.Errorf("exit %d: %s", r.code, r.errout)
	}
}

func TestOpenErrors(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "file")
	os.WriteFile(reg, nil, 0600)
	for _, tc := range []struct{ dev, want string }{
		{"/dev/ttyNOSUCH7", "/dev/ttyNOSUCH7: no such device"},
		{os.DevNull, "not a tty"},
		{reg, "not a tty"},
	} {
		r := runApplet(t, "-r", "--lockdir", lockDir(t), tc.dev)
		if r.code != exitErr || !strings.Contains(r.errout, tc.want) {
			t.Errorf("%s: exit %d: %s", tc.dev, r.code, r.errout)
		}
	}
}

func TestOperandsAndOptionsMixed(t *testing.T) {
	p := newPty(t)
	wait := start(context.Background(), p.path, "-r", "-t", "0.2", "-b", "230400", "--no-lock")
	p.waitRaw(t)
	if c := p.termios(t).Cflag & unix.CBAUD; c != unix.B230400 {
		t.Errorf("speed %#x, want B230400", c)
	}
	if r := wait(); r.code != exitNoData {
		t.Errorf("exit %d: %s", r.code, r.errout)
	}
	// After "--" everything is an operand, even "-r".
	if r := runApplet(t, "-r", "--no-lock", "--", "-r"); r.code != exitErr || !strings.Contains(r.errout, "-r: no such device") {
		t.Errorf("exit %d: %s", r.code, r.errout)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{}, {"/dev/ttyS0"}, {"-r"}, {"-r", "-s", "/dev/ttyS0"}, {"-r", "-b", "4800", "/dev/ttyS0"},
		{"--pair", "/dev/ttyS0"}, {"--pair", "/dev/ttyS0", "/dev/ttyS0"}, {"-r", "-k", "x", "/dev/ttyS0"},
		{"--ping", "-n", "0", "/dev/ttyS0"}, {"--ping", "-t", "0", "/dev/ttyS0"}, {"-r", "-t", "x", "/dev/ttyS0"},
		{"-r", "--bogus", "/dev/ttyS0"}, {"-r", "/dev/ttyS0", "/dev/ttyS1"}, {"--echo=1", "/dev/ttyS0"},
	} {
		if r := runApplet(t, args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.errout)
		}
	}
}

func TestProbeFormat(t *testing.T) {
	for _, n := range []int{1, 32, maxPayload} {
		p := makeProbe(42, n)
		if seq, ok := parseProbe(p[:len(p)-1]); seq != 42 || !ok {
			t.Errorf("parse(make(42, %d)) = %d, %v", n, seq, ok)
		}
		for i := 0; i < len(p)-1; i++ {
			bad := append([]byte(nil), p[:len(p)-1]...)
			bad[i] ^= 0x20
			if _, ok := parseProbe(bad); ok {
				t.Fatalf("corruption at %d of %q accepted", i, bad)
			}
		}
	}
	for _, l := range []string{"", "@", "@x y z", "hello", "@0 abc 00000000"} {
		if seq, ok := parseProbe([]byte(l)); ok || seq > 0 {
			t.Errorf("parseProbe(%q) = %d, %v", l, seq, ok)
		}
	}
}

func FuzzParseProbe(f *testing.F) {
	f.Add(makeProbe(1, 10))
	f.Add([]byte("@12 abc 1234abcd"))
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, ok := parseProbe(b)
		l := bytes.TrimRight(b, "\r")
		want := makeProbe(seq, len(l)-len(strconv.Itoa(seq))-11)
		if ok && (len(want) != len(l)+1 || !bytes.Equal(want[:len(l)], l) || want[len(l)] != '\n') {
			t.Fatalf("accepted %q", b)
		}
	})
}

// TestSignalRestores runs the applet in a child process, interrupts it
// with SIGINT or SIGTERM, and checks the port and the lock are cleaned up.
func TestSignalRestores(t *testing.T) {
	hwtest.SkipUnderEmulator(t, "re-executes the test binary, which needs qemu registered with binfmt_misc")
	if os.Getenv("SERIALTEST_CHILD") != "" {
		t.Skip("child")
	}
	for _, tc := range []struct {
		sig  unix.Signal
		mode string
		code int
	}{
		{unix.SIGINT, "-r", 0},
		{unix.SIGTERM, "--echo", 0},
		{unix.SIGINT, "--watch", exitNoData},
	} {
		t.Run(tc.sig.String()+tc.mode, func(t *testing.T) {
			p := newPty(t)
			before := p.termios(t)
			locks := lockDir(t)
			cmd := exec.Command(os.Args[0], "-test.run=^TestChildApplet$")
			cmd.Env = append(os.Environ(), "SERIALTEST_CHILD="+strings.Join([]string{tc.mode, "-t", "0", "--lockdir", locks, p.path}, "\x1f"))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			p.waitRaw(t)
			if tc.mode == "-r" {
				p.m.Write([]byte("x"))
				time.Sleep(100 * time.Millisecond)
			}
			if _, err := os.Stat(filepath.Join(locks, serial.LockName(p.path))); err != nil {
				t.Errorf("no lock while running: %v", err)
			}
			cmd.Process.Signal(tc.sig)
			err := cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			if code != tc.code {
				t.Errorf("exit %d (%v), want %d: %s", code, err, tc.code, stderr.String())
			}
			p.expectRestored(t, before)
			if ents, _ := os.ReadDir(locks); len(ents) != 0 {
				t.Errorf("lock left after the signal: %v", ents)
			}
		})
	}
}

// TestChildApplet is the child of TestSignalRestores.
func TestChildApplet(t *testing.T) {
	args := os.Getenv("SERIALTEST_CHILD")
	if args == "" {
		t.Skip("only as a child of TestSignalRestores")
	}
	os.Exit(Applet.Run(cli.OSEnv(), strings.Split(args, "\x1f")))
}

// TestPermissionDenied opens a root-owned pty as user nobody in a child
// process.
func TestPermissionDenied(t *testing.T) {
	hwtest.SkipUnderEmulator(t, "re-executes the test binary, which needs qemu registered with binfmt_misc")
	hwtest.RequireRoot(t)
	p := newPty(t)
	if err := os.Chmod(p.path, 0600); err != nil {
		t.Fatal(err)
	}
	// The test binary must be reachable by nobody.
	dir, err := os.MkdirTemp("", "serialtest-perm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0755)
	bin := filepath.Join(dir, "serialtest.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestChildApplet$")
	cmd.Dir = dir
	cmd.Env = []string{"SERIALTEST_CHILD=-r\x1f-t\x1f1\x1f--no-lock\x1f" + p.path}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != exitErr || !strings.Contains(string(out), p.path+": permission denied (run as root or join") {
		t.Errorf("exit %d: %s", code, out)
	}
}
