// SPDX-License-Identifier: GPL-2.0

// Copyright (C) 2026 The rust_inotify authors.

//! A cyclic ID allocator for watch descriptors.
//!
//! This mirrors the two calls of [`lib/idr.c`](srctree/lib/idr.c) that inotify makes on its
//! `idr`: `idr_alloc_cyclic(idr, ptr, 1, 0, gfp)` (allocate the lowest free id at or above the
//! cursor, up to `INT_MAX`, wrapping once to 1) and `idr_set_cursor()` (the
//! `INOTIFY_IOC_SETNEXTWD` ioctl). Lookup, removal and in-order iteration complete it.
//!
//! Like the kernel's IDR it is a radix tree of 64-way nodes, whose height grows with the span
//! of the ids (the kernel's grows with the largest id: its root always covers id 0, ours covers
//! the block of ids the table uses, so a lone high wd is one leaf). Every interior node keeps a
//! bitmap of the children that are full (the radix tree's `IDR_FREE` tag, inverted), so the
//! first free id at or above any cursor is found by one descent with bit scans, even when the
//! cursor sits at the start of a long run of taken ids.
//!
//! The allocator is meant to be kept behind a spinlock, so nothing in it allocates memory:
//! allocation is two-phase like `idr_preload()`. The caller reserves nodes in a [`Preload`]
//! with a sleeping allocation before taking the lock, and [`Idr::alloc_cyclic`] only consumes
//! them. Nodes that were not needed are freed when the [`Preload`] is dropped, after the lock is
//! released.
//!
//! Allocation, lookup and removal take `O(log n)` steps (at most six levels), whatever the
//! cursor.
//!
//! # Examples
//!
//! ```ignore
//! let mut pre = Preload::new(Gfp::Kernel)?;
//! let wd = {
//!     let mut idr = self.idr.lock();
//!     idr.alloc_cyclic(watch, &mut pre)?
//! };
//! // `pre` is dropped here, outside the lock.
//! ```
//!
//! [`Preload`] also shows how to reserve only the nodes the next allocation needs, which is
//! usually none.
//!
//! Nodes that a removal empties are not freed at once: the allocator keeps up to
//! [`SPARE_NODES`] of them and takes them back before it touches the caller's reservation, as
//! the radix tree takes its nodes from a per-CPU pool. CRIU's add/rm loop, which empties and
//! rebuilds the same path on every iteration, then allocates nothing at all, and neither does an
//! add after a remove.

use core::ptr::NonNull;
use kernel::{
    c_str,
    prelude::*, //
};

use crate::slab::{
    Gfp,
    KmemCache, //
};

/// Number of id bits resolved by one level of the tree.
const BITS: u32 = 6;

/// Number of slots in a node.
const FANOUT: usize = 1 << BITS;

/// Mask selecting the slot index from an id shifted to a level.
const MASK: u64 = (1 << BITS) - 1;

/// The smallest id handed out: inotify calls `idr_alloc_cyclic(idr, ptr, 1, 0, gfp)`.
const ID_MIN: u32 = 1;

/// The largest id handed out: an `end` of 0 means `INT_MAX` inclusive.
const ID_MAX: u32 = i32::MAX.unsigned_abs();

/// Height of a tree that covers every id up to [`ID_MAX`].
const MAX_HEIGHT: u32 = 6;

// Five levels do not cover `ID_MAX`, six do.
static_assert!(1u64 << (BITS * (MAX_HEIGHT - 1)) <= ID_MAX as u64);
static_assert!(1u64 << (BITS * MAX_HEIGHT) > ID_MAX as u64);

/// The most nodes one insertion can need.
///
/// Growing a tree of height 1 to the full height adds `MAX_HEIGHT - 1` interior nodes above
/// the old root, and the path to an id in the top half then needs `MAX_HEIGHT - 1` new nodes
/// below the new root (interior nodes down to the leaf). This plays the part of the radix
/// tree's `RADIX_TREE_PRELOAD_SIZE`.
const PRELOAD_NODES: usize = 2 * (MAX_HEIGHT as usize - 1);

/// The most emptied nodes an [`Idr`] keeps for reuse: as many as one insertion can need, so
/// that an id removed and allocated again (CRIU's loop) never allocates, while the memory kept
/// stays bounded (about 5 KiB per instance).
const SPARE_NODES: usize = PRELOAD_NODES;

// The spare nodes are kept in a [`Preload`], which holds up to `PRELOAD_NODES`.
static_assert!(SPARE_NODES == PRELOAD_NODES);

/// Returns the bit for slot `index` in a node bitmap.
///
/// `index` is below [`FANOUT`].
fn bit(index: usize) -> u64 {
    1 << index
}

/// Returns the index, in a node at `level`, of the slot on the path to `id`.
fn slot_index(id: u64, level: u32) -> usize {
    // CAST: The value is masked to `BITS` bits, so it fits in a `usize`.
    (id.checked_shr(BITS * level).unwrap_or(0) & MASK) as usize
}

/// Returns how many ids a tree of `height` levels covers, from 0.
///
/// Saturates instead of overflowing for heights far above [`MAX_HEIGHT`].
fn capacity(height: u32) -> u64 {
    1u64.checked_shl(BITS * height).unwrap_or(u64::MAX)
}

/// Returns the height of the smallest tree that covers `id`: one level per [`BITS`] bits of
/// `id`, and at least one.
fn height_for(id: u64) -> u32 {
    let bits = u64::BITS - id.leading_zeros();
    bits.div_ceil(BITS).max(1)
}

/// Returns `true` if a tree of `height` levels (none if 0) whose first id is `base`, a multiple
/// of its capacity, covers `id`.
fn covers(base: u64, height: u32, id: u64) -> bool {
    // The ids it covers share the bits of `base` above the capacity.
    height > 0 && (id ^ base) < capacity(height)
}

/// The last level of the tree: 64 value slots.
///
/// # Invariants
///
/// Bit `i` of `taken` is set if and only if `slots[i]` is `Some`.
#[repr(C)]
struct Leaf<T> {
    /// The values, indexed by the low [`BITS`] bits of their id.
    slots: [Option<T>; FANOUT],
    /// Which slots hold a value.
    taken: u64,
}

/// A node above the leaves: 64 children, each covering `64^level` ids.
///
/// # Invariants
///
/// - Bit `i` of `present` is set if and only if `slots[i]` is `Some`.
/// - Bit `i` of `full` is set if and only if `slots[i]` is `Some` and that child is full
///   ([`Node::is_full`]); a missing child is entirely free.
/// - Every child is one level lower: a [`Leaf`] when this node is at level 1, an [`Interior`]
///   node otherwise. No child is empty ([`Node::is_empty`]).
#[repr(C)]
struct Interior<T> {
    /// The children, indexed by the id bits of this node's level.
    slots: [Option<NodeBox<T>>; FANOUT],
    /// Which children exist.
    present: u64,
    /// Which children have no free id left (the complement of the radix tree's `IDR_FREE` tag).
    full: u64,
}

/// A node of the tree.
///
/// Always in a [`NodeBox`]. The variants are the same size when `T` is pointer-sized, as
/// intended, so the lint's lower bound on `Leaf<T>` is beside the point.
///
/// All zeroes is an interior node without children: the discriminant of `Interior` is 0 (the
/// `u64` representation puts it first), a missing child is a null pointer ([`NodeBox`] is a
/// transparent `NonNull`), and both bitmaps are zero. Nodes from [`NODE_CACHE`] come that way.
///
/// The layout is fixed (`repr(u64)` with `repr(C)` variants): the discriminant in the first
/// word, then the 64 slots of either kind, then `taken` or `present`, then `full`. When
/// `Option<T>` is all zeroes for `None` ([`NodeBox::ZERO_IS_NONE`]), an empty node of either
/// kind is therefore all zeroes but for its discriminant and, in a leaf, the last word, and
/// changes kind by writing those two words.
#[expect(
    clippy::large_enum_variant,
    reason = "a leaf of pointer-sized values is as big as an interior node"
)]
#[repr(u64)]
enum Node<T> {
    /// A node at level 1 or above.
    Interior(Interior<T>) = INTERIOR_TAG,
    /// A node at level 0.
    Leaf(Leaf<T>) = LEAF_TAG,
}

/// The discriminant of [`Node::Interior`], the node's first word.
const INTERIOR_TAG: u64 = 0;
/// The discriminant of [`Node::Leaf`], the node's first word.
const LEAF_TAG: u64 = 1;

/// The memory of one node of a table of pointer-sized values: the objects of [`NODE_CACHE`].
#[derive(Zeroable)]
#[repr(C, align(8))]
struct NodeMem([u64; size_of::<Node<NonNull<u8>>>() / size_of::<u64>()]);

static_assert!(size_of::<NodeMem>() == size_of::<Node<NonNull<u8>>>());

/// The nodes of every table whose values are pointer-sized (the radix tree's
/// `radix_tree_node_cachep`). Zeroed: a node comes as an interior node without children, so that
/// taking one from the cache clears nothing, and an emptied node goes back as one.
static NODE_CACHE: KmemCache<NodeMem> = KmemCache::uninit();

/// Makes the node cache; called once, from the module initializer, before any table is used.
pub(crate) fn init() -> Result {
    // SAFETY: Called once, before any node is allocated.
    unsafe { NODE_CACHE.init_zeroed(c_str!("rust_inotify_wd_node")) }
}

/// Destroys the node cache; called from module exit, once every table and reservation is gone.
pub(crate) fn exit() {
    // SAFETY: Every node was freed: module exit waits until every instance (and so its table)
    // is freed, and frees the shared pool, before calling this.
    unsafe { NODE_CACHE.destroy() };
}

/// An owned node, like a `KBox<Node<T>>` but from [`NODE_CACHE`] when `Node<T>` fits its objects
/// (pointer-sized `T`), and from `kmalloc` (zeroed) otherwise.
///
/// # Invariants
///
/// - `0` points to a valid `Node<T>` that this object owns.
/// - If [`NodeBox::CACHED`], it is an object of [`NODE_CACHE`]; otherwise it was allocated as a
///   `KBox<Node<T>>`.
#[repr(transparent)]
struct NodeBox<T>(NonNull<Node<T>>);

// SAFETY: A `NodeBox<T>` owns its node like a `KBox<Node<T>>`, which is `Send` when `T` is.
unsafe impl<T: Send> Send for NodeBox<T> {}
// SAFETY: As above, for `Sync`.
unsafe impl<T: Sync> Sync for NodeBox<T> {}

impl<T> NodeBox<T> {
    /// Whether `Node<T>` fits the objects of [`NODE_CACHE`].
    const CACHED: bool = size_of::<Node<T>>() <= size_of::<NodeMem>()
        && align_of::<Node<T>>() <= align_of::<NodeMem>();

    /// Whether an all-zero `Option<T>` is `None`, so that a node's slots are zeroes exactly when
    /// they are empty: true for the pointer-like values a table is meant to hold (references,
    /// `NonNull`, boxes, counted references), false for others (whose `Option` is bigger).
    ///
    /// Found in const evaluation, from the bytes of `None`. A `T` whose `None` leaves some of
    /// its bytes uninitialised stops the build here rather than guessing.
    const ZERO_IS_NONE: bool = size_of::<Option<T>>() == size_of::<u64>()
        && align_of::<Node<T>>() == align_of::<u64>()
        && {
            let none = core::mem::ManuallyDrop::new(None::<T>);
            // SAFETY: `none` is `size_of::<u64>()` bytes, valid for reading; the read is
            // unaligned-safe. Const evaluation rejects uninitialised bytes.
            unsafe { core::ptr::read_unaligned((&raw const none).cast::<u64>()) == 0 }
        };

    /// Where a leaf ends in a node: the discriminant and the `Leaf` (at offset 8, since both
    /// are 8-aligned). What follows in an interior node is its `full` bitmap.
    const LEAF_END: usize = size_of::<u64>() + size_of::<Leaf<T>>();

    /// Allocates an empty node: a leaf if `leaf`, else an interior node.
    ///
    /// From the cache, an interior node needs no writes at all, and a leaf one word when
    /// [`NodeBox::ZERO_IS_NONE`].
    fn new(leaf: bool, flags: Gfp) -> Result<Self> {
        let mut node = if Self::CACHED {
            let mem = NODE_CACHE.alloc(flags)?;
            if !NODE_CACHE.is_zeroed() {
                // SAFETY: Cannot happen (the cache is made zeroed); handed back untouched.
                unsafe { NODE_CACHE.free(mem) };
                return Err(ENOMEM);
            }
            // INVARIANT: A zeroed cache's object is all zeroes, which is a valid `Node<T>` (an
            // interior node without children, see `Node`), and it fits.
            Self(mem.cast())
        } else {
            let node = KBox::new(Node::new_interior(), flags.flags())?;
            // INVARIANT: A `KBox<Node<T>>`.
            Self(NonNull::from(KBox::leak(node)))
        };
        if leaf {
            node.change_kind(true);
        }
        Ok(node)
    }

