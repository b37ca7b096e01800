// SPDX-License-Identifier: GPL-2.0
/*
 * The watched object itself goes away: DELETE_SELF and IGNORED after rmdir/unlink (at once, or
 * at the last close of an unlinked open file), hardlinks, and UNMOUNT + IGNORED at umount
 * (LTP inotify03/inotify04, gVisor IncludeUnlinkedFile/HardlinksReuseSameWatch, spec §1.3 and
 * §1.10 "Self deletion / IN_IGNORED production"). After each, rm_watch of the wd is EINVAL.
 * Every case runs against the kernel's inotify and against /dev/rust_inotify.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "events.h"
#include "evcheck.h"
#include "scratch.h"

FIXTURE(sev) {
	int fd;			/* the instance, non-blocking */
	char dir[PATH_MAX];	/* scratch directory, not watched */
	char mnt[PATH_MAX];	/* tmpfs mounted by the umount cases, or "" */
};

FIXTURE_VARIANT(sev) {
	const struct backend *be;
};

BACKEND_VARIANTS(sev);

FIXTURE_SETUP(sev)
{
	self->mnt[0] = 0;
	self->fd = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("%s: init: %s", variant->be->name, strerror(errno));
	}
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "evt"));
}

FIXTURE_TEARDOWN(sev)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->mnt[0])
		umount2(self->mnt, MNT_DETACH);
	scratch_remove(self->dir);
}

#define D(name) pj(self->dir, name)

#define ASSERT_RM_EINVAL(wd) do {						\
	ASSERT_EQ(-1, variant->be->rm_watch(self->fd, (wd)));			\
	ASSERT_EQ(EINVAL, errno);						\
} while (0)

/* rmdir of a watched dir: DELETE_SELF (no ISDIR), IGNORED; the wd is gone. */
TEST_F(sev, rmdir_watched_dir)
{
	int wd;

	ASSERT_EQ(0, mkdir(D("s"), 0755));
	wd = variant->be->add_watch(self->fd, D("s"), IN_ALL_EVENTS);
	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, rmdir(D("s")));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_DELETE_SELF, NULL),
		      EV(wd, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd);
	ASSERT_NO_EVENTS(self->fd);
}

/* The same with the parent watched too: DELETE|ISDIR on the parent (order between wds free). */
TEST_F(sev, rmdir_watched_dir_and_parent)
{
	int wd_d, wd_s;

	ASSERT_EQ(0, mkdir(D("s"), 0755));
	wd_d = variant->be->add_watch(self->fd, self->dir, IN_ALL_EVENTS);
	ASSERT_EQ(1, wd_d);
	wd_s = variant->be->add_watch(self->fd, D("s"), IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_s);
	ASSERT_EQ(0, rmdir(D("s")));
	ASSERT_EVENTS_PER_WD(self->fd,
			     EV(wd_s, IN_DELETE_SELF, NULL),
			     EV(wd_s, IN_IGNORED, NULL),
			     EV(wd_d, IN_DELETE | IN_ISDIR, "s"));
	ASSERT_RM_EINVAL(wd_s);
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, wd_d));
	ASSERT_EVENTS(self->fd, EV(wd_d, IN_IGNORED, NULL));
}

/* unlink of a watched file that is not open: ATTRIB, DELETE_SELF, IGNORED. */
TEST_F(sev, unlink_watched_file)
{
	int wd;

	ASSERT_EQ(0, write_file(D("f"), "x"));
	wd = variant->be->add_watch(self->fd, D("f"), IN_ALL_EVENTS);
	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, unlink(D("f")));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_ATTRIB, NULL),
		      EV(wd, IN_DELETE_SELF, NULL),
		      EV(wd, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd);
}

/* The same with the parent watched: DELETE(f) on the parent as well. */
TEST_F(sev, unlink_watched_file_and_parent)
{
	int wd_d, wd_f;

	ASSERT_EQ(0, write_file(D("f"), "x"));
	wd_d = variant->be->add_watch(self->fd, self->dir, IN_ALL_EVENTS);
	ASSERT_EQ(1, wd_d);
	wd_f = variant->be->add_watch(self->fd, D("f"), IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_f);
	ASSERT_EQ(0, unlink(D("f")));
	ASSERT_EVENTS_PER_WD(self->fd,
			     EV(wd_f, IN_ATTRIB, NULL),
			     EV(wd_f, IN_DELETE_SELF, NULL),
			     EV(wd_f, IN_IGNORED, NULL),
			     EV(wd_d, IN_DELETE, "f"));
	ASSERT_RM_EINVAL(wd_f);
}

