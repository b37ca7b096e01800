// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Concurrency, one backend at a time: four threads add and remove watches on a shared pool of
//! files and generate events (open/write/close, read, rename away and back, unlink and
//! re-create) while a fifth thread reads with epoll and blocking `read()`.
//!
//! Afterwards every wd ever handed out is removed (0 or `EINVAL` both fine: deletion may have
//! removed it), the reader drains the rest, and then every wd must have had exactly one
//! `IN_IGNORED` (wds are not reused before INT_MAX, so counting per wd is exact), every event
//! must be well formed and name a wd that was handed out. Synchronisation is by joins and an
//! eventfd, never by sleeping.

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;

use crate::backend::{close_fd, fionread, read, Backend, Errno, KERNEL, RUST};
use crate::events::{check_well_formed, fmt_events, parse, Event};
use crate::tap::{catch, Ctx};
use crate::uapi::*;
use crate::util::{self, LimitGuard, Rng, TempDir};

const THREADS: usize = 4;
const OPS_PER_THREAD: usize = 2000;
const FILES: usize = 16;
/// Enough for every event the workers can generate, so that no IN_IGNORED is lost to overflow.
const QUEUE_LIMIT: u64 = 1 << 20;

/// Every wd add() returned, shared by the workers.
#[derive(Default)]
struct Known {
    list: Vec<i32>,
    set: HashSet<i32>,
}

#[derive(Default)]
struct WorkerStats {
    adds: usize,
    add_enoent: usize,
    rms: usize,
    rm_einval: usize,
    fs_ops: usize,
    /// The CPUs this worker was seen running on (bit N: CPU N), from `sched_getcpu()`.
    cpus: u64,
}

#[derive(Default)]
struct ReaderStats {
    reads: usize,
    bytes: usize,
    events: Vec<Event>,
}

fn worker(
    t: usize,
    be: &dyn Backend,
    fd: &OwnedFd,
    dir: &CString,
    files: &[CString],
    known: &Mutex<Known>,
) -> Result<WorkerStats, String> {
    let mut rng = Rng::new(0x1000 + t as u64);
    let mut st = WorkerStats::default();
    let tmp = {
        let mut b = files[0].as_bytes().to_vec();
        b.truncate(b.len() - 3);
        b.extend_from_slice(format!("r{t}").as_bytes());
        CString::new(b).unwrap()
    };
    let masks = [
        IN_ALL_EVENTS,
        IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE_SELF,
        IN_ATTRIB | IN_MOVE_SELF | IN_MASK_ADD,
        IN_ALL_EVENTS | IN_EXCL_UNLINK,
    ];
    let ok_enoent = |what: &str, r: Result<(), Errno>| match r {
        Ok(()) | Err(Errno(libc::ENOENT)) => Ok(()),
        Err(e) => Err(format!("thread {t}: {what}: {e}")),
    };
    for i in 0..OPS_PER_THREAD {
        // SAFETY: plain library call.
        let cpu = unsafe { libc::sched_getcpu() };
        if (0..64).contains(&cpu) {
            st.cpus |= 1 << cpu;
        }
        let f = &files[rng.index(files.len())];
        match rng.below(100) {
            0..=29 => {
                let path = if rng.below(10) == 0 { dir } else { f };
                match be.add_watch(fd, path, rng.pick(&masks)) {
                    Ok(wd) if wd >= 1 => {
                        st.adds += 1;
                        let mut k = known.lock().unwrap();
                        if k.set.insert(wd) {
                            k.list.push(wd);
                        }
                    }
                    Ok(wd) => return Err(format!("thread {t} op {i}: add returned wd {wd}")),
                    Err(Errno(libc::ENOENT)) => st.add_enoent += 1,
                    Err(e) => return Err(format!("thread {t} op {i}: add({path:?}): {e}")),
                }
            }
            30..=49 => {
                let wd = {
                    let k = known.lock().unwrap();
                    if k.list.is_empty() {
                        continue;
                    }
                    k.list[rng.index(k.list.len())]
                };
                st.rms += 1;
                match be.rm_watch(fd, wd) {
                    Ok(()) => {}
                    Err(Errno(libc::EINVAL)) => st.rm_einval += 1,
                    Err(e) => return Err(format!("thread {t} op {i}: rm({wd}): {e}")),
                }
            }
            50..=69 => ok_enoent("touch", util::touch(f, 0))?,
            70..=74 => ok_enoent("read", util::read_file(f))?,
            75..=84 => {
                if util::rename(f, &tmp).is_ok() {
                    util::rename(&tmp, f).map_err(|e| format!("thread {t}: rename back: {e}"))?;
                }
            }
            _ => {
                ok_enoent("unlink", util::unlink(f))?;
                util::touch(f, libc::O_CREAT).map_err(|e| format!("thread {t}: re-create: {e}"))?;
            }
        }
        st.fs_ops += 1;
    }
    Ok(st)
}

