// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! `--bench`: times the wd-allocation and event paths on each backend, in the same guest boot,
//! and prints Rust/kernel ratios as `#` lines (the machines are shared and noisy, so bare times
//! would mean little). Nothing is asserted; the guest's bench mode runs it after the module's
//! own idr bench.

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::backend::{close_fd, set_next_wd, Backend};
use crate::diag;
use crate::tap::Ctx;
use crate::uapi::*;
use crate::util::{self, TempDir};

const CYCLES: usize = 2000;
const WATCHES: usize = 2000;
/// Rounds of write + read of one event.
const EVENT_ROUNDS: usize = 5000;

/// What one backend's run measured, in the order of [`LABELS`].
type Times = [Duration; 6];

const LABELS: [&str; 6] = [
    "add+rm cycle (CRIU's loop)",
    "add of a new watch",
    "refill holes from wd 1",
    "add across the INT_MAX wrap",
    "close with 2000 watches",
    "event: write + read",
];

/// Times `EVENT_ROUNDS` rounds of: one write to a watched file, one read of its event.
fn bench_events(be: &dyn Backend, file: &CString) -> Result<Duration, String> {
    let name = be.name();
    let fd = be
        .init(IN_CLOEXEC)
        .map_err(|e| format!("{name}: init: {e}"))?;
    be.add_watch(&fd, file, IN_MODIFY)
        .map_err(|e| format!("{name}: add: {e}"))?;
    // SAFETY: `file` is a NUL-terminated path.
    let wfd = unsafe { libc::open(file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if wfd < 0 {
        return Err(format!("{name}: open: {}", std::io::Error::last_os_error()));
    }
    let mut buf = [0u8; 4096];
    let t = Instant::now();
    for _ in 0..EVENT_ROUNDS {
        // SAFETY: `wfd` is open; the buffer is valid for one byte.
        if unsafe { libc::write(wfd, b"x".as_ptr().cast(), 1) } != 1 {
            return Err(format!("{name}: write: {}", std::io::Error::last_os_error()));
        }
        let n = crate::backend::read(fd.as_raw_fd(), &mut buf)
            .map_err(|e| format!("{name}: read: {e}"))?;
        if n != 16 {
            return Err(format!("{name}: read {n} bytes, not one event"));
        }
    }
    let elapsed = t.elapsed();
    // SAFETY: `wfd` is ours and closed once.
    unsafe { libc::close(wfd) };
    close_fd(fd).map_err(|e| format!("{name}: close: {e}"))?;
    Ok(elapsed)
}

fn bench_one(be: &dyn Backend, files: &[CString]) -> Result<Times, String> {
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

    let events = bench_events(be, &files[0])?;
    Ok([cycle, add, refill, wrap, close, events])
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
        let mut results: Vec<(String, Times)> = Vec::new();
        for be in ctx.backends() {
            if be.name() == "rust" {
                if let Some(e) = &ctx.rust_error {
                    diag!("bench: rust: {e}");
                    continue;
                }
            }
            results.push((be.name().to_string(), bench_one(be, &files)?));
        }
        let kernel = results.iter().find(|(n, _)| n == "kernel");
        let rust = results.iter().find(|(n, _)| n == "rust");
        if let (Some((_, k)), Some((_, r))) = (kernel, rust) {
            diag!("bench: Rust/kernel time ratios (same guest boot; < 1 means the module is faster)");
            for ((label, k), r) in LABELS.iter().zip(k.iter()).zip(r.iter()) {
                diag!(
                    "bench: {label:<30} rust/kernel = {:.2}",
                    r.as_secs_f64() / k.as_secs_f64().max(1e-9)
                );
            }
        } else {
            diag!("bench: both backends are needed for ratios");
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
