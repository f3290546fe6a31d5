# SPDX-License-Identifier: GPL-2.0
# xhugepaged. A user needs two commands: `make demo` and `make check`.
# Both install what they need (scripts/deps.sh) and run the module in a
# QEMU VM booting Debian's own 6.12 kernel (scripts/vm-run.sh).

KVER ?= $(shell ls -1 /lib/modules 2>/dev/null | grep '^6\.12' | sort -V | tail -n1)
KDIR ?= /lib/modules/$(KVER)/build
REPO := $(CURDIR)

.PHONY: all module modules clean deps check demo selftests tools checkpatch stress bench check-debug

all: module

module modules:
	$(MAKE) -C $(KDIR) M=$(REPO) modules

# Userspace helpers for the demo and the tests.
tools: selftests
	$(MAKE) -C scripts/demo
	$(MAKE) -C scripts/bench

selftests:
	$(MAKE) -C selftests

deps:
	@scripts/deps.sh

# The README's test command; CI runs exactly this.
check: deps
	$(MAKE) module W=1
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
# linux-source-6.12 (not in CI: the first build takes about half an hour).
check-debug:
	@scripts/deps.sh flex bison bc libelf-dev libssl-dev
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
# LINUX_VERSION_CODE in kmod/compat.h (the one place version checks live).
CHECKPATCH := build/checkpatch/scripts/checkpatch.pl
$(CHECKPATCH):
	mkdir -p build/checkpatch
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C build/checkpatch \
		--strip-components=1 linux-source-6.12/scripts/checkpatch.pl \
		linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch
CP_FILES := $(filter-out kmod/results.c kmod/compat.h %.mod.c,$(wildcard kmod/*.c kmod/*.h))
checkpatch: $(CHECKPATCH)
	perl $(CHECKPATCH) --no-tree --terse -f $(CP_FILES) selftests/*.c
	perl $(CHECKPATCH) --no-tree --terse --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f kmod/compat.h
	perl $(CHECKPATCH) --no-tree --terse \
		--ignore COMPLEX_MACRO,BRACKET_SPACE,TRAILING_SEMICOLON,MACRO_ARG_UNUSED -f kmod/results.c

clean:
	-$(MAKE) -C $(KDIR) M=$(REPO) clean
	-$(MAKE) -C selftests clean
	-$(MAKE) -C scripts/demo clean
	rm -rf build
