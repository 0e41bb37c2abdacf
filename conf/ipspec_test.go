package conf

import (
	"errors"
	"strconv"
	"testing"
)

// TestParseIPSpec: the IPaddr and IPv6addr argument grammars; a malformed
// argument is an *ArgError naming the bad part.
func TestParseIPSpec(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: "ip bits iface bcast", or "error"
	}{
		{"10.0.0.5", "10.0.0.5 -1  invalid IP"},
		{"10.0.0.5/24/eth0", "10.0.0.5 24 eth0 invalid IP"},
		{"10.0.0.5/255.255.255.0/10.0.0.255", "10.0.0.5 24  10.0.0.255"},
		{"10.0.0.5/255.0.255.0", "error"},
		{"10.0.0.5/24/eth0:1", "error"},
		{"10.0.0.5/33", "error"},
		{"224.0.0.1", "error"},
		{"10.0.0.5/24/eth0/10.0.0.255/x", "error"},
	} {
		sp, err := ParseIPSpec(tc.in)
		got := sp.IP.String() + " " + strconv.Itoa(sp.Bits) + " " + sp.Iface + " " + sp.Bcast.String()
		var ae *ArgError
		if err != nil {
			got = "error"
			if !errors.As(err, &ae) {
				t.Errorf("%s: error %v is not an *ArgError", tc.in, err)
			}
		}
		if got != tc.want {
			t.Errorf("ParseIPSpec(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in string
		ok bool
	}{{"2001:db8::5/64/eth0", true}, {"2001:db8::5", true}, {"fe80::1", false}, {"2001:db8::5/129", false}, {"10.0.0.5", false}} {
		if _, err := ParseIPv6Spec(tc.in); (err == nil) != tc.ok {
			t.Errorf("ParseIPv6Spec(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}
