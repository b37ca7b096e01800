// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/self/fdinfo/<fd> of an inotify instance: one line per watch, newest first, exactly
 *
 *	inotify wd:%x ino:%lx sdev:%x mask:%x ignored_mask:0 fhandle-bytes:%x fhandle-type:%x f_handle:<hex>
 *
 * with sdev the kernel dev_t (MAJOR << 20 | MINOR), mask the event bits plus IN_ONESHOT and
 * IN_EXCL_UNLINK (never the request-only flags) and the fhandle of exportfs_encode_fid(), the same
 * as name_to_handle_at(AT_HANDLE_FID). Each expected line is built from stat() and
 * name_to_handle_at(); the rust variant is also compared line for line with a kernel instance
 * given the same watches. Lines that are not "inotify " lines (the generic ones, rust_inotify's
 * "rust_inotify " allocator line) are not looked at here.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "scratch.h"

#ifndef AT_HANDLE_FID
#define AT_HANDLE_FID	0x200
#endif
#ifndef MAX_HANDLE_SZ
#define MAX_HANDLE_SZ	128
#endif

#define MAX_LINES	16
#define LINE_LEN	512

enum { P_A, P_B, P_C, P_E, P_F, P_D, P_L, P_COUNT };

static const char *const names[P_COUNT] = { "a", "b", "c", "e", "f", "d", "l" };

FIXTURE(fdinfo) {
	char dir[PATH_MAX];
	char p[P_COUNT][PATH_MAX];
	int fd;			/* the backend under test */
	int ref;		/* a kernel instance given the same watches */
};

FIXTURE_VARIANT(fdinfo) {
	const struct backend *be;
};

BACKEND_VARIANTS(fdinfo);

FIXTURE_SETUP(fdinfo)
{
	int err = 0;

	/* The teardown does not run after a failed setup: fail before making files. */
	self->fd = variant->be->init(O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("init: %s", strerror(errno));
	self->ref = kernel_backend.init(O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->ref);
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "fdinfo"));
	for (int i = 0; i < P_COUNT; i++)
		scratch_path(self->p[i], sizeof(self->p[i]), self->dir, names[i]);
	for (int i = P_A; i <= P_F; i++)
		err |= scratch_file(self->p[i], 0644);
	err |= mkdir(self->p[P_D], 0755);
	err |= symlink("a", self->p[P_L]);
	if (err)
		scratch_remove(self->dir);
	ASSERT_EQ(0, err);
}

FIXTURE_TEARDOWN(fdinfo)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->ref >= 0)
		close(self->ref);
	scratch_remove(self->dir);
}

struct lines {
	int n;
	char l[MAX_LINES][LINE_LEN];	/* without the '\n' */
};

/* Collects the "inotify " lines of @fd's fdinfo, in order. Returns 0 or -1. */
static int inotify_lines(int fd, struct lines *out)
{
	static char buf[65536];
	char path[64], *line, *save;
	ssize_t n, len = 0;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	while ((n = read(f, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(f);
	if (n < 0)
		return -1;
	buf[len] = 0;
	if (len && buf[len - 1] != '\n') {
		errno = EPROTO;		/* every line ends with '\n' */
		return -1;
	}
	out->n = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "inotify ", 8))
			continue;
		if (out->n == MAX_LINES || strlen(line) >= LINE_LEN) {
			errno = E2BIG;
			return -1;
		}
		strcpy(out->l[out->n++], line);
	}
	return 0;
}

/*
 * The line upstream prints for a watch @wd with user mask @mask on @path (the symlink itself if
 * !@follow). Returns 0 or -1.
 */
static int expected_line(char *out, size_t size, int wd, const char *path, int follow,
			 uint32_t mask)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[MAX_HANDLE_SZ];
	} h;
	struct stat st;
	int mnt, o;

	/* h.bytes is where the flexible f_handle[] lands. */
	_Static_assert(sizeof(struct file_handle) == 8, "f_handle[] at offset 8");
	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
		return -1;
	o = snprintf(out, size, "inotify wd:%x ino:%" PRIx64 " sdev:%x mask:%x ignored_mask:0 ",
		     wd, (uint64_t)st.st_ino, major(st.st_dev) << 20 | minor(st.st_dev), mask);
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt,
			      (follow ? AT_SYMLINK_FOLLOW : 0) | AT_HANDLE_FID) < 0) {
		/* No fid for this inode: upstream prints no fhandle part either. */
		if (errno != EOPNOTSUPP)
			return -1;
		return 0;
	}
	o += snprintf(out + o, size - o, "fhandle-bytes:%x fhandle-type:%x f_handle:",
		      h.fh.handle_bytes, h.fh.handle_type);
	for (unsigned int i = 0; i < h.fh.handle_bytes && (size_t)o < size; i++)
		o += snprintf(out + o, size - o, "%02x", h.bytes[i]);
	return (size_t)o < size ? 0 : -1;
}

