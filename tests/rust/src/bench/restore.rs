// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Restore-vs-wd: what it costs CRIU to give a restored watch its old wd, for several wds.
//!
//! Two ways, on a fresh instance each time:
//! - `criu_loop`: CRIU's fallback, add and, while the wd is not the one wanted, rm and add
//!   again. Its cost grows with the wd. It does not read the `IN_IGNORED` records it makes, as
//!   CRIU does not: past 16,384 of them the queue holds one overflow record instead.
//! - `setnextwd`: `INOTIFY_IOC_SETNEXTWD(wd)` and one add. Its cost is flat.
//!
//! Printed as `# bench-restore: BACKEND METHOD WD NS`, for the picture docs/restore-vs-wd.svg.

use std::time::Instant;

use super::{err, ns_since, settle, Files};
use crate::backend::{close_fd, set_next_wd, Backend, KERNEL, RUST};
use crate::uapi::*;

/// The wds of both methods.
const LOOP_WDS: [i32; 5] = [10, 100, 1000, 10_000, 100_000];
/// Further wds for SETNEXTWD alone; the loop would take too long (CRIU's case, 0x34d71d6, is
/// 55 million iterations).
const SETNEXTWD_WDS: [i32; 3] = [1_000_000, 10_000_000, 0x34d71d6];
/// Restores averaged per SETNEXTWD point (each is short).
const SETNEXTWD_REPS: usize = 16;

/// CRIU's add/rm loop up to `target`; returns the nanoseconds.
fn criu_loop(be: &dyn Backend, files: &Files, target: i32) -> Result<f64, String> {
    settle();
    let fd = be.init(IN_NONBLOCK | IN_CLOEXEC).map_err(err(be, "init"))?;
    let t = Instant::now();
    loop {
        let wd = be
            .add_watch(&fd, &files.many[0], IN_ALL_EVENTS)
            .map_err(err(be, "add"))?;
        if wd == target {
            break;
        }
        if wd > target {
            return Err(format!("{}: the loop passed wd {target}: {wd}", be.name()));
        }
        be.rm_watch(&fd, wd).map_err(err(be, "rm"))?;
    }
    let ns = ns_since(t);
    close_fd(fd).map_err(err(be, "close"))?;
    Ok(ns)
}

/// SETNEXTWD and one add, averaged over [`SETNEXTWD_REPS`] fresh instances.
fn setnextwd_add(be: &dyn Backend, files: &Files, target: i32) -> Result<f64, String> {
    let mut ns = 0.0;
    settle();
    for _ in 0..SETNEXTWD_REPS {
        let fd = be.init(IN_NONBLOCK | IN_CLOEXEC).map_err(err(be, "init"))?;
        let t = Instant::now();
        set_next_wd(&fd, target as u64).map_err(err(be, "SETNEXTWD"))?;
        let wd = be
            .add_watch(&fd, &files.many[0], IN_ALL_EVENTS)
            .map_err(err(be, "add"))?;
        ns += ns_since(t);
        if wd != target {
            return Err(format!(
                "{}: SETNEXTWD({target}) then add gave {wd}",
                be.name()
            ));
        }
        close_fd(fd).map_err(err(be, "close"))?;
    }
    Ok(ns / SETNEXTWD_REPS as f64)
}

/// Prints every point, alternating which backend goes first.
pub(crate) fn run(files: &Files) -> Result<(), String> {
    let backends: [&dyn Backend; 2] = [&KERNEL, &RUST];
    // Warm-up, not printed.
    for be in backends {
        criu_loop(be, files, 100)?;
        setnextwd_add(be, files, 100)?;
    }
    for (i, target) in LOOP_WDS.iter().chain(SETNEXTWD_WDS.iter()).enumerate() {
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for b in order {
            let be = backends[b];
            if LOOP_WDS.contains(target) {
                let ns = criu_loop(be, files, *target)?;
                super::out!("bench-restore: {} criu_loop {target} {ns:.0}", be.name());
            }
            let ns = setnextwd_add(be, files, *target)?;
            super::out!("bench-restore: {} setnextwd {target} {ns:.0}", be.name());
        }
    }
    Ok(())
}
