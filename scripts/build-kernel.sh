#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds one of the two kernels out of tree under build/, from tinyconfig plus
# kernel/common.config plus kernel/VARIANT.config:
#   debug  KASAN, lockdep, kmemleak, DEBUG_LIST, Rust assertions, KUnit: what `make check` runs
#   lean   none of those, optimised for speed: what `make demo` and `make bench` run
# Cached: rebuilt only when a fragment, this script, the toolchain or the kernel version changes.
#
# Usage: scripts/build-kernel.sh BUILD_DIR VARIANT
# Prints the kernel build directory (KDIR, BUILD_DIR/kernel-VARIANT) on stdout.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
variant=${2:-debug}
case "$variant" in
debug|lean) ;;
*) echo "build-kernel: unknown variant '$variant' (debug or lean)" >&2; exit 1 ;;
esac
mkdir -p "$build"
build=$(cd "$build" && pwd)

. "$top/scripts/toolchain.sh"

tarball=$(ls /usr/src/linux-source-7.3.tar.xz 2>/dev/null ||
	  ls /usr/src/linux-source-7.*.tar.xz 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$tarball" ] || { echo "build-kernel: no /usr/src/linux-source-7.*.tar.xz; run scripts/setup.sh" >&2; exit 1; }
srcname=$(basename "$tarball" .tar.xz)
src=$build/$srcname
kdir=$build/kernel-$variant

# Two builds may run at once (make -j check bench): extract under a lock.
exec 9>"$build/.extract.lock"
flock 9
if [ ! -f "$src/.extracted" ]; then
	echo "build-kernel: extracting $tarball" >&2
	rm -rf "$src"
	tar -C "$build" -xJf "$tarball"
	touch "$src/.extracted"
fi
flock -u 9

frags=("$top/kernel/common.config" "$top/kernel/$variant.config")
key=$( { cat "${frags[@]}" "$0" "$top/scripts/toolchain.sh"; stat -c '%s %Y' "$tarball"; echo "$srcname"; } |
       sha256sum | cut -c1-16)
if [ -f "$kdir/.rust_inotify-stamp" ] && [ "$(cat "$kdir/.rust_inotify-stamp")" = "$key" ] &&
   [ -f "$kdir/arch/x86/boot/bzImage" ] && [ -f "$kdir/Module.symvers" ]; then
	echo "$kdir"
	exit 0
fi

echo "build-kernel: building the $variant kernel ($srcname) in ${kdir#$top/} (several minutes)" >&2
mkdir -p "$kdir"
rm -f "$kdir/.rust_inotify-stamp"
kmake() { make -C "$src" O="$kdir" ARCH=x86_64 "${KMAKE_ARGS[@]}" "$@"; }
kmake -s tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$kdir" "$kdir/.config" "${frags[@]}" >/dev/null
kmake -s olddefconfig >&2

# Every option the fragments set must have survived olddefconfig (a missing dependency drops it
# silently otherwise), and every option they turn off must be off.
bad=0
for frag in "${frags[@]}"; do
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qx "$line" "$kdir/.config" ||
				{ echo "build-kernel: $line (${frag##*/}) did not stick" >&2; bad=1; } ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			grep -q "^$opt=" "$kdir/.config" &&
				{ echo "build-kernel: $opt (${frag##*/}) should be off" >&2; bad=1; } ;;
		esac
	done <"$frag"
done
[ "$bad" = 0 ] || exit 1

kmake -s -j"$(nproc)" >&2
echo "$key" >"$kdir/.rust_inotify-stamp"
echo "$kdir"
