package serial

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Process is a process that has a device open.
type Process struct {
	PID  int
	Comm string // its command name (/proc/PID/comm)
}

// Users returns the other processes that have the character device dev
// open (found through /proc/*/fd, like fuser). heartbeat 3.0.6 removes its
// UUCP lock right after opening its serial port, so this is how a running
// heartbeat is recognised. Processes whose descriptors cannot be read
// (another user's, without root) are not reported.
func Users(dev string) ([]Process, error) {
	fi, err := os.Stat(dev)
	if err != nil {
		return nil, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || fi.Mode()&os.ModeCharDevice == 0 {
		return nil, &os.PathError{Op: "users", Path: dev, Err: ErrNotTTY}
	}
	rdev := st.Rdev
	// Only terminals: /dev/null and friends are open everywhere. Probing
	// changes nothing (no settings, not the controlling terminal).
	fd, err := unix.Open(dev, unix.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dev, Err: err}
	}
	_, err = unix.IoctlGetTermios(fd, unix.TCGETS)
	unix.Close(fd)
	if err != nil {
		return nil, &os.PathError{Op: "users", Path: dev, Err: ErrNotTTY}
	}
	procs, err := dirNames("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var users []Process
	for _, p := range procs {
		pid, err := strconv.Atoi(p)
		if err != nil || pid == self {
			continue
		}
		fdDir := "/proc/" + p + "/fd/"
		fds, err := dirNames(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			fi, err := os.Stat(fdDir + fd)
			if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
				continue
			}
			if s, ok := fi.Sys().(*syscall.Stat_t); ok && s.Rdev == rdev {
				comm, _ := os.ReadFile("/proc/" + p + "/comm")
				users = append(users, Process{PID: pid, Comm: strings.TrimSpace(string(comm))})
				break
			}
		}
	}
	return users, nil
}

// dirNames lists the names in directory dir in the kernel's order
// (os.ReadDir's sort of DirEntry costs ~16 KB of the binary).
func dirNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}
