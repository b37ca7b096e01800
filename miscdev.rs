// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! A misc device whose `file_operations` include the hooks 7.3's `kernel::miscdevice` lacks.
//!
//! C header: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h).
//!
//! This is `rust/kernel/miscdevice.rs` with what an inotify-like device needs besides: `poll`,
//! `fasync`, `llseek` and a plain `read`; `ioctl`, `compat_ioctl` and `show_fdinfo` are the
//! same. The `file_operations` table is built from a [`MiscDevice`] implementation, as there.
//! Upstream, these hooks would be added to `kernel::miscdevice::MiscDevice`, and this file would
//! go.

use core::marker::PhantomData;
use kernel::{
    error::{
        to_result,
        VTABLE_DEFAULT_ERROR, //
    },
    fs::File,
    module::this_module,
    prelude::*,
    seq_file::SeqFile,
    sync::poll::PollTable,
    types::{
        ForeignOwnable,
        Opaque, //
    },
    uaccess::{
        UserPtr,
        UserSlice,
        UserSliceWriter, //
    }, //
};

/// How a device's files seek.
pub(crate) enum Llseek {
    /// No `llseek`: `lseek()` gives `ESPIPE`.
    Unsupported,
    /// `noop_llseek`: `lseek()` succeeds and the position stays where it is.
    Noop,
}

/// The file operations of a misc device, implemented by the private data of its open files.
#[vtable]
pub(crate) trait MiscDevice: Sized {
    /// What kind of pointer the private data is kept in.
    type Ptr: ForeignOwnable + Send + Sync;

    /// How `lseek()` behaves on the device's files.
    const LLSEEK: Llseek = Llseek::Unsupported;

    /// Called when the device is opened; the result is the file's private data.
    fn open(file: &File) -> Result<Self::Ptr>;

    /// Called when the file's last reference is gone.
    fn release(device: Self::Ptr, _file: &File) {
        drop(device);
    }

    /// `read()`: copies at most `writer.len()` bytes to user space.
    fn read(
        _device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        _file: &File,
        _writer: UserSliceWriter,
    ) -> Result<usize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `poll()`: registers on `table`'s wait queues, returns the `EPOLL*` events ready now.
    fn poll(
        _device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        _file: &File,
        _table: &PollTable<'_>,
    ) -> u32 {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `unlocked_ioctl`.
    fn ioctl(
        _device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        _file: &File,
        _cmd: u32,
        _arg: usize,
    ) -> Result<isize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `compat_ioctl`, for 32-bit user space; `compat_ptr_ioctl` if not given but `ioctl` is.
    fn compat_ioctl(
        _device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        _file: &File,
        _cmd: u32,
        _arg: usize,
    ) -> Result<isize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `fasync`: `O_ASYNC` was set (`on`) or cleared on `file`, open as `fd`.
    fn fasync(
        _device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        _fd: i32,
        _file: &File,
        _on: bool,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `show_fdinfo`: lines for `/proc/<pid>/fdinfo/<fd>`.
    fn show_fdinfo(
        _device: <Self::Ptr as ForeignOwnable>::Borrowed<'_>,
        _m: &SeqFile,
        _file: &File,
    ) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A registered misc device.
///
/// # Invariants
///
/// `inner` is a `struct miscdevice` registered with `misc_register()`, with
/// [`FileOpsTable<T>`]'s `file_operations`; it is deregistered once, on drop.
#[pin_data(PinnedDrop)]
pub(crate) struct MiscDeviceRegistration<T> {
    #[pin]
    inner: Opaque<kernel::bindings::miscdevice>,
    _t: PhantomData<T>,
}

// SAFETY: `misc_deregister()` may be called on another thread than `misc_register()`.
unsafe impl<T> Send for MiscDeviceRegistration<T> {}
// SAFETY: No method of `&self` touches the device.
unsafe impl<T> Sync for MiscDeviceRegistration<T> {}

impl<T: MiscDevice> MiscDeviceRegistration<T> {
    /// Registers the misc device `/dev/<name>`, with a dynamic minor.
    pub(crate) fn register(name: &'static CStr) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(move |slot: *mut kernel::bindings::miscdevice| {
                let mut misc: kernel::bindings::miscdevice = pin_init::zeroed();
                misc.minor = kernel::bindings::MISC_DYNAMIC_MINOR as c_int;
                misc.name = name.as_char_ptr();
                misc.fops = FileOpsTable::<T>::build();
                // SAFETY: The initializer may write to `slot`.
                unsafe { slot.write(misc) };
                // SAFETY: The miscdevice was just written, and is pinned: it is deregistered on
                // drop, before its memory goes.
                // INVARIANT: On success, `slot` holds a registered misc device.
                to_result(unsafe { kernel::bindings::misc_register(slot) })
            }),
            _t: PhantomData,
        })
    }
}

