// SPDX-License-Identifier: GPL-2.0
/*
 * Watches on a real block-device filesystem when it goes away: a loop-mounted ext2 (made in the
 * guest by busybox mke2fs) with watched inodes is unmounted (LTP inotify03; spec §1.3 and §1.10
 * "Self deletion / IN_IGNORED production"). Every watch on that superblock gets IN_UNMOUNT then
 * IN_IGNORED, and rm_watch of its wd is EINVAL afterwards. umount is refused while a file is open
 * (events keep coming); a lazy umount unmounts at the last close; unmounting a bind mount, a
 * read-only remount or a mount over a watched directory give no UNMOUNT to the watches that stay.
 *
 * Every case runs against the kernel's inotify and against /dev/rust_inotify; in both, a second,
 * kernel, instance watches the same inodes at the same time and must read the same records
 * (refcheck.h). The expected streams are upstream's:
 * - fsnotify_sb_delete() walks the sb's inode connectors (fs/notify/mark.c,
 *   fsnotify_unmount_inodes()) and, for each inode, sends FS_UNMOUNT and then destroys its marks,
 *   which queues IN_IGNORED; so each watch's UNMOUNT is followed at once by its IGNORED;
 * - connectors are list_add()ed at the head of the sb's list when an inode gets its first mark,
 *   so the inodes are walked newest watched first;
 * - fsnotify_inode() adds IN_ISDIR for directories.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
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
#include "mounts.h"
#include "refcheck.h"
#include "scratch.h"

#define IMAGE_KIB	2048

/*
 * Seconds per case, setup included (mke2fs, loop, mounts): the default 30 is short for a TCG
 * guest on a loaded machine (the 18 cases of mount_test have taken 97 s there).
 */
#define SLOW_TIMEOUT	120

FIXTURE(mnt) {
	int fd;			/* the instance under test, non-blocking */
	int ref;		/* a kernel instance with the same watches: the reference */
	int loop;		/* the loop device the image is attached to, or -1 */
	char dir[PATH_MAX];	/* scratch directory (tmpfs): the image, the mountpoint mnt/ */
	char dev[64];		/* the loop device's path */
	char mnt[PATH_MAX];	/* the ext2 mount: f (one byte), sub/ */
	bool mounted;		/* mnt is still mounted */
	struct stream st;	/* the stream last read from fd (and found equal to ref's) */
};

FIXTURE_VARIANT(mnt) {
	const struct backend *be;
};

BACKEND_VARIANTS(mnt);

#define D(name) pj(self->dir, name)
#define M(name) pj(self->mnt, name)

FIXTURE_SETUP(mnt)
{
	self->loop = -1;
	self->fd = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("%s: init: %s", variant->be->name, strerror(errno));
	}
	self->ref = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, self->ref);
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "mnt"));
	ASSERT_EQ(0, private_mounts()) {
		TH_LOG("private mount namespace: %s", strerror(errno));
	}
	ASSERT_EQ(0, make_ext2_image(D("ext2.img"), IMAGE_KIB)) {
		TH_LOG("mke2fs %s: %s", D("ext2.img"), strerror(errno));
	}
	self->loop = loop_attach(D("ext2.img"), self->dev, sizeof(self->dev));
	ASSERT_LE(0, self->loop) {
		TH_LOG("loop device for %s: %s", D("ext2.img"), strerror(errno));
	}
	scratch_path(self->mnt, sizeof(self->mnt), self->dir, "mnt");
	ASSERT_EQ(0, mkdir(self->mnt, 0755));
	ASSERT_EQ(0, mount(self->dev, self->mnt, "ext2", 0, NULL)) {
		TH_LOG("mount %s (ext2) on %s: %s", self->dev, self->mnt, strerror(errno));
	}
	self->mounted = true;
	ASSERT_EQ(0, write_file(M("f"), "x"));
	ASSERT_EQ(0, mkdir(M("sub"), 0755));
}

FIXTURE_TEARDOWN(mnt)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->ref >= 0)
		close(self->ref);
	if (self->mounted)
		umount2(self->mnt, MNT_DETACH);
	if (self->loop >= 0)
		close(self->loop);	/* autoclear: the device lets go of the image */
	scratch_remove(self->dir);
}

