/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Filesystems for the mount tests: a private mount namespace per test process, an ext2 image
 * formatted by the guest's busybox mke2fs and attached to a loop device, and an overlayfs mount.
 * The test kernels have BLK_DEV_LOOP, EXT2_FS and OVERLAY_FS built in, so a failure here is a
 * test failure, not a skip.
 */
#ifndef RUST_INOTIFY_TESTS_MOUNTS_H
#define RUST_INOTIFY_TESTS_MOUNTS_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Gives the calling process its own mount namespace, with nothing propagating out of it: what a
 * test mounts is invisible to the other suites, and vanishes when the test's process exits.
 */
static inline int private_mounts(void)
{
	if (unshare(CLONE_NEWNS))
		return -1;
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

/* Creates @img of @kib KiB and formats it ext2 (busybox mke2fs). Returns 0 or -1. */
static inline int make_ext2_image(const char *img, unsigned int kib)
{
	char cmd[PATH_MAX + 64];
	int fd, rc;

	fd = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)kib * 1024)) {
		close(fd);
		return -1;
	}
	close(fd);
	if ((size_t)snprintf(cmd, sizeof(cmd), "mke2fs -F '%s' %u >/dev/null 2>&1", img, kib) >=
	    sizeof(cmd)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	rc = system(cmd);
	if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * Attaches @img to a free loop device (LOOP_CTL_GET_FREE + LOOP_CONFIGURE, with autoclear, so
 * that the device lets go of the image at its last close). Returns an open fd of the device, its
 * path in @dev; -1 with errno set on failure. Close the fd to detach.
 */
static inline int loop_attach(const char *img, char *dev, size_t size)
{
	int ctl, img_fd, loop_fd = -1;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -1;
	img_fd = open(img, O_RDWR | O_CLOEXEC);
	if (img_fd < 0)
		goto out;
	/* Another process may take the free device first: try again, a few times. */
	for (int tries = 0; tries < 10; tries++) {
		struct loop_config cfg = {
			.fd = img_fd,
			.info.lo_flags = LO_FLAGS_AUTOCLEAR,
		};
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0)
			break;
		snprintf(dev, size, "/dev/loop%d", n);
		loop_fd = open(dev, O_RDWR | O_CLOEXEC);
		if (loop_fd < 0)
			break;
		if (ioctl(loop_fd, LOOP_CONFIGURE, &cfg) == 0)
			break;
		close(loop_fd);
		loop_fd = -1;
		if (errno != EBUSY)
			break;
	}
	close(img_fd);
out:
	close(ctl);
	return loop_fd;
}

/*
 * Mounts overlayfs at @merged with one lower layer. The features that change what copy-up and
 * rename do are set off explicitly (they are off by default in the test kernels too), so that
 * the tests do not depend on a kernel's Kconfig defaults. Returns mount()'s result.
 */
static inline int mount_overlay(const char *lower, const char *upper, const char *work,
				const char *merged)
{
	char opts[3 * PATH_MAX + 64];

	if ((size_t)snprintf(opts, sizeof(opts),
			     "lowerdir=%s,upperdir=%s,workdir=%s,"
			     "redirect_dir=off,index=off,metacopy=off",
			     lower, upper, work) >= sizeof(opts)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mount("overlay", merged, "overlay", 0, opts);
}

#endif /* RUST_INOTIFY_TESTS_MOUNTS_H */
