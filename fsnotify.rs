// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Filesystem notification groups and marks.
//!
//! C header: [`include/linux/fsnotify_backend.h`](srctree/include/linux/fsnotify_backend.h).
//!
//! An fsnotify backend (dnotify, inotify, fanotify in C) owns groups; each group carries the
//! backend's private data and has marks, each attached to one inode and holding the backend's
//! per-mark data. fsnotify calls the backend through its `struct fsnotify_ops`; here that table is
//! built from a [`Backend`] implementation, as `rust/kernel/miscdevice.rs` builds its
//! `file_operations` from a `MiscDevice`:
//! - [`Group<T>`]: a group whose private data is a `T`, reference-counted ([`ARef<Group<T>>`]).
//! - [`Mark<T>`]: an inode mark of a group of `T`, a `struct fsnotify_mark` followed by a
//!   [`Backend::MarkData`] (upstream inotify's `struct inotify_inode_mark` is the mark plus the
//!   wd).
//! - [`MarkRef<T>`]: a counted reference to a mark, as `fsnotify_get_mark()` and
//!   `fsnotify_put_mark()` count it. Not an `ARef<Mark<T>>`: fsnotify lends its callbacks marks
//!   whose count may already be zero (they are freed only after an SRCU grace period), and an
//!   `ARef` could be made from any `&Mark<T>`.
//! - [`MarkInode`]: what `fs/notify/fdinfo.c` shows of a mark's inode.
//!
//! # Upstream
//!
//! To move into `rust/kernel/fsnotify.rs`, what would change:
//! - the declarations would come from `kernel::bindings` (`fsnotify_backend.h` added to
//!   `rust/bindings/bindings_helper.h`), and the helpers (`fsnotify_group_lock()`,
//!   `set_active_memcg()`, ...) to `rust/helpers/`;
//! - the bodies of `fsnotify_get_group()`, `fsnotify_get_mark()` and
//!   `fsnotify_clear_marks_by_group()`, which 7.3 does not export and this file reimplements,
//!   would become calls to the C functions, and [`Mark::update`] would set the flags and the
//!   mask in one `mark->lock` section with `fsnotify_recalc_mask()`, as inotify does;
//! - [`wait_groups_freed`] is module-wide here (one backend per module); in the kernel crate it
//!   would be per backend, e.g. a counter held by a registration object of the backend's module;
//! - the event handler would also get the event's inode and directory, which inotify ignores.
//!
//! What would stay: the [`Backend`] trait and the `fsnotify_ops` table built from it, the typed
//! groups and marks, their invariants, and every method's semantics.

use core::{
    marker::PhantomData,
    ops::ControlFlow,
    pin::Pin,
    ptr::NonNull, //
};
use kernel::{
    container_of,
    fs::File,
    prelude::*,
    seq_file::SeqFile,
    sync::{
        aref::{
            ARef,
            AlwaysRefCounted, //
        },
        atomic::{
            Atomic,
            Full, //
        },
    },
    types::Opaque, //
};

use crate::{
    bindings,
    namei::Inode,
    slab::{
        Gfp,
        KmemCache, //
    }, //
};

/// `FSNOTIFY_MARK_FLAG_EXCL_UNLINK`: no events for children once unlinked (`IN_EXCL_UNLINK`).
pub(crate) const MARK_FLAG_EXCL_UNLINK: u32 = bindings::FSNOTIFY_MARK_FLAG_EXCL_UNLINK;
/// `FSNOTIFY_MARK_FLAG_IN_ONESHOT`: the mark goes after its first event (`IN_ONESHOT`).
pub(crate) const MARK_FLAG_IN_ONESHOT: u32 = bindings::FSNOTIFY_MARK_FLAG_IN_ONESHOT;

