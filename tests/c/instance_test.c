// SPDX-License-Identifier: GPL-2.0
/*
 * One inotify instance as a file: open and close, the init1 flags, the ioctls every instance
 * has (FIONREAD, and ENOTTY for everything else), write/lseek/fdinfo, a non-blocking read of an
 * empty queue, and the per-user max_user_instances limit. Each case runs against the kernel's
 * inotify (inotify_init1) and against /dev/rust_inotify (open), which must behave the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "user_limits.h"
#include "scratch.h"

/* A uid nothing else runs as, so its instance count starts at 0 on both backends. */
#define INSTANCES_UID	12345

FIXTURE(instance) {
	int fd;
};

FIXTURE_VARIANT(instance) {
	const struct backend *be;
};

BACKEND_VARIANTS(instance);

FIXTURE_SETUP(instance)
{
	self->fd = -1;
}

FIXTURE_TEARDOWN(instance)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(instance, open_close)
{
	int fd = variant->be->init(0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
}

/* 100 opens in a row all succeed and get distinct fds; closing gives every slot back. */
TEST_F(instance, many_opens)
{
	int fds[100];

	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 100; i++) {
			fds[i] = variant->be->init(O_CLOEXEC);
			ASSERT_LE(0, fds[i]) TH_LOG("round %d open %d: %s", round, i,
						    strerror(errno));
			for (int j = 0; j < i; j++) {
				ASSERT_NE(fds[j], fds[i]);
			}
		}
		for (int i = 0; i < 100; i++) {
			ASSERT_EQ(0, close(fds[i]));
		}
	}
}

static void check_flags(struct __test_metadata *_metadata, int fd, int want_nonblock,
			int want_cloexec)
{
	int fl = fcntl(fd, F_GETFL);
	int fdfl = fcntl(fd, F_GETFD);

	ASSERT_NE(-1, fl);
	ASSERT_NE(-1, fdfl);
	/* Only the bits under test: a device open also carries O_LARGEFILE. */
	EXPECT_EQ(O_RDONLY, fl & O_ACCMODE);
	EXPECT_EQ(want_nonblock ? O_NONBLOCK : 0, fl & O_NONBLOCK);
	EXPECT_EQ(want_cloexec ? FD_CLOEXEC : 0, fdfl & FD_CLOEXEC);
}

TEST_F(instance, no_flags)
{
	self->fd = variant->be->init(0);
	ASSERT_LE(0, self->fd);
	check_flags(_metadata, self->fd, 0, 0);
}

