// SPDX-License-Identifier: GPL-2.0
/*
 * RUST_INOTIFY_IOC_DUMP and RUST_INOTIFY_IOC_RESTORE, the checkpoint interface CRIU's plugin
 * uses. The kernel's inotify has no such interface, so these cases are rust-only; each compares
 * a restored instance with the instance it was dumped from, which must be indistinguishable:
 * the same fdinfo watch lines and next wd, the same bytes from read(), the same wd for the next
 * add, the same merges and overflows afterwards. The error cases check that a failed restore
 * leaves the instance empty and charges nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "scratch.h"
#include "user_limits.h"

#define NFILES		8
#define MAXW		64
#define EVBUF		(1 << 20)

struct dump {
	struct rust_inotify_ckpt ck;
	struct rust_inotify_ckpt_watch w[MAXW];
	char *ev;
};

/* RUST_INOTIFY_IOC_DUMP into @d, with room for MAXW watches and EVBUF bytes of events. */
static int dump(int fd, struct dump *d)
{
	if (!d->ev)
		d->ev = malloc(EVBUF);
	memset(&d->ck, 0, sizeof(d->ck));
	d->ck.version = RUST_INOTIFY_CKPT_VERSION;
	d->ck.nr_watches = MAXW;
	d->ck.watches = (uintptr_t)d->w;
	d->ck.events_len = EVBUF;
	d->ck.events = (uintptr_t)d->ev;
	return ioctl(fd, RUST_INOTIFY_IOC_DUMP, &d->ck);
}

/*
 * Restores @d into @fd as the plugin does: each watch's handle is decoded on the mount, here the
 * tmpfs the cases run in. With @by_inode, each inode is opened by handle here instead (O_PATH)
 * and passed without its handle, as the plugin's path fallback does.
 */
static int restore_as(int fd, struct dump *d, bool by_inode)
{
	struct rust_inotify_ckpt ck = d->ck;
	struct rust_inotify_ckpt_watch w[MAXW];
	int ret, saved, mnt;

	memcpy(w, d->w, sizeof(w));
	if (ck.nr_watches > MAXW) {
		errno = E2BIG;
		return -1;
	}
	/* Not O_PATH: open_by_handle_at() wants a mount fd it can fdget(). */
	mnt = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mnt < 0)
		return -1;
	for (unsigned int i = 0; i < ck.nr_watches; i++) {
		char buf[sizeof(struct file_handle) + RUST_INOTIFY_HANDLE_SZ];
		struct file_handle *fh = (struct file_handle *)buf;

		if (!by_inode) {
			w[i].fd = mnt;
			continue;
		}
		fh->handle_bytes = w[i].handle_bytes;
		fh->handle_type = w[i].handle_type;
		memcpy(fh->f_handle, w[i].f_handle, w[i].handle_bytes);
		w[i].fd = open_by_handle_at(mnt, fh, O_PATH);
		w[i].handle_bytes = 0;
		if (w[i].fd < 0)
			return -1;
	}
	/* A pointer a test has spoilt is passed on as it is. */
	if (d->ck.watches == (uintptr_t)d->w)
		ck.watches = (uintptr_t)w;
	ret = ioctl(fd, RUST_INOTIFY_IOC_RESTORE, &ck);
	saved = errno;
	for (unsigned int i = 0; by_inode && i < ck.nr_watches; i++)
		close(w[i].fd);
	close(mnt);
	errno = saved;
	return ret;
}

static int restore(int fd, struct dump *d)
{
	return restore_as(fd, d, false);
}

/* The "inotify wd:" lines and the "rust_inotify next-wd:" line of @fd's fdinfo. */
static void watch_lines(int fd, char *out, size_t size)
{
	char path[64], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	out[0] = 0;
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "inotify wd:", 11) || !strncmp(line, "rust_inotify next-wd:", 21))
			strncat(out, line, size - strlen(out) - 1);
	fclose(f);
}

