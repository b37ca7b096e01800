/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Expected-event-stream assertions and scratch-directory helpers for the event tests
 * (file_events, dir_events, self_events, flags, multi, queue). Include after
 * <kselftest_harness.h>, "backend.h" and "events.h".
 *
 *	ASSERT_EVENTS(fd, EV(wd, IN_CREATE, "f"), EV(wd, IN_OPEN, "f"));
 *	ASSERT_EVENTS_PER_WD(fd, ...);	// order checked per wd only
 *	ASSERT_NO_EVENTS(fd);
 *
 * Each drains the (non-blocking) fd with drain_events() and compares the whole stream: wd, mask,
 * cookie, name and the padded len upstream reports (0 without a name, else
 * roundup(strlen(name) + 1, 16)).
 *
 * Cookies: EV() expects 0. EVC(wd, mask, k, name) with k > 0 expects a non-zero cookie, the same
 * for every event of the assertion with the same k, and different from those of any other k.
 */
#ifndef RUST_INOTIFY_TESTS_EVCHECK_H
#define RUST_INOTIFY_TESTS_EVCHECK_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

struct xev {
	int wd;
	uint32_t mask;
	int cookie;		/* 0: must be 0; k > 0: cookie class k (see above) */
	const char *name;	/* NULL: no name */
};

#define EV(wd, mask, name)		{ (wd), (mask), 0, (name) }
#define EVC(wd, mask, k, name)		{ (wd), (mask), (k), (name) }

#define EVCHECK_MAX_CLASSES 16

static inline uint32_t evcheck_padded_len(const char *name)
{
	if (!name || !*name)
		return 0;
	return (strlen(name) + 1 + 15) / 16 * 16;
}

static inline bool evcheck_one(const struct ev *g, const struct xev *x, uint32_t *class_cookie,
			       char *why, size_t wl, int gi)
{
	const char *xname = x->name ? x->name : "";

	if (g->wd != x->wd || g->mask != x->mask || strcmp(g->name, xname)) {
		snprintf(why, wl, "event %d: got wd %d mask 0x%x name '%s', expected wd %d mask 0x%x name '%s'",
			 gi, g->wd, g->mask, g->name, x->wd, x->mask, xname);
		return false;
	}
	if (g->len != evcheck_padded_len(x->name)) {
		snprintf(why, wl, "event %d: len %u, expected %u", gi, g->len,
			 evcheck_padded_len(x->name));
		return false;
	}
	if (x->cookie == 0) {
		if (g->cookie != 0) {
			snprintf(why, wl, "event %d: cookie %u, expected 0", gi, g->cookie);
			return false;
		}
		return true;
	}
	if (g->cookie == 0) {
		snprintf(why, wl, "event %d: cookie 0, expected a non-zero cookie", gi);
		return false;
	}
	if (x->cookie >= EVCHECK_MAX_CLASSES) {
		snprintf(why, wl, "bad cookie class %d in the expectation", x->cookie);
		return false;
	}
	if (class_cookie[x->cookie] == 0) {
		for (int k = 1; k < EVCHECK_MAX_CLASSES; k++)
			if (class_cookie[k] == g->cookie) {
				snprintf(why, wl, "event %d: cookie %u is the same as class %d's",
					 gi, g->cookie, k);
				return false;
			}
		class_cookie[x->cookie] = g->cookie;
	} else if (class_cookie[x->cookie] != g->cookie) {
		snprintf(why, wl, "event %d: cookie %u, expected %u (the pair's)", gi, g->cookie,
			 class_cookie[x->cookie]);
		return false;
	}
	return true;
}

/*
 * Compares @got (n events) with @exp (m events). per_wd: events with the same wd must appear in
 * the expected relative order, events of different wds may interleave in any way.
 */
