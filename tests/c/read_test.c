// SPDX-License-Identifier: GPL-2.0
/*
 * read(2) of an inotify instance: whole events only and EINVAL when the next one does not fit
 * (the event stays queued), the 16-byte-aligned name padding, FIONREAD agreeing with what a read
 * returns, blocking reads woken by events and interrupted by signals, EFAULT, readv handing
 * each iovec to read separately (upstream implements .read, not .read_iter), splice/sendfile/tee
 * refused (no .splice_read), and several threads reading one instance while others make events.
 * Each case runs against the kernel's inotify and /dev/rust_inotify; both must agree.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "events.h"
#include "scratch.h"

/* The events this file makes: a nameless IN_ATTRIB|IN_ISDIR and a named IN_CREATE. */
#define DIR_MASK	(IN_CREATE | IN_ATTRIB)
#define NAMELESS	(IN_ATTRIB | IN_ISDIR)

FIXTURE(rd) {
	char dir[PATH_MAX];
	int fd;			/* non-blocking, watching dir as wd 1 */
	int mode;		/* next mode for the chmod of dir */
};

FIXTURE_VARIANT(rd) {
	const struct backend *be;
};

BACKEND_VARIANTS(rd);

FIXTURE_SETUP(rd)
{
	int wd;

	/* The teardown does not run after a failed setup: fail before making files. */
	self->fd = variant->be->init(O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("init: %s", strerror(errno));
	ASSERT_EQ(0, scratch_make(self->dir, sizeof(self->dir), "read"));
	wd = variant->be->add_watch(self->fd, self->dir, DIR_MASK);
	if (wd != 1)
		scratch_remove(self->dir);
	ASSERT_EQ(1, wd) TH_LOG("add_watch: %s", strerror(errno));
	self->mode = 0750;
}

FIXTURE_TEARDOWN(rd)
{
	if (self->fd >= 0)
		close(self->fd);
	scratch_remove(self->dir);
}

/* Queues {1, IN_ATTRIB|IN_ISDIR, 0, 0}: 16 bytes. */
static int nameless(FIXTURE_DATA(rd) *self)
{
	self->mode ^= 0005;
	return chmod(self->dir, self->mode);
}

/* Queues {1, IN_CREATE, 0, roundup(strlen + 1, 16), name}. */
static int named(FIXTURE_DATA(rd) *self, const char *name)
{
	char p[PATH_MAX];

	/* Not scratch_file(): its fchmod would add an IN_ATTRIB. */
	return mknod(scratch_path(p, sizeof(p), self->dir, name), S_IFREG | 0644, 0);
}

/* A name of @len characters, all @c. */
static const char *name_of(char *buf, int len, char c)
{
	memset(buf, c, len);
	buf[len] = 0;
	return buf;
}

static int fionread(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n) < 0)
		return -1;
	return n;
}

static int event_size(int name_len)
{
	return 16 + (name_len ? (name_len + 1 + 15) / 16 * 16 : 0);
}

/* Checks the event record at @p: wd 1, @mask, cookie 0, and @name padded as upstream does. */
static void check_record(struct __test_metadata *_metadata, const char *p, uint32_t mask,
			 const char *name)
{
	struct inotify_event ie;
	size_t nl = name ? strlen(name) : 0;

	memcpy(&ie, p, sizeof(ie));
	EXPECT_EQ(1, ie.wd);
	EXPECT_EQ(mask, ie.mask);
	EXPECT_EQ(0, ie.cookie);
	EXPECT_EQ(event_size(nl) - 16, (int)ie.len);
	if (nl) {
		EXPECT_EQ(0, memcmp(p + 16, name, nl)) TH_LOG("name %.*s", (int)nl, p + 16);
		for (size_t i = nl; i < ie.len; i++) {
			EXPECT_EQ(0, p[16 + i]) TH_LOG("padding byte %zu of %s", i, name);
		}
	}
}

