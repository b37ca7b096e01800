// SPDX-License-Identifier: GPL-2.0
/*
 * Readiness of an inotify instance: poll/select/epoll report EPOLLIN|EPOLLRDNORM exactly while
 * the queue is non-empty (never writable), epoll works level- and edge-triggered (an edge per
 * newly queued event; a merged event queues nothing, so it gives none), and a thread blocked in
 * poll or epoll_wait is woken by an event. Each case runs against the kernel's inotify and
 * /dev/rust_inotify; both must agree.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "events.h"
#include "scratch.h"

#define ALL_POLL_BITS	(POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | \
			 POLLWRBAND)
#define READABLE	(POLLIN | POLLRDNORM)

FIXTURE(readiness) {
	char dir[PATH_MAX];
	int fd;			/* non-blocking, wd 1 on dir: IN_ATTRIB | IN_CREATE */
	int mode;
};

FIXTURE_VARIANT(readiness) {
	const struct backend *be;
};

BACKEND_VARIANTS(readiness);

FIXTURE_SETUP(readiness)
{
	int wd;

	/* The teardown does not run after a failed setup: fail before making files. */
	self->fd = variant->be->init(O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("init: %s", strerror(errno));
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "poll"));
	wd = variant->be->add_watch(self->fd, self->dir, IN_ATTRIB | IN_CREATE);
	if (wd != 1)
		scratch_remove(self->dir);
	ASSERT_EQ(1, wd) TH_LOG("add_watch: %s", strerror(errno));
	self->mode = 0750;
}

FIXTURE_TEARDOWN(readiness)
{
	if (self->fd >= 0)
		close(self->fd);
	scratch_remove(self->dir);
}

/* Queues a 16-byte IN_ATTRIB|IN_ISDIR (merged into the tail if that is the same). */
static int attrib(FIXTURE_DATA(readiness) *self)
{
	self->mode ^= 0005;
	return chmod(self->dir, self->mode);
}

/* Queues a 32-byte IN_CREATE for @name. */
static int create(FIXTURE_DATA(readiness) *self, const char *name)
{
	char p[PATH_MAX];

	return mknod(scratch_path(p, sizeof(p), self->dir, name), S_IFREG | 0644, 0);
}

/* poll(fd, every bit, 0): returns the revents, or -1 if poll itself failed. */
static int poll_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = ALL_POLL_BITS };
	int r = poll(&p, 1, 0);

	if (r < 0)
		return -1;
	return r ? p.revents : 0;
}

static int fionread(int fd)
{
	int n = -1;

	return ioctl(fd, FIONREAD, &n) < 0 ? -1 : n;
}

static void drain(struct __test_metadata *_metadata, int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	ASSERT_EQ(EAGAIN, errno);
}

/* ---- poll ---- */

TEST_F(readiness, poll_empty)
{
	struct pollfd p = { .fd = self->fd, .events = ALL_POLL_BITS, .revents = -1 };

	EXPECT_EQ(0, poll(&p, 1, 0));
	EXPECT_EQ(0, p.revents);
}

TEST_F(readiness, poll_event_pollin_only)
{
	struct pollfd p = { .fd = self->fd, .events = POLLOUT | POLLWRNORM };

	ASSERT_EQ(0, attrib(self));
	EXPECT_EQ(READABLE, poll_now(self->fd));
	/* Asking only for POLLOUT: not writable, ever. */
	EXPECT_EQ(0, poll(&p, 1, 0));
	EXPECT_EQ(0, p.revents);
}

TEST_F(readiness, poll_readable_until_queue_empty)
{
	char buf[64];

	ASSERT_EQ(0, attrib(self));
	ASSERT_EQ(0, create(self, "a"));
	ASSERT_EQ(16, read(self->fd, buf, 16));
	EXPECT_EQ(READABLE, poll_now(self->fd));
	ASSERT_EQ(32, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, poll_now(self->fd));
	/* And readable again with the next event. */
	ASSERT_EQ(0, attrib(self));
	EXPECT_EQ(READABLE, poll_now(self->fd));
}

TEST_F(readiness, select)
{
	struct timeval tv = { 0, 0 };
	fd_set rd, wr, ex;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	FD_SET(self->fd, &rd);
	FD_SET(self->fd, &wr);
	FD_SET(self->fd, &ex);
	EXPECT_EQ(0, select(self->fd + 1, &rd, &wr, &ex, &tv));
	EXPECT_FALSE(FD_ISSET(self->fd, &rd));

	ASSERT_EQ(0, attrib(self));
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	FD_SET(self->fd, &rd);
	FD_SET(self->fd, &wr);
	FD_SET(self->fd, &ex);
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	EXPECT_EQ(1, select(self->fd + 1, &rd, &wr, &ex, &tv));
	EXPECT_TRUE(FD_ISSET(self->fd, &rd));
	EXPECT_FALSE(FD_ISSET(self->fd, &wr));
	EXPECT_FALSE(FD_ISSET(self->fd, &ex));
}

/* ---- epoll ---- */