static inline bool evcheck_match(const struct ev *got, int n, const struct xev *exp, int m,
				 bool per_wd, char *why, size_t wl)
{
	uint32_t class_cookie[EVCHECK_MAX_CLASSES] = { 0 };

	if (n != m) {
		snprintf(why, wl, "got %d events, expected %d", n, m);
		return false;
	}
	for (int i = 0; i < m; i++) {
		int gi = i;

		if (per_wd) {
			int k = 0;

			for (int j = 0; j < i; j++)
				k += exp[j].wd == exp[i].wd;
			for (gi = 0; gi < n; gi++)
				if (got[gi].wd == exp[i].wd && k-- == 0)
					break;
			if (gi == n) {
				snprintf(why, wl, "expected event %d (wd %d mask 0x%x) is missing",
					 i, exp[i].wd, exp[i].mask);
				return false;
			}
		}
		if (!evcheck_one(&got[gi], &exp[i], class_cookie, why, wl, gi))
			return false;
	}
	return true;
}

static inline const char *fmt_xevents(const struct xev *x, int m)
{
	static char out[8192];
	size_t o = 0;

	out[0] = 0;
	for (int i = 0; i < m && o < sizeof(out) - 64; i++)
		o += snprintf(out + o, sizeof(out) - o, "%s%d:0x%x:%s%d:%s", i ? " " : "",
			      x[i].wd, x[i].mask, x[i].cookie ? "c" : "", x[i].cookie,
			      x[i].name ? x[i].name : "");
	return out;
}

static inline void evcheck_assert(struct __test_metadata *_metadata, int line, int fd,
				  bool per_wd, const struct xev *exp, int m)
{
	static struct ev got[MAX_EVENTS];
	char why[1024];
	int n = drain_events(fd, got, MAX_EVENTS);

	ASSERT_LE(0, n) {
		TH_LOG("line %d: drain_events: %s", line, strerror(errno));
	}
	ASSERT_GE(MAX_EVENTS, n) {
		TH_LOG("line %d: %d events queued, more than the %d expected ones", line, n, m);
	}
	ASSERT_TRUE(evcheck_match(got, n, exp, m, per_wd, why, sizeof(why))) {
		TH_LOG("line %d: %s", line, why);
		TH_LOG("line %d: got      [%s]", line, fmt_events(got, n));
		TH_LOG("line %d: expected [%s]%s", line, fmt_xevents(exp, m),
		       per_wd ? " (ordered per wd)" : "");
	}
}

#define EVCHECK_LIST(...)	((const struct xev[]){ __VA_ARGS__ })
#define EVCHECK_COUNT(...)	((int)(sizeof(EVCHECK_LIST(__VA_ARGS__)) / sizeof(struct xev)))

/* The whole stream, in this order. */
#define ASSERT_EVENTS(fd, ...) \
	evcheck_assert(_metadata, __LINE__, (fd), false, EVCHECK_LIST(__VA_ARGS__), \
		       EVCHECK_COUNT(__VA_ARGS__))

/* The whole stream; the order is checked between events of the same wd only. */
#define ASSERT_EVENTS_PER_WD(fd, ...) \
	evcheck_assert(_metadata, __LINE__, (fd), true, EVCHECK_LIST(__VA_ARGS__), \
		       EVCHECK_COUNT(__VA_ARGS__))

/* Nothing queued: read() gives EAGAIN at once. */
#define ASSERT_NO_EVENTS(fd) \
	evcheck_assert(_metadata, __LINE__, (fd), false, NULL, 0)

/* Reads and drops whatever is queued; returns the number of events or -1. */
static inline int discard_events(int fd)
{
	static struct ev scratch[MAX_EVENTS];

	return drain_events(fd, scratch, MAX_EVENTS);
}

/* ---- scratch directories ---- */

/* Joins dir and name into one of 8 rotating static buffers. */
static inline const char *pj(const char *dir, const char *name)
{
	static char bufs[8][PATH_MAX];
	static int next;
	char *b = bufs[next++ % 8];

	if (snprintf(b, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		abort();
	return b;
}

/* Creates (or truncates) @path with @data; returns 0 or -1. */
static inline int write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t len = strlen(data);

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

#endif /* RUST_INOTIFY_TESTS_EVCHECK_H */
