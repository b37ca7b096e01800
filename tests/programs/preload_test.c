// SPDX-License-Identifier: GPL-2.0
/*
 * librust_inotify_preload.so: the library's own promises, run under
 *
 *	LD_PRELOAD=librust_inotify_preload.so RUST_INOTIFY_PRELOAD=device preload_test
 *
 * (tests/programs/run.sh does that in the guest). Unlike the other C tests this program is
 * dynamically linked: a static program cannot be interposed.
 *
 * The fixture's two variants are the kernel's inotify through the raw system calls (the library
 * cannot see those) and the library through glibc's names (inotify_init1() and friends, which the
 * library replaces). Every errno case must give the same result on both. Then the cases that only
 * the library has: which backend an fd is on, that a wrong fd goes to the real system call,
 * errno untouched on success, fd numbers reused across close and dup2, fork, threads, and exec.
 *
 * RUST_INOTIFY_PRELOAD says which kind of fd the library's variant must give: "device" (the
 * guest), "kernel", or unset (a development run without the library: glibc's).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "rust_inotify.h"
#include "scratch.h"

#define KIND_KERNEL	"anon_inode:inotify"
#define KIND_DEVICE	RUST_INOTIFY_DEV

/* The environment variable that makes the program an exec test's child (see below). */
#define EXEC_CHILD_ENV	"PRELOAD_TEST_EXEC_CHILD"

struct api {
	const char *name;
	int (*init1)(int flags);
	int (*add)(int fd, const char *path, uint32_t mask);
	int (*rm)(int fd, int wd);
};

static int sys_init1(int flags)
{
	return syscall(SYS_inotify_init1, flags);
}

static int sys_add(int fd, const char *path, uint32_t mask)
{
	return syscall(SYS_inotify_add_watch, fd, path, mask);
}

static int sys_rm(int fd, int wd)
{
	return syscall(SYS_inotify_rm_watch, fd, wd);
}

static const struct api sys_api = { "syscall", sys_init1, sys_add, sys_rm };
/* glibc's names: the library's functions when it is preloaded. */
static const struct api lib_api = { "library", inotify_init1, inotify_add_watch,
				    inotify_rm_watch };

/* What the library's fds must be, from RUST_INOTIFY_PRELOAD (NULL: not known). */
static const char *lib_kind(void)
{
	const char *mode = getenv("RUST_INOTIFY_PRELOAD");

	if (!getenv("LD_PRELOAD"))
		return KIND_KERNEL;
	if (mode && !strcmp(mode, "device"))
		return KIND_DEVICE;
	if (mode && !strcmp(mode, "kernel"))
		return KIND_KERNEL;
	return NULL;
}

/* The target of /proc/self/fd/FD into buf ("" if none). */
static const char *fd_kind(int fd, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

/* The next event's mask and name from a blocking fd. */
static int read_event(int fd, uint32_t *mask, char *name, size_t size)
{
	char buf[sizeof(struct inotify_event) + NAME_MAX + 1]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev = (const void *)buf;
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < (ssize_t)sizeof(*ev))
		return -1;
	*mask = ev->mask;
	snprintf(name, size, "%s", ev->len ? ev->name : "");
	return 0;
}

FIXTURE(api) {
	char dir[PATH_MAX];
	char file[PATH_MAX + 8];
	int fd;
};

FIXTURE_VARIANT(api) {
	const struct api *api;
	bool library;
};

FIXTURE_VARIANT_ADD(api, kernel) { .api = &sys_api, .library = false };
FIXTURE_VARIANT_ADD(api, library) { .api = &lib_api, .library = true };

