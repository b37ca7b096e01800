/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checking an instance against a kernel inotify instance that watches the same objects at the same
 * time (the reference), for scenarios whose exact events are many and depend on another
 * filesystem's internals (overlayfs copy-up, whiteouts, unmount). Include after
 * <kselftest_harness.h>, "backend.h", "events.h" and "evcheck.h".
 *
 *	int wd = dual_add(_metadata, variant->be, self->fd, self->ref, path, IN_ALL_EVENTS);
 *	...
 *	ASSERT_SAME_AS_REF(self->fd, self->ref, &self->st);  // drain both: every field equal
 *	ASSERT_STREAM(&self->st, EV(wd, IN_OPEN, NULL), ...);  // the whole stream, exactly
 *	ASSERT_WD_EVENTS(&self->st, wd, EV(...), ...);         // that wd's events, exactly
 *	ASSERT_STREAM_HAS(&self->st, EV(wd2, IN_CREATE, "f")); // these in order, among others
 *	ASSERT_WD_LACKS(&self->st, wd3, IN_MODIFY);            // no event of wd3 has the bit
 *
 * Both instances get their watches in the same order, so the wds are the same and the streams
 * can be compared field by field, the cookies included (fsnotify makes one cookie per rename and
 * hands it to every group).
 */
#ifndef RUST_INOTIFY_TESTS_REFCHECK_H
#define RUST_INOTIFY_TESTS_REFCHECK_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct stream {
	int n;
	struct ev evs[MAX_EVENTS];
};

/* Adds the same watch to @fd (through @be) and to the kernel instance @ref; both wds must agree. */
static inline int dual_add(struct __test_metadata *_metadata, const struct backend *be, int fd,
			   int ref, const char *path, uint32_t mask)
{
	int wd = be->add_watch(fd, path, mask);
	int wd_ref = inotify_add_watch(ref, path, mask);

	ASSERT_LE(1, wd) {
		TH_LOG("%s: add_watch(%s): %s", be->name, path, strerror(errno));
	}
	ASSERT_EQ(wd_ref, wd) {
		TH_LOG("add_watch(%s): wd %d, the reference's %d", path, wd, wd_ref);
	}
	return wd;
}

static inline bool ev_equal(const struct ev *a, const struct ev *b)
{
	return a->wd == b->wd && a->mask == b->mask && a->cookie == b->cookie &&
	       a->len == b->len && !strcmp(a->name, b->name);
}

/*
 * Drains @fd into @st, and the reference @ref, and asserts that the two streams are the same,
 * record for record.
 */
static inline void refcheck_drain(struct __test_metadata *_metadata, int line, int fd, int ref,
				  struct stream *st)
{
	static struct stream ref_st;
	int i = 0;

	st->n = drain_events(fd, st->evs, MAX_EVENTS);
	ASSERT_LE(0, st->n) {
		TH_LOG("line %d: drain_events: %s", line, strerror(errno));
	}
	ref_st.n = drain_events(ref, ref_st.evs, MAX_EVENTS);
	ASSERT_LE(0, ref_st.n) {
		TH_LOG("line %d: drain_events (reference): %s", line, strerror(errno));
	}
	ASSERT_GE(MAX_EVENTS, st->n);
	ASSERT_GE(MAX_EVENTS, ref_st.n);
	while (i < st->n && i < ref_st.n && ev_equal(&st->evs[i], &ref_st.evs[i]))
		i++;
	ASSERT_TRUE(i == st->n && i == ref_st.n) {
		TH_LOG("line %d: the stream differs from the reference's at event %d", line, i);
		TH_LOG("line %d: got       [%s]", line, fmt_events(st->evs, st->n));
		TH_LOG("line %d: reference [%s]", line, fmt_events(ref_st.evs, ref_st.n));
	}
}

/* @st is exactly @exp, in this order. */
static inline void refcheck_all(struct __test_metadata *_metadata, int line,
				const struct stream *st, const struct xev *exp, int m)
{
	char why[1024];

	ASSERT_TRUE(evcheck_match(st->evs, st->n, exp, m, false, why, sizeof(why))) {
		TH_LOG("line %d: %s", line, why);
		TH_LOG("line %d: got      [%s]", line, fmt_events(st->evs, st->n));
		TH_LOG("line %d: expected [%s]", line, fmt_xevents(exp, m));
	}
}

