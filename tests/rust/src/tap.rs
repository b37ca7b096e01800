// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! A tiny test harness printing TAP 13 the way kselftest does.
//!
//! Each test is a `fn(&Ctx) -> Result<(), String>`; a panic counts as a failure of that test
//! only. The output is `TAP version 13`, the `1..N` plan, one `ok`/`not ok` line per test
//! (`# SKIP reason` for skips), diagnostics as `# ` lines, and the kselftest totals line; the
//! exit code is 0 when nothing failed and 1 otherwise.

use std::io::Write;
use std::panic::{self, AssertUnwindSafe};

use crate::backend::{Backend, KERNEL, RUST, RUST_INOTIFY_DEV};

/// Prints each line of a message as a TAP diagnostic.
pub fn diag_str(s: &str) {
    let out = std::io::stdout();
    let mut out = out.lock();
    for line in s.lines() {
        let _ = writeln!(out, "# {line}");
    }
    if s.is_empty() {
        let _ = writeln!(out, "#");
    }
    let _ = out.flush();
}

/// `diag!("fmt", args)`: prints a TAP diagnostic.
#[macro_export]
macro_rules! diag {
    ($($t:tt)*) => { $crate::tap::diag_str(&format!($($t)*)) };
}

/// Which implementations a test needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// None (static checks).
    Nothing,
    /// Every enabled backend, compared with each other (a differential case).
    All,
    /// The kernel's inotify only.
    Kernel,
    /// `/dev/rust_inotify` only.
    Rust,
}

/// A test case.
pub struct Test {
    /// The TAP name.
    pub name: &'static str,
    /// What it needs.
    pub needs: Needs,
    /// The body.
    pub run: fn(&Ctx) -> Result<(), String>,
}

/// What the run was configured with.
pub struct Ctx {
    /// Whether the kernel's inotify takes part.
    pub kernel: bool,
    /// Whether `/dev/rust_inotify` takes part.
    pub rust: bool,
    /// Why `/dev/rust_inotify` cannot be opened, if it cannot.
    pub rust_error: Option<String>,
}

/// The environment variable choosing the backends.
pub const BACKENDS_ENV: &str = "RUST_INOTIFY_TESTS_BACKENDS";

impl Ctx {
    /// Reads `RUST_INOTIFY_TESTS_BACKENDS` (`kernel`, `rust`, or both, the default) and probes
    /// the device.
    pub fn from_env() -> Result<Self, String> {
        let (kernel, rust) = match std::env::var(BACKENDS_ENV) {
            Err(_) => (true, true),
            Ok(v) => {
                let mut k = false;
                let mut r = false;
                for part in v.split([',', ' ']).filter(|s| !s.is_empty()) {
                    match part {
                        "kernel" => k = true,
                        "rust" => r = true,
                        "both" | "all" => (k, r) = (true, true),
                        _ => return Err(format!("{BACKENDS_ENV}={v:?}: unknown backend {part:?}")),
                    }
                }
                if !k && !r {
                    return Err(format!("{BACKENDS_ENV}={v:?} selects no backend"));
                }
                (k, r)
            }
        };
        let rust_error = if rust {
            match RUST.init(crate::uapi::IN_CLOEXEC) {
                Ok(_) => None,
                Err(e) => Some(format!(
                    "cannot open {}: {e}; is the rust_inotify module loaded? \
                     ({BACKENDS_ENV}=kernel runs the kernel side alone)",
                    RUST_INOTIFY_DEV.to_string_lossy()
                )),
            }
        } else {
            None
        };
        Ok(Self {
            kernel,
            rust,
            rust_error,
        })
    }

    /// The enabled backends, kernel first (it is the reference).
    pub fn backends(&self) -> Vec<&'static dyn Backend> {
        let mut v: Vec<&'static dyn Backend> = Vec::new();
        if self.kernel {
            v.push(&KERNEL);
        }
        if self.rust {
            v.push(&RUST);
        }
        v
    }

    /// Whether a test needing `needs` cannot run: a failure (rust selected but missing) or a
    /// skip (its backend not selected).
    fn precondition(&self, needs: Needs) -> Option<Verdict> {
        let rust_missing = || self.rust_error.clone().map(Verdict::Fail);
        match needs {
            Needs::Nothing => None,
            Needs::All => {
                if self.rust {
                    rust_missing()
                } else {
                    None
                }
            }
            Needs::Kernel => {
                if self.kernel {
                    None
                } else {
                    Some(Verdict::Skip(format!(
                        "kernel backend not selected by {BACKENDS_ENV}"
                    )))
                }
            }
            Needs::Rust => {
                if self.rust {
                    rust_missing()
                } else {
                    Some(Verdict::Skip(format!(
                        "rust backend not selected by {BACKENDS_ENV}"
                    )))
                }
            }
        }
    }
}

