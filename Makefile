# SPDX-License-Identifier: GPL-2.0
#
# rust_inotify: the out-of-tree module convention plus the project's targets.
#
#   make KDIR=<tree>        build rust_inotify.ko against any Rust-enabled kernel tree
#   make modules_install    install it (KDIR as above)
#   make check              set up, build the debug kernel, run every test in a QEMU guest
#   make demo               set up, build the lean kernel, boot it and show the module working
#   make bench              the lean kernel under QEMU -icount: Rust/kernel instruction ratios
#   make profile METRIC=M   instructions per symbol of bench metric M on each backend (dev tool)
#   make preload            librust_inotify_preload.so (LD_PRELOAD: programs use the device)
#   make preload-install    install it into $(DESTDIR)$(PREFIX)/lib (PREFIX=/usr/local)
#   make dkms-check         `dkms build` of the module against the debug kernel, in a temp tree
#   make criu-plugin        rust_inotify_plugin.so, the CRIU plugin (criu/), for CRIU 4.x
#   make criu-plugin-install  install it into CRIU's plugin dir, $(DESTDIR)/usr/lib/criu
#                           ($(DESTDIR)$(PREFIX)/lib/criu when PREFIX is given; or CRIU_PLUGIN_DIR=)
#
# Without KDIR, the project's debug kernel (build/kernel-debug) is used, and built first.
# The module is built with MO= into build/, so the source tree stays clean.

TOP        := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# The machine's cargo (rustup) builds bindgen and the user-space tests; make sure it is found
# even where the environment's PATH lacks it. The kernel's rustc is still /usr/bin/rustc.
export PATH := $(PATH):$(HOME)/.cargo/bin
# bindgen's libclang must be LLVM 22 like clang and rustc (scripts/toolchain.sh says the same).
export LIBCLANG_PATH ?= /usr/lib/llvm-22/lib
BUILD      := $(TOP)/build
# The two kernels (scripts/build-kernel.sh): debug for `make check`, lean for demo and bench.
DEBUG_KDIR := $(BUILD)/kernel-debug
LEAN_KDIR  := $(BUILD)/kernel-lean
KDIR       ?= $(DEBUG_KDIR)
MODDIR     := $(BUILD)/module
NOCRDIR    := $(BUILD)/module-nocr
BINDGEN    ?= $(shell command -v bindgen 2>/dev/null || echo $(HOME)/.cargo/bin/bindgen)
# CC and LD are what LLVM=-22 gives them anyway. They are spelled out so that a CC= or LD= from
# our caller cannot replace them: dkms appends CC=clang LD=ld.lld for a clang-built kernel, and
# Debian has no unversioned clang (a command-line variable of this make reaches the kbuild call,
# unless that call names the variable itself).
kmake       = $(MAKE) -C $(1) M=$(TOP) LLVM=-22 CC=clang-22 LD=ld.lld-22 RUSTC=/usr/bin/rustc \
              BINDGEN=$(BINDGEN) CLIPPY_DRIVER=/usr/bin/clippy-driver
KMAKE      := $(call kmake,$(KDIR))

# The debug kernel is a dependency only when it is the one we build.
ifeq ($(KDIR),$(DEBUG_KDIR))
KERNEL_DEP := kernel-debug
endif

.PHONY: all modules modules_install clean setup kernel kernel-debug kernel-lean check demo bench profile \
	tests-debug tests-lean module-debug module-lean module-nocr clippy rustfmt rustfmt-check \
	preload preload-install dkms-check criu-fetch criu-plugin criu-plugin-install

all: modules

setup:
	@bash $(TOP)/scripts/setup.sh

kernel: kernel-debug

kernel-debug: setup
	@bash $(TOP)/scripts/build-kernel.sh $(BUILD) debug >/dev/null

kernel-lean: setup
	@bash $(TOP)/scripts/build-kernel.sh $(BUILD) lean >/dev/null

modules: $(KERNEL_DEP)
	@mkdir -p $(MODDIR)
	+$(KMAKE) MO=$(MODDIR) modules

# The module for each of the project's kernels.
module-debug: kernel-debug
	@mkdir -p $(BUILD)/module-debug
	+$(call kmake,$(DEBUG_KDIR)) MO=$(BUILD)/module-debug modules

module-lean: kernel-lean
	@mkdir -p $(BUILD)/module-lean
	+$(call kmake,$(LEAN_KDIR)) MO=$(BUILD)/module-lean modules

# The same module without INOTIFY_IOC_SETNEXTWD, for the off path's tests (debug kernel).
module-nocr: kernel-debug
	@mkdir -p $(NOCRDIR)
	+$(call kmake,$(DEBUG_KDIR)) MO=$(NOCRDIR) RUST_INOTIFY_NO_SETNEXTWD=1 modules

modules_install: $(KERNEL_DEP)
	+$(KMAKE) MO=$(MODDIR) modules_install

clippy: $(KERNEL_DEP)
	@mkdir -p $(BUILD)/module-clippy
	+$(KMAKE) MO=$(BUILD)/module-clippy CLIPPY=1 modules