/* Everything queued on the non-blocking @fd, as read() returns it. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, buf + n, size - n);

		if (r < 0)
			return errno == EAGAIN ? (ssize_t)n : -1;
		n += r;
	}
}

static int fionread(int fd)
{
	int n = -1;

	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

/* The instance is empty, as a new one is: no watch, no event, the cursor at 1. */
static int is_empty(int fd)
{
	struct dump d = { 0 };
	int ok;

	ok = dump(fd, &d) == 0 && d.ck.nr_watches == 0 && d.ck.nr_events == 0 &&
	     d.ck.events_len == 0 && d.ck.next_wd == 1 && fionread(fd) == 0;
	free(d.ev);
	return ok;
}

FIXTURE(ckpt) {
	char dir[PATH_MAX];
	char file[NFILES][PATH_MAX];
	int fd;
	struct dump d;
	struct limit_knob watches, events;
};

FIXTURE_SETUP(ckpt)
{
	int err = 0;

	self->fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(errno));
	memset(&self->d, 0, sizeof(self->d));
	limit_knob_init(&self->watches, &rust_backend, "max_user_watches");
	limit_knob_init(&self->events, &rust_backend, "max_queued_events");
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "ckpt"));
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

/*
 * In the parent, so that the limits are put back even when a case dies; the case's fd and
 * memory go with its process.
 */
FIXTURE_TEARDOWN_PARENT(ckpt)
{
	limit_restore(&self->watches);
	limit_restore(&self->events);
	scratch_remove(self->dir);
}

static int add(int fd, const char *path, uint32_t mask)
{
	return rust_add_watch(fd, path, mask);
}

static void touch(const char *path)
{
	scratch_append(path);
}

/*
 * A varied instance: a directory watch, file watches with ONESHOT, EXCL_UNLINK and a mask built
 * with MASK_ADD, sparse wds (0x34d71d6, INT_MAX, then wrapped to low ones), and queued events
 * with and without names (one longer than the 40 bytes kept inline), a rename cookie pair and an
 * IN_IGNORED. Four watches (1, 0x34d71d6, INT_MAX, 2); the next add gets 4.
 */
static void build_varied(struct __test_metadata *_metadata, FIXTURE_DATA(ckpt) *self)
{
	char from[PATH_MAX], to[PATH_MAX];
	int fd = self->fd;

	ASSERT_EQ(1, add(fd, self->dir, IN_ALL_EVENTS));
	ASSERT_EQ(0, ioctl(fd, INOTIFY_IOC_SETNEXTWD, 0x34d71d6UL));
	ASSERT_EQ(0x34d71d6, add(fd, self->file[0], IN_MODIFY | IN_ONESHOT));
	ASSERT_EQ(0, ioctl(fd, INOTIFY_IOC_SETNEXTWD, (unsigned long)INT_MAX));
	ASSERT_EQ(INT_MAX, add(fd, self->file[1], IN_ATTRIB | IN_EXCL_UNLINK));
	/* The cursor wrapped: the next one is 2. */
	ASSERT_EQ(2, add(fd, self->file[2], IN_OPEN));
	ASSERT_EQ(2, add(fd, self->file[2], IN_CLOSE_WRITE | IN_MASK_ADD));
	ASSERT_EQ(3, add(fd, self->file[3], IN_MODIFY));
	ASSERT_EQ(0, rust_rm_watch(fd, 3));
	touch(self->file[4]);
	touch(self->file[4]);
	scratch_path(from, sizeof(from), self->dir, "f5");
	scratch_path(to, sizeof(to), self->dir, "renamed-with-a-name-longer-than-forty-bytes-0123456789");
	ASSERT_EQ(0, rename(from, to));
	ASSERT_EQ(0, mkdir(from, 0755));
}

/* A new instance restored from @d; asserts that the restore succeeded. */
static int restored(struct __test_metadata *_metadata, struct dump *d, int flags)
{
	int fd = open(RUST_INOTIFY_DEV, O_RDONLY | flags);

	EXPECT_LE(0, fd);
	if (fd < 0)
		return -1;
	EXPECT_EQ(0, restore(fd, d)) TH_LOG("restore: %s", strerror(errno));
	return fd;
}

