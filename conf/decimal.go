package conf

import "math"

// ParseDecimal converts s, of the form digits[.digits] or .digits (no
// sign, no exponent), to the nearest float64 (ties to even), exactly as
// strconv.ParseFloat does for such strings. ok is false for anything
// else. It replaces strconv.ParseFloat in the binary (~12 KB on amd64):
// a fast exact path for up to 15 significant digits, otherwise an
// estimate corrected by exact big-integer comparisons with the halfway
// points to its neighbours.
func ParseDecimal(s string) (f float64, ok bool) {
	digits, exp, ok := decimalDigits(s)
	if !ok {
		return 0, false
	}
	// The value is digits × 10^exp.
	switch {
	case len(digits) == 0 || len(digits)+exp < -330:
		return 0, true
	case len(digits)+exp > 310:
		return math.Inf(1), true
	}
	var m uint64
	n := min(len(digits), 19)
	for _, c := range digits[:n] {
		m = m*10 + uint64(c-'0')
	}
	e := exp + len(digits) - n
	if len(digits) <= 15 && e >= -22 && e <= 22 {
		// Both operands exact, one rounding: correctly rounded.
		if e < 0 {
			return float64(m) / math.Pow10(-e), true
		}
		return float64(m) * math.Pow10(e), true
	}
	switch {
	case e < -290:
		f = float64(m) * math.Pow10(e+290) * 1e-290
	case e > 290:
		f = float64(m) * math.Pow10(e-290) * 1e290
	default:
		f = float64(m) * math.Pow10(e)
	}
	v := natDigits(digits)
	for range 2000 { // the estimate is a few ulps off; each step moves one
		up := math.Nextafter(f, math.Inf(1))
		if c := cmpHalf(v, exp, f, up); c > 0 || c == 0 && odd(f) {
			f = up
			continue
		}
		if f == 0 {
			break
		}
		down := math.Nextafter(f, 0)
		if c := cmpHalf(v, exp, down, f); c < 0 || c == 0 && odd(f) {
			f = down
			continue
		}
		break
	}
	return f, true
}

// decimalDigits reads s (digits[.digits] or .digits) as digits × 10^exp,
// without leading or trailing zeros (none at all for zero); ok is false
// when s is not of that form.
func decimalDigits(s string) (digits []byte, exp int, ok bool) {
	digits = make([]byte, 0, len(s))
	dot, any := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' && !dot:
			dot = true
		case c >= '0' && c <= '9':
			any = true
			if c == '0' && len(digits) == 0 {
				if dot {
					exp--
				}
				continue
			}
			digits = append(digits, c)
			if dot {
				exp--
			}
		default:
			return nil, 0, false
		}
	}
	if !any {
		return nil, 0, false
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	return digits, exp, true
}

// odd reports whether f's last mantissa bit is set.
func odd(f float64) bool { return math.Float64bits(f)&1 == 1 }

// split returns M and K with f = M × 2^K (f ≥ 0, +Inf as 2^1024).
func split(f float64) (uint64, int) {
	b := math.Float64bits(f)
	e, frac := int(b>>52&0x7ff), b&(1<<52-1)
	switch e {
	case 0:
		return frac, -1074
	case 0x7ff:
		return 1 << 52, 972
	}
	return frac | 1<<52, e - 1075
}

// cmpHalf compares v × 10^exp with the midpoint of the adjacent floats
// a < b: -1, 0 or +1.
func cmpHalf(v nat, exp int, a, b float64) int {
	ma, ka := split(a)
	mb, kb := split(b)
	k := min(ka, kb)
	ma <<= ka - k
	mb <<= kb - k
	// midpoint = (ma+mb) × 2^(k-1); ma+mb < 2^55 does not overflow.
	mid := nat{uint32(ma + mb), uint32((ma + mb) >> 32)}
	lhs := append(nat(nil), v...)
	if exp > 0 {
		lhs = lhs.mulPow10(exp)
	} else {
		mid = mid.mulPow10(-exp)
	}
	if k-1 > 0 {
		mid = mid.shl(k - 1)
	} else {
		lhs = lhs.shl(1 - k)
	}
	return lhs.cmp(mid)
}

// nat is a non-negative big integer, 32-bit limbs, least significant
// first.
type nat []uint32

// natDigits is the integer of the decimal digits d.
func natDigits(d []byte) nat {
	var n nat
	for _, c := range d {
		n = n.mulAdd(10, uint32(c-'0'))
	}
	return n
}

// mulAdd returns n×m + a.
func (n nat) mulAdd(m, a uint32) nat {
	carry := uint64(a)
	for i, x := range n {
		t := uint64(x)*uint64(m) + carry
		n[i], carry = uint32(t), t>>32
	}
	if carry != 0 {
		n = append(n, uint32(carry))
	}
	return n
}

// mulPow10 returns n×10^e.
func (n nat) mulPow10(e int) nat {
	for ; e >= 9; e -= 9 {
		n = n.mulAdd(1e9, 0)
	}
	for ; e > 0; e-- {
		n = n.mulAdd(10, 0)
	}
	return n
}

// shl returns n×2^s.
func (n nat) shl(s int) nat {
	words, bits := s/32, uint(s%32)
	out := make(nat, len(n)+words+1)
	for i, x := range n {
		out[i+words] |= x << bits
		if bits != 0 {
			out[i+words+1] = x >> (32 - bits)
		}
	}
	return out
}

// cmp compares n and o: -1, 0 or +1.
func (n nat) cmp(o nat) int {
	for len(n) > 0 && n[len(n)-1] == 0 {
		n = n[:len(n)-1]
	}
	for len(o) > 0 && o[len(o)-1] == 0 {
		o = o[:len(o)-1]
	}
	if len(n) != len(o) {
		if len(n) < len(o) {
			return -1
		}
		return 1
	}
	for i := len(n) - 1; i >= 0; i-- {
		if n[i] != o[i] {
			if n[i] < o[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
