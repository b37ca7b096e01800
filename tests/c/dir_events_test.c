// SPDX-License-Identifier: GPL-2.0
/*
 * Events on a watched directory: children's events with their names, rename cookies, MOVE_SELF,
 * CREATE/DELETE for every kind of entry, one level only, getdents, FIFOs (LTP inotify02, gVisor's
 * inotify tests, spec §1.3 and §1.10 "Events on a watched directory"). Every case runs against
 * the kernel's inotify and against /dev/rust_inotify.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "events.h"
#include "evcheck.h"
#include "scratch.h"

FIXTURE(dev) {
	int fd;			/* the instance, non-blocking */
	int wd;			/* IN_ALL_EVENTS watch on dir */
	char dir[PATH_MAX];	/* scratch directory, watched */
};

FIXTURE_VARIANT(dev) {
	const struct backend *be;
};

BACKEND_VARIANTS(dev);

FIXTURE_SETUP(dev)
{
	self->fd = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("%s: init: %s", variant->be->name, strerror(errno));
	}
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "evt"));
	self->wd = variant->be->add_watch(self->fd, self->dir, IN_ALL_EVENTS);
	ASSERT_EQ(1, self->wd);
	ASSERT_NO_EVENTS(self->fd);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
	scratch_remove(self->dir);
}

#define D(name) pj(self->dir, name)

/* Events on the directory itself carry ISDIR and no name. */
TEST_F(dev, chmod_dir_attrib_isdir)
{
	ASSERT_EQ(0, chmod(self->dir, 0750));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_ATTRIB | IN_ISDIR, NULL));
}

/* creat(f): CREATE(f), OPEN(f); close: CLOSE_WRITE(f); then the file's own events, named. */
TEST_F(dev, creat_open_close)
{
	char c;
	int f = creat(D("f"), 0644);

	ASSERT_LE(0, f);
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_CREATE, "f"),
		      EV(self->wd, IN_OPEN, "f"));
	ASSERT_EQ(1, write(f, "x", 1));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_MODIFY, "f"),
		      EV(self->wd, IN_CLOSE_WRITE, "f"));

	/* open(O_CREAT) of an existing file is only an open. */
	f = open(D("f"), O_RDONLY | O_CREAT, 0644);
	ASSERT_LE(0, f);
	ASSERT_EQ(1, read(f, &c, 1));
	ASSERT_EQ(0, chmod(D("f"), 0600));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN, "f"),
		      EV(self->wd, IN_ACCESS, "f"),
		      EV(self->wd, IN_ATTRIB, "f"),
		      EV(self->wd, IN_CLOSE_NOWRITE, "f"));
}

/* Names of every length round up to a multiple of 16 with at least one NUL (len checked). */
TEST_F(dev, name_lengths)
{
	static const char *names[] = {
		"a", "fifteen_chars_x", "sixteen_chars_xx", "a_name_of_thirty_one_characters",
		"a_name_of_thirty_two_characters_",
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		ASSERT_EQ(0, mkdir(D(names[i]), 0755));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_CREATE | IN_ISDIR, names[0]),
		      EV(self->wd, IN_CREATE | IN_ISDIR, names[1]),
		      EV(self->wd, IN_CREATE | IN_ISDIR, names[2]),
		      EV(self->wd, IN_CREATE | IN_ISDIR, names[3]),
		      EV(self->wd, IN_CREATE | IN_ISDIR, names[4]));
}

/* rename in one dir: MOVED_FROM(old, c), MOVED_TO(new, c), c != 0; a new cookie per rename. */
TEST_F(dev, rename_same_dir_cookies)
{
	ASSERT_EQ(0, write_file(D("f"), "x"));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_CREATE, "f"),
		      EV(self->wd, IN_OPEN, "f"),
		      EV(self->wd, IN_MODIFY, "f"),
		      EV(self->wd, IN_CLOSE_WRITE, "f"));
	ASSERT_EQ(0, rename(D("f"), D("g")));
	ASSERT_EQ(0, rename(D("g"), D("h")));
	ASSERT_EQ(0, rename(D("h"), D("f")));
	ASSERT_EVENTS(self->fd,
		      EVC(self->wd, IN_MOVED_FROM, 1, "f"),
		      EVC(self->wd, IN_MOVED_TO, 1, "g"),
		      EVC(self->wd, IN_MOVED_FROM, 2, "g"),
		      EVC(self->wd, IN_MOVED_TO, 2, "h"),
		      EVC(self->wd, IN_MOVED_FROM, 3, "h"),
		      EVC(self->wd, IN_MOVED_TO, 3, "f"));
}

