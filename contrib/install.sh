#!/bin/sh
# install.sh — install habox: the binary, its applet links, the heartbeat
# resource link, the OCF agent links and example configuration. Used by `make install`.
#
#   contrib/install.sh [BINARY]        (default BINARY: ./habox)
#
# Environment:
#   DESTDIR  staging root (packages, images); links never contain it
#   PREFIX   installation prefix (default /usr); the binary goes to $PREFIX/sbin
#   INIT     also install an init file: sysv, systemd, openwrt, busybox (the
#            inittab lines) or none (default); its paths follow PREFIX
#   HOST_HABOX  a habox that runs on this machine, to list the applets when
#            BINARY is cross-built for another CPU (default: ./habox)
#
# Safe to run again: links already right are left alone, stale links are
# replaced, and existing files that are not links (a user's ha.cf, another
# program named like an applet) are never overwritten. No authkeys file is
# installed: every cluster needs its own key (see authkeygen).
set -eu

bin=${1:-./habox}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr}
INIT=${INIT:-none}
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "install.sh: $*" >&2; exit 1; }
note() { echo "install.sh: $*"; }

# Everything is checked before anything is installed.
case $INIT in none | sysv | systemd | openwrt | busybox) ;;
*) die "INIT must be sysv, systemd, openwrt, busybox or none: $INIT" ;;
esac
[ -f "$bin" ] && [ -x "$bin" ] || die "$bin: no executable habox binary (run make first)"
case $PREFIX in /*) ;; *) die "PREFIX must be absolute: $PREFIX" ;; esac

sbin=$PREFIX/sbin
hadir=/etc/ha.d

# link NAME TARGET: make DESTDIR/NAME a symlink to TARGET unless something
# that is not a symlink is in the way.
link() {
	if [ -L "$DESTDIR$1" ]; then
		[ "$(readlink "$DESTDIR$1")" = "$2" ] && return 0
		rm -f "$DESTDIR$1"
	elif [ -e "$DESTDIR$1" ]; then
		note "warning: $DESTDIR$1 exists and is not a link; left alone"
		return 0
	fi
	ln -s "$2" "$DESTDIR$1"
}

# example SRC DST MODE: install an example file unless DST exists.
example() {
	if [ -e "$DESTDIR$2" ] || [ -L "$DESTDIR$2" ]; then
		note "$DESTDIR$2 exists; kept (example: $1)"
		return 0
	fi
	install -m "$3" "$1" "$DESTDIR$2"
}

install -d "$DESTDIR$sbin" "$DESTDIR$hadir/resource.d"
# Replace the binary through a temporary name: a running heartbeat keeps
# executing the old inode, and a failed copy never leaves half a binary.
install -m 0755 "$bin" "$DESTDIR$sbin/.habox.new"
mv -f "$DESTDIR$sbin/.habox.new" "$DESTDIR$sbin/habox"

# The applet names are exactly those `habox --install -s` links (it skips
# applets that must never shadow a host command, like init); the links
# themselves are made here, relative, so they stay right under DESTDIR.
names=$(mktemp -d)
trap 'rm -rf "$names"' EXIT
if ! "$DESTDIR$sbin/habox" --install -s "$names" 2>/dev/null; then
	# A cross-built binary does not run here: ask a native build of the
	# same source.
	host=${HOST_HABOX:-./habox}
	"$host" --install -s "$names" ||
		die "$bin does not run here (cross-built?) and neither does HOST_HABOX=$host: build it with make"
	note "applet list taken from $host"
fi
for l in "$names"/*; do
	[ -L "$l" ] || continue
	link "$sbin/${l##*/}" habox
done

# heartbeat looks for resource scripts in /etc/ha.d/resource.d; IPaddr there
# is habox's built-in IPaddr applet.
link "$hadir/resource.d/IPaddr" "$sbin/habox"

# Pacemaker finds OCF resource agents (ocf:habox:IPaddr) here.
ocfdir=/usr/lib/ocf/resource.d/habox
rm -rf "$names" && mkdir "$names"
"$DESTDIR$sbin/habox" --install -s --ocf "$names" 2>/dev/null || "${HOST_HABOX:-./habox}" --install -s --ocf "$names"
install -d "$DESTDIR$ocfdir"
for l in "$names"/*; do
	[ -L "$l" ] || continue
	link "$ocfdir/${l##*/}" "$sbin/habox"
done

example "$here/ha.d/ha.cf" "$hadir/ha.cf" 0644
example "$here/ha.d/haresources" "$hadir/haresources" 0644

# initfile SRC: SRC with /usr/sbin/ replaced by $PREFIX/sbin/, in $names.
initfile() {
	sed "s|/usr/sbin/|$sbin/|g" "$1" >"$names/${1##*/}"
	echo "$names/${1##*/}"
}

rm -rf "$names" && mkdir "$names"
case $INIT in
none) ;;
sysv)
	install -d "$DESTDIR/etc/init.d"
	example "$(initfile "$here/init.d/heartbeat")" /etc/init.d/heartbeat 0755 ;;
systemd)
	install -d "$DESTDIR/lib/systemd/system"
	example "$(initfile "$here/systemd/heartbeat.service")" /lib/systemd/system/heartbeat.service 0644 ;;
openwrt)
	install -d "$DESTDIR/etc/init.d"
	example "$(initfile "$here/openwrt/heartbeat")" /etc/init.d/heartbeat 0755 ;;
busybox)
	# The habox lines go into /etc/inittab once (a marker line says they
	# are there). Without an inittab busybox uses a built-in default,
	# which the new file then spells out before the habox lines.
	tab=$DESTDIR/etc/inittab
	lines=$(initfile "$here/inittab")
	if grep -qs '^# habox heartbeat' "$tab"; then
		note "$tab has the habox lines already; kept"
	else
		install -d "$DESTDIR/etc"
		if [ ! -e "$tab" ]; then
			printf '%s\n' '# busybox init default (what busybox does without /etc/inittab)' \
				'::sysinit:/etc/init.d/rcS' '::askfirst:-/bin/sh' '::ctrlaltdel:/sbin/reboot' \
				'::shutdown:/sbin/swapoff -a' '::shutdown:/bin/umount -a -r' '::restart:/sbin/init' >"$tab"
		fi
		{
			echo '# habox heartbeat (make install INIT=busybox)'
			grep -v '^#' "$lines"
		} >>"$tab"
		note "habox lines added to $tab"
	fi ;;
esac

if [ ! -e "$DESTDIR$hadir/authkeys" ]; then
	note "no $hadir/authkeys yet: create it on one node with"
	note "    authkeygen            (writes $hadir/authkeys, mode 0600)"
	note "and copy it to the other node(s), keeping mode 0600."
fi
