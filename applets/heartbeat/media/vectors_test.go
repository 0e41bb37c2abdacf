package media

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"habox/applets/internal/wire"
	"habox/hw/hwtest"
)

// vectorsDir holds serial streams written by the real heartbeat 3.0.6
// (see its README): $HABOX_VECTORS or the copy committed with the wire
// package.
var vectorsDir = func() string {
	for _, d := range []string{os.Getenv("HABOX_VECTORS"), "../../internal/wire/testdata/vectors"} {
		if _, err := os.Stat(filepath.Join(d, "index.tsv")); d != "" && err == nil {
			return d
		}
	}
	return "../../internal/wire/testdata/vectors"
}()

// serialVectors returns the serial stream files with the message count
// index.tsv gives for each.
func serialVectors(t *testing.T) map[string]int {
	t.Helper()
	idx, err := os.ReadFile(filepath.Join(vectorsDir, "index.tsv"))
	if err != nil {
		hwtest.Missing(t, "3.0.6 vectors missing: "+err.Error())
	}
	out := map[string]int{}
	for _, line := range strings.Split(string(idx), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 4 || f[2] != "serial-stream" {
			continue
		}
		n, err := strconv.Atoi(strings.Fields(f[3])[0])
		if err != nil {
			t.Fatalf("index.tsv: %q", line)
		}
		out[filepath.Join(vectorsDir, f[0])] = n
	}
	if len(out) == 0 {
		t.Fatal("index.tsv lists no serial streams")
	}
	return out
}

// The framer cuts real 3.0.6 serial streams into exactly the messages
// 3.0.6 wrote, whatever the read sizes.
func TestFramerOnRealStreams(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for file, want := range serialVectors(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for round := 0; round < 5; round++ {
			var f wire.Framer
			var got [][]byte
			for rest := data; len(rest) > 0; {
				n := min(len(rest), 1+rng.Intn(700))
				f.Feed(rest[:n], func(b []byte) { got = append(got, b) })
				rest = rest[n:]
			}
			if len(got) != want || f.Dropped != 0 {
				t.Fatalf("%s: %d frames (%d dropped), want %d", file, len(got), f.Dropped, want)
			}
			if !bytes.Equal(bytes.Join(got, nil), data) {
				t.Fatalf("%s: frames do not add up to the stream", file)
			}
		}
	}
}

// A real 3.0.6 stream written into a pty arrives as its messages through
// the serial medium.
func TestSerialMediumRealStream(t *testing.T) {
	o := serialSetup(t)
	vec := serialVectors(t)
	file := filepath.Join(vectorsDir, "serial/sha1-AtoB-linuxha1.bin")
	want, ok := vec[file]
	if !ok {
		t.Skip("stream not in index")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	master, slave := newPty(t)
	_, ch, _ := openSerialRunning(t, slave, 19200, o)
	go func() {
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 512)
			master.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := master.Write(rest[:n]); err != nil {
				return
			}
			rest = rest[n:]
		}
	}()
	var got []byte
	for i := 0; i < want; i++ {
		select {
		case p := <-ch:
			got = append(got, p.Data...)
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d messages arrived", i, want)
		}
	}
	if !bytes.Equal(got, data) {
		t.Error("messages differ from the stream")
	}
}