/* @a and @b are indistinguishable now: fdinfo, then every byte read(). Drains both. */
static void same(struct __test_metadata *_metadata, int a, int b)
{
	static char la[1 << 16], lb[1 << 16], ra[EVBUF], rb[EVBUF];
	ssize_t na, nb;

	watch_lines(a, la, sizeof(la));
	watch_lines(b, lb, sizeof(lb));
	EXPECT_STREQ(la, lb);
	EXPECT_EQ(fionread(a), fionread(b));
	na = read_all(a, ra, sizeof(ra));
	nb = read_all(b, rb, sizeof(rb));
	ASSERT_LE(0, na);
	ASSERT_EQ(na, nb);
	EXPECT_EQ(0, memcmp(ra, rb, na));
}

TEST_F(ckpt, empty_instance_dumps_as_new)
{
	ASSERT_EQ(0, dump(self->fd, &self->d));
	EXPECT_EQ(0, self->d.ck.nr_watches);
	EXPECT_EQ(0, self->d.ck.nr_events);
	EXPECT_EQ(0, self->d.ck.events_len);
	EXPECT_EQ(1, self->d.ck.next_wd);
	EXPECT_EQ(O_NONBLOCK, self->d.ck.f_flags);
	EXPECT_EQ(limit_read(self->events.path), self->d.ck.max_events);
}

TEST_F(ckpt, dump_is_fdinfo_and_read_without_consuming)
{
	static char before[1 << 16], after[1 << 16], rd[EVBUF];
	struct dump again = { 0 };
	char *line = before;
	ssize_t n;
	int queued;

	build_varied(_metadata, self);
	watch_lines(self->fd, before, sizeof(before));
	queued = fionread(self->fd);
	ASSERT_LT(0, queued);
	ASSERT_EQ(0, dump(self->fd, &self->d));
	EXPECT_EQ(4, self->d.ck.nr_watches);
	EXPECT_EQ(4, self->d.ck.next_wd);
	EXPECT_EQ((unsigned int)queued, self->d.ck.events_len);
	/* Nothing was consumed: a second dump is the same, and fdinfo did not change. */
	ASSERT_EQ(0, dump(self->fd, &again));
	EXPECT_EQ(0, memcmp(&self->d.ck.next_wd, &again.ck.next_wd, 16));
	EXPECT_EQ(0, memcmp(self->d.w, again.w, sizeof(self->d.w)));
	EXPECT_EQ(0, memcmp(self->d.ev, again.ev, self->d.ck.events_len));
	free(again.ev);
	watch_lines(self->fd, after, sizeof(after));
	EXPECT_STREQ(before, after);
	EXPECT_EQ(queued, fionread(self->fd));

	/* The watches in fdinfo's order, with its wd, ino, sdev, mask and handle. */
	for (unsigned int i = 0; i < self->d.ck.nr_watches; i++) {
		const struct rust_inotify_ckpt_watch *w = &self->d.w[i];
		char expect[512];
		int len;

		len = snprintf(expect, sizeof(expect),
			       "inotify wd:%x ino:%llx sdev:%x mask:%x ignored_mask:0 fhandle-bytes:%x fhandle-type:%x f_handle:",
			       w->wd, (unsigned long long)w->ino, w->s_dev, w->mask,
			       w->handle_bytes, w->handle_type);
		for (unsigned int b = 0; b < w->handle_bytes; b++)
			len += snprintf(expect + len, sizeof(expect) - len, "%02x", w->f_handle[b]);
		EXPECT_EQ(0, strncmp(line, expect, len)) TH_LOG("%s vs %s", line, expect);
		EXPECT_EQ(-1, w->fd);
		line = strchr(line, '\n') + 1;
	}

	/* The records are read()'s bytes, but for the queued mask's bits read() hides. */
	n = read_all(self->fd, rd, sizeof(rd));
	ASSERT_EQ((ssize_t)self->d.ck.events_len, n);
	for (ssize_t off = 0; off < n;) {
		struct inotify_event *a = (struct inotify_event *)(rd + off);
		struct inotify_event *b = (struct inotify_event *)(self->d.ev + off);

		EXPECT_EQ(a->wd, b->wd);
		EXPECT_EQ(a->mask, b->mask & (IN_ALL_EVENTS | IN_ISDIR | IN_UNMOUNT | IN_IGNORED | IN_Q_OVERFLOW));
		EXPECT_EQ(a->cookie, b->cookie);
		EXPECT_EQ(a->len, b->len);
		EXPECT_EQ(0, memcmp(a->name, b->name, a->len));
		off += sizeof(*a) + a->len;
	}
}