    /// Makes this empty node a leaf (`leaf`) or an interior node, if it is not one already.
    fn change_kind(&mut self, leaf: bool) {
        debug_assert!(self.is_empty());
        if matches!(**self, Node::Leaf(_)) == leaf {
            return;
        }
        if Self::ZERO_IS_NONE {
            let ptr = self.0.as_ptr();
            // SAFETY: The node is owned and empty, so its slots are zeroes whatever its kind
            // (`ZERO_IS_NONE`), and so is its `taken` or `present` bitmap (and `full`, in an
            // interior node, by its invariant). By the layout of `Node`, writing the
            // discriminant, and zeroing `full` for an interior node, leaves a valid empty node
            // of the other kind.
            // INVARIANT: The node stays empty, of the kind asked for.
            unsafe {
                if !leaf {
                    core::ptr::write_bytes(
                        ptr.cast::<u8>().add(Self::LEAF_END),
                        0,
                        size_of::<Node<T>>() - Self::LEAF_END,
                    );
                }
                ptr.cast::<u64>()
                    .write(if leaf { LEAF_TAG } else { INTERIOR_TAG });
            }
        } else {
            let fresh = if leaf {
                Node::new_leaf()
            } else {
                Node::new_interior()
            };
            // An empty node owns nothing: skipping its destructor, which would only look at 64
            // empty slots, leaks nothing.
            core::mem::forget(core::mem::replace(&mut **self, fresh));
        }
    }
}

impl<T> core::ops::Deref for NodeBox<T> {
    type Target = Node<T>;

    fn deref(&self) -> &Node<T> {
        // SAFETY: The node is valid and owned, by the type invariant.
        unsafe { self.0.as_ref() }
    }
}

impl<T> core::ops::DerefMut for NodeBox<T> {
    fn deref_mut(&mut self) -> &mut Node<T> {
        // SAFETY: The node is valid and owned, by the type invariant.
        unsafe { self.0.as_mut() }
    }
}

impl<T> Drop for NodeBox<T> {
    fn drop(&mut self) {
        let ptr = self.0.as_ptr();
        if Self::CACHED {
            // An interior node without children is all zeroes already (see `Node`), which is how
            // the cache takes its objects back, and an empty leaf becomes one by writing two
            // words: that is every node freed but those of a table dropped with values in it.
            let (leaf, empty) = match &**self {
                Node::Interior(node) => (false, node.present == 0 && node.full == 0),
                Node::Leaf(leaf) => (true, leaf.taken == 0),
            };
            if leaf && empty && Self::ZERO_IS_NONE {
                self.change_kind(false);
            } else if leaf || !empty {
                // SAFETY: The node is valid and owned; it is dropped once, and then zeroed, which
                // is a valid `Node<T>` again (see `Node`).
                unsafe {
                    core::ptr::drop_in_place(ptr);
                    core::ptr::write_bytes(ptr, 0, 1);
                }
            }
            // SAFETY: By the type invariant, an object of the cache, now all zeroes; it is not
            // used again.
            unsafe { NODE_CACHE.free(self.0.cast()) };
        } else {
            // SAFETY: By the type invariant, a `KBox<Node<T>>`, given back once.
            drop(unsafe { KBox::from_raw(ptr) });
        }
    }
}

impl<T> Node<T> {
    /// Returns an empty leaf.
    fn new_leaf() -> Self {
        // INVARIANT: No slot holds a value and `taken` is zero.
        Node::Leaf(Leaf {
            slots: [const { None }; FANOUT],
            taken: 0,
        })
    }

    /// Returns an interior node without children.
    fn new_interior() -> Self {
        // INVARIANT: No child exists and both bitmaps are zero.
        Node::Interior(Interior {
            slots: [const { None }; FANOUT],
            present: 0,
            full: 0,
        })
    }

    /// Returns `true` if every id this node covers is taken.
    fn is_full(&self) -> bool {
        match self {
            Node::Interior(node) => node.full == u64::MAX,
            Node::Leaf(leaf) => leaf.taken == u64::MAX,
        }
    }

    /// Returns `true` if no id this node covers is taken.
    fn is_empty(&self) -> bool {
        match self {
            Node::Interior(node) => node.present == 0,
            Node::Leaf(leaf) => leaf.taken == 0,
        }
    }

    /// Returns the lowest free id at or above `start` that this node covers, and how many
    /// nodes storing a value there needs below this node.
    ///
    /// The node is at `level` and covers `start`. A free id is found in `O(level)` steps:
    /// only the child holding `start` may fail to have one at or above `start`; the next child
    /// that is not full always has one, and its leftmost free id is reached by bit scans. The
    /// count of missing nodes comes with it, so that an allocation descends the tree once to
    /// search and once to insert.
    ///
    /// A loop rather than a recursion, as `idr_get_free()` is: one descent along `start`, which
    /// notes the deepest node with a later child that is not full, and, if the path to `start`
    /// has no free id, one leftmost descent from that child.
    fn find_free(&self, level: u32, start: u64) -> Option<(u64, usize)> {
        // Where the search resumes if the path to `start` has no free id at or above it: the
        // deepest node passed that has a later child that is not full, at `level`, with the
        // child's index and first id.
        let mut resume: Option<(&Interior<T>, u32, usize, u64)> = None;
        let mut node = self;
        let mut level = level;
        loop {
            match node {
                Node::Leaf(leaf) => {
                    let free = !leaf.taken & (u64::MAX << slot_index(start, 0));
                    if free != 0 {
                        return Some(((start & !MASK) | u64::from(free.trailing_zeros()), 0));
                    }
                    break;
                }
                Node::Interior(interior) => {
                    let first = slot_index(start, level);
                    let later = !interior.full & (u64::MAX << first) & !bit(first);
                    if later != 0 {
                        // CAST: `trailing_zeros` of a non-zero `u64` is below 64.
                        let index = later.trailing_zeros() as usize;
                        let base = start & !(capacity(level + 1) - 1);
                        // CAST: `index` is below 64.
                        resume = Some((
                            interior,
                            level,
                            index,
                            base | ((index as u64) << (BITS * level)),
                        ));
                    }
                    if interior.full & bit(first) != 0 {
                        break;
                    }
                    match &interior.slots[first] {
                        // CAST: `level` is below `MAX_HEIGHT`. The child and everything below it
                        // down to the leaf are missing: one node per level below this one.
                        None => return Some((start, level as usize)),
                        Some(child) => {
                            node = child;
                            level = level.saturating_sub(1);
                        }
                    }
                }
            }
        }
        // Any child that is not full has a free id: the leftmost one below the resume point.
        let (interior, level, index, mut from) = resume?;
        let mut node = match &interior.slots[index] {
            // CAST: As above.
            None => return Some((from, level as usize)),
            Some(child) => &**child,
        };
        let mut level = level.saturating_sub(1);
        loop {
            match node {
                Node::Leaf(leaf) => {
                    let free = !leaf.taken;
                    return (free != 0).then(|| (from | u64::from(free.trailing_zeros()), 0));
                }
                Node::Interior(interior) => {
                    let free = !interior.full;
                    if free == 0 {
                        return None;
                    }
                    // CAST: `trailing_zeros` of a non-zero `u64` is below 64.
                    let index = free.trailing_zeros() as usize;
                    // CAST: `index` is below 64.
                    from |= (index as u64) << (BITS * level);
                    match &interior.slots[index] {
                        // CAST: As above.
                        None => return Some((from, level as usize)),
                        Some(child) => {
                            node = child;
                            level = level.saturating_sub(1);
                        }
                    }
                }
            }
        }
    }

    /// Returns the lowest taken id at or above `start` that this node covers, with its value.
    ///
    /// The node is at `level` and covers `start`. Like [`Node::find_free`], this takes
    /// `O(level)` steps because no child is empty.
    // Used by the KUnit tests; the module itself walks the group's marks, not the table.
    #[cfg(CONFIG_KUNIT = "y")]
    fn find_taken(&self, level: u32, start: u64) -> Option<(u64, &T)> {
        let first = slot_index(start, level);
        match self {
            Node::Leaf(leaf) => {
                let taken = leaf.taken & (u64::MAX << first);
                if taken == 0 {
                    return None;
                }
                // CAST: `trailing_zeros` of a non-zero `u64` is below 64.
                let index = taken.trailing_zeros() as usize;
                let value = leaf.slots[index].as_ref()?;
                // CAST: `index` is below 64.
                Some(((start & !MASK) | index as u64, value))
            }
            Node::Interior(node) => {
                let child_level = level.saturating_sub(1);
                let base = start & !(capacity(level + 1) - 1);
                let mut candidates = node.present & (u64::MAX << first);
                while candidates != 0 {
                    // CAST: `trailing_zeros` of a non-zero `u64` is below 64.
                    let index = candidates.trailing_zeros() as usize;
                    let from = if index == first {
                        start
                    } else {
                        // CAST: `index` is below 64.
                        base | ((index as u64) << (BITS * level))
                    };
                    if let Some(child) = &node.slots[index] {
                        if let Some(found) = child.find_taken(child_level, from) {
                            return Some(found);
                        }
                    }
                    candidates &= candidates - 1;
                }
                None
            }
        }
    }

    /// Returns the value of `id`, if taken, in this node at `level`.
    fn get(&self, mut level: u32, id: u64) -> Option<&T> {
        let mut node = self;
        loop {
            match node {
                Node::Interior(interior) => {
                    node = interior.slots[slot_index(id, level)].as_deref()?;
                    level = level.saturating_sub(1);
                }
                Node::Leaf(leaf) => return leaf.slots[slot_index(id, 0)].as_ref(),
            }
        }
    }

    /// Returns the value of `id`, if taken, in this node at `level`.
    // Used by the KUnit tests; the module itself walks the group's marks, not the table.
    #[cfg(CONFIG_KUNIT = "y")]
    fn get_mut(&mut self, mut level: u32, id: u64) -> Option<&mut T> {
        let mut node = self;
        loop {
            match node {
                Node::Interior(interior) => {
                    node = interior.slots[slot_index(id, level)].as_deref_mut()?;
                    level = level.saturating_sub(1);
                }
                Node::Leaf(leaf) => return leaf.slots[slot_index(id, 0)].as_mut(),
            }
        }
    }

    /// Returns how many nodes are missing on the path to `id` below this node at `level`.
    #[cfg(CONFIG_KUNIT = "y")]
    fn missing_below(&self, level: u32, id: u64) -> usize {
        match self {
            Node::Leaf(_) => 0,
            Node::Interior(node) => match &node.slots[slot_index(id, level)] {
                // CAST: `level` is below `MAX_HEIGHT`. The child and everything below it down to
                // the leaf are missing: one node per level below this one.
                None => level as usize,
                Some(child) => child.missing_below(level.saturating_sub(1), id),
            },
        }
    }

    /// Stores `value` at the free id `id` below this node at `level`.
    ///
    /// Missing nodes on the path are taken from `nodes`. Returns the value if `nodes` runs out,
    /// which the caller prevents by checking [`Node::missing_below`] first. On success, returns
    /// the [`NodeBox`] pointer of the leaf that took the value, or `None` if that is this node.
    ///
    /// One descent, in a loop; only when the leaf becomes full (once in 64 insertions) are the
    /// `full` bits above it brought up to date, by [`Node::update_full`].
    fn insert(
        &mut self,
        level: u32,
        id: u64,
        value: T,
        nodes: &mut Nodes<'_, T>,
    ) -> Result<Option<NonNull<Node<T>>>, T> {
        let top = level;
        let mut node = &mut *self;
        let mut level = level;
        let mut leaf_ptr = None;
        let leaf_full = loop {
            match node {
                Node::Leaf(leaf) => {
                    let index = slot_index(id, 0);
                    // INVARIANT: The slot gets a value and its `taken` bit together.
                    leaf.slots[index] = Some(value);
                    leaf.taken |= bit(index);
                    break leaf.taken == u64::MAX;
                }
                Node::Interior(interior) => {
                    let index = slot_index(id, level);
                    if interior.slots[index].is_none() {
                        let Some(child) = nodes.take(level == 1) else {
                            return Err(value);
                        };
                        // INVARIANT: The new child is empty only until the value is stored
                        // below it.
                        interior.slots[index] = Some(child);
                        interior.present |= bit(index);
                    }
                    let Some(child) = interior.slots[index].as_mut() else {
                        return Err(value);
                    };
                    if level == 1 {
                        leaf_ptr = Some(child.0);
                    }
                    node = &mut **child;
                    level = level.saturating_sub(1);
                }
            }
        };
        if leaf_full {
            self.update_full(top, id);
        }
        Ok(leaf_ptr)
    }

