// SPDX-License-Identifier: GPL-2.0
/*
 * Watches on overlayfs, the filesystem containers run on: a merged directory and the files in it,
 * and the layers underneath (LTP inotify07 and inotify08). Lower layer on tmpfs (or ext2 on a
 * loop device), upper and work on tmpfs. Covered: a write to a lower-only file (copy-up), creates
 * and deletes in a merged directory, deleting a lower file (a whiteout in the upper layer), a
 * rename in the merged directory, events on the layers themselves against the merged view,
 * watches that survive dropped dentry caches, and umount of the overlay.
 *
 * Every case runs against the kernel's inotify and against /dev/rust_inotify; in both, a second,
 * kernel, instance watches the same inodes at the same time and must read the same records
 * (refcheck.h), however many events overlayfs's internals make on the layers. On top of that,
 * each case asserts what upstream gives:
 * - the merged view behaves like any filesystem: a write through it gives OPEN, MODIFY,
 *   CLOSE_WRITE on the merged inode and its merged parent, and nothing else (copy-up happens on
 *   the layers: fs/overlayfs/copy_up.c);
 * - the upper layer sees overlayfs's own calls: a regular file is copied up into an O_TMPFILE
 *   in the work dir and linked in (CREATE), then written through its backing file (OPEN, MODIFY,
 *   CLOSE_WRITE; fs/backing-file.c); a whiteout is a char device renamed in from the work dir
 *   (MOVED_TO; dir.c, ovl_cleanup_and_whiteout()); a rename of a lower file is a rename with
 *   RENAME_WHITEOUT (MOVED_FROM, MOVED_TO);
 * - the lower layer is only read (copy-up opens it: OPEN, CLOSE_NOWRITE) and never modified;
 * - events made directly on a layer are not seen by watches on the merged view.
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
#include <sys/sysmacros.h>
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

/* Changes that the merged view and the lower layer must never see from below / make. */
#define IN_CHANGES	(IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVE | IN_DELETE_SELF)

FIXTURE(ovl) {
	int fd;			/* the instance under test, non-blocking */
	int ref;		/* a kernel instance with the same watches: the reference */
	int loop;		/* loop device of the ext2 lower layer, or -1 */
	char dir[PATH_MAX];	/* scratch directory (tmpfs) */
	char lower[PATH_MAX];	/* lower layer: d/ d/f lf gone ren */
	char upper[PATH_MAX];	/* upper layer, empty at first */
	char work[PATH_MAX];	/* overlayfs's work dir */
	char merged[PATH_MAX];	/* the overlay mount */
	bool mounted;		/* the overlay is mounted */
	bool lower_mounted;	/* an ext2 filesystem is mounted on lower */
	struct stream st;	/* the stream last read from fd (and found equal to ref's) */
};

FIXTURE_VARIANT(ovl) {
	const struct backend *be;
};

BACKEND_VARIANTS(ovl);

#define D(name) pj(self->dir, name)
#define L(name) pj(self->lower, name)
#define U(name) pj(self->upper, name)
#define MG(name) pj(self->merged, name)

FIXTURE_SETUP(ovl)
{
	self->loop = -1;
	self->fd = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("%s: init: %s", variant->be->name, strerror(errno));
	}
	self->ref = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, self->ref);
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "ovl"));
	ASSERT_EQ(0, private_mounts()) {
		TH_LOG("private mount namespace: %s", strerror(errno));
	}
	scratch_path(self->lower, sizeof(self->lower), self->dir, "lower");
	scratch_path(self->upper, sizeof(self->upper), self->dir, "upper");
	scratch_path(self->work, sizeof(self->work), self->dir, "work");
	scratch_path(self->merged, sizeof(self->merged), self->dir, "merged");
	ASSERT_EQ(0, mkdir(self->lower, 0755));
	ASSERT_EQ(0, mkdir(self->upper, 0755));
	ASSERT_EQ(0, mkdir(self->work, 0755));
	ASSERT_EQ(0, mkdir(self->merged, 0755));
}

FIXTURE_TEARDOWN(ovl)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->ref >= 0)
		close(self->ref);
	if (self->mounted)
		umount2(self->merged, MNT_DETACH);
	if (self->lower_mounted)
		umount2(self->lower, MNT_DETACH);
	if (self->loop >= 0)
		close(self->loop);
	scratch_remove(self->dir);
}

