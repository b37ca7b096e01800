# SPDX-License-Identifier: GPL-2.0
# Sourced by the build scripts: the toolchain arguments every kbuild call gets.
# The rustup toolchain first on PATH has no rust-src; Debian's rustc-web has (rust-web-src).
# LLVM=-22: clang, lld and libclang of the LLVM that rustc-web is built with (22.1.8), which
# CONFIG_RUST_INLINE_HELPERS requires. The Makefile passes the same (keep them in step).
BINDGEN_BIN=${BINDGEN_BIN:-$(command -v bindgen || echo "$HOME/.cargo/bin/bindgen")}
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-22/lib}
KMAKE_ARGS=(LLVM=-22 RUSTC=/usr/bin/rustc BINDGEN="$BINDGEN_BIN")
