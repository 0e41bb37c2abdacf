package lab

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// respawnScript logs "NAME start PID UID" to LOG.$HA_CURHOST, then waits
// (logging "NAME term PID" on SIGTERM) or exits with the code given.
const respawnScript = `#!/bin/sh
log=$1.$HA_CURHOST
echo "$2 start $$ $(id -u)" >>$log
if [ "$3" = wait ]; then
	trap 'echo "$2 term $$" >>$log; exit 0' TERM
	while :; do sleep 0.1; done
fi
exit $3
`

// TestRespawn runs ordinary programs with respawn lines on habox: as the
// user given, restarted when killed, not restarted after exit code 100,
// stopped in reverse order of their lines at shutdown.
func TestRespawn(t *testing.T) {
	requireHB306(t)
	t.Parallel()
	dir, err := os.MkdirTemp("", "habox-respawn-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	script, log := filepath.Join(dir, "client.sh"), filepath.Join(dir, "log")
	if err := os.WriteFile(script, []byte(respawnScript), 0o755); err != nil {
		t.Fatal(err)
	}
	extra := "respawn nobody " + script + " " + log + " a wait\n" +
		"respawn nobody " + script + " " + log + " b wait\n" +
		"respawn nobody " + script + " " + log + " c 100\n"
	l := New(t, Options{Keepalive: 200 * time.Millisecond, Deadtime: 3 * time.Second, ExtraHaCf: extra})
	l.Start()
	n := l.Nodes[0]
	logf := log + "." + n.Name
	read := func() string { b, _ := os.ReadFile(logf); return string(b) }
	waitFor := func(re string) []string {
		t.Helper()
		rx := regexp.MustCompile(re)
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if m := rx.FindStringSubmatch(read()); m != nil {
				return m
			}
		}
		t.Fatalf("no %q in the clients' log:\n%s\n%s", re, read(), l.LogTails(30))
		return nil
	}
	a := waitFor(`a start (\d+) 65534\n`)
	waitFor(`b start \d+ 65534\n`)
	waitFor(`c start \d+ 65534\n`)
	pid, _ := strconv.Atoi(a[1])
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(`a start \d+ 65534\n(.|\n)*a start (\d+) 65534\n`)
	n.WaitLog(`Respawning client "`+regexp.QuoteMeta(script)+` `+regexp.QuoteMeta(log)+` a wait":`, 2*time.Second)
	if c := strings.Count(read(), "c start"); c != 1 {
		t.Errorf("exit 100 client started %d times, want 1", c)
	}
	n.Stop(10 * time.Second)
	out := read()
	ia, ib := strings.LastIndex(out, "a term"), strings.LastIndex(out, "b term")
	if ia < 0 || ib < 0 || ib > ia {
		t.Errorf("want b stopped before a (reverse order of the lines):\n%s", out)
	}
}
