// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The rust_inotify authors.
 *
 * What the Rust half of rust_inotify cannot reach through 7.3's kernel::bindings, which do not
 * cover fsnotify_backend.h or namei.h: the file_operations and fsnotify_ops tables, the mark's
 * layout, the limits' module parameters, and thin calls. Nothing here decides anything: the logic
 * (the event queue, merging, overflow, the wd table, limits, fdinfo) is in Rust, and glue.rs is
 * the one Rust file that calls these functions, behind a safe API.
 *
 * Compare with fs/notify/inotify/inotify_user.c and inotify_fsnotify.c.
 */

#include <linux/exportfs.h>
#include <linux/fs.h>
#include <linux/fsnotify_backend.h>
#include <linux/memcontrol.h>
#include <linux/sched/mm.h>
#include <linux/idr.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <uapi/linux/inotify.h>

#include "glue.h"

/* ---- Limits: module parameters writable at run time, like upstream's sysctls. ---- */

static int param_set_nonneg_int(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, INT_MAX);
}

static const struct kernel_param_ops nonneg_int_ops = {
	.set = param_set_nonneg_int,
	.get = param_get_uint,
};

/* Upstream's defaults (fs/notify/inotify/inotify_user.c); max_user_watches is set at init. */
static unsigned int max_user_instances = 128;
static unsigned int max_user_watches;
static unsigned int max_queued_events = 16384;

module_param_cb(max_user_instances, &nonneg_int_ops, &max_user_instances, 0644);
MODULE_PARM_DESC(max_user_instances,
		 "Instances one user may have open (fs.inotify.max_user_instances; default 128)");
module_param_cb(max_user_watches, &nonneg_int_ops, &max_user_watches, 0644);
MODULE_PARM_DESC(max_user_watches,
		 "Watches one user may have (fs.inotify.max_user_watches; default scales with RAM)");
module_param_cb(max_queued_events, &nonneg_int_ops, &max_queued_events, 0644);
MODULE_PARM_DESC(max_queued_events,
		 "Events an instance may queue, sampled at open (fs.inotify.max_queued_events; default 16384)");

unsigned int rust_inotify_max_user_instances(void)
{
	return READ_ONCE(max_user_instances);
}

unsigned int rust_inotify_max_user_watches(void)
{
	return READ_ONCE(max_user_watches);
}

unsigned int rust_inotify_max_queued_events(void)
{
	return READ_ONCE(max_queued_events);
}

/* ---- The mark: upstream's struct inotify_inode_mark. ---- */

struct rust_inotify_mark {
	struct fsnotify_mark fsn_mark;
	int wd;
};

#define to_rmark(m) container_of(m, struct rust_inotify_mark, fsn_mark)

/* Upstream's INOTIFY_WATCH_COST, with this module's mark. */
#define RUST_INOTIFY_WATCH_COST (sizeof(struct rust_inotify_mark) + 2 * sizeof(struct inode))

static void rust_inotify_init_max_user_watches(void)
{
	unsigned long watches_max;
	struct sysinfo si;

	if (max_user_watches)
		return;	/* given at load time */
	/* inotify_user_setup(): 1% of low memory, clamped to [8192, 1048576]. */
	si_meminfo(&si);
	watches_max = (((si.totalram - si.totalhigh) / 100) << PAGE_SHIFT) /
		      RUST_INOTIFY_WATCH_COST;
	watches_max = clamp(watches_max, 8192UL, 1048576UL);
	WRITE_ONCE(max_user_watches, watches_max);
}

/* ---- fsnotify_ops: each forwards to Rust (inotify_fsnotify.rs via glue.rs). ---- */

static int glue_handle_inode_event(struct fsnotify_mark *mark, u32 mask, struct inode *inode,
				   struct inode *dir, const struct qstr *name, u32 cookie)
{
	struct mem_cgroup *old_memcg;
	int ret;

