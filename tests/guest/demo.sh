#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make demo`, in the guest: init has loaded the module and applied the udev rule's mode.
echo
echo "== guest: Linux $(uname -r), module rust_inotify loaded:"
grep rust_inotify /proc/modules
ls -l /dev/rust_inotify
dmesg | grep 'rust_inotify:' | sed 's/^\[[ 0-9.]*\] /   kernel log: /'
criu_demo() {
	d=/tmp/criu-demo
	rm -rf "$d"
	mkdir -p "$d/img"
	echo
	echo "== CRIU: a real checkpoint and restore ($(criu --version 2>/dev/null | head -n 1), with"
	echo "   rust_inotify_plugin.so) of a process holding a kernel inotify fd and a /dev/rust_inotify"
	echo "   fd, each with a watch at wd 0x34d71d6 (mask IN_MODIFY|IN_EXCL_UNLINK) and one queued event"
	(cd "$d" && setsid rust_inotify_criu_demo "$d" </dev/null >"$d/out" 2>&1 &)
	i=0
	while [ ! -s "$d/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	pid=$(cat "$d/ready" 2>/dev/null)
	[ -n "$pid" ] || { echo "   the process did not start:"; cat "$d/out"; return 1; }
	cat "$d/out"
	if ! (cd "$d" && timeout 120 criu dump -t "$pid" -D img -o dump.log -v4); then
		echo "   criu dump failed:"; grep -E 'Error|rust_inotify' "$d/img/dump.log" | head -n 8; return 1
	fi
	echo "  (criu dump: the process is gone: $( [ -d /proc/$pid ] && echo no || echo yes ))"
	if ! (cd "$d" && timeout 120 criu restore -D img -d -o restore.log -v4); then
		echo "   criu restore failed:"; grep -E 'Error|rust_inotify' "$d/img/restore.log" | head -n 8; return 1
	fi
	kill -USR1 "$pid"
	i=0
	while [ ! -s "$d/report" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	cat "$d/report" || return 1
	echo "   The kernel's fd lost IN_EXCL_UNLINK (0x4000000) and its queued event: CRIU keeps only"
	echo "   mask & IN_ALL_EVENTS and drops the queue. /dev/rust_inotify's fd is what it was."
}
criu_demo || echo "== CRIU demo FAILED"
rust_inotify_demo
