# SPDX-License-Identifier: GPL-2.0
# xhugepaged: the two commands a user needs are `make demo` and `make check`.

KVER ?= $(shell ls -1 /lib/modules 2>/dev/null | grep '^6\.12' | sort -V | tail -n1)
KDIR ?= /lib/modules/$(KVER)/build
PWD  := $(shell pwd)

.PHONY: all module modules clean deps check demo selftests

all: module

module modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean
	rm -rf build
