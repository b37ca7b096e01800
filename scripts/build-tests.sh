#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the guest's test programs and its initramfs:
#   build/tests/c/*            the kselftest-style C tests (static)
#   build/tests/rust/...       the Rust user-space tests (static)
#   build/tests/programs/preload_test
#                              the LD_PRELOAD library's test (dynamic: it must be interposed)
#   build/guest-VARIANT/initramfs.cpio
#                              busybox (with mke2fs and losetup), the module built for that
#                              kernel (and, for debug, the build without SETNEXTWD), the tests,
#                              tests/guest/init; and for tests/programs: inotifywait,
#                              inotifywatch and GNU tail from Debian's packages
#                              (scripts/fetch-programs.sh), build/preload/'s library, and the
#                              host's shared libraries they need; and for tests/criu: trixie's
#                              criu 4.1.1 with its own loader and libraries under /opt/criu
#                              (scripts/fetch-criu.sh), /bin/criu running it, and the plugin in
#                              /usr/lib/criu
# Needs `make preload` and `make criu-plugin` first (the Makefile's tests-* targets do them).
# Usage: scripts/build-tests.sh BUILD_DIR VARIANT (debug or lean)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
variant=${2:-debug}
ksrc=$(ls -d "$build"/linux-source-7.* | sort -V | tail -n 1)
out=$build/tests
mkdir -p "$out/c" "$out/rust"

# C tests: one static binary each, with the kernel tree's kselftest_harness.h.
cflags=(-static -O2 -g -Wall -D_GNU_SOURCE -pthread
	-I "$ksrc/tools/testing/selftests" -I "$top/include" -I "$top/tests/c")
