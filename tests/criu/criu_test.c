// SPDX-License-Identifier: GPL-2.0
/*
 * The criu suite: real `criu dump` and `criu restore` of processes holding inotify instances,
 * each scenario once on /dev/rust_inotify (through rust_inotify_plugin.so) and once on the
 * kernel's own inotify (which CRIU checkpoints itself). TAP 13 on stdout.
 *
 * Each case:
 *   1. a child (setsid, stdio on /dev/null) builds the scenario's instances at fds 100, 101 and
 *      says so; the test process then builds a twin of every instance with the same calls (same
 *      open flags, SETNEXTWD, adds and removes), and makes the scenario's file-system activity
 *      once, so that each instance and its twin queue the very same events;
 *   2. "before": the child's /proc/PID/fdinfo of each instance;
 *   3. criu dump -t PID (the child's tree) and criu restore -d, each under a timeout, with
 *      -L the plugin's directory; some scenarios change the files in between, dump twice, or
 *      dump with --leave-running;
 *   4. "after": the restored child's fdinfo; then on SIGUSR1 the child reads every byte queued
 *      on each instance, adds a fresh watch and writes both down; the twin does the same here.
 * On /dev/rust_inotify the restored instance must be the dumped one: fdinfo byte-identical (the
 * wds, masks with IN_ONESHOT and IN_EXCL_UNLINK, handles, the "rust_inotify next-wd:" cursor,
 * O_NONBLOCK and O_CLOEXEC in "flags:"), read() bytes identical to the twin's (names, cookies,
 * the overflow record), and the fresh watch's wd the twin's. On the kernel's inotify the test
 * asserts what CRIU does keep (a successful dump and restore, the same wds) and prints what it
 * loses as "# info:" lines, never as failures.
 *
 * Environment: RI_CRIU (default "criu"), RI_CRIU_PLUGINS (the -L directory, /usr/lib/criu),
 * RI_CRIU_TIMEOUT (seconds per criu call, 300), RI_CRIU_ONLY (run only the scenario of that
 * name), RI_CRIU_BACKENDS ("rust_inotify", "kernel" or both, the default).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rust_inotify.h"

#define FD_BASE		100	/* the child's instances are fds 100, 101 */
#define MAX_INST	2
#define MANY		10000	/* the 10^4-watch scenario */

enum backend { DEV, KERNEL };
static const char *const be_name[] = { "rust_inotify", "kernel" };

static const char *criu_bin, *plugin_dir;
static int criu_timeout;
static int test_no, failures;

/* ---- small helpers ---- */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("Bail out! ");
	vprintf(fmt, ap);
	printf(": %s\n", strerror(errno));
	va_end(ap);
	exit(1);
}

static char *read_file(const char *path, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb = realloc(buf, 2 * cap + 1);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *p = buf;

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return close(fd);
}

static void touch_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		die("create %s", path);
	close(fd);
}

static void append(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		die("append %s", path);
	close(fd);
}

static void sysctl_write(const char *path, unsigned long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu\n", v);
	if (write_file(path, buf, strlen(buf)) < 0)
		die("write %s", path);
}

static unsigned long sysctl_read(const char *path)
{
	char *s = read_file(path, NULL);
	unsigned long v = s ? strtoul(s, NULL, 10) : 0;

	free(s);
	return v;
}

