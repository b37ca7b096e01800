// SPDX-License-Identifier: GPL-2.0
/*
 * add_watch and rm_watch: argument validation and its order, path resolution (relative paths,
 * ONLYDIR, DONT_FOLLOW, permissions), wd numbering and reuse of the existing watch of an inode,
 * mask replace/add/create semantics, IN_IGNORED on removal, and the max_user_watches limit.
 * Each case runs against the kernel's inotify and /dev/rust_inotify; both must agree.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "events.h"
#include "scratch.h"
#include "user_limits.h"

/* uids nothing else runs as; nobody is the guest's unprivileged user. */
#define WATCHES_UID	12346
#define NOBODY_UID	65534

/* Linux 7.3 uapi, newer than the C library's headers. */
#ifndef UNSHARE_EMPTY_MNTNS
#define UNSHARE_EMPTY_MNTNS	0x00100000
#endif
#ifndef NULL_FS_MAGIC
#define NULL_FS_MAGIC		0x4E554C4C
#endif

/* Exit status of the nullfs child when the kernel has no empty mount namespaces. */
#define NO_EMPTY_MNTNS	2

/* Paths in the scratch dir. */
enum {
	P_A,		/* file */
	P_B,		/* file */
	P_C,		/* file */
	P_D,		/* dir */
	P_L,		/* symlink to a */
	P_H,		/* hardlink of a */
	P_LD,		/* symlink to d */
	P_DANGLING,	/* symlink to nothing */
	P_DOTDOT,	/* "d/../a": a through another path */
	P_MISSING,	/* does not exist */
	P_SECRET,	/* root's 0600 file */
	P_CLOSED,	/* root's 0700 dir ... */
	P_CLOSED_F,	/* ... and a 0644 file in it */
	P_COUNT
};

static const char *const names[P_COUNT] = {
	"a", "b", "c", "d", "l", "h", "ld", "dangling", "d/../a", "missing",
	"secret", "closed", "closed/f",
};

FIXTURE(watch) {
	char dir[PATH_MAX];
	char p[P_COUNT][PATH_MAX];
	int fd;
};

FIXTURE_VARIANT(watch) {
	const struct backend *be;
};

BACKEND_VARIANTS(watch);

FIXTURE_SETUP(watch)
{
	int err = 0;

	/* The teardown does not run after a failed setup: fail before making files. */
	self->fd = variant->be->init(O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("init: %s", strerror(errno));
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "watch"));
	for (int i = 0; i < P_COUNT; i++)
		scratch_path(self->p[i], sizeof(self->p[i]), self->dir, names[i]);
	err |= scratch_file(self->p[P_A], 0644);
	err |= scratch_file(self->p[P_B], 0644);
	err |= scratch_file(self->p[P_C], 0644);
	err |= mkdir(self->p[P_D], 0755);
	err |= symlink("a", self->p[P_L]);
	err |= link(self->p[P_A], self->p[P_H]);
	err |= symlink("d", self->p[P_LD]);
	err |= symlink("nothing-here", self->p[P_DANGLING]);
	err |= scratch_file(self->p[P_SECRET], 0600);
	err |= mkdir(self->p[P_CLOSED], 0700);
	err |= scratch_file(self->p[P_CLOSED_F], 0644);
	if (err)
		scratch_remove(self->dir);
	ASSERT_EQ(0, err);
}

/* In the parent: the test forks children that drop privileges. */
FIXTURE_TEARDOWN_PARENT(watch)
{
	scratch_remove(self->dir);
}

#define ADD(path, mask) variant->be->add_watch(self->fd, (path), (mask))
#define RM(wd) variant->be->rm_watch(self->fd, (wd))

/* Reads everything queued and checks it is exactly the @n events in @want (name ignored). */
static void expect_events(struct __test_metadata *_metadata, int fd, const struct ev *want,
			  int n)
{
	struct ev got[MAX_EVENTS];
	int m = drain_events(fd, got, MAX_EVENTS);

	ASSERT_LE(0, m) TH_LOG("drain: %s", strerror(errno));
	ASSERT_EQ(n, m) TH_LOG("got: %s", fmt_events(got, m));
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(want[i].wd, got[i].wd) TH_LOG("event %d of %s", i, fmt_events(got, m));
		EXPECT_EQ(want[i].mask, got[i].mask) TH_LOG("event %d of %s", i,
							    fmt_events(got, m));
		EXPECT_EQ(0, got[i].cookie);
	}
}

