package conf

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// checkDecimal compares ParseDecimal with strconv.ParseFloat on s.
func checkDecimal(t *testing.T, s string) {
	t.Helper()
	want, err := strconv.ParseFloat(s, 64)
	wantOK := err == nil || err.(*strconv.NumError).Err == strconv.ErrRange
	valid := strings.Count(s, ".") <= 1 && strings.Trim(s, "0123456789.") == "" && strings.Trim(s, ".") != ""
	if !valid {
		wantOK = false
	}
	got, ok := ParseDecimal(s)
	if ok != wantOK || ok && math.Float64bits(got) != math.Float64bits(want) {
		t.Fatalf("ParseDecimal(%q) = %v (%x), %v; strconv.ParseFloat: %v (%x), ok %v",
			s, got, math.Float64bits(got), ok, want, math.Float64bits(want), wantOK)
	}
}

// TestParseDecimal compares with strconv.ParseFloat on hard cases (halfway
// points, subnormals, overflow, long inputs) and random decimals.
func TestParseDecimal(t *testing.T) {
	for _, s := range []string{
		"0", "0.0", ".5", "5.", "", ".", "..", "1.2.3", "-1", "1e3", " 1", "0x10", "inf",
		"1.5", "0.0005", "1.0005", "123456789012345", "1234567890123456", "12345678901234567890",
		"9007199254740993", "9007199254740993.0000000000000000000001", "9007199254740992.9999999999999999999",
		"0.1", "0.30000000000000004", "2.2250738585072011e-308",
		"0." + strings.Repeat("0", 307) + "22250738585072011",
		"0." + strings.Repeat("0", 323) + "4940656458412465441765687928682213723651",
		"0." + strings.Repeat("0", 323) + "2470328229206232720882538", // half the smallest subnormal: ties to 0
		"0." + strings.Repeat("0", 323) + "24703282292062327208825381",
		"0." + strings.Repeat("0", 340) + "1",
		"179769313486231570" + strings.Repeat("0", 291),
		"179769313486231580" + strings.Repeat("0", 291), // rounds to +Inf
		"179769313486231571" + strings.Repeat("0", 291),
		"1" + strings.Repeat("0", 400),
		strings.Repeat("9", 800) + "." + strings.Repeat("9", 50),
		"0." + strings.Repeat("3", 500),
	} {
		checkDecimal(t, s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		var b strings.Builder
		for range r.IntN(25) {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		if r.IntN(2) == 0 {
			b.WriteByte('.')
			for range r.IntN(25) {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		checkDecimal(t, b.String())
		// A random float, the exact halfway point to its successor,
		// and the decimals just below and above that point.
		f := math.Float64frombits(r.Uint64() >> 1)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			continue
		}
		checkDecimal(t, strconv.FormatFloat(f, 'f', -1, 64))
		m, k := split(f)
		half := new(big.Float).SetPrec(2000).SetMantExp(new(big.Float).SetUint64(2*m+1), k-1)
		h := strings.TrimRight(half.Text('f', 1100), "0")
		checkDecimal(t, h)
		checkDecimal(t, h+"1")
		if i := strings.LastIndexAny(h, "123456789"); i > 0 && h[i] != '.' {
			checkDecimal(t, h[:i]+string(h[i]-1)+"9")
		}
	}
}

// FuzzParseDecimal: ParseDecimal agrees with strconv.ParseFloat on every
// input of its grammar and rejects every other.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"1.5", "0.0005", ".5", "9007199254740993", "1" + strings.Repeat("0", 320)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 2000 {
			return
		}
		checkDecimal(t, s)
	})
}