/* ---- short buffers ---- */

TEST_F(rd, short_buffer_einval_keeps_event)
{
	char buf[4096];

	ASSERT_EQ(0, nameless(self));
	EXPECT_EQ(-1, read(self->fd, buf, 15));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->fd, buf, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(16, fionread(self->fd));
	ASSERT_EQ(16, read(self->fd, buf, sizeof(buf)));
	check_record(_metadata, buf, NAMELESS, NULL);
}

/* count 0 is just a buffer too small for the next event; with none queued it is EAGAIN. */
TEST_F(rd, zero_count)
{
	char buf[16];

	EXPECT_EQ(-1, read(self->fd, buf, 0));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, nameless(self));
	EXPECT_EQ(-1, read(self->fd, buf, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(16, fionread(self->fd));
}

TEST_F(rd, sixteen_bytes_named_event_einval)
{
	char buf[4096];

	ASSERT_EQ(0, named(self, "a"));
	EXPECT_EQ(-1, read(self->fd, buf, 16));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->fd, buf, 31));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(32, fionread(self->fd));
	ASSERT_EQ(32, read(self->fd, buf, 32));
	check_record(_metadata, buf, IN_CREATE, "a");
}

/* 39 bytes hold one 32-byte event, not one and a bit. */
TEST_F(rd, buffer_39_returns_one_event)
{
	char buf[39];

	ASSERT_EQ(0, named(self, "a"));
	ASSERT_EQ(0, named(self, "b"));
	ASSERT_EQ(32, read(self->fd, buf, sizeof(buf)));
	check_record(_metadata, buf, IN_CREATE, "a");
	ASSERT_EQ(32, read(self->fd, buf, sizeof(buf)));
	check_record(_metadata, buf, IN_CREATE, "b");
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(rd, whole_events_only)
{
	char buf[4096], name[32];

	ASSERT_EQ(0, nameless(self));				/* 16 */
	ASSERT_EQ(0, named(self, "a"));				/* 32 */
	ASSERT_EQ(0, named(self, name_of(name, 16, 'p')));	/* 48 */
	EXPECT_EQ(96, fionread(self->fd));
	/* One byte short of all three. */
	ASSERT_EQ(48, read(self->fd, buf, 95));
	check_record(_metadata, buf, NAMELESS, NULL);
	check_record(_metadata, buf + 16, IN_CREATE, "a");
	EXPECT_EQ(48, fionread(self->fd));
	ASSERT_EQ(48, read(self->fd, buf, sizeof(buf)));
	check_record(_metadata, buf, IN_CREATE, name);
	EXPECT_EQ(0, fionread(self->fd));
}

/* ---- name padding and FIONREAD ---- */

TEST_F(rd, name_padding)
{
	static const int lens[] = { 1, 15, 16, 31, 32, 255 };
	char buf[4096], name[256];

	for (unsigned int i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int want = event_size(lens[i]);

		ASSERT_EQ(0, named(self, name_of(name, lens[i], 'a' + i)));
		ASSERT_EQ(want, read(self->fd, buf, sizeof(buf))) TH_LOG("name length %d", lens[i]);
		check_record(_metadata, buf, IN_CREATE, name);
	}
}

TEST_F(rd, fionread_matches_read)
{
	static const int lens[] = { 0, 1, 15, 16, 31 };
	char buf[4096], name[64];
	int total = 0;

	/* One at a time ... */
	for (unsigned int i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int want = event_size(lens[i]);

		if (lens[i]) {
			ASSERT_EQ(0, named(self, name_of(name, lens[i], 'a' + i)));
		} else {
			ASSERT_EQ(0, nameless(self));
		}
		EXPECT_EQ(want, fionread(self->fd)) TH_LOG("name length %d", lens[i]);
		EXPECT_EQ(want, read(self->fd, buf, sizeof(buf))) TH_LOG("name length %d", lens[i]);
		EXPECT_EQ(0, fionread(self->fd));
	}
	/* ... and all together. */
	for (unsigned int i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		if (lens[i]) {
			ASSERT_EQ(0, named(self, name_of(name, lens[i], 'A' + i)));
		} else {
			ASSERT_EQ(0, nameless(self));
		}
		total += event_size(lens[i]);
		EXPECT_EQ(total, fionread(self->fd));
	}
	EXPECT_EQ(16 + 32 + 32 + 48 + 48, total);
	EXPECT_EQ(total, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, fionread(self->fd));
}

/* ---- blocking reads ---- */

struct waker {
	pid_t reader;			/* tid of the thread blocked in read */
	FIXTURE_DATA(rd) *self;
	int signal;			/* signal to send to the reader first, or 0 */
	pthread_t reader_thread;
	int event;			/* then make an event? */
	int ret;
};

static volatile sig_atomic_t handled;

static void on_signal(int sig)
{
	(void)sig;
	handled = 1;
}

static void *waker_main(void *arg)
{
	struct waker *w = arg;

	w->ret = -1;
	if (wait_thread_sleeping(w->reader) < 0)
		return NULL;
	if (w->signal) {
		if (pthread_kill(w->reader_thread, w->signal))
			return NULL;
		/* With SA_RESTART the read goes back to sleep once the handler ran. */
		if (w->event) {
			for (int i = 0; i < 20000 && !handled; i++)
				usleep(1000);
			if (!handled || wait_thread_sleeping(w->reader) < 0)
				return NULL;
		}
	}
	if (w->event && nameless(w->self) < 0)
		return NULL;
	w->ret = 0;
	return NULL;
}

static void start_waker(struct __test_metadata *_metadata, pthread_t *t, struct waker *w,
			FIXTURE_DATA(rd) *self, int sig, int event)
{
	w->reader = scratch_gettid();
	w->reader_thread = pthread_self();
	w->self = self;
	w->signal = sig;
	w->event = event;
	w->ret = -1;
	ASSERT_EQ(0, pthread_create(t, NULL, waker_main, w));
}

static void install_handler(struct __test_metadata *_metadata, int flags)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	handled = 0;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
}

