// Package initramfs builds Linux initramfs images: cpio archives in the
// "newc" format, gzip-compressed, without any external tool. Entries are
// written sorted, owned by root, with mtime 0, so an image is reproducible.
//
// It is a build tool (used by vm/mkinitramfs and vm/vmtest), never linked
// into habox.
package initramfs

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Entry is one archive member.
type Entry struct {
	Name     string // path without leading "/"
	Mode     uint32 // file type and permission bits (S_IFREG|0644, ...)
	Data     []byte // file content, or the symlink target
	Src      string // file content from this path, when Data is nil
	RdevMaj  uint32 // device numbers for character/block devices
	RdevMin  uint32
	origName string
}

// File type bits of cpio modes.
const (
	TypeDir  = 0o040000
	TypeReg  = 0o100000
	TypeLink = 0o120000
	TypeChar = 0o020000
)

// Archive is a set of entries keyed by path; later additions replace
// earlier ones. Parent directories are added automatically.
type Archive struct {
	entries map[string]*Entry
}

// New returns an empty archive.
func New() *Archive { return &Archive{entries: map[string]*Entry{}} }

func clean(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

func (a *Archive) add(e *Entry) {
	e.Name = clean(e.Name)
	if e.Name == "" {
		return
	}
	for d := path.Dir(e.Name); d != "." && d != "/"; d = path.Dir(d) {
		if _, ok := a.entries[d]; !ok {
			a.entries[d] = &Entry{Name: d, Mode: TypeDir | 0o755}
		}
	}
	a.entries[e.Name] = e
}

// Dir adds a directory.
func (a *Archive) Dir(name string, perm uint32) { a.add(&Entry{Name: name, Mode: TypeDir | perm}) }

// Bytes adds a regular file with the given content.
func (a *Archive) Bytes(name string, perm uint32, data []byte) {
	a.add(&Entry{Name: name, Mode: TypeReg | perm, Data: data})
}

// File adds the regular file src as name, with src's permissions (perm
// overrides them when not 0).
func (a *Archive) File(name, src string, perm uint32) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", src)
	}
	if perm == 0 {
		perm = uint32(fi.Mode().Perm())
	}
	a.add(&Entry{Name: name, Mode: TypeReg | perm, Src: src})
	return nil
}

// Symlink adds a symbolic link name -> target.
func (a *Archive) Symlink(name, target string) {
	a.add(&Entry{Name: name, Mode: TypeLink | 0o777, Data: []byte(target)})
}

// CharDev adds a character device node.
func (a *Archive) CharDev(name string, perm, major, minor uint32) {
	a.add(&Entry{Name: name, Mode: TypeChar | perm, RdevMaj: major, RdevMin: minor})
}

// Tree adds the directory tree src under name: directories, regular files
// (permissions kept) and symlinks.
func (a *Archive) Tree(name, src string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := path.Join(name, filepath.ToSlash(rel))
		switch {
		case fi.IsDir():
			a.Dir(dst, uint32(fi.Mode().Perm()))
		case fi.Mode()&os.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			a.Symlink(dst, t)
		case fi.Mode().IsRegular():
			return a.File(dst, p, 0)
		default:
			return fmt.Errorf("%s: unsupported file type %v", p, fi.Mode().Type())
		}
		return nil
	})
}

// Has reports whether name is in the archive.
func (a *Archive) Has(name string) bool { _, ok := a.entries[clean(name)]; return ok }

// Names returns the archive's paths, sorted.
func (a *Archive) Names() []string {
	names := make([]string, 0, len(a.entries))
	for n := range a.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// WriteCpio writes the archive in cpio newc format (uncompressed).
func (a *Archive) WriteCpio(w io.Writer) error {
	bw := bufio.NewWriter(w)
	ino := uint32(1)
	for _, n := range a.Names() {
		e := a.entries[n]
		data := e.Data
		if data == nil && e.Src != "" {
			var err error
			if data, err = os.ReadFile(e.Src); err != nil {
				return err
			}
		}
		if err := writeEntry(bw, ino, e.Mode, 1, data, e.RdevMaj, e.RdevMin, n); err != nil {
			return err
		}
		ino++
	}
	if err := writeEntry(bw, 0, 0, 1, nil, 0, 0, "TRAILER!!!"); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteGzip writes the gzip-compressed cpio archive, as the kernel and
// bootloaders take it.
func (a *Archive) WriteGzip(w io.Writer) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if err := a.WriteCpio(zw); err != nil {
		return err
	}
	return zw.Close()
}

func pad4(w io.Writer, n int) error {
	if r := n % 4; r != 0 {
		_, err := w.Write(make([]byte, 4-r))
		return err
	}
	return nil
}

func writeEntry(w io.Writer, ino, mode, nlink uint32, data []byte, rmaj, rmin uint32, name string) error {
	nlinkDir := nlink
	if mode&0o170000 == TypeDir {
		nlinkDir = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlinkDir, 0, len(data), 0, 0, rmaj, rmin, len(name)+1, 0)
	if _, err := io.WriteString(w, hdr+name+"\x00"); err != nil {
		return err
	}
	if err := pad4(w, len(hdr)+len(name)+1); err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	return pad4(w, len(data))
}
