// Package route reads the kernel's IPv4 routing table from /proc/net/route.
//
// Parse is pure (it takes an io.Reader) so the interface selection built on
// it can be tested over fixture tables without root.
package route

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Path is where Linux publishes the main IPv4 routing table.
const Path = "/proc/net/route"

// Flag bits of /proc/net/route (linux/route.h).
const (
	FlagUp      = 0x0001 // RTF_UP: route usable
	FlagGateway = 0x0002 // RTF_GATEWAY: destination is a gateway
	FlagHost    = 0x0004 // RTF_HOST: host entry
)

// Route is one line of /proc/net/route.
type Route struct {
	Iface   string
	Dest    netip.Addr // network address (IPv4)
	Gateway netip.Addr
	Flags   uint16
	Metric  uint32
	Mask    netip.Addr // netmask as an address, e.g. 255.255.255.0
	Bits    int        // prefix length of Mask; -1 when Mask is not contiguous
}

// Prefix returns Dest/Bits (invalid when the mask is not contiguous).
func (r Route) Prefix() netip.Prefix {
	if r.Bits < 0 {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(r.Dest, r.Bits)
}

// threadPath is the table of the calling thread's network namespace; Path
// (through /proc/self) is the main thread's, which differs for a thread
// switched into another namespace with setns.
const threadPath = "/proc/thread-self/net/route"

// Read parses the running kernel's table, for the network namespace of the
// calling thread (falling back to Path before Linux 3.17).
func Read() ([]Route, error) {
	f, err := os.Open(threadPath)
	if err != nil {
		f, err = os.Open(Path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f)
}

// ErrFormat reports a line of the table that cannot be parsed.
var ErrFormat = errors.New("malformed route table line")

// Parse reads a table in /proc/net/route format. The header line (starting
// with "Iface") is skipped; so are empty lines. The hexadecimal address
// fields are the kernel's 32-bit values printed in host byte order, so they
// are decoded with the native byte order of this machine, as the kernel wrote
// them. A line with fewer than 8 fields or a bad number is an error naming
// its line number.
func Parse(r io.Reader) ([]Route, error) {
	return parse(r, binary.NativeEndian)
}

func parse(r io.Reader, order binary.ByteOrder) ([]Route, error) {
	var routes []Route
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 || (line == 1 && f[0] == "Iface") {
			continue
		}
		rt, err := parseFields(f, order)
		if err != nil {
			return nil, &lineError{line: line, err: err}
		}
		routes = append(routes, rt)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return routes, nil
}

type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string {
	return Path + ":" + strconv.Itoa(e.line) + ": " + e.err.Error()
}
func (e *lineError) Unwrap() error { return e.err }

// Field order: Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT.
func parseFields(f []string, order binary.ByteOrder) (Route, error) {
	if len(f) < 8 {
		return Route{}, ErrFormat
	}
	var v [4]uint32 // Destination, Gateway, Flags, Mask: hexadecimal
	for i, s := range []string{f[1], f[2], f[3], f[7]} {
		n, err := strconv.ParseUint(s, 16, 32)
		if err != nil {
			return Route{}, ErrFormat
		}
		v[i] = uint32(n)
	}
	// Metric is printed in decimal by the kernel ("%d").
	metric, err := strconv.ParseUint(f[6], 10, 32)
	if err != nil || v[2] > 0xffff {
		return Route{}, ErrFormat
	}
	rt := Route{
		Iface:   f[0],
		Dest:    addr(v[0], order),
		Gateway: addr(v[1], order),
		Flags:   uint16(v[2]),
		Metric:  uint32(metric),
		Mask:    addr(v[3], order),
	}
	rt.Bits = MaskBits(rt.Mask)
	return rt, nil
}

func addr(v uint32, order binary.ByteOrder) netip.Addr {
	var b [4]byte
	order.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

// MaskBits returns the prefix length of an IPv4 netmask, or -1 when the
// mask is not a contiguous run of leading ones (or not IPv4).
func MaskBits(mask netip.Addr) int {
	if !mask.Is4() {
		return -1
	}
	b := mask.As4()
	m := binary.BigEndian.Uint32(b[:])
	n := bits.LeadingZeros32(^m)
	if n < 32 && m<<n != 0 {
		return -1
	}
	return n
}

// BitsMask returns the IPv4 netmask with n leading ones (0 <= n <= 32).
func BitsMask(n int) netip.Addr {
	var b [4]byte
	if n > 0 {
		binary.BigEndian.PutUint32(b[:], ^uint32(0)<<(32-n))
	}
	return netip.AddrFrom4(b)
}