TEST_F(rd, blocking_read_woken_by_event)
{
	struct waker w;
	char buf[4096];
	pthread_t t;
	int fd = variant->be->init(O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(1, variant->be->add_watch(fd, self->dir, DIR_MASK));
	start_waker(_metadata, &t, &w, self, 0, 1);
	EXPECT_EQ(16, read(fd, buf, sizeof(buf)));
	check_record(_metadata, buf, NAMELESS, NULL);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(0, close(fd));
}

/* O_NONBLOCK is looked at on each read, not remembered from open. */
TEST_F(rd, nonblock_cleared_with_fcntl_blocks)
{
	struct waker w;
	char buf[4096];
	pthread_t t;
	int fl = fcntl(self->fd, F_GETFL);

	ASSERT_NE(-1, fl);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl & ~O_NONBLOCK));
	start_waker(_metadata, &t, &w, self, 0, 1);
	EXPECT_EQ(16, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, w.ret);
}

TEST_F(rd, nonblock_set_with_fcntl_eagain)
{
	char buf[4096];
	int fd = variant->be->init(O_CLOEXEC);
	int fl;

	ASSERT_LE(0, fd);
	fl = fcntl(fd, F_GETFL);
	ASSERT_NE(-1, fl);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, close(fd));
}

TEST_F(rd, blocking_read_signal_eintr)
{
	struct waker w;
	char buf[4096];
	pthread_t t;
	int fd = variant->be->init(O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(1, variant->be->add_watch(fd, self->dir, DIR_MASK));
	install_handler(_metadata, 0);
	start_waker(_metadata, &t, &w, self, SIGUSR1, 0);
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(1, handled);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, w.ret);
	/* Nothing was lost or queued by the interruption. */
	EXPECT_EQ(0, fionread(fd));
	EXPECT_EQ(0, close(fd));
}

