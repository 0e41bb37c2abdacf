#!/bin/bash
# habox demo: a two-node heartbeat cluster and a client, on this machine,
# in network namespaces. Node "alice" serves a service IP; we kill alice
# hard (SIGKILL and cables pulled) and watch "bob" take the IP over; then
# alice comes back and gets it back (auto_failback on). Last, alice's
# uplink dies (her route to the router is cut, her cables stay in): bob
# sees more ping nodes and takes the service (ipfail's policy, built in).
#
#   usage: demo/demo.sh [path/to/habox]      (as root; `make demo` builds habox first)
#
#   client ns:  br0 192.168.77.100/24 ─┬─ alice eth0 192.168.77.1   (service LAN)
#                                      ├─ bob   eth0 192.168.77.2
#                                      └─ router     192.168.77.254  (ping node)
#   alice eth1 10.99.0.1 ─────────────────── bob eth1 10.99.0.2     (heartbeat link)
#   alice ttyA ══ socat pty pair ══ ttyB bob                        (serial heartbeat)
#   service IP 192.168.77.10 on whichever node owns it
set -u

HABOX=$(readlink -f "${1:-./habox}")
VIP=192.168.77.10
ID=hbdemo$$
WORK=$(mktemp -d /tmp/habox-demo.XXXXXX)
NS_A=${ID}a NS_B=${ID}b NS_C=${ID}c NS_R=${ID}r
SOCAT_PID=
FAILED=0

# Colours only on a terminal (make demo > log stays plain text).
if [ -t 1 ]; then B='\033[1m' R='\033[31m' N='\033[0m'; else B='' R='' N=''; fi
say()  { printf "\n${B}==> %s${N}\n" "$*"; }
info() { printf '    %s\n' "$*"; }
die()  { printf "\n${R}DEMO FAILED: %s${N}\n" "$*"; FAILED=1; exit 1; }
now_ms() { date +%s%3N; }

