// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! The one Rust file that talks to C: glue.c's thin calls and `kernel::bindings`, behind a safe
//! API shaped like the fsnotify abstraction that would go upstream.
//!
//! C header: [`glue.h`](../glue.h). 7.3's `kernel::bindings` do not cover `fsnotify_backend.h`
//! or `namei.h`, so glue.c holds the `file_operations` and `fsnotify_ops` tables, the mark's
//! layout and thin calls; every entry point that C calls is defined here and forwards to safe
//! code in `inotify_user.rs` and `inotify_fsnotify.rs`. Nothing else in the module uses
//! `bindings::`, and the only other `unsafe` is the one-time initialisation of a
//! `global_lock!` in `ucounts.rs`.
//!
//! The objects:
//! - [`Group`]: an fsnotify group (`struct fsnotify_group`); its private data is the instance.
//! - [`Mark`]: an inode mark (`struct fsnotify_mark` inside glue.c's `struct rust_inotify_mark`),
//!   reference-counted, so that [`ARef<Mark>`] is a counted reference as `fsnotify_get_mark()`
//!   and `fsnotify_put_mark()` keep it.
//! - [`Path`]: a looked-up path (`struct path`), holding its references until dropped.
//! - [`Inode`]: an inode borrowed from a [`Path`].

use core::{
    pin::Pin,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    error::{
        from_result,
        to_result, //
    },
    fs::File,
    prelude::*,
    seq_file::SeqFile,
    sync::aref::{
        ARef,
        AlwaysRefCounted, //
    },
    sync::poll::PollTable,
    types::Opaque,
    uaccess::{
        UserPtr,
        UserSlice, //
    }, //
};

use crate::inotify_user::Instance;

/// The C declarations of glue.h.
mod ffi {
    use core::marker::{
        PhantomData,
        PhantomPinned, //
    };
    use kernel::prelude::*;