#define EXPECT_EVENTS(...) do {						\
	const struct ev _want[] = { __VA_ARGS__ };			\
	expect_events(_metadata, self->fd, _want,			\
		      sizeof(_want) / sizeof(_want[0]));		\
} while (0)
#define EXPECT_NO_EVENTS() expect_events(_metadata, self->fd, NULL, 0)

static void expect_einval(struct __test_metadata *_metadata, int ret, const char *what)
{
	EXPECT_EQ(-1, ret) TH_LOG("%s", what);
	EXPECT_EQ(EINVAL, errno) TH_LOG("%s: %s", what, strerror(errno));
}

/* ---- mask validation ---- */

TEST_F(watch, mask_zero_einval)
{
	expect_einval(_metadata, ADD(self->p[P_A], 0), "mask 0");
	/* Nothing was created: the first watch is still wd 1. */
	EXPECT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
}

TEST_F(watch, mask_unknown_bits_einval)
{
	static const uint32_t bad[] = {
		0x08000000, 0x00001000, 0x00010000, 0x00800000,
		IN_MODIFY | 0x08000000, IN_MODIFY | 0x00001000,
	};
	char what[32];

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(what, sizeof(what), "mask %#x", bad[i]);
		expect_einval(_metadata, ADD(self->p[P_A], bad[i]), what);
	}
	EXPECT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
}

TEST_F(watch, mask_add_with_mask_create_einval)
{
	expect_einval(_metadata, ADD(self->p[P_A], IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE),
		      "MASK_ADD|MASK_CREATE on a new inode");
	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	expect_einval(_metadata, ADD(self->p[P_A], IN_ATTRIB | IN_MASK_ADD | IN_MASK_CREATE),
		      "MASK_ADD|MASK_CREATE on a watched inode");
	/* The failed call left the mask alone. */
	ASSERT_EQ(0, chmod(self->p[P_A], 0640));
	ASSERT_EQ(0, scratch_append(self->p[P_A]));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_MODIFY });
}

/* The mask is checked before the path is looked up or even read. */
TEST_F(watch, mask_checked_before_path)
{
	expect_einval(_metadata, ADD(self->p[P_MISSING], 0), "mask 0, missing path");
	expect_einval(_metadata, ADD(NULL, 0), "mask 0, NULL path");
	expect_einval(_metadata, ADD(NULL, 0x00001000), "bad bit, NULL path");
	expect_einval(_metadata, ADD(self->p[P_MISSING], IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE),
		      "MASK_ADD|MASK_CREATE, missing path");
	expect_einval(_metadata, ADD(NULL, IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE),
		      "MASK_ADD|MASK_CREATE, NULL path");
}

/* Any bit of ALL_INOTIFY_BITS makes a valid mask, even one that selects no event. */
TEST_F(watch, flag_only_masks_accepted)
{
	char p[PATH_MAX];

	EXPECT_EQ(1, ADD(self->p[P_A], IN_ISDIR));
	EXPECT_EQ(2, ADD(self->p[P_B], IN_IGNORED));
	EXPECT_EQ(3, ADD(self->p[P_C], IN_Q_OVERFLOW));
	EXPECT_EQ(4, ADD(self->p[P_D], IN_UNMOUNT));
	EXPECT_EQ(5, ADD(self->p[P_SECRET], IN_ONESHOT));
	EXPECT_EQ(4, ADD(self->p[P_D], IN_ONLYDIR));
	/* They select nothing: no event but the IN_IGNORED of a removal. */
	ASSERT_EQ(0, scratch_append(self->p[P_A]));
	ASSERT_EQ(0, chmod(self->p[P_B], 0640));
	ASSERT_EQ(0, scratch_append(self->p[P_C]));
	ASSERT_EQ(0, mkdir(scratch_path(p, sizeof(p), self->p[P_D], "x"), 0755));
	EXPECT_NO_EVENTS();
	ASSERT_EQ(0, RM(1));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_IGNORED });
}

