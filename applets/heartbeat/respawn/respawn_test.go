package respawn

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"habox/conf"
)

type fakeProc struct {
	pid  int
	sigs *[]int
}

func (p *fakeProc) Pid() int { return p.pid }
func (p *fakeProc) Signal(sig int) error {
	*p.sigs = append(*p.sigs, p.pid*100+sig)
	return nil
}

func newFake(lines ...string) (*Supervisor, *[]string, *[]int) {
	var started []string
	var sigs []int
	pid := 0
	var rs []conf.Respawn
	for _, l := range lines {
		rs = append(rs, conf.Respawn{User: "nobody", Path: l})
	}
	s := New(rs, func(r conf.Respawn) (Process, error) {
		pid++
		started = append(started, r.Path)
		return &fakeProc{pid: pid, sigs: &sigs}, nil
	})
	return s, &started, &sigs
}

func has(l []Log, s string) bool {
	for _, x := range l {
		if strings.Contains(x.Text, s) {
			return true
		}
	}
	return false
}

func TestRespawnRules(t *testing.T) {
	s, started, _ := newFake("/bin/a", "/bin/b")
	s.Start(0)
	if !reflect.DeepEqual(*started, []string{"/bin/a", "/bin/b"}) || !reflect.DeepEqual(s.Running(), []int{1, 2}) {
		t.Fatalf("started %v running %v", *started, s.Running())
	}
	// Exit 100: not restarted.
	if l := s.Exited(1, 100, 0, time.Minute); has(l, "Respawning") || len(*started) != 2 {
		t.Errorf("exit 100 restarted: %v", l)
	}
	// b dies after a long run: restarted, with 3.0.6's line.
	if l := s.Exited(2, 1, 0, time.Minute); !has(l, `Respawning client "/bin/b":`) || len(*started) != 3 {
		t.Errorf("exit 1 after a long run: %v", l)
	}
	// Short runs: the 11th in a row is "respawning too fast".
	now := time.Minute
	for i := 1; i <= MaxShortRuns; i++ {
		pid := s.Running()[0]
		now += time.Second
		if l := s.Exited(pid, 1, 0, now); !has(l, "Respawning client") {
			t.Fatalf("short run %d not restarted: %v", i, l)
		}
	}
	pid := s.Running()[0]
	if l := s.Exited(pid, -1, 9, now+time.Second); !has(l, `Client /bin/b "respawning too fast"`) || !has(l, "killed by signal 9") || len(s.Running()) != 0 {
		t.Errorf("11th short run: %v running %v", l, s.Running())
	}
	if s.Exited(pid, 0, 0, now) != nil {
		t.Error("unknown pid: want nothing")
	}
}

func TestRespawnLongRunResetsShortCount(t *testing.T) {
	s, _, _ := newFake("/bin/a")
	s.Start(0)
	now := time.Duration(0)
	for i := 0; i < 3*MaxShortRuns; i++ {
		now += time.Second
		if i%MaxShortRuns == MaxShortRuns-1 {
			now += ShortRun // a long run now and then
		}
		if l := s.Exited(s.Running()[0], 1, 0, now); !has(l, "Respawning client") {
			t.Fatalf("run %d: %v", i, l)
		}
	}
}

func TestRespawnStopReverseOrder(t *testing.T) {
	s, started, sigs := newFake("/bin/a", "/bin/b", "/bin/c")
	s.Start(0)
	var pids []int
	for _, p := range s.Stop() {
		pids = append(pids, p.Pid())
	}
	if !reflect.DeepEqual(pids, []int{3, 2, 1}) || len(*sigs) != 0 {
		t.Errorf("Stop = %v, signals %v", pids, *sigs)
	}
	if l := s.Exited(2, 0, 0, time.Minute); has(l, "Respawning") || len(*started) != 3 {
		t.Errorf("restarted while stopping: %v", l)
	}
	if s.Start(time.Minute) != nil {
		t.Error("Start while stopping")
	}
}
