// SPDX-License-Identifier: GPL-2.0
/*
 * INOTIFY_IOC_SETNEXTWD (CRIU's restore ioctl): the argument bounds, and how it steers the cyclic
 * wd allocator (idr_alloc_cyclic from the cursor, wrapping to 1) without touching existing
 * watches. Each case runs against the kernel's inotify and /dev/rust_inotify; both must agree.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "events.h"
#include "scratch.h"

#define NFILES	10

static int setnextwd(int fd, unsigned long wd)
{
	return ioctl(fd, INOTIFY_IOC_SETNEXTWD, wd);
}

FIXTURE(setnextwd) {
	char dir[PATH_MAX];
	char file[NFILES][PATH_MAX];
	int fd;
};

FIXTURE_VARIANT(setnextwd) {
	const struct backend *be;
};

BACKEND_VARIANTS(setnextwd);

FIXTURE_SETUP(setnextwd)
{
	int err;

	/* The teardown does not run after a failed setup: fail before making files. */
	self->fd = variant->be->init(O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("init: %s", strerror(errno));
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "setnextwd"));
	err = 0;
	for (int i = 0; i < NFILES; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		scratch_path(self->file[i], sizeof(self->file[i]), self->dir, name);
		err |= scratch_file(self->file[i], 0644);
	}
	if (err)
		scratch_remove(self->dir);
	ASSERT_EQ(0, err);
}

FIXTURE_TEARDOWN(setnextwd)
{
	if (self->fd >= 0)
		close(self->fd);
	scratch_remove(self->dir);
}

static int add(FIXTURE_DATA(setnextwd) *self, const FIXTURE_VARIANT(setnextwd) *variant, int i)
{
	return variant->be->add_watch(self->fd, self->file[i], IN_MODIFY);
}

TEST_F(setnextwd, out_of_range_einval)
{
	static const unsigned long bad[] = {
		0,
		(unsigned long)-1L,
		(unsigned long)INT_MAX + 1,
		(1UL << 32) | 5,
		(unsigned long)INT_MIN,
		(unsigned long)LONG_MIN,
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-1, setnextwd(self->fd, bad[i])) TH_LOG("arg %#lx", bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("arg %#lx", bad[i]);
	}
	/* The failed calls left the cursor alone: the first wd is still 1. */
	EXPECT_EQ(1, add(self, variant, 0));
}

TEST_F(setnextwd, in_range_accepted)
{
	EXPECT_EQ(0, setnextwd(self->fd, 1));
	EXPECT_EQ(0, setnextwd(self->fd, INT_MAX));
	EXPECT_EQ(0, setnextwd(self->fd, 2));
	/* The last call wins. */
	EXPECT_EQ(2, add(self, variant, 0));
}

TEST_F(setnextwd, next_watch_gets_n)
{
	ASSERT_EQ(0, setnextwd(self->fd, 100));
	EXPECT_EQ(100, add(self, variant, 0));
	/* The cursor moved past it. */
	EXPECT_EQ(101, add(self, variant, 1));
}

TEST_F(setnextwd, taken_gives_next_free_above)
{
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(i + 1, add(self, variant, i));
	}
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, 3));

	/* 2 is taken, 3 is free again: the search from the cursor finds 3. */
	ASSERT_EQ(0, setnextwd(self->fd, 2));
	EXPECT_EQ(3, add(self, variant, 4));
	EXPECT_EQ(5, add(self, variant, 5));

	/* 1..5 are all taken: the next free above 1 is 6. */
	ASSERT_EQ(0, setnextwd(self->fd, 1));
	EXPECT_EQ(6, add(self, variant, 6));
}

/* The conformance sequence of the spec (section 1.6). */
TEST_F(setnextwd, existing_watches_keep_their_wd)
{
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(i + 1, add(self, variant, i));
	}
	ASSERT_EQ(0, setnextwd(self->fd, 9));
	EXPECT_EQ(3, add(self, variant, 2));
	EXPECT_EQ(1, variant->be->add_watch(self->fd, self->file[0], IN_ATTRIB | IN_MASK_ADD));
	EXPECT_EQ(9, add(self, variant, 3));
	EXPECT_EQ(10, add(self, variant, 4));
}

TEST_F(setnextwd, int_max_then_wraps_to_lowest_free)
{
	ASSERT_EQ(1, add(self, variant, 0));
	ASSERT_EQ(2, add(self, variant, 1));
	ASSERT_EQ(0, setnextwd(self->fd, INT_MAX));
	EXPECT_EQ(INT_MAX, add(self, variant, 2));
	EXPECT_EQ(3, add(self, variant, 3));
	EXPECT_EQ(4, add(self, variant, 4));
}

TEST_F(setnextwd, int_max_taken_wraps)
{
	ASSERT_EQ(1, add(self, variant, 0));
	ASSERT_EQ(0, setnextwd(self->fd, INT_MAX));
	ASSERT_EQ(INT_MAX, add(self, variant, 1));
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, 1));
	/* INT_MAX is taken, nothing is above it: wrap to 1, which is free again. */
	ASSERT_EQ(0, setnextwd(self->fd, INT_MAX));
	EXPECT_EQ(1, add(self, variant, 2));
	EXPECT_EQ(2, add(self, variant, 3));
}

/* CRIU's restore: each watch is recreated with the wd it had, in whatever order. */
TEST_F(setnextwd, criu_restore_sequence)
{
	static const int wds[] = { 7, 3, 0x34d71d6, 5, 0x34d71d5 };

	for (unsigned int i = 0; i < sizeof(wds) / sizeof(wds[0]); i++) {
		ASSERT_EQ(0, setnextwd(self->fd, wds[i]));
		EXPECT_EQ(wds[i], add(self, variant, i));
	}
}

/* The restored wd is the one events and rm_watch use. */
TEST_F(setnextwd, restored_wd_in_events)
{
	struct ev evs[8];
	int n;

	ASSERT_EQ(0, setnextwd(self->fd, 0x34d71d6));
	ASSERT_EQ(0x34d71d6, add(self, variant, 0));
	ASSERT_EQ(0, scratch_append(self->file[0]));
	n = drain_events(self->fd, evs, 8);
	ASSERT_EQ(1, n) TH_LOG("%s", fmt_events(evs, n));
	EXPECT_EQ(0x34d71d6, evs[0].wd);
	EXPECT_EQ(IN_MODIFY, evs[0].mask);

	ASSERT_EQ(0, variant->be->rm_watch(self->fd, 0x34d71d6));
	n = drain_events(self->fd, evs, 8);
	ASSERT_EQ(1, n) TH_LOG("%s", fmt_events(evs, n));
	EXPECT_EQ(0x34d71d6, evs[0].wd);
	EXPECT_EQ(IN_IGNORED, evs[0].mask);
}

/* The cursor belongs to one instance. */
TEST_F(setnextwd, per_instance)
{
	int fd2 = variant->be->init(O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, setnextwd(self->fd, 50));
	EXPECT_EQ(1, variant->be->add_watch(fd2, self->file[0], IN_MODIFY));
	EXPECT_EQ(50, add(self, variant, 0));
	EXPECT_EQ(0, close(fd2));
}

TEST_HARNESS_MAIN
