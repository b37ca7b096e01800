// SPDX-License-Identifier: GPL-2.0
/*
 * Events on a watched regular file: the exact streams upstream inotify queues for the file
 * operations (LTP inotify01, gVisor's inotify tests, spec §1.1/§1.3/§1.10 "Events on a watched
 * file"). Every case runs against the kernel's inotify and against /dev/rust_inotify.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "events.h"
#include "evcheck.h"
#include "scratch.h"

/* argv[1] that makes this binary exit at once (the exec case runs a copy of it). */
#define EXIT_NOW_ARG "--file-events-exit-now"

FIXTURE(fev) {
	int fd;			/* the instance, non-blocking */
	int wd;			/* IN_ALL_EVENTS watch on f */
	char dir[PATH_MAX];	/* scratch directory, not watched */
	char f[PATH_MAX];	/* dir/f, 10 bytes */
};

FIXTURE_VARIANT(fev) {
	const struct backend *be;
};

BACKEND_VARIANTS(fev);

FIXTURE_SETUP(fev)
{
	self->fd = variant->be->init(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("%s: init: %s", variant->be->name, strerror(errno));
	}
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "evt"));
	strcpy(self->f, pj(self->dir, "f"));
	ASSERT_EQ(0, write_file(self->f, "0123456789"));
	self->wd = variant->be->add_watch(self->fd, self->f, IN_ALL_EVENTS);
	ASSERT_EQ(1, self->wd);
	ASSERT_NO_EVENTS(self->fd);
}

FIXTURE_TEARDOWN(fev)
{
	if (self->fd >= 0)
		close(self->fd);
	scratch_remove(self->dir);
}

/* LTP inotify01 / checklist: chmod, open(RO), read, close, open(RW), write, close. */
TEST_F(fev, open_read_write_close_sequence)
{
	char buf[4];
	int f;

	ASSERT_EQ(0, chmod(self->f, 0600));
	f = open(self->f, O_RDONLY);
	ASSERT_LE(0, f);
	ASSERT_EQ(4, read(f, buf, 4));
	ASSERT_EQ(0, close(f));
	f = open(self->f, O_RDWR);
	ASSERT_LE(0, f);
	ASSERT_EQ(4, write(f, "abcd", 4));
	ASSERT_EQ(0, close(f));

	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_ATTRIB, NULL),
		      EV(self->wd, IN_OPEN, NULL),
		      EV(self->wd, IN_ACCESS, NULL),
		      EV(self->wd, IN_CLOSE_NOWRITE, NULL),
		      EV(self->wd, IN_OPEN, NULL),
		      EV(self->wd, IN_MODIFY, NULL),
		      EV(self->wd, IN_CLOSE_WRITE, NULL));
}

/* Opening write-only is still an open, and its close is CLOSE_WRITE. */
TEST_F(fev, open_wronly_and_trunc)
{
	int f = open(self->f, O_WRONLY);

	ASSERT_LE(0, f);
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN, NULL),
		      EV(self->wd, IN_CLOSE_WRITE, NULL));

	/* O_TRUNC: the open is reported, then the truncate (MODIFY) from handle_truncate(). */
	f = open(self->f, O_WRONLY | O_TRUNC);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN, NULL),
		      EV(self->wd, IN_MODIFY, NULL),
		      EV(self->wd, IN_CLOSE_WRITE, NULL));
}

/* chmod, chown: ATTRIB; each a separate (non-merged) event once read in between. */
TEST_F(fev, chmod_chown_attrib)
{
	ASSERT_EQ(0, chmod(self->f, 0640));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_ATTRIB, NULL));
	ASSERT_EQ(0, chown(self->f, 65534, 65534));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_ATTRIB, NULL));
	/* Two in a row merge into one (tail merge). */
	ASSERT_EQ(0, chmod(self->f, 0600));
	ASSERT_EQ(0, chown(self->f, 0, 0));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_ATTRIB, NULL));
}

