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

use kernel::{
    alloc::Flags,
    list::{
        List,
        ListArc,
        ListLinks, //
    },
    prelude::*, //
};

use crate::uapi::{
    EVENT_ALIGN,
    EVENT_SIZE,
    IN_IGNORED,
    IN_Q_OVERFLOW, //
};

/// One queued event (`struct inotify_event_info`).
#[pin_data]
pub(crate) struct Event {
    /// The watch descriptor, -1 for the overflow event.
    pub(crate) wd: i32,
    /// The fsnotify mask as the event was reported; `read` turns it into the user's.
    pub(crate) mask: u32,
    /// The rename cookie.
    pub(crate) cookie: u32,
    /// The name without its NUL, empty for events on the watched object itself.
    name: EventName,
    #[pin]
    links: ListLinks,
}

/// Names up to this long are kept inside the event, so that the event is one allocation, as
/// upstream's `struct inotify_event_info` with its flexible `name[]` is. Longer names (rare:
/// most file names are short) take a second allocation.
const NAME_INLINE: usize = 40;

/// The name of an [`Event`].
enum EventName {
    /// A name of at most [`NAME_INLINE`] bytes, in the event itself.
    Inline {
        /// The name's length.
        len: u8,
        /// The name in its first `len` bytes.
        bytes: [u8; NAME_INLINE],
    },
    /// A longer name.
    Heap(KVec<u8>),
}

impl EventName {
    /// Copies `name`, allocating only if it is longer than [`NAME_INLINE`].
    fn new(name: &[u8], flags: Flags) -> Result<Self> {
        match u8::try_from(name.len()) {
            Ok(len) if name.len() <= NAME_INLINE => {
                let mut bytes = [0; NAME_INLINE];
                bytes[..name.len()].copy_from_slice(name);
                Ok(Self::Inline { len, bytes })
            }
            _ => {
                let mut owned = KVec::with_capacity(name.len(), flags)?;
                owned.extend_from_slice(name, flags)?;
                Ok(Self::Heap(owned))
            }
        }
    }

    /// The name's bytes.
    fn as_bytes(&self) -> &[u8] {
        match self {
            // `len` is at most `NAME_INLINE` (set by `new`), so the range is in bounds.
            Self::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or(&[]),
            Self::Heap(name) => name,
        }
    }
}

kernel::list::impl_list_arc_safe! {
    impl ListArcSafe<0> for Event { untracked; }
}
kernel::list::impl_list_item! {
    impl ListItem<0> for Event { using ListLinks { self.links }; }
}

impl Event {
    /// Allocates an event; `name` is copied.
    pub(crate) fn new(
        wd: i32,
        mask: u32,
        cookie: u32,
        name: &[u8],
        flags: Flags,
    ) -> Result<ListArc<Self>> {
        let name = EventName::new(name, flags)?;
        ListArc::pin_init(
            try_pin_init!(Self {
                wd,
                mask,
                cookie,
                name,
                links <- ListLinks::new(),
            }),
            flags,
        )
    }

    /// The name without its NUL, empty for events on the watched object itself.
    pub(crate) fn name(&self) -> &[u8] {
        self.name.as_bytes()
    }

    /// The name's length once padded (`round_event_name_len`): 0 without a name, else the name
    /// and at least one NUL rounded up to a multiple of [`EVENT_ALIGN`].
    pub(crate) fn padded_name_len(&self) -> usize {
        let len = self.name().len();
        if len == 0 {
            0
        } else {
            (len + 1).next_multiple_of(EVENT_ALIGN)
        }
    }

    /// The size of the record `read` returns for this event.
    pub(crate) fn record_len(&self) -> usize {
        EVENT_SIZE + self.padded_name_len()
    }

