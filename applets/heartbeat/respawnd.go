package heartbeat

import (
	"os"
	"strconv"
	"syscall"
	"time"

	"habox/applets/heartbeat/respawn"
	"habox/conf"
)

// respawnStopWait bounds how long shutdown waits for respawn clients to
// exit after SIGTERM before it kills them.
const respawnStopWait = 5 * time.Second

// childProc is a started respawn client.
type childProc struct {
	p    *os.Process
	done chan struct{} // closed when reaped
}

func (c *childProc) Pid() int             { return c.p.Pid }
func (c *childProc) Signal(sig int) error { return c.p.Signal(syscall.Signal(sig)) }

// startRespawn starts a respawn line's program as its user, in its own
// session, with the scripts' environment and /dev/null as stdio; its exit
// is reported to the event loop.
func (d *daemon) startRespawn(r conf.Respawn) (respawn.Process, error) {
	u, ok := conf.LookupUser(conf.PasswdFile, r.User)
	if !ok {
		return nil, &os.PathError{Op: "respawn", Path: r.User, Err: os.ErrNotExist}
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	cred := &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), NoSetGroups: os.Getuid() != 0}
	p, err := os.StartProcess(r.Path, append([]string{r.Path}, r.Args...), &os.ProcAttr{Dir: "/",
		Env: d.runner.Env, Files: []*os.File{null, null, null},
		Sys: &syscall.SysProcAttr{Setsid: true, Credential: cred}})
	if err != nil {
		return nil, err
	}
	c := &childProc{p: p, done: make(chan struct{})}
	d.children = append(d.children, c)
	go func() {
		st, _ := p.Wait()
		close(c.done)
		code, sig := -1, 0
		if ws, ok := st.Sys().(syscall.WaitStatus); ok {
			if ws.Signaled() {
				sig = int(ws.Signal())
			} else {
				code = ws.ExitStatus()
			}
		}
		select {
		case d.reqs <- func() { d.respawnExited(c, code, sig) }:
		case <-d.stopped:
		}
	}()
	return c, nil
}

func (d *daemon) respawnExited(c *childProc, code, sig int) {
	for i, x := range d.children {
		if x == c {
			d.children = append(d.children[:i], d.children[i+1:]...)
			break
		}
	}
	for _, l := range d.respawns.Exited(c.p.Pid, code, sig, d.now()) {
		d.logAt(l.Level, l.Text)
	}
}

// startRespawns starts the respawn clients (at comm-up).
func (d *daemon) startRespawns() {
	if d.respawns == nil {
		return
	}
	for _, l := range d.respawns.Start(d.now()) {
		d.logAt(l.Level, l.Text)
	}
}

// stopRespawns sends SIGTERM to the respawn clients in reverse order of
// their lines, each waited for (all within respawnStopWait) before the
// next; what is left then is killed.
func (d *daemon) stopRespawns() {
	if d.respawns == nil {
		return
	}
	end := time.Now().Add(respawnStopWait)
	for _, p := range d.respawns.Stop() {
		c := p.(*childProc)
		c.Signal(int(syscall.SIGTERM))
		select {
		case <-c.done:
		case <-time.After(time.Until(end)):
			d.log.Warn("respawn client " + strconv.Itoa(c.p.Pid) + " still runs " + respawnStopWait.String() + " after SIGTERM: killing it")
			c.p.Kill()
		}
	}
	d.children = nil
}
