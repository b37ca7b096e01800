// SPDX-License-Identifier: GPL-2.0
/*
 * The device's life cycle, which only /dev/rust_inotify has: its node's mode (what the shipped
 * udev rule sets), an open by an unprivileged user (as anyone may call inotify_init()), and
 * module unload: refused while an instance is open, fine after the last close. The guest runs
 * this suite last: it unloads the module and loads it again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "timeout.h"

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

/* Loads the module again and applies the udev rule's mode, as the guest's init does. */
static int reload(void)
{
	int modfd = open(MODULE_PATH, O_RDONLY | O_CLOEXEC);
	int ret;

	if (modfd < 0)
		return -1;
	ret = finit_module(modfd, "", 0);
	close(modfd);
	return ret ? ret : chmod(RUST_INOTIFY_DEV, 0666);
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

/*
 * The add-watch argument is user memory like any other: a pointer to memory that is not all
 * mapped gives EFAULT and changes nothing, as a fault on inotify_add_watch()'s pathname does;
 * an argument that ends where the mapping ends is read whole.
 */
TEST(add_watch_argument_faults)
{
	long page = sysconf(_SC_PAGESIZE);
	struct rust_inotify_add_watch w = {
		.pathname = (uintptr_t)"/tmp", .dirfd = AT_FDCWD, .mask = IN_ATTRIB,
	};
	int fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);
	char *map;

	ASSERT_LE(0, fd);
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + page, page));

	EXPECT_EQ(-1, ioctl(fd, RUST_INOTIFY_IOC_ADD_WATCH, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* The pathname and dirfd mapped, the mask not. */
	memcpy(map + page - 12, &w, 12);
	EXPECT_EQ(-1, ioctl(fd, RUST_INOTIFY_IOC_ADD_WATCH, map + page - 12));
	EXPECT_EQ(EFAULT, errno);
	/* Only the pathname mapped. */
	memcpy(map + page - 8, &w, 8);
	EXPECT_EQ(-1, ioctl(fd, RUST_INOTIFY_IOC_ADD_WATCH, map + page - 8));
	EXPECT_EQ(EFAULT, errno);
	/* Nothing was added, and no wd was used: the first watch is wd 1. */
	memcpy(map + page - sizeof(w), &w, sizeof(w));
	EXPECT_EQ(1, ioctl(fd, RUST_INOTIFY_IOC_ADD_WATCH, map + page - sizeof(w)));

	EXPECT_EQ(0, munmap(map, page));
	EXPECT_EQ(0, close(fd));
}

TEST(rmmod_refused_while_open_then_fine_after_close)
{
	int fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);
	struct rust_inotify_add_watch w = {
		.pathname = (uintptr_t)"/tmp", .dirfd = AT_FDCWD, .mask = IN_ATTRIB,
	};
	int bytes = 0;

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

	/* Load it again, for the suites after this one. */
	ASSERT_EQ(0, reload()) {
		TH_LOG("reload: %s", strerror(errno));
	}
	fd = open(RUST_INOTIFY_DEV, O_RDONLY);
	ASSERT_LE(0, fd);
	close(fd);
}

#define RACE_ROUNDS 8
#define RACE_FILES 32

struct unlinker {
	char paths[RACE_FILES][64];
};

static void *unlink_all(void *arg)
{
	struct unlinker *u = arg;

	for (int i = 0; i < RACE_FILES; i++)
		unlink(u->paths[i]);
	return NULL;
}

/*
 * A watch whose inode is being evicted can keep its group alive after the file is closed: the
 * last references are then dropped by fsnotify's mark reaper, through the module's callbacks,
 * and unload right after the close must wait for them (KASAN would catch the module's code or
 * data being used after it is freed). The window is narrow: release() itself waits for marks
 * destroyed so far, and this does not hit it reliably (it passed with the wait for groups
 * removed from module exit). It does exercise unload and reload with marks dying
 * concurrently, every round.
 */
TEST(unload_while_marks_of_a_closed_instance_are_dying)
{
	struct unlinker u;
	char dir[] = "/tmp/unload-race.XXXXXX";

	ASSERT_NE(NULL, mkdtemp(dir));
	for (int round = 0; round < RACE_ROUNDS; round++) {
		int fd = open(RUST_INOTIFY_DEV, O_RDONLY | O_NONBLOCK);
		pthread_t t;

		ASSERT_LE(0, fd);
		for (int i = 0; i < RACE_FILES; i++) {
			struct rust_inotify_add_watch w = { .dirfd = AT_FDCWD, .mask = IN_ALL_EVENTS };
			int f;

			snprintf(u.paths[i], sizeof(u.paths[i]), "%s/f%d", dir, i);
			f = open(u.paths[i], O_CREAT | O_WRONLY, 0644);
			ASSERT_LE(0, f);
			close(f);
			w.pathname = (uintptr_t)u.paths[i];
			ASSERT_LE(1, ioctl(fd, RUST_INOTIFY_IOC_ADD_WATCH, &w));
		}
		ASSERT_EQ(0, pthread_create(&t, NULL, unlink_all, &u));
		EXPECT_EQ(0, close(fd));
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_EQ(0, delete_module("rust_inotify", O_NONBLOCK)) {
			TH_LOG("round %d: delete_module: %s", round, strerror(errno));
		}
		ASSERT_EQ(0, reload()) {
			TH_LOG("round %d: reload: %s", round, strerror(errno));
		}
	}
	rmdir(dir);
}

TEST_HARNESS_MAIN