TEST_F(watch, isdir_on_file_accepted)
{
	EXPECT_EQ(1, ADD(self->p[P_A], IN_ISDIR));
	ASSERT_EQ(0, scratch_append(self->p[P_A]));
	EXPECT_NO_EVENTS();
}

/* ---- path resolution ---- */

TEST_F(watch, missing_path_enoent)
{
	char p[PATH_MAX];

	EXPECT_EQ(-1, ADD(self->p[P_MISSING], IN_MODIFY));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, ADD("", IN_MODIFY));
	EXPECT_EQ(ENOENT, errno);
	/* A file used as a directory. */
	EXPECT_EQ(-1, ADD(scratch_path(p, sizeof(p), self->p[P_A], "x"), IN_MODIFY));
	EXPECT_EQ(ENOTDIR, errno);
	EXPECT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
}

TEST_F(watch, bad_path_pointer_efault)
{
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, page);
	EXPECT_EQ(-1, ADD(NULL, IN_MODIFY));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ADD((const char *)page, IN_MODIFY));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	munmap(page, 4096);
}

TEST_F(watch, relative_path_from_cwd)
{
	ASSERT_EQ(0, chdir(self->dir));
	EXPECT_EQ(1, ADD("a", IN_MODIFY));
	EXPECT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	EXPECT_EQ(2, ADD("./d/../b", IN_MODIFY));
	EXPECT_EQ(3, ADD("d", IN_CREATE));
	ASSERT_EQ(0, chdir(self->p[P_D]));
	EXPECT_EQ(1, ADD("../a", IN_MODIFY));
	EXPECT_EQ(3, ADD(".", IN_CREATE));
	EXPECT_EQ(-1, ADD("a", IN_MODIFY));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(watch, onlydir)
{
	EXPECT_EQ(-1, ADD(self->p[P_A], IN_MODIFY | IN_ONLYDIR));
	EXPECT_EQ(ENOTDIR, errno);
	EXPECT_EQ(-1, ADD(self->p[P_L], IN_MODIFY | IN_ONLYDIR));
	EXPECT_EQ(ENOTDIR, errno);
	EXPECT_EQ(1, ADD(self->p[P_D], IN_CREATE | IN_ONLYDIR));
	/* A symlink to a dir is followed, so it is the same dir. */
	EXPECT_EQ(1, ADD(self->p[P_LD], IN_CREATE | IN_ONLYDIR));
	/* Unless it is not followed: then it is a symlink, not a dir. */
	EXPECT_EQ(-1, ADD(self->p[P_LD], IN_CREATE | IN_ONLYDIR | IN_DONT_FOLLOW));
	EXPECT_EQ(ENOTDIR, errno);
}

TEST_F(watch, dont_follow_watches_the_link)
{
	int wf, wl;

	wf = ADD(self->p[P_A], IN_ALL_EVENTS);
	ASSERT_EQ(1, wf);
	/* Without DONT_FOLLOW the link leads to a's watch. */
	EXPECT_EQ(wf, ADD(self->p[P_L], IN_ALL_EVENTS));
	wl = ADD(self->p[P_L], IN_ALL_EVENTS | IN_DONT_FOLLOW);
	ASSERT_EQ(2, wl);
	EXPECT_EQ(wl, ADD(self->p[P_L], IN_ALL_EVENTS | IN_DONT_FOLLOW));

	/* Events on the target are reported to the target's watch only. */
	ASSERT_EQ(0, chmod(self->p[P_A], 0640));
	EXPECT_EVENTS({ .wd = wf, .mask = IN_ATTRIB });

	/* Events on the link inode itself go to the link's watch. */
	ASSERT_EQ(0, lchown(self->p[P_L], 0, 0));
	EXPECT_EVENTS({ .wd = wl, .mask = IN_ATTRIB });
}

TEST_F(watch, dont_follow_dangling_link)
{
	EXPECT_EQ(-1, ADD(self->p[P_DANGLING], IN_ATTRIB));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(1, ADD(self->p[P_DANGLING], IN_ATTRIB | IN_DONT_FOLLOW));
}

static void unprivileged_adds(struct __test_metadata *_metadata, const struct backend *be,
			      const char *dir)
{
	int fd;

	ASSERT_EQ(0, chdir(dir));
	ASSERT_EQ(0, drop_to_uid(NOBODY_UID));
	fd = be->init(O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("init as uid %d: %s", NOBODY_UID, strerror(errno));
	/* No read permission on the inode. */
	EXPECT_EQ(-1, be->add_watch(fd, "secret", IN_MODIFY));
	EXPECT_EQ(EACCES, errno);
	/* No search permission on the directory. */
	EXPECT_EQ(-1, be->add_watch(fd, "closed/f", IN_MODIFY));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, be->add_watch(fd, "closed", IN_CREATE | IN_ONLYDIR));
	EXPECT_EQ(EACCES, errno);
	/* Readable things are fine, and the refusals did not use up wds. */
	EXPECT_EQ(1, be->add_watch(fd, "a", IN_MODIFY));
	EXPECT_EQ(2, be->add_watch(fd, ".", IN_CREATE));
	EXPECT_EQ(0, close(fd));
}

TEST_F(watch, no_read_permission_eacces)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unprivileged_adds(_metadata, variant->be, self->dir);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child died with status 0x%x", status);
	/* root may watch it. */
	EXPECT_EQ(1, ADD(self->p[P_SECRET], IN_MODIFY));
}

