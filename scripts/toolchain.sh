# SPDX-License-Identifier: GPL-2.0
# Sourced by the build scripts: the toolchain arguments every kbuild call gets.
# The rustup toolchain first on PATH has no rust-src; Debian's rustc-web has (rust-web-src).
BINDGEN_BIN=${BINDGEN_BIN:-$(command -v bindgen || echo "$HOME/.cargo/bin/bindgen")}
KMAKE_ARGS=(LLVM=-19 RUSTC=/usr/bin/rustc BINDGEN="$BINDGEN_BIN")
