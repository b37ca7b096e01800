// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! `--bench`: times the wd-allocation paths on each backend and prints the results as `#`
//! lines. Nothing is asserted; the guest's bench mode runs it after the module's own idr bench.

use std::ffi::CString;
use std::time::{Duration, Instant};

use crate::backend::{close_fd, set_next_wd, Backend};
use crate::diag;
use crate::tap::Ctx;
use crate::uapi::*;
use crate::util::{self, TempDir};

const CYCLES: usize = 2000;
const WATCHES: usize = 2000;

fn per_op(d: Duration, n: usize) -> String {
    format!("{:.2} us/op", d.as_secs_f64() * 1e6 / n as f64)
}

fn bench_one(be: &dyn Backend, files: &[CString]) -> Result<(), String> {
    let name = be.name();
    let err = |what: &str, e: crate::backend::Errno| format!("{name}: {what}: {e}");
    let fd = be
        .init(IN_NONBLOCK | IN_CLOEXEC)
        .map_err(|e| err("init", e))?;

    // CRIU's loop: add, rm, add, rm... (each add allocates a fresh wd).
    let t = Instant::now();
    for _ in 0..CYCLES {
        let wd = be
            .add_watch(&fd, &files[0], IN_ALL_EVENTS)
            .map_err(|e| err("add", e))?;
        be.rm_watch(&fd, wd).map_err(|e| err("rm", e))?;
    }
    let cycle = t.elapsed();
    crate::events::drain(&fd)?;
    close_fd(fd).map_err(|e| err("close", e))?;

    // Many live watches, on a fresh instance: wds 1..=WATCHES.
    let fd = be
        .init(IN_NONBLOCK | IN_CLOEXEC)
        .map_err(|e| err("init", e))?;
    let t = Instant::now();
    let mut wds = Vec::with_capacity(files.len());
    for f in files {
        wds.push(
            be.add_watch(&fd, f, IN_ALL_EVENTS)
                .map_err(|e| err("add", e))?,
        );
    }
    let add = t.elapsed();

    // Every other one removed, then the holes refilled from the bottom.
    let rm_every_other = |wds: &mut Vec<i32>| -> Result<(), String> {
        for i in (0..wds.len()).step_by(2) {
            be.rm_watch(&fd, wds[i]).map_err(|e| err("rm", e))?;
        }
        crate::events::drain(&fd).map(|_| ())
    };
    rm_every_other(&mut wds)?;
    set_next_wd(&fd, 1).map_err(|e| err("SETNEXTWD", e))?;
    let t = Instant::now();
    for i in (0..files.len()).step_by(2) {
        wds[i] = be
            .add_watch(&fd, &files[i], IN_ALL_EVENTS)
            .map_err(|e| err("add", e))?;
    }
    let refill = t.elapsed();

    // Near INT_MAX, then the wrap into the holes.
    rm_every_other(&mut wds)?;
    set_next_wd(&fd, i32::MAX as u64 - 500).map_err(|e| err("SETNEXTWD", e))?;
    let t = Instant::now();
    for i in (0..files.len()).step_by(2) {
        wds[i] = be
            .add_watch(&fd, &files[i], IN_ALL_EVENTS)
            .map_err(|e| err("add", e))?;
    }
    let wrap = t.elapsed();

    let t = Instant::now();
    close_fd(fd).map_err(|e| err("close", e))?;
    let close = t.elapsed();

    let n2 = files.len().div_ceil(2);
    diag!(
        "bench: {name}: add+rm cycle x{CYCLES}: {}",
        per_op(cycle, CYCLES)
    );
    diag!(
        "bench: {name}: add x{}: {}",
        files.len(),
        per_op(add, files.len())
    );
    diag!(
        "bench: {name}: refill holes from 1 x{n2}: {}",
        per_op(refill, n2)
    );
    diag!(
        "bench: {name}: add across the INT_MAX wrap x{n2}: {}",
        per_op(wrap, n2)
    );
    diag!(
        "bench: {name}: close with {} watches: {} ms",
        files.len(),
        close.as_millis()
    );
    Ok(())
}

/// Runs the benchmark on every enabled and usable backend; returns the exit code.
pub fn run(ctx: &Ctx) -> i32 {
    let result = (|| -> Result<(), String> {
        let dir = TempDir::new()?;
        let files: Vec<CString> = (0..WATCHES)
            .map(|i| util::cpath(&dir.join(&format!("b{i:04}"))))
            .collect();
        for f in &files {
            util::create(f).map_err(|e| format!("create: {e}"))?;
        }
        for be in ctx.backends() {
            if be.name() == "rust" {
                if let Some(e) = &ctx.rust_error {
                    diag!("bench: rust: {e}");
                    continue;
                }
            }
            bench_one(be, &files)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => 0,
        Err(e) => {
            diag!("bench: {e}");
            1
        }
    }
}
