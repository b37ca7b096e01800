#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds build/profile/insn-profile.so, make profile's QEMU plugin, against the qemu-plugin.h of
# the installed QEMU (taken from Debian's source tarball of that version, once).
# Usage: scripts/profile/build-plugin.sh BUILD_DIR
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1/profile
mkdir -p "$dir"
so=$dir/insn-profile.so
src=$top/scripts/profile/insn-profile.c
if [ -f "$so" ] && [ "$so" -nt "$src" ]; then
	exit 0
fi
if [ ! -f "$dir/qemu-plugin.h" ]; then
	# 1:7.2+dfsg-7+deb12u18+b3 -> 7.2+dfsg
	ver=$(dpkg-query -W -f '${Version}' qemu-system-x86 | sed 's/^[0-9]*://; s/-[^-]*$//')
	url=http://deb.debian.org/debian/pool/main/q/qemu/qemu_$ver.orig.tar.xz
	echo "profile: fetching qemu-plugin.h from $url" >&2
	curl -sSf "$url" | tar -xJ -O --wildcards '*/include/qemu/qemu-plugin.h' >"$dir/qemu-plugin.h.tmp"
	mv "$dir/qemu-plugin.h.tmp" "$dir/qemu-plugin.h"
fi
gcc -O2 -shared -fPIC -Wall -Wextra -Wno-unused-parameter -I "$dir" -o "$so" "$src" -lpthread