enum Verdict {
    Fail(String),
    Skip(String),
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Runs `f` in a way that turns a panic into an error message.
pub fn catch<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(format!("panicked: {}", panic_message(&*p))),
    }
}

/// Runs the selected tests and exits with kselftest's convention.
pub fn main(tests: &[Test]) -> ! {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut filters = Vec::new();
    for a in &args {
        match a.as_str() {
            "--list" | "-l" => {
                for t in tests {
                    println!("{}", t.name);
                }
                std::process::exit(0);
            }
            "--bench" | "--bench-wall" => {
                let ctx = Ctx::from_env().unwrap_or_else(|e| {
                    diag!("{e}");
                    std::process::exit(1)
                });
                std::process::exit(if a == "--bench" {
                    crate::bench::run(&ctx)
                } else {
                    crate::bench::run_wall(&ctx)
                });
            }
            "--help" | "-h" => {
                println!(
                    "usage: rust_inotify_tests [--list | --bench | --bench-wall] [NAME-SUBSTRING...]\n\
                     Runs the differential tests of /dev/rust_inotify against the kernel's \
                     inotify and prints TAP 13.\n\
                     --bench prints the paired benchmarks instead (no TAP; meant for QEMU's \
                     -icount), --bench-wall the wall-clock ones.\n\
                     {BACKENDS_ENV}=kernel|rust|kernel,rust (default both) selects the backends."
                );
                std::process::exit(0);
            }
            s if s.starts_with('-') => {
                eprintln!("rust_inotify_tests: unknown option {s} (try --help)");
                std::process::exit(2);
            }
            _ => filters.push(a.clone()),
        }
    }
    let selected: Vec<&Test> = tests
        .iter()
        .filter(|t| filters.is_empty() || filters.iter().any(|f| t.name.contains(f.as_str())))
        .collect();

    // Panics print as diagnostics (from whichever thread) and are caught per test.
    panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        diag_str(&format!(
            "thread '{}' {info}",
            thread.name().unwrap_or("<unnamed>")
        ));
    }));

    println!("TAP version 13");
    println!("1..{}", selected.len());
    let ctx = match Ctx::from_env() {
        Ok(c) => c,
        Err(e) => {
            println!("Bail out! {e}");
            std::process::exit(1);
        }
    };
    let names: Vec<&str> = ctx.backends().iter().map(|b| b.name()).collect();
    diag!("backends: {}", names.join(", "));
    if !ctx.rust {
        diag!("{BACKENDS_ENV} excludes rust: differential cases check the kernel against the model only");
    }
    if let Some(e) = &ctx.rust_error {
        diag!("{e}");
    }

    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    for (i, t) in selected.iter().enumerate() {
        let k = i + 1;
        diag!(" RUN           {} ...", t.name);
        let start = std::time::Instant::now();
        let verdict = match ctx.precondition(t.needs) {
            Some(v) => v,
            None => match catch(|| (t.run)(&ctx)) {
                Ok(()) => {
                    diag!("{}: {} ms", t.name, start.elapsed().as_millis());
                    diag!("            OK  {}", t.name);
                    println!("ok {k} {}", t.name);
                    pass += 1;
                    continue;
                }
                Err(e) => Verdict::Fail(e),
            },
        };
        match verdict {
            Verdict::Fail(msg) => {
                diag_str(&msg);
                diag!("{}: {} ms", t.name, start.elapsed().as_millis());
                diag!("          FAIL  {}", t.name);
                println!("not ok {k} {}", t.name);
                fail += 1;
            }
            Verdict::Skip(why) => {
                println!("ok {k} {} # SKIP {why}", t.name);
                skip += 1;
            }
        }
        let _ = std::io::stdout().flush();
    }
    if fail == 0 {
        diag!("PASSED: {pass} / {} tests passed.", selected.len());
    } else {
        diag!("FAILED: {pass} / {} tests passed.", selected.len());
    }
    diag!("Totals: pass:{pass} fail:{fail} xfail:0 xpass:0 skip:{skip} error:0");
    let _ = std::io::stdout().flush();
    std::process::exit(if fail == 0 { 0 } else { 1 });
}