/* Waits until @path exists, for at most @secs seconds. */
static bool wait_file(const char *path, int secs)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	for (long i = 0; i < secs * 50L; i++) {
		if (access(path, F_OK) == 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* ---- the two backends ---- */

static int be_open(enum backend be, int flags)
{
	if (be == KERNEL)
		return inotify_init1(flags);
	return open(RUST_INOTIFY_DEV, O_RDONLY | flags);
}

static int be_add(enum backend be, int fd, const char *path, uint32_t mask)
{
	struct rust_inotify_add_watch a = { .pathname = (uintptr_t)path, .dirfd = AT_FDCWD,
					    .mask = mask };

	if (be == KERNEL)
		return inotify_add_watch(fd, path, mask);
	return ioctl(fd, RUST_INOTIFY_IOC_ADD_WATCH, &a);
}

static int be_rm(enum backend be, int fd, int wd)
{
	if (be == KERNEL)
		return inotify_rm_watch(fd, wd);
	return ioctl(fd, RUST_INOTIFY_IOC_RM_WATCH, (long)wd);
}

static int setnextwd(int fd, int wd)
{
	return ioctl(fd, INOTIFY_IOC_SETNEXTWD, (long)wd);
}

/* ---- scenarios ---- */

/* Where a scenario works: w/ is watched, res/ (the child's results) and img/ are not. */
struct ctx {
	enum backend be;
	char w[1024];		/* absolute path of the watched directory */
	int fds[MAX_INST];
	int n;
	bool failed;		/* a set-up call failed (the case fails) */
};

static const char *at(struct ctx *c, const char *name)
{
	static char buf[4][PATH_MAX];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", c->w, name);
	return buf[k];
}

/* Opens an instance; the child's end up at FD_BASE + i (keeping O_CLOEXEC). */
static int inst(struct ctx *c, int flags)
{
	int fd = be_open(c->be, flags);

	if (fd < 0) {
		c->failed = true;
		return -1;
	}
	c->fds[c->n++] = fd;
	return fd;
}

static int add(struct ctx *c, int fd, const char *name, uint32_t mask)
{
	int wd = be_add(c->be, fd, at(c, name), mask);

	if (wd < 0)
		c->failed = true;
	return wd;
}

static void next(struct ctx *c, int fd, int wd)
{
	if (setnextwd(fd, wd) < 0)
		c->failed = true;
}

enum {
	OPT_FORK = 1,		/* the child forks: the instance is shared by two processes */
	OPT_TWICE = 2,		/* dump, restore, dump the restored process, restore */
	OPT_LEAVE = 4,		/* the first dump with --leave-running */
	OPT_FAIL = 8,		/* the restore must fail (the watched inode is gone) */
	OPT_NO_READ = 16,	/* read() bytes may differ from the twin's (files changed) */
	OPT_QLIMIT = 32,	/* max_queued_events 16 while the instances are opened */
	OPT_KMAYFAIL = 64,	/* CRIU itself may fail to restore the kernel's inotify */
};

struct scenario {
	const char *name;
	const char *what;
	unsigned int opts;
	void (*prepare)(struct ctx *c);		/* files, once */
	void (*build)(struct ctx *c);		/* instances: in the child and for the twin */
	void (*activity)(struct ctx *c);	/* events, once, for both */
	void (*between)(struct ctx *c);		/* between dump and restore */
};

static void files_abc(struct ctx *c)
{
	touch_file(at(c, "a"));
	touch_file(at(c, "b"));
	touch_file(at(c, "c"));
	mkdir(at(c, "d"), 0755);
}

static void no_activity(struct ctx *c)
{
	(void)c;
}

/* sparse wds */
static void build_sparse(struct ctx *c)
{
	int fd = inst(c, 0);

	next(c, fd, 0x34d71d6);
	add(c, fd, "a", IN_MODIFY);
	next(c, fd, INT_MAX);
	add(c, fd, "b", IN_ATTRIB);
	add(c, fd, "c", IN_OPEN);	/* wraps around: wd 1 */
	next(c, fd, 777);
	add(c, fd, "d", IN_CREATE | IN_DELETE);
}

static void act_sparse(struct ctx *c)
{
	append(at(c, "a"), "x");
	chmod(at(c, "b"), 0600);
}

/* 10^4 watches, with holes */
static void prepare_many(struct ctx *c)
{
	char name[32];

	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		touch_file(at(c, name));
	}
}

static void build_many(struct ctx *c)
{
	int fd = inst(c, 0);
	char name[32];

	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		if (i == MANY / 2)
			next(c, fd, 0x34d71d6);
		add(c, fd, name, IN_MODIFY | IN_ATTRIB | (i % 3 ? 0 : IN_ONESHOT));
	}
	for (int wd = 100; wd < 200; wd += 7)
		be_rm(c->be, fd, wd);
}

static void act_many(struct ctx *c)
{
	append(at(c, "f00042"), "x");
	append(at(c, "f09999"), "y");
}

/* masks with IN_ONESHOT, IN_EXCL_UNLINK, IN_MASK_ADD, IN_ONLYDIR, IN_DONT_FOLLOW */
static void build_masks(struct ctx *c)
{
	int fd = inst(c, 0);

	add(c, fd, "a", IN_MODIFY | IN_ONESHOT);
	add(c, fd, "b", IN_MODIFY);
	add(c, fd, "b", IN_ATTRIB | IN_MASK_ADD);
	add(c, fd, "d", IN_ALL_EVENTS | IN_EXCL_UNLINK | IN_ONLYDIR);
	add(c, fd, "c", IN_CLOSE_WRITE | IN_DONT_FOLLOW | IN_ONESHOT | IN_EXCL_UNLINK);
}

/* the cursor: the last wds removed, so the next add is not "highest + 1" */
static void build_cursor(struct ctx *c)
{
	int fd = inst(c, 0);
	int wd[4];

	wd[0] = add(c, fd, "a", IN_MODIFY);
	wd[1] = add(c, fd, "b", IN_MODIFY);
	wd[2] = add(c, fd, "c", IN_MODIFY);
	wd[3] = add(c, fd, "d", IN_CREATE);
	be_rm(c->be, fd, wd[3]);
	be_rm(c->be, fd, wd[2]);
	(void)wd[0];
	(void)wd[1];
}

