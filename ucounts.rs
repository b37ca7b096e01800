// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! Per-user counts of instances and watches, checked against the limits.
//!
//! C file: [`kernel/ucount.c`](srctree/kernel/ucount.c) (`inc_ucount`, `dec_ucount` with
//! `UCOUNT_INOTIFY_INSTANCES` and `UCOUNT_INOTIFY_WATCHES`), which is not exported to modules.
//!
//! As upstream, one [`Ucounts`] per user is shared by all of that user's instances, and each
//! instance keeps a reference to it (`inotify_data.ucounts`). The counts themselves are atomics,
//! charged with a compare-and-exchange loop that never goes past the limit
//! (`atomic_long_inc_below`), so adding and freeing watches take no lock at all and instances of
//! different users, or of the same user, never serialise on these counts. The table of users is
//! locked only when an instance is created or freed (`alloc_ucounts` and `put_ucounts` take
//! `ucounts_lock` at the same points).
//!
//! Users are told apart by their kernel uid (the effective uid of whoever opened the instance);
//! unlike upstream, user namespaces are not walked upwards: a documented deviation.

use kernel::{
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc, //
    },
    task::Kuid, //
};

/// What is counted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// Open instances (`max_user_instances`, `EMFILE`).
    Instances = 0,
    /// Watches (`max_user_watches`, `ENOSPC`).
    Watches = 1,
}

/// One user's counts (`struct ucounts`).
pub(crate) struct Ucounts {
    /// The user.
    uid: Kuid,
    /// Indexed by [`Kind`]: the number charged, never above the limit it was charged against.
    counts: [Atomic<i32>; 2],
}

impl Ucounts {
    /// Charges one `kind` unless that would exceed `max` (`inc_ucount`). Lock-free.
    ///
    /// Returns `false` when the limit is reached.
    pub(crate) fn charge(&self, kind: Kind, max: u32) -> bool {
        let count = &self.counts[kind as usize];
        let max = i32::try_from(max).unwrap_or(i32::MAX);
        let mut old = count.load(Relaxed);
        loop {
            if old >= max {
                return false;
            }
            // OVERFLOW: `old` is below `max`, which is at most `i32::MAX`.
            match count.cmpxchg(old, old + 1, Relaxed) {
                Ok(_) => return true,
                Err(now) => old = now,
            }
        }
    }

    /// Charges `n` of `kind` at once, or nothing if that would exceed `max`. Lock-free.
    ///
    /// Returns `false` when the limit would be passed. A restore charges all its watches with
    /// this before making any, so that it either fits the limit whole or changes nothing.
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    pub(crate) fn charge_many(&self, kind: Kind, n: usize, max: u32) -> bool {
        let count = &self.counts[kind as usize];
        let max = i32::try_from(max).unwrap_or(i32::MAX);
        let Ok(n) = i32::try_from(n) else {
            return false;
        };
        let mut old = count.load(Relaxed);
        loop {
            if old > max - n {
                return false;
            }
            // OVERFLOW: `old + n` is at most `max`, checked above.
            match count.cmpxchg(old, old + n, Relaxed) {
                Ok(_) => return true,
                Err(now) => old = now,
            }
        }
    }

    /// Gives back `n` of `kind` charged by [`Ucounts::charge_many`]. Lock-free.
    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    pub(crate) fn uncharge_many(&self, kind: Kind, n: usize) {
        // CAST: `n` was charged, so it fits an `i32`.
        let old = self.counts[kind as usize].fetch_sub(n as i32, Relaxed);
        debug_assert!(old >= n as i32);
    }

    /// Gives back one `kind` (`dec_ucount`). Lock-free.
    pub(crate) fn uncharge(&self, kind: Kind) {
        let old = self.counts[kind as usize].fetch_sub(1, Relaxed);
        // A charge is given back once: the count never goes below zero.
        debug_assert!(old > 0);
    }

    /// Returns how many `kind` are charged.
    #[cfg(CONFIG_KUNIT = "y")]
    fn count(&self, kind: Kind) -> i32 {
        self.counts[kind as usize].load(Relaxed)
    }
}

