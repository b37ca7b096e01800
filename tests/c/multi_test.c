// SPDX-License-Identifier: GPL-2.0
/*
 * Several watches and instances on the same objects: parent and child both watched (parent
 * event with the name first, child event without), LTP inotify10's four cases with two
 * instances of different interests, 30 instances all getting the events, and mask filtering
 * with IGNORED always delivered (gVisor NestedWatches, MultipleInotifyInstancesAndWatchesAllGetEvents,
 * UnmatchedEventsAreDiscarded; spec §1.3 and §1.10 "Multiple watches and instances"). Every case
 * runs against the kernel's inotify and against /dev/rust_inotify.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "events.h"
#include "evcheck.h"
#include "scratch.h"

#define TEST_DIR	"test_dir"
#define TEST_FILE	"test_file"

FIXTURE(mul) {
	int fd;			/* the instance, non-blocking */
	char dir[PATH_MAX];	/* scratch directory with TEST_DIR/ and TEST_FILE */
};

FIXTURE_VARIANT(mul) {
	const struct backend *be;
};

BACKEND_VARIANTS(mul);

FIXTURE_SETUP(mul)
{
	self->fd = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("%s: init: %s", variant->be->name, strerror(errno));
	}
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "evt"));
	ASSERT_EQ(0, mkdir(pj(self->dir, TEST_DIR), 0700));
	ASSERT_EQ(0, write_file(pj(self->dir, TEST_FILE), "1"));
}

FIXTURE_TEARDOWN(mul)
{
	if (self->fd >= 0)
		close(self->fd);
	scratch_remove(self->dir);
}

#define D(name) pj(self->dir, name)

/*
 * Parent and child in one instance (gVisor NestedWatches): each event goes to the parent with the
 * name, then to the child without. Consecutive reads therefore do not merge (the tail is always
 * the other wd's event).
 */
TEST_F(mul, parent_and_child_same_instance)
{
	int wd_d = variant->be->add_watch(self->fd, self->dir, IN_ALL_EVENTS);
	int wd_f = variant->be->add_watch(self->fd, D(TEST_FILE), IN_ALL_EVENTS);
	char c;
	int f;

	ASSERT_EQ(1, wd_d);
	ASSERT_EQ(2, wd_f);
	ASSERT_EQ(0, chmod(D(TEST_FILE), 0600));
	f = open(D(TEST_FILE), O_RDONLY);
	ASSERT_LE(0, f);
	ASSERT_EQ(1, pread(f, &c, 1, 0));
	ASSERT_EQ(1, pread(f, &c, 1, 0));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(wd_d, IN_ATTRIB, TEST_FILE), EV(wd_f, IN_ATTRIB, NULL),
		      EV(wd_d, IN_OPEN, TEST_FILE), EV(wd_f, IN_OPEN, NULL),
		      EV(wd_d, IN_ACCESS, TEST_FILE), EV(wd_f, IN_ACCESS, NULL),
		      EV(wd_d, IN_ACCESS, TEST_FILE), EV(wd_f, IN_ACCESS, NULL),
		      EV(wd_d, IN_CLOSE_NOWRITE, TEST_FILE), EV(wd_f, IN_CLOSE_NOWRITE, NULL));
}

/* Different interests in one instance: each watch gets only what its own mask asks for. */
TEST_F(mul, parent_and_child_different_masks)
{
	int wd_d = variant->be->add_watch(self->fd, self->dir, IN_OPEN);
	int wd_f = variant->be->add_watch(self->fd, D(TEST_FILE), IN_ATTRIB | IN_CLOSE);
	int f;

	ASSERT_EQ(1, wd_d);
	ASSERT_EQ(2, wd_f);
	f = open(D(TEST_FILE), O_RDONLY);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, fchmod(f, 0600));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(wd_d, IN_OPEN, TEST_FILE),
		      EV(wd_f, IN_ATTRIB, NULL),
		      EV(wd_f, IN_CLOSE_NOWRITE, NULL));
}

/*
 * LTP inotify10: chmod TEST_DIR then TEST_FILE; a group with watches on the parent ("."),
 * TEST_DIR and TEST_FILE per the masks given (0: no watch) gets, for each chmod, the parent's
 * ATTRIB (with the name) first, then the child's (without), if their masks have IN_ATTRIB. The
 * "other" group's watches must not disturb ours; its own events are checked as well.
 */
struct groupmasks {
	uint32_t parent, subdir, child;
};