/*
 * unlink while open (gVisor IncludeUnlinkedFile): ATTRIB (and DELETE on the parent) now;
 * DELETE_SELF and IGNORED only when the last open file description is released.
 */
TEST_F(sev, unlink_while_open)
{
	int wd_d, wd_f, a, b;
	char c;

	ASSERT_EQ(0, write_file(D("f"), "xy"));
	wd_d = variant->be->add_watch(self->fd, self->dir, IN_ALL_EVENTS);
	ASSERT_EQ(1, wd_d);
	wd_f = variant->be->add_watch(self->fd, D("f"), IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_f);
	a = open(D("f"), O_RDONLY);
	ASSERT_LE(0, a);
	b = open(D("f"), O_RDONLY);
	ASSERT_LE(0, b);
	ASSERT_EVENTS(self->fd,
		      EV(wd_d, IN_OPEN, "f"), EV(wd_f, IN_OPEN, NULL),
		      EV(wd_d, IN_OPEN, "f"), EV(wd_f, IN_OPEN, NULL));

	ASSERT_EQ(0, unlink(D("f")));
	ASSERT_EVENTS_PER_WD(self->fd,
			     EV(wd_f, IN_ATTRIB, NULL),
			     EV(wd_d, IN_DELETE, "f"));

	/* Still open: the unlinked file keeps reporting, to both watches (old name). */
	ASSERT_EQ(1, read(a, &c, 1));
	ASSERT_EQ(0, close(a));
	ASSERT_EVENTS(self->fd,
		      EV(wd_d, IN_ACCESS, "f"), EV(wd_f, IN_ACCESS, NULL),
		      EV(wd_d, IN_CLOSE_NOWRITE, "f"), EV(wd_f, IN_CLOSE_NOWRITE, NULL));

	ASSERT_EQ(0, close(b));
	ASSERT_EVENTS(self->fd,
		      EV(wd_d, IN_CLOSE_NOWRITE, "f"), EV(wd_f, IN_CLOSE_NOWRITE, NULL),
		      EV(wd_f, IN_DELETE_SELF, NULL), EV(wd_f, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd_f);
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, wd_d));
	ASSERT_EVENTS(self->fd, EV(wd_d, IN_IGNORED, NULL));
}

/*
 * Hardlinks (gVisor HardlinksReuseSameWatch): both names give the same wd; removing one link is
 * ATTRIB (+ DELETE on the parent); removing the last is ATTRIB, DELETE_SELF, IGNORED (+ DELETE).
 */
TEST_F(sev, hardlinks)
{
	int wd_d, wd_f;

	ASSERT_EQ(0, write_file(D("f"), "x"));
	ASSERT_EQ(0, link(D("f"), D("l")));
	wd_d = variant->be->add_watch(self->fd, self->dir, IN_ALL_EVENTS);
	ASSERT_EQ(1, wd_d);
	wd_f = variant->be->add_watch(self->fd, D("f"), IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_f);
	ASSERT_EQ(wd_f, variant->be->add_watch(self->fd, D("l"), IN_ALL_EVENTS));

	ASSERT_EQ(0, unlink(D("f")));
	ASSERT_EVENTS_PER_WD(self->fd,
			     EV(wd_f, IN_ATTRIB, NULL),
			     EV(wd_d, IN_DELETE, "f"));
	ASSERT_EQ(0, unlink(D("l")));
	ASSERT_EVENTS_PER_WD(self->fd,
			     EV(wd_f, IN_ATTRIB, NULL),
			     EV(wd_f, IN_DELETE_SELF, NULL),
			     EV(wd_f, IN_IGNORED, NULL),
			     EV(wd_d, IN_DELETE, "l"));
	ASSERT_RM_EINVAL(wd_f);
}

/* A watch that was removed first: the unlink gives nothing more for it. */
TEST_F(sev, rm_watch_then_unlink)
{
	int wd;

	ASSERT_EQ(0, write_file(D("f"), "x"));
	wd = variant->be->add_watch(self->fd, D("f"), IN_ALL_EVENTS);
	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, wd));
	ASSERT_EQ(0, unlink(D("f")));
	ASSERT_EVENTS(self->fd, EV(wd, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd);
}

/* Mounts a fresh tmpfs at dir/mnt, in a private mount namespace when that is possible. */
static int mount_scratch_tmpfs(char *mnt, size_t len, const char *dir)
{
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	if (snprintf(mnt, len, "%s/mnt", dir) >= (int)len)
		return -1;
	if (mkdir(mnt, 0755))
		return -1;
	return mount("none", mnt, "tmpfs", 0, "size=1m,mode=0755");
}