/*
 * Fills the lower layer (on a fresh ext2 if @ext2_lower, else on the scratch tmpfs) and mounts
 * the overlay. Nothing is watched yet.
 */
static void ovl_mount(struct __test_metadata *_metadata, FIXTURE_DATA(ovl) *self,
		      bool ext2_lower)
{
	if (ext2_lower) {
		char dev[64];

		ASSERT_EQ(0, make_ext2_image(D("ext2.img"), IMAGE_KIB)) {
			TH_LOG("mke2fs %s: %s", D("ext2.img"), strerror(errno));
		}
		self->loop = loop_attach(D("ext2.img"), dev, sizeof(dev));
		ASSERT_LE(0, self->loop) {
			TH_LOG("loop device for %s: %s", D("ext2.img"), strerror(errno));
		}
		ASSERT_EQ(0, mount(dev, self->lower, "ext2", 0, NULL)) {
			TH_LOG("mount %s (ext2) on %s: %s", dev, self->lower, strerror(errno));
		}
		self->lower_mounted = true;
		ASSERT_EQ(0, chmod(self->lower, 0755));
		/* lost+found, made by mke2fs, is one more lower dir; it changes nothing here. */
	}
	ASSERT_EQ(0, mkdir(L("d"), 0755));
	ASSERT_EQ(0, write_file(L("d/f"), "lower"));
	ASSERT_EQ(0, write_file(L("lf"), "lower data"));
	ASSERT_EQ(0, write_file(L("gone"), "x"));
	ASSERT_EQ(0, write_file(L("ren"), "x"));
	ASSERT_EQ(0, mount_overlay(self->lower, self->upper, self->work, self->merged)) {
		TH_LOG("mount overlay on %s: %s", self->merged, strerror(errno));
	}
	self->mounted = true;
}

/* The same watch on both instances; returns the wd (the same on both). */
#define ADD(path, mask) dual_add(_metadata, variant->be, self->fd, self->ref, (path), (mask))

/* Drains both instances into self->st; they must have read the same records. */
#define READ_BOTH() ASSERT_SAME_AS_REF(self->fd, self->ref, &self->st)

/* rm_watch of @wd is EINVAL, on the instance under test and on the reference. */
#define ASSERT_RM_EINVAL(wd) do {						\
	ASSERT_EQ(-1, variant->be->rm_watch(self->fd, (wd)));			\
	ASSERT_EQ(EINVAL, errno);						\
	ASSERT_EQ(-1, inotify_rm_watch(self->ref, (wd)));			\
	ASSERT_EQ(EINVAL, errno);						\
} while (0)

/* @path holds exactly @data. */
static bool file_is(const char *path, const char *data)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)strlen(data) && !memcmp(buf, data, n);
}

/*
 * A write to a lower-only file through the merged view copies it up. The merged file and the
 * merged dir get exactly OPEN, MODIFY, CLOSE_WRITE; the upper dir sees the copy-up link (CREATE)
 * and the backing file's OPEN, MODIFY, CLOSE_WRITE; the lower layer is read (OPEN,
 * CLOSE_NOWRITE) and not changed. Later reads and writes go to the upper file alone.
 */
