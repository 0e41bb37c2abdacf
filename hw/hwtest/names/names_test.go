package names

import (
	"strings"
	"testing"
)

func TestUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range []string{"a", "habox-long-prefix", "a", ""} {
		n := Unique(p)
		if len(n) > 15 || seen[n] {
			t.Errorf("Unique(%q) = %q: too long or repeated", p, n)
		}
		if len(p) < 5 && !strings.HasPrefix(n, p) {
			t.Errorf("Unique(%q) = %q lost its prefix", p, n)
		}
		seen[n] = true
	}
}