static void inotify10_expect(const struct groupmasks *m, struct xev *x, int *n)
{
	int wd = 0, wd_parent = 0, wd_subdir = 0, wd_child = 0;

	/* wds are allocated 1, 2, 3 in the order the watches are added: parent, subdir, child. */
	if (m->parent)
		wd_parent = ++wd;
	if (m->subdir)
		wd_subdir = ++wd;
	if (m->child)
		wd_child = ++wd;
	*n = 0;
	if (wd_parent && (m->parent & IN_ATTRIB))
		x[(*n)++] = (struct xev)EV(wd_parent, IN_ATTRIB | IN_ISDIR, TEST_DIR);
	if (wd_subdir && (m->subdir & IN_ATTRIB))
		x[(*n)++] = (struct xev)EV(wd_subdir, IN_ATTRIB | IN_ISDIR, NULL);
	if (wd_parent && (m->parent & IN_ATTRIB))
		x[(*n)++] = (struct xev)EV(wd_parent, IN_ATTRIB, TEST_FILE);
	if (wd_child && (m->child & IN_ATTRIB))
		x[(*n)++] = (struct xev)EV(wd_child, IN_ATTRIB, NULL);
}

static void inotify10_add(struct __test_metadata *_metadata, const struct backend *be, int fd,
			  const char *dir, const struct groupmasks *m)
{
	int wd = 0;

	if (m->parent)
		ASSERT_EQ(++wd, be->add_watch(fd, dir, m->parent));
	if (m->subdir)
		ASSERT_EQ(++wd, be->add_watch(fd, pj(dir, TEST_DIR), m->subdir));
	if (m->child)
		ASSERT_EQ(++wd, be->add_watch(fd, pj(dir, TEST_FILE), m->child));
}

static void inotify10_case(struct __test_metadata *_metadata, FIXTURE_DATA(mul) *self,
			   const FIXTURE_VARIANT(mul) *variant, struct groupmasks ours,
			   struct groupmasks other)
{
	struct xev x[8];
	int n, fd_other;

	fd_other = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, fd_other);
	inotify10_add(_metadata, variant->be, self->fd, self->dir, &ours);
	inotify10_add(_metadata, variant->be, fd_other, self->dir, &other);

	ASSERT_EQ(0, chmod(D(TEST_DIR), 0755));
	ASSERT_EQ(0, chmod(D(TEST_FILE), 0644));

	inotify10_expect(&ours, x, &n);
	evcheck_assert(_metadata, __LINE__, self->fd, false, x, n);
	inotify10_expect(&other, x, &n);
	evcheck_assert(_metadata, __LINE__, fd_other, false, x, n);
	close(fd_other);
}

TEST_F(mul, inotify10_group_with_parent_and_child_watches)
{
	inotify10_case(_metadata, self, variant,
		       (struct groupmasks){ IN_ATTRIB, IN_ATTRIB, IN_ATTRIB },
		       (struct groupmasks){ 0, 0, 0 });
}

TEST_F(mul, inotify10_child_watches_other_group_parent)
{
	inotify10_case(_metadata, self, variant,
		       (struct groupmasks){ 0, IN_ATTRIB, IN_ATTRIB },
		       (struct groupmasks){ IN_ATTRIB, 0, 0 });
}

TEST_F(mul, inotify10_parent_watch_other_group_children)
{
	inotify10_case(_metadata, self, variant,
		       (struct groupmasks){ IN_ATTRIB, 0, 0 },
		       (struct groupmasks){ 0, IN_ATTRIB, IN_ATTRIB });
}

/* Regression test of fecc4559780d (5.9): two groups, different interests on parent and child. */
TEST_F(mul, inotify10_two_groups_different_events)
{
	inotify10_case(_metadata, self, variant,
		       (struct groupmasks){ IN_ATTRIB, IN_OPEN, IN_OPEN },
		       (struct groupmasks){ IN_OPEN, IN_ATTRIB, IN_ATTRIB });
}

#define NR_INSTANCES 30

/* 30 instances each watching the dir and the file: every one gets MODIFY(1, name), MODIFY(2). */
TEST_F(mul, thirty_instances_all_get_events)
{
	int fds[NR_INSTANCES];
	int f;

	for (int i = 0; i < NR_INSTANCES; i++) {
		fds[i] = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
		ASSERT_LE(0, fds[i]) {
			TH_LOG("instance %d: %s", i, strerror(errno));
		}
		ASSERT_EQ(1, variant->be->add_watch(fds[i], self->dir, IN_ALL_EVENTS));
		ASSERT_EQ(2, variant->be->add_watch(fds[i], D(TEST_FILE), IN_ALL_EVENTS));
	}
	f = open(D(TEST_FILE), O_WRONLY);
	ASSERT_LE(0, f);
	for (int i = 0; i < NR_INSTANCES; i++)
		ASSERT_EVENTS(fds[i], EV(1, IN_OPEN, TEST_FILE), EV(2, IN_OPEN, NULL));
	ASSERT_EQ(1, write(f, "x", 1));
	for (int i = 0; i < NR_INSTANCES; i++)
		ASSERT_EVENTS(fds[i], EV(1, IN_MODIFY, TEST_FILE), EV(2, IN_MODIFY, NULL));
	ASSERT_EQ(0, close(f));
	for (int i = 0; i < NR_INSTANCES; i++) {
		ASSERT_EVENTS(fds[i], EV(1, IN_CLOSE_WRITE, TEST_FILE),
			      EV(2, IN_CLOSE_WRITE, NULL));
		close(fds[i]);
	}
}