/// The callbacks of an fsnotify backend (`struct fsnotify_ops`), implemented by the private data
/// of its groups.
///
/// Each group of the backend owns one `Self`, from [`Group::new`] until fsnotify frees the group.
pub(crate) trait Backend: Sized + Send + Sync + 'static {
    /// The backend's part of each mark, after the `struct fsnotify_mark`.
    type MarkData: Send + Sync;

    /// An event on an inode that `mark` watches (`handle_inode_event`).
    ///
    /// `name` is the name of the child the event happened to, for a directory's mark. Memory
    /// allocated within [`Group::with_memcg`] is charged to the memory cgroup of the task that
    /// created the group. Runs inside fsnotify's SRCU read section; may sleep.
    fn handle_inode_event(
        &self,
        mark: &Mark<Self>,
        mask: u32,
        name: Option<&[u8]>,
        cookie: u32,
    ) -> Result;

    /// `mark` is being destroyed, for whatever reason (`freeing_mark`); called once per mark.
    fn freeing_mark(&self, mark: &Mark<Self>);

    /// The group's last reference is gone (`free_group_priv`): the private data goes with it.
    fn free_group_priv(this: Pin<KBox<Self>>) {
        drop(this);
    }

    /// The cache the backend's marks come from (upstream inotify's `inotify_inode_mark_cachep`).
    ///
    /// It must be made before the first mark and destroyed only after [`wait_marks_destroyed`]
    /// returned with no group left.
    fn mark_cache() -> &'static KmemCache<Mark<Self>>;
}

/// Groups of this module that fsnotify has not freed, plus one until [`wait_groups_freed`].
///
/// A group's last reference can be dropped by fsnotify's mark reaper after its user is done with
/// it, and its `free_group_priv` and `free_mark` callbacks are this module's code.
static LIVE_GROUPS: Atomic<usize> = Atomic::new(1);

/// Completed when [`LIVE_GROUPS`] drops to zero; initialised by [`wait_groups_freed`], before
/// the count can get there.
static GROUPS_FREED: GroupsFreed = GroupsFreed(Opaque::uninit());

/// The `struct completion` of [`GROUPS_FREED`].
struct GroupsFreed(Opaque<kernel::bindings::completion>);

// SAFETY: A `struct completion` is made to be shared: `complete_all()` and
// `wait_for_completion()` take its own lock.
unsafe impl Sync for GroupsFreed {}

/// Waits until fsnotify has freed every group of this module.
///
/// # Safety
///
/// Called once, from module exit, when no group can be created any more.
pub(crate) unsafe fn wait_groups_freed() {
    // SAFETY: Nothing uses the completion yet: it is completed only once the count drops to zero,
    // which takes the decrement below.
    unsafe { kernel::bindings::init_completion(GROUPS_FREED.0.get()) };
    // ORDERING: Full, so that the initialisation above is seen by whoever frees the last group.
    if LIVE_GROUPS.fetch_sub(1, Full) != 1 {
        // SAFETY: The completion was initialised above; module exit may sleep.
        unsafe { kernel::bindings::wait_for_completion(GROUPS_FREED.0.get()) };
    }
}

/// Counts one group out of [`LIVE_GROUPS`].
fn group_freed() {
    // ORDERING: Full, paired with the one in `wait_groups_freed`.
    if LIVE_GROUPS.fetch_sub(1, Full) == 1 {
        // SAFETY: The count reaches zero only after `wait_groups_freed` initialised the
        // completion and dropped its own count.
        unsafe { kernel::bindings::complete_all(GROUPS_FREED.0.get()) };
    }
}

/// Waits until every mark being destroyed has been freed (`fsnotify_wait_marks_destroyed`).
pub(crate) fn wait_marks_destroyed() {
    // SAFETY: No precondition; it sleeps, and callers are in process context.
    unsafe { bindings::fsnotify_wait_marks_destroyed() }
}

/// `&group->private`: the union of backends' private data starts with it.
///
/// # Safety
///
/// `group` must point to a live group.
unsafe fn group_private(group: *mut bindings::fsnotify_group) -> *mut *mut c_void {
    // SAFETY: The group is alive; every member of a C union is at its start.
    unsafe { (&raw mut (*group).__bindgen_anon_1).cast() }
}

/// An fsnotify group of backend `T`.
///
/// # Invariants
///
/// - `inner` is a live group allocated by `fsnotify_alloc_group()` with [`OpsTable<T>`]'s
///   `fsnotify_ops`, and a `&Group<T>` exists only while the group is referenced.
/// - Its private data points to a pinned `T` from `KBox`, owned by the group until its
///   `free_group_priv` callback.
#[repr(transparent)]
pub(crate) struct Group<T: Backend> {
    inner: Opaque<bindings::fsnotify_group>,
    _t: PhantomData<T>,
}

// SAFETY: The group's own state is protected by fsnotify's locks, and `T` is `Send + Sync`.
unsafe impl<T: Backend> Send for Group<T> {}
// SAFETY: As above: every method on a shared group is serialised by fsnotify or by `T`.
unsafe impl<T: Backend> Sync for Group<T> {}

