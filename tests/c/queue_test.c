// SPDX-License-Identifier: GPL-2.0
/*
 * The event queue: tail-only merging (gVisor CoalesceEvents), never onto IN_IGNORED, merging that
 * ignores the cookie, and overflow at max_queued_events (exactly max real events, then one
 * IN_Q_OVERFLOW with wd -1, last; the limit sampled at open) (LTP inotify05, spec §1.3 "Merging"
 * and "Queue", §1.10 "Queue, merge, overflow"). Every case runs against the kernel's inotify and
 * against /dev/rust_inotify; the limit is /proc/sys/fs/inotify/max_queued_events for the former
 * and the module parameter for the latter.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "events.h"
#include "evcheck.h"
#include "scratch.h"

#define KERNEL_MAX_QUEUED	"/proc/sys/fs/inotify/max_queued_events"
#define RUST_MAX_QUEUED		"/sys/module/rust_inotify/parameters/max_queued_events"

FIXTURE(que) {
	int fd;			/* the instance, non-blocking, opened with the default limit */
	char dir[PATH_MAX];	/* scratch directory with files a, b (10 bytes each) */
	const char *limit_path;	/* the variant's max_queued_events */
	long saved_limit;	/* its value before the case, restored by the teardown */
	int limit_changed;
};

FIXTURE_VARIANT(que) {
	const struct backend *be;
};

BACKEND_VARIANTS(que);

static long read_limit(const char *path)
{
	char buf[32] = "";
	int f = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (f < 0)
		return -1;
	r = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (r <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static int write_limit(const char *path, long value)
{
	char buf[32];
	int f = open(path, O_WRONLY | O_CLOEXEC);
	int len = snprintf(buf, sizeof(buf), "%ld\n", value);
	int ok;

	if (f < 0)
		return -1;
	ok = write(f, buf, len) == len;
	close(f);
	return ok ? 0 : -1;
}

FIXTURE_SETUP(que)
{
	self->limit_changed = 0;
	self->limit_path = strcmp(variant->be->name, "kernel") ? RUST_MAX_QUEUED : KERNEL_MAX_QUEUED;
	self->fd = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("%s: init: %s", variant->be->name, strerror(errno));
	}
	self->saved_limit = read_limit(self->limit_path);
	ASSERT_LE(0, self->saved_limit) {
		TH_LOG("cannot read %s", self->limit_path);
	}
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "evt"));
	ASSERT_EQ(0, write_file(pj(self->dir, "a"), "0123456789"));
	ASSERT_EQ(0, write_file(pj(self->dir, "b"), "0123456789"));
}

/* Runs in the parent, so that the limit is restored even if the case crashed. */
FIXTURE_TEARDOWN_PARENT(que)
{
	if (self->limit_changed && write_limit(self->limit_path, self->saved_limit))
		TH_LOG("could not restore %s to %ld", self->limit_path, self->saved_limit);
	scratch_remove(self->dir);
}

#define D(name) pj(self->dir, name)

/* Sets the limit (remembering to restore it), opens an instance, and sets the limit back. */
static int init_with_limit(struct __test_metadata *_metadata, FIXTURE_DATA(que) *self,
			   const FIXTURE_VARIANT(que) *variant, long limit)
{
	int fd;

	self->limit_changed = 1;
	ASSERT_EQ(0, write_limit(self->limit_path, limit)) {
		TH_LOG("write %s: %s", self->limit_path, strerror(errno));
	}
	ASSERT_EQ(limit, read_limit(self->limit_path));
	fd = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_EQ(0, write_limit(self->limit_path, self->saved_limit));
	ASSERT_LE(0, fd);
	return fd;
}

/* Generates n non-mergeable events on fd f (opened RW): ACCESS, MODIFY, ACCESS, ... */
static int alternate_io(int f, int n)
{
	char c;

	for (int i = 0; i < n; i++)
		if ((i % 2 ? pwrite(f, "m", 1, 0) : pread(f, &c, 1, 0)) != 1)
			return -1;
	return 0;
}

