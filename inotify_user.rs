// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! An inotify instance and its file operations: open, read, poll, ioctl, fdinfo and release.
//!
//! C file: [`fs/notify/inotify/inotify_user.c`](srctree/fs/notify/inotify/inotify_user.c).
//! The functions keep upstream's names and order of checks, so that each can be read beside
//! its C twin: [`open`] is `do_inotify_init`, [`read`] is `inotify_read`, [`ioctl`] is
//! `inotify_ioctl` plus the add-watch and rm-watch system calls, which are ioctls here.
//! The fsnotify callbacks are in `inotify_fsnotify.rs`, the event queue in `notification.rs`.
//! The device's `file_operations` are [`MiscDevice`]'s, implemented by [`Instance`].

use kernel::{
    c_str,
    fs::{
        file::flags::O_NONBLOCK,
        File, //
    },
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    sync::{
        aref::ARef,
        atomic::{
            Atomic,
            Relaxed, //
        },
        new_mutex,
        new_spinlock,
        poll::{
            PollCondVarBox,
            PollTable, //
        },
        Arc,
        Mutex,
        SpinLock, //
    },
    task::Kuid,
    uaccess::{
        UserPtr,
        UserSliceWriter, //
    }, //
};

#[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
use crate::checkpoint;
use crate::{
    fsnotify::{
        self,
        MARK_FLAG_EXCL_UNLINK,
        MARK_FLAG_IN_ONESHOT, //
    },
    idr::{
        Idr,
        Preload, //
    },
    miscdev::{
        Llseek,
        MiscDevice, //
    },
    namei::{
        Inode,
        Path,
        LOOKUP_DIRECTORY,
        LOOKUP_FOLLOW,
        MAY_READ, //
    },
    notification::{
        EventRef,
        Queue,
        DECIDE_FIRST,
        NO_MERGE, //
    },
    params as limits,
    slab::{
        Gfp,
        KmemCache, //
    },
    uaccess::{
        get_user_u64,
        put_user_i32, //
    },
    uapi::*,
    ucounts::{
        self,
        Kind,
        Ucounts, //
    }, //
};

/// `O_ACCMODE`: the access mode bits of the open flags.
const O_ACCMODE: u32 = 0o3;
/// `O_RDONLY`: an instance is opened read-only, as `inotify_init1()`'s fd is.
const O_RDONLY: u32 = 0;

/// `EPOLLIN | EPOLLRDNORM`.
const POLLIN_RDNORM: u32 = 0x1 | 0x40;

/// `FS_EVENT_ON_CHILD`: a directory's mark gets its children's events.
pub(crate) const FS_EVENT_ON_CHILD: u32 = 0x0800_0000;

/// The mark flags an add-watch mask sets: `IN_EXCL_UNLINK` and `IN_ONESHOT`.
const INOTIFY_MARK_FLAGS: u32 = MARK_FLAG_EXCL_UNLINK | MARK_FLAG_IN_ONESHOT;

/// An instance's fsnotify group.
pub(crate) type Group = fsnotify::Group<Instance>;

/// A watch: an fsnotify mark with its wd (upstream's `struct inotify_inode_mark`).
pub(crate) type Mark = fsnotify::Mark<Instance>;

/// A counted reference to a watch.
pub(crate) type MarkRef = fsnotify::MarkRef<Instance>;

/// `INOTIFY_WATCH_COST`: the memory one watch pins, for the default of `max_user_watches`.
pub(crate) const INOTIFY_WATCH_COST: usize = size_of::<Mark>() + 2 * Inode::C_SIZE;

/// A watch's descriptor, the instance's part of each mark (`inotify_inode_mark.wd`).
pub(crate) struct Wd(Atomic<i32>);

impl Wd {
    /// A mark not yet in the wd table.
    pub(crate) fn new() -> Self {
        Self(Atomic::new(-1))
    }