fn record(st: &mut ReaderStats, buf: &[u8]) -> Result<(), String> {
    st.reads += 1;
    st.bytes += buf.len();
    let evs = parse(buf)?;
    for e in &evs {
        check_well_formed(e)?;
    }
    st.events.extend(evs);
    Ok(())
}

/// Reads until the eventfd says the producers are done, then drains what is left.
fn reader(fd: &OwnedFd, stop: &OwnedFd) -> Result<ReaderStats, String> {
    let mut st = ReaderStats::default();
    let mut buf = vec![0u8; 65536];
    // SAFETY: plain system call.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if ep < 0 {
        return Err(format!("epoll_create1: {}", Errno::last()));
    }
    // SAFETY: `ep` was just created and is owned here.
    let ep = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(ep) };
    for (f, token) in [(fd.as_raw_fd(), 0u64), (stop.as_raw_fd(), 1u64)] {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: `ev` is a valid epoll_event.
        if unsafe { libc::epoll_ctl(ep.as_raw_fd(), libc::EPOLL_CTL_ADD, f, &mut ev) } < 0 {
            return Err(format!("epoll_ctl: {}", Errno::last()));
        }
    }
    let mut first_error: Option<String> = None;
    loop {
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 2];
        // SAFETY: `evs` has room for 2 events.
        let n = unsafe { libc::epoll_wait(ep.as_raw_fd(), evs.as_mut_ptr(), 2, -1) };
        if n < 0 {
            let e = Errno::last();
            if e.0 == libc::EINTR {
                continue;
            }
            return Err(format!("epoll_wait: {e}"));
        }
        let mut stopping = false;
        for ev in &evs[..n as usize] {
            let token = ev.u64;
            if token == 1 {
                stopping = true;
                continue;
            }
            if ev.events & libc::EPOLLIN as u32 == 0 {
                return Err(format!("epoll reported {:#x} on the instance", {
                    ev.events
                }));
            }
            // Blocking read: epoll said readable and this is the only reader.
            let r = read(fd.as_raw_fd(), &mut buf).map_err(|e| format!("read: {e}"))?;
            if r == 0 {
                return Err("read returned 0".into());
            }
            if let Err(e) = record(&mut st, &buf[..r]) {
                first_error.get_or_insert(e);
            }
        }
        if stopping {
            break;
        }
    }
    // Producers are done: FIONREAD is now exact.
    loop {
        let avail = fionread(fd).map_err(|e| format!("FIONREAD: {e}"))?;
        if avail == 0 {
            break;
        }
        let avail = avail as usize;
        if buf.len() < avail {
            buf.resize(avail, 0);
        }
        let r = read(fd.as_raw_fd(), &mut buf).map_err(|e| format!("read: {e}"))?;
        if r != avail {
            first_error.get_or_insert(format!(
                "final drain: read returned {r}, FIONREAD said {avail}"
            ));
        }
        if let Err(e) = record(&mut st, &buf[..r]) {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(format!("reader: {e}")),
        None => Ok(st),
    }
}

/// Writes the eventfd on drop, so that the reader ends even if the main thread fails.
struct StopOnDrop<'a>(&'a OwnedFd);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from `one` to an eventfd.
        unsafe { libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }
}

