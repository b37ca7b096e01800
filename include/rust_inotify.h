/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The user-space ABI of /dev/rust_inotify, for C programs. The module's own copy is uapi.rs; a
 * test checks that the two agree. struct inotify_event and the IN_* bits are those of
 * <sys/inotify.h> / <linux/inotify.h>, included here.
 */
#ifndef _RUST_INOTIFY_H
#define _RUST_INOTIFY_H

#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef INOTIFY_IOC_SETNEXTWD
/* Upstream's number (include/uapi/linux/inotify.h); the argument is the value itself. */
#define INOTIFY_IOC_SETNEXTWD	_IOW('I', 0, __s32)
#endif

/* inotify_add_watch() as an *at call: dirfd may be AT_FDCWD. Returns the wd. */
struct rust_inotify_add_watch {
	__u64 pathname;		/* user pointer to a NUL-terminated path */
	__s32 dirfd;		/* where a relative path starts, or AT_FDCWD */
	__u32 mask;		/* IN_* events and flags */
};

#define RUST_INOTIFY_IOC_ADD_WATCH	_IOW('I', 1, struct rust_inotify_add_watch)
/* The argument is the wd itself. */
#define RUST_INOTIFY_IOC_RM_WATCH	_IOW('I', 2, __s32)

/*
 * Checkpoint and restore (CRIU). Both ioctls exist only when the kernel has
 * CONFIG_CHECKPOINT_RESTORE, as INOTIFY_IOC_SETNEXTWD does; else ENOTTY.
 *
 * RUST_INOTIFY_IOC_DUMP reports an instance without changing it: every watch, the wd cursor,
 * the file's O_NONBLOCK and the queued events in order. Any holder of the fd may dump it (it
 * learns nothing that fdinfo and read() would not tell it).
 *
 * RUST_INOTIFY_IOC_RESTORE makes an empty instance (no watch, no queued event) the one that was
 * dumped: fdinfo, read() and the next add's wd are then those of the dumped instance. It needs
 * CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the caller's user namespace (EPERM), and every
 * inode must be readable by the caller, as for an add (EACCES). Watches are found by their file
 * handles in the kernel, as open_by_handle_at() finds them (which needs CAP_DAC_READ_SEARCH, or
 * EPERM; ESTALE if an inode is gone), so that a restore of 10^5 watches needs one fd per mount,
 * not one per watch. It is all or nothing: on any error the instance is left empty, with its
 * cursor unchanged.
 *
 * Errors: EINVAL for a bad version, flag, wd, mask, record or duplicate; EFAULT for a bad
 * pointer; EBADF for a bad fd; EBUSY if the instance is not empty (restore); E2BIG if a dump's
 * buffer is too small, with the sizes needed written back (dump); ENOSPC beyond
 * max_user_watches or the queue's limit (restore).
 */
#define RUST_INOTIFY_CKPT_VERSION	1

#define RUST_INOTIFY_HANDLE_SZ		128	/* MAX_HANDLE_SZ */

/*
 * One watch. On restore, fd is an fd of any file on the inode's mount (O_PATH will do), on which
 * f_handle is decoded; or, with handle_bytes 0 (a filesystem without handles, or an inode found
 * by its path), an fd of the inode itself.
 */
struct rust_inotify_ckpt_watch {
	__s32 wd;		/* 1..INT_MAX */
	__u32 mask;		/* IN_* events plus IN_ONESHOT and IN_EXCL_UNLINK: fdinfo's mask */
	__u64 ino;		/* dump: the inode's number (fdinfo's ino) */
	__u32 s_dev;		/* dump: its superblock's device, new_encode_dev() (fdinfo's sdev) */
	__s32 fd;		/* restore: see below; dump: -1 */
	__s32 handle_type;	/* dump: the file handle's type (fdinfo's fhandle-type) */
	__u32 handle_bytes;	/* dump: its length, 0 if the filesystem has no handles */
	__u8 f_handle[RUST_INOTIFY_HANDLE_SZ];	/* dump: the handle, as name_to_handle_at() */
};

/*
 * An instance. Watches are listed newest first, in fdinfo's order; restore takes them in the
 * same order. Events are records laid out as struct inotify_event, oldest first, each followed
 * by its NUL-padded name of len bytes (a multiple of 16, as read() pads it); mask is the mask
 * as queued, of which read() shows the IN_* event bits. The IN_Q_OVERFLOW record (wd -1) is
 * where the queue holds it.
 */
struct rust_inotify_ckpt {
	__u32 version;		/* in: RUST_INOTIFY_CKPT_VERSION */
	__u32 flags;		/* in: 0 */
	__u32 next_wd;		/* dump: out, restore: in: where the next add's search starts */
	__u32 f_flags;		/* dump: out: the file's O_NONBLOCK; restore: ignored */
	__u32 max_events;	/* dump: out, restore: in: the queue's limit (max_queued_events
				 * at open); restore: 0 keeps the new instance's own */
	__u32 nr_watches;	/* dump: in: room in watches, out: watches; restore: in */
	__u64 watches;		/* pointer to struct rust_inotify_ckpt_watch[nr_watches] */
	__u32 nr_events;	/* dump: out: records; restore: in */
	__u32 events_len;	/* dump: in: room in events, out: bytes; restore: in: bytes */
	__u64 events;		/* pointer to the event records */
};

#define RUST_INOTIFY_IOC_DUMP		_IOWR('I', 3, struct rust_inotify_ckpt)
#define RUST_INOTIFY_IOC_RESTORE	_IOW('I', 4, struct rust_inotify_ckpt)

#define RUST_INOTIFY_DEV	"/dev/rust_inotify"

#endif /* _RUST_INOTIFY_H */
