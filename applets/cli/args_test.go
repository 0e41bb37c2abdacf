package cli

import (
	"reflect"
	"testing"
)

func TestArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		opts []string // option=value (value read for -c and --count)
		rest []string
		err  string
	}{
		{"none", []string{"a", "b"}, nil, []string{"a", "b"}, ""},
		{"flags then args", []string{"-f", "--force", "x"}, []string{"-f", "--force"}, []string{"x"}, ""},
		{"value next", []string{"-c", "5", "x"}, []string{"-c=5"}, []string{"x"}, ""},
		{"value attached", []string{"-c5"}, []string{"-c=5"}, []string{}, ""},
		{"long value", []string{"--count=7", "y"}, []string{"--count=7"}, []string{"y"}, ""},
		{"double dash", []string{"-f", "--", "-c"}, []string{"-f"}, []string{"-c"}, ""},
		{"lone dash is an argument", []string{"-", "-f"}, nil, []string{"-", "-f"}, ""},
		{"missing value", []string{"-c"}, []string{"-c="}, []string{}, "option -c requires a value"},
		{"flag with value", []string{"--force=1"}, []string{"--force"}, []string{}, "option --force takes no value"},
		{"bundled flags", []string{"-dv", "x"}, []string{"-d", "-v"}, []string{"x"}, ""},
		{"repeated flag", []string{"-dd"}, []string{"-d", "-d"}, []string{}, ""},
		{"bundle ending in a value", []string{"-fc5", "x"}, []string{"-f", "-c=5"}, []string{"x"}, ""},
		{"bundle ending in an option with a value", []string{"-fc", "5"}, []string{"-f", "-c=5"}, []string{}, ""},
		{"value holds dashes", []string{"-c-d"}, []string{"-c=-d"}, []string{}, ""},
		{"operand stops without Permute", []string{"x", "-f"}, nil, []string{"x", "-f"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewArgs(tt.args)
			var opts []string
			for a.Next() {
				switch a.Opt() {
				case "-c", "--count":
					v, _ := a.Value()
					opts = append(opts, a.Opt()+"="+v)
				default:
					a.Flag()
					opts = append(opts, a.Opt())
				}
			}
			if !reflect.DeepEqual(opts, tt.opts) {
				t.Errorf("options %q, want %q", opts, tt.opts)
			}
			if rest := a.Rest(); len(rest) != len(tt.rest) || (len(rest) > 0 && !reflect.DeepEqual(rest, tt.rest)) {
				t.Errorf("rest %q, want %q", rest, tt.rest)
			}
			gotErr := ""
			if a.Err() != nil {
				gotErr = a.Err().Error()
			}
			if gotErr != tt.err {
				t.Errorf("err %q, want %q", gotErr, tt.err)
			}
		})
	}
}

// TestArgsPermute: with Permute, options may follow operands; the
// operands come back in order, followed by everything after "--".
func TestArgsPermute(t *testing.T) {
	for _, tc := range []struct {
		args, opts, rest []string
	}{
		{[]string{"dev", "-b", "9600", "-rv", "text"}, []string{"-b=9600", "-r", "-v"}, []string{"dev", "text"}},
		{[]string{"a", "--", "-r", "b"}, nil, []string{"a", "-r", "b"}},
		{[]string{"-", "-r"}, []string{"-r"}, []string{"-"}},
		{[]string{"-r"}, []string{"-r"}, []string{}},
	} {
		a := NewArgs(tc.args)
		a.Permute = true
		var opts []string
		for a.Next() {
			if a.Opt() == "-b" {
				v, _ := a.Value()
				opts = append(opts, "-b="+v)
				continue
			}
			a.Flag()
			opts = append(opts, a.Opt())
		}
		if a.Err() != nil || !reflect.DeepEqual(opts, tc.opts) || len(a.Rest()) != len(tc.rest) || len(tc.rest) > 0 && !reflect.DeepEqual(a.Rest(), tc.rest) {
			t.Errorf("%q: options %q rest %q err %v; want %q %q", tc.args, opts, a.Rest(), a.Err(), tc.opts, tc.rest)
		}
	}
}

func TestIntAndWrap(t *testing.T) {
	a := NewArgs([]string{"-n", "x"})
	a.Next()
	if _, err := a.Int(); err == nil || err.Error() != "option -n: not a number: x" {
		t.Errorf("Int error %v", err)
	}
	base := a.Err()
	w := Wrap("ctx", base)
	if w.Error() != "ctx: option -n: not a number: x" || Wrap("ctx", nil) != nil {
		t.Errorf("Wrap: %v", w)
	}
}

func TestGetenvLastWins(t *testing.T) {
	e := &Env{Environ: []string{"A=1", "AB=2", "A=3"}}
	if e.Getenv("A") != "3" || e.Getenv("AB") != "2" || e.Getenv("B") != "" {
		t.Errorf("Getenv: %q %q %q", e.Getenv("A"), e.Getenv("AB"), e.Getenv("B"))
	}
}
