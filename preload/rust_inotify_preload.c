// SPDX-License-Identifier: GPL-2.0
/*
 * librust_inotify_preload.so: runs unmodified, dynamically linked programs on /dev/rust_inotify.
 *
 *	LD_PRELOAD=/usr/local/lib/librust_inotify_preload.so inotifywait -m /tmp
 *
 * It overrides glibc's inotify_init(), inotify_init1(), inotify_add_watch() and
 * inotify_rm_watch():
 *   - init opens /dev/rust_inotify (one open is one instance; IN_NONBLOCK and IN_CLOEXEC are
 *     O_NONBLOCK and O_CLOEXEC), or calls the next (glibc's) function, as RUST_INOTIFY_PRELOAD
 *     says: "device" (the device only), "kernel" (the kernel's inotify only) or "auto" (the
 *     default: the device, and the kernel's inotify when the device is not there or this user
 *     may not open it);
 *   - add and rm use the device's ioctls on an fd that is a device instance, and the next
 *     function (the real system call) on any other fd, so that EBADF and EINVAL on a wrong fd
 *     are upstream's.
 *
 * Every errno is upstream's: the device gives upstream's errnos itself (the C tests check that),
 * the only check made here is inotify_init1()'s flags check, and the library's own system calls
 * (fstat, stat) never leave their errno behind.
 *
 * State: the next functions and the mode, set once under pthread_once() and read-only after, so
 * the library is safe in threads, across fork (the child inherits the settled state) and exec
 * (the new image loads the library again through the inherited LD_PRELOAD, and reads the
 * inherited RUST_INOTIFY_PRELOAD again). There is no per-fd state: whether an fd is a device
 * instance is decided afresh on each call from fstat(), so close, dup, dup2 and fork cannot make
 * it stale.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "rust_inotify.h"

#define EXPORT __attribute__((visibility("default")))

/* The misc device's number, as the kernel registered it. */
#define MISC_DEV_SYSFS "/sys/class/misc/rust_inotify/dev"

enum mode {
	MODE_AUTO,	/* the device, or the kernel's inotify when the device is not there */
	MODE_DEVICE,	/* the device only; its errors are the program's */
	MODE_KERNEL,	/* the kernel's inotify only */
};

/*
 * Set once by setup() under `once`; read-only afterwards. (glibc's pthread_once() also copes with
 * a fork() in the middle of another thread's setup(): the child runs it again.)
 */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static enum mode mode;
static int (*next_init1)(int flags);
static int (*next_add_watch)(int fd, const char *path, uint32_t mask);
static int (*next_rm_watch)(int fd, int wd);

/*
 * The system calls themselves, for when dlsym() finds no later definition (a C library without
 * these functions). They set errno as glibc's do.
 */
static int sys_init1(int flags)
{
	return syscall(SYS_inotify_init1, flags);
}

static int sys_add_watch(int fd, const char *path, uint32_t mask)
{
	return syscall(SYS_inotify_add_watch, fd, path, mask);
}

static int sys_rm_watch(int fd, int wd)
{
	return syscall(SYS_inotify_rm_watch, fd, wd);
}

static void setup(void)
{
	const char *env = getenv("RUST_INOTIFY_PRELOAD");

	if (!env || !*env || !strcmp(env, "auto")) {
		mode = MODE_AUTO;
	} else if (!strcmp(env, "device")) {
		mode = MODE_DEVICE;
	} else if (!strcmp(env, "kernel")) {
		mode = MODE_KERNEL;
	} else {
		/* A typo must not silently pick a backend the user did not mean. */
		fprintf(stderr, "librust_inotify_preload: RUST_INOTIFY_PRELOAD=%s is not one of "
			"auto, device, kernel; using auto\n", env);
		mode = MODE_AUTO;
	}

	next_init1 = (int (*)(int))dlsym(RTLD_NEXT, "inotify_init1");
	next_add_watch = (int (*)(int, const char *, uint32_t))dlsym(RTLD_NEXT, "inotify_add_watch");
	next_rm_watch = (int (*)(int, int))dlsym(RTLD_NEXT, "inotify_rm_watch");
	if (!next_init1)
		next_init1 = sys_init1;
	if (!next_add_watch)
		next_add_watch = sys_add_watch;
	if (!next_rm_watch)
		next_rm_watch = sys_rm_watch;
}

