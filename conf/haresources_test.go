package conf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

var twoNodes = []string{"linuxha1", "linuxha2"}

func parseRes(t *testing.T, s string, nodes []string) (*Haresources, ErrorList) {
	t.Helper()
	h, err := ParseHaresources("haresources", strings.NewReader(s), nodes)
	var el ErrorList
	if err != nil && !errors.As(err, &el) {
		t.Fatalf("error is %T", err)
	}
	if h == nil {
		t.Fatal("nil Haresources")
	}
	return h, el
}

func res(script string, text string, args ...string) Resource {
	return Resource{Script: script, Text: text, Args: args}
}

func TestHaresourcesSeed(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Group
	}{
		{"linuxha1 192.168.85.3 httpd smb\n", []Group{{Node: "linuxha1", Key: "192.168.85.3", Line: 1, Resources: []Resource{
			res("IPaddr", "192.168.85.3", "192.168.85.3"), res("httpd", "httpd"), res("smb", "smb")}}}},
		{"linuxha1 192.168.85.3/27/192.168.85.31 httpd smb maid::vacuum\n", []Group{{Node: "linuxha1", Key: "192.168.85.3/27/192.168.85.31", Line: 1,
			Resources: []Resource{res("IPaddr", "192.168.85.3/27/192.168.85.31", "192.168.85.3/27/192.168.85.31"),
				res("httpd", "httpd"), res("smb", "smb"), res("maid", "maid::vacuum", "vacuum")}}}},
		{"linuxha1 10.77.0.3 hblab-svc\n", []Group{{Node: "linuxha1", Key: "10.77.0.3", Line: 1, Resources: []Resource{
			res("IPaddr", "10.77.0.3", "10.77.0.3"), res("hblab-svc", "hblab-svc")}}}},
		{"# comment\n\n  LinuxHA2\tIPaddr::10.0.0.5/24/eth1  Filesystem::/dev/sda1::/data1::ext2 # web\n" +
			"linuxha1 10.0.0.6 \\\n   apache \\\n\tsquid\n",
			[]Group{
				{Node: "linuxha2", Key: "IPaddr::10.0.0.5/24/eth1", Line: 3, Resources: []Resource{
					res("IPaddr", "IPaddr::10.0.0.5/24/eth1", "10.0.0.5/24/eth1"),
					res("Filesystem", "Filesystem::/dev/sda1::/data1::ext2", "/dev/sda1", "/data1", "ext2")}},
				{Node: "linuxha1", Key: "10.0.0.6", Line: 4, Resources: []Resource{
					res("IPaddr", "10.0.0.6", "10.0.0.6"), res("apache", "apache"), res("squid", "squid")}},
			}},
		{"linuxha1 a::::b::\n", []Group{{Node: "linuxha1", Key: "a::::b::", Line: 1, Resources: []Resource{res("a", "a::::b::", "b")}}}},
	} {
		h, errs := parseRes(t, tc.in, twoNodes)
		if errs != nil {
			t.Errorf("%q: %v", tc.in, errs)
		}
		if !reflect.DeepEqual(h.Groups, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.in, h.Groups, tc.want)
		}
	}
}

func TestIsIPShorthand(t *testing.T) {
	for s, want := range map[string]bool{
		"10.0.0.5": true, "10.0.0.5/24": true, "10.0.0.5/24/eth1": true, "10.0.0.5/24/eth1/10.0.0.255": true,
		"1.2.3.4.5": true, "1a.2b.3c.4d": true, "1..2.3.4": true, "1.2.3.": false, "1.2.3": false, "a.1.2.3.4": false,
		"1.2.3.x": false, "": false, "1...": false, "IPaddr::1.2.3.4": false, "1.2.3.4::x": true, "9.9.9.9z": true,
	} {
		if got := isIPShorthand(s); got != want {
			t.Errorf("isIPShorthand(%q) = %v", s, got)
		}
	}
}

func TestHaresourcesErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		errs []errWant
	}{
		{"bad node", "linuxha3 10.0.0.1 httpd\nlinuxha1 10.0.0.2\nnode4 x\n", []errWant{
			{1, "linuxha3", "Bad nodename in haresources [linuxha3]"}, {3, "node4", "Bad nodename in haresources [node4]"}}},
		{"node only", "linuxha1\n", []errWant{{1, "linuxha1", "no resources"}}},
		{"dup key", "linuxha1 10.0.0.1 httpd\nlinuxha2 10.0.0.1 smb\n", []errWant{{2, "10.0.0.1", "already used on line 1"}}},
		{"key elsewhere", "linuxha1 httpd\nlinuxha2 10.0.0.2 httpd\n", []errWant{{1, "httpd", "also appears on line 2"}}},
		{"key dots", "linuxha1 10.0.0.1 a\nlinuxha2 10.0.0.2 10a0b0c1\n", []errWant{{1, "10.0.0.1", "matches [10a0b0c1] on line 2"}}},
		{"key regex", "linuxha1 a+b\n", []errWant{{1, "a+b", "regular-expression character"}}},
		{"ip args", "linuxha1 10.0.0.1::eth0\n", []errWant{{1, "10.0.0.1::eth0", "cannot take \"::\" arguments"}}},
		{"empty script", "linuxha1 ::x\n", []errWant{{1, "::x", "empty script name"}}},
		{"slash script", "linuxha1 ../bin/x\n", []errWant{{1, "../bin/x", "cannot contain '/'"}}},
		{"cont comment", "linuxha1 10.0.0.1 \\\n httpd # web server\n", []errWant{
			{2, "", "'#' in a continuation line"}, {1, "#", "'#' in a resource name"}}},
		{"cont empty", "linuxha1 10.0.0.1 \\\n\nlinuxha2 10.0.0.2\n", []errWant{{2, "", "empty line after the continuation"}}},
		{"cont eof", "linuxha1 10.0.0.1 \\", []errWant{{1, "\\", "on the last line"}}},
		{"crlf", "linuxha1 10.0.0.1 httpd\r\n", []errWant{{1, "", "carriage return"}}},
		{"long", "linuxha1 " + strings.Repeat("r", MaxLine) + "\nlinuxha3 x\n", []errWant{{1, "", "5118 bytes"}, {2, "linuxha3", "Bad nodename"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := parseRes(t, tc.in, twoNodes)
			checkErrs(t, "haresources", errs, tc.errs)
		})
	}
}

// TestHaresourcesCommentBeforeBackslash: a comment hides the "\", so the
// next line is a group of its own (as ResourceManager's sed reads it).
func TestHaresourcesCommentBeforeBackslash(t *testing.T) {
	h, errs := parseRes(t, "linuxha1 10.0.0.1 # web \\\nlinuxha2 10.0.0.2\n", twoNodes)
	if errs != nil || len(h.Groups) != 2 {
		t.Errorf("groups %+v errs %v", h.Groups, errs)
	}
}

func TestHaresourcesNodeRegex(t *testing.T) {
	_, errs := parseRes(t, "a.b 10.0.0.1\n", []string{"a.b", "axb"})
	checkErrs(t, "haresources", errs, []errWant{{0, "a.b", "also matches node [axb]"}})
}
