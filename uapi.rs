// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note

// Copyright (C) 2026 The rust_inotify authors.

//! The user-space ABI of `/dev/rust_inotify`.
//!
//! C header: [`include/rust_inotify.h`](../include/rust_inotify.h), which carries the same numbers
//! (a test checks that they agree).
//!
//! The event record and every `IN_*` bit are those of `srctree/include/uapi/linux/inotify.h`;
//! `INOTIFY_IOC_SETNEXTWD` has upstream's number and semantics. The add-watch and rm-watch ioctls
//! are this device's own: the kernel's inotify has system calls for them instead.
//!
//! This file depends on nothing but `core`, so that the same file compiles into the module and
//! into the user-space Rust tests (`tests/rust`, which include it with `#[path]`).

// The module uses only part of the ABI, and each user-space test another part; `expect` would
// fail in whichever crate happens to use everything.
#![allow(dead_code)]

/// The fixed part of an event record as `read()` returns it; `len` bytes of name follow.
///
/// The name is NUL-terminated and NUL-padded so that `len` is a multiple of
/// [`EVENT_ALIGN`]; `len` is 0 when there is no name.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct InotifyEvent {
    /// The watch descriptor, or -1 for `IN_Q_OVERFLOW`.
    pub(crate) wd: i32,
    /// What happened (`IN_*` bits).
    pub(crate) mask: u32,
    /// Pairs `IN_MOVED_FROM` with its `IN_MOVED_TO`; 0 otherwise.
    pub(crate) cookie: u32,
    /// The length of the padded name that follows.
    pub(crate) len: u32,
}

/// The size of [`InotifyEvent`] in bytes.
pub(crate) const EVENT_SIZE: usize = 16;
/// Names are padded to a multiple of this many bytes.
pub(crate) const EVENT_ALIGN: usize = 16;

const _: () = assert!(core::mem::size_of::<InotifyEvent>() == EVENT_SIZE);

/// File was accessed.
pub(crate) const IN_ACCESS: u32 = 0x0000_0001;
/// File was modified.
pub(crate) const IN_MODIFY: u32 = 0x0000_0002;
/// Metadata changed.
pub(crate) const IN_ATTRIB: u32 = 0x0000_0004;
/// Writable file was closed.
pub(crate) const IN_CLOSE_WRITE: u32 = 0x0000_0008;
/// Unwritable file closed.
pub(crate) const IN_CLOSE_NOWRITE: u32 = 0x0000_0010;
/// File was opened.
pub(crate) const IN_OPEN: u32 = 0x0000_0020;
/// File was moved from X.
pub(crate) const IN_MOVED_FROM: u32 = 0x0000_0040;
/// File was moved to Y.
pub(crate) const IN_MOVED_TO: u32 = 0x0000_0080;
/// Subfile was created.
pub(crate) const IN_CREATE: u32 = 0x0000_0100;
/// Subfile was deleted.
pub(crate) const IN_DELETE: u32 = 0x0000_0200;
/// Self was deleted.
pub(crate) const IN_DELETE_SELF: u32 = 0x0000_0400;
/// Self was moved.
pub(crate) const IN_MOVE_SELF: u32 = 0x0000_0800;

/// Backing filesystem was unmounted.
pub(crate) const IN_UNMOUNT: u32 = 0x0000_2000;
/// Event queue overflowed.
pub(crate) const IN_Q_OVERFLOW: u32 = 0x0000_4000;
/// The watch was removed.
pub(crate) const IN_IGNORED: u32 = 0x0000_8000;

/// Close (either kind).
pub(crate) const IN_CLOSE: u32 = IN_CLOSE_WRITE | IN_CLOSE_NOWRITE;
/// Moves (either direction).
pub(crate) const IN_MOVE: u32 = IN_MOVED_FROM | IN_MOVED_TO;

