#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the test kernel out of tree under build/, from tinyconfig plus kernel/rust_inotify.config.
# Cached: rebuilt only when the fragment, this script or the kernel version changes.
#
# Usage: scripts/build-kernel.sh BUILD_DIR
# Prints the kernel build directory (KDIR) on stdout.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)

. "$top/scripts/toolchain.sh"

tarball=$(ls /usr/src/linux-source-7.3.tar.xz 2>/dev/null ||
	  ls /usr/src/linux-source-7.*.tar.xz 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$tarball" ] || { echo "build-kernel: no /usr/src/linux-source-7.*.tar.xz; run scripts/setup.sh" >&2; exit 1; }
srcname=$(basename "$tarball" .tar.xz)
src=$build/$srcname
kdir=$build/kernel

if [ ! -f "$src/.extracted" ]; then
	echo "build-kernel: extracting $tarball" >&2
	rm -rf "$src"
	tar -C "$build" -xJf "$tarball"
	touch "$src/.extracted"
fi

frag=$top/kernel/rust_inotify.config
key=$( { cat "$frag" "$0"; stat -c '%s %Y' "$tarball"; echo "$srcname"; } | sha256sum | cut -c1-16)
if [ -f "$kdir/.rust_inotify-stamp" ] && [ "$(cat "$kdir/.rust_inotify-stamp")" = "$key" ] &&
   [ -f "$kdir/arch/x86/boot/bzImage" ] && [ -f "$kdir/Module.symvers" ]; then
	echo "$kdir"
	exit 0
fi

echo "build-kernel: building $srcname in $kdir (a few minutes)" >&2
mkdir -p "$kdir"
rm -f "$kdir/.rust_inotify-stamp"
kmake() { make -C "$src" O="$kdir" ARCH=x86_64 "${KMAKE_ARGS[@]}" "$@"; }
kmake -s tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$kdir" "$kdir/.config" "$frag" >/dev/null
kmake -s olddefconfig >&2

# Every option the fragment sets must have survived olddefconfig (a missing dependency drops it
# silently otherwise).
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qx "$line" "$kdir/.config" || { echo "build-kernel: $line did not stick" >&2; bad=1; } ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }; opt=${opt%% *}
		grep -q "^$opt=" "$kdir/.config" && { echo "build-kernel: $opt should be off" >&2; bad=1; } ;;
	esac
done <"$frag"
[ "$bad" = 0 ] || exit 1

kmake -s -j"$(nproc)" >&2
echo "$key" >"$kdir/.rust_inotify-stamp"
echo "$kdir"