    /// Sets the `full` bit of each child on the path to `id` that is full, from the leaf up, in
    /// this node at `level`; returns whether this node is full.
    ///
    /// A new value can only make nodes full, and only along its path: this keeps the `full`
    /// invariant after an insertion made the leaf full.
    #[cold]
    fn update_full(&mut self, level: u32, id: u64) -> bool {
        match self {
            Node::Leaf(leaf) => leaf.taken == u64::MAX,
            Node::Interior(interior) => {
                let index = slot_index(id, level);
                if let Some(child) = interior.slots[index].as_deref_mut() {
                    if child.update_full(level.saturating_sub(1), id) {
                        // INVARIANT: The child is full.
                        interior.full |= bit(index);
                    }
                }
                interior.full == u64::MAX
            }
        }
    }

    /// Removes and returns the value of `id` below this node at `level`.
    ///
    /// Children left empty are detached and kept in `spare`, or freed if it is full.
    fn remove(&mut self, level: u32, id: u64, spare: &mut Preload<T>) -> Option<T> {
        match self {
            Node::Leaf(leaf) => {
                let index = slot_index(id, 0);
                let value = leaf.slots[index].take()?;
                // INVARIANT: The slot lost its value, so it loses its `taken` bit.
                leaf.taken &= !bit(index);
                Some(value)
            }
            Node::Interior(node) => {
                let index = slot_index(id, level);
                let child = node.slots[index].as_deref_mut()?;
                let value = child.remove(level.saturating_sub(1), id, spare)?;
                let child_empty = child.is_empty();
                // INVARIANT: The child now has a free id, and it is detached if it holds nothing.
                node.full &= !bit(index);
                if child_empty {
                    if let Some(child) = node.slots[index].take() {
                        spare.put(child);
                    }
                    node.present &= !bit(index);
                }
                Some(value)
            }
        }
    }
}

/// Nodes reserved for one [`Idr::alloc_cyclic`], allocated before taking the lock.
///
/// This is the Rust form of `idr_preload()`: [`Preload::new`] reserves enough nodes for any
/// single insertion, so the allocation under the lock never needs memory. Nodes left over are
/// freed when the reservation is dropped, which the caller does after unlocking.
///
/// Most insertions need no node at all (63 ids in 64 land in an existing leaf). A caller that
/// wants to avoid allocating the worst case each time can start from [`Preload::empty`] and
/// reserve what [`Idr::preload_need`] reports, retrying if the tree changed while unlocked:
///
/// ```ignore
/// let mut pre = Preload::empty();
/// let wd = loop {
///     let mut inner = self.inner.lock();
///     let need = inner.idr.preload_need();
///     if pre.available() >= need {
///         break inner.idr.alloc_cyclic(watch, &mut pre)?;
///     }
///     drop(inner);
///     pre.reserve(need, Gfp::Kernel)?;
/// };
/// ```
///
/// # Invariants
///
/// `nodes[..len]` are `Some` and `nodes[len..]` are `None`: the reservation is a stack, and each
/// node in it is empty (a leaf, or an interior node without children).
pub(crate) struct Preload<T> {
    /// The reserved nodes, ready to be used as either kind once reinitialised.
    nodes: [Option<NodeBox<T>>; PRELOAD_NODES],
    /// How many nodes are reserved.
    len: usize,
}

impl<T> Preload<T> {
    /// Allocates a reservation big enough for any single insertion.
    ///
    /// Use a sleeping `flags` such as [`Gfp::Kernel`], outside of any spinlock.
    pub(crate) fn new(flags: Gfp) -> Result<Self> {
        let mut pre = Self::empty();
        pre.reserve(PRELOAD_NODES, flags)?;
        Ok(pre)
    }

    /// Returns a reservation without nodes. Does not allocate.
    pub(crate) const fn empty() -> Self {
        // INVARIANT: No node, and `len` is 0.
        Self {
            nodes: [const { None }; PRELOAD_NODES],
            len: 0,
        }
    }

    /// Tops the reservation up to `count` nodes, or to the most one insertion can need if
    /// `count` is larger.
    ///
    /// Use a sleeping `flags` such as [`Gfp::Kernel`], outside of any spinlock.
    ///
    /// The first node of an empty reservation is made a leaf and the others interior nodes:
    /// taken last-in first-out, they come in the order an insertion needs them (interior nodes
    /// from the top down, then the leaf), and none has to be reinitialised.
    pub(crate) fn reserve(&mut self, count: usize, flags: Gfp) -> Result {
        while self.len < count.min(PRELOAD_NODES) {
            let node = NodeBox::new(self.len == 0, flags)?;
            self.put(node);
        }
        Ok(())
    }

    /// Returns how many nodes are reserved.
    pub(crate) fn available(&self) -> usize {
        self.len
    }

    /// Takes one reserved node to be a leaf (`leaf`) or an interior node, if any is left.
    ///
    /// The last node put back is taken first: a removal detaches a path from the leaf up, and
    /// the next insertion rebuilds it from the top down, so the kinds usually match. A node of
    /// the other kind is reinitialised.
    fn take(&mut self, leaf: bool) -> Option<NodeBox<T>> {
        let last = self.len.checked_sub(1)?;
        let mut node = self.nodes.get_mut(last)?.take()?;
        // INVARIANT: The top slot was emptied.
        self.len = last;
        node.change_kind(leaf);
        Some(node)
    }

    /// Moves nodes out of `from` until this reservation holds `count`, or `from` is empty.
    ///
    /// The nodes keep their order, so that their kinds still come as an insertion needs them.
    /// Does not allocate.
    pub(crate) fn take_from(&mut self, from: &mut Preload<T>, count: usize) {
        let want = count.min(PRELOAD_NODES).saturating_sub(self.len);
        let start = from.len.saturating_sub(want);
        for slot in from.nodes.iter_mut().take(from.len).skip(start) {
            if let Some(node) = slot.take() {
                self.put(node);
            }
        }
        // INVARIANT: The slots from `start` on were emptied.
        from.len = start;
    }

    /// Moves every node of `from` into this reservation; those that do not fit are freed.
    ///
    /// Freeing does not sleep, so this may be called under a spinlock.
    pub(crate) fn absorb(&mut self, mut from: Preload<T>) {
        let len = from.len;
        self.take_from(&mut from, self.len + len);
    }

    /// Keeps the empty `node` for later, or frees it if the reservation is full.
    ///
    /// Freeing does not sleep, so this may be called under a spinlock.
    fn put(&mut self, node: NodeBox<T>) {
        debug_assert!(node.is_empty());
        if let Some(slot) = self.nodes.get_mut(self.len) {
            // INVARIANT: The slot above the last node is filled.
            *slot = Some(node);
            self.len += 1;
        }
    }
}

/// Where an insertion takes its new nodes from: the allocator's own spare nodes first, then the
/// caller's reservation.
struct Nodes<'a, T> {
    spare: &'a mut Preload<T>,
    pre: Option<&'a mut Preload<T>>,
}

impl<T> Nodes<'_, T> {
    /// Takes a node to be a leaf (`leaf`) or an interior node.
    fn take(&mut self, leaf: bool) -> Option<NodeBox<T>> {
        self.spare
            .take(leaf)
            .or_else(|| self.pre.as_mut()?.take(leaf))
    }
}

/// The leaf that the last insertion stored its value in.
///
/// Ids are handed out in order, so the next allocation usually lands in the same leaf: 63 in 64
/// when watches are only added. [`Idr::alloc_in_last_leaf`] then takes the id there, without
/// searching the tree from the root.
///
/// # Invariants
///
/// `node` is the pointer of a [`NodeBox`] of the tree of the [`Idr`] that holds this, to a leaf
/// whose first id is `base`.
struct LastLeaf<T> {
    /// The leaf.
    node: NonNull<Node<T>>,
    /// Its first id: a multiple of [`FANOUT`].
    base: u64,
}

// SAFETY: A `LastLeaf<T>` is only dereferenced by the `Idr<T>` that holds it, through `&mut`
// to that `Idr<T>`, which owns the node like a `NodeBox<T>`: it is `Send` when `T` is.
unsafe impl<T: Send> Send for LastLeaf<T> {}
// SAFETY: As above: a shared `Idr<T>` never dereferences it.
unsafe impl<T: Sync> Sync for LastLeaf<T> {}

/// The error returned by [`Idr::alloc_cyclic`].
///
/// Contains the errno and the value that was not stored.
pub(crate) struct AllocError<T> {
    /// [`ENOSPC`] if every id is taken, [`ENOMEM`] if the [`Preload`] was short of nodes.
    pub(crate) error: Error,
    /// The value that was not stored.
    pub(crate) value: T,
    /// With [`ENOMEM`], what [`Idr::preload_need`] returns now: the nodes to reserve before
    /// trying again. 0 otherwise.
    pub(crate) need: usize,
}

impl<T> From<AllocError<T>> for Error {
    fn from(err: AllocError<T>) -> Self {
        err.error
    }
}

/// A map from ids in `1..=INT_MAX` to values of type `T`, allocating ids cyclically.
///
/// It behaves like a C `struct idr` used with `idr_alloc_cyclic(idr, ptr, 1, 0, gfp)`,
/// `idr_set_cursor()`, `idr_find()`, `idr_remove()` and `idr_for_each_entry()`.
///
/// `T` should be pointer-like (`Arc`, `KBox`, a reference) so that `Option<T>` is no bigger
/// than `T`: a leaf holds 64 of them.
///
/// # Invariants
///
/// - `root` is `None` if and only if `height` is 0; otherwise it is the node at level
///   `height - 1` and covers ids `base..base + capacity(height)`, `base` is a multiple of
///   `capacity(height)`, and `height <= MAX_HEIGHT`.
/// - The root is not empty, and it is not an interior node with only one child (the tree is
///   shrunk as in `radix_tree_shrink()`, whichever child it is).
/// - `len` is the number of values in the tree.
/// - Every id in the tree is in `ID_MIN..=max`, and `max <= ID_MAX`.
/// - `last_leaf`, if any, is a leaf of the tree (see [`LastLeaf`]).
pub(crate) struct Idr<T> {
    /// The top node of the tree.
    root: Option<NodeBox<T>>,
    /// The number of levels of the tree.
    height: u32,
    /// The first id the root covers.
    ///
    /// Unlike the radix tree's, this tree need not start at 0: a table whose ids are all in one
    /// leaf is that leaf, whatever its ids, and CRIU restoring one watch at a high wd (SETNEXTWD
    /// then an add, in a new instance) takes one node, not one per level down from id 0.
    base: u64,
    /// The number of ids taken.
    len: usize,
    /// Where the next search starts: the C `idr_next`, an `unsigned int` that the search reads
    /// as an `int`.
    next: u32,
    /// The largest id handed out: [`ID_MAX`] except in tests of exhaustion.
    max: u32,
    /// Emptied nodes kept for the next insertions, at most [`SPARE_NODES`].
    spare: Preload<T>,
    /// The leaf of the last insertion, where the next allocation is tried first.
    last_leaf: Option<LastLeaf<T>>,
}

impl<T> Idr<T> {
    /// Creates an empty allocator whose first id will be 1, like `idr_init()`.
    pub(crate) const fn new() -> Self {
        // INVARIANT: The tree is empty and `max` is `ID_MAX`.
        Self {
            root: None,
            height: 0,
            base: 0,
            len: 0,
            next: 0,
            max: ID_MAX,
            spare: Preload::empty(),
            last_leaf: None,
        }
    }

    /// Creates an empty allocator that hands out ids up to `max` only.
    ///
    /// This is `idr_alloc_cyclic(idr, ptr, 1, max + 1, gfp)`, used by the tests to reach
    /// exhaustion without taking two billion ids.
    #[cfg(CONFIG_KUNIT = "y")]
    fn with_max(max: u32) -> Self {
        // INVARIANT: `max` is clamped to `ID_MAX`.
        Self {
            max: max.min(ID_MAX),
            ..Self::new()
        }
    }

    /// Returns the level of the root node.
    fn top_level(&self) -> u32 {
        self.height.saturating_sub(1)
    }

    /// Returns `true` if the tree covers `id` (false when it is empty).
    fn covers(&self, id: u64) -> bool {
        covers(self.base, self.height, id)
    }

