// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Closing an instance with many watches (2000 watches on 2000 files) and a non-empty queue:
//! `close()` succeeds, the fdinfo listed every watch before, and a new instance starts from wd 1
//! again. The elapsed time is only printed, never asserted.

use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::time::Instant;

use crate::backend::{close_fd, fionread, Backend};
use crate::tap::Ctx;
use crate::uapi::*;
use crate::util::{self, TempDir};

const WATCHES: usize = 2000;
const TOUCHED: usize = 50;

fn fdinfo_watches(fd: i32) -> Result<usize, String> {
    let path = format!("/proc/self/fdinfo/{fd}");
    let s = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    Ok(s.lines().filter(|l| l.starts_with("inotify wd:")).count())
}

fn one(be: &dyn Backend, files: &[CString]) -> Result<(), String> {
    let name = be.name();
    let fd = be
        .init(IN_NONBLOCK | IN_CLOEXEC)
        .map_err(|e| format!("{name}: init: {e}"))?;
    let t0 = Instant::now();
    for (i, f) in files.iter().enumerate() {
        let wd = be
            .add_watch(&fd, f, IN_ALL_EVENTS)
            .map_err(|e| format!("{name}: add #{i}: {e}"))?;
        if wd != i as i32 + 1 {
            return Err(format!("{name}: add #{i} gave wd {wd}, want {}", i + 1));
        }
    }
    let t_add = t0.elapsed();
    let n = fdinfo_watches(fd.as_raw_fd())?;
    if n != WATCHES {
        return Err(format!(
            "{name}: fdinfo lists {n} \"inotify wd:\" lines, want {WATCHES}"
        ));
    }
    for f in &files[..TOUCHED] {
        util::touch(f, 0).map_err(|e| format!("touch: {e}"))?;
    }
    let queued = fionread(&fd).map_err(|e| format!("{name}: FIONREAD: {e}"))?;
    // OPEN, MODIFY, CLOSE_WRITE for each touched file.
    let want = (TOUCHED * 3 * EVENT_SIZE) as i32;
    if queued != want {
        return Err(format!("{name}: FIONREAD = {queued}, want {want}"));
    }
    let t1 = Instant::now();
    close_fd(fd).map_err(|e| format!("{name}: close: {e}"))?;
    let t_close = t1.elapsed();

    let fd = be
        .init(IN_NONBLOCK | IN_CLOEXEC)
        .map_err(|e| format!("{name}: init after close: {e}"))?;
    let wd = be
        .add_watch(&fd, &files[0], IN_ALL_EVENTS)
        .map_err(|e| format!("{name}: add after close: {e}"))?;
    if wd != 1 {
        return Err(format!(
            "{name}: first wd of a new instance is {wd}, want 1"
        ));
    }
    close_fd(fd).map_err(|e| format!("{name}: close: {e}"))?;
    crate::diag!(
        "{name}: {WATCHES} adds took {} ms, close with {queued} bytes queued took {} ms",
        t_add.as_millis(),
        t_close.as_millis()
    );
    Ok(())
}

/// 2000 watches, then close.
pub fn run(ctx: &Ctx) -> Result<(), String> {
    let dir = TempDir::new()?;
    let files: Vec<CString> = (0..WATCHES)
        .map(|i| util::cpath(&dir.join(&format!("f{i:04}"))))
        .collect();
    for f in &files {
        util::create(f).map_err(|e| format!("create: {e}"))?;
    }
    for be in ctx.backends() {
        one(be, &files)?;
    }
    Ok(())
}
