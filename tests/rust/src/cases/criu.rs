// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! What CRIU does to restore an inotify watch with a given wd (spec §1.6): the ioctl when the
//! kernel has it, the add/rm loop otherwise. Each scenario runs on every backend, asserts
//! upstream's values, and the transcripts of all backends must be identical.

use std::ffi::CString;
use std::os::fd::OwnedFd;

use crate::backend::{close_fd, fmt_res, set_next_wd, Backend, Errno};
use crate::events::{drain, fmt_events};
use crate::tap::Ctx;
use crate::uapi::*;
use crate::util::{self, TempDir};

const INT_MAX: i32 = i32::MAX;
/// The wd of the hung migration in the commit message of e1603b6effe1.
const CRIU_WD: i32 = 0x34d71d6;

/// A transcript of calls and results, plus the expectations that failed.
struct Rec {
    lines: Vec<String>,
    errors: Vec<String>,
}

impl Rec {
    fn new() -> Self {
        Self {
            lines: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn expect<T: PartialEq + std::fmt::Display>(
        &mut self,
        what: String,
        got: Result<T, Errno>,
        want: Result<T, Errno>,
    ) {
        let line = format!("{what} -> {}", fmt_res(&got));
        if got != want {
            self.errors.push(format!("{line}, want {}", fmt_res(&want)));
        }
        self.lines.push(line);
    }

    fn note(&mut self, line: String) {
        self.lines.push(line);
    }
}

fn files(dir: &TempDir, n: usize) -> Result<Vec<CString>, String> {
    (0..n)
        .map(|i| {
            let p = util::cpath(&dir.join(&format!("f{i}")));
            util::create(&p).map_err(|e| format!("create {p:?}: {e}"))?;
            Ok(p)
        })
        .collect()
}

/// Compares the transcripts of all backends and collects every backend's failed expectations.
fn compare(results: Vec<(&'static str, Rec)>) -> Result<(), String> {
    let mut errors = Vec::new();
    for (name, rec) in &results {
        for e in &rec.errors {
            errors.push(format!("{name}: {e}"));
        }
    }
    let (ref_name, ref_rec) = &results[0];
    for (name, rec) in &results[1..] {
        let n = ref_rec.lines.len().max(rec.lines.len());
        for i in 0..n {
            let a = ref_rec.lines.get(i).map(String::as_str).unwrap_or("(end)");
            let b = rec.lines.get(i).map(String::as_str).unwrap_or("(end)");
            if a != b {
                errors.push(format!(
                    "transcripts differ at line {i}:\n  {ref_name}: {a}\n  {name}: {b}"
                ));
                break;
            }
        }
    }
    if errors.is_empty() {
        crate::diag!(
            "{} transcript lines, identical on {}",
            ref_rec.lines.len(),
            results
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(" and ")
        );
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

fn ignored_line(rec: &mut Rec, fd: &OwnedFd, want: &[i32]) -> Result<(), String> {
    let d = drain(fd)?;
    let got: Vec<i32> = d
        .events
        .iter()
        .map(|e| if e.mask == IN_IGNORED { e.wd } else { -e.wd })
        .collect();
    if got != want {
        rec.errors.push(format!(
            "events {}, want IN_IGNORED for {want:?}",
            fmt_events(&d.events)
        ));
    }
    rec.note(format!("events: {}", fmt_events(&d.events)));
    Ok(())
}

fn setnextwd_scenario(be: &dyn Backend, f: &[CString]) -> Result<Rec, String> {
    let mut r = Rec::new();
    let init = |r: &mut Rec| {
        be.init(IN_NONBLOCK | IN_CLOEXEC).map_err(|e| {
            r.errors.push(format!("init: {e}"));
            format!("{}: init: {e}", be.name())
        })
    };
    let add = |r: &mut Rec, fd: &OwnedFd, i: usize, want: Result<i32, Errno>| {
        r.expect(
            format!("add(f{i})"),
            be.add_watch(fd, &f[i], IN_ALL_EVENTS),
            want,
        )
    };
    let next = |r: &mut Rec, fd: &OwnedFd, arg: u64, want: Result<(), Errno>| {
        r.expect(
            format!("SETNEXTWD({arg:#x})"),
            set_next_wd(fd, arg).map(|_| 0),
            want.map(|_| 0),
        )
    };
    let einval = Err(Errno(libc::EINVAL));

    // CRIU restoring the wd of the commit message.
    let fd = init(&mut r)?;
    next(&mut r, &fd, CRIU_WD as u64, Ok(()));
    add(&mut r, &fd, 0, Ok(CRIU_WD));
    add(&mut r, &fd, 1, Ok(CRIU_WD + 1));
    add(&mut r, &fd, 0, Ok(CRIU_WD));
    r.expect(
        format!("rm({CRIU_WD:#x})"),
        be.rm_watch(&fd, CRIU_WD).map(|_| 0),
        Ok(0),
    );
    ignored_line(&mut r, &fd, &[CRIU_WD])?;
    r.expect("close".into(), close_fd(fd).map(|_| 0), Ok(0));

    // The conformance checks of spec §1.6, then a taken cursor, invalid values that must not
    // move the cursor, and the wrap at INT_MAX.
    let fd = init(&mut r)?;
    add(&mut r, &fd, 0, Ok(1));
    add(&mut r, &fd, 1, Ok(2));
    add(&mut r, &fd, 2, Ok(3));
    next(&mut r, &fd, 0, einval);
    next(&mut r, &fd, 9, Ok(()));
    add(&mut r, &fd, 2, Ok(3));
    add(&mut r, &fd, 0, Ok(1));
    add(&mut r, &fd, 3, Ok(9));
    next(&mut r, &fd, 9, Ok(()));
    add(&mut r, &fd, 4, Ok(10));
    next(&mut r, &fd, 2, Ok(()));
    add(&mut r, &fd, 5, Ok(4));
    for bad in [
        u64::MAX,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        0x1_0000_0001,
    ] {
        next(&mut r, &fd, bad, einval);
    }
    add(&mut r, &fd, 6, Ok(5));
    next(&mut r, &fd, INT_MAX as u64 - 1, Ok(()));
    add(&mut r, &fd, 7, Ok(INT_MAX - 1));
    add(&mut r, &fd, 8, Ok(INT_MAX));
    // Wraps to 1: 1..=5 are taken, so 6.
    add(&mut r, &fd, 9, Ok(6));
    add(&mut r, &fd, 10, Ok(7));
    r.expect(
        "rm(INT_MAX)".into(),
        be.rm_watch(&fd, INT_MAX).map(|_| 0),
        Ok(0),
    );
    r.expect(
        "rm(INT_MAX) again".into(),
        be.rm_watch(&fd, INT_MAX).map(|_| 0),
        Err(Errno(libc::EINVAL)),
    );
    next(&mut r, &fd, INT_MAX as u64, Ok(()));
    // INT_MAX is free again.
    add(&mut r, &fd, 11, Ok(INT_MAX));
    ignored_line(&mut r, &fd, &[INT_MAX])?;
    r.expect("close".into(), close_fd(fd).map(|_| 0), Ok(0));
    Ok(r)
}

/// `INOTIFY_IOC_SETNEXTWD` as CRIU uses it, plus the edge cases of the cursor.
pub fn setnextwd(ctx: &Ctx) -> Result<(), String> {
    let dir = TempDir::new()?;
    let f = files(&dir, 12)?;
    let mut results = Vec::new();
    for be in ctx.backends() {
        results.push((be.name(), setnextwd_scenario(be, &f)?));
    }
    compare(results)
}

fn loop_scenario(be: &dyn Backend, f: &[CString], target: i32) -> Result<Rec, String> {
    let mut r = Rec::new();
    let fd = be
        .init(IN_NONBLOCK | IN_CLOEXEC)
        .map_err(|e| format!("{}: init: {e}", be.name()))?;
    // One watch that stays: the loop must step over it.
    r.expect(
        "add(f1)".into(),
        be.add_watch(&fd, &f[1], IN_ALL_EVENTS),
        Ok(1),
    );

    // criu/fsnotify.c: add; if wd == target, done; if wd > target, "Unsorted watch"; else rm.
    let mut iterations = 0;
    let mut removed = Vec::new();
    let outcome = loop {
        iterations += 1;
        if iterations > 4 * target {
            break format!("no wd {target} after {iterations} iterations");
        }
        let wd = match be.add_watch(&fd, &f[0], IN_ALL_EVENTS) {
            Ok(wd) => wd,
            Err(e) => break format!("add failed at iteration {iterations}: {e}"),
        };
        if wd == target {
            break format!("reached wd {wd}");
        }
        if wd > target {
            break format!("unsorted watch: got {wd} for {target}");
        }
        if let Err(e) = be.rm_watch(&fd, wd) {
            break format!("rm({wd}) failed: {e}");
        }
        removed.push(wd);
    };
    let want_removed: Vec<i32> = (2..target).collect();
    r.note(format!("loop: {outcome} after {iterations} iterations"));
    if outcome != format!("reached wd {target}") || removed != want_removed {
        r.errors.push(format!(
            "loop: {outcome} after {iterations} iterations, removed {} wds (want {})",
            removed.len(),
            want_removed.len()
        ));
    }
    ignored_line(&mut r, &fd, &want_removed)?;

    // A wd below the cursor cannot be reached by the loop: CRIU needs the ioctl for it.
    r.expect(
        format!("rm({target})"),
        be.rm_watch(&fd, target).map(|_| 0),
        Ok(0),
    );
    r.expect(
        "add(f0)".into(),
        be.add_watch(&fd, &f[0], IN_ALL_EVENTS),
        Ok(target + 1),
    );
    r.expect(
        "rm(target + 1)".into(),
        be.rm_watch(&fd, target + 1).map(|_| 0),
        Ok(0),
    );
    r.expect(
        "SETNEXTWD(50)".into(),
        set_next_wd(&fd, 50).map(|_| 0),
        Ok(0),
    );
    r.expect(
        "add(f0)".into(),
        be.add_watch(&fd, &f[0], IN_ALL_EVENTS),
        Ok(50),
    );
    ignored_line(&mut r, &fd, &[target, target + 1])?;
    r.expect("close".into(), close_fd(fd).map(|_| 0), Ok(0));
    Ok(r)
}

/// CRIU's add/rm loop for a small target (200), then the ioctl for a wd below the cursor.
pub fn add_rm_loop(ctx: &Ctx) -> Result<(), String> {
    let dir = TempDir::new()?;
    let f = files(&dir, 2)?;
    let mut results = Vec::new();
    for be in ctx.backends() {
        results.push((be.name(), loop_scenario(be, &f, 200)?));
    }
    compare(results)
}
