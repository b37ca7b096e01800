#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Real Debian programs on /dev/rust_inotify through librust_inotify_preload.so, differentially.
#
# Each scenario runs a program twice over the same scripted file-system activity: once plain, on
# the kernel's inotify (the reference: no library at all), and once under LD_PRELOAD with the
# library in its default (auto) mode, on the device. For each it asserts that
#   - the kernel run's process had an anon_inode:inotify fd (and no device fd),
#   - the device run's process had a /dev/rust_inotify fd (and no anon_inode:inotify fd), with
#     the watches in its fdinfo,
#   - both runs printed the same thing (stdout, stderr and exit code).
# Programs: inotifywait (-m -r over a tree; -m with every event on a directory and a file in it;
# one-shot waits with timeouts), inotifywatch (the
# statistics), GNU tail -F (rotation, truncation) and tail -f. Then the library's modes: forced
# kernel, forced device, and auto's fallback when the device node is missing or not permitted
# (and forced device's failure then). preload_test (a C program against the library, in the same
# directory) runs first, and its cases are part of this suite's plan.
#
# The kernel's merge race. The kernel merges an event into the last queued one when the two are
# identical (same wd, mask, cookie and name) and the last one has not been read yet. So a
# truncating open followed by a write gives one IN_MODIFY or two, depending on whether the reader
# got to the first one in between; the same goes for two reads of a directory (IN_ACCESS). The
# device does exactly the same (the C tests check the merge rule itself), but the timing of two
# runs differs, so a program's output may honestly differ between them. The scenarios are
# scripted so that the race cannot occur, rather than normalised after the fact:
#   - every step waits until the program has shown the previous step's effect (a line in its
#     output) before it makes the next change, so no two changes are queued unread together
#     except where the script wants it; where the program adds watches for a new directory, the
#     script also waits until the program is asleep again (see wait_asleep), which is itself a
#     race of the program's (and a real one: the kernel's inotify loses those events too);
#   - or a scenario's changes are such that no two identical events can be in a row (flat), and
#     then the reader's timing does not matter at all;
#   - inotifywatch counts every event and prints nothing until the end, so its activity never
#     makes two identical events in a row: appends (open, modify, close) rather than
#     truncate-and-write, no directory listings, no new files inside freshly created directories
#     (their watch comes later). Its own listing of the tree while it sets up its watches does
#     give two IN_ACCESS in a row on a watched directory, but nothing reads them until it is
#     done, so they always merge;
#   - tail: a truncation is `: > f` alone (one IN_MODIFY, no write), and the next line is
#     appended only after tail has reported "file truncated". (Appended at once, the line could
#     also make tail see a file no shorter than before, so it would miss the truncation.)
# As a guard, inotifywait's -m output is still compared with consecutive duplicate lines
# collapsed (uniq): that removes nothing when the script works as meant, and it is the only
# difference the merge rule allows.
#
# Environment: RI_PROGRAMS (default /programs: bin/, lib/librust_inotify_preload.so),
# RI_TIMEOUT (seconds a wait may take; default 60, for TCG).
set -u

P=${RI_PROGRAMS:-/programs}
LIB=$P/lib/librust_inotify_preload.so
IWAIT=$P/bin/inotifywait
IWATCH=$P/bin/inotifywatch
TAIL=$P/bin/tail
DEV=/dev/rust_inotify
T=${RI_TIMEOUT:-60}
W=$(pwd)/work
mkdir -p "$W"
mkfifo "$W/never"
exec 9<>"$W/never"

n=0
failed=0
ok() { # name: one passed test
	n=$((n + 1))
	echo "ok $n $1"
}
not_ok() { # name [diagnostics file or text...]
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1"
}
check() { # name command...: ok if the command succeeds
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
diag() { sed 's/^/#   /' "$@"; }

# The helpers that poll do it with shell builtins only: in the debug guest every command the
# shell runs is a fork and an exec, which cost more than the programs under test do.

# nap: a tenth of a second, without a command (read times out on a FIFO nobody writes).
nap() {
	read -r -t 0.1 -u 9 _ 2>/dev/null
}

# count FILE PATTERN: how many lines of FILE the shell PATTERN matches whole, into $c.
count() {
	c=0
	[ -f "$1" ] || return 0
	while IFS= read -r l || [ -n "$l" ]; do
		case "$l" in $2) c=$((c + 1)) ;; esac
	done <"$1"
}

