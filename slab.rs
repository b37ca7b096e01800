// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Slab caches: objects of one type, from a `struct kmem_cache` of their own.
//!
//! C header: [`include/linux/slab.h`](srctree/include/linux/slab.h).
//!
//! 7.3's kernel crate has no slab abstraction: [`KmemCache<T>`] is a small one, made to be kept in
//! a `static` of the module that uses it, created by the module's initializer and destroyed by
//! its exit, as C modules keep theirs (`inotify_inode_mark_cachep`). It hands out raw memory for
//! one `T`; its user wraps that in its own owning type, as [`KBox`] wraps `kmalloc`.
//!
//! A cache may be created *zeroed* ([`KmemCache::init_zeroed`]): its constructor zeroes every
//! object when the slab page is made, and its users give objects back zeroed, so that an
//! allocation never has to clear the object, as the radix tree's node cache does (its nodes are
//! cleared when freed, in `radix_tree_node_rcu_free`).
//!
//! # Examples
//!
//! ```ignore
//! static CACHE: KmemCache<Thing> = KmemCache::uninit();
//! // Module init:
//! // SAFETY: Once, before any allocation.
//! unsafe { CACHE.init(c_str!("thing"))? };
//! let ptr = CACHE.alloc(Gfp::Kernel)?;
//! // SAFETY: From this cache, unused from now on.
//! unsafe { CACHE.free(ptr) };
//! // Module exit, once every object is freed:
//! // SAFETY: Nothing is allocated from it any more.
//! unsafe { CACHE.destroy() };
//! ```

use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    }, //
};

/// Allocation flags for [`KmemCache::alloc`]: the few `gfp_t` values its users need.
///
/// `kernel::alloc::Flags` keeps its raw value to the kernel crate, so an abstraction outside it
/// names its own; [`Gfp::flags`] gives the kernel crate's for its allocators.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Gfp {
    /// `GFP_KERNEL`: may sleep.
    Kernel,
    /// `GFP_KERNEL_ACCOUNT`: may sleep; charged to the current memory cgroup.
    KernelAccount,
    /// `GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL`: as [`Gfp::KernelAccount`], but fails rather
    /// than invoke the OOM killer (upstream inotify's events: an event must not OOM-kill in the
    /// memory cgroup it is charged to).
    KernelAccountMayFail,
}

impl Gfp {
    /// The C `gfp_t`.
    fn raw(self) -> kernel::bindings::gfp_t {
        match self {
            Self::Kernel => kernel::bindings::GFP_KERNEL,
            Self::KernelAccount => kernel::bindings::GFP_KERNEL_ACCOUNT,
            Self::KernelAccountMayFail => {
                kernel::bindings::GFP_KERNEL_ACCOUNT
                    | 1 << kernel::bindings::___GFP_RETRY_MAYFAIL_BIT
            }
        }
    }

    /// The same flags for the kernel crate's allocators ([`KBox`], [`KVec`]).
    ///
    /// `kernel::alloc::Flags` has no `__GFP_RETRY_MAYFAIL`: [`Gfp::KernelAccountMayFail`] is
    /// `GFP_KERNEL_ACCOUNT` there, which may try harder before it fails.
    pub(crate) fn flags(self) -> kernel::alloc::Flags {
        match self {
            Self::Kernel => GFP_KERNEL,
            Self::KernelAccount | Self::KernelAccountMayFail => GFP_KERNEL_ACCOUNT,
        }
    }
}

/// A slab cache for objects of type `T`.
///
/// # Invariants
///
/// - `cache` is null or a cache made by `__kmem_cache_create_args()` for objects of the size
///   and alignment of `T`, which this object owns until [`KmemCache::destroy`].
/// - If `zeroed` is set, every free object of the cache is all zeroes.
pub(crate) struct KmemCache<T> {
    /// The C cache, null before [`KmemCache::init`] and after [`KmemCache::destroy`].
    cache: Atomic<*mut kernel::bindings::kmem_cache>,
    /// Whether the cache was made by [`KmemCache::init_zeroed`].
    zeroed: Atomic<bool>,
    _t: PhantomData<T>,
}