struct want {
	int wd;
	int path;	/* P_* */
	int follow;
	uint32_t mask;
};

/* @fd's watch lines are exactly @want, in that order. */
static void check_lines(struct __test_metadata *_metadata, FIXTURE_DATA(fdinfo) *self, int fd,
			const struct want *want, int n)
{
	char exp[LINE_LEN];
	struct lines got;

	ASSERT_EQ(0, inotify_lines(fd, &got)) TH_LOG("fdinfo: %s", strerror(errno));
	ASSERT_EQ(n, got.n) TH_LOG("first line: %s", got.n ? got.l[0] : "(none)");
	for (int i = 0; i < n; i++) {
		ASSERT_EQ(0, expected_line(exp, sizeof(exp), want[i].wd, self->p[want[i].path],
					   want[i].follow, want[i].mask));
		EXPECT_STREQ(exp, got.l[i]) TH_LOG("line %d", i);
	}
}

#define CHECK_LINES(...) do {						\
	const struct want _want[] = { __VA_ARGS__ };			\
	check_lines(_metadata, self, self->fd, _want,			\
		    sizeof(_want) / sizeof(_want[0]));			\
} while (0)

/* Adds the same watch to the backend and to the kernel reference; both must give @wd. */
static void add_both(struct __test_metadata *_metadata, FIXTURE_DATA(fdinfo) *self,
		     const FIXTURE_VARIANT(fdinfo) *variant, int path, uint32_t mask, int wd)
{
	EXPECT_EQ(wd, variant->be->add_watch(self->fd, self->p[path], mask))
		TH_LOG("%s mask %#x: %s", names[path], mask, strerror(errno));
	EXPECT_EQ(wd, kernel_backend.add_watch(self->ref, self->p[path], mask));
}

/* The backend's lines equal the kernel reference's. */
static void same_as_kernel(struct __test_metadata *_metadata, FIXTURE_DATA(fdinfo) *self)
{
	struct lines got, ref;

	ASSERT_EQ(0, inotify_lines(self->fd, &got));
	ASSERT_EQ(0, inotify_lines(self->ref, &ref));
	ASSERT_EQ(ref.n, got.n);
	for (int i = 0; i < ref.n; i++) {
		EXPECT_STREQ(ref.l[i], got.l[i]) TH_LOG("line %d", i);
	}
}

#define ADD_BOTH(path, mask, wd) add_both(_metadata, self, variant, (path), (mask), (wd))

TEST_F(fdinfo, no_watches_no_lines)
{
	struct lines got;

	ASSERT_EQ(0, inotify_lines(self->fd, &got));
	EXPECT_EQ(0, got.n);
}

TEST_F(fdinfo, one_watch_exact_line)
{
	ADD_BOTH(P_A, IN_MODIFY, 1);
	CHECK_LINES({ 1, P_A, 1, IN_MODIFY });
	same_as_kernel(_metadata, self);
}

TEST_F(fdinfo, newest_first)
{
	ADD_BOTH(P_A, IN_MODIFY, 1);
	ADD_BOTH(P_B, IN_ATTRIB, 2);
	ADD_BOTH(P_D, IN_CREATE | IN_DELETE, 3);
	ADD_BOTH(P_C, IN_ALL_EVENTS, 4);
	CHECK_LINES({ 4, P_C, 1, IN_ALL_EVENTS },
		    { 3, P_D, 1, IN_CREATE | IN_DELETE },
		    { 2, P_B, 1, IN_ATTRIB },
		    { 1, P_A, 1, IN_MODIFY });
	same_as_kernel(_metadata, self);
}