/* ---- filesystems that refuse marks ---- */

/*
 * In an empty mount namespace (7.3) "/" and the cwd are the nullfs root, whose type has
 * FS_DISALLOW_NOTIFY (as has the knullfs cover of the mount_cover selftest). Runs in a child:
 * the unshare() changes the root and cwd for good.
 */
static void add_on_nullfs(struct __test_metadata *_metadata, const struct backend *be, int fd)
{
	struct statfs st;

	if (unshare(UNSHARE_EMPTY_MNTNS))
		_exit(errno == EINVAL ? NO_EMPTY_MNTNS : 1);
	ASSERT_EQ(0, statfs("/", &st));
	ASSERT_EQ(NULL_FS_MAGIC, st.f_type);
	EXPECT_EQ(-1, be->add_watch(fd, "/", IN_OPEN));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, be->add_watch(fd, ".", IN_ALL_EVENTS | IN_ONLYDIR));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * fsnotify_add_inode_mark_locked() refuses with EINVAL after the wd was allocated: the two
 * refusals used up wds 1 and 2 (the instance is the same open file in the child and here), and
 * queued nothing.
 */
TEST_F(watch, disallow_notify_fs_einval)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		add_on_nullfs(_metadata, variant->be, self->fd);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child died with status 0x%x", status);
	if (WEXITSTATUS(status) == NO_EMPTY_MNTNS)
		SKIP(return, "no UNSHARE_EMPTY_MNTNS (kernel older than 7.3)");
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("unshare(UNSHARE_EMPTY_MNTNS) failed");
	EXPECT_NO_EVENTS();
	EXPECT_EQ(3, ADD(self->p[P_A], IN_MODIFY));
}

/* ---- wd numbering and existing watches ---- */

TEST_F(watch, wds_start_at_one)
{
	EXPECT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	EXPECT_EQ(2, ADD(self->p[P_B], IN_MODIFY));
	EXPECT_EQ(3, ADD(self->p[P_C], IN_MODIFY));
	EXPECT_EQ(4, ADD(self->p[P_D], IN_CREATE));
}

TEST_F(watch, same_inode_same_wd)
{
	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	ASSERT_EQ(2, ADD(self->p[P_B], IN_MODIFY));
	EXPECT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	EXPECT_EQ(1, ADD(self->p[P_H], IN_MODIFY));
	EXPECT_EQ(1, ADD(self->p[P_DOTDOT], IN_ATTRIB));
	EXPECT_EQ(1, ADD(self->p[P_L], IN_MODIFY));
	/* A new inode after all that still gets the next wd. */
	EXPECT_EQ(3, ADD(self->p[P_C], IN_MODIFY));
}

