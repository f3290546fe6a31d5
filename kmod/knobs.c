// SPDX-License-Identifier: GPL-2.0
/*
 * xhugepaged's tunables, their defaults (the kernel's khugepaged defaults)
 * and their module parameters. Module parameters go through the same parsers
 * and limits as the sysfs files, so a value sysfs would reject fails insmod.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>

#include "xhugepaged.h"

struct xhp_knobs xhp_knobs = {
	.enabled = XHP_MADVISE,
	.pmd_enabled = XHP_INHERIT,
	.pages_to_scan = HPAGE_PMD_NR * 8,
	.scan_sleep_millisecs = 10000,
	.alloc_sleep_millisecs = 60000,
	.max_ptes_none = HPAGE_PMD_NR - 1,
	.max_ptes_swap = HPAGE_PMD_NR / 8,
	.max_ptes_shared = HPAGE_PMD_NR / 2,
	.defrag = 1,
	.shmem_enabled = XHP_SHMEM_NEVER,
	.shmem_pmd_enabled = XHP_SHSZ_INHERIT,
};

static const char * const xhp_mode_names[] = {
	[XHP_ALWAYS] = "always",
	[XHP_MADVISE] = "madvise",
	[XHP_NEVER] = "never",
	[XHP_INHERIT] = "inherit",
};

const char *xhp_mode_name(unsigned int mode)
{
	return mode < ARRAY_SIZE(xhp_mode_names) ? xhp_mode_names[mode] : "?";
}

int xhp_parse_mode(const char *buf, bool allow_inherit, unsigned int *mode)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xhp_mode_names); i++) {
		if (i == XHP_INHERIT && !allow_inherit)
			continue;
		if (sysfs_streq(buf, xhp_mode_names[i])) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

unsigned int xhp_pmd_mode(void)
{
	unsigned int pmd = READ_ONCE(xhp_knobs.pmd_enabled);

	return pmd == XHP_INHERIT ? READ_ONCE(xhp_knobs.enabled) : pmd;
}

/* --- module parameters --------------------------------------------------- */

static int xhp_param_set_mode(const char *val, const struct kernel_param *kp)
{
	unsigned int mode;

	if (xhp_parse_mode(val, false, &mode)) {
		pr_err("enabled=%s: expected always, madvise or never\n", val);
		return -EINVAL;
	}
	WRITE_ONCE(*(unsigned int *)kp->arg, mode);
	return 0;
}

static int xhp_param_get_mode(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  xhp_mode_name(READ_ONCE(*(unsigned int *)kp->arg)));
}

static const struct kernel_param_ops xhp_mode_ops = {
	.set = xhp_param_set_mode,
	.get = xhp_param_get_mode,
};

/* Limits match the kernel's khugepaged sysfs stores. */
struct xhp_uint_limit {
	unsigned int *val;
	unsigned int min, max;
};

static int xhp_param_set_uint(const char *val, const struct kernel_param *kp)
{
	const struct xhp_uint_limit *lim = kp->arg;
	unsigned int v;

	if (kstrtouint(val, 10, &v) || v < lim->min || v > lim->max) {
		pr_err("%s=%s: expected an integer in [%u, %u]\n",
		       kp->name, val, lim->min, lim->max);
		return -EINVAL;
	}
	WRITE_ONCE(*lim->val, v);
	return 0;
}

static int xhp_param_get_uint(char *buf, const struct kernel_param *kp)
{
	const struct xhp_uint_limit *lim = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(*lim->val));
}

static const struct kernel_param_ops xhp_uint_ops = {
	.set = xhp_param_set_uint,
	.get = xhp_param_get_uint,
};

#define XHP_UINT_PARAM(field, lo, hi, desc)				\
	static const struct xhp_uint_limit xhp_lim_##field = {		\
		.val = &xhp_knobs.field, .min = (lo), .max = (hi) };	\
	module_param_cb(field, &xhp_uint_ops, (void *)&xhp_lim_##field, 0444); \
	MODULE_PARM_DESC(field, desc)

module_param_cb(enabled, &xhp_mode_ops, &xhp_knobs.enabled, 0444);
MODULE_PARM_DESC(enabled, "Initial enabled: always, madvise (default) or never");

XHP_UINT_PARAM(pages_to_scan, 1, UINT_MAX,
	       "PTEs scanned per round (default 4096)");
XHP_UINT_PARAM(scan_sleep_millisecs, 0, UINT_MAX,
	       "Sleep between rounds, ms (default 10000)");
XHP_UINT_PARAM(alloc_sleep_millisecs, 0, UINT_MAX,
	       "Sleep after a failed huge page allocation, ms (default 60000)");
XHP_UINT_PARAM(max_ptes_none, 0, HPAGE_PMD_NR - 1,
	       "Empty PTEs allowed in a range to collapse (default 511)");
XHP_UINT_PARAM(max_ptes_swap, 0, HPAGE_PMD_NR - 1,
	       "Swapped-out PTEs allowed, swapped in on collapse (default 64)");
XHP_UINT_PARAM(max_ptes_shared, 0, HPAGE_PMD_NR - 1,
	       "PTEs mapping shared pages allowed (default 256)");
static const char * const xhp_order_names[] = { "fifo", "hot" };

static int xhp_param_set_order(const char *val, const struct kernel_param *kp)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xhp_order_names); i++) {
		if (sysfs_streq(val, xhp_order_names[i])) {
			WRITE_ONCE(xhp_knobs.scan_order, i);
			return 0;
		}
	}
	pr_err("scan_order=%s: expected fifo or hot\n", val);
	return -EINVAL;
}

static int xhp_param_get_order(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  xhp_order_names[READ_ONCE(xhp_knobs.scan_order)]);
}

static const struct kernel_param_ops xhp_order_ops = {
	.set = xhp_param_set_order,
	.get = xhp_param_get_order,
};
module_param_cb(scan_order, &xhp_order_ops, NULL, 0444);
MODULE_PARM_DESC(scan_order, "fifo (default, like khugepaged) or hot (hot ranges first)");

XHP_UINT_PARAM(backoff_window_millisecs, 0, XHP_BACKOFF_WINDOW_MAX,
	       "Anti-thrash: back off ranges split this soon after collapse (0: off)");
XHP_UINT_PARAM(defrag, 0, 1,
	       "1: collapse may reclaim/compact; 0: only when a huge page is free");

/* shmem_enabled: the same names sysfs takes, at the same defaults. */
static int xhp_param_set_shmem(const char *val, const struct kernel_param *kp)
{
	unsigned int i;

	for (i = 0; i < XHP_SHMEM_NR_MODES; i++) {
		/* force needs exactly the PMD size inheriting: the default. */
		if (sysfs_streq(val, xhp_shmem_mode_names[i])) {
			WRITE_ONCE(xhp_knobs.shmem_enabled, i);
			return 0;
		}
	}
	pr_err("shmem_enabled=%s: expected always, within_size, advise, never, deny or force\n",
	       val);
	return -EINVAL;
}

static int xhp_param_get_shmem(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  xhp_shmem_mode_names[READ_ONCE(xhp_knobs.shmem_enabled)]);
}

static const struct kernel_param_ops xhp_shmem_ops = {
	.set = xhp_param_set_shmem,
	.get = xhp_param_get_shmem,
};
module_param_cb(shmem_enabled, &xhp_shmem_ops, NULL, 0444);
MODULE_PARM_DESC(shmem_enabled,
		 "Initial shmem_enabled: always, within_size, advise, never (default), deny or force");
