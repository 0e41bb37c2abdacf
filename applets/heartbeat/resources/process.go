package resources

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Limits of one script run. Output past them is read and discarded, so
// a chatty script never blocks on a full pipe.
const (
	// MaxStdout is how much of a script's stdout is kept (the rest is
	// discarded: status needs only the first line or so).
	MaxStdout = 1 << 20
	// MaxStderrLines is how many stderr lines are kept (the last ones);
	// each is cut at MaxStderrLine bytes.
	MaxStderrLines = 64
	MaxStderrLine  = 1024
	// KillGrace is the time between SIGTERM and SIGKILL to the process
	// group of a script that ran out of time.
	KillGrace = 2 * time.Second
	// DefaultTimeout is the per-action time limit when none is configured
	// (HABOX_RSC_TIMEOUT).
	DefaultTimeout = 60 * time.Second
	// drainAfterExit bounds the reading of output still buffered (or kept
	// open by a background child) after the script exited.
	drainAfterExit = 200 * time.Millisecond
)

// Shell runs scripts without a "#!" line.
const Shell = "/bin/sh"

// Process is one run of a resource script.
type Process struct {
	Path    string   // the file executed
	Argv    []string // argv[0] is the name shown to the program
	Env     []string
	Timeout time.Duration // 0: no limit
}

// Outcome is what a script run produced.
type Outcome struct {
	Pid       int      // the script's process id (0 if it did not start)
	Stdout    string   // the first MaxStdout bytes
	Stderr    []string // the last MaxStderrLines non-empty lines
	Code      int      // exit code; 128 when killed by a signal
	TimedOut  bool     // ran out of time: its process group was killed
	Truncated bool     // output was discarded past the limits
}

// RunProcess runs p with os.StartProcess (no shell, no os/exec; a file
// without "#!" is run by Shell, as execvp runs it) in a process group of
// its own: stdin /dev/null, stdout and stderr read to the
// end and kept within the limits above. When p.Timeout passes first, the
// group gets SIGTERM, then SIGKILL KillGrace later if any member is left.
// A background child that keeps the pipes open after a normal exit is
// left alone; its output is read for at most 200 ms more.
//
// The script dies with the daemon (SIGKILL when the thread that started
// it ends: the calling goroutine stays on that thread until the script
// was waited for): a heartbeat killed -9 leaves no stop or start running
// on behind it, which the next heartbeat could not know of; that one
// makes the resources idle instead (Runner.IdleGroup). A child the script
// started (a service) is not affected.
func RunProcess(p Process) (Outcome, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var o Outcome
	null, err := os.Open(os.DevNull)
	if err != nil {
		return o, err
	}
	defer null.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		return o, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return o, err
	}
	attr := &os.ProcAttr{
		Dir:   "/",
		Env:   p.Env,
		Files: []*os.File{null, outW, errW},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	}
	proc, err := os.StartProcess(p.Path, p.Argv, attr)
	if errors.Is(err, syscall.ENOEXEC) && !isELF(p.Path) {
		// No "#!" line: run it with the shell, as execvp does (3.0.6 ran
		// every script from a shell, where such scripts work). A binary
		// for another CPU is not handed to the shell: it would run its
		// bytes as commands (and create files named after them).
		proc, err = os.StartProcess(Shell, append([]string{Shell, p.Path}, p.Argv[1:]...), attr)
		if err != nil {
			err = errors.New(p.Path + " has no #! line and " + err.Error())
		}
	}
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return o, err
	}
	o.Pid = proc.Pid
	var wg sync.WaitGroup
	var outCut, errCut bool
	wg.Add(2)
	go func() { defer wg.Done(); o.Stdout, outCut = drainBytes(outR, MaxStdout) }()
	go func() { defer wg.Done(); o.Stderr, errCut = drainLines(errR, MaxStderrLines, MaxStderrLine) }()
	exited := make(chan struct{})
	var st *os.ProcessState
	var werr error
	go func() { st, werr = proc.Wait(); close(exited) }()
	var expired <-chan time.Time
	if p.Timeout > 0 {
		t := time.NewTimer(p.Timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-exited:
	case <-expired:
		o.TimedOut = true
		killGroup(proc.Pid, exited)
	}
	deadline := time.Now().Add(drainAfterExit)
	outR.SetReadDeadline(deadline)
	errR.SetReadDeadline(deadline)
	wg.Wait()
	outR.Close()
	errR.Close()
	o.Truncated = outCut || errCut
	if werr != nil {
		return o, werr
	}
	o.Code = st.ExitCode()
	if o.Code < 0 {
		o.Code = 128 // killed by a signal
	}
	return o, nil
}

// killGroup ends the process group pgid: SIGTERM, then SIGKILL after
// KillGrace unless the leader was reaped and the group is empty by then.
func killGroup(pgid int, exited <-chan struct{}) {
	syscall.Kill(-pgid, syscall.SIGTERM)
	end := time.Now().Add(KillGrace)
	for time.Now().Before(end) {
		select {
		case <-exited:
			if GroupGone(pgid) {
				return
			}
		default:
		}
		time.Sleep(10 * time.Millisecond)
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-exited
}

// GroupGone reports whether process group pgid has no live member left
// (zombies waiting for init to reap them do not count).
func GroupGone(pgid int) bool {
	if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
		return true
	}
	// Readdirnames, not os.ReadDir: the order does not matter here and
	// os.ReadDir's sort of DirEntry costs ~16 KB of the binary.
	d, err := os.Open("/proc")
	if err != nil {
		return false
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return false
	}
	want := strconv.Itoa(pgid)
	for _, n := range names {
		if n[0] >= '0' && n[0] <= '9' {
			b, err := os.ReadFile("/proc/" + n + "/stat")
			i := bytes.LastIndexByte(b, ')')
			if err != nil || i < 0 {
				continue
			}
			// After the command: state, ppid, pgrp.
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 2 && f[2] == want && f[0] != "Z" && f[0] != "X" {
				return false
			}
		}
	}
	return true
}

// drainBytes reads r to the end (or its deadline), keeping the first max
// bytes; cut says whether more came.
func drainBytes(r io.Reader, max int) (kept string, cut bool) {
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if room := max - b.Len(); n > room {
			b.Write(buf[:room])
			cut = true
		} else {
			b.Write(buf[:n])
		}
		if err != nil {
			return b.String(), cut
		}
	}
}

// drainLines reads r to the end (or its deadline), keeping the last keep
// non-empty lines, each cut at maxLen bytes; cut says whether anything
// was dropped or shortened.
func drainLines(r io.Reader, keep, maxLen int) (lines []string, cut bool) {
	br := bufio.NewReaderSize(r, 4096)
	var cur []byte
	push := func() {
		s := strings.TrimRight(string(cur), "\r\n")
		cur = cur[:0]
		if s == "" {
			return
		}
		if len(lines) == keep {
			copy(lines, lines[1:])
			lines = lines[:keep-1]
			cut = true
		}
		lines = append(lines, s)
	}
	for {
		chunk, err := br.ReadSlice('\n')
		if room := maxLen - len(cur); len(chunk) > room {
			if room > 0 {
				cur = append(cur, chunk[:room]...)
			}
			if strings.TrimRight(string(chunk[max(room, 0):]), "\r\n") != "" {
				cut = true
			}
		} else {
			cur = append(cur, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		push()
		if err != nil {
			return lines, cut
		}
	}
}

// isELF reports whether the file at path starts with the ELF magic.
func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	n, _ := f.Read(b[:])
	return n == 4 && string(b[:]) == "\x7fELF"
}
