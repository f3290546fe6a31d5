// SPDX-License-Identifier: GPL-2.0
/*
 * Collapse through the kernel's own engine: madvise_collapse(), the code
 * behind MADV_COLLAPSE. It isolates, copies, swaps in and installs the PMD
 * exactly as khugepaged would, so xhugepaged never rewrites page tables
 * itself. Neighbouring PMDs that passed judgement go in one call, which
 * amortises the engine's lru_add_drain_all().
 *
 * The engine reports one errno for the whole range; its tracepoint
 * mm_khugepaged_scan_pmd (optional hook) gives the SCAN_* result of each
 * PMD for calls made by our own thread.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/mmap_lock.h>

#include "xhugepaged.h"
#include "hooks.h"
#include "trace.h"

/* Only the scanner thread writes this, and only the scanner's calls hit it. */
static struct {
	struct task_struct *task;
	struct mm_struct *mm;
	unsigned long start;		/* the call's first range */
	unsigned int nr, seen;
	int result[XHP_BATCH_MAX];
} xhp_engine;

/*
 * Tracepoint mm_khugepaged_scan_pmd: hpage_collapse_scan_pmd() emits it once
 * per call, on its way out, with the range's final SCAN_* result. Within one
 * madvise_collapse() call the engine visits our ranges in address order and
 * stops early rather than skip one, so the Nth event is the Nth range.
 */
void xhp_hook_scan_pmd_result(void *data, struct mm_struct *mm,
			      struct page *page, bool writable, int referenced,
			      int none_or_zero, int status, int unmapped)
{
	unsigned int i;

	if (current != READ_ONCE(xhp_engine.task))
		return;
	i = xhp_engine.seen;
	if (i >= xhp_engine.nr)
		return;
	xhp_engine.result[i] = status;
	xhp_engine.seen++;
	/*
	 * The PMD is in and mmap_lock let go: record the collapse for the
	 * backoff now rather than once the engine has the lock back, which
	 * narrows the window in which a user thread's split goes unseen.
	 */
	if (status == XHP_SCAN_SUCCEED)
		xhp_backoff_collapsed(xhp_engine.mm,
				      xhp_engine.start + i * HPAGE_PMD_SIZE);
}

/*
 * Tracepoint mm_khugepaged_scan_file: the same for a shmem range, once per
 * hpage_collapse_scan_file() call. On success 6.12's collapse_file()
 * answers SCAN_PTE_MAPPED_HUGEPAGE to madvise_collapse(), which then maps
 * the new folio by PMD; a range left unmapped after that is counted under
 * that name. 6.1's maps it itself and answers SCAN_SUCCEED.
 */
void xhp_hook_scan_file_result(void *data, struct mm_struct *mm,
			       unsigned long pfn, struct file *file,
			       int present, int swap, int result)
{
	xhp_hook_scan_pmd_result(data, mm, NULL, false, 0, 0, result, 0);
}

/* madvise_collapse_errno() in reverse, for when the kretprobe is absent. */
static unsigned int xhp_errno_to_result(int err)
{
	switch (err) {
	case -ENOMEM:
		return XHP_SCAN_ALLOC_HUGE_PAGE_FAIL;
	case -EBUSY:
		return XHP_SCAN_CGROUP_CHARGE_FAIL;
	case -EAGAIN:
		return XHP_SCAN_PAGE_LOCK;
	default:
		return XHP_SCAN_FAIL;
	}
}

/*
 * khugepaged/defrag=0: collapse only when a huge page is free right now.
 * The engine always allocates with direct reclaim and compaction, so ask
 * first with a light allocation that does neither.
 */
static bool xhp_huge_page_available(void)
{
	struct folio *folio;

	if (READ_ONCE(xhp_knobs.defrag))
		return true;
	folio = folio_alloc(GFP_TRANSHUGE_LIGHT | __GFP_NOWARN, HPAGE_PMD_ORDER);
	if (!folio)
		return false;
	folio_put(folio);
	return true;
}

/*
 * madvise_collapse() begins with BUG_ON(vma->vm_start > start) and
 * BUG_ON(vma->vm_end < end) (6.12): a stale VMA or a range that is not
 * its own brings the machine down. The scanner never passes one (it looks
 * VMAs up again after every lock drop); this says so before every call,
 * and refuses, counting the range as the kernel would, if it ever does.
 */