    /// Returns the lowest free id in `start..=self.max`, if any, and how many nodes storing a
    /// value there needs.
    fn find_free(&self, start: u32) -> Option<(u32, usize)> {
        let start = u64::from(start);
        let (found, needed) = match self.root.as_deref() {
            Some(root) if self.covers(start) => {
                match root.find_free(self.top_level(), start) {
                    Some(found) => found,
                    // The tree is full from `start` on: the first id above it.
                    None => {
                        let id = self.base + capacity(self.height);
                        (id, self.growth_needed(id))
                    }
                }
            }
            // Every id outside the tree is free.
            _ => (start, self.growth_needed(start)),
        };
        let id = u32::try_from(found).ok().filter(|&id| id <= self.max)?;
        Some((id, needed))
    }

    /// Returns how many nodes storing a value at `id`, which is not covered by the tree, needs.
    fn growth_needed(&self, id: u64) -> usize {
        if self.root.is_none() {
            // A leaf, as the root.
            return 1;
        }
        // CAST: Heights are at most `MAX_HEIGHT`.
        let new_height = self.height_to_cover(id) as usize;
        let height = self.height as usize;
        // Growing adds `new_height - height` nodes above the old root. Since `id` is outside
        // the old tree, its path below the new root is all new: `new_height - 1` nodes.
        (new_height - height) + (new_height - 1)
    }

    /// Returns the height of the smallest tree that covers both `id` and the current one.
    fn height_to_cover(&self, id: u64) -> u32 {
        // The ids of a tree of height `h` share their bits from `BITS * h` up.
        height_for(id ^ self.base).max(self.height)
    }

    /// Returns how many nodes storing a value at the free id `id` needs.
    #[cfg(CONFIG_KUNIT = "y")]
    fn nodes_needed(&self, id: u64) -> usize {
        match self.root.as_deref() {
            Some(root) if self.covers(id) => root.missing_below(self.top_level(), id),
            _ => self.growth_needed(id),
        }
    }

    /// Stores `value` at the free id `id`, growing the tree as needed.
    ///
    /// New nodes come from the spare ones, then from `pre`. Returns the value if both run out,
    /// which the caller prevents by checking [`Idr::nodes_needed`] first.
    fn insert(&mut self, id: u64, value: T, pre: Option<&mut Preload<T>>) -> Result<(), T> {
        let mut nodes = Nodes {
            spare: &mut self.spare,
            pre,
        };
        if self.root.is_none() {
            let Some(root) = nodes.take(true) else {
                return Err(value);
            };
            // INVARIANT: The root is empty only until `value` is stored below; a leaf covers the
            // 64 ids from a multiple of 64.
            self.root = Some(root);
            self.height = 1;
            self.base = id & !MASK;
        }
        while !covers(self.base, self.height, id) {
            let Some(mut root) = nodes.take(false) else {
                return Err(value);
            };
            let old = self.root.take();
            let old_full = old.as_deref().is_some_and(Node::is_full);
            // Where the old root goes in the new one.
            let index = slot_index(self.base, self.height);
            if let Node::Interior(node) = &mut *root {
                // INVARIANT: The old root becomes a child of the new one, like
                // `radix_tree_extend()` (which always makes it child 0).
                node.present = if old.is_some() { bit(index) } else { 0 };
                node.full = if old_full { bit(index) } else { 0 };
                node.slots[index] = old;
            }
            self.root = Some(root);
            self.height += 1;
            self.base &= !(capacity(self.height) - 1);
        }
        // `top_level()`, without borrowing all of `self`.
        let level = self.height.saturating_sub(1);
        let Some(root) = self.root.as_mut() else {
            return Err(value);
        };
        let root_ptr = root.0;
        let leaf = root
            .insert(level, id, value, &mut nodes)?
            .unwrap_or(root_ptr);
        // INVARIANT: `leaf` is the pointer of the tree's leaf that holds `id`.
        self.last_leaf = Some(LastLeaf {
            node: leaf,
            base: id & !MASK,
        });
        Ok(())
    }

    /// Returns the id [`Idr::alloc_cyclic`] would take now, if any is free, and how many nodes
    /// it needs.
    fn next_free(&self) -> Option<(u32, usize)> {
        let start = self.start();
        match self.find_free(start) {
            Some(id) => Some(id),
            // The C code retries from 1 only if the first search did not start there.
            None if start > ID_MIN => self.find_free(ID_MIN),
            None => None,
        }
    }

    /// Returns where the next allocation's search starts.
    fn start(&self) -> u32 {
        // `if ((int)id < start) id = start;`: a cursor of 0 or above `INT_MAX` starts at 1.
        if self.next < ID_MIN || self.next > ID_MAX {
            ID_MIN
        } else {
            self.next
        }
    }

    /// Returns how many reserved nodes [`Idr::alloc_cyclic`] would take now.
    ///
    /// This is 0 when the next id lands in an existing leaf, when the allocator's spare nodes
    /// suffice, or when every id is taken, and at most what [`Preload::new`] reserves.
    pub(crate) fn preload_need(&self) -> usize {
        self.next_free().map_or(0, |(_, needed)| {
            needed.saturating_sub(self.spare.available())
        })
    }

    /// Allocates the next id for `value`, like `idr_alloc_cyclic(idr, ptr, 1, 0, gfp)`.
    ///
    /// The search starts at the cursor, or at 1 if the cursor read as an `int` is below 1,
    /// and takes the lowest free id up to `INT_MAX`; if there is none and the search did not
    /// start at 1, it is repeated once from 1. On success the cursor moves to the id plus one.
    ///
    /// Never allocates memory: missing nodes come from the allocator's spare nodes, then from
    /// `pre`. On failure the value is handed back with [`ENOSPC`] if every id is taken or
    /// [`ENOMEM`] if `pre` is short of nodes ([`Idr::preload_need`] says by how many), and the
    /// allocator is unchanged.
    pub(crate) fn alloc_cyclic(
        &mut self,
        value: T,
        pre: &mut Preload<T>,
    ) -> Result<u32, AllocError<T>> {
        match self.alloc_in_last_leaf(value) {
            Ok(id) => Ok(id),
            Err(value) => self.alloc_searched(value, Some(pre)),
        }
    }

    /// [`Idr::alloc_cyclic`] without a reservation: missing nodes can come from the allocator's
    /// spare nodes only.
    ///
    /// For the caller that tries first without reserving anything, since most allocations need
    /// no new node; on [`ENOMEM`] it reserves what the error's `need` says and calls
    /// [`Idr::alloc_cyclic`].
    pub(crate) fn alloc_cyclic_unreserved(&mut self, value: T) -> Result<u32, AllocError<T>> {
        match self.alloc_in_last_leaf(value) {
            Ok(id) => Ok(id),
            Err(value) => self.alloc_searched(value, None),
        }
    }

    /// The allocation of [`Idr::alloc_cyclic`] when the next id is in the leaf of the last
    /// insertion, which is the common case: the lowest free id at or above the search's start
    /// is then in that leaf, and no other node is read (nor written, unless the leaf becomes
    /// full).
    ///
    /// Hands `value` back, with nothing changed, when the start is in another leaf or the leaf
    /// has no free id at or above it (or none up to `max`): the search from the root decides
    /// then.
    #[inline(always)]
    fn alloc_in_last_leaf(&mut self, value: T) -> Result<u32, T> {
        let start = u64::from(self.start());
        let Some(last) = &self.last_leaf else {
            return Err(value);
        };
        if start & !MASK != last.base {
            return Err(value);
        }
        let base = last.base;
        // SAFETY: By the invariant of `Idr`, `last.node` points to a leaf of this tree, which
        // the tree owns through its `NodeBox`es; `&mut self` excludes any other reference to
        // the tree, and none is made while this one lives.
        let Node::Leaf(leaf) = (unsafe { &mut *last.node.as_ptr() }) else {
            return Err(value);
        };
        let free = !leaf.taken & (u64::MAX << slot_index(start, 0));
        if free == 0 {
            return Err(value);
        }
        // The ids from `start` to this one are taken: it is the lowest free one from `start`.
        let id = base | u64::from(free.trailing_zeros());
        let Some(id32) = u32::try_from(id).ok().filter(|&id| id <= self.max) else {
            return Err(value);
        };
        let index = slot_index(id, 0);
        // INVARIANT: The slot gets a value and its `taken` bit together.
        leaf.slots[index] = Some(value);
        leaf.taken |= bit(index);
        if leaf.taken == u64::MAX {
            // As `Node::insert` does when the leaf becomes full.
            let level = self.top_level();
            if let Some(root) = self.root.as_deref_mut() {
                root.update_full(level, id);
            }
        }
        self.len += 1;
        // As in `alloc_searched`: `id` is at most `INT_MAX`.
        self.next = id32.wrapping_add(1);
        Ok(id32)
    }

    /// The allocation of [`Idr::alloc_cyclic`] by a search from the root, with the nodes of
    /// `pre`, if any, beside the spare ones.
    fn alloc_searched(
        &mut self,
        value: T,
        pre: Option<&mut Preload<T>>,
    ) -> Result<u32, AllocError<T>> {
        let Some((id, needed)) = self.next_free() else {
            return Err(AllocError {
                error: ENOSPC,
                value,
                need: 0,
            });
        };
        let reserved = pre.as_deref().map_or(0, Preload::available);
        if needed > reserved + self.spare.available() {
            return Err(AllocError {
                error: ENOMEM,
                value,
                // As `preload_need`, without searching again.
                need: needed.saturating_sub(self.spare.available()),
            });
        }
        if let Err(value) = self.insert(u64::from(id), value, pre) {
            // Cannot happen: `pre` was checked to hold enough nodes.
            return Err(AllocError {
                error: ENOMEM,
                value,
                need: needed.saturating_sub(self.spare.available()),
            });
        }
        self.len += 1;
        // `id` is at most `INT_MAX`, so this cannot wrap; after `INT_MAX` the cursor is
        // 0x80000000, which the next search reads as a negative `int`, like the C code.
        self.next = id.wrapping_add(1);
        Ok(id)
    }

    /// Sets where the next allocation starts searching, like `idr_set_cursor()`.
    pub(crate) fn set_cursor(&mut self, next: u32) {
        self.next = next;
    }

    /// Returns where the next allocation starts searching (the C `idr_next`), for fdinfo.
    pub(crate) fn cursor(&self) -> u32 {
        self.next
    }

    /// Returns the value of `id`, like `idr_find()`.
    pub(crate) fn get(&self, id: u32) -> Option<&T> {
        let id = u64::from(id);
        if !self.covers(id) {
            return None;
        }
        self.root.as_deref()?.get(self.top_level(), id)
    }

    /// Returns the value of `id` for modification.
    // Used by the KUnit tests; the module itself walks the group's marks, not the table.
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn get_mut(&mut self, id: u32) -> Option<&mut T> {
        let id = u64::from(id);
        if !self.covers(id) {
            return None;
        }
        let level = self.top_level();
        self.root.as_deref_mut()?.get_mut(level, id)
    }

    /// Removes `id` and returns its value, like `idr_remove()`.
    ///
    /// Keeps the nodes left empty for reuse, up to [`SPARE_NODES`], and frees the others;
    /// never allocates. The cursor does not move.
    pub(crate) fn remove(&mut self, id: u32) -> Option<T> {
        let id = u64::from(id);
        if !self.covers(id) {
            return None;
        }
        // Only a leaf that this removal empties leaves the tree, and only this id's leaf can be
        // emptied: the next allocation searches from the root.
        // INVARIANT: Any other leaf stays in the tree; shrinking moves it up, not out.
        if self
            .last_leaf
            .as_ref()
            .is_some_and(|last| last.base == id & !MASK)
        {
            self.last_leaf = None;
        }
        let level = self.top_level();
        let value = self
            .root
            .as_deref_mut()?
            .remove(level, id, &mut self.spare)?;
        self.len = self.len.saturating_sub(1);
        self.shrink();
        Some(value)
    }

    /// Detaches an empty root and removes levels that only lead to one child, like
    /// `radix_tree_shrink()` (which does so for child 0 only); the nodes taken out are kept as
    /// spare ones.
    fn shrink(&mut self) {
        loop {
            match self.root.as_deref_mut() {
                Some(root) if root.is_empty() => {
                    // INVARIANT: An empty tree has no root and no height.
                    if let Some(old) = self.root.take() {
                        self.spare.put(old);
                    }
                    self.height = 0;
                    self.base = 0;
                    return;
                }
                Some(Node::Interior(node)) if node.present.count_ones() == 1 => {
                    // CAST: `trailing_zeros` of a non-zero `u64` is below 64.
                    let index = node.present.trailing_zeros() as usize;
                    let child = node.slots[index].take();
                    node.present = 0;
                    node.full = 0;
                    if let Some(old) = core::mem::replace(&mut self.root, child) {
                        self.spare.put(old);
                    }
                    // INVARIANT: The child covers its part of the ids, at one level less.
                    self.height = self.height.saturating_sub(1);
                    // CAST: `index` is below 64.
                    self.base |= (index as u64) << (BITS * self.height);
                }
                _ => return,
            }
        }
    }