/* The same watch on both instances; returns the wd (the same on both). */
#define ADD(path, mask) dual_add(_metadata, variant->be, self->fd, self->ref, (path), (mask))

/* Drains both instances into self->st; they must have read the same records. */
#define READ_BOTH() ASSERT_SAME_AS_REF(self->fd, self->ref, &self->st)

#define UMOUNT_MNT() do {							\
	ASSERT_EQ(0, umount(self->mnt)) {					\
		TH_LOG("umount %s: %s", self->mnt, strerror(errno));		\
	}									\
	self->mounted = false;							\
} while (0)

/* rm_watch of @wd is EINVAL, on the instance under test and on the reference. */
#define ASSERT_RM_EINVAL(wd) do {						\
	ASSERT_EQ(-1, variant->be->rm_watch(self->fd, (wd)));			\
	ASSERT_EQ(EINVAL, errno);						\
	ASSERT_EQ(-1, inotify_rm_watch(self->ref, (wd)));			\
	ASSERT_EQ(EINVAL, errno);						\
} while (0)

/*
 * LTP inotify03 on ext2: the root of the fs, a file and a subdir watched (the subdir without
 * IN_UNMOUNT in its mask: it is always implied), and the mountpoint's parent on tmpfs. umount
 * succeeds (watches pin inodes, not the mount) and each ext2 watch gets UNMOUNT then IGNORED,
 * newest watch first; the tmpfs watch gets nothing and stays.
 */
TEST_F_TIMEOUT(mnt, umount_unmount_then_ignored, SLOW_TIMEOUT)
{
	int wd_root = ADD(self->mnt, IN_ALL_EVENTS);
	int wd_f = ADD(M("f"), IN_ALL_EVENTS);
	int wd_sub = ADD(M("sub"), IN_MODIFY);
	int wd_dir = ADD(self->dir, IN_ALL_EVENTS);

	ASSERT_EQ(1, wd_root);
	ASSERT_EQ(4, wd_dir);
	UMOUNT_MNT();
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_sub, IN_UNMOUNT | IN_ISDIR, NULL),
		      EV(wd_sub, IN_IGNORED, NULL),
		      EV(wd_f, IN_UNMOUNT, NULL),
		      EV(wd_f, IN_IGNORED, NULL),
		      EV(wd_root, IN_UNMOUNT | IN_ISDIR, NULL),
		      EV(wd_root, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd_root);
	ASSERT_RM_EINVAL(wd_f);
	ASSERT_RM_EINVAL(wd_sub);

	/* The watch on the other filesystem is alive and well. */
	ASSERT_EQ(0, write_file(D("g"), ""));
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_dir, IN_CREATE, "g"),
		      EV(wd_dir, IN_OPEN, "g"),
		      EV(wd_dir, IN_CLOSE_WRITE, "g"));
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, wd_dir));
	ASSERT_EQ(0, inotify_rm_watch(self->ref, wd_dir));
	READ_BOTH();
	ASSERT_STREAM(&self->st, EV(wd_dir, IN_IGNORED, NULL));
}

/* Events queued before the umount stay queued, in order, ahead of the UNMOUNTs. */
TEST_F_TIMEOUT(mnt, queued_events_survive_umount, SLOW_TIMEOUT)
{
	int wd_root = ADD(self->mnt, IN_ALL_EVENTS);
	int wd_f = ADD(M("f"), IN_ALL_EVENTS);

	ASSERT_EQ(0, scratch_append(M("f")));
	UMOUNT_MNT();
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_root, IN_OPEN, "f"), EV(wd_f, IN_OPEN, NULL),
		      EV(wd_root, IN_MODIFY, "f"), EV(wd_f, IN_MODIFY, NULL),
		      EV(wd_root, IN_CLOSE_WRITE, "f"), EV(wd_f, IN_CLOSE_WRITE, NULL),
		      EV(wd_f, IN_UNMOUNT, NULL), EV(wd_f, IN_IGNORED, NULL),
		      EV(wd_root, IN_UNMOUNT | IN_ISDIR, NULL), EV(wd_root, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd_root);
	ASSERT_RM_EINVAL(wd_f);
}