	/*
	 * Whoever is interested in the event pays for its allocation, as upstream's
	 * inotify_handle_inode_event() has it.
	 */
	old_memcg = set_active_memcg(mark->group->memcg);
	ret = rust_inotify_handle_inode_event(mark->group->private, mark, mask,
					      name ? name->name : NULL, name ? name->len : 0,
					      cookie);
	set_active_memcg(old_memcg);
	return ret;
}

static void glue_freeing_mark(struct fsnotify_mark *mark, struct fsnotify_group *group)
{
	rust_inotify_freeing_mark(group->private, mark);
}

/*
 * Groups not yet freed. Module exit waits for none to be left: a group's last reference can be
 * dropped by the mark reaper long after its file is closed, and its free_mark and
 * free_group_priv callbacks are module code.
 */
static atomic_t live_groups = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(live_groups_wq);

static void glue_free_group_priv(struct fsnotify_group *group)
{
	rust_inotify_free_group_priv(group->private);
	if (atomic_dec_and_test(&live_groups))
		wake_up(&live_groups_wq);
}

void rust_inotify_wait_groups_freed(void)
{
	wait_event(live_groups_wq, !atomic_read(&live_groups));
}

static void glue_free_mark(struct fsnotify_mark *mark)
{
	kfree(to_rmark(mark));
}

static const struct fsnotify_ops rust_inotify_fsnotify_ops = {
	.handle_inode_event = glue_handle_inode_event,
	.free_group_priv = glue_free_group_priv,
	.freeing_mark = glue_freeing_mark,
	.free_mark = glue_free_mark,
};

struct fsnotify_group *rust_inotify_group_new(void *private)
{
	struct fsnotify_group *group;

	group = fsnotify_alloc_group(&rust_inotify_fsnotify_ops, FSNOTIFY_GROUP_USER);
	if (IS_ERR(group))
		return group;
	atomic_inc(&live_groups);
	group->private = private;
	/* The watcher's memcg pays for its events; fsnotify puts it with the group. */
	group->memcg = get_mem_cgroup_from_mm(current->mm);
	return group;
}

void rust_inotify_group_put(struct fsnotify_group *group)
{
	fsnotify_put_group(group);
}

void rust_inotify_wait_marks_destroyed(void)
{
	fsnotify_wait_marks_destroyed();
}

/*
 * fsnotify_clear_marks_by_group(group, FSNOTIFY_OBJ_TYPE_ANY), which is not exported: destroys
 * every mark of the group. A mark that someone else detaches meanwhile leaves the list under the
 * group's lock, so this never waits for them.
 */
void rust_inotify_clear_marks(struct fsnotify_group *group)
{
	struct fsnotify_mark *mark;

	for (;;) {
		fsnotify_group_lock(group);
		mark = list_first_entry_or_null(&group->marks_list, struct fsnotify_mark, g_list);
		if (mark)
			rust_inotify_mark_get(mark);
		fsnotify_group_unlock(group);
		if (!mark)
			return;
		fsnotify_destroy_mark(mark, group);
		fsnotify_put_mark(mark);
	}
}

static unsigned int to_mark_flags(u32 in_flags)
{
	return (in_flags & IN_EXCL_UNLINK ? FSNOTIFY_MARK_FLAG_EXCL_UNLINK : 0) |
	       (in_flags & IN_ONESHOT ? FSNOTIFY_MARK_FLAG_IN_ONESHOT : 0);
}

struct fsnotify_mark *rust_inotify_mark_new(struct fsnotify_group *group, u32 mask, u32 in_flags)
{
	struct rust_inotify_mark *m = kmalloc_obj(*m, GFP_KERNEL_ACCOUNT);

	if (!m)
		return NULL;
	fsnotify_init_mark(&m->fsn_mark, group);
	m->fsn_mark.mask = mask;
	m->fsn_mark.flags = to_mark_flags(in_flags);
	m->wd = -1;
	return &m->fsn_mark;
}

int rust_inotify_mark_wd(struct fsnotify_mark *mark)
{
	return READ_ONCE(to_rmark(mark)->wd);
}

void rust_inotify_mark_set_wd(struct fsnotify_mark *mark, int wd)
{
	WRITE_ONCE(to_rmark(mark)->wd, wd);
}

