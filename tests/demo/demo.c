// SPDX-License-Identifier: GPL-2.0
/*
 * The demo that `make demo` runs in the guest: the kernel's inotify and /dev/rust_inotify side
 * by side.
 *   1. an instance of each;
 *   2. live events from a few file operations, read from both, and compared;
 *   3. a checkpoint/restore of wd 0x34d71d6 (the wd of the upstream patch's report): with
 *      INOTIFY_IOC_SETNEXTWD, timed, beside CRIU's old add/rm loop run for a fixed LOOP_SECONDS
 *      per backend and extrapolated to 0x34d71d6 iterations (so that the demo takes the same
 *      time on a busy machine as on a quiet one).
 * Its last line says how many times faster the ioctl restore is than the loop.
 * Exits non-zero if the two disagree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../c/backend.h"
#include "../c/events.h"

#define TARGET_WD 0x34d71d6
#define LOOP_SECONDS 3.0
#define RESTORES 100

static const struct backend *backends[] = { &kernel_backend, &rust_backend };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *mask_name(uint32_t mask, char *buf, size_t len)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ IN_ACCESS, "ACCESS" }, { IN_MODIFY, "MODIFY" }, { IN_ATTRIB, "ATTRIB" },
		{ IN_CLOSE_WRITE, "CLOSE_WRITE" }, { IN_CLOSE_NOWRITE, "CLOSE_NOWRITE" },
		{ IN_OPEN, "OPEN" }, { IN_MOVED_FROM, "MOVED_FROM" }, { IN_MOVED_TO, "MOVED_TO" },
		{ IN_CREATE, "CREATE" }, { IN_DELETE, "DELETE" }, { IN_DELETE_SELF, "DELETE_SELF" },
		{ IN_MOVE_SELF, "MOVE_SELF" }, { IN_UNMOUNT, "UNMOUNT" },
		{ IN_Q_OVERFLOW, "Q_OVERFLOW" }, { IN_IGNORED, "IGNORED" }, { IN_ISDIR, "ISDIR" },
	};
	size_t o = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (mask & names[i].bit)
			o += snprintf(buf + o, len - o, "%s%s", o ? "|" : "", names[i].name);
	return buf;
}

static int file_operations(const char *dir)
{
	char a[256], b[256], sub[256];
	int fd;

	snprintf(a, sizeof(a), "%s/a.txt", dir);
	snprintf(b, sizeof(b), "%s/b.txt", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	fd = open(a, O_CREAT | O_WRONLY, 0644);
	if (fd < 0 || write(fd, "hello\n", 6) != 6)
		return -1;
	close(fd);
	if (rename(a, b) || mkdir(sub, 0755) || chmod(b, 0600) || unlink(b) || rmdir(sub))
		return -1;
	return 0;
}

/*
 * CRIU's loop before SETNEXTWD, run for LOOP_SECONDS: add, rm, add... each add takes the next wd.
 * Returns the seconds per iteration, or -1.
 */
static double criu_loop(const struct backend *be, const char *path, long *iters)
{
	static char buf[65536];
	int fd = be->init(IN_NONBLOCK);
	double t0 = now(), t = 0;
	long i = 0;

	if (fd < 0)
		return -1;
	while (t < LOOP_SECONDS) {
		int wd = be->add_watch(fd, path, IN_ALL_EVENTS);

		if (wd < 0 || be->rm_watch(fd, wd))
			return -1;
		if ((++i & 1023) == 0) {
			/* Drain the IN_IGNORED events; look at the clock now and then. */
			while (read(fd, buf, sizeof(buf)) > 0)
				;
			t = now() - t0;
		}
	}
	close(fd);
	*iters = i;
	return t / i;
}

/* Seconds since the guest booted. */
static double uptime(void)
{
	double up = -1;
	FILE *f = fopen("/proc/uptime", "r");

	if (f) {
		if (fscanf(f, "%lf", &up) != 1)
			up = -1;
		fclose(f);
	}
	return up;
}

