// Package digest implements MD5, SHA-1 and HMAC (RFC 1321, FIPS 180-4,
// RFC 2104) for heartbeat's md5 and sha1 authentication methods.
//
// Why not crypto/md5, crypto/sha1 and crypto/hmac: since Go 1.24 they link
// the FIPS 140 module (SHA-2, SHA-3, AES, a DRBG), which costs about 200 KB
// of a binary that must fit a router's flash (measured: a program hashing
// with crypto/md5 + crypto/sha1 is 1.60 MB stripped, one without 1.40 MB).
// heartbeat's digests authenticate cluster messages; they are not used for
// anything where constant-time or FIPS validation matters more than size,
// and the tests check every output against the standard library.
package digest

import "math/bits"

// Kind selects a hash function.
type Kind int

// The supported hash functions.
const (
	MD5 Kind = iota
	SHA1
)

// Size returns the digest length in bytes.
func (k Kind) Size() int {
	if k == MD5 {
		return 16
	}
	return 20
}

const blockSize = 64

// Digest is a running MD5 or SHA-1 computation.
type Digest struct {
	kind Kind
	h    [5]uint32
	buf  [blockSize]byte
	nbuf int
	len  uint64
}

// New returns a reset digest of the given kind.
func New(k Kind) *Digest {
	d := &Digest{kind: k}
	d.Reset()
	return d
}

// Reset restarts the computation.
func (d *Digest) Reset() {
	if d.kind == MD5 {
		d.h = [5]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}
	} else {
		d.h = [5]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0}
	}
	d.nbuf, d.len = 0, 0
}

// Write adds p to the input; it never fails.
func (d *Digest) Write(p []byte) (int, error) {
	n := len(p)
	d.len += uint64(n)
	if d.nbuf > 0 {
		c := copy(d.buf[d.nbuf:], p)
		d.nbuf += c
		p = p[c:]
		if d.nbuf < blockSize {
			return n, nil
		}
		d.block(d.buf[:])
		d.nbuf = 0
	}
	for len(p) >= blockSize {
		d.block(p[:blockSize])
		p = p[blockSize:]
	}
	d.nbuf = copy(d.buf[:], p)
	return n, nil
}

// Sum appends the digest of the input so far to b; d is not changed.
func (d *Digest) Sum(b []byte) []byte {
	c := *d
	bitLen := c.len << 3
	var pad [blockSize + 8]byte
	pad[0] = 0x80
	n := 56 - int(c.len%blockSize)
	if n <= 0 {
		n += blockSize
	}
	for i := 0; i < 8; i++ {
		if c.kind == MD5 {
			pad[n+i] = byte(bitLen >> (8 * i))
		} else {
			pad[n+i] = byte(bitLen >> (56 - 8*i))
		}
	}
	c.Write(pad[:n+8])
	for i := 0; i < c.kind.Size()/4; i++ {
		v := c.h[i]
		if c.kind == MD5 {
			b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		} else {
			b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
		}
	}
	return b
}

func (d *Digest) block(p []byte) {
	if d.kind == MD5 {
		md5Block(&d.h, p)
	} else {
		sha1Block(&d.h, p)
	}
}

var md5Shift = [16]int{7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21}

// md5K[i] = floor(|sin(i+1)| * 2^32), RFC 1321 section 3.4.
var md5K = [64]uint32{
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
}

func md5Block(h *[5]uint32, p []byte) {
	var m [16]uint32
	for i := range m {
		j := 4 * i
		m[i] = uint32(p[j]) | uint32(p[j+1])<<8 | uint32(p[j+2])<<16 | uint32(p[j+3])<<24
	}
	a, b, c, d := h[0], h[1], h[2], h[3]
	for i := 0; i < 64; i++ {
		var f uint32
		var g int
		switch i >> 4 {
		case 0:
			f, g = (b&c)|(^b&d), i
		case 1:
			f, g = (d&b)|(^d&c), (5*i+1)&15
		case 2:
			f, g = b^c^d, (3*i+5)&15
		default:
			f, g = c^(b|^d), (7*i)&15
		}
		f += a + md5K[i] + m[g]
		a, d, c = d, c, b
		b += bits.RotateLeft32(f, md5Shift[(i>>4)<<2|i&3])
	}
	h[0] += a
	h[1] += b
	h[2] += c
	h[3] += d
}

func sha1Block(h *[5]uint32, p []byte) {
	var w [80]uint32
	for i := 0; i < 16; i++ {
		j := 4 * i
		w[i] = uint32(p[j])<<24 | uint32(p[j+1])<<16 | uint32(p[j+2])<<8 | uint32(p[j+3])
	}
	for i := 16; i < 80; i++ {
		w[i] = bits.RotateLeft32(w[i-3]^w[i-8]^w[i-14]^w[i-16], 1)
	}
	a, b, c, d, e := h[0], h[1], h[2], h[3], h[4]
	for i := 0; i < 80; i++ {
		var f, k uint32
		switch {
		case i < 20:
			f, k = (b&c)|(^b&d), 0x5a827999
		case i < 40:
			f, k = b^c^d, 0x6ed9eba1
		case i < 60:
			f, k = (b&c)|(b&d)|(c&d), 0x8f1bbcdc
		default:
			f, k = b^c^d, 0xca62c1d6
		}
		t := bits.RotateLeft32(a, 5) + f + e + k + w[i]
		a, b, c, d, e = t, a, bits.RotateLeft32(b, 30), c, d
	}
	h[0] += a
	h[1] += b
	h[2] += c
	h[3] += d
	h[4] += e
}

// Sum returns the digest of the concatenation of parts.
func Sum(k Kind, parts ...[]byte) []byte {
	d := New(k)
	for _, p := range parts {
		d.Write(p)
	}
	return d.Sum(nil)
}

// HMAC returns the RFC 2104 HMAC of the concatenation of parts under key.
// Keys longer than the 64-byte block are hashed first, as the RFC says.
func HMAC(k Kind, key []byte, parts ...[]byte) []byte {
	if len(key) > blockSize {
		key = Sum(k, key)
	}
	var ipad, opad [blockSize]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	in := New(k)
	in.Write(ipad[:])
	for _, p := range parts {
		in.Write(p)
	}
	return Sum(k, opad[:], in.Sum(nil))
}
