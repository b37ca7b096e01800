#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs everything rust_inotify needs on a Debian bookworm machine, from Debian's packages and
# crates.io only. Idempotent and fast when all is there: it checks before it installs. Called by
# the Makefile; safe to run by hand as root.
set -euo pipefail

KVER_WANTED=${KVER_WANTED:-7.3}
BINDGEN_VERSION=0.72.1
STAMP_DIR=${STAMP_DIR:-/var/lib/rust-inotify}

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs Debian packages)"

export DEBIAN_FRONTEND=noninteractive

# trixie-backports carries linux-source-7.x; pin it low so that nothing else upgrades from it.
SRC=/etc/apt/sources.list.d/rust-inotify-trixie-backports.sources
PIN=/etc/apt/preferences.d/rust-inotify-trixie-backports
changed=0
if ! grep -qs trixie-backports /etc/apt/sources.list /etc/apt/sources.list.d/*; then
	cat >"$SRC" <<'EOT'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	changed=1
fi
if [ ! -f "$PIN" ]; then
	cat >"$PIN" <<'EOT'
Package: *
Pin: release n=trixie-backports
Pin-Priority: 50
EOT
	changed=1
fi

# clang/lld/llvm-22 (bookworm-security) match rustc-web's LLVM 22.1.8: CONFIG_RUST_INLINE_HELPERS.
PKGS=(rustc-web rust-web-src rust-web-clippy clang-22 lld-22 llvm-22 libclang-22-dev flex bison bc libelf-dev
      libssl-dev cpio kmod busybox-static qemu-system-x86 make xz-utils gcc libc6-dev git)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
have_src=$(ls /usr/src/linux-source-${KVER_WANTED}.tar.xz 2>/dev/null || true)

if [ "$changed" = 1 ] || [ ${#missing[@]} -gt 0 ] || [ -z "$have_src" ]; then
	say "apt-get update"
	apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
	say "installing: ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -z "$have_src" ]; then
	if apt-cache show "linux-source-${KVER_WANTED}" >/dev/null 2>&1; then
		say "installing linux-source-${KVER_WANTED} from trixie-backports"
		apt-get install -y -qq --no-install-recommends \
			"linux-source-${KVER_WANTED}/trixie-backports" >/dev/null
	else
		alt=$(apt-cache search --names-only '^linux-source-7\.[0-9]+$' | awk '{print $1}' |
		      sort -V | tail -n 1)
		[ -n "$alt" ] || die "no linux-source-7.x package is available"
		say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
		say "!!! linux-source-${KVER_WANTED} is gone; falling back to ${alt} (newest available) !!!"
		say "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
		apt-get install -y -qq --no-install-recommends "${alt}/trixie-backports" >/dev/null ||
			apt-get install -y -qq --no-install-recommends "$alt" >/dev/null
	fi
fi

# bindgen for the kernel's Rust bindings: pinned, from crates.io, --locked.
BINDGEN=$HOME/.cargo/bin/bindgen
if ! { [ -x "$BINDGEN" ] && "$BINDGEN" --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$"; }; then
	command -v cargo >/dev/null || die "cargo is missing (the machine's rustup toolchain)"
	say "cargo install bindgen-cli $BINDGEN_VERSION"
	cargo install --quiet --locked bindgen-cli --version "$BINDGEN_VERSION"
fi

mkdir -p "$STAMP_DIR"
say "ok"
