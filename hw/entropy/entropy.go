// Package entropy reads the kernel's cryptographically secure random
// bytes with getrandom(2), without crypto/rand (which links fmt through
// math/big). Reads block only until the kernel's pool is first seeded.
package entropy

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// Reader reads from the kernel's random generator.
var Reader io.Reader = reader{}

type reader struct{}

// Read fills b completely or returns an error.
func (reader) Read(b []byte) (int, error) { return len(b), Fill(b) }

// Unique reads random bytes that need to be unique, not secret (a node
// UUID): it never waits for the kernel's pool to be seeded, which can take
// seconds right after a VM or a router without entropy source boots.
var Unique io.Reader = unique{}

type unique struct{}

// Read fills b completely or returns an error.
func (unique) Read(b []byte) (int, error) { return len(b), fill(b, unix.GRND_INSECURE) }

// Fill fills b with random bytes from getrandom(2), or from /dev/urandom
// on kernels older than 3.17.
func Fill(b []byte) error { return fill(b, 0) }

func fill(b []byte, flags int) error {
	for n := 0; n < len(b); {
		// getrandom returns at most 32 MiB per call; short reads are normal.
		m, err := unix.Getrandom(b[n:], flags)
		switch {
		case err == nil:
			n += m
		case err == unix.EINTR:
		case err == unix.ENOSYS, err == unix.EINVAL && flags != 0:
			// No getrandom (< 3.17), or no GRND_INSECURE (< 5.6):
			// /dev/urandom never blocks.
			return urandom(b[n:])
		default:
			return os.NewSyscallError("getrandom", err)
		}
	}
	return nil
}

func urandom(b []byte) error {
	f, err := os.Open("/dev/urandom")
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.ReadFull(f, b)
	return err
}