    /// The wd, or -1 while the mark is not (or no longer) in the wd table (`READ_ONCE`).
    pub(crate) fn get(&self) -> i32 {
        self.0.load(Relaxed)
    }

    /// Sets the wd (-1: detached from the wd table; `WRITE_ONCE`).
    pub(crate) fn set(&self, wd: i32) {
        self.0.store(wd, Relaxed)
    }
}

/// Whether `INOTIFY_IOC_SETNEXTWD` is built in: with the kernel's checkpoint/restore, unless the
/// module was built with `RUST_INOTIFY_NO_SETNEXTWD=1`.
pub(crate) const HAS_SETNEXTWD: bool = cfg!(all(
    CONFIG_CHECKPOINT_RESTORE,
    not(rust_inotify_no_setnextwd)
));

/// One inotify instance: the private data of its fsnotify group (upstream keeps the same state
/// in `struct fsnotify_group` and its `inotify_data`).
#[pin_data]
pub(crate) struct Instance {
    /// The event queue (`notification_list` and `notification_lock`). A spinlock: events are
    /// queued by whoever changes a watched file, and nothing under it sleeps or copies to user.
    /// Its byte count is also published for `FIONREAD`, which reads it without the lock.
    #[pin]
    pub(crate) notification: Queue,
    /// The [`merge_key`](crate::notification::merge_key) of the event queued last, or
    /// [`NO_MERGE`]: a guess, read without the queue's lock, of whether the next event will
    /// merge, so that a merged event is decided before anything is allocated and any other one
    /// is allocated before the lock is taken (once). Written under the queue's lock; never
    /// trusted for the decision itself.
    pub(crate) tail_key: Atomic<u64>,
    /// Woken when an event is queued: `read` sleeps on it and `poll` registers on it
    /// (`notification_waitq`).
    pub(crate) waitq: PollCondVarBox,
    /// The wd table (`inotify_data.idr` and `idr_lock`). Its own spinlock, apart from the queue:
    /// `freeing_mark` takes both in turn, and SETNEXTWD and lookups need only this one. Each
    /// entry holds a reference to its mark.
    #[pin]
    pub(crate) wds: SpinLock<Idr<MarkRef>>,
    /// Serialises add-watch, rm-watch and release, as upstream's `fsnotify_group_lock()` does in
    /// `inotify_update_watch()`: finding a mark and creating one must be one step. A mutex,
    /// because adding a mark sleeps. Never taken by the fsnotify callbacks.
    #[pin]
    pub(crate) watch_lock: Mutex<()>,
    /// The user this instance and its watches are charged to (`inotify_data.ucounts`); gives
    /// back the instance's charge when the instance is freed.
    charge: InstanceCharge,
}

impl Instance {
    /// The counts of the user this instance and its watches are charged to.
    pub(crate) fn ucounts(&self) -> &Ucounts {
        &self.charge.0
    }
}

/// One instance charged to a user (`inc_ucount(..., UCOUNT_INOTIFY_INSTANCES)`), given back on
/// drop (`inotify_free_group_priv`), with the instance's reference to the user's counts.
struct InstanceCharge(Arc<Ucounts>);

impl InstanceCharge {
    fn new(uid: Kuid) -> Result<Self> {
        let ucounts = ucounts::get(uid)?;
        if ucounts.charge(Kind::Instances, limits::max_user_instances()) {
            Ok(Self(ucounts))
        } else {
            ucounts::put(&ucounts);
            Err(EMFILE)
        }
    }
}

