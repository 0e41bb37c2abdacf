package main

import (
	"strings"
	"testing"
)

// TestBannedFound: a banned prefix fails only above the slack, and an
// unrelated symbol with a similar name (net/netip under "net.") does not.
func TestBannedFound(t *testing.T) {
	tests := []struct {
		name string
		syms map[string]int64
		want []string // prefixes reported
	}{
		{"clean", map[string]int64{"runtime.main": 5000, "net/netip.ParseAddr": 3000, "fmt.init": 165}, nil},
		{"fmt linked", map[string]int64{"fmt.(*pp).doPrintf": 4000}, []string{"fmt."}},
		{"sort instances add up", map[string]int64{"slices.pdqsortOrdered[go.shape.string]": 600, "slices.pdqsortCmpFunc[x]": 600}, []string{"slices.pdqsort"}},
		{"ParseFloat", map[string]int64{"internal/strconv.readFloat": 1658}, []string{"internal/strconv.readFloat"}},
		{"x/sys/unix Recvfrom", map[string]int64{"golang.org/x/sys/unix.anyToSockaddr": 2260, "golang.org/x/sys/unix.Read": 200}, []string{"golang.org/x/sys/unix.anyToSockaddr"}},
	}
	for _, tt := range tests {
		got := bannedFound(tt.syms)
		if len(got) != len(tt.want) {
			t.Fatalf("%s: got %q, want prefixes %q", tt.name, got, tt.want)
		}
		for i, p := range tt.want {
			if !strings.HasPrefix(got[i], p+"* is linked") {
				t.Errorf("%s: line %q does not report %q", tt.name, got[i], p)
			}
		}
	}
}
