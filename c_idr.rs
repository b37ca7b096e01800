// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! The kernel's own IDR, which the wd allocator's benchmark (`idr.rs`, `bench()`) compares with.
//!
//! C header: [`include/linux/idr.h`](srctree/include/linux/idr.h).

use kernel::{
    error::to_result,
    prelude::*,
    types::Opaque, //
};

use crate::bindings;

/// An IDR (`struct idr`), for the benchmark only.
///
/// # Invariants
///
/// `idr` was initialised by `idr_init()` and is owned by this object.
pub(crate) struct CIdr {
    idr: Pin<KBox<Opaque<kernel::bindings::idr>>>,
}

impl CIdr {
    /// An empty IDR (`idr_init()`).
    pub(crate) fn new() -> Result<Self> {
        let idr = KBox::pin_init(
            // SAFETY: `slot` is valid for writing.
            Opaque::ffi_init(|slot| unsafe { bindings::idr_init(slot) }),
            GFP_KERNEL,
        )?;
        // INVARIANT: Initialised by `idr_init()` just above.
        Ok(Self { idr })
    }

    /// `idr_alloc_cyclic(idr, value, 1, 0, GFP_KERNEL)`; the value is never dereferenced.
    pub(crate) fn alloc_cyclic(&mut self, value: &'static u64) -> Result<c_int> {
        let ptr = core::ptr::from_ref(value).cast_mut().cast::<c_void>();
        // SAFETY: The IDR is initialised and ours, exclusively borrowed; `ptr` is 8-byte
        // aligned, so the radix tree cannot take it for an internal entry.
        let id = unsafe {
            kernel::bindings::idr_alloc_cyclic(
                self.idr.get(),
                ptr,
                1,
                0,
                kernel::bindings::GFP_KERNEL,
            )
        };
        to_result(id)?;
        Ok(id)
    }

    /// `idr_set_cursor()`.
    pub(crate) fn set_cursor(&mut self, next: c_uint) {
        // SAFETY: The IDR is initialised and ours, exclusively borrowed.
        unsafe { bindings::idr_set_cursor(self.idr.get(), next) }
    }
}

impl Drop for CIdr {
    fn drop(&mut self) {
        // SAFETY: The IDR is initialised and ours, and not used after this; its memory is freed
        // with the box.
        unsafe { kernel::bindings::idr_destroy(self.idr.get()) }
    }
}