/*
 * umount of a tmpfs with watched inodes (LTP inotify03): umount succeeds (watches do not pin the
 * mount), every watch on that sb gets UNMOUNT (ISDIR for dirs, as fsnotify_inode() adds it) and
 * then IGNORED; rm_watch afterwards is EINVAL. A watch on the mountpoint's parent, on another
 * filesystem, sees nothing. The order between the sb's watches is not specified.
 */
TEST_F(sev, umount_unmount_ignored)
{
	int wd_f, wd_root, wd_sub, wd_parent;
	char path[PATH_MAX];

	if (mount_scratch_tmpfs(self->mnt, sizeof(self->mnt), self->dir)) {
		if (errno == EPERM)
			SKIP(return, "mount needs CAP_SYS_ADMIN");
		ASSERT_TRUE(0) {
			TH_LOG("mount tmpfs: %s", strerror(errno));
		}
	}
	strcpy(path, pj(self->mnt, "f"));
	ASSERT_EQ(0, write_file(path, "x"));
	wd_f = variant->be->add_watch(self->fd, path, IN_ALL_EVENTS);
	ASSERT_EQ(1, wd_f);
	wd_root = variant->be->add_watch(self->fd, self->mnt, IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_root);
	strcpy(path, pj(self->mnt, "sub"));
	ASSERT_EQ(0, mkdir(path, 0755));
	wd_sub = variant->be->add_watch(self->fd, path, IN_MODIFY);	/* UNMOUNT is implicit */
	ASSERT_EQ(3, wd_sub);
	wd_parent = variant->be->add_watch(self->fd, self->dir, IN_ALL_EVENTS);
	ASSERT_EQ(4, wd_parent);
	ASSERT_EVENTS(self->fd, EV(wd_root, IN_CREATE | IN_ISDIR, "sub"));

	ASSERT_EQ(0, umount(self->mnt)) {
		TH_LOG("umount: %s", strerror(errno));
	}
	self->mnt[0] = 0;
	ASSERT_EVENTS_PER_WD(self->fd,
			     EV(wd_f, IN_UNMOUNT, NULL),
			     EV(wd_f, IN_IGNORED, NULL),
			     EV(wd_root, IN_UNMOUNT | IN_ISDIR, NULL),
			     EV(wd_root, IN_IGNORED, NULL),
			     EV(wd_sub, IN_UNMOUNT | IN_ISDIR, NULL),
			     EV(wd_sub, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd_f);
	ASSERT_RM_EINVAL(wd_root);
	ASSERT_RM_EINVAL(wd_sub);
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, wd_parent));
	ASSERT_EVENTS(self->fd, EV(wd_parent, IN_IGNORED, NULL));
}

/*
 * A watch whose mask has no UNMOUNT bit still gets UNMOUNT (inotify_arg_to_mask() always adds
 * it); a new tmpfs mounted at the same place is watched normally with the next wd.
 */
TEST_F(sev, umount_single_watch_then_remount)
{
	char path[PATH_MAX];
	int wd;

	if (mount_scratch_tmpfs(self->mnt, sizeof(self->mnt), self->dir)) {
		if (errno == EPERM)
			SKIP(return, "mount needs CAP_SYS_ADMIN");
		ASSERT_TRUE(0) {
			TH_LOG("mount tmpfs: %s", strerror(errno));
		}
	}
	strcpy(path, pj(self->mnt, "f"));
	ASSERT_EQ(0, write_file(path, "x"));
	wd = variant->be->add_watch(self->fd, path, IN_ATTRIB);
	ASSERT_EQ(1, wd);
	ASSERT_EQ(0, umount(self->mnt));
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_UNMOUNT, NULL),
		      EV(wd, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd);

	/* A new tmpfs at the same place: a new watch gets the next wd and works normally. */
	ASSERT_EQ(0, mount("none", self->mnt, "tmpfs", 0, "size=1m"));
	ASSERT_EQ(0, write_file(path, "x"));
	wd = variant->be->add_watch(self->fd, path, IN_ATTRIB);
	ASSERT_EQ(2, wd);
	ASSERT_EQ(0, chmod(path, 0600));
	ASSERT_EVENTS(self->fd, EV(wd, IN_ATTRIB, NULL));
	ASSERT_EQ(0, umount(self->mnt));
	self->mnt[0] = 0;
	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_UNMOUNT, NULL),
		      EV(wd, IN_IGNORED, NULL));
}

TEST_HARNESS_MAIN