/* The events of @wd in @st, exactly these, in this order. */
static inline void refcheck_wd(struct __test_metadata *_metadata, int line,
			       const struct stream *st, int wd, const struct xev *exp, int m)
{
	static struct ev sub[MAX_EVENTS];
	char why[1024];
	int n = 0;

	for (int i = 0; i < st->n; i++)
		if (st->evs[i].wd == wd)
			sub[n++] = st->evs[i];
	ASSERT_TRUE(evcheck_match(sub, n, exp, m, false, why, sizeof(why))) {
		TH_LOG("line %d: wd %d: %s", line, wd, why);
		TH_LOG("line %d: got      [%s]", line, fmt_events(sub, n));
		TH_LOG("line %d: expected [%s]", line, fmt_xevents(exp, m));
		TH_LOG("line %d: all      [%s]", line, fmt_events(st->evs, st->n));
	}
}

/* @exp appear in @st in this order, possibly with other events between them. */
static inline void refcheck_has(struct __test_metadata *_metadata, int line,
				const struct stream *st, const struct xev *exp, int m)
{
	uint32_t class_cookie[EVCHECK_MAX_CLASSES] = { 0 };
	char why[1024];
	int gi = 0;

	for (int i = 0; i < m; i++) {
		while (gi < st->n &&
		       !evcheck_one(&st->evs[gi], &exp[i], class_cookie, why, sizeof(why), gi))
			gi++;
		ASSERT_LT(gi, st->n) {
			TH_LOG("line %d: expected event %d (wd %d mask 0x%x name '%s') is missing",
			       line, i, exp[i].wd, exp[i].mask, exp[i].name ? exp[i].name : "");
			TH_LOG("line %d: got      [%s]", line, fmt_events(st->evs, st->n));
			TH_LOG("line %d: expected [%s] (in this order, among others)", line,
			       fmt_xevents(exp, m));
		}
		gi++;
	}
}

/* No event of @wd in @st has a bit of @mask. */
static inline void refcheck_lacks(struct __test_metadata *_metadata, int line,
				  const struct stream *st, int wd, uint32_t mask)
{
	int i = 0;

	while (i < st->n && !(st->evs[i].wd == wd && (st->evs[i].mask & mask)))
		i++;
	ASSERT_EQ(st->n, i) {
		TH_LOG("line %d: event %d has wd %d and a bit of 0x%x", line, i, wd, mask);
		TH_LOG("line %d: got [%s]", line, fmt_events(st->evs, st->n));
	}
}

#define ASSERT_SAME_AS_REF(fd, ref, st) \
	refcheck_drain(_metadata, __LINE__, (fd), (ref), (st))

#define ASSERT_STREAM(st, ...) \
	refcheck_all(_metadata, __LINE__, (st), EVCHECK_LIST(__VA_ARGS__), \
		     EVCHECK_COUNT(__VA_ARGS__))

#define ASSERT_STREAM_EMPTY(st) \
	refcheck_all(_metadata, __LINE__, (st), NULL, 0)

#define ASSERT_WD_EVENTS(st, wd, ...) \
	refcheck_wd(_metadata, __LINE__, (st), (wd), EVCHECK_LIST(__VA_ARGS__), \
		    EVCHECK_COUNT(__VA_ARGS__))

#define ASSERT_WD_NO_EVENTS(st, wd) \
	refcheck_wd(_metadata, __LINE__, (st), (wd), NULL, 0)

#define ASSERT_STREAM_HAS(st, ...) \
	refcheck_has(_metadata, __LINE__, (st), EVCHECK_LIST(__VA_ARGS__), \
		     EVCHECK_COUNT(__VA_ARGS__))

#define ASSERT_WD_LACKS(st, wd, mask) \
	refcheck_lacks(_metadata, __LINE__, (st), (wd), (mask))

#endif /* RUST_INOTIFY_TESTS_REFCHECK_H */