TEST_F_TIMEOUT(ovl, copy_up_on_write, SLOW_TIMEOUT)
{
	int wd_m, wd_mf, wd_u, wd_l, wd_lf;

	ovl_mount(_metadata, self, false);
	wd_m = ADD(self->merged, IN_ALL_EVENTS);
	wd_mf = ADD(MG("lf"), IN_ALL_EVENTS);
	wd_u = ADD(self->upper, IN_ALL_EVENTS);
	wd_l = ADD(self->lower, IN_ALL_EVENTS);
	wd_lf = ADD(L("lf"), IN_ALL_EVENTS);

	ASSERT_EQ(0, scratch_append(MG("lf")));
	READ_BOTH();
	ASSERT_WD_EVENTS(&self->st, wd_m,
			 EV(wd_m, IN_OPEN, "lf"), EV(wd_m, IN_MODIFY, "lf"),
			 EV(wd_m, IN_CLOSE_WRITE, "lf"));
	ASSERT_WD_EVENTS(&self->st, wd_mf,
			 EV(wd_mf, IN_OPEN, NULL), EV(wd_mf, IN_MODIFY, NULL),
			 EV(wd_mf, IN_CLOSE_WRITE, NULL));
	ASSERT_STREAM_HAS(&self->st,
			  EV(wd_u, IN_CREATE, "lf"), EV(wd_u, IN_OPEN, "lf"),
			  EV(wd_u, IN_MODIFY, "lf"), EV(wd_u, IN_CLOSE_WRITE, "lf"));
	ASSERT_STREAM_HAS(&self->st, EV(wd_l, IN_OPEN, "lf"), EV(wd_l, IN_CLOSE_NOWRITE, "lf"));
	ASSERT_WD_LACKS(&self->st, wd_l, IN_CHANGES);
	ASSERT_WD_LACKS(&self->st, wd_lf, IN_CHANGES);

	/* Copied up: a second write reaches the upper file directly, no CREATE this time. */
	ASSERT_EQ(0, scratch_append(MG("lf")));
	READ_BOTH();
	ASSERT_WD_EVENTS(&self->st, wd_mf,
			 EV(wd_mf, IN_OPEN, NULL), EV(wd_mf, IN_MODIFY, NULL),
			 EV(wd_mf, IN_CLOSE_WRITE, NULL));
	ASSERT_WD_EVENTS(&self->st, wd_u,
			 EV(wd_u, IN_OPEN, "lf"), EV(wd_u, IN_MODIFY, "lf"),
			 EV(wd_u, IN_CLOSE_WRITE, "lf"));
	ASSERT_WD_NO_EVENTS(&self->st, wd_l);
	ASSERT_WD_NO_EVENTS(&self->st, wd_lf);

	/* A read through the merged file is a read of the upper file (its backing file). */
	ASSERT_TRUE(file_is(MG("lf"), "lower dataxx"));
	READ_BOTH();
	ASSERT_WD_EVENTS(&self->st, wd_m,
			 EV(wd_m, IN_OPEN, "lf"), EV(wd_m, IN_ACCESS, "lf"),
			 EV(wd_m, IN_CLOSE_NOWRITE, "lf"));
	ASSERT_WD_EVENTS(&self->st, wd_mf,
			 EV(wd_mf, IN_OPEN, NULL), EV(wd_mf, IN_ACCESS, NULL),
			 EV(wd_mf, IN_CLOSE_NOWRITE, NULL));
	ASSERT_WD_EVENTS(&self->st, wd_u,
			 EV(wd_u, IN_OPEN, "lf"), EV(wd_u, IN_ACCESS, "lf"),
			 EV(wd_u, IN_CLOSE_NOWRITE, "lf"));
	ASSERT_WD_NO_EVENTS(&self->st, wd_l);
	ASSERT_WD_NO_EVENTS(&self->st, wd_lf);

	/* Not watched any more: the layers hold what they should. */
	ASSERT_EQ(0, close(self->fd));
	ASSERT_EQ(0, close(self->ref));
	self->fd = self->ref = -1;
	ASSERT_TRUE(file_is(U("lf"), "lower dataxx"));
	ASSERT_TRUE(file_is(L("lf"), "lower data"));
}

/*
 * Creates and deletes in a lower-only merged dir (which gets copied up on the first create):
 * the merged dir's watch gets exactly what any filesystem gives, its parent's gets nothing
 * (events go one level up only), and deleting a lower file from it is an ordinary DELETE.
 */
