// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Userspace tests of `/dev/rust_inotify`, differential against the kernel's inotify.
//!
//! Every case runs against both backends (see [`backend`]) and compares them; the kernel is the
//! reference. Output is TAP 13 as kselftest prints it; exit code 0 when nothing failed.
//!
//! Usage: `rust_inotify_tests [--list | --bench | --bench-wall] [NAME-SUBSTRING...]`; the
//! environment variable `RUST_INOTIFY_TESTS_BACKENDS=kernel` runs the kernel side alone (for
//! development on a host without the module). `--bench` and `--bench-wall` are `make bench`'s
//! two boots (see [`bench`]).

#[path = "../../../uapi.rs"]
mod uapi;

mod backend;
mod bench;
mod c_abi;
mod events;
mod tap;
mod util;

mod cases {
    pub mod close_many;
    pub mod concurrency;
    pub mod criu;
    pub mod instances;
    pub mod uapi_agreement;
    pub mod wd_diff;
}

use cases::*;
use tap::{Needs, Test};

const TESTS: &[Test] = &[
    Test {
        name: "uapi_agreement",
        needs: Needs::Nothing,
        run: uapi_agreement::run,
    },
    Test {
        name: "wd_alloc_differential_seed1",
        needs: Needs::All,
        run: wd_diff::seed1,
    },
    Test {
        name: "wd_alloc_differential_seed2",
        needs: Needs::All,
        run: wd_diff::seed2,
    },
    Test {
        name: "wd_alloc_differential_seed3",
        needs: Needs::All,
        run: wd_diff::seed3,
    },
    Test {
        name: "wd_alloc_differential_seed4",
        needs: Needs::All,
        run: wd_diff::seed4,
    },
    Test {
        name: "criu_setnextwd",
        needs: Needs::All,
        run: criu::setnextwd,
    },
    Test {
        name: "criu_add_rm_loop",
        needs: Needs::All,
        run: criu::add_rm_loop,
    },
    Test {
        name: "concurrency_kernel",
        needs: Needs::Kernel,
        run: concurrency::kernel,
    },
    Test {
        name: "concurrency_rust",
        needs: Needs::Rust,
        run: concurrency::rust,
    },
    Test {
        name: "many_instances",
        needs: Needs::All,
        run: instances::run,
    },
    Test {
        name: "close_many_watches",
        needs: Needs::All,
        run: close_many::run,
    },
];

fn main() {
    tap::main(TESTS)
}
