// SPDX-License-Identifier: GPL-2.0
/*
 * rust_inotify_plugin.so: a CRIU plugin that checkpoints and restores /dev/rust_inotify fds.
 *
 * CRIU knows a few character devices itself and hands every other one to plugins, as an
 * "external file" with one id per open file description (shared by dup, fork and SCM_RIGHTS,
 * and restored once per id):
 *
 *   DUMP_EXT_FILE (fd, id), in criu's own process, with a copy of the fd: if the fd is not
 *   /dev/rust_inotify, -ENOTSUP (the next plugin's turn). Else RUST_INOTIFY_IOC_DUMP, which
 *   changes nothing, reports every watch (wd, mask, ino, s_dev, file handle), the wd cursor, the
 *   queued events in order and O_NONBLOCK; for every watch the plugin also records a path, found
 *   by opening the handle on a mount of that device, as a fallback. All of it goes into the
 *   plugin's own versioned image, rust-inotify-ID.img in the images directory.
 *
 *   RESTORE_EXT_FILE (id), inside the restored task: reads the image (no image: -ENOTSUP, not
 *   ours), opens /dev/rust_inotify (O_NONBLOCK as it was) and makes the new instance the dumped
 *   one with one RUST_INOTIFY_IOC_RESTORE: the same wds, masks, cursor and queued events. The
 *   kernel finds each watched inode by its handle, on an fd of a mount of its device that the
 *   plugin passes. If a handle does not decode (ESTALE), the plugin finds which, tries the
 *   recorded path (the inode number and device must match) and retries. A watch whose inode is
 *   gone fails the restore, naming the wd and the path: it is never dropped.
 *
 * Built against CRIU 4.x's criu-plugin.h (Debian trixie's libcriu-dev, criu 4.1.1): its
 * RESTORE_EXT_FILE takes the id only, and that is what criu 4.1.1 passes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include <criu-plugin.h>

#include "rust_inotify.h"

/*
 * criu's logger. criu-log.h includes criu's private log.h, which libcriu-dev does not ship, so
 * the function and the levels (criu/include/log.h) are declared here.
 */