/*
 * A file of the fs held open: umount is refused with EBUSY and gives no event; the watches stay
 * and the open file's events keep coming. After the close the umount succeeds: UNMOUNT, IGNORED.
 */
TEST_F_TIMEOUT(mnt, umount_busy_while_file_open, SLOW_TIMEOUT)
{
	int wd_root = ADD(self->mnt, IN_ALL_EVENTS);
	int wd_f = ADD(M("f"), IN_ALL_EVENTS);
	int f = open(M("f"), O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, f);
	ASSERT_EQ(-1, umount(self->mnt));
	ASSERT_EQ(EBUSY, errno);
	READ_BOTH();
	ASSERT_STREAM(&self->st, EV(wd_root, IN_OPEN, "f"), EV(wd_f, IN_OPEN, NULL));

	ASSERT_EQ(1, write(f, "y", 1));
	READ_BOTH();
	ASSERT_STREAM(&self->st, EV(wd_root, IN_MODIFY, "f"), EV(wd_f, IN_MODIFY, NULL));
	ASSERT_EQ(0, close(f));
	ASSERT_EQ(0, chmod(M("f"), 0600));
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_root, IN_CLOSE_WRITE, "f"), EV(wd_f, IN_CLOSE_WRITE, NULL),
		      EV(wd_root, IN_ATTRIB, "f"), EV(wd_f, IN_ATTRIB, NULL));

	UMOUNT_MNT();
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_f, IN_UNMOUNT, NULL), EV(wd_f, IN_IGNORED, NULL),
		      EV(wd_root, IN_UNMOUNT | IN_ISDIR, NULL), EV(wd_root, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd_root);
	ASSERT_RM_EINVAL(wd_f);
}

/*
 * umount -l while a file is open: the mount is gone from the tree at once, but the superblock
 * lives until the open file lets go of it, so no UNMOUNT yet and the file's events still come
 * (to the root's watch too: the dentry tree is intact). The last close gives CLOSE_WRITE, then
 * the superblock goes (before close() returns: the last mntput's cleanup is task work run on the
 * way back to user space), and UNMOUNT, IGNORED follow.
 */
TEST_F_TIMEOUT(mnt, lazy_umount_unmounts_at_last_close, SLOW_TIMEOUT)
{
	int wd_root = ADD(self->mnt, IN_ALL_EVENTS);
	int wd_f = ADD(M("f"), IN_ALL_EVENTS);
	struct stat st;
	int f = open(M("f"), O_WRONLY | O_CLOEXEC);

	ASSERT_LE(0, f);
	ASSERT_EQ(0, umount2(self->mnt, MNT_DETACH));
	self->mounted = false;
	ASSERT_EQ(-1, stat(M("f"), &st));	/* the empty mountpoint underneath */
	ASSERT_EQ(ENOENT, errno);
	READ_BOTH();
	ASSERT_STREAM(&self->st, EV(wd_root, IN_OPEN, "f"), EV(wd_f, IN_OPEN, NULL));

	ASSERT_EQ(1, write(f, "y", 1));
	READ_BOTH();
	ASSERT_STREAM(&self->st, EV(wd_root, IN_MODIFY, "f"), EV(wd_f, IN_MODIFY, NULL));

	ASSERT_EQ(0, close(f));
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_root, IN_CLOSE_WRITE, "f"), EV(wd_f, IN_CLOSE_WRITE, NULL),
		      EV(wd_f, IN_UNMOUNT, NULL), EV(wd_f, IN_IGNORED, NULL),
		      EV(wd_root, IN_UNMOUNT | IN_ISDIR, NULL), EV(wd_root, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd_root);
	ASSERT_RM_EINVAL(wd_f);
}

/*
 * Two mounts of one superblock (a bind mount): the same inode through either path is the same
 * watch; unmounting one of them gives nothing, the superblock stays; unmounting the last gives
 * UNMOUNT, IGNORED.
 */