TEST_F_TIMEOUT(ovl, create_and_delete_in_merged_dir, SLOW_TIMEOUT)
{
	int wd_d, wd_m;
	struct stat st;

	ovl_mount(_metadata, self, false);
	wd_d = ADD(MG("d"), IN_ALL_EVENTS);
	wd_m = ADD(self->merged, IN_ALL_EVENTS);

	ASSERT_EQ(0, write_file(MG("d/new"), "x"));
	ASSERT_EQ(0, mkdir(MG("d/sub"), 0755));
	ASSERT_EQ(0, rmdir(MG("d/sub")));
	ASSERT_EQ(0, unlink(MG("d/new")));
	ASSERT_EQ(0, unlink(MG("d/f")));
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_d, IN_CREATE, "new"), EV(wd_d, IN_OPEN, "new"),
		      EV(wd_d, IN_MODIFY, "new"), EV(wd_d, IN_CLOSE_WRITE, "new"),
		      EV(wd_d, IN_CREATE | IN_ISDIR, "sub"), EV(wd_d, IN_DELETE | IN_ISDIR, "sub"),
		      EV(wd_d, IN_DELETE, "new"), EV(wd_d, IN_DELETE, "f"));
	ASSERT_WD_NO_EVENTS(&self->st, wd_m);
	ASSERT_EQ(-1, stat(MG("d/f"), &st));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(0, stat(L("d/f"), &st));
}

/*
 * Deleting a lower file through the merged view: on the merged side, the same as an unlink
 * anywhere (ATTRIB, DELETE_SELF, IGNORED on the file, DELETE on the dir; the wd is gone). On the
 * upper side, a whiteout renamed in (MOVED_TO). The lower layer is not touched. Creating the name
 * again is an ordinary CREATE in the merged dir.
 */
