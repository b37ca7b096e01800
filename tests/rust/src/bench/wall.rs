// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! The wall-clock metrics of the second boot, without icount: both CPUs really run at once, so
//! these see what instruction counts cannot (lock contention, cache lines moving between CPUs,
//! wake-ups). The host is shared and TCG is slow, so they are noisy: printed, never judged.

use std::os::fd::AsRawFd;
use std::time::Instant;

use super::Aggregate::Median;
use super::{drain, err, metric, ns_since, paired, poke, Files, Sample};
use crate::backend::{self, close_fd, Backend};
use crate::uapi::*;
use crate::util;

/// `producer_reader`: one thread writes a watched file, another blocks in read() and takes
/// the events as they come; per write, until the reader has seen the last one.
fn producer_reader(files: &Files) -> Result<(), String> {
    const N: usize = 50_000;
    paired(&[metric("producer_reader", "ns/event")], 7, Median, |be| {
        let fd = be.init(IN_CLOEXEC).map_err(err(be, "init"))?;
        be.add_watch(&fd, &files.a, IN_MODIFY)
            .map_err(err(be, "add"))?;
        let stop = be
            .add_watch(&fd, &files.stop, IN_MODIFY)
            .map_err(err(be, "add"))?;
        let wa = util::open(&files.a, libc::O_WRONLY | libc::O_CLOEXEC)
            .map_err(|e| format!("open: {e}"))?;
        let ws = util::open(&files.stop, libc::O_WRONLY | libc::O_CLOEXEC)
            .map_err(|e| format!("open: {e}"))?;
        let t = Instant::now();
        let (ns, read) = std::thread::scope(|s| -> Result<(f64, usize), String> {
            let reader = s.spawn(|| -> Result<usize, String> {
                let mut buf = vec![0u8; 65536];
                let mut events = 0;
                loop {
                    let n = backend::read(fd.as_raw_fd(), &mut buf)
                        .map_err(|e| format!("read: {e}"))?;
                    let mut off = 0;
                    while off + 16 <= n {
                        let wd = i32::from_ne_bytes(buf[off..off + 4].try_into().unwrap());
                        let len = u32::from_ne_bytes(buf[off + 12..off + 16].try_into().unwrap());
                        if wd == stop {
                            return Ok(events);
                        }
                        events += 1;
                        off += 16 + len as usize;
                    }
                }
            });
            for _ in 0..N {
                poke(wa)?;
            }
            poke(ws)?;
            let read = reader
                .join()
                .map_err(|_| "the reader panicked".to_string())??;
            Ok((ns_since(t), read))
        })?;
        super::out!(
            "bench-detail: producer_reader {} {N} writes, {read} events read",
            be.name()
        );
        util::close(wa).map_err(|e| format!("close: {e}"))?;
        util::close(ws).map_err(|e| format!("close: {e}"))?;
        close_fd(fd).map_err(err(be, "close"))?;
        Ok(vec![Sample::new(ns, N)])
    })
}

/// Reads or writes exactly one byte on a pipe end.
fn pipe_byte(fd: libc::c_int, write: bool) -> bool {
    let mut b = [0u8; 1];
    // SAFETY: `b` is valid for one byte.
    let r = unsafe {
        if write {
            libc::write(fd, b.as_ptr().cast(), 1)
        } else {
            libc::read(fd, b.as_mut_ptr().cast(), 1)
        }
    };
    r == 1
}

/// The body of one `add_rm_2inst` child: becomes `uid`, opens an instance, says it is ready,
/// waits for the start, then does `n` add+rm pairs on `file`. Never returns.
fn child(be: &dyn Backend, file: &std::ffi::CStr, uid: u32, ready: i32, go: i32, n: usize) -> ! {
    let ok = (|| -> Option<()> {
        // SAFETY: plain system calls in a single-threaded child.
        if unsafe { libc::setgid(uid) != 0 || libc::setuid(uid) != 0 } {
            return None;
        }
        let fd = be.init(IN_NONBLOCK | IN_CLOEXEC).ok()?;
        let mut buf = vec![0u8; 65536];
        if !pipe_byte(ready, true) || !pipe_byte(go, false) {
            return None;
        }
        for i in 0..n {
            let wd = be.add_watch(&fd, file, IN_ALL_EVENTS).ok()?;
            be.rm_watch(&fd, wd).ok()?;
            if i % 1000 == 999 {
                drain(&fd, &mut buf).ok()?;
            }
        }
        Some(())
    })();
    // SAFETY: ends the child without running the parent's exit handlers.
    unsafe { libc::_exit(if ok.is_some() { 0 } else { 1 }) }
}

/// `add_rm_2inst`: two processes of two uids, each with its own instance and file, doing
/// add+rm loops at once; wall time per pair of one process.
fn add_rm_2inst(files: &Files) -> Result<(), String> {
    const N: usize = 10_000;
    const UIDS: [u32; 2] = [1000, 1001];
    paired(&[metric("add_rm_2inst", "ns/pair")], 7, Median, |be| {
        let mut ready = [0; 2];
        let mut go = [0; 2];
        // SAFETY: each array has room for the two fds.
        if unsafe { libc::pipe(ready.as_mut_ptr()) != 0 || libc::pipe(go.as_mut_ptr()) != 0 } {
            return Err(format!("pipe: {}", backend::Errno::last()));
        }
        let mut pids = Vec::new();
        for (uid, file) in UIDS.iter().zip([&files.a, &files.b]) {
            // SAFETY: the child only makes system calls and then `_exit`s.
            match unsafe { libc::fork() } {
                -1 => return Err(format!("fork: {}", backend::Errno::last())),
                0 => child(be, file, *uid, ready[1], go[0], N),
                pid => pids.push(pid),
            }
        }
        // The parent keeps only its own ends, so that a child that dies early is seen as EOF.
        let _ = util::close(ready[1]);
        let _ = util::close(go[0]);
        let mut ok = pids.iter().all(|_| pipe_byte(ready[0], false));
        let t = Instant::now();
        for _ in &pids {
            ok &= pipe_byte(go[1], true);
        }
        for pid in &pids {
            let mut status = 0;
            // SAFETY: waits for a child of ours.
            let r = unsafe { libc::waitpid(*pid, &mut status, 0) };
            ok &= r == *pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        }
        let ns = ns_since(t);
        let _ = util::close(ready[0]);
        let _ = util::close(go[1]);
        if !ok {
            return Err(format!("{}: add_rm_2inst: a child failed", be.name()));
        }
        Ok(vec![Sample::new(ns, N)])
    })
}

/// Every wall-clock metric.
pub(crate) fn run(files: &Files) -> Result<(), String> {
    producer_reader(files)?;
    add_rm_2inst(files)
}
