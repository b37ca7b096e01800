// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Checkpoint and restore of an instance, for CRIU: `RUST_INOTIFY_IOC_DUMP` and
//! `RUST_INOTIFY_IOC_RESTORE` (the ABI is documented in `uapi.rs` and `include/rust_inotify.h`).
//!
//! Upstream has no such interface: CRIU reads a kernel inotify fd's watches from fdinfo, keeps
//! only their `IN_ALL_EVENTS` bits, re-adds them one by one until each gets its old wd, and
//! drops the queued events. A dump here reports everything an instance is made of (each watch
//! with its inode's handle, the mask with `IN_ONESHOT` and `IN_EXCL_UNLINK`, the wd cursor and
//! the queued events with their cookies, names and overflow marker) without changing it, and a
//! restore rebuilds it so that fdinfo, `read()` and the next add's wd are those of the dumped
//! instance.
//!
//! A restore is all or nothing. Its records are read and checked, its events built and its
//! inodes found first, before any lock is taken; then, under the instance's `watch_lock`, its
//! watches are charged, the events queued and the watches made, oldest first, each at its wd. If a watch fails, the
//! watches made so far are destroyed and the queue emptied: the instance is empty again, with
//! its cursor as it was. Events that real file operations produce on restored watches while the
//! restore runs are queued after the restored ones, as they would have been after a checkpoint.

use kernel::{
    fs::file::flags::O_NONBLOCK,
    prelude::*,
    sync::atomic::Relaxed,
    transmute::{
        AsBytes,
        FromBytes, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    }, //
};

use crate::{
    inotify_user::{
        alloc_wd,
        inotify_arg_to_flags,
        inotify_arg_to_mask,
        inotify_mark_user_mask,
        inst_next_wd,
        Group,
        Instance,
        MarkRef,
        Wd,
        FS_EVENT_ON_CHILD, //
    },
    namei::{
        Path,
        MAY_READ, //
    },
    notification::{
        Event,
        EventList,
        DECIDE_FIRST, //
    },
    params as limits,
    slab::Gfp,
    uapi::*,
    ucounts::Kind, //
};

// SAFETY: `Ckpt` is `repr(C)` with only integer fields and no padding (its size is asserted in
// `uapi.rs`): every bit pattern is a valid value, and every byte is initialised.
unsafe impl FromBytes for Ckpt {}
// SAFETY: As above.
unsafe impl AsBytes for Ckpt {}
// SAFETY: `CkptWatch` is `repr(C)` with only integer fields and a byte array, and no padding
// (its size is asserted in `uapi.rs`).
unsafe impl FromBytes for CkptWatch {}
// SAFETY: As above.
unsafe impl AsBytes for CkptWatch {}

/// The bits of a checkpointed watch's mask: fdinfo's (`inotify_mark_user_mask`).
const WATCH_MASK_BITS: u32 = IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK;

/// The bits an event's mask can have as queued: the events, `IN_ISDIR`, `IN_UNMOUNT`,
/// `IN_IGNORED`, and fsnotify's `FS_EVENT_ON_CHILD` on a directory's events about its children
/// (which `read()` does not show, but which decides merges).
const EVENT_MASK_BITS: u32 = IN_ALL_EVENTS | IN_ISDIR | IN_UNMOUNT | IN_IGNORED | FS_EVENT_ON_CHILD;

/// The longest padded name a record may carry: `PATH_MAX`, rounded up (names from FUSE can be
/// longer than `NAME_MAX`).
const NAME_RECORD_MAX: usize = 4096 + EVENT_ALIGN;

/// Reads the argument of both ioctls and checks its version and flags.
fn read_ckpt(arg: usize) -> Result<Ckpt> {
    let ckpt: Ckpt = UserSlice::new(UserPtr::from_addr(arg), size_of::<Ckpt>())
        .reader()
        .read()?;
    if ckpt.version != RUST_INOTIFY_CKPT_VERSION || ckpt.flags != 0 {
        return Err(EINVAL);
    }
    Ok(ckpt)
}

