// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! An instance's event queue.
//!
//! C file: [`fs/notify/notification.c`](srctree/fs/notify/notification.c)
//! (`fsnotify_insert_event`, `fsnotify_peek_first_event`, `fsnotify_remove_first_event`), with
//! inotify's merge rule (`inotify_merge` and `event_compare` in
//! [`fs/notify/inotify/inotify_fsnotify.c`](srctree/fs/notify/inotify/inotify_fsnotify.c)).
//!
//! The queue holds at most `max_events` real events plus the one preallocated `IN_Q_OVERFLOW`
//! event, which counts in the length like upstream's `q_len`. It also keeps the number of bytes
//! a read would return, so that `FIONREAD` is O(1) where upstream walks the list.

use core::{
    marker::PhantomData,
    ops::{
        Deref,
        DerefMut, //
    },
    ptr::NonNull, //
};
use kernel::{
    new_spinlock,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        CondVar,
        SpinLock,
        SpinLockGuard, //
    }, //
};

use crate::{
    slab::{
        kfree,
        kmalloc,
        Gfp, //
    },
    uapi::{
        InotifyEvent,
        EVENT_ALIGN,
        EVENT_SIZE,
        IN_ALL_EVENTS,
        IN_IGNORED,
        IN_ISDIR,
        IN_Q_OVERFLOW,
        IN_UNMOUNT, //
    },
};

/// The start of an event's allocation (`struct inotify_event_info`); the record's padded name
/// follows it.
///
/// The event keeps the record that `read` returns for it, name and NUL padding included, so
/// that a read is one copy from the event to user space.
#[repr(C)]
struct EventHeader {
    /// The next event of the [`EventList`] the event is on.
    next: Option<NonNull<EventHeader>>,
    /// The fsnotify mask as the event was reported: what merging compares, and what a
    /// checkpoint keeps.
    mask: u32,
    /// The name's length, without its NULs.
    name_len: u32,
    /// The record's fixed part, with the mask that user space sees (`inotify_mask_to_arg`).
    record: InotifyEvent,
}

/// `inotify_mask_to_arg` (of `inotify_user.c`): the bits of an event's mask that user space
/// sees.
fn inotify_mask_to_arg(mask: u32) -> u32 {
    mask & (IN_ALL_EVENTS | IN_ISDIR | IN_UNMOUNT | IN_IGNORED | IN_Q_OVERFLOW)
}

/// The padded name length of a record (`round_event_name_len`): 0 without a name, else the
/// name and at least one NUL rounded up to a multiple of [`EVENT_ALIGN`].
fn round_event_name_len(len: usize) -> Option<usize> {
    if len == 0 {
        Some(0)
    } else {
        len.checked_add(1)?.checked_next_multiple_of(EVENT_ALIGN)
    }
}

/// One queued event (`struct inotify_event_info`), owned: one `kmalloc` allocation, freed on
/// drop, as upstream's.
///
/// # Invariants
///
/// `ptr` is the start of a `kmalloc` allocation of `size_of::<EventHeader>() + record.len`
/// bytes that this object owns, where an initialised [`EventHeader`] is followed by
/// `record.len` initialised bytes: the name's `name_len` bytes, then NULs. `record.len` is
/// `round_event_name_len(name_len)`.
pub(crate) struct Event {
    ptr: NonNull<EventHeader>,
}

// SAFETY: An event is plain memory that its owner may free from any thread.
unsafe impl Send for Event {}
// SAFETY: A shared event is only read.
unsafe impl Sync for Event {}

impl Event {
    /// Allocates an event, with its name copied and padded (`name` without a NUL).
    pub(crate) fn new(wd: i32, mask: u32, cookie: u32, name: &[u8], flags: Gfp) -> Result<Self> {
        // Names come from `struct qstr`, whose length is a `u32`.
        let name_len = u32::try_from(name.len()).map_err(|_| ENAMETOOLONG)?;
        let padded = round_event_name_len(name.len()).ok_or(ENAMETOOLONG)?;
        let len = u32::try_from(padded).map_err(|_| ENAMETOOLONG)?;
        let size = size_of::<EventHeader>()
            .checked_add(padded)
            .ok_or(ENAMETOOLONG)?;
        let ptr = kmalloc(size, flags)?.cast::<EventHeader>();
        // SAFETY: The allocation is `size` bytes, aligned to 8 (`kmalloc`): room for the header
        // and `padded` bytes after it. When there is a name, `padded` is a multiple of 16 of at
        // least 16, so its last 16 bytes are two aligned `u64`s after the header (which is a
        // multiple of 8 long); the name, shorter than `padded`, is copied over them from the
        // start, and the NULs after it remain.
        unsafe {
            ptr.as_ptr().write(EventHeader {
                next: None,
                mask,
                name_len,
                record: InotifyEvent {
                    wd,
                    mask: inotify_mask_to_arg(mask),
                    cookie,
                    len,
                },
            });
            if padded > 0 {
                let tail = ptr
                    .as_ptr()
                    .cast::<u8>()
                    .add(size - EVENT_ALIGN)
                    .cast::<u64>();
                tail.write(0);
                tail.add(1).write(0);
                core::ptr::copy_nonoverlapping(
                    name.as_ptr(),
                    ptr.as_ptr().add(1).cast::<u8>(),
                    name.len(),
                );
            }
        }
        // INVARIANT: The header and `padded` bytes of name and NULs are written, as described.
        Ok(Self { ptr })
    }