    /// Declares C structs that Rust only handles by pointer (the Nomicon's opaque struct).
    macro_rules! opaque {
        ($($(#[$doc:meta])* $name:ident;)*) => {$(
            $(#[$doc])*
            #[repr(C)]
            pub(super) struct $name {
                _data: [u8; 0],
                _marker: PhantomData<(*mut u8, PhantomPinned)>,
            }
        )*};
    }

    opaque! {
        /// `struct fsnotify_group`: its layout is glue.c's business.
        FsnotifyGroup;
        /// `struct fsnotify_mark`.
        FsnotifyMark;
        /// `struct inode`, opaque here: `bindings::inode` holds types that are not FFI-safe.
        Inode;
        /// `struct path`, opaque here for the same reason.
        Path;
        /// `struct idr`.
        CIdr;
        /// `struct seq_file`, for the same reason as `Inode`.
        SeqFile;
    }

    /// `struct rust_inotify_mark_info` of glue.h.
    #[repr(C)]
    pub(super) struct MarkInfo {
        pub(super) ino: u64,
        pub(super) sdev: u32,
        pub(super) wd: i32,
        pub(super) mask: u32,
        pub(super) in_flags: u32,
        pub(super) fh_type: i32,
        pub(super) fh_bytes: u32,
        pub(super) fh: [u8; 128],
    }

    extern "C" {
        pub(super) fn rust_inotify_max_user_instances() -> c_uint;
        pub(super) fn rust_inotify_max_user_watches() -> c_uint;
        pub(super) fn rust_inotify_max_queued_events() -> c_uint;
        pub(super) fn rust_inotify_misc_register() -> c_int;
        pub(super) fn rust_inotify_misc_deregister();
        pub(super) fn rust_inotify_group_new(private: *mut c_void) -> *mut FsnotifyGroup;
        pub(super) fn rust_inotify_group_put(group: *mut FsnotifyGroup);
        pub(super) fn rust_inotify_group_private(group: *mut FsnotifyGroup) -> *mut c_void;
        pub(super) fn rust_inotify_group_kill_fasync(group: *mut FsnotifyGroup);
        pub(super) fn rust_inotify_for_each_mark(
            group: *mut FsnotifyGroup,
            m: *mut SeqFile,
            cb: unsafe extern "C" fn(ctx: *mut c_void, mark: *mut FsnotifyMark),
            ctx: *mut c_void,
        );
        pub(super) fn rust_inotify_wait_marks_destroyed();
        pub(super) fn rust_inotify_wait_groups_freed();
        pub(super) fn rust_inotify_clear_marks(group: *mut FsnotifyGroup);
        pub(super) fn rust_inotify_mark_new(
            group: *mut FsnotifyGroup,
            mask: u32,
            in_flags: u32,
        ) -> *mut FsnotifyMark;
        pub(super) fn rust_inotify_mark_group(mark: *mut FsnotifyMark) -> *mut FsnotifyGroup;
        pub(super) fn rust_inotify_mark_wd(mark: *mut FsnotifyMark) -> c_int;
        pub(super) fn rust_inotify_mark_set_wd(mark: *mut FsnotifyMark, wd: c_int);
        pub(super) fn rust_inotify_mark_mask(mark: *mut FsnotifyMark) -> u32;
        pub(super) fn rust_inotify_mark_in_flags(mark: *mut FsnotifyMark) -> u32;
        pub(super) fn rust_inotify_mark_update(mark: *mut FsnotifyMark, mask: u32, in_flags: u32);
        pub(super) fn rust_inotify_mark_attach(mark: *mut FsnotifyMark, inode: *mut Inode)
            -> c_int;
        pub(super) fn rust_inotify_mark_find(
            group: *mut FsnotifyGroup,
            inode: *mut Inode,
        ) -> *mut FsnotifyMark;
        pub(super) fn rust_inotify_mark_get(mark: *mut FsnotifyMark);
        pub(super) fn rust_inotify_mark_put(mark: *mut FsnotifyMark);
        pub(super) fn rust_inotify_mark_destroy(mark: *mut FsnotifyMark);
        pub(super) fn rust_inotify_mark_info(mark: *mut FsnotifyMark, info: *mut MarkInfo)
            -> c_int;
        pub(super) fn rust_inotify_path_lookup(
            dfd: c_int,
            pathname: *const c_char,
            mask: u32,
            path: *mut Path,
        ) -> c_int;
        pub(super) fn rust_inotify_path_put(path: *mut Path);
        pub(super) fn rust_inotify_path_inode(path: *const Path) -> *mut Inode;
        pub(super) fn rust_inotify_inode_is_dir(inode: *const Inode) -> bool;
        pub(super) fn rust_inotify_c_idr_new() -> *mut CIdr;
        pub(super) fn rust_inotify_c_idr_alloc_cyclic(idr: *mut CIdr, ptr: *mut c_void) -> c_int;
        pub(super) fn rust_inotify_c_idr_set_cursor(idr: *mut CIdr, next: c_uint);
        pub(super) fn rust_inotify_c_idr_free(idr: *mut CIdr);
    }
}

/// The limits, read at the moment of use, as upstream reads its sysctls.
pub(crate) mod limits {
    use super::ffi;

    /// `fs.inotify.max_user_instances`: instances one user may have open.
    pub(crate) fn max_user_instances() -> u32 {
        // SAFETY: A plain read of a module parameter; no precondition.
        unsafe { ffi::rust_inotify_max_user_instances() }
    }

    /// `fs.inotify.max_user_watches`: watches one user may have.
    pub(crate) fn max_user_watches() -> u32 {
        // SAFETY: A plain read of a module parameter; no precondition.
        unsafe { ffi::rust_inotify_max_user_watches() }
    }

    /// `fs.inotify.max_queued_events`: events an instance may queue, sampled at open.
    pub(crate) fn max_queued_events() -> u32 {
        // SAFETY: A plain read of a module parameter; no precondition.
        unsafe { ffi::rust_inotify_max_queued_events() }
    }
}

/// The registration of the misc device `/dev/rust_inotify`.
///
/// Dropping it deregisters the device, waits until every group is freed (a group's last
/// reference can be dropped by fsnotify's mark reaper after its file is closed), then until the
/// reaper is idle, so that no fsnotify callback runs into the module's code after it is
/// unloaded.
pub(crate) struct MiscRegistration(());

impl MiscRegistration {
    /// Registers `/dev/rust_inotify`.
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: Called once, from module init; glue.c's miscdevice is static.
        to_result(unsafe { ffi::rust_inotify_misc_register() })?;
        Ok(Self(()))
    }
}

impl Drop for MiscRegistration {
    fn drop(&mut self) {
        // SAFETY: The device was registered in `register`, and is deregistered once, here.
        unsafe { ffi::rust_inotify_misc_deregister() };
        // SAFETY: No precondition; module exit is process context.
        unsafe { ffi::rust_inotify_wait_groups_freed() };
        wait_marks_destroyed();
    }
}

/// Waits until every mark that is being destroyed has been freed (`fsnotify_wait_marks_destroyed`).
pub(crate) fn wait_marks_destroyed() {
    // SAFETY: No precondition; it sleeps, and callers are in process context.
    unsafe { ffi::rust_inotify_wait_marks_destroyed() }
}

/// An fsnotify group whose private data is an [`Instance`].
///
/// # Invariants
///
/// The wrapped group is alive, was created by [`Group::create`], and its private data points to a
/// pinned [`Instance`] that lives as long as the group.
#[repr(transparent)]
pub(crate) struct Group(Opaque<ffi::FsnotifyGroup>);

// SAFETY: The group's state is protected by its own locks; the fsnotify API is thread-safe.
unsafe impl Send for Group {}
// SAFETY: As above: every operation on a shared group is serialised by fsnotify or the instance.
unsafe impl Sync for Group {}

impl Group {
    /// Creates a group owning `instance`; returns it with the one reference the file keeps.
    fn create(instance: Pin<KBox<Instance>>) -> Result<*mut ffi::FsnotifyGroup> {
        // SAFETY: The instance is never moved out of its box: it is only borrowed through the
        // group's private pointer and dropped in place by `rust_inotify_free_group_priv`.
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(instance) });
        // SAFETY: `raw` is a valid pointer that the group will own.
        let group = unsafe { ffi::rust_inotify_group_new(raw.cast()) };
        if let Err(e) = kernel::error::from_err_ptr(group) {
            // SAFETY: The group was not created, so `raw` is still ours, from `KBox::into_raw`.
            drop(unsafe { KBox::from_raw(raw) });
            return Err(e);
        }
        Ok(group)
    }

    /// Borrows the group behind a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a group created by [`Group::create`] that stays alive for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut ffi::FsnotifyGroup) -> &'a Self {
        // SAFETY: `Group` is transparent over the C struct; validity is the caller's promise.
        unsafe { &*ptr.cast() }
    }

    /// The C group.
    fn as_ptr(&self) -> *mut ffi::FsnotifyGroup {
        self.0.get()
    }

    /// The instance this group belongs to.
    pub(crate) fn instance(&self) -> &Instance {
        // SAFETY: By the type invariant, the private data is a live `Instance` for as long as the
        // group lives, which is at least as long as `self` is borrowed.
        unsafe { &*ffi::rust_inotify_group_private(self.as_ptr()).cast::<Instance>() }
    }

    /// Sends SIGIO to the owners of `O_ASYNC` files (`kill_fasync` on the group's list).
    pub(crate) fn kill_fasync(&self) {
        // SAFETY: The group is alive by the type invariant.
        unsafe { ffi::rust_inotify_group_kill_fasync(self.as_ptr()) }
    }

    /// Finds this group's mark on `inode`, if any (`fsnotify_find_mark`).
    pub(crate) fn find_mark(&self, inode: &Inode) -> Option<ARef<Mark>> {
        // SAFETY: The group is alive, and the inode is held by the path it was borrowed from.
        let mark = unsafe { ffi::rust_inotify_mark_find(self.as_ptr(), inode.as_ptr()) };
        // SAFETY: `fsnotify_find_mark` returned a reference that is now ours.
        NonNull::new(mark).map(|m| unsafe { ARef::from_raw(m.cast()) })
    }

    /// Creates a mark for this group, not yet attached (`fsnotify_init_mark`).
    pub(crate) fn new_mark(&self, mask: u32, in_flags: u32) -> Result<ARef<Mark>> {
        // SAFETY: The group is alive; the new mark takes its own reference to it.
        let mark = unsafe { ffi::rust_inotify_mark_new(self.as_ptr(), mask, in_flags) };
        // SAFETY: A new mark starts with one reference, which is now ours.
        NonNull::new(mark)
            .map(|m| unsafe { ARef::from_raw(m.cast()) })
            .ok_or(ENOMEM)
    }

    /// Destroys every mark of the group (`fsnotify_clear_marks_by_group`); each gets its
    /// `freeing_mark`. May sleep.
    pub(crate) fn clear_marks(&self) {
        // SAFETY: The group is alive by the type invariant; callers are in process context.
        unsafe { ffi::rust_inotify_clear_marks(self.as_ptr()) }
    }

    /// Calls `f` on each of the group's marks, newest first, under the group's mark lock, until
    /// `seq`'s buffer is full (`show_fdinfo` of `fs/notify/fdinfo.c`).
    pub(crate) fn for_each_mark<F: FnMut(&Mark)>(&self, seq: &SeqFile, mut f: F) {
        /// Calls the closure behind `ctx` on one mark.
        ///
        /// # Safety
        ///
        /// `ctx` must point to an `F`, and `mark` to a mark of the group, both alive for the call.
        unsafe extern "C" fn trampoline<F: FnMut(&Mark)>(
            ctx: *mut c_void,
            mark: *mut ffi::FsnotifyMark,
        ) {
            // SAFETY: `ctx` is the `&mut F` passed below, alive for the whole call.
            let f = unsafe { &mut *ctx.cast::<F>() };
            // SAFETY: The mark is on the group's list, under the group's lock, for this call.
            f(unsafe { Mark::from_raw(mark) });
        }
        let seq = core::ptr::from_ref(seq).cast_mut().cast::<ffi::SeqFile>();
        // SAFETY: The group is alive; `SeqFile` is a transparent wrapper of the live `seq_file`
        // passed to `show_fdinfo`; `trampoline::<F>` matches what `ctx` points to.
        unsafe {
            ffi::rust_inotify_for_each_mark(
                self.as_ptr(),
                seq,
                trampoline::<F>,
                core::ptr::from_mut(&mut f).cast(),
            )
        }
    }
}

