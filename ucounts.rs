// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Per-user counts of instances and watches, checked against the limits.
//!
//! C file: [`kernel/ucount.c`](srctree/kernel/ucount.c) (`inc_ucount`, `dec_ucount` with
//! `UCOUNT_INOTIFY_INSTANCES` and `UCOUNT_INOTIFY_WATCHES`), which is not exported to modules.
//! Users are told apart by their kernel uid (the effective uid of whoever opened the instance);
//! unlike upstream, user namespaces are not walked upwards: a documented deviation.

use kernel::{
    prelude::*,
    task::Kuid, //
};

/// What is counted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// Open instances (`max_user_instances`, `EMFILE`).
    Instances,
    /// Watches (`max_user_watches`, `ENOSPC`).
    Watches,
}

/// One user's counts.
struct UserCount {
    uid: Kuid,
    instances: u32,
    watches: u32,
}

impl UserCount {
    fn count(&mut self, kind: Kind) -> &mut u32 {
        match kind {
            Kind::Instances => &mut self.instances,
            Kind::Watches => &mut self.watches,
        }
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init` in the module initializer, before any instance exists.
    unsafe(uninit) static USERS: Mutex<KVec<UserCount>> = KVec::new();
}

/// Initialises the table; called once, from the module initializer.
pub(crate) fn init() {
    // SAFETY: Called exactly once, before the device is registered.
    unsafe { USERS.init() };
}

/// Frees the table's memory; called from module exit, when no instance is left.
pub(crate) fn exit() {
    *USERS.lock() = KVec::new();
}

/// Charges one `kind` to `uid` unless that would exceed `max` (`inc_ucount`).
///
/// Returns `Ok(false)` when the limit is reached, and an error only if memory for a new user's
/// entry could not be had. Never allocates under the lock: `uncharge` takes it from fsnotify's
/// callbacks, so a table that must grow is grown unlocked, then swapped in.
pub(crate) fn charge(uid: Kuid, kind: Kind, max: u32) -> Result<bool> {
    let mut spare: KVec<UserCount> = KVec::new();
    loop {
        let mut users = USERS.lock();
        if let Some(entry) = users.iter_mut().find(|u| u.uid == uid) {
            let count = entry.count(kind);
            if *count >= max {
                return Ok(false);
            }
            *count += 1;
            return Ok(true);
        }
        if max == 0 {
            return Ok(false);
        }
        let mut entry = UserCount {
            uid,
            instances: 0,
            watches: 0,
        };
        *entry.count(kind) = 1;
        if users.len() < users.capacity() || spare.capacity() > users.len() {
            if users.len() == users.capacity() {
                // Move the entries into the bigger table reserved below, and keep the old one
                // in `spare`, to be freed after unlocking.
                for old in users.drain_all() {
                    if spare.push_within_capacity(old).is_err() {
                        return Err(ENOMEM);
                    }
                }
                core::mem::swap(&mut *users, &mut spare);
            }
            return match users.push_within_capacity(entry) {
                Ok(()) => Ok(true),
                Err(_) => Err(ENOMEM),
            };
        }
        let want = users.capacity() * 2 + 4;
        drop(users);
        spare = KVec::with_capacity(want, GFP_KERNEL)?;
    }
}

/// Gives back one `kind` charged to `uid` (`dec_ucount`).
pub(crate) fn uncharge(uid: Kuid, kind: Kind) {
    let mut users = USERS.lock();
    if let Some(i) = users.iter().position(|u| u.uid == uid) {
        // PANIC: `i` comes from `position` on the same, locked, table.
        let entry = &mut users[i];
        let count = entry.count(kind);
        *count = count.saturating_sub(1);
        if entry.instances == 0 && entry.watches == 0 {
            // `swap_remove`: the order of entries does not matter.
            // OVERFLOW: the table holds at least entry `i`.
            let last = users.len() - 1;
            users.as_mut_slice().swap(i, last);
            users.pop();
        }
    }
}