    /// A view of the event.
    pub(crate) fn get(&self) -> EventRef<'_> {
        EventRef {
            ptr: self.ptr,
            _event: PhantomData,
        }
    }

    /// Gives up ownership, for an [`EventList`].
    fn into_raw(self) -> NonNull<EventHeader> {
        let ptr = self.ptr;
        core::mem::forget(self);
        ptr
    }

    /// Takes back ownership of an event from [`Event::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` came from [`Event::into_raw`], and this is its only new owner.
    unsafe fn from_raw(ptr: NonNull<EventHeader>) -> Self {
        // INVARIANT: As when `into_raw` gave it up.
        Self { ptr }
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, the event owns its `kmalloc` allocation, which holds
        // nothing to drop.
        unsafe { kfree(self.ptr.cast()) }
    }
}

/// A shared view of an event, owned by an [`Event`] or an [`EventList`] for `'a`.
///
/// Not a `&EventHeader`: the event's name lies beyond the header, and is reached through the
/// allocation's own pointer.
///
/// # Invariants
///
/// `ptr` is an event as [`Event`]'s invariant describes, not written for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct EventRef<'a> {
    ptr: NonNull<EventHeader>,
    _event: PhantomData<&'a Event>,
}

impl<'a> EventRef<'a> {
    /// The header.
    fn header(self) -> &'a EventHeader {
        // SAFETY: By the type invariant, an initialised header not written for `'a`.
        unsafe { self.ptr.as_ref() }
    }

    /// The watch descriptor, -1 for the overflow event.
    pub(crate) fn wd(self) -> i32 {
        self.header().record.wd
    }

    /// The fsnotify mask as the event was reported.
    pub(crate) fn mask(self) -> u32 {
        self.header().mask
    }

    /// The name without its NUL, empty for events on the watched object itself.
    pub(crate) fn name(self) -> &'a [u8] {
        // SAFETY: By the type invariant, `name_len` initialised bytes follow the header in
        // its allocation, which is not written for `'a`.
        unsafe {
            core::slice::from_raw_parts(
                self.ptr.as_ptr().add(1).cast::<u8>(),
                self.header().name_len as usize,
            )
        }
    }

    /// The name's length once padded (`round_event_name_len`).
    pub(crate) fn padded_name_len(self) -> usize {
        self.header().record.len as usize
    }

    /// The size of the record `read` returns for this event.
    pub(crate) fn record_len(self) -> usize {
        EVENT_SIZE + self.padded_name_len()
    }

    /// The record `read` returns for this event: `struct inotify_event` with the mask user space
    /// sees, then the name padded with NULs.
    pub(crate) fn record(self) -> &'a [u8] {
        // SAFETY: By the type invariant, the header's `record` (16 bytes, `repr(C)` with no
        // padding) is followed by `record.len` initialised bytes, all in the allocation and
        // not written for `'a`.
        unsafe {
            core::slice::from_raw_parts(
                (&raw const (*self.ptr.as_ptr()).record).cast::<u8>(),
                self.record_len(),
            )
        }
    }

    /// `event_compare`: whether an event (`wd`, `mask`, `name`) merges into `self`, the newest
    /// queued event.
    fn merges(self, wd: i32, mask: u32, name: &[u8]) -> bool {
        let header = self.header();
        // An IN_IGNORED event is never merged onto: the watch's wd is gone after it.
        header.mask & IN_IGNORED == 0
            && header.mask == mask
            && header.record.wd == wd
            && header.name_len as usize == name.len()
            // Most events have no name: no byte compare for them.
            && (name.is_empty() || self.name() == name)
    }

    /// Whether this is an overflow event.
    fn is_overflow(self) -> bool {
        self.wd() == -1 && self.mask() == IN_Q_OVERFLOW
    }
}