/* queued events with and without names, and IN_IGNORED */
static void build_events(struct ctx *c)
{
	int fd = inst(c, 0);

	add(c, fd, "d", IN_ALL_EVENTS);
	add(c, fd, "a", IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE);
	add(c, fd, "b", IN_ATTRIB);
}

static void act_events(struct ctx *c)
{
	touch_file(at(c, "d/x"));			/* IN_CREATE "x", IN_OPEN, IN_CLOSE_WRITE */
	touch_file(at(c, "d/a-much-longer-name-than-16-bytes"));
	mkdir(at(c, "d/sub"), 0755);			/* IN_CREATE|IN_ISDIR */
	append(at(c, "a"), "1");			/* no name */
	chmod(at(c, "a"), 0640);
	unlink(at(c, "d/x"));				/* IN_DELETE */
	unlink(at(c, "b"));				/* IN_ATTRIB, IN_DELETE_SELF, IN_IGNORED */
}

/* rename cookie pairs */
static void prepare_rename(struct ctx *c)
{
	files_abc(c);
	mkdir(at(c, "e"), 0755);
	touch_file(at(c, "d/one"));
	touch_file(at(c, "d/two"));
}

static void build_rename(struct ctx *c)
{
	int fd = inst(c, 0);

	add(c, fd, "d", IN_MOVE);
	add(c, fd, "e", IN_MOVE | IN_CREATE);
}

static void act_rename(struct ctx *c)
{
	rename(at(c, "d/one"), at(c, "d/uno"));		/* a pair in one directory */
	rename(at(c, "d/two"), at(c, "e/dos"));		/* a pair across two */
	rename(at(c, "e/dos"), at(c, "e/zwei"));
}

/* an overflowed queue (max_queued_events 16) */
static void build_overflow(struct ctx *c)
{
	int fd = inst(c, 0);

	add(c, fd, "d", IN_CREATE);
}

static void act_overflow(struct ctx *c)
{
	char name[32];

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "d/n%02d", i);
		touch_file(at(c, name));
	}
}

/* O_NONBLOCK, with an event queued */
static void build_nonblock(struct ctx *c)
{
	int fd = inst(c, IN_NONBLOCK);

	add(c, fd, "a", IN_MODIFY);
}

static void act_a(struct ctx *c)
{
	append(at(c, "a"), "z");
}

/* O_CLOEXEC */
static void build_cloexec(struct ctx *c)
{
	int fd = inst(c, IN_CLOEXEC);

	add(c, fd, "a", IN_MODIFY);
	add(c, fd, "b", IN_ATTRIB);
}

/* two instances in one process */
static void build_two(struct ctx *c)
{
	int fd1 = inst(c, IN_NONBLOCK), fd2 = inst(c, IN_CLOEXEC);

	add(c, fd1, "a", IN_MODIFY);
	next(c, fd2, 5000);
	add(c, fd2, "a", IN_MODIFY | IN_ONESHOT);
	add(c, fd2, "d", IN_CREATE);
}

static void act_two(struct ctx *c)
{
	append(at(c, "a"), "z");
	touch_file(at(c, "d/new"));
}

/* one instance, shared after fork */
static void build_shared(struct ctx *c)
{
	int fd = inst(c, 0);

	next(c, fd, 42);
	add(c, fd, "a", IN_MODIFY);
	add(c, fd, "d", IN_CREATE);
}

/* a watched file renamed between dump and restore: found by its handle */
static void build_renamed(struct ctx *c)
{
	int fd = inst(c, 0);

	add(c, fd, "a", IN_ATTRIB);
	add(c, fd, "b", IN_ATTRIB);
}

static void between_renamed(struct ctx *c)
{
	rename(at(c, "a"), at(c, "d/a-moved"));
}

/* a watched file deleted between dump and restore: the restore fails */
static void build_deleted(struct ctx *c)
{
	int fd = inst(c, 0);

	add(c, fd, "a", IN_ATTRIB);
	next(c, fd, 1234);
	add(c, fd, "b", IN_ATTRIB);
}

static void between_deleted(struct ctx *c)
{
	unlink(at(c, "b"));
}

/* an empty instance with only a cursor */
static void build_empty(struct ctx *c)
{
	int fd = inst(c, 0);

	next(c, fd, 99);
}

