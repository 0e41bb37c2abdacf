package mkwatchdog

import (
	"strconv"
	"strings"
)

// WatchdogMinor is the misc minor the first watchdog driver registers
// (WATCHDOG_MINOR in linux/miscdevice.h).
const WatchdogMinor = 130

// miscMajor returns the major of the "misc" character device class from
// /proc/devices text, and whether it is there.
func miscMajor(devices string) (int, bool) {
	inChar := false
	for _, line := range strings.Split(devices, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case strings.HasSuffix(line, ":"):
			inChar = line == "Character devices:"
			continue
		}
		if !inChar {
			continue
		}
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == "misc" {
			if n, err := strconv.Atoi(f[0]); err == nil && n >= 0 && n < 1<<12 {
				return n, true
			}
		}
	}
	return 0, false
}

// miscMinor returns the minor registered under name in /proc/misc text
// ("130 watchdog" lines), and whether it is there.
func miscMinor(misc, name string) (int, bool) {
	for _, line := range strings.Split(misc, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == name {
			if n, err := strconv.Atoi(f[0]); err == nil && n >= 0 && n < 1<<20 {
				return n, true
			}
		}
	}
	return 0, false
}