/* Expects the first min(n, max) of alternate_io()'s events on wd, then an overflow if n > max. */
static void expect_alternating(struct __test_metadata *_metadata, int line, int fd, int wd,
			       int n, int max)
{
	static struct xev x[MAX_EVENTS];
	int m = 0;

	for (int i = 0; i < n && i < max; i++)
		x[m++] = (struct xev)EV(wd, i % 2 ? IN_MODIFY : IN_ACCESS, NULL);
	if (n > max)
		x[m++] = (struct xev)EV(-1, IN_Q_OVERFLOW, NULL);
	evcheck_assert(_metadata, line, fd, false, x, m);
}

/* read, read, read, read, close: ACCESS, CLOSE_NOWRITE (gVisor CoalesceEvents). */
TEST_F(que, merge_reads)
{
	int f = open(D("a"), O_RDONLY);
	int wd;
	char c;

	ASSERT_LE(0, f);
	wd = variant->be->add_watch(self->fd, D("a"), IN_ALL_EVENTS);
	ASSERT_EQ(1, wd);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(1, read(f, &c, 1));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_ACCESS, NULL),
		      EV(wd, IN_CLOSE_NOWRITE, NULL));
}

/* r, r, w, w, w, r, r: ACCESS, MODIFY, ACCESS (only the tail is a merge candidate). */
TEST_F(que, merge_only_with_tail)
{
	int f = open(D("a"), O_RDWR);
	int wd;
	char c;

	ASSERT_LE(0, f);
	wd = variant->be->add_watch(self->fd, D("a"), IN_ALL_EVENTS);
	ASSERT_EQ(1, wd);
	ASSERT_EQ(1, pread(f, &c, 1, 0));
	ASSERT_EQ(1, pread(f, &c, 1, 1));
	ASSERT_EQ(1, pwrite(f, "w", 1, 0));
	ASSERT_EQ(1, pwrite(f, "w", 1, 1));
	ASSERT_EQ(1, pwrite(f, "w", 1, 2));
	ASSERT_EQ(1, pread(f, &c, 1, 0));
	ASSERT_EQ(1, pread(f, &c, 1, 1));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_ACCESS, NULL),
		      EV(wd, IN_MODIFY, NULL),
		      EV(wd, IN_ACCESS, NULL));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd, EV(wd, IN_CLOSE_WRITE, NULL));
}

/* Interleaved files do not merge (different wds). */
TEST_F(que, interleaved_files_do_not_merge)
{
	int fa = open(D("a"), O_RDONLY);
	int fb = open(D("b"), O_RDONLY);
	int wd_a, wd_b;
	char c;

	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	wd_a = variant->be->add_watch(self->fd, D("a"), IN_ACCESS);
	ASSERT_EQ(1, wd_a);
	wd_b = variant->be->add_watch(self->fd, D("b"), IN_ACCESS);
	ASSERT_EQ(2, wd_b);
	ASSERT_EQ(1, pread(fa, &c, 1, 0));
	ASSERT_EQ(1, pread(fb, &c, 1, 0));
	ASSERT_EQ(1, pread(fa, &c, 1, 0));
	ASSERT_EQ(1, pread(fb, &c, 1, 0));
	ASSERT_EQ(1, pread(fa, &c, 1, 0));
	ASSERT_EQ(1, pread(fa, &c, 1, 0));
	ASSERT_EVENTS(self->fd,
		      EV(wd_a, IN_ACCESS, NULL),
		      EV(wd_b, IN_ACCESS, NULL),
		      EV(wd_a, IN_ACCESS, NULL),
		      EV(wd_b, IN_ACCESS, NULL),
		      EV(wd_a, IN_ACCESS, NULL));
	close(fa);
	close(fb);
}