#[pinned_drop]
impl<T> PinnedDrop for MiscDeviceRegistration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: The device is registered, by the type invariant.
        unsafe { kernel::bindings::misc_deregister(self.inner.get()) };
    }
}

/// The `file_operations` of a [`MiscDevice`] `T`.
struct FileOpsTable<T: MiscDevice>(PhantomData<T>);

impl<T: MiscDevice> FileOpsTable<T> {
    /// `open`.
    ///
    /// # Safety
    ///
    /// `raw_file` must be a file of a [`MiscDeviceRegistration<T>`] being opened.
    unsafe extern "C" fn open(
        _inode: *mut kernel::bindings::inode,
        raw_file: *mut kernel::bindings::file,
    ) -> c_int {
        // SAFETY:
        // - The file is valid for the duration of `T::open`.
        // - There is no active fdget_pos region on the file on this thread.
        let file = unsafe { File::from_raw_file(raw_file) };
        let ptr = match T::open(file) {
            Ok(ptr) => ptr,
            Err(err) => return err.to_errno(),
        };
        // This replaces the `struct miscdevice` that `misc_open()` stored: every other
        // operation below reads the private data as `T::Ptr`.
        // SAFETY: The open call of a file may write its private data.
        unsafe { (*raw_file).private_data = ptr.into_foreign() };
        0
    }

    /// `release`.
    ///
    /// # Safety
    ///
    /// `file` must be a file of a [`MiscDeviceRegistration<T>`] whose open succeeded, being
    /// released.
    unsafe extern "C" fn release(
        _inode: *mut kernel::bindings::inode,
        file: *mut kernel::bindings::file,
    ) -> c_int {
        // SAFETY: The release call of a file owns its private data, from `into_foreign` in
        // `open`.
        let ptr = unsafe { <T::Ptr as ForeignOwnable>::from_foreign((*file).private_data) };
        // SAFETY:
        // - The file is valid for the duration of this call.
        // - There is no active fdget_pos region on the file on this thread.
        T::release(ptr, unsafe { File::from_raw_file(file) });
        0
    }