TEST_F(fdinfo, mask_shows_oneshot_and_excl_unlink)
{
	ADD_BOTH(P_A, IN_MODIFY | IN_ONESHOT, 1);
	ADD_BOTH(P_B, IN_ATTRIB | IN_EXCL_UNLINK, 2);
	ADD_BOTH(P_C, IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK, 3);
	CHECK_LINES({ 3, P_C, 1, IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK },
		    { 2, P_B, 1, IN_ATTRIB | IN_EXCL_UNLINK },
		    { 1, P_A, 1, IN_MODIFY | IN_ONESHOT });
	same_as_kernel(_metadata, self);
}

/* ONLYDIR, DONT_FOLLOW, MASK_ADD, MASK_CREATE, ISDIR and the generated bits are not kept. */
TEST_F(fdinfo, mask_hides_request_flags)
{
	ADD_BOTH(P_D, IN_CREATE | IN_ONLYDIR, 1);
	ADD_BOTH(P_L, IN_ATTRIB | IN_DONT_FOLLOW, 2);
	ADD_BOTH(P_A, IN_MODIFY, 3);
	ADD_BOTH(P_A, IN_ATTRIB | IN_MASK_ADD, 3);
	ADD_BOTH(P_B, IN_ISDIR, 4);
	ADD_BOTH(P_C, IN_MODIFY | IN_MASK_CREATE, 5);
	ADD_BOTH(P_E, IN_MODIFY | IN_UNMOUNT | IN_IGNORED | IN_Q_OVERFLOW, 6);
	CHECK_LINES({ 6, P_E, 1, IN_MODIFY },
		    { 5, P_C, 1, IN_MODIFY },
		    { 4, P_B, 1, 0 },
		    { 3, P_A, 1, IN_MODIFY | IN_ATTRIB },
		    { 2, P_L, 0, IN_ATTRIB },
		    { 1, P_D, 1, IN_CREATE });
	same_as_kernel(_metadata, self);
}

TEST_F(fdinfo, readd_replaces_mask_and_flags)
{
	ADD_BOTH(P_A, IN_MODIFY | IN_ONESHOT | IN_EXCL_UNLINK, 1);
	ADD_BOTH(P_A, IN_ATTRIB, 1);
	CHECK_LINES({ 1, P_A, 1, IN_ATTRIB });
	ADD_BOTH(P_A, IN_CLOSE_WRITE | IN_ONESHOT | IN_MASK_ADD, 1);
	CHECK_LINES({ 1, P_A, 1, IN_ATTRIB | IN_CLOSE_WRITE | IN_ONESHOT });
	same_as_kernel(_metadata, self);
}

/* Updating a watch changes its line in place: the order is by creation. */
TEST_F(fdinfo, update_keeps_position)
{
	ADD_BOTH(P_A, IN_MODIFY, 1);
	ADD_BOTH(P_B, IN_MODIFY, 2);
	ADD_BOTH(P_C, IN_MODIFY, 3);
	ADD_BOTH(P_A, IN_OPEN | IN_MASK_ADD, 1);
	CHECK_LINES({ 3, P_C, 1, IN_MODIFY },
		    { 2, P_B, 1, IN_MODIFY },
		    { 1, P_A, 1, IN_MODIFY | IN_OPEN });
	same_as_kernel(_metadata, self);
}

TEST_F(fdinfo, rm_removes_line)
{
	ADD_BOTH(P_A, IN_MODIFY, 1);
	ADD_BOTH(P_B, IN_MODIFY, 2);
	ADD_BOTH(P_C, IN_MODIFY, 3);
	ASSERT_EQ(0, variant->be->rm_watch(self->fd, 2));
	ASSERT_EQ(0, kernel_backend.rm_watch(self->ref, 2));
	CHECK_LINES({ 3, P_C, 1, IN_MODIFY }, { 1, P_A, 1, IN_MODIFY });
	same_as_kernel(_metadata, self);
	/* A new watch goes first. */
	ADD_BOTH(P_B, IN_ATTRIB, 4);
	CHECK_LINES({ 4, P_B, 1, IN_ATTRIB },
		    { 3, P_C, 1, IN_MODIFY },
		    { 1, P_A, 1, IN_MODIFY });
	same_as_kernel(_metadata, self);
}

TEST_F(fdinfo, oneshot_fired_removes_line)
{
	ADD_BOTH(P_A, IN_MODIFY | IN_ONESHOT, 1);
	ADD_BOTH(P_B, IN_MODIFY, 2);
	ASSERT_EQ(0, scratch_append(self->p[P_A]));
	CHECK_LINES({ 2, P_B, 1, IN_MODIFY });
	same_as_kernel(_metadata, self);
}