u32 rust_inotify_mark_mask(struct fsnotify_mark *mark)
{
	return READ_ONCE(mark->mask);
}

u32 rust_inotify_mark_in_flags(struct fsnotify_mark *mark)
{
	unsigned int flags = READ_ONCE(mark->flags);

	return (flags & FSNOTIFY_MARK_FLAG_EXCL_UNLINK ? IN_EXCL_UNLINK : 0) |
	       (flags & FSNOTIFY_MARK_FLAG_IN_ONESHOT ? IN_ONESHOT : 0);
}

void rust_inotify_mark_update(struct fsnotify_mark *mark, u32 mask, u32 in_flags)
{
	u32 old;

	spin_lock(&mark->lock);
	mark->flags &= ~(FSNOTIFY_MARK_FLAG_EXCL_UNLINK | FSNOTIFY_MARK_FLAG_IN_ONESHOT);
	mark->flags |= to_mark_flags(in_flags);
	old = mark->mask;
	spin_unlock(&mark->lock);
	/* Sets the mask and recalculates the inode's interest, as upstream's update does. */
	fsnotify_modify_mark_mask(mark, mask & ~old, old & ~mask);
}

int rust_inotify_mark_attach(struct fsnotify_mark *mark, struct inode *inode)
{
	return fsnotify_add_mark(mark, inode, FSNOTIFY_OBJ_TYPE_INODE, 0);
}

struct fsnotify_mark *rust_inotify_mark_find(struct fsnotify_group *group, struct inode *inode)
{
	return fsnotify_find_mark(inode, FSNOTIFY_OBJ_TYPE_INODE, group);
}

void rust_inotify_mark_get(struct fsnotify_mark *mark)
{
	/* fsnotify_get_mark() is not exported; this is its body. */
	WARN_ON_ONCE(!refcount_read(&mark->refcnt));
	refcount_inc(&mark->refcnt);
}

void rust_inotify_mark_put(struct fsnotify_mark *mark)
{
	fsnotify_put_mark(mark);
}

void rust_inotify_mark_destroy(struct fsnotify_mark *mark)
{
	fsnotify_destroy_mark(mark, mark->group);
}

/* ---- Path lookup: inotify_find_inode() ---- */

int rust_inotify_path_lookup(int dfd, const char __user *pathname, u32 mask, struct path *path)
{
	unsigned int flags = 0;
	int ret;

	if (!(mask & IN_DONT_FOLLOW))
		flags |= LOOKUP_FOLLOW;
	if (mask & IN_ONLYDIR)
		flags |= LOOKUP_DIRECTORY;

	ret = user_path_at(dfd, pathname, flags, path);
	if (ret)
		return ret;
	/* You can only watch an inode if you have read permissions on it. */
	ret = path_permission(path, MAY_READ);
	if (ret)
		path_put(path);
	/*
	 * security_path_notify() is not exported to modules: the LSM check upstream makes here is
	 * missing (a documented deviation).
	 */
	return ret;
}

void rust_inotify_path_put(struct path *path)
{
	path_put(path);
}

struct inode *rust_inotify_path_inode(const struct path *path)
{
	return d_inode(path->dentry);
}

bool rust_inotify_inode_is_dir(const struct inode *inode)
{
	return S_ISDIR(inode->i_mode);
}

/* ---- fdinfo: fs/notify/fdinfo.c ---- */

/* show_fdinfo() of fs/notify/fdinfo.c: each mark, newest first, until the buffer is full. */
void rust_inotify_for_each_mark(struct fsnotify_group *group, struct seq_file *m,
				void (*cb)(void *ctx, struct fsnotify_mark *mark), void *ctx)
{
	struct fsnotify_mark *mark;

	fsnotify_group_lock(group);
	list_for_each_entry(mark, &group->marks_list, g_list) {
		cb(ctx, mark);
		if (seq_has_overflowed(m))
			break;
	}
	fsnotify_group_unlock(group);
}