/// An fsnotify inode mark of this module.
///
/// # Invariants
///
/// The wrapped mark was created by glue.c (`rust_inotify_mark_new`), and while a `&Mark` exists
/// it is either counted (the borrow comes from an [`ARef<Mark>`]) or lent by fsnotify to a
/// callback inside its SRCU read section, which keeps its memory alive.
#[repr(transparent)]
pub(crate) struct Mark(Opaque<ffi::FsnotifyMark>);

// SAFETY: Marks are reference-counted and their mutable state is under their own lock.
unsafe impl Send for Mark {}
// SAFETY: As above.
unsafe impl Sync for Mark {}

// SAFETY: `inc_ref` and `dec_ref` are `fsnotify_get_mark` and `fsnotify_put_mark`; the mark is
// freed (glue.c `glue_free_mark`) only when the count reaches zero.
unsafe impl AlwaysRefCounted for Mark {
    fn inc_ref(&self) {
        // SAFETY: The count is non-zero: this module only takes new references from counted
        // ones (`ARef::clone`), never from a mark fsnotify lends to a callback.
        unsafe { ffi::rust_inotify_mark_get(self.as_ptr()) }
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up one reference it owns.
        unsafe { ffi::rust_inotify_mark_put(obj.as_ptr().cast()) }
    }
}

