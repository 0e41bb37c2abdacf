package wire

import (
	"bytes"
	"strings"
	"testing"
)

func frames(f *Framer, chunks ...string) []string {
	var out []string
	for _, c := range chunks {
		f.Feed([]byte(c), func(b []byte) { out = append(out, string(b)) })
	}
	return out
}

const frameA = ">>>\nt=status\nst=active\nsrc=alice\n<<<\n"
const frameB = ">>>\nt=status\nsrc=bob\n<<<\n"

func TestFramer(t *testing.T) {
	tests := []struct {
		name    string
		chunks  []string
		max     int
		want    []string
		dropped uint64
	}{
		{"one", []string{frameA}, 0, []string{frameA}, 0},
		{"two in one read", []string{frameA + frameB}, 0, []string{frameA, frameB}, 0},
		{"garbage around", []string{"noise\nmore\x01\n" + frameA + "junk\n\n" + frameB + "tail"}, 0, []string{frameA, frameB}, 0},
		{"CR dropped, 8th bit stripped", []string{">>>\r\nt=st\xe1tus\r\n<<<\r\n"}, 0, []string{">>>\nt=status\n<<<\n"}, 0},
		{"marker prefix lines", []string{">>>x\na=b\n<<<y\n"}, 0, []string{">>>x\na=b\n<<<y\n"}, 0},
		{"restart on new start", []string{">>>\nt=cut\n" + frameA}, 0, []string{frameA}, 1},
		{"oversize dropped", []string{">>>\n" + strings.Repeat("x=1234567890\n", 10) + "<<<\n" + frameB}, 64, []string{frameB}, 1},
		{"overlong line dropped", []string{">>>\n" + strings.Repeat("y", 200) + "\n<<<\n" + frameB}, 64, []string{frameB}, 1},
		{"end without start ignored", []string{"<<<\n" + frameB}, 0, []string{frameB}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Framer{Max: tt.max}
			got := frames(f, tt.chunks...)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
			if f.Dropped != tt.dropped {
				t.Errorf("dropped %d, want %d", f.Dropped, tt.dropped)
			}
		})
	}
}

// Every split of a stream into two reads gives the same frames.
func TestFramerChunkBoundaries(t *testing.T) {
	stream := "zz\n" + frameA + "garbage\n" + frameB
	for i := 0; i <= len(stream); i++ {
		f := &Framer{}
		got := frames(f, stream[:i], stream[i:])
		if len(got) != 2 || got[0] != frameA || got[1] != frameB {
			t.Fatalf("split at %d: %q", i, got)
		}
	}
	// Byte by byte.
	f := &Framer{}
	var got []string
	for i := 0; i < len(stream); i++ {
		got = append(got, frames(f, stream[i:i+1])...)
	}
	if len(got) != 2 {
		t.Fatalf("byte by byte: %q", got)
	}
}

func TestFramerReset(t *testing.T) {
	f := &Framer{}
	frames(f, ">>>\nt=half\n")
	f.Reset()
	if got := frames(f, "a=b\n<<<\n"); len(got) != 0 {
		t.Errorf("frame survived Reset: %q", got)
	}
}

func FuzzFramer(f *testing.F) {
	f.Add([]byte(frameA+frameB), 7)
	f.Add([]byte(">>>\n<<<\n>>>\n"), 1)
	f.Add([]byte("\r\n\x80>>>\xff\n<<<"), 3)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		fr := &Framer{Max: 256}
		check := func(b []byte) {
			if len(b) > 256 {
				t.Fatalf("frame of %d bytes exceeds Max", len(b))
			}
			if !bytes.HasPrefix(b, []byte(">>>")) || !bytes.HasSuffix(b, []byte("\n")) {
				t.Fatalf("bad frame %q", b)
			}
			lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
			if !bytes.HasPrefix(lines[len(lines)-1], []byte("<<<")) {
				t.Fatalf("frame does not end with <<<: %q", b)
			}
			if bytes.ContainsAny(b, "\r") {
				t.Fatalf("CR in frame %q", b)
			}
		}
		if split < 0 {
			split = -split
		}
		if len(data) > 0 {
			split %= len(data) + 1
		} else {
			split = 0
		}
		var n1, n2 int
		fr.Feed(data[:split], func(b []byte) { check(b); n1++ })
		fr.Feed(data[split:], func(b []byte) { check(b); n1++ })
		// Same frames in one piece.
		whole := &Framer{Max: 256}
		whole.Feed(data, func(b []byte) { n2++ })
		if n1 != n2 {
			t.Fatalf("split changed frame count: %d vs %d", n1, n2)
		}
	})
}

func BenchmarkFramer(b *testing.B) {
	stream := []byte(strings.Repeat("noise\n"+frameA, 16))
	b.SetBytes(int64(len(stream)))
	var f Framer
	n := 0
	for i := 0; i < b.N; i++ {
		f.Feed(stream, func([]byte) { n++ })
	}
}