static void ensure_setup(void)
{
	int saved = errno;

	pthread_once(&once, setup);
	errno = saved;
}

/* "MAJOR:MINOR\n" (a misc device's sysfs dev file), without stdio. */
static int parse_dev(const char *s, unsigned int *maj, unsigned int *min)
{
	unsigned int *part[2] = { maj, min };

	for (int i = 0; i < 2; i++) {
		if (*s < '0' || *s > '9')
			return -1;
		*part[i] = 0;
		while (*s >= '0' && *s <= '9') {
			if (*part[i] > (UINT_MAX - 9) / 10)
				return -1;
			*part[i] = *part[i] * 10 + (unsigned int)(*s++ - '0');
		}
		if (*s++ != (i == 0 ? ':' : '\n'))
			return -1;
	}
	return 0;
}

/* The device's number: from sysfs, which is the registration itself, else from the node. */
static int device_rdev(dev_t *rdev)
{
	char buf[32];
	unsigned int maj, min;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(MISC_DEV_SYSFS, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if (parse_dev(buf, &maj, &min) == 0) {
				*rdev = makedev(maj, min);
				return 0;
			}
		}
	}
	/* No sysfs (a chroot, say): the node the library opens. */
	if (stat(RUST_INOTIFY_DEV, &st) == 0 && S_ISCHR(st.st_mode)) {
		*rdev = st.st_rdev;
		return 0;
	}
	return -1;
}

/*
 * Whether fd is an instance of /dev/rust_inotify: a character device with the device's number.
 * A kernel inotify fd is an anonymous inode, not a character device, so it costs one fstat().
 * errno is left as it was.
 */
static int is_device_fd(int fd)
{
	int saved = errno;
	struct stat st;
	dev_t rdev;
	int ret;

	ret = fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && device_rdev(&rdev) == 0 &&
	      st.st_rdev == rdev;
	errno = saved;
	return ret;
}

/*
 * Whether auto mode falls back to the kernel's inotify after open() failed with err: the device
 * is not there (no node, no module, no driver: ENOENT, ENODEV, ENXIO), or this user may not open
 * it (EACCES, EPERM: a node with a stricter mode than the shipped udev rule's). Upstream's
 * inotify_init1() never fails with any of these, so passing them on would give the program an
 * errno it cannot expect. Any other error (EMFILE, ENFILE, ENOMEM) is the one upstream gives in
 * the same situation, and is the program's.
 */
static int device_unavailable(int err)
{
	return err == ENOENT || err == ENODEV || err == ENXIO || err == EACCES || err == EPERM;
}

EXPORT int inotify_init1(int flags)
{
	int saved, fd;

	ensure_setup();
	if (mode == MODE_KERNEL)
		return next_init1(flags);
	/* Upstream's check, before anything else: these bits are not open() flags to pass on. */
	if (flags & ~(IN_CLOEXEC | IN_NONBLOCK)) {
		errno = EINVAL;
		return -1;
	}
	saved = errno;
	fd = open(RUST_INOTIFY_DEV, O_RDONLY | flags);
	if (fd >= 0 && !is_device_fd(fd)) {
		/* Something else at the device's path (a stale file): not an instance. */
		close(fd);
		fd = -1;
		errno = ENODEV;
	}
	if (fd >= 0 || mode == MODE_DEVICE || !device_unavailable(errno))
		return fd;
	/* auto: the device cannot be used; the kernel's inotify, with errno as the caller left it. */
	errno = saved;
	return next_init1(flags);
}

EXPORT int inotify_init(void)
{
	return inotify_init1(0);
}

EXPORT int inotify_add_watch(int fd, const char *pathname, uint32_t mask)
{
	struct rust_inotify_add_watch arg = {
		.pathname = (uintptr_t)pathname,
		.dirfd = AT_FDCWD,
		.mask = mask,
	};

	ensure_setup();
	if (!is_device_fd(fd))
		return next_add_watch(fd, pathname, mask);
	return ioctl(fd, RUST_INOTIFY_IOC_ADD_WATCH, &arg);
}

EXPORT int inotify_rm_watch(int fd, int wd)
{
	ensure_setup();
	if (!is_device_fd(fd))
		return next_rm_watch(fd, wd);
	/* The argument is the wd itself, sign-extended as a C int is. */
	return ioctl(fd, RUST_INOTIFY_IOC_RM_WATCH, (long)wd);
}