// SAFETY: The C cache may be used from any thread; the objects it hands out are raw memory
// whose use is the caller's.
unsafe impl<T> Sync for KmemCache<T> {}
// SAFETY: As above.
unsafe impl<T> Send for KmemCache<T> {}

impl<T> KmemCache<T> {
    /// A cache not made yet: every allocation fails until [`KmemCache::init`].
    pub(crate) const fn uninit() -> Self {
        // INVARIANT: Null, and not zeroed.
        Self {
            cache: Atomic::new(core::ptr::null_mut()),
            zeroed: Atomic::new(false),
            _t: PhantomData,
        }
    }

    /// Makes the C cache, named `name` in `/proc/slabinfo`, with `ctor` run on each new object.
    ///
    /// # Safety
    ///
    /// Called once, before any other method, and not concurrently with any.
    unsafe fn create(
        &self,
        name: &'static CStr,
        ctor: Option<unsafe extern "C" fn(*mut c_void)>,
    ) -> Result {
        const { assert!(size_of::<T>() > 0 && size_of::<T>() <= u32::MAX as usize) };
        let mut args = kernel::bindings::kmem_cache_args {
            // CAST: Alignments are small powers of two.
            align: align_of::<T>() as u32,
            ctor,
            ..Default::default()
        };
        // SAFETY: `name` lives as long as the module, which destroys the cache before it goes;
        // `args` is valid for the call, which copies it.
        let cache = unsafe {
            // CAST: The size fits a `u32`, checked above.
            kernel::bindings::__kmem_cache_create_args(
                name.as_char_ptr(),
                size_of::<T>() as u32,
                &mut args,
                0,
            )
        };
        if cache.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: A cache for objects of `T`'s size and alignment.
        self.cache.store(cache, Relaxed);
        Ok(())
    }

    /// Makes the cache, named `name` in `/proc/slabinfo`; its objects are not initialised.
    ///
    /// # Safety
    ///
    /// Called once, before any other method, and not concurrently with any.
    pub(crate) unsafe fn init(&self, name: &'static CStr) -> Result {
        // SAFETY: The caller's promise.
        unsafe { self.create(name, None) }
    }

    /// Allocates one object, uninitialised unless the cache is zeroed.
    ///
    /// `ENOMEM` if memory is short, or if the cache was not made.
    #[inline]
    pub(crate) fn alloc(&self, flags: Gfp) -> Result<NonNull<T>> {
        let cache = self.cache.load(Relaxed);
        if cache.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: The cache is alive (it is destroyed only when nothing uses it any more).
        let ptr = unsafe { kernel::bindings::kmem_cache_alloc_noprof(cache, flags.raw()) };
        NonNull::new(ptr.cast()).ok_or(ENOMEM)
    }

    /// Gives an object back to the cache.
    ///
    /// # Safety
    ///
    /// - `ptr` came from [`KmemCache::alloc`] of this cache, and is not used after this call;
    ///   whatever it holds is not dropped.
    /// - If the cache is zeroed, the object is all zeroes.
    #[inline]
    pub(crate) unsafe fn free(&self, ptr: NonNull<T>) {
        // SAFETY: The cache is alive, since `ptr` is one of its objects; the object is the
        // caller's to give back.
        unsafe { kernel::bindings::kmem_cache_free(self.cache.load(Relaxed), ptr.as_ptr().cast()) }
    }

    /// Whether the cache's objects come zeroed ([`KmemCache::init_zeroed`]).
    pub(crate) fn is_zeroed(&self) -> bool {
        self.zeroed.load(Relaxed)
    }

    /// Destroys the cache.
    ///
    /// # Safety
    ///
    /// Every object allocated from it was freed, no method is called concurrently, and none
    /// is called afterwards but [`KmemCache::alloc`] (which then fails).
    pub(crate) unsafe fn destroy(&self) {
        let cache = self.cache.load(Relaxed);
        // INVARIANT: No cache any more.
        self.cache.store(core::ptr::null_mut(), Relaxed);
        if !cache.is_null() {
            // SAFETY: The cache was made by `create` and is empty, by the caller's promise.
            unsafe { kernel::bindings::kmem_cache_destroy(cache) };
        }
    }
}

