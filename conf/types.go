package conf

import "time"

// DefaultDir is where heartbeat keeps its configuration.
const DefaultDir = "/etc/ha.d"

// DirEnv names the environment variable that overrides DefaultDir.
const DirEnv = "HA_DIR"

// AutoFailback is the resource hand-back policy.
type AutoFailback int

// The auto_failback modes of heartbeat 3.0.6.
const (
	FailbackLegacy AutoFailback = iota // default: ip-request handshake, always fails back
	FailbackOn                         // nice_failback protocol, hand back when the owner returns
	FailbackOff                        // nice_failback protocol, never hand back automatically
)

// String returns the ha.cf spelling of the mode.
func (a AutoFailback) String() string {
	switch a {
	case FailbackOn:
		return "on"
	case FailbackOff:
		return "off"
	}
	return "legacy"
}

// MediumType is the kind of a heartbeat medium.
type MediumType string

// The media habox implements.
const (
	Bcast  MediumType = "bcast" // also written "udp" in ha.cf
	Mcast  MediumType = "mcast"
	Ucast  MediumType = "ucast"
	Serial MediumType = "serial"
)

// Medium is one heartbeat path as configured in ha.cf.
type Medium struct {
	Type MediumType
	// Dev is the interface name (bcast, mcast, ucast) or the device path
	// (serial).
	Dev string
	// Port is the UDP port: udpport for bcast/ucast, the line's port for
	// mcast. Baud is the line speed for serial.
	Port int
	Baud int
	// Group, TTL and Loop are set for mcast; Peer (host name or address as
	// written) for ucast.
	Group string
	TTL   int
	Loop  bool
	Peer  string
	// Line is where the medium was declared in ha.cf.
	Line int
}

// Name is the link name heartbeat uses in logs and cl_status: the
// interface name, or the device path for serial.
func (m Medium) Name() string { return m.Dev }

// PingNode is a ping or ping_group pseudo-node: up while any of its
// addresses answers ICMP echo.
type PingNode struct {
	// Name is the node name: the address as written (lower-cased) for
	// ping, the group name for ping_group.
	Name string
	// Addrs are the addresses as written: IPv4 literals or /etc/hosts
	// names (resolved by the daemon; habox never uses DNS).
	Addrs []string
	Group bool // ping_group
	Line  int
}

// Respawn is one respawn line: a program the daemon runs as User and
// restarts when it exits (3.0.6 semantics).
type Respawn struct {
	User string
	Path string   // absolute
	Args []string // argv[1:]
	Line int
}

// HaCf is the parsed /etc/ha.d/ha.cf with every default applied.
type HaCf struct {
	File string
	// Nodes are the configured node names, lower-cased, in file order.
	Nodes []string
	Media []Medium
	// Order is every node name, normal and ping, in declaration order
	// (3.0.6's node table order, as cl_status listnodes prints it).
	Order []string
	// PingNodes are the ping and ping_group nodes in file order.
	PingNodes []PingNode
	// Respawns are the respawn lines habox runs itself (ipfail's line is
	// not among them: it sets IPFail).
	Respawns []Respawn
	// IPFail enables the built-in ipfail policy: habox_ipfail on, or a
	// respawn line for ipfail.
	IPFail bool
	// TrackCarrier are the interfaces of habox_track_carrier: losing
	// carrier on one counts like losing every ping node.
	TrackCarrier []string

	Keepalive time.Duration
	Deadtime  time.Duration
	Warntime  time.Duration
	Initdead  time.Duration
	Deadping  time.Duration

	UDPPort  int
	Baud     int
	HopFudge int

	AutoFailback AutoFailback
	Watchdog     string

	Logfile        string
	Debugfile      string
	Logfacility    string // "" or "none" = no syslog
	UseLogd        bool
	SyslogMsgFmt   bool
	Debug          int
	LogBadPack     bool
	Realtime       bool
	Rtprio         int // 0 = minimum SCHED_RR priority
	MsgFmt         string
	MaxRexmitDelay time.Duration
	UUIDFrom       string
	HbGenMethod    string
	Coredumps      bool
	Cluster        string
	// Env holds the NAME=value pairs of "env" lines in order: set for the
	// resource scripts as 3.0.6 sets them for its children; habox's own
	// HABOX_RSC_TIMEOUT and HABOX_KILL_TIMEOUT are read from them too.
	Env []string

	// Set records the directives given explicitly (after the udp→bcast
	// rewrite), for `heartbeat -t` and `cl_status hbparameter`.
	Set map[string]bool
	// Raw is the value text as written for each directive given (the last
	// one when repeated), or the default's text otherwise.
	Raw map[string]string

	// Lines records, for each directive given, the line it was last given
	// on (for -t output and cross-file messages).
	Lines map[string]int

	// bad records the directives whose value was rejected, so that the
	// cross checks of Load do not pile follow-up errors on them.
	bad map[string]bool
}

// Resource is one entry of a haresources line.
type Resource struct {
	// Script is the resource script name ("IPaddr" for the IP shorthand).
	Script string
	// Args are the "::"-separated arguments (the address spec for IPaddr).
	Args []string
	// Text is the entry as written in the file.
	Text string
}

// Group is one haresources line: the preferred node and its resources;
// the first resource's Text is the group key.
type Group struct {
	Node      string
	Key       string
	Resources []Resource
	Line      int
}

// Haresources is the parsed /etc/ha.d/haresources.
type Haresources struct {
	File   string
	Groups []Group
}

// AuthMethod is an authkeys signing method.
type AuthMethod string

// The methods of heartbeat 3.0.6.
const (
	AuthCRC  AuthMethod = "crc"
	AuthMD5  AuthMethod = "md5"
	AuthSHA1 AuthMethod = "sha1"
)

// AuthKey is one numbered authkeys entry.
type AuthKey struct {
	Index  int
	Method AuthMethod
	Key    []byte // nil for crc
	Line   int    // where it is defined in the file
}

// Authkeys is the parsed /etc/ha.d/authkeys.
type Authkeys struct {
	File string
	// Active is the index named by the "auth" line: the entry used to sign.
	Active int
	// Keys holds the entries by index (0..15); nil where absent.
	Keys [16]*AuthKey
	// Warnings are weaknesses of a valid file (crc active or present).
	Warnings []Warning
}

// Config is the whole configuration of one node.
type Config struct {
	Dir string
	// LocalNode is this node's name, lower-cased: the first line of
	// Dir/nodeinfo when that file exists, else the name given to Load.
	LocalNode string
	HaCf      *HaCf
	Resources *Haresources
	Auth      *Authkeys
	Warnings  []Warning
}

// Warning is a non-fatal remark about a file, as heartbeat logs them.
type Warning struct {
	File string
	Line int // 0 when it concerns the whole file
	Msg  string
}

// Error is one configuration problem: where it is, which directive and
// token, and what is wrong, in words a sysadmin understands.
type Error struct {
	File      string
	Line      int    // 0 when it concerns the whole file
	Directive string // may be empty
	Token     string // may be empty
	Msg       string
}