FIXTURE_SETUP(api)
{
	int f;

	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "preload"));
	snprintf(self->file, sizeof(self->file), "%s/file", self->dir);
	f = open(self->file, O_CREAT | O_WRONLY, 0644);
	ASSERT_LE(0, f);
	close(f);
	self->fd = variant->api->init1(0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(api)
{
	close(self->fd);
	scratch_remove(self->dir);
}

/* inotify_init1() accepts only IN_CLOEXEC and IN_NONBLOCK: not O_RDWR, O_CREAT, O_PATH... */
TEST_F(api, init1_bad_flags_einval)
{
	static const int bad[] = { 1, O_RDWR, O_WRONLY, O_CREAT, O_TRUNC, O_PATH, O_DIRECTORY,
				   IN_NONBLOCK | O_APPEND, INT_MIN, -1 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, variant->api->init1(bad[i]));
		EXPECT_EQ(EINVAL, errno) TH_LOG("flags %#x", bad[i]);
	}
}

/* IN_CLOEXEC and IN_NONBLOCK end up on the fd; without them neither is set. */
TEST_F(api, init1_flags)
{
	int fd = variant->api->init1(IN_CLOEXEC | IN_NONBLOCK);

	ASSERT_LE(0, fd);
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);
	EXPECT_FALSE(fcntl(self->fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_FALSE(fcntl(self->fd, F_GETFL) & O_NONBLOCK);
}

/* The fd is on the backend RUST_INOTIFY_PRELOAD asks for (the kernel's for the raw calls). */
TEST_F(api, fd_kind)
{
	const char *want = variant->library ? lib_kind() : KIND_KERNEL;
	char buf[PATH_MAX];

	if (!want)
		SKIP(return, "RUST_INOTIFY_PRELOAD is auto: either kind is right");
	EXPECT_STREQ(want, fd_kind(self->fd, buf, sizeof(buf)));
}

/* add, an event, rm and its IN_IGNORED, through the backend. */
TEST_F(api, add_event_rm)
{
	char name[NAME_MAX + 1];
	uint32_t mask;
	int wd, f;

	wd = variant->api->add(self->fd, self->dir, IN_CREATE);
	ASSERT_EQ(1, wd);
	EXPECT_EQ(1, variant->api->add(self->fd, self->dir, IN_DELETE | IN_MASK_ADD));
	f = open(self->file, O_RDONLY);
	close(f);
	ASSERT_EQ(0, unlink(self->file));
	ASSERT_EQ(0, read_event(self->fd, &mask, name, sizeof(name)));
	EXPECT_EQ((uint32_t)IN_DELETE, mask);
	EXPECT_STREQ("file", name);
	EXPECT_EQ(0, variant->api->rm(self->fd, wd));
	ASSERT_EQ(0, read_event(self->fd, &mask, name, sizeof(name)));
	EXPECT_EQ((uint32_t)IN_IGNORED, mask);
	EXPECT_EQ(-1, variant->api->rm(self->fd, wd));
	EXPECT_EQ(EINVAL, errno);
}

/* add_watch's errnos are upstream's. */
TEST_F(api, add_errnos)
{
	static const struct {
		const char *what;
		uint32_t mask;
		int err;
	} cases[] = {
		{ "mask 0", 0, EINVAL },
		{ "MASK_ADD and MASK_CREATE", IN_CREATE | IN_MASK_ADD | IN_MASK_CREATE, EINVAL },
		{ "ONLYDIR on a file", IN_CREATE | IN_ONLYDIR, ENOTDIR },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, variant->api->add(self->fd, self->file, cases[i].mask));
		EXPECT_EQ(cases[i].err, errno) TH_LOG("%s", cases[i].what);
	}
	errno = 0;
	EXPECT_EQ(-1, variant->api->add(self->fd, "/nonexistent/x", IN_CREATE));
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(-1, variant->api->add(self->fd, NULL, IN_CREATE));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, variant->api->add(self->fd, "", IN_CREATE));
	EXPECT_EQ(ENOENT, errno);
	/* MASK_CREATE on a watched inode. */
	ASSERT_EQ(1, variant->api->add(self->fd, self->file, IN_MODIFY));
	errno = 0;
	EXPECT_EQ(-1, variant->api->add(self->fd, self->file, IN_MODIFY | IN_MASK_CREATE));
	EXPECT_EQ(EEXIST, errno);
}

