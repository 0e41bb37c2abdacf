package conf

import (
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2", 2 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"1500ms", 1500 * time.Millisecond, true},
		{"1500MS", 1500 * time.Millisecond, true},
		{"1500msec", 1500 * time.Millisecond, true},
		{"1000000us", time.Second, true},
		{"1000usec", time.Millisecond, true},
		{"499us", 0, true},
		{"501us", time.Millisecond, true},
		{"0.001", time.Millisecond, true},
		{"0.1", 100 * time.Millisecond, true},
		{".5", 500 * time.Millisecond, true},
		{"5.", 5 * time.Second, true},
		{"1.2.3", 1200 * time.Millisecond, true}, // atof stops at the second dot
		{".", 0, true},
		{"0", 0, true},
		{" 3", 3 * time.Second, true},
		{"3 ms", 3 * time.Millisecond, true}, // unit after blanks, as cl_get_msec
		{"10\r", 10 * time.Second, true},
		{"", 0, false},
		{"ms", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1s", 0, false},
		{"1sec", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
		{"2 x", 0, false},
		{"99999999999999999999", 0, false},
	} {
		got, ok := ParseTime(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseTime(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"true", "TRUE", "on", "On", "yes", "y", "Y", "1"} {
		if v, ok := ParseBool(s); !v || !ok {
			t.Errorf("ParseBool(%q) = %v, %v", s, v, ok)
		}
	}
	for _, s := range []string{"false", "off", "OFF", "no", "n", "0"} {
		if v, ok := ParseBool(s); v || !ok {
			t.Errorf("ParseBool(%q) = %v, %v", s, v, ok)
		}
	}
	for _, s := range []string{"", "2", "ja", "tru", "on ", "yess", "-1"} {
		if _, ok := ParseBool(s); ok {
			t.Errorf("ParseBool(%q) accepted", s)
		}
	}
}

func TestAtoi(t *testing.T) {
	for _, tc := range []struct {
		in    string
		v     int64
		clean bool
	}{
		{"694", 694, true}, {"+5", 5, true}, {"-3", -3, true}, {"694x", 694, false},
		{"abc", 0, false}, {"", 0, false}, {"99999999999", 1 << 31, true}, {"-", 0, false},
	} {
		v, clean := atoi(tc.in)
		if v != tc.v || clean != tc.clean {
			t.Errorf("atoi(%q) = %d, %v; want %d, %v", tc.in, v, clean, tc.v, tc.clean)
		}
	}
}

func TestReadLines(t *testing.T) {
	long := strings.Repeat("x", MaxLine+1)
	ok := strings.Repeat("y", MaxLine)
	in := "a\n\nb\x00c\n" + long + "\n" + ok + "\nlast"
	var got []rawLine
	if err := readLines(strings.NewReader(in), func(l rawLine) { got = append(got, l) }); err != nil {
		t.Fatal(err)
	}
	want := []rawLine{
		{n: 1, text: "a"}, {n: 2}, {n: 3, text: "b", nul: true},
		{n: 4, tooLong: MaxLine + 1}, {n: 5, text: ok}, {n: 6, text: "last"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i+1, short(got[i].text), short(want[i].text))
			t.Errorf("  %d %d %v / %d %d %v", got[i].n, got[i].tooLong, got[i].nul, want[i].n, want[i].tooLong, want[i].nul)
		}
	}
	// A huge line without newline is bounded and reported.
	got = nil
	readLines(strings.NewReader(strings.Repeat("z", 1<<20)), func(l rawLine) { got = append(got, l) })
	if len(got) != 1 || got[0].tooLong != 1<<20 {
		t.Errorf("huge line: %d lines, tooLong %d", len(got), got[0].tooLong)
	}
}
