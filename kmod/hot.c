// SPDX-License-Identifier: GPL-2.0
/*
 * Hot-first scanning (khugepaged/scan_order = hot).
 *
 * Reading every PTE's accessed bit costs as much as scanning it. x86 sets
 * the accessed bit of the non-leaf PMD entry whenever the page walker goes
 * through it (the multi-gen LRU relies on this: ARCH_HAS_NONLEAF_PMD_YOUNG),
 * so one entry tells whether any of its 2 MiB was touched since the bit was
 * last cleared. The sweep test-and-clears that bit under mmap_lock for read,
 * as MGLRU's walk does, then flushes the TLB for the swept range: a walker
 * only sets the bit again when it refills a translation, so without the
 * flush a range that stays in the TLB would look cold.
 *
 * A new page table is installed with the bit set (_PAGE_TABLE), and the
 * faults that filled it walked through it, so at first every populated range
 * of an mm reads young. The first visit therefore only primes the mm: it
 * clears every bit and judges nothing, and from the next sweep on only
 * ranges touched since are reported. Otherwise memory faulted long ago and
 * never touched again would be taken for hot once, ahead of the real thing.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/pgtable.h>

#include "xhugepaged.h"

static atomic_long_t xhp_hot_found = ATOMIC_LONG_INIT(0);

long xhp_hot_ranges(void)
{
	return atomic_long_read(&xhp_hot_found);
}

/* Test and clear the accessed bit of a PMD that points to a PTE table. */
static bool xhp_pmd_table_young(pmd_t *pmdp)
{
	pmd_t pmd = pmdp_get_lockless(pmdp);

	if (pmd_none(pmd) || !pmd_present(pmd) || pmd_trans_huge(pmd) ||
	    pmd_bad(pmd) || !(pmd_flags(pmd) & _PAGE_ACCESSED))
		return false;
	return test_and_clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)pmdp);
}

/*
 * Sweep @mm's eligible VMAs from @start and return, in @out, up to @max
 * PMD-aligned addresses whose 2 MiB range was touched since the last sweep.
 * Stops at @max found or XHP_SCAN_PER_LOCK entries looked at (one hold of
 * mmap_lock), so the ranges it did not reach keep their bits; *@resume
 * says where to go on next time (PMD-aligned; 0: the sweep reached the
 * end of the mm). *@seen counts the PMD entries looked at. With @out NULL
 * it only clears. Caller holds mmap_lock for read, and only ranges inside
 * a VMA are walked: munmap frees page tables only where no VMA remains.
 */
static unsigned int xhp_sweep(struct mm_struct *mm, unsigned long start,
			      unsigned long *out, unsigned int max,
			      unsigned long *resume, unsigned int *seen)
{
	unsigned long addr = start, lo = ULONG_MAX, hi = 0;
	struct vm_area_struct *vma = NULL;
	unsigned int nr = 0;

	*seen = 0;

	while (nr < max && *seen < XHP_SCAN_PER_LOCK &&
	       (vma = find_vma(mm, addr))) {
		unsigned long hstart = max(ALIGN(vma->vm_start, HPAGE_PMD_SIZE),
					   ALIGN(addr, HPAGE_PMD_SIZE));
		unsigned long hend = ALIGN_DOWN(vma->vm_end, HPAGE_PMD_SIZE);

		addr = ALIGN(vma->vm_end, HPAGE_PMD_SIZE);
		if (!xhp_vma_eligible(vma))
			continue;
		for (; hstart < hend && nr < max && *seen < XHP_SCAN_PER_LOCK;
		     hstart += HPAGE_PMD_SIZE) {
			pmd_t *pmdp = xhp_find_pmd(mm, hstart);

			(*seen)++;
			if (!pmdp || !xhp_pmd_table_young(pmdp))
				continue;
			if (out)
				out[nr] = hstart;
			nr++;
			lo = min(lo, hstart);
			hi = max(hi, hstart + HPAGE_PMD_SIZE);
		}
		if (hstart < hend)
			addr = hstart;	/* stopped inside this VMA */
		cond_resched();
	}
	*resume = vma ? addr : 0;
	/* Make the next access walk the tables again, so it sets the bit. */
	if (nr && xhp_sym.flush_tlb_mm_range)
		xhp_sym.flush_tlb_mm_range(mm, lo, hi, PAGE_SHIFT, false);
	return nr;
}

unsigned int xhp_hot_sweep(struct mm_struct *mm, unsigned long start,
			   unsigned long *out, unsigned int max,
			   unsigned long *resume)
{
	unsigned int seen, nr = xhp_sweep(mm, start, out, max, resume, &seen);

	atomic_long_add(nr, &xhp_hot_found);
	return nr;
}

/*
 * First visit: clear the bit of every PTE-table PMD in @mm's eligible VMAs
 * from @start, one lock hold's worth, and report nothing. Returns the
 * number of PMD entries looked at; *@resume as for the sweep.
 */
unsigned int xhp_hot_prime(struct mm_struct *mm, unsigned long start,
			   unsigned long *resume)
{
	unsigned int seen;

	xhp_sweep(mm, start, NULL, UINT_MAX, resume, &seen);
	return seen;
}
