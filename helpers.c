// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The rust_inotify authors.
 *
 * Static inline functions and macros that Rust cannot call, each wrapped in a one-line function,
 * as the files of rust/helpers/ do for the kernel crate. Nothing else is C: the file_operations
 * and fsnotify_ops tables, the mark's layout and the module parameters are built in Rust.
 *
 * Kbuild runs bindgen on this file too (with __BINDGEN__), as rust/Makefile does on
 * rust/helpers/helpers.c: each rust_inotify_helper_NAME() is bindings::NAME() in Rust.
 */

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fsnotify_backend.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/memcontrol.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>

/*
 * Kbuild links this file's bitcode into the Rust object with CONFIG_RUST_INLINE_HELPERS, as the
 * kernel does with rust/helpers/helpers.c; __always_inline for the reasons given there.
 */
#ifdef RUST_INOTIFY_INLINE_HELPERS
#define __rust_inotify_helper __always_inline
#else
#define __rust_inotify_helper
#endif

__rust_inotify_helper void
rust_inotify_helper_fsnotify_group_lock(struct fsnotify_group *group)
{
	fsnotify_group_lock(group);
}

__rust_inotify_helper void
rust_inotify_helper_fsnotify_group_unlock(struct fsnotify_group *group)
{
	fsnotify_group_unlock(group);
}

__rust_inotify_helper struct mem_cgroup *
rust_inotify_helper_set_active_memcg(struct mem_cgroup *memcg)
{
	return set_active_memcg(memcg);
}

/* A function with CONFIG_MEMCG, a static inline without. */
__rust_inotify_helper struct mem_cgroup *
rust_inotify_helper_get_mem_cgroup_from_mm(struct mm_struct *mm)
{
	return get_mem_cgroup_from_mm(mm);
}

__rust_inotify_helper int
rust_inotify_helper_path_permission(const struct path *path, int mask)
{
	return path_permission(path, mask);
}

/* Who may restore a checkpoint (checkpoint.rs). */
__rust_inotify_helper struct user_namespace *rust_inotify_helper_current_user_ns(void)
{
	return current_user_ns();
}

__rust_inotify_helper bool
rust_inotify_helper_checkpoint_restore_ns_capable(struct user_namespace *ns)
{
	return checkpoint_restore_ns_capable(ns);
}

/* For the wd allocator's benchmark, which compares with the kernel's IDR (c_idr.rs). */
__rust_inotify_helper void rust_inotify_helper_idr_init(struct idr *idr)
{
	idr_init(idr);
}

__rust_inotify_helper void
rust_inotify_helper_idr_set_cursor(struct idr *idr, unsigned int val)
{
	idr_set_cursor(idr, val);
}

/* The add-watch ioctl's argument, read a 64-bit word at a time with get_user(). */
__rust_inotify_helper int rust_inotify_helper_get_user_u64(unsigned long long *val,
				 const unsigned long long __user *ptr)
{
	return get_user(*val, ptr);
}

/* FIONREAD's answer: one int stored in user memory, as upstream's put_user(). */
__rust_inotify_helper int rust_inotify_helper_put_user_int(int val, int __user *ptr)
{
	return put_user(val, ptr);
}
