// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! What `include/rust_inotify.h` and glibc's `<sys/inotify.h>` say about the ABI, as seen by gcc.
//!
//! Generated at build time by `build.rs` from `abi_probe.c`; see the `uapi_agreement` test.

// The offsets keep the C field names (CKPT_next_wd_OFFSET).
#![allow(dead_code, non_upper_case_globals)]

include!(concat!(env!("OUT_DIR"), "/c_abi.rs"));
