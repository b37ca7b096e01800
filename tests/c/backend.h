/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The small backend interface every differential C test is written against: the same case runs
 * once against the kernel's inotify (system calls) and once against /dev/rust_inotify (ioctls),
 * as two variants of one kselftest fixture, and both must give the same results.
 *
 * Use:
 *	FIXTURE(foo) { int fd; };
 *	FIXTURE_VARIANT(foo) { const struct backend *be; };
 *	BACKEND_VARIANTS(foo);
 *	FIXTURE_SETUP(foo) { self->fd = variant->be->init(IN_NONBLOCK); ASSERT_LE(0, self->fd); }
 */
#ifndef RUST_INOTIFY_TESTS_BACKEND_H
#define RUST_INOTIFY_TESTS_BACKEND_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "rust_inotify.h"
#include "timeout.h"

struct backend {
	const char *name;
	/* inotify_init1(flags), or open(/dev/rust_inotify, O_RDONLY | flags). */
	int (*init)(int flags);
	/* inotify_add_watch(); returns the wd, or -1 with errno set. */
	int (*add_watch)(int fd, const char *path, uint32_t mask);
	/* inotify_rm_watch(); returns 0, or -1 with errno set. */
	int (*rm_watch)(int fd, int wd);
};

static inline int kernel_init(int flags)
{
	return inotify_init1(flags);
}

static inline int kernel_add_watch(int fd, const char *path, uint32_t mask)
{
	return inotify_add_watch(fd, path, mask);
}

static inline int kernel_rm_watch(int fd, int wd)
{
	return inotify_rm_watch(fd, wd);
}

static inline int rust_init(int flags)
{
	return open(RUST_INOTIFY_DEV, O_RDONLY | flags);
}

static inline int rust_add_watch_at(int fd, int dirfd, const char *path, uint32_t mask)
{
	struct rust_inotify_add_watch arg = {
		.pathname = (uintptr_t)path,
		.dirfd = dirfd,
		.mask = mask,
	};

	return ioctl(fd, RUST_INOTIFY_IOC_ADD_WATCH, &arg);
}

static inline int rust_add_watch(int fd, const char *path, uint32_t mask)
{
	return rust_add_watch_at(fd, AT_FDCWD, path, mask);
}

static inline int rust_rm_watch(int fd, int wd)
{
	/* The argument is the wd itself; sign-extend it as a C int would be. */
	return ioctl(fd, RUST_INOTIFY_IOC_RM_WATCH, (long)wd);
}

static const struct backend kernel_backend = {
	.name = "kernel",
	.init = kernel_init,
	.add_watch = kernel_add_watch,
	.rm_watch = kernel_rm_watch,
};

static const struct backend rust_backend = {
	.name = "rust",
	.init = rust_init,
	.add_watch = rust_add_watch,
	.rm_watch = rust_rm_watch,
};

/* Two variants of fixture F: one per backend. */
#define BACKEND_VARIANTS(F)						\
	FIXTURE_VARIANT_ADD(F, kernel) { .be = &kernel_backend };	\
	FIXTURE_VARIANT_ADD(F, rust) { .be = &rust_backend }

#endif /* RUST_INOTIFY_TESTS_BACKEND_H */
