#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make dkms-check`: builds the module with Debian's dkms and the top-level dkms.conf, against a
# kernel tree (the project's debug kernel), the way dkms would for an installed kernel. Everything
# dkms writes goes to a temporary directory: --sourcetree and --dkmstree point there, and so do
# its module-signing key and certificate (which it would otherwise create in /var/lib/dkms when
# the machine has a sign-file), so /var/lib/dkms and /usr/src are not touched. Installs dkms
# first if it is missing (checking first, as scripts/setup.sh does). Exits 0 when the build
# produced rust_inotify.ko.
# Usage: scripts/dkms-check.sh KDIR
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
kdir=$(cd "${1:?usage: dkms-check.sh KDIR}" && pwd)
say() { printf 'dkms-check: %s\n' "$*" >&2; }

if ! dpkg-query -W -f='${Status}' dkms 2>/dev/null | grep -q 'install ok installed'; then
	[ "$(id -u)" -eq 0 ] || { say "dkms is missing; run as root to install it"; exit 1; }
	say "installing dkms"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends dkms >/dev/null 2>&1 || {
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends dkms >/dev/null
	}
fi

name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$top/dkms.conf")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
kver=$(cat "$kdir/include/config/kernel.release")

tmp=$(mktemp -d /tmp/rust_inotify-dkms.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src/$name-$version
mkdir -p "$src" "$tmp/dkms"
# The source as a package would ship it: the working tree without build output or git.
tar -C "$top" --exclude=./build --exclude=./.git --exclude=./tests/rust/target -cf - . |
	tar -C "$src" -xf -

args=(-m "$name" -v "$version" -k "$kver" --kernelsourcedir "$kdir"
      --sourcetree "$tmp/src" --dkmstree "$tmp/dkms")
say "dkms build $name/$version for $kver against ${kdir#$top/}"
# Signing (only when dkms finds a sign-file) with a throw-away key, not /var/lib/dkms/mok.key.
export mok_signing_key=$tmp/mok.key mok_certificate=$tmp/mok.pub
if ! dkms build "${args[@]}"; then
	say "FAILED; make.log:"
	cat "$tmp/dkms/$name/$version/build/make.log" 2>/dev/null >&2 || true
	exit 1
fi
ko=$(find "$tmp/dkms/$name/$version/$kver" -name "$name.ko*" | head -n 1)
[ -n "$ko" ] || { say "FAILED: dkms said it built, but there is no $name.ko"; exit 1; }
dkms status "${args[@]:0:4}" --dkmstree "$tmp/dkms" --sourcetree "$tmp/src" >&2 || true
say "ok: ${ko#$tmp/} ($(stat -c %s "$ko") bytes)"