static unsigned int xhp_batch_check(struct mm_struct *mm,
				    struct vm_area_struct *vma,
				    const struct xhp_batch *b)
{
	unsigned long end = b->start + b->nr * HPAGE_PMD_SIZE;

	mmap_assert_locked(mm);
	if (WARN_ON_ONCE(!vma || find_vma(mm, b->start) != vma ||
			 vma->vm_mm != mm))
		return XHP_SCAN_VMA_CHECK;
	if (WARN_ON_ONCE(!b->nr || b->nr > XHP_BATCH_MAX ||
			 !IS_ALIGNED(b->start, HPAGE_PMD_SIZE) ||
			 vma->vm_start > b->start || end > vma->vm_end ||
			 end <= b->start))
		return XHP_SCAN_ADDRESS_RANGE;
	return XHP_SCAN_SUCCEED;
}

/*
 * May @addr's page tables be walked after the engine let mmap_lock go?
 * Only if a VMA still covers its PMD range: munmap frees page tables
 * where no VMA remains (under mmap_lock for write, or read after a
 * downgrade, with the VMAs already gone from the tree), never under a
 * VMA that find_vma() can still return while we hold it for read.
 */
static bool xhp_range_mapped(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma = find_vma(mm, addr);

	return vma && vma->vm_start <= addr &&
	       addr + HPAGE_PMD_SIZE <= vma->vm_end;
}

unsigned int xhp_collapse_batch(struct mm_struct *mm,
				struct vm_area_struct *vma,
				const struct xhp_batch *b, bool *lock_dropped,
				bool *alloc_failed)
{
	unsigned long end = b->start + b->nr * HPAGE_PMD_SIZE;
	struct vm_area_struct *prev = NULL;
	unsigned int i, huge = 0, bad;
	u64 t0;
	int ret;

	*lock_dropped = false;
	*alloc_failed = false;
	bad = xhp_batch_check(mm, vma, b);
	if (bad != XHP_SCAN_SUCCEED) {
		for (i = 0; i < b->nr; i++)
			xhp_result_count(bad);
		return 0;
	}
	if (!xhp_huge_page_available()) {
		for (i = 0; i < b->nr; i++)
			xhp_result_count(XHP_SCAN_ALLOC_HUGE_PAGE_FAIL);
		*alloc_failed = true;
		return 0;
	}

	xhp_engine.mm = mm;
	xhp_engine.start = b->start;
	xhp_engine.nr = b->nr;
	xhp_engine.seen = 0;
	for (i = 0; i < b->nr; i++)
		xhp_engine.result[i] = -1;
	WRITE_ONCE(xhp_engine.task, current);

	trace_xhp_collapse_begin(mm, b->start, b->nr, "xhugepaged");
	t0 = ktime_get_ns();
	ret = xhp_madvise_collapse(vma, &prev, b->start, end);
	WRITE_ONCE(xhp_engine.task, NULL);
	*lock_dropped = !prev;

	/*
	 * The engine returns with mmap_lock held: check what became huge.
	 * If it let the lock go meanwhile, @vma may be gone and the range
	 * unmapped, its page tables freed: walk only what is still mapped,
	 * and take the rest from the engine's per-range results. A range
	 * the engine reports SCAN_SUCCEED for was collapsed even if it is no
	 * longer huge: the PMD was installed (and the hook recorded it for
	 * the backoff) before the engine took mmap_lock back for us, so an
	 * mprotect or munmap may have split it in between.
	 */
	for (i = 0; i < b->nr; i++) {
		unsigned long addr = b->start + i * HPAGE_PMD_SIZE;
		pmd_t *pmdp = NULL;
		unsigned int result;
		bool hooked;

		/* The hook's SCAN_SUCCEED needs no walk, nor a backoff record. */
		hooked = xhp_engine.result[i] == XHP_SCAN_SUCCEED;
		if (!hooked && (!*lock_dropped || xhp_range_mapped(mm, addr)))
			pmdp = xhp_find_pmd(mm, addr);
		if (hooked ||
		    (pmdp && pmd_trans_huge(xhp_pmdp_get_lockless(pmdp)))) {
			result = XHP_SCAN_SUCCEED;
			huge++;
			if (!hooked)
				xhp_backoff_collapsed(mm, addr);
		} else if (xhp_engine.result[i] >= 0) {
			result = xhp_engine.result[i];
		} else {
			result = xhp_errno_to_result(ret);
		}
		if (result == XHP_SCAN_ALLOC_HUGE_PAGE_FAIL)
			*alloc_failed = true;
		xhp_result_count(result);
	}
	trace_xhp_collapse_end(mm, b->start, b->nr, "xhugepaged",
			       ktime_get_ns() - t0, ret, huge);
	atomic_add(huge, &xhp_stats.pages_collapsed);
	return huge;
}