extern void print_on_level(unsigned int loglevel, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
#define RI_LOG_ERROR	1
#define RI_LOG_WARN	2
#define RI_LOG_INFO	3
#define RI_LOG_DEBUG	4
#define LOG_PREFIX "rust_inotify: "
#define ri_err(fmt, ...) print_on_level(RI_LOG_ERROR, "Error: " LOG_PREFIX fmt, ##__VA_ARGS__)
#define ri_warn(fmt, ...) print_on_level(RI_LOG_WARN, "Warn: " LOG_PREFIX fmt, ##__VA_ARGS__)
#define ri_info(fmt, ...) print_on_level(RI_LOG_INFO, LOG_PREFIX fmt, ##__VA_ARGS__)
#define ri_debug(fmt, ...) print_on_level(RI_LOG_DEBUG, LOG_PREFIX fmt, ##__VA_ARGS__)

/*
 * The image: a header, then nr_watches records (the watch as dumped, then path_len bytes of
 * path, no NUL), then events_len bytes of event records as RUST_INOTIFY_IOC_DUMP gave them.
 * All integers in the host's byte order (CRIU images are not portable across architectures).
 */
#define RI_IMG_MAGIC	"RINOTIFY"
#define RI_IMG_VERSION	1
#define RI_IMG_NAME	"rust-inotify-%d.img"

struct ri_img_header {
	char magic[8];
	uint32_t img_version;	/* RI_IMG_VERSION */
	uint32_t ckpt_version;	/* RUST_INOTIFY_CKPT_VERSION of the dump */
	uint32_t next_wd;
	uint32_t f_flags;	/* the dump's f_flags (O_NONBLOCK) */
	uint32_t max_events;
	uint32_t nr_watches;
	uint32_t nr_events;
	uint32_t events_len;
	uint32_t watch_size;	/* sizeof(struct rust_inotify_ckpt_watch) at dump */
	uint32_t open_flags;	/* fcntl(F_GETFL) at dump: the access mode is reopened as it was */
};

struct ri_img_watch {
	struct rust_inotify_ckpt_watch w;
	uint32_t path_len;
};

/* /dev/rust_inotify's device number, from sysfs (the node may not be where we look). */
static int ri_devno(dev_t *devno)
{
	unsigned int maj, min;
	FILE *f = fopen("/sys/class/misc/rust_inotify/dev", "r");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%u:%u", &maj, &min);
	fclose(f);
	if (n != 2)
		return -EINVAL;
	*devno = makedev(maj, min);
	return 0;
}

/* The kernel's new_decode_dev(): fdinfo's sdev and the dump's s_dev are new_encode_dev(). */
static dev_t ri_decode_dev(uint32_t dev)
{
	return makedev((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00));
}

static uint32_t ri_encode_dev(dev_t dev)
{
	unsigned int maj = major(dev), min = minor(dev);

	return (min & 0xff) | (maj << 8) | ((min & ~0xffu) << 12);
}

/*
 * An fd of a mount of the filesystem whose device is s_dev (new_encode_dev); -ENOENT if none is
 * mounted here. @flags: O_PATH for RUST_INOTIFY_IOC_RESTORE, which takes it; O_RDONLY for
 * open_by_handle_at(), which refuses O_PATH fds (EBADF). That open of the mount's root, as CRIU's
 * own for the kernel's inotify, is an IN_OPEN and IN_CLOSE_NOWRITE for whoever watches that
 * directory.
 */
static int ri_open_mount(uint32_t s_dev, int flags)
{
	dev_t want = ri_decode_dev(s_dev);
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char *line = NULL;
	size_t cap = 0;
	int fd = -ENOENT;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned int maj, min;
		char mnt[4096];

		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...": octal escapes in MOUNTPOINT. */
		if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &maj, &min, mnt) != 3)
			continue;
		if (makedev(maj, min) != want)
			continue;
		/* Undo mountinfo's \ooo escapes (space, tab, newline, backslash). */
		for (char *r = mnt, *w = mnt;; r++, w++) {
			if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] && r[3]) {
				*w = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
				r += 3;
			} else {
				*w = *r;
			}
			if (!*r)
				break;
		}
		fd = open(mnt, flags | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			break;
		fd = -errno;
	}
	free(line);
	fclose(f);
	return fd;
}

/*
 * Mount fds by device: the watches of an instance are nearly always on a few filesystems, and
 * mountinfo is read once per device, not once per watch. On restore the fds are also what
 * RUST_INOTIFY_IOC_RESTORE decodes the handles on, so they stay open until the end of the hook
 * (ri_mounts_drop()).
 */
static struct ri_mount {
	uint32_t s_dev;
	int fd;		/* or a negative errno: no mount of that device here */
} *ri_mounts;
static size_t ri_nr_mounts;
static int ri_mount_flags = O_RDONLY;	/* the hook's: O_RDONLY at dump, O_PATH at restore */