/* wd is printed in hex (the proc documentation says decimal; the code says %x). */
TEST_F(fdinfo, wd_in_hex)
{
	struct lines got;

	ASSERT_EQ(0, ioctl(self->fd, INOTIFY_IOC_SETNEXTWD, 10UL));
	ASSERT_EQ(0, ioctl(self->ref, INOTIFY_IOC_SETNEXTWD, 10UL));
	ADD_BOTH(P_A, IN_MODIFY, 10);
	ASSERT_EQ(0, ioctl(self->fd, INOTIFY_IOC_SETNEXTWD, 0x34d71d6UL));
	ASSERT_EQ(0, ioctl(self->ref, INOTIFY_IOC_SETNEXTWD, 0x34d71d6UL));
	ADD_BOTH(P_B, IN_MODIFY, 0x34d71d6);
	ASSERT_EQ(0, inotify_lines(self->fd, &got));
	ASSERT_EQ(2, got.n);
	EXPECT_EQ(0, strncmp(got.l[0], "inotify wd:34d71d6 ", 19)) TH_LOG("%s", got.l[0]);
	EXPECT_EQ(0, strncmp(got.l[1], "inotify wd:a ", 13)) TH_LOG("%s", got.l[1]);
	CHECK_LINES({ 0x34d71d6, P_B, 1, IN_MODIFY }, { 10, P_A, 1, IN_MODIFY });
	same_as_kernel(_metadata, self);
}

/* CRIU's parser: 7 conversions, then the hex handle. */
TEST_F(fdinfo, criu_parse)
{
	struct lines got;
	const int paths[] = { P_D, P_A };

	ADD_BOTH(P_A, IN_MODIFY | IN_ONESHOT, 1);
	ADD_BOTH(P_D, IN_CREATE | IN_EXCL_UNLINK, 2);
	ASSERT_EQ(0, inotify_lines(self->fd, &got));
	ASSERT_EQ(2, got.n);
	for (int i = 0; i < 2; i++) {
		unsigned int wd, sdev, mask, ignored, bytes, type;
		uint64_t ino;
		struct stat st;
		int off = -1, r;
		const char *hex;

		r = sscanf(got.l[i], "inotify wd:%x ino:%" SCNx64 " sdev:%x mask:%x ignored_mask:%x "
			   "fhandle-bytes:%x fhandle-type:%x f_handle:%n",
			   &wd, &ino, &sdev, &mask, &ignored, &bytes, &type, &off);
		ASSERT_EQ(7, r) TH_LOG("%s", got.l[i]);
		ASSERT_LT(0, off);
		ASSERT_EQ(0, stat(self->p[paths[i]], &st));
		EXPECT_EQ(2 - i, (int)wd);
		EXPECT_EQ((uint64_t)st.st_ino, ino);
		EXPECT_EQ(major(st.st_dev) << 20 | minor(st.st_dev), sdev);
		EXPECT_EQ(i ? IN_MODIFY | IN_ONESHOT : IN_CREATE | IN_EXCL_UNLINK, mask);
		EXPECT_EQ(0, ignored);
		EXPECT_LT(0, (int)bytes);
		EXPECT_GE(MAX_HANDLE_SZ, (int)bytes);
		hex = got.l[i] + off;
		EXPECT_EQ(2 * bytes, strlen(hex)) TH_LOG("%s", got.l[i]);
		EXPECT_EQ(strlen(hex), strspn(hex, "0123456789abcdef")) TH_LOG("%s", got.l[i]);
	}
}

/* A watch on another filesystem: sdev and fhandle are that filesystem's. */
TEST_F(fdinfo, other_filesystems)
{
	/* Borrow path slots for absolute paths outside the scratch dir. */
	strcpy(self->p[P_E], "/");
	strcpy(self->p[P_F], "/dev/null");
	ADD_BOTH(P_E, IN_CREATE, 1);
	ADD_BOTH(P_F, IN_ACCESS | IN_MODIFY, 2);
	ADD_BOTH(P_A, IN_MODIFY, 3);
	CHECK_LINES({ 3, P_A, 1, IN_MODIFY },
		    { 2, P_F, 1, IN_ACCESS | IN_MODIFY },
		    { 1, P_E, 1, IN_CREATE });
	same_as_kernel(_metadata, self);
}

