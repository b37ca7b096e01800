// SPDX-License-Identifier: GPL-2.0
/*
 * The device's life cycle, which only /dev/rust_inotify has: its node's mode (what the shipped
 * udev rule sets), an open by an unprivileged user (as anyone may call inotify_init()), and
 * module unload: refused while an instance is open, fine after the last close. The guest runs
 * this suite last: it unloads the module and loads it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "rust_inotify.h"

#define MODULE_PATH "/modules/rust_inotify.ko"

static int delete_module(const char *name, int flags)
{
	return syscall(__NR_delete_module, name, flags);
}

static int finit_module(int fd, const char *params, int flags)
{
	return syscall(__NR_finit_module, fd, params, flags);
}

TEST(node_mode_is_the_udev_rules)
{
	struct stat st;

	ASSERT_EQ(0, stat(RUST_INOTIFY_DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 07777);
}

TEST(unprivileged_user_can_open)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd = open(RUST_INOTIFY_DEV, O_RDONLY);
		if (fd < 0)
			_exit(3);
		close(fd);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST(write_mode_open_is_refused)
{
	/* inotify_init1() gives a read-only fd; so does the device, and nothing else. */
	EXPECT_EQ(-1, open(RUST_INOTIFY_DEV, O_RDWR));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, open(RUST_INOTIFY_DEV, O_WRONLY));
	EXPECT_EQ(EINVAL, errno);
}

TEST(rmmod_refused_while_open_then_fine_after_close)
{
	int fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);
	struct rust_inotify_add_watch w = {
		.pathname = (uintptr_t)"/tmp", .dirfd = AT_FDCWD, .mask = IN_ATTRIB,
	};
	int bytes = 0;
	int modfd;

	ASSERT_LE(0, fd);
	/* A watch and a queued event, which the unload must not trip over. */
	ASSERT_EQ(1, ioctl(fd, RUST_INOTIFY_IOC_ADD_WATCH, &w));
	ASSERT_EQ(0, chmod("/tmp", 01777));
	ASSERT_EQ(0, ioctl(fd, FIONREAD, &bytes));
	ASSERT_EQ(16, bytes);
	/* The open file holds the module: delete_module() refuses. */
	EXPECT_EQ(-1, delete_module("rust_inotify", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_EQ(0, access("/sys/module/rust_inotify", F_OK));
	EXPECT_EQ(0, access(RUST_INOTIFY_DEV, F_OK));

	/* After the close, which frees the watch and the event, unload works. */
	EXPECT_EQ(0, close(fd));
	ASSERT_EQ(0, delete_module("rust_inotify", O_NONBLOCK)) {
		TH_LOG("delete_module: %s", strerror(errno));
	}
	EXPECT_EQ(-1, access("/sys/module/rust_inotify", F_OK));
	EXPECT_EQ(-1, access(RUST_INOTIFY_DEV, F_OK));

	/* Load it again, for the suites after this one, and apply the udev rule's mode. */
	modfd = open(MODULE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, modfd);
	ASSERT_EQ(0, finit_module(modfd, "", 0)) {
		TH_LOG("finit_module: %s", strerror(errno));
	}
	close(modfd);
	ASSERT_EQ(0, chmod(RUST_INOTIFY_DEV, 0666));
	fd = open(RUST_INOTIFY_DEV, O_RDONLY);
	ASSERT_LE(0, fd);
	close(fd);
}

TEST_HARNESS_MAIN