static int ri_mount_of(uint32_t s_dev)
{
	struct ri_mount *m;

	for (size_t i = 0; i < ri_nr_mounts; i++)
		if (ri_mounts[i].s_dev == s_dev)
			return ri_mounts[i].fd;
	m = realloc(ri_mounts, (ri_nr_mounts + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	ri_mounts = m;
	m[ri_nr_mounts].s_dev = s_dev;
	m[ri_nr_mounts].fd = ri_open_mount(s_dev, ri_mount_flags);
	return m[ri_nr_mounts++].fd;
}

static void ri_mounts_drop(void)
{
	for (size_t i = 0; i < ri_nr_mounts; i++)
		if (ri_mounts[i].fd >= 0)
			close(ri_mounts[i].fd);
	free(ri_mounts);
	ri_mounts = NULL;
	ri_nr_mounts = 0;
}

/* An O_PATH fd of the watched inode, by its file handle; a negative errno if it is gone. */
static int ri_open_handle(const struct rust_inotify_ckpt_watch *w)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[RUST_INOTIFY_HANDLE_SZ];
	} h;
	int mfd, fd;

	if (w->handle_bytes == 0 || w->handle_bytes > RUST_INOTIFY_HANDLE_SZ)
		return -EOPNOTSUPP;
	mfd = ri_mount_of(w->s_dev);
	if (mfd < 0)
		return mfd;
	h.fh.handle_bytes = w->handle_bytes;
	h.fh.handle_type = w->handle_type;
	memcpy(h.fh.f_handle, w->f_handle, w->handle_bytes);
	fd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The path of an fd, as /proc/self/fd/N shows it; NULL on error. */
static char *ri_fd_path(int fd)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static int ri_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int ri_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;	/* short image */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* RUST_INOTIFY_IOC_DUMP into buffers big enough: E2BIG writes back the sizes needed. */
static int ri_dump_ioctl(int fd, struct rust_inotify_ckpt *ck,
			 struct rust_inotify_ckpt_watch **watches, char **events)
{
	uint32_t nr = 64, len = 4096;

	*watches = NULL;
	*events = NULL;
	for (int tries = 0; tries < 16; tries++) {
		struct rust_inotify_ckpt_watch *w = realloc(*watches, nr * sizeof(*w) + 1);
		char *e = realloc(*events, len + 1);

		if (w)
			*watches = w;
		if (e)
			*events = e;
		if (!w || !e)
			return -ENOMEM;
		memset(ck, 0, sizeof(*ck));
		ck->version = RUST_INOTIFY_CKPT_VERSION;
		ck->nr_watches = nr;
		ck->watches = (uintptr_t)w;
		ck->events_len = len;
		ck->events = (uintptr_t)e;
		if (ioctl(fd, RUST_INOTIFY_IOC_DUMP, ck) == 0)
			return 0;
		if (errno != E2BIG)
			return -errno;
		/* Events may be queued meanwhile: ask for some more room than reported. */
		nr = ck->nr_watches > nr ? ck->nr_watches : nr;
		len = (ck->events_len > len ? ck->events_len : len) + 4096;
		ri_debug("dump: E2BIG, retrying with %u watches, %u bytes of events\n", nr, len);
	}
	return -E2BIG;
}

static int ri_dump_ext_file(int fd, int id)
{
	struct rust_inotify_ckpt_watch *watches = NULL;
	struct rust_inotify_ckpt ck;
	struct ri_img_header h;
	char *events = NULL, name[64];
	struct stat st;
	dev_t devno = 0;
	int ret, img = -1, fl;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode) || ri_devno(&devno) < 0 || st.st_rdev != devno)
		return -ENOTSUP;

	ri_info("dumping fd %d (id %#x)\n", fd, id);
	ri_mount_flags = O_RDONLY;	/* for open_by_handle_at() */
	fl = fcntl(fd, F_GETFL);
	ret = ri_dump_ioctl(fd, &ck, &watches, &events);
	if (ret < 0) {
		ri_err("RUST_INOTIFY_IOC_DUMP of id %#x: %s\n", id, strerror(-ret));
		goto out;
	}

	snprintf(name, sizeof(name), RI_IMG_NAME, id);
	img = openat(criu_get_image_dir(), name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (img < 0) {
		ret = -errno;
		ri_err("cannot create %s: %s\n", name, strerror(errno));
		goto out;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, RI_IMG_MAGIC, sizeof(h.magic));
	h.img_version = RI_IMG_VERSION;
	h.ckpt_version = ck.version;
	h.next_wd = ck.next_wd;
	/* The ioctl reports O_NONBLOCK; fcntl's view of the same file is the fallback. */
	h.f_flags = ck.f_flags | (fl >= 0 ? (uint32_t)fl & O_NONBLOCK : 0);
	h.max_events = ck.max_events;
	h.nr_watches = ck.nr_watches;
	h.nr_events = ck.nr_events;
	h.events_len = ck.events_len;
	h.watch_size = sizeof(struct rust_inotify_ckpt_watch);
	h.open_flags = fl >= 0 ? (uint32_t)fl : O_RDONLY;
	ret = ri_write_all(img, &h, sizeof(h));
	for (uint32_t i = 0; ret == 0 && i < ck.nr_watches; i++) {
		struct ri_img_watch iw = { .w = watches[i] };
		char *path = NULL;
		int wfd = ri_open_handle(&watches[i]);

		if (wfd >= 0) {
			path = ri_fd_path(wfd);
			close(wfd);
		}
		if (!path)
			ri_warn("wd %d (ino %" PRIu64 ", dev %#x): no path found (%s); restore needs the handle\n",
				watches[i].wd, (uint64_t)watches[i].ino, watches[i].s_dev,
				wfd < 0 ? strerror(-wfd) : "readlink failed");
		iw.w.fd = -1;
		iw.path_len = path ? (uint32_t)strlen(path) : 0;
		ret = ri_write_all(img, &iw, sizeof(iw));
		if (ret == 0 && iw.path_len)
			ret = ri_write_all(img, path, iw.path_len);
		ri_debug("  wd %d mask %#x ino %" PRIu64 " dev %#x path %s\n", watches[i].wd,
			 watches[i].mask, (uint64_t)watches[i].ino, watches[i].s_dev, path ? path : "?");
		free(path);
	}
	if (ret == 0)
		ret = ri_write_all(img, events, ck.events_len);
	if (ret < 0) {
		ri_err("cannot write %s: %s\n", name, strerror(-ret));
		goto out;
	}
	ri_info("id %#x: %u watches, next wd %u, %u events (%u bytes)%s\n", id, ck.nr_watches,
		ck.next_wd, ck.nr_events, ck.events_len, (h.f_flags & O_NONBLOCK) ? ", O_NONBLOCK" : "");
	ret = 0;
out:
	ri_mounts_drop();
	if (img >= 0)
		close(img);
	free(watches);
	free(events);
	return ret;
}

