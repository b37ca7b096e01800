/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-user limits of each backend: the kernel's sysctls in /proc/sys/fs/inotify/ and
 * rust_inotify's module parameters of the same names. A test lowers one, checks the boundary in
 * a child that runs as an otherwise unused uid (so that uid's count starts at 0 on both backends:
 * the kernel counts per user across the whole system) and restores the old value in a
 * FIXTURE_TEARDOWN_PARENT, which runs even when the test dies.
 */
#ifndef RUST_INOTIFY_TESTS_USER_LIMITS_H
#define RUST_INOTIFY_TESTS_USER_LIMITS_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"

struct limit_knob {
	char path[128];
	long old;		/* -1: not changed, nothing to restore */
};

/* @name: "max_user_instances", "max_user_watches" or "max_queued_events". */
static inline void limit_knob_init(struct limit_knob *k, const struct backend *be,
				   const char *name)
{
	if (be == &kernel_backend)
		snprintf(k->path, sizeof(k->path), "/proc/sys/fs/inotify/%s", name);
	else
		snprintf(k->path, sizeof(k->path), "/sys/module/rust_inotify/parameters/%s", name);
	k->old = -1;
}

static inline long limit_read(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

static inline int limit_write(const char *path, long value)
{
	char buf[64];
	int len = snprintf(buf, sizeof(buf), "%ld\n", value);
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, buf, len) != len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Saves the current value (once) and sets @value. Returns 0 or -1. */
static inline int limit_set(struct limit_knob *k, long value)
{
	if (k->old < 0) {
		k->old = limit_read(k->path);
		if (k->old < 0)
			return -1;
	}
	return limit_write(k->path, value);
}

/* Puts the saved value back, if any. */
static inline void limit_restore(struct limit_knob *k)
{
	if (k->old >= 0 && limit_write(k->path, k->old) == 0)
		k->old = -1;
}

#endif /* RUST_INOTIFY_TESTS_USER_LIMITS_H */
