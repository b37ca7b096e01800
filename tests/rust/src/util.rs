// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Small helpers: a temporary directory, a deterministic PRNG, file operations with errnos, and
//! a guard that raises a queue-length limit for the duration of a test.

use std::ffi::{CString, OsStr};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::backend::Errno;

/// A directory made with `mkdtemp()` in the current directory, removed with its contents on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `./rust_inotify_tests.XXXXXX` (absolute path kept).
    pub fn new() -> Result<Self, String> {
        let cwd = std::env::current_dir().map_err(|e| format!("getcwd: {e}"))?;
        let template = cwd.join("rust_inotify_tests.XXXXXX");
        let mut bytes = template.as_os_str().as_bytes().to_vec();
        bytes.push(0);
        // SAFETY: `bytes` is a writable, NUL-terminated buffer ending in "XXXXXX\0".
        let p = unsafe { libc::mkdtemp(bytes.as_mut_ptr().cast()) };
        if p.is_null() {
            return Err(format!(
                "mkdtemp({}): {}",
                template.display(),
                Errno::last()
            ));
        }
        bytes.pop();
        Ok(Self {
            path: PathBuf::from(OsStr::from_bytes(&bytes)),
        })
    }

    /// The directory's absolute path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The absolute path of `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A path as a C string.
pub fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("path without NUL")
}

/// xorshift64*: deterministic, seedable, good enough to pick test operations.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (0 is mapped to a fixed non-zero state).
    pub fn new(seed: u64) -> Self {
        let mut r = Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        for _ in 0..4 {
            r.next();
        }
        r
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index into a slice of length `n` (`n > 0`).
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Picks an element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.index(v.len())]
    }
}

/// Checks a libc return value: `-1` becomes the errno.
pub fn cvt(r: libc::c_int) -> Result<libc::c_int, Errno> {
    if r == -1 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// `open(path, flags, 0644)`.
pub fn open(path: &CString, flags: libc::c_int) -> Result<libc::c_int, Errno> {
    // SAFETY: `path` is NUL-terminated.
    cvt(unsafe { libc::open(path.as_ptr(), flags, 0o644 as libc::c_uint) })
}

/// `close(fd)`.
pub fn close(fd: libc::c_int) -> Result<(), Errno> {
    // SAFETY: closing a descriptor this program owns.
    cvt(unsafe { libc::close(fd) }).map(|_| ())
}

/// Opens `path` for writing, writes a few bytes, closes: OPEN, MODIFY, CLOSE_WRITE.
pub fn touch(path: &CString, flags: libc::c_int) -> Result<(), Errno> {
    let fd = open(path, libc::O_WRONLY | libc::O_CLOEXEC | flags)?;
    let data = b"rust_inotify";
    // SAFETY: `data` is valid for its length.
    let r = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    let e = Errno::last();
    close(fd)?;
    if r < 0 {
        return Err(e);
    }
    Ok(())
}

/// Opens `path` read-only, reads, closes: OPEN, ACCESS, CLOSE_NOWRITE.
pub fn read_file(path: &CString) -> Result<(), Errno> {
    let fd = open(path, libc::O_RDONLY | libc::O_CLOEXEC)?;
    let mut buf = [0u8; 64];
    // SAFETY: `buf` is valid for its length.
    let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    let e = Errno::last();
    close(fd)?;
    if r < 0 {
        return Err(e);
    }
    Ok(())
}

/// `unlink(path)`.
pub fn unlink(path: &CString) -> Result<(), Errno> {
    // SAFETY: `path` is NUL-terminated.
    cvt(unsafe { libc::unlink(path.as_ptr()) }).map(|_| ())
}

/// `rename(from, to)`.
pub fn rename(from: &CString, to: &CString) -> Result<(), Errno> {
    // SAFETY: both paths are NUL-terminated.
    cvt(unsafe { libc::rename(from.as_ptr(), to.as_ptr()) }).map(|_| ())
}

/// `chmod(path, mode)`.
pub fn chmod(path: &CString, mode: libc::mode_t) -> Result<(), Errno> {
    // SAFETY: `path` is NUL-terminated.
    cvt(unsafe { libc::chmod(path.as_ptr(), mode) }).map(|_| ())
}

/// Creates (or truncates) `path` as an empty file.
pub fn create(path: &CString) -> Result<(), Errno> {
    let fd = open(
        path,
        libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
    )?;
    close(fd)
}

/// Raises a queue-length limit (a sysctl or module parameter file) to at least `want` and puts
/// the old value back on drop. Instances sample the limit when they are created.
pub struct LimitGuard {
    path: &'static str,
    old: Option<String>,
}

impl LimitGuard {
    /// Raises `path` to `want` if it is lower; says in a diagnostic line when it cannot.
    pub fn raise(path: &'static str, want: u64) -> Self {
        let mut g = Self { path, old: None };
        let cur = match fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) => {
                crate::diag!("cannot read {path}: {e}; keeping the current limit");
                return g;
            }
        };
        match cur.trim().parse::<u64>() {
            Ok(v) if v >= want => return g,
            Ok(_) => {}
            Err(_) => {
                crate::diag!("{path}: unexpected contents {:?}", cur.trim());
                return g;
            }
        }
        match fs::write(path, format!("{want}\n")) {
            Ok(()) => g.old = Some(cur.trim().to_string()),
            Err(e) => crate::diag!("cannot raise {path} to {want}: {e}"),
        }
        g
    }
}

impl Drop for LimitGuard {
    fn drop(&mut self) {
        if let Some(old) = self.old.take() {
            if let Err(e) = fs::write(self.path, format!("{old}\n")) {
                crate::diag!("cannot restore {} to {old}: {e}", self.path);
            }
        }
    }
}
