#!/bin/bash
# dracut module: put habox, its applet links and /etc/ha.d into the
# initramfs. Install as /usr/lib/dracut/modules.d/90habox/module-setup.sh
# and build with: dracut --add habox (or add_dracutmodules+=" habox " in
# /etc/dracut.conf.d/habox.conf). It only copies: nothing in the initramfs
# starts heartbeat unless a hook of yours does (see contrib/README.md).
#
# The image then holds /etc/ha.d/authkeys, the cluster's secret: keep the
# initramfs unreadable for others.

# Only when asked for (--add habox): 255.
check() {
	require_binaries "${HABOX:-/usr/sbin/habox}" || return 1
	return 255
}

depends() {
	return 0
}

installkernel() {
	# ha.cf names a watchdog: bring softdog for mkwatchdog.
	if grep -qs '^[[:space:]]*watchdog[[:space:]]' "${HA_DIR:-/etc/ha.d}/ha.cf"; then
		hostonly='' instmods softdog
	fi
}

install() {
	local habox=${HABOX:-/usr/sbin/habox} hadir=${HA_DIR:-/etc/ha.d} links l
	inst_simple "$habox" /usr/sbin/habox
	# One link per applet, the names `habox --install -s` would create
	# (never init: dracut brings its own).
	links=$(mktemp -d)
	"$habox" --install -s "$links"
	for l in "$links"/*; do
		[[ -L $l ]] || continue
		ln_r /usr/sbin/habox "/usr/sbin/${l##*/}"
	done
	rm -rf "$links"
	# The configuration, modes kept (authkeys stays 0600).
	if [[ -d $hadir ]]; then
		inst_dir /etc/ha.d
		cp -a "$hadir/." "${initdir:?}/etc/ha.d/"
	fi
	inst_dir /var/lib/heartbeat
	inst_dir /var/log
}
