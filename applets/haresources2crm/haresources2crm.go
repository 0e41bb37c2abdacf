// Package haresources2crm implements the haresources2crm applet, habox's
// counterpart of heartbeat 3.0.6's haresources2cib.py: it reads ha.cf and
// haresources and prints the same cluster as crmsh configuration for
// Pacemaker, or with --corosync the corosync.conf for the same nodes and
// timings.
//
// Each haresources line becomes a group of its resources in order, with a
// location preference for the line's node. IP addresses (the shorthand,
// IPaddr::, IPaddr2::) become ocf:habox:IPaddr and IPv6addr:: becomes
// ocf:habox:IPv6addr; a script without arguments becomes lsb:SCRIPT (an
// init script, as R1 ran it); a script with "::" arguments becomes the
// resource-agents OCF agent that heartbeat's resource.d wrapper of that
// name runs, with the arguments mapped to its parameters the way the
// wrapper maps them; as R1 never monitored scripts, only the address
// agents get a monitor operation. auto_failback on/legacy gives resource-stickiness 0
// (back to the preferred node), off INFINITY. keepalive and deadtime give
// the Corosync token: token = deadtime, and as many token retransmits as
// keepalives fit in deadtime (token_coefficient 0 so the timeout does not
// grow with the node count).
package haresources2crm

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"habox/applets/cli"
	"habox/conf"
)

const usage = `haresources2crm [-d DIR] [--corosync]
Print the heartbeat R1 cluster of DIR/ha.cf and DIR/haresources as crmsh
configuration for Pacemaker (apply it on one node: crm configure load update FILE):
one group per haresources line, IP addresses as ocf:habox:IPaddr/IPv6addr,
scripts as lsb:SCRIPT or, with :: arguments, as ocf:heartbeat:SCRIPT.
	-d DIR		configuration directory (default $HA_DIR or /etc/ha.d)
	--corosync	print corosync.conf for the nodes and timings of ha.cf instead
Exit 1 when the files cannot be read or a resource cannot be converted.`

// Applet is the haresources2crm applet.
var Applet = cli.Applet{Name: "haresources2crm", Usage: usage, Run: run}

// wrapperParams returns the OCF parameters that the positional "::"
// arguments of heartbeat 3.0.6's resource.d wrapper script set (in order).
func wrapperParams(script string) (string, bool) {
	switch script {
	case "Delay":
		return "startdelay stopdelay", true
	case "Filesystem":
		return "device directory fstype options", true
	case "ICP":
		return "driveid device", true
	case "IPsrcaddr":
		return "ipaddress", true
	case "LVM":
		return "volgrpname", true
	case "LinuxSCSI":
		return "scsi", true
	case "MailTo":
		return "email subject", true
	case "Raid1":
		return "raidconf raiddev", true
	case "ServeRAID":
		return "serveraid mergegroup", true
	case "WAS":
		return "config", true
	case "Xinetd":
		return "service", true
	case "apache":
		return "configfile", true
	case "db2":
		return "instance", true
	case "portblock":
		return "protocol portno action", true
	}
	return "", false
}

func run(env *cli.Env, args []string) int {
	dir, corosync := env.Getenv(conf.DirEnv), false
	a := cli.NewArgs(args)
	for a.Next() {
		switch a.Opt() {
		case "-d":
			dir, _ = a.Value()
		case "--corosync":
			corosync = a.Flag()
		default:
			return cli.UsageError(env, usage, a.Unknown())
		}
	}
	if err := a.Err(); err != nil || len(a.Rest()) > 0 {
		msg := "unexpected argument"
		if err != nil {
			msg = err.Error()
		}
		return cli.UsageError(env, usage, msg)
	}
	if dir == "" {
		dir = conf.DefaultDir
	}
	cf, err := readHaCf(dir)
	if err != nil {
		return cli.Fail(env, "haresources2crm", err, 1)
	}
	if corosync {
		env.Out(Corosync(cf))
		return 0
	}
	name := filepath.Join(dir, conf.HaresourcesFile)
	f, err := os.Open(name)
	if err != nil {
		return cli.Fail(env, "haresources2crm", err, 1)
	}
	defer f.Close()
	hr, err := conf.ParseHaresources(name, f, cf.Nodes)
	if err != nil {
		return cli.Fail(env, "haresources2crm", err, 1)
	}
	out, err := Crm(cf, hr)
	if err != nil {
		return cli.Fail(env, "haresources2crm", err, 1)
	}
	env.Out(out)
	return 0
}

func readHaCf(dir string) (*conf.HaCf, error) {
	name := filepath.Join(dir, conf.HaCfFile)
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cf, _, err := conf.ParseHaCf(name, f)
	return cf, err
}

