#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetches CRIU 4.1.1 from Debian trixie for the guest's criu suite, and libcriu-dev for the
# plugin's header (criu/criu-plugin.h). Nothing is installed on the host, and the host's apt
# configuration is not touched: a private sources list (trixie main only), package lists and
# cache live under BUILD/criu/apt, `apt-get download` puts the .debs in BUILD/criu/debs (kept, so
# reruns do not download) and `dpkg -x` unpacks them into BUILD/criu/root.
#
# Why trixie's criu: bookworm's 3.17.1 cannot start on kernels >= 6.13 ("Unexpected rt vDSO area
# bounds", the vvar_vclock mapping); 4.1 fixed it. Why its whole library closure, glibc included:
# criu 4.1.1 needs libc6 >= 2.38 and bookworm has 2.36. So the guest runs trixie's criu with
# trixie's own loader and libraries (a wrapper calls BUILD/criu/root's ld.so with
# --library-path), apart from the bookworm libraries that the other suites' programs use.
# This script checks that every DT_NEEDED of criu and of each library resolves inside the root.
#
# Usage: scripts/fetch-criu.sh BUILD_DIR
set -euo pipefail

mkdir -p "${1:?usage: fetch-criu.sh BUILD_DIR}"	# make criu-plugin may come first in a fresh clone
build=$(cd "$1" && pwd)
dir=$build/criu
apt=$dir/apt
debs=$dir/debs
root=$dir/root
suite=trixie
version=4.1.1-1
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc/parts" "$apt/state" "$debs"
[ -f "$apt/state/status" ] || : >"$apt/state/status"
cat >"$apt/etc/sources.list.new" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main
EOF
mv "$apt/etc/sources.list.new" "$apt/etc/sources.list"

# Only these files: the host's sources, preferences, package state and cache are never read
# nor written (an empty status file: apt resolves as for an empty system).
aptopts=(-o "Dir::Etc::sourcelist=$apt/etc/sources.list" -o "Dir::Etc::sourceparts=$apt/etc/parts"
	 -o "Dir::Etc::preferences=$apt/etc/preferences" -o "Dir::Etc::preferencesparts=$apt/etc/parts"
	 -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/state/status"
	 -o "Dir::Cache=$apt/cache" -o "APT::Architecture=amd64" -o "Debug::NoLocking=1")

# The package set: criu and what it depends on, recursively (no recommends), and the header's
# package. Recorded in pkgs.txt, so that a rerun needs neither the network nor the lists.
if [ ! -s "$dir/pkgs.txt" ] || [ "$(head -n 1 "$dir/pkgs.txt")" != "criu $version" ]; then
	echo "  APT     update ($suite, private lists under build/criu/apt)" >&2
	apt-get "${aptopts[@]}" -qq update
	got=$(apt-cache "${aptopts[@]}" show --no-all-versions criu | sed -n 's/^Version: //p')
	[ "$got" = "$version" ] ||
		{ echo "fetch-criu: $suite has criu $got, expected $version" >&2; exit 1; }
	{
		echo "criu $version"
		apt-cache "${aptopts[@]}" depends --recurse --no-recommends --no-suggests \
			--no-conflicts --no-breaks --no-replaces --no-enhances criu |
			grep -v '^ ' | grep -v '^<' | grep -vx criu | sort -u
		echo libcriu-dev
	} >"$dir/pkgs.txt.new"
	mv "$dir/pkgs.txt.new" "$dir/pkgs.txt"
fi
mapfile -t pkgs < <(echo criu; tail -n +2 "$dir/pkgs.txt")

missing=()
for p in "${pkgs[@]}"; do
	compgen -G "$debs/${p}_*.deb" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "  APT     download ${missing[*]}" >&2
	[ -n "$(ls "$apt/lists" | grep -v -e partial -e lock)" ] || apt-get "${aptopts[@]}" -qq update
	# apt-get warns that _apt cannot write to the directory as root: harmless.
	(cd "$debs" && apt-get "${aptopts[@]}" download -qq "${missing[@]}" 2>&1 |
		grep -v unsandboxed >&2) || true
	for p in "${missing[@]}"; do
		compgen -G "$debs/${p}_*.deb" >/dev/null ||
			{ echo "fetch-criu: cannot download $p from $suite" >&2; exit 1; }
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
	lib=$root/usr/lib/x86_64-linux-gnu
	# Every library criu loads must be in the root: follow DT_NEEDED from criu.
	todo=("$root/usr/sbin/criu")
	seen=" "
	while [ ${#todo[@]} -gt 0 ]; do
		elf=${todo[0]}
		todo=("${todo[@]:1}")
		for need in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case "$seen" in *" $need "*) continue ;; esac
			seen="$seen$need "
			[ -e "$lib/$need" ] ||
				{ echo "fetch-criu: ${elf#$root/} needs $need, not in the trixie root" >&2; exit 1; }
			todo+=("$lib/$need")
		done
	done
	[ -x "$root/usr/lib64/ld-linux-x86-64.so.2" ] && [ -f "$root/usr/include/criu/criu-plugin.h" ] ||
		{ echo "fetch-criu: the root lacks ld.so or criu-plugin.h" >&2; exit 1; }
	touch "$stamp"
	echo "  DPKG-X  build/criu/root (criu $version and its libraries)" >&2
fi