impl<T: Zeroable> KmemCache<T> {
    /// The constructor of a zeroed cache: zeroes an object of a new slab page.
    ///
    /// # Safety
    ///
    /// Called by the slab allocator with an object of a cache for `T`.
    unsafe extern "C" fn zero(obj: *mut c_void) {
        // SAFETY: `obj` is an object of the cache, valid for writing `size_of::<T>()` bytes.
        unsafe { core::ptr::write_bytes(obj.cast::<T>(), 0, 1) };
    }

    /// Makes a zeroed cache, named `name` in `/proc/slabinfo`: every object it hands out is all
    /// zeroes (a valid `T`), because new objects are zeroed by the cache's constructor and
    /// [`KmemCache::free`] takes back only objects that are all zeroes.
    ///
    /// # Safety
    ///
    /// Called once, before any other method, and not concurrently with any.
    pub(crate) unsafe fn init_zeroed(&self, name: &'static CStr) -> Result {
        // SAFETY: The caller's promise.
        unsafe { self.create(name, Some(Self::zero))? };
        // INVARIANT: The constructor zeroes every new object, and `free` takes back only zeroed
        // ones.
        self.zeroed.store(true, Relaxed);
        Ok(())
    }
}

/// Allocates `size` bytes from the `kmalloc` caches (`kmalloc()`), uninitialised.
///
/// For objects whose size is known only at run time, as upstream's events with their names
/// are. The memory is aligned to at least `ARCH_KMALLOC_MINALIGN` (8 bytes). `ENOMEM` if memory
/// is short or `size` is 0.
#[inline]
pub(crate) fn kmalloc(size: usize, flags: Gfp) -> Result<NonNull<u8>> {
    if size == 0 {
        return Err(ENOMEM);
    }
    // SAFETY: `__kmalloc_noprof()` may be called with any size and flags; it returns null or
    // `size` bytes of memory that are the caller's until `kfree()`.
    let ptr = unsafe { kernel::bindings::__kmalloc_noprof(size, flags.raw()) };
    NonNull::new(ptr.cast()).ok_or(ENOMEM)
}

/// Frees memory from [`kmalloc`] (`kfree()`).
///
/// # Safety
///
/// `ptr` came from [`kmalloc`] and is not used after this call; whatever it holds is not
/// dropped.
#[inline]
pub(crate) unsafe fn kfree(ptr: NonNull<u8>) {
    // SAFETY: `ptr` is a live `kmalloc` allocation that the caller gives up.
    unsafe { kernel::bindings::kfree(ptr.as_ptr().cast()) }
}

#[kunit_tests(rust_inotify_slab)]
mod tests {
    use super::*;
    use kernel::c_str;

    /// A zeroed cache hands out zeroed objects, also after they were freed (zeroed) and taken
    /// again; a destroyed cache fails allocations.
    #[test]
    fn zeroed_cache_gives_zeroed_objects() -> Result {
        static CACHE: KmemCache<[u64; 67]> = KmemCache::uninit();
        assert!(CACHE.alloc(Gfp::Kernel).is_err());
        // SAFETY: Once, before any other use; this test is the cache's only user.
        unsafe { CACHE.init_zeroed(c_str!("rust_inotify_test_zeroed"))? };
        assert!(CACHE.is_zeroed());
        let mut objects = KVec::new();
        for round in 0..3u64 {
            for _ in 0..40 {
                let ptr = CACHE.alloc(Gfp::Kernel)?;
                // SAFETY: A zeroed cache's objects are valid, zeroed `[u64; 67]`s.
                let words = unsafe { &mut *ptr.as_ptr() };
                assert!(words.iter().all(|&w| w == 0));
                // Used, then cleared before it goes back.
                words[66] = round + 1;
                words[66] = 0;
                objects.push(ptr, GFP_KERNEL)?;
            }
            while let Some(ptr) = objects.pop() {
                // SAFETY: From this cache, zeroed, not used again.
                unsafe { CACHE.free(ptr) };
            }
        }
        // SAFETY: Every object was freed; nothing else uses the cache.
        unsafe { CACHE.destroy() };
        assert!(CACHE.alloc(Gfp::Kernel).is_err());
        Ok(())
    }
}