    /// Takes the emptied nodes kept for reuse, so that another allocator can use them.
    ///
    /// An instance whose watches are all gone gives its nodes to a pool shared by every
    /// instance, as the radix tree's nodes go back to a per-CPU pool; a new instance (CRIU
    /// restoring a wd with SETNEXTWD and one add) then builds its tree without allocating.
    pub(crate) fn take_spare(&mut self) -> Preload<T> {
        core::mem::replace(&mut self.spare, Preload::empty())
    }

    /// Returns how many emptied nodes are kept for reuse.
    #[cfg(CONFIG_KUNIT = "y")]
    fn spare_nodes(&self) -> usize {
        self.spare.available()
    }

    /// Returns an iterator over the ids and their values, in increasing id order.
    // Used by the KUnit tests; the module itself walks the group's marks, not the table.
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn iter(&self) -> Iter<'_, T> {
        Iter { idr: self, next: 0 }
    }

    /// Returns the number of ids taken.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Returns `true` if no id is taken.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// An iterator over the ids of an [`Idr`] and their values, in increasing id order.
///
/// Each step is one descent of the tree.
#[cfg(CONFIG_KUNIT = "y")]
pub(crate) struct Iter<'a, T> {
    /// The allocator being walked.
    idr: &'a Idr<T>,
    /// The lowest id not yet returned.
    next: u64,
}

#[cfg(CONFIG_KUNIT = "y")]
impl<'a, T> Iterator for Iter<'a, T> {
    type Item = (u32, &'a T);

    fn next(&mut self) -> Option<Self::Item> {
        let idr = self.idr;
        if idr.height == 0 || self.next >= idr.base + capacity(idr.height) {
            return None;
        }
        self.next = self.next.max(idr.base);
        let (id, value) = idr
            .root
            .as_deref()?
            .find_taken(idr.top_level(), self.next)?;
        self.next = id + 1;
        Some((u32::try_from(id).ok()?, value))
    }
}

/// Prints how long allocations take, for an empty allocator and for a long run of taken ids.
///
/// Compares with the kernel's C IDR doing the same. This is a benchmark, not a test: the
/// numbers depend on the machine, on debugging options and on the clock's resolution (a
/// jiffy when the guest has no usable TSC), hence the long loops.
pub(crate) fn bench() -> Result {
    /// Allocations timed from an empty allocator.
    const EMPTY_N: u32 = 50_000;
    /// Length of the run of taken ids that the timed allocations skip.
    const RUN_N: u32 = 10_000;
    /// Allocations timed after the run, each starting its search at 1.
    const RUN_ALLOCS: u32 = 20_000;
    /// Allocations timed with a new worst-case [`Preload`] each.
    const FRESH_N: u32 = 200;
    /// Searches timed past each run length.
    const SEARCHES: u32 = 100_000;

    let empty = bench::rust_empty(EMPTY_N)?;
    let dense = bench::rust_dense(RUN_N, RUN_ALLOCS)?;
    pr_info!(
        "idr bench: empty N={EMPTY_N}: {empty} ns/alloc; dense-run N={RUN_N}: {dense} ns/alloc\n"
    );
    let (short, long) = bench::rust_search(1_000, 100_000, SEARCHES)?;
    pr_info!(
        "idr bench: search only, from 1 past a run of N=1000: {short} ns; N=100000: {long} ns\n"
    );
    let fresh = bench::rust_fresh_preload(FRESH_N)?;
    pr_info!("idr bench: empty N={FRESH_N} with Preload::new() per alloc: {fresh} ns/alloc\n");

    let c_empty = bench::c_empty(EMPTY_N)?;
    let c_dense = bench::c_dense(RUN_N, RUN_ALLOCS)?;
    pr_info!(
        "idr bench: C idr: empty N={EMPTY_N}: {c_empty} ns/alloc; dense-run N={RUN_N}: {c_dense} ns/alloc\n"
    );
    // Ratios, in hundredths: the times alone depend on the machine and its load.
    let ratio = |rust: i64, c: i64| rust * 100 / c.max(1);
    let (r_empty, r_dense) = (ratio(empty, c_empty), ratio(dense, c_dense));
    pr_info!(
        "idr bench: rust/C ratio: empty {}.{:02}; dense-run {}.{:02}\n",
        r_empty / 100,
        r_empty % 100,
        r_dense / 100,
        r_dense % 100
    );
    Ok(())
}

/// The timed loops of [`bench()`].
mod bench {
    use super::{
        Idr,
        Preload, //
    };
    use crate::{
        c_idr::CIdr,
        slab::Gfp, //
    };
    use kernel::{
        prelude::*,
        time::{
            Delta,
            Instant,
            Monotonic, //
        },
    };

    /// The value stored by the benchmarks: pointer-sized, like the module's watches.
    static TOKEN: u64 = 0;

    /// Returns nanoseconds per operation.
    fn per_op(elapsed: Delta, ops: u32) -> i64 {
        elapsed.as_nanos() / i64::from(ops.max(1))
    }

    /// Allocates one id as the module does: without a reservation first, and only if that
    /// fails for want of nodes, with exactly the nodes the error asks for.
    ///
    /// This is the caller's loop documented on [`Preload`], without the lock.
    fn alloc(idr: &mut Idr<&'static u64>, pre: &mut Preload<&'static u64>) -> Result<u32> {
        match idr.alloc_cyclic(&TOKEN, pre) {
            Err(e) if e.error == ENOMEM => {
                pre.reserve(e.need, Gfp::Kernel)?;
                Ok(idr.alloc_cyclic(&TOKEN, pre)?)
            }
            allocated => Ok(allocated?),
        }
    }

    /// Times `n` allocations from an empty allocator.
    pub(super) fn rust_empty(n: u32) -> Result<i64> {
        let mut idr = Idr::new();
        let mut pre = Preload::empty();
        let start = Instant::<Monotonic>::now();
        for _ in 0..n {
            core::hint::black_box(alloc(&mut idr, &mut pre)?);
        }
        Ok(per_op(start.elapsed(), n))
    }

    /// Times `n` allocations from an empty allocator, each with a new worst-case reservation.
    pub(super) fn rust_fresh_preload(n: u32) -> Result<i64> {
        let mut idr = Idr::new();
        let start = Instant::<Monotonic>::now();
        for _ in 0..n {
            let mut pre = Preload::new(Gfp::Kernel)?;
            core::hint::black_box(idr.alloc_cyclic(&TOKEN, &mut pre)?);
        }
        Ok(per_op(start.elapsed(), n))
    }

    /// Takes ids `1..=run`, then times `allocs` allocations that each start at 1.
    pub(super) fn rust_dense(run: u32, allocs: u32) -> Result<i64> {
        let mut idr = Idr::new();
        let mut pre = Preload::empty();
        for _ in 0..run {
            alloc(&mut idr, &mut pre)?;
        }
        let start = Instant::<Monotonic>::now();
        for _ in 0..allocs {
            idr.set_cursor(1);
            core::hint::black_box(alloc(&mut idr, &mut pre)?);
        }
        Ok(per_op(start.elapsed(), allocs))
    }

    /// Times searches from 1 past a run of `short` taken ids, then of `long` taken ids.
    ///
    /// This is the search of [`Idr::alloc_cyclic`] without the insertion, through
    /// [`Idr::preload_need`].
    pub(super) fn rust_search(short: u32, long: u32, searches: u32) -> Result<(i64, i64)> {
        let mut idr = Idr::new();
        let mut pre = Preload::empty();
        let mut times = [0; 2];
        for (run, time) in [short, long].into_iter().zip(times.iter_mut()) {
            idr.set_cursor(1);
            while idr.len() < run as usize {
                alloc(&mut idr, &mut pre)?;
            }
            let start = Instant::<Monotonic>::now();
            for _ in 0..searches {
                idr.set_cursor(1);
                core::hint::black_box(idr.preload_need());
            }
            *time = per_op(start.elapsed(), searches);
        }
        Ok((times[0], times[1]))
    }

    /// Times `n` allocations from an empty C IDR.
    pub(super) fn c_empty(n: u32) -> Result<i64> {
        let mut idr = CIdr::new()?;
        let start = Instant::<Monotonic>::now();
        for _ in 0..n {
            core::hint::black_box(idr.alloc_cyclic(&TOKEN)?);
        }
        Ok(per_op(start.elapsed(), n))
    }

    /// Takes ids `1..=run` in a C IDR, then times `allocs` allocations that each start at 1.
    pub(super) fn c_dense(run: u32, allocs: u32) -> Result<i64> {
        let mut idr = CIdr::new()?;
        for _ in 0..run {
            idr.alloc_cyclic(&TOKEN)?;
        }
        let start = Instant::<Monotonic>::now();
        for _ in 0..allocs {
            idr.set_cursor(1);
            core::hint::black_box(idr.alloc_cyclic(&TOKEN)?);
        }
        Ok(per_op(start.elapsed(), allocs))
    }
}

#[kunit_tests(rust_inotify_idr)]
mod tests {
    use super::*;
    use core::cell::Cell;

    /// A small xorshift64* generator, so that every run sees the same operations.
    struct Rng(u64);

    impl Rng {
        /// Returns the next pseudo-random number.
        fn next_u64(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// Returns a pseudo-random number below `n`, or 0 if `n` is 0.
        fn below(&mut self, n: usize) -> usize {
            // CAST: Truncating a random number keeps it random.
            (self.next_u64() as usize).checked_rem(n).unwrap_or(0)
        }

        /// Returns a cursor value: near an id where the tree changes shape, or anything.
        fn cursor(&mut self) -> u32 {
            const POINTS: [u32; 10] = [
                0,
                1,
                64,
                4096,
                1 << 18,
                1 << 24,
                1 << 30,
                ID_MAX,
                1 << 31,
                u32::MAX,
            ];
            let point = POINTS[self.below(POINTS.len())];
            // CAST: The value is below 9.
            let delta = self.below(9) as u32;
            match self.below(3) {
                0 => point.wrapping_sub(delta),
                1 => point.wrapping_add(delta),
                // CAST: Truncating a random number keeps it random.
                _ => self.next_u64() as u32,
            }
        }
    }

    /// Allocates an id for `value` with a fresh reservation.
    ///
    /// The reservation holds what [`Idr::preload_need`] asks for: the test kernel's allocator
    /// is slow enough under emulation that worst-case reservations would dominate the run time.
    fn alloc<T>(idr: &mut Idr<T>, value: T) -> Result<u32, AllocError<T>> {
        let mut pre = Preload::empty();
        match pre.reserve(idr.preload_need(), Gfp::Kernel) {
            Ok(()) => idr.alloc_cyclic(value, &mut pre),
            Err(error) => Err(AllocError {
                error,
                value,
                need: 0,
            }),
        }
    }

    /// Returns the errno and the value handed back by a failed allocation.
    fn failure<T>(result: Result<u32, AllocError<T>>) -> Option<(Error, T)> {
        result.err().map(|err| (err.error, err.value))
    }

    /// Checks the invariants of `node`, at `level`, and counts its values into `count`.
    fn node_ok<T>(node: &Node<T>, level: u32, count: &mut usize) -> bool {
        match node {
            Node::Leaf(leaf) => {
                let mut taken = 0;
                for (index, slot) in leaf.slots.iter().enumerate() {
                    if slot.is_some() {
                        taken |= bit(index);
                        *count += 1;
                    }
                }
                level == 0 && taken == leaf.taken && taken != 0
            }
            Node::Interior(interior) => {
                if level == 0 {
                    return false;
                }
                let mut present = 0;
                let mut full = 0;
                for (index, slot) in interior.slots.iter().enumerate() {
                    if let Some(child) = slot {
                        present |= bit(index);
                        if child.is_full() {
                            full |= bit(index);
                        }
                        if !node_ok(child, level - 1, count) {
                            return false;
                        }
                    }
                }
                present == interior.present && full == interior.full && present != 0
            }
        }
    }

