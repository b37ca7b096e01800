/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading and comparing event streams, shared by the C tests.
 */
#ifndef RUST_INOTIFY_TESTS_EVENTS_H
#define RUST_INOTIFY_TESTS_EVENTS_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define MAX_EVENTS 256

struct ev {
	int wd;
	uint32_t mask;
	uint32_t cookie;
	uint32_t len;		/* the padded length as read */
	char name[256];
};

/*
 * Reads everything queued on a non-blocking fd (one big read after another until EAGAIN) and
 * parses it into @evs. Returns the number of events, or -1 with errno set on an unexpected error
 * or a malformed record (len not a multiple of 16, name not NUL-terminated and padded).
 */
static inline int drain_events(int fd, struct ev *evs, int max)
{
	static char buf[65536] __attribute__((aligned(8)));
	int n = 0;

	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		ssize_t off = 0;

		if (r < 0)
			return errno == EAGAIN ? n : -1;
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		while (off < r) {
			struct inotify_event *ie = (struct inotify_event *)(buf + off);

			if (r - off < (ssize_t)sizeof(*ie) || ie->len % 16 != 0 ||
			    r - off < (ssize_t)(sizeof(*ie) + ie->len)) {
				errno = EPROTO;
				return -1;
			}
			if (ie->len) {
				size_t nl = strnlen(ie->name, ie->len);

				if (nl == ie->len) {
					errno = EPROTO;
					return -1;
				}
				for (size_t i = nl; i < ie->len; i++)
					if (ie->name[i]) {
						errno = EPROTO;
						return -1;
					}
			}
			if (n < max) {
				evs[n].wd = ie->wd;
				evs[n].mask = ie->mask;
				evs[n].cookie = ie->cookie;
				evs[n].len = ie->len;
				snprintf(evs[n].name, sizeof(evs[n].name), "%s",
					 ie->len ? ie->name : "");
			}
			n++;
			off += sizeof(*ie) + ie->len;
		}
	}
}

/* Formats an event stream as one line for TH_LOG, e.g. "1:0x100:0:f 1:0x20:0:f". */
static inline const char *fmt_events(const struct ev *evs, int n)
{
	static char out[8192];
	size_t o = 0;

	out[0] = 0;
	for (int i = 0; i < n && o < sizeof(out) - 64; i++)
		o += snprintf(out + o, sizeof(out) - o, "%s%d:0x%x:%u:%s", i ? " " : "",
			      evs[i].wd, evs[i].mask, evs[i].cookie, evs[i].name);
	return out;
}

/* Waits up to @ms for the fd to be readable; returns poll()'s result. */
static inline int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

#endif /* RUST_INOTIFY_TESTS_EVENTS_H */