for src in "$top"/tests/c/*_test.c; do
	bin=$out/c/$(basename "$src" .c)
	# Rebuild when the source or any shared header is newer than the binary.
	if [ ! -x "$bin" ] || [ -n "$(find "$src" "$top"/tests/c/*.h "$top"/include -newer "$bin" 2>/dev/null | head -n 1)" ]; then
		echo "  CC      tests/c/$(basename "$src")" >&2
		gcc "${cflags[@]}" -o "$bin" "$src"
	fi
done

# The criu suite's program.
mkdir -p "$out/criu"
src=$top/tests/criu/criu_test.c
bin=$out/criu/criu_test
if [ ! -x "$bin" ] || [ -n "$(find "$src" "$top"/include -newer "$bin" 2>/dev/null | head -n 1)" ]; then
	echo "  CC      tests/criu/criu_test.c" >&2
	gcc "${cflags[@]}" -Wextra -o "$bin" "$src"
fi

# criu 4.1.1 and its libraries from trixie (cached under build/criu).
bash "$top/scripts/fetch-criu.sh" "$build"

# The demo program.
mkdir -p "$out/demo"
gcc "${cflags[@]}" -o "$out/demo/rust_inotify_demo" "$top/tests/demo/demo.c"
gcc "${cflags[@]}" -Wextra -o "$out/demo/rust_inotify_criu_demo" "$top/tests/demo/criu_demo.c"

# The library's test: dynamically linked, the one test that is (LD_PRELOAD needs it).
mkdir -p "$out/programs"
src=$top/tests/programs/preload_test.c
bin=$out/programs/preload_test
if [ ! -x "$bin" ] || [ -n "$(find "$src" "$top"/tests/c/*.h "$top"/include -newer "$bin" 2>/dev/null | head -n 1)" ]; then
	echo "  CC      tests/programs/preload_test.c" >&2
	gcc "${cflags[@]:1}" -o "$bin" "$src"	# all of cflags but -static
fi

# The real programs for tests/programs, from Debian's packages (cached under build/programs).
bash "$top/scripts/fetch-programs.sh" "$build"

# Rust tests: a static binary from the host's cargo, sharing uapi.rs with the module.
if [ -f "$top/tests/rust/Cargo.toml" ]; then
	echo "  CARGO   tests/rust" >&2
	RUSTFLAGS="-C target-feature=+crt-static" cargo build --quiet --release --locked \
		--manifest-path "$top/tests/rust/Cargo.toml" \
		--target x86_64-unknown-linux-gnu --target-dir "$out/rust"
fi

# The initramfs.
guest=$build/guest-$variant
root=$guest/root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,run,etc/udev/rules.d,modules/nocr,tests/c,tests/nocr,tests/rust,tests/criu}
cp /bin/busybox "$root/bin/busybox"
for app in $("$root/bin/busybox" --list); do
	[ "$app" = busybox ] || ln -sf busybox "$root/bin/$app"
done
cp "$top/tests/guest/init" "$root/init"
cp "$top/tests/guest/demo.sh" "$root/demo.sh" 2>/dev/null || true
chmod +x "$root/init"
cp "$top/udev/60-rust-inotify.rules" "$root/etc/udev/rules.d/"
cp "$build/module-$variant/rust_inotify.ko" "$root/modules/"
if [ "$variant" = debug ]; then
	cp "$build/module-nocr/rust_inotify.ko" "$root/modules/nocr/"
fi
for bin in "$out"/c/*_test; do
	case "$(basename "$bin")" in
	setnextwd_off_test) cp "$bin" "$root/tests/nocr/" ;;
	*) cp "$bin" "$root/tests/c/" ;;
	esac
done
cp "$out/demo/rust_inotify_demo" "$out/demo/rust_inotify_criu_demo" "$root/bin/"
rbin=$out/rust/x86_64-unknown-linux-gnu/release/rust_inotify_tests
[ -x "$rbin" ] && cp "$rbin" "$root/tests/rust/"
# tests/programs: the programs in /programs/bin, the library in /programs/lib, and every shared
# library they load (the host's glibc, which is the release the packages were built for) at the
# path ldd finds it on the host, which the guest's ld.so searches too.
progs=$build/programs/root
mkdir -p "$root/programs/bin" "$root/programs/lib" "$root/tests/programs"
cp "$progs/usr/bin/inotifywait" "$progs/usr/bin/inotifywatch" "$progs/usr/bin/tail" \
	"$root/programs/bin/"
cp "$build/preload/librust_inotify_preload.so" "$root/programs/lib/"
mkdir -p "$root/usr/lib/x86_64-linux-gnu"
cp -P "$progs"/usr/lib/x86_64-linux-gnu/libinotifytools.so.0* "$root/usr/lib/x86_64-linux-gnu/"
cp "$top/tests/programs/run.sh" "$out/programs/preload_test" "$root/tests/programs/"
for elf in "$root"/programs/bin/* "$root"/programs/lib/*.so "$root/tests/programs/preload_test"; do
	LD_LIBRARY_PATH=$progs/usr/lib/x86_64-linux-gnu ldd "$elf" |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
	case "$lib" in "$progs"/*) continue ;; esac	# libinotifytools, copied above
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

# criu: trixie's binary, loader and libraries under /opt/criu, apart from the bookworm libraries
# above; /bin/criu runs it with that loader. The plugin where criu looks by default.
croot=$build/criu/root
mkdir -p "$root/opt/criu/sbin" "$root/opt/criu/lib"
cp "$croot/usr/sbin/criu" "$root/opt/criu/sbin/"
cp -L "$croot/usr/lib64/ld-linux-x86-64.so.2" "$root/opt/criu/lib/"
cp -P "$croot"/usr/lib/x86_64-linux-gnu/*.so.* "$root/opt/criu/lib/"
cat >"$root/bin/criu" <<'END'
#!/bin/sh
exec /opt/criu/lib/ld-linux-x86-64.so.2 --library-path /opt/criu/lib /opt/criu/sbin/criu "$@"
END
chmod +x "$root/bin/criu"
install -D -m 0644 "$build/criu-plugin/rust_inotify_plugin.so" "$root/usr/lib/criu/rust_inotify_plugin.so"
cp "$out/criu/criu_test" "$root/tests/criu/"

echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) >"$guest/initramfs.cpio"
echo "  CPIO    build/guest-$variant/initramfs.cpio" >&2
