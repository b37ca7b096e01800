/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scratch files for the C tests: every fixture makes its own directory under the current
 * directory (a fresh tmpfs in the guest), creates what it needs there and removes the tree in its
 * teardown. Also the small helpers that make one event happen, and a way to wait until another
 * thread is asleep (so a "wakes up" test really tests a wake-up, without timing assertions).
 */
#ifndef RUST_INOTIFY_TESTS_SCRATCH_H
#define RUST_INOTIFY_TESTS_SCRATCH_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Makes "<cwd>/rit-<tag>.XXXXXX" (mode 0755, so dropped-privilege children can search it). */
static inline int scratch_make(char *dir, size_t size, const char *tag)
{
	char cwd[PATH_MAX];

	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	if ((size_t)snprintf(dir, size, "%s/rit-%s.XXXXXX", cwd, tag) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!mkdtemp(dir))
		return -1;
	return chmod(dir, 0755);
}

static inline int scratch_rm_one(const char *path, const struct stat *st, int type,
				 struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP || type == FTW_D)
		umount2(path, MNT_DETACH);	/* a test may have left a mount behind */
	remove(path);
	return 0;
}

/* rm -rf @dir, unmounting what a test left mounted in it (no-op for NULL or ""). */
static inline void scratch_remove(const char *dir)
{
	if (dir && dir[0])
		nftw(dir, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* @out = @dir/@name; returns @out (an empty string if it does not fit). */
static inline const char *scratch_path(char *out, size_t size, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, size, "%s/%s", dir, name) >= size)
		out[0] = 0;
	return out;
}

/* Creates (or truncates) @path with @mode and closes it. Returns 0 or -1. */
static inline int scratch_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Appends one byte to @path (OPEN, MODIFY, CLOSE_WRITE on a watch of it). Returns 0 or -1. */
static inline int scratch_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, "x", 1) != 1) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * Waits until thread @tid of this process is in interruptible sleep ('S' in its stat), i.e. it
 * has reached the blocking call under test. Gives up after about 20 s. Returns 0 or -1.
 */
static inline int wait_thread_sleeping(pid_t tid)
{
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	for (int i = 0; i < 20000; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n;
		char *p;

		if (fd < 0)
			return -1;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return -1;
		buf[n] = 0;
		/* "tid (comm) S ...": the state follows the last ')'. */
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return 0;
		usleep(1000);
	}
	errno = ETIMEDOUT;
	return -1;
}

static inline pid_t scratch_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Drops to @uid/@uid with no supplementary groups (the caller is root). Returns 0 or -1. */
static inline int drop_to_uid(uid_t uid)
{
	if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)
		return -1;
	return 0;
}

#endif /* RUST_INOTIFY_TESTS_SCRATCH_H */