impl Mark {
    /// Borrows the mark behind a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a mark created by glue.c that stays referenced for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut ffi::FsnotifyMark) -> &'a Self {
        // SAFETY: `Mark` is transparent over the C struct; validity is the caller's promise.
        unsafe { &*ptr.cast() }
    }

    /// The C mark.
    fn as_ptr(&self) -> *mut ffi::FsnotifyMark {
        self.0.get()
    }

    /// The group the mark belongs to.
    pub(crate) fn group(&self) -> &Group {
        // SAFETY: A mark holds a reference to its group until it is freed, and it is alive.
        unsafe { Group::from_raw(ffi::rust_inotify_mark_group(self.as_ptr())) }
    }

    /// The mark's watch descriptor, or -1 while it is not (or no longer) in the wd table.
    pub(crate) fn wd(&self) -> i32 {
        // SAFETY: The mark is alive.
        unsafe { ffi::rust_inotify_mark_wd(self.as_ptr()) }
    }

    /// Sets the mark's watch descriptor (-1: detached from the wd table).
    pub(crate) fn set_wd(&self, wd: i32) {
        // SAFETY: The mark is alive; the write is a WRITE_ONCE.
        unsafe { ffi::rust_inotify_mark_set_wd(self.as_ptr(), wd) }
    }

    /// The fsnotify mask of events the mark wants.
    pub(crate) fn mask(&self) -> u32 {
        // SAFETY: The mark is alive.
        unsafe { ffi::rust_inotify_mark_mask(self.as_ptr()) }
    }

    /// `IN_ONESHOT` and `IN_EXCL_UNLINK`, as set on the mark.
    pub(crate) fn in_flags(&self) -> u32 {
        // SAFETY: The mark is alive.
        unsafe { ffi::rust_inotify_mark_in_flags(self.as_ptr()) }
    }

    /// Replaces the mark's mask and `IN_ONESHOT`/`IN_EXCL_UNLINK` flags, then recalculates the
    /// inode's interest.
    ///
    /// Upstream sets both in one `mark->lock` section; here the flags are set in one and the
    /// mask in `fsnotify_modify_mark_mask()`'s own (`fsnotify_recalc_mask()` is not exported),
    /// so an event racing with the update may see the new flags with the old mask.
    pub(crate) fn update(&self, mask: u32, in_flags: u32) {
        // SAFETY: The mark is alive; the update takes the mark's lock, then its connector's.
        unsafe { ffi::rust_inotify_mark_update(self.as_ptr(), mask, in_flags) }
    }

    /// Attaches the mark to `inode` (`fsnotify_add_mark`).
    pub(crate) fn attach(&self, inode: &Inode) -> Result {
        // SAFETY: The mark is alive and not attached; the inode is held by its path.
        to_result(unsafe { ffi::rust_inotify_mark_attach(self.as_ptr(), inode.as_ptr()) })
    }

    /// Destroys the mark (`fsnotify_destroy_mark`): detaches it and, the first time only, calls
    /// the instance's `freeing_mark`. May sleep.
    pub(crate) fn destroy(&self) {
        // SAFETY: The mark is alive across the call: `&self` is either a counted reference or
        // one fsnotify lends to a callback inside its SRCU read section, which is how upstream's
        // `inotify_handle_inode_event` destroys a one-shot mark too.
        unsafe { ffi::rust_inotify_mark_destroy(self.as_ptr()) }
    }

    /// What fdinfo shows of the mark, or `None` if its inode is going away.
    pub(crate) fn info(&self) -> Option<MarkInfo> {
        let mut raw = ffi::MarkInfo {
            ino: 0,
            sdev: 0,
            wd: 0,
            mask: 0,
            in_flags: 0,
            fh_type: -1,
            fh_bytes: 0,
            fh: [0; 128],
        };
        // SAFETY: The mark is alive; `raw` is a valid buffer for the call.
        if unsafe { ffi::rust_inotify_mark_info(self.as_ptr(), &mut raw) } != 0 {
            return None;
        }
        let fh_len = (raw.fh_bytes as usize).min(raw.fh.len());
        Some(MarkInfo {
            wd: raw.wd,
            ino: raw.ino,
            sdev: raw.sdev,
            mask: raw.mask,
            in_flags: raw.in_flags,
            fhandle: (raw.fh_type >= 0).then_some((raw.fh_type, fh_len)),
            fh: raw.fh,
        })
    }
}