TEST_F_TIMEOUT(ovl, whiteout_of_lower_file, SLOW_TIMEOUT)
{
	int wd_m, wd_g, wd_u, wd_l;
	struct stat st;

	ovl_mount(_metadata, self, false);
	wd_m = ADD(self->merged, IN_ALL_EVENTS);
	wd_g = ADD(MG("gone"), IN_ALL_EVENTS);
	wd_u = ADD(self->upper, IN_ALL_EVENTS);
	wd_l = ADD(self->lower, IN_ALL_EVENTS);

	ASSERT_EQ(0, unlink(MG("gone")));
	READ_BOTH();
	ASSERT_WD_EVENTS(&self->st, wd_g,
			 EV(wd_g, IN_ATTRIB, NULL), EV(wd_g, IN_DELETE_SELF, NULL),
			 EV(wd_g, IN_IGNORED, NULL));
	ASSERT_WD_EVENTS(&self->st, wd_m, EV(wd_m, IN_DELETE, "gone"));
	ASSERT_WD_EVENTS(&self->st, wd_u, EVC(wd_u, IN_MOVED_TO, 1, "gone"));
	ASSERT_WD_NO_EVENTS(&self->st, wd_l);
	ASSERT_RM_EINVAL(wd_g);

	ASSERT_EQ(-1, stat(MG("gone"), &st));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(0, lstat(U("gone"), &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	ASSERT_EQ(0, stat(L("gone"), &st));

	ASSERT_EQ(0, write_file(MG("gone"), "again"));
	READ_BOTH();
	ASSERT_WD_EVENTS(&self->st, wd_m,
			 EV(wd_m, IN_CREATE, "gone"), EV(wd_m, IN_OPEN, "gone"),
			 EV(wd_m, IN_MODIFY, "gone"), EV(wd_m, IN_CLOSE_WRITE, "gone"));
	ASSERT_WD_LACKS(&self->st, wd_l, IN_ALL_EVENTS);
	ASSERT_TRUE(file_is(U("gone"), "again"));
}

/*
 * Renaming a lower file in the merged dir: MOVED_FROM, MOVED_TO with one cookie on the merged dir
 * and MOVE_SELF on the file, as anywhere. Underneath: copy-up (CREATE) and a rename with a
 * whiteout left behind, on the upper dir. The merged file's watch follows it to the new name.
 * Renaming a lower dir is refused and gives nothing.
 */
TEST_F_TIMEOUT(ovl, rename_lower_file_in_merged_dir, SLOW_TIMEOUT)
{
	int wd_m, wd_r, wd_u;
	struct stat st;

	ovl_mount(_metadata, self, false);
	wd_m = ADD(self->merged, IN_ALL_EVENTS);
	wd_r = ADD(MG("ren"), IN_ALL_EVENTS);
	wd_u = ADD(self->upper, IN_ALL_EVENTS);

	ASSERT_EQ(0, rename(MG("ren"), MG("ren2")));
	READ_BOTH();
	ASSERT_WD_EVENTS(&self->st, wd_m,
			 EVC(wd_m, IN_MOVED_FROM, 1, "ren"), EVC(wd_m, IN_MOVED_TO, 1, "ren2"));
	ASSERT_WD_EVENTS(&self->st, wd_r, EV(wd_r, IN_MOVE_SELF, NULL));
	ASSERT_STREAM_HAS(&self->st,
			  EV(wd_u, IN_CREATE, "ren"),
			  EVC(wd_u, IN_MOVED_FROM, 2, "ren"), EVC(wd_u, IN_MOVED_TO, 2, "ren2"));
	ASSERT_EQ(0, lstat(U("ren"), &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));

	ASSERT_EQ(0, chmod(MG("ren2"), 0600));
	READ_BOTH();
	ASSERT_WD_EVENTS(&self->st, wd_m, EV(wd_m, IN_ATTRIB, "ren2"));
	ASSERT_WD_EVENTS(&self->st, wd_r, EV(wd_r, IN_ATTRIB, NULL));
	ASSERT_WD_EVENTS(&self->st, wd_u, EV(wd_u, IN_ATTRIB, "ren2"));

	/*
	 * A lower dir cannot be renamed without redirect_dir (off by default): EXDEV, checked
	 * before any copy-up, so nothing happens anywhere.
	 */
	ASSERT_EQ(-1, rename(MG("d"), MG("d2")));
	ASSERT_EQ(EXDEV, errno);
	READ_BOTH();
	ASSERT_STREAM_EMPTY(&self->st);
}

/*
 * LTP inotify08's last check, and its converse: changes made directly on the lower or the upper
 * file are seen by watches on those files, never by the watch on the merged file; a change
 * through the merged file reaches the upper file's watch (overlayfs changes the upper inode).
 */
TEST_F_TIMEOUT(ovl, layer_events_not_in_merged_view, SLOW_TIMEOUT)
{
	int wd_mf, wd_lf, wd_uf;

	ovl_mount(_metadata, self, false);
	wd_mf = ADD(MG("lf"), IN_ALL_EVENTS);
	wd_lf = ADD(L("lf"), IN_ALL_EVENTS);

	ASSERT_EQ(0, chmod(L("lf"), 0600));
	READ_BOTH();
	ASSERT_STREAM(&self->st, EV(wd_lf, IN_ATTRIB, NULL));

	/* Copy-up by chmod: ATTRIB on the merged file; the lower file is only read. */
	ASSERT_EQ(0, chmod(MG("lf"), 0644));
	READ_BOTH();
	ASSERT_WD_EVENTS(&self->st, wd_mf, EV(wd_mf, IN_ATTRIB, NULL));
	ASSERT_WD_LACKS(&self->st, wd_lf, IN_CHANGES);

	wd_uf = ADD(U("lf"), IN_ALL_EVENTS);
	ASSERT_EQ(0, chmod(U("lf"), 0640));
	ASSERT_EQ(0, chmod(L("lf"), 0640));
	READ_BOTH();
	ASSERT_STREAM(&self->st, EV(wd_uf, IN_ATTRIB, NULL), EV(wd_lf, IN_ATTRIB, NULL));

	ASSERT_EQ(0, chmod(MG("lf"), 0600));
	READ_BOTH();
	ASSERT_WD_EVENTS(&self->st, wd_mf, EV(wd_mf, IN_ATTRIB, NULL));
	ASSERT_WD_EVENTS(&self->st, wd_uf, EV(wd_uf, IN_ATTRIB, NULL));
	ASSERT_WD_NO_EVENTS(&self->st, wd_lf);
}

/* Drops the dentry and inode caches (what is not pinned); returns 0 or -1. */
static int drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, "2", 1) != 1) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * LTP inotify07 and inotify08: a watch pins the merged inode, not its dentry. After the dentry
 * cache is dropped and the dir and the file are copied up, lookups find the watched inodes again
 * (overlayfs hashes them by lower inode), so the watches keep reporting.
 */
