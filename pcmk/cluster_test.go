package pcmk

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"habox/hw/hwtest"
	"habox/hw/netif"
	hblab "habox/lab"
)

// cluster is N Pacemaker nodes (10.99.0.N/24, hostname nodeN) and a client
// (10.99.0.100) on one bridge. Each node is a network namespace in which a
// holder process owns fresh PID, mount and UTS namespaces: /run and
// /dev/shm are tmpfs, the Corosync and Pacemaker state directories are
// bind-mounted from dir/nodeN, and the OCF agents directory is replaced by
// one holding habox's agents next to resource-agents' heartbeat ones.
// Killing the holder (PID 1 of the node) kills every daemon of the node.
type cluster struct {
	t      *testing.T
	name   string
	dir    string
	br     *hwtest.Netns
	client *hwtest.Netns
	nodes  []*node
}

type node struct {
	id    int
	name  string
	ns    *hwtest.Netns
	port  string // bridge-side veth
	dir   string
	init  int // host pid of the node's PID 1 (the holder)
	procs []*exec.Cmd
	dead  bool
}

var clusterSeq int

func requireCluster(t *testing.T) {
	t.Helper()
	hwtest.RequireRoot(t)
	for _, c := range []string{"ip", "unshare", "nsenter", "corosync", "corosync-cfgtool", "pacemakerd", "cibadmin", "crm_mon", "ping"} {
		hwtest.RequireCmd(t, c)
	}
	for _, a := range []string{"IPaddr2"} {
		hwtest.RequireFile(t, "/usr/lib/ocf/resource.d/heartbeat/"+a, "resource-agents")
	}
}

// holderScript prepares a node's namespaces and then stays as its PID 1,
// reaping orphans. $1 node dir, $2 hostname, $3 agents dir.
const holderScript = `set -e
D=$1
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -m 1755 /run/lock /run/resource-agents
mkdir -m 0750 /run/crm
chown hacluster:haclient /run/crm
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount --bind $D/etc-corosync /etc/corosync
mount --bind $D/lib-corosync /var/lib/corosync
mount --bind $D/log-corosync /var/log/corosync
for x in cib pengine blackbox cores; do mount --bind $D/$x /var/lib/pacemaker/$x; done
mount --bind $D/log-pacemaker /var/log/pacemaker
mount --bind $D/hosts /etc/hosts
if [ -d $D/init.d ]; then mount --bind $D/init.d /etc/init.d; fi
mount --bind /usr/lib/ocf/resource.d/heartbeat $3/heartbeat
mount --rbind $3 /usr/lib/ocf/resource.d
hostname $2
touch $D/ready
while :; do sleep 1; done
`

// lsbScripts, when set before newCluster, are installed as the nodes'
// /etc/init.d (name -> script text).
var lsbScripts map[string]string