/// An entry of the table of users.
struct User {
    /// The user's counts.
    ucounts: Arc<Ucounts>,
    /// How many references [`get`] handed out and [`put`] did not take back yet.
    refs: usize,
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init` in the module initializer, before any instance exists.
    unsafe(uninit) static USERS: Mutex<KVec<User>> = KVec::new();
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

/// Returns `uid`'s counts, made if the user has none yet (`alloc_ucounts`).
///
/// Called when an instance is created; give the reference back with [`put`]. Allocates before
/// locking, and frees what was not needed after unlocking.
pub(crate) fn get(uid: Kuid) -> Result<Arc<Ucounts>> {
    let mut spare: KVec<User> = KVec::new();
    let mut fresh: Option<Arc<Ucounts>> = None;
    loop {
        let mut users = USERS.lock();
        if let Some(entry) = users.iter_mut().find(|u| u.ucounts.uid == uid) {
            entry.refs += 1;
            return Ok(entry.ucounts.clone());
        }
        if let Some(ucounts) = fresh.take() {
            if users.len() == users.capacity() && spare.capacity() > users.len() {
                // Move the entries into the bigger table reserved below, and keep the old one
                // in `spare`, to be freed after unlocking.
                for old in users.drain_all() {
                    if spare.push_within_capacity(old).is_err() {
                        return Err(ENOMEM);
                    }
                }
                core::mem::swap(&mut *users, &mut spare);
            }
            if users.len() < users.capacity() {
                let entry = User {
                    ucounts: ucounts.clone(),
                    refs: 1,
                };
                return match users.push_within_capacity(entry) {
                    Ok(()) => Ok(ucounts),
                    Err(_) => Err(ENOMEM),
                };
            }
            fresh = Some(ucounts);
        }
        let want = users.capacity() * 2 + 4;
        let grow = users.len() == users.capacity();
        drop(users);
        if fresh.is_none() {
            fresh = Some(Arc::new(
                Ucounts {
                    uid,
                    counts: [Atomic::new(0), Atomic::new(0)],
                },
                GFP_KERNEL,
            )?);
        }
        if grow && spare.capacity() < want {
            spare = KVec::with_capacity(want, GFP_KERNEL)?;
        }
    }
}

/// Gives back a reference from [`get`] (`put_ucounts`): the user's entry leaves the table when
/// the last instance charged to it is freed (its memory goes with the caller's `Arc`, or after
/// unlocking).
pub(crate) fn put(ucounts: &Arc<Ucounts>) {
    let mut users = USERS.lock();
    let Some(i) = users.iter().position(|u| Arc::ptr_eq(&u.ucounts, ucounts)) else {
        return;
    };
    // PANIC: `i` comes from `position` on the same, locked, table.
    let entry = &mut users[i];
    entry.refs = entry.refs.saturating_sub(1);
    if entry.refs == 0 {
        // `swap_remove`: the order of entries does not matter.
        // OVERFLOW: the table holds at least entry `i`.
        let last = users.len() - 1;
        users.as_mut_slice().swap(i, last);
        let removed = users.pop();
        drop(users);
        drop(removed);
    }
}

#[kunit_tests(rust_inotify_ucounts)]
mod tests {
    use super::*;

    fn fresh() -> Ucounts {
        Ucounts {
            uid: Kuid::current_euid(),
            counts: [Atomic::new(0), Atomic::new(0)],
        }
    }

    #[test]
    fn charge_stops_at_the_limit_and_uncharge_frees_one() -> Result {
        let u = fresh();
        assert!(u.charge(Kind::Watches, 2));
        assert!(u.charge(Kind::Watches, 2));
        assert!(!u.charge(Kind::Watches, 2));
        assert_eq!(u.count(Kind::Watches), 2);
        // The other kind is counted apart.
        assert!(u.charge(Kind::Instances, 1));
        assert!(!u.charge(Kind::Instances, 1));
        u.uncharge(Kind::Watches);
        assert!(u.charge(Kind::Watches, 2));
        assert!(!u.charge(Kind::Watches, 2));
        Ok(())
    }

    #[test]
    fn a_lowered_limit_refuses_without_changing_the_count() -> Result {
        let u = fresh();
        for _ in 0..5 {
            assert!(u.charge(Kind::Watches, 10));
        }
        // As upstream: a limit below the count refuses new charges; existing ones stay.
        assert!(!u.charge(Kind::Watches, 3));
        assert!(!u.charge(Kind::Watches, 0));
        assert_eq!(u.count(Kind::Watches), 5);
        Ok(())
    }

    #[cfg(all(CONFIG_CHECKPOINT_RESTORE, not(rust_inotify_no_setnextwd)))]
    #[test]
    fn charge_many_fits_whole_or_changes_nothing() -> Result {
        let u = fresh();
        assert!(u.charge(Kind::Watches, 10));
        assert!(!u.charge_many(Kind::Watches, 10, 10));
        assert_eq!(u.count(Kind::Watches), 1);
        assert!(u.charge_many(Kind::Watches, 9, 10));
        assert_eq!(u.count(Kind::Watches), 10);
        assert!(!u.charge(Kind::Watches, 10));
        u.uncharge_many(Kind::Watches, 9);
        assert_eq!(u.count(Kind::Watches), 1);
        // More than an `int` can count is refused, not wrapped.
        assert!(!u.charge_many(Kind::Watches, usize::MAX, u32::MAX));
        assert_eq!(u.count(Kind::Watches), 1);
        Ok(())
    }

    #[test]
    fn limits_above_int_max_are_clamped() -> Result {
        let u = fresh();
        assert!(u.charge(Kind::Watches, u32::MAX));
        assert_eq!(u.count(Kind::Watches), 1);
        Ok(())
    }

    #[test]
    fn one_entry_per_user_until_the_last_put() -> Result {
        let uid = Kuid::current_euid();
        let a = get(uid)?;
        let b = get(uid)?;
        assert!(Arc::ptr_eq(&a, &b));
        assert!(a.charge(Kind::Instances, 128));
        assert_eq!(b.count(Kind::Instances), 1);
        a.uncharge(Kind::Instances);
        put(&a);
        // `b` still holds the entry: the same counts come back.
        let c = get(uid)?;
        assert!(Arc::ptr_eq(&b, &c));
        put(&b);
        put(&c);
        Ok(())
    }
}
