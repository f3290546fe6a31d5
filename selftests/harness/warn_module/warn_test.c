// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for the VM harness self-test: it warns once on load, so
 * the harness can check that scripts/vm-run.sh catches a guest kernel
 * WARNING and fails the run although insmod itself succeeds.
 */
#include <linux/bug.h>
#include <linux/init.h>
#include <linux/module.h>

static int __init xhp_warn_test_init(void)
{
	WARN(1, "xhp harness warn test\n");
	return 0;
}

static void __exit xhp_warn_test_exit(void)
{
}

module_init(xhp_warn_test_init);
module_exit(xhp_warn_test_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xhugepaged VM harness self-test: WARN on load");
