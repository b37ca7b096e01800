// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Watch-descriptor allocation, differentially: random add / rm / `INOTIFY_IOC_SETNEXTWD` /
//! file-system operations applied in lockstep to one instance of each backend and to a model of
//! upstream's `idr_alloc_cyclic()` (spec §1.6).
//!
//! After every step, every return value and errno must be identical, and the events each
//! instance has queued (drained with `FIONREAD` + `read()`) must be identical too. The model
//! predicts the wds, the errnos, and the `IN_IGNORED` events; the other events are compared
//! between backends only (with a single backend selected, the model is the only reference).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::CString;
use std::fmt;
use std::os::fd::OwnedFd;

use crate::backend::{fmt_res, set_next_wd, Backend, Errno};
use crate::events::{drain, expect_eagain, fmt_events, Event};
use crate::tap::Ctx;
use crate::uapi::*;
use crate::util::{self, Rng, TempDir};

/// Files in the pool (path 0 is the directory itself).
const FILES: usize = 40;
/// Operations per seed.
const OPS: usize = 3000;
/// Steps of context printed before a divergence.
const CONTEXT: usize = 12;

const INT_MAX: u32 = i32::MAX as u32;

const EINVAL: Errno = Errno(libc::EINVAL);
const ENOENT: Errno = Errno(libc::ENOENT);
const EEXIST: Errno = Errno(libc::EEXIST);
const ENOTDIR: Errno = Errno(libc::ENOTDIR);

/// One step.
#[derive(Clone, Copy)]
enum Op {
    Add { path: usize, mask: u32 },
    Rm { wd: i32 },
    SetNext { arg: u64 },
    Touch { path: usize },
    Create { path: usize },
    Unlink { path: usize },
    Rename { from: usize, to: usize },
}

fn path_name(i: usize) -> String {
    if i == 0 {
        "<dir>".to_string()
    } else {
        format!("f{i:02}")
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Add { path, mask } => write!(f, "add({}, {mask:#x})", path_name(path)),
            Op::Rm { wd } => write!(f, "rm({wd})"),
            Op::SetNext { arg } => write!(f, "SETNEXTWD({arg:#x})"),
            Op::Touch { path } => write!(f, "touch({})", path_name(path)),
            Op::Create { path } => write!(f, "create({})", path_name(path)),
            Op::Unlink { path } => write!(f, "unlink({})", path_name(path)),
            Op::Rename { from, to } => write!(f, "rename({}, {})", path_name(from), path_name(to)),
        }
    }
}

/// Upstream's behaviour for these operations, from spec §1.2 and §1.6.
struct Model {
    /// `idr->idr_next`.
    cursor: u32,
    /// Live wd -> inode.
    live: BTreeMap<i32, u64>,
    /// Inode -> its wd.
    by_inode: HashMap<u64, i32>,
    /// Path index -> the inode there, if any (path 0, the directory, is inode 0).
    path_inode: Vec<Option<u64>>,
    next_inode: u64,
    /// Every wd ever handed out, in order and without repeats (for picking dead wds).
    ever: Vec<i32>,
    ever_set: HashSet<i32>,
    /// IN_IGNORED wds queued by the current step.
    ignored: Vec<i32>,
}

impl Model {
    fn new() -> Self {
        let mut path_inode = vec![Some(0)];
        path_inode.extend((1..=FILES as u64).map(Some));
        Self {
            cursor: 0,
            live: BTreeMap::new(),
            by_inode: HashMap::new(),
            path_inode,
            next_inode: FILES as u64 + 1,
            ever: Vec::new(),
            ever_set: HashSet::new(),
            ignored: Vec::new(),
        }
    }

    /// The smallest free id in `from..=INT_MAX`.
    fn first_free_from(&self, from: u32) -> Option<u32> {
        let mut id = from;
        for (&wd, _) in self.live.range(from as i32..) {
            if wd as u32 != id {
                break;
            }
            if id == INT_MAX {
                return None;
            }
            id += 1;
        }
        Some(id)
    }

    /// `idr_alloc_cyclic(idr, mark, 1, 0, ...)`.
    fn alloc(&mut self, ino: u64) -> i32 {
        let mut id = self.cursor;
        if (id as i32) < 1 {
            id = 1;
        }
        let found = match self.first_free_from(id) {
            Some(x) => Some(x),
            None if id > 1 => self.first_free_from(1),
            None => None,
        };
        let wd = found.expect("model: all wds in use") as i32;
        self.cursor = (wd as u32).wrapping_add(1);
        self.live.insert(wd, ino);
        self.by_inode.insert(ino, wd);
        if self.ever_set.insert(wd) {
            self.ever.push(wd);
        }
        wd
    }