/* The interrupted read is restartable (ERESTARTSYS), so SA_RESTART hides the signal. */
TEST_F(rd, blocking_read_sa_restart_restarts)
{
	struct waker w;
	char buf[4096];
	pthread_t t;
	int fd = variant->be->init(O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(1, variant->be->add_watch(fd, self->dir, DIR_MASK));
	install_handler(_metadata, SA_RESTART);
	start_waker(_metadata, &t, &w, self, SIGUSR1, 1);
	EXPECT_EQ(16, read(fd, buf, sizeof(buf))) TH_LOG("read: %s", strerror(errno));
	check_record(_metadata, buf, NAMELESS, NULL);
	EXPECT_EQ(1, handled);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(0, close(fd));
}

/* ---- EFAULT ---- */

TEST_F(rd, bad_buffer_efault)
{
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, nameless(self));
	EXPECT_EQ(-1, read(self->fd, page, 4096));
	EXPECT_EQ(EFAULT, errno);
	munmap(page, 4096);
}

/* The event whose copy faulted was already dequeued: it is gone. */
TEST_F(rd, efault_drops_the_event)
{
	char buf[4096];
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, nameless(self));
	ASSERT_EQ(0, named(self, "a"));
	EXPECT_EQ(-1, read(self->fd, page, 4096));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(32, fionread(self->fd));
	ASSERT_EQ(32, read(self->fd, buf, sizeof(buf)));
	check_record(_metadata, buf, IN_CREATE, "a");
	munmap(page, 4096);
}

/*
 * A fault on the second event still fails the whole read with EFAULT, although the first was
 * copied (inotify_read: "start != buf && ret != -EFAULT"); both are consumed.
 */
TEST_F(rd, efault_after_first_event)
{
	char *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + 4096, 4096, PROT_NONE));
	ASSERT_EQ(0, nameless(self));
	ASSERT_EQ(0, named(self, "a"));
	ASSERT_EQ(0, nameless(self));
	/* 16 bytes of good memory, then the hole. */
	EXPECT_EQ(-1, read(self->fd, map + 4096 - 16, 4096));
	EXPECT_EQ(EFAULT, errno);
	check_record(_metadata, map + 4096 - 16, NAMELESS, NULL);
	EXPECT_EQ(16, fionread(self->fd));
	munmap(map, 8192);
}

/* ---- readv: one read per iovec, each getting whole events ---- */

TEST_F(rd, readv_per_iovec)
{
	char a[16], b[40], c[64];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };

	ASSERT_EQ(0, nameless(self));
	ASSERT_EQ(0, named(self, "a"));
	ASSERT_EQ(0, nameless(self));
	/* a takes the nameless event, b the 32-byte one (the next 16 would not fit in 8). */
	EXPECT_EQ(48, readv(self->fd, iov, 2));
	check_record(_metadata, a, NAMELESS, NULL);
	check_record(_metadata, b, IN_CREATE, "a");
	EXPECT_EQ(16, fionread(self->fd));
	EXPECT_EQ(16, read(self->fd, c, sizeof(c)));
}

/* A short read into one iovec ends the readv. */
TEST_F(rd, readv_stops_after_short_iovec)
{
	char a[20], b[40], c[64];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };

	ASSERT_EQ(0, nameless(self));
	ASSERT_EQ(0, named(self, "a"));
	EXPECT_EQ(16, readv(self->fd, iov, 2));
	check_record(_metadata, a, NAMELESS, NULL);
	EXPECT_EQ(32, fionread(self->fd));
	EXPECT_EQ(32, read(self->fd, c, sizeof(c)));
}