TEST_F(instance, nonblock_flag)
{
	self->fd = variant->be->init(O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	check_flags(_metadata, self->fd, 1, 0);
}

TEST_F(instance, cloexec_flag)
{
	self->fd = variant->be->init(O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	check_flags(_metadata, self->fd, 0, 1);
}

TEST_F(instance, nonblock_cloexec_flags)
{
	self->fd = variant->be->init(O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	check_flags(_metadata, self->fd, 1, 1);
}

TEST_F(instance, fionread_fresh_is_zero)
{
	int n = -1;

	self->fd = variant->be->init(O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, FIONREAD, &n));
	EXPECT_EQ(0, n);
}

TEST_F(instance, fionread_bad_pointer_efault)
{
	self->fd = variant->be->init(O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(-1, ioctl(self->fd, FIONREAD, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(instance, unknown_ioctl_enotty)
{
	struct termios t;
	int n = 0;

	self->fd = variant->be->init(O_NONBLOCK);
	ASSERT_LE(0, self->fd);

	EXPECT_EQ(-1, ioctl(self->fd, _IO('I', 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOR('I', 0x7f, int), &n));
	EXPECT_EQ(ENOTTY, errno);
	/* 'T' numbers the VFS does not handle itself reach the file's ioctl. */
	EXPECT_EQ(-1, ioctl(self->fd, TCGETS, &t));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('T', 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, isatty(self->fd));
	/* The instance still works. */
	n = -1;
	EXPECT_EQ(0, ioctl(self->fd, FIONREAD, &n));
	EXPECT_EQ(0, n);
}

TEST_F(instance, write_ebadf)
{
	self->fd = variant->be->init(O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(-1, write(self->fd, "x", 1));
	EXPECT_EQ(EBADF, errno);
}

/* noop_llseek: succeeds and reports position 0 whatever was asked. */
TEST_F(instance, lseek_returns_zero)
{
	self->fd = variant->be->init(O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(0, lseek(self->fd, 1, SEEK_SET));
	EXPECT_EQ(0, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(0, lseek(self->fd, 100, SEEK_END));
}

TEST_F(instance, fdinfo_exists)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	self->fd = variant->be->init(O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", self->fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = 0;
	EXPECT_EQ(0, strncmp(buf, "pos:\t0\n", 7)) TH_LOG("fdinfo: %s", buf);
	EXPECT_NE(NULL, strstr(buf, "\nflags:\t"));
	/* No watches, no watch lines. */
	EXPECT_EQ(NULL, strstr(buf, "inotify wd:"));
}

TEST_F(instance, read_empty_nonblock_eagain)
{
	char buf[4096];

	self->fd = variant->be->init(O_NONBLOCK);
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
}

/*
 * max_user_instances: the limit is lowered for the duration of the test and restored by the
 * parent-side teardown.
 */
FIXTURE(instance_limit) {
	struct limit_knob knob;
};

FIXTURE_VARIANT(instance_limit) {
	const struct backend *be;
};

BACKEND_VARIANTS(instance_limit);

FIXTURE_SETUP(instance_limit)
{
	limit_knob_init(&self->knob, variant->be, "max_user_instances");
	ASSERT_LE(0, limit_read(self->knob.path)) TH_LOG("%s: %s", self->knob.path,
							  strerror(errno));
}

FIXTURE_TEARDOWN_PARENT(instance_limit)
{
	limit_restore(&self->knob);
}

/* Runs @fn in a child as INSTANCES_UID and returns after it exits; its ASSERTs count. */
static void run_as_fresh_uid(struct __test_metadata *_metadata, const struct backend *be,
			     int limit,
			     void (*fn)(struct __test_metadata *, const struct backend *, int))
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ASSERT_EQ(0, drop_to_uid(INSTANCES_UID));
		fn(_metadata, be, limit);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child died with status 0x%x", status);
	ASSERT_EQ(0, WEXITSTATUS(status));
}

static void exhaust_instances(struct __test_metadata *_metadata, const struct backend *be,
			      int limit)
{
	int fds[16], n = 0, fd = -1;

	/* Find the boundary: open until the first failure (at most limit + 4 tries). */
	while (n < limit + 4) {
		fd = be->init(O_CLOEXEC);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	ASSERT_EQ(-1, fd);
	EXPECT_EQ(EMFILE, errno);
	ASSERT_EQ(limit, n) TH_LOG("opened %d instances under a limit of %d", n, limit);

	/* Still full: a second try fails the same way. */
	EXPECT_EQ(-1, be->init(0));
	EXPECT_EQ(EMFILE, errno);

	/* Closing one frees exactly one slot. */
	ASSERT_EQ(0, close(fds[--n]));
	fds[n] = be->init(O_CLOEXEC);
	ASSERT_LE(0, fds[n]) TH_LOG("reopen after close: %s", strerror(errno));
	n++;
	EXPECT_EQ(-1, be->init(0));
	EXPECT_EQ(EMFILE, errno);

	while (n) {
		EXPECT_EQ(0, close(fds[--n]));
	}

	/* Everything closed: the whole quota is available again. */
	for (n = 0; n < limit; n++) {
		fds[n] = be->init(O_CLOEXEC);
		ASSERT_LE(0, fds[n]) TH_LOG("reopen %d after closing all: %s", n,
					    strerror(errno));
	}
	while (n) {
		EXPECT_EQ(0, close(fds[--n]));
	}
}

TEST_F(instance_limit, emfile_at_max_user_instances)
{
	ASSERT_EQ(0, limit_set(&self->knob, 4));
	run_as_fresh_uid(_metadata, variant->be, 4, exhaust_instances);
	limit_restore(&self->knob);
}

static void no_instance_allowed(struct __test_metadata *_metadata, const struct backend *be,
				int limit)
{
	(void)limit;
	EXPECT_EQ(-1, be->init(0));
	EXPECT_EQ(EMFILE, errno);
}

TEST_F(instance_limit, zero_limit_refuses_first_open)
{
	ASSERT_EQ(0, limit_set(&self->knob, 0));
	run_as_fresh_uid(_metadata, variant->be, 0, no_instance_allowed);
	limit_restore(&self->knob);
}

/* The limit is per user: instances held by root do not count against another uid. */
static void one_instance_allowed(struct __test_metadata *_metadata, const struct backend *be,
				 int limit)
{
	int fd = be->init(0);

	(void)limit;
	ASSERT_LE(0, fd) TH_LOG("open as uid %d: %s", INSTANCES_UID, strerror(errno));
	EXPECT_EQ(-1, be->init(0));
	EXPECT_EQ(EMFILE, errno);
	EXPECT_EQ(0, close(fd));
}

TEST_F(instance_limit, limit_is_per_user)
{
	int fds[3];

	/* root holds three instances, above the limit of one set below. */
	for (int i = 0; i < 3; i++) {
		fds[i] = variant->be->init(O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
	}
	ASSERT_EQ(0, limit_set(&self->knob, 1));
	run_as_fresh_uid(_metadata, variant->be, 1, one_instance_allowed);
	/* ... and root itself is now over it. */
	EXPECT_EQ(-1, variant->be->init(0));
	EXPECT_EQ(EMFILE, errno);
	limit_restore(&self->knob);
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(0, close(fds[i]));
	}
}

TEST_HARNESS_MAIN
