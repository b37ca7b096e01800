// SPDX-License-Identifier: GPL-2.0
/*
 * O_ASYNC: with F_SETOWN and O_ASYNC, each queued event sends SIGIO to the owner
 * (kill_fasync(..., SIGIO, POLL_IN) in fsnotify_insert_event()). With F_SETSIG, the signal is a
 * queued real-time one carrying POLL_IN, one per queued event; an event merged into the
 * previous one is not queued and sends nothing. Runs against both backends.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "events.h"

FIXTURE(async) {
	int fd;
	char dir[64];
	char file[96];
	sigset_t old;
};

FIXTURE_VARIANT(async) {
	const struct backend *be;
};

BACKEND_VARIANTS(async);

FIXTURE_SETUP(async)
{
	sigset_t block;
	int fd;

	sigemptyset(&block);
	sigaddset(&block, SIGIO);
	sigaddset(&block, SIGRTMIN);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &block, &self->old));
	snprintf(self->dir, sizeof(self->dir), "async.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->file, sizeof(self->file), "%s/f", self->dir);
	fd = open(self->file, O_CREAT | O_WRONLY, 0644);
	ASSERT_LE(0, fd);
	close(fd);
	self->fd = variant->be->init(IN_NONBLOCK);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(async)
{
	close(self->fd);
	unlink(self->file);
	rmdir(self->dir);
	sigprocmask(SIG_SETMASK, &self->old, NULL);
}

/* Waits up to 2 s for one of the blocked signals; returns it, or -1 on timeout. */
static int wait_signal(int sig, siginfo_t *info)
{
	struct timespec ts = { .tv_sec = 2 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigtimedwait(&set, info, &ts);
}

/* Returns at once with the pending signal, or -1 if none is pending. */
static int poll_signal(int sig)
{
	struct timespec ts = { 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return sigtimedwait(&set, NULL, &ts);
}

static void enable_async(struct __test_metadata *_metadata, int fd, int sig)
{
	ASSERT_EQ(0, fcntl(fd, F_SETOWN, getpid()));
	if (sig)
		ASSERT_EQ(0, fcntl(fd, F_SETSIG, sig));
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC));
}

TEST_F(async, no_signal_without_o_async)
{
	ASSERT_LE(1, variant->be->add_watch(self->fd, self->file, IN_ATTRIB));
	ASSERT_EQ(0, fcntl(self->fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, chmod(self->file, 0600));
	EXPECT_EQ(-1, poll_signal(SIGIO));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(async, sigio_on_event)
{
	siginfo_t info;

	ASSERT_LE(1, variant->be->add_watch(self->fd, self->file, IN_ATTRIB));
	enable_async(_metadata, self->fd, 0);
	EXPECT_EQ(-1, poll_signal(SIGIO));
	ASSERT_EQ(0, chmod(self->file, 0600));
	EXPECT_EQ(SIGIO, wait_signal(SIGIO, &info));
}

TEST_F(async, setsig_gives_poll_in_once_per_queued_event)
{
	siginfo_t info;

	ASSERT_LE(1, variant->be->add_watch(self->fd, self->file, IN_ATTRIB | IN_OPEN));
	enable_async(_metadata, self->fd, SIGRTMIN);
	ASSERT_EQ(0, chmod(self->file, 0600));
	ASSERT_EQ(SIGRTMIN, wait_signal(SIGRTMIN, &info));
	EXPECT_EQ(POLL_IN, info.si_code);
	EXPECT_EQ(self->fd, info.si_fd);
	EXPECT_TRUE(info.si_band & POLLIN);

	/* Merged into the tail (same wd, mask, no name): not queued, no signal. */
	ASSERT_EQ(0, chmod(self->file, 0644));
	EXPECT_EQ(-1, poll_signal(SIGRTMIN));

	/* A different event is queued: one more signal. */
	close(open(self->file, O_RDONLY));
	EXPECT_EQ(SIGRTMIN, wait_signal(SIGRTMIN, &info));
	EXPECT_EQ(-1, poll_signal(SIGRTMIN));
}

TEST_F(async, no_signal_after_o_async_is_cleared)
{
	ASSERT_LE(1, variant->be->add_watch(self->fd, self->file, IN_ATTRIB));
	enable_async(_metadata, self->fd, 0);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fcntl(self->fd, F_GETFL) & ~O_ASYNC));
	ASSERT_EQ(0, chmod(self->file, 0600));
	EXPECT_EQ(-1, poll_signal(SIGIO));
}

TEST_HARNESS_MAIN