    fn kill_inode(&mut self, ino: u64) {
        if let Some(wd) = self.by_inode.remove(&ino) {
            self.live.remove(&wd);
            self.ignored.push(wd);
        }
    }

    fn add(&mut self, path: usize, mask: u32) -> Result<i32, Errno> {
        if mask & !ALL_INOTIFY_BITS != 0 || mask & ALL_INOTIFY_BITS == 0 {
            return Err(EINVAL);
        }
        if mask & IN_MASK_ADD != 0 && mask & IN_MASK_CREATE != 0 {
            return Err(EINVAL);
        }
        let ino = self.path_inode[path].ok_or(ENOENT)?;
        if mask & IN_ONLYDIR != 0 && path != 0 {
            return Err(ENOTDIR);
        }
        if let Some(&wd) = self.by_inode.get(&ino) {
            return if mask & IN_MASK_CREATE != 0 {
                Err(EEXIST)
            } else {
                Ok(wd)
            };
        }
        Ok(self.alloc(ino))
    }

    fn rm(&mut self, wd: i32) -> Result<i32, Errno> {
        let ino = self.live.remove(&wd).ok_or(EINVAL)?;
        self.by_inode.remove(&ino);
        self.ignored.push(wd);
        Ok(0)
    }

    fn set_next(&mut self, arg: u64) -> Result<i32, Errno> {
        if (1..=INT_MAX as u64).contains(&arg) {
            self.cursor = arg as u32;
            Ok(0)
        } else {
            Err(EINVAL)
        }
    }

    /// The file-system operations, as the model expects them to turn out.
    fn fs(&mut self, op: Op) -> Result<i32, Errno> {
        match op {
            Op::Touch { path } => self.path_inode[path].map(|_| 0).ok_or(ENOENT),
            Op::Create { path } => {
                if self.path_inode[path].is_some() {
                    return Err(EEXIST);
                }
                self.path_inode[path] = Some(self.next_inode);
                self.next_inode += 1;
                Ok(0)
            }
            Op::Unlink { path } => {
                let ino = self.path_inode[path].take().ok_or(ENOENT)?;
                self.kill_inode(ino);
                Ok(0)
            }
            Op::Rename { from, to } => {
                let ino = self.path_inode[from].take().ok_or(ENOENT)?;
                if let Some(old) = self.path_inode[to].replace(ino) {
                    self.kill_inode(old);
                }
                Ok(0)
            }
            _ => unreachable!(),
        }
    }
}

/// Masks add() is tried with: valid ones (most), then each EINVAL/ENOTDIR/EEXIST path.
const MASKS: &[u32] = &[
    IN_ALL_EVENTS,
    IN_ALL_EVENTS,
    IN_ALL_EVENTS,
    IN_MODIFY | IN_ATTRIB,
    IN_DELETE_SELF,
    IN_CLOSE_WRITE | IN_MASK_ADD,
    IN_ATTRIB | IN_MOVE_SELF | IN_MASK_ADD,
    IN_ALL_EVENTS | IN_MASK_CREATE,
    IN_MODIFY | IN_MASK_CREATE,
    IN_ALL_EVENTS | IN_EXCL_UNLINK,
    IN_ALL_EVENTS | IN_DONT_FOLLOW,
    IN_ALL_EVENTS | IN_ONLYDIR,
    IN_ISDIR,
    IN_IGNORED | IN_UNMOUNT | IN_Q_OVERFLOW,
    0,
    0x0800_0000 | IN_MODIFY,
    0x0000_1000,
    IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE,
];

/// SETNEXTWD arguments outside `1..=INT_MAX`, including ones that are valid once truncated to
/// 32 bits (the argument is an `unsigned long`).
const BAD_NEXT: &[u64] = &[
    0,
    u64::MAX,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0001,
    0x1_0000_0009,
    (-(i32::MAX as i64)) as u64,
];

fn file_path(rng: &mut Rng) -> usize {
    1 + rng.index(FILES)
}