/*
 * The watched inode by its recorded path, if that is still the same inode (number and device);
 * an O_PATH fd, or a negative errno after saying why not. @herr: why the handle did not do.
 */
static int ri_open_path(const struct rust_inotify_ckpt_watch *w, const char *path, int herr)
{
	struct stat st;
	int fd;

	if (!path[0]) {
		ri_err("wd %d (path unknown, ino %" PRIu64 ", dev %#x): the watched inode is gone: its handle does not open (%s) and no path was recorded\n",
		       w->wd, (uint64_t)w->ino, w->s_dev, strerror(-herr));
		return -ENOENT;
	}
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		ri_err("wd %d (%s, ino %" PRIu64 ", dev %#x): the watched inode is gone: handle: %s, path: %s\n",
		       w->wd, path, (uint64_t)w->ino, w->s_dev, strerror(-herr), strerror(err));
		return -err;
	}
	if (fstat(fd, &st) < 0 || st.st_ino != w->ino || ri_encode_dev(st.st_dev) != w->s_dev) {
		ri_err("wd %d (%s, ino %" PRIu64 ", dev %#x): the watched inode is gone: handle: %s, and the path is now another inode\n",
		       w->wd, path, (uint64_t)w->ino, w->s_dev, strerror(-herr));
		close(fd);
		return -ESTALE;
	}
	ri_debug("wd %d: found %s by its path (handle: %s)\n", w->wd, path, strerror(-herr));
	return fd;
}

/* Room for @n more fds (path fallbacks are one fd per watch, all open for the ioctl). */
static int ri_room_for_fds(uint64_t n, struct rlimit *saved, bool *raised)
{
	struct rlimit more;

	if (*raised || getrlimit(RLIMIT_NOFILE, saved) < 0 || saved->rlim_cur >= n + 256)
		return 0;
	more = *saved;
	more.rlim_cur = n + 256;
	if (more.rlim_cur > more.rlim_max)
		more.rlim_max = more.rlim_cur;
	if (setrlimit(RLIMIT_NOFILE, &more) < 0)
		return -errno;
	*raised = true;
	return 0;
}

/*
 * Points watch @i at its inode: the fd of a mount of its device, on which the kernel decodes
 * the handle; or, with no handle or no such mount, an fd of the inode found by its path
 * (handle_bytes 0). @owned[i] says the fd is the watch's own, to close.
 */
static int ri_point_watch(struct rust_inotify_ckpt_watch *w, const char *path, bool *owned)
{
	int fd = -EOPNOTSUPP;

	if (w->handle_bytes > 0 && w->handle_bytes <= RUST_INOTIFY_HANDLE_SZ) {
		fd = ri_mount_of(w->s_dev);
		if (fd >= 0) {
			w->fd = fd;
			*owned = false;
			return 0;
		}
	}
	fd = ri_open_path(w, path, fd);
	if (fd < 0)
		return fd;
	w->fd = fd;
	w->handle_bytes = 0;
	*owned = true;
	return 0;
}

