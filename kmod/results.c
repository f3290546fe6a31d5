// SPDX-License-Identifier: GPL-2.0
/*
 * Why memory is or is not huge: one counter per khugepaged SCAN_* outcome,
 * readable as khugepaged/scan_results/<name> (the SCAN_ name in lower case,
 * without the prefix), reset by writing 0 to khugepaged/scan_results/reset.
 */
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/atomic.h>

#include "xhugepaged.h"
#include "procview.h"

#define XHP_RESULTS(X)							\
	X(FAIL, fail) X(SUCCEED, succeed) X(PMD_NULL, pmd_null)		\
	X(PMD_NONE, pmd_none) X(PMD_MAPPED, pmd_mapped)			\
	X(EXCEED_NONE_PTE, exceed_none_pte)				\
	X(EXCEED_SWAP_PTE, exceed_swap_pte)				\
	X(EXCEED_SHARED_PTE, exceed_shared_pte)				\
	X(PTE_NON_PRESENT, pte_non_present) X(PTE_UFFD_WP, pte_uffd_wp)	\
	X(PTE_MAPPED_HUGEPAGE, pte_mapped_hugepage)			\
	X(PAGE_RO, page_ro) X(LACK_REFERENCED_PAGE, lack_referenced_page) \
	X(PAGE_NULL, page_null) X(SCAN_ABORT, scan_abort)		\
	X(PAGE_COUNT, page_count) X(PAGE_LRU, page_lru)			\
	X(PAGE_LOCK, page_lock) X(PAGE_ANON, page_anon)			\
	X(PAGE_COMPOUND, page_compound) X(ANY_PROCESS, any_process)	\
	X(VMA_NULL, vma_null) X(VMA_CHECK, vma_check)			\
	X(ADDRESS_RANGE, address_range) X(DEL_PAGE_LRU, del_page_lru)	\
	X(ALLOC_HUGE_PAGE_FAIL, alloc_huge_page_fail)			\
	X(CGROUP_CHARGE_FAIL, cgroup_charge_fail)			\
	X(TRUNCATED, truncated) X(PAGE_HAS_PRIVATE, page_has_private)	\
	X(STORE_FAILED, store_failed) X(COPY_MC, copy_mc)		\
	X(PAGE_FILLED, page_filled)

static atomic_long_t xhp_results[XHP_SCAN_NR_RESULTS];

#define X_NAME(up, low) [XHP_SCAN_##up] = #low,
static const char * const xhp_result_names[XHP_SCAN_NR_RESULTS] = {
	XHP_RESULTS(X_NAME)
};

const char *xhp_result_name(unsigned int result)
{
	if (result >= XHP_SCAN_NR_RESULTS || !xhp_result_names[result])
		return "unknown";
	return xhp_result_names[result];
}

void xhp_result_count(unsigned int result)
{
	if (result < XHP_SCAN_NR_RESULTS)
		atomic_long_inc(&xhp_results[result]);
	xhp_view_result(result);
}

struct xhp_result_attr {
	struct kobj_attribute ka;
	unsigned int result;
};

static ssize_t xhp_result_show(struct kobject *kobj,
			       struct kobj_attribute *ka, char *buf)
{
	struct xhp_result_attr *ra = container_of(ka, struct xhp_result_attr, ka);

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&xhp_results[ra->result]));
}

static ssize_t reset_store(struct kobject *kobj, struct kobj_attribute *ka,
			   const char *buf, size_t count)
{
	unsigned int v, i;

	if (kstrtouint(buf, 10, &v) || v != 0)
		return -EINVAL;
	for (i = 0; i < XHP_SCAN_NR_RESULTS; i++)
		atomic_long_set(&xhp_results[i], 0);
	return count;
}
static struct kobj_attribute xhp_reset_attr = __ATTR_WO(reset);

#define X_ATTR(up, low)							\
	static struct xhp_result_attr xhp_ra_##low = {			\
		.ka = __ATTR(low, 0444, xhp_result_show, NULL),		\
		.result = XHP_SCAN_##up,				\
	};
XHP_RESULTS(X_ATTR)

#define X_PTR(up, low) &xhp_ra_##low.ka.attr,
static struct attribute *xhp_results_attrs[] = {
	XHP_RESULTS(X_PTR)
	&xhp_reset_attr.attr,
	NULL,
};

const struct attribute_group xhp_results_group = {
	.name = "scan_results",
	.attrs = xhp_results_attrs,
};