    /// Checks the invariants of `idr`: bitmaps, counts, height and id range.
    fn invariants_hold<T>(idr: &Idr<T>) -> bool {
        let mut count = 0;
        let tree_ok = match idr.root.as_deref() {
            None => idr.height == 0,
            Some(root) => {
                (1..=MAX_HEIGHT).contains(&idr.height)
                    && idr.base % capacity(idr.height) == 0
                    && node_ok(root, idr.height - 1, &mut count)
                    && !matches!(root, Node::Interior(node) if node.present.count_ones() == 1)
            }
        };
        tree_ok
            && count == idr.len
            && idr.spare_nodes() <= SPARE_NODES
            && idr.spare.nodes.iter().flatten().all(|node| node.is_empty())
            && idr.max <= ID_MAX
            && idr.iter().count() == idr.len
            && idr.iter().all(|(id, _)| (ID_MIN..=idr.max).contains(&id))
            && idr
                .last_leaf
                .as_ref()
                .is_none_or(|last| last_leaf_ok(idr, last))
    }

    /// Checks that `last` is a leaf of `idr`'s tree, the one that holds its ids.
    fn last_leaf_ok<T>(idr: &Idr<T>, last: &LastLeaf<T>) -> bool {
        if last.base & MASK != 0 || !idr.covers(last.base) {
            return false;
        }
        let Some(mut node) = idr.root.as_ref() else {
            return false;
        };
        let mut level = idr.top_level();
        while level > 0 {
            let Node::Interior(interior) = &**node else {
                return false;
            };
            let Some(child) = interior.slots[slot_index(last.base, level)].as_ref() else {
                return false;
            };
            node = child;
            level -= 1;
        }
        node.0 == last.node && matches!(**node, Node::Leaf(_))
    }

    /// The allocator written the obvious way: a sorted vector of `(id, value)` and linear scans.
    struct Model {
        /// The taken ids and their values, sorted by id.
        ids: KVec<(u32, u64)>,
        /// The cursor, as in `struct idr`.
        next: u32,
        /// The largest id.
        max: u32,
    }

    impl Model {
        /// Returns the position of `id` in `ids`, or where it would be inserted.
        fn position(&self, id: u32) -> Result<usize, usize> {
            self.ids.binary_search_by_key(&id, |&(taken, _)| taken)
        }

        /// Returns the first id in `start..=max` not in `ids`.
        fn first_free(&self, start: u32) -> Option<u32> {
            let mut id = start;
            let mut pos = self.position(start).unwrap_or_else(|pos| pos);
            while id <= self.max {
                match self.ids.get(pos) {
                    Some(&(taken, _)) if taken == id => {
                        id += 1;
                        pos += 1;
                    }
                    _ => return Some(id),
                }
            }
            None
        }

        /// `idr_alloc_cyclic(idr, value, 1, max + 1, gfp)`, transcribed from lib/idr.c.
        ///
        /// The caller reserves room for one more entry in `ids` first.
        fn alloc(&mut self, value: u64) -> Result<u32> {
            let mut id = self.next;
            // CAST: The C code reads the cursor as an `int`.
            if (id as i32) < 1 {
                id = 1;
            }
            let id = match self.first_free(id) {
                Some(found) => found,
                None if id > 1 => self.first_free(1).ok_or(ENOSPC)?,
                None => return Err(ENOSPC),
            };
            let pos = self.position(id).unwrap_or_else(|pos| pos);
            self.ids
                .insert_within_capacity(pos, (id, value))
                .map_err(|_| ENOMEM)?;
            self.next = id + 1;
            Ok(id)
        }

        /// Removes `id`, returning its value.
        fn remove(&mut self, id: u32) -> Option<u64> {
            let pos = self.position(id).ok()?;
            self.ids.remove(pos).ok().map(|(_, value)| value)
        }

        /// Returns the value of `id`.
        fn get(&self, id: u32) -> Option<u64> {
            let pos = self.position(id).ok()?;
            self.ids.get(pos).map(|&(_, value)| value)
        }
    }

    /// Returns `true` if `idr` holds exactly the ids and values of `model`, in the same order.
    fn same_contents(idr: &Idr<u64>, model: &Model) -> bool {
        idr.len() == model.ids.len()
            && idr
                .iter()
                .zip(model.ids.iter())
                .all(|((id, &value), &expected)| (id, value) == expected)
    }

    /// Runs `ops` random operations on an allocator of ids `1..=max` and on the model.
    ///
    /// Returns `false` at the first difference, after logging which operation it was.
    fn matches_model(seed: u64, max: u32, ops: u32) -> Result<bool> {
        let mut rng = Rng(seed);
        let mut idr = Idr::with_max(max);
        let mut model = Model {
            ids: KVec::new(),
            next: 0,
            max,
        };
        let mut full_pre = Preload::new(Gfp::Kernel)?;
        for op in 0..ops {
            let same = match rng.below(100) {
                0..=49 => {
                    model.ids.reserve(1, GFP_KERNEL)?;
                    // Either the worst-case reservation, topped up, or exactly what the
                    // allocator asks for, which must then be used up.
                    let exact = rng.below(2) == 0;
                    let mut exact_pre = Preload::empty();
                    let pre = if exact {
                        exact_pre.reserve(idr.preload_need(), Gfp::Kernel)?;
                        &mut exact_pre
                    } else {
                        full_pre.reserve(PRELOAD_NODES, Gfp::Kernel)?;
                        &mut full_pre
                    };
                    let value = rng.next_u64();
                    let expected = model.alloc(value);
                    let same = match idr.alloc_cyclic(value, pre) {
                        Ok(id) => expected == Ok(id),
                        Err(err) => expected == Err(err.error) && err.value == value,
                    };
                    same && (!exact || exact_pre.available() == 0)
                }
                50..=74 => {
                    let id = if model.ids.is_empty() || rng.below(4) == 0 {
                        rng.cursor()
                    } else {
                        model.ids[rng.below(model.ids.len())].0
                    };
                    model.remove(id) == idr.remove(id)
                }
                75..=84 => {
                    let cursor = rng.cursor();
                    model.next = cursor;
                    idr.set_cursor(cursor);
                    true
                }
                85..=94 => {
                    let id = if model.ids.is_empty() || rng.below(2) == 0 {
                        rng.cursor()
                    } else {
                        model.ids[rng.below(model.ids.len())].0
                    };
                    model.get(id) == idr.get(id).copied()
                        && model.get(id) == idr.get_mut(id).map(|value| *value)
                }
                _ => same_contents(&idr, &model) && invariants_hold(&idr),
            };
            if !same || idr.cursor() != model.next || idr.len() != model.ids.len() {
                pr_err!("idr: differs from the model at operation {op} (seed {seed}, max {max})\n");
                return Ok(false);
            }
        }
        Ok(same_contents(&idr, &model) && invariants_hold(&idr))
    }

    /// A table whose ids are all in one leaf is that leaf, however high the ids: the tree grows
    /// towards lower ids as towards higher ones, and shrinks back to whichever child is left.
    #[test]
    fn a_lone_high_wd_is_one_leaf() -> Result {
        let mut idr = Idr::new();
        idr.set_cursor(0x34d71d6);
        assert_eq!(idr.preload_need(), 1);
        assert_eq!(alloc(&mut idr, 1u64).ok(), Some(0x34d71d6));
        assert_eq!(idr.height, 1);
        assert_eq!(idr.base, 0x34d71c0);
        // Ids outside the tree, below and above it, hold nothing.
        for id in [1u32, 0x34d71bf, 0x34d7200, ID_MAX] {
            assert!(idr.get(id).is_none());
            assert!(idr.remove(id).is_none());
        }
        // Down to 1: a root at level 4 over the two paths.
        idr.set_cursor(1);
        assert_eq!(idr.preload_need(), 8);
        assert_eq!(alloc(&mut idr, 2).ok(), Some(1));
        assert_eq!(idr.height, 5);
        assert_eq!(idr.base, 0);
        assert!(invariants_hold(&idr));
        assert_eq!(idr.get(0x34d71d6).copied(), Some(1));
        // Removing 1 leaves one path: the tree is the leaf of 0x34d71d6 again.
        assert_eq!(idr.remove(1), Some(2));
        assert_eq!(idr.height, 1);
        assert_eq!(idr.base, 0x34d71c0);
        assert_eq!(idr.spare_nodes(), 8);
        assert!(invariants_hold(&idr));
        // The next id follows on from the cursor, in the same leaf.
        idr.set_cursor(0x34d71d0);
        let mut none = Preload::empty();
        assert_eq!(idr.alloc_cyclic(3, &mut none).ok(), Some(0x34d71d0));
        assert_eq!(idr.alloc_cyclic(4, &mut none).ok(), Some(0x34d71d1));
        assert_eq!(idr.iter().map(|(id, _)| id).sum::<u32>(), 3 * 0x34d71d0 + 7);
        assert!(invariants_hold(&idr));
        Ok(())
    }

    /// CRIU's loop at the wd of the upstream report: after the first add, every add reuses the
    /// nodes its predecessor's removal emptied, and needs no reservation.
    #[test]
    fn criu_loop_reuses_emptied_nodes() -> Result {
        let mut idr = Idr::new();
        // A low id, as an instance's other watches would be.
        assert_eq!(alloc(&mut idr, 1u64).ok(), Some(1));
        idr.set_cursor(0x34d71d6);
        assert!(idr.preload_need() > 0);
        let mut id = alloc(&mut idr, 2).ok();
        assert_eq!(id, Some(0x34d71d6));
        for i in 0..200u32 {
            assert!(id.is_some_and(|id| idr.remove(id).is_some()));
            // The tree had five levels. The path below the root (four nodes) is emptied, and the
            // tree shrinks back to the leaf holding 1, as `radix_tree_shrink()` does (four more):
            // all eight are kept, not freed, and the next add rebuilds the tree from them.
            assert_eq!(idr.spare_nodes(), 8);
            assert_eq!(idr.preload_need(), 0);
            let mut none = Preload::empty();
            id = idr.alloc_cyclic(3, &mut none).ok();
            assert_eq!(id, Some(0x34d71d7 + i));
            assert_eq!(idr.spare_nodes(), 0);
            assert!(invariants_hold(&idr));
        }
        Ok(())
    }

    /// The height of the smallest tree covering an id, against its definition.
    #[test]
    fn height_for_is_the_smallest_covering_height() -> Result {
        for id in [
            0u64,
            1,
            63,
            64,
            65,
            4095,
            4096,
            1 << 18,
            0x34d71d6,
            1 << 30,
            u64::from(ID_MAX),
        ] {
            let height = height_for(id);
            assert!(capacity(height) > id);
            assert!(height == 1 || capacity(height - 1) <= id);
        }
        assert_eq!(height_for(u64::from(ID_MAX)), MAX_HEIGHT);
        Ok(())
    }

    /// A failed allocation says how many nodes to reserve, as `preload_need` does.
    #[test]
    fn enomem_says_what_to_reserve() -> Result {
        for cursor in [64u32, 0x34d71d6, ID_MAX] {
            // An empty table, then one that has to grow.
            for filled in [false, true] {
                let mut idr = Idr::new();
                if filled {
                    assert_eq!(alloc(&mut idr, 1u64).ok(), Some(1));
                }
                idr.set_cursor(cursor);
                let need = idr.preload_need();
                assert!(need > 0);
                let mut none = Preload::empty();
                let err = idr.alloc_cyclic(5u64, &mut none).err();
                assert!(err.is_some_and(|e| e.error == ENOMEM && e.value == 5 && e.need == need));
                let mut pre = Preload::empty();
                pre.reserve(need, Gfp::Kernel)?;
                assert_eq!(idr.alloc_cyclic(5, &mut pre).ok(), Some(cursor));
                assert_eq!(pre.available(), 0);
                assert!(invariants_hold(&idr));
            }
        }
        Ok(())
    }

