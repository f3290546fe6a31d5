// SPDX-License-Identifier: GPL-2.0
/*
 * Judging one PMD-sized range on the live x86-64 page tables, the way
 * hpage_collapse_scan_pmd() does for khugepaged, but against xhugepaged's
 * own max_ptes_* knobs. Called with mmap_lock held for read, which keeps
 * anonymous page tables from being freed under us; the PTE walk itself runs
 * under the page-table lock taken by xhp_pte_offset_map_lock().
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/pgtable.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/userfaultfd_k.h>
#include <linux/sched/coredump.h>

#include "xhugepaged.h"

/* The kernel's hard limits plus the module's own "enabled" policy. */
bool xhp_vma_eligible(struct vm_area_struct *vma)
{
	unsigned long flags = vma->vm_flags;

	if (xhp_vma_is_shmem(vma))
		return xhp_shmem_vma_eligible(vma);
	if (!vma_is_anonymous(vma) || !vma->anon_vma)
		return false;
	if (flags & (VM_SPECIAL | VM_HUGETLB | VM_NOHUGEPAGE))
		return false;
	if (test_bit(MMF_DISABLE_THP, &vma->vm_mm->flags))
		return false;
	if (vma_is_temporary_stack(vma))
		return false;
	switch (xhp_pmd_mode()) {
	case XHP_ALWAYS:
		return true;
	case XHP_MADVISE:
		return flags & VM_HUGEPAGE;
	default:
		return false;
	}
}

/* Walk pgd..pmd. NULL where no page table reaches @addr. */
pmd_t *xhp_find_pmd(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud;

	if (!pgd_present(*pgd))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (!p4d_present(*p4d))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (!pud_present(*pud) || pud_leaf(*pud))
		return NULL;
	return pmd_offset(pud, addr);
}

/* find_pmd_or_thp_or_none(): is there a PTE table to look at? */
static unsigned int xhp_pmd_state(pmd_t *pmdp)
{
	pmd_t pmd;

	if (!pmdp)
		return XHP_SCAN_PMD_NULL;
	pmd = xhp_pmdp_get_lockless(pmdp);
	if (pmd_none(pmd))
		return XHP_SCAN_PMD_NONE;
	if (!pmd_present(pmd))
		return XHP_SCAN_PMD_NULL;
	if (pmd_trans_huge(pmd))
		return XHP_SCAN_PMD_MAPPED;
	if (pmd_devmap(pmd) || pmd_bad(pmd))
		return XHP_SCAN_PMD_NULL;
	return XHP_SCAN_SUCCEED;
}

/* is_refcount_suitable(): no GUP pins or other external references. */
bool xhp_refcount_suitable(struct folio *folio)
{
	int expected = xhp_folio_mapcount(folio);

	if (!folio_test_anon(folio) || folio_test_swapcache(folio))
		expected += folio_nr_pages(folio);
	if (folio_test_private(folio))
		expected++;
	return folio_ref_count(folio) == expected;
}

static unsigned int xhp_judge_ptes(struct vm_area_struct *vma,
				   unsigned long addr, pte_t *pte,
				   struct xhp_pmd_verdict *v)
{
	unsigned int max_none = READ_ONCE(xhp_knobs.max_ptes_none);
	unsigned int max_swap = READ_ONCE(xhp_knobs.max_ptes_swap);
	unsigned int max_shared = READ_ONCE(xhp_knobs.max_ptes_shared);
	unsigned long a;
	int i;

	for (i = 0, a = addr; i < HPAGE_PMD_NR; i++, a += PAGE_SIZE) {
		pte_t pteval = ptep_get(pte + i);
		struct folio *folio;
		struct page *page;

		if (is_swap_pte(pteval)) {
			if (++v->swap > max_swap)
				return XHP_SCAN_EXCEED_SWAP_PTE;
			/* uffd-wp swap entries are never collapsed */
			if (pte_swp_uffd_wp_any(pteval))
				return XHP_SCAN_PTE_UFFD_WP;
			continue;
		}
		if (pte_none(pteval) || is_zero_pfn(pte_pfn(pteval))) {
			if (++v->none_or_zero > max_none ||
			    userfaultfd_armed(vma))
				return XHP_SCAN_EXCEED_NONE_PTE;
			continue;
		}
		if (pte_uffd_wp(pteval))
			return XHP_SCAN_PTE_UFFD_WP;
		if (pte_write(pteval))
			v->writable = true;

		page = xhp_vm_normal_page(vma, a, pteval);
		if (!page || is_zone_device_page(page))
			return XHP_SCAN_PAGE_NULL;
		folio = page_folio(page);
		if (!folio_test_anon(folio))
			return XHP_SCAN_PAGE_ANON;
		if (xhp_folio_shared(folio, page) && ++v->shared > max_shared)
			return XHP_SCAN_EXCEED_SHARED_PTE;
		if (!folio_test_lru(folio))
			return XHP_SCAN_PAGE_LRU;
		if (folio_test_locked(folio))
			return XHP_SCAN_PAGE_LOCK;
		if (!xhp_refcount_suitable(folio))
			return XHP_SCAN_PAGE_COUNT;
		/*
		 * Secondary-MMU young bits (mmu_notifier_test_young) are not
		 * consulted: that helper is not available to modules.
		 */
		if (pte_young(pteval) || folio_test_young(folio) ||
		    folio_test_referenced(folio))
			v->referenced++;
	}
	if (!v->writable)
		return XHP_SCAN_PAGE_RO;
	if (!v->referenced ||
	    (v->swap && v->referenced < HPAGE_PMD_NR / 2))
		return XHP_SCAN_LACK_REFERENCED_PAGE;
	return XHP_SCAN_SUCCEED;
}

void xhp_judge_pmd(struct mm_struct *mm, struct vm_area_struct *vma,
		   unsigned long addr, struct xhp_pmd_verdict *v)
{
	spinlock_t *ptl;
	pmd_t *pmdp;
	pte_t *pte;

	/* Eligible and not anonymous: shmem, judged on its page cache. */
	if (!vma_is_anonymous(vma)) {
		xhp_shmem_judge_pmd(mm, vma, addr, v);
		return;
	}
	memset(v, 0, sizeof(*v));
	pmdp = xhp_find_pmd(mm, addr);
	v->result = xhp_pmd_state(pmdp);
	if (v->result != XHP_SCAN_SUCCEED)
		return;

	pte = xhp_pte_offset_map_lock(mm, pmdp, addr, &ptl);
	if (!pte) {
		v->result = XHP_SCAN_PMD_NULL;
		return;
	}
	xhp_pte_map_locked(ptl);
	v->result = xhp_judge_ptes(vma, addr, pte, v);
	pte_unmap_unlock(pte, ptl);
}
