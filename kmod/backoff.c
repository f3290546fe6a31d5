// SPDX-License-Identifier: GPL-2.0
/*
 * Anti-thrash backoff. A range that an application splits again soon after
 * xhugepaged collapsed it (mprotect or munmap of part of it, mremap, COW,
 * MADV_DONTNEED) was a wasted collapse; collapsing it again at once would
 * be wasted too. Each such split doubles the range's backoff, starting at
 * khugepaged/backoff_window_millisecs and capped at 64 windows; the scanner
 * skips the range until the backoff expires. 0 turns it off.
 *
 * The table is small and lossy on purpose: a fixed array indexed by a hash
 * of (mm, range); a collision overwrites, which at worst forgets a backoff.
 * An entry of an mm that has exited can only alias a new mm's range and
 * delay it by one backoff; no pointer in it is ever dereferenced.
 *
 * The split hook is a breakpoint kprobe: its handler runs in NMI context
 * (exc_int3() -> irqentry_nmi_enter()), where no spinlock may be taken.
 * Each entry has a one-bit lock that is only ever tried (cmpxchg), never
 * waited for: whoever finds it taken leaves the entry alone, which the
 * table's lossiness already allows. A holder is never interrupted by code
 * that waits for it, so nothing can deadlock.
 */
#include <linux/kernel.h>
#include <linux/hash.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/atomic.h>

#include "xhugepaged.h"
#include "hooks.h"

#define XHP_BACKOFF_BITS	12
#define XHP_BACKOFF_MAX_SHIFT	6

struct xhp_backoff_entry {
	atomic_t busy;			/* tried, never waited for */
	unsigned long key;		/* hash input: mm ^ range, 0 = empty */
	unsigned long collapsed_at;	/* jiffies */
	unsigned long until;		/* skip the range before this */
	unsigned int shift;		/* backoff = window << shift */
};

static struct xhp_backoff_entry xhp_backoff[1 << XHP_BACKOFF_BITS];
static atomic_long_t xhp_backoff_splits = ATOMIC_LONG_INIT(0);
static atomic_long_t xhp_backoff_skips = ATOMIC_LONG_INIT(0);

static unsigned long xhp_backoff_key(struct mm_struct *mm, unsigned long haddr)
{
	return ((unsigned long)mm ^ haddr) | 1;
}

static struct xhp_backoff_entry *xhp_backoff_slot(unsigned long key)
{
	return &xhp_backoff[hash_long(key, XHP_BACKOFF_BITS)];
}

/* NMI-safe: one cmpxchg. False if someone else holds the entry. */
static bool xhp_backoff_trylock(struct xhp_backoff_entry *e)
{
	return atomic_cmpxchg_acquire(&e->busy, 0, 1) == 0;
}

static void xhp_backoff_unlock(struct xhp_backoff_entry *e)
{
	atomic_set_release(&e->busy, 0);
}

/* The scanner made a huge page at @haddr. */
void xhp_backoff_collapsed(struct mm_struct *mm, unsigned long haddr)
{
	unsigned long key = xhp_backoff_key(mm, haddr);
	struct xhp_backoff_entry *e = xhp_backoff_slot(key);

	if (!READ_ONCE(xhp_knobs.backoff_window_millisecs) ||
	    !xhp_backoff_trylock(e))
		return;
	if (e->key != key) {
		e->key = key;
		e->shift = 0;
		e->until = jiffies;
	}
	e->collapsed_at = jiffies;
	xhp_backoff_unlock(e);
}

/* Should the scanner leave @haddr alone for now? */
bool xhp_backoff_active(struct mm_struct *mm, unsigned long haddr)
{
	unsigned long key = xhp_backoff_key(mm, haddr);
	struct xhp_backoff_entry *e = xhp_backoff_slot(key);
	bool active;

	if (!READ_ONCE(xhp_knobs.backoff_window_millisecs) ||
	    !xhp_backoff_trylock(e))
		return false;
	active = e->key == key && time_before(jiffies, e->until);
	xhp_backoff_unlock(e);
	if (active)
		atomic_long_inc(&xhp_backoff_skips);
	return active;
}

/*
 * Hook on XHP_SPLIT_PMD_SYMBOL (compat.h), where every PMD split ends up,
 * vma first on each kernel: NMI context. (Its callers' entries, such as
 * 6.12's __split_huge_pmd(), may be inlined into theirs by the compiler.)
 * A call that splits nothing is no waste: the PMD is no longer huge (a
 * range zapped whole and faulted back small, then split at a VMA
 * boundary), or it maps another folio than the caller's.
 */
int xhp_hook_split_pmd(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_area_struct *vma = (void *)regs->di;
	unsigned long haddr = xhp_split_pmd_address(regs) & HPAGE_PMD_MASK;
	unsigned int window = READ_ONCE(xhp_knobs.backoff_window_millisecs);
	struct xhp_backoff_entry *e;
	unsigned long key;

	if (!window || !vma || !xhp_split_pmd_splits(regs))
		return 0;
	key = xhp_backoff_key(vma->vm_mm, haddr);
	e = xhp_backoff_slot(key);
	if (!xhp_backoff_trylock(e))
		return 0;
	if (e->key == key &&
	    time_before(jiffies, e->collapsed_at + msecs_to_jiffies(window))) {
		e->until = jiffies + (msecs_to_jiffies(window) << e->shift);
		if (e->shift < XHP_BACKOFF_MAX_SHIFT)
			e->shift++;
		/* One split per collapse counts; a second is not a new waste. */
		e->collapsed_at = jiffies - msecs_to_jiffies(window) - 1;
		atomic_long_inc(&xhp_backoff_splits);
	}
	xhp_backoff_unlock(e);
	return 0;
}

long xhp_backoff_wasted(void)
{
	return atomic_long_read(&xhp_backoff_splits);
}

long xhp_backoff_skipped(void)
{
	return atomic_long_read(&xhp_backoff_skips);
}