TEST_F_TIMEOUT(mnt, bind_mount_umount_gives_nothing, SLOW_TIMEOUT)
{
	char bind[PATH_MAX];
	int wd_root, wd_f;

	scratch_path(bind, sizeof(bind), self->dir, "bind");
	ASSERT_EQ(0, mkdir(bind, 0755));
	ASSERT_EQ(0, mount(self->mnt, bind, NULL, MS_BIND, NULL)) {
		TH_LOG("bind mount: %s", strerror(errno));
	}
	wd_root = ADD(self->mnt, IN_ALL_EVENTS);
	wd_f = ADD(M("f"), IN_ALL_EVENTS);
	ASSERT_EQ(wd_f, ADD(pj(bind, "f"), IN_ALL_EVENTS));
	ASSERT_EQ(wd_root, ADD(bind, IN_ALL_EVENTS));

	ASSERT_EQ(0, umount(bind));
	READ_BOTH();
	ASSERT_STREAM_EMPTY(&self->st);
	ASSERT_EQ(0, chmod(M("f"), 0600));
	READ_BOTH();
	ASSERT_STREAM(&self->st, EV(wd_root, IN_ATTRIB, "f"), EV(wd_f, IN_ATTRIB, NULL));

	UMOUNT_MNT();
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_f, IN_UNMOUNT, NULL), EV(wd_f, IN_IGNORED, NULL),
		      EV(wd_root, IN_UNMOUNT | IN_ISDIR, NULL), EV(wd_root, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd_root);
	ASSERT_RM_EINVAL(wd_f);
}

/*
 * A read-only remount is not an unmount: no event, the watches stay. A refused write open gives
 * no event; a read gives OPEN, ACCESS, CLOSE_NOWRITE as usual; the umount then UNMOUNT, IGNORED.
 */
TEST_F_TIMEOUT(mnt, remount_read_only_gives_nothing, SLOW_TIMEOUT)
{
	int wd_root = ADD(self->mnt, IN_ALL_EVENTS);
	int wd_f = ADD(M("f"), IN_ALL_EVENTS);
	char c;
	int f;

	ASSERT_EQ(0, mount(NULL, self->mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL)) {
		TH_LOG("remount ro: %s", strerror(errno));
	}
	ASSERT_EQ(-1, open(M("f"), O_WRONLY | O_CLOEXEC));
	ASSERT_EQ(EROFS, errno);
	ASSERT_EQ(-1, chmod(M("f"), 0600));
	ASSERT_EQ(EROFS, errno);
	READ_BOTH();
	ASSERT_STREAM_EMPTY(&self->st);

	f = open(M("f"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, f);
	ASSERT_EQ(1, read(f, &c, 1));
	ASSERT_EQ(0, close(f));
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_root, IN_OPEN, "f"), EV(wd_f, IN_OPEN, NULL),
		      EV(wd_root, IN_ACCESS, "f"), EV(wd_f, IN_ACCESS, NULL),
		      EV(wd_root, IN_CLOSE_NOWRITE, "f"), EV(wd_f, IN_CLOSE_NOWRITE, NULL));

	UMOUNT_MNT();
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_f, IN_UNMOUNT, NULL), EV(wd_f, IN_IGNORED, NULL),
		      EV(wd_root, IN_UNMOUNT | IN_ISDIR, NULL), EV(wd_root, IN_IGNORED, NULL));
}

/*
 * A tmpfs mounted over a watched ext2 directory: the same path now names the tmpfs root, a
 * different inode and a new wd. Its events go to the new watch only; its umount gives UNMOUNT,
 * IGNORED to that watch only; the covered ext2 directory's watch then reports again.
 */