/* A wrong fd goes to the real system call: EBADF for no fd, EINVAL for a non-inotify fd. */
TEST_F(api, wrong_fd_errnos)
{
	int fds[2], null, reg;

	ASSERT_EQ(0, pipe(fds));
	null = open("/dev/null", O_RDONLY);	/* a character device, but not this one */
	reg = open(self->file, O_RDONLY);
	ASSERT_LE(0, null);
	ASSERT_LE(0, reg);
	const int einval[] = { fds[0], null, reg };
	for (size_t i = 0; i < 3; i++) {
		errno = 0;
		EXPECT_EQ(-1, variant->api->add(einval[i], self->dir, IN_CREATE));
		EXPECT_EQ(EINVAL, errno) TH_LOG("add, fd %zu", i);
		errno = 0;
		EXPECT_EQ(-1, variant->api->rm(einval[i], 1));
		EXPECT_EQ(EINVAL, errno) TH_LOG("rm, fd %zu", i);
	}
	const int ebadf[] = { -1, INT_MAX, 1000000 };
	for (size_t i = 0; i < 3; i++) {
		errno = 0;
		EXPECT_EQ(-1, variant->api->add(ebadf[i], self->dir, IN_CREATE));
		EXPECT_EQ(EBADF, errno) TH_LOG("add, fd %d", ebadf[i]);
		errno = 0;
		EXPECT_EQ(-1, variant->api->rm(ebadf[i], 1));
		EXPECT_EQ(EBADF, errno) TH_LOG("rm, fd %d", ebadf[i]);
	}
	close(fds[0]);
	close(fds[1]);
	close(null);
	close(reg);
}

/* rm_watch's errnos: a wd never given, 0, negative. */
TEST_F(api, rm_errnos)
{
	static const int wds[] = { 1, 0, -1, INT_MIN, INT_MAX };

	for (size_t i = 0; i < sizeof(wds) / sizeof(wds[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, variant->api->rm(self->fd, wds[i]));
		EXPECT_EQ(EINVAL, errno) TH_LOG("wd %d", wds[i]);
	}
}

/* A call that succeeds leaves errno alone, whatever the library did on its way. */
TEST_F(api, errno_kept_on_success)
{
	int fd, wd;

	errno = 4242;
	fd = variant->api->init1(IN_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(4242, errno);
	wd = variant->api->add(fd, self->dir, IN_CREATE);
	ASSERT_LE(1, wd);
	EXPECT_EQ(4242, errno);
	EXPECT_EQ(0, variant->api->rm(fd, wd));
	EXPECT_EQ(4242, errno);
	close(fd);
}

/* A dup is the same instance: the same watch table. */
TEST_F(api, dup_same_instance)
{
	int d = dup(self->fd);

	ASSERT_LE(0, d);
	ASSERT_EQ(1, variant->api->add(self->fd, self->dir, IN_CREATE));
	EXPECT_EQ(1, variant->api->add(d, self->dir, IN_DELETE));
	EXPECT_EQ(2, variant->api->add(d, self->file, IN_MODIFY));
	EXPECT_EQ(0, variant->api->rm(self->fd, 2));
	close(d);
}

/* A forked child's add lands in the parent's instance. */
TEST_F(api, fork_shares_instance)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(variant->api->add(self->fd, self->dir, IN_CREATE) == 1 ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(1, variant->api->add(self->fd, self->dir, IN_DELETE));
	EXPECT_EQ(2, variant->api->add(self->fd, self->file, IN_MODIFY));
}

struct worker {
	const struct api *api;
	int fd;
	char path[PATH_MAX + 8];
	int failures;
};

/*
 * Each thread makes an instance of its own, then adds and removes watches on it and on the shared
 * one. (Few rounds: an instance's close waits for its marks to be destroyed, which is slow in the
 * debug guest, and what is tested is the library's calls side by side, not the device's load.)
 */
static void *add_rm_loop(void *arg)
{
	struct worker *w = arg;
	int fd = w->api->init1(IN_CLOEXEC);

	if (fd < 0) {
		w->failures++;
		return NULL;
	}
	for (int i = 0; i < 25; i++) {
		int wd = w->api->add(w->fd, w->path, IN_CREATE);
		int own = w->api->add(fd, w->path, IN_CREATE);

		if (wd < 1 || own < 1 || w->api->rm(w->fd, wd) != 0 || w->api->rm(fd, own) != 0)
			w->failures++;
	}
	close(fd);
	return NULL;
}

/* Threads adding and removing on one instance and on their own. */
TEST_F(api, threads)
{
	struct worker w[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .api = variant->api, .fd = self->fd };
		snprintf(w[i].path, sizeof(w[i].path), "%s/t%d", self->dir, i);
		ASSERT_EQ(0, mkdir(w[i].path, 0755));
		ASSERT_EQ(0, pthread_create(&t[i], NULL, add_rm_loop, &w[i]));
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, w[i].failures) TH_LOG("thread %d", i);
	}
}