TEST_F(ckpt, too_small_buffers_give_e2big_and_the_sizes)
{
	struct rust_inotify_ckpt_watch w[2];
	struct rust_inotify_ckpt ck = {
		.version = RUST_INOTIFY_CKPT_VERSION,
		.nr_watches = 2,
		.watches = (uintptr_t)w,
	};
	int queued;

	build_varied(_metadata, self);
	queued = fionread(self->fd);
	memset(w, 0x5a, sizeof(w));
	ASSERT_EQ(-1, ioctl(self->fd, RUST_INOTIFY_IOC_DUMP, &ck));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(4, ck.nr_watches);
	EXPECT_EQ((unsigned int)queued, ck.events_len);
	/* Nothing was written to the buffers that were too small. */
	for (size_t i = 0; i < sizeof(w); i++)
		ASSERT_EQ(0x5a, ((unsigned char *)w)[i]);
	/* Room for the watches only: still E2BIG, for the events. */
	ASSERT_EQ(0, dump(self->fd, &self->d));
	ck = self->d.ck;
	ck.events_len = queued - 1;
	ASSERT_EQ(-1, ioctl(self->fd, RUST_INOTIFY_IOC_DUMP, &ck));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ((unsigned int)queued, ck.events_len);
	EXPECT_EQ(queued, fionread(self->fd));
}

TEST_F(ckpt, restore_is_indistinguishable)
{
	int fd2, wd1, wd2;

	build_varied(_metadata, self);
	ASSERT_EQ(0, dump(self->fd, &self->d));
	fd2 = restored(_metadata, &self->d, O_NONBLOCK);
	ASSERT_LE(0, fd2);
	same(_metadata, self->fd, fd2);
	/* The next add takes the same wd on both. */
	wd1 = add(self->fd, self->file[6], IN_MODIFY);
	wd2 = add(fd2, self->file[6], IN_MODIFY);
	EXPECT_EQ(4, wd1);
	EXPECT_EQ(wd1, wd2);
	/* Events from now on are the same on both, ONESHOT's IN_IGNORED included. */
	touch(self->file[0]);
	touch(self->file[0]);
	ASSERT_EQ(0, chmod(self->file[1], 0600));
	touch(self->file[6]);
	same(_metadata, self->fd, fd2);
	close(fd2);
}

/* Inodes passed by fd, without handles (the plugin's path fallback): the same instance. */
TEST_F(ckpt, restore_by_inode_fds_is_the_same)
{
	int fd2 = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);

	ASSERT_LE(0, fd2);
	build_varied(_metadata, self);
	ASSERT_EQ(0, dump(self->fd, &self->d));
	ASSERT_EQ(0, restore_as(fd2, &self->d, true)) TH_LOG("%s", strerror(errno));
	same(_metadata, self->fd, fd2);
	close(fd2);
}

