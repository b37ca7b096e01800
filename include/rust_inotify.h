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

#define RUST_INOTIFY_DEV	"/dev/rust_inotify"

#endif /* _RUST_INOTIFY_H */