cleanup() {
	set +e
	for n in alice bob; do
		[ -f "$WORK/$n/pid" ] && kill -9 "$(cat "$WORK/$n/pid")" 2>/dev/null
	done
	[ -n "$SOCAT_PID" ] && kill -CONT "$SOCAT_PID" 2>/dev/null; [ -n "$SOCAT_PID" ] && kill "$SOCAT_PID" 2>/dev/null
	[ -n "${PROBE_PID:-}" ] && kill "$PROBE_PID" 2>/dev/null
	for ns in $NS_A $NS_B $NS_C $NS_R; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	if [ "$FAILED" = 0 ] && [ -z "${DEMO_KEEP:-}" ]; then rm -rf "$WORK"; else echo "logs kept in $WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || die "run as root (network namespaces)"
[ -x "$HABOX" ] || die "no habox binary at $HABOX (run: make demo)"
for c in ip socat ping; do command -v $c >/dev/null || die "$c is not installed"; done

say "Building the network: client + LAN bridge, two nodes, a heartbeat link and a serial line"
for ns in $NS_A $NS_B $NS_C $NS_R; do ip netns add "$ns" && ip -n "$ns" link set lo up || die "ip netns add"; done
ip -n $NS_C link add br0 type bridge && ip -n $NS_C link set br0 up
ip -n $NS_C addr add 192.168.77.100/24 dev br0
i=1
for ns in $NS_A $NS_B; do
	ip link add ${ID}l$i type veth peer name ${ID}p$i
	ip link set ${ID}l$i netns "$ns" name eth0
	ip link set ${ID}p$i netns $NS_C
	ip -n $NS_C link set ${ID}p$i master br0 up
	ip -n "$ns" addr add 192.168.77.$i/24 brd + dev eth0
	ip -n "$ns" link set eth0 up
	i=$((i + 1))
done
ip link add ${ID}r0 type veth peer name ${ID}pr
ip link set ${ID}r0 netns $NS_R name eth0; ip link set ${ID}pr netns $NS_C
ip -n $NS_C link set ${ID}pr master br0 up
ip -n $NS_R addr add 192.168.77.254/24 dev eth0; ip -n $NS_R link set eth0 up
ip link add ${ID}h1 type veth peer name ${ID}h2
ip link set ${ID}h1 netns $NS_A name eth1; ip link set ${ID}h2 netns $NS_B name eth1
ip -n $NS_A addr add 10.99.0.1/24 brd + dev eth1; ip -n $NS_B addr add 10.99.0.2/24 brd + dev eth1
ip -n $NS_A link set eth1 up; ip -n $NS_B link set eth1 up
socat pty,raw,echo=0,link="$WORK/ttyA" pty,raw,echo=0,link="$WORK/ttyB" 2>/dev/null &
SOCAT_PID=$!
for _ in $(seq 50); do [ -e "$WORK/ttyA" ] && [ -e "$WORK/ttyB" ] && break; sleep 0.1; done
[ -e "$WORK/ttyB" ] || die "socat did not create the pty pair"
info "client 192.168.77.100 -- bridge -- alice 192.168.77.1, bob 192.168.77.2; heartbeats on eth1 and $WORK/ttyA<->ttyB"

say "Writing the configuration (the Linux-HA guide's three files, with fast timings)"
KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
for n in alice bob; do
	tty=$WORK/ttyA; [ $n = bob ] && tty=$WORK/ttyB
	mkdir -p "$WORK/$n/ha.d" "$WORK/$n/lib" "$WORK/$n/run"
	cat >"$WORK/$n/ha.d/ha.cf" <<EOF
# /etc/ha.d/ha.cf of $n
logfile $WORK/$n/ha-log
logfacility none
keepalive 100ms     # a heartbeat every 100 ms
deadtime 1          # a node silent for 1 s is dead
warntime 500ms
initdead 3
udpport 694
bcast eth1          # heartbeat over UDP broadcast on eth1
baud 115200         # serial speed (19200 is too slow for 100 ms heartbeats)
serial $tty         # ... and over a serial line
auto_failback on    # the service returns to alice when she is back
ping 192.168.77.254 # the router: a ping node
deadping 1          # dead after 1 s without an echo reply
habox_ipfail on     # ipfail's policy (3.0.6: respawn hacluster .../ipfail)
node alice
node bob
EOF
	echo "alice $VIP/24/eth0" >"$WORK/$n/ha.d/haresources"
	printf 'auth 1\n1 sha1 %s\n' "$KEY" >"$WORK/$n/ha.d/authkeys"
	chmod 600 "$WORK/$n/ha.d/authkeys"
done
info "ha.cf:        $(grep -v '^#' "$WORK/alice/ha.d/ha.cf" | sed 's/ *#.*//' | grep -v logfile | tr '\n' ';' | sed 's/;/; /g')"
info "haresources:  $(cat "$WORK/alice/ha.d/haresources")   (alice owns the service IP)"
info "authkeys:     auth 1 / 1 sha1 <random key>"
# -t also checks that the machine has what the files name (eth0, eth1, the
# serial line): run it where alice runs, in her namespace.
ip netns exec $NS_A env HA_NODENAME=alice "$HABOX" heartbeat -t -c "$WORK/alice/ha.d" >/dev/null 2>"$WORK/check.err" ||
	{ cat "$WORK/check.err"; die "configuration check failed"; }
info "heartbeat -t: configuration valid"

start_node() { # name ns
	ip netns exec "$2" env HA_NODENAME="$1" HABOX_RUNDIR="$WORK/$1/run" HA_CTLSOCK="$WORK/$1/ctl" \
		"$HABOX" heartbeat -c "$WORK/$1/ha.d" -l "$WORK/$1/lib" -p "$WORK/$1/pid" 2>>"$WORK/$1/stderr" ||
		{ cat "$WORK/$1/stderr"; die "heartbeat did not start on $1"; }
}
holds() { ip -n "$1" -4 addr show dev eth0 2>/dev/null | grep -q " $VIP/"; }
wait_holder() { # ns timeout_s
	local end=$(( $(now_ms) + $2 * 1000 ))
	while [ "$(now_ms)" -lt $end ]; do holds "$1" && return 0; sleep 0.05; done
	return 1
}
reach() { ip netns exec $NS_C ping -c 1 -W 1 -q $VIP >/dev/null 2>&1; }
owner_mac() { ip netns exec $NS_C ip neigh show $VIP | awk '{print $5}'; }
mac_of() { ip -n "$1" link show eth0 | awk '/ether/ {print $2}'; }

say "Starting heartbeat on alice and bob"
start_node alice $NS_A
start_node bob $NS_B
info "alice: pid $(cat "$WORK/alice/pid"), bob: pid $(cat "$WORK/bob/pid")"
wait_holder $NS_A 15 || die "alice did not take the service IP"
info "alice log: $(grep -c . "$WORK/alice/ha-log") lines, e.g.:"
grep -E "Status update|Comm_now_up|Acquiring|Running" "$WORK/alice/ha-log" | head -5 | sed 's/^/      /'

cls() { HA_CTLSOCK="$WORK/$1/ctl" "$HABOX" cl_status "${@:2}" 2>&1; }
info "cl_status on alice: bob is $(cls alice nodestatus bob), links: $(cls alice listhblinks bob | tr -d '\t' | tr '\n' ' ')"
info "cl_status rscstatus on alice: $(cls alice rscstatus) (she holds her own resource group)"

say "The client reaches the service IP $VIP"
reach || die "client cannot reach $VIP"
info "ping $VIP: OK, answered by MAC $(owner_mac) = alice ($(mac_of $NS_A))"
info "(waiting 5 s: a freshly started node advertises deadtime+2 s, as heartbeat 3.0.6 does)"
sleep 5

# The client pings the service IP every 10 ms (-D: timestamp each answer).
ip netns exec $NS_C ping -D -n -i 0.01 $VIP >"$WORK/probe.log" 2>/dev/null &
PROBE_PID=$!
sleep 1

say "Killing alice: SIGKILL the daemon and pull her cables (LAN, heartbeat link, serial)"
T0=$(now_ms)
kill -9 "$(cat "$WORK/alice/pid")"
ip -n $NS_A link set eth0 down; ip -n $NS_A link set eth1 down; kill -STOP $SOCAT_PID
info "alice is gone at t=0"
wait_holder $NS_B 10 || die "bob did not take over the service IP (failover failed)"
T1=$(now_ms)
info "bob holds $VIP after $((T1 - T0)) ms"
answers() { awk '/bytes from/ {gsub(/[\[\]]/, "", $1); printf "%d\n", $1 * 1000}' "$WORK/probe.log"; }
# The outage is the gap in the answers after t=0: the last answer from
# alice (maybe a few ms after t=0, before her cable was pulled) to the
# first one from bob.
gap() { answers | awk -v t0=$T0 'NR > 1 && $1 > t0 && $1 - p > 100 {print p, $1; exit} {p = $1}'; }
for _ in $(seq 100); do
	[ -n "$(gap)" ] && break
	sleep 0.05
done
kill $PROBE_PID 2>/dev/null; PROBE_PID=
read -r LAST FIRST <<<"$(gap)"
[ -n "${FIRST:-}" ] || die "the client never reached $VIP through bob"
reach || die "client cannot reach $VIP after the failover"
say "The client reaches $VIP again, now answered by bob"
info "ping $VIP: OK, answered by MAC $(owner_mac) = bob ($(mac_of $NS_B))"
printf "    ${B}measured outage seen by the client: %d ms${N} (last answer from alice to first from bob; deadtime 1 s + takeover)\n" $((FIRST - LAST))
info "bob's log:"
grep -E "is dead|Resources being acquired|Taking over|Running|mach_down takeover complete for" "$WORK/bob/ha-log" | sed 's/^/      /'

say "alice comes back (the box rebooted: cables in, daemon started)"
ip -n $NS_A addr del $VIP/24 dev eth0 2>/dev/null
ip -n $NS_A link set eth0 up; ip -n $NS_A link set eth1 up; kill -CONT $SOCAT_PID
start_node alice $NS_A
wait_holder $NS_A 20 || die "the service did not return to alice (auto_failback on)"
sleep 0.5
holds $NS_B && die "both nodes hold $VIP"
reach || die "client cannot reach $VIP after failback"
info "auto_failback on: bob handed the service back; ping $VIP answered by alice ($(owner_mac))"
grep -E "wants to go standby|give up .*standby|acquire .*standby" "$WORK/bob/ha-log" "$WORK/alice/ha-log" | sed "s#$WORK/##; s/^/      /"

say "alice's uplink dies: her route to the router is cut (cables, LAN and heartbeat links stay up)"
sleep 1
T0=$(now_ms)
ip -n $NS_A route add blackhole 192.168.77.254/32
wait_holder $NS_B 10 || die "bob did not take the service when alice's uplink died"
T1=$(now_ms)
info "bob holds $VIP $((T1 - T0)) ms later (deadping 1 s + 2 x keepalive + standby); alice still runs"
grep -E "10.77|192.168.77.254|ping nodes|Delayed giveup|Going standby" "$WORK/alice/ha-log" | grep -v "status ping" | tail -4 | sed 's/^/      /'
ip -n $NS_A route del blackhole 192.168.77.254/32
T0=$(now_ms)
wait_holder $NS_A 15 || die "the service did not return to alice after her uplink came back"
info "uplink back: alice gets the service back $(( $(now_ms) - T0 )) ms later, once (5 s of steady replies first: no flapping)"

say "Stopping both nodes gracefully"
for n in alice bob; do
	ns=$NS_A; [ $n = bob ] && ns=$NS_B
	ip netns exec $ns "$HABOX" heartbeat -k -p "$WORK/$n/pid"
done
say "Done: failover and failback worked."
exit 0