    /// `event_compare`: whether an event (`wd`, `mask`, `name`) merges into `self`, the newest
    /// queued event.
    fn merges(&self, wd: i32, mask: u32, name: &[u8]) -> bool {
        // An IN_IGNORED event is never merged onto: the watch's wd is gone after it.
        self.mask & IN_IGNORED == 0 && self.mask == mask && self.wd == wd && self.name() == name
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
    list: List<Event>,
    /// Events queued, the overflow event included (`q_len`).
    len: usize,
    /// Bytes a read of everything would return (the sum of `record_len`).
    bytes: usize,
    /// `max_queued_events`, sampled when the instance was opened.
    max_events: usize,
    /// The preallocated overflow event, while it is not queued.
    overflow: Option<ListArc<Event>>,
    /// Set when the file is released: nothing is queued after that.
    shutdown: bool,
}

impl Notification {
    /// A queue for `max_events` events, with its overflow event allocated now.
    pub(crate) fn new(max_events: usize) -> Result<Self> {
        Ok(Self {
            list: List::new(),
            len: 0,
            bytes: 0,
            max_events,
            overflow: Some(Event::new(-1, IN_Q_OVERFLOW, 0, &[], GFP_KERNEL_ACCOUNT)?),
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
        match self.list.cursor_back().peek_prev() {
            Some(last) if last.merges(wd, mask, name) => Some(Inserted::Merged),
            _ => None,
        }
    }

    /// `fsnotify_insert_event` with `inotify_merge`.
    ///
    /// The event is dropped unless it was queued; dropping only frees memory, which is allowed
    /// under a spinlock.
    pub(crate) fn insert(&mut self, event: ListArc<Event>) -> Inserted {
        match self.insert_without_event(event.wd, event.mask, event.name()) {
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

    fn push(&mut self, event: ListArc<Event>) {
        self.len += 1;
        self.bytes += event.record_len();
        self.list.push_back(event);
    }

    /// The size of the record the oldest event needs, if there is one.
    pub(crate) fn peek_record_len(&mut self) -> Option<usize> {
        self.list.cursor_front().peek_next().map(|e| e.record_len())
    }

    /// Dequeues the oldest event (`fsnotify_remove_first_event`).
    ///
    /// The overflow event is returned as well; give it back with [`Notification::recycle`]
    /// once copied, so that it can be queued again.
    pub(crate) fn pop(&mut self) -> Option<ListArc<Event>> {
        let event = self.list.pop_front()?;
        self.len -= 1;
        self.bytes -= event.record_len();
        Some(event)
    }

    /// Takes back a dequeued event: keeps the overflow event for reuse, drops any other.
    pub(crate) fn recycle(&mut self, event: ListArc<Event>) {
        drop(self.keep_overflow(event));
    }

    /// Keeps `event` for reuse if it is the overflow event; returns it otherwise.
    fn keep_overflow(&mut self, event: ListArc<Event>) -> Option<ListArc<Event>> {
        if event.wd == -1 && event.mask == IN_Q_OVERFLOW && self.overflow.is_none() {
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
            let padded = event.padded_name_len();
            let record = out.get_mut(at..at + EVENT_SIZE + padded)?;
            let (header, name) = record.split_at_mut(EVENT_SIZE);
            // CAST: names come from `struct qstr`, whose length is a `u32`.
            let fields = [event.wd as u32, event.mask, event.cookie, padded as u32];
            for (dst, field) in header.chunks_exact_mut(4).zip(fields) {
                dst.copy_from_slice(&field.to_ne_bytes());
            }
            let len = event.name().len();
            name.get_mut(..len)?.copy_from_slice(event.name());
            name.get_mut(len..)?.fill(0);
            at += EVENT_SIZE + padded;
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
        mut events: List<Event>,
    ) -> core::result::Result<Option<ListArc<Event>>, List<Event>> {
        if self.shutdown || !self.list.is_empty() {
            return Err(events);
        }
        let mut own_overflow = None;
        while let Some(event) = events.pop_front() {
            if event.wd == -1 && event.mask == IN_Q_OVERFLOW {
                own_overflow = self.overflow.take();
            }
            self.push(event);
        }
        Ok(own_overflow)
    }

    /// Dequeues everything, keeping the overflow event; returns the rest to be freed outside
    /// the lock. Used to undo a restore that failed.
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    pub(crate) fn clear(&mut self) -> List<Event> {
        let mut cleared = List::new();
        while let Some(event) = self.pop() {
            if let Some(event) = self.keep_overflow(event) {
                cleared.push_back(event);
            }
        }
        cleared
    }

    /// Stops queueing and returns everything queued, to be freed outside the lock
    /// (`fsnotify_group_stop_queueing` and `fsnotify_flush_notify`).
    pub(crate) fn shut_down(&mut self) -> List<Event> {
        self.shutdown = true;
        self.len = 0;
        self.bytes = 0;
        core::mem::take(&mut self.list)
    }
}

#[kunit_tests(rust_inotify_notification)]
mod tests {
    use super::*;
    use crate::uapi::{
        IN_ACCESS,
        IN_MODIFY, //
    };

    fn ev(wd: i32, mask: u32, name: &[u8]) -> Result<ListArc<Event>> {
        Event::new(wd, mask, 0, name, GFP_KERNEL)
    }

    /// Pops everything, as `(wd, mask)` pairs.
    fn drain(q: &mut Notification) -> Result<KVec<(i32, u32)>> {
        let mut out = KVec::new();
        while let Some(e) = q.pop() {
            out.push((e.wd, e.mask), GFP_KERNEL)?;
            q.recycle(e);
        }
        Ok(out)
    }

    #[test]
    fn record_lengths_are_padded_to_16() -> Result {
        assert_eq!(ev(1, IN_ACCESS, b"")?.record_len(), 16);
        assert_eq!(ev(1, IN_ACCESS, b"a")?.record_len(), 32);
        assert_eq!(ev(1, IN_ACCESS, &[b'a'; 15])?.record_len(), 32);
        assert_eq!(ev(1, IN_ACCESS, &[b'a'; 16])?.record_len(), 48);
        assert_eq!(ev(1, IN_ACCESS, &[b'a'; 255])?.record_len(), 16 + 256);
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
        let mut events = List::new();
        events.push_back(ev(1, IN_ACCESS, b"")?);
        events.push_back(ev(1, IN_MODIFY, b"")?);
        events.push_back(ev(-1, IN_Q_OVERFLOW, b"")?);
        let own = q.restore(events).map_err(|_| EBUSY)?;
        assert!(own.is_some());
        assert_eq!(q.len(), 3);
        // Full, with the overflow event queued: new events are dropped, no second overflow.
        assert_eq!(q.insert(ev(2, IN_ACCESS, b"")?), Inserted::Overflow(false));
        // A queue that is not empty takes no restore.
        assert!(q.restore(List::new()).is_err());
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