TEST_F_TIMEOUT(ovl, watches_survive_dropped_caches, SLOW_TIMEOUT)
{
	int wd_d, wd_f;

	ovl_mount(_metadata, self, false);
	wd_d = ADD(MG("d"), IN_ALL_EVENTS);
	wd_f = ADD(MG("lf"), IN_ALL_EVENTS);

	ASSERT_EQ(0, drop_caches()) {
		TH_LOG("drop_caches: %s", strerror(errno));
	}
	ASSERT_EQ(0, chmod(MG("d"), 0700));
	ASSERT_EQ(0, chmod(MG("lf"), 0600));
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_d, IN_ATTRIB | IN_ISDIR, NULL), EV(wd_f, IN_ATTRIB, NULL));

	ASSERT_EQ(0, scratch_append(MG("lf")));
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_f, IN_OPEN, NULL), EV(wd_f, IN_MODIFY, NULL),
		      EV(wd_f, IN_CLOSE_WRITE, NULL));

	/*
	 * Once more for the dir, now a merge dir (upper and lower): a fresh lookup finds its lower
	 * dir by name, and the inode hashed by it, after a second drop as well.
	 */
	ASSERT_EQ(0, drop_caches());
	ASSERT_EQ(0, scratch_append(MG("d/f")));
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_d, IN_OPEN, "f"), EV(wd_d, IN_MODIFY, "f"),
		      EV(wd_d, IN_CLOSE_WRITE, "f"));
}

/*
 * Lower layer on ext2 (loop device). umount of the overlay: each watch on the merged view gets
 * UNMOUNT then IGNORED, newest watch first (like any superblock: mount_test.c); watches on the
 * layers stay and see nothing. Then umount of the ext2 lower layer: its watched file gets UNMOUNT,
 * IGNORED.
 */
TEST_F_TIMEOUT(ovl, umount_overlay_then_ext2_lower, SLOW_TIMEOUT)
{
	int wd_m, wd_mf, wd_md, wd_u, wd_lf;

	ovl_mount(_metadata, self, true);
	wd_m = ADD(self->merged, IN_ALL_EVENTS);
	wd_mf = ADD(MG("lf"), IN_ALL_EVENTS);
	wd_md = ADD(MG("d"), IN_ALL_EVENTS);
	wd_u = ADD(self->upper, IN_ALL_EVENTS);
	wd_lf = ADD(L("lf"), IN_ALL_EVENTS);

	ASSERT_EQ(0, scratch_append(MG("lf")));
	READ_BOTH();
	ASSERT_WD_EVENTS(&self->st, wd_mf,
			 EV(wd_mf, IN_OPEN, NULL), EV(wd_mf, IN_MODIFY, NULL),
			 EV(wd_mf, IN_CLOSE_WRITE, NULL));
	ASSERT_STREAM_HAS(&self->st, EV(wd_u, IN_CREATE, "lf"), EV(wd_u, IN_MODIFY, "lf"));
	ASSERT_WD_LACKS(&self->st, wd_lf, IN_CHANGES);

	ASSERT_EQ(0, umount(self->merged)) {
		TH_LOG("umount overlay: %s", strerror(errno));
	}
	self->mounted = false;
	READ_BOTH();
	ASSERT_STREAM(&self->st,
		      EV(wd_md, IN_UNMOUNT | IN_ISDIR, NULL), EV(wd_md, IN_IGNORED, NULL),
		      EV(wd_mf, IN_UNMOUNT, NULL), EV(wd_mf, IN_IGNORED, NULL),
		      EV(wd_m, IN_UNMOUNT | IN_ISDIR, NULL), EV(wd_m, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd_m);
	ASSERT_RM_EINVAL(wd_mf);
	ASSERT_RM_EINVAL(wd_md);

	ASSERT_EQ(0, umount(self->lower)) {
		TH_LOG("umount ext2 lower: %s", strerror(errno));
	}
	self->lower_mounted = false;
	READ_BOTH();
	ASSERT_STREAM(&self->st, EV(wd_lf, IN_UNMOUNT, NULL), EV(wd_lf, IN_IGNORED, NULL));
	ASSERT_RM_EINVAL(wd_lf);

	/* The upper dir's watch (tmpfs) is still there. */
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, wd_u));
	ASSERT_EQ(0, inotify_rm_watch(self->ref, wd_u));
	READ_BOTH();
	ASSERT_STREAM(&self->st, EV(wd_u, IN_IGNORED, NULL));
}

TEST_HARNESS_MAIN