/// Only watch the path if it is a directory.
pub(crate) const IN_ONLYDIR: u32 = 0x0100_0000;
/// Do not follow a symbolic link.
pub(crate) const IN_DONT_FOLLOW: u32 = 0x0200_0000;
/// Exclude events on unlinked objects.
pub(crate) const IN_EXCL_UNLINK: u32 = 0x0400_0000;
/// Only create watches (`EEXIST` if the inode is watched already).
pub(crate) const IN_MASK_CREATE: u32 = 0x1000_0000;
/// Add to the mask of an already existing watch.
pub(crate) const IN_MASK_ADD: u32 = 0x2000_0000;
/// The event occurred against a directory.
pub(crate) const IN_ISDIR: u32 = 0x4000_0000;
/// Only send the event once.
pub(crate) const IN_ONESHOT: u32 = 0x8000_0000;

/// All the events a watch can ask for.
pub(crate) const IN_ALL_EVENTS: u32 = IN_ACCESS
    | IN_MODIFY
    | IN_ATTRIB
    | IN_CLOSE_WRITE
    | IN_CLOSE_NOWRITE
    | IN_OPEN
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_DELETE
    | IN_CREATE
    | IN_DELETE_SELF
    | IN_MOVE_SELF;

/// Every bit add-watch accepts (`ALL_INOTIFY_BITS` of `srctree/include/linux/inotify.h`).
pub(crate) const ALL_INOTIFY_BITS: u32 = IN_ALL_EVENTS
    | IN_UNMOUNT
    | IN_Q_OVERFLOW
    | IN_IGNORED
    | IN_ONLYDIR
    | IN_DONT_FOLLOW
    | IN_EXCL_UNLINK
    | IN_MASK_ADD
    | IN_MASK_CREATE
    | IN_ISDIR
    | IN_ONESHOT;

const _: () = assert!(ALL_INOTIFY_BITS.count_ones() == 22);

/// `O_CLOEXEC` on x86: `inotify_init1`'s `IN_CLOEXEC`, and honoured as an open flag here.
pub(crate) const IN_CLOEXEC: u32 = 0o2000000;
/// `O_NONBLOCK` on x86: `inotify_init1`'s `IN_NONBLOCK`, and honoured as an open flag here.
pub(crate) const IN_NONBLOCK: u32 = 0o4000;

// The `_IOC` encoding of `srctree/include/uapi/asm-generic/ioctl.h`.
const IOC_NRSHIFT: u32 = 0;
const IOC_TYPESHIFT: u32 = 8;
const IOC_SIZESHIFT: u32 = 16;
const IOC_DIRSHIFT: u32 = 30;
const IOC_WRITE: u32 = 1;

const fn iow(ty: u8, nr: u8, size: usize) -> u32 {
    (IOC_WRITE << IOC_DIRSHIFT)
        | ((ty as u32) << IOC_TYPESHIFT)
        | ((nr as u32) << IOC_NRSHIFT)
        | ((size as u32) << IOC_SIZESHIFT)
}

/// `FIONREAD`: stores the number of bytes queued as an `int` through the argument pointer.
pub(crate) const FIONREAD: u32 = 0x541B;

/// `_IOW('I', 0, __s32)`: the next new watch gets this wd if it is free, or the next free one
/// above it (cyclic). The argument is the value itself, `1..=INT_MAX`; else `EINVAL`.
///
/// Present only when the kernel has `CONFIG_CHECKPOINT_RESTORE` (else `ENOTTY`, as upstream).
pub(crate) const INOTIFY_IOC_SETNEXTWD: u32 = iow(b'I', 0, 4);

/// The argument of [`RUST_INOTIFY_IOC_ADD_WATCH`]: `inotify_add_watch()` as an `*at` call.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AddWatch {
    /// User pointer to the NUL-terminated pathname.
    pub(crate) pathname: u64,
    /// The directory a relative pathname starts from, or `AT_FDCWD`.
    pub(crate) dirfd: i32,
    /// `IN_*` events and flags, as `inotify_add_watch()`'s mask.
    pub(crate) mask: u32,
}

const _: () = assert!(core::mem::size_of::<AddWatch>() == 16);

/// `_IOW('I', 1, struct rust_inotify_add_watch)`: adds or updates a watch; returns the wd.
pub(crate) const RUST_INOTIFY_IOC_ADD_WATCH: u32 = iow(b'I', 1, core::mem::size_of::<AddWatch>());

/// `_IOW('I', 2, __s32)`: removes the watch whose wd is the argument (the value itself).
pub(crate) const RUST_INOTIFY_IOC_RM_WATCH: u32 = iow(b'I', 2, 4);

