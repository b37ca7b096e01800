// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! `--bench` and `--bench-wall`: the kernel's inotify against `/dev/rust_inotify`, metric by
//! metric, in the same guest boot.
//!
//! `make bench` boots the lean kernel twice (scripts/run-guest.sh). The first boot runs under
//! QEMU's `-icount shift=0,sleep=off`, where one nanosecond of `CLOCK_MONOTONIC` is one executed
//! guest instruction: that run is `--bench` ([`icount`] and [`restore`]), and its numbers are
//! identical from boot to boot. The second boot has no icount, so its two CPUs really run at
//! once: that run is `--bench-wall` ([`wall`]), noisy wall-clock numbers that are printed but
//! never judged.
//!
//! Every metric is paired: each round runs on both backends, alternating which goes first
//! (kernel, rust, rust, kernel, kernel, rust, ...), after one warm-up round each that is not
//! counted. The output is one machine-readable line per metric and backend, which
//! scripts/bench-report.py reads:
//!
//! ```text
//! # bench: NAME BACKEND VALUE UNIT
//! # bench-rounds: NAME BACKEND V1 V2 ...           (each counted round, for the curious)
//! # bench-restore: BACKEND METHOD WD NS            (restore-vs-wd points)
//! ```

mod icount;
mod restore;
mod wall;

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::sync::Mutex;

use crate::backend::{self, Backend, Errno, KERNEL, RUST};
use crate::tap::Ctx;
use crate::util;

/// The result lines, printed when the run ends rather than as they come: a write to the serial
/// console makes QEMU's host side answer at host-dependent times, which would make the
/// instruction counts of the rounds after it differ from boot to boot.
static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// `out!("fmt", args)`: keeps a result line for [`flush`].
macro_rules! out {
    ($($t:tt)*) => { $crate::bench::keep(format!($($t)*)) };
}
pub(crate) use out;

/// Keeps one line for [`flush`].
pub(crate) fn keep(line: String) {
    LINES.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}

/// Prints the kept lines as TAP diagnostics (`# ...`).
fn flush() {
    let lines = std::mem::take(&mut *LINES.lock().unwrap_or_else(|e| e.into_inner()));
    for l in lines {
        crate::tap::diag_str(&l);
    }
}

/// What one round of a metric measured on one backend: a total over some operations.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    /// The total: nanoseconds (guest instructions under icount), or bytes.
    pub total: f64,
    /// How many operations the total covers.
    pub ops: f64,
}

impl Sample {
    /// The total over `ops` operations.
    pub fn new(total: f64, ops: usize) -> Self {
        Self {
            total,
            ops: ops as f64,
        }
    }

    /// One operation's share.
    fn per_op(self) -> f64 {
        self.total / self.ops.max(1.0)
    }
}

/// A metric's name and unit, as the report prints them.
#[derive(Clone, Copy)]
pub(crate) struct Metric {
    /// The name in `ratio NAME R`.
    pub name: &'static str,
    /// The unit of its value.
    pub unit: &'static str,
}

/// Shorthand for a [`Metric`].
pub(crate) const fn metric(name: &'static str, unit: &'static str) -> Metric {
    Metric { name, unit }
}

/// Lets the previous round's deferred work (mark and connector reaping after an SRCU grace
/// period) finish before the next round starts. Under `sleep=off` an idle guest skips ahead to
/// its next timer, so this costs no host time.
pub(crate) fn settle() {
    settle_for(20);
}

/// [`settle`] for `ms` milliseconds: before a slab-memory reading, long enough for the
/// previous round's objects freed after an RCU or SRCU grace period to be gone.
pub(crate) fn settle_for(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// Nanoseconds since `t`, as a float.
pub(crate) fn ns_since(t: Instant) -> f64 {
    t.elapsed().as_nanos() as f64
}

/// How the rounds of a metric make its value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aggregate {
    /// The median round (of an odd number). Wall-clock rounds suffer the host's load, which is
    /// not the code's. Icount rounds are nearly all identical, but deferred work (the mark
    /// reaper, RCU callbacks, slab pages) lands in one round or another at points that drift
    /// by a few instructions from boot to boot; a mean carried that into the ratios' third
    /// decimal, the median does not.
    Median,
}

/// `RI_PROFILE=METRIC:BACKEND` (`make profile`): run only that metric, on only that backend.
fn profiling() -> Option<(String, String)> {
    let v = std::env::var("RI_PROFILE").ok()?;
    let (metric, backend) = v.split_once(':')?;
    Some((metric.to_string(), backend.to_string()))
}