int main(void)
{
	static struct ev evs[2][MAX_EVENTS];
	char dir[] = "/tmp/demo.XXXXXX", watched[64], m1[128], m2[128];
	int fds[2], n[2], same, ok = 1;
	double restore[2], loop[2];

	printf("\n== rust_inotify demo: the kernel's inotify (left) and /dev/rust_inotify (right)\n\n");

	printf("1. One instance each\n");
	for (int b = 0; b < 2; b++) {
		fds[b] = backends[b]->init(IN_NONBLOCK | IN_CLOEXEC);
		if (fds[b] < 0) {
			printf("   %s: cannot open an instance: %s\n", backends[b]->name, strerror(errno));
			return 1;
		}
	}
	printf("   inotify_init1(IN_NONBLOCK|IN_CLOEXEC) = fd %d      open(\"%s\") = fd %d\n\n",
	       fds[0], RUST_INOTIFY_DEV, fds[1]);

	printf("2. Live events from real file operations\n");
	if (!mkdtemp(dir))
		return 1;
	snprintf(watched, sizeof(watched), "%s", dir);
	for (int b = 0; b < 2; b++) {
		int wd = backends[b]->add_watch(fds[b], watched, IN_ALL_EVENTS);

		printf("   %-6s add_watch(%s, IN_ALL_EVENTS) = wd %d\n", backends[b]->name, watched, wd);
	}
	printf("   $ echo hello > a.txt; mv a.txt b.txt; mkdir sub; chmod 600 b.txt; rm b.txt; rmdir sub\n");
	if (file_operations(dir))
		return 1;
	for (int b = 0; b < 2; b++)
		n[b] = drain_events(fds[b], evs[b], MAX_EVENTS);
	printf("   %-46s %s\n", "kernel's inotify", "/dev/rust_inotify");
	same = n[0] == n[1];
	for (int i = 0; i < (n[0] > n[1] ? n[0] : n[1]); i++) {
		char l[128] = "", r[128] = "";

		if (i < n[0])
			snprintf(l, sizeof(l), "wd=%d %-20s %-6s %s", evs[0][i].wd,
				 mask_name(evs[0][i].mask, m1, sizeof(m1)), evs[0][i].name,
				 evs[0][i].cookie ? "(cookie)" : "");
		if (i < n[1])
			snprintf(r, sizeof(r), "wd=%d %-20s %-6s %s", evs[1][i].wd,
				 mask_name(evs[1][i].mask, m2, sizeof(m2)), evs[1][i].name,
				 evs[1][i].cookie ? "(cookie)" : "");
		if (i >= n[0] || i >= n[1] || evs[0][i].wd != evs[1][i].wd ||
		    evs[0][i].mask != evs[1][i].mask || strcmp(evs[0][i].name, evs[1][i].name) ||
		    !evs[0][i].cookie != !evs[1][i].cookie)
			same = 0;
		printf("   %-46s %s\n", l, r);
	}
	printf("   => %d and %d events: %s\n\n", n[0], n[1], same ? "identical" : "DIFFERENT");
	ok &= same;

	printf("3. CRIU restores a watch whose wd was 0x%x (%d)\n", TARGET_WD, TARGET_WD);
	/* One restore is below the guest clock's resolution (jiffies): time RESTORES of them. */
	for (int b = 0; b < 2; b++) {
		int fds_r[RESTORES], wd = -1;
		double t0 = now();

		for (int i = 0; i < RESTORES; i++) {
			fds_r[i] = backends[b]->init(IN_NONBLOCK);
			ioctl(fds_r[i], INOTIFY_IOC_SETNEXTWD, (unsigned long)TARGET_WD);
			wd = backends[b]->add_watch(fds_r[i], watched, IN_ALL_EVENTS);
			ok &= wd == TARGET_WD;
		}
		restore[b] = (now() - t0) / RESTORES;
		for (int i = 0; i < RESTORES; i++)
			close(fds_r[i]);
		printf("   %-6s open + SETNEXTWD(0x%x) + add_watch = wd 0x%x: %.0f us each (x%d)%s\n",
		       backends[b]->name, TARGET_WD, wd, restore[b] * 1e6, RESTORES,
		       wd == TARGET_WD ? "" : "  <- WRONG");
	}
	printf("   without the ioctl, CRIU's loop: add, and rm again until the wd is the one wanted;\n"
	       "   each backend runs it for %.0f s and the time to reach 0x%x is extrapolated\n",
	       LOOP_SECONDS, TARGET_WD);
	fflush(stdout);
	for (int b = 0; b < 2; b++) {
		long iters = 0;

		loop[b] = criu_loop(backends[b], watched, &iters);
		if (loop[b] <= 0) {
			printf("   %-6s the loop failed: %s\n", backends[b]->name, strerror(errno));
			return 1;
		}
		printf("   %-6s %ld iterations in %.1f s (%.1f us each) -> to wd 0x%x: ~%.0f min\n",
		       backends[b]->name, iters, loop[b] * iters, loop[b] * 1e6, TARGET_WD,
		       loop[b] * TARGET_WD / 60);
	}
	printf("   rust/kernel time ratios: restore %.2f, loop %.2f\n", restore[1] / restore[0],
	       loop[1] / loop[0]);
	printf("\n== demo %s; the guest ran %.1f s\n", ok ? "done: both agree" : "FAILED: they disagree",
	       uptime());
	printf("restoring wd 0x%x with INOTIFY_IOC_SETNEXTWD is %.0fx faster than CRIU's add/rm loop "
	       "on /dev/rust_inotify (%.0fx on the kernel's inotify)\n", TARGET_WD,
	       loop[1] * TARGET_WD / restore[1], loop[0] * TARGET_WD / restore[0]);
	return ok ? 0 : 1;
}