/* Each instance has its own wds and its own removal; removing in one leaves the other alone. */
TEST_F(mul, instances_are_independent)
{
	int fd2 = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);

	ASSERT_LE(0, fd2);
	ASSERT_EQ(1, variant->be->add_watch(self->fd, D(TEST_DIR), IN_ALL_EVENTS));
	ASSERT_EQ(2, variant->be->add_watch(self->fd, D(TEST_FILE), IN_ALL_EVENTS));
	ASSERT_EQ(1, variant->be->add_watch(fd2, D(TEST_FILE), IN_ATTRIB));
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, 2));
	ASSERT_EQ(0, chmod(D(TEST_FILE), 0600));
	ASSERT_EVENTS(self->fd, EV(2, IN_IGNORED, NULL));
	ASSERT_EVENTS(fd2, EV(1, IN_ATTRIB, NULL));
	close(fd2);
}

/*
 * Events outside the mask are discarded; IN_IGNORED is delivered although no mask asks for it
 * (gVisor UnmatchedEventsAreDiscarded), after rm_watch and after the watched file is deleted.
 */
TEST_F(mul, unmatched_events_discarded_ignored_always_delivered)
{
	int wd = variant->be->add_watch(self->fd, D(TEST_FILE), IN_MODIFY);
	char c;
	int f;

	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, chmod(D(TEST_FILE), 0600));
	f = open(D(TEST_FILE), O_RDWR);
	ASSERT_LE(0, f);
	ASSERT_EQ(1, read(f, &c, 1));
	ASSERT_NO_EVENTS(self->fd);
	ASSERT_EQ(1, write(f, "x", 1));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd, EV(wd, IN_MODIFY, NULL));
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, wd));
	ASSERT_EVENTS(self->fd, EV(wd, IN_IGNORED, NULL));

	/* Deleted while watched with a mask that has neither ATTRIB nor DELETE_SELF. */
	wd = variant->be->add_watch(self->fd, D(TEST_FILE), IN_MODIFY);
	ASSERT_EQ(2, wd);
	ASSERT_EQ(0, unlink(D(TEST_FILE)));
	ASSERT_EVENTS(self->fd, EV(wd, IN_IGNORED, NULL));

	/* A dir watch for CREATE only. */
	wd = variant->be->add_watch(self->fd, self->dir, IN_CREATE);
	ASSERT_EQ(3, wd);
	ASSERT_EQ(0, write_file(D("n"), "x"));
	ASSERT_EQ(0, chmod(D("n"), 0600));
	ASSERT_EQ(0, unlink(D("n")));
	ASSERT_EVENTS(self->fd, EV(wd, IN_CREATE, "n"));
}

/* A mask of IN_IGNORED alone is a valid watch that only ever reports IGNORED. */
TEST_F(mul, ignored_only_mask)
{
	int wd = variant->be->add_watch(self->fd, D(TEST_FILE), IN_IGNORED);

	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, chmod(D(TEST_FILE), 0600));
	ASSERT_EQ(0, write_file(D(TEST_FILE), "y"));
	ASSERT_NO_EVENTS(self->fd);
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, wd));
	ASSERT_EVENTS(self->fd, EV(wd, IN_IGNORED, NULL));
}

/*
 * The variant's instance and a kernel inotify instance watch the same objects: both get the same
 * stream (the module must not disturb, nor be disturbed by, the kernel's own inotify).
 */
TEST_F(mul, coexists_with_kernel_inotify)
{
	int kfd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	int fds[2] = { self->fd, kfd };
	int f;

	ASSERT_LE(0, kfd);
	for (int i = 0; i < 2; i++) {
		const struct backend *be = i ? &kernel_backend : variant->be;

		ASSERT_EQ(1, be->add_watch(fds[i], self->dir, IN_ALL_EVENTS));
		ASSERT_EQ(2, be->add_watch(fds[i], D(TEST_FILE), IN_ALL_EVENTS));
	}
	f = open(D(TEST_FILE), O_RDWR);
	ASSERT_LE(0, f);
	ASSERT_EQ(1, write(f, "x", 1));
	ASSERT_EQ(0, close(f));
	ASSERT_EQ(0, unlink(D(TEST_FILE)));
	for (int i = 0; i < 2; i++)
		ASSERT_EVENTS_PER_WD(fds[i],
				     EV(1, IN_OPEN, TEST_FILE), EV(2, IN_OPEN, NULL),
				     EV(1, IN_MODIFY, TEST_FILE), EV(2, IN_MODIFY, NULL),
				     EV(1, IN_CLOSE_WRITE, TEST_FILE), EV(2, IN_CLOSE_WRITE, NULL),
				     EV(2, IN_ATTRIB, NULL), EV(2, IN_DELETE_SELF, NULL),
				     EV(2, IN_IGNORED, NULL), EV(1, IN_DELETE, TEST_FILE));
	close(kfd);
}

TEST_HARNESS_MAIN
