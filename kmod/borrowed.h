/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Typed calls into borrowed kernel text, all through xhp_borrowed_call()
 * (borrowed_call.S): never an indirect CALL/JMP, so nothing here depends on
 * the target's ENDBR. scripts/check-indirect-calls.sh fails the build's
 * check if the module ever calls through a pointer again.
 */
#ifndef _XHP_BORROWED_H
#define _XHP_BORROWED_H

#include <linux/mm.h>

/* fn(a1, ..., a5), entered with RET; returns fn's RAX. */
unsigned long xhp_borrowed_call(unsigned long fn, unsigned long a1,
				unsigned long a2, unsigned long a3,
				unsigned long a4, unsigned long a5);

static inline int xhp_madvise_collapse(struct vm_area_struct *vma,
				       struct vm_area_struct **prev,
				       unsigned long start, unsigned long end)
{
	return (int)xhp_borrowed_call(xhp_sym.madvise_collapse,
				      (unsigned long)vma, (unsigned long)prev,
				      start, end, 0);
}

#if XHP_BORROW_PTE_OFFSET_MAP_LOCK
/* __pte_offset_map_lock(): *ptlp held and rcu_read_lock() taken, or NULL. */
static inline pte_t *xhp_borrowed_pte_offset_map_lock(struct mm_struct *mm,
						      pmd_t *pmd,
						      unsigned long addr,
						      spinlock_t **ptlp)
{
	return (pte_t *)xhp_borrowed_call(xhp_sym.pte_offset_map_lock,
					  (unsigned long)mm, (unsigned long)pmd,
					  addr, (unsigned long)ptlp, 0);
}
#endif

#if XHP_BORROW_FOLIO_MAPCOUNT
/* Out of line and unexported before 6.9 (compat.h). */
static inline int xhp_borrowed_folio_mapcount(struct folio *folio)
{
	return (int)xhp_borrowed_call(xhp_sym.folio_mapcount,
				      (unsigned long)folio, 0, 0, 0, 0);
}
#endif

/* Optional: a no-op where the kernel lacks it. */
static inline void xhp_lru_add_drain_all(void)
{
	if (xhp_sym.lru_add_drain_all)
		xhp_borrowed_call(xhp_sym.lru_add_drain_all, 0, 0, 0, 0, 0);
}

/* Optional: a no-op where the kernel lacks it. */
static inline void xhp_flush_tlb_mm_range(struct mm_struct *mm,
					  unsigned long start,
					  unsigned long end,
					  unsigned int stride_shift,
					  bool freed_tables)
{
	if (xhp_sym.flush_tlb_mm_range)
		xhp_borrowed_call(xhp_sym.flush_tlb_mm_range,
				  (unsigned long)mm, start, end, stride_shift,
				  freed_tables);
}

static inline unsigned long xhp_kallsyms_lookup_name(const char *name)
{
	return xhp_borrowed_call(xhp_sym.kallsyms_lookup_name,
				 (unsigned long)name, 0, 0, 0, 0);
}

/* Optional: ftrace's site in the function at @ip, 0 if none or no ftrace. */
static inline unsigned long xhp_ftrace_location(unsigned long ip)
{
	if (!xhp_sym.ftrace_location)
		return 0;
	return xhp_borrowed_call(xhp_sym.ftrace_location, ip, 0, 0, 0, 0);
}

/*
 * Our own vm_normal_page() for what the judge looks at: the page behind a
 * present PTE, or NULL for special mappings (the zero page, devmap, pfn and
 * mixed maps, which khugepaged never collapses) and for pfns with no memmap.
 * @addr is unused; it keeps the kernel's signature.
 */
static inline struct page *xhp_vm_normal_page(struct vm_area_struct *vma,
					      unsigned long addr, pte_t pte)
{
	unsigned long pfn = pte_pfn(pte);

	if (vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP))
		return NULL;
	if (pte_special(pte) || is_zero_pfn(pfn) || !pfn_valid(pfn))
		return NULL;
	return pfn_to_page(pfn);
}

#endif /* _XHP_BORROWED_H */