impl Drop for InstanceCharge {
    fn drop(&mut self) {
        self.0.uncharge(Kind::Instances);
        ucounts::put(&self.0);
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init` in the module initializer, before any instance exists.
    unsafe(uninit) static WD_NODES: SpinLock<Preload<MarkRef>> = Preload::empty();
}

/// The cache watches come from (`inotify_inode_mark_cachep`).
pub(crate) static MARKS: KmemCache<Mark> = KmemCache::uninit();

/// Makes the cache of watches and initialises the pool of wd-table nodes shared by all
/// instances; called once, from the module initializer.
///
/// An instance that is released gives the emptied nodes its table kept to this pool, and an
/// instance that needs nodes takes them from it before allocating, the way the radix tree
/// behind upstream's `idr` takes nodes from a per-CPU pool. It holds at most one reservation's
/// worth (ten nodes).
pub(crate) fn init() -> Result {
    // SAFETY: Called exactly once, before the device is registered.
    unsafe { WD_NODES.init() };
    // SAFETY: As above: before any watch can be made.
    unsafe { MARKS.init(c_str!("rust_inotify_mark")) }
}

/// Frees the pool and destroys the cache of watches; called from module exit, when no instance
/// and no watch is left.
pub(crate) fn exit() {
    let nodes = core::mem::replace(&mut *WD_NODES.lock(), Preload::empty());
    drop(nodes);
    // SAFETY: Module exit waited until every group and mark was freed, and no instance can be
    // opened any more.
    unsafe { MARKS.destroy() };
}

/// `do_inotify_init` and `inotify_new_group`: a new instance, for an open with these flags.
///
/// `O_NONBLOCK` and `O_CLOEXEC` are `inotify_init1()`'s flags, and the VFS applies them; the
/// instance must be opened read-only, like the fd `inotify_init1()` returns.
pub(crate) fn open(flags: u32) -> Result<Pin<KBox<Instance>>> {
    if flags & O_ACCMODE != O_RDONLY {
        return Err(EINVAL);
    }
    let uid = Kuid::current_euid();
    let charge = InstanceCharge::new(uid)?;
    // The queue's limit is sampled now: later changes do not affect this instance.
    let max_events = limits::max_queued_events() as usize;
    KBox::pin_init(
        try_pin_init!(Instance {
            notification <- Queue::new(max_events),
            tail_key: Atomic::new(NO_MERGE),
            waitq: PollCondVarBox::new(c_str!("rust_inotify:waitq"), kernel::static_lock_class!())?,
            wds <- new_spinlock!(Idr::new(), "rust_inotify:wds"),
            watch_lock <- new_mutex!((), "rust_inotify:watches"),
            charge,
        }),
        GFP_KERNEL_ACCOUNT,
    )
}

/// `inotify_release` and `fsnotify_destroy_group`: the file's last close.
///
/// Stops queueing, destroys every mark (their `IN_IGNORED` events are discarded), waits until
/// the marks are freed, and frees the queue. The caller then drops the file's reference to the
/// group, and the instance is freed with the group's last reference.
pub(crate) fn release(group: &Group) {
    let inst = group.data();
    let queued = {
        let mut queue = inst.notification.lock();
        // The IN_IGNORED events of the watches destroyed below are decided (dropped) before
        // anything is allocated for them.
        inst.tail_key.store(DECIDE_FIRST, Relaxed);
        queue.shut_down()
    };
    drop(queued);

    // Each mark's `freeing_mark` frees its wd; their IN_IGNORED events are dropped.
    group.clear_marks();
    fsnotify::wait_marks_destroyed();

    // The table is empty now: its kept nodes go to the shared pool (those that do not fit are
    // freed, which does not sleep).
    let spare = inst.wds.lock().take_spare();
    WD_NODES.lock().absorb(spare);
}

/// The record of the overflow event: a `struct inotify_event` with wd -1, `IN_Q_OVERFLOW`, no
/// cookie and no name.
const OVERFLOW_RECORD: [u8; EVENT_SIZE] = {
    let mut record = [0u8; EVENT_SIZE];
    let wd = (-1i32).to_ne_bytes();
    let mask = IN_Q_OVERFLOW.to_ne_bytes();
    let mut i = 0;
    while i < 4 {
        record[i] = wd[i];
        record[4 + i] = mask[i];
        i += 1;
    }
    record
};

/// `copy_event_to_user`: writes one event's record: the header, the name, then NULs up to the
/// padded length (`round_event_name_len`); returns its length.
///
/// The event keeps its record as `read` returns it, so this is one copy; nothing of kernel
/// memory but the record reaches user space.
fn copy_event_to_user(event: EventRef<'_>, writer: &mut UserSliceWriter) -> Result<usize> {
    let record = event.record();
    writer.write_slice(record)?;
    Ok(record.len())
}

/// `inotify_read` with `get_one_event`: whole events only, oldest first.
///
/// `EINVAL` if the first event does not fit (it stays queued); `EAGAIN` when nothing is queued
/// and `nonblock`; otherwise sleeps until an event comes or a signal (`ERESTARTSYS`). An `EFAULT`
/// loses the event being copied and is returned even after other events were copied, as
/// upstream does.
pub(crate) fn read(inst: &Instance, mut writer: UserSliceWriter, nonblock: bool) -> Result<usize> {
    let mut copied = 0;
    loop {
        let mut queue = inst.notification.lock();
        let event = loop {
            match queue.peek_record_len() {
                Some(len) if len > writer.len() => {
                    return if copied > 0 { Ok(copied) } else { Err(EINVAL) };
                }
                Some(_) => {
                    if let Some(event) = queue.pop() {
                        break event;
                    }
                }
                None if copied > 0 => return Ok(copied),
                None if nonblock => return Err(EAGAIN),
                None => {
                    if queue.wait_interruptible(&inst.waitq) {
                        return Err(ERESTARTSYS);
                    }
                }
            }
        };
        if event.get().wd() == -1 {
            // The overflow event goes straight back to the queue's reserve, so that it can be
            // queued again while this copy is made, as upstream's static overflow event can.
            queue.recycle(event);
            drop(queue);
            writer.write_slice(&OVERFLOW_RECORD)?;
            copied += EVENT_SIZE;
        } else {
            drop(queue);
            copied += copy_event_to_user(event.get(), &mut writer)?;
        }
    }
}

/// `inotify_poll`: readable exactly when the queue is not empty; never writable.
pub(crate) fn poll(inst: &Instance, file: &File, table: &PollTable<'_>) -> u32 {
    table.register_wait(file, &inst.waitq);
    if inst.notification.lock().is_empty() {
        0
    } else {
        POLLIN_RDNORM
    }
}

/// `inotify_ioctl`, plus the add-watch and rm-watch ioctls that stand for upstream's system
/// calls. Unknown commands give `ENOTTY`.
///
/// The commands are tested one by one, each with its own return, as upstream's two-case switch
/// compiles: SETNEXTWD first, as upstream tests it, then the add, then FIONREAD; the rest out of
/// line. A `match` over all six became a binary search whose every path paid the others'
/// compares and register saves.
#[inline(always)]
pub(crate) fn ioctl(group: &Group, file: &File, cmd: u32, arg: usize) -> Result<isize> {
    // Compiled in only with checkpoint/restore, as upstream's is; else `ENOTTY` below.
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    if cmd == INOTIFY_IOC_SETNEXTWD {
        // The argument is the value itself, as upstream takes it.
        if !(1..=i32::MAX as usize).contains(&arg) {
            // Out of the valid call's way: its errno is then not loaded on every call.
            core::hint::cold_path();
            return Err(EINVAL);
        }
        // CAST: `arg` is at most INT_MAX, checked above.
        group.data().wds.lock().set_cursor(arg as u32);
        return Ok(0);
    }
    if cmd == FIONREAD {
        // Tested after SETNEXTWD and the add (`cold_path` orders the compares): it is O(1)
        // here, where upstream walks the queue, so it can afford two more compares; SETNEXTWD,
        // which upstream's switch tests first, could not.
        core::hint::cold_path();
        // O(1) and without the lock: the queue publishes the count that upstream sums up here.
        let bytes = group.data().notification.bytes();
        let bytes = i32::try_from(bytes).unwrap_or(i32::MAX);
        put_user_i32(bytes, UserPtr::from_addr(arg))?;
        return Ok(0);
    }
    if cmd == RUST_INOTIFY_IOC_ADD_WATCH {
        return add_watch(group, arg).map(|wd| wd as isize);
    }
    core::hint::cold_path();
    ioctl_rare(file, cmd, arg, group).map(|()| 0)
}

/// The commands a program issues once per watch removed or per checkpoint, out of line. The
/// parameters come in the order of the `unlocked_ioctl` entry's registers, so that the hot
/// commands' path does not shuffle them for this call.
#[inline(never)]
#[cfg_attr(
    not(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd))),
    expect(unused_variables)
)]
fn ioctl_rare(file: &File, cmd: u32, arg: usize, group: &Group) -> Result {
    match cmd {
        RUST_INOTIFY_IOC_RM_WATCH => rm_watch(group, arg),
        // Checkpoint/restore, for CRIU's plugin: with checkpoint/restore only.
        #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
        RUST_INOTIFY_IOC_DUMP => checkpoint::dump(group, file.flags(), arg),
        #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
        RUST_INOTIFY_IOC_RESTORE => checkpoint::restore(group, arg),
        _ => Err(ENOTTY),
    }
}

/// The `inotify_add_watch` system call, as an ioctl whose argument is a [`AddWatch`].
///
/// The checks come in upstream's order: the mask's bits, an empty mask, `IN_MASK_ADD` with
/// `IN_MASK_CREATE`, then the lookup (`ENOENT`, `ENOTDIR`, `EACCES`, ...).
// Not inlined into `ioctl`: its register saves and stack frame would be paid by every
// `FIONREAD` and `INOTIFY_IOC_SETNEXTWD` too.
#[inline(never)]
fn add_watch(group: &Group, arg: usize) -> Result<i32> {
    // The argument, as two words (`inotify_add_watch()` gets it in registers): `get_user()`
    // costs less than a 16-byte `copy_from_user()`. Either faults as the copy would.
    let AddWatch {
        pathname,
        dirfd,
        mask,
    } = read_add_watch(arg)?;

    // Don't let user send invalid bits.
    if mask & !ALL_INOTIFY_BITS != 0 {
        return Err(EINVAL);
    }
    // Don't allow sending requests with an empty mask.
    if mask & ALL_INOTIFY_BITS == 0 {
        return Err(EINVAL);
    }
    // IN_MASK_ADD and IN_MASK_CREATE don't make sense together.
    if mask & IN_MASK_ADD != 0 && mask & IN_MASK_CREATE != 0 {
        return Err(EINVAL);
    }
    let pathname = UserPtr::from_addr(usize::try_from(pathname).map_err(|_| EFAULT)?);
    let path = inotify_find_inode(dirfd, pathname, mask)?;
    update_watch(group, path.inode(), mask)
}

/// Reads the [`AddWatch`] at the user address `arg`, a word at a time.
#[inline(always)]
fn read_add_watch(arg: usize) -> Result<AddWatch> {
    const _: () = assert!(core::mem::offset_of!(AddWatch, pathname) == 0);
    const _: () = assert!(core::mem::offset_of!(AddWatch, dirfd) == 8);
    const _: () = assert!(core::mem::offset_of!(AddWatch, mask) == 12);
    // The whole range must be user memory, as `copy_from_user()` checks it.
    let second = arg.checked_add(8).ok_or(EFAULT)?;
    let pathname = get_user_u64(UserPtr::from_addr(arg))?;
    let [d0, d1, d2, d3, m0, m1, m2, m3] = get_user_u64(UserPtr::from_addr(second))?.to_ne_bytes();
    Ok(AddWatch {
        pathname,
        dirfd: i32::from_ne_bytes([d0, d1, d2, d3]),
        mask: u32::from_ne_bytes([m0, m1, m2, m3]),
    })
}

/// `inotify_find_inode`: looks `pathname` up as the mask says (`IN_DONT_FOLLOW`, `IN_ONLYDIR`),
/// and checks that the inode may be read.
fn inotify_find_inode(dfd: i32, pathname: UserPtr, mask: u32) -> Result<Path> {
    let mut flags = 0;
    if mask & IN_DONT_FOLLOW == 0 {
        flags |= LOOKUP_FOLLOW;
    }
    if mask & IN_ONLYDIR != 0 {
        flags |= LOOKUP_DIRECTORY;
    }
    let path = Path::user_path_at(dfd, pathname, flags)?;
    // You can only watch an inode if you have read permissions on it.
    path.permission(MAY_READ)?;
    // `security_path_notify()` is not exported to modules: the LSM check upstream makes here is
    // missing (a documented deviation).
    Ok(path)
}

/// `inotify_arg_to_flags`: the mark flags of an add-watch mask.
pub(crate) fn inotify_arg_to_flags(arg: u32) -> u32 {
    let mut flags = 0;
    if arg & IN_EXCL_UNLINK != 0 {
        flags |= MARK_FLAG_EXCL_UNLINK;
    }
    if arg & IN_ONESHOT != 0 {
        flags |= MARK_FLAG_IN_ONESHOT;
    }
    flags
}

/// `inotify_arg_to_mask`: the fsnotify mask of a mark from the add-watch mask.
pub(crate) fn inotify_arg_to_mask(inode: &Inode, arg: u32) -> u32 {
    // Everything should receive events when the inode is unmounted; directories care about
    // their children.
    let mut mask = IN_UNMOUNT;
    if inode.is_dir() {
        mask |= FS_EVENT_ON_CHILD;
    }
    mask | (arg & IN_ALL_EVENTS)
}

/// `inotify_update_watch`: updates this instance's watch on `inode`, or creates one.
///
/// Under `watch_lock`, as upstream does under the group's mutex: the lookup and the creation are
/// one step. The new mark is allocated under that mutex, as upstream allocates it (a sleeping
/// allocation under a mutex that no fsnotify callback or reclaim path takes); the wd table's
/// nodes are reserved without any lock, in [`new_watch`].
fn update_watch(group: &Group, inode: &Inode, arg: u32) -> Result<i32> {
    let inst = group.data();
    let _guard = inst.watch_lock.lock();
    if let Some(existing) = group.find_mark(inode) {
        let wd = update_existing_watch(&existing, inode, arg)?;
        // A mark found while it was being destroyed has lost its wd already and is no longer
        // attached: the inode is then unwatched, and gets a new watch.
        if wd > 0 {
            return Ok(wd);
        }
    }
    let mark = MarkRef::new(
        group,
        inotify_arg_to_mask(inode, arg),
        inotify_arg_to_flags(arg),
        Wd::new(),
    )?;
    new_watch(group, mark, inode)
}

/// `inotify_update_existing_watch`: replaces the mask and flags, or ORs them in with
/// `IN_MASK_ADD`; `EEXIST` with `IN_MASK_CREATE`. Returns the existing wd.
fn update_existing_watch(mark: &Mark, inode: &Inode, arg: u32) -> Result<i32> {
    if arg & IN_MASK_CREATE != 0 {
        return Err(EEXIST);
    }
    let (mut mask, mut flags) = if arg & IN_MASK_ADD != 0 {
        (mark.mask(), mark.flags())
    } else {
        (0, 0)
    };
    mask |= inotify_arg_to_mask(inode, arg);
    flags |= inotify_arg_to_flags(arg);
    mark.update(mask, flags, INOTIFY_MARK_FLAGS);
    Ok(mark.data().get())
}

/// `inotify_new_watch`: a wd for the new mark, the user's charge, then the inode. A wd is
/// consumed even when a later step fails, as upstream's is. Called under `watch_lock`.
fn new_watch(group: &Group, mark: MarkRef, inode: &Inode) -> Result<i32> {
    let inst = group.data();
    let wd = alloc_wd(inst, &mark, None)?;

    // Increment the number of watches the user has.
    if !inst
        .ucounts()
        .charge(Kind::Watches, limits::max_user_watches())
    {
        inst.remove_from_idr(&mark);
        return Err(ENOSPC);
    }

    // We are on the idr, now get on the inode.
    if let Err(e) = mark.attach(inode) {
        inst.remove_from_idr(&mark);
        inst.ucounts().uncharge(Kind::Watches);
        return Err(e);
    }
    // CAST: ids are at most INT_MAX.
    Ok(wd as i32)
}

/// `idr_preload` + `idr_alloc_cyclic(..., GFP_NOWAIT)`: puts `mark` in the wd table and sets its
/// wd. The search starts at the cursor, or at `at` (which moves the cursor there first).
///
/// The table keeps the nodes that removals emptied, so an allocation rarely needs new ones, and
/// it is tried first without any reservation. When it needs nodes, it fails with `ENOMEM` and
/// changes nothing; the nodes are then reserved unlocked (from the pool that released instances
/// fill, then new ones), and the allocation is tried again under the lock, in
/// [`alloc_wd_reserved`].
pub(crate) fn alloc_wd(inst: &Instance, mark: &MarkRef, at: Option<u32>) -> Result<u32> {
    let mut wds = inst.wds.lock();
    if let Some(at) = at {
        wds.set_cursor(at);
    }
    match wds.alloc_cyclic_unreserved(mark.clone()) {
        Ok(wd) => {
            // CAST: ids are at most INT_MAX.
            mark.data().set(wd as i32);
            Ok(wd)
        }
        Err(e) => {
            drop(wds);
            // The table hands the reference back; putting a mark may sleep, so it is dropped
            // here, unlocked.
            drop(e.value);
            if e.error != ENOMEM {
                return Err(e.error);
            }
            alloc_wd_reserved(inst, mark, at, e.need)
        }
    }
}

/// [`alloc_wd`] once the table has said that it needs `need` nodes: reserves them, then
/// allocates, until the reservation suffices.
#[inline(never)]
fn alloc_wd_reserved(inst: &Instance, mark: &MarkRef, at: Option<u32>, need: usize) -> Result<u32> {
    let mut preload = Preload::empty();
    let mut need = need;
    loop {
        preload.take_from(&mut WD_NODES.lock(), need);
        preload.reserve(need, Gfp::Kernel)?;
        let mut wds = inst.wds.lock();
        if let Some(at) = at {
            wds.set_cursor(at);
        }
        match wds.alloc_cyclic(mark.clone(), &mut preload) {
            Ok(wd) => {
                // CAST: ids are at most INT_MAX.
                mark.data().set(wd as i32);
                return Ok(wd);
            }
            Err(e) => {
                need = e.need;
                drop(wds);
                // As in `alloc_wd`.
                drop(e.value);
                if e.error != ENOMEM {
                    return Err(e.error);
                }
            }
        }
    }
}

/// The `inotify_rm_watch` system call, as an ioctl whose argument is the wd itself.
// Not inlined into `ioctl`, as `add_watch`.
#[inline(never)]
fn rm_watch(group: &Group, arg: usize) -> Result {
    // The wd is an `int`; anything that is not one names no watch.
    let wd = i32::try_from(arg as isize).map_err(|_| EINVAL)?;
    let wd = u32::try_from(wd).map_err(|_| EINVAL)?;
    let inst = group.data();
    let _guard = inst.watch_lock.lock();
    // `inotify_idr_find`: takes a reference under the table's lock.
    let mark = inst.wds.lock().get(wd).cloned().ok_or(EINVAL)?;
    // Queues IN_IGNORED and removes the wd, through `freeing_mark`.
    mark.destroy();
    Ok(())
}

/// `inotify_show_fdinfo`: one line per watch, newest first, in upstream's format; then one
/// line with the next wd the allocator will try, so that a checkpoint can restore it with
/// `INOTIFY_IOC_SETNEXTWD`.
pub(crate) fn show_fdinfo(group: &Group, seq: &SeqFile) {
    group.show_fdinfo(seq, |mark| {
        let Some(info) = mark.inode_info() else {
            return;
        };
        seq_print!(
            seq,
            "inotify wd:{:x} ino:{:x} sdev:{:x} mask:{:x} ignored_mask:0 ",
            mark.data().get(),
            info.ino,
            info.sdev,
            inotify_mark_user_mask(mark)
        );
        if let Some(fh) = &info.fhandle {
            seq_print!(
                seq,
                "fhandle-bytes:{:x} fhandle-type:{:x} f_handle:",
                fh.bytes().len(),
                fh.handle_type
            );
            for byte in fh.bytes() {
                seq_print!(seq, "{:02x}", byte);
            }
        }
        seq_print!(seq, "\n");
    });
    let next = inst_next_wd(group.data());
    seq_print!(seq, "rust_inotify next-wd:{:x}\n", next);
}

/// Where the next new watch's search starts, as a valid SETNEXTWD argument.
pub(crate) fn inst_next_wd(inst: &Instance) -> u32 {
    let cursor = inst.wds.lock().cursor();
    // `idr_alloc_cyclic` reads the cursor as an `int`; below 1 it starts at 1.
    if cursor == 0 || cursor > i32::MAX as u32 {
        1
    } else {
        cursor
    }
}

/// `inotify_mark_user_mask`: the events, plus the flags that stay on the mark.
pub(crate) fn inotify_mark_user_mask(mark: &Mark) -> u32 {
    let mut mask = mark.mask() & IN_ALL_EVENTS;
    let flags = mark.flags();
    if flags & MARK_FLAG_EXCL_UNLINK != 0 {
        mask |= IN_EXCL_UNLINK;
    }
    if flags & MARK_FLAG_IN_ONESHOT != 0 {
        mask |= IN_ONESHOT;
    }
    mask
}

/// The device's file operations: one instance per open file, kept in its fsnotify group.
#[vtable]
impl MiscDevice for Instance {
    type Ptr = ARef<Group>;

    /// `noop_llseek`, as upstream's inotify fd has it.
    const LLSEEK: Llseek = Llseek::Noop;

    fn open(file: &File) -> Result<ARef<Group>> {
        Group::new(open(file.flags())?)
    }

    fn release(group: ARef<Group>, _file: &File) {
        release(&group);
        // Dropping the file's reference to the group frees the instance once the last mark is
        // gone.
        drop(group);
    }

    fn read(group: &Group, file: &File, writer: UserSliceWriter) -> Result<usize> {
        read(group.data(), writer, file.flags() & O_NONBLOCK != 0)
    }

    fn poll(group: &Group, file: &File, table: &PollTable<'_>) -> u32 {
        poll(group.data(), file, table)
    }

    // Inlined into the vtable's entry, so that FIONREAD and SETNEXTWD return through registers
    // rather than a `Result` in memory.
    #[inline(always)]
    fn ioctl(group: &Group, file: &File, cmd: u32, arg: usize) -> Result<isize> {
        ioctl(group, file, cmd, arg)
    }

    /// The argument is a pointer or a value, the same on both ABIs.
    #[inline(always)]
    fn compat_ioctl(group: &Group, file: &File, cmd: u32, arg: usize) -> Result<isize> {
        ioctl(group, file, cmd, arg)
    }

    /// `fsnotify_fasync`.
    fn fasync(group: &Group, fd: i32, file: &File, on: bool) -> Result {
        group.fasync(fd, file, on)
    }

    fn show_fdinfo(group: &Group, m: &SeqFile, _file: &File) {
        show_fdinfo(group, m)
    }
}