# alive PID: whether the process is there and not a zombie (kill -0 succeeds on a zombie, and the
# program stays one until the shell waits for it).
alive() {
	st=
	# (A failed "<" reports before a 2> on the same command applies: hence the braces.)
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
	case "${st##*) }" in Z* | X*) return 1 ;; esac
	return 0
}

# wait_for FILE PATTERN [COUNT]: until FILE has COUNT (default 1) lines matching the shell
# PATTERN (0), or the program ($pid) has exited without that, or $T seconds have passed (1).
wait_for() {
	i=0
	while :; do
		count "$1" "$2"
		[ "$c" -ge "${3:-1}" ] && return 0
		if ! alive "$pid"; then
			count "$1" "$2"
			[ "$c" -ge "${3:-1}" ] && return 0
			echo "# the program exited before '$2' appeared in ${1##*/}"
			return 1
		fi
		i=$((i + 1))
		[ $i -gt $((T * 10)) ] && { echo "# timed out waiting for '$2' in ${1##*/}"; return 1; }
		nap
	done
}

# wait_asleep PID: until the process is asleep (state S: it can only be waiting for events) in
# two looks in a row, or $T seconds.
wait_asleep() {
	i=0 asleep=0
	while [ $asleep -lt 2 ] && [ $i -le $((T * 10)) ]; do
		st=
		{ read -r st <"/proc/$1/stat"; } 2>/dev/null
		# The state is the field after the parenthesised command name.
		case "${st##*) }" in
		S*) asleep=$((asleep + 1)) ;;
		*) asleep=0 ;;
		esac
		i=$((i + 1))
		nap
	done
}

# record_kinds PID FILE: into FILE, "kernel " if the process has an anon_inode:inotify fd,
# "device " if it has a /dev/rust_inotify fd, then "watches" if an inotify fdinfo of it lists a
# watch ("no-watches" if none). The snapshot comes first, in two commands, because the program
# may be about to exit (a timed-out inotifywait is); FILE.fd and FILE.fdinfo keep it.
record_kinds() {
	ls -l "/proc/$1/fd/" >"$2.fd" 2>/dev/null
	cat "/proc/$1/fdinfo/"* >"$2.fdinfo" 2>/dev/null
	k=
	count "$2.fd" '* -> anon_inode:inotify'
	[ "$c" -gt 0 ] && k="${k}kernel "
	count "$2.fd" "* -> $DEV"
	[ "$c" -gt 0 ] && k="${k}device "
	count "$2.fdinfo" 'inotify wd:*'
	w=no-watches
	[ "$c" -gt 0 ] && w=watches
	echo "$k$w" >"$2"
}

# start BACKEND OUT ERR PROGRAM ARGS...: runs the program in the background, $pid.
#   kernel: plain, without the library;  device: LD_PRELOAD, RUST_INOTIFY_PRELOAD unset (auto);
#   lib-kernel / lib-device / lib-auto: LD_PRELOAD with RUST_INOTIFY_PRELOAD=kernel/device/auto.
# With RUN_AS=nobody, the program runs as nobody (busybox su execs, so $pid is still the program).
start() {
	be=$1 out=$2 err=$3
	shift 3
	# Emptied here, before the program starts: a wait_for right after this must not read what
	# an earlier run left in the same file.
	: >"$out"
	: >"$err"
	[ "${RUN_AS:-}" = nobody ] && set -- busybox su -m -s /bin/sh -c 'exec "$0" "$@"' nobody -- "$@"
	case "$be" in
	kernel) env -u LD_PRELOAD -u RUST_INOTIFY_PRELOAD "$@" >"$out" 2>"$err" & ;;
	device) env -u RUST_INOTIFY_PRELOAD LD_PRELOAD="$LIB" "$@" >"$out" 2>"$err" & ;;
	lib-*) env LD_PRELOAD="$LIB" RUST_INOTIFY_PRELOAD="${be#lib-}" "$@" >"$out" 2>"$err" & ;;
	esac
	pid=$!
}

