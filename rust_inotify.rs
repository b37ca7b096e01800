// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! inotify, reimplemented in Rust: the misc device `/dev/rust_inotify`.
//!
//! C file: [`fs/notify/inotify/`](srctree/fs/notify/inotify/). Each open of the device is one
//! inotify instance (an fsnotify group); watches are added and removed with ioctls; `read()`
//! returns `struct inotify_event` records byte-identical to the kernel's inotify; `poll`,
//! `epoll`, `FIONREAD` and `INOTIFY_IOC_SETNEXTWD` (with checkpoint/restore) work as upstream.
//!
//! # Examples
//!
//! From user space, in C (the header is `include/rust_inotify.h`):
//!
//! ```c
//! int fd = open("/dev/rust_inotify", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
//! struct rust_inotify_add_watch w = {
//!     .pathname = (uintptr_t)"/tmp", .dirfd = AT_FDCWD, .mask = IN_CREATE,
//! };
//! int wd = ioctl(fd, RUST_INOTIFY_IOC_ADD_WATCH, &w);   /* like inotify_add_watch() */
//! char buf[4096];
//! ssize_t n = read(fd, buf, sizeof(buf));               /* struct inotify_event records */
//! ioctl(fd, RUST_INOTIFY_IOC_RM_WATCH, wd);             /* like inotify_rm_watch() */
//! ioctl(fd, INOTIFY_IOC_SETNEXTWD, 0x34d71d6);          /* the next new watch's wd */
//! ```
//!
//! The driver, each file beside its C twin:
//! - `inotify_user.rs`: the instance and its file operations (`inotify_user.c`);
//! - `inotify_fsnotify.rs`: the fsnotify callbacks (`inotify_fsnotify.c`);
//! - `notification.rs`: the event queue (`fs/notify/notification.c`);
//! - `idr.rs`: the cyclic wd allocator (`lib/idr.c`);
//! - `ucounts.rs`: the per-user limits (`kernel/ucount.c`);
//! - `uapi.rs`: the user-space ABI (`include/uapi/linux/inotify.h`).
//!
//! The abstractions it uses, which never import the driver and are the only code that touches
//! C, each shaped as it would be in `rust/kernel/`:
//! - `fsnotify.rs`: fsnotify groups and marks, generic over the [`fsnotify::Backend`] trait that
//!   builds the `fsnotify_ops` table (`include/linux/fsnotify_backend.h`);
//! - `miscdev.rs`: a misc device whose `file_operations` are built from the
//!   [`miscdev::MiscDevice`] trait, with the hooks `kernel::miscdevice` lacks (poll, fasync,
//!   llseek, read);
//! - `namei.rs`: path lookup (`include/linux/namei.h`);
//! - `slab.rs`: slab caches, [`slab::KmemCache`], for the watches and the wd-table nodes
//!   (`include/linux/slab.h`);
//! - `uaccess.rs`: `put_user()` of one `int` (`include/linux/uaccess.h`);
//! - `params.rs`: the limits, as module parameters writable at run time;
//! - `c_idr.rs`: the kernel's IDR, for the wd allocator's benchmark;
//! - `bindings.rs`: the bindings that `kernel::bindings` lacks, generated at build time from
//!   `bindings_helper.h` and `helpers.c` (one-line wrappers of static inline functions).

mod bindings;
mod c_idr;
#[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
mod checkpoint;
mod fsnotify;
mod idr;
mod inotify_fsnotify;
mod inotify_user;
mod miscdev;
mod namei;
mod notification;
mod params;
mod slab;
mod uaccess;
mod uapi;
mod ucounts;

use kernel::{
    c_str,
    prelude::*, //
};

use crate::{
    inotify_user::Instance,
    miscdev::MiscDeviceRegistration, //
};

module! {
    type: RustInotify,
    name: "rust_inotify",
    authors: ["The rust_inotify authors"],
    description: "inotify reimplemented in Rust, as the misc device /dev/rust_inotify",
    license: "GPL",
    params: {
        idr_bench: bool {
            default: false,
            description: "Print the wd allocator's benchmark at load time",
        },
    },
}

/// The module: the registration of `/dev/rust_inotify`.
struct RustInotify {
    /// `None` only while the module is being dropped.
    dev: Option<Pin<KBox<MiscDeviceRegistration<Instance>>>>,
}

impl kernel::Module for RustInotify {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        ucounts::init();
        idr::init()?;
        let dev = inotify_user::init()
            .and_then(|()| {
                if module_parameters::idr_bench.value() {
                    idr::bench()?;
                }
                params::init_max_user_watches(inotify_user::INOTIFY_WATCH_COST);
                KBox::pin_init(
                    MiscDeviceRegistration::register(c_str!("rust_inotify")),
                    GFP_KERNEL,
                )
            })
            .inspect_err(|_| {
                // Nothing was made from the caches: they go at once.
                inotify_user::exit();
                idr::exit();
            })?;
        // The tools tell users to raise /proc/sys/fs/inotify/*, which has no effect here: say
        // where this device's limits are.
        pr_info!(
            "/dev/rust_inotify registered (INOTIFY_IOC_SETNEXTWD: {}); limits: \
             max_user_instances={} max_user_watches={} max_queued_events={} in \
             /sys/module/rust_inotify/parameters/ (not /proc/sys/fs/inotify/)\n",
            if inotify_user::HAS_SETNEXTWD {
                "on"
            } else {
                "off"
            },
            params::max_user_instances(),
            params::max_user_watches(),
            params::max_queued_events()
        );
        Ok(Self { dev: Some(dev) })
    }
}

impl Drop for RustInotify {
    fn drop(&mut self) {
        // Deregister, and wait until every group and mark is freed, before the users table
        // goes: freeing the last watches uncharges them. A group's last reference can be
        // dropped by fsnotify's mark reaper after its file is closed, and its callbacks are
        // this module's code.
        drop(self.dev.take());
        // SAFETY: Called once; with the device gone, and no file open (each holds the module),
        // no group can be created any more.
        unsafe { fsnotify::wait_groups_freed() };
        fsnotify::wait_marks_destroyed();
        inotify_user::exit();
        idr::exit();
        ucounts::exit();
    }
}
