package route

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// hexAddr renders an address as the kernel prints it on this machine.
func hexAddr(s string) string {
	a := netip.MustParseAddr(s).As4()
	return fmt.Sprintf("%08X", binary.NativeEndian.Uint32(a[:]))
}

func TestParse(t *testing.T) {
	table := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t" + hexAddr("0.0.0.0") + "\t" + hexAddr("192.0.2.1") + "\t0003\t0\t0\t100\t" + hexAddr("0.0.0.0") + "\t0\t0\t0\n" +
		"eth0\t" + hexAddr("192.0.2.0") + "\t00000000\t0001\t0\t0\t0\t" + hexAddr("255.255.255.0") + "\t0\t0\t0\n" +
		"\n" +
		"eth1\t" + hexAddr("10.1.128.0") + "\t00000000\t0001\t0\t0\t5\t" + hexAddr("255.255.128.0") + "\t0\t0\t0\n"
	rs, err := Parse(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{Iface: "eth0", Dest: netip.MustParseAddr("0.0.0.0"), Gateway: netip.MustParseAddr("192.0.2.1"), Flags: 3, Metric: 100, Mask: netip.MustParseAddr("0.0.0.0"), Bits: 0},
		{Iface: "eth0", Dest: netip.MustParseAddr("192.0.2.0"), Gateway: netip.MustParseAddr("0.0.0.0"), Flags: 1, Metric: 0, Mask: netip.MustParseAddr("255.255.255.0"), Bits: 24},
		{Iface: "eth1", Dest: netip.MustParseAddr("10.1.128.0"), Gateway: netip.MustParseAddr("0.0.0.0"), Flags: 1, Metric: 5, Mask: netip.MustParseAddr("255.255.128.0"), Bits: 17},
	}
	if len(rs) != len(want) {
		t.Fatalf("got %d routes, want %d: %+v", len(rs), len(want), rs)
	}
	for i := range want {
		if rs[i] != want[i] {
			t.Errorf("route %d = %+v, want %+v", i, rs[i], want[i])
		}
	}
	if p := rs[2].Prefix(); p.String() != "10.1.128.0/17" {
		t.Errorf("Prefix = %v", p)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"eth0\tZZ\t0\t1\t0\t0\t0\t0\n",
		"eth0\t00000000\t00000000\n",
		"eth0\t00000000\t00000000\t0001\t0\t0\tx\t00000000\n",
		"eth0\t00000000\t00000000\t10001\t0\t0\t0\t00000000\n",
		"eth0\t100000000\t00000000\t0001\t0\t0\t0\t00000000\n",
	} {
		_, err := Parse(strings.NewReader(in))
		if !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) err = %v, want ErrFormat", in, err)
		}
		if err != nil && !strings.Contains(err.Error(), ":1:") {
			t.Errorf("error %q does not name the line", err)
		}
	}
}

func TestParseByteOrder(t *testing.T) {
	// The same table as printed by a big-endian (MIPS) and a little-endian kernel.
	be, err := parse(strings.NewReader("eth0\tC0000200\t00000000\t0001\t0\t0\t0\tFFFFFF00\n"), binary.BigEndian)
	if err != nil {
		t.Fatal(err)
	}
	le, err := parse(strings.NewReader("eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n"), binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	if be[0] != le[0] || be[0].Prefix().String() != "192.0.2.0/24" {
		t.Errorf("big endian %+v, little endian %+v", be[0], le[0])
	}
}

func TestMaskBits(t *testing.T) {
	for _, c := range []struct {
		mask string
		bits int
	}{{"0.0.0.0", 0}, {"255.0.0.0", 8}, {"255.255.255.0", 24}, {"255.255.255.254", 31}, {"255.255.255.255", 32},
		{"255.255.128.0", 17}, {"255.0.255.0", -1}, {"0.255.255.255", -1}, {"255.255.255.1", -1}, {"::", -1}} {
		if got := MaskBits(netip.MustParseAddr(c.mask)); got != c.bits {
			t.Errorf("MaskBits(%s) = %d, want %d", c.mask, got, c.bits)
		}
		if c.bits >= 0 {
			if got := BitsMask(c.bits).String(); got != c.mask {
				t.Errorf("BitsMask(%d) = %s, want %s", c.bits, got, c.mask)
			}
		}
	}
}

func TestReadLive(t *testing.T) {
	if _, err := os.Stat(Path); err != nil {
		t.Skip("no ", Path)
	}
	if _, err := Read(); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n")
	f.Add("eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")
	f.Add("x y z\n")
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, r := range rs {
			if !r.Dest.Is4() || !r.Mask.Is4() || r.Bits < -1 || r.Bits > 32 {
				t.Fatalf("bad route %+v", r)
			}
		}
	})
}