/* Renaming a subdirectory: MOVED_FROM|ISDIR and MOVED_TO|ISDIR. */
TEST_F(dev, rename_subdir_isdir)
{
	ASSERT_EQ(0, mkdir(D("s"), 0755));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CREATE | IN_ISDIR, "s"));
	ASSERT_EQ(0, rename(D("s"), D("t")));
	ASSERT_EVENTS(self->fd,
		      EVC(self->wd, IN_MOVED_FROM | IN_ISDIR, 1, "s"),
		      EVC(self->wd, IN_MOVED_TO | IN_ISDIR, 1, "t"));
}

/* Cross-dir rename: MOVED_FROM on the source dir's wd, MOVED_TO on the target's, same cookie. */
TEST_F(dev, rename_cross_dir)
{
	int wd_a, wd_b, wd_s;

	ASSERT_EQ(0, mkdir(D("a"), 0755));
	ASSERT_EQ(0, mkdir(D("b"), 0755));
	ASSERT_EQ(0, write_file(D("a/f"), "x"));
	ASSERT_EQ(0, mkdir(D("a/s"), 0755));
	wd_a = variant->be->add_watch(self->fd, D("a"), IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_a);
	wd_b = variant->be->add_watch(self->fd, D("b"), IN_ALL_EVENTS);
	ASSERT_EQ(3, wd_b);
	wd_s = variant->be->add_watch(self->fd, D("a/s"), IN_ALL_EVENTS);
	ASSERT_EQ(4, wd_s);
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_CREATE | IN_ISDIR, "a"),
		      EV(self->wd, IN_CREATE | IN_ISDIR, "b"));

	ASSERT_EQ(0, rename(D("a/f"), D("b/g")));
	/* The grandparent (the fixture's watch) sees nothing: one level only. */
	ASSERT_EVENTS(self->fd,
		      EVC(wd_a, IN_MOVED_FROM, 1, "f"),
		      EVC(wd_b, IN_MOVED_TO, 1, "g"));

	/* A watched dir moved across: its parents get the pair, it gets MOVE_SELF (no ISDIR). */
	ASSERT_EQ(0, rename(D("a/s"), D("b/s")));
	ASSERT_EVENTS(self->fd,
		      EVC(wd_a, IN_MOVED_FROM | IN_ISDIR, 1, "s"),
		      EVC(wd_b, IN_MOVED_TO | IN_ISDIR, 1, "s"),
		      EV(wd_s, IN_MOVE_SELF, NULL));
}

/* Renaming the watched dir itself: MOVE_SELF, no name, no cookie, no ISDIR. */
TEST_F(dev, rename_watched_dir_move_self)
{
	int wd_s;

	ASSERT_EQ(0, mkdir(D("s"), 0755));
	wd_s = variant->be->add_watch(self->fd, D("s"), IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_s);
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CREATE | IN_ISDIR, "s"));
	ASSERT_EQ(0, rename(D("s"), D("t")));
	ASSERT_EVENTS(self->fd,
		      EVC(self->wd, IN_MOVED_FROM | IN_ISDIR, 1, "s"),
		      EVC(self->wd, IN_MOVED_TO | IN_ISDIR, 1, "t"),
		      EV(wd_s, IN_MOVE_SELF, NULL));
}

/* Two consecutive renames of a watched dir (no other event between): one MOVE_SELF. */
TEST_F(dev, consecutive_move_self_merge)
{
	int fd2, wd_s;

	ASSERT_EQ(0, mkdir(D("s"), 0755));
	/* A second instance watching only s, so that nothing comes between the two MOVE_SELFs. */
	fd2 = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, fd2);
	wd_s = variant->be->add_watch(fd2, D("s"), IN_ALL_EVENTS);
	ASSERT_EQ(1, wd_s);
	ASSERT_EQ(0, rename(D("s"), D("t")));
	ASSERT_EQ(0, rename(D("t"), D("u")));
	ASSERT_EVENTS(fd2, EV(wd_s, IN_MOVE_SELF, NULL));
	/* Once read, the next one is queued again. */
	ASSERT_EQ(0, rename(D("u"), D("s")));
	ASSERT_EVENTS(fd2, EV(wd_s, IN_MOVE_SELF, NULL));
	close(fd2);
}