# finish: SIGTERM to $pid, then its exit status in $rc.
finish() {
	kill "$pid" 2>/dev/null
	# The shell's "Terminated" notice is not the program's output.
	{ wait "$pid"; } 2>/dev/null
	rc=$?
}

# The verdicts of a scenario NAME run on both backends, from $W/NAME.{kernel,device}.{kinds,out}.
verdicts() {
	name=$1
	if [ "$(cat "$W/$name.kernel.kinds")" = "kernel watches" ]; then
		ok "$name: the kernel run used anon_inode:inotify"
	else
		not_ok "$name: the kernel run used anon_inode:inotify"
		echo "# fds: $(cat "$W/$name.kernel.kinds")"
	fi
	if [ "$(cat "$W/$name.device.kinds")" = "device watches" ]; then
		ok "$name: the device run used /dev/rust_inotify"
	else
		not_ok "$name: the device run used /dev/rust_inotify"
		echo "# fds: $(cat "$W/$name.device.kinds")"
	fi
	if cmp -s "$W/$name.kernel.out" "$W/$name.device.out"; then
		ok "$name: the device's output is the kernel's"
	else
		not_ok "$name: the device's output is the kernel's"
		echo "# kernel:"; diag "$W/$name.kernel.out"
		echo "# device:"; diag "$W/$name.device.out"
	fi
}

# collect NAME BACKEND RC STDOUT STDERR: one comparable file, $W/NAME.BACKEND.out.
collect() {
	{ echo "exit $3"; echo "--- stdout"; cat "$4"; echo "--- stderr"; cat "$5"; } \
		>"$W/$1.$2.out"
}

# --- inotifywait -m -r over a tree -------------------------------------------------------------
# Creates, writes, moves in from outside and out to outside, a recursive subtree moved in (whose
# contents must then be watched), deletes, rmdir of a watched directory.
tree() { # backend
	d=$W/tree-$1
	rm -rf "$d"
	mkdir -p "$d/w/a/b" "$d/w/keep" "$d/out/sub/deep"
	echo old >"$d/out/f-in"
	echo deep >"$d/out/sub/deep/g"
	cd "$d" || return
	o=$W/tree.$1.stdout e=$W/tree.$1.stderr
	start "$1" "$o" "$e" "$IWAIT" -m -r \
		-e create,close_write,moved_from,moved_to,delete,delete_self,move_self w
	wait_for "$e" '*Watches established*'
	record_kinds "$pid" "$W/tree.$1.kinds"
	echo x >w/f1;			wait_for "$o" '* CLOSE_WRITE,CLOSE f1'
	# A directory that appears is watched once inotifywait has read the event and added the
	# watches (printing the event may come first): wait until it sleeps again.
	mkdir w/a/c;			wait_for "$o" '* CREATE,ISDIR c' && wait_asleep "$pid"
	echo y >w/a/c/f2;		wait_for "$o" '*c/ CLOSE_WRITE,CLOSE f2'
	mv out/f-in w/a/;		wait_for "$o" '* MOVED_TO f-in'
	mv out/sub w/a/b/;		wait_for "$o" '* MOVED_TO,ISDIR sub' && wait_asleep "$pid"
	echo z >>w/a/b/sub/deep/g;	wait_for "$o" '*deep/ CLOSE_WRITE,CLOSE g'
	mv w/a/f-in w/keep/f-ren;	wait_for "$o" '* MOVED_TO f-ren'
	mv w/keep/f-ren out/;		wait_for "$o" '* MOVED_FROM f-ren'
	mv w/a/c out/;			wait_for "$o" '* MOVED_FROM,ISDIR c'
	rm w/f1;			wait_for "$o" '* DELETE f1'
	rm w/a/b/sub/deep/g;		wait_for "$o" '*deep/ DELETE g'
	rmdir w/a/b/sub/deep;		wait_for "$o" '* DELETE,ISDIR deep'
	echo end >w/zz-end;		wait_for "$o" '* CLOSE_WRITE,CLOSE zz-end'
	finish
	cd "$W" || return
	# The merge guard (see the top): consecutive identical lines collapsed.
	uniq "$o" >"$o.u"
	collect tree "$1" 0 "$o.u" "$e"
}