/// A list of events, oldest first, linked through the events themselves (upstream's list of
/// `struct fsnotify_event`): queueing and dequeueing allocate nothing.
///
/// # Invariants
///
/// - `head` is `None` exactly when the list is empty, and then `tail` is `None` too.
/// - Following `next` from `head` visits each of the list's events once and ends at `tail`,
///   whose `next` is `None`.
/// - The list owns its events: each came from [`Event::into_raw`].
pub(crate) struct EventList {
    head: Option<NonNull<EventHeader>>,
    tail: Option<NonNull<EventHeader>>,
}

// SAFETY: The list owns its events, which are `Send`.
unsafe impl Send for EventList {}
// SAFETY: A shared list is only read.
unsafe impl Sync for EventList {}

impl EventList {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        // INVARIANT: Empty.
        Self {
            head: None,
            tail: None,
        }
    }

    /// Whether the list has no event.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// The oldest event.
    pub(crate) fn front(&self) -> Option<EventRef<'_>> {
        // INVARIANT: The list's events are written only through `&mut self`.
        self.head.map(|ptr| EventRef {
            ptr,
            _event: PhantomData,
        })
    }

    /// The newest event.
    pub(crate) fn back(&self) -> Option<EventRef<'_>> {
        // INVARIANT: As in `front`.
        self.tail.map(|ptr| EventRef {
            ptr,
            _event: PhantomData,
        })
    }

    /// Appends `event`.
    pub(crate) fn push_back(&mut self, event: Event) {
        let ptr = event.into_raw();
        // SAFETY: The event is this list's now, and nothing else refers to it.
        unsafe { (*ptr.as_ptr()).next = None };
        match self.tail {
            // SAFETY: `tail` is this list's, and written only through `&mut self`.
            Some(tail) => unsafe { (*tail.as_ptr()).next = Some(ptr) },
            None => self.head = Some(ptr),
        }
        // INVARIANT: `ptr` is linked after the old tail (or is the only event), with no next.
        self.tail = Some(ptr);
    }

    /// Removes and returns the oldest event.
    pub(crate) fn pop_front(&mut self) -> Option<Event> {
        let head = self.head?;
        // SAFETY: `head` is this list's.
        let next = unsafe { (*head.as_ptr()).next };
        // INVARIANT: The list now starts at the next event; if there was none, it is empty.
        self.head = next;
        if next.is_none() {
            self.tail = None;
        }
        // SAFETY: `head` came from `Event::into_raw` and the list gives it up.
        Some(unsafe { Event::from_raw(head) })
    }

    /// The events, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = EventRef<'_>> {
        let mut at = self.front();
        core::iter::from_fn(move || {
            let event = at?;
            // INVARIANT: The next event is the list's too, borrowed as long.
            at = event.header().next.map(|ptr| EventRef {
                ptr,
                _event: PhantomData,
            });
            Some(event)
        })
    }
}

impl Default for EventList {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for EventList {
    fn drop(&mut self) {
        while let Some(event) = self.pop_front() {
            drop(event);
        }
    }
}

/// A key that two events that merge share: their wd, their mask and a digest of their name.
///
/// Events with different keys never merge; events with the same key usually do (names that
/// differ only in their middle bytes share a digest). It is only a guess, made without the
/// queue's lock, of which way to take: [`Notification::insert`] decides.
pub(crate) fn merge_key(wd: i32, mask: u32, name: &[u8]) -> u64 {
    // CAST: The wd's bits, as they are.
    let mut key = (u64::from(wd as u32) << 32) | u64::from(mask);
    if let (Some(&first), Some(&last)) = (name.first(), name.last()) {
        // CAST: Only the length's low bits matter to a digest.
        key ^= ((name.len() as u64) << 48) ^ (u64::from(first) << 40) ^ (u64::from(last) << 24);
    }
    key
}

/// A [`merge_key`] that no event that merges has: the one of an `IN_IGNORED` event, which
/// nothing merges into, and of an empty queue. The next event is allocated first.
pub(crate) const NO_MERGE: u64 = u64::MAX;

/// Not a [`merge_key`]: the queue is full or shut down, so that the next event is likely to be
/// dropped, and is decided before anything is allocated.
pub(crate) const DECIDE_FIRST: u64 = u64::MAX - 1;

/// What became of an event given to [`Notification::insert`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// Queued at the tail; readers must be woken.
    Queued,
    /// Merged into the newest event (it still counts as delivered, for `IN_ONESHOT`).
    Merged,
    /// The queue was full: the overflow event is queued (woken: `true`) or was already.
    Overflow(bool),
    /// The instance is shutting down.
    Dropped,
}

