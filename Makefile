# SPDX-License-Identifier: GPL-2.0
# xhugepaged. A user needs two commands: `make demo` and `make check`.
# Both install what they need (scripts/deps.sh) and run the module in a
# QEMU VM booting Debian's own 6.12 kernel (scripts/vm-run.sh).

# The default kernel: the newest 6.12 installed (the running one if none).
DEFAULT_KVER := $(shell ls -1 /lib/modules 2>/dev/null | grep '^6\.12' | sort -V | tail -n1)
DEFAULT_KVER := $(or $(DEFAULT_KVER),$(shell uname -r))
KVER ?= $(DEFAULT_KVER)
# The other supported kernel: Debian 12's own, the newest 6.1 with headers.
KVER_6_1 := $(shell ls -1d /lib/modules/6.1.0-*-amd64/build 2>/dev/null | sort -V | tail -n1 | cut -d/ -f4)
KDIR ?= /lib/modules/$(KVER)/build
REPO := $(CURDIR)
# The default kernel's module is kmod/xhugepaged.ko; any other kernel's is
# build/kmod-$(KVER)/xhugepaged.ko, built from symlinks to kmod/'s sources
# (neither 6.1's nor 6.12's kbuild can put an external module's objects
# elsewhere), so one checkout holds both. The guest picks the one for the
# kernel it runs (selftests/lib.sh).
ifeq ($(KVER),$(DEFAULT_KVER))
MOD_DIR := $(REPO)
else
MOD_DIR := $(REPO)/build/kmod-$(KVER)
endif
# Sources only: kbuild's generated xhugepaged.mod.c belongs to each build.
KMOD_SRCS := $(filter-out %.mod.c,$(wildcard kmod/*.c kmod/*.S kmod/*.h)) kmod/Kbuild

.PHONY: all module modules module-6.1 clean deps check demo selftests tools checkpatch stress bench check-debug \
	dkms-tree dkms-install dkms-remove deb

all: module

module modules:
	@test -d $(KDIR) || { echo "no headers for $(KVER): $(KDIR) (apt-get install linux-headers-$(KVER))" >&2; exit 1; }
ifneq ($(MOD_DIR),$(REPO))
	@mkdir -p $(MOD_DIR)
	@find $(MOD_DIR) -maxdepth 1 -type l -delete
	@for f in $(KMOD_SRCS); do ln -sfn $(REPO)/$$f $(MOD_DIR)/$${f#kmod/}; done
endif
	$(MAKE) -C $(KDIR) M=$(MOD_DIR) modules

# The module for Debian's 6.1 too: build/kmod-$(KVER_6_1)/xhugepaged.ko.
module-6.1:
	@test -n "$(KVER_6_1)" || { echo "no 6.1 headers installed (make deps)" >&2; exit 1; }
	$(MAKE) module KVER=$(KVER_6_1)

# Userspace helpers for the demo and the tests.
tools: selftests
	$(MAKE) -C scripts/demo
	$(MAKE) -C scripts/bench

selftests:
	$(MAKE) -C selftests

deps:
	@scripts/deps.sh

# The README's test command; CI runs exactly this. The suite runs on 6.12
# and on 6.1 (scripts/check.sh); `scripts/check.sh --kernel V` runs it on V.
check: deps
	$(MAKE) module W=1
	$(MAKE) module-6.1 W=1
	scripts/check-indirect-calls.sh kmod/xhugepaged.ko $$(ls build/kmod-*/xhugepaged.ko 2>/dev/null)
	$(MAKE) tools
	scripts/check.sh

# Long churn stress with integrity checks and load/unload cycles, then the
# address-space fuzzer and the kernel's mm selftests (not in CI; see
# scripts/stress.sh for every knob):
#   make stress DURATION=600 CYCLES=100 FUZZ_DURATION=1200
stress: deps
	$(MAKE) module
	$(MAKE) -C selftests
	scripts/stress.sh

# The selftests on a lockdep/KASAN/kmemleak kernel built once from Debian's
# linux-source-6.12 (not in CI: the first build takes an hour or more on two cores).
check-debug:
	@scripts/deps.sh flex bison bc libelf-dev libssl-dev pahole
	$(MAKE) tools
	scripts/check-debug.sh

# Benchmarks in one VM boot: a ratios table and plots in build/bench/.
bench: deps
	$(MAKE) module
	$(MAKE) -C scripts/bench
	scripts/bench.sh

demo: deps
	$(MAKE) module
	$(MAKE) -C scripts/demo
	scripts/demo.sh

# Kernel coding style. checkpatch.pl is not in the headers package: take it
# from Debian's linux-source-6.12 tarball into build/ (never vendored).
# Known, accepted reports: the SCAN_* X-macro table in kmod/results.c and
# LINUX_VERSION_CODE in kmod/compat.h (the one place version checks live),
# and there xhp_assign_str()'s source argument, which only 6.1 uses.
# kmod/cause.c reads the -ENOSYS that x86-64 syscall entry leaves in ax.
# In selftests/: KTAP case names that are their function's name on
# purpose, and volatile reads that force a memory access from userspace.
CHECKPATCH := build/checkpatch/scripts/checkpatch.pl
$(CHECKPATCH):
	mkdir -p build/checkpatch
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C build/checkpatch \
		--strip-components=1 linux-source-6.12/scripts/checkpatch.pl \
		linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch
CP_FILES := $(filter-out kmod/results.c kmod/compat.h kmod/cause.c %.mod.c,$(wildcard kmod/*.c kmod/*.h))
checkpatch: $(CHECKPATCH)
	perl $(CHECKPATCH) --no-tree --terse -f $(CP_FILES)
	perl $(CHECKPATCH) --no-tree --terse --ignore ENOSYS -f kmod/cause.c
	perl $(CHECKPATCH) --no-tree --terse --ignore EMBEDDED_FUNCTION_NAME,VOLATILE -f selftests/*.c
	perl $(CHECKPATCH) --no-tree --terse --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON,MACRO_ARG_UNUSED -f kmod/compat.h
	perl $(CHECKPATCH) --no-tree --terse \
		--ignore COMPLEX_MACRO,BRACKET_SPACE,TRAILING_SEMICOLON,MACRO_ARG_UNUSED -f kmod/results.c

# --- DKMS and the Debian package (README: installing with DKMS) ----------
# The version lives in debian/changelog; dkms.conf gets it filled in.
XHP_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
DKMS_SRC := /usr/src/xhugepaged-$(XHP_VERSION)
# Every installed kernel with headers (Debian 12: 6.1 and 6.12).
DKMS_KERNELS ?= $(sort $(notdir $(patsubst %/build,%,$(wildcard /lib/modules/*/build))))
DKMS_SOURCES = Kbuild $(KMOD_SRCS)

