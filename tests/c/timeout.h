/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kselftest_harness.h kills a test after 30 s. That is a hang guard, not a timing assertion, and
 * 30 s is too short for the heaviest cases (module reloads with KUnit, thousands of events from
 * several threads) in a TCG guest with KASAN and lockdep on a busy 2-core host. Include after
 * kselftest_harness.h: the default is read where TEST() and TEST_F() are expanded.
 */
#ifndef RUST_INOTIFY_TESTS_TIMEOUT_H
#define RUST_INOTIFY_TESTS_TIMEOUT_H

#ifdef TEST_TIMEOUT_DEFAULT
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
#endif

#endif /* RUST_INOTIFY_TESTS_TIMEOUT_H */