// SAFETY: `inc_ref` is `fsnotify_get_group()` and `dec_ref` is `fsnotify_put_group()`, which
// frees the group when the count drops to zero.
unsafe impl<T: Backend> AlwaysRefCounted for Group<T> {
    fn inc_ref(&self) {
        // SAFETY: The group is referenced by the type invariant. This is the body of
        // `fsnotify_get_group()`, which is not exported.
        unsafe { kernel::bindings::refcount_inc(&raw mut (*self.as_ptr()).refcnt) }
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up one reference it owns.
        unsafe { bindings::fsnotify_put_group(obj.as_ptr().cast()) }
    }
}

impl<T: Backend> Group<T> {
    /// Creates a group that owns `data`, charged to the current task's memory cgroup; returns
    /// its first reference (`fsnotify_alloc_group()` as `inotify_new_group()` calls it).
    pub(crate) fn new(data: Pin<KBox<T>>) -> Result<ARef<Self>> {
        // SAFETY: The group allocates, copies nothing out of the table and keeps the pointer,
        // which is to a constant that lives as long as the module.
        let group = unsafe {
            // CAST: the flag fits an `int`.
            bindings::fsnotify_alloc_group(
                OpsTable::<T>::build(),
                bindings::FSNOTIFY_GROUP_USER as c_int,
            )
        };
        let group = kernel::error::from_err_ptr(group)?;
        LIVE_GROUPS.add(1, kernel::sync::atomic::Relaxed);
        // SAFETY: `data` is never moved out of its box: it is only borrowed through the group's
        // private pointer, and given back as a `Pin<KBox<T>>` by `free_group_priv`.
        let data = KBox::into_raw(unsafe { Pin::into_inner_unchecked(data) });
        // SAFETY: The group is new and ours alone. `get_mem_cgroup_from_mm()` takes a reference
        // that fsnotify puts with the group.
        unsafe {
            *group_private(group) = data.cast();
            let mm = (*kernel::current!().as_ptr()).mm;
            (*group).memcg = bindings::get_mem_cgroup_from_mm(mm);
        }
        // SAFETY: The group starts with one reference, which is now ours.
        // INVARIANT: The group was allocated with `OpsTable<T>`, and its private data is `data`.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(group.cast())) })
    }