    /// Allocations that land in the leaf of the one before take the lowest free id there from
    /// the cursor, as a search from the root does; any other goes through that search.
    #[test]
    fn next_id_in_last_leaf() -> Result {
        let mut idr = Idr::new();
        // Through two leaf boundaries and a growth of the tree, in order.
        for expected in 1..=200u32 {
            assert_eq!(alloc(&mut idr, u64::from(expected)).ok(), Some(expected));
            assert!(invariants_hold(&idr));
        }
        assert!(idr.last_leaf.as_ref().is_some_and(|last| last.base == 192));
        // Holes below the last id, in the same leaf: the cursor moved back finds the lowest free
        // id from there, past the taken ones, as `idr_alloc_cyclic` does.
        for id in [150u32, 152, 153, 160] {
            assert_eq!(idr.remove(id), Some(u64::from(id)));
        }
        idr.set_cursor(151);
        let mut none = Preload::empty();
        assert_eq!(idr.alloc_cyclic(1000, &mut none).ok(), Some(152));
        assert_eq!(idr.alloc_cyclic(1001, &mut none).ok(), Some(153));
        assert_eq!(idr.alloc_cyclic(1002, &mut none).ok(), Some(160));
        assert_eq!(idr.alloc_cyclic(1003, &mut none).ok(), Some(201));
        assert!(invariants_hold(&idr));
        // A removal in the last leaf that leaves others in it, then the cursor on a taken id
        // at the end of a full leaf: the next id is in the following leaf.
        assert_eq!(idr.remove(201), Some(1003));
        idr.set_cursor(190);
        assert_eq!(idr.alloc_cyclic(1004, &mut none).ok(), Some(201));
        idr.set_cursor(60);
        assert_eq!(idr.alloc_cyclic(1005, &mut none).ok(), Some(150));
        assert!(invariants_hold(&idr));
        // Filling the leaf that holds 192..256 makes it full: the ones above learn it, and
        // the next search skips it.
        idr.set_cursor(202);
        for expected in 202..=255u32 {
            assert_eq!(
                idr.alloc_cyclic(u64::from(expected), &mut none).ok(),
                Some(expected)
            );
        }
        assert!(invariants_hold(&idr));
        idr.set_cursor(192);
        assert_eq!(alloc(&mut idr, 2000).ok(), Some(256));
        assert!(invariants_hold(&idr));
        // Emptying the last leaf takes it out of the tree: the next allocation there builds it
        // again.
        assert_eq!(idr.remove(256), Some(2000));
        assert!(idr.last_leaf.is_none());
        idr.set_cursor(256);
        assert_eq!(alloc(&mut idr, 2001).ok(), Some(256));
        assert!(invariants_hold(&idr));
        Ok(())
    }

    /// The last leaf's ids up to `max` only: past it the allocation wraps to 1, as the search
    /// from the root does.
    #[test]
    fn last_leaf_stops_at_max() -> Result {
        let mut idr = Idr::with_max(100);
        for expected in 1..=100u32 {
            assert_eq!(alloc(&mut idr, u64::from(expected)).ok(), Some(expected));
        }
        assert_eq!(idr.remove(7), Some(7));
        let mut none = Preload::empty();
        assert_eq!(idr.alloc_cyclic(7, &mut none).ok(), Some(7));
        assert_eq!(
            failure(idr.alloc_cyclic(8u64, &mut none)),
            Some((ENOSPC, 8))
        );
        assert!(invariants_hold(&idr));
        Ok(())
    }

    /// Emptying a big tree keeps at most `SPARE_NODES` nodes; the rest are freed. Refilling it
    /// starts from the kept ones.
    #[test]
    fn spare_nodes_are_bounded() -> Result {
        let mut idr = Idr::new();
        for expected in 1..=5000u32 {
            assert_eq!(alloc(&mut idr, u64::from(expected)).ok(), Some(expected));
        }
        assert_eq!(idr.spare_nodes(), 0);
        for id in 1..=5000u32 {
            assert_eq!(idr.remove(id), Some(u64::from(id)));
        }
        assert!(idr.is_empty());
        assert_eq!(idr.spare_nodes(), SPARE_NODES);
        assert!(invariants_hold(&idr));
        // An empty table takes one spare node, a leaf, wherever the id is.
        idr.set_cursor(100_000);
        let mut none = Preload::empty();
        assert_eq!(idr.alloc_cyclic(7, &mut none).ok(), Some(100_000));
        assert_eq!(idr.spare_nodes(), SPARE_NODES - 1);
        assert_eq!(idr.height, 1);
        assert!(invariants_hold(&idr));
        Ok(())
    }

    /// Nodes handed from one allocator to another keep their order and their bound.
    #[test]
    fn spare_nodes_move_between_allocators() -> Result {
        // Ids 1 and 0x34d71d6: a root at level 4 over two paths, nine nodes.
        let mut a = Idr::new();
        assert_eq!(alloc(&mut a, 1u64).ok(), Some(1));
        a.set_cursor(0x34d71d6);
        assert_eq!(alloc(&mut a, 2).ok(), Some(0x34d71d6));
        assert_eq!(a.remove(0x34d71d6), Some(2));
        assert_eq!(a.remove(1), Some(1));
        let mut pool = a.take_spare();
        assert_eq!(pool.available(), 9);
        assert_eq!(a.spare_nodes(), 0);
        // A new allocator gets what it needs from the pool: nothing is left over.
        let mut b = Idr::new();
        let mut pre = Preload::empty();
        pre.take_from(&mut pool, b.preload_need());
        assert_eq!(b.alloc_cyclic(3u64, &mut pre).ok(), Some(1));
        b.set_cursor(0x34d71d6);
        pre.take_from(&mut pool, b.preload_need());
        assert_eq!(pre.available(), 8);
        assert_eq!(pool.available(), 0);
        assert_eq!(b.alloc_cyclic(4u64, &mut pre).ok(), Some(0x34d71d6));
        assert_eq!(pre.available(), 0);
        assert!(invariants_hold(&b));
        // `absorb` keeps at most a reservation's worth and frees the rest.
        let mut big: Preload<u64> = Preload::new(Gfp::Kernel)?;
        let mut more = Preload::empty();
        more.reserve(3, Gfp::Kernel)?;
        big.absorb(more);
        assert_eq!(big.available(), PRELOAD_NODES);
        Ok(())
    }

    /// Spare nodes of either kind serve as leaves and as interior nodes.
    #[test]
    fn spare_nodes_change_kind() -> Result {
        let mut idr = Idr::new();
        // Ids 1 and 100: an interior root over two leaves. Removing 100 keeps its leaf, then
        // the root, as the tree shrinks to the leaf of 1.
        assert_eq!(alloc(&mut idr, 1u64).ok(), Some(1));
        idr.set_cursor(100);
        assert_eq!(alloc(&mut idr, 2).ok(), Some(100));
        assert_eq!(idr.remove(100), Some(2));
        assert_eq!(idr.spare_nodes(), 2);
        assert_eq!(idr.height, 1);
        // Growing to 1 << 20 takes three interior nodes above the leaf of 1 and three below,
        // then a leaf: the spare root first, then the spare leaf as an interior node.
        let mut pre = Preload::empty();
        idr.set_cursor(1 << 20);
        pre.reserve(idr.preload_need(), Gfp::Kernel)?;
        assert_eq!(pre.available(), 4);
        assert_eq!(idr.alloc_cyclic(3, &mut pre).ok(), Some(1 << 20));
        assert_eq!(pre.available(), 0);
        assert!(invariants_hold(&idr));
        Ok(())
    }

    #[test]
    fn ids_start_at_one_and_count_up() -> Result {
        let mut idr = Idr::new();
        assert!(idr.is_empty());
        assert_eq!(idr.cursor(), 0);
        for expected in 1..=200u32 {
            assert_eq!(
                alloc(&mut idr, u64::from(expected) * 3).ok(),
                Some(expected)
            );
        }
        assert_eq!(idr.len(), 200);
        assert!(!idr.is_empty());
        assert_eq!(idr.cursor(), 201);
        for id in 1..=200u32 {
            assert_eq!(idr.get(id).copied(), Some(u64::from(id) * 3));
        }
        assert!(idr.get(0).is_none());
        assert!(idr.get(201).is_none());
        assert!(idr.get(ID_MAX).is_none());
        assert!(invariants_hold(&idr));
        Ok(())
    }

    #[test]
    fn cursor_wraps_after_int_max() -> Result {
        let mut idr = Idr::new();
        assert_eq!(alloc(&mut idr, 1u64).ok(), Some(1));
        assert_eq!(alloc(&mut idr, 2).ok(), Some(2));
        idr.set_cursor(ID_MAX);
        assert_eq!(alloc(&mut idr, 3).ok(), Some(ID_MAX));
        // The C cursor becomes 0x80000000, a negative `int`.
        assert_eq!(idr.cursor(), 0x8000_0000);
        assert_eq!(alloc(&mut idr, 4).ok(), Some(3));
        assert_eq!(idr.cursor(), 4);
        // From a taken `INT_MAX`, the search wraps to the first free id.
        idr.set_cursor(ID_MAX);
        assert_eq!(alloc(&mut idr, 5).ok(), Some(4));
        assert_eq!(idr.get(ID_MAX).copied(), Some(3));
        assert_eq!(idr.height, MAX_HEIGHT);
        assert!(invariants_hold(&idr));
        Ok(())
    }

    #[test]
    fn cursor_on_taken_id_gives_next_free_above() -> Result {
        let mut idr = Idr::new();
        for expected in 1..=100u32 {
            assert_eq!(alloc(&mut idr, u64::from(expected)).ok(), Some(expected));
        }
        assert_eq!(idr.remove(50), Some(50));
        assert_eq!(idr.remove(80), Some(80));
        idr.set_cursor(10);
        assert_eq!(idr.cursor(), 10);
        assert_eq!(alloc(&mut idr, 0).ok(), Some(50));
        idr.set_cursor(51);
        assert_eq!(alloc(&mut idr, 0).ok(), Some(80));
        assert_eq!(alloc(&mut idr, 0).ok(), Some(101));
        // A free cursor is taken as is, even far above the last id.
        idr.set_cursor(1 << 30);
        assert_eq!(alloc(&mut idr, 0).ok(), Some(1 << 30));
        idr.set_cursor(64);
        assert_eq!(alloc(&mut idr, 0).ok(), Some(102));
        assert!(invariants_hold(&idr));
        Ok(())
    }

    #[test]
    fn removed_id_not_reused_before_wrap() -> Result {
        let mut idr = Idr::new();
        for expected in 1..=10u32 {
            assert_eq!(alloc(&mut idr, u64::from(expected)).ok(), Some(expected));
        }
        assert_eq!(idr.remove(3), Some(3));
        assert_eq!(alloc(&mut idr, 11).ok(), Some(11));
        assert_eq!(idr.remove(11), Some(11));
        assert_eq!(alloc(&mut idr, 12).ok(), Some(12));
        assert!(idr.get(3).is_none());
        assert!(idr.get(11).is_none());
        idr.set_cursor(ID_MAX - 1);
        assert_eq!(alloc(&mut idr, 0).ok(), Some(ID_MAX - 1));
        assert_eq!(alloc(&mut idr, 0).ok(), Some(ID_MAX));
        // Only now does the search wrap, to the lowest free id, then go on upwards.
        assert_eq!(alloc(&mut idr, 0).ok(), Some(3));
        assert_eq!(alloc(&mut idr, 0).ok(), Some(11));
        assert_eq!(alloc(&mut idr, 0).ok(), Some(13));
        assert!(invariants_hold(&idr));
        Ok(())
    }

    #[test]
    fn full_range_gives_enospc_and_hands_value_back() -> Result {
        // `idr_alloc_cyclic(idr, ptr, 1, 101, gfp)`: the same code with a lower `max`.
        let mut idr = Idr::with_max(100);
        for expected in 1..=100u32 {
            assert_eq!(alloc(&mut idr, u64::from(expected)).ok(), Some(expected));
        }
        assert_eq!(idr.cursor(), 101);
        assert_eq!(failure(alloc(&mut idr, 0xdead)), Some((ENOSPC, 0xdead)));
        assert_eq!(idr.cursor(), 101);
        assert_eq!(idr.len(), 100);
        assert_eq!(idr.remove(37), Some(37));
        assert_eq!(alloc(&mut idr, 0xbeef).ok(), Some(37));
        assert_eq!(idr.cursor(), 38);
        assert_eq!(idr.get(37).copied(), Some(0xbeef));
        // Also full when the search starts at 1 and does not retry.
        idr.set_cursor(0);
        assert_eq!(idr.preload_need(), 0);
        assert_eq!(failure(alloc(&mut idr, 7)), Some((ENOSPC, 7)));
        assert_eq!(idr.cursor(), 0);
        assert!(invariants_hold(&idr));

        // A range that ends inside a leaf and starts a new interior level.
        let mut idr = Idr::with_max(4097);
        idr.set_cursor(4090);
        for expected in 4090..=4097u32 {
            assert_eq!(alloc(&mut idr, 0u64).ok(), Some(expected));
        }
        assert_eq!(alloc(&mut idr, 0).ok(), Some(1));
        assert!(invariants_hold(&idr));
        Ok(())
    }