static int ri_restore_ioctl(int dev, const struct ri_img_header *h,
			    struct rust_inotify_ckpt_watch *watches, char *events)
{
	struct rust_inotify_ckpt ck = {
		.version = RUST_INOTIFY_CKPT_VERSION,
		.next_wd = h->next_wd,
		.f_flags = h->f_flags,
		.max_events = h->max_events,
		.nr_watches = h->nr_watches,
		.watches = (uintptr_t)watches,
		.nr_events = h->nr_events,
		.events_len = h->events_len,
		.events = (uintptr_t)events,
	};

	return ioctl(dev, RUST_INOTIFY_IOC_RESTORE, &ck) < 0 ? -errno : 0;
}

static int ri_restore_ext_file(int id)
{
	struct rust_inotify_ckpt_watch *watches = NULL;
	struct ri_img_header h;
	char **paths = NULL, *events = NULL, name[64];
	bool *owned = NULL, nofile_raised = false;
	struct rlimit nofile;
	uint32_t nr_paths = 0;
	int img, dev = -1, ret;

	snprintf(name, sizeof(name), RI_IMG_NAME, id);
	img = openat(criu_get_image_dir(), name, O_RDONLY | O_CLOEXEC);
	if (img < 0)
		return errno == ENOENT ? -ENOTSUP : -errno;	/* no image: not our file */

	ret = ri_read_all(img, &h, sizeof(h));
	if (ret == 0 && (memcmp(h.magic, RI_IMG_MAGIC, sizeof(h.magic)) ||
			 h.img_version != RI_IMG_VERSION ||
			 h.ckpt_version != RUST_INOTIFY_CKPT_VERSION ||
			 h.watch_size != sizeof(struct rust_inotify_ckpt_watch) ||
			 h.nr_watches > (1u << 24) || h.events_len > (1u << 30)))
		ret = -EINVAL;
	if (ret < 0) {
		ri_err("%s: not an image this plugin can read (%s)\n", name, strerror(-ret));
		h.nr_watches = 0;
		goto out;
	}
	watches = calloc(h.nr_watches + 1, sizeof(*watches));
	paths = calloc(h.nr_watches + 1, sizeof(*paths));
	owned = calloc(h.nr_watches + 1, sizeof(*owned));
	events = malloc(h.events_len + 1);
	if (!watches || !paths || !owned || !events) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < h.nr_watches; i++) {
		struct ri_img_watch iw;

		ret = ri_read_all(img, &iw, sizeof(iw));
		if (ret == 0 && iw.path_len >= PATH_MAX)
			ret = -EINVAL;
		if (ret == 0 && !(paths[i] = calloc(1, iw.path_len + 1)))
			ret = -ENOMEM;
		if (ret == 0)
			ret = ri_read_all(img, paths[i], iw.path_len);
		if (ret < 0) {
			ri_err("%s: bad watch record %u: %s\n", name, i, strerror(-ret));
			goto out;
		}
		watches[i] = iw.w;
		watches[i].fd = -1;
		nr_paths += iw.w.handle_bytes == 0;
	}
	ret = ri_read_all(img, events, h.events_len);
	if (ret < 0) {
		ri_err("%s: bad event records: %s\n", name, strerror(-ret));
		goto out;
	}

	/* First, so that its number is low: criu moves it to the dumped fd's. */
	dev = open(RUST_INOTIFY_DEV, (int)(h.open_flags & O_ACCMODE) | (int)(h.f_flags & O_NONBLOCK));
	if (dev < 0) {
		ret = -errno;
		ri_err("cannot open %s: %s\n", RUST_INOTIFY_DEV, strerror(errno));
		goto out;
	}
	ri_mount_flags = O_PATH;	/* for the ioctl: no IN_OPEN on the mount's root */
	ret = ri_room_for_fds(nr_paths, &nofile, &nofile_raised);
	for (uint32_t i = 0; ret == 0 && i < h.nr_watches; i++)
		ret = ri_point_watch(&watches[i], paths[i], &owned[i]);
	if (ret == 0)
		ret = ri_restore_ioctl(dev, &h, watches, events);
	if (ret == -ESTALE || ret == -ENOENT) {
		/*
		 * A handle did not decode: the inode is gone, or the handle is stale while the path
		 * still leads to the same inode. Find which watches, try their paths, and retry
		 * (a failed restore leaves the instance empty).
		 */
		uint32_t gone = 0;

		ri_warn("id %#x: a handle does not decode (%s); checking each watch\n", id,
			strerror(-ret));
		ret = 0;
		for (uint32_t i = 0; i < h.nr_watches; i++) {
			struct {
				struct file_handle fh;
				unsigned char bytes[RUST_INOTIFY_HANDLE_SZ];
			} fh;
			int fd, mfd;

			if (owned[i])
				continue;
			fh.fh.handle_bytes = watches[i].handle_bytes;
			fh.fh.handle_type = watches[i].handle_type;
			memcpy(fh.fh.f_handle, watches[i].f_handle, watches[i].handle_bytes);
			mfd = ri_open_mount(watches[i].s_dev, O_RDONLY);
			fd = mfd < 0 ? mfd : open_by_handle_at(mfd, &fh.fh, O_PATH | O_CLOEXEC);
			if (fd < 0 && mfd >= 0)
				fd = -errno;
			if (mfd >= 0)
				close(mfd);
			if (fd >= 0) {
				close(fd);
				continue;
			}
			if (ri_room_for_fds(h.nr_watches, &nofile, &nofile_raised) == 0)
				fd = ri_open_path(&watches[i], paths[i], fd);
			if (fd < 0) {
				ri_err("cannot restore id %#x: wd %d (%s) has no inode to watch\n", id,
				       watches[i].wd, paths[i][0] ? paths[i] : "path unknown");
				gone++;
				ret = fd;
				continue;
			}
			watches[i].fd = fd;
			watches[i].handle_bytes = 0;
			owned[i] = true;
		}
		if (gone == 0)
			ret = ri_restore_ioctl(dev, &h, watches, events);
	}
	if (ret < 0) {
		ri_err("cannot restore id %#x (%u watches, %u events): %s\n", id, h.nr_watches,
		       h.nr_events, strerror(-ret));
		goto out;
	}
	ri_info("restored id %#x: %u watches, next wd %u, %u events, fd %d\n", id, h.nr_watches,
		h.next_wd, h.nr_events, dev);
	ret = dev;
	dev = -1;