/// A user pointer from a `__u64` field.
fn user_ptr(addr: u64) -> Result<UserPtr> {
    Ok(UserPtr::from_addr(
        usize::try_from(addr).map_err(|_| EFAULT)?,
    ))
}

/// `RUST_INOTIFY_IOC_DUMP`: reports the instance of `group`, whose file has the open flags
/// `f_flags`, into the buffers `arg` describes, without changing it.
///
/// `E2BIG` if a buffer is too small, with the sizes needed written back. The watches are one
/// snapshot of the group's marks, taken under its mutex (a mark on the group's list has its
/// wd), and the events one snapshot of the queue: events queued meanwhile are in it or not,
/// whole. No lock is held across an allocation or a user copy.
#[inline(never)]
pub(crate) fn dump(group: &Group, f_flags: u32, arg: usize) -> Result {
    let mut ckpt = read_ckpt(arg)?;
    let inst = group.data();

    let watches = group.collect_marks(|mark| {
        let wd = mark.data().get();
        // A mark whose inode is going away is about to be ignored; fdinfo skips it too.
        let info = mark.inode_info().filter(|_| wd > 0)?;
        let mut watch = CkptWatch {
            wd,
            mask: inotify_mark_user_mask(mark),
            ino: info.ino,
            s_dev: info.sdev,
            fd: -1,
            handle_type: 0,
            handle_bytes: 0,
            f_handle: [0; RUST_INOTIFY_HANDLE_SZ],
        };
        if let Some(fh) = &info.fhandle {
            let bytes = fh.bytes();
            watch.handle_type = fh.handle_type;
            // CAST: at most `RUST_INOTIFY_HANDLE_SZ`.
            watch.handle_bytes = bytes.len() as u32;
            watch.f_handle[..bytes.len()].copy_from_slice(bytes);
        }
        Some(watch)
    })?;
    let (events, nr_events) = snapshot_events(inst, ckpt.events_len as usize)?;

    ckpt.next_wd = inst_next_wd(inst);
    ckpt.f_flags = f_flags & O_NONBLOCK;
    // CAST: the limit was a `u32` parameter when sampled.
    ckpt.max_events = inst.notification.lock().max_events() as u32;
    let room = ckpt.nr_watches as usize;
    ckpt.nr_watches = u32::try_from(watches.len()).map_err(|_| E2BIG)?;
    ckpt.nr_events = u32::try_from(nr_events).map_err(|_| E2BIG)?;
    let fits = match &events {
        Snapshot::Taken(bytes) => {
            ckpt.events_len = u32::try_from(bytes.len()).map_err(|_| E2BIG)?;
            watches.len() <= room
        }
        Snapshot::TooBig(needed) => {
            ckpt.events_len = u32::try_from(*needed).map_err(|_| E2BIG)?;
            false
        }
    };
    if fits {
        let mut writer = UserSlice::new(
            user_ptr(ckpt.watches)?,
            watches.len() * size_of::<CkptWatch>(),
        )
        .writer();
        for watch in watches.iter() {
            writer.write(watch)?;
        }
        if let Snapshot::Taken(bytes) = &events {
            UserSlice::new(user_ptr(ckpt.events)?, bytes.len())
                .writer()
                .write_slice(bytes)?;
        }
    }
    UserSlice::new(UserPtr::from_addr(arg), size_of::<Ckpt>())
        .writer()
        .write(&ckpt)?;
    if fits {
        Ok(())
    } else {
        Err(E2BIG)
    }
}

/// The queue's events as checkpoint records, or the bytes they need.
enum Snapshot {
    /// The records.
    Taken(KVVec<u8>),
    /// They need more than the room the caller has: this many bytes.
    TooBig(usize),
}

