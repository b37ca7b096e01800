// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! What an instance does when fsnotify calls it: queue an event, forget a mark.
//!
//! [`Instance`] is the [`Backend`] of its fsnotify group.
//!
//! C file: [`fs/notify/inotify/inotify_fsnotify.c`](srctree/fs/notify/inotify/inotify_fsnotify.c)
//! (`inotify_handle_inode_event`, `inotify_freeing_mark`) and `inotify_ignored_and_remove_idr`
//! and `inotify_remove_from_idr` of `inotify_user.c`. The merge rule is in `notification.rs`.

use kernel::{
    prelude::*,
    sync::atomic::Relaxed, //
};

use crate::{
    fsnotify::{
        Backend,
        MARK_FLAG_IN_ONESHOT, //
    },
    inotify_user::{
        Instance,
        Mark,
        Wd,
        MARKS, //
    },
    notification::{
        merge_key,
        Event,
        Inserted,
        DECIDE_FIRST,
        NO_MERGE, //
    },
    slab::{
        Gfp,
        KmemCache, //
    },
    uapi::{
        IN_DELETE_SELF,
        IN_IGNORED,
        IN_ISDIR,
        IN_MOVE_SELF, //
    },
    ucounts::Kind, //
};

impl Backend for Instance {
    type MarkData = Wd;

    /// `inotify_handle_inode_event`: queues the event for `mark`'s watch; a one-shot watch is
    /// then destroyed, even when the event merged into the previous one.
    fn handle_inode_event(
        &self,
        mark: &Mark,
        mask: u32,
        name: Option<&[u8]>,
        cookie: u32,
    ) -> Result {
        if !self.queue_event(mark, mask, name, cookie)? {
            return Ok(());
        }
        if mark.flags() & MARK_FLAG_IN_ONESHOT != 0 {
            mark.destroy();
        }
        Ok(())
    }

    /// `inotify_freeing_mark` and `inotify_ignored_and_remove_idr`: the watch is gone, by
    /// rm-watch, a one-shot event, deletion, unmount or release. Queues `IN_IGNORED`, frees the
    /// wd and gives back the user's watch.
    fn freeing_mark(&self, mark: &Mark) {
        // An IN_IGNORED that cannot be allocated becomes an overflow, as any lost event.
        let _ = self.queue_event(mark, IN_IGNORED, None, 0);
        self.remove_from_idr(mark);
        self.ucounts().uncharge(Kind::Watches);
    }

    fn mark_cache() -> &'static KmemCache<Mark> {
        &MARKS
    }
}

impl Instance {
    /// The queueing half of `inotify_handle_inode_event`. Returns `false` if the mark is being
    /// detached, and no event was made.
    fn queue_event(
        &self,
        mark: &Mark,
        mut mask: u32,
        name: Option<&[u8]>,
        cookie: u32,
    ) -> Result<bool> {
        // We can be racing with the mark being detached: don't report an event with an
        // invalid wd.
        let wd = mark.data().get();
        if wd == -1 {
            return Ok(false);
        }
        // inotify never reported IN_ISDIR with MOVE_SELF and DELETE_SELF.
        if mask & (IN_MOVE_SELF | IN_DELETE_SELF) != 0 {
            mask &= !IN_ISDIR;
        }
        let name = name.unwrap_or(&[]);
        // A merged event needs no new event. When this one looks like the event queued last,
        // decide first, under the lock, and allocate only if it is queued after all (which
        // takes the lock a second time). Any other event is allocated first and queued in one
        // lock section, as upstream does; if it merges after all, it is freed.
        let key = merge_key(wd, mask, name);
        let tail = self.tail_key.load(Relaxed);
        if tail == key || tail == DECIDE_FIRST {
            let decided = self
                .notification
                .lock()
                .insert_without_event(wd, mask, name);
            if let Some(inserted) = decided {
                if inserted == Inserted::Overflow(true) {
                    self.wake(mark);
                }
                return Ok(true);
            }
        }
        // Whoever is interested in the event pays for its allocation. Do not trigger the OOM
        // killer in the monitoring memcg, as it may have security repercussions.
        let event = mark
            .group()
            .with_memcg(|| Event::new(wd, mask, cookie, name, Gfp::KernelAccountMayFail));
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                // Treat an event lost to ENOMEM as a queue overflow, so that user space knows.
                let queued = self.notification.lock().queue_overflow();
                if queued {
                    self.wake(mark);
                }
                return Err(e);
            }
        };
        let inserted = {
            let mut queue = self.notification.lock();
            let inserted = queue.insert(event);
            match inserted {
                Inserted::Queued if mask & IN_IGNORED == 0 => self.tail_key.store(key, Relaxed),
                Inserted::Queued => self.tail_key.store(NO_MERGE, Relaxed),
                Inserted::Overflow(_) | Inserted::Dropped => {
                    self.tail_key.store(DECIDE_FIRST, Relaxed)
                }
                Inserted::Merged => {}
            }
            inserted
        };
        if matches!(inserted, Inserted::Queued | Inserted::Overflow(true)) {
            self.wake(mark);
        }
        Ok(true)
    }

    /// Wakes readers and pollers, and signals `O_ASYNC` owners, after an event was queued.
    fn wake(&self, mark: &Mark) {
        self.waitq.notify_all();
        mark.group().kill_fasync();
    }

    /// `inotify_remove_from_idr`: removes `mark`'s wd from the table and drops the table's
    /// reference, after unlocking (putting a mark may sleep).
    pub(crate) fn remove_from_idr(&self, mark: &Mark) {
        let Ok(wd) = u32::try_from(mark.data().get()) else {
            return;
        };
        let removed = {
            let mut wds = self.wds.lock();
            match wds.get(wd) {
                Some(entry) if core::ptr::eq::<Mark>(&**entry, mark) => {
                    mark.data().set(-1);
                    wds.remove(wd)
                }
                _ => None,
            }
        };
        drop(removed);
    }
}
