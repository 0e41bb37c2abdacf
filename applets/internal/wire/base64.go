package wire

// Heartbeat's binary fields are standard base64 with padding. This is
// encoding/base64's StdEncoding (encode, and decode with its rules: '='
// padding required, '\r' and '\n' ignored anywhere, nonzero trailing bits
// accepted) in ~1 KB instead of the package's ~8 KB of the binary.

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// b64AppendEncode appends the padded base64 of src to dst.
func b64AppendEncode(dst, src []byte) []byte {
	for len(src) >= 3 {
		v := uint(src[0])<<16 | uint(src[1])<<8 | uint(src[2])
		dst = append(dst, b64Alphabet[v>>18], b64Alphabet[v>>12&63], b64Alphabet[v>>6&63], b64Alphabet[v&63])
		src = src[3:]
	}
	switch len(src) {
	case 1:
		v := uint(src[0]) << 16
		dst = append(dst, b64Alphabet[v>>18], b64Alphabet[v>>12&63], '=', '=')
	case 2:
		v := uint(src[0])<<16 | uint(src[1])<<8
		dst = append(dst, b64Alphabet[v>>18], b64Alphabet[v>>12&63], b64Alphabet[v>>6&63], '=')
	}
	return dst
}

// b64DecodedLen is the most bytes b64Decode writes for n input bytes.
func b64DecodedLen(n int) int { return n / 4 * 3 }

// b64Value is the 6-bit value of base64 character c, or -1.
func b64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return -1
}

// b64Decode decodes src into dst (at least b64DecodedLen(len(src))
// bytes) and returns the number of bytes written; ok is false for input
// encoding/base64's StdEncoding rejects.
func b64Decode(dst, src []byte) (n int, ok bool) {
	var q [4]byte
	nq := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\r' || c == '\n' {
			continue
		}
		if c == '=' {
			// One '=' after three characters, two after two; then only
			// line breaks.
			if nq < 2 {
				return n, false
			}
			pads := 4 - nq
			for ; i < len(src); i++ {
				switch src[i] {
				case '\r', '\n':
				case '=':
					if pads == 0 {
						return n, false
					}
					pads--
				default:
					return n, false
				}
			}
			if pads != 0 {
				return n, false
			}
			dst[n] = q[0]<<2 | q[1]>>4
			n++
			if nq == 3 {
				dst[n] = q[1]<<4 | q[2]>>2
				n++
			}
			return n, true
		}
		v := b64Value(c)
		if v < 0 {
			return n, false
		}
		q[nq] = byte(v)
		if nq++; nq == 4 {
			dst[n], dst[n+1], dst[n+2] = q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2, q[2]<<6|q[3]
			n += 3
			nq = 0
		}
	}
	return n, nq == 0
}
