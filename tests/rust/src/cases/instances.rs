// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Many instances at once: 50 per backend, each watching a directory and two files in it (odd
//! instances drop one watch first), then one series of file operations. Every instance must get
//! the same events as the reference instance of its parity (the kernel's, when selected), and
//! all are closed at the end (a leak would show in kmemleak in the guest log).

use std::ffi::CString;
use std::os::fd::OwnedFd;

use crate::backend::{close_fd, Backend, Errno};
use crate::events::{drain, fmt_events, Event};
use crate::tap::Ctx;
use crate::uapi::*;
use crate::util::{self, TempDir};

const INSTANCES: usize = 50;

fn has(evs: &[Event], wd: i32, mask: u32, name: &str) -> bool {
    evs.iter()
        .any(|e| e.wd == wd && e.mask == mask && e.name == name.as_bytes())
}

/// Checks the reference stream against what upstream must report, so that a single-backend run
/// still asserts something.
fn sanity(evs: &[Event], odd: bool) -> Result<(), String> {
    let mut missing = Vec::new();
    let mut want = |wd: i32, mask: u32, name: &str| {
        if !has(evs, wd, mask, name) {
            missing.push(format!(
                "{{wd:{wd} {} {name:?}}}",
                crate::events::mask_str(mask)
            ));
        }
    };
    want(1, IN_MODIFY, "a");
    want(1, IN_ATTRIB, "b");
    want(1, IN_CREATE, "c");
    want(1, IN_DELETE, "e");
    want(1, IN_DELETE, "b");
    want(3, IN_ATTRIB, "");
    want(3, IN_DELETE_SELF, "");
    want(3, IN_IGNORED, "");
    if odd {
        want(2, IN_IGNORED, "");
    } else {
        want(2, IN_OPEN, "");
        want(2, IN_MODIFY, "");
        want(2, IN_CLOSE_WRITE, "");
    }
    let from: Vec<&Event> = evs.iter().filter(|e| e.mask == IN_MOVED_FROM).collect();
    let to: Vec<&Event> = evs.iter().filter(|e| e.mask == IN_MOVED_TO).collect();
    if from.len() != 1 || to.len() != 1 || from[0].cookie != to[0].cookie || from[0].cookie == 0 {
        missing.push("one MOVED_FROM(c)/MOVED_TO(e) pair with the same non-zero cookie".into());
    }
    if odd && evs.iter().any(|e| e.wd == 2 && e.mask != IN_IGNORED) {
        missing.push("no event on wd 2 after it was removed".into());
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "reference stream ({}) lacks: {}\nstream: {}",
            if odd { "odd" } else { "even" },
            missing.join(", "),
            fmt_events(evs)
        ))
    }
}

/// 50 instances per backend, all getting events; all closed.
pub fn run(ctx: &Ctx) -> Result<(), String> {
    let dir = TempDir::new()?;
    let d = util::cpath(dir.path());
    let p = |n: &str| util::cpath(&dir.join(n));
    let (a, b, c, e) = (p("a"), p("b"), p("c"), p("e"));
    for f in [&a, &b] {
        util::create(f).map_err(|e| format!("create: {e}"))?;
    }

    let mut all: Vec<(&'static dyn Backend, Vec<OwnedFd>)> = Vec::new();
    for be in ctx.backends() {
        let mut fds = Vec::new();
        for i in 0..INSTANCES {
            let fd = be.init(IN_NONBLOCK | IN_CLOEXEC).map_err(|e| {
                let hint = if e == Errno(libc::EMFILE) {
                    " (max_user_instances reached: other inotify users of this uid?)"
                } else {
                    ""
                };
                format!("{}: instance {i}: init: {e}{hint}", be.name())
            })?;
            let adds: [(&CString, u32); 3] = [
                (&d, IN_ALL_EVENTS),
                (&a, IN_ALL_EVENTS),
                (&b, IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF),
            ];
            for (k, (path, mask)) in adds.into_iter().enumerate() {
                let wd = be
                    .add_watch(&fd, path, mask)
                    .map_err(|e| format!("{}: instance {i}: add {path:?}: {e}", be.name()))?;
                if wd != k as i32 + 1 {
                    return Err(format!(
                        "{}: instance {i}: add {path:?} gave wd {wd}, want {}",
                        be.name(),
                        k + 1
                    ));
                }
            }
            if i % 2 == 1 {
                be.rm_watch(&fd, 2)
                    .map_err(|e| format!("{}: instance {i}: rm(2): {e}", be.name()))?;
            }
            fds.push(fd);
        }
        all.push((be, fds));
    }

    let fs = |what: &str, r: Result<(), Errno>| r.map_err(|e| format!("{what}: {e}"));
    fs("write a", util::touch(&a, 0))?;
    fs("chmod b", util::chmod(&b, 0o600))?;
    fs("create c", util::create(&c))?;
    fs("rename c e", util::rename(&c, &e))?;
    fs("unlink e", util::unlink(&e))?;
    fs("unlink b", util::unlink(&b))?;

    let mut streams: Vec<(&'static str, Vec<Vec<Event>>)> = Vec::new();
    for (be, fds) in &all {
        let mut v = Vec::new();
        for (i, fd) in fds.iter().enumerate() {
            let dr = drain(fd).map_err(|e| format!("{}: instance {i}: {e}", be.name()))?;
            v.push(dr.events);
        }
        streams.push((be.name(), v));
    }
    let (ref_name, ref_streams) = &streams[0];
    sanity(&ref_streams[0], false).map_err(|e| format!("{ref_name}: instance 0: {e}"))?;
    sanity(&ref_streams[1], true).map_err(|e| format!("{ref_name}: instance 1: {e}"))?;
    for (name, v) in &streams {
        for (i, evs) in v.iter().enumerate() {
            let want = &ref_streams[i % 2];
            if evs != want {
                return Err(format!(
                    "{name}: instance {i} got\n  {}\nwant ({ref_name} instance {}):\n  {}",
                    fmt_events(evs),
                    i % 2,
                    fmt_events(want)
                ));
            }
        }
    }
    crate::diag!(
        "{INSTANCES} instances x {} backends; even: {} events, odd: {} events; {}",
        streams.len(),
        ref_streams[0].len(),
        ref_streams[1].len(),
        fmt_events(&ref_streams[0])
    );

    for (be, fds) in all {
        for (i, fd) in fds.into_iter().enumerate() {
            close_fd(fd).map_err(|e| format!("{}: instance {i}: close: {e}", be.name()))?;
        }
    }
    Ok(())
}