# --- inotifywait -m, every event, on a directory and a file in it ---------------------------------
# Each change makes events on both watches (the directory's, with a name, and the file's own), so
# their order and every event kind (open, access, attrib, close, link counts, move-self,
# delete-self) is compared. The steps run without waiting for inotifywait: the queue's order is
# the order of the changes whatever the reader does, and no two events in a row are identical
# (they alternate between the two watches, and no step ends with the event the next begins
# with), so the merge race cannot occur.
flat() { # backend
	d=$W/flat-$1
	rm -rf "$d"
	mkdir -p "$d/w"
	echo a >"$d/w/file"
	cd "$d" || return
	o=$W/flat.$1.stdout e=$W/flat.$1.stderr
	start "$1" "$o" "$e" "$IWAIT" -m w w/file
	wait_for "$e" '*Watches established*'
	record_kinds "$pid" "$W/flat.$1.kinds"
	echo b >>w/file
	cat w/file >/dev/null
	chmod 600 w/file
	: >w/file
	ln w/file w/link
	rm w/link
	mkdir w/sub
	rmdir w/sub
	mv w/file w/file2
	rm w/file2
	echo end >w/zz-end
	wait_for "$o" '* CLOSE_WRITE,CLOSE zz-end'
	finish
	cd "$W" || return
	uniq "$o" >"$o.u"
	collect flat "$1" 0 "$o.u" "$e"
}

# --- inotifywatch statistics -------------------------------------------------------------------
# Every event of a tree until SIGINT; the table of counts per event and file is compared.
# Its activity never makes two identical events in a row (see the top).
stats() { # backend
	d=$W/stats-$1
	rm -rf "$d"
	mkdir -p "$d/w/a" "$d/w/b"
	echo 1 >"$d/w/a/f"
	echo 2 >"$d/w/b/g"
	cd "$d" || return
	o=$W/stats.$1.stdout e=$W/stats.$1.stderr
	start "$1" "$o" "$e" "$IWATCH" -r w
	wait_for "$e" '*now collecting statistics*'
	record_kinds "$pid" "$W/stats.$1.kinds"
	echo more >>w/a/f
	echo more >>w/a/f
	cat w/b/g >/dev/null
	chmod 600 w/b/g
	mv w/a/f w/b/f
	echo new >w/a/n
	# A new directory is watched once inotifywatch has read its IN_CREATE: let it do that.
	mkdir w/d
	wait_asleep "$pid"
	rmdir w/d
	rm w/b/g
	# Every event is queued before the command that makes it returns, and queueing wakes the
	# reader; so once inotifywatch sleeps again, it has read them all. Then SIGINT makes it
	# print the table (a -t timeout instead would make the result depend on the machine's speed).
	wait_asleep "$pid"
	kill -INT "$pid"
	wait "$pid"
	rc=$?
	cd "$W" || return
	collect stats "$1" "$rc" "$o" "$e"
}

# --- one-shot inotifywait: an event (exit 0), a timeout (exit 2), a self event --------------------
oneshot_event() { # backend
	d=$W/os-$1
	rm -rf "$d"
	mkdir -p "$d/w"
	cd "$d" || return
	o=$W/os-event.$1.stdout e=$W/os-event.$1.stderr
	start "$1" "$o" "$e" "$IWAIT" -t 60 -e create w
	wait_for "$e" '*Watches established*'
	record_kinds "$pid" "$W/os-event.$1.kinds"
	touch w/new
	wait "$pid"
	rc=$?
	cd "$W" || return
	collect os-event "$1" "$rc" "$o" "$e"
}

oneshot_timeout() { # backend
	d=$W/ot-$1
	rm -rf "$d"
	mkdir -p "$d/w"
	cd "$d" || return
	o=$W/os-timeout.$1.stdout e=$W/os-timeout.$1.stderr
	echo x >w/already
	# -t 4: time enough, even in a loaded debug guest, to record its fds and make the other
	# events before it times out.
	start "$1" "$o" "$e" "$IWAIT" -t 4 -e create w
	wait_for "$e" '*Watches established*'
	record_kinds "$pid" "$W/os-timeout.$1.kinds"
	# Events it does not wait for, on the watched directory, must not end the wait.
	echo y >>w/already
	rm w/already
	wait "$pid"
	rc=$?
	cd "$W" || return
	collect os-timeout "$1" "$rc" "$o" "$e"
}

