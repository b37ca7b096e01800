// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! `uapi.rs` must agree with the libc crate, with glibc's `<sys/inotify.h>` and with the C
//! header `include/rust_inotify.h` (the last two as gcc sees them, via `build.rs`).

use std::mem::{offset_of, size_of};

use crate::c_abi as c;
use crate::tap::Ctx;
use crate::uapi as u;

struct Check {
    errors: Vec<String>,
    count: usize,
}

impl Check {
    fn eq(&mut self, what: &str, vals: &[(&str, u64)]) {
        self.count += 1;
        let first = vals[0].1;
        if vals.iter().any(|&(_, v)| v != first) {
            let all: Vec<String> = vals.iter().map(|(s, v)| format!("{s}={v:#x}")).collect();
            self.errors.push(format!("{what}: {}", all.join(" ")));
        }
    }
}

/// Compares every constant and layout of the ABI across the four sources.
pub fn run(_ctx: &Ctx) -> Result<(), String> {
    let mut k = Check {
        errors: Vec::new(),
        count: 0,
    };

    macro_rules! bit {
        ($name:ident) => {
            k.eq(
                stringify!($name),
                &[
                    ("uapi.rs", u::$name as u64),
                    ("libc", libc::$name as u64),
                    ("C", c::$name),
                ],
            )
        };
    }
    bit!(IN_ACCESS);
    bit!(IN_MODIFY);
    bit!(IN_ATTRIB);
    bit!(IN_CLOSE_WRITE);
    bit!(IN_CLOSE_NOWRITE);
    bit!(IN_OPEN);
    bit!(IN_MOVED_FROM);
    bit!(IN_MOVED_TO);
    bit!(IN_CREATE);
    bit!(IN_DELETE);
    bit!(IN_DELETE_SELF);
    bit!(IN_MOVE_SELF);
    bit!(IN_UNMOUNT);
    bit!(IN_Q_OVERFLOW);
    bit!(IN_IGNORED);
    bit!(IN_CLOSE);
    bit!(IN_MOVE);
    bit!(IN_ONLYDIR);
    bit!(IN_DONT_FOLLOW);
    bit!(IN_EXCL_UNLINK);
    bit!(IN_MASK_CREATE);
    bit!(IN_MASK_ADD);
    bit!(IN_ISDIR);
    bit!(IN_ONESHOT);
    bit!(IN_ALL_EVENTS);

    let all_bits = libc::IN_ALL_EVENTS
        | libc::IN_UNMOUNT
        | libc::IN_Q_OVERFLOW
        | libc::IN_IGNORED
        | libc::IN_ONLYDIR
        | libc::IN_DONT_FOLLOW
        | libc::IN_EXCL_UNLINK
        | libc::IN_MASK_ADD
        | libc::IN_MASK_CREATE
        | libc::IN_ISDIR
        | libc::IN_ONESHOT;
    k.eq(
        "ALL_INOTIFY_BITS",
        &[
            ("uapi.rs", u::ALL_INOTIFY_BITS as u64),
            ("libc union", all_bits as u64),
        ],
    );
    k.eq(
        "ALL_INOTIFY_BITS popcount",
        &[
            ("uapi.rs", u::ALL_INOTIFY_BITS.count_ones() as u64),
            ("upstream", 22),
        ],
    );

    k.eq(
        "IN_CLOEXEC",
        &[
            ("uapi.rs", u::IN_CLOEXEC as u64),
            ("libc IN_CLOEXEC", libc::IN_CLOEXEC as u64),
            ("libc O_CLOEXEC", libc::O_CLOEXEC as u64),
            ("C IN_CLOEXEC", c::IN_CLOEXEC),
            ("C O_CLOEXEC", c::O_CLOEXEC),
        ],
    );
    k.eq(
        "IN_NONBLOCK",
        &[
            ("uapi.rs", u::IN_NONBLOCK as u64),
            ("libc IN_NONBLOCK", libc::IN_NONBLOCK as u64),
            ("libc O_NONBLOCK", libc::O_NONBLOCK as u64),
            ("C IN_NONBLOCK", c::IN_NONBLOCK),
            ("C O_NONBLOCK", c::O_NONBLOCK),
        ],
    );
    k.eq(
        "FIONREAD",
        &[
            ("uapi.rs", u::FIONREAD as u64),
            ("libc", libc::FIONREAD),
            ("C", c::FIONREAD),
        ],
    );
    k.eq(
        "AT_FDCWD",
        &[
            ("uapi.rs", u::AT_FDCWD as i64 as u64),
            ("libc", libc::AT_FDCWD as i64 as u64),
            ("C", c::AT_FDCWD as u64),
        ],
    );

    // struct inotify_event.
    k.eq(
        "sizeof(struct inotify_event)",
        &[
            ("uapi.rs", size_of::<u::InotifyEvent>() as u64),
            ("uapi.rs EVENT_SIZE", u::EVENT_SIZE as u64),
            ("libc", size_of::<libc::inotify_event>() as u64),
            ("C", c::INOTIFY_EVENT_SIZE as u64),
            ("upstream", 16),
        ],
    );
    k.eq(
        "EVENT_ALIGN",
        &[("uapi.rs", u::EVENT_ALIGN as u64), ("upstream", 16)],
    );
    macro_rules! ev_off {
        ($field:ident, $cconst:ident) => {
            k.eq(
                concat!("offsetof(struct inotify_event, ", stringify!($field), ")"),
                &[
                    ("uapi.rs", offset_of!(u::InotifyEvent, $field) as u64),
                    ("libc", offset_of!(libc::inotify_event, $field) as u64),
                    ("C", c::$cconst as u64),
                ],
            )
        };
    }
    ev_off!(wd, INOTIFY_EVENT_WD_OFFSET);
    ev_off!(mask, INOTIFY_EVENT_MASK_OFFSET);
    ev_off!(cookie, INOTIFY_EVENT_COOKIE_OFFSET);
    ev_off!(len, INOTIFY_EVENT_LEN_OFFSET);

    // The ioctls.
    k.eq(
        "INOTIFY_IOC_SETNEXTWD",
        &[
            ("uapi.rs", u::INOTIFY_IOC_SETNEXTWD as u64),
            ("C", c::INOTIFY_IOC_SETNEXTWD),
            ("upstream _IOW('I',0,__s32)", 0x4004_4900),
        ],
    );
    k.eq(
        "RUST_INOTIFY_IOC_ADD_WATCH",
        &[
            ("uapi.rs", u::RUST_INOTIFY_IOC_ADD_WATCH as u64),
            ("C", c::RUST_INOTIFY_IOC_ADD_WATCH),
            ("_IOW('I',1,16 bytes)", 0x4010_4901),
        ],
    );
    k.eq(
        "RUST_INOTIFY_IOC_RM_WATCH",
        &[
            ("uapi.rs", u::RUST_INOTIFY_IOC_RM_WATCH as u64),
            ("C", c::RUST_INOTIFY_IOC_RM_WATCH),
            ("_IOW('I',2,__s32)", 0x4004_4902),
        ],
    );
    k.eq(
        "sizeof(struct rust_inotify_add_watch)",
        &[
            ("uapi.rs", size_of::<u::AddWatch>() as u64),
            ("C", c::ADD_WATCH_SIZE as u64),
        ],
    );
    macro_rules! aw {
        ($field:ident, $off:ident, $size:ident) => {{
            k.eq(
                concat!(
                    "offsetof(struct rust_inotify_add_watch, ",
                    stringify!($field),
                    ")"
                ),
                &[
                    ("uapi.rs", offset_of!(u::AddWatch, $field) as u64),
                    ("C", c::$off as u64),
                ],
            );
            let a = u::AddWatch::default();
            k.eq(
                concat!("sizeof(rust_inotify_add_watch.", stringify!($field), ")"),
                &[
                    ("uapi.rs", std::mem::size_of_val(&a.$field) as u64),
                    ("C", c::$size as u64),
                ],
            );
        }};
    }
    aw!(pathname, ADD_WATCH_PATHNAME_OFFSET, ADD_WATCH_PATHNAME_SIZE);
    aw!(dirfd, ADD_WATCH_DIRFD_OFFSET, ADD_WATCH_DIRFD_SIZE);
    aw!(mask, ADD_WATCH_MASK_OFFSET, ADD_WATCH_MASK_SIZE);

    // The checkpoint interface.
    k.eq(
        "RUST_INOTIFY_IOC_DUMP",
        &[
            ("uapi.rs", u::RUST_INOTIFY_IOC_DUMP as u64),
            ("C", c::RUST_INOTIFY_IOC_DUMP),
            ("_IOWR('I',3,48 bytes)", 0xc030_4903),
        ],
    );
    k.eq(
        "RUST_INOTIFY_IOC_RESTORE",
        &[
            ("uapi.rs", u::RUST_INOTIFY_IOC_RESTORE as u64),
            ("C", c::RUST_INOTIFY_IOC_RESTORE),
            ("_IOW('I',4,48 bytes)", 0x4030_4904),
        ],
    );
    k.eq(
        "RUST_INOTIFY_CKPT_VERSION",
        &[
            ("uapi.rs", u::RUST_INOTIFY_CKPT_VERSION as u64),
            ("C", c::RUST_INOTIFY_CKPT_VERSION),
        ],
    );
    k.eq(
        "RUST_INOTIFY_HANDLE_SZ",
        &[
            ("uapi.rs", u::RUST_INOTIFY_HANDLE_SZ as u64),
            ("C", c::RUST_INOTIFY_HANDLE_SZ),
            ("MAX_HANDLE_SZ", 128),
        ],
    );
    k.eq(
        "sizeof(struct rust_inotify_ckpt)",
        &[
            ("uapi.rs", size_of::<u::Ckpt>() as u64),
            ("C", c::CKPT_SIZE as u64),
        ],
    );
    k.eq(
        "sizeof(struct rust_inotify_ckpt_watch)",
        &[
            ("uapi.rs", size_of::<u::CkptWatch>() as u64),
            ("C", c::CKPT_WATCH_SIZE as u64),
        ],
    );
    macro_rules! off {
        ($ty:ident, $cty:literal, $field:ident, $cconst:ident) => {
            k.eq(
                concat!("offsetof(struct ", $cty, ", ", stringify!($field), ")"),
                &[
                    ("uapi.rs", offset_of!(u::$ty, $field) as u64),
                    ("C", c::$cconst as u64),
                ],
            )
        };
    }
    off!(Ckpt, "rust_inotify_ckpt", version, CKPT_version_OFFSET);
    off!(Ckpt, "rust_inotify_ckpt", flags, CKPT_flags_OFFSET);
    off!(Ckpt, "rust_inotify_ckpt", next_wd, CKPT_next_wd_OFFSET);
    off!(Ckpt, "rust_inotify_ckpt", f_flags, CKPT_f_flags_OFFSET);
    off!(Ckpt, "rust_inotify_ckpt", max_events, CKPT_max_events_OFFSET);
    off!(Ckpt, "rust_inotify_ckpt", nr_watches, CKPT_nr_watches_OFFSET);
    off!(Ckpt, "rust_inotify_ckpt", watches, CKPT_watches_OFFSET);
    off!(Ckpt, "rust_inotify_ckpt", nr_events, CKPT_nr_events_OFFSET);
    off!(Ckpt, "rust_inotify_ckpt", events_len, CKPT_events_len_OFFSET);
    off!(Ckpt, "rust_inotify_ckpt", events, CKPT_events_OFFSET);
    off!(CkptWatch, "rust_inotify_ckpt_watch", wd, CKPT_WATCH_wd_OFFSET);
    off!(CkptWatch, "rust_inotify_ckpt_watch", mask, CKPT_WATCH_mask_OFFSET);
    off!(CkptWatch, "rust_inotify_ckpt_watch", ino, CKPT_WATCH_ino_OFFSET);
    off!(CkptWatch, "rust_inotify_ckpt_watch", s_dev, CKPT_WATCH_s_dev_OFFSET);
    off!(CkptWatch, "rust_inotify_ckpt_watch", fd, CKPT_WATCH_fd_OFFSET);
    off!(CkptWatch, "rust_inotify_ckpt_watch", handle_type, CKPT_WATCH_handle_type_OFFSET);
    off!(CkptWatch, "rust_inotify_ckpt_watch", handle_bytes, CKPT_WATCH_handle_bytes_OFFSET);
    off!(CkptWatch, "rust_inotify_ckpt_watch", f_handle, CKPT_WATCH_f_handle_OFFSET);

    let dev = crate::backend::RUST_INOTIFY_DEV.to_string_lossy();
    k.count += 1;
    if dev != c::RUST_INOTIFY_DEV {
        k.errors.push(format!(
            "RUST_INOTIFY_DEV: tests use {dev:?}, C header says {:?}",
            c::RUST_INOTIFY_DEV
        ));
    }

    crate::diag!(
        "SETNEXTWD={:#x} ADD_WATCH={:#x} RM_WATCH={:#x} FIONREAD={:#x}; {} checks",
        u::INOTIFY_IOC_SETNEXTWD,
        u::RUST_INOTIFY_IOC_ADD_WATCH,
        u::RUST_INOTIFY_IOC_RM_WATCH,
        u::FIONREAD,
        k.count
    );
    if k.errors.is_empty() {
        Ok(())
    } else {
        Err(format!("ABI disagreements:\n{}", k.errors.join("\n")))
    }
}
