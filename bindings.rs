// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! The module's own bindings: what 7.3's `kernel::bindings` lack.
//!
//! C headers: [`bindings_helper.h`](../bindings_helper.h) (`include/linux/fsnotify_backend.h`,
//! `include/linux/namei.h`, `include/linux/exportfs.h`) and [`helpers.c`](../helpers.c).
//!
//! Kbuild generates both files into the build directory with the kernel's bindgen flags, as
//! `rust/bindings/lib.rs` includes `bindings_generated.rs`. Only the items Kbuild's allowlists
//! name are generated; every other type they use (`inode`, `path`, `qstr`, `refcount_t`, ...)
//! resolves to `kernel::bindings` through the glob import, so there is one `struct inode`. The
//! items defined here shadow glob-imported ones of the same name: `fsnotify_mark_connector`,
//! opaque in `kernel::bindings`, has its fields here.
//!
//! Only `fsnotify.rs`, `namei.rs`, `checkpoint.rs` and `c_idr.rs` use this module; `miscdev.rs`
//! and `params.rs` need only `kernel::bindings`.

#[allow(
    clippy::all,
    clippy::as_underscore,
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::undocumented_unsafe_blocks,
    dead_code,
    missing_docs,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    improper_ctypes,
    unreachable_pub,
    unsafe_op_in_unsafe_fn
)]
mod generated {
    use kernel::bindings::*;
    use kernel::ffi;

    include!(concat!(
        env!("RUST_INOTIFY_OBJTREE"),
        "/bindings_generated.rs"
    ));
}

#[allow(
    clippy::all,
    clippy::as_underscore,
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::undocumented_unsafe_blocks,
    dead_code,
    missing_docs,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    improper_ctypes,
    unreachable_pub,
    unsafe_op_in_unsafe_fn
)]
mod helpers {
    use super::generated::*;
    use kernel::bindings::{
        bool_,
        idr,
        mem_cgroup,
        mm_struct,
        path,
        user_namespace, //
    };
    use kernel::ffi;

    include!(concat!(
        env!("RUST_INOTIFY_OBJTREE"),
        "/bindings_helpers_generated.rs"
    ));
}

pub(crate) use generated::*;
pub(crate) use helpers::*;

use kernel::prelude::*;

/// `kernel::error::to_result()`, inlined: the kernel crate's is not `#[inline]`, so each call
/// is a call, and an add-watch makes three (`user_path_at()`, `path_permission()`,
/// `fsnotify_add_mark()`).
#[inline(always)]
pub(crate) fn to_result(ret: c_int) -> Result {
    if ret < 0 {
        Err(Error::from_errno(ret))
    } else {
        Ok(())
    }
}