    #[test]
    fn short_preload_gives_enomem_and_changes_nothing() -> Result {
        let mut empty = Preload::empty();
        let mut idr = Idr::new();
        assert_eq!(idr.preload_need(), 1);
        assert_eq!(
            failure(idr.alloc_cyclic(9u64, &mut empty)),
            Some((ENOMEM, 9))
        );
        assert!(idr.is_empty());
        assert!(idr.root.is_none());
        assert_eq!(idr.cursor(), 0);

        // Ids 1 to 63 fill the first leaf; 64 needs a new root and a new leaf.
        for expected in 1..=63u32 {
            assert_eq!(alloc(&mut idr, u64::from(expected)).ok(), Some(expected));
        }
        assert_eq!(idr.preload_need(), 2);
        assert_eq!(
            failure(idr.alloc_cyclic(64, &mut empty)),
            Some((ENOMEM, 64))
        );
        assert_eq!(idr.len(), 63);
        assert_eq!(idr.height, 1);
        assert_eq!(idr.cursor(), 64);

        // An id in an existing leaf needs no node.
        assert_eq!(idr.remove(5), Some(5));
        idr.set_cursor(1);
        assert_eq!(idr.preload_need(), 0);
        assert_eq!(idr.alloc_cyclic(55, &mut empty).ok(), Some(5));
        assert_eq!(idr.get(5).copied(), Some(55));
        assert!(invariants_hold(&idr));
        Ok(())
    }

    #[test]
    fn worst_case_growth_fits_one_preload() -> Result {
        let mut idr = Idr::new();
        // An empty table needs one leaf, wherever the id is.
        assert_eq!(idr.nodes_needed(u64::from(ID_MAX)), 1);
        assert_eq!(alloc(&mut idr, 1u64).ok(), Some(1));
        assert_eq!(idr.height, 1);
        idr.set_cursor(ID_MAX);
        assert_eq!(idr.nodes_needed(u64::from(ID_MAX)), PRELOAD_NODES);
        let mut pre = Preload::new(Gfp::Kernel)?;
        assert_eq!(pre.available(), PRELOAD_NODES);
        assert_eq!(idr.alloc_cyclic(2, &mut pre).ok(), Some(ID_MAX));
        assert_eq!(pre.available(), 0);
        assert_eq!(idr.height, MAX_HEIGHT);
        assert!(invariants_hold(&idr));
        // Removing the high id shrinks the tree back to one leaf.
        assert_eq!(idr.remove(ID_MAX), Some(2));
        assert_eq!(idr.height, 1);
        assert!(invariants_hold(&idr));
        assert_eq!(idr.remove(1), Some(1));
        assert!(idr.root.is_none());
        assert_eq!(idr.height, 0);
        Ok(())
    }

    #[test]
    fn out_of_range_cursor_starts_at_one() -> Result {
        let mut idr = Idr::new();
        assert_eq!(alloc(&mut idr, 0u64).ok(), Some(1));
        assert_eq!(alloc(&mut idr, 0).ok(), Some(2));
        for (cursor, expected) in [(0, 3), (0x8000_0000, 4), (0x8000_0001, 5), (u32::MAX, 6)] {
            idr.set_cursor(cursor);
            assert_eq!(idr.cursor(), cursor);
            assert_eq!(alloc(&mut idr, 0).ok(), Some(expected));
        }
        // `INT_MAX` itself is a valid cursor.
        idr.set_cursor(ID_MAX);
        assert_eq!(alloc(&mut idr, 0).ok(), Some(ID_MAX));
        assert!(invariants_hold(&idr));
        Ok(())
    }

    #[test]
    fn iteration_in_id_order() -> Result {
        let mut idr = Idr::new();
        assert!(idr.iter().next().is_none());
        let cursors = [
            1000,
            5,
            ID_MAX,
            64,
            63,
            4096,
            1 << 30,
            262_143,
            2,
            (1 << 30) - 1,
        ];
        for cursor in cursors {
            idr.set_cursor(cursor);
            assert_eq!(alloc(&mut idr, u64::from(cursor) * 7).ok(), Some(cursor));
        }
        let mut sorted = KVec::new();
        sorted.extend_from_slice(&cursors, GFP_KERNEL)?;
        sorted.sort_unstable();
        assert_eq!(idr.iter().count(), sorted.len());
        for ((id, &value), &expected) in idr.iter().zip(sorted.iter()) {
            assert_eq!(id, expected);
            assert_eq!(value, u64::from(expected) * 7);
        }

        // Values can be changed in place, and removed ids drop out of the walk.
        for &id in sorted.iter() {
            if let Some(value) = idr.get_mut(id) {
                *value += 1;
            }
        }
        assert_eq!(idr.remove(64), Some(64 * 7 + 1));
        assert_eq!(idr.remove(1 << 30), Some((1 << 30) * 7 + 1));
        sorted.retain(|id| *id != 64 && *id != 1 << 30);
        assert_eq!(idr.iter().count(), sorted.len());
        for ((id, &value), &expected) in idr.iter().zip(sorted.iter()) {
            assert_eq!(id, expected);
            assert_eq!(value, u64::from(expected) * 7 + 1);
        }
        assert!(invariants_hold(&idr));
        Ok(())
    }

    #[test]
    fn remove_returns_value_and_frees_nodes() -> Result {
        let mut idr = Idr::new();
        for expected in 1..=300u32 {
            assert_eq!(
                alloc(&mut idr, u64::from(expected) + 1000).ok(),
                Some(expected)
            );
        }
        assert!(idr.remove(0).is_none());
        assert!(idr.remove(301).is_none());
        assert!(idr.remove(ID_MAX).is_none());
        assert!(idr.remove(u32::MAX).is_none());
        assert_eq!(idr.len(), 300);
        // Visit every id once, in a scattered order: 7 and 300 are coprime.
        for step in 0..300u32 {
            let id = step * 7 % 300 + 1;
            assert_eq!(idr.remove(id), Some(u64::from(id) + 1000));
            assert!(idr.remove(id).is_none());
            assert!(idr.get(id).is_none());
            assert_eq!(idr.len(), 299 - step as usize);
            assert!(invariants_hold(&idr));
        }
        assert!(idr.is_empty());
        assert!(idr.root.is_none());
        assert_eq!(idr.height, 0);
        // The cursor does not move on removal.
        assert_eq!(idr.cursor(), 301);
        Ok(())
    }

    #[test]
    fn dense_run_is_skipped() -> Result {
        let mut idr = Idr::new();
        let mut pre = Preload::new(Gfp::Kernel)?;
        for expected in 1..=5000u32 {
            pre.reserve(PRELOAD_NODES, Gfp::Kernel)?;
            assert_eq!(
                idr.alloc_cyclic(u64::from(expected), &mut pre).ok(),
                Some(expected)
            );
        }
        assert!(invariants_hold(&idr));
        idr.set_cursor(1);
        assert_eq!(idr.find_free(1).map(|(id, _)| id), Some(5001));
        assert_eq!(alloc(&mut idr, 0).ok(), Some(5001));
        assert_eq!(idr.remove(2500), Some(2500));
        idr.set_cursor(1);
        assert_eq!(alloc(&mut idr, 0).ok(), Some(2500));
        idr.set_cursor(1);
        assert_eq!(alloc(&mut idr, 0).ok(), Some(5002));
        // A hole at the very start of a full leaf and at the end of one.
        assert_eq!(idr.remove(4096), Some(4096));
        assert_eq!(idr.remove(4095), Some(4095));
        idr.set_cursor(4000);
        assert_eq!(alloc(&mut idr, 0).ok(), Some(4095));
        assert_eq!(alloc(&mut idr, 0).ok(), Some(4096));
        assert_eq!(alloc(&mut idr, 0).ok(), Some(5003));
        assert!(invariants_hold(&idr));
        Ok(())
    }

    #[test]
    fn values_dropped_exactly_once() -> Result {
        /// Counts its drops.
        struct Counted<'a>(&'a Cell<usize>);

        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }

        let drops = Cell::new(0);
        let mut idr = Idr::with_max(200);
        for _ in 0..200 {
            assert!(alloc(&mut idr, Counted(&drops)).is_ok());
        }
        // A failed allocation hands the value back instead of dropping it.
        let back = failure(alloc(&mut idr, Counted(&drops)));
        assert_eq!(drops.get(), 0);
        assert!(back.as_ref().is_some_and(|(error, _)| *error == ENOSPC));
        drop(back);
        assert_eq!(drops.get(), 1);
        for id in 1..=50u32 {
            let value = idr.remove(id);
            assert!(value.is_some());
        }
        assert_eq!(drops.get(), 51);
        drop(idr);
        assert_eq!(drops.get(), 201);
        Ok(())
    }

    /// Whether `node` is all zeroes, as the node cache holds its free objects.
    fn node_is_zeroed<T>(node: &NodeBox<T>) -> bool {
        // SAFETY: An interior node without children has no padding (tag, pointers, bitmaps), so
        // each of its words is initialised; the caller passes only such nodes.
        let words = unsafe {
            core::slice::from_raw_parts(
                node.0.as_ptr().cast::<u64>(),
                size_of::<Node<T>>() / size_of::<u64>(),
            )
        };
        words.iter().all(|&word| word == 0)
    }

    /// Tables of pointer-sized values take their nodes from the node cache, others from
    /// `kmalloc`; either way a new node is empty and of the kind asked for.
    #[test]
    fn node_cache_serves_pointer_sized_values() -> Result {
        assert!(NodeBox::<&'static u64>::CACHED);
        assert!(NodeBox::<&'static u64>::ZERO_IS_NONE);
        assert!(!NodeBox::<u64>::CACHED);
        assert!(!NodeBox::<u64>::ZERO_IS_NONE);
        assert!(NODE_CACHE.is_zeroed());
        for round in 0..4 {
            let mut pre: Preload<&'static u64> = Preload::new(Gfp::Kernel)?;
            assert_eq!(pre.available(), PRELOAD_NODES);
            // Taken last-in first-out: interior nodes, then the leaf made first.
            for left in (0..PRELOAD_NODES).rev() {
                let leaf = left == 0;
                let Some(node) = pre.take(leaf) else {
                    return Err(EINVAL);
                };
                assert!(node.is_empty());
                assert_eq!(matches!(*node, Node::Leaf(_)), leaf);
                if !leaf {
                    assert!(node_is_zeroed(&node));
                }
                // Every other round, a node goes back as the other kind.
                let mut node = node;
                if round % 2 == 1 {
                    node.change_kind(!leaf);
                    assert!(node.is_empty());
                    assert_eq!(matches!(*node, Node::Leaf(_)), !leaf);
                    if leaf {
                        // A leaf made an interior node is all zeroes again.
                        assert!(node_is_zeroed(&node));
                    }
                }
            }
            let mut big: Preload<u64> = Preload::new(Gfp::Kernel)?;
            assert!(big.take(true).is_some_and(|node| node.is_empty()));
        }
        Ok(())
    }

    /// Nodes go back to the cache zeroed, whatever they held: taken again, they are empty
    /// interior nodes.
    #[test]
    fn nodes_go_back_to_the_cache_zeroed() -> Result {
        static VALUE: u64 = 0;
        for _ in 0..3 {
            let mut idr = Idr::new();
            let mut pre = Preload::empty();
            for expected in 1..=300u32 {
                pre.reserve(idr.preload_need(), Gfp::Kernel)?;
                assert_eq!(idr.alloc_cyclic(&VALUE, &mut pre).ok(), Some(expected));
            }
            idr.set_cursor(0x34d71d6);
            pre.reserve(idr.preload_need(), Gfp::Kernel)?;
            assert_eq!(idr.alloc_cyclic(&VALUE, &mut pre).ok(), Some(0x34d71d6));
            assert!(invariants_hold(&idr));
            for id in 1..=100u32 {
                assert!(idr.remove(id).is_some());
            }
            // The rest is freed with values in it.
            drop(idr);
            // The nodes just freed are the first taken again (the slab's freelist is
            // last-in first-out): all zeroes.
            let mut nodes = KVec::new();
            for _ in 0..16 {
                let node = NodeBox::<&'static u64>::new(false, Gfp::Kernel)?;
                assert!(node_is_zeroed(&node));
                nodes.push(node, GFP_KERNEL)?;
            }
        }
        Ok(())
    }

    #[test]
    fn random_small_ranges_match_model() -> Result {
        for (seed, max) in [(1, 200), (2, 200), (3, 700), (4, 5000)] {
            assert!(matches_model(seed, max, 4000)?);
        }
        Ok(())
    }

    #[test]
    fn random_full_range_matches_model() -> Result {
        for seed in [0x1234_5678, 0xdead_beef, 0x0bad_cafe, 42] {
            assert!(matches_model(seed, ID_MAX, 4000)?);
        }
        Ok(())
    }
}
