#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots one of the project's kernels with its initramfs under QEMU (TCG, 2 CPUs) and runs the
# guest in a mode:
#   check: every suite (debug kernel); then scripts/tap-summary.py turns the output and the kernel
#          log into one line, "N passed, N failed", and the exit code (non-zero on any failure, a
#          missing or short plan, a guest that does not finish, any kernel splat, or a guest that
#          brought up fewer CPUs than it was given).
#   demo:  shows the module at work (lean kernel).
#   profile: instructions per symbol of one bench metric on each backend (make profile).
#   bench: two boots of the lean kernel. The first under `-icount shift=0,sleep=off`, where guest
#          time counts executed instructions (1 ns each), for the paired Rust/kernel metrics; the
#          second without icount, so that both CPUs run at once, for the wall-clock ones. Then
#          scripts/bench-report.py prints the `ratio NAME R` lines and writes
#          build/bench/results.json, and scripts/plot-bench.py draws docs/*.svg from it.
# Usage: scripts/run-guest.sh MODE BUILD_DIR VARIANT
# Environment: GUEST_TIMEOUT (s), GUEST_CPUS (default 2), GUEST_APPEND (more kernel arguments:
# maxcpus=1 to see the CPU check fail; ri_only=GLOB to run only some suites, see tests/guest/init).
set -euo pipefail

mode=$1
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${2:-$top/build}" && pwd)
variant=${3:-debug}
guest=$build/guest-$variant
kernel=$build/kernel-$variant/arch/x86/boot/bzImage
cpus=${GUEST_CPUS:-2}

# boot GUEST_MODE TIMEOUT [QEMU ARGS...]: one guest run; its test output (second serial port) in
# $guest/output-GUEST_MODE.log, its kernel log in $guest/console-GUEST_MODE.log. Sets $qemu_rc.
boot() {
	local gmode=$1 timeout_s=$2
	shift 2
	console=$guest/console-$gmode.log
	output=$guest/output-$gmode.log
	rm -f "$console" "$output"
	echo "run-guest: booting the $variant kernel ($gmode); kernel log: ${console#$top/}" >&2
	set +e
	# TCG: KVM here belongs to a nested host and hangs at boot.
	timeout "$timeout_s" qemu-system-x86_64 \
		-accel tcg -cpu max -smp "$cpus" -m 2G "$@" \
		-display none -no-reboot \
		-kernel "$kernel" -initrd "$guest/initramfs.cpio" \
		-append "console=ttyS0 panic=-1 loglevel=7 ri_mode=$gmode ri_cpus=$cpus ${GUEST_APPEND:-}" \
		-serial "file:$console" -serial stdio </dev/null | tee "$output"
	qemu_rc=${PIPESTATUS[0]}
	set -e
	if [ "$qemu_rc" = 124 ]; then
		echo "run-guest: the guest did not finish within ${timeout_s}s" >&2
	fi
}

# The verdict of a demo or bench boot: it finished, no splat, every CPU up.
verdict() {
	if ! grep -q '^# guest: done' "$output"; then
		echo "run-guest: the guest did not finish" >&2
		return 1
	fi
	python3 "$top/scripts/tap-summary.py" --splats-only --console "$console" --output "$output" \
		--cpus "$cpus"
}

case "$mode" in
check)
	boot check "${GUEST_TIMEOUT:-2700}"
	exec python3 "$top/scripts/tap-summary.py" --output "$output" --console "$console" \
		--qemu-rc "$qemu_rc" --cpus "$cpus"
	;;
demo)
	t0=$(date +%s)
	boot demo "${GUEST_TIMEOUT:-600}"
	t1=$(date +%s)
	verdict
	echo "run-guest: the demo guest took $((t1 - t0)) s from boot to power-off" >&2
	# The demo's last line, last: how many times faster the ioctl restore is than the loop.
	grep '^restoring wd' "$output" | tail -n 1
	;;
bench)
	mkdir -p "$build/bench"
	# For counts that repeat from boot to boot, nothing the host times may reach the guest:
	# no user-space address randomization from the first process on, and the RTC on the
	# virtual clock (tests/guest/init does the rest).
	# One CPU: icount runs the CPUs in turn on one clock anyway, and bringing up a second one
	# (even to take it offline later) made the boots drift apart by a few instructions.
	wall_cpus=$cpus
	cpus=1
	GUEST_APPEND="norandmaps ${GUEST_APPEND:-}" \
		boot bench "${GUEST_TIMEOUT:-3000}" -icount shift=0,sleep=off -rtc clock=vm
	verdict
	icount_out=$output
	cpus=$wall_cpus
	boot bench-wall "${GUEST_TIMEOUT:-600}"
	verdict
	python3 "$top/scripts/bench-report.py" --icount "$icount_out" --wall "$output" \
		--json "$build/bench/results.json" >"$build/bench/report.txt" || rc=$?
	# The pictures (from a complete report only) first, so that the report's `ratio NAME R`
	# lines stay the last ones printed.
	if [ -z "${rc:-}" ]; then
		python3 "$top/scripts/plot-bench.py" "$build/bench/results.json" "$top/docs" >&2 ||
			echo "run-guest: WARNING: the pictures were not drawn" >&2
	fi
	cat "$build/bench/report.txt"
	exit "${rc:-0}"
	;;
profile)
	# make profile METRIC=NAME: one icount boot per backend running only that metric, under
	# scripts/profile/insn-profile.so, which counts the instructions of every block; then
	# scripts/profile/report.py prints instructions per operation, symbol by symbol.
	metric=${PROFILE_METRIC:?PROFILE_METRIC is needed}
	dir=$build/profile
	cpus=1
	for be in kernel rust; do
		GUEST_APPEND="norandmaps ri_profile=$metric:$be ${GUEST_APPEND:-}" \
			boot profile "${GUEST_TIMEOUT:-3000}" -icount shift=0,sleep=off -rtc clock=vm \
			-plugin "$dir/insn-profile.so,out=$dir/$metric-$be.blocks"
		verdict
		cp "$output" "$dir/$metric-$be.log"
	done
	exec python3 "$top/scripts/profile/report.py" --vmlinux "$build/kernel-$variant/vmlinux" \
		"$dir/$metric"
	;;
*)
	echo "run-guest: unknown mode '$mode'" >&2
	exit 2
	;;
esac