static const struct scenario scenarios[] = {
	{ "sparse-wds", "wds 0x34d71d6, INT_MAX, 1 (wrapped) and 777", 0,
	  files_abc, build_sparse, act_sparse, NULL },
	{ "many-watches", "10^4 watches, a third IN_ONESHOT, holes, half from 0x34d71d6",
	  0, prepare_many, build_many, act_many, NULL },
	{ "masks", "IN_ONESHOT, IN_EXCL_UNLINK, IN_MASK_ADD, IN_ONLYDIR, IN_DONT_FOLLOW", 0,
	  files_abc, build_masks, no_activity, NULL },
	{ "cursor", "the next add after the last two wds were removed", 0,
	  files_abc, build_cursor, no_activity, NULL },
	{ "queued-events", "events with and without names, IN_ISDIR, IN_IGNORED", 0,
	  files_abc, build_events, act_events, NULL },
	{ "rename-cookies", "IN_MOVED_FROM/IN_MOVED_TO pairs within and across directories", 0,
	  prepare_rename, build_rename, act_rename, NULL },
	{ "overflow", "an overflowed queue (max_queued_events 16, 40 events)", OPT_QLIMIT,
	  files_abc, build_overflow, act_overflow, NULL },
	{ "nonblock", "O_NONBLOCK with an event queued", 0,
	  files_abc, build_nonblock, act_a, NULL },
	{ "cloexec", "O_CLOEXEC", 0, files_abc, build_cloexec, act_a, NULL },
	{ "two-instances", "two instances in one process", 0,
	  files_abc, build_two, act_two, NULL },
	{ "fork-shared", "one instance shared by two processes after fork", OPT_FORK,
	  files_abc, build_shared, act_a, NULL },
	{ "restored-twice", "dump of a process that was itself restored", OPT_TWICE,
	  files_abc, build_two, act_two, NULL },
	{ "leave-running", "criu dump --leave-running, then a restore from its images", OPT_LEAVE,
	  files_abc, build_sparse, act_sparse, NULL },
	{ "renamed", "a watched file renamed between dump and restore (found by handle)",
	  OPT_NO_READ | OPT_KMAYFAIL, files_abc, build_renamed, no_activity, between_renamed },
	{ "deleted", "a watched file deleted between dump and restore (restore fails)", OPT_FAIL,
	  files_abc, build_deleted, no_activity, between_deleted },
	{ "empty", "no watch, only a cursor", 0, files_abc, build_empty, no_activity, NULL },
};

/* ---- the child ---- */

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

/* All bytes queued on @fd, without blocking: FIONREAD tells how many. */
static char *drain(int fd, size_t *len)
{
	size_t n = 0;
	char *buf = NULL;

	for (;;) {
		int avail = 0;
		ssize_t r;
		char *nb;

		if (ioctl(fd, FIONREAD, &avail) < 0 || avail <= 0)
			break;
		nb = realloc(buf, n + (size_t)avail + 4096);
		if (!nb)
			break;
		buf = nb;
		r = read(fd, buf + n, (size_t)avail + 4096);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

static void child_after(const struct scenario *sc, struct ctx *c, const char *res)
{
	char path[PATH_MAX + 32], line[64];

	for (int i = 0; i < c->n; i++) {
		size_t len;
		char *bytes = drain(FD_BASE + i, &len);
		int wd;

		snprintf(path, sizeof(path), "%s/read-%d", res, i);
		write_file(path, bytes ? bytes : "", len);
		free(bytes);
		wd = be_add(c->be, FD_BASE + i, at(c, "../fresh"), IN_MODIFY);
		snprintf(line, sizeof(line), "%d %d\n", wd, wd < 0 ? errno : 0);
		snprintf(path, sizeof(path), "%s/fresh-%d", res, i);
		write_file(path, line, strlen(line));
	}
	(void)sc;
}

static void child_main(const struct scenario *sc, struct ctx *c, const char *res)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32];
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t block, old;
	int null = open("/dev/null", O_RDWR);

	setsid();
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	close_range(3, ~0U, 0);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);

	sc->build(c);
	for (int i = 0; i < c->n; i++) {
		int fl = fcntl(c->fds[i], F_GETFD);

		if (dup3(c->fds[i], FD_BASE + i, (fl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
			c->failed = true;
		close(c->fds[i]);
		c->fds[i] = FD_BASE + i;
	}
	if (sc->opts & OPT_FORK) {
		pid_t gc = fork();

		if (gc == 0) {
			/* The second holder: waits for its end. */
			for (;;)
				sigsuspend(&old);
		}
		snprintf(path, sizeof(path), "%s/gc.pid", res);
		snprintf(path + PATH_MAX, 32, "%d\n", gc);
		write_file(path, path + PATH_MAX, strlen(path + PATH_MAX));
	}
	/*
	 * Written aside and renamed: the parent polls for the name, and must not read the file
	 * between its creation and the write.
	 */
	snprintf(tmp, sizeof(tmp), "%s/built.tmp", res);
	write_file(tmp, c->failed ? "failed\n" : "ok\n", c->failed ? 7 : 3);
	snprintf(path, sizeof(path), "%s/built", res);
	rename(tmp, path);
	while (!got_usr1)
		sigsuspend(&old);
	child_after(sc, c, res);
	snprintf(path, sizeof(path), "%s/done", res);
	touch_file(path);
	_exit(0);
}

/* ---- criu ---- */

/* Runs criu with @args (NULL-terminated) under the timeout; returns its exit status or -1. */
static int run_criu(const char *log, char *const args[])
{
	char *argv[32];
	int n = 0, status;
	pid_t pid;

	argv[n++] = (char *)criu_bin;
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n++] = "-L";
	argv[n++] = (char *)plugin_dir;
	argv[n++] = "-v4";
	argv[n++] = "-o";
	argv[n++] = (char *)log;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close_range(3, ~0U, 0);
		alarm((unsigned int)criu_timeout);	/* SIGALRM survives exec: the timeout */
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* ---- comparisons ---- */

struct result {
	bool ok;
	char why[4096];		/* the first failures, for TAP diagnostics */
	char info[4096];	/* what CRIU lost on the kernel's inotify */
};

static void note(char *buf, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n >= 3800)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, 4096 - n, fmt, ap);
	va_end(ap);
}