TEST_F_TIMEOUT(mnt, mount_over_watched_dir, SLOW_TIMEOUT)
{
	int wd_sub = ADD(M("sub"), IN_ALL_EVENTS);
	int wd_top;

	ASSERT_EQ(0, mount("none", M("sub"), "tmpfs", 0, "size=1m")) {
		TH_LOG("mount tmpfs on %s: %s", M("sub"), strerror(errno));
	}
	READ_BOTH();
	ASSERT_STREAM_EMPTY(&self->st);
	wd_top = ADD(M("sub"), IN_ALL_EVENTS);
	ASSERT_NE(wd_sub, wd_top);

	ASSERT_EQ(0, write_file(M("sub/t"), "x"));
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_top, IN_CREATE, "t"), EV(wd_top, IN_OPEN, "t"),
		      EV(wd_top, IN_MODIFY, "t"), EV(wd_top, IN_CLOSE_WRITE, "t"));

	ASSERT_EQ(0, umount(M("sub")));
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_top, IN_UNMOUNT | IN_ISDIR, NULL), EV(wd_top, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd_top);

	ASSERT_EQ(0, write_file(M("sub/u"), "x"));
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_sub, IN_CREATE, "u"), EV(wd_sub, IN_OPEN, "u"),
		      EV(wd_sub, IN_MODIFY, "u"), EV(wd_sub, IN_CLOSE_WRITE, "u"));
}

/*
 * An instance closed with watches and queued events on the fs: its marks go with it, so the
 * umount neither waits for them nor finds an inode still referenced (the debug kernel reports
 * busy inodes after unmount), and a kernel instance that stays open still gets its UNMOUNT and
 * IGNORED for the same inodes. Three rounds, the fs mounted again each time.
 */
TEST_F_TIMEOUT(mnt, umount_after_instance_closed, SLOW_TIMEOUT)
{
	for (int round = 0; round < 3; round++) {
		int fd = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
		int ref = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

		ASSERT_LE(0, fd);
		ASSERT_LE(0, ref);
		ASSERT_EQ(1, dual_add(_metadata, variant->be, fd, ref, self->mnt, IN_ALL_EVENTS));
		ASSERT_EQ(2, dual_add(_metadata, variant->be, fd, ref, M("f"), IN_ALL_EVENTS));
		ASSERT_EQ(3, dual_add(_metadata, variant->be, fd, ref, M("sub"), IN_ALL_EVENTS));
		ASSERT_EQ(0, scratch_append(M("f")));
		ASSERT_EQ(0, close(fd));

		UMOUNT_MNT();
		self->st.n = drain_events(ref, self->st.evs, MAX_EVENTS);
		ASSERT_STREAM(&self->st,
			      EV(1, IN_OPEN, "f"), EV(2, IN_OPEN, NULL),
			      EV(1, IN_MODIFY, "f"), EV(2, IN_MODIFY, NULL),
			      EV(1, IN_CLOSE_WRITE, "f"), EV(2, IN_CLOSE_WRITE, NULL),
			      EV(3, IN_UNMOUNT | IN_ISDIR, NULL), EV(3, IN_IGNORED, NULL),
			      EV(2, IN_UNMOUNT, NULL), EV(2, IN_IGNORED, NULL),
			      EV(1, IN_UNMOUNT | IN_ISDIR, NULL), EV(1, IN_IGNORED, NULL));
		ASSERT_EQ(0, close(ref));

		ASSERT_EQ(0, mount(self->dev, self->mnt, "ext2", 0, NULL)) {
			TH_LOG("mount %s again: %s", self->dev, strerror(errno));
		}
		self->mounted = true;
	}
}

#define NR_FILES 64

/* Many watched inodes: one UNMOUNT, IGNORED pair per watch, newest watch first, none lost. */
TEST_F_TIMEOUT(mnt, umount_many_watches, SLOW_TIMEOUT)
{
	static struct xev x[2 * NR_FILES];
	char name[16];
	int m = 0;

	for (int i = 1; i <= NR_FILES; i++) {
		snprintf(name, sizeof(name), "n%02d", i);
		ASSERT_EQ(0, write_file(M(name), ""));
		ASSERT_EQ(i, ADD(M(name), IN_ATTRIB));
	}
	UMOUNT_MNT();
	READ_BOTH();
	for (int wd = NR_FILES; wd >= 1; wd--) {
		x[m++] = (struct xev)EV(wd, IN_UNMOUNT, NULL);
		x[m++] = (struct xev)EV(wd, IN_IGNORED, NULL);
	}
	refcheck_all(_metadata, __LINE__, &self->st, x, m);
	for (int wd = 1; wd <= NR_FILES; wd++)
		ASSERT_RM_EINVAL(wd);
}

TEST_HARNESS_MAIN