/// Copies the queue's events, oldest first, if they fit in `room` bytes; also returns how many
/// there are. The copy is made under the queue's lock into a buffer allocated before taking
/// it; if events came meanwhile and it is too small, it is grown and the copy made again.
fn snapshot_events(inst: &Instance, room: usize) -> Result<(Snapshot, usize)> {
    let mut buf = KVVec::new();
    loop {
        let needed = {
            let queue = inst.notification.lock();
            let needed = queue.bytes();
            if needed > room {
                return Ok((Snapshot::TooBig(needed), queue.len()));
            }
            if let Some(len) = queue.checkpoint(&mut buf) {
                buf.truncate(len);
                return Ok((Snapshot::Taken(buf), queue.len()));
            }
            needed
        };
        buf.resize(needed, 0, GFP_KERNEL_ACCOUNT)?;
    }
}

/// `RUST_INOTIFY_IOC_RESTORE`: makes the empty instance of `group` the one checkpointed in the
/// buffers `arg` describes.
///
/// Needs `CAP_CHECKPOINT_RESTORE` or `CAP_SYS_ADMIN` in the caller's user namespace (`EPERM`),
/// an instance with no watch and no queued event (`EBUSY`), and read permission on every
/// inode, as an add does (`EACCES`). `ENOSPC` beyond `max_user_watches` or the queue's limit.
/// The queue's limit becomes the dumped one (`max_events`, unless 0), as the dumped instance
/// sampled it: the restored queue overflows where the dumped one would have. The caller is
/// privileged, so it may set a limit above `max_queued_events`, as an administrator may.
/// On any error the instance is left empty, with its cursor unchanged.
#[inline(never)]
pub(crate) fn restore(group: &Group, arg: usize) -> Result {
    if !checkpoint_restore_capable() {
        return Err(EPERM);
    }
    let ckpt = read_ckpt(arg)?;
    if !(1..=i32::MAX as u32).contains(&ckpt.next_wd) {
        return Err(EINVAL);
    }
    let inst = group.data();
    // The dumped queue's limit, as the dumped instance sampled it at its open; 0 keeps this
    // instance's own.
    let own_max_events = inst.notification.lock().max_events();
    let max_events = match ckpt.max_events {
        0 => own_max_events,
        // CAST: a `u32` fits a `usize`.
        max => max as usize,
    };
    // Everything from user space, and the inodes, before any lock: no lock is held across a
    // user copy or a handle's decoding.
    let events = read_events(&ckpt, max_events)?;
    let watches = read_watches(&ckpt)?;

    // Add-watch and rm-watch wait until the restore is done.
    let _guard = inst.watch_lock.lock();
    if !inst.wds.lock().is_empty() || !inst.notification.lock().is_empty() {
        return Err(EBUSY);
    }

    // All the watches are charged at once, before any is made: the restore fits the limit
    // whole or fails with nothing changed. Each watch made takes over its part of the charge,
    // which `freeing_mark` gives back.
    let count = watches.len();
    if count > 0
        && !inst
            .ucounts()
            .charge_many(Kind::Watches, count, limits::max_user_watches())
    {
        return Err(ENOSPC);
    }

    // Queued first, so that what real file operations make the new watches report comes after.
    let restored = {
        let mut queue = inst.notification.lock();
        // The guess of `queue_event` knows nothing of the restored tail: decide the next event
        // first, as after an overflow.
        inst.tail_key.store(DECIDE_FIRST, Relaxed);
        let restored = queue.restore(events);
        if restored.is_ok() {
            queue.set_max_events(max_events);
        }
        restored
    };
    match restored {
        Ok(own_overflow) => drop(own_overflow),
        Err(events) => {
            drop(events);
            inst.ucounts().uncharge_many(Kind::Watches, count);
            return Err(EBUSY);
        }
    }

    let cursor = inst.wds.lock().cursor();
    let mut made = 0;
    let ret = restore_watches(group, &watches, &mut made);
    if ret.is_err() {
        // The watches not made give back their charge; those made give theirs back as they
        // are destroyed, with their IN_IGNORED events, which go with the restored events.
        inst.ucounts().uncharge_many(Kind::Watches, count - made);
        group.clear_marks();
        let queued = {
            let mut queue = inst.notification.lock();
            inst.tail_key.store(DECIDE_FIRST, Relaxed);
            queue.set_max_events(own_max_events);
            queue.clear()
        };
        drop(queued);
        inst.wds.lock().set_cursor(cursor);
        return ret;
    }
    inst.wds.lock().set_cursor(ckpt.next_wd);
    if !inst.notification.lock().is_empty() {
        inst.waitq.notify_all();
        group.kill_fasync();
    }
    Ok(())
}

