package wire

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"habox/applets/internal/hblog"
	"habox/hw/entropy"
	"habox/hw/safefile"
)

// DefaultStateDir is where heartbeat keeps hb_generation and hb_uuid.
const DefaultStateDir = "/var/lib/heartbeat"

// State file names in the state directory.
const (
	GenerationFile = "hb_generation"
	UUIDFile       = "hb_uuid"
)

// genLen is the size of hb_generation: 15 columns and a LF.
const genLen = 16

// NextGeneration reads dir/hb_generation, adds one, and writes the new value
// back durably (temporary file opened O_SYNC, fsync, rename, fsync of the
// directory) before returning it, so it must be called before anything is
// sent. Missing or unreadable file: the base is now's Unix time (warning
// "No Previous generation - starting at N"); present but unparsable: the
// generation is 1 ("BROKEN previous generation - starting at 1"). The
// caller logs "Heartbeat generation: N". dir "" means DefaultStateDir.
func NextGeneration(dir string, now time.Time) (uint64, []LogLine, error) {
	gen, logs := PeekGeneration(dir, now)
	if err := SaveGeneration(dir, gen); err != nil {
		return 0, logs, err
	}
	return gen, logs, nil
}

// PeekGeneration is NextGeneration without the write: the caller must
// SaveGeneration the value (and wait for it) before anything carries it.
// The daemon writes it while its media and sockets open.
func PeekGeneration(dir string, now time.Time) (uint64, []LogLine) {
	if dir == "" {
		dir = DefaultStateDir
	}
	path := filepath.Join(dir, GenerationFile)
	var logs []LogLine
	var gen uint64
	b, err := readSmall(path, genLen)
	switch {
	case err != nil || len(b) == 0:
		gen = uint64(max(now.Unix(), 0)) + 1
		logs = append(logs, LogLine{hblog.Warning, "No Previous generation - starting at " + u10(gen)})
	default:
		old, ok := parseGeneration(b)
		if ok {
			gen = old + 1
		} else {
			gen = 1
			logs = append(logs, LogLine{hblog.Warning, "BROKEN previous generation - starting at " + u10(gen)})
		}
	}
	return gen, logs
}

// SaveGeneration writes gen to dir/hb_generation durably, as
// NextGeneration does; used when the generation is raised while running
// (Engine.SetGeneration), before anything carries it.
func SaveGeneration(dir string, gen uint64) error {
	if dir == "" {
		dir = DefaultStateDir
	}
	path, data := filepath.Join(dir, GenerationFile), FormatGeneration(gen)
	// The usual case (the file is there, 16 bytes): rewritten in place
	// with one fdatasync, the cheapest durable write (start-up waits for
	// it before the first heartbeat).
	if ok, err := safefile.Overwrite(path, data); ok {
		return err
	}
	return WriteFileAtomic(path, data, 0o644)
}

// FormatGeneration returns the 16-byte hb_generation content for gen: the
// decimal number right-aligned in 15 columns, then LF.
func FormatGeneration(gen uint64) []byte {
	d := strconv.FormatUint(gen, 10)
	b := make([]byte, 0, genLen)
	for i := len(d); i < genLen-1; i++ {
		b = append(b, ' ')
	}
	b = append(b, d...)
	return append(b, '\n')
}

// parseGeneration reads a number like sscanf("%lu"): leading blanks, then
// decimal digits; anything after them is ignored.
func parseGeneration(b []byte) (uint64, bool) {
	p := 0
	for p < len(b) && isSpace(b[p]) {
		p++
	}
	q := p
	for q < len(b) && b[q] >= '0' && b[q] <= '9' {
		q++
	}
	return parseDec(b[p:q])
}

// TimeGeneration is the generation for "hbgenmethod time": the Unix time,
// nothing stored.
func TimeGeneration(now time.Time) uint64 { return uint64(max(now.Unix(), 0)) }

// LoadUUID returns the node UUID from dir/hb_uuid (exactly 16 raw bytes).
// When the file is missing or not 16 bytes long, a random UUID is drawn
// from rnd (nil: entropy.Unique, the kernel's generator), written atomically, and the info line "No
// uuid found for current node - generating a new uuid." is returned.
func LoadUUID(dir string, rnd io.Reader) ([16]byte, []LogLine, error) {
	if dir == "" {
		dir = DefaultStateDir
	}
	var u [16]byte
	path := filepath.Join(dir, UUIDFile)
	if b, err := readSmall(path, 17); err == nil && len(b) == 16 {
		copy(u[:], b)
		return u, nil, nil
	}
	logs := []LogLine{{hblog.InfoPri, "No uuid found for current node - generating a new uuid."}}
	if rnd == nil {
		rnd = entropy.Unique
	}
	if _, err := io.ReadFull(rnd, u[:]); err != nil {
		return u, logs, &os.PathError{Op: "generate uuid", Path: path, Err: err}
	}
	// A version-4 style UUID, as uuid_generate() gives.
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u, logs, WriteFileAtomic(path, u[:], 0o644)
}

// readSmall reads at most n bytes of path, never through a symlink.
func readSmall(path string, n int) ([]byte, error) {
	return safefile.ReadFile(path, int64(n))
}

// WriteFileAtomic replaces path with data so that a crash leaves either the
// old or the new content (safefile.Replace: an exclusively created random
// temporary file, fsynced, renamed over path, directory fsynced; nothing
// planted in the directory is followed). The directory is created if
// missing.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return safefile.Replace(path, data, perm)
}