    /// Borrows the group behind a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a group of `T` (allocated by [`Group::new`]) that stays referenced
    /// for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::fsnotify_group) -> &'a Self {
        // SAFETY: `Group<T>` is transparent over the C struct; validity is the caller's promise.
        unsafe { &*ptr.cast() }
    }

    /// The C group.
    fn as_ptr(&self) -> *mut bindings::fsnotify_group {
        self.inner.get()
    }

    /// The backend's private data.
    pub(crate) fn data(&self) -> &T {
        // SAFETY: By the type invariant, the private data is a `T` that the group owns for as
        // long as it lives, which is at least as long as `self` is borrowed.
        unsafe { &*(*group_private(self.as_ptr())).cast::<T>() }
    }

    /// Runs `f` with the group's memory cgroup active (`set_active_memcg(group->memcg)`): what
    /// it allocates with `__GFP_ACCOUNT` is charged to the task that created the group, as
    /// upstream's backends charge their events (whoever is interested in an event pays for it).
    #[inline]
    pub(crate) fn with_memcg<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: The group is alive and holds its memcg reference until it is freed.
        let old = unsafe { bindings::set_active_memcg((*self.as_ptr()).memcg) };
        let ret = f();
        // SAFETY: Restores what was active before.
        unsafe { bindings::set_active_memcg(old) };
        ret
    }

    /// Sends `SIGIO` to the owners of the group's `O_ASYNC` files (`kill_fasync()`).
    pub(crate) fn kill_fasync(&self) {
        // SAFETY: The group is alive; `fsn_fa` is the list that `Group::fasync` maintains.
        unsafe {
            kernel::bindings::kill_fasync(
                &raw mut (*self.as_ptr()).fsn_fa,
                kernel::bindings::SIGIO as c_int,
                kernel::bindings::POLL_IN as c_int,
            )
        }
    }

    /// Adds `file` to, or removes it from, the group's `O_ASYNC` list (`fsnotify_fasync()`, which
    /// is not exported).
    pub(crate) fn fasync(&self, fd: i32, file: &File, on: bool) -> Result {
        // SAFETY: The group is alive and `file` is open; `fasync_helper()` locks the list.
        let ret = unsafe {
            kernel::bindings::fasync_helper(
                fd,
                file.as_ptr(),
                c_int::from(on),
                &raw mut (*self.as_ptr()).fsn_fa,
            )
        };
        if ret >= 0 {
            Ok(())
        } else {
            Err(EIO)
        }
    }

    /// This group's mark on `inode`, if any (`fsnotify_find_mark()`).
    pub(crate) fn find_mark(&self, inode: &Inode) -> Option<MarkRef<T>> {
        // SAFETY: The group is alive, and so is the inode while borrowed.
        let mark = unsafe {
            bindings::fsnotify_find_mark(
                inode.as_ptr().cast(),
                bindings::FSNOTIFY_OBJ_TYPE_INODE,
                self.as_ptr(),
            )
        };
        // SAFETY: The marks of a group of `T` are `Mark<T>`s, and `fsnotify_find_mark()`
        // returned a reference that is now ours.
        NonNull::new(mark).map(|m| unsafe { MarkRef::from_raw(m) })
    }

    /// Takes the group's mark mutex (`fsnotify_group_lock()`) for the duration of `f`.
    fn with_lock<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: The group is alive; the lock is released below, on the same task.
        unsafe { bindings::fsnotify_group_lock(self.as_ptr()) };
        let ret = f();
        // SAFETY: Taken above.
        unsafe { bindings::fsnotify_group_unlock(self.as_ptr()) };
        ret
    }

    /// Calls `f` on each of the group's marks, newest first, under the group's mark mutex, until
    /// it breaks.
    pub(crate) fn for_each_mark(&self, mut f: impl FnMut(&Mark<T>) -> ControlFlow<()>) {
        self.with_lock(|| {
            // SAFETY: `marks_list` is the group's list of marks, linked through their `g_list`
            // and stable under the group's mark mutex, which is held.
            unsafe {
                let head = &raw mut (*self.as_ptr()).marks_list;
                let mut pos = (*head).next;
                while pos != head {
                    let mark = container_of!(pos, bindings::fsnotify_mark, g_list);
                    // The mark is on the group's list, so it holds a reference, for the
                    // duration of this call.
                    if f(Mark::from_raw(mark)).is_break() {
                        break;
                    }
                    pos = (*pos).next;
                }
            }
        })
    }

    /// Calls `f` on each of the group's marks, newest first, under the group's mark mutex, and
    /// collects what it returns (`None` skips the mark): one consistent snapshot.
    ///
    /// Nothing is allocated under the mutex: the marks are counted first, room is made after
    /// unlocking, and if marks were added meanwhile it starts over.
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    pub(crate) fn collect_marks<E>(
        &self,
        mut f: impl FnMut(&Mark<T>) -> Option<E>,
    ) -> Result<KVVec<E>> {
        loop {
            let mut count = 0usize;
            self.for_each_mark(|_| {
                count += 1;
                ControlFlow::Continue(())
            });
            let mut out = KVVec::with_capacity(count, GFP_KERNEL_ACCOUNT)?;
            let mut fits = true;
            self.for_each_mark(|mark| match f(mark) {
                Some(entry) => match out.push_within_capacity(entry) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(_) => {
                        fits = false;
                        ControlFlow::Break(())
                    }
                },
                None => ControlFlow::Continue(()),
            });
            if fits {
                return Ok(out);
            }
        }
    }

    /// `show_fdinfo()` of `fs/notify/fdinfo.c`: calls `show` on each mark, newest first, until
    /// `m`'s buffer is full.
    pub(crate) fn show_fdinfo(&self, m: &SeqFile, mut show: impl FnMut(&Mark<T>)) {
        let seq = core::ptr::from_ref(m).cast::<kernel::bindings::seq_file>();
        self.for_each_mark(|mark| {
            show(mark);
            // SAFETY: `SeqFile` is a transparent wrapper of a `struct seq_file` that is alive
            // while borrowed; this is `seq_has_overflowed()`.
            if unsafe { (*seq).count == (*seq).size } {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
    }

    /// Destroys every mark of the group (`fsnotify_clear_marks_by_group()`, which is not
    /// exported); each gets its [`Backend::freeing_mark`]. May sleep.
    ///
    /// A mark that someone else destroys meanwhile leaves the list under the group's mutex, so
    /// this never waits for them.
    pub(crate) fn clear_marks(&self) {
        loop {
            let first = self.with_lock(|| {
                // SAFETY: As in `for_each_mark`: the list is stable under the mutex, which is
                // held, and each mark on it is referenced by the list.
                unsafe {
                    let head = &raw mut (*self.as_ptr()).marks_list;
                    let next = (*head).next;
                    (next != head).then(|| {
                        let mark = Mark::<T>::from_raw(container_of!(
                            next,
                            bindings::fsnotify_mark,
                            g_list
                        ));
                        MarkRef::get(mark)
                    })
                }
            });
            let Some(mark) = first else {
                return;
            };
            mark.destroy();
        }
    }
}

/// An inode mark of a group of backend `T`: a `struct fsnotify_mark` followed by the backend's
/// [`Backend::MarkData`].
///
/// # Invariants
///
/// - `inner` was initialised by `fsnotify_init_mark()` for a [`Group<T>`], and the `Mark<T>` was
///   allocated from [`Backend::mark_cache`] by [`MarkRef::new`] (it is freed by
///   [`OpsTable<T>`]'s `free_mark`).
/// - A `&Mark<T>` exists only while the mark is referenced, or lent by fsnotify to a callback
///   inside its SRCU read section, which keeps its memory alive even when its count has dropped
///   to zero; hence no counted reference can be made from a `&Mark<T>` (see [`MarkRef`]).
#[repr(C)]
#[pin_data]
pub(crate) struct Mark<T: Backend> {
    #[pin]
    inner: Opaque<bindings::fsnotify_mark>,
    data: T::MarkData,
}

// SAFETY: Marks are reference-counted, their C state is under fsnotify's locks, and the
// backend's part is `Send + Sync`.
unsafe impl<T: Backend> Send for Mark<T> {}
// SAFETY: As above.
unsafe impl<T: Backend> Sync for Mark<T> {}

/// A counted reference to a [`Mark<T>`].
///
/// # Invariants
///
/// `self.0` points to a live [`Mark<T>`], and this object owns one of its references.
pub(crate) struct MarkRef<T: Backend>(NonNull<Mark<T>>);

// SAFETY: A reference may be dropped on any thread (`fsnotify_put_mark()` is thread-safe), and
// `Mark<T>` is `Sync`.
unsafe impl<T: Backend> Send for MarkRef<T> {}
// SAFETY: Shared, it only gives out `&Mark<T>`, and `Mark<T>` is `Sync`.
unsafe impl<T: Backend> Sync for MarkRef<T> {}

impl<T: Backend> MarkRef<T> {
    /// Creates a mark of `group`, not yet attached, with the fsnotify `mask`, the mark `flags`
    /// (`MARK_FLAG_*`) and the backend's `data` (`fsnotify_init_mark()`).
    ///
    /// The mark comes from the backend's [`Backend::mark_cache`], charged to the current memory
    /// cgroup, as upstream's from `inotify_inode_mark_cachep`.
    pub(crate) fn new(group: &Group<T>, mask: u32, flags: u32, data: T::MarkData) -> Result<Self> {
        let slot = T::mark_cache().alloc(Gfp::KernelAccount)?;
        let init = pin_init!(Mark::<T> {
            // SAFETY: `slot` is valid for writing, and the group is alive; the mark takes its
            // own reference to it.
            inner <- Opaque::ffi_init(|slot| unsafe {
                bindings::fsnotify_init_mark(slot, group.as_ptr());
                (*slot).mask = mask;
                (*slot).flags = flags;
            }),
            data,
        });
        // SAFETY: `slot` is memory for a `Mark<T>`, unused; the mark is never moved from it:
        // `free_mark` drops it in place and frees it.
        unsafe { pin_init::raw_init(slot.as_ptr(), init) };
        // SAFETY: `fsnotify_init_mark()` gave the mark one reference, which is now ours.
        // INVARIANT: The mark was initialised for a group of `T` and comes from the backend's
        // mark cache.
        Ok(unsafe { Self::from_raw(slot.cast()) })
    }

    /// Takes over a reference to the mark at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to the `struct fsnotify_mark` of a [`Mark<T>`], and the caller gives
    /// this object one reference it owns.
    unsafe fn from_raw(ptr: NonNull<bindings::fsnotify_mark>) -> Self {
        // INVARIANT: The caller's promise; the C mark's address is the `Mark<T>`'s.
        Self(ptr.cast())
    }

    /// Takes a new reference to `mark` (`fsnotify_get_mark()`, which is not exported).
    ///
    /// # Safety
    ///
    /// The count must not be zero: the caller holds a reference, or the group's mark mutex with
    /// the mark on the group's list (which holds one).
    unsafe fn get(mark: &Mark<T>) -> Self {
        // SAFETY: The mark is alive and its count is not zero, so this cannot revive it.
        unsafe { kernel::bindings::refcount_inc(&raw mut (*mark.as_ptr()).refcnt) };
        // INVARIANT: The reference taken just above.
        Self(NonNull::from(mark))
    }
}

impl<T: Backend> Clone for MarkRef<T> {
    fn clone(&self) -> Self {
        // SAFETY: `self` holds a reference, by the type invariant.
        unsafe { Self::get(self) }
    }
}

impl<T: Backend> Drop for MarkRef<T> {
    fn drop(&mut self) {
        // SAFETY: This object owns one reference, by the type invariant; it is given up once.
        unsafe { bindings::fsnotify_put_mark(self.0.as_ptr().cast()) }
    }
}

impl<T: Backend> core::ops::Deref for MarkRef<T> {
    type Target = Mark<T>;

    fn deref(&self) -> &Mark<T> {
        // SAFETY: The reference keeps the mark alive for as long as `self` is borrowed.
        unsafe { self.0.as_ref() }
    }
}

impl<T: Backend> Mark<T> {
    /// Borrows the mark behind a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to the `struct fsnotify_mark` of a [`Mark<T>`] that stays referenced (or
    /// lent by fsnotify) for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::fsnotify_mark) -> &'a Self {
        // SAFETY: `inner` is the first field of the `repr(C)` struct, so the C mark's address is
        // the `Mark<T>`'s; validity is the caller's promise.
        unsafe { &*ptr.cast() }
    }

    /// The C mark.
    fn as_ptr(&self) -> *mut bindings::fsnotify_mark {
        self.inner.get()
    }

    /// The backend's part of the mark.
    pub(crate) fn data(&self) -> &T::MarkData {
        &self.data
    }

    /// The group the mark belongs to.
    pub(crate) fn group(&self) -> &Group<T> {
        // SAFETY: `group` is set by `fsnotify_init_mark()` and stable until the mark's last
        // reference is dropped, and the mark holds a reference to its group until then.
        unsafe { Group::from_raw((*self.as_ptr()).group) }
    }

    /// The fsnotify mask of the events the mark wants (`READ_ONCE(mark->mask)`).
    pub(crate) fn mask(&self) -> u32 {
        // SAFETY: The mark is alive; writers hold `mark->lock`, and a volatile read is
        // `READ_ONCE()`.
        unsafe { (&raw const (*self.as_ptr()).mask).read_volatile() }
    }

    /// The mark's flags (`MARK_FLAG_*`; `READ_ONCE(mark->flags)`).
    pub(crate) fn flags(&self) -> u32 {
        // SAFETY: As in `mask`.
        unsafe { (&raw const (*self.as_ptr()).flags).read_volatile() }
    }

    /// Replaces the flags in `which` with those of `flags`, then the mask with `mask`, and
    /// recalculates the inode's interest.
    ///
    /// Upstream's inotify sets both in one `mark->lock` section; here the flags are set in one
    /// and the mask in `fsnotify_modify_mark_mask()`'s own (`fsnotify_recalc_mask()` is not
    /// exported), so that an event racing with the update may see the new flags with the old
    /// mask.
    pub(crate) fn update(&self, mask: u32, flags: u32, which: u32) {
        let mark = self.as_ptr();
        // SAFETY: The mark is alive; its flags and mask are written under its lock.
        let old = unsafe {
            kernel::bindings::spin_lock(&raw mut (*mark).lock);
            (*mark).flags = ((*mark).flags & !which) | (flags & which);
            let old = (*mark).mask;
            kernel::bindings::spin_unlock(&raw mut (*mark).lock);
            old
        };
        // SAFETY: The mark is alive; the call takes the mark's lock, then its connector's.
        unsafe { bindings::fsnotify_modify_mark_mask(mark, mask & !old, old & !mask) }
    }

    /// Attaches the mark to `inode` (`fsnotify_add_mark()`).
    pub(crate) fn attach(&self, inode: &Inode) -> Result {
        // SAFETY: The mark is alive and not attached; the inode is alive while borrowed.
        bindings::to_result(unsafe {
            bindings::fsnotify_add_mark(
                self.as_ptr(),
                inode.as_ptr().cast(),
                bindings::FSNOTIFY_OBJ_TYPE_INODE,
                0,
            )
        })
    }

    /// Destroys the mark (`fsnotify_destroy_mark()`): detaches it and, the first time only,
    /// calls the backend's [`Backend::freeing_mark`]. May sleep.
    pub(crate) fn destroy(&self) {
        // SAFETY: The mark is alive across the call: `&self` is either referenced or lent by
        // fsnotify to a callback inside its SRCU read section, which is how upstream's
        // `inotify_handle_inode_event()` destroys a one-shot mark too.
        unsafe { bindings::fsnotify_destroy_mark(self.as_ptr(), (*self.as_ptr()).group) }
    }

    /// What fdinfo shows of the mark's inode, or `None` if the mark is not on an inode or the
    /// inode is going away (`inotify_fdinfo()` and `show_mark_fhandle()` of `fs/notify/fdinfo.c`).
    pub(crate) fn inode_info(&self) -> Option<MarkInode> {
        // SAFETY: The mark is alive; its connector is stable while it is on the group's list,
        // under the group's mutex, as `show_fdinfo()` holds it, and it holds the inode it points
        // to, which `igrab()` then pins.
        let inode = unsafe {
            let conn = (*self.as_ptr()).connector;
            if conn.is_null() || u32::from((*conn).type_) != bindings::FSNOTIFY_OBJ_TYPE_INODE {
                return None;
            }
            // `fsnotify_conn_inode()` of fs/notify/fsnotify.h, which is internal.
            kernel::bindings::igrab((*conn).__bindgen_anon_1.obj.cast())
        };
        if inode.is_null() {
            return None;
        }
        // SAFETY: `igrab()` gave us a reference to the inode, dropped below.
        let info = unsafe {
            MarkInode {
                ino: (*inode).i_ino,
                sdev: (*(*inode).i_sb).s_dev,
                fhandle: FileHandle::encode(inode),
            }
        };
        // SAFETY: The reference from `igrab()` above.
        unsafe { kernel::bindings::iput(inode) };
        Some(info)
    }
}

/// What `fs/notify/fdinfo.c` shows of the inode a mark is on.
pub(crate) struct MarkInode {
    /// The inode number.
    pub(crate) ino: u64,
    /// The superblock's kernel `dev_t`.
    pub(crate) sdev: u32,
    /// The inode's file handle, if its filesystem could encode one.
    pub(crate) fhandle: Option<FileHandle>,
}

/// A file handle (`struct file_handle`'s type and bytes), as `exportfs_encode_fid()` makes it.
pub(crate) struct FileHandle {
    /// `handle_type`.
    pub(crate) handle_type: i32,
    /// The handle's length in bytes.
    len: usize,
    /// `f_handle`, `MAX_HANDLE_SZ` bytes at most.
    bytes: [u8; 128],
}

impl FileHandle {
    /// The handle's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    /// Encodes `inode`'s handle (`show_mark_fhandle()`); `None` if the filesystem cannot, or is
    /// being unmounted.
    ///
    /// # Safety
    ///
    /// `inode` must be a referenced inode.
    #[cfg(CONFIG_EXPORTFS)]
    unsafe fn encode(inode: *mut kernel::bindings::inode) -> Option<Self> {
        // SAFETY: The inode is referenced, so its superblock is alive.
        let sb = unsafe { (*inode).i_sb };
        // SAFETY: The superblock is alive.
        if !unsafe { super_trylock_shared(sb) } {
            return None;
        }
        let mut fh = Self {
            handle_type: -1,
            len: 0,
            bytes: [0; 128],
        };
        // CAST: 128 / 4 fits an `int`.
        let mut size = (fh.bytes.len() / 4) as c_int;
        // SAFETY: The inode is referenced and its superblock is read-locked; `bytes` has room
        // for `size` 32-bit words; `exportfs_encode_fid()` is this call.
        let ret = unsafe {
            bindings::exportfs_encode_inode_fh(
                inode,
                fh.bytes.as_mut_ptr().cast(),
                &mut size,
                core::ptr::null_mut(),
                bindings::EXPORT_FH_FID as c_int,
            )
        };
        // SAFETY: `super_trylock_shared()` took it.
        unsafe { kernel::bindings::up_read(&raw mut (*sb).s_umount) };
        if ret == bindings::FILEID_INVALID || ret < 0 {
            return None;
        }
        fh.handle_type = ret;
        // CAST: `size` is at most the 32 words offered, and not negative.
        fh.len = (size as usize * 4).min(fh.bytes.len());
        Some(fh)
    }

    /// Without `CONFIG_EXPORTFS`, no inode has a handle.
    ///
    /// # Safety
    ///
    /// None; the signature is the one with `CONFIG_EXPORTFS`.
    #[cfg(not(CONFIG_EXPORTFS))]
    unsafe fn encode(_inode: *mut kernel::bindings::inode) -> Option<Self> {
        None
    }
}

/// `super_trylock_shared()` of `fs/super.c`, which is not exported: read-locks `s_umount` of a
/// superblock that is live.
///
/// # Safety
///
/// `sb` must be a live superblock.
#[cfg(CONFIG_EXPORTFS)]
unsafe fn super_trylock_shared(sb: *mut kernel::bindings::super_block) -> bool {
    // SAFETY: The superblock is alive.
    unsafe {
        if kernel::bindings::down_read_trylock(&raw mut (*sb).s_umount) == 0 {
            return false;
        }
        let flags = (*sb).s_flags;
        if flags & bindings::SB_DYING == 0
            && !(*sb).s_root.is_null()
            && flags & bindings::SB_BORN != 0
        {
            return true;
        }
        kernel::bindings::up_read(&raw mut (*sb).s_umount);
    }
    false
}

/// The `struct fsnotify_ops` of backend `T`.
struct OpsTable<T: Backend>(PhantomData<T>);

impl<T: Backend> OpsTable<T> {
    /// `handle_inode_event`.
    ///
    /// # Safety
    ///
    /// Called by fsnotify only, with a mark of a group of `T` that it holds for the call, and a
    /// name that is null or valid for the call.
    unsafe extern "C" fn handle_inode_event(
        mark: *mut bindings::fsnotify_mark,
        mask: u32,
        _inode: *mut kernel::bindings::inode,
        _dir: *mut kernel::bindings::inode,
        name: *const kernel::bindings::qstr,
        cookie: u32,
    ) -> c_int {
        // SAFETY: fsnotify holds the mark (SRCU) across the call.
        let mark = unsafe { Mark::<T>::from_raw(mark) };
        let group = mark.group();
        // SAFETY: A name, when there is one, is a `qstr` of `len` bytes at `name`.
        let name = (!name.is_null()).then(|| unsafe {
            let len = (*name).__bindgen_anon_1.__bindgen_anon_1.len;
            core::slice::from_raw_parts((*name).name, len as usize)
        });
        match T::handle_inode_event(group.data(), mark, mask, name, cookie) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// `freeing_mark`.
    ///
    /// # Safety
    ///
    /// Called by fsnotify only, with a mark of `group`, a group of `T`, both held for the call.
    unsafe extern "C" fn freeing_mark(
        mark: *mut bindings::fsnotify_mark,
        group: *mut bindings::fsnotify_group,
    ) {
        // SAFETY: fsnotify holds both across the call.
        let (mark, group) = unsafe { (Mark::<T>::from_raw(mark), Group::<T>::from_raw(group)) };
        T::freeing_mark(group.data(), mark);
    }

    /// `free_group_priv`: the group's last reference is gone.
    ///
    /// # Safety
    ///
    /// Called by fsnotify only, once, for a group of `T`.
    unsafe extern "C" fn free_group_priv(group: *mut bindings::fsnotify_group) {
        // SAFETY: The private data came from `KBox::into_raw` of a pinned box in `Group::new`,
        // and this is the group's last use of it.
        let data = unsafe { KBox::from_raw((*group_private(group)).cast::<T>()) };
        // SAFETY: It was pinned before `Group::new` took it out of its `Pin`.
        T::free_group_priv(unsafe { Pin::new_unchecked(data) });
        group_freed();
    }

    /// `free_mark`: the mark's last reference is gone.
    ///
    /// # Safety
    ///
    /// Called by fsnotify only, once, for a mark of a group of `T`.
    unsafe extern "C" fn free_mark(mark: *mut bindings::fsnotify_mark) {
        let mark = mark.cast::<Mark<T>>();
        // SAFETY: By the type invariant of `Mark<T>`, the mark was allocated from the backend's
        // mark cache, at the C mark's address, and initialised; nothing uses it any more. It
        // is dropped once, then given back.
        unsafe {
            core::ptr::drop_in_place(mark);
            T::mark_cache().free(NonNull::new_unchecked(mark));
        }
    }

    const OPS: bindings::fsnotify_ops = bindings::fsnotify_ops {
        handle_event: None,
        handle_inode_event: Some(Self::handle_inode_event),
        free_group_priv: Some(Self::free_group_priv),
        freeing_mark: Some(Self::freeing_mark),
        free_event: None,
        free_mark: Some(Self::free_mark),
    };

    /// The table, as a constant that lives as long as the module.
    const fn build() -> &'static bindings::fsnotify_ops {
        &Self::OPS
    }
}
