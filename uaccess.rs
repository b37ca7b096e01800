// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Storing one `int` in user memory.
//!
//! C header: [`include/linux/uaccess.h`](srctree/include/linux/uaccess.h) (`put_user()`).
//!
//! `kernel::uaccess` copies with `copy_to_user()`, made for buffers of any size: its checks
//! (`check_object_size()`, `might_fault()`) and the out-of-line call cost more than the one
//! store they surround when the value is an `int`, which is what `put_user()` is for. Upstream,
//! this would be a `UserSliceWriter` method or a `UserPtr` one.

use kernel::{
    prelude::*,
    uaccess::UserPtr, //
};

use crate::bindings;

/// Stores `value` at the user address `ptr` (`put_user()`); `EFAULT` if it cannot be written.
#[inline(always)]
pub(crate) fn put_user_i32(value: i32, ptr: UserPtr) -> Result {
    // SAFETY: `put_user()` takes any user address: it checks it (`access_ok()`) and recovers
    // from a fault, so no pointer is dereferenced unchecked.
    let ret = unsafe { bindings::put_user_int(value, ptr.as_mut_ptr().cast()) };
    if ret == 0 {
        Ok(())
    } else {
        Err(EFAULT)
    }
}
