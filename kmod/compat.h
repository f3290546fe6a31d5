/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference xhugepaged cares about lives here, so the
 * rest of the module reads as if written for one kernel. Supported: Debian's
 * 6.1 and 6.12. Boundaries are where the kernel changed, but only those two
 * kernels are built and tested.
 */
#ifndef _XHP_COMPAT_H
#define _XHP_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/page_idle.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <asm/ptrace.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "xhugepaged needs Linux 6.1 or later"
#endif

/*
 * Tracepoint string fields: 6.10 dropped __assign_str()'s source argument
 * (it is taken from __string()); 6.1 still needs it.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define xhp_assign_str(field, src) __assign_str(field)
#else
#define xhp_assign_str(field, src) __assign_str(field, src)
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

/*
 * folio_mapcount() is inline since 6.9; before, it is out of line and not
 * exported, so 6.1 borrows it (symbols.c).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#define XHP_BORROW_FOLIO_MAPCOUNT 0
#define xhp_folio_mapcount(folio) folio_mapcount(folio)
#else
#define XHP_BORROW_FOLIO_MAPCOUNT 1
#define xhp_folio_mapcount(folio) xhp_borrowed_folio_mapcount(folio)
#endif

/*
 * Reading a PMD without its lock: pmdp_get_lockless() and pmdp_get() came
 * with 6.5's page-table rework; on x86-64 a PMD is one word, so before that
 * one READ_ONCE() is the same thing.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define xhp_pmdp_get_lockless(pmdp) pmdp_get_lockless(pmdp)
#define xhp_pmdp_get(pmdp) pmdp_get(pmdp)
#else
#define xhp_pmdp_get_lockless(pmdp) READ_ONCE(*(pmdp))
#define xhp_pmdp_get(pmdp) READ_ONCE(*(pmdp))
#endif

/* pmd_folio() arrived in 6.10. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define xhp_pmd_folio(pmd) pmd_folio(pmd)
#else
#define xhp_pmd_folio(pmd) page_folio(pmd_page(pmd))
#endif

/*
 * Mapping and locking a PTE table. Since 6.5 __pte_offset_map_lock() is an
 * unexported function that can fail (the table may have gone: NULL) and
 * also takes rcu_read_lock(), which pte_unmap() drops; it is borrowed.
 * Before, pte_offset_map_lock() is a macro that cannot fail and takes only
 * the lock. Either way the caller checks for NULL and then says, with
 * xhp_pte_map_locked(), what was taken: sparse is shown the lock there
 * (6.1's macro takes it before the check, which sparse cannot follow).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define XHP_BORROW_PTE_OFFSET_MAP_LOCK 1
#define xhp_pte_offset_map_lock(mm, pmd, addr, ptlp) \
	xhp_borrowed_pte_offset_map_lock(mm, pmd, addr, ptlp)
#define xhp_pte_map_locked(ptl) do { __acquire(ptl); __acquire(RCU); } while (0)
#else
#define XHP_BORROW_PTE_OFFSET_MAP_LOCK 0
#define xhp_pte_offset_map_lock(mm, pmd, addr, ptlp) ({		\
	pte_t *__xhp_pte = pte_offset_map_lock(mm, pmd, addr, ptlp);	\
	__release(*(ptlp));						\
	__xhp_pte;							\
})
#define xhp_pte_map_locked(ptl) __acquire(ptl)
#endif

/* kcompactd marks itself with PF_KCOMPACTD since 6.10; before, by name. */
static inline bool xhp_current_is_kcompactd(void)
{
#ifdef PF_KCOMPACTD
	return current->flags & PF_KCOMPACTD;
#else
	return (current->flags & PF_KTHREAD) &&
	       !strncmp(current->comm, "kcompactd", 9);
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

/*
 * fprobe with pt_regs handlers and per-call entry data, as in 6.12 (6.14
 * moved its handlers to ftrace_regs; 6.1's have no entry data). Elsewhere
 * the event hooks can only be kretprobes (probes.c, event_hooks=).
 */
#if defined(CONFIG_FPROBE) && \
	LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 14, 0)
#define XHP_HAVE_FPROBE 1
#else
#define XHP_HAVE_FPROBE 0
#endif

/* The exit hook's target: exit_mmap() on every supported kernel. */
#define XHP_EXIT_MMAP_SYMBOL "exit_mmap"

/*
 * Where every PMD split happens, and its arguments (x86-64 registers); it
 * is also called for PMDs that are not huge or map another folio, which it
 * leaves alone. 6.8 made split_huge_pmd_locked(vma, address, pmd, freeze,
 * folio) global and shared by __split_huge_pmd() and rmap's unmap; it runs
 * under the PMD lock. In 6.1 every split goes through __split_huge_pmd(vma,
 * pmd, address, freeze, folio) (Debian inlines the static
 * __split_huge_pmd_locked() into it), whose entry is before the lock: two
 * tasks racing to split one PMD may both be counted there.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define XHP_SPLIT_PMD_SYMBOL "split_huge_pmd_locked"
#define xhp_split_pmd_address(regs) ((regs)->si)
#define xhp_split_pmd_pmdp(regs) ((pmd_t *)(regs)->dx)
#define xhp_split_pmd_folio(regs) ((struct folio *)(regs)->r8)
#else
#define XHP_SPLIT_PMD_SYMBOL "__split_huge_pmd"
#define xhp_split_pmd_address(regs) ((regs)->dx)
#define xhp_split_pmd_pmdp(regs) ((pmd_t *)(regs)->si)
#define xhp_split_pmd_folio(regs) ((struct folio *)(regs)->r8)
#endif

/*
 * Folio splits: 6.8 added the target order, and the function's name with
 * it; the first two arguments (page, list) stay put.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define XHP_SPLIT_FOLIO_SYMBOL "split_huge_page_to_list_to_order"
#else
#define XHP_SPLIT_FOLIO_SYMBOL "split_huge_page_to_list"
#endif

#endif /* _XHP_COMPAT_H */
