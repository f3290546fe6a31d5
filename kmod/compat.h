/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference xhugepaged cares about lives here, so the
 * rest of the module reads as if written for one kernel.
 */
#ifndef _XHP_COMPAT_H
#define _XHP_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "xhugepaged needs Linux 6.1 or later"
#endif

/* 6.12 judges sharing per folio; 6.1 per page, as khugepaged did there. */
static inline bool xhp_folio_shared(struct folio *folio, struct page *page)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
	return folio_likely_mapped_shared(folio);
#else
	return page_mapcount(page) > 1;
#endif
}

/* Per-size (mTHP) sysfs directories and their stats arrived in 6.8-6.12. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define XHP_HAVE_MTHP_SYSFS 1
#define XHP_HAVE_SHRINK_UNDERUSED 1
#else
#define XHP_HAVE_MTHP_SYSFS 0
#define XHP_HAVE_SHRINK_UNDERUSED 0
#endif

/* The exit hook's target: exit_mmap() on every supported kernel. */
#define XHP_EXIT_MMAP_SYMBOL "exit_mmap"

#endif /* _XHP_COMPAT_H */
