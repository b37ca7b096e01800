// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! The two implementations under test behind one trait: the kernel's inotify (system calls) and
//! `/dev/rust_inotify` (open + the ioctls of `uapi.rs`). `INOTIFY_IOC_SETNEXTWD`, `FIONREAD`,
//! `read()` and `close()` are the same calls on both.

use std::ffi::CStr;
use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};

use crate::uapi;

/// The device node of the module (`RUST_INOTIFY_DEV` of the C header).
pub const RUST_INOTIFY_DEV: &CStr = c"/dev/rust_inotify";

/// An errno value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// The calling thread's current errno.
    pub fn last() -> Self {
        Self(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    /// The symbolic name, e.g. `EINVAL`.
    pub fn name(self) -> String {
        let n = match self.0 {
            libc::EPERM => "EPERM",
            libc::ENOENT => "ENOENT",
            libc::EINTR => "EINTR",
            libc::EIO => "EIO",
            libc::EBADF => "EBADF",
            libc::EAGAIN => "EAGAIN",
            libc::ENOMEM => "ENOMEM",
            libc::EACCES => "EACCES",
            libc::EFAULT => "EFAULT",
            libc::EBUSY => "EBUSY",
            libc::EEXIST => "EEXIST",
            libc::ENODEV => "ENODEV",
            libc::ENOTDIR => "ENOTDIR",
            libc::EISDIR => "EISDIR",
            libc::EINVAL => "EINVAL",
            libc::ENFILE => "ENFILE",
            libc::EMFILE => "EMFILE",
            libc::ENOTTY => "ENOTTY",
            libc::ENOSPC => "ENOSPC",
            libc::ESPIPE => "ESPIPE",
            libc::ERANGE => "ERANGE",
            libc::ENAMETOOLONG => "ENAMETOOLONG",
            libc::ENOSYS => "ENOSYS",
            libc::ELOOP => "ELOOP",
            libc::ENXIO => "ENXIO",
            libc::EOVERFLOW => "EOVERFLOW",
            _ => return format!("errno {}", self.0),
        };
        n.to_string()
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({})",
            self.name(),
            std::io::Error::from_raw_os_error(self.0)
        )
    }
}

/// Formats a call's result compactly: `3`, `ok` or `-EINVAL`.
pub fn fmt_res<T: fmt::Display>(r: &Result<T, Errno>) -> String {
    match r {
        Ok(v) => v.to_string(),
        Err(e) => format!("-{}", e.name()),
    }
}

/// One inotify implementation.
pub trait Backend: Sync + Send {
    /// `kernel` or `rust`.
    fn name(&self) -> &'static str;

    /// A new instance: `inotify_init1(flags)` or `open(dev, O_RDONLY | flags)`.
    fn init(&self, flags: u32) -> Result<OwnedFd, Errno>;

    /// Adds or updates a watch; returns the wd.
    fn add_watch(&self, fd: &OwnedFd, path: &CStr, mask: u32) -> Result<i32, Errno>;

    /// Removes a watch.
    fn rm_watch(&self, fd: &OwnedFd, wd: i32) -> Result<(), Errno>;

    /// The file holding this implementation's `max_queued_events` limit.
    fn max_queued_events_path(&self) -> &'static str;
}

/// The kernel's own inotify.
pub struct Kernel;

/// `/dev/rust_inotify`.
pub struct RustDev;

/// The kernel backend.
pub static KERNEL: Kernel = Kernel;
/// The module backend.
pub static RUST: RustDev = RustDev;

fn owned(fd: libc::c_int) -> Result<OwnedFd, Errno> {
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: `fd` was just returned by the kernel and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

impl Backend for Kernel {
    fn name(&self) -> &'static str {
        "kernel"
    }

    fn init(&self, flags: u32) -> Result<OwnedFd, Errno> {
        // SAFETY: plain system call.
        owned(unsafe { libc::inotify_init1(flags as libc::c_int) })
    }

    fn add_watch(&self, fd: &OwnedFd, path: &CStr, mask: u32) -> Result<i32, Errno> {
        // SAFETY: `path` is NUL-terminated.
        let r = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) };
        if r < 0 {
            Err(Errno::last())
        } else {
            Ok(r)
        }
    }

    fn rm_watch(&self, fd: &OwnedFd, wd: i32) -> Result<(), Errno> {
        // SAFETY: plain system call.
        if unsafe { libc::inotify_rm_watch(fd.as_raw_fd(), wd) } < 0 {
            Err(Errno::last())
        } else {
            Ok(())
        }
    }

    fn max_queued_events_path(&self) -> &'static str {
        "/proc/sys/fs/inotify/max_queued_events"
    }
}

impl Backend for RustDev {
    fn name(&self) -> &'static str {
        "rust"
    }

    fn init(&self, flags: u32) -> Result<OwnedFd, Errno> {
        // SAFETY: the path is NUL-terminated.
        owned(unsafe {
            libc::open(
                RUST_INOTIFY_DEV.as_ptr(),
                libc::O_RDONLY | flags as libc::c_int,
            )
        })
    }

    fn add_watch(&self, fd: &OwnedFd, path: &CStr, mask: u32) -> Result<i32, Errno> {
        let arg = uapi::AddWatch {
            pathname: path.as_ptr() as u64,
            dirfd: uapi::AT_FDCWD,
            mask,
        };
        // SAFETY: `arg` and the path it points to outlive the call.
        let r = unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                uapi::RUST_INOTIFY_IOC_ADD_WATCH as libc::Ioctl,
                &arg as *const uapi::AddWatch,
            )
        };
        if r < 0 {
            Err(Errno::last())
        } else {
            Ok(r)
        }
    }

    fn rm_watch(&self, fd: &OwnedFd, wd: i32) -> Result<(), Errno> {
        // The argument is the wd itself, sign-extended as a C `int` passed as `long` would be
        // (tests/c/backend.h does the same).
        // SAFETY: no pointer is passed.
        let r = unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                uapi::RUST_INOTIFY_IOC_RM_WATCH as libc::Ioctl,
                wd as libc::c_long,
            )
        };
        if r < 0 {
            Err(Errno::last())
        } else {
            Ok(())
        }
    }

    fn max_queued_events_path(&self) -> &'static str {
        "/sys/module/rust_inotify/parameters/max_queued_events"
    }
}

/// `ioctl(fd, INOTIFY_IOC_SETNEXTWD, arg)`: the argument is the full `unsigned long`.
pub fn set_next_wd(fd: &OwnedFd, arg: u64) -> Result<(), Errno> {
    // SAFETY: no pointer is passed.
    let r = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            uapi::INOTIFY_IOC_SETNEXTWD as libc::Ioctl,
            arg as libc::c_ulong,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// `ioctl(fd, FIONREAD, &n)`.
pub fn fionread(fd: &OwnedFd) -> Result<i32, Errno> {
    let mut n: libc::c_int = -1;
    // SAFETY: `n` is a valid `int` for the kernel to store into.
    let r = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            uapi::FIONREAD as libc::Ioctl,
            &mut n as *mut libc::c_int,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(n)
    }
}

/// `read(fd, buf)`.
pub fn read(fd: libc::c_int, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: `buf` is valid for writes of its length.
    let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r as usize)
    }
}

/// Closes an instance and returns what `close()` said.
pub fn close_fd(fd: OwnedFd) -> Result<(), Errno> {
    crate::util::close(fd.into_raw_fd())
}
