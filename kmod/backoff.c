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
 */
#include <linux/kernel.h>
#include <linux/hash.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/spinlock.h>

#include "xhugepaged.h"
#include "hooks.h"

#define XHP_BACKOFF_BITS	12
#define XHP_BACKOFF_MAX_SHIFT	6

struct xhp_backoff_entry {
	unsigned long key;		/* hash input: mm ^ range, 0 = empty */
	unsigned long collapsed_at;	/* jiffies */
	unsigned long until;		/* skip the range before this */
	unsigned int shift;		/* backoff = window << shift */
};

static struct xhp_backoff_entry xhp_backoff[1 << XHP_BACKOFF_BITS];
static DEFINE_SPINLOCK(xhp_backoff_lock);
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

/* The scanner made a huge page at @haddr. */
void xhp_backoff_collapsed(struct mm_struct *mm, unsigned long haddr)
{
	unsigned long key = xhp_backoff_key(mm, haddr);
	struct xhp_backoff_entry *e = xhp_backoff_slot(key);

	if (!READ_ONCE(xhp_knobs.backoff_window_millisecs))
		return;
	spin_lock(&xhp_backoff_lock);
	if (e->key != key) {
		e->key = key;
		e->shift = 0;
		e->until = jiffies;
	}
	e->collapsed_at = jiffies;
	spin_unlock(&xhp_backoff_lock);
}

/* Should the scanner leave @haddr alone for now? */
bool xhp_backoff_active(struct mm_struct *mm, unsigned long haddr)
{
	unsigned long key = xhp_backoff_key(mm, haddr);
	struct xhp_backoff_entry *e = xhp_backoff_slot(key);
	bool active;

	if (!READ_ONCE(xhp_knobs.backoff_window_millisecs))
		return false;
	spin_lock(&xhp_backoff_lock);
	active = e->key == key && time_before(jiffies, e->until);
	spin_unlock(&xhp_backoff_lock);
	if (active)
		atomic_long_inc(&xhp_backoff_skips);
	return active;
}

/* Hook on __split_huge_pmd(vma, pmd, address, freeze, folio). */
int xhp_hook_split_pmd(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_area_struct *vma = (void *)regs->di;
	unsigned long haddr = regs->dx & HPAGE_PMD_MASK;
	unsigned int window = READ_ONCE(xhp_knobs.backoff_window_millisecs);
	struct xhp_backoff_entry *e;
	unsigned long key;

	if (!window || !vma)
		return 0;
	key = xhp_backoff_key(vma->vm_mm, haddr);
	e = xhp_backoff_slot(key);
	spin_lock(&xhp_backoff_lock);
	if (e->key == key &&
	    time_before(jiffies, e->collapsed_at + msecs_to_jiffies(window))) {
		e->until = jiffies + (msecs_to_jiffies(window) << e->shift);
		if (e->shift < XHP_BACKOFF_MAX_SHIFT)
			e->shift++;
		/* One split per collapse counts; a second is not a new waste. */
		e->collapsed_at = jiffies - msecs_to_jiffies(window) - 1;
		atomic_long_inc(&xhp_backoff_splits);
	}
	spin_unlock(&xhp_backoff_lock);
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