/* Each instance has its own watches and numbering. */
TEST_F(watch, instances_independent)
{
	int fd2 = variant->be->init(O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd2);
	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	ASSERT_EQ(2, ADD(self->p[P_B], IN_MODIFY));
	EXPECT_EQ(1, variant->be->add_watch(fd2, self->p[P_B], IN_MODIFY));
	EXPECT_EQ(2, variant->be->add_watch(fd2, self->p[P_A], IN_MODIFY));
	/* rm in one instance does not touch the other. */
	ASSERT_EQ(0, variant->be->rm_watch(fd2, 2));
	EXPECT_EQ(-1, variant->be->rm_watch(fd2, 2));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, scratch_append(self->p[P_A]));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_MODIFY });
	EXPECT_EQ(0, close(fd2));
}

TEST_F(watch, mask_create_existing_eexist)
{
	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	EXPECT_EQ(-1, ADD(self->p[P_A], IN_ATTRIB | IN_MASK_CREATE));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, ADD(self->p[P_H], IN_ATTRIB | IN_MASK_CREATE));
	EXPECT_EQ(EEXIST, errno);
	/* A new inode is fine with MASK_CREATE. */
	EXPECT_EQ(2, ADD(self->p[P_B], IN_ATTRIB | IN_MASK_CREATE));
	/* The refused calls left a's mask as it was. */
	ASSERT_EQ(0, chmod(self->p[P_A], 0640));
	ASSERT_EQ(0, scratch_append(self->p[P_A]));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_MODIFY });
	/* An EEXIST does not consume a wd. */
	EXPECT_EQ(3, ADD(self->p[P_C], IN_MODIFY));
}

TEST_F(watch, readd_replaces_mask)
{
	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	ASSERT_EQ(1, ADD(self->p[P_A], IN_ATTRIB));
	ASSERT_EQ(0, scratch_append(self->p[P_A]));
	ASSERT_EQ(0, chmod(self->p[P_A], 0640));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_ATTRIB });
}

TEST_F(watch, mask_add_ors)
{
	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	ASSERT_EQ(1, ADD(self->p[P_A], IN_ATTRIB | IN_MASK_ADD));
	ASSERT_EQ(0, scratch_append(self->p[P_A]));
	ASSERT_EQ(0, chmod(self->p[P_A], 0640));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_MODIFY }, { .wd = 1, .mask = IN_ATTRIB });
}

TEST_F(watch, readd_clears_oneshot)
{
	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY | IN_ONESHOT));
	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	ASSERT_EQ(0, scratch_append(self->p[P_A]));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_MODIFY });
	ASSERT_EQ(0, scratch_append(self->p[P_A]));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_MODIFY });
	EXPECT_EQ(0, RM(1));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_IGNORED });
}

TEST_F(watch, mask_add_keeps_oneshot)
{
	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY | IN_ONESHOT));
	ASSERT_EQ(1, ADD(self->p[P_A], IN_ATTRIB | IN_MASK_ADD));
	ASSERT_EQ(0, chmod(self->p[P_A], 0640));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_ATTRIB }, { .wd = 1, .mask = IN_IGNORED });
	EXPECT_EQ(-1, RM(1));
	EXPECT_EQ(EINVAL, errno);
}

/* Writes to a after unlinking it (through an fd opened before) and closes. */
static int write_after_unlink(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || unlink(path) < 0 || write(fd, "x", 1) != 1)
		return -1;
	return close(fd);
}

TEST_F(watch, readd_clears_excl_unlink)
{
	ASSERT_EQ(1, ADD(self->p[P_B], IN_MODIFY | IN_EXCL_UNLINK));
	ASSERT_EQ(1, ADD(self->p[P_B], IN_MODIFY));
	ASSERT_EQ(0, write_after_unlink(self->p[P_B]));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_MODIFY }, { .wd = 1, .mask = IN_IGNORED });
}