/// One watch as fdinfo shows it.
pub(crate) struct MarkInfo {
    /// The watch descriptor.
    pub(crate) wd: i32,
    /// The inode number.
    pub(crate) ino: u64,
    /// The superblock's kernel `dev_t`.
    pub(crate) sdev: u32,
    /// The mark's fsnotify mask.
    pub(crate) mask: u32,
    /// `IN_ONESHOT` and `IN_EXCL_UNLINK`, as set.
    pub(crate) in_flags: u32,
    /// The file handle's type and length in bytes, if the inode could be encoded.
    pub(crate) fhandle: Option<(i32, usize)>,
    /// The file handle's bytes.
    pub(crate) fh: [u8; 128],
}

/// A looked-up path; its references are dropped with it.
pub(crate) struct Path(bindings::path);

impl Path {
    /// The C path.
    fn as_ffi(&self) -> *const ffi::Path {
        core::ptr::from_ref(&self.0).cast()
    }

    /// Looks up `pathname` relative to `dfd` as `inotify_add_watch()` does: `IN_DONT_FOLLOW`
    /// and `IN_ONLYDIR` in `mask` set the lookup flags, and the inode must be readable.
    pub(crate) fn lookup(dfd: i32, pathname: UserPtr, mask: u32) -> Result<Self> {
        let mut path = bindings::path {
            mnt: core::ptr::null_mut(),
            dentry: core::ptr::null_mut(),
        };
        // SAFETY: `pathname` is a user pointer, which `user_path_at` copies with checks;
        // `path` is a valid out-parameter.
        to_result(unsafe {
            ffi::rust_inotify_path_lookup(
                dfd,
                pathname.as_const_ptr().cast(),
                mask,
                core::ptr::from_mut(&mut path).cast(),
            )
        })?;
        Ok(Self(path))
    }

