package kmod

// ieeeTable is the LSB-first table of the CRC-32 polynomial 0xEDB88320.
var ieeeTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i)
		for range 8 {
			c = c>>1 ^ 0xEDB88320&-(c&1)
		}
		t[i] = c
	}
	return t
}()

// ChecksumIEEE is the CRC-32 (IEEE 802.3, as gzip uses it) of data, as
// hash/crc32.ChecksumIEEE computes it; a plain table loop costs ~1 KB
// where hash/crc32 costs ~8 KB of the binary.
func ChecksumIEEE(data []byte) uint32 {
	c := ^uint32(0)
	for _, b := range data {
		c = ieeeTable[byte(c)^b] ^ c>>8
	}
	return ^c
}