/// The queue proper, kept under the instance's notification lock.
pub(crate) struct Notification {
    list: EventList,
    /// Events queued, the overflow event included (`q_len`).
    len: usize,
    /// Bytes a read of everything would return (the sum of `record_len`).
    bytes: usize,
    /// `max_queued_events`, sampled when the instance was opened.
    max_events: usize,
    /// The preallocated overflow event, while it is not queued.
    overflow: Option<Event>,
    /// Set when the file is released: nothing is queued after that.
    shutdown: bool,
}

impl Notification {
    /// A queue for `max_events` events, with its overflow event allocated now.
    pub(crate) fn new(max_events: usize) -> Result<Self> {
        Ok(Self {
            list: EventList::new(),
            len: 0,
            bytes: 0,
            max_events,
            overflow: Some(Event::new(-1, IN_Q_OVERFLOW, 0, &[], Gfp::KernelAccount)?),
            shutdown: false,
        })
    }

    /// Whether nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The bytes a large enough read would return now (`FIONREAD`).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// What [`Notification::insert`] would do with an event (`wd`, `mask`, `name`) without
    /// needing the event itself: `None` if it would be queued.
    ///
    /// Upstream allocates every event first and frees it again when it merges; asking this
    /// first, under the same lock, lets a merged event (the most frequent case under a stream
    /// of writes), an overflowed queue or a shut-down instance cost no allocation at all. The
    /// answer holds only while the lock is held: the caller that allocates after unlocking gives
    /// the event to [`Notification::insert`], which decides again.
    pub(crate) fn insert_without_event(
        &mut self,
        wd: i32,
        mask: u32,
        name: &[u8],
    ) -> Option<Inserted> {
        if self.shutdown {
            return Some(Inserted::Dropped);
        }
        if self.len >= self.max_events {
            return Some(Inserted::Overflow(self.queue_overflow()));
        }
        match self.list.back() {
            Some(last) if last.merges(wd, mask, name) => Some(Inserted::Merged),
            _ => None,
        }
    }

    /// `fsnotify_insert_event` with `inotify_merge`.
    ///
    /// The event is dropped unless it was queued; dropping only frees memory, which is allowed
    /// under a spinlock.
    pub(crate) fn insert(&mut self, event: Event) -> Inserted {
        let e = event.get();
        match self.insert_without_event(e.wd(), e.mask(), e.name()) {
            Some(inserted) => inserted,
            None => {
                self.push(event);
                Inserted::Queued
            }
        }
    }

    /// `fsnotify_queue_overflow`: queues the overflow event unless it is queued already; also
    /// used when an event could not be allocated. Returns whether it was queued now.
    pub(crate) fn queue_overflow(&mut self) -> bool {
        if self.shutdown {
            return false;
        }
        match self.overflow.take() {
            Some(overflow) => {
                self.push(overflow);
                true
            }
            None => false,
        }
    }

    fn push(&mut self, event: Event) {
        self.len += 1;
        self.bytes += event.get().record_len();
        self.list.push_back(event);
    }

    /// The size of the record the oldest event needs, if there is one.
    pub(crate) fn peek_record_len(&mut self) -> Option<usize> {
        self.list.front().map(|e| e.record_len())
    }

    /// Dequeues the oldest event (`fsnotify_remove_first_event`).
    ///
    /// The overflow event is returned as well; give it back with [`Notification::recycle`]
    /// once copied, so that it can be queued again.
    pub(crate) fn pop(&mut self) -> Option<Event> {
        let event = self.list.pop_front()?;
        self.len -= 1;
        self.bytes -= event.get().record_len();
        Some(event)
    }

    /// Takes back a dequeued event: keeps the overflow event for reuse, drops any other.
    pub(crate) fn recycle(&mut self, event: Event) {
        drop(self.keep_overflow(event));
    }

    /// Keeps `event` for reuse if it is the overflow event; returns it otherwise.
    fn keep_overflow(&mut self, event: Event) -> Option<Event> {
        if event.get().is_overflow() && self.overflow.is_none() {
            self.overflow = Some(event);
            None
        } else {
            Some(event)
        }
    }

    /// `max_queued_events` as sampled when the instance was opened.
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    pub(crate) fn max_events(&self) -> usize {
        self.max_events
    }