TEST_F(rd, readv_first_iovec_too_small_einval)
{
	char a[8], b[40];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };

	ASSERT_EQ(0, nameless(self));
	EXPECT_EQ(-1, readv(self->fd, iov, 2));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(16, fionread(self->fd));
}

/* The second iovec finding the queue empty ends the readv with what the first got. */
TEST_F(rd, readv_queue_runs_dry)
{
	char a[16], b[40];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };

	ASSERT_EQ(0, nameless(self));
	EXPECT_EQ(16, readv(self->fd, iov, 2));
	EXPECT_EQ(-1, readv(self->fd, iov, 2));
	EXPECT_EQ(EAGAIN, errno);
}

/* ---- splice, sendfile, tee ---- */

/*
 * upstream's inotify_fops has .read but no .splice_read, so do_splice_read() refuses with EINVAL
 * before anything is dequeued: splice and sendfile to a pipe or a file, and tee, all fail and the
 * event stays queued. (Spec §1.4 expects splice to work through copy_splice_read(); 7.3's
 * fs/splice.c and the 6.18 host kernel both refuse it.)
 */
TEST_F(rd, splice_sendfile_tee_einval)
{
	char buf[4096];
	int p[2], null;

	ASSERT_EQ(0, nameless(self));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, null);

	EXPECT_EQ(-1, splice(self->fd, NULL, p[1], NULL, sizeof(buf), 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, splice(self->fd, NULL, p[1], NULL, sizeof(buf), SPLICE_F_NONBLOCK));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, sendfile(p[1], self->fd, NULL, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, sendfile(null, self->fd, NULL, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, tee(self->fd, p[1], sizeof(buf), 0));
	EXPECT_EQ(EINVAL, errno);

	/* Nothing was consumed, nothing reached the pipe. */
	EXPECT_EQ(16, fionread(self->fd));
	ASSERT_EQ(16, read(self->fd, buf, sizeof(buf)));
	check_record(_metadata, buf, NAMELESS, NULL);
	ASSERT_EQ(0, fcntl(p[0], F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(p[0], buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	close(null);
	close(p[0]);
	close(p[1]);
}

/* ---- concurrent readers and writers ---- */

#define CR_WRITERS	2
#define CR_READERS	3
#define CR_FILES	200	/* per writer */

/*
 * Writer w creates "w<w>-<i>" for i < CR_FILES in dir: one IN_CREATE each, all different, so none
 * merge. Readers read one 32-byte event at a time from the same blocking instance until they get
 * a "stop" event; the main thread queues one stop per reader after the writers are done.
 */
struct cr_shared {
	int fd;
	const char *dir;
	pthread_mutex_t lock;
	unsigned char seen[CR_WRITERS][CR_FILES];
	int events;
	int stops;
	int bad;
	char why[160];
};

struct cr_writer {
	struct cr_shared *sh;
	int id;
	int ret;		/* 0, or the errno of the failed mknod */
};

static void cr_fail(struct cr_shared *sh, const char *why, const char *name)
{
	pthread_mutex_lock(&sh->lock);
	if (!sh->bad++)
		snprintf(sh->why, sizeof(sh->why), "%s (%s)", why, name);
	pthread_mutex_unlock(&sh->lock);
}

static void *cr_reader(void *arg)
{
	struct cr_shared *sh = arg;
	char buf[32] __attribute__((aligned(8)));
	struct inotify_event ie;

	for (;;) {
		ssize_t r = read(sh->fd, buf, sizeof(buf));
		char name[17];
		int w, i;

		if (r != 32) {
			cr_fail(sh, r < 0 ? strerror(errno) : "read did not return one event",
				"read");
			return NULL;
		}
		memcpy(&ie, buf, sizeof(ie));
		memcpy(name, buf + 16, 16);
		name[16] = 0;
		if (ie.wd != 1 || ie.mask != IN_CREATE || ie.cookie || ie.len != 16) {
			cr_fail(sh, "bad event header", name);
			return NULL;
		}
		if (!strncmp(name, "stop", 4)) {
			pthread_mutex_lock(&sh->lock);
			sh->stops++;
			pthread_mutex_unlock(&sh->lock);
			return NULL;
		}
		if (sscanf(name, "w%d-%d", &w, &i) != 2 || w < 0 || w >= CR_WRITERS || i < 0 ||
		    i >= CR_FILES) {
			cr_fail(sh, "unexpected name", name);
			return NULL;
		}
		pthread_mutex_lock(&sh->lock);
		sh->seen[w][i]++;
		sh->events++;
		pthread_mutex_unlock(&sh->lock);
	}
}

static void *cr_writer(void *arg)
{
	struct cr_writer *wr = arg;
	char p[PATH_MAX], name[16];

	for (int i = 0; i < CR_FILES; i++) {
		snprintf(name, sizeof(name), "w%d-%d", wr->id, i);
		if (mknod(scratch_path(p, sizeof(p), wr->sh->dir, name), S_IFREG | 0644, 0)) {
			wr->ret = errno;
			return NULL;
		}
	}
	wr->ret = 0;
	return NULL;
}

TEST_F(rd, concurrent_readers_and_writers)
{
	static struct cr_shared sh;
	struct cr_writer wr[CR_WRITERS];
	pthread_t readers[CR_READERS], writers[CR_WRITERS];
	char p[PATH_MAX], name[16];
	int missing = 0, duplicated = 0;

	memset(&sh, 0, sizeof(sh));
	ASSERT_EQ(0, pthread_mutex_init(&sh.lock, NULL));
	sh.dir = self->dir;
	sh.fd = variant->be->init(O_CLOEXEC);
	ASSERT_LE(0, sh.fd);
	ASSERT_EQ(1, variant->be->add_watch(sh.fd, self->dir, IN_CREATE));

	for (int r = 0; r < CR_READERS; r++) {
		ASSERT_EQ(0, pthread_create(&readers[r], NULL, cr_reader, &sh));
	}
	for (int w = 0; w < CR_WRITERS; w++) {
		wr[w] = (struct cr_writer){ .sh = &sh, .id = w, .ret = -1 };
		ASSERT_EQ(0, pthread_create(&writers[w], NULL, cr_writer, &wr[w]));
	}
	for (int w = 0; w < CR_WRITERS; w++) {
		ASSERT_EQ(0, pthread_join(writers[w], NULL));
		EXPECT_EQ(0, wr[w].ret) TH_LOG("writer %d: %s", w, strerror(wr[w].ret));
	}
	/* Queued after every writer's event: a reader that sees one has nothing else to read. */
	for (int r = 0; r < CR_READERS; r++) {
		snprintf(name, sizeof(name), "stop%d", r);
		ASSERT_EQ(0, mknod(scratch_path(p, sizeof(p), self->dir, name), S_IFREG | 0644, 0));
	}
	for (int r = 0; r < CR_READERS; r++) {
		ASSERT_EQ(0, pthread_join(readers[r], NULL));
	}

	EXPECT_EQ(0, sh.bad) TH_LOG("%d bad reads, first: %s", sh.bad, sh.why);
	EXPECT_EQ(CR_READERS, sh.stops);
	EXPECT_EQ(CR_WRITERS * CR_FILES, sh.events);
	/* Every event read exactly once, by one of the readers. */
	for (int w = 0; w < CR_WRITERS; w++) {
		for (int i = 0; i < CR_FILES; i++) {
			missing += sh.seen[w][i] == 0;
			duplicated += sh.seen[w][i] > 1;
		}
	}
	EXPECT_EQ(0, missing);
	EXPECT_EQ(0, duplicated);
	EXPECT_EQ(0, fionread(sh.fd));
	EXPECT_EQ(0, close(sh.fd));
	pthread_mutex_destroy(&sh.lock);
}

TEST_HARNESS_MAIN
