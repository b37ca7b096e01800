// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! The limits: module parameters writable at run time, like upstream's sysctls.
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h)
//! (`module_param_cb()` and `MODULE_PARM_DESC()`); the sysctls are those of
//! [`fs/notify/inotify/inotify_user.c`](srctree/fs/notify/inotify/inotify_user.c).
//!
//! The `module!` macro's parameters are read-only and not in sysfs in 7.3, so each limit is a
//! `struct kernel_param` in the `__param` section built here, as `module!` builds its own, but
//! with mode 0644 and ops that take `0..=INT_MAX` (`param_set_uint_minmax()`,
//! `param_get_uint()`). The module loader and sysfs write a value with a plain store under
//! `kernel_param_lock()`; it is read here with a relaxed atomic load, which is `READ_ONCE()`.

use kernel::{
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    }, //
};

/// `fs.inotify.max_user_instances`: instances one user may have open (upstream's default).
static MAX_USER_INSTANCES: Atomic<u32> = Atomic::new(128);
/// `fs.inotify.max_user_watches`: watches one user may have; 0 until [`init_max_user_watches`]
/// computes upstream's default, unless given at load time.
static MAX_USER_WATCHES: Atomic<u32> = Atomic::new(0);
/// `fs.inotify.max_queued_events`: events an instance may queue (upstream's default).
static MAX_QUEUED_EVENTS: Atomic<u32> = Atomic::new(16384);

/// Instances one user may have open.
pub(crate) fn max_user_instances() -> u32 {
    MAX_USER_INSTANCES.load(Relaxed)
}

/// Watches one user may have.
pub(crate) fn max_user_watches() -> u32 {
    MAX_USER_WATCHES.load(Relaxed)
}

/// Events an instance may queue; sampled when the instance is opened.
pub(crate) fn max_queued_events() -> u32 {
    MAX_QUEUED_EVENTS.load(Relaxed)
}

/// Sets `max_user_watches` to upstream's default unless it was given at load time
/// (`inotify_user_setup()`): 1% of low memory over `watch_cost`, clamped to 8192..=1048576.
///
/// Called from module init, before the device is registered.
pub(crate) fn init_max_user_watches(watch_cost: usize) {
    if max_user_watches() != 0 {
        return;
    }
    // SAFETY: `sysinfo` is plain integers; all zeros is a valid value.
    let mut si: kernel::bindings::sysinfo = unsafe { core::mem::zeroed() };
    // SAFETY: `si` is a valid buffer for the call.
    unsafe { kernel::bindings::si_meminfo(&mut si) };
    let low_pages = si.totalram.saturating_sub(si.totalhigh) / 100;
    let watches_max = (low_pages << kernel::bindings::PAGE_SHIFT) / watch_cost.max(1);
    // CAST: clamped to at most 1048576.
    MAX_USER_WATCHES.store(watches_max.clamp(8192, 1_048_576) as u32, Relaxed);
}

/// `kernel_param_ops.set`: an unsigned int in `0..=INT_MAX`.
///
/// # Safety
///
/// Called by the module loader or sysfs only, with a string and one of this file's parameters,
/// under `kernel_param_lock()`.
unsafe extern "C" fn set_nonneg_int(
    val: *const c_char,
    kp: *const kernel::bindings::kernel_param,
) -> c_int {
    // CAST: INT_MAX fits an unsigned int.
    // SAFETY: The caller's promise; `kp->arg` points to an `unsigned int` (an `Atomic<u32>`).
    unsafe { kernel::bindings::param_set_uint_minmax(val, kp, 0, i32::MAX as c_uint) }
}

/// The `kernel_param_ops` of the limits.
static NONNEG_INT_OPS: kernel::bindings::kernel_param_ops = kernel::bindings::kernel_param_ops {
    flags: 0,
    set: Some(set_nonneg_int),
    get: Some(kernel::bindings::param_get_uint),
    free: None,
};

/// A `struct kernel_param` in a static.
#[repr(transparent)]
struct KernelParam(kernel::bindings::kernel_param);

// SAFETY: The kernel serialises accesses to the parameter with `kernel_param_lock()`; nothing in
// Rust reads the struct itself.
unsafe impl Sync for KernelParam {}

/// Copies a string into a byte array, for a static whose type needs the length.
const fn bytes<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = s.as_bytes()[i];
        i += 1;
    }
    out
}

/// `module_param_cb(NAME, &nonneg_int_ops, &VALUE, 0644)` with `MODULE_PARM_DESC(NAME, DESC)`.
macro_rules! param {
    ($name:ident, $value:ident, $desc:literal) => {
        const _: () = {
            #[link_section = "__param"]
            #[used(compiler)]
            static PARAM: KernelParam = KernelParam(kernel::bindings::kernel_param {
                name: kernel::str::as_char_ptr_in_const_context(kernel::c_str!(stringify!($name))),
                // `__this_module` is built by the kernel at load time and lives until the
                // module is unloaded.
                mod_: (&raw const kernel::bindings::__this_module).cast_mut(),
                ops: &NONNEG_INT_OPS,
                perm: 0o644,
                level: -1,
                flags: 0,
                __bindgen_anon_1: kernel::bindings::kernel_param__bindgen_ty_1 {
                    arg: $value.as_ptr().cast(),
                },
            });

            /// `MODULE_PARM_DESC()`: what `modinfo` shows.
            const PARM: &str = concat!("parm=", stringify!($name), ":", $desc, "\0");
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static MODINFO: [u8; PARM.len()] = bytes(PARM);
        };
    };
}

param!(
    max_user_instances,
    MAX_USER_INSTANCES,
    "Instances one user may have open (fs.inotify.max_user_instances; default 128)"
);
param!(
    max_user_watches,
    MAX_USER_WATCHES,
    "Watches one user may have (fs.inotify.max_user_watches; default scales with RAM)"
);
param!(
    max_queued_events,
    MAX_QUEUED_EVENTS,
    "Events an instance may queue, sampled at open (fs.inotify.max_queued_events; default 16384)"
);
