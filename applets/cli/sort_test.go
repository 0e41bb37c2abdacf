package cli

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestSortMatchesStdlib compares Sort with slices.Sort on random, sorted,
// reversed and duplicate-heavy inputs of every length up to 70.
func TestSortMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func(i, n int) uint64{
		"random":   func(i, n int) uint64 { return r.Uint64() },
		"sorted":   func(i, n int) uint64 { return uint64(i) },
		"reversed": func(i, n int) uint64 { return uint64(n - i) },
		"dups":     func(i, n int) uint64 { return r.Uint64N(3) },
	}
	for name, gen := range gens {
		for n := 0; n <= 70; n++ {
			u := make([]uint64, n)
			s := make([]string, n)
			for i := range u {
				u[i] = gen(i, n)
				s[i] = strconv.FormatUint(u[i]%1000, 10)
			}
			wantU, wantS := slices.Clone(u), slices.Clone(s)
			slices.Sort(wantU)
			slices.Sort(wantS)
			Sort(u)
			Sort(s)
			if !slices.Equal(u, wantU) || !slices.Equal(s, wantS) {
				t.Fatalf("%s n=%d: got %v %v, want %v %v", name, n, u, s, wantU, wantS)
			}
		}
	}
}

// FuzzSort checks Sort against slices.Sort on arbitrary byte strings.
func FuzzSort(f *testing.F) {
	f.Add([]byte("habox"))
	f.Add([]byte{3, 3, 1, 0, 255, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		want := slices.Clone(b)
		slices.Sort(want)
		Sort(b)
		if !slices.Equal(b, want) {
			t.Fatalf("got %v, want %v", b, want)
		}
	})
}
