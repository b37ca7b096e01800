// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! The paired metrics of the icount boot: nanoseconds there are guest instructions.
//!
//! Each function is one metric (or a few measured together), each round on a fresh instance
//! that is set up and torn down outside the timed part.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Instant;

use super::Aggregate::Median;
use super::{
    drain, err, metric, ns_since, paired, poke, settle, settle_for, BenchDir, Files, Metric,
    Sample,
};
use crate::backend::{close_fd, fionread, set_next_wd, Backend};
use crate::uapi::*;
use crate::util;

/// Watches in the mass metrics (`add_50k`, `close_50k`, `mem_per_watch`).
pub(crate) const MASS: usize = 50_000;
/// The wd of the upstream SETNEXTWD patch's example, CRIU's case.
pub(crate) const CRIU_WD: u64 = 0x34d71d6;
/// Events a batched read takes (`event_*`): 64 × 16 or 32 bytes fits the buffer.
const BATCH: usize = 64;
/// The read buffer.
const BUF: usize = 65536;

/// A fresh non-blocking instance.
fn instance(be: &dyn Backend) -> Result<OwnedFd, String> {
    be.init(IN_NONBLOCK | IN_CLOEXEC).map_err(err(be, "init"))
}

/// Closes an instance.
fn close(be: &dyn Backend, fd: OwnedFd) -> Result<(), String> {
    close_fd(fd).map_err(err(be, "close"))
}

/// Opens a file for writing; the caller closes it.
fn open_w(p: &CString) -> Result<libc::c_int, String> {
    util::open(p, libc::O_WRONLY | libc::O_CLOEXEC).map_err(|e| format!("open: {e}"))
}

/// `add_rm`: CRIU's loop, an add of one file and the rm of the wd it got; per pair.
fn add_rm(files: &Files) -> Result<(), String> {
    const N: usize = 2000;
    let mut buf = vec![0u8; BUF];
    paired(&[metric("add_rm", "ns/pair")], 11, Median, |be| {
        settle();
        let fd = instance(be)?;
        let t = Instant::now();
        for _ in 0..N {
            let wd = be
                .add_watch(&fd, &files.many[0], IN_ALL_EVENTS)
                .map_err(err(be, "add"))?;
            be.rm_watch(&fd, wd).map_err(err(be, "rm"))?;
        }
        let ns = ns_since(t);
        // N IN_IGNORED records, well under the queue's limit.
        drain(&fd, &mut buf)?;
        close(be, fd)?;
        Ok(vec![Sample::new(ns, N)])
    })
}