/*
 * Whether an fd is a device instance is decided afresh on each call: an fd number that was a
 * device instance and is now the kernel's inotify (or the other way round) goes to the right one.
 */
TEST(fd_number_reused)
{
	char buf[PATH_MAX], dir[PATH_MAX];
	int dev, fd, kfd;

	ASSERT_EQ(0, scratch_make(dir, sizeof(dir), "reuse"));
	dev = open(RUST_INOTIFY_DEV, O_RDONLY);
	if (dev < 0) {
		scratch_remove(dir);
		SKIP(return, "no %s", RUST_INOTIFY_DEV);
	}
	/* Device, then the kernel's inotify at the same number. */
	fd = dev;
	EXPECT_EQ(1, inotify_add_watch(fd, dir, IN_CREATE));
	kfd = sys_init1(0);
	ASSERT_LE(0, kfd);
	ASSERT_EQ(fd, dup2(kfd, fd));
	close(kfd);
	EXPECT_STREQ(KIND_KERNEL, fd_kind(fd, buf, sizeof(buf)));
	EXPECT_EQ(1, inotify_add_watch(fd, dir, IN_CREATE));
	EXPECT_EQ(2, inotify_add_watch(fd, "/", IN_CREATE));
	EXPECT_EQ(0, inotify_rm_watch(fd, 2));
	/* And back to a device instance at that number. */
	dev = open(RUST_INOTIFY_DEV, O_RDONLY);
	ASSERT_LE(0, dev);
	ASSERT_EQ(fd, dup2(dev, fd));
	close(dev);
	EXPECT_STREQ(KIND_DEVICE, fd_kind(fd, buf, sizeof(buf)));
	EXPECT_EQ(1, inotify_add_watch(fd, dir, IN_CREATE));
	EXPECT_EQ(0, inotify_rm_watch(fd, 1));
	close(fd);
	scratch_remove(dir);
}

/*
 * Across exec the library comes back (LD_PRELOAD is inherited) and reads the inherited
 * RUST_INOTIFY_PRELOAD again: the new image's inotify_init1() gives the same kind of fd.
 */
TEST(exec_keeps_backend)
{
	const char *want = lib_kind();
	int status;
	pid_t pid;

	if (!want)
		SKIP(return, "RUST_INOTIFY_PRELOAD is auto: either kind is right");
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		setenv(EXEC_CHILD_ENV, want, 1);
		execl("/proc/self/exe", "preload_test", (char *)NULL);
		_exit(3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* The exec test's child: checks the kind of inotify_init1()'s fd, before the harness runs. */
__attribute__((constructor)) static void exec_child(void)
{
	const char *want = getenv(EXEC_CHILD_ENV);
	char buf[PATH_MAX];
	int fd;

	if (!want)
		return;
	fd = inotify_init1(IN_CLOEXEC);
	_exit(fd >= 0 && !strcmp(want, fd_kind(fd, buf, sizeof(buf))) ? 0 : 1);
}

TEST_HARNESS_MAIN
