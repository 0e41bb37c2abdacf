package media

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"habox/applets/internal/hblog"
	"habox/conf"
	"habox/hw/hwtest"
)

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger(t *testing.T) (*hblog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	l, err := hblog.New(hblog.Options{Stderr: buf, SyslogMsgFmt: true, Node: "n", Pid: 1})
	if err != nil {
		t.Fatal(err)
	}
	return l, buf
}

// running opens m in ns and runs its reader into a channel.
// running opens cm in ns (with o, else the defaults) and runs it.
func running(t *testing.T, ns *hwtest.Netns, cm conf.Medium, log *hblog.Logger, o ...Options) (Medium, chan Packet) {
	t.Helper()
	var m Medium
	var err error
	opts := Options{IfaceWait: DefaultIfaceWait}
	if len(o) > 0 {
		opts = o[0]
	}
	ns.Do(t, func() { m, err = OpenWith(cm, log, opts) })
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
	return m, ch
}

func recv(t *testing.T, ch chan Packet, link, want string) {
	t.Helper()
	select {
	case p := <-ch:
		if p.Link != link || string(p.Data) != want {
			t.Fatalf("got %q on %s, want %q on %s", p.Data, p.Link, want, link)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("nothing received on %s (want %q)", link, want)
	}
}

func silent(t *testing.T, ch chan Packet, d time.Duration) {
	t.Helper()
	select {
	case p := <-ch:
		t.Fatalf("unexpected %q on %s", p.Data, p.Link)
	case <-time.After(d):
	}
}

func pair(t *testing.T) (a, b *hwtest.Netns) {
	a = hwtest.NewNetns(t, "meda")
	b = hwtest.NewNetns(t, "medb")
	hwtest.Veth(t, a, "eth1", "10.7.0.1/24", b, "eth1", "10.7.0.2/24")
	a.WaitUp(t, "eth1")
	b.WaitUp(t, "eth1")
	return a, b
}

func TestBcastMedium(t *testing.T) {
	a, b := pair(t)
	logA, bufA := testLogger(t)
	ma, cha := running(t, a, conf.Medium{Type: conf.Bcast, Dev: "eth1", Port: 694}, logA)
	mb, chb := running(t, b, conf.Medium{Type: conf.Bcast, Dev: "eth1", Port: 694}, nil)
	if !strings.Contains(bufA.String(), "info: glib: UDP Broadcast heartbeat started on port 694 (694) interface eth1\n") {
		t.Errorf("started line missing: %q", bufA.String())
	}
	if ma.Name() != "eth1" || ma.Text() {
		t.Error("Name/Text")
	}
	if err := ma.Send([]byte("###\nfrom-a")); err != nil {
		t.Fatal(err)
	}
	recv(t, chb, "eth1", "###\nfrom-a")
	recv(t, cha, "eth1", "###\nfrom-a") // a node hears itself
	if err := mb.Send([]byte("from-b")); err != nil {
		t.Fatal(err)
	}
	recv(t, cha, "eth1", "from-b")
	recv(t, chb, "eth1", "from-b")
	if s := ma.(Statser).Stats(); s.Received != 2 {
		t.Errorf("stats %+v", s)
	}
	ma.Close()
	if !strings.Contains(bufA.String(), "info: glib: UDP Broadcast heartbeat closed on port 694 interface eth1 - Status: 1\n") {
		t.Errorf("closed line missing: %q", bufA.String())
	}
}

func TestMcastMedium(t *testing.T) {
	for _, loop := range []bool{false, true} {
		t.Run("loop="+map[bool]string{false: "0", true: "1"}[loop], func(t *testing.T) {
			a, b := pair(t)
			log, buf := testLogger(t)
			cm := conf.Medium{Type: conf.Mcast, Dev: "eth1", Group: "225.0.0.1", Port: 694, TTL: 1, Loop: loop}
			ma, cha := running(t, a, cm, log)
			_, chb := running(t, b, cm, nil)
			l := "0"
			if loop {
				l = "1"
			}
			if want := "glib: UDP multicast heartbeat started for group 225.0.0.1 port 694 interface eth1 (ttl=1 loop=" + l + ")\n"; !strings.Contains(buf.String(), want) {
				t.Errorf("started line: %q", buf.String())
			}
			ma.Send([]byte("mc"))
			recv(t, chb, "eth1", "mc")
			if loop {
				recv(t, cha, "eth1", "mc")
			} else {
				silent(t, cha, 300*time.Millisecond)
			}
		})
	}
}

func TestUcastMedium(t *testing.T) {
	a, b := pair(t)
	hosts := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hosts, []byte("10.7.0.2 nodeb\n"), 0644)
	log, buf := testLogger(t)
	log.SetDebug(4)
	ma, cha := running(t, a, conf.Medium{Type: conf.Ucast, Dev: "eth1", Peer: "nodeb", Port: 694}, log, Options{HostsFile: hosts})
	mb, chb := running(t, b, conf.Medium{Type: conf.Ucast, Dev: "eth1", Peer: "10.7.0.1", Port: 694}, nil)
	if !strings.Contains(buf.String(), "info: glib: ucast: started on port 694 interface eth1 to 10.7.0.2\n") {
		t.Errorf("started line: %q", buf.String())
	}
	ma.Send([]byte("u1"))
	recv(t, chb, "eth1", "u1")
	mb.Send([]byte("u2"))
	recv(t, cha, "eth1", "u2")
	if !strings.Contains(buf.String(), "debug: glib: ucast: received 2 byte packet from 10.7.0.2\n") {
		t.Errorf("no packet debug line: %q", buf.String())
	}
}