TEST_F(watch, mask_add_keeps_excl_unlink)
{
	ASSERT_EQ(1, ADD(self->p[P_B], IN_MODIFY | IN_EXCL_UNLINK));
	ASSERT_EQ(1, ADD(self->p[P_B], IN_ATTRIB | IN_MASK_ADD));
	ASSERT_EQ(0, write_after_unlink(self->p[P_B]));
	/* The unlink's ATTRIB (link count) but no MODIFY through the unlinked path. */
	EXPECT_EVENTS({ .wd = 1, .mask = IN_ATTRIB }, { .wd = 1, .mask = IN_IGNORED });
}

TEST_F(watch, removed_wd_not_reused)
{
	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	ASSERT_EQ(2, ADD(self->p[P_B], IN_MODIFY));
	ASSERT_EQ(3, ADD(self->p[P_C], IN_MODIFY));
	ASSERT_EQ(0, RM(3));
	EXPECT_EQ(4, ADD(self->p[P_D], IN_CREATE));
	ASSERT_EQ(0, RM(2));
	/* b is a new watch again, with a new wd. */
	EXPECT_EQ(5, ADD(self->p[P_B], IN_MODIFY));
	EXPECT_EQ(6, ADD(self->p[P_C], IN_MODIFY));
	EXPECT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
}

/* ---- rm_watch ---- */

TEST_F(watch, rm_queues_ignored)
{
	struct inotify_event ie;
	char buf[256];
	int n = -1;

	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	ASSERT_EQ(2, ADD(self->p[P_B], IN_MODIFY));
	EXPECT_EQ(0, RM(2));
	ASSERT_EQ(0, ioctl(self->fd, FIONREAD, &n));
	EXPECT_EQ(16, n);
	ASSERT_EQ(16, read(self->fd, buf, sizeof(buf)));
	memcpy(&ie, buf, sizeof(ie));
	EXPECT_EQ(2, ie.wd);
	EXPECT_EQ(0x8000, ie.mask);
	EXPECT_EQ(0, ie.cookie);
	EXPECT_EQ(0, ie.len);
	/* No more events for b; a still works. */
	ASSERT_EQ(0, scratch_append(self->p[P_B]));
	ASSERT_EQ(0, scratch_append(self->p[P_A]));
	EXPECT_EVENTS({ .wd = 1, .mask = IN_MODIFY });
}

TEST_F(watch, rm_twice_einval)
{
	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	EXPECT_EQ(0, RM(1));
	EXPECT_EQ(-1, RM(1));
	EXPECT_EQ(EINVAL, errno);
	/* Only the first removal queued an IN_IGNORED. */
	EXPECT_EVENTS({ .wd = 1, .mask = IN_IGNORED });
}

TEST_F(watch, rm_unknown_wd_einval)
{
	static const int bad[] = { 2, 0, -1, 42, INT_MAX, INT_MIN };
	char what[32];

	ASSERT_EQ(1, ADD(self->p[P_A], IN_MODIFY));
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(what, sizeof(what), "rm wd %d", bad[i]);
		expect_einval(_metadata, RM(bad[i]), what);
	}
	EXPECT_NO_EVENTS();
	/* The watch is still there. */
	EXPECT_EQ(0, RM(1));
}

TEST_F(watch, rm_on_empty_instance_einval)
{
	expect_einval(_metadata, RM(1), "rm wd 1 with no watches");
	expect_einval(_metadata, RM(-1), "rm wd -1 with no watches");
	EXPECT_NO_EVENTS();
}

/* ---- max_user_watches ---- */

FIXTURE(watch_limit) {
	char dir[PATH_MAX];
	struct limit_knob knob;
};

FIXTURE_VARIANT(watch_limit) {
	const struct backend *be;
};

BACKEND_VARIANTS(watch_limit);

