# SPDX-License-Identifier: GPL-2.0
#
# rust_inotify: the out-of-tree module convention plus the project's targets.
#
#   make KDIR=<tree>        build rust_inotify.ko against any Rust-enabled kernel tree
#   make modules_install    install it (KDIR as above)
#   make check              set up, build the test kernel, run every test in a QEMU guest
#   make demo               set up, build, boot the guest and show the module working
#
# Without KDIR, the project's own test kernel (build/kernel) is used, and built first.
# The module is built with MO= into build/, so the source tree stays clean.

TOP        := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# The machine's cargo (rustup) builds bindgen and the user-space tests; make sure it is found
# even where the environment's PATH lacks it. The kernel's rustc is still /usr/bin/rustc.
export PATH := $(PATH):$(HOME)/.cargo/bin
BUILD      := $(TOP)/build
KDIR       ?= $(BUILD)/kernel
MODDIR     := $(BUILD)/module
NOCRDIR    := $(BUILD)/module-nocr
BINDGEN    ?= $(shell command -v bindgen 2>/dev/null || echo $(HOME)/.cargo/bin/bindgen)
KMAKE      := $(MAKE) -C $(KDIR) M=$(TOP) LLVM=-19 RUSTC=/usr/bin/rustc BINDGEN=$(BINDGEN) \
              CLIPPY_DRIVER=/usr/bin/clippy-driver
MODSRC     := Kbuild $(wildcard $(TOP)/*.rs $(TOP)/*.c $(TOP)/*.h)

# The test kernel is a dependency only when it is the one we build.
ifeq ($(KDIR),$(BUILD)/kernel)
KERNEL_DEP := kernel
endif

.PHONY: all modules modules_install clean setup kernel check demo bench tests module-nocr \
	clippy rustfmt rustfmt-check

all: modules

setup:
	@bash $(TOP)/scripts/setup.sh

kernel: setup
	@bash $(TOP)/scripts/build-kernel.sh $(BUILD) >/dev/null

modules: $(KERNEL_DEP)
	@mkdir -p $(MODDIR)
	+$(KMAKE) MO=$(MODDIR) modules

# The same module without INOTIFY_IOC_SETNEXTWD, for the off path's tests.
module-nocr: $(KERNEL_DEP)
	@mkdir -p $(NOCRDIR)
	+$(KMAKE) MO=$(NOCRDIR) RUST_INOTIFY_NO_SETNEXTWD=1 modules

modules_install: $(KERNEL_DEP)
	+$(KMAKE) MO=$(MODDIR) modules_install

clippy: $(KERNEL_DEP)
	@mkdir -p $(BUILD)/module-clippy
	+$(KMAKE) MO=$(BUILD)/module-clippy CLIPPY=1 modules

rustfmt:
	rustfmt --edition 2021 --config-path $(BUILD)/linux-source-7.3/.rustfmt.toml $(TOP)/*.rs

rustfmt-check:
	rustfmt --edition 2021 --config-path $(BUILD)/linux-source-7.3/.rustfmt.toml --check $(TOP)/*.rs

tests: kernel modules module-nocr
	@bash $(TOP)/scripts/build-tests.sh $(BUILD)

check: kernel modules module-nocr tests
	@bash $(TOP)/scripts/run-guest.sh check $(BUILD)

demo: kernel modules tests
	@bash $(TOP)/scripts/run-guest.sh demo $(BUILD)

bench: kernel modules tests
	@bash $(TOP)/scripts/run-guest.sh bench $(BUILD)

clean:
	rm -rf $(MODDIR) $(NOCRDIR) $(BUILD)/module-clippy $(BUILD)/tests $(BUILD)/guest
