#!/bin/bash
# test-cross.sh [ARCH...]: the unit tests of hw/..., conf, wire and the
# applets that need no namespaces of their own, built for each router arch
# and run under qemu-user (Debian's qemu-user-static, called explicitly, so
# binfmt_misc need not be registered). HABOX_EMULATOR=qemu-user lets the
# few tests that qemu-user cannot serve skip with their reason.
# ARCH: mipsle mips armv7 arm64 mips64 (default: the first four + mips64's
# small set). Packages run one at a time (-p 1).
set -u
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
GO=${GO:-go}

# The packages: every hw/ package with tests, conf, wire, and the applets
# whose tests are unit tests or use ptys, loopback and the host's tools.
# Left out: hainit (unshare + re-exec of the test binary), heartbeat,
# media and ipaddr (whole daemons and addresses in namespaces: native run
# and `make vmtest`), lab/bench/vm (harnesses).
full="./hw/... ./conf ./applets/internal/... ./applets/authkeygen ./applets/cli
      ./applets/heartbeat/membership ./applets/heartbeat/resources
      ./applets/heartbeat/control ./applets/serialtest ./applets/mkwatchdog"
# mips64 (big-endian, 64-bit: where a Go int read by the watchdog ioctls went
# wrong) runs only the ABI-sensitive packages.
small="./hw/watchdog ./hw/hwtest/kabi ./hw/serial ./hw/netif ./hw/udp"

arches=${*:-mipsle mips armv7 arm64 mips64}
out=${TMPDIR:-/tmp}/habox-test-cross.$$
trap 'rm -rf "$out"' EXIT
mkdir -p "$out"
failed=""
total_start=$(date +%s)
for arch in $arches; do
	pkgs=$full
	case $arch in
	mipsle) env="GOARCH=mipsle GOMIPS=softfloat" q=qemu-mipsel-static ;;
	mips) env="GOARCH=mips GOMIPS=softfloat" q=qemu-mips-static ;;
	armv7) env="GOARCH=arm GOARM=7" q=qemu-arm-static ;;
	arm64) env="GOARCH=arm64" q=qemu-aarch64-static ;;
	mips64) env="GOARCH=mips64 GOMIPS64=softfloat" q=qemu-mips64-static pkgs=$small ;;
	*) echo "test-cross: unknown arch $arch (mipsle mips armv7 arm64 mips64)" >&2; exit 2 ;;
	esac
	if ! command -v $q >/dev/null; then
		if [ "${CI:-}" = true ]; then echo "test-cross: $q missing; .ci/run must install qemu-user-static" >&2; exit 1; fi
		echo "test-cross: skipping $arch: $q not installed (apt-get install qemu-user-static)"; continue
	fi
	start=$(date +%s)
	mkdir -p "$out/$arch"
	list=$(env $env $GO list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}:{{.Dir}}{{end}}' $pkgs) || exit 1
	# One go command builds every test binary of the arch (-o DIR/).
	if ! env CGO_ENABLED=0 GOOS=linux $env $GO test -c -o "$out/$arch/" $(echo "$list" | sed 's/:.*//') >"$out/$arch.build" 2>&1; then
		cat "$out/$arch.build"; failed="$failed $arch(build)"; continue
	fi
	built=$(date +%s)
	n=0
	for e in $list; do
		ip=${e%%:*} dir=${e#*:}
		bin="$out/$arch/${ip##*/}.test"
		[ -x "$bin" ] || continue
		n=$((n + 1))
		# Tests read testdata/ relative to their package directory.
		if ! (cd "$dir" && HABOX_EMULATOR=qemu-user timeout -k 10 600 $q "$bin" -test.count=1 -test.timeout 540s >"$out/run.log" 2>&1); then
			echo "FAIL $arch $ip"; grep -v '^=== ' "$out/run.log" | tail -40
			failed="$failed $arch:$ip"
		fi
	done
	echo "test-cross $arch: $n packages, build $((built - start)) s, run $(($(date +%s) - built)) s under $q"
done
echo "test-cross: $(($(date +%s) - total_start)) s in all"
if [ -n "$failed" ]; then
	echo "test-cross FAILED:$failed"
	exit 1
fi