    /// Sets `max_queued_events`, for a restored queue: the limit its instance sampled.
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    pub(crate) fn set_max_events(&mut self, max_events: usize) {
        self.max_events = max_events;
    }

    /// The number of events queued, the overflow event included (`q_len`).
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Writes every queued event, oldest first, into `buf` as checkpoint records: laid out as
    /// `struct inotify_event` with its padded name, but with the mask as queued. Returns the
    /// bytes written, or `None` (and writes nothing) if `buf` is shorter than [`Self::bytes`].
    ///
    /// Only copies: it may be called under the queue's spinlock.
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    pub(crate) fn checkpoint(&self, buf: &mut [u8]) -> Option<usize> {
        let out = buf.get_mut(..self.bytes)?;
        let mut at = 0;
        for event in self.list.iter() {
            let record = event.record();
            let dst = out.get_mut(at..at + record.len())?;
            dst.copy_from_slice(record);
            // The mask as queued, in place of the one user space sees.
            dst.get_mut(4..8)?
                .copy_from_slice(&event.mask().to_ne_bytes());
            at += record.len();
        }
        Some(at)
    }

    /// Queues checkpointed events into this queue, which must be empty; returns the events
    /// back if it is not.
    ///
    /// An overflow event (wd -1, `IN_Q_OVERFLOW`) among them takes the place of the queue's
    /// own, which is returned to be freed outside the lock: as the original, it then goes back
    /// to the queue's reserve when read.
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    pub(crate) fn restore(
        &mut self,
        mut events: EventList,
    ) -> core::result::Result<Option<Event>, EventList> {
        if self.shutdown || !self.list.is_empty() {
            return Err(events);
        }
        let mut own_overflow = None;
        while let Some(event) = events.pop_front() {
            if event.get().is_overflow() {
                own_overflow = self.overflow.take();
            }
            self.push(event);
        }
        Ok(own_overflow)
    }

    /// Dequeues everything, keeping the overflow event; returns the rest to be freed outside
    /// the lock. Used to undo a restore that failed.
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    pub(crate) fn clear(&mut self) -> EventList {
        let mut cleared = EventList::new();
        while let Some(event) = self.pop() {
            if let Some(event) = self.keep_overflow(event) {
                cleared.push_back(event);
            }
        }
        cleared
    }

    /// Stops queueing and returns everything queued, to be freed outside the lock
    /// (`fsnotify_group_stop_queueing` and `fsnotify_flush_notify`).
    pub(crate) fn shut_down(&mut self) -> EventList {
        self.shutdown = true;
        self.len = 0;
        self.bytes = 0;
        core::mem::take(&mut self.list)
    }
}

/// An instance's queue: the [`Notification`] under its spinlock (`notification_lock`), and the
/// bytes it holds as of the last unlock, for `FIONREAD`.
///
/// Upstream's `FIONREAD` takes the lock to walk the list. The count here is kept by the
/// queue, and every lock section ends by publishing it ([`QueueGuard`]'s drop), so `FIONREAD`
/// reads it without the lock: the count of the last complete change, as a locked read right
/// after it would give. An event queued by another thread at the same moment may or may not be
/// counted, as with the lock.
#[pin_data]
pub(crate) struct Queue {
    #[pin]
    lock: SpinLock<Notification>,
    /// [`Notification::bytes`] at the last unlock; stored only under `lock`.
    bytes: Atomic<usize>,
}

impl Queue {
    /// A queue for `max_events` events.
    pub(crate) fn new(max_events: usize) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            lock <- new_spinlock!(Notification::new(max_events)?, "rust_inotify:queue"),
            bytes: Atomic::new(0),
        })
    }

    /// Locks the queue.
    #[inline(always)]
    pub(crate) fn lock(&self) -> QueueGuard<'_> {
        QueueGuard {
            guard: self.lock.lock(),
            bytes: &self.bytes,
        }
    }

    /// The bytes a large enough read would return (`FIONREAD`), without the lock.
    #[inline(always)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Relaxed)
    }
}

/// The locked [`Notification`] of a [`Queue`]; unlocking publishes its byte count.
pub(crate) struct QueueGuard<'a> {
    guard: SpinLockGuard<'a, Notification>,
    bytes: &'a Atomic<usize>,
}

impl QueueGuard<'_> {
    /// Sleeps on `waitq` with the lock released, until woken or signalled (`true`), as
    /// [`CondVar::wait_interruptible`].
    pub(crate) fn wait_interruptible(&mut self, waitq: &CondVar) -> bool {
        self.publish();
        waitq.wait_interruptible(&mut self.guard)
    }

    /// Publishes the byte count, before the lock is released.
    #[inline(always)]
    fn publish(&self) {
        self.bytes.store(self.guard.bytes(), Relaxed);
    }
}

