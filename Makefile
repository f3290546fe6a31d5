# SPDX-License-Identifier: GPL-2.0
# xhugepaged. A user needs two commands: `make demo` and `make check`.
# Both install what they need (scripts/deps.sh) and run the module in a
# QEMU VM booting Debian's own 6.12 kernel (scripts/vm-run.sh).

KVER ?= $(shell ls -1 /lib/modules 2>/dev/null | grep '^6\.12' | sort -V | tail -n1)
KDIR ?= /lib/modules/$(KVER)/build
REPO := $(CURDIR)

.PHONY: all module modules clean deps check demo selftests tools

all: module

module modules:
	$(MAKE) -C $(KDIR) M=$(REPO) modules

# Userspace helpers for the demo and the tests.
tools: selftests
	$(MAKE) -C scripts/demo

selftests:
	$(MAKE) -C selftests

deps:
	@scripts/deps.sh

# The README's test command; CI runs exactly this.
check: deps
	$(MAKE) module W=1
	$(MAKE) tools
	scripts/check.sh

demo: deps
	$(MAKE) module
	$(MAKE) -C scripts/demo
	scripts/demo.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(REPO) clean
	-$(MAKE) -C selftests clean
	-$(MAKE) -C scripts/demo clean
	rm -rf build
