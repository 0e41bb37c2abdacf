// Package devnode creates device nodes and reads their device numbers.
package devnode

import (
	"os"

	"golang.org/x/sys/unix"
)

// Kind is the file type of a path.
type Kind int

// The kinds Stat reports.
const (
	Other   Kind = iota // directory, FIFO, socket, symlink target of another type...
	Char                // character device
	Block               // block device
	Regular             // regular file
)

// String names the kind as ls -l would describe it.
func (k Kind) String() string {
	switch k {
	case Char:
		return "character device"
	case Block:
		return "block device"
	case Regular:
		return "regular file"
	}
	return "not a device"
}

// Node describes an existing path.
type Node struct {
	Kind         Kind
	Major, Minor uint32
	Perm         os.FileMode // permission bits
}

// Stat describes path, following symlinks as open(2) would.
func Stat(path string) (Node, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Node{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	n := Node{Perm: os.FileMode(st.Mode & 0777)}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		n.Kind = Char
	case unix.S_IFBLK:
		n.Kind = Block
	case unix.S_IFREG:
		n.Kind = Regular
	}
	if n.Kind == Char || n.Kind == Block {
		n.Major, n.Minor = unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)) // Rdev is uint32 on mips
	}
	return n, nil
}

// MknodChar creates a character device node with exactly the permission
// bits perm (the umask does not apply: the mode is set again after mknod).
func MknodChar(path string, perm os.FileMode, major, minor uint32) error {
	dev := int(unix.Mkdev(major, minor))
	if err := unix.Mknod(path, unix.S_IFCHR|uint32(perm&0777), dev); err != nil {
		return &os.PathError{Op: "mknod", Path: path, Err: err}
	}
	if err := unix.Chmod(path, uint32(perm&0777)); err != nil {
		return &os.PathError{Op: "chmod", Path: path, Err: err}
	}
	return nil
}