/* Decoding handles needs CAP_DAC_READ_SEARCH, as open_by_handle_at(); inode fds do not. */
TEST_F(ckpt, handles_need_cap_dac_read_search)
{
	pid_t pid;
	int status;

	build_varied(_metadata, self);
	ASSERT_EQ(0, dump(self->fd, &self->d));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct data[2];
		int fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);
		int byfd;

		if (fd < 0 || syscall(SYS_capget, &hdr, data))
			_exit(2);
		/* Open the inodes first, while this process still may. */
		byfd = restore_as(fd, &self->d, true);
		close(fd);
		fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);
		data[0].effective &= ~(1u << CAP_DAC_READ_SEARCH);
		if (byfd || fd < 0 || syscall(SYS_capset, &hdr, data))
			_exit(3);
		if (restore(fd, &self->d) == 0 || errno != EPERM)
			_exit(4);
		_exit(is_empty(fd) ? 0 : 5);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(ckpt, restored_events_merge_as_the_originals)
{
	int fd2;

	ASSERT_EQ(1, add(self->fd, self->dir, IN_MODIFY));
	touch(self->file[0]);
	ASSERT_EQ(0, dump(self->fd, &self->d));
	fd2 = restored(_metadata, &self->d, O_NONBLOCK);
	ASSERT_LE(0, fd2);
	/* The same write again merges into the queued event on both (FS_EVENT_ON_CHILD kept). */
	touch(self->file[0]);
	EXPECT_EQ(32, fionread(self->fd));
	EXPECT_EQ(fionread(self->fd), fionread(fd2));
	same(_metadata, self->fd, fd2);
	close(fd2);
}

TEST_F(ckpt, overflowed_queue_restores_and_stays_full)
{
	struct dump again = { 0 };
	int fd, fd2;

	ASSERT_EQ(0, limit_set(&self->events, 4));
	/* The limit is sampled at open. */
	fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, add(fd, self->dir, IN_MODIFY));
	for (int i = 0; i < NFILES; i++)
		touch(self->file[i]);
	ASSERT_EQ(0, dump(fd, &self->d));
	EXPECT_EQ(5, self->d.ck.nr_events);
	EXPECT_EQ(4, self->d.ck.max_events);
	/* Into an instance opened with the default limit: the restore brings the dumped one. */
	limit_restore(&self->events);
	fd2 = restored(_metadata, &self->d, O_NONBLOCK);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, dump(fd2, &again));
	EXPECT_EQ(4, again.ck.max_events);
	free(again.ev);
	/* Both drop new events while the overflow event is queued. */
	touch(self->file[0]);
	EXPECT_EQ(fionread(fd), fionread(fd2));
	same(_metadata, fd, fd2);
	/* And queue again once read, the overflow event included. */
	for (int i = 0; i < NFILES; i++)
		touch(self->file[i]);
	same(_metadata, fd, fd2);
	close(fd2);
	close(fd);
}

TEST_F(ckpt, restore_wakes_readers_and_keeps_blocking_mode)
{
	struct pollfd p;
	int fd2;

	ASSERT_EQ(1, add(self->fd, self->file[0], IN_MODIFY));
	touch(self->file[0]);
	ASSERT_EQ(0, dump(self->fd, &self->d));
	fd2 = restored(_metadata, &self->d, 0);
	ASSERT_LE(0, fd2);
	p.fd = fd2;
	p.events = POLLIN;
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN, p.revents);
	ASSERT_EQ(0, dump(fd2, &self->d));
	EXPECT_EQ(0, self->d.ck.f_flags);
	close(fd2);
}

TEST_F(ckpt, restore_needs_an_empty_instance)
{
	int fd2 = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);

	ASSERT_LE(0, fd2);
	ASSERT_EQ(1, add(self->fd, self->file[0], IN_MODIFY));
	ASSERT_EQ(0, dump(self->fd, &self->d));
	/* A watch: EBUSY. */
	ASSERT_EQ(1, add(fd2, self->file[1], IN_MODIFY));
	EXPECT_EQ(-1, restore(fd2, &self->d));
	EXPECT_EQ(EBUSY, errno);
	/* No watch but a queued event (its IN_IGNORED): EBUSY too. */
	ASSERT_EQ(0, rust_rm_watch(fd2, 1));
	EXPECT_EQ(-1, restore(fd2, &self->d));
	EXPECT_EQ(EBUSY, errno);
	close(fd2);
	/* A restored instance is not empty either. */
	fd2 = restored(_metadata, &self->d, O_NONBLOCK);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-1, restore(fd2, &self->d));
	EXPECT_EQ(EBUSY, errno);
	close(fd2);
}