/* On one dir watch the name is part of the comparison (same length or not). */
TEST_F(que, names_must_match_to_merge)
{
	int fa, fb, fab, wd;
	char c;

	ASSERT_EQ(0, write_file(D("ab"), "0123456789"));
	fa = open(D("a"), O_RDONLY);
	fb = open(D("b"), O_RDONLY);
	fab = open(D("ab"), O_RDONLY);
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	ASSERT_LE(0, fab);
	wd = variant->be->add_watch(self->fd, self->dir, IN_ACCESS);
	ASSERT_EQ(1, wd);
	ASSERT_EQ(1, pread(fa, &c, 1, 0));
	ASSERT_EQ(1, pread(fa, &c, 1, 0));
	ASSERT_EQ(1, pread(fb, &c, 1, 0));
	ASSERT_EQ(1, pread(fab, &c, 1, 0));
	ASSERT_EQ(1, pread(fa, &c, 1, 0));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_ACCESS, "a"),
		      EV(wd, IN_ACCESS, "b"),
		      EV(wd, IN_ACCESS, "ab"),
		      EV(wd, IN_ACCESS, "a"));
	/* The dir's own event (no name) does not merge with a child's either. */
	ASSERT_EQ(0, chmod(self->dir, 0750));
	ASSERT_EQ(1, pread(fa, &c, 1, 0));
	close(fa);
	close(fb);
	close(fab);
	ASSERT_EVENTS(self->fd, EV(wd, IN_ACCESS, "a"));
}

/* Only queued events are merge candidates: after a read the same event is queued again. */
TEST_F(que, no_merge_with_already_read_event)
{
	int f = open(D("a"), O_RDONLY);
	int wd;
	char c;

	ASSERT_LE(0, f);
	wd = variant->be->add_watch(self->fd, D("a"), IN_ACCESS);
	ASSERT_EQ(1, wd);
	ASSERT_EQ(1, pread(f, &c, 1, 0));
	ASSERT_EVENTS(self->fd, EV(wd, IN_ACCESS, NULL));
	ASSERT_EQ(1, pread(f, &c, 1, 0));
	ASSERT_EVENTS(self->fd, EV(wd, IN_ACCESS, NULL));
	close(f);
}

/*
 * The merge test ignores the cookie: two MOVED_FROM of the same name in a row (the MOVED_TOs go
 * to an unwatched dir) merge, and the queued event keeps the first rename's cookie.
 */
TEST_F(que, merge_ignores_cookie)
{
	struct ev from[4], to[4];
	int fd2, wd, n;

	ASSERT_EQ(0, mkdir(D("src"), 0755));
	ASSERT_EQ(0, mkdir(D("dst"), 0755));
	wd = variant->be->add_watch(self->fd, D("src"), IN_MOVED_FROM);
	ASSERT_EQ(1, wd);
	/* A second instance sees the MOVED_TOs, to learn both cookies. */
	fd2 = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(1, variant->be->add_watch(fd2, D("dst"), IN_MOVED_TO));

	ASSERT_EQ(0, write_file(D("src/x"), ""));
	ASSERT_EQ(0, rename(D("src/x"), D("dst/y")));
	ASSERT_EQ(0, write_file(D("src/x"), ""));
	ASSERT_EQ(0, rename(D("src/x"), D("dst/z")));

	n = drain_events(self->fd, from, 4);
	ASSERT_EQ(1, n) {
		TH_LOG("got [%s]", fmt_events(from, n));
	}
	ASSERT_EQ(wd, from[0].wd);
	ASSERT_EQ(IN_MOVED_FROM, from[0].mask);
	ASSERT_STREQ("x", from[0].name);
	n = drain_events(fd2, to, 4);
	ASSERT_EQ(2, n) {
		TH_LOG("got [%s]", fmt_events(to, n));
	}
	ASSERT_STREQ("y", to[0].name);
	ASSERT_STREQ("z", to[1].name);
	ASSERT_NE(0, to[0].cookie);
	ASSERT_NE(to[0].cookie, to[1].cookie);
	ASSERT_EQ(to[0].cookie, from[0].cookie);
	close(fd2);
}

/*
 * Never merge onto IN_IGNORED: the only way to queue two identical IGNORED events back to back is
 * to get the same wd twice, which INOTIFY_IOC_SETNEXTWD allows.
 */
TEST_F(que, never_merge_onto_ignored)
{
	int wd = variant->be->add_watch(self->fd, D("a"), IN_ALL_EVENTS);

	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, wd));
	if (ioctl(self->fd, INOTIFY_IOC_SETNEXTWD, 1L) && errno == ENOTTY)
		SKIP(return, "no INOTIFY_IOC_SETNEXTWD (CONFIG_CHECKPOINT_RESTORE off)");
	ASSERT_EQ(wd, variant->be->add_watch(self->fd, D("a"), IN_ALL_EVENTS));
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, wd));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_IGNORED, NULL),
		      EV(wd, IN_IGNORED, NULL));
}