fn gen(rng: &mut Rng, m: &Model) -> Op {
    let r = rng.below(100);
    match r {
        0..=39 => Op::Add {
            path: if rng.below(10) == 0 {
                0
            } else {
                file_path(rng)
            },
            mask: rng.pick(MASKS),
        },
        40..=69 => {
            let k = rng.below(100);
            let wd = if k < 60 && !m.live.is_empty() {
                *m.live.keys().nth(rng.index(m.live.len())).unwrap()
            } else if k < 78 && !m.ever.is_empty() {
                // Usually dead by now; sometimes alive again (allowed: the model knows).
                m.ever[rng.index(m.ever.len())]
            } else {
                match rng.below(7) {
                    0 => 0,
                    1 => -1,
                    2 => i32::MIN,
                    3 => i32::MAX,
                    4 => m.cursor.max(1) as i32,
                    5 => -(1 + rng.below(1000) as i32),
                    _ => 1 + rng.below(i32::MAX as u64) as i32,
                }
            };
            Op::Rm { wd }
        }
        70..=74 => {
            let k = rng.below(100);
            let arg = if k < 25 {
                1 + rng.below(m.cursor.clamp(1, INT_MAX - 8) as u64 + 5)
            } else if k < 40 && !m.live.is_empty() {
                *m.live.keys().nth(rng.index(m.live.len())).unwrap() as u64
            } else if k < 65 {
                INT_MAX as u64 - rng.below(4)
            } else if k < 75 {
                1 + rng.below(INT_MAX as u64)
            } else {
                rng.pick(BAD_NEXT)
            };
            Op::SetNext { arg }
        }
        75..=82 => Op::Touch {
            path: file_path(rng),
        },
        83..=87 => Op::Unlink {
            path: file_path(rng),
        },
        88..=94 => Op::Create {
            path: file_path(rng),
        },
        _ => {
            let from = file_path(rng);
            let mut to = file_path(rng);
            if to == from {
                to = 1 + to % FILES;
            }
            Op::Rename { from, to }
        }
    }
}

struct Side {
    be: &'static dyn Backend,
    fd: OwnedFd,
}