TEST_F(ckpt, restore_needs_checkpoint_restore_capability)
{
	pid_t pid;
	int status;

	ASSERT_EQ(0, dump(self->fd, &self->d));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (drop_to_uid(65534))
			_exit(2);
		fd = open(RUST_INOTIFY_DEV, O_RDONLY);
		if (fd < 0)
			_exit(3);
		/* Dumping one's own instance needs nothing. */
		if (dump(fd, &self->d))
			_exit(4);
		if (restore(fd, &self->d) == 0 || errno != EPERM)
			_exit(5);
		_exit(is_empty(fd) ? 0 : 6);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* Restores @d into a fresh instance, expects @err, and that the instance is still empty. */
static void expect_refused(struct __test_metadata *_metadata, struct dump *d, int err,
			   const char *what)
{
	int fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, restore(fd, d)) TH_LOG("%s", what);
	EXPECT_EQ(err, errno) TH_LOG("%s: %s", what, strerror(errno));
	EXPECT_TRUE(is_empty(fd)) TH_LOG("%s: not empty after a failed restore", what);
	close(fd);
}

TEST_F(ckpt, bad_arguments_change_nothing)
{
	struct dump bad;
	struct inotify_event *ev;
	int fd;

	build_varied(_metadata, self);
	ASSERT_EQ(0, dump(self->fd, &self->d));
	ASSERT_LE(3, self->d.ck.nr_events);
	bad.ev = malloc(EVBUF);
	ASSERT_NE(NULL, bad.ev);

#define RESET() do {							\
		bad.ck = self->d.ck;					\
		memcpy(bad.w, self->d.w, sizeof(bad.w));		\
		memcpy(bad.ev, self->d.ev, self->d.ck.events_len);	\
		bad.ck.events = (uintptr_t)bad.ev;			\
		bad.ck.watches = (uintptr_t)bad.w;			\
	} while (0)

	RESET(); bad.ck.version = 2;
	expect_refused(_metadata, &bad, EINVAL, "version");
	RESET(); bad.ck.flags = 1;
	expect_refused(_metadata, &bad, EINVAL, "flags");
	RESET(); bad.ck.next_wd = 0;
	expect_refused(_metadata, &bad, EINVAL, "next_wd 0");
	RESET(); bad.ck.next_wd = (unsigned int)INT_MAX + 1;
	expect_refused(_metadata, &bad, EINVAL, "next_wd above INT_MAX");
	/* The last watch is restored first: a bad one last fails after others were made. */
	RESET(); bad.w[0].wd = 0;
	expect_refused(_metadata, &bad, EINVAL, "wd 0");
	RESET(); bad.w[0].wd = bad.w[1].wd;
	expect_refused(_metadata, &bad, EINVAL, "duplicate wd");
	RESET(); memcpy(&bad.w[0].handle_type, &bad.w[1].handle_type, 8 + RUST_INOTIFY_HANDLE_SZ);
	expect_refused(_metadata, &bad, EINVAL, "duplicate inode");
	RESET(); bad.w[0].mask |= IN_MASK_ADD;
	expect_refused(_metadata, &bad, EINVAL, "mask with IN_MASK_ADD");
	RESET(); bad.ck.watches = 8;
	expect_refused(_metadata, &bad, EFAULT, "watches pointer");
	RESET(); bad.ck.events = 8;
	expect_refused(_metadata, &bad, EFAULT, "events pointer");
	RESET(); bad.ck.events_len += 16;
	expect_refused(_metadata, &bad, EINVAL, "events_len too long");
	RESET(); bad.ck.nr_events -= 1;
	expect_refused(_metadata, &bad, EINVAL, "one record too many for nr_events");
	ev = (struct inotify_event *)bad.ev;
	RESET(); ev->wd = 0;
	expect_refused(_metadata, &bad, EINVAL, "event wd 0");
	RESET(); ev->mask = IN_ISDIR;
	expect_refused(_metadata, &bad, EINVAL, "event without an event bit");
	RESET(); ev->mask |= IN_ONESHOT;
	expect_refused(_metadata, &bad, EINVAL, "event with a watch flag");
	RESET(); ev->wd = -1;
	expect_refused(_metadata, &bad, EINVAL, "overflow record with a mask");

	/* A record with a name: the first one whose len is not 0. */
	RESET();
	for (ev = (struct inotify_event *)bad.ev; !ev->len;)
		ev = (struct inotify_event *)((char *)ev + sizeof(*ev) + ev->len);
	ev->name[0] = '/';
	expect_refused(_metadata, &bad, EINVAL, "name with a slash");
	RESET();
	for (ev = (struct inotify_event *)bad.ev; !ev->len;)
		ev = (struct inotify_event *)((char *)ev + sizeof(*ev) + ev->len);
	ev->name[ev->len - 1] = 'x';
	expect_refused(_metadata, &bad, EINVAL, "name without NUL padding");

	/* A watch whose fd is not open, after the others. */
	fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	RESET();
	{
		struct rust_inotify_ckpt ck = bad.ck;
		struct rust_inotify_ckpt_watch w[MAXW];

		memcpy(w, bad.w, sizeof(w));
		for (unsigned int i = 0; i < ck.nr_watches; i++)
			w[i].fd = open(self->file[i], O_PATH);
		/* Wrong inodes do not matter here: the first (restored last) fd is bad. */
		close(w[0].fd);
		ck.watches = (uintptr_t)w;
		EXPECT_EQ(-1, ioctl(fd, RUST_INOTIFY_IOC_RESTORE, &ck));
		EXPECT_EQ(EBADF, errno);
		for (unsigned int i = 1; i < ck.nr_watches; i++)
			close(w[i].fd);
	}
	EXPECT_TRUE(is_empty(fd));
	/* The failed attempts charged nothing, and the instance takes the good checkpoint now. */
	EXPECT_EQ(0, restore(fd, &self->d)) TH_LOG("%s", strerror(errno));
	close(fd);
	free(bad.ev);