impl Deref for QueueGuard<'_> {
    type Target = Notification;

    #[inline(always)]
    fn deref(&self) -> &Notification {
        &self.guard
    }
}

impl DerefMut for QueueGuard<'_> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Notification {
        &mut self.guard
    }
}

impl Drop for QueueGuard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // The guard itself is dropped after this, so the store is made under the lock.
        self.publish();
    }
}

#[kunit_tests(rust_inotify_notification)]
mod tests {
    use super::*;
    use crate::uapi::{
        IN_ACCESS,
        IN_MODIFY, //
    };

    fn ev(wd: i32, mask: u32, name: &[u8]) -> Result<Event> {
        Event::new(wd, mask, 0, name, Gfp::Kernel)
    }

    /// Pops everything, as `(wd, mask)` pairs.
    fn drain(q: &mut Notification) -> Result<KVec<(i32, u32)>> {
        let mut out = KVec::new();
        while let Some(e) = q.pop() {
            out.push((e.get().wd(), e.get().mask()), GFP_KERNEL)?;
            q.recycle(e);
        }
        Ok(out)
    }

    #[test]
    fn the_published_byte_count_follows_every_unlock() -> Result {
        let queue = KBox::pin_init(Queue::new(4), GFP_KERNEL)?;
        assert_eq!(queue.bytes(), 0);
        // Allocated before the lock, as the handler does.
        let (a, b) = (ev(1, IN_MODIFY, &[])?, ev(2, IN_MODIFY, b"name")?);
        {
            let mut q = queue.lock();
            assert_eq!(q.insert(a), Inserted::Queued);
            assert_eq!(q.insert(b), Inserted::Queued);
        }
        assert_eq!(queue.bytes(), 16 + 32);
        {
            let mut q = queue.lock();
            let e = q.pop().ok_or(EINVAL)?;
            q.recycle(e);
        }
        assert_eq!(queue.bytes(), 32);
        let dropped = queue.lock().shut_down();
        drop(dropped);
        assert_eq!(queue.bytes(), 0);
        Ok(())
    }

    #[test]
    fn record_lengths_are_padded_to_16() -> Result {
        assert_eq!(ev(1, IN_ACCESS, b"")?.get().record_len(), 16);
        assert_eq!(ev(1, IN_ACCESS, b"a")?.get().record_len(), 32);
        assert_eq!(ev(1, IN_ACCESS, &[b'a'; 15])?.get().record_len(), 32);
        assert_eq!(ev(1, IN_ACCESS, &[b'a'; 16])?.get().record_len(), 48);
        assert_eq!(ev(1, IN_ACCESS, &[b'a'; 255])?.get().record_len(), 16 + 256);
        Ok(())
    }

    #[test]
    fn records_are_what_read_returns() -> Result {
        // The user's mask lacks FS_EVENT_ON_CHILD; the queued one keeps it.
        let e = Event::new(7, IN_MODIFY | 0x0800_0000, 42, b"abc", Gfp::Kernel)?;
        let e = e.get();
        assert_eq!(e.wd(), 7);
        assert_eq!(e.mask(), IN_MODIFY | 0x0800_0000);
        assert_eq!(e.name(), b"abc");
        let record = e.record();
        assert_eq!(record.len(), 32);
        assert_eq!(&record[0..4], &7i32.to_ne_bytes());
        assert_eq!(&record[4..8], &IN_MODIFY.to_ne_bytes());
        assert_eq!(&record[8..12], &42u32.to_ne_bytes());
        assert_eq!(&record[12..16], &16u32.to_ne_bytes());
        assert_eq!(&record[16..32], b"abc\0\0\0\0\0\0\0\0\0\0\0\0\0");
        // A name that fills its padding but for one NUL, and one that needs 16 more.
        for (len, padded) in [(15, 16), (16, 32), (255, 256), (4095, 4096)] {
            let mut name = KVec::new();
            for i in 0..len {
                name.push(b'a' + (i % 26) as u8, GFP_KERNEL)?;
            }
            let e = Event::new(1, IN_ACCESS, 0, &name, Gfp::Kernel)?;
            let record = e.get().record();
            assert_eq!(record.len(), EVENT_SIZE + padded);
            assert_eq!(&record[12..16], &(padded as u32).to_ne_bytes());
            assert_eq!(&record[EVENT_SIZE..EVENT_SIZE + len], &name[..]);
            assert!(record[EVENT_SIZE + len..].iter().all(|&b| b == 0));
            assert_eq!(e.get().name(), &name[..]);
        }
        Ok(())
    }