/* truncate/ftruncate set ATTR_SIZE: MODIFY, even when the size does not change. */
TEST_F(fev, truncate_modify)
{
	int f;

	ASSERT_EQ(0, truncate(self->f, 4));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_MODIFY, NULL));
	ASSERT_EQ(0, truncate(self->f, 4));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_MODIFY, NULL));

	f = open(self->f, O_RDWR);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, ftruncate(f, 0));
	ASSERT_EQ(0, ftruncate(f, 100));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN, NULL),
		      EV(self->wd, IN_MODIFY, NULL),
		      EV(self->wd, IN_CLOSE_WRITE, NULL));
}

/* A truncate that fails gives nothing. */
TEST_F(fev, failed_truncate_nothing)
{
	int f;

	ASSERT_EQ(-1, truncate(self->f, -1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_NO_EVENTS(self->fd);

	f = open(self->f, O_RDWR);
	ASSERT_LE(0, f);
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_OPEN, NULL));
	ASSERT_EQ(-1, ftruncate(f, -1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_NO_EVENTS(self->fd);
	ASSERT_EQ(0, close(f));

	/* ftruncate on a read-only fd fails too. */
	f = open(self->f, O_RDONLY);
	ASSERT_LE(0, f);
	ASSERT_EQ(-1, ftruncate(f, 0));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_CLOSE_WRITE, NULL),
		      EV(self->wd, IN_OPEN, NULL),
		      EV(self->wd, IN_CLOSE_NOWRITE, NULL));
}

/* fallocate: MODIFY, also with KEEP_SIZE (upstream always reports a successful fallocate). */
TEST_F(fev, fallocate_modify)
{
	int f = open(self->f, O_RDWR);

	ASSERT_LE(0, f);
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_OPEN, NULL));
	ASSERT_EQ(0, fallocate(f, 0, 0, 8192));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_MODIFY, NULL));
	ASSERT_EQ(0, fallocate(f, FALLOC_FL_KEEP_SIZE, 8192, 4096));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_MODIFY, NULL));
	/* A failing fallocate (negative offset) gives nothing. */
	ASSERT_EQ(-1, fallocate(f, 0, -1, 10));
	ASSERT_NO_EVENTS(self->fd);
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CLOSE_WRITE, NULL));
}

/* utimensat: atime only is ACCESS, mtime only is MODIFY, both is ATTRIB, neither is nothing. */
TEST_F(fev, utimensat_times)
{
	struct timespec atime_only[2] = { { 1000, 0 }, { 0, UTIME_OMIT } };
	struct timespec mtime_only[2] = { { 0, UTIME_OMIT }, { 2000, 0 } };
	struct timespec both[2] = { { 3000, 0 }, { 4000, 0 } };
	struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	struct timespec neither[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };

	ASSERT_EQ(0, utimensat(AT_FDCWD, self->f, atime_only, 0));
	ASSERT_EQ(0, utimensat(AT_FDCWD, self->f, mtime_only, 0));
	ASSERT_EQ(0, utimensat(AT_FDCWD, self->f, both, 0));
	ASSERT_EQ(0, utimensat(AT_FDCWD, self->f, neither, 0));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_ACCESS, NULL),
		      EV(self->wd, IN_MODIFY, NULL),
		      EV(self->wd, IN_ATTRIB, NULL));
	ASSERT_EQ(0, utimensat(AT_FDCWD, self->f, now, 0));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_ATTRIB, NULL));
	ASSERT_EQ(0, utimensat(AT_FDCWD, self->f, NULL, 0));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_ATTRIB, NULL));
}

/* setxattr/removexattr: ATTRIB; getxattr/listxattr and failing calls: nothing. */
TEST_F(fev, xattr)
{
	char buf[256];
	int r = setxattr(self->f, "user.rust_inotify", "v", 1, 0);

	if (r < 0 && errno == EOPNOTSUPP)
		SKIP(return, "no user xattrs on this filesystem");
	ASSERT_EQ(0, r);
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_ATTRIB, NULL));

	ASSERT_EQ(1, getxattr(self->f, "user.rust_inotify", buf, sizeof(buf)));
	ASSERT_LT(0, listxattr(self->f, buf, sizeof(buf)));
	ASSERT_EQ(-1, getxattr(self->f, "user.absent", buf, sizeof(buf)));
	ASSERT_EQ(-1, setxattr(self->f, "user.rust_inotify", "w", 1, XATTR_CREATE));
	ASSERT_EQ(EEXIST, errno);
	ASSERT_EQ(-1, removexattr(self->f, "user.absent"));
	ASSERT_NO_EVENTS(self->fd);

	ASSERT_EQ(0, removexattr(self->f, "user.rust_inotify"));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_ATTRIB, NULL));
}