oneshot_self() { # backend
	d=$W/oself-$1
	rm -rf "$d"
	mkdir -p "$d/w/victim"
	cd "$d" || return
	o=$W/os-self.$1.stdout e=$W/os-self.$1.stderr
	start "$1" "$o" "$e" "$IWAIT" -t 60 -e delete_self w/victim
	wait_for "$e" '*Watches established*'
	record_kinds "$pid" "$W/os-self.$1.kinds"
	rmdir w/victim
	wait "$pid"
	rc=$?
	cd "$W" || return
	collect os-self "$1" "$rc" "$o" "$e"
}

# --- GNU tail -F: rotation (mv + recreate), deletion, truncation ---------------------------------
tail_name() { # backend
	d=$W/tailF-$1
	rm -rf "$d"
	mkdir -p "$d"
	cd "$d" || return
	o=$W/tail-F.$1.stdout e=$W/tail-F.$1.stderr
	echo l1 >log
	start "$1" "$o" "$e" "$TAIL" -F log
	wait_for "$o" 'l1'
	record_kinds "$pid" "$W/tail-F.$1.kinds"
	echo l2 >>log;		wait_for "$o" 'l2'
	# Rotation: the name goes away, then comes back as a new file.
	mv log log.1;		wait_for "$e" '*has become inaccessible*'
	echo l3 >log;		wait_for "$o" 'l3'
	# Writes to the rotated file are no longer followed; the new one's are.
	echo old >>log.1
	echo l4 >>log;		wait_for "$o" 'l4'
	# Truncation: one IN_MODIFY; tail must see it before the next line is appended.
	: >log;			wait_for "$e" '*file truncated*'
	echo l5 >>log;		wait_for "$o" 'l5'
	rm log;			wait_for "$e" '*has become inaccessible*' 2
	echo l6 >log;		wait_for "$o" 'l6'
	finish
	cd "$W" || return
	collect tail-F "$1" 0 "$o" "$e"
}

# --- GNU tail -f: the descriptor, across a rename, and truncation --------------------------------
tail_fd() { # backend
	d=$W/tailf-$1
	rm -rf "$d"
	mkdir -p "$d"
	cd "$d" || return
	o=$W/tail-f.$1.stdout e=$W/tail-f.$1.stderr
	echo l1 >log
	start "$1" "$o" "$e" "$TAIL" -f log
	wait_for "$o" 'l1'
	record_kinds "$pid" "$W/tail-f.$1.kinds"
	echo l2 >>log;		wait_for "$o" 'l2'
	mv log log.1
	echo l3 >>log.1;	wait_for "$o" 'l3'
	: >log.1;		wait_for "$e" '*file truncated*'
	echo l4 >>log.1;	wait_for "$o" 'l4'
	finish
	cd "$W" || return
	collect tail-f "$1" 0 "$o" "$e"
}

# --- the library's modes ------------------------------------------------------------------------
# One-shot inotifywait with RUST_INOTIFY_PRELOAD=BACKEND (as RUN_AS); prints "KINDS|RC|STDERR".
mode_run() { # be
	be=$1
	t1=$(date +%s)
	d=$W/mode-$be
	rm -rf "$d"
	mkdir -p "$d/w"
	o=$W/mode.$be.stdout e=$W/mode.$be.stderr
	start "$be" "$o" "$e" "$IWAIT" -t 60 -e create "$d/w"
	if wait_for "$e" '*Watches established*' >/dev/null; then
		record_kinds "$pid" "$W/mode.$be.kinds"
		touch "$d/w/x"
	else
		echo "none" >"$W/mode.$be.kinds"
	fi
	wait "$pid"
	rc=$?
	echo "# mode_run $be: $(($(date +%s) - t1)) s" >&2
	echo "$(cat "$W/mode.$be.kinds")|$rc|$(tr '\n' ' ' <"$e")"
}