/// Whether the caller may restore: `checkpoint_restore_ns_capable(current_user_ns())`.
fn checkpoint_restore_capable() -> bool {
    // SAFETY: Both are called on the current task, whose user namespace is alive while it runs.
    unsafe { crate::bindings::checkpoint_restore_ns_capable(crate::bindings::current_user_ns()) }
}

/// A watch to restore: its wd, its mask (fdinfo's) and its inode.
struct Watch {
    wd: u32,
    mask: u32,
    path: Path,
}

/// Reads and checks the checkpoint's watches, in its order (newest first), and finds their
/// inodes: by handle on the mount of the watch's fd, or the fd's own with no handle.
///
/// `EINVAL` for a wd outside `1..=INT_MAX` or a mask with other bits than [`WATCH_MASK_BITS`];
/// `EBADF`, `ESTALE`, `EPERM` (decoding a handle needs `CAP_DAC_READ_SEARCH`, as for
/// `open_by_handle_at()`) and `EACCES` (as an add, the inode must be readable) from the lookup.
fn read_watches(ckpt: &Ckpt) -> Result<KVVec<Watch>> {
    let count = ckpt.nr_watches as usize;
    let len = count.checked_mul(size_of::<CkptWatch>()).ok_or(EINVAL)?;
    let mut reader = UserSlice::new(user_ptr(ckpt.watches)?, len).reader();
    let mut watches = KVVec::with_capacity(count, GFP_KERNEL_ACCOUNT)?;
    let mut may_decode = false;
    let mut mount: Option<(i32, Path)> = None;
    for _ in 0..count {
        let watch: CkptWatch = reader.read()?;
        let wd = u32::try_from(watch.wd)
            .ok()
            .filter(|&wd| wd >= 1)
            .ok_or(EINVAL)?;
        if watch.mask & !WATCH_MASK_BITS != 0 {
            return Err(EINVAL);
        }
        let path = if watch.handle_bytes == 0 {
            Path::from_fd(watch.fd)?
        } else {
            // As `open_by_handle_at()`: decoding handles needs CAP_DAC_READ_SEARCH.
            if !may_decode {
                // SAFETY: `capable()` checks the current task, which is running.
                if !unsafe {
                    kernel::bindings::capable(kernel::bindings::CAP_DAC_READ_SEARCH as i32)
                } {
                    return Err(EPERM);
                }
                may_decode = true;
            }
            // Watches come grouped by mount: the same fd's mount is looked up once.
            let mount = match &mount {
                Some((fd, mount)) if *fd == watch.fd => mount,
                _ => &mount.insert((watch.fd, Path::from_fd(watch.fd)?)).1,
            };
            let handle = watch
                .f_handle
                .get(..watch.handle_bytes as usize)
                .ok_or(EINVAL)?;
            Path::from_handle(mount, watch.handle_type, handle)?
        };
        // As an add: you can only watch an inode if you have read permissions on it.
        path.permission(MAY_READ)?;
        watches.push(
            Watch {
                wd,
                mask: watch.mask,
                path,
            },
            GFP_KERNEL_ACCOUNT,
        )?;
    }
    Ok(watches)
}