rustfmt:
	rustfmt --edition 2021 --config-path $(BUILD)/linux-source-7.3/.rustfmt.toml $(TOP)/*.rs

rustfmt-check:
	rustfmt --edition 2021 --config-path $(BUILD)/linux-source-7.3/.rustfmt.toml --check $(TOP)/*.rs

# The LD_PRELOAD library (preload/): plain user-space C, no kernel tree needed.
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
PRELOAD_SO := $(BUILD)/preload/librust_inotify_preload.so

preload: $(PRELOAD_SO)

$(PRELOAD_SO): $(TOP)/preload/rust_inotify_preload.c $(TOP)/include/rust_inotify.h
	@mkdir -p $(dir $@)
	gcc -shared -fPIC -O2 -g -Wall -Wextra -fvisibility=hidden -pthread \
		-I $(TOP)/include -Wl,-z,defs -Wl,-soname,librust_inotify_preload.so -o $@ $< -ldl

preload-install: $(PRELOAD_SO)
	install -D -m 0644 $(PRELOAD_SO) $(DESTDIR)$(LIBDIR)/librust_inotify_preload.so

# The CRIU plugin. Its header, criu-plugin.h, is Debian trixie's libcriu-dev (criu 4.1.1),
# which scripts/fetch-criu.sh downloads and unpacks under build/criu with criu itself (nothing
# is installed on the host); CRIU_INCLUDE= points at another CRIU 4.x's headers instead.
CRIU_ROOT        := $(BUILD)/criu/root
CRIU_INCLUDE     ?= $(CRIU_ROOT)/usr/include/criu
CRIU_PLUGIN_SO   := $(BUILD)/criu-plugin/rust_inotify_plugin.so
# CRIU looks in -L DIR, then $$CRIU_LIBS_DIR, then /usr/lib/criu/.
ifneq ($(filter command line environment,$(origin PREFIX)),)
CRIU_PLUGIN_DIR  ?= $(PREFIX)/lib/criu
else
CRIU_PLUGIN_DIR  ?= /usr/lib/criu
endif

criu-fetch:
	@bash $(TOP)/scripts/fetch-criu.sh $(BUILD)

criu-plugin: $(CRIU_PLUGIN_SO)

# -isystem: criu-plugin.h's own inline stubs have unused parameters; the plugin is -Wall -Wextra
# clean.
# Depends on the fetch only when the header is the fetched one (a phony prerequisite would
# relink every time: the stamp file stands for it).
ifeq ($(CRIU_INCLUDE),$(CRIU_ROOT)/usr/include/criu)
$(CRIU_INCLUDE)/criu-plugin.h: $(TOP)/scripts/fetch-criu.sh
	@bash $(TOP)/scripts/fetch-criu.sh $(BUILD)
	@touch $@
endif

$(CRIU_PLUGIN_SO): $(TOP)/criu/rust_inotify_plugin.c $(TOP)/include/rust_inotify.h \
		$(CRIU_INCLUDE)/criu-plugin.h
	@mkdir -p $(dir $@)
	gcc -shared -fPIC -O2 -g -Wall -Wextra -Werror -isystem $(CRIU_INCLUDE) -I $(TOP)/include \
		-Wl,-soname,rust_inotify_plugin.so -o $@ $<

criu-plugin-install: $(CRIU_PLUGIN_SO)
	install -D -m 0644 $(CRIU_PLUGIN_SO) $(DESTDIR)$(CRIU_PLUGIN_DIR)/rust_inotify_plugin.so

# `dkms build` against the debug kernel in a throw-away dkms tree (/var/lib/dkms is not touched).
dkms-check: kernel-debug
	@bash $(TOP)/scripts/dkms-check.sh $(DEBUG_KDIR)

# The guest's programs and one initramfs per kernel (build/guest-VARIANT/initramfs.cpio).
tests-debug: module-debug module-nocr preload criu-plugin
	@bash $(TOP)/scripts/build-tests.sh $(BUILD) debug

tests-lean: module-lean preload criu-plugin
	@bash $(TOP)/scripts/build-tests.sh $(BUILD) lean

check: tests-debug
	@bash $(TOP)/scripts/run-guest.sh check $(BUILD) debug

demo: tests-lean
	@bash $(TOP)/scripts/run-guest.sh demo $(BUILD) lean

bench: tests-lean
	@bash $(TOP)/scripts/run-guest.sh bench $(BUILD) lean

# make profile METRIC=event_unmerged: where one bench metric's instructions go, symbol by
# symbol, on each backend (scripts/profile/; a development tool, not part of check or bench).
profile: tests-lean
	@bash $(TOP)/scripts/profile/build-plugin.sh $(BUILD)
	@PROFILE_METRIC=$(METRIC) bash $(TOP)/scripts/run-guest.sh profile $(BUILD) lean

clean:
	rm -rf $(MODDIR) $(NOCRDIR) $(BUILD)/module-debug $(BUILD)/module-lean \
		$(BUILD)/module-clippy $(BUILD)/tests $(BUILD)/guest-debug $(BUILD)/guest-lean \
		$(BUILD)/preload $(BUILD)/criu-plugin
