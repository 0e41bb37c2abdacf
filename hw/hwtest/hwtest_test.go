package hwtest

import (
	"strings"
	"testing"
)

// recorder is a testing.TB that records Fatal and Skip instead of ending
// the test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()               {}
func (r *recorder) Fatal(a ...any)        { r.fatal = a[0].(string) }
func (r *recorder) Skip(a ...any)         { r.skip = a[0].(string) }
func (r *recorder) Fatalf(string, ...any) { panic("unexpected") }

// TestMissing: a missing prerequisite skips, except under CI=true, where
// it fails; RequireFile calls it only for a path that is not there.
func TestMissing(t *testing.T) {
	for _, ci := range []string{"", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			r := &recorder{TB: t}
			RequireFile(r, "/nonexistent/habox-prereq", "the prerequisite")
			got := r.skip
			if ci == "true" {
				got = r.fatal
				if r.skip != "" {
					t.Errorf("skipped under CI=true: %q", r.skip)
				}
			} else if r.fatal != "" {
				t.Errorf("failed without CI: %q", r.fatal)
			}
			if !strings.Contains(got, "the prerequisite missing") {
				t.Errorf("message %q does not name what is missing", got)
			}
			r = &recorder{TB: t}
			RequireFile(r, "/", "root")
			if r.skip != "" || r.fatal != "" {
				t.Errorf("present path: skip %q fatal %q", r.skip, r.fatal)
			}
		})
	}
}