    /// The inode the path leads to.
    pub(crate) fn inode(&self) -> &Inode {
        // SAFETY: A successful lookup holds the dentry, whose inode is positive and stays alive
        // while the path is held.
        unsafe { &*ffi::rust_inotify_path_inode(self.as_ffi()).cast::<Inode>() }
    }
}

impl Drop for Path {
    fn drop(&mut self) {
        // SAFETY: The path holds references from a successful lookup; they are dropped once.
        unsafe { ffi::rust_inotify_path_put(core::ptr::from_mut(&mut self.0).cast()) }
    }
}

/// An inode, borrowed from the [`Path`] that holds it.
#[repr(transparent)]
pub(crate) struct Inode(Opaque<ffi::Inode>);

impl Inode {
    /// The C inode.
    fn as_ptr(&self) -> *mut ffi::Inode {
        self.0.get()
    }

    /// Whether the inode is a directory.
    pub(crate) fn is_dir(&self) -> bool {
        // SAFETY: The inode is alive while borrowed.
        unsafe { ffi::rust_inotify_inode_is_dir(self.as_ptr()) }
    }
}

/// The group stored in a file's private data.
///
/// # Safety
///
/// `file` must be an open `/dev/rust_inotify` file whose `open` succeeded.
unsafe fn file_group<'a>(file: *mut bindings::file) -> &'a Group {
    // SAFETY: `rust_inotify_open` stored a group that lives until `rust_inotify_release`.
    unsafe { Group::from_raw((*file).private_data.cast()) }
}

// ---- file_operations (glue.c `rust_inotify_fops`) ----