/* Zero-length read and write, and a read at EOF, give no ACCESS/MODIFY. */
TEST_F(fev, zero_length_io_nothing)
{
	char buf[16];
	int f = open(self->f, O_RDWR);

	ASSERT_LE(0, f);
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_OPEN, NULL));
	ASSERT_EQ(0, read(f, buf, 0));
	ASSERT_EQ(0, write(f, buf, 0));
	ASSERT_EQ(0, pread(f, buf, sizeof(buf), 10));	/* at EOF */
	ASSERT_EQ(0, pread(f, buf, sizeof(buf), 1000));	/* past EOF */
	ASSERT_EQ(0, pwrite(f, buf, 0, 5));
	ASSERT_EQ(10, lseek(f, 0, SEEK_END));
	ASSERT_EQ(0, read(f, buf, sizeof(buf)));
	ASSERT_NO_EVENTS(self->fd);
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CLOSE_WRITE, NULL));
}

/* pread/pwrite/readv/writev: one ACCESS/MODIFY per call, merged when consecutive. */
TEST_F(fev, positional_and_vectored_io)
{
	char a[3], b[3];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	int f = open(self->f, O_RDWR);

	ASSERT_LE(0, f);
	ASSERT_EQ(6, preadv(f, iov, 2, 0));
	ASSERT_EQ(6, pwritev(f, iov, 2, 2));
	ASSERT_EQ(3, pread(f, a, 3, 0));
	ASSERT_EQ(6, readv(f, iov, 2));
	ASSERT_EQ(6, writev(f, iov, 2));
	ASSERT_EQ(3, pwrite(f, a, 3, 0));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN, NULL),
		      EV(self->wd, IN_ACCESS, NULL),
		      EV(self->wd, IN_MODIFY, NULL),
		      EV(self->wd, IN_ACCESS, NULL),
		      EV(self->wd, IN_MODIFY, NULL),
		      EV(self->wd, IN_CLOSE_WRITE, NULL));
}

/*
 * sendfile: ACCESS on the source, then MODIFY on the destination. splice: in 7.3 (and since
 * 6.4) do_splice() reports MODIFY on the output and ACCESS on the input, so a file -> pipe
 * splice gives ACCESS on the file and a pipe -> file splice gives MODIFY.
 */
TEST_F(fev, sendfile_and_splice)
{
	const char *g = pj(self->dir, "g");
	int src, dst, wd_g, p[2];
	loff_t off = 0;

	ASSERT_EQ(0, write_file(g, ""));
	wd_g = variant->be->add_watch(self->fd, g, IN_ALL_EVENTS);
	ASSERT_EQ(2, wd_g);
	src = open(self->f, O_RDONLY);
	ASSERT_LE(0, src);
	dst = open(g, O_WRONLY);
	ASSERT_LE(0, dst);
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_OPEN, NULL), EV(wd_g, IN_OPEN, NULL));

	ASSERT_EQ(4, sendfile(dst, src, NULL, 4));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_ACCESS, NULL), EV(wd_g, IN_MODIFY, NULL));

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(3, splice(src, &off, p[1], NULL, 3, 0));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_ACCESS, NULL));
	ASSERT_EQ(3, splice(p[0], NULL, dst, NULL, 3, 0));
	ASSERT_EVENTS(self->fd, EV(wd_g, IN_MODIFY, NULL));
	close(p[0]);
	close(p[1]);
	ASSERT_EQ(0, close(src));
	ASSERT_EQ(0, close(dst));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_CLOSE_NOWRITE, NULL),
		      EV(wd_g, IN_CLOSE_WRITE, NULL));
}

