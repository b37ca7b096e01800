#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetches the real Debian programs that the guest's tests/programs suite runs through
# librust_inotify_preload.so: inotifywait and inotifywatch (inotify-tools, libinotifytools0) and
# GNU tail (coreutils). They are never installed on the host: `apt-get download` puts the .debs in
# BUILD/programs/debs (kept, so reruns do not download) and `dpkg -x` unpacks them into
# BUILD/programs/root. The release is the host's, so the programs match the host's glibc, which
# scripts/build-tests.sh copies into the initramfs with them.
# Usage: scripts/fetch-programs.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:?usage: fetch-programs.sh BUILD_DIR}" && pwd)
debs=$build/programs/debs
root=$build/programs/root
pkgs=(inotify-tools libinotifytools0 coreutils)
mkdir -p "$debs"

missing=()
for p in "${pkgs[@]}"; do
	compgen -G "$debs/${p}_*.deb" >/dev/null || missing+=("$p")
done
download() { # packages...: into $debs; apt-get warns that _apt cannot write there as root
	(cd "$debs" && apt-get download -qq "$@" 2>&1 | grep -v 'unsandboxed' >&2) || true
}
if [ ${#missing[@]} -gt 0 ]; then
	echo "  APT     download ${missing[*]}" >&2
	download "${missing[@]}"
	for p in "${missing[@]}"; do
		compgen -G "$debs/${p}_*.deb" >/dev/null && continue
		# The package lists may be stale or missing on a fresh machine.
		apt-get update -qq
		download "$p"
		compgen -G "$debs/${p}_*.deb" >/dev/null ||
			{ echo "fetch-programs: cannot download $p" >&2; exit 1; }
	done
fi

# Unpack again when a .deb is newer than the unpacked tree (or there is none).
stamp=$root/.unpacked
if [ ! -f "$stamp" ] || [ -n "$(find "$debs" -name '*.deb' -newer "$stamp" | head -n 1)" ]; then
	rm -rf "$root"
	mkdir -p "$root"
	for deb in "$debs"/*.deb; do
		dpkg -x "$deb" "$root"
	done
	touch "$stamp"
	echo "  DPKG-X  build/programs/root" >&2
fi
