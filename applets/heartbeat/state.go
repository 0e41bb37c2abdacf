package heartbeat

import (
	"os"
	"strings"
)

// loadAvg is the ld field: the first line of /proc/loadavg, or "n/a".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	return strings.TrimRight(string(b), "\n")
}