    /// Borrows a file's private data and the file.
    ///
    /// # Safety
    ///
    /// `file` must be a file of a [`MiscDeviceRegistration<T>`] whose open succeeded and which is
    /// not yet released, valid for `'a`, with no active fdget_pos region on this thread.
    unsafe fn borrow<'a>(
        file: *mut kernel::bindings::file,
    ) -> (<T::Ptr as ForeignOwnable>::Borrowed<'a>, &'a File) {
        // SAFETY: The private data is from `into_foreign` in `open`, and `release` has not taken
        // it back; the rest is the caller's promise.
        unsafe {
            (
                <T::Ptr as ForeignOwnable>::borrow((*file).private_data),
                File::from_raw_file(file),
            )
        }
    }

    /// `read`.
    ///
    /// # Safety
    ///
    /// As [`Self::borrow`]; `buf` is a user pointer, valid or not.
    unsafe extern "C" fn read(
        file: *mut kernel::bindings::file,
        buf: *mut c_char,
        count: usize,
        _pos: *mut kernel::bindings::loff_t,
    ) -> isize {
        // SAFETY: The VFS calls `read` on an open file, for the duration of the call.
        let (device, file) = unsafe { Self::borrow(file) };
        let writer = UserSlice::new(UserPtr::from_ptr(buf.cast()), count).writer();
        match T::read(device, file, writer) {
            Ok(n) => n as isize,
            Err(err) => err.to_errno() as isize,
        }
    }

    /// `poll`.
    ///
    /// # Safety
    ///
    /// As [`Self::borrow`]; `wait` is a poll table or null, valid for the call.
    unsafe extern "C" fn poll(
        file: *mut kernel::bindings::file,
        wait: *mut kernel::bindings::poll_table_struct,
    ) -> kernel::bindings::__poll_t {
        // SAFETY: The VFS calls `poll` on an open file, with a table valid for the call.
        let ((device, file), table) = unsafe { (Self::borrow(file), PollTable::from_raw(wait)) };
        T::poll(device, file, &table)
    }

    /// `unlocked_ioctl`.
    ///
    /// # Safety
    ///
    /// As [`Self::borrow`].
    unsafe extern "C" fn ioctl(
        file: *mut kernel::bindings::file,
        cmd: c_uint,
        arg: c_ulong,
    ) -> c_long {
        // SAFETY: The VFS calls `ioctl` on an open file, for the duration of the call.
        let (device, file) = unsafe { Self::borrow(file) };
        match T::ioctl(device, file, cmd, arg) {
            Ok(ret) => ret as c_long,
            Err(err) => err.to_errno() as c_long,
        }
    }

    /// `compat_ioctl`.
    ///
    /// # Safety
    ///
    /// As [`Self::borrow`].
    unsafe extern "C" fn compat_ioctl(
        file: *mut kernel::bindings::file,
        cmd: c_uint,
        arg: c_ulong,
    ) -> c_long {
        // SAFETY: The VFS calls `compat_ioctl` on an open file, for the duration of the call.
        let (device, file) = unsafe { Self::borrow(file) };
        match T::compat_ioctl(device, file, cmd, arg) {
            Ok(ret) => ret as c_long,
            Err(err) => err.to_errno() as c_long,
        }
    }

    /// `fasync`.
    ///
    /// # Safety
    ///
    /// As [`Self::borrow`].
    unsafe extern "C" fn fasync(fd: c_int, file: *mut kernel::bindings::file, on: c_int) -> c_int {
        // SAFETY: The VFS calls `fasync` on an open file, for the duration of the call.
        let (device, file) = unsafe { Self::borrow(file) };
        match T::fasync(device, fd, file, on != 0) {
            Ok(()) => 0,
            Err(err) => err.to_errno(),
        }
    }

    /// `show_fdinfo`.
    ///
    /// # Safety
    ///
    /// As [`Self::borrow`]; `m` is a `seq_file` valid and exclusive for the call.
    unsafe extern "C" fn show_fdinfo(
        m: *mut kernel::bindings::seq_file,
        file: *mut kernel::bindings::file,
    ) {
        // SAFETY: procfs calls `show_fdinfo` on an open file, with a `seq_file` valid for the
        // call.
        let ((device, file), m) = unsafe { (Self::borrow(file), SeqFile::from_raw(m)) };
        T::show_fdinfo(device, m, file);
    }

    const VTABLE: kernel::bindings::file_operations = kernel::bindings::file_operations {
        open: Some(Self::open),
        release: Some(Self::release),
        read: if T::HAS_READ { Some(Self::read) } else { None },
        poll: if T::HAS_POLL { Some(Self::poll) } else { None },
        unlocked_ioctl: if T::HAS_IOCTL {
            Some(Self::ioctl)
        } else {
            None
        },
        compat_ioctl: if T::HAS_COMPAT_IOCTL {
            Some(Self::compat_ioctl)
        } else if T::HAS_IOCTL {
            kernel::bindings::compat_ptr_ioctl
        } else {
            None
        },
        fasync: if T::HAS_FASYNC {
            Some(Self::fasync)
        } else {
            None
        },
        llseek: match T::LLSEEK {
            Llseek::Unsupported => None,
            Llseek::Noop => Some(kernel::bindings::noop_llseek),
        },
        show_fdinfo: if T::HAS_SHOW_FDINFO {
            Some(Self::show_fdinfo)
        } else {
            None
        },
        owner: this_module::<T::OwnerModule>().as_ptr(),
        ..pin_init::zeroed()
    };

    /// The table, as a constant that lives as long as the module.
    const fn build() -> &'static kernel::bindings::file_operations {
        &Self::VTABLE
    }
}