// newCluster builds n nodes whose CIB starts with the given resources
// (XML inside <resources>) and constraints, and starts Corosync and
// Pacemaker on all of them. corosyncConf is the nodes' corosync.conf; ""
// gives the default one (token 1000 ms). Node names resolve through the
// nodes' /etc/hosts.
func newCluster(t *testing.T, n int, resources, constraints, corosyncConf string) *cluster {
	t.Helper()
	requireCluster(t)
	clusterSeq++
	c := &cluster{t: t, name: "pcmk" + strconv.Itoa(os.Getpid()%100000) + "c" + strconv.Itoa(clusterSeq)}
	dir, err := os.MkdirTemp("", "pcmk-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // hacluster must reach the node directories
	c.dir = dir
	t.Cleanup(func() {
		c.killAll()
		if !t.Failed() {
			os.RemoveAll(dir)
		} else {
			t.Logf("cluster files kept in %s", dir)
		}
	})
	ra := c.agentsDir()
	c.br = hwtest.NewNetns(t, "pcmkb")
	c.br.Exec(t, "ip", "link", "add", "br0", "type", "bridge")
	c.br.Exec(t, "ip", "link", "set", "br0", "up")
	c.client = hwtest.NewNetns(t, "pcmkc")
	hwtest.Veth(t, c.client, "eth0", "10.99.0.100/24", c.br, "pc", "")
	c.br.Exec(t, "ip", "link", "set", "pc", "master", "br0")
	key := make([]byte, 256)
	rand.Read(key)
	uid, gid := hacluster(t)
	hosts := "127.0.0.1 localhost\n"
	for i := 1; i <= n; i++ {
		hosts += "10.99.0." + strconv.Itoa(i) + " node" + strconv.Itoa(i) + "\n"
	}
	if corosyncConf == "" {
		corosyncConf = c.corosyncConf(n)
	}
	for i := 1; i <= n; i++ {
		nd := &node{id: i, name: "node" + strconv.Itoa(i), ns: hwtest.NewNetns(t, "pcmkn"), port: "p" + strconv.Itoa(i), dir: filepath.Join(dir, "node"+strconv.Itoa(i))}
		hwtest.Veth(t, nd.ns, "eth0", "10.99.0."+strconv.Itoa(i)+"/24", c.br, nd.port, "")
		c.br.Exec(t, "ip", "link", "set", nd.port, "master", "br0")
		for _, d := range []string{"etc-corosync", "lib-corosync", "log-corosync", "cib", "pengine", "blackbox", "cores", "log-pacemaker"} {
			p := filepath.Join(nd.dir, d)
			if err := os.MkdirAll(p, 0o750); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(d, "corosync") {
				os.Chown(p, uid, gid)
			}
		}
		os.Chmod(nd.dir, 0o755)
		writeFile(t, filepath.Join(nd.dir, "etc-corosync", "authkey"), key, 0o400, -1, -1)
		writeFile(t, filepath.Join(nd.dir, "etc-corosync", "corosync.conf"), []byte(corosyncConf), 0o644, -1, -1)
		writeFile(t, filepath.Join(nd.dir, "hosts"), []byte(hosts), 0o644, -1, -1)
		if len(lsbScripts) > 0 {
			os.Mkdir(filepath.Join(nd.dir, "init.d"), 0o755)
			for name, text := range lsbScripts {
				writeFile(t, filepath.Join(nd.dir, "init.d", name), []byte(text), 0o755, -1, -1)
			}
		}
		writeFile(t, filepath.Join(nd.dir, "cib", "cib.xml"), []byte(cibXML(resources, constraints)), 0o600, uid, gid)
		c.nodes = append(c.nodes, nd)
		c.startHolder(nd, ra)
	}
	for _, nd := range c.nodes {
		c.start(nd, nil, "corosync", "-f")
	}
	for _, nd := range c.nodes {
		c.waitCmd(nd, 20*time.Second, "corosync-cfgtool", "-s")
	}
	for _, nd := range c.nodes {
		c.start(nd, []string{"PCMK_logfacility=none", "PCMK_logfile=/var/log/pacemaker/pacemaker.log"}, "pacemakerd")
	}
	return c
}

func hacluster(t *testing.T) (int, int) {
	u, err := user.Lookup("hacluster")
	if err != nil {
		t.Fatalf("user hacluster (pacemaker package): %v", err)
	}
	g, err := user.LookupGroup("haclient")
	if err != nil {
		t.Fatalf("group haclient: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	return uid, gid
}

func writeFile(t *testing.T, name string, data []byte, mode os.FileMode, uid, gid int) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if uid >= 0 {
		if err := os.Chown(name, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
}

// agentsDir makes dir/ra with habox/{IPaddr,IPv6addr} (links to a copy of
// habox) and an empty heartbeat/ where each node mounts the real one.
func (c *cluster) agentsDir() string {
	ra := filepath.Join(c.dir, "ra")
	for _, d := range []string{filepath.Join(c.dir, "bin"), ra, filepath.Join(ra, "habox"), filepath.Join(ra, "heartbeat")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			c.t.Fatal(err)
		}
	}
	bin := filepath.Join(c.dir, "bin", "habox")
	hwtest.Run(c.t, "cp", hblab.HaboxBin(c.t), bin)
	for _, a := range []string{"IPaddr", "IPv6addr"} {
		if err := os.Symlink(bin, filepath.Join(ra, "habox", a)); err != nil {
			c.t.Fatal(err)
		}
	}
	return ra
}

func (c *cluster) corosyncConf(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "totem {\n\tversion: 2\n\tcluster_name: %s\n\ttransport: knet\n\tcrypto_cipher: aes256\n\tcrypto_hash: sha256\n\ttoken: 1000\n}\nnodelist {\n", c.name)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\tnode {\n\t\tring0_addr: 10.99.0.%d\n\t\tname: node%d\n\t\tnodeid: %d\n\t}\n", i, i, i)
	}
	b.WriteString("}\nquorum {\n\tprovider: corosync_votequorum\n}\nlogging {\n\tto_logfile: yes\n\tlogfile: /var/log/corosync/corosync.log\n\tto_syslog: no\n\tto_stderr: no\n\ttimestamp: on\n}\n")
	b.WriteString("system {\n\tsched_rr: no\n\tpriority: 0\n\tmove_to_root_cgroup: no\n}\n")
	return b.String()
}

// cibXML is the first CIB of every node: no fencing (there is no device),
// a 2 s DC deadtime instead of 20 s, stickiness so that resources stay
// where they are.
func cibXML(resources, constraints string) string {
	return `<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
<configuration><crm_config><cluster_property_set id="cib-bootstrap-options">
<nvpair id="o-stonith" name="stonith-enabled" value="false"/><nvpair id="o-dcdt" name="dc-deadtime" value="2s"/>
</cluster_property_set></crm_config><nodes/>
<resources>` + resources + `</resources><constraints>` + constraints + `</constraints>
<rsc_defaults><meta_attributes id="rsc-options"><nvpair id="rsc-stick" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults>
</configuration><status/></cib>`
}

func (c *cluster) startHolder(nd *node, ra string) {
	t := c.t
	cmd := nd.ns.Command("unshare", "--pid", "--fork", "--mount-proc", "--mount", "--uts", "--propagation", "private",
		"sh", "-c", holderScript, "holder", nd.dir, nd.name, ra)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	nd.procs = append(nd.procs, cmd)
	go cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if nd.init == 0 {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/" + strconv.Itoa(cmd.Process.Pid) + "/children")
			if f := strings.Fields(string(b)); len(f) > 0 {
				nd.init, _ = strconv.Atoi(f[0])
			}
		}
		if _, err := os.Stat(filepath.Join(nd.dir, "ready")); err == nil && nd.init != 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: holder not ready: %s", nd.name, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// command runs name inside the node (all its namespaces).
func (c *cluster) command(nd *node, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(nd.init), "-n", "-m", "-u", "-p", "--", "env"}, append(append(env, name), args...)...)...)
	return cmd
}

