// SPDX-License-Identifier: GPL-2.0
/*
 * `make demo`'s CRIU part: the process that tests/guest/demo.sh checkpoints and restores with
 * real criu. It holds a kernel inotify fd and a /dev/rust_inotify fd, each with a watch at wd
 * 0x34d71d6 (set with INOTIFY_IOC_SETNEXTWD) whose mask has IN_EXCL_UNLINK, and one queued
 * event each. It prints what it holds, writes its pid to DIR/ready, and waits; criu dumps it,
 * kills it and restores it; SIGUSR1 then makes it print what each fd holds after the restore,
 * side by side, into DIR/report, and exit.
 *
 * Usage: rust_inotify_criu_demo DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "rust_inotify.h"

#define CRIU_WD 0x34d71d6

struct held {
	const char *name;
	int fd;
	int (*add)(int fd, const char *path, unsigned int mask);
};

static int kernel_add(int fd, const char *path, unsigned int mask)
{
	return inotify_add_watch(fd, path, mask);
}

static int rust_add(int fd, const char *path, unsigned int mask)
{
	struct rust_inotify_add_watch arg = {
		.pathname = (unsigned long)path,
		.dirfd = AT_FDCWD,
		.mask = mask,
	};

	return ioctl(fd, RUST_INOTIFY_IOC_ADD_WATCH, &arg);
}

static volatile sig_atomic_t restored;

static void on_usr1(int sig)
{
	(void)sig;
	restored = 1;
}

/* The fd's "inotify wd:" line, cut before the file handle, into @out. */
static void watch_line(int fd, char *out, size_t size)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(out, size, "(no watch)");
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *cut = strstr(line, " ignored_mask");

		if (strncmp(line, "inotify wd:", 11))
			continue;
		if (cut)
			*cut = 0;
		snprintf(out, size, "%s", line);
		break;
	}
	fclose(f);
}

/* What one fd holds: its watch as fdinfo shows it, and its queued events. */
static void describe(FILE *o, const char *when, struct held *h, int n)
{
	fprintf(o, "  %-8s", when);
	for (int i = 0; i < n; i++) {
		char line[512];
		int bytes = -1;

		watch_line(h[i].fd, line, sizeof(line));
		ioctl(h[i].fd, FIONREAD, &bytes);
		fprintf(o, " | %-46s %2d bytes queued", line, bytes);
	}
	fprintf(o, "\n");
}

static void events(FILE *o, struct held *h, int n)
{
	fprintf(o, "  %-8s", "read()");
	for (int i = 0; i < n; i++) {
		char buf[4096] __attribute__((aligned(8)));
		char text[128] = "";
		ssize_t r = read(h[i].fd, buf, sizeof(buf));

		for (ssize_t off = 0; r > 0 && off < r;) {
			struct inotify_event *e = (struct inotify_event *)(buf + off);
			size_t len = strlen(text);

			snprintf(text + len, sizeof(text) - len, "wd %#x mask %#x; ", e->wd, e->mask);
			off += sizeof(*e) + e->len;
		}
		fprintf(o, " | %-62s", r > 0 ? text : "nothing (EAGAIN)");
	}
	fprintf(o, "\n");
}

int main(int argc, char **argv)
{
	char file[4096], next[4096], path[4096];
	struct held h[2] = {
		{ "kernel inotify", -1, kernel_add },
		{ "/dev/rust_inotify", -1, rust_add },
	};
	FILE *o;
	int fd;

	if (argc != 2)
		return 2;
	signal(SIGUSR1, on_usr1);
	snprintf(file, sizeof(file), "%s/watched", argv[1]);
	snprintf(next, sizeof(next), "%s/next", argv[1]);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	close(open(next, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	h[0].fd = inotify_init1(IN_NONBLOCK);
	h[1].fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);
	if (fd < 0 || h[0].fd < 0 || h[1].fd < 0) {
		perror("criu demo: set-up");
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		if (ioctl(h[i].fd, INOTIFY_IOC_SETNEXTWD, (unsigned long)CRIU_WD) ||
		    h[i].add(h[i].fd, file, IN_MODIFY | IN_EXCL_UNLINK) != CRIU_WD) {
			perror("criu demo: watch at 0x34d71d6");
			return 1;
		}
	}
	/* One IN_MODIFY queued on each. */
	if (write(fd, "x", 1) != 1)
		return 1;
	close(fd);

	printf("  %-8s | %-62s | %s\n", "", h[0].name, h[1].name);
	describe(stdout, "before", h, 2);
	fflush(stdout);

	snprintf(path, sizeof(path), "%s/ready", argv[1]);
	o = fopen(path, "we");
	if (!o)
		return 1;
	fprintf(o, "%d\n", getpid());
	fclose(o);

	while (!restored)
		pause();

	snprintf(path, sizeof(path), "%s/report.tmp", argv[1]);
	o = fopen(path, "we");
	if (!o)
		return 1;
	describe(o, "after", h, 2);
	events(o, h, 2);
	fprintf(o, "  %-8s", "next add");
	for (int i = 0; i < 2; i++) {
		int wd = h[i].add(h[i].fd, next, IN_MODIFY);
		char text[64];

		if (wd < 0)
			snprintf(text, sizeof(text), "%s", strerror(errno));
		else
			snprintf(text, sizeof(text), "wd %#x", wd);
		fprintf(o, " | %-62s", text);
	}
	fprintf(o, "\n");
	fclose(o);
	snprintf(file, sizeof(file), "%s/report", argv[1]);
	return rename(path, file) ? 1 : 0;
}