out:
	if (dev >= 0)
		close(dev);
	ri_mounts_drop();
	for (uint32_t i = 0; owned && i < h.nr_watches; i++)
		if (owned[i])
			close(watches[i].fd);
	if (nofile_raised)
		setrlimit(RLIMIT_NOFILE, &nofile);
	for (uint32_t i = 0; paths && i < h.nr_watches; i++)
		free(paths[i]);
	free(paths);
	free(owned);
	free(watches);
	free(events);
	close(img);
	/* Never -ENOTSUP from here: that would hand our file to the next plugin. */
	return ret == -ENOTSUP ? -EINVAL : ret;
}

static int ri_init(int stage)
{
	ri_debug("loaded (stage %d)\n", stage);
	return 0;
}

static void ri_exit(int stage, int ret)
{
	ri_debug("done (stage %d, ret %d)\n", stage, ret);
}

/* The hooks' types are criu-plugin.h's: a signature that drifts from them does not build. */
static CR_PLUGIN_HOOK__DUMP_EXT_FILE_t *const ri_dump_hook = ri_dump_ext_file;
static CR_PLUGIN_HOOK__RESTORE_EXT_FILE_t *const ri_restore_hook = ri_restore_ext_file;

CR_PLUGIN_REGISTER("rust_inotify", ri_init, ri_exit)

static void __attribute__((constructor)) ri_register_hooks(void)
{
	CR_PLUGIN_DESC.hooks[CR_PLUGIN_HOOK__DUMP_EXT_FILE] = (void *)ri_dump_hook;
	CR_PLUGIN_DESC.hooks[CR_PLUGIN_HOOK__RESTORE_EXT_FILE] = (void *)ri_restore_hook;
}
