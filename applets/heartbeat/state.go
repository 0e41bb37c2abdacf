package heartbeat

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"habox/hw/entropy"
)

// loadGeneration reads dir/hb_generation, adds one and writes it back
// synchronously before anything is sent (spec 4.7): 16 bytes, the decimal
// number right-aligned in 15 columns and a LF. A missing file starts at
// time(); a corrupt one at 1. With method "time" nothing is stored.
func loadGeneration(dir, method string, now time.Time) (gen uint64, note string, err error) {
	if method == "time" {
		return uint64(now.Unix()), "", nil
	}
	f := filepath.Join(dir, "hb_generation")
	b, rerr := os.ReadFile(f)
	switch {
	case rerr != nil:
		gen = uint64(now.Unix())
		note = "No Previous generation - starting at " + strconv.FormatUint(gen+1, 10)
	default:
		v, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if perr != nil {
			gen = 0
			note = "BROKEN previous generation - starting at 1"
		} else {
			gen = v
		}
	}
	gen++
	s := strconv.FormatUint(gen, 10)
	if len(s) < 15 {
		s = strings.Repeat(" ", 15-len(s)) + s
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, note, err
	}
	w, err := os.OpenFile(f, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_SYNC, 0o644)
	if err != nil {
		return 0, note, err
	}
	if _, err := w.WriteString(s + "\n"); err != nil {
		w.Close()
		return 0, note, err
	}
	w.Sync()
	return gen, note, w.Close()
}

// loadUUID returns the 16 raw bytes of dir/hb_uuid, generating and storing
// a random one when absent.
func loadUUID(dir string) (u [16]byte, created bool, err error) {
	f := filepath.Join(dir, "hb_uuid")
	if b, err := os.ReadFile(f); err == nil && len(b) == 16 {
		copy(u[:], b)
		return u, false, nil
	}
	if err := entropy.Fill(u[:]); err != nil {
		return u, false, err
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return u, true, err
	}
	return u, true, os.WriteFile(f, u[:], 0o644)
}

// loadAvg is the ld field: the first line of /proc/loadavg, or "n/a".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	return strings.TrimRight(string(b), "\n")
}