    #[test]
    fn event_lists_are_fifo() -> Result {
        let mut list = EventList::new();
        assert!(list.is_empty());
        assert!(list.front().is_none() && list.back().is_none());
        for wd in 1..=3 {
            list.push_back(ev(wd, IN_ACCESS, b"")?);
            assert_eq!(list.back().map(|e| e.wd()), Some(wd));
            assert_eq!(list.front().map(|e| e.wd()), Some(1));
        }
        let wds = list.iter().map(|e| e.wd());
        assert!(wds.eq([1, 2, 3]));
        assert_eq!(list.pop_front().map(|e| e.get().wd()), Some(1));
        // Appending after a pop links after the tail, not the old head.
        list.push_back(ev(4, IN_ACCESS, b"x")?);
        assert!(list.iter().map(|e| e.wd()).eq([2, 3, 4]));
        assert_eq!(list.pop_front().map(|e| e.get().wd()), Some(2));
        assert_eq!(list.pop_front().map(|e| e.get().wd()), Some(3));
        assert_eq!(list.pop_front().map(|e| e.get().wd()), Some(4));
        assert!(list.is_empty());
        assert!(list.back().is_none());
        assert!(list.pop_front().is_none());
        // Emptied, it links again from the head; dropped full, it frees its events.
        list.push_back(ev(5, IN_ACCESS, b"")?);
        list.push_back(ev(6, IN_ACCESS, b"")?);
        assert!(list.iter().map(|e| e.wd()).eq([5, 6]));
        drop(list);
        Ok(())
    }

    #[test]
    fn merge_keys_tell_apart_what_never_merges() -> Result {
        let key = merge_key(1, IN_ACCESS, b"");
        assert_eq!(key, merge_key(1, IN_ACCESS, b""));
        assert_ne!(key, merge_key(2, IN_ACCESS, b""));
        assert_ne!(key, merge_key(1, IN_MODIFY, b""));
        assert_ne!(key, merge_key(1, IN_ACCESS, b"a"));
        assert_ne!(merge_key(1, IN_ACCESS, b"a"), merge_key(1, IN_ACCESS, b"b"));
        assert_ne!(
            merge_key(1, IN_ACCESS, b"a"),
            merge_key(1, IN_ACCESS, b"aa")
        );
        assert_eq!(
            merge_key(1, IN_ACCESS, b"file"),
            merge_key(1, IN_ACCESS, b"file")
        );
        // Only a guess: names that differ in the middle share a key.
        assert_eq!(
            merge_key(1, IN_ACCESS, b"a1b"),
            merge_key(1, IN_ACCESS, b"a2b")
        );
        assert_ne!(key, NO_MERGE);
        assert_ne!(key, DECIDE_FIRST);
        assert_ne!(merge_key(-1, IN_Q_OVERFLOW, b""), NO_MERGE);
        Ok(())
    }

    #[test]
    fn only_the_tail_merges() -> Result {
        let mut q = Notification::new(16)?;
        assert_eq!(q.insert(ev(1, IN_ACCESS, b"")?), Inserted::Queued);
        assert_eq!(q.insert(ev(1, IN_ACCESS, b"")?), Inserted::Merged);
        assert_eq!(q.insert(ev(1, IN_MODIFY, b"")?), Inserted::Queued);
        // Same as the first, but not the tail: queued.
        assert_eq!(q.insert(ev(1, IN_ACCESS, b"")?), Inserted::Queued);
        // Another wd or another name does not merge.
        assert_eq!(q.insert(ev(2, IN_ACCESS, b"")?), Inserted::Queued);
        assert_eq!(q.insert(ev(2, IN_ACCESS, b"f")?), Inserted::Queued);
        assert_eq!(q.insert(ev(2, IN_ACCESS, b"g")?), Inserted::Queued);
        assert_eq!(q.insert(ev(2, IN_ACCESS, b"g")?), Inserted::Merged);
        assert_eq!(q.bytes(), 16 * 4 + 32 * 2);
        Ok(())
    }

    #[test]
    fn never_merges_onto_ignored() -> Result {
        let mut q = Notification::new(16)?;
        assert_eq!(q.insert(ev(1, IN_IGNORED, b"")?), Inserted::Queued);
        assert_eq!(q.insert(ev(1, IN_IGNORED, b"")?), Inserted::Queued);
        assert_eq!(drain(&mut q)?.len(), 2);
        Ok(())
    }

