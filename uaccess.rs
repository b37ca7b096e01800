// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Storing one `int` in user memory, and reading one 64-bit word from it.
//!
//! C header: [`include/linux/uaccess.h`](srctree/include/linux/uaccess.h) (`put_user()`,
//! `get_user()`).
//!
//! `kernel::uaccess` copies with `copy_to_user()` and `copy_from_user()`, made for buffers of
//! any size: their checks (`check_object_size()`, `might_fault()`) and the out-of-line call cost
//! more than the one access they surround when the value is a word, which is what `put_user()`
//! and `get_user()` are for. Upstream, these would be `UserPtr` methods.

use kernel::{
    prelude::*,
    uaccess::UserPtr, //
};

use crate::bindings;

/// Reads the `u64` at the user address `ptr` (`get_user()`); `EFAULT` if it cannot be read.
///
/// `ptr` need not be aligned where the architecture's `get_user()` accepts unaligned addresses,
/// as x86's and arm64's do.
#[inline(always)]
pub(crate) fn get_user_u64(ptr: UserPtr) -> Result<u64> {
    let mut value = 0;
    // SAFETY: `get_user()` takes any user address: it checks it (`access_ok()`) and recovers
    // from a fault, so no pointer is dereferenced unchecked; `value` is valid for writing.
    let ret = unsafe { bindings::get_user_u64(&mut value, ptr.as_const_ptr().cast()) };
    if ret == 0 {
        Ok(value)
    } else {
        Err(EFAULT)
    }
}

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
