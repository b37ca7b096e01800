// SPDX-License-Identifier: GPL-2.0
/*
 * rust_inotify built with checkpoint/restore support off: upstream compiles INOTIFY_IOC_SETNEXTWD
 * out under !CONFIG_CHECKPOINT_RESTORE, so the command falls through to ENOTTY whatever the
 * argument (and so do the checkpoint ioctls), and everything else keeps working. Rust-only (the test kernel has CR on), so these
 * are plain TEST()s; run only in the guest phase that loads the CR-off build of the module.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "backend.h"
#include "scratch.h"

TEST(setnextwd_enotty)
{
	static const unsigned long args[] = { 0, 1, INT_MAX };
	int fd = rust_backend.init(O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("%s: %s", RUST_INOTIFY_DEV, strerror(errno));
	for (unsigned int i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		EXPECT_EQ(-1, ioctl(fd, INOTIFY_IOC_SETNEXTWD, args[i])) TH_LOG("arg %lu", args[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("arg %lu", args[i]);
	}
	EXPECT_EQ(0, close(fd));
}

/* The checkpoint ioctls are checkpoint/restore's too: ENOTTY, and nothing is written. */
TEST(checkpoint_ioctls_enotty)
{
	struct rust_inotify_ckpt ck = { .version = RUST_INOTIFY_CKPT_VERSION };
	int fd = rust_backend.init(O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("%s: %s", RUST_INOTIFY_DEV, strerror(errno));
	EXPECT_EQ(-1, ioctl(fd, RUST_INOTIFY_IOC_DUMP, &ck));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, ck.next_wd);
	EXPECT_EQ(-1, ioctl(fd, RUST_INOTIFY_IOC_RESTORE, &ck));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, close(fd));
}

TEST(fionread_still_works)
{
	int fd = rust_backend.init(O_NONBLOCK | O_CLOEXEC);
	int n = -1;

	ASSERT_LE(0, fd) TH_LOG("%s: %s", RUST_INOTIFY_DEV, strerror(errno));
	EXPECT_EQ(-1, ioctl(fd, INOTIFY_IOC_SETNEXTWD, 5UL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, ioctl(fd, FIONREAD, &n));
	EXPECT_EQ(0, n);
	EXPECT_EQ(0, close(fd));
}

/* The refused ioctl did not move the allocator: watches still start at 1. */
TEST(watches_still_start_at_one)
{
	char dir[PATH_MAX], file[PATH_MAX];
	int fd = rust_backend.init(O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd) TH_LOG("%s: %s", RUST_INOTIFY_DEV, strerror(errno));
	ASSERT_EQ(0, scratch_make(dir, sizeof(dir), "setnextwd-off"));
	scratch_path(file, sizeof(file), dir, "f");
	ASSERT_EQ(0, scratch_file(file, 0644));
	EXPECT_EQ(-1, ioctl(fd, INOTIFY_IOC_SETNEXTWD, 7UL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(1, rust_backend.add_watch(fd, file, IN_MODIFY));
	EXPECT_EQ(2, rust_backend.add_watch(fd, dir, IN_CREATE));
	EXPECT_EQ(0, close(fd));
	scratch_remove(dir);
}

TEST_HARNESS_MAIN