/* A watched file renamed (and renamed over): MOVE_SELF on the file's watch. */
TEST_F(dev, rename_watched_file_move_self)
{
	int wd_f;

	ASSERT_EQ(0, write_file(D("f"), "x"));
	wd_f = variant->be->add_watch(self->fd, D("f"), IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_f);
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_CREATE, "f"),
		      EV(self->wd, IN_OPEN, "f"),
		      EV(self->wd, IN_MODIFY, "f"),
		      EV(self->wd, IN_CLOSE_WRITE, "f"));
	ASSERT_EQ(0, rename(D("f"), D("g")));
	ASSERT_EVENTS(self->fd,
		      EVC(self->wd, IN_MOVED_FROM, 1, "f"),
		      EVC(self->wd, IN_MOVED_TO, 1, "g"),
		      EV(wd_f, IN_MOVE_SELF, NULL));
}

/*
 * rename over an existing, watched target: the pair, then ATTRIB on the overwritten target
 * (link count), then (once the old target's dentry goes) DELETE_SELF and IGNORED on its watch.
 */
TEST_F(dev, rename_over_watched_target)
{
	int wd_t;

	ASSERT_EQ(0, write_file(D("f"), "x"));
	ASSERT_EQ(0, write_file(D("t"), "y"));
	wd_t = variant->be->add_watch(self->fd, D("t"), IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_t);
	ASSERT_LE(0, discard_events(self->fd));
	ASSERT_NO_EVENTS(self->fd);

	ASSERT_EQ(0, rename(D("f"), D("t")));
	ASSERT_EVENTS_PER_WD(self->fd,
			     EVC(self->wd, IN_MOVED_FROM, 1, "f"),
			     EVC(self->wd, IN_MOVED_TO, 1, "t"),
			     EV(wd_t, IN_ATTRIB, NULL),
			     EV(wd_t, IN_DELETE_SELF, NULL),
			     EV(wd_t, IN_IGNORED, NULL));
	ASSERT_EQ(-1, variant->be->rm_watch(self->fd, wd_t));
	ASSERT_EQ(EINVAL, errno);
}

/* unlink: DELETE(f); rmdir: DELETE|ISDIR(d); mkdir: CREATE|ISDIR(d). */
TEST_F(dev, unlink_rmdir_mkdir)
{
	ASSERT_EQ(0, mkdir(D("d"), 0755));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CREATE | IN_ISDIR, "d"));
	ASSERT_EQ(0, rmdir(D("d")));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_DELETE | IN_ISDIR, "d"));

	ASSERT_EQ(0, mknod(D("f"), S_IFREG | 0644, 0));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CREATE, "f"));
	ASSERT_EQ(0, unlink(D("f")));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_DELETE, "f"));

	/* Failing calls give nothing. */
	ASSERT_EQ(-1, unlink(D("f")));
	ASSERT_EQ(-1, rmdir(D("d")));
	ASSERT_EQ(0, mkdir(D("d"), 0755));
	ASSERT_EQ(-1, mkdir(D("d"), 0755));
	ASSERT_EQ(0, write_file(D("d/x"), ""));
	ASSERT_EQ(-1, rmdir(D("d")));
	ASSERT_EQ(ENOTEMPTY, errno);
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CREATE | IN_ISDIR, "d"));
}

/* mknod (FIFO), symlink, link: CREATE(name); link also ATTRIB on a watch on the target inode. */
TEST_F(dev, mknod_symlink_link)
{
	int wd_f;

	ASSERT_EQ(0, mknod(D("p"), S_IFIFO | 0644, 0));
	ASSERT_EQ(0, mkfifo(D("q"), 0644));
	ASSERT_EQ(0, symlink("nowhere", D("s")));
	ASSERT_EQ(0, mknod(D("r"), S_IFREG | 0600, 0));
	ASSERT_EQ(0, mknod(D("c"), S_IFCHR | 0600, makedev(1, 3)));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_CREATE, "p"),
		      EV(self->wd, IN_CREATE, "q"),
		      EV(self->wd, IN_CREATE, "s"),
		      EV(self->wd, IN_CREATE, "r"),
		      EV(self->wd, IN_CREATE, "c"));

	wd_f = variant->be->add_watch(self->fd, D("r"), IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_f);
	ASSERT_EQ(0, link(D("r"), D("l")));
	/* fsnotify_link(): link count (to the inode only), then CREATE to the dir. */
	ASSERT_EVENTS(self->fd,
		      EV(wd_f, IN_ATTRIB, NULL),
		      EV(self->wd, IN_CREATE, "l"));
	ASSERT_EQ(0, unlink(D("s")));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_DELETE, "s"));
}