modes() {
	r=$(mode_run lib-kernel)
	check "library, RUST_INOTIFY_PRELOAD=kernel: the kernel's inotify" \
		[ "$r" = "kernel watches|0|Setting up watches. Watches established. " ]
	[ "$r" = "kernel watches|0|Setting up watches. Watches established. " ] || echo "# $r"
	r=$(mode_run lib-device)
	check "library, RUST_INOTIFY_PRELOAD=device: the device" \
		[ "$r" = "device watches|0|Setting up watches. Watches established. " ]
	[ "$r" = "device watches|0|Setting up watches. Watches established. " ] || echo "# $r"
	# Without the node: auto falls back to the kernel's inotify, device fails as open() did.
	mv "$DEV" "$DEV.away"
	r=$(mode_run lib-auto)
	ra=$(mode_run lib-device)
	mv "$DEV.away" "$DEV"
	check "library, auto without the device: falls back to the kernel's inotify" \
		[ "$r" = "kernel watches|0|Setting up watches. Watches established. " ]
	[ "$r" = "kernel watches|0|Setting up watches. Watches established. " ] || echo "# $r"
	check "library, device without the device: ENOENT, no fallback" \
		[ "$ra" = "none|1|Couldn't initialize inotify: No such file or directory " ]
	[ "$ra" = "none|1|Couldn't initialize inotify: No such file or directory " ] || echo "# $ra"
	# A node this user may not open: auto falls back (upstream never gives EACCES), device fails.
	mode=$(stat -c %a "$DEV")
	chmod 600 "$DEV"
	r=$(RUN_AS=nobody mode_run lib-auto)
	ra=$(RUN_AS=nobody mode_run lib-device)
	chmod "$mode" "$DEV"
	check "library, auto when the device is not permitted: the kernel's inotify" \
		[ "$r" = "kernel watches|0|Setting up watches. Watches established. " ]
	[ "$r" = "kernel watches|0|Setting up watches. Watches established. " ] || echo "# $r"
	check "library, device when the device is not permitted: EACCES, no fallback" \
		[ "$ra" = "none|1|Couldn't initialize inotify: Permission denied " ]
	[ "$ra" = "none|1|Couldn't initialize inotify: Permission denied " ] || echo "# $ra"
}

# --- the suite ----------------------------------------------------------------------------------
echo "TAP version 13"
# preload_test's own cases, renumbered into this plan.
here=$(cd "$(dirname "$0")" && pwd)
pt_out=$W/preload_test.tap
t0=$(date +%s)
if [ -x "$here/preload_test" ]; then
	env LD_PRELOAD="$LIB" RUST_INOTIFY_PRELOAD=device "$here/preload_test" >"$pt_out" 2>&1
	pt_rc=$?
	echo "# preload_test: $(($(date +%s) - t0)) s"
else
	echo "not ok 1 preload_test is missing" >"$pt_out"
	pt_rc=1
fi
pt_n=$(grep -c -E '^(ok|not ok) [0-9]+' "$pt_out")
scenarios="tree flat stats os-event os-timeout os-self tail-F tail-f"
echo "1..$((pt_n + 1 + 3 * 8 + 6))"

while IFS= read -r line; do
	case "$line" in
	"ok "[0-9]*) n=$((n + 1)); echo "ok $n preload_test: ${line#ok [0-9]* }" ;;
	"not ok "[0-9]*)
		n=$((n + 1)); failed=$((failed + 1))
		echo "not ok $n preload_test: ${line#not ok [0-9]* }" ;;
	\#*) echo "$line" ;;
	*) echo "# $line" ;;
	esac
done <"$pt_out"
check "preload_test exited 0" [ "$pt_rc" = 0 ]

# timed FUNCTION BACKEND: one scenario run, in a subshell, with its time as a comment.
timed() {
	t0=$(date +%s)
	("$@")
	echo "# $*: $(($(date +%s) - t0)) s"
}
for be in kernel device; do
	for f in tree flat stats oneshot_event oneshot_timeout oneshot_self tail_name tail_fd; do
		timed "$f" "$be"
	done
done
for s in $scenarios; do
	for be in kernel device; do
		[ -f "$W/$s.$be.kinds" ] || echo "missing" >"$W/$s.$be.kinds"
		[ -f "$W/$s.$be.out" ] || echo "missing" >"$W/$s.$be.out"
	done
	verdicts "$s"
done
t0=$(date +%s)
modes
echo "# modes: $(($(date +%s) - t0)) s"

[ "$failed" = 0 ]
