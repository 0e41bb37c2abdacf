package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// vm is one qemu guest.
type vm struct {
	n      int
	name   string
	work   string
	ns     string
	kernel string
	image  string
	mac    string // eth0, on the service segment
	peer   *vm
	cmd    *exec.Cmd
	con    *console
	exited chan struct{}
	// extra qemu arguments (e.g. -rtc base=2000-01-01); boots counts
	// starts (console log per boot).
	extra []string
	boots int
	// ips is habox.ip for the kernel command line ("" = eth0 and eth1).
	ips string

	ctlMu sync.Mutex
	ctlC  net.Conn
	ctlR  *bufio.Reader
}

var byIndex = map[int]*vm{}

func newVM(n int, work, ns, kernel, image string) *vm {
	v := &vm{n: n, name: "node" + strconv.Itoa(n), work: work, ns: ns, kernel: kernel, image: image,
		mac: fmt.Sprintf("52:54:00:00:00:%02x", n), exited: make(chan struct{})}
	byIndex[n] = v
	if p := byIndex[3-n]; p != nil {
		v.peer, p.peer = p, v
	}
	return v
}

// dir returns a path in the work directory; the serial line's socket is
// shared, the rest is per VM.
func (v *vm) dir(name string) string {
	if name == "serial.sock" {
		return filepath.Join(v.work, name)
	}
	return filepath.Join(v.work, v.name+"."+name)
}

func (v *vm) start() error {
	me, peer := hbPort1, hbPort2
	if v.n == 2 {
		me, peer = hbPort2, hbPort1
	}
	serial := "socket,id=hbser,path=" + v.dir("serial.sock")
	if v.n == 1 {
		serial += ",server=on,wait=off"
	} else {
		serial += ",server=off,reconnect=1"
	}
	v.boots++
	v.exited = make(chan struct{})
	v.ctlMu.Lock()
	if v.ctlC != nil {
		v.ctlC.Close()
		v.ctlC = nil
	}
	v.ctlMu.Unlock()
	ips := v.ips
	if ips == "" {
		ips = fmt.Sprintf("eth0:10.77.0.%d/24,eth1:10.78.0.%d/24", v.n, v.n)
	}
	args := []string{"netns", "exec", v.ns, "qemu-system-x86_64",
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-m", "192", "-smp", "1",
		"-kernel", v.kernel, "-initrd", v.image,
		"-append", "console=ttyS0 quiet panic=-1 habox.node=" + v.name + " habox.ip=" + ips + " habox.ctl=" + ctlDev,
		// ttyS0: console on stdout; ttyS1: the heartbeat serial line; ttyS2: commands.
		"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
		"-chardev", serial, "-serial", "chardev:hbser",
		"-chardev", "socket,id=ctl,path=" + v.dir("ctl.sock") + ",server=on,wait=off", "-serial", "chardev:ctl",
		"-monitor", "unix:" + v.dir("monitor.sock") + ",server=on,wait=off",
		// eth0: service segment (tap on the client's bridge); eth1: heartbeat link.
		"-netdev", "tap,id=svc,ifname=tap" + strconv.Itoa(v.n) + ",script=no,downscript=no",
		"-device", "virtio-net-pci,netdev=svc,mac=" + v.mac + ",romfile=",
		"-netdev", fmt.Sprintf("socket,id=hb,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d", peer, me),
		"-device", fmt.Sprintf("virtio-net-pci,netdev=hb,mac=52:54:00:01:00:%02x,romfile=", v.n),
		"-device", "i6300esb", "-watchdog-action", "reset",
	}
	args = append(args, v.extra...)
	v.cmd = exec.Command("ip", args...)
	v.cmd.Stdin = nil
	name := "console.log"
	if v.boots > 1 {
		name = "console" + strconv.Itoa(v.boots) + ".log"
	}
	logFile, err := os.Create(v.dir(name))
	if err != nil {
		return err
	}
	v.con = newConsole(v.name, logFile)
	v.cmd.Stdout = v.con
	v.cmd.Stderr = v.con
	if err := v.cmd.Start(); err != nil {
		return err
	}
	cmd, exited := v.cmd, v.exited
	go func() {
		cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	return nil
}

// ctl runs one command through habox init's command channel and returns
// its output and exit code (-1 when the channel failed).
func (v *vm) ctl(command string) (string, int) {
	v.ctlMu.Lock()
	defer v.ctlMu.Unlock()
	if v.ctlC == nil {
		c, err := net.Dial("unix", v.dir("ctl.sock"))
		if err != nil {
			return err.Error(), -1
		}
		v.ctlC, v.ctlR = c, bufio.NewReader(c)
	}
	v.ctlC.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.WriteString(v.ctlC, command+"\n"); err != nil {
		return err.Error(), -1
	}
	var out strings.Builder
	for {
		line, err := v.ctlR.ReadString('\n')
		if err != nil {
			return out.String() + err.Error(), -1
		}
		if rc, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "@@rc "); ok {
			n, _ := strconv.Atoi(rc)
			if *verbose {
				logf("%s$ %s -> %d\n%s", v.name, command, n, out.String())
			}
			return out.String(), n
		}
		out.WriteString(line)
	}
}

// quit ends the VM at once through the qemu monitor, like pulling the plug.
func (v *vm) quit() error {
	c, err := net.Dial("unix", v.dir("monitor.sock"))
	if err != nil {
		return err
	}
	defer c.Close()
	io.WriteString(c, "quit\n")
	select {
	case <-v.exited:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("qemu did not quit")
	}
}

func (v *vm) stop() {
	if v.cmd == nil || v.cmd.Process == nil {
		return
	}
	select {
	case <-v.exited:
		return
	default:
	}
	v.cmd.Process.Kill()
	// ip netns exec execs qemu, so the pid is qemu's.
	select {
	case <-v.exited:
	case <-time.After(5 * time.Second):
	}
}

func (v *vm) dumpTail(n int) {
	if v.con == nil {
		return
	}
	lines := v.con.all()
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	fmt.Printf("---- %s console (last %d lines) ----\n", v.name, len(lines))
	for _, l := range lines {
		fmt.Println("  " + l)
	}
}

// console collects a VM's console lines (and writes them to a log file).
type console struct {
	name  string
	mu    sync.Mutex
	cond  *sync.Cond
	lines []string
	part  []byte
	log   io.Writer
}

func newConsole(name string, log io.Writer) *console {
	c := &console{name: name, log: log}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *console) Write(p []byte) (int, error) {
	c.log.Write(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.part = append(c.part, p...)
	for {
		i := strings.IndexByte(string(c.part), '\n')
		if i < 0 {
			break
		}
		l := strings.TrimRight(string(c.part[:i]), "\r")
		c.part = c.part[i+1:]
		c.lines = append(c.lines, l)
		if *verbose {
			fmt.Printf("%s| %s\n", c.name, l)
		}
	}
	c.cond.Broadcast()
	return len(p), nil
}

func (c *console) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

func (c *console) has(s string) bool {
	for _, l := range c.all() {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// waitFor waits for a console line containing s.
func (c *console) waitFor(s string, d time.Duration) (string, error) {
	end := time.Now().Add(d)
	for {
		for _, l := range c.all() {
			if strings.Contains(l, s) {
				return l, nil
			}
		}
		if time.Now().After(end) {
			return "", fmt.Errorf("no %q on the console within %v", s, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
