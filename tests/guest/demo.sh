#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The demo, run in the guest by init with the module loaded. Filled in by the demo program.
echo "== rust_inotify demo"
[ -x /tests/rust/rust_inotify_tests ] && /tests/rust/rust_inotify_tests --demo
