#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make demo`, in the guest: init has loaded the module and applied the udev rule's mode.
echo
echo "== guest: Linux $(uname -r), module rust_inotify loaded:"
grep rust_inotify /proc/modules
ls -l /dev/rust_inotify
dmesg | grep 'rust_inotify:' | sed 's/^\[[ 0-9.]*\] /   kernel log: /'
rust_inotify_demo