/// `open`: one inotify instance per open (`do_inotify_init`).
///
/// # Safety
///
/// Called only by the VFS (via `misc_open`) through glue.c's `rust_inotify_fops`, with a file
/// being opened.
#[no_mangle]
unsafe extern "C" fn rust_inotify_open(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    from_result(|| {
        // SAFETY: The VFS passes a valid file that lives across this call.
        let flags = unsafe { File::from_raw_file(file) }.flags();
        let instance = crate::inotify_user::open(flags)?;
        let group = Group::create(instance)?;
        // SAFETY: The file is being opened; nothing else reads its private data yet.
        unsafe { (*file).private_data = group.cast() };
        Ok(0)
    })
}

/// `release`: the last close (`inotify_release`).
///
/// # Safety
///
/// Called only by the VFS through glue.c's `rust_inotify_fops`, with the arguments it
/// documents for this operation, on a file whose `open` succeeded.
#[no_mangle]
unsafe extern "C" fn rust_inotify_release(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `release` is called once, after a successful open.
    let group = unsafe { file_group(file) };
    crate::inotify_user::release(group);
    // SAFETY: This drops the reference that open gave the file; `group` is not used after it.
    unsafe { ffi::rust_inotify_group_put(group.as_ptr()) };
    0
}

/// `read` (`inotify_read`).
///
/// # Safety
///
/// Called only by the VFS through glue.c's `rust_inotify_fops`, with the arguments it
/// documents for this operation, on a file whose `open` succeeded.
#[no_mangle]
unsafe extern "C" fn rust_inotify_read(
    file: *mut bindings::file,
    buf: *mut c_char,
    count: usize,
    _pos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: The VFS passes an open file, alive across the call.
    let (group, flags) = unsafe { (file_group(file), File::from_raw_file(file).flags()) };
    let writer = UserSlice::new(UserPtr::from_ptr(buf.cast()), count).writer();
    let nonblock = flags & bindings::O_NONBLOCK != 0;
    match crate::inotify_user::read(group.instance(), writer, nonblock) {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `poll` (`inotify_poll`).
///
/// # Safety
///
/// Called only by the VFS through glue.c's `rust_inotify_fops`, with the arguments it
/// documents for this operation, on a file whose `open` succeeded.
#[no_mangle]
unsafe extern "C" fn rust_inotify_poll(
    file: *mut bindings::file,
    wait: *mut bindings::poll_table_struct,
) -> bindings::__poll_t {
    // SAFETY: The VFS passes an open file and a poll table (or null) valid across the call.
    let (group, file, table) = unsafe {
        (
            file_group(file),
            File::from_raw_file(file),
            PollTable::from_raw(wait),
        )
    };
    crate::inotify_user::poll(group.instance(), file, &table)
}

/// `unlocked_ioctl` and `compat_ioctl` (`inotify_ioctl`): the argument is a pointer or a value,
/// the same on both ABIs.
///
/// # Safety
///
/// Called only by the VFS through glue.c's `rust_inotify_fops`, with the arguments it
/// documents for this operation, on a file whose `open` succeeded.
#[no_mangle]
unsafe extern "C" fn rust_inotify_ioctl(
    file: *mut bindings::file,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: The VFS passes an open file, alive across the call.
    let group = unsafe { file_group(file) };
    match crate::inotify_user::ioctl(group, cmd, arg) {
        Ok(v) => v as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}

/// `show_fdinfo` (`inotify_show_fdinfo`).
///
/// # Safety
///
/// Called only by the VFS through glue.c's `rust_inotify_fops`, with the arguments it
/// documents for this operation, on a file whose `open` succeeded.
#[no_mangle]
unsafe extern "C" fn rust_inotify_show_fdinfo(
    m: *mut bindings::seq_file,
    file: *mut bindings::file,
) {
    // SAFETY: procfs passes a live seq_file and an open file, valid across the call.
    let (seq, group) = unsafe { (SeqFile::from_raw(m), file_group(file)) };
    crate::inotify_user::show_fdinfo(group, seq);
}

// ---- fsnotify_ops (glue.c `rust_inotify_fsnotify_ops`) ----

/// `handle_inode_event` (`inotify_handle_inode_event`).
///
/// # Safety
///
/// Called only by fsnotify through glue.c's `rust_inotify_fsnotify_ops`, for a group that
/// [`Group::create`] made and a mark of that group.
#[no_mangle]
unsafe extern "C" fn rust_inotify_handle_inode_event(
    private: *mut c_void,
    mark: *mut ffi::FsnotifyMark,
    mask: u32,
    name: *const u8,
    name_len: u32,
    cookie: u32,
) -> c_int {
    // SAFETY: fsnotify holds the mark (SRCU) across the call, and its group's private data is
    // the instance, alive as long as the group.
    let (instance, mark) = unsafe { (&*private.cast::<Instance>(), Mark::from_raw(mark)) };
    let name = (!name.is_null()).then(|| {
        // SAFETY: fsnotify passes a name of `name_len` bytes, valid across the call.
        unsafe { core::slice::from_raw_parts(name, name_len as usize) }
    });
    match instance.handle_inode_event(mark, mask, name, cookie) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `freeing_mark` (`inotify_freeing_mark`).
///
/// # Safety
///
/// Called only by fsnotify through glue.c's `rust_inotify_fsnotify_ops`, for a group that
/// [`Group::create`] made and a mark of that group.
#[no_mangle]
unsafe extern "C" fn rust_inotify_freeing_mark(private: *mut c_void, mark: *mut ffi::FsnotifyMark) {
    // SAFETY: As in `rust_inotify_handle_inode_event`; fsnotify holds the mark across the call.
    let (instance, mark) = unsafe { (&*private.cast::<Instance>(), Mark::from_raw(mark)) };
    instance.freeing_mark(mark);
}

/// `free_group_priv` (`inotify_free_group_priv`): the group's last reference is gone.
///
/// # Safety
///
/// Called only by fsnotify through glue.c's `rust_inotify_fsnotify_ops`, once, for a group that
/// [`Group::create`] made, when its last reference is dropped.
#[no_mangle]
unsafe extern "C" fn rust_inotify_free_group_priv(private: *mut c_void) {
    // SAFETY: `private` came from `KBox::into_raw` in `Group::create`, and this is the group's
    // last use of it.
    drop(unsafe { KBox::from_raw(private.cast::<Instance>()) });
}

/// The kernel's own IDR (`lib/idr.c`), which the wd allocator's benchmark compares with.
///
/// # Invariants
///
/// `self.0` points to an IDR initialised by glue.c, owned by this object.
pub(crate) struct CIdr(NonNull<ffi::CIdr>);

impl CIdr {
    /// An empty IDR (`idr_init`).
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: No precondition; the result is null or a new IDR that is now ours.
        NonNull::new(unsafe { ffi::rust_inotify_c_idr_new() })
            .map(Self)
            .ok_or(ENOMEM)
    }

    /// `idr_alloc_cyclic(idr, value, 1, 0, GFP_KERNEL)`; the value is never dereferenced.
    pub(crate) fn alloc_cyclic(&mut self, value: &'static u64) -> Result<c_int> {
        let ptr = core::ptr::from_ref(value).cast_mut().cast::<c_void>();
        // SAFETY: The IDR is ours and exclusively borrowed; `ptr` is 8-byte aligned, so the
        // radix tree cannot take it for an internal entry.
        let id = unsafe { ffi::rust_inotify_c_idr_alloc_cyclic(self.0.as_ptr(), ptr) };
        to_result(id)?;
        Ok(id)
    }

    /// `idr_set_cursor`.
    pub(crate) fn set_cursor(&mut self, next: c_uint) {
        // SAFETY: The IDR is ours and exclusively borrowed.
        unsafe { ffi::rust_inotify_c_idr_set_cursor(self.0.as_ptr(), next) }
    }
}

impl Drop for CIdr {
    fn drop(&mut self) {
        // SAFETY: The IDR is ours and is not used after this.
        unsafe { ffi::rust_inotify_c_idr_free(self.0.as_ptr()) }
    }
}