func TestOpenErrors(t *testing.T) {
	ns := hwtest.NewNetns(t, "mede")
	notChar := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notChar, nil, 0644)
	tests := []struct {
		m    conf.Medium
		want string
	}{
		{conf.Medium{Type: conf.Mcast, Dev: "lo", Group: "10.0.0.1", Port: 694}, "mcast [lo] bad addr [10.0.0.1]"},
		{conf.Medium{Type: conf.Ucast, Dev: "lo", Peer: "no-such-host-xyz"}, "ucast: cannot resolve [no-such-host-xyz]"},
		{conf.Medium{Type: conf.Serial, Dev: "ttyS0"}, "Serial port not full pathname [ttyS0] in config file"},
		{conf.Medium{Type: conf.Serial, Dev: "/dev/nonexistent-tty"}, "Nonexistent serial port [/dev/nonexistent-tty] in config file"},
		{conf.Medium{Type: conf.Serial, Dev: notChar}, "Serial port [" + notChar + "] not a char device in config file"},
		{conf.Medium{Type: "ping", Dev: "10.0.0.1"}, "medium ping on 10.0.0.1"},
	}
	for _, tt := range tests {
		var err error
		ns.Do(t, func() { _, err = Open(tt.m, nil) })
		var me *Error
		if !errors.As(err, &me) || me.Msg != tt.want {
			t.Errorf("%s %s: got %v, want %q", tt.m.Type, tt.m.Dev, err, tt.want)
		}
	}
}

// The usual shared ha.cf lists a ucast line for every node, so each node
// also has one aimed at itself: it must hear its own packets on that
// link (the kernel delivers them locally with the bound device as the
// incoming interface), as 3.0.6 does.
func TestUcastToSelf(t *testing.T) {
	a, _ := pair(t)
	m, ch := running(t, a, conf.Medium{Type: conf.Ucast, Dev: "eth1", Peer: "10.7.0.1", Port: 694}, nil)
	m.Send([]byte("me"))
	recv(t, ch, "eth1", "me")
}

// A NIC that disappears and comes back (USB replug, recreated VLAN) makes
// the medium recreate its sockets instead of failing forever.
func TestBcastInterfaceReplugged(t *testing.T) {
	fast := Options{ReopenInterval: 50 * time.Millisecond}
	a, b := pair(t)
	log, buf := testLogger(t)
	ma, _ := running(t, a, conf.Medium{Type: conf.Bcast, Dev: "eth1", Port: 694}, log, fast)
	mb, chb := running(t, b, conf.Medium{Type: conf.Bcast, Dev: "eth1", Port: 694}, nil, fast)
	ma.Send([]byte("before"))
	recv(t, chb, "eth1", "before")

	a.Exec(t, "ip", "link", "del", "eth1") // deletes both ends of the veth
	if err := ma.Send([]byte("lost")); err == nil {
		t.Error("send over a deleted interface succeeded")
	}
	hwtest.Veth(t, a, "eth1", "10.7.0.1/24", b, "eth1", "10.7.0.2/24")
	a.WaitUp(t, "eth1")
	b.WaitUp(t, "eth1")
	// Both nodes keep sending heartbeats; each send may recreate sockets
	// (in the sender's network namespace, as a daemon runs in one).
	deadline := time.Now().Add(10 * time.Second)
	for {
		time.Sleep(60 * time.Millisecond)
		b.Do(t, func() { mb.Send([]byte("keepalive-b")) })
		a.Do(t, func() { ma.Send([]byte("after")) })
		select {
		case p := <-chb:
			if string(p.Data) == "after" {
				if ma.(Statser).Stats().Reopens == 0 || !strings.Contains(buf.String(), "sockets reopened") {
					t.Errorf("no reopen recorded: %q", buf.String())
				}
				return
			}
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no traffic after the interface came back; log %q", buf.String())
		}
	}
}

// TestUDPOversizeDropped: a datagram larger than MaxMessage
// (a 60 KB one) is dropped and counted by the reader, never copied or
// queued; the next small one still arrives.
func TestUDPOversizeDropped(t *testing.T) {
	a, b := pair(t)
	ma, _ := running(t, a, conf.Medium{Type: conf.Bcast, Dev: "eth1", Port: 694}, nil)
	mb, chb := running(t, b, conf.Medium{Type: conf.Bcast, Dev: "eth1", Port: 694}, nil)
	big := strings.Repeat("x", 60000)
	if err := ma.Send([]byte(big)); err != nil {
		t.Fatal(err)
	}
	ma.Send([]byte("small"))
	recv(t, chb, "eth1", "small")
	if s := mb.(Statser).Stats(); s.Dropped != 1 || s.Received != 1 {
		t.Errorf("stats %+v, want 1 dropped, 1 received", s)
	}
}