# The module's source tree with its dkms.conf, into DKMS_TREE_DIR (used by
# dkms-install and by debian/rules, so both ship the same files).
dkms-tree:
	@test -n "$(DKMS_TREE_DIR)" || { echo "dkms-tree: set DKMS_TREE_DIR" >&2; exit 2; }
	install -d $(DKMS_TREE_DIR)/kmod
	install -m 644 Kbuild $(DKMS_TREE_DIR)/
	install -m 644 $(filter kmod/%,$(DKMS_SOURCES)) $(DKMS_TREE_DIR)/kmod/
	sed 's/#MODULE_VERSION#/$(XHP_VERSION)/' dkms.conf >$(DKMS_TREE_DIR)/dkms.conf

# Build and install for DKMS_KERNELS; DKMS rebuilds on kernel upgrades.
dkms-install:
	@scripts/deps.sh dkms
	-dkms remove -m xhugepaged -v $(XHP_VERSION) --all >/dev/null 2>&1
	rm -rf $(DKMS_SRC)
	$(MAKE) --no-print-directory dkms-tree DKMS_TREE_DIR=$(DKMS_SRC)
	dkms add -m xhugepaged -v $(XHP_VERSION)
	@failed=; for k in $(DKMS_KERNELS); do \
		dkms install -m xhugepaged -v $(XHP_VERSION) -k $$k || failed="$$failed $$k"; \
	done; dkms status -m xhugepaged; \
	if [ -n "$$failed" ]; then \
		echo "dkms-install: build failed for:$$failed (make.log under /var/lib/dkms/xhugepaged/$(XHP_VERSION)/)" >&2; \
		exit 1; fi

dkms-remove:
	@scripts/deps.sh dkms
	if dkms status -m xhugepaged -v $(XHP_VERSION) | grep -q .; then \
		dkms remove -m xhugepaged -v $(XHP_VERSION) --all; fi
	rm -rf $(DKMS_SRC)

# build/xhugepaged-dkms_$(XHP_VERSION)_all.deb, built with dh-dkms from a
# copy of the tree in build/deb/ (nothing is written outside build/).
DEB_TREE := build/deb/xhugepaged-$(XHP_VERSION)
deb:
	@scripts/deps.sh dpkg-dev debhelper dh-dkms
	rm -rf build/deb && install -d $(DEB_TREE)/kmod
	cp -r debian Makefile dkms.conf README $(DEB_TREE)/
	install -m 644 Kbuild $(DEB_TREE)/
	install -m 644 $(filter kmod/%,$(DKMS_SOURCES)) $(DEB_TREE)/kmod/
	cd $(DEB_TREE) && dpkg-buildpackage -us -uc -b >../dpkg-buildpackage.log 2>&1 || \
		{ tail -n 30 ../dpkg-buildpackage.log; exit 1; }
	cp build/deb/xhugepaged-dkms_$(XHP_VERSION)_all.deb build/
	@echo "deb: build/xhugepaged-dkms_$(XHP_VERSION)_all.deb"

clean:
	-$(MAKE) -C $(KDIR) M=$(MOD_DIR) clean
	-$(MAKE) -C selftests clean
	-$(MAKE) -C scripts/demo clean
	rm -rf build