#define SMALL_LIMIT	64
#define NR_IO		200

/*
 * Overflow (LTP inotify05): with max_queued_events 64 at open, 200 non-mergeable events give
 * exactly the first 64, then one IN_Q_OVERFLOW (wd -1, cookie 0, no name), last. The limit was
 * set back before the events, so this also shows it is sampled at open. After a read the queue
 * takes events again, and overflows again.
 */
TEST_F(que, overflow)
{
	int fdq = init_with_limit(_metadata, self, variant, SMALL_LIMIT);
	int f = open(D("a"), O_RDWR);
	int wd;
	char c;

	ASSERT_LE(0, f);
	wd = variant->be->add_watch(fdq, D("a"), IN_ALL_EVENTS);
	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, alternate_io(f, NR_IO));
	expect_alternating(_metadata, __LINE__, fdq, wd, NR_IO, SMALL_LIMIT);

	ASSERT_EQ(1, pread(f, &c, 1, 0));
	ASSERT_EVENTS(fdq, EV(wd, IN_ACCESS, NULL));

	ASSERT_EQ(0, alternate_io(f, NR_IO));
	expect_alternating(_metadata, __LINE__, fdq, wd, NR_IO, SMALL_LIMIT);

	/* Exactly the limit: no overflow. */
	ASSERT_EQ(0, alternate_io(f, SMALL_LIMIT));
	expect_alternating(_metadata, __LINE__, fdq, wd, SMALL_LIMIT, SMALL_LIMIT);
	close(f);
	close(fdq);
}

/* The fixture's instance was opened with the default limit: lowering it later changes nothing. */
TEST_F(que, limit_sampled_at_open)
{
	int f = open(D("a"), O_RDWR);
	int wd, r;

	ASSERT_LE(0, f);
	ASSERT_LT(NR_IO, self->saved_limit);
	wd = variant->be->add_watch(self->fd, D("a"), IN_ALL_EVENTS);
	ASSERT_EQ(1, wd);
	self->limit_changed = 1;
	ASSERT_EQ(0, write_limit(self->limit_path, SMALL_LIMIT));
	r = alternate_io(f, NR_IO);
	ASSERT_EQ(0, write_limit(self->limit_path, self->saved_limit));
	ASSERT_EQ(0, r);
	expect_alternating(_metadata, __LINE__, self->fd, wd, NR_IO, MAX_EVENTS);
	close(f);
}

/* A full queue overflows before merging: an event that would merge into the tail is lost. */
TEST_F(que, full_queue_overflows_before_merge)
{
	int fdq = init_with_limit(_metadata, self, variant, 4);
	int f = open(D("a"), O_RDWR);
	int wd;

	ASSERT_LE(0, f);
	wd = variant->be->add_watch(fdq, D("a"), IN_ALL_EVENTS);
	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, alternate_io(f, 4));
	ASSERT_EQ(1, pwrite(f, "m", 1, 0));	/* same as the tail MODIFY */
	ASSERT_EQ(1, pwrite(f, "m", 1, 0));
	expect_alternating(_metadata, __LINE__, fdq, wd, 5, 4);
	close(f);
	close(fdq);
}

/* max_queued_events 0: every event overflows; the overflow event is queued again once read. */
TEST_F(que, zero_limit_everything_overflows)
{
	int fdq = init_with_limit(_metadata, self, variant, 0);
	int wd;

	wd = variant->be->add_watch(fdq, D("a"), IN_ALL_EVENTS);
	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, chmod(D("a"), 0600));
	ASSERT_EQ(0, chmod(D("b"), 0600));	/* not watched */
	ASSERT_EQ(0, truncate(D("a"), 0));
	ASSERT_EVENTS(fdq, EV(-1, IN_Q_OVERFLOW, NULL));
	ASSERT_EQ(0, chmod(D("a"), 0644));
	ASSERT_EVENTS(fdq, EV(-1, IN_Q_OVERFLOW, NULL));
	/* rm_watch's IGNORED goes through the same queue. */
	ASSERT_EQ(0, variant->be->rm_watch(fdq, wd));
	ASSERT_EVENTS(fdq, EV(-1, IN_Q_OVERFLOW, NULL));
	close(fdq);
}

TEST_HARNESS_MAIN
