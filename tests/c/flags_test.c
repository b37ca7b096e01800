// SPDX-License-Identifier: GPL-2.0
/*
 * Watch flags that change event delivery: IN_ONESHOT (first queued-or-merged event, then
 * IGNORED) and IN_EXCL_UNLINK (no path events from unlinked names; inode events still come),
 * and how re-adding a watch replaces or ORs them (gVisor OneShot and ExcludeUnlink* tests, LTP
 * inotify12, spec §1.1 and §1.10 "Flags"). Every case runs against the kernel's inotify and
 * against /dev/rust_inotify.
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

FIXTURE(flg) {
	int fd;			/* the instance, non-blocking */
	char dir[PATH_MAX];	/* scratch directory, not watched unless a case says so */
	char f[PATH_MAX];	/* dir/f, 10 bytes */
};

FIXTURE_VARIANT(flg) {
	const struct backend *be;
};

BACKEND_VARIANTS(flg);

FIXTURE_SETUP(flg)
{
	self->fd = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("%s: init: %s", variant->be->name, strerror(errno));
	}
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "evt"));
	strcpy(self->f, pj(self->dir, "f"));
	ASSERT_EQ(0, write_file(self->f, "0123456789"));
}

FIXTURE_TEARDOWN(flg)
{
	if (self->fd >= 0)
		close(self->fd);
	scratch_remove(self->dir);
}

#define D(name) pj(self->dir, name)

#define ASSERT_RM_EINVAL(wd) do {						\
	ASSERT_EQ(-1, variant->be->rm_watch(self->fd, (wd)));			\
	ASSERT_EQ(EINVAL, errno);						\
} while (0)

/* Does one open(RW), read, write, close cycle on path (OPEN, ACCESS, MODIFY, CLOSE_WRITE). */
static int touch_io(const char *path)
{
	char c;
	int f = open(path, O_RDWR);

	if (f < 0)
		return -1;
	if (pread(f, &c, 1, 0) != 1 || pwrite(f, "z", 1, 0) != 1) {
		close(f);
		return -1;
	}
	return close(f);
}

/* ONESHOT: the first event, then IGNORED; nothing later; rm_watch is EINVAL. */
TEST_F(flg, oneshot_first_event_then_ignored)
{
	int wd = variant->be->add_watch(self->fd, self->f, IN_ALL_EVENTS | IN_ONESHOT);

	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, chmod(self->f, 0600));
	ASSERT_EQ(0, touch_io(self->f));
	ASSERT_EQ(0, chmod(self->f, 0644));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_ATTRIB, NULL),
		      EV(wd, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd);
	/* The inode is unwatched again: a new add is a new watch. */
	ASSERT_EQ(2, variant->be->add_watch(self->fd, self->f, IN_ATTRIB));
}

/* Events outside a ONESHOT watch's mask do not fire it. */
TEST_F(flg, oneshot_nonmatching_events_keep_watch)
{
	int wd = variant->be->add_watch(self->fd, self->f, IN_MODIFY | IN_ONESHOT);
	char c;
	int f;

	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, chmod(self->f, 0600));
	f = open(self->f, O_RDWR);
	ASSERT_LE(0, f);
	ASSERT_EQ(1, read(f, &c, 1));
	ASSERT_NO_EVENTS(self->fd);
	ASSERT_EQ(1, write(f, "a", 1));
	ASSERT_EQ(1, write(f, "b", 1));
	ASSERT_EQ(0, close(f));
	ASSERT_EQ(0, truncate(self->f, 0));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_MODIFY, NULL),
		      EV(wd, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd);
}

/*
 * A merged event counts as delivered: a ONESHOT watch whose first event merges into the queued
 * tail (same wd, mask, name) is removed all the same, so the stream is MODIFY, IGNORED.
 */
TEST_F(flg, oneshot_merged_event_counts)
{
	int f = open(self->f, O_RDWR);
	int wd;

	ASSERT_LE(0, f);
	wd = variant->be->add_watch(self->fd, self->f, IN_MODIFY);
	ASSERT_EQ(1, wd);
	ASSERT_EQ(1, write(f, "a", 1));
	/* Same inode: the same wd, now ONESHOT (the add replaces mask and flags). */
	ASSERT_EQ(wd, variant->be->add_watch(self->fd, self->f, IN_MODIFY | IN_ONESHOT));
	ASSERT_EQ(1, write(f, "b", 1));		/* merges into the queued MODIFY */
	ASSERT_EQ(1, write(f, "c", 1));		/* the watch is gone */
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_MODIFY, NULL),
		      EV(wd, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd);
}

/* ONESHOT on a directory: the first child event (with its name), then IGNORED. */
TEST_F(flg, oneshot_dir_watch)
{
	int wd = variant->be->add_watch(self->fd, self->dir, IN_CREATE | IN_ONESHOT);

	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, write_file(D("a"), "x"));
	ASSERT_EQ(0, write_file(D("b"), "x"));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_CREATE, "a"),
		      EV(wd, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd);
}