/* super_trylock_shared() of fs/super.c, which is not exported. */
static bool glue_super_trylock_shared(struct super_block *sb)
{
	if (down_read_trylock(&sb->s_umount)) {
		if (!(sb->s_flags & SB_DYING) && sb->s_root && (sb->s_flags & SB_BORN))
			return true;
		up_read(&sb->s_umount);
	}
	return false;
}

int rust_inotify_mark_info(struct fsnotify_mark *mark, struct rust_inotify_mark_info *info)
{
	struct inode *inode;

	if (!mark->connector || mark->connector->type != FSNOTIFY_OBJ_TYPE_INODE)
		return -ENOENT;
	/* fsnotify_conn_inode() of fs/notify/fsnotify.h, which is internal. */
	inode = igrab((struct inode *)mark->connector->obj);
	if (!inode)
		return -ENOENT;

	info->wd = rust_inotify_mark_wd(mark);
	info->ino = inode->i_ino;
	info->sdev = inode->i_sb->s_dev;
	info->mask = READ_ONCE(mark->mask);
	info->in_flags = rust_inotify_mark_in_flags(mark);
	info->fh_type = -1;
	info->fh_bytes = 0;
#if defined(CONFIG_EXPORTFS)
	if (glue_super_trylock_shared(inode->i_sb)) {
		int size = sizeof(info->fh) >> 2;
		int ret = exportfs_encode_fid(inode, (struct fid *)info->fh, &size);

		up_read(&inode->i_sb->s_umount);
		if (ret != FILEID_INVALID && ret >= 0) {
			info->fh_type = ret;
			info->fh_bytes = size * sizeof(u32);
		}
	}
#endif
	iput(inode);
	return 0;
}

/* ---- file_operations: each entry is in Rust (glue.rs); llseek and fasync as upstream. ---- */

/* fsnotify_fasync(), which is not exported. */
static int glue_fasync(int fd, struct file *file, int on)
{
	struct fsnotify_group *group = file->private_data;

	return fasync_helper(fd, file, on, &group->fsn_fa) >= 0 ? 0 : -EIO;
}

static const struct file_operations rust_inotify_fops = {
	.owner = THIS_MODULE,
	.open = rust_inotify_open,
	.release = rust_inotify_release,
	.read = rust_inotify_read,
	.poll = rust_inotify_poll,
	.fasync = glue_fasync,
	.unlocked_ioctl = rust_inotify_ioctl,
	.compat_ioctl = rust_inotify_ioctl,
	.llseek = noop_llseek,
	.show_fdinfo = rust_inotify_show_fdinfo,
};

static struct miscdevice rust_inotify_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "rust_inotify",
	.fops = &rust_inotify_fops,
};

int rust_inotify_misc_register(void)
{
	rust_inotify_init_max_user_watches();
	return misc_register(&rust_inotify_miscdev);
}

void rust_inotify_misc_deregister(void)
{
	misc_deregister(&rust_inotify_miscdev);
}

void rust_inotify_group_kill_fasync(struct fsnotify_group *group)
{
	kill_fasync(&group->fsn_fa, SIGIO, POLL_IN);
}

void *rust_inotify_group_private(struct fsnotify_group *group)
{
	return group->private;
}

struct fsnotify_group *rust_inotify_mark_group(struct fsnotify_mark *mark)
{
	return mark->group;
}

/* ---- The kernel's own IDR, for the wd allocator's benchmark (idr.rs bench()). ---- */

struct idr *rust_inotify_c_idr_new(void)
{
	struct idr *idr = kmalloc_obj(*idr, GFP_KERNEL);

	if (idr)
		idr_init(idr);
	return idr;
}

int rust_inotify_c_idr_alloc_cyclic(struct idr *idr, void *ptr)
{
	return idr_alloc_cyclic(idr, ptr, 1, 0, GFP_KERNEL);
}

void rust_inotify_c_idr_set_cursor(struct idr *idr, unsigned int next)
{
	idr_set_cursor(idr, next);
}

void rust_inotify_c_idr_free(struct idr *idr)
{
	idr_destroy(idr);
	kfree(idr);
}