// start starts a daemon in the node, output to dir/nodeN/NAME.out.
func (c *cluster) start(nd *node, env []string, name string, args ...string) {
	cmd := c.command(nd, env, name, args...)
	f, err := os.Create(filepath.Join(nd.dir, name+".out"))
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	f.Close()
	nd.procs = append(nd.procs, cmd)
	go cmd.Wait()
}

// run runs a command in the node, bounded by 60 s, and returns its output
// and error.
func (c *cluster) run(nd *node, name string, args ...string) (string, error) {
	cmd := c.command(nd, nil, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("%s: timed out after 60 s", name)
	}
}

func (c *cluster) waitCmd(nd *node, d time.Duration, name string, args ...string) {
	deadline := time.Now().Add(d)
	for {
		out, err := c.run(nd, name, args...)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: %s %v never succeeded: %v\n%s", nd.name, name, args, err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// kill takes the node's port off the bridge, then kills every process of
// the node at once (its PID 1). The port goes first: the kernel of a
// namespace whose daemons are dead still answers for its addresses.
func (c *cluster) kill(nd *node) {
	c.br.Exec(c.t, "ip", "link", "set", nd.port, "down")
	unix.Kill(nd.init, unix.SIGKILL)
	nd.dead = true
}

func (c *cluster) killAll() {
	for _, nd := range c.nodes {
		if nd.init > 0 {
			unix.Kill(nd.init, unix.SIGKILL)
		}
	}
}

// live returns the nodes not killed.
func (c *cluster) live() []*node {
	var l []*node
	for _, nd := range c.nodes {
		if !nd.dead {
			l = append(l, nd)
		}
	}
	return l
}

// owners returns the live nodes that have ip configured.
func (c *cluster) owners(ip netip.Addr) []*node {
	var o []*node
	for _, nd := range c.live() {
		if hasAddr(nd.ns.Name, ip) {
			o = append(o, nd)
		}
	}
	return o
}

// waitOwner waits until exactly one live node has ip and returns it.
func (c *cluster) waitOwner(ip netip.Addr, d time.Duration) *node {
	deadline := time.Now().Add(d)
	for {
		o := c.owners(ip)
		if len(o) == 1 {
			return o[0]
		}
		if time.Now().After(deadline) {
			out, _ := c.run(c.live()[0], "crm_mon", "-1", "-r")
			c.t.Fatalf("%s: %d owners after %v\n%s", ip, len(o), d, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hasAddr reports whether the namespace has ip on any interface, read
// through rtnetlink from a thread that enters the namespace and is then
// discarded (it is never unlocked, so Go ends it with the goroutine).
func hasAddr(ns string, ip netip.Addr) bool {
	res := make(chan bool, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			res <- false
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			res <- false
			return
		}
		fam := unix.AF_INET
		if ip.Is6() {
			fam = unix.AF_INET6
		}
		addrs, err := netif.Addrs(fam)
		for _, a := range addrs {
			if a.Prefix.Addr() == ip {
				res <- true
				return
			}
		}
		res <- false
	}()
	return <-res
}

// ownerWatch samples the owners of ip every 50 ms and records the most
// live owners seen at once.
type ownerWatch struct {
	mu      sync.Mutex
	max     int
	samples int
	stop    chan struct{}
	done    chan struct{}
}

func (c *cluster) watchOwners(ip netip.Addr) *ownerWatch {
	w := &ownerWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			n := len(c.owners(ip))
			w.mu.Lock()
			w.samples++
			w.max = max(w.max, n)
			w.mu.Unlock()
		}
	}()
	return w
}

// pause stops sampling (before a node is killed, so that the cluster's
// view of live nodes does not change under a sample).
func (w *ownerWatch) pause() { close(w.stop); <-w.done }

// cibStartTimes returns the exec-time (ms) of the successful start
// operations of rsc recorded in the CIB status section.
func (c *cluster) cibStartTimes(nd *node, rsc string) []int {
	out, err := c.run(nd, "cibadmin", "-Q", "--scope", "status")
	if err != nil {
		c.t.Fatalf("cibadmin: %v\n%s", err, out)
	}
	var ms []int
	for _, el := range strings.Split(out, "<lrm_rsc_op ")[1:] {
		if !strings.Contains(el, `operation="start"`) || !strings.Contains(el, `rc-code="0"`) || !strings.Contains(el, `operation_key="`+rsc+`_start_0"`) {
			continue
		}
		if i := strings.Index(el, `exec-time="`); i >= 0 {
			v := el[i+len(`exec-time="`):]
			if n, err := strconv.Atoi(v[:strings.IndexByte(v, '"')]); err == nil {
				ms = append(ms, n)
			}
		}
	}
	return ms
}
