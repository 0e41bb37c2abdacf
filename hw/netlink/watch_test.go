package netlink

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
)

// TestWatchCarrier: the dump reports a veth with carrier; taking its
// peer down is announced as carrier loss (no polling), up again as back.
func TestWatchCarrier(t *testing.T) {
	ns := hwtest.NewNetns(t, "nlw")
	ns.Exec(t, "ip", "link", "add", "w0", "type", "veth", "peer", "name", "w1")
	ns.Exec(t, "ip", "link", "set", "w0", "up")
	ns.Exec(t, "ip", "link", "set", "w1", "up")
	ns.WaitUp(t, "w0")
	var w *Watcher
	ns.Do(t, func() {
		var err error
		if w, err = WatchLinks(); err != nil {
			t.Fatal(err)
		}
	})
	defer w.Close()
	links := make(chan Link, 64)
	go func() {
		for {
			l, err := w.Next()
			if err != nil {
				close(links)
				return
			}
			links <- l
		}
	}()
	wait := func(carrier bool) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case l, ok := <-links:
				if !ok {
					t.Fatal("watcher ended")
				}
				if l.Name == "w0" && l.Carrier == carrier && l.Up {
					return
				}
			case <-deadline:
				t.Fatalf("no w0 message with carrier=%v", carrier)
			}
		}
	}
	wait(true) // from the dump
	ns.Exec(t, "ip", "link", "set", "w1", "down")
	wait(false)
	ns.Exec(t, "ip", "link", "set", "w1", "up")
	wait(true)
}

func TestParseLinksMalformed(t *testing.T) {
	for _, b := range [][]byte{nil, make([]byte, 15), {0xff, 0xff, 0xff, 0xff, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if l := ParseLinks(b); l != nil {
			t.Errorf("ParseLinks(% x) = %v", b, l)
		}
	}
}

func FuzzParseLinks(f *testing.F) {
	// An RTM_NEWLINK for index 2 "w0", up with carrier, in the host's
	// byte order as netlink is (big-endian on mips).
	msg := make([]byte, 40)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], 40)                             // nlmsg_len
	ne.PutUint16(msg[4:], unix.RTM_NEWLINK)               // nlmsg_type
	ne.PutUint32(msg[20:], 2)                             // ifi_index
	ne.PutUint32(msg[24:], unix.IFF_UP|unix.IFF_LOWER_UP) // ifi_flags
	ne.PutUint16(msg[32:], 7)                             // rta_len
	ne.PutUint16(msg[34:], unix.IFLA_IFNAME)              // rta_type
	copy(msg[36:], "w0\x00")
	f.Add(msg)
	if l := ParseLinks(msg); len(l) != 1 || l[0].Name != "w0" || !l[0].Up || !l[0].Carrier || l[0].Index != 2 {
		f.Fatalf("seed parses as %+v", l)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, l := range ParseLinks(b) {
			if len(l.Name) > len(b) {
				t.Fatal("name longer than the input")
			}
		}
	})
}
