// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Path lookup: looked-up paths and the inodes they lead to.
//!
//! C header: [`include/linux/namei.h`](srctree/include/linux/namei.h) (`user_path_at()`,
//! `LOOKUP_*`), with `path_permission()` and `path_put()` of
//! [`include/linux/fs.h`](srctree/include/linux/fs.h); and file handles
//! ([`include/linux/exportfs.h`](srctree/include/linux/exportfs.h), `exportfs_decode_fh()`).

use kernel::{
    prelude::*,
    types::Opaque,
    uaccess::UserPtr, //
};

use crate::bindings;

/// `LOOKUP_FOLLOW`: follow a symbolic link at the end of the path.
pub(crate) const LOOKUP_FOLLOW: u32 = bindings::LOOKUP_FOLLOW;
/// `LOOKUP_DIRECTORY`: the path must lead to a directory.
pub(crate) const LOOKUP_DIRECTORY: u32 = bindings::LOOKUP_DIRECTORY;
/// `MAY_READ`: permission to read, for [`Path::permission`].
pub(crate) const MAY_READ: i32 = kernel::bindings::MAY_READ as i32;

/// A looked-up path (`struct path`); its references are dropped with it.
///
/// # Invariants
///
/// The path holds a reference to its mount and to its dentry, which is positive.
pub(crate) struct Path(kernel::bindings::path);

impl Path {
    /// Looks up the user string `pathname`, relative to `dfd` unless absolute, with the
    /// `LOOKUP_*` `flags` (`user_path_at()`).
    pub(crate) fn user_path_at(dfd: i32, pathname: UserPtr, flags: u32) -> Result<Self> {
        let mut path = kernel::bindings::path {
            mnt: core::ptr::null_mut(),
            dentry: core::ptr::null_mut(),
        };
        // SAFETY: `pathname` is a user pointer, which `user_path_at()` copies with checks;
        // `path` is a valid out-parameter.
        bindings::to_result(unsafe {
            bindings::user_path_at(dfd, pathname.as_const_ptr().cast(), flags, &mut path)
        })?;
        // INVARIANT: A successful lookup gives a positive path with both references.
        Ok(Self(path))
    }

    /// The path of the file that `fd` refers to in the current task; `O_PATH` files too
    /// (`fget_raw()`, as a lookup of `""` with `AT_EMPTY_PATH` would find it). `EBADF` if `fd`
    /// is not open.
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    pub(crate) fn from_fd(fd: i32) -> Result<Self> {
        let fd = u32::try_from(fd).map_err(|_| EBADF)?;
        // SAFETY: `fget_raw()` takes any number and returns a referenced file or NULL.
        let file = unsafe { kernel::bindings::fget_raw(fd) };
        if file.is_null() {
            return Err(EBADF);
        }
        // SAFETY: `file` is referenced, so its `f_path` is valid and positive (an open file's
        // dentry always is); `path_get()` takes references to both of its parts for the new
        // `Path`, then the file's reference is dropped.
        let path = unsafe {
            let path = (*file).__bindgen_anon_1.f_path;
            kernel::bindings::path_get(&path);
            kernel::bindings::fput(file);
            path
        };
        // INVARIANT: The path is positive and holds both references, taken above.
        Ok(Self(path))
    }

    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    /// The inode whose file handle is `handle_type` and `handle` on the filesystem mounted at
    /// `mount` (`exportfs_decode_fh()`, as `open_by_handle_at()` decodes it; any alias will do).
    /// `ESTALE` if the inode is gone, `EINVAL` for a handle that is not a whole number of 32-bit
    /// words. The caller checks who may do this.
    pub(crate) fn from_handle(mount: &Path, handle_type: i32, handle: &[u8]) -> Result<Self> {
        if handle.is_empty() || handle.len() % 4 != 0 {
            return Err(EINVAL);
        }
        // A copy, aligned as `struct fid` and writable, as the decoder may want it.
        let mut fid = FidBuf([0; 128]);
        fid.0
            .get_mut(..handle.len())
            .ok_or(EINVAL)?
            .copy_from_slice(handle);
        // CAST: at most 32 words.
        let len = (handle.len() / 4) as kernel::ffi::c_int;
        // SAFETY: `mount` holds its mount; `fid` is a handle of `len` words that outlives the
        // call; the callback accepts any alias and takes no context.
        let dentry = unsafe {
            bindings::exportfs_decode_fh(
                mount.0.mnt,
                fid.0.as_mut_ptr().cast(),
                len,
                handle_type,
                Some(accept_any_alias),
                core::ptr::null_mut(),
            )
        };
        let dentry = kernel::error::from_err_ptr(dentry)?;
        if dentry.is_null() {
            return Err(ESTALE);
        }
        // SAFETY: `mount` holds its mount, so a new reference can be taken; the decoded dentry's
        // reference is ours (it is positive: the decoders return positive dentries only).
        let mnt = unsafe { kernel::bindings::mntget(mount.0.mnt) };
        // INVARIANT: Both references are held, and the dentry is positive.
        Ok(Self(kernel::bindings::path { mnt, dentry }))
    }

    /// Checks that the current task may access the path's inode for `mask` (`MAY_*`;
    /// `path_permission()`).
    pub(crate) fn permission(&self, mask: i32) -> Result {
        // SAFETY: The path is held, by the type invariant.
        bindings::to_result(unsafe { bindings::path_permission(&self.0, mask) })
    }

    /// The inode the path leads to (`d_inode(path->dentry)`).
    pub(crate) fn inode(&self) -> &Inode {
        // SAFETY: The held dentry is positive, by the type invariant, and its inode stays alive
        // while the path is held, which is as long as `self` is borrowed; `Inode` is
        // transparent over `struct inode`.
        unsafe { &*(*self.0.dentry).d_inode.cast::<Inode>() }
    }
}

/// A file handle's bytes, aligned as `struct fid`.
#[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
#[repr(C, align(4))]
struct FidBuf([u8; 128]);

/// The `acceptable` callback of [`Path::from_handle`]: any alias of the inode will do, as for
/// `open_by_handle_at()` on a mount's root.
#[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
extern "C" fn accept_any_alias(
    _context: *mut kernel::ffi::c_void,
    _dentry: *mut kernel::bindings::dentry,
) -> kernel::ffi::c_int {
    1
}

impl Drop for Path {
    fn drop(&mut self) {
        // SAFETY: The path's references are ours, by the type invariant; they are dropped once.
        unsafe { kernel::bindings::path_put(&self.0) }
    }
}

/// An inode, borrowed from something that holds it (a [`Path`]).
///
/// # Invariants
///
/// A `&Inode` exists only while the inode is held.
#[repr(transparent)]
pub(crate) struct Inode(Opaque<kernel::bindings::inode>);

impl Inode {
    /// The size of a C `struct inode`, which upstream counts in the cost of a watch.
    pub(crate) const C_SIZE: usize = size_of::<kernel::bindings::inode>();

    /// The C inode.
    pub(crate) fn as_ptr(&self) -> *mut kernel::bindings::inode {
        self.0.get()
    }

    /// Whether the inode is a directory (`S_ISDIR(inode->i_mode)`).
    pub(crate) fn is_dir(&self) -> bool {
        // SAFETY: The inode is held, by the type invariant; its type never changes.
        let mode = u32::from(unsafe { (*self.as_ptr()).i_mode });
        mode & kernel::bindings::S_IFMT == kernel::bindings::S_IFDIR
    }
}