static int copy_self(const char *dst)
{
	char buf[65536];
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int out;
	ssize_t r;

	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, r) != r) {
			r = -1;
			break;
		}
	close(in);
	if (close(out) || r < 0)
		return -1;
	return 0;
}

/*
 * Exec of a watched binary: OPEN (FS_OPEN|FS_OPEN_EXEC, reported as IN_OPEN), ACCESS (the
 * loader's kernel_read()s, merged) and, when the process is gone, CLOSE_NOWRITE.
 */
TEST_F(fev, exec_open_access_close)
{
	const char *prog = pj(self->dir, "prog");
	int wd, status;
	pid_t pid;

	ASSERT_EQ(0, copy_self(prog));
	wd = variant->be->add_watch(self->fd, prog, IN_ALL_EVENTS);
	ASSERT_EQ(2, wd);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		execl(prog, prog, EXIT_NOW_ARG, (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	ASSERT_EVENTS(self->fd,
		      EV(wd, IN_OPEN, NULL),
		      EV(wd, IN_ACCESS, NULL),
		      EV(wd, IN_CLOSE_NOWRITE, NULL));
}

/* CLOSE fires at the last close of the open file description, not at each close(). */
TEST_F(fev, dup_close_fires_at_last_close)
{
	int f = open(self->f, O_RDONLY);
	int g;

	ASSERT_LE(0, f);
	g = dup(f);
	ASSERT_LE(0, g);
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_OPEN, NULL));
	ASSERT_EQ(0, close(g));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CLOSE_NOWRITE, NULL));
}

/* fork() shares the description: the child's exit does not close it, the parent's close does. */
TEST_F(fev, fork_shares_description)
{
	int f = open(self->f, O_RDWR);
	int status;
	pid_t pid;

	ASSERT_LE(0, f);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(write(f, "x", 1) == 1 ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(1, lseek(f, 0, SEEK_CUR));	/* shared offset */
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN, NULL),
		      EV(self->wd, IN_MODIFY, NULL));
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CLOSE_WRITE, NULL));
}

/* A process that exits without closing still closes its files: CLOSE is reported. */
TEST_F(fev, exit_without_close)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		char c;
		int f = open(self->f, O_RDONLY);

		_exit(f >= 0 && read(f, &c, 1) == 1 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN, NULL),
		      EV(self->wd, IN_ACCESS, NULL),
		      EV(self->wd, IN_CLOSE_NOWRITE, NULL));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int f = open(self->f, O_WRONLY);

		_exit(f >= 0 && write(f, "x", 1) == 1 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EVENTS(self->fd,
		      EV(self->wd, IN_OPEN, NULL),
		      EV(self->wd, IN_MODIFY, NULL),
		      EV(self->wd, IN_CLOSE_WRITE, NULL));
}

/* An mmap keeps the file open; access through the mapping is not reported; munmap closes. */
TEST_F(fev, mmap_keeps_file_open)
{
	char *p;
	int f = open(self->f, O_RDWR);

	ASSERT_LE(0, f);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, close(f));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_OPEN, NULL));
	ASSERT_EQ('0', p[0]);
	p[1] = 'x';
	ASSERT_EQ(0, msync(p, 4096, MS_SYNC));
	ASSERT_NO_EVENTS(self->fd);
	ASSERT_EQ(0, munmap(p, 4096));
	ASSERT_EVENTS(self->fd, EV(self->wd, IN_CLOSE_WRITE, NULL));
}

/* O_PATH opens are not opens: nothing on the file or on its (watched) directory. */
TEST_F(fev, opath_no_events)
{
	struct stat st;
	int wd_dir = variant->be->add_watch(self->fd, self->dir, IN_ALL_EVENTS);
	int f, d;

	ASSERT_EQ(2, wd_dir);
	f = open(self->f, O_PATH);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, fstat(f, &st));
	d = open(self->dir, O_PATH | O_DIRECTORY);
	ASSERT_LE(0, d);
	ASSERT_EQ(0, close(f));
	ASSERT_EQ(0, close(d));
	ASSERT_NO_EVENTS(self->fd);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], EXIT_NOW_ARG))
		return 0;
	return test_harness_run(argc, argv);
}
