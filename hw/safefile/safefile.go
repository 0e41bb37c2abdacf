// Package safefile creates and opens files in directories that other users
// may write to (/var/lock, /tmp, a misconfigured state or log directory)
// without following a link planted there: every file is created exclusively
// (O_CREAT|O_EXCL|O_NOFOLLOW) under a random name and then linked or renamed
// into place, and existing files are opened with O_NOFOLLOW and must be
// regular files.
package safefile

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// ErrNotRegular is returned for a path that is not a regular file (a FIFO
// or device planted where a file was expected).
var ErrNotRegular = errors.New("not a regular file")

// Create creates path exclusively: an existing file, symlink or anything
// else at path is an error (EEXIST), never followed or truncated.
func Create(path string, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
}

// CreateTemp creates a new file in dir named prefix plus up to 16 random
// hex digits (math/rand/v2's ChaCha8, seeded by the runtime), exclusively:
// nobody can predict the name, and a name planted anyway is never opened.
func CreateTemp(dir, prefix string, perm os.FileMode) (*os.File, error) {
	for try := 0; ; try++ {
		f, err := Create(filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 16)), perm)
		if err == nil || !errors.Is(err, os.ErrExist) || try == 9 {
			return f, err
		}
	}
}

// WriteTemp writes data to a new CreateTemp file, fsynced when sync is set,
// and returns its path; the caller links or renames it into place.
func WriteTemp(dir, prefix string, data []byte, perm os.FileMode, sync bool) (string, error) {
	f, err := CreateTemp(dir, prefix, perm)
	if err != nil {
		return "", err
	}
	// The mode is subject to the umask; set it exactly, on the descriptor.
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Replace atomically replaces path with data: a random temporary file in the
// same directory is written and fsynced, renamed over path (rename replaces
// a symlink at path, it never writes through it), and the directory is
// fsynced, so a crash leaves the old or the new content.
func Replace(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := WriteTemp(dir, "."+filepath.Base(path)+".", data, perm, true)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs the directory dir, so a rename or link done in it
// survives a crash. A directory that cannot be opened is not an error (the
// rename itself succeeded); a failing fsync is.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	err = d.Sync()
	d.Close()
	if err != nil {
		return &os.PathError{Op: "fsync", Path: dir, Err: err}
	}
	return nil
}

// Overwrite writes data durably over the start of an existing regular
// file of exactly len(data) bytes (no symlink followed): one write at
// offset 0 and fdatasync, a single flush where Replace needs two (file
// and directory) and a journal commit. Meant for a small record that fits
// in one disk sector, whose write the device does whole or not at all.
// ok is false, with nothing written, when the file is missing or of
// another size: the caller falls back to Replace.
func Overwrite(path string, data []byte) (ok bool, err error) {
	f, err := openRegular(path, os.O_WRONLY, 0)
	if err != nil {
		return false, nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() != int64(len(data)) || len(data) > 512 {
		return false, nil
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return true, err
	}
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return true, &os.PathError{Op: "fdatasync", Path: path, Err: err}
	}
	return true, nil
}

// OpenAppend opens path for appending, creating it with perm when missing.
// A symlink at path is refused (ELOOP), so is anything but a regular file
// (a FIFO would block the writer; it is opened non-blocking to find out).
func OpenAppend(path string, perm os.FileMode) (*os.File, error) {
	return openRegular(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, perm)
}

// OpenLock opens (creating when missing) a file meant for flock(2),
// read-write, refusing symlinks and non-regular files.
func OpenLock(path string, perm os.FileMode) (*os.File, error) {
	return openRegular(path, os.O_RDWR|os.O_CREATE, perm)
}

// Open opens path read-only without following a symlink at its last
// component; it must be a regular file.
func Open(path string) (*os.File, error) {
	return openRegular(path, os.O_RDONLY, 0)
}

// AppendExisting opens an existing regular file for appending, without
// following a symlink at its last component and without creating it.
func AppendExisting(path string) (*os.File, error) {
	return openRegular(path, os.O_WRONLY|os.O_APPEND, 0)
}

// ReadFile reads at most max bytes of path, opened as Open does.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}

func openRegular(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &os.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// EnsureDir creates dir (and its parents, 0755) when missing and gives the
// new directory exactly mode (e.g. 01777 for a lock directory, whatever
// the umask). It reports whether it created a directory. An existing dir
// is left as it is. A symlink is the system's choice and is kept: when it
// dangles (Debian's /var/lock -> /run/lock before /run/lock exists), its
// target is created instead.
func EnsureDir(dir string, mode os.FileMode) (created bool, err error) {
	for hops := 0; hops < 8; hops++ {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return false, &os.PathError{Op: "mkdir", Path: dir, Err: unix.ENOTDIR}
			}
			return false, nil
		}
		target, lerr := os.Readlink(dir)
		if lerr != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(dir), target)
		}
		dir = target
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return false, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, os.Chmod(dir, mode)
}