#undef RESET
}

TEST_F(ckpt, limits_give_enospc_and_change_nothing)
{
	int fd;

	build_varied(_metadata, self);
	ASSERT_EQ(0, dump(self->fd, &self->d));
	/* This user has the dumped instance's 4 watches already: 7 is one short. */
	ASSERT_EQ(0, limit_set(&self->watches, 7));
	expect_refused(_metadata, &self->d, ENOSPC, "max_user_watches");
	ASSERT_EQ(0, limit_set(&self->watches, 8));
	fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, restore(fd, &self->d));
	close(fd);

	/* A queue limit below the dumped events: ENOSPC. */
	self->d.ck.max_events = self->d.ck.nr_events - 1;
	expect_refused(_metadata, &self->d, ENOSPC, "the dumped max_events");
	/* 0 keeps the new instance's own limit, sampled at its open. */
	self->d.ck.max_events = 0;
	ASSERT_EQ(0, limit_set(&self->events, self->d.ck.nr_events - 1));
	expect_refused(_metadata, &self->d, ENOSPC, "max_queued_events");
}

TEST_F(ckpt, dump_during_event_storm_is_a_consistent_snapshot)
{
	pid_t pid;
	int status;

	ASSERT_EQ(1, add(self->fd, self->dir, IN_MODIFY | IN_ATTRIB));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (int i = 0; i < 3000; i++)
			touch(self->file[i % NFILES]);
		_exit(0);
	}
	for (int round = 0; round < 200; round++) {
		size_t off = 0;
		unsigned int n = 0;

		ASSERT_EQ(0, dump(self->fd, &self->d));
		/* Whole records that add up to events_len and nr_events. */
		while (off < self->d.ck.events_len) {
			struct inotify_event *ev = (struct inotify_event *)(self->d.ev + off);

			ASSERT_EQ(0, ev->len % 16);
			off += sizeof(*ev) + ev->len;
			n++;
		}
		EXPECT_EQ(self->d.ck.events_len, off);
		EXPECT_EQ(self->d.ck.nr_events, n);
		if (round % 4 == 0) {
			static char buf[EVBUF];

			read_all(self->fd, buf, sizeof(buf));
		}
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
}

TEST_HARNESS_MAIN