/// Runs `round` on both backends for `rounds` counted rounds each and prints the metrics.
///
/// `round` measures every metric of `metrics` once, in that order. One warm-up round per backend
/// comes first and is not counted; then the order alternates, kernel first in even pairs and
/// rust first in odd ones (K R R K K R ...), so that neither backend always inherits the other's
/// caches and slabs. A metric's value is made from its rounds as `agg` says.
pub(crate) fn paired<F>(
    metrics: &[Metric],
    rounds: usize,
    agg: Aggregate,
    mut round: F,
) -> Result<(), String>
where
    F: FnMut(&dyn Backend) -> Result<Vec<Sample>, String>,
{
    let backends: [&dyn Backend; 2] = [&KERNEL, &RUST];
    if let Some((name, backend)) = profiling() {
        // `make profile`: one metric on one backend, its warm-up and counted rounds, nothing
        // else (the QEMU plugin counts the instructions).
        let Some(m) = metrics.iter().position(|m| m.name == name) else {
            return Ok(());
        };
        let Some(be) = backends.iter().find(|b| b.name() == backend) else {
            return Err(format!("RI_PROFILE: no backend {backend}"));
        };
        let mut ops = 0.0;
        for _ in 0..=rounds {
            let s = round(*be)?;
            ops += s.get(m).map_or(0.0, |s| s.ops);
        }
        out!("profile-ops: {name} {backend} {ops}");
        return Ok(());
    }
    let mut got: [Vec<Vec<Sample>>; 2] = [Vec::new(), Vec::new()];
    let check = |s: Vec<Sample>, name: &str| -> Result<Vec<Sample>, String> {
        if s.len() != metrics.len() {
            return Err(format!(
                "{}: {name} measured {} values, not {}",
                metrics[0].name,
                s.len(),
                metrics.len()
            ));
        }
        Ok(s)
    };
    for be in backends {
        check(round(be)?, be.name())?;
    }
    for i in 0..rounds {
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for b in order {
            let s = check(round(backends[b])?, backends[b].name())?;
            got[b].push(s);
        }
    }
    for (m, metric) in metrics.iter().enumerate() {
        for (b, be) in backends.iter().enumerate() {
            let mut each: Vec<f64> = got[b].iter().map(|s| s[m].per_op()).collect();
            let shown: Vec<String> = each.iter().map(|v| format!("{v:.1}")).collect();
            out!(
                "bench-rounds: {} {} {}",
                metric.name,
                be.name(),
                shown.join(" ")
            );
            let value = match agg {
                Aggregate::Median => {
                    each.sort_by(f64::total_cmp);
                    each[each.len() / 2]
                }
            };
            out!(
                "bench: {} {} {value:.3} {}",
                metric.name,
                be.name(),
                metric.unit
            );
        }
    }
    Ok(())
}

/// A directory of a fixed name, removed with its contents on drop.
///
/// Not `mkdtemp()`: a random name hashes to other dcache buckets in each boot, which shows in
/// the instruction counts of every path lookup.
pub(crate) struct BenchDir(pub(crate) PathBuf);

impl BenchDir {
    /// Creates `rust_inotify_bench` in the current directory, afresh, with mode 0755 (other
    /// uids watch in it).
    fn new() -> Result<Self, String> {
        Self::named("rust_inotify_bench")
    }

    /// Creates `name` in the current directory, afresh, with mode 0755.
    pub(crate) fn named(name: &str) -> Result<Self, String> {
        let cwd = std::env::current_dir().map_err(|e| format!("getcwd: {e}"))?;
        let dir = cwd.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        util::chmod(&util::cpath(&dir), 0o755).map_err(|e| format!("chmod: {e}"))?;
        Ok(Self(dir))
    }
}

impl Drop for BenchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The files the benchmarks watch, in a directory of their own under `/tmp`.
pub(crate) struct Files {
    /// Removed with its contents when the benchmarks end (only kept for its drop).
    _dir: BenchDir,
    /// `MASS` files, `f00000` on, for the mass adds.
    pub many: Vec<CString>,
    /// A small directory (`ev/`) of its own, for the events: watching a directory makes the
    /// kernel walk its children's dentries, which the mass directory has 50,000 of.
    pub ev_dir: CString,
    /// `ev/a` and `ev/b`.
    pub a: CString,
    /// See [`Files::a`].
    pub b: CString,
    /// `ev/stop`: the producer's last write, which tells the reader to stop.
    pub stop: CString,
}