// Crm returns the crmsh configuration of the haresources groups.
func Crm(cf *conf.HaCf, hr *conf.Haresources) (string, error) {
	stick := "0"
	if cf.AutoFailback == conf.FailbackOff {
		stick = "INFINITY"
	}
	var b strings.Builder
	b.WriteString("# heartbeat R1 cluster of " + cf.File + " and " + hr.File + " (haresources2crm)\n" +
		"# apply on one node: crm configure load update FILE\n" +
		"# R1 had no fencing: configure a stonith device, then set stonith-enabled=true\n" +
		"# R1 monitored no script: add op monitor to lsb: and ocf:heartbeat: primitives whose monitor you trust\n" +
		"property stonith-enabled=false\n" +
		"rsc_defaults resource-stickiness=" + stick + "\n")
	used := map[string]bool{}
	for gi, g := range hr.Groups {
		var ids []string
		for _, r := range g.Resources {
			id, def, err := primitive(r)
			if err != nil {
				return "", &conf.Error{File: hr.File, Line: g.Line, Token: r.Text, Msg: err.Error()}
			}
			base := id
			for n := 2; used[id]; n++ {
				id = base + "_" + strconv.Itoa(n)
			}
			used[id] = true
			ids = append(ids, id)
			b.WriteString("primitive " + id + " " + def + "\n")
		}
		grp := "group_" + strconv.Itoa(gi+1)
		b.WriteString("group " + grp + " " + strings.Join(ids, " ") + "\n" +
			"location prefer_" + grp + " " + grp + " 100: " + g.Node + "\n")
	}
	return b.String(), nil
}

const monitor = " op monitor interval=10s timeout=20s"

// primitive returns the id and the crmsh definition of one resource.
func primitive(r conf.Resource) (id, def string, err error) {
	switch r.Script {
	case "IPaddr", "IPaddr2":
		if len(r.Args) != 1 {
			return "", "", errorString(r.Script + " takes one argument: ip[/netmask[/iface][/broadcast]]")
		}
		sp, err := conf.ParseIPSpec(r.Args[0])
		if err != nil {
			return "", "", err
		}
		p := " params ip=" + sp.IP.String()
		if sp.Bits >= 0 {
			p += " cidr_netmask=" + strconv.Itoa(sp.Bits)
		}
		if sp.Iface != "" {
			p += " nic=" + sp.Iface
		}
		if sp.Bcast.IsValid() {
			p += " broadcast=" + sp.Bcast.String()
		}
		return ident("IPaddr_" + sp.IP.String()), "ocf:habox:IPaddr" + p + monitor, nil
	case "IPv6addr":
		// "::" separates arguments, so an IPv6 address arrives in pieces.
		sp, err := conf.ParseIPv6Spec(strings.Join(r.Args, "::"))
		if err != nil {
			return "", "", err
		}
		p := " params ipv6addr=" + sp.IP.String()
		if sp.Bits >= 0 {
			p += " cidr_netmask=" + strconv.Itoa(sp.Bits)
		}
		if sp.Iface != "" {
			p += " nic=" + sp.Iface
		}
		return ident("IPv6addr_" + sp.IP.String()), "ocf:habox:IPv6addr" + p + monitor, nil
	}
	if len(r.Args) == 0 {
		return ident(r.Script), "lsb:" + r.Script, nil
	}
	names, ok := wrapperParams(r.Script)
	if !ok {
		return "", "", errorString("no OCF agent known for " + r.Script + " with \"::\" arguments: write its primitive by hand (crm ra info " + r.Script + ")")
	}
	params := strings.Fields(names)
	if len(r.Args) > len(params) {
		return "", "", errorString(r.Script + " takes at most " + strconv.Itoa(len(params)) + " arguments (" + names + ")")
	}
	p := " params"
	for i, a := range r.Args {
		if strings.ContainsAny(a, "\"\\\n") {
			return "", "", errorString("argument " + strconv.Quote(a) + " has a quote or backslash: write this primitive by hand")
		}
		p += " " + params[i] + "=\"" + a + "\""
	}
	return ident(r.Script + "_" + r.Args[0]), "ocf:heartbeat:" + r.Script + p, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

// ident makes s a Pacemaker id: letters, digits, '_', '-' and '.',
// starting with a letter or '_'.
func ident(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' || b[0] == '-' {
		b = append([]byte("r_"), b...)
	}
	return string(b)
}

// Corosync returns a corosync.conf for the nodes of ha.cf (ring0_addr is
// the node name: it must resolve, e.g. through /etc/hosts) with the
// timings of keepalive and deadtime.
func Corosync(cf *conf.HaCf) string {
	token := max(cf.Deadtime.Milliseconds(), 100)
	retrans := max(int64(2), token/max(cf.Keepalive.Milliseconds(), 1))
	name := cf.Cluster
	if name == "" {
		name = "habox"
	}
	var b strings.Builder
	b.WriteString("# corosync.conf for the nodes of " + cf.File + " (haresources2crm --corosync)\n" +
		"# deadtime " + cf.Deadtime.String() + ", keepalive " + cf.Keepalive.String() + "; create the key with corosync-keygen\n" +
		"totem {\n\tversion: 2\n\tcluster_name: " + name + "\n\ttransport: knet\n\tcrypto_cipher: aes256\n\tcrypto_hash: sha256\n" +
		"\ttoken: " + strconv.FormatInt(token, 10) + "\n\ttoken_retransmits_before_loss_const: " + strconv.FormatInt(retrans, 10) +
		"\n\ttoken_coefficient: 0\n}\nnodelist {\n")
	for i, n := range cf.Nodes {
		b.WriteString("\tnode {\n\t\tring0_addr: " + n + "\n\t\tname: " + n + "\n\t\tnodeid: " + strconv.Itoa(i+1) + "\n\t}\n")
	}
	b.WriteString("}\nquorum {\n\tprovider: corosync_votequorum\n")
	if len(cf.Nodes) == 2 {
		b.WriteString("\ttwo_node: 1\n")
	}
	b.WriteString("}\nlogging {\n\tto_syslog: yes\n}\n")
	return b.String()
}