/* Each instance shows only its own watches, even on shared inodes. */
TEST_F(fdinfo, per_instance)
{
	int fd2 = variant->be->init(O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd2);
	ASSERT_EQ(1, variant->be->add_watch(fd2, self->p[P_B], IN_ATTRIB));
	ADD_BOTH(P_A, IN_MODIFY, 1);
	ADD_BOTH(P_B, IN_MODIFY, 2);
	CHECK_LINES({ 2, P_B, 1, IN_MODIFY }, { 1, P_A, 1, IN_MODIFY });
	{
		const struct want w[] = { { 1, P_B, 1, IN_ATTRIB } };

		check_lines(_metadata, self, fd2, w, 1);
	}
	EXPECT_EQ(0, close(fd2));
}

/*
 * Beyond upstream, the device's fdinfo ends with "rust_inotify next-wd:%x": where the next new
 * watch's search starts, always a valid SETNEXTWD argument, so that a checkpoint can restore
 * the allocator exactly. Rust-only: the kernel's inotify has no such line.
 */
static long next_wd(int fd)
{
	char path[64], line[512];
	long next = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "rust_inotify next-wd:%lx", &next) == 1)
			break;
	fclose(f);
	return next;
}

static int rust_add(int fd, const char *path)
{
	return rust_add_watch(fd, path, IN_ATTRIB);
}

TEST(rust_next_wd_line_follows_the_allocator)
{
	char dir[PATH_MAX], a[PATH_MAX + 2], b[PATH_MAX + 2], c[PATH_MAX + 2];
	int fd = rust_init(0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, scratch_make(dir, sizeof(dir), "nextwd"));
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	snprintf(c, sizeof(c), "%s/c", dir);
	ASSERT_EQ(0, mkdir(a, 0755));
	ASSERT_EQ(0, mkdir(b, 0755));
	ASSERT_EQ(0, mkdir(c, 0755));

	EXPECT_EQ(1, next_wd(fd));
	ASSERT_EQ(1, rust_add(fd, a));
	EXPECT_EQ(2, next_wd(fd));
	/* A removed wd does not move the cursor back. */
	ASSERT_EQ(0, rust_rm_watch(fd, 1));
	EXPECT_EQ(2, next_wd(fd));
	ASSERT_EQ(0, ioctl(fd, INOTIFY_IOC_SETNEXTWD, 0x34d71d6UL));
	EXPECT_EQ(0x34d71d6, next_wd(fd));
	ASSERT_EQ(0x34d71d6, rust_add(fd, b));
	EXPECT_EQ(0x34d71d7, next_wd(fd));
	/* After INT_MAX the cursor wraps; the line shows where the search really starts: 1. */
	ASSERT_EQ(0, ioctl(fd, INOTIFY_IOC_SETNEXTWD, (unsigned long)INT_MAX));
	ASSERT_EQ(INT_MAX, rust_add(fd, c));
	EXPECT_EQ(1, next_wd(fd));
	close(fd);
	scratch_remove(dir);
}

TEST(rust_next_wd_line_restores_the_allocator)
{
	char dir[PATH_MAX], a[PATH_MAX + 2], b[PATH_MAX + 2];
	int fd = rust_init(0), restored;
	long next;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, scratch_make(dir, sizeof(dir), "nextwd"));
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	ASSERT_EQ(0, mkdir(a, 0755));
	ASSERT_EQ(0, mkdir(b, 0755));
	for (int i = 0; i < 5; i++) {
		int wd = rust_add(fd, a);

		ASSERT_EQ(i + 1, wd);
		ASSERT_EQ(0, rust_rm_watch(fd, wd));
	}
	/* Checkpoint: the next new watch here would get 6. */
	next = next_wd(fd);
	ASSERT_EQ(6, next);

	/* Restore into a new instance: the same next wd. */
	restored = rust_init(0);
	ASSERT_LE(0, restored);
	ASSERT_EQ(0, ioctl(restored, INOTIFY_IOC_SETNEXTWD, (unsigned long)next));
	EXPECT_EQ(rust_add(fd, b), rust_add(restored, b));
	close(restored);
	close(fd);
	scratch_remove(dir);
}

TEST_HARNESS_MAIN