/// `AT_FDCWD`: a relative pathname starts from the current directory.
pub(crate) const AT_FDCWD: i32 = -100;

const _: () = assert!(INOTIFY_IOC_SETNEXTWD == 0x4004_4900);

const IOC_READ: u32 = 2;

const fn iowr(ty: u8, nr: u8, size: usize) -> u32 {
    iow(ty, nr, size) | (IOC_READ << IOC_DIRSHIFT)
}

/// The version of [`Ckpt`] and [`CkptWatch`] this module speaks.
pub(crate) const RUST_INOTIFY_CKPT_VERSION: u32 = 1;

/// `MAX_HANDLE_SZ`: the room for a file handle in [`CkptWatch`].
pub(crate) const RUST_INOTIFY_HANDLE_SZ: usize = 128;

/// One watch of a checkpoint (`struct rust_inotify_ckpt_watch`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CkptWatch {
    /// The wd, `1..=INT_MAX`.
    pub(crate) wd: i32,
    /// `IN_*` events plus `IN_ONESHOT` and `IN_EXCL_UNLINK`: fdinfo's mask.
    pub(crate) mask: u32,
    /// Dump: the inode's number.
    pub(crate) ino: u64,
    /// Dump: its superblock's device, `new_encode_dev()` (fdinfo's `sdev`).
    pub(crate) s_dev: u32,
    /// Restore: an fd of any file on the inode's mount (`O_PATH` will do), on which `f_handle` is
    /// decoded; with `handle_bytes` 0, an fd of the inode itself. Dump: -1.
    pub(crate) fd: i32,
    /// Dump: the file handle's type.
    pub(crate) handle_type: i32,
    /// Dump: the handle's length, 0 if the filesystem has no handles.
    pub(crate) handle_bytes: u32,
    /// Dump: the handle, as `name_to_handle_at()` gives it.
    pub(crate) f_handle: [u8; RUST_INOTIFY_HANDLE_SZ],
}

const _: () = assert!(core::mem::size_of::<CkptWatch>() == 160);

/// An instance's checkpoint (`struct rust_inotify_ckpt`): the argument of
/// [`RUST_INOTIFY_IOC_DUMP`] and [`RUST_INOTIFY_IOC_RESTORE`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ckpt {
    /// In: [`RUST_INOTIFY_CKPT_VERSION`].
    pub(crate) version: u32,
    /// In: 0.
    pub(crate) flags: u32,
    /// Dump: out, restore: in: where the next add's search starts.
    pub(crate) next_wd: u32,
    /// Dump: out: the file's `O_NONBLOCK`; restore: ignored.
    pub(crate) f_flags: u32,
    /// Dump: out, restore: in: the queue's limit (`max_queued_events` when the instance was
    /// opened); restore: 0 keeps the new instance's own.
    pub(crate) max_events: u32,
    /// Dump: in: room in `watches`, out: the number of watches; restore: in.
    pub(crate) nr_watches: u32,
    /// User pointer to `nr_watches` [`CkptWatch`]es, newest first (fdinfo's order).
    pub(crate) watches: u64,
    /// Dump: out: the number of event records; restore: in.
    pub(crate) nr_events: u32,
    /// Dump: in: room in `events`, out: bytes; restore: in: bytes.
    pub(crate) events_len: u32,
    /// User pointer to the event records, oldest first: `struct inotify_event` with the mask as
    /// queued, each followed by its NUL-padded name.
    pub(crate) events: u64,
}

const _: () = assert!(core::mem::size_of::<Ckpt>() == 48);

/// `_IOWR('I', 3, struct rust_inotify_ckpt)`: reports the instance without changing it.
pub(crate) const RUST_INOTIFY_IOC_DUMP: u32 = iowr(b'I', 3, core::mem::size_of::<Ckpt>());

/// `_IOW('I', 4, struct rust_inotify_ckpt)`: makes an empty instance the one checkpointed.
pub(crate) const RUST_INOTIFY_IOC_RESTORE: u32 = iow(b'I', 4, core::mem::size_of::<Ckpt>());

const _: () = assert!(RUST_INOTIFY_IOC_DUMP == 0xc030_4903);
const _: () = assert!(RUST_INOTIFY_IOC_RESTORE == 0x4030_4904);
