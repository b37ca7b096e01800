// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Path lookup: looked-up paths and the inodes they lead to.
//!
//! C header: [`include/linux/namei.h`](srctree/include/linux/namei.h) (`user_path_at()`,
//! `LOOKUP_*`), with `path_permission()` and `path_put()` of
//! [`include/linux/fs.h`](srctree/include/linux/fs.h).

use kernel::{
    error::to_result,
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
        to_result(unsafe {
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

    /// Checks that the current task may access the path's inode for `mask` (`MAY_*`;
    /// `path_permission()`).
    pub(crate) fn permission(&self, mask: i32) -> Result {
        // SAFETY: The path is held, by the type invariant.
        to_result(unsafe { bindings::path_permission(&self.0, mask) })
    }

    /// The inode the path leads to (`d_inode(path->dentry)`).
    pub(crate) fn inode(&self) -> &Inode {
        // SAFETY: The held dentry is positive, by the type invariant, and its inode stays alive
        // while the path is held, which is as long as `self` is borrowed; `Inode` is
        // transparent over `struct inode`.
        unsafe { &*(*self.0.dentry).d_inode.cast::<Inode>() }
    }
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