FIXTURE_SETUP(watch_limit)
{
	char p[PATH_MAX];
	int err = 0;

	limit_knob_init(&self->knob, variant->be, "max_user_watches");
	ASSERT_LE(0, limit_read(self->knob.path)) TH_LOG("%s: %s", self->knob.path,
							  strerror(errno));
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "watch-limit"));
	for (int i = 0; i < 8; i++) {
		char name[8];

		snprintf(name, sizeof(name), "f%d", i);
		err |= scratch_file(scratch_path(p, sizeof(p), self->dir, name), 0644);
	}
	/* The teardown does not run after a failed setup. */
	if (err)
		scratch_remove(self->dir);
	ASSERT_EQ(0, err);
}

FIXTURE_TEARDOWN_PARENT(watch_limit)
{
	limit_restore(&self->knob);
	scratch_remove(self->dir);
}

static void run_as_watches_uid(struct __test_metadata *_metadata, const struct backend *be,
			       const char *dir,
			       void (*fn)(struct __test_metadata *, const struct backend *))
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ASSERT_EQ(0, chdir(dir));
		ASSERT_EQ(0, drop_to_uid(WATCHES_UID));
		fn(_metadata, be);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child died with status 0x%x", status);
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* Limit 3, uid WATCHES_UID, cwd = the scratch dir with f0..f7. */
static void fill_watches(struct __test_metadata *_metadata, const struct backend *be)
{
	int fd = be->init(O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("init: %s", strerror(errno));
	ASSERT_EQ(1, be->add_watch(fd, "f0", IN_MODIFY));
	ASSERT_EQ(2, be->add_watch(fd, "f1", IN_MODIFY));
	ASSERT_EQ(3, be->add_watch(fd, "f2", IN_MODIFY));
	/* The fourth new watch is refused ... */
	EXPECT_EQ(-1, be->add_watch(fd, "f3", IN_MODIFY));
	EXPECT_EQ(ENOSPC, errno);
	/* ... but updating an existing one costs nothing. */
	EXPECT_EQ(1, be->add_watch(fd, "f0", IN_ATTRIB));
	EXPECT_EQ(2, be->add_watch(fd, "f1", IN_ATTRIB | IN_MASK_ADD));
	/* Removing one frees a slot; the refused add had consumed wd 4. */
	ASSERT_EQ(0, be->rm_watch(fd, 2));
	EXPECT_EQ(5, be->add_watch(fd, "f3", IN_MODIFY));
	EXPECT_EQ(-1, be->add_watch(fd, "f4", IN_MODIFY));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, be->rm_watch(fd, 1));
	EXPECT_EQ(7, be->add_watch(fd, "f4", IN_MODIFY));
	EXPECT_EQ(0, close(fd));
}

TEST_F(watch_limit, enospc_at_max_user_watches)
{
	ASSERT_EQ(0, limit_set(&self->knob, 3));
	run_as_watches_uid(_metadata, variant->be, self->dir, fill_watches);
	limit_restore(&self->knob);
}

/* The count is per user, across all of the user's instances; closing one gives its back. */
static void share_watches(struct __test_metadata *_metadata, const struct backend *be)
{
	int fd1 = be->init(O_NONBLOCK | O_CLOEXEC);
	int fd2 = be->init(O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(1, be->add_watch(fd1, "f0", IN_MODIFY));
	ASSERT_EQ(2, be->add_watch(fd1, "f1", IN_MODIFY));
	ASSERT_EQ(1, be->add_watch(fd2, "f0", IN_MODIFY));
	EXPECT_EQ(-1, be->add_watch(fd2, "f1", IN_MODIFY));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, be->add_watch(fd1, "f2", IN_MODIFY));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, close(fd1));
	EXPECT_EQ(3, be->add_watch(fd2, "f1", IN_MODIFY));
	EXPECT_EQ(4, be->add_watch(fd2, "f2", IN_MODIFY));
	EXPECT_EQ(-1, be->add_watch(fd2, "f3", IN_MODIFY));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, close(fd2));
}

TEST_F(watch_limit, limit_is_per_user_across_instances)
{
	ASSERT_EQ(0, limit_set(&self->knob, 3));
	run_as_watches_uid(_metadata, variant->be, self->dir, share_watches);
	limit_restore(&self->knob);
}

TEST_HARNESS_MAIN