/// Runs one seed.
pub fn run_seed(ctx: &Ctx, seed: u64) -> Result<(), String> {
    let dir = TempDir::new()?;
    let paths: Vec<CString> = (0..=FILES)
        .map(|i| {
            if i == 0 {
                util::cpath(dir.path())
            } else {
                util::cpath(&dir.join(&path_name(i)))
            }
        })
        .collect();
    for p in &paths[1..] {
        util::create(p).map_err(|e| format!("create {p:?}: {e}"))?;
    }

    let mut sides = Vec::new();
    for be in ctx.backends() {
        let fd = be
            .init(IN_NONBLOCK | IN_CLOEXEC)
            .map_err(|e| format!("{}: init: {e}", be.name()))?;
        sides.push(Side { be, fd });
    }

    let mut model = Model::new();
    let mut rng = Rng::new(seed);
    let mut history: Vec<String> = Vec::new();
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    let mut wrapped = 0usize;

    let fail = |history: &[String], step: usize, op: &Op, what: String| -> String {
        let from = history.len().saturating_sub(CONTEXT);
        let mut s = format!(
            "seed {seed:#x}: first divergence at step {step}: {op}\n{what}\ncontext (last {} steps):",
            history.len() - from
        );
        for h in &history[from..] {
            s.push_str("\n  ");
            s.push_str(h);
        }
        s
    };

    for step in 0..OPS {
        let op = gen(&mut rng, &model);
        let before_cursor = model.cursor;
        let kind;
        let results: Vec<(String, Result<i32, Errno>)>;
        let want = match op {
            Op::Add { path, mask } => {
                kind = "add";
                results = sides
                    .iter()
                    .map(|s| {
                        (
                            s.be.name().to_string(),
                            s.be.add_watch(&s.fd, &paths[path], mask),
                        )
                    })
                    .collect();
                model.add(path, mask)
            }
            Op::Rm { wd } => {
                kind = "rm";
                results = sides
                    .iter()
                    .map(|s| (s.be.name().to_string(), s.be.rm_watch(&s.fd, wd).map(|_| 0)))
                    .collect();
                model.rm(wd)
            }
            Op::SetNext { arg } => {
                kind = "setnextwd";
                results = sides
                    .iter()
                    .map(|s| (s.be.name().to_string(), set_next_wd(&s.fd, arg).map(|_| 0)))
                    .collect();
                model.set_next(arg)
            }
            Op::Touch { path } => {
                kind = "fs";
                results = vec![("fs".into(), util::touch(&paths[path], 0).map(|_| 0))];
                model.fs(op)
            }
            Op::Create { path } => {
                kind = "fs";
                let r = util::open(
                    &paths[path],
                    libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
                )
                .and_then(util::close);
                results = vec![("fs".into(), r.map(|_| 0))];
                model.fs(op)
            }
            Op::Unlink { path } => {
                kind = "fs";
                results = vec![("fs".into(), util::unlink(&paths[path]).map(|_| 0))];
                model.fs(op)
            }
            Op::Rename { from, to } => {
                kind = "fs";
                results = vec![(
                    "fs".into(),
                    util::rename(&paths[from], &paths[to]).map(|_| 0),
                )];
                model.fs(op)
            }
        };
        *counts.entry(kind).or_default() += 1;
        if let (Op::Add { .. }, Ok(wd)) = (op, want) {
            if (wd as u32) < before_cursor && before_cursor > 1 {
                wrapped += 1;
            }
        }

        let res_str: Vec<String> = results
            .iter()
            .map(|(n, r)| format!("{n}={}", fmt_res(r)))
            .collect();
        let line = format!(
            "{step}: {op} -> {} model={}",
            res_str.join(" "),
            fmt_res(&want)
        );
        if results.iter().any(|(_, r)| *r != want) {
            return Err(fail(&history, step, &op, format!("results differ: {line}")));
        }

        // Drain every instance; the streams must be identical, and their IN_IGNORED events
        // must be the ones the model expects, in order.
        let expected_ignored = std::mem::take(&mut model.ignored);
        let mut streams: Vec<(&str, Vec<Event>)> = Vec::new();
        for s in &sides {
            let d = drain(&s.fd).map_err(|e| {
                fail(
                    &history,
                    step,
                    &op,
                    format!("{}: {e}\nthis step: {line}", s.be.name()),
                )
            })?;
            expect_eagain(&s.fd).map_err(|e| {
                fail(
                    &history,
                    step,
                    &op,
                    format!("{}: {e}\nthis step: {line}", s.be.name()),
                )
            })?;
            streams.push((s.be.name(), d.events));
        }
        let all: Vec<String> = streams
            .iter()
            .map(|(n, evs)| format!("{n}: {}", fmt_events(evs)))
            .collect();
        for (n, evs) in &streams[1..] {
            if *evs != streams[0].1 {
                return Err(fail(
                    &history,
                    step,
                    &op,
                    format!(
                        "event streams differ after: {line}\n{}: {}\n{n}: {}",
                        streams[0].0,
                        fmt_events(&streams[0].1),
                        fmt_events(evs)
                    ),
                ));
            }
        }
        for (n, evs) in &streams {
            let got: Vec<i32> = evs
                .iter()
                .filter(|e| e.mask & IN_IGNORED != 0)
                .map(|e| e.wd)
                .collect();
            if got != expected_ignored {
                return Err(fail(
                    &history,
                    step,
                    &op,
                    format!(
                        "{n}: IN_IGNORED for wds {got:?}, model expects {expected_ignored:?} \
                         after: {line}\n{n}: {}",
                        fmt_events(evs)
                    ),
                ));
            }
            if let Some(e) = evs.iter().find(|e| e.mask & IN_Q_OVERFLOW != 0) {
                return Err(format!("seed {seed:#x} step {step}: {n}: unexpected {e}"));
            }
        }
        history.push(format!("{line} | {}", all.join(" | ")));
    }

    for s in sides {
        let name = s.be.name();
        crate::backend::close_fd(s.fd).map_err(|e| format!("{name}: close: {e}"))?;
    }
    crate::diag!(
        "seed {seed:#x}: {OPS} steps in lockstep (add {}, rm {}, setnextwd {}, fs {}); \
         {} wds handed out, {} live at the end, {wrapped} allocations below the cursor",
        counts.get("add").unwrap_or(&0),
        counts.get("rm").unwrap_or(&0),
        counts.get("setnextwd").unwrap_or(&0),
        counts.get("fs").unwrap_or(&0),
        model.ever.len(),
        model.live.len()
    );
    Ok(())
}

/// The seeds, one TAP test each.
pub fn seed1(ctx: &Ctx) -> Result<(), String> {
    run_seed(ctx, 1)
}

/// See [`seed1`].
pub fn seed2(ctx: &Ctx) -> Result<(), String> {
    run_seed(ctx, 2)
}

/// See [`seed1`].
pub fn seed3(ctx: &Ctx) -> Result<(), String> {
    run_seed(ctx, 0x5eed_0003)
}

/// See [`seed1`].
pub fn seed4(ctx: &Ctx) -> Result<(), String> {
    run_seed(ctx, 0xc0ff_ee00_dead_beef)
}