static int epoll_for(int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = 0x1234 };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(ep);
		return -1;
	}
	return ep;
}

/* epoll_wait(ep, 0): returns the events reported, 0 for none, -1 on error. */
static int epoll_now(int ep)
{
	struct epoll_event ev[2];
	int r = epoll_wait(ep, ev, 2, 0);

	if (r < 0 || r > 1 || (r == 1 && ev[0].data.u64 != 0x1234))
		return -1;
	return r ? (int)ev[0].events : 0;
}

TEST_F(readiness, epoll_level_triggered)
{
	int ep = epoll_for(self->fd, EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLPRI);

	ASSERT_LE(0, ep);
	EXPECT_EQ(0, epoll_now(ep));
	ASSERT_EQ(0, attrib(self));
	EXPECT_EQ(EPOLLIN | EPOLLRDNORM, epoll_now(ep));
	/* Level: reported again while unread. */
	EXPECT_EQ(EPOLLIN | EPOLLRDNORM, epoll_now(ep));
	drain(_metadata, self->fd);
	EXPECT_EQ(0, epoll_now(ep));
	EXPECT_EQ(0, close(ep));
}

TEST_F(readiness, epoll_edge_triggered)
{
	int ep = epoll_for(self->fd, EPOLLIN | EPOLLET);

	ASSERT_LE(0, ep);
	EXPECT_EQ(0, epoll_now(ep));
	ASSERT_EQ(0, attrib(self));
	EXPECT_EQ(EPOLLIN, epoll_now(ep));
	/* Edge: not repeated while the event sits unread. */
	EXPECT_EQ(0, epoll_now(ep));
	/* A new event is a new edge, even though the queue was never empty. */
	ASSERT_EQ(0, create(self, "a"));
	EXPECT_EQ(EPOLLIN, epoll_now(ep));
	EXPECT_EQ(0, epoll_now(ep));
	ASSERT_EQ(0, attrib(self));
	EXPECT_EQ(EPOLLIN, epoll_now(ep));
	EXPECT_EQ(0, epoll_now(ep));
	EXPECT_EQ(16 + 32 + 16, fionread(self->fd));
	drain(_metadata, self->fd);
	EXPECT_EQ(0, epoll_now(ep));
	ASSERT_EQ(0, attrib(self));
	EXPECT_EQ(EPOLLIN, epoll_now(ep));
	EXPECT_EQ(0, close(ep));
}

/* An event merged into the queue's tail queues nothing new and wakes no one. */
TEST_F(readiness, epoll_edge_not_rearmed_by_merged_event)
{
	int ep = epoll_for(self->fd, EPOLLIN | EPOLLET);

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, attrib(self));
	EXPECT_EQ(EPOLLIN, epoll_now(ep));
	ASSERT_EQ(0, attrib(self));
	EXPECT_EQ(16, fionread(self->fd));
	EXPECT_EQ(0, epoll_now(ep));
	EXPECT_EQ(0, close(ep));
}

/* ---- waking a blocked waiter ---- */

struct waiter {
	int fd;
	int use_epoll;
	volatile pid_t tid;
	int ret;
	int revents;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->tid = scratch_gettid();
	if (w->use_epoll) {
		struct epoll_event ev;

		w->ret = epoll_wait(w->fd, &ev, 1, -1);
		w->revents = ev.events;
	} else {
		struct pollfd p = { .fd = w->fd, .events = POLLIN };

		w->ret = poll(&p, 1, -1);
		w->revents = p.revents;
	}
	return NULL;
}

static void wake_waiter(struct __test_metadata *_metadata, FIXTURE_DATA(readiness) *self,
			int fd, int use_epoll, int want_revents)
{
	struct waiter w = { .fd = fd, .use_epoll = use_epoll, .ret = -2 };
	pthread_t t;

	ASSERT_EQ(0, pthread_create(&t, NULL, waiter_main, &w));
	while (!w.tid)
		usleep(1000);
	/* Wait for it to block (never a timing assertion: it just makes the wake-up real). */
	ASSERT_EQ(0, wait_thread_sleeping(w.tid));
	ASSERT_EQ(0, attrib(self));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(1, w.ret);
	EXPECT_EQ(want_revents, w.revents);
}

TEST_F(readiness, poll_blocked_thread_woken)
{
	wake_waiter(_metadata, self, self->fd, 0, POLLIN);
}

TEST_F(readiness, epoll_blocked_thread_woken)
{
	int ep = epoll_for(self->fd, EPOLLIN);

	ASSERT_LE(0, ep);
	wake_waiter(_metadata, self, ep, 1, EPOLLIN);
	EXPECT_EQ(0, close(ep));
}

TEST_F(readiness, epoll_et_blocked_thread_woken)
{
	int ep = epoll_for(self->fd, EPOLLIN | EPOLLET);

	ASSERT_LE(0, ep);
	wake_waiter(_metadata, self, ep, 1, EPOLLIN);
	EXPECT_EQ(0, close(ep));
}

TEST_HARNESS_MAIN
