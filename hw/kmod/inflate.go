package kmod

import (
	"errors"
)

// A small gzip/DEFLATE decoder (RFC 1951/1952) in the style of zlib's
// puff.c: compress/gzip would link fmt into the binary, and modules are
// small, so a simple bit-at-a-time decoder is enough.

var errCorrupt = errors.New("corrupt gzip data")

// gunzip decompresses a gzip stream (one or more members) held in memory,
// verifying each member's CRC-32 and length; output beyond limit bytes is
// an error.
func gunzip(in []byte, limit int) ([]byte, error) {
	var out []byte
	for member := 0; ; member++ {
		if member > 0 && len(in) == 0 {
			return out, nil
		}
		body, err := gzipHeader(in)
		if err != nil {
			return nil, err
		}
		s := inflater{in: body, out: out, base: len(out), limit: limit}
		if err := s.inflate(); err != nil {
			return nil, err
		}
		rest := body[s.pos:]
		if len(rest) < 8 {
			return nil, errors.New("gzip: truncated trailer")
		}
		crc := le32(rest)
		size := le32(rest[4:])
		data := s.out[s.base:]
		if ChecksumIEEE(data) != crc {
			return nil, errors.New("gzip: CRC-32 mismatch")
		}
		if uint32(len(data)) != size {
			return nil, errors.New("gzip: length mismatch")
		}
		out = s.out
		in = rest[8:]
	}
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// gzipHeader checks a member header and returns the bytes after it.
func gzipHeader(b []byte) ([]byte, error) {
	if len(b) < 10 || b[0] != 0x1f || b[1] != 0x8b {
		return nil, errors.New("not gzip data")
	}
	if b[2] != 8 {
		return nil, errors.New("gzip: unknown compression method")
	}
	flg := b[3]
	head := b
	b = b[10:]
	if flg&0xe0 != 0 {
		return nil, errors.New("gzip: reserved flags set")
	}
	if flg&4 != 0 { // FEXTRA
		if len(b) < 2 {
			return nil, errCorrupt
		}
		n := int(b[0]) | int(b[1])<<8
		if len(b) < 2+n {
			return nil, errCorrupt
		}
		b = b[2+n:]
	}
	for _, bit := range []byte{8, 16} { // FNAME, FCOMMENT: zero-terminated
		if flg&bit != 0 {
			i := 0
			for i < len(b) && b[i] != 0 {
				i++
			}
			if i == len(b) {
				return nil, errCorrupt
			}
			b = b[i+1:]
		}
	}
	if flg&2 != 0 { // FHCRC: the low 16 bits of the header's CRC-32
		if len(b) < 2 {
			return nil, errCorrupt
		}
		if n := len(head) - len(b); uint16(ChecksumIEEE(head[:n])) != uint16(b[0])|uint16(b[1])<<8 {
			return nil, errors.New("gzip: header CRC mismatch")
		}
		b = b[2:]
	}
	return b, nil
}

type inflater struct {
	in     []byte
	pos    int
	bitbuf uint32
	bitcnt uint
	out    []byte
	base   int // where this member's output starts
	limit  int
}

var errTooBig = errors.New("decompressed data too large")

func (s *inflater) bits(need uint) (int, error) {
	val := s.bitbuf
	for s.bitcnt < need {
		if s.pos >= len(s.in) {
			return 0, errors.New("gzip: unexpected end of data")
		}
		val |= uint32(s.in[s.pos]) << s.bitcnt
		s.pos++
		s.bitcnt += 8
	}
	s.bitbuf = val >> need
	s.bitcnt -= need
	return int(val & (1<<need - 1)), nil
}

func (s *inflater) stored() error {
	s.bitbuf, s.bitcnt = 0, 0 // discard the rest of the byte
	if s.pos+4 > len(s.in) {
		return errCorrupt
	}
	n := int(s.in[s.pos]) | int(s.in[s.pos+1])<<8
	if ^n&0xffff != int(s.in[s.pos+2])|int(s.in[s.pos+3])<<8 {
		return errors.New("gzip: stored block length check failed")
	}
	s.pos += 4
	if s.pos+n > len(s.in) {
		return errCorrupt
	}
	if len(s.out)+n > s.limit {
		return errTooBig
	}
	s.out = append(s.out, s.in[s.pos:s.pos+n]...)
	s.pos += n
	return nil
}

const maxBits = 15

type huffman struct {
	count  [maxBits + 1]int
	symbol []int
}

// construct builds a canonical code from code lengths; it rejects
// over-subscribed sets (incomplete ones fail at decode time).
func (h *huffman) construct(length []int) error {
	h.count = [maxBits + 1]int{}
	for _, l := range length {
		h.count[l]++
	}
	if h.count[0] == len(length) {
		h.symbol = h.symbol[:0]
		return nil
	}
	left := 1
	for l := 1; l <= maxBits; l++ {
		left <<= 1
		left -= h.count[l]
		if left < 0 {
			return errors.New("gzip: over-subscribed Huffman code")
		}
	}
	var offs [maxBits + 1]int
	for l := 1; l < maxBits; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	h.symbol = make([]int, len(length))
	for sym, l := range length {
		if l != 0 {
			h.symbol[offs[l]] = sym
			offs[l]++
		}
	}
	return nil
}

func (s *inflater) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l <= maxBits; l++ {
		b, err := s.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		count := h.count[l]
		if code-count < first {
			return h.symbol[index+(code-first)], nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, errors.New("gzip: invalid Huffman code")
}

var (
	lenBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
		1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

func (s *inflater) codes(lencode, distcode *huffman) error {
	for {
		sym, err := s.decode(lencode)
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			if len(s.out) >= s.limit {
				return errTooBig
			}
			s.out = append(s.out, byte(sym))
			continue
		case sym == 256:
			return nil
		}
		sym -= 257
		if sym >= 29 {
			return errors.New("gzip: invalid length symbol")
		}
		e, err := s.bits(lenExtra[sym])
		if err != nil {
			return err
		}
		n := lenBase[sym] + e
		d, err := s.decode(distcode)
		if err != nil {
			return err
		}
		if d >= 30 {
			return errors.New("gzip: invalid distance symbol")
		}
		e, err = s.bits(distExtra[d])
		if err != nil {
			return err
		}
		dist := distBase[d] + e
		if dist > len(s.out)-s.base {
			return errors.New("gzip: distance too far back")
		}
		if len(s.out)+n > s.limit {
			return errTooBig
		}
		from := len(s.out) - dist
		for i := 0; i < n; i++ {
			s.out = append(s.out, s.out[from+i])
		}
	}
}

var fixedLen, fixedDist huffman

func init() {
	var l [288]int
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	fixedLen.construct(l[:])
	var d [30]int
	for i := range d {
		d[i] = 5
	}
	fixedDist.construct(d[:])
}

var clOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func (s *inflater) dynamic() error {
	nlen, err := s.bits(5)
	if err != nil {
		return err
	}
	ndist, err := s.bits(5)
	if err != nil {
		return err
	}
	ncode, err := s.bits(4)
	if err != nil {
		return err
	}
	nlen, ndist, ncode = nlen+257, ndist+1, ncode+4
	if nlen > 286 || ndist > 30 {
		return errors.New("gzip: bad dynamic block counts")
	}
	var lengths [320]int
	for i := 0; i < ncode; i++ {
		if lengths[clOrder[i]], err = s.bits(3); err != nil {
			return err
		}
	}
	var lencode, distcode huffman
	if err := lencode.construct(lengths[:19]); err != nil {
		return err
	}
	lengths = [320]int{}
	for i := 0; i < nlen+ndist; {
		sym, err := s.decode(&lencode)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = sym
			i++
			continue
		}
		val, rep := 0, 0
		switch sym {
		case 16:
			if i == 0 {
				return errors.New("gzip: repeat with no first length")
			}
			val = lengths[i-1]
			rep, err = s.bits(2)
			rep += 3
		case 17:
			rep, err = s.bits(3)
			rep += 3
		default:
			rep, err = s.bits(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		if i+rep > nlen+ndist {
			return errors.New("gzip: too many code lengths")
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		return errors.New("gzip: no end-of-block code")
	}
	if err := lencode.construct(lengths[:nlen]); err != nil {
		return err
	}
	if err := distcode.construct(lengths[nlen : nlen+ndist]); err != nil {
		return err
	}
	return s.codes(&lencode, &distcode)
}

func (s *inflater) inflate() error {
	for {
		last, err := s.bits(1)
		if err != nil {
			return err
		}
		typ, err := s.bits(2)
		if err != nil {
			return err
		}
		switch typ {
		case 0:
			err = s.stored()
		case 1:
			err = s.codes(&fixedLen, &fixedDist)
		case 2:
			err = s.dynamic()
		default:
			err = errors.New("gzip: invalid block type")
		}
		if err != nil {
			return err
		}
		if last == 1 {
			s.bitbuf, s.bitcnt = 0, 0 // the trailer starts on a byte boundary
			return nil
		}
	}
}