/// The kernel's slab memory, in bytes (`Slab` of /proc/meminfo: `SReclaimable` plus
/// `SUnreclaim`), after every slab cache has given back its per-CPU and empty slabs, which
/// otherwise come and go by a few pages from boot to boot.
///
/// Both kinds count: the kernel's wd table is made of radix-tree nodes, whose cache is
/// `SLAB_RECLAIM_ACCOUNT` (for the page cache's sake) although an idr's nodes are never
/// reclaimed, so `SUnreclaim` alone would leave the kernel's wd table out and count the
/// module's.
fn slab_bytes() -> Result<f64, String> {
    if let Ok(caches) = std::fs::read_dir("/sys/kernel/slab") {
        for c in caches.flatten() {
            let _ = std::fs::write(c.path().join("shrink"), "1");
        }
    }
    let m = std::fs::read_to_string("/proc/meminfo").map_err(|e| format!("meminfo: {e}"))?;
    m.lines()
        .find_map(|l| l.strip_prefix("Slab:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb * 1024.0)
        .ok_or_else(|| "no Slab in /proc/meminfo".to_string())
}

/// Iterations of [`spin`] between two updates of the spinner's count.
const SPIN_CHUNK: u64 = 256;

/// A fixed stretch of instructions: [`SPIN_CHUNK`] turns of a loop.
#[inline(never)]
fn spin() {
    let mut i = 0u64;
    while std::hint::black_box(i) < SPIN_CHUNK {
        i += 1;
    }
}

/// A `SCHED_IDLE` thread on this CPU that runs [`spin`] whenever nothing else would run.
///
/// Under icount an idle guest jumps ahead to its next timer tick, so a timed call that sleeps
/// (close waits for an SRCU grace period) would count whole ticks of 4,000,000 "instructions"
/// that were never executed. With the spinner the CPU is never idle, and what it spun is known:
/// [`IdleSpinner::stop`] subtracts it, which leaves the instructions of everything else (the
/// caller, kworkers, RCU).
struct IdleSpinner {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    chunks: std::sync::Arc<std::sync::atomic::AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl IdleSpinner {
    /// Starts the spinner and returns once it runs as `SCHED_IDLE`.
    fn start() -> Result<Self, String> {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
        use std::sync::{mpsc, Arc};
        let stop = Arc::new(AtomicBool::new(false));
        let chunks = Arc::new(AtomicU64::new(0));
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn({
            let (stop, chunks) = (stop.clone(), chunks.clone());
            move || {
                let param = libc::sched_param { sched_priority: 0 };
                // SAFETY: `param` is valid for the call; 0 is this thread.
                let r = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
                let _ = tx.send(r);
                while !stop.load(Relaxed) {
                    spin();
                    chunks.fetch_add(1, Relaxed);
                }
            }
        });
        match rx.recv() {
            Ok(0) => Ok(Self {
                stop,
                chunks,
                thread,
            }),
            _ => Err(format!("SCHED_IDLE: {}", crate::backend::Errno::last())),
        }
    }

    /// The chunks spun so far.
    fn chunks(&self) -> u64 {
        self.chunks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stops the spinner.
    fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

/// Instructions (guest ns) per [`spin`] call, counted with nothing else running.
fn spin_cost() -> f64 {
    const N: usize = 10_000;
    settle();
    let t = Instant::now();
    for _ in 0..N {
        spin();
    }
    ns_since(t) / N as f64
}

/// `add_50k`, `mem_per_watch` and `close_50k`: 50,000 distinct files added to a fresh
/// instance (per add), the slab memory that took (per watch), and the close (per close; with
/// an [`IdleSpinner`], so that its grace-period waits do not count).
fn mass(files: &Files) -> Result<(), String> {
    let metrics: [Metric; 3] = [
        metric("add_50k", "ns/add"),
        metric("mem_per_watch", "bytes/watch"),
        metric("close_50k", "ns/close"),
    ];
    let spin = spin_cost();
    // 11 rounds, not 7: a round's slab growth moves by a slab of a few pages (about a byte per
    // watch) with what the previous rounds left, and a median of 7 still moved by half that.
    paired(&metrics, 11, Median, |be| {
        settle_for(500);
        let fd = instance(be)?;
        let m0 = slab_bytes()?;
        settle();
        let t = Instant::now();
        for f in &files.many {
            be.add_watch(&fd, f, IN_MODIFY).map_err(err(be, "add"))?;
        }
        let add = ns_since(t);
        let m1 = slab_bytes()?;
        let spinner = IdleSpinner::start()?;
        settle();
        let c0 = spinner.chunks();
        let t = Instant::now();
        close(be, fd)?;
        let close = ns_since(t);
        let spun = (spinner.chunks() - c0) as f64 * spin;
        spinner.stop();
        Ok(vec![
            Sample::new(add, MASS),
            Sample::new(m1 - m0, MASS),
            Sample::new(close - spun, 1),
        ])
    })
}

/// `setnextwd`: the ioctl alone, on one instance, per call.
fn setnextwd() -> Result<(), String> {
    const N: usize = 5000;
    paired(&[metric("setnextwd", "ns/call")], 9, Median, |be| {
        settle();
        let fd = instance(be)?;
        let t = Instant::now();
        for _ in 0..N {
            set_next_wd(&fd, CRIU_WD).map_err(err(be, "SETNEXTWD"))?;
        }
        let ns = ns_since(t);
        close(be, fd)?;
        Ok(vec![Sample::new(ns, N)])
    })
}

/// `setnextwd_add`: SETNEXTWD(0x34d71d6) and one add, each pair in a fresh instance; the
/// instances are opened before and closed after the timed part.
fn setnextwd_add(files: &Files) -> Result<(), String> {
    const INSTANCES: usize = 64;
    const BATCHES: usize = 4;
    paired(&[metric("setnextwd_add", "ns/pair")], 11, Median, |be| {
        settle();
        let mut ns = 0.0;
        for _ in 0..BATCHES {
            let fds = (0..INSTANCES)
                .map(|_| instance(be))
                .collect::<Result<Vec<_>, _>>()?;
            // The previous batch's closes leave marks and groups to the reaper and RCU: let
            // them finish before timing.
            settle();
            let t = Instant::now();
            for fd in &fds {
                set_next_wd(fd, CRIU_WD).map_err(err(be, "SETNEXTWD"))?;
                let wd = be
                    .add_watch(fd, &files.many[0], IN_MODIFY)
                    .map_err(err(be, "add"))?;
                if wd as u64 != CRIU_WD {
                    return Err(format!("{}: add after SETNEXTWD gave wd {wd}", be.name()));
                }
            }
            ns += ns_since(t);
            for fd in fds {
                close(be, fd)?;
            }
        }
        Ok(vec![Sample::new(ns, INSTANCES * BATCHES)])
    })
}

/// An instance watching `targets` for `IN_MODIFY`, and a write fd for each of `writes`.
fn event_setup(
    be: &dyn Backend,
    targets: &[&CString],
    writes: &[&CString],
) -> Result<(OwnedFd, Vec<libc::c_int>), String> {
    let fd = instance(be)?;
    for t in targets {
        be.add_watch(&fd, t, IN_MODIFY).map_err(err(be, "add"))?;
    }
    let wfds = writes
        .iter()
        .map(|p| open_w(p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((fd, wfds))
}

/// Closes what [`event_setup`] opened.
fn event_teardown(be: &dyn Backend, fd: OwnedFd, wfds: Vec<libc::c_int>) -> Result<(), String> {
    for w in wfds {
        util::close(w).map_err(|e| format!("close: {e}"))?;
    }
    close(be, fd)
}

/// Writes `n` times, cycling through `wfds`, with a read of the queue every [`BATCH`] writes;
/// returns the nanoseconds and the bytes read.
fn write_read(
    fd: &OwnedFd,
    wfds: &[libc::c_int],
    n: usize,
    buf: &mut [u8],
) -> Result<(f64, usize), String> {
    let mut bytes = 0;
    let t = Instant::now();
    for i in 0..n {
        poke(wfds[i % wfds.len()])?;
        if (i + 1) % BATCH == 0 {
            bytes += drain(fd, buf)?;
        }
    }
    Ok((ns_since(t), bytes))
}

/// `event_merged`, `event_unmerged` and `event_named`: events generated by 1-byte pwrites and
/// read in batches, per event generated.
///
/// - merged: one watched file; each event is identical to the one queued before it and merges.
/// - unmerged: two watched files written in turn; no event merges with the one before it.
/// - named: the directory of two files written in turn is watched, so every event carries the
///   file's name and none merges: the unmerged case plus the name.
fn events(files: &Files) -> Result<(), String> {
    const N: usize = 4096;
    let mut buf = vec![0u8; BUF];
    let (a, b, dir) = (&files.a, &files.b, &files.ev_dir);
    let cases: [(&str, &[&CString], &[&CString], usize); 3] = [
        ("event_merged", &[a], &[a], 1),
        ("event_unmerged", &[a, b], &[a, b], 16 * N),
        ("event_named", &[dir], &[a, b], 32 * N),
    ];
    for (name, targets, writes, want) in cases {
        paired(&[metric(name, "ns/event")], 9, Median, |be| {
            settle();
            let (fd, wfds) = event_setup(be, targets, writes)?;
            let (ns, bytes) = write_read(&fd, &wfds, N, &mut buf)?;
            // A merged event is read once per batch.
            let want = if want == 1 { 16 * N / BATCH } else { want };
            if bytes != want {
                return Err(format!(
                    "{}: {name}: read {bytes} bytes, not {want}",
                    be.name()
                ));
            }
            event_teardown(be, fd, wfds)?;
            Ok(vec![Sample::new(ns, N)])
        })?;
    }
    Ok(())
}

/// The median of some nanosecond counts.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// What one `Instant::now()` pair costs, to take out of individually timed calls.
fn clock_cost() -> f64 {
    median(
        (0..1000)
            .map(|_| {
                let t = Instant::now();
                ns_since(t)
            })
            .collect(),
    )
}

/// `read_one`: one write, then one read() of its one event; the read alone is timed.
///
/// A round's value is its median read, so that a timer tick landing in one of the short timed
/// windows does not count (in a long window it would be a fair share of the cost).
fn read_one(files: &Files) -> Result<(), String> {
    const N: usize = 2000;
    let clock = clock_cost();
    let mut buf = vec![0u8; BUF];
    paired(&[metric("read_one", "ns/read")], 9, Median, |be| {
        settle();
        let (fd, wfds) = event_setup(be, &[&files.a], &[&files.a])?;
        let mut each = Vec::with_capacity(N);
        for _ in 0..N {
            poke(wfds[0])?;
            let t = Instant::now();
            let r = crate::backend::read(fd.as_raw_fd(), &mut buf);
            each.push(ns_since(t) - clock);
            match r {
                Ok(16) => {}
                r => return Err(format!("{}: read_one: {r:?}", be.name())),
            }
        }
        event_teardown(be, fd, wfds)?;
        Ok(vec![Sample::new(median(each), 1)])
    })
}

/// `fionread_empty` and `fionread_16384`: FIONREAD on an empty queue, and on one holding 16,384
/// events (upstream walks the queue; the module keeps a count).
fn fionread_metrics(files: &Files) -> Result<(), String> {
    const EMPTY_N: usize = 5000;
    const FULL_N: usize = 100;
    const QUEUED: usize = 16_384;
    paired(&[metric("fionread_empty", "ns/call")], 9, Median, |be| {
        settle();
        let fd = instance(be)?;
        let t = Instant::now();
        for _ in 0..EMPTY_N {
            fionread(&fd).map_err(err(be, "FIONREAD"))?;
        }
        let ns = ns_since(t);
        close(be, fd)?;
        Ok(vec![Sample::new(ns, EMPTY_N)])
    })?;
    paired(&[metric("fionread_16384", "ns/call")], 7, Median, |be| {
        settle();
        let (fd, wfds) = event_setup(be, &[&files.a, &files.b], &[&files.a, &files.b])?;
        for i in 0..QUEUED {
            poke(wfds[i % 2])?;
        }
        let t = Instant::now();
        for _ in 0..FULL_N {
            let n = fionread(&fd).map_err(err(be, "FIONREAD"))?;
            if n as usize != 16 * QUEUED {
                return Err(format!(
                    "{}: FIONREAD = {n}, not {}",
                    be.name(),
                    16 * QUEUED
                ));
            }
        }
        let ns = ns_since(t);
        event_teardown(be, fd, wfds)?;
        Ok(vec![Sample::new(ns, FULL_N)])
    })
}

/// Every icount metric but the idr bench's, which the module prints when it loads.
pub(crate) fn run(files: &Files) -> Result<(), String> {
    add_rm(files)?;
    setnextwd()?;
    setnextwd_add(files)?;
    events(files)?;
    read_one(files)?;
    fionread_metrics(files)?;
    mass(files)?;
    // Last: its 10^5 files and watches leave the slab caches as no other metric found them.
    criu_restore()
}

/// Watches in `criu_restore_100k`.
const CRIU_WATCHES: usize = 100_000;
/// Their wds: 0x34d71d6 on, every seventh (sparse: about nine per leaf of the wd table).
const CRIU_STRIDE: u64 = 7;

/// `criu_restore_100k`: what the CRIU plugin's restore costs for an instance of 10^5 watches at
/// sparse wds, per watch, against adding the same 10^5 watches fresh to the kernel's inotify
/// (what re-adding them costs at the very least; CRIU's restore of a kernel inotify fd does
/// that, plus its add/rm loop for every wd).
///
/// The rust side is the plugin's restore path from its image: one mount fd and one
/// `RUST_INOTIFY_IOC_RESTORE`, which decodes the 10^5 handles, checks the events, and makes the
/// watches at their wds. The checkpoint is taken once, from an instance built with SETNEXTWD,
/// which is then closed: both sides start from unwatched inodes.
fn criu_restore() -> Result<(), String> {
    let dir = BenchDir::named("rust_inotify_criu")?;
    let files: Vec<CString> = (0..CRIU_WATCHES)
        .map(|i| util::cpath(&dir.0.join(format!("c{i:06}"))))
        .collect();
    for f in &files {
        util::create(f).map_err(|e| format!("create: {e}"))?;
    }
    let (ckpt, mut watches) = criu_checkpoint(&files)?;
    let mount = util::open(
        &util::cpath(&dir.0),
        libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
    )
    .map_err(|e| format!("open: {e}"))?;
    let result = paired(&[metric("criu_restore_100k", "ns/watch")], 5, Median, |be| {
        settle_for(500);
        let fd = instance(be)?;
        settle();
        let t = Instant::now();
        if be.name() == "kernel" {
            for f in &files {
                be.add_watch(&fd, f, IN_MODIFY).map_err(err(be, "add"))?;
            }
        } else {
            for w in watches.iter_mut() {
                w.fd = mount;
            }
            let mut arg = ckpt;
            arg.watches = watches.as_ptr() as u64;
            // SAFETY: `arg` and the watches it points to are valid for the call.
            if unsafe { libc::ioctl(fd.as_raw_fd(), RUST_INOTIFY_IOC_RESTORE as _, &arg) } != 0 {
                return Err(format!("RESTORE: {}", crate::backend::Errno::last()));
            }
        }
        let ns = ns_since(t);
        close(be, fd)?;
        Ok(vec![Sample::new(ns, CRIU_WATCHES)])
    });
    let _ = util::close(mount);
    result
}

/// The checkpoint `criu_restore_100k` restores: `files` watched for `IN_MODIFY` at sparse wds.
fn criu_checkpoint(files: &[CString]) -> Result<(Ckpt, Vec<CkptWatch>), String> {
    let be: &dyn Backend = &crate::backend::RUST;
    let fd = instance(be)?;
    for (i, f) in files.iter().enumerate() {
        set_next_wd(&fd, CRIU_WD + CRIU_STRIDE * i as u64).map_err(err(be, "SETNEXTWD"))?;
        be.add_watch(&fd, f, IN_MODIFY).map_err(err(be, "add"))?;
    }
    let empty = CkptWatch {
        wd: 0,
        mask: 0,
        ino: 0,
        s_dev: 0,
        fd: -1,
        handle_type: 0,
        handle_bytes: 0,
        f_handle: [0; RUST_INOTIFY_HANDLE_SZ],
    };
    let mut watches = vec![empty; files.len()];
    let mut ckpt = Ckpt {
        version: RUST_INOTIFY_CKPT_VERSION,
        nr_watches: files.len() as u32,
        watches: watches.as_mut_ptr() as u64,
        ..Ckpt::default()
    };
    // SAFETY: `ckpt` and the room it points to are valid for the call.
    if unsafe { libc::ioctl(fd.as_raw_fd(), RUST_INOTIFY_IOC_DUMP as _, &mut ckpt) } != 0 {
        return Err(format!("DUMP: {}", crate::backend::Errno::last()));
    }
    if ckpt.nr_watches as usize != files.len() || watches.iter().any(|w| w.handle_bytes == 0) {
        return Err(format!("DUMP: {} watches, or some without a handle", ckpt.nr_watches));
    }
    close(be, fd)?;
    Ok((ckpt, watches))
}