/* Re-adding without IN_MASK_ADD replaces the flags too: ONESHOT is dropped. */
TEST_F(flg, readd_clears_oneshot)
{
	int wd = variant->be->add_watch(self->fd, self->f, IN_ATTRIB | IN_ONESHOT);

	ASSERT_EQ(1, wd);
	ASSERT_EQ(wd, variant->be->add_watch(self->fd, self->f, IN_ATTRIB));
	ASSERT_EQ(0, chmod(self->f, 0600));
	ASSERT_EVENTS(self->fd, EV(wd, IN_ATTRIB, NULL));
	ASSERT_EQ(0, chmod(self->f, 0644));
	ASSERT_EVENTS(self->fd, EV(wd, IN_ATTRIB, NULL));
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, wd));
	ASSERT_EVENTS(self->fd, EV(wd, IN_IGNORED, NULL));
}

/* IN_MASK_ADD ORs both the mask and the ONESHOT flag into the existing watch. */
TEST_F(flg, mask_add_adds_oneshot)
{
	int wd = variant->be->add_watch(self->fd, self->f, IN_ATTRIB);

	ASSERT_EQ(1, wd);
	ASSERT_EQ(wd, variant->be->add_watch(self->fd, self->f,
					     IN_MODIFY | IN_MASK_ADD | IN_ONESHOT));
	ASSERT_EQ(0, chmod(self->f, 0600));	/* the old interest still counts */
	ASSERT_EQ(0, truncate(self->f, 0));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_ATTRIB, NULL),
		      EV(wd, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd);
}

/* Sets up dir (wd 1) and f (wd 2) watches with @flags, opens f RW and unlinks it. */
static int open_and_unlink(struct __test_metadata *_metadata, FIXTURE_DATA(flg) *self,
			   const FIXTURE_VARIANT(flg) *variant, uint32_t dir_flags,
			   uint32_t file_flags)
{
	int f;

	ASSERT_EQ(1, variant->be->add_watch(self->fd, self->dir, IN_ALL_EVENTS | dir_flags));
	ASSERT_EQ(2, variant->be->add_watch(self->fd, self->f, IN_ALL_EVENTS | file_flags));
	f = open(self->f, O_RDWR);
	ASSERT_LE(0, f);
	ASSERT_EVENTS(self->fd, EV(1, IN_OPEN, "f"), EV(2, IN_OPEN, NULL));
	ASSERT_EQ(0, unlink(self->f));
	ASSERT_EVENTS_PER_WD(self->fd,
			     EV(2, IN_ATTRIB, NULL),
			     EV(1, IN_DELETE, "f"));
	return f;
}

/*
 * EXCL_UNLINK: after the unlink, read/write/close on the still-open fd give nothing on either the
 * dir watch or the file watch; the last close still gives DELETE_SELF, IGNORED (inode events).
 */
TEST_F(flg, excl_unlink_suppresses_io_events)
{
	int f = open_and_unlink(_metadata, self, variant, IN_EXCL_UNLINK, IN_EXCL_UNLINK);
	char c;

	ASSERT_EQ(1, write(f, "x", 1));
	ASSERT_EQ(1, pread(f, &c, 1, 0));
	ASSERT_EQ(1, pwrite(f, "y", 1, 5));
	ASSERT_NO_EVENTS(self->fd);
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(2, IN_DELETE_SELF, NULL),
		      EV(2, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(2);
}

/*
 * Control: without EXCL_UNLINK the same sequence is reported to both watches (the dir's with the
 * old name), and the close too.
 */
TEST_F(flg, no_excl_unlink_reports_io_events)
{
	int f = open_and_unlink(_metadata, self, variant, 0, 0);
	char c;

	ASSERT_EQ(1, write(f, "x", 1));
	ASSERT_EQ(1, pread(f, &c, 1, 0));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(1, IN_MODIFY, "f"), EV(2, IN_MODIFY, NULL),
		      EV(1, IN_ACCESS, "f"), EV(2, IN_ACCESS, NULL),
		      EV(1, IN_CLOSE_WRITE, "f"), EV(2, IN_CLOSE_WRITE, NULL),
		      EV(2, IN_DELETE_SELF, NULL), EV(2, IN_IGNORED, NULL));
}

/*
 * EXCL_UNLINK filters path events only: ftruncate, fchmod, fchown, futimens carry a dentry, not a
 * path, so they are still reported (gVisor ExcludeUnlinkInodeEvents), to the dir with the old name
 * and to the file.
 */