/// Makes the watches, oldest (last) first, each at its wd, so that fdinfo lists them in the
/// dumped order; counts in `made` those that are on their inodes. Called under `watch_lock`.
fn restore_watches(group: &Group, watches: &[Watch], made: &mut usize) -> Result {
    let inst = group.data();
    for watch in watches.iter().rev() {
        let inode = watch.path.inode();
        // Two watches of one instance on one inode, or two at one wd, cannot have been dumped.
        if group.find_mark(inode).is_some() || inst.wds.lock().get(watch.wd).is_some() {
            return Err(EINVAL);
        }
        let mark = MarkRef::new(
            group,
            inotify_arg_to_mask(inode, watch.mask),
            inotify_arg_to_flags(watch.mask),
            Wd::new(),
        )?;
        // The wd is free, so a search from it takes it.
        alloc_wd(inst, &mark, Some(watch.wd))?;
        if let Err(e) = mark.attach(inode) {
            inst.remove_from_idr(&mark);
            return Err(e);
        }
        *made += 1;
    }
    Ok(())
}

/// Reads and checks the checkpoint's event records, and makes their events.
///
/// Each record must be one `read()` could have returned, with a mask as queued: a wd of 1 or
/// more, or -1 for the one overflow event (`IN_Q_OVERFLOW`, no cookie, no name); a mask of
/// [`EVENT_MASK_BITS`]; a name of at least one byte without `/`, NUL-padded to `len`, a multiple
/// of 16. `EINVAL` otherwise, or if the records do not fill `events_len` exactly; `ENOSPC` if
/// there are more than the queue holds.
fn read_events(ckpt: &Ckpt, max_events: usize) -> Result<EventList> {
    let count = ckpt.nr_events as usize;
    let len = ckpt.events_len as usize;
    // As `q_len`: at most `max_events` events, plus the overflow event. Checked again below,
    // once it is known whether there is one; first, before allocating anything.
    if count > max_events.saturating_add(1) {
        return Err(ENOSPC);
    }
    let mut reader = UserSlice::new(user_ptr(ckpt.events)?, len).reader();
    let mut events = EventList::new();
    let mut overflow = false;
    let mut name = KVec::new();
    for _ in 0..count {
        let mut header = [0u8; EVENT_SIZE];
        reader.read_slice(&mut header)?;
        let field = |i: usize| {
            let mut bytes = [0u8; 4];
            bytes.copy_from_slice(&header[i * 4..i * 4 + 4]);
            u32::from_ne_bytes(bytes)
        };
        // CAST: the wd is an `int`; a `u32` length fits a `usize`.
        let (wd, mask, cookie, padded) = (field(0) as i32, field(1), field(2), field(3) as usize);
        if wd == -1 {
            if overflow || mask != IN_Q_OVERFLOW || cookie != 0 || padded != 0 {
                return Err(EINVAL);
            }
            overflow = true;
        } else if wd < 1
            || mask & !EVENT_MASK_BITS != 0
            || mask & (IN_ALL_EVENTS | IN_UNMOUNT | IN_IGNORED) == 0
        {
            return Err(EINVAL);
        }
        if padded % EVENT_ALIGN != 0 || padded > NAME_RECORD_MAX {
            return Err(EINVAL);
        }
        name.clear();
        name.resize(padded, 0, GFP_KERNEL)?;
        reader.read_slice(&mut name)?;
        let name_len = name.iter().position(|&b| b == 0).unwrap_or(padded);
        // The name and at least one NUL, padded as `read()` pads it: the restored record reads
        // back byte for byte.
        let canonical = if padded == 0 {
            true
        } else {
            name_len > 0 && (name_len + 1).next_multiple_of(EVENT_ALIGN) == padded
        };
        if !canonical
            || name[name_len..].iter().any(|&b| b != 0)
            || name[..name_len].contains(&b'/')
        {
            return Err(EINVAL);
        }
        events.push_back(Event::new(
            wd,
            mask,
            cookie,
            &name[..name_len],
            Gfp::KernelAccount,
        )?);
    }
    if !reader.is_empty() {
        return Err(EINVAL);
    }
    if count - usize::from(overflow) > max_events {
        return Err(ENOSPC);
    }
    Ok(events)
}