fn run(be: &'static dyn Backend) -> Result<(), String> {
    let dir = TempDir::new()?;
    let dirc = util::cpath(dir.path());
    let files: Vec<CString> = (0..FILES)
        .map(|i| util::cpath(&dir.join(&format!("f{i:02}"))))
        .collect();
    for f in &files {
        util::create(f).map_err(|e| format!("create: {e}"))?;
    }
    let limit = LimitGuard::raise(be.max_queued_events_path(), QUEUE_LIMIT);
    let fd = be
        .init(IN_CLOEXEC)
        .map_err(|e| format!("{}: init: {e}", be.name()))?;
    drop(limit);
    // SAFETY: plain system call.
    let stop = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    if stop < 0 {
        return Err(format!("eventfd: {}", Errno::last()));
    }
    // SAFETY: `stop` was just created and is owned here.
    let stop = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(stop) };
    let known = Mutex::new(Known::default());

    let (worker_results, rm_errors, rm_ok, reader_result) = std::thread::scope(|s| {
        let stopper = StopOnDrop(&stop);
        let r = s.spawn(|| catch(|| reader(&fd, &stop)));
        let ws: Vec<_> = (0..THREADS)
            .map(|t| {
                let (fd, dirc, files, known) = (&fd, &dirc, &files, &known);
                s.spawn(move || catch(|| worker(t, be, fd, dirc, files, known)))
            })
            .collect();
        let worker_results: Vec<Result<WorkerStats, String>> = ws
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("worker panicked".into())))
            .collect();
        // Remove whatever is still watched.
        let mut rm_errors = Vec::new();
        let mut rm_ok = 0;
        let all = known.lock().unwrap().list.clone();
        for wd in all {
            match be.rm_watch(&fd, wd) {
                Ok(()) => rm_ok += 1,
                Err(Errno(libc::EINVAL)) => {}
                Err(e) => rm_errors.push(format!("final rm({wd}): {e}")),
            }
        }
        drop(stopper);
        let reader_result = r.join().unwrap_or_else(|_| Err("reader panicked".into()));
        (worker_results, rm_errors, rm_ok, reader_result)
    });

    let mut errors: Vec<String> = Vec::new();
    let mut total = WorkerStats::default();
    for w in worker_results {
        match w {
            Ok(st) => {
                total.adds += st.adds;
                total.add_enoent += st.add_enoent;
                total.rms += st.rms;
                total.rm_einval += st.rm_einval;
                total.fs_ops += st.fs_ops;
                total.cpus |= st.cpus;
            }
            Err(e) => errors.push(e),
        }
    }
    errors.extend(rm_errors);
    let st = match reader_result {
        Ok(st) => st,
        Err(e) => {
            errors.push(e);
            ReaderStats::default()
        }
    };

    let known = known.into_inner().unwrap();
    let overflows = st.events.iter().filter(|e| e.mask == IN_Q_OVERFLOW).count();
    let mut ignored: HashMap<i32, usize> = HashMap::new();
    let mut after_ignored = 0usize;
    let mut unknown: Vec<&Event> = Vec::new();
    for e in &st.events {
        if e.mask == IN_Q_OVERFLOW {
            continue;
        }
        if !known.set.contains(&e.wd) {
            unknown.push(e);
        }
        if e.mask == IN_IGNORED {
            *ignored.entry(e.wd).or_default() += 1;
        } else if ignored.contains_key(&e.wd) {
            after_ignored += 1;
        }
    }
    if !unknown.is_empty() {
        let n = unknown.len().min(10);
        let sample: Vec<Event> = unknown[..n].iter().map(|e| (*e).clone()).collect();
        errors.push(format!(
            "{} events name a wd that add() never returned, e.g. {}",
            unknown.len(),
            fmt_events(&sample)
        ));
    }
    let mut missing = Vec::new();
    let mut duplicated = Vec::new();
    for &wd in &known.list {
        match ignored.get(&wd).copied().unwrap_or(0) {
            1 => {}
            0 => missing.push(wd),
            n => duplicated.push((wd, n)),
        }
    }
    if !duplicated.is_empty() {
        errors.push(format!(
            "{} wds got more than one IN_IGNORED (wd, count): {:?}",
            duplicated.len(),
            &duplicated[..duplicated.len().min(20)]
        ));
    }
    if !missing.is_empty() {
        if overflows > 0 {
            crate::diag!(
                "{} wds got no IN_IGNORED, but the queue overflowed ({overflows} IN_Q_OVERFLOW): \
                 not counted as a failure",
                missing.len()
            );
        } else {
            errors.push(format!(
                "{} wds got no IN_IGNORED, e.g. {:?}",
                missing.len(),
                &missing[..missing.len().min(20)]
            ));
        }
    }

    let name = be.name();
    // SAFETY: plain library call.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    crate::diag!(
        "{name}: the {THREADS} workers ran on {} CPU(s) (mask {:#x}) of {online} online",
        total.cpus.count_ones(),
        total.cpus
    );
    if let Err(e) = close_fd(fd) {
        errors.push(format!("close: {e}"));
    }
    crate::diag!(
        "{name}: {THREADS}x{OPS_PER_THREAD} ops: {} adds ({} ENOENT), {} rms ({} EINVAL), \
         {} wds; final rm removed {rm_ok}; reader: {} reads, {} bytes, {} events, \
         {} IN_IGNORED, {overflows} overflows, {after_ignored} events after their wd's IN_IGNORED \
         (a race upstream allows)",
        total.adds,
        total.add_enoent,
        total.rms,
        total.rm_einval,
        known.list.len(),
        st.reads,
        st.bytes,
        st.events.len(),
        ignored.values().sum::<usize>()
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}: {}", errors.join("\n")))
    }
}

/// The kernel's inotify.
pub fn kernel(_ctx: &Ctx) -> Result<(), String> {
    run(&KERNEL)
}

/// `/dev/rust_inotify`.
pub fn rust(_ctx: &Ctx) -> Result<(), String> {
    run(&RUST)
}