TEST_F(flg, excl_unlink_inode_events_still_fire)
{
	int f = open_and_unlink(_metadata, self, variant, IN_EXCL_UNLINK, IN_EXCL_UNLINK);

	ASSERT_EQ(0, ftruncate(f, 3));
	ASSERT_EVENTS(self->fd, EV(1, IN_MODIFY, "f"), EV(2, IN_MODIFY, NULL));
	ASSERT_EQ(0, fchmod(f, 0600));
	ASSERT_EVENTS(self->fd, EV(1, IN_ATTRIB, "f"), EV(2, IN_ATTRIB, NULL));
	ASSERT_EQ(0, fchown(f, 65534, 65534));
	ASSERT_EVENTS(self->fd, EV(1, IN_ATTRIB, "f"), EV(2, IN_ATTRIB, NULL));
	ASSERT_EQ(0, futimens(f, NULL));
	ASSERT_EVENTS(self->fd, EV(1, IN_ATTRIB, "f"), EV(2, IN_ATTRIB, NULL));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(2, IN_DELETE_SELF, NULL),
		      EV(2, IN_IGNORED, NULL));
}

/* EXCL_UNLINK is per watch: the dir watch has it, the file watch does not. */
TEST_F(flg, excl_unlink_is_per_watch)
{
	int f = open_and_unlink(_metadata, self, variant, IN_EXCL_UNLINK, 0);

	ASSERT_EQ(1, write(f, "x", 1));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(2, IN_MODIFY, NULL),
		      EV(2, IN_CLOSE_WRITE, NULL),
		      EV(2, IN_DELETE_SELF, NULL),
		      EV(2, IN_IGNORED, NULL));
}

/* A hardlink sibling that is still linked keeps reporting; the unlinked name's fd does not. */
TEST_F(flg, excl_unlink_sibling_hardlink_reports)
{
	int wd_d, wd_f, a, b;

	ASSERT_EQ(0, link(self->f, D("l")));
	wd_d = variant->be->add_watch(self->fd, self->dir, IN_ALL_EVENTS | IN_EXCL_UNLINK);
	ASSERT_EQ(1, wd_d);
	wd_f = variant->be->add_watch(self->fd, self->f, IN_ALL_EVENTS | IN_EXCL_UNLINK);
	ASSERT_EQ(2, wd_f);
	a = open(self->f, O_RDWR);
	ASSERT_LE(0, a);
	b = open(D("l"), O_RDWR);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, unlink(self->f));
	ASSERT_EVENTS_PER_WD(self->fd,
			     EV(wd_d, IN_OPEN, "f"), EV(wd_f, IN_OPEN, NULL),
			     EV(wd_d, IN_OPEN, "l"), EV(wd_f, IN_OPEN, NULL),
			     EV(wd_f, IN_ATTRIB, NULL),
			     EV(wd_d, IN_DELETE, "f"));

	ASSERT_EQ(1, write(a, "x", 1));
	ASSERT_NO_EVENTS(self->fd);
	ASSERT_EQ(1, write(b, "y", 1));
	ASSERT_EVENTS(self->fd, EV(wd_d, IN_MODIFY, "l"), EV(wd_f, IN_MODIFY, NULL));
	ASSERT_EQ(0, close(a));
	ASSERT_NO_EVENTS(self->fd);
	ASSERT_EQ(0, close(b));
	ASSERT_EVENTS(self->fd,
		      EV(wd_d, IN_CLOSE_WRITE, "l"),
		      EV(wd_f, IN_CLOSE_WRITE, NULL));
}

/* Re-adding without IN_MASK_ADD clears EXCL_UNLINK: the unlinked file reports again. */
TEST_F(flg, readd_clears_excl_unlink)
{
	int wd = variant->be->add_watch(self->fd, self->f, IN_ALL_EVENTS | IN_EXCL_UNLINK);
	int f;

	ASSERT_EQ(1, wd);
	ASSERT_EQ(wd, variant->be->add_watch(self->fd, self->f, IN_MODIFY | IN_DELETE_SELF));
	f = open(self->f, O_RDWR);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, unlink(self->f));
	ASSERT_EQ(1, write(f, "x", 1));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_MODIFY, NULL),
		      EV(wd, IN_DELETE_SELF, NULL),
		      EV(wd, IN_IGNORED, NULL));
}

/* IN_MASK_ADD ORs EXCL_UNLINK in. */
TEST_F(flg, mask_add_adds_excl_unlink)
{
	int wd = variant->be->add_watch(self->fd, self->f, IN_MODIFY | IN_DELETE_SELF);
	int f;

	ASSERT_EQ(1, wd);
	ASSERT_EQ(wd, variant->be->add_watch(self->fd, self->f, IN_MASK_ADD | IN_EXCL_UNLINK |
					     IN_CLOSE_WRITE));
	f = open(self->f, O_RDWR);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, unlink(self->f));
	ASSERT_EQ(1, write(f, "x", 1));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_DELETE_SELF, NULL),
		      EV(wd, IN_IGNORED, NULL));
}

TEST_HARNESS_MAIN