    #[test]
    fn overflow_is_queued_once_and_last() -> Result {
        let mut q = Notification::new(3)?;
        for i in 0..10u32 {
            let mask = if i % 2 == 0 { IN_ACCESS } else { IN_MODIFY };
            let inserted = q.insert(ev(1, mask, b"")?);
            match i {
                0..=2 => assert_eq!(inserted, Inserted::Queued),
                3 => assert_eq!(inserted, Inserted::Overflow(true)),
                _ => assert_eq!(inserted, Inserted::Overflow(false)),
            }
        }
        assert_eq!(q.bytes(), 4 * 16);
        let all = drain(&mut q)?;
        assert_eq!(all.len(), 4);
        assert_eq!(all.last(), Some(&(-1, IN_Q_OVERFLOW)));
        // Read back, the overflow event can be queued again.
        assert!(q.is_empty());
        assert_eq!(q.bytes(), 0);
        assert!(q.queue_overflow());
        assert!(!q.queue_overflow());
        Ok(())
    }

    #[test]
    fn zero_max_events_overflows_everything() -> Result {
        let mut q = Notification::new(0)?;
        assert_eq!(q.insert(ev(1, IN_IGNORED, b"")?), Inserted::Overflow(true));
        assert_eq!(q.insert(ev(1, IN_ACCESS, b"")?), Inserted::Overflow(false));
        assert_eq!(drain(&mut q)?.as_slice(), &[(-1, IN_Q_OVERFLOW)]);
        Ok(())
    }

    #[test]
    fn nothing_is_queued_after_shutdown() -> Result {
        let mut q = Notification::new(4)?;
        assert_eq!(q.insert(ev(1, IN_ACCESS, b"")?), Inserted::Queued);
        let flushed = q.shut_down();
        assert!(!flushed.is_empty());
        assert!(q.is_empty());
        assert_eq!(q.insert(ev(1, IN_MODIFY, b"")?), Inserted::Dropped);
        assert!(!q.queue_overflow());
        assert_eq!(q.bytes(), 0);
        Ok(())
    }

    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    #[test]
    fn checkpoint_records_are_read_records_with_the_queued_mask() -> Result {
        let mut q = Notification::new(8)?;
        assert_eq!(
            q.insert(ev(7, IN_MODIFY | 0x0800_0000, b"abc")?),
            Inserted::Queued
        );
        assert_eq!(q.insert(ev(9, IN_ACCESS, b"")?), Inserted::Queued);
        let mut short = [0u8; 47];
        assert_eq!(q.checkpoint(&mut short), None);
        let mut buf = [0xffu8; 64];
        assert_eq!(q.checkpoint(&mut buf), Some(48));
        assert_eq!(&buf[0..4], &7i32.to_ne_bytes());
        assert_eq!(&buf[4..8], &(IN_MODIFY | 0x0800_0000).to_ne_bytes());
        assert_eq!(&buf[12..16], &16u32.to_ne_bytes());
        assert_eq!(&buf[16..32], b"abc\0\0\0\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(&buf[32..36], &9i32.to_ne_bytes());
        assert_eq!(&buf[44..48], &0u32.to_ne_bytes());
        // Nothing was dequeued.
        assert_eq!(q.bytes(), 48);
        Ok(())
    }

    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    #[test]
    fn a_restored_overflow_event_takes_the_place_of_the_queues_own() -> Result {
        let mut q = Notification::new(2)?;
        let mut events = EventList::new();
        events.push_back(ev(1, IN_ACCESS, b"")?);
        events.push_back(ev(1, IN_MODIFY, b"")?);
        events.push_back(ev(-1, IN_Q_OVERFLOW, b"")?);
        let own = q.restore(events).map_err(|_| EBUSY)?;
        assert!(own.is_some());
        assert_eq!(q.len(), 3);
        // Full, with the overflow event queued: new events are dropped, no second overflow.
        assert_eq!(q.insert(ev(2, IN_ACCESS, b"")?), Inserted::Overflow(false));
        // A queue that is not empty takes no restore.
        assert!(q.restore(EventList::new()).is_err());
        let all = drain(&mut q)?;
        assert_eq!(
            all.as_slice(),
            &[(1, IN_ACCESS), (1, IN_MODIFY), (-1, IN_Q_OVERFLOW)]
        );
        // The restored overflow event was kept for reuse when read.
        assert!(q.queue_overflow());
        assert_eq!(q.clear().iter().count(), 0);
        assert!(q.is_empty());
        // And `clear` keeps it too.
        assert!(q.queue_overflow());
        Ok(())
    }
}
