package udp

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"os"
	"strings"
)

// HostsFile is where Resolve looks names up.
const HostsFile = "/etc/hosts"

// ErrNoHost is returned when a name is neither an IPv4 literal nor in the
// hosts file.
var ErrNoHost = errors.New("not an IPv4 address and not found in /etc/hosts (habox does no DNS lookups)")

// Resolve turns a ucast peer as written in ha.cf into an IPv4 address: a
// dotted-quad literal, or the first IPv4 entry naming it in hostsFile
// (HostsFile when empty). There is deliberately no DNS: a cluster must not
// depend on a name server to detect failures.
func Resolve(name, hostsFile string) ([4]byte, error) {
	if a, err := netip.ParseAddr(name); err == nil {
		if a.Is4() {
			return a.As4(), nil
		}
		return [4]byte{}, &os.PathError{Op: "resolve", Path: name, Err: errors.New("not an IPv4 address")}
	}
	if hostsFile == "" {
		hostsFile = HostsFile
	}
	f, err := os.Open(hostsFile)
	if err != nil {
		return [4]byte{}, &os.PathError{Op: "resolve " + name, Path: hostsFile, Err: err}
	}
	defer f.Close()
	if a, ok := lookupHosts(f, name); ok {
		return a, nil
	}
	return [4]byte{}, &os.PathError{Op: "resolve", Path: name, Err: ErrNoHost}
}

// lookupHosts scans hosts-file text for name (case-insensitive).
func lookupHosts(r io.Reader, name string) ([4]byte, bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64*1024)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		a, err := netip.ParseAddr(fields[0])
		if err != nil || !a.Is4() {
			continue
		}
		for _, h := range fields[1:] {
			if strings.EqualFold(h, name) {
				return a.As4(), true
			}
		}
	}
	return [4]byte{}, false
}
