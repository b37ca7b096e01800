#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the test kernel with the initramfs under QEMU (TCG) and runs the guest in a mode:
#   check: every suite; then scripts/tap-summary.py turns the output and the kernel log into one
#          line, "N passed, N failed", and the exit code (non-zero on any failure, a missing or
#          short plan, a guest that does not finish, or any kernel splat).
#   demo:  shows the module at work; bench: the benchmarks.
# Usage: scripts/run-guest.sh MODE BUILD_DIR
set -euo pipefail

mode=$1
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${2:-$top/build}" && pwd)
guest=$build/guest
kernel=$build/kernel/arch/x86/boot/bzImage
timeout_s=${GUEST_TIMEOUT:-1500}

console=$guest/console-$mode.log
output=$guest/output-$mode.log
rm -f "$console" "$output"

echo "run-guest: booting the test kernel ($mode); kernel log: ${console#$top/}" >&2
set +e
# TCG: KVM here belongs to a nested host and hangs at boot.
timeout "$timeout_s" qemu-system-x86_64 \
	-accel tcg -cpu max -smp 2 -m 2G \
	-display none -no-reboot \
	-kernel "$kernel" -initrd "$guest/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 loglevel=7 ri_mode=$mode" \
	-serial "file:$console" -serial stdio </dev/null | tee "$output"
qemu_rc=${PIPESTATUS[0]}
set -e
[ "$qemu_rc" = 124 ] && echo "run-guest: the guest did not finish within ${timeout_s}s" >&2

case "$mode" in
check)
	exec python3 "$top/scripts/tap-summary.py" --output "$output" --console "$console" \
		--qemu-rc "$qemu_rc"
	;;
*)
	if grep -q '^# guest: done' "$output"; then
		python3 "$top/scripts/tap-summary.py" --console "$console" --splats-only
	else
		echo "run-guest: the guest did not finish" >&2
		exit 1
	fi
	;;
esac
