package unixsock

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestListenDialAccept(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.sock")
	ln, err := Listen(p, 0600)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Stat(p)
	if err != nil || fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0600 {
		t.Fatalf("socket file: %v %v", fi.Mode(), err)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if uid, err := c.PeerUID(); err != nil || uid != os.Geteuid() {
			c.Write([]byte("bad peer uid"))
			return
		}
		b, _ := io.ReadAll(c)
		c.Write(append([]byte("echo:"), b...))
	}()
	c, err := Dial(p, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hi"))
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "echo:hi" {
		t.Fatalf("got %q %v", b, err)
	}
	if _, err := Listen(p, 0600); err == nil {
		t.Error("second Listen on a live socket succeeded")
	}
}

func TestStaleSocketReplacedAndNonSocketRefused(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "stale.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	if _, err := Dial(p, 100*time.Millisecond); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial stale: %v", err)
	}
	ln, err := Listen(p, 0600)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	ln.Close()
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Error("Close left the socket file")
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0600)
	if _, err := Listen(f, 0600); err == nil {
		t.Error("Listen over a regular file succeeded")
	}
	if _, err := Dial(filepath.Join(dir, "none"), 100*time.Millisecond); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("dial missing: %v", err)
	}
}

func TestCloseUnblocksAccept(t *testing.T) {
	ln, err := Listen(filepath.Join(t.TempDir(), "a.sock"), 0600)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ln.Accept()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	ln.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Accept after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Accept")
	}
}

// A syslog daemon that stops reading must not block the sender.
func TestDgramNeverBlocks(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	srv, err := ListenDgram(p)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := DialDgram(p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 1024)
	start := time.Now()
	var sendErr error
	for i := 0; i < 10000 && sendErr == nil; i++ {
		sendErr = c.Send(msg)
	}
	if !errors.Is(sendErr, syscall.EAGAIN) {
		t.Errorf("full receiver: %v, want EAGAIN", sendErr)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("sending took %v", time.Since(start))
	}
	buf := make([]byte, 2048)
	srv.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := srv.Recv(buf); err != nil || n != 1024 {
		t.Errorf("Recv: %d %v", n, err)
	}
}
