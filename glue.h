/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The rust_inotify authors.
 *
 * The interface between glue.c and glue.rs: what C calls in Rust, what Rust calls in C, and the
 * one struct they share. glue.rs declares the same functions; keep the two in step.
 */
#ifndef RUST_INOTIFY_GLUE_H
#define RUST_INOTIFY_GLUE_H

#include <linux/types.h>

struct file;
struct fsnotify_group;
struct fsnotify_mark;
struct idr;
struct inode;
struct path;
struct poll_table_struct;
struct seq_file;

/* One watch, as fdinfo shows it. */
struct rust_inotify_mark_info {
	u64 ino;
	u32 sdev;		/* the kernel's dev_t */
	s32 wd;
	u32 mask;		/* the mark's fsnotify mask */
	u32 in_flags;		/* IN_ONESHOT | IN_EXCL_UNLINK, as set */
	s32 fh_type;		/* -1: no file handle */
	u32 fh_bytes;
	u8 fh[128];		/* MAX_HANDLE_SZ */
};

/* Implemented in Rust (glue.rs): file_operations. */
int rust_inotify_open(struct inode *inode, struct file *file);
int rust_inotify_release(struct inode *inode, struct file *file);
ssize_t rust_inotify_read(struct file *file, char __user *buf, size_t count, loff_t *pos);
__poll_t rust_inotify_poll(struct file *file, struct poll_table_struct *wait);
long rust_inotify_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
void rust_inotify_show_fdinfo(struct seq_file *m, struct file *file);

/* Implemented in Rust (glue.rs): fsnotify_ops. */
int rust_inotify_handle_inode_event(void *private, struct fsnotify_mark *mark, u32 mask,
				    const unsigned char *name, u32 name_len, u32 cookie);
void rust_inotify_freeing_mark(void *private, struct fsnotify_mark *mark);
void rust_inotify_free_group_priv(void *private);

/* Implemented in C (glue.c), called from glue.rs. */
unsigned int rust_inotify_max_user_instances(void);
unsigned int rust_inotify_max_user_watches(void);
unsigned int rust_inotify_max_queued_events(void);
int rust_inotify_misc_register(void);
void rust_inotify_misc_deregister(void);
struct fsnotify_group *rust_inotify_group_new(void *private);
void rust_inotify_group_put(struct fsnotify_group *group);
void *rust_inotify_group_private(struct fsnotify_group *group);
void rust_inotify_group_kill_fasync(struct fsnotify_group *group);
void rust_inotify_for_each_mark(struct fsnotify_group *group, struct seq_file *m,
				void (*cb)(void *ctx, struct fsnotify_mark *mark), void *ctx);
void rust_inotify_wait_marks_destroyed(void);
void rust_inotify_wait_groups_freed(void);
void rust_inotify_clear_marks(struct fsnotify_group *group);
struct fsnotify_mark *rust_inotify_mark_new(struct fsnotify_group *group, u32 mask, u32 in_flags);
struct fsnotify_group *rust_inotify_mark_group(struct fsnotify_mark *mark);
int rust_inotify_mark_wd(struct fsnotify_mark *mark);
void rust_inotify_mark_set_wd(struct fsnotify_mark *mark, int wd);
u32 rust_inotify_mark_mask(struct fsnotify_mark *mark);
u32 rust_inotify_mark_in_flags(struct fsnotify_mark *mark);
void rust_inotify_mark_update(struct fsnotify_mark *mark, u32 mask, u32 in_flags);
int rust_inotify_mark_attach(struct fsnotify_mark *mark, struct inode *inode);
struct fsnotify_mark *rust_inotify_mark_find(struct fsnotify_group *group, struct inode *inode);
void rust_inotify_mark_get(struct fsnotify_mark *mark);
void rust_inotify_mark_put(struct fsnotify_mark *mark);
void rust_inotify_mark_destroy(struct fsnotify_mark *mark);
int rust_inotify_mark_info(struct fsnotify_mark *mark, struct rust_inotify_mark_info *info);
int rust_inotify_path_lookup(int dfd, const char __user *pathname, u32 mask, struct path *path);
void rust_inotify_path_put(struct path *path);
struct inode *rust_inotify_path_inode(const struct path *path);
bool rust_inotify_inode_is_dir(const struct inode *inode);
struct idr *rust_inotify_c_idr_new(void);
int rust_inotify_c_idr_alloc_cyclic(struct idr *idr, void *ptr);
void rust_inotify_c_idr_set_cursor(struct idr *idr, unsigned int next);
void rust_inotify_c_idr_free(struct idr *idr);

#endif /* RUST_INOTIFY_GLUE_H */