/* Events go up one level only: nothing from inside a subdirectory, but the subdir's own events. */
TEST_F(dev, one_level_only)
{
	int f;

	ASSERT_EQ(0, mkdir(D("sub"), 0755));
	ASSERT_EQ(0, mkdir(D("sub/deeper"), 0755));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CREATE | IN_ISDIR, "sub"));

	ASSERT_EQ(0, write_file(D("sub/f"), "x"));
	ASSERT_EQ(0, write_file(D("sub/deeper/f"), "x"));
	ASSERT_EQ(0, chmod(D("sub/f"), 0600));
	ASSERT_EQ(0, rename(D("sub/f"), D("sub/g")));
	ASSERT_EQ(0, unlink(D("sub/g")));
	ASSERT_EQ(0, unlink(D("sub/deeper/f")));
	ASSERT_EQ(0, rmdir(D("sub/deeper")));
	ASSERT_NO_EVENTS(self->fd);

	/* The child dir itself is one level down: reported with its name and ISDIR. */
	ASSERT_EQ(0, chmod(D("sub"), 0700));
	f = open(D("sub"), O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_ATTRIB | IN_ISDIR, "sub"),
		      EV(self->wd, IN_OPEN | IN_ISDIR, "sub"),
		      EV(self->wd, IN_CLOSE_NOWRITE | IN_ISDIR, "sub"));
}

static int list_dir(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * getdents through opendir/readdir/closedir: OPEN|ISDIR, ACCESS|ISDIR (iterate_dir() reports
 * every getdents call, the repeated ones merge), CLOSE_NOWRITE|ISDIR.
 */
TEST_F(dev, getdents_on_watched_dir)
{
	ASSERT_EQ(0, write_file(D("f"), ""));
	ASSERT_LE(0, discard_events(self->fd));
	ASSERT_EQ(3, list_dir(self->dir));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN | IN_ISDIR, NULL),
		      EV(self->wd, IN_ACCESS | IN_ISDIR, NULL),
		      EV(self->wd, IN_CLOSE_NOWRITE | IN_ISDIR, NULL));
}

/* getdents on a subdirectory: reported to the watched parent with the subdir's name. */
TEST_F(dev, getdents_on_subdir)
{
	ASSERT_EQ(0, mkdir(D("sub"), 0755));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CREATE | IN_ISDIR, "sub"));
	ASSERT_EQ(2, list_dir(D("sub")));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN | IN_ISDIR, "sub"),
		      EV(self->wd, IN_ACCESS | IN_ISDIR, "sub"),
		      EV(self->wd, IN_CLOSE_NOWRITE | IN_ISDIR, "sub"));
}

/*
 * Reads and writes on a FIFO are not reported to the watched parent (side-channel protection in
 * __fsnotify_parent()); open and close are. A watch on the FIFO itself does get them.
 */
TEST_F(dev, fifo_io_not_reported_to_dir)
{
	char c;
	int p, wd_p;

	ASSERT_EQ(0, mkfifo(D("p"), 0644));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CREATE, "p"));

	p = open(D("p"), O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, p);
	ASSERT_EQ(1, write(p, "x", 1));
	ASSERT_EQ(1, read(p, &c, 1));
	ASSERT_EQ(0, close(p));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN, "p"),
		      EV(self->wd, IN_CLOSE_WRITE, "p"));

	wd_p = variant->be->add_watch(self->fd, D("p"), IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_p);
	p = open(D("p"), O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, p);
	ASSERT_EQ(1, write(p, "x", 1));
	ASSERT_EQ(1, read(p, &c, 1));
	ASSERT_EQ(0, close(p));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN, "p"),
		      EV(wd_p, IN_OPEN, NULL),
		      EV(wd_p, IN_MODIFY, NULL),
		      EV(wd_p, IN_ACCESS, NULL),
		      EV(self->wd, IN_CLOSE_WRITE, "p"),
		      EV(wd_p, IN_CLOSE_WRITE, NULL));
}

/* O_PATH opens of the dir and of a child give nothing. */
TEST_F(dev, opath_no_events)
{
	int f, d;

	ASSERT_EQ(0, write_file(D("f"), ""));
	ASSERT_LE(0, discard_events(self->fd));
	f = open(D("f"), O_PATH);
	ASSERT_LE(0, f);
	d = open(self->dir, O_PATH | O_DIRECTORY);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, close(f));
	ASSERT_EQ(0, close(d));
	ASSERT_NO_EVENTS(self->fd);
}

TEST_HARNESS_MAIN
