/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The rust_inotify authors.
 *
 * The headers whose declarations the module needs and 7.3's kernel::bindings lack, for the
 * module's own bindgen run (Kbuild), as rust/bindings/bindings_helper.h is for the kernel crate.
 * Only what Kbuild's allowlist names is generated; every other type resolves to kernel::bindings.
 */

#include <linux/exportfs.h>
#include <linux/fsnotify_backend.h>
#include <linux/namei.h>

/* Macros that bindgen cannot evaluate (BIT(), enumerators); Kbuild drops the prefix. */
const unsigned int RUST_CONST_HELPER_LOOKUP_FOLLOW = LOOKUP_FOLLOW;
const unsigned int RUST_CONST_HELPER_LOOKUP_DIRECTORY = LOOKUP_DIRECTORY;
const unsigned int RUST_CONST_HELPER_FSNOTIFY_OBJ_TYPE_INODE = FSNOTIFY_OBJ_TYPE_INODE;
const unsigned long RUST_CONST_HELPER_SB_DYING = SB_DYING;
const unsigned long RUST_CONST_HELPER_SB_BORN = SB_BORN;
const int RUST_CONST_HELPER_FILEID_INVALID = FILEID_INVALID;