impl Files {
    /// Creates the directory and `many` files in it.
    pub fn new(many: usize) -> Result<Self, String> {
        // The guest's /tmp is a tmpfs; elsewhere, the current directory.
        let _ = std::env::set_current_dir("/tmp");
        let dir = BenchDir::new()?;
        let many: Vec<CString> = (0..many)
            .map(|i| util::cpath(&dir.0.join(format!("f{i:05}"))))
            .collect();
        for f in &many {
            util::create(f).map_err(|e| format!("create: {e}"))?;
        }
        let ev = dir.0.join("ev");
        std::fs::create_dir(&ev).map_err(|e| format!("mkdir ev: {e}"))?;
        let ev_dir = util::cpath(&ev);
        util::chmod(&ev_dir, 0o755).map_err(|e| format!("chmod: {e}"))?;
        let file = |name: &str| -> Result<CString, String> {
            let p = util::cpath(&ev.join(name));
            util::create(&p).map_err(|e| format!("create: {e}"))?;
            Ok(p)
        };
        Ok(Self {
            many,
            a: file("a")?,
            b: file("b")?,
            stop: file("stop")?,
            ev_dir,
            _dir: dir,
        })
    }
}

/// Formats an errno with what failed and on which backend.
pub(crate) fn err(be: &dyn Backend, what: &str) -> impl Fn(Errno) -> String {
    let name = be.name();
    let what = what.to_string();
    move |e| format!("{name}: {what}: {e}")
}

/// Reads every queued event of a non-blocking instance; returns the bytes read.
pub(crate) fn drain(fd: &OwnedFd, buf: &mut [u8]) -> Result<usize, String> {
    let mut total = 0;
    loop {
        match backend::read(fd.as_raw_fd(), buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n,
            Err(Errno(libc::EAGAIN)) => return Ok(total),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}

/// `pwrite(fd, "x", 1, 0)`: one `IN_MODIFY`.
pub(crate) fn poke(fd: libc::c_int) -> Result<(), String> {
    // SAFETY: the buffer is valid for one byte.
    if unsafe { libc::pwrite(fd, b"x".as_ptr().cast(), 1, 0) } != 1 {
        return Err(format!("pwrite: {}", Errno::last()));
    }
    Ok(())
}

/// Writes a number into a limit file (a sysctl or a module parameter).
fn set_limit(path: &str, value: u64) -> Result<(), String> {
    std::fs::write(path, format!("{value}\n")).map_err(|e| format!("{path}: {e}"))
}

/// Sets both backends' limits as the benchmarks need them: room for 50,000 watches and a few
/// hundred instances, and upstream's default queue length (16,384) on both.
fn set_limits() -> Result<(), String> {
    for (dir, sep) in [
        ("/proc/sys/fs/inotify", "/"),
        ("/sys/module/rust_inotify/parameters", "/"),
    ] {
        set_limit(&format!("{dir}{sep}max_user_watches"), 1_000_000)?;
        set_limit(&format!("{dir}{sep}max_user_instances"), 1024)?;
        set_limit(&format!("{dir}{sep}max_queued_events"), 16_384)?;
    }
    Ok(())
}

/// Keeps this process on CPU 0, so that both backends run in the same place.
fn pin_to_cpu0() {
    // SAFETY: `set` is a plain bitmap, zeroed and then filled by the libc macros.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Fails unless both backends are there.
fn need_both(ctx: &Ctx) -> Result<(), String> {
    if !ctx.kernel || !ctx.rust {
        return Err("the benchmarks compare both backends; select both".to_string());
    }
    if let Some(e) = &ctx.rust_error {
        return Err(e.clone());
    }
    Ok(())
}

/// Prints the error, if any, and returns the exit code.
fn exit_code(r: Result<(), String>) -> i32 {
    flush();
    match r {
        Ok(()) => 0,
        Err(e) => {
            crate::diag!("bench: error: {e}");
            1
        }
    }
}

/// `--bench`: the instruction-count metrics and the restore-vs-wd points.
pub fn run(ctx: &Ctx) -> i32 {
    exit_code((|| {
        need_both(ctx)?;
        set_limits()?;
        pin_to_cpu0();
        let files = Files::new(icount::MASS)?;
        icount::run(&files)?;
        if profiling().is_some() {
            return Ok(());
        }
        restore::run(&files)
    })())
}

/// `--bench-wall`: the wall-clock metrics, with both CPUs.
pub fn run_wall(ctx: &Ctx) -> i32 {
    exit_code((|| {
        need_both(ctx)?;
        set_limits()?;
        let files = Files::new(0)?;
        wall::run(&files)
    })())
}