/* The first "Error" lines of a criu log (at most 4), for a diagnostic. */
static void log_errors(char *out, const char *log)
{
	char *text = read_file(log, NULL);
	int shown = 0;

	for (char *p = text; p && shown < 4 && (p = strstr(p, "Error")); shown++) {
		size_t len = strcspn(p, "\n");

		note(out, "#     %.*s\n", (int)(len > 200 ? 200 : len), p);
		p += len;
	}
	free(text);
}

/* Lines of @a not in @b (at most 3), for a diagnostic. */
static void diff_lines(char *out, const char *tag, const char *a, const char *b)
{
	int shown = 0;
	const char *p = a;

	while (*p && shown < 3) {
		const char *e = strchrnul(p, '\n');
		size_t len = (size_t)(e - p);
		bool found = false;

		for (const char *q = b; *q;) {
			const char *qe = strchrnul(q, '\n');

			if ((size_t)(qe - q) == len && !memcmp(p, q, len)) {
				found = true;
				break;
			}
			q = *qe ? qe + 1 : qe;
		}
		if (!found) {
			note(out, "#     %s %.*s\n", tag, (int)(len > 160 ? 160 : len), p);
			shown++;
		}
		p = *e ? e + 1 : e;
	}
}

/* The sorted wd list of an fdinfo text. */
static int wds_of(const char *fdinfo, unsigned long *out, int max)
{
	int n = 0;

	for (const char *p = fdinfo; (p = strstr(p, "inotify wd:")) && n < max; p++)
		out[n++] = strtoul(p + strlen("inotify wd:"), NULL, 16);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			unsigned long t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

static int count_events(const char *buf, size_t len)
{
	int n = 0;

	for (size_t off = 0; off + sizeof(struct inotify_event) <= len; n++)
		off += sizeof(struct inotify_event) + ((const struct inotify_event *)(buf + off))->len;
	return n;
}

/* ---- one case ---- */

static char *fdinfo_of(pid_t pid, int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	return read_file(path, NULL);
}

static void reap_all(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void run_case(const struct scenario *sc, enum backend be)
{
	char base[900], res[PATH_MAX + 8], img[PATH_MAX + 8], log[PATH_MAX + 32];
	char path[PATH_MAX + 64];
	char *before[MAX_INST] = { 0 }, *after[MAX_INST] = { 0 }, *gc_before = NULL;
	struct ctx child = { .be = be }, twin = { .be = be };
	struct result r = { .ok = true };
	unsigned long saved_q = 0;
	pid_t pid, gc = 0;
	int rc, rounds = (sc->opts & OPT_TWICE) ? 2 : 1;
	bool restored = false;

	if ((size_t)snprintf(base, sizeof(base), "%s/%s-%s", getcwd(path, sizeof(path)),
			     be_name[be], sc->name) >= sizeof(base))
		die("the working directory's path is too long");
	snprintf(child.w, sizeof(child.w), "%.900s/w", base);
	snprintf(res, sizeof(res), "%s/res", base);
	mkdir(base, 0755);
	mkdir(child.w, 0755);
	mkdir(res, 0755);
	memcpy(twin.w, child.w, sizeof(twin.w));
	snprintf(path, sizeof(path), "%s/fresh", base);
	touch_file(path);
	sc->prepare(&child);

	if (sc->opts & OPT_QLIMIT) {
		const char *q = be == DEV ? "/sys/module/rust_inotify/parameters/max_queued_events"
					  : "/proc/sys/fs/inotify/max_queued_events";
		saved_q = sysctl_read(q);
		sysctl_write(q, 16);
	}

	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		child_main(sc, &child, res);
	snprintf(path, sizeof(path), "%s/built", res);
	if (!wait_file(path, 120)) {
		r.ok = false;
		note(r.why, "#   the child did not set up its instances\n");
		kill(pid, SIGKILL);
		goto out;
	}
	{
		char *built = read_file(path, NULL);
		bool failed = !built || strcmp(built, "ok\n");

		free(built);
		if (failed) {
			r.ok = false;
			note(r.why, "#   the child's set-up failed\n");
			kill(pid, SIGKILL);
			goto out;
		}
	}
	/* The twin, then the activity both see. */
	sc->build(&twin);
	if (sc->opts & OPT_QLIMIT)
		sysctl_write(be == DEV ? "/sys/module/rust_inotify/parameters/max_queued_events"
				       : "/proc/sys/fs/inotify/max_queued_events", saved_q);
	if (twin.failed) {
		r.ok = false;
		note(r.why, "#   the twin's set-up failed: %s\n", strerror(errno));
	}
	sc->activity(&child);
	child.n = twin.n;
	if (sc->opts & OPT_FORK) {
		char *s;

		snprintf(path, sizeof(path), "%s/gc.pid", res);
		s = read_file(path, NULL);
		gc = s ? atoi(s) : 0;
		free(s);
		gc_before = fdinfo_of(gc, FD_BASE);
	}
	for (int i = 0; i < child.n; i++)
		before[i] = fdinfo_of(pid, FD_BASE + i);

	for (int round = 0; round < rounds; round++) {
		char d[16] = "dump", rs[16] = "restore";
		char tpid[16];

		snprintf(img, sizeof(img), "%s/img%d", base, round);
		mkdir(img, 0755);
		snprintf(tpid, sizeof(tpid), "%d", pid);
		snprintf(log, sizeof(log), "%s/dump%d.log", base, round);
		{
			char *args[] = { d, "-t", tpid, "-D", img, "--leave-running", NULL };

			if (!(round == 0 && (sc->opts & OPT_LEAVE)))
				args[5] = NULL;
			rc = run_criu(log, args);
		}
		if (rc != 0) {
			r.ok = false;
			note(r.why, "#   criu dump (round %d) exited %d; see %s\n", round, rc, log);
			log_errors(r.why, log);
			kill(pid, SIGKILL);
			goto out;
		}
		if (round == 0 && (sc->opts & OPT_LEAVE)) {
			/* Still running, and the dump changed nothing. */
			for (int i = 0; i < child.n; i++) {
				char *now = fdinfo_of(pid, FD_BASE + i);

				if (!now || strcmp(now, before[i])) {
					r.ok = false;
					note(r.why, "#   --leave-running: fd %d changed by the dump\n",
					     FD_BASE + i);
				}
				free(now);
			}
			kill(pid, SIGKILL);
			if (gc)
				kill(gc, SIGKILL);
		}
		waitpid(pid, NULL, 0);
		reap_all();
		if (round == 0 && sc->between)
			sc->between(&child);

		snprintf(log, sizeof(log), "%s/restore%d.log", base, round);
		{
			char *args[] = { rs, "-D", img, "-d", NULL };

			rc = run_criu(log, args);
		}
		if (sc->opts & OPT_FAIL) {
			char *text = read_file(log, NULL);
			char want[1100];

			snprintf(want, sizeof(want), "wd %d (%s/b)", 1234, child.w);
			if (rc == 0) {
				(be == DEV ? note(r.why, "#   criu restore succeeded; it must fail\n")
					   : note(r.info, "# info: %s/%s: criu restored it without the deleted file's watch\n",
						  be_name[be], sc->name));
				if (be == DEV)
					r.ok = false;
				kill(pid, SIGKILL);
			} else if (be == DEV && (!text || !strstr(text, want))) {
				r.ok = false;
				note(r.why, "#   criu restore failed, but its log does not name \"%s\"\n", want);
				log_errors(r.why, log);
			} else if (be == KERNEL) {
				note(r.info, "# info: %s/%s: criu restore fails too (exit %d)\n",
				     be_name[be], sc->name, rc);
			} else {
				char *line = strstr(text, want);

				while (line > text && line[-1] != '\n')
					line--;
				note(r.info, "# %s/%s: criu restore failed (exit %d): %.*s\n",
				     be_name[be], sc->name, rc, (int)strcspn(line, "\n"), line);
			}
			free(text);
			goto out;
		}
		if (rc != 0 && be == KERNEL && (sc->opts & OPT_KMAYFAIL)) {
			char *text = read_file(log, NULL);
			char *e = text ? strstr(text, "Error (criu/fsnotify") : NULL;

			note(r.info, "# info: %s/%s: criu cannot restore it (exit %d): %.*s\n",
			     be_name[be], sc->name, rc, e ? (int)strcspn(e, "\n") : 0, e ? e : "");
			free(text);
			goto out;
		}
		if (rc != 0) {
			r.ok = false;
			note(r.why, "#   criu restore (round %d) exited %d; see %s\n", round, rc, log);
			log_errors(r.why, log);
			goto out;
		}
		restored = true;
		for (int i = 0; i < child.n; i++) {
			free(after[i]);
			after[i] = fdinfo_of(pid, FD_BASE + i);
		}
	}

	/* fdinfo: byte-identical on the device, what CRIU lost on the kernel's. */
	for (int i = 0; i < child.n; i++) {
		unsigned long wb[MANY + 8], wa[MANY + 8];
		int nb, na;

		if (!after[i]) {
			r.ok = false;
			note(r.why, "#   fd %d is missing after restore\n", FD_BASE + i);
			continue;
		}
		if (strcmp(before[i], after[i]) == 0)
			continue;
		if (be == DEV) {
			r.ok = false;
			note(r.why, "#   fd %d: fdinfo differs after restore\n", FD_BASE + i);
			diff_lines(r.why, "before:", before[i], after[i]);
			diff_lines(r.why, "after: ", after[i], before[i]);
		} else {
			size_t len = strlen(r.info);

			note(r.info, "# info: %s/%s: fd %d: fdinfo differs after CRIU's restore:\n",
			     be_name[be], sc->name, FD_BASE + i);
			diff_lines(r.info, "before:", before[i], after[i]);
			diff_lines(r.info, "after: ", after[i], before[i]);
			if (!strstr(r.info + len, "before:") && !strstr(r.info + len, "after:"))
				note(r.info, "#     the same lines, in another order\n");
		}
		nb = wds_of(before[i], wb, MANY + 8);
		na = wds_of(after[i], wa, MANY + 8);
		if (nb != na || memcmp(wb, wa, sizeof(wb[0]) * (size_t)nb)) {
			r.ok = false;
			note(r.why, "#   fd %d: %d wds before, %d after, or not the same wds\n",
			     FD_BASE + i, nb, na);
		}
	}
	if (gc) {
		char *now = fdinfo_of(gc, FD_BASE);

		if (!now || strcmp(now, gc_before)) {
			(be == DEV ? note(r.why, "#   the second process's fdinfo differs after restore\n")
				   : note(r.info, "# info: %s/%s: the second process's fdinfo differs\n",
					  be_name[be], sc->name));
			if (be == DEV)
				r.ok = false;
		}
		free(now);
	}
	if (be == DEV) {
		/* The plugin restored each file once (the shared one too). */
		char *text = read_file(log, NULL);
		int n = 0;

		for (const char *p = text; p && (p = strstr(p, "rust_inotify: restored id")); p++)
			n++;
		if (n != child.n) {
			r.ok = false;
			note(r.why, "#   the plugin restored %d files, expected %d\n", n, child.n);
		}
		free(text);
	}

	/* The restored child reads its queues and adds a fresh watch; the twin does the same. */
	kill(pid, SIGUSR1);
	snprintf(path, sizeof(path), "%s/done", res);
	if (!wait_file(path, 120)) {
		r.ok = false;
		note(r.why, "#   the restored child did not answer SIGUSR1\n");
		goto out;
	}
	for (int i = 0; i < child.n; i++) {
		size_t clen = 0, tlen = 0;
		char *cbytes, *tbytes, *fresh;
		int cwd, twd;

		snprintf(path, sizeof(path), "%s/read-%d", res, i);
		cbytes = read_file(path, &clen);
		tbytes = drain(twin.fds[i], &tlen);
		snprintf(path, sizeof(path), "%s/fresh-%d", res, i);
		fresh = read_file(path, NULL);
		cwd = fresh ? atoi(fresh) : -1;
		free(fresh);
		snprintf(path, sizeof(path), "%s/fresh", base);
		twd = be_add(be, twin.fds[i], path, IN_MODIFY);
		if (!(sc->opts & OPT_NO_READ) &&
		    (clen != tlen || (clen && memcmp(cbytes, tbytes, clen)))) {
			if (be == DEV) {
				r.ok = false;
				note(r.why, "#   fd %d: read() gave %zu bytes (%d events), the twin %zu (%d)\n",
				     FD_BASE + i, clen, count_events(cbytes, clen), tlen,
				     count_events(tbytes, tlen));
			} else {
				note(r.info, "# info: %s/%s: fd %d: %d queued events before, %d after CRIU's restore\n",
				     be_name[be], sc->name, FD_BASE + i, count_events(tbytes, tlen),
				     count_events(cbytes, clen));
			}
		}
		if (cwd != twd) {
			if (be == DEV) {
				r.ok = false;
				note(r.why, "#   fd %d: the next add gave wd %d, the twin's %d\n",
				     FD_BASE + i, cwd, twd);
			} else {
				note(r.info, "# info: %s/%s: fd %d: the next add gave wd %d, without the checkpoint %d (the cursor is lost)\n",
				     be_name[be], sc->name, FD_BASE + i, cwd, twd);
			}
		}
		free(cbytes);
		free(tbytes);
	}
	if (gc) {
		/* Shared: the watch the child just added is the second process's too. */
		char *now = fdinfo_of(gc, FD_BASE);
		char *fresh;
		char want[64];

		snprintf(path, sizeof(path), "%s/fresh-0", res);
		fresh = read_file(path, NULL);
		snprintf(want, sizeof(want), "inotify wd:%x ", fresh ? atoi(fresh) : -1);
		if (!now || !strstr(now, want)) {
			r.ok = false;
			note(r.why, "#   the restored fd is not shared: the second process lacks %s\n",
			     want);
		}
		free(fresh);
		free(now);
	}
	waitpid(pid, NULL, 0);

out:
	if (gc)
		kill(gc, SIGKILL);
	if (!restored || (sc->opts & OPT_FAIL))
		kill(pid, SIGKILL);
	reap_all();
	for (int i = 0; i < twin.n; i++)
		close(twin.fds[i]);
	for (int i = 0; i < MAX_INST; i++) {
		free(before[i]);
		free(after[i]);
	}
	free(gc_before);
	test_no++;
	if (!r.ok)
		failures++;
	printf("%sok %d %s/%s: %s\n", r.ok ? "" : "not ", test_no, be_name[be], sc->name, sc->what);
	fputs(r.why, stdout);
	fputs(r.info, stdout);
	fflush(stdout);
}

int main(void)
{
	const char *only = getenv("RI_CRIU_ONLY");
	size_t nsc = sizeof(scenarios) / sizeof(scenarios[0]), planned = 0;
	const char *mw = "/proc/sys/fs/inotify/max_user_watches";
	const char *dmw = "/sys/module/rust_inotify/parameters/max_user_watches";
	unsigned long saved_mw, saved_dmw;

	criu_bin = getenv("RI_CRIU") ? getenv("RI_CRIU") : "criu";
	plugin_dir = getenv("RI_CRIU_PLUGINS") ? getenv("RI_CRIU_PLUGINS") : "/usr/lib/criu";
	criu_timeout = getenv("RI_CRIU_TIMEOUT") ? atoi(getenv("RI_CRIU_TIMEOUT")) : 300;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Restored (-d) processes are re-parented to us, so they can be waited for. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	const char *bes = getenv("RI_CRIU_BACKENDS");
	bool run_be[2] = { !bes || strstr(bes, "rust_inotify"), !bes || strstr(bes, "kernel") };

	for (size_t i = 0; i < nsc; i++)
		if (!only || !strcmp(only, scenarios[i].name))
			planned += run_be[DEV] + run_be[KERNEL];
	printf("TAP version 13\n1..%zu\n", planned);
	printf("# criu suite: %s -L %s, timeout %d s per call\n", criu_bin, plugin_dir,
	       criu_timeout);
	/* What criu thinks of this kernel: information only, the cases below are the test. */
	{
		char check[] = "check", info[4096] = "";
		char *args[] = { check, NULL };
		int rc = run_criu("criu-check.log", args);
		char *text = read_file("criu-check.log", NULL);

		log_errors(info, "criu-check.log");
		printf("# criu check: exit %d%s\n%s", rc,
		       text && strstr(text, "Looks good") ? ", \"Looks good.\"" : "", info);
		free(text);
	}
	/* Three instances of 10^4 watches (child, twin, restored) per backend. */
	saved_mw = sysctl_read(mw);
	saved_dmw = sysctl_read(dmw);
	if (saved_mw < 100000)
		sysctl_write(mw, 100000);
	if (run_be[DEV] && saved_dmw < 100000)
		sysctl_write(dmw, 100000);
	for (size_t i = 0; i < nsc; i++) {
		if (only && strcmp(only, scenarios[i].name))
			continue;
		if (run_be[DEV])
			run_case(&scenarios[i], DEV);
		if (run_be[KERNEL])
			run_case(&scenarios[i], KERNEL);
	}
	if (saved_mw < 100000)
		sysctl_write(mw, saved_mw);
	if (run_be[DEV] && saved_dmw < 100000)
		sysctl_write(dmw, saved_dmw);
	printf("# %d of %zu failed\n", failures, planned);
	return failures ? 1 : 0;
}
