// SPDX-License-Identifier: GPL-2.0
/*
 * The xhugepaged kthread: each round spends pages_to_scan PTEs' worth of
 * budget walking queued mms from where the last round stopped, judging PMD
 * ranges and collapsing what passes; then it sleeps scan_sleep_millisecs, or
 * alloc_sleep_millisecs after a failed huge page allocation. A knob write
 * ends either sleep at once. The loop mirrors khugepaged_do_scan().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/freezer.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/huge_mm.h>
#include <linux/sched.h>
#include <linux/sched/task.h>

#include "xhugepaged.h"
#include "trace.h"
#include "procview.h"

struct xhp_scanner_stats xhp_stats;

static struct task_struct *xhp_thread;
static DECLARE_WAIT_QUEUE_HEAD(xhp_wait);
static atomic_t xhp_kicked = ATOMIC_INIT(0);
/* Set by xhp_scanner_request_stop(): wind down, then wait for the join. */
static bool xhp_stopping;
static u64 xhp_stop_requested_ns, xhp_stopped_ns;

/* What the scanner is doing, so a slow stop can say what it waited for. */
enum xhp_scanner_at {
	XHP_AT_SLEEP, XHP_AT_DRAIN, XHP_AT_WALK, XHP_AT_ENGINE, XHP_AT_NR
};
static const char * const xhp_at_names[XHP_AT_NR] = {
	[XHP_AT_SLEEP] = "sleep", [XHP_AT_DRAIN] = "lru drain",
	[XHP_AT_WALK] = "page-table walk", [XHP_AT_ENGINE] = "collapse engine",
};
static enum xhp_scanner_at xhp_at, xhp_at_stop_request;

static void xhp_scanner_at(enum xhp_scanner_at at)
{
	WRITE_ONCE(xhp_at, at);
}

static bool xhp_should_stop(void)
{
	return READ_ONCE(xhp_stopping) || kthread_should_stop();
}

void xhp_scanner_kick(void)
{
	atomic_set(&xhp_kicked, 1);
	wake_up_interruptible(&xhp_wait);
}

bool xhp_is_scanner(void)
{
	return current == READ_ONCE(xhp_thread);
}

static void xhp_sleep(unsigned int msecs)
{
	wait_event_freezable_timeout(xhp_wait,
				     xhp_should_stop() ||
				     atomic_xchg(&xhp_kicked, 0),
				     msecs_to_jiffies(msecs));
}

struct xhp_scan_state {
	struct mm_struct *mm;
	unsigned long address;	/* next PMD-aligned address to look at */
	unsigned int progress;
	unsigned int progress_at_lock;	/* progress when mmap_lock was taken */
	bool alloc_failed;
	bool unlocked;		/* mmap_lock lost: the mm's visit is over */
	bool wanted;		/* a VMA the queue rules allow was seen */
	bool relocked;		/* mmap_lock was let go and taken back */
};

/*
 * Pages still in per-CPU LRU batches would be judged not-on-LRU, so the
 * round drains them (system-wide), but only before its first judgement:
 * a round that finds nothing eligible costs the other CPUs nothing.
 */
static bool xhp_round_drained;

static void xhp_drain_once(void)
{
	if (xhp_round_drained)
		return;
	xhp_round_drained = true;
	xhp_scanner_at(XHP_AT_DRAIN);
	/* Pages still in per-CPU LRU batches would be judged not-on-LRU. */
	if (xhp_sym.lru_add_drain_all)
		xhp_lru_add_drain_all();
	xhp_scanner_at(XHP_AT_WALK);
}

/*
 * Drop mmap_lock, let others run and take it back; if it cannot be taken
 * back at once the mm is busy and its visit ends (s->unlocked), as
 * khugepaged does with an mm whose lock it cannot get. Every VMA pointer
 * is stale afterwards either way.
 */
static void xhp_lock_cycle(struct xhp_scan_state *s)
{
	mmap_read_unlock(s->mm);
	cond_resched();
	s->relocked = true;
	s->progress_at_lock = s->progress;
	if (!mmap_read_trylock(s->mm))
		s->unlocked = true;
}

/*
 * Between two ranges, with nothing pending for the engine: give the CPU
 * away if needed (allowed under mmap_lock, a sleeping lock) and, after
 * XHP_SCAN_PER_LOCK of work or as soon as a writer waits, the lock too.
 * True if the lock was let go, so the caller must look its VMA up again
 * (or stop, if s->unlocked).
 */
static bool xhp_lock_break(struct xhp_scan_state *s)
{
	cond_resched();
	if (s->progress - s->progress_at_lock < XHP_SCAN_PER_LOCK &&
	    !mmap_lock_is_contended(s->mm))
		return false;
	xhp_lock_cycle(s);
	return true;
}

/*
 * The VMA that holds the whole PMD range at @addr and may get a THP, or
 * NULL. Called again whenever mmap_lock may have been let go.
 */
static struct vm_area_struct *xhp_range_vma(struct mm_struct *mm,
					    unsigned long addr)
{
	struct vm_area_struct *vma = find_vma(mm, addr);

	if (!vma || !IS_ALIGNED(addr, HPAGE_PMD_SIZE) ||
	    vma->vm_start > addr || addr + HPAGE_PMD_SIZE > vma->vm_end ||
	    !xhp_vma_eligible(vma))
		return NULL;
	return vma;
}

/* Collapse the pending batch; true if the engine dropped mmap_lock. */
static bool xhp_flush(struct xhp_scan_state *s, struct vm_area_struct *vma,
		      struct xhp_batch *b)
{
	bool dropped, alloc_failed;

	if (!b->nr)
		return false;
	xhp_scanner_at(XHP_AT_ENGINE);
	xhp_collapse_batch(s->mm, vma, b, &dropped, &alloc_failed);
	xhp_scanner_at(XHP_AT_WALK);
	b->nr = 0;
	if (alloc_failed)
		s->alloc_failed = true;
	return dropped;
}

/*
 * Judge the range at @addr, trace it and charge it to the round; a range
 * that fails is counted under its SCAN_* reason. True if it may collapse.
 */
static bool xhp_judge_range(struct xhp_scan_state *s,
			    struct vm_area_struct *vma, unsigned long addr)
{
	struct xhp_pmd_verdict v;

	xhp_drain_once();
	xhp_judge_pmd(s->mm, vma, addr, &v);
	s->progress += HPAGE_PMD_NR;
	xhp_view_judged();
	trace_xhp_scan_pmd(s->mm, addr, v.result, xhp_result_name(v.result),
			   v.none_or_zero, v.swap, v.shared, v.referenced,
			   v.writable);
	if (v.result == XHP_SCAN_SUCCEED)
		return true;
	xhp_result_count(v.result);
	return false;
}

static void xhp_skip_vma(struct xhp_scan_state *s, struct vm_area_struct *vma)
{
	/* An anon or shmem VMA big enough for a THP but not allowed one. */
	if ((vma_is_anonymous(vma) || xhp_vma_is_shmem(vma)) &&
	    ALIGN(vma->vm_start, HPAGE_PMD_SIZE) + HPAGE_PMD_SIZE <= vma->vm_end)
		xhp_result_count(XHP_SCAN_VMA_CHECK);
	s->progress++;
	s->address = ALIGN(vma->vm_end, HPAGE_PMD_SIZE);
}

/*
 * Scan one VMA from s->address. Returns false when mmap_lock was dropped
 * (by the engine or a lock break: the VMA must be looked up again) or the
 * round is over.
 *
 * s->address stays PMD-aligned, as khugepaged_scan_mm_slot() keeps its
 * own: past the VMA it is its end rounded up, which loses nothing (no
 * other VMA can hold a whole PMD range below that). The cursor keeps it
 * while mmap_lock is not held, and the VMA may have grown meanwhile.
 */
static bool xhp_scan_vma(struct xhp_scan_state *s, struct vm_area_struct *vma,
			 unsigned int budget)
{
	unsigned long hstart = max(ALIGN(vma->vm_start, HPAGE_PMD_SIZE),
				   ALIGN(s->address, HPAGE_PMD_SIZE));
	unsigned long hend = ALIGN_DOWN(vma->vm_end, HPAGE_PMD_SIZE);
	struct xhp_batch b = { .nr = 0 };
	unsigned long addr;

	if (hstart >= hend) {
		s->progress++;
		s->address = ALIGN(vma->vm_end, HPAGE_PMD_SIZE);
		return true;
	}
	for (addr = hstart; addr < hend; addr += HPAGE_PMD_SIZE) {
		if (s->progress >= budget || s->alloc_failed ||
		    xhp_should_stop())
			break;
		if (!b.nr && addr != hstart && xhp_lock_break(s))
			return false;
		if (xhp_backoff_active(s->mm, addr)) {
			s->progress++;
			s->address = addr + HPAGE_PMD_SIZE;
			if (xhp_flush(s, vma, &b))
				return false;
			continue;
		}
		if (!xhp_judge_range(s, vma, addr)) {
			s->address = addr + HPAGE_PMD_SIZE;
			if (xhp_flush(s, vma, &b))
				return false;
			continue;
		}
		b.start = b.nr ? b.start : addr;
		b.nr++;
		s->address = addr + HPAGE_PMD_SIZE;
		if (b.nr == XHP_BATCH_MAX && xhp_flush(s, vma, &b))
			return false;
	}
	if (xhp_flush(s, vma, &b))
		return false;
	if (addr >= hend) {
		s->address = ALIGN(vma->vm_end, HPAGE_PMD_SIZE);
		return true;
	}
	return false;
}

/* One mm, like khugepaged_scan_mm_slot(). Returns the budget used. */
static unsigned int xhp_scan_mm(unsigned int budget, bool *alloc_failed,
				bool *wrapped)
{
	struct xhp_scan_state s = { .progress = 0 };
	struct vm_area_struct *vma;
	bool mm_done = false, new_pass, from_start, eligible;

	*wrapped = false;
	s.mm = xhp_registry_cursor_get(XHP_CURSOR_FIFO, &s.address, &new_pass);
	if (!s.mm)
		return 1;
	s.address = ALIGN(s.address, HPAGE_PMD_SIZE);
	from_start = !s.address;

	if (!xhp_target_match(s.mm)) {
		xhp_target_skip(s.mm, true);
		*wrapped = xhp_registry_cursor_put(XHP_CURSOR_FIFO, s.mm, 0,
						   true);
		return 1;
	}
	if (!mmap_read_trylock(s.mm)) {
		/* Busy: come back to it next pass, as khugepaged does. */
		*wrapped = xhp_registry_cursor_put(XHP_CURSOR_FIFO, s.mm,
						   s.address, true);
		return 1;
	}
	xhp_view_visit_begin(s.mm, true, s.address);
	while (s.progress < budget && !s.alloc_failed &&
	       !xhp_should_stop()) {
		vma = find_vma(s.mm, s.address);
		if (!vma) {
			mm_done = true;
			break;
		}
		eligible = xhp_vma_eligible(vma);
		if (eligible || xhp_vma_flags_want_scan(s.mm, vma->vm_flags))
			s.wanted = true;
		if (!eligible) {
			xhp_skip_vma(&s, vma);
			xhp_lock_break(&s);
		} else if (xhp_scan_vma(&s, vma, budget)) {
			xhp_lock_break(&s);
		}
		/* Whatever happened, vma is not used again: looked up anew. */
		if (s.unlocked)
			break;
	}
	*alloc_failed = s.alloc_failed;
	/*
	 * A whole visit, under one hold of mmap_lock, found no VMA the
	 * queue rules allow: the mm leaves the queue until one does.
	 */
	if (!s.unlocked && !s.relocked && mm_done && from_start && !s.wanted) {
		*wrapped = xhp_registry_drop(XHP_CURSOR_FIFO, s.mm);
		mmap_read_unlock(s.mm);
		xhp_view_visit_end(mm_done);
		mmput_async(s.mm);
		return max(s.progress, 1U);
	}
	if (!s.unlocked)
		mmap_read_unlock(s.mm);
	xhp_view_visit_end(mm_done);

	*wrapped = xhp_registry_cursor_put(XHP_CURSOR_FIFO, s.mm, s.address,
					   mm_done);
	return max(s.progress, 1U);
}

/*
 * Judge, and collapse if it passes, each hot range of one mm. A range's
 * VMA is looked up after anything that may have let mmap_lock go (the
 * engine, a lock break), never carried across it.
 */
static void xhp_scan_hot_ranges(struct xhp_scan_state *s,
				const unsigned long *hot, unsigned int nr)
{
	struct vm_area_struct *vma, *bvma = NULL;
	struct xhp_batch b = { .nr = 0 };
	unsigned int i;

	for (i = 0; i < nr && !s->alloc_failed && !xhp_should_stop(); i++) {
		unsigned long addr = hot[i];

		if (!b.nr && i && xhp_lock_break(s) && s->unlocked)
			return;
		vma = xhp_range_vma(s->mm, addr);
		if (!vma || xhp_backoff_active(s->mm, addr))
			continue;
		/* Neighbours in one VMA go to the engine together. */
		if (b.nr && (bvma != vma || b.nr == XHP_BATCH_MAX ||
			     b.start + b.nr * HPAGE_PMD_SIZE != addr) &&
		    xhp_flush(s, bvma, &b)) {
			vma = xhp_range_vma(s->mm, addr);
			if (!vma)
				continue;
		}
		if (!xhp_judge_range(s, vma, addr))
			continue;
		if (!b.nr) {
			b.start = addr;
			bvma = vma;
		}
		b.nr++;
	}
	xhp_flush(s, bvma, &b);
}

#define XHP_HOT_MAX_PER_MM 64

/*
 * First hot visit of an mm: clear its PMD accessed bits, XHP_SCAN_PER_LOCK
 * entries per hold of mmap_lock (one PMD entry costs what one PTE does).
 * If the lock cannot be had back, the rest stays unprimed: it may read hot
 * once, which only costs a judgement.
 */
static void xhp_prime_mm(struct xhp_scan_state *s)
{
	unsigned long from = 0;

	for (;;) {
		s->progress += xhp_hot_prime(s->mm, from, &from);
		if (!from || xhp_should_stop())
			return;
		xhp_lock_cycle(s);
		if (s->unlocked)
			return;
	}
}

/*
 * scan_order=hot: spend up to @budget on ranges touched since the last
 * sweep, one mm after another from the hot cursor, so no mm's hot memory
 * waits behind another's cold memory. Returns the budget used.
 */
static unsigned int xhp_do_hot(unsigned int budget, bool *alloc_failed,
			       bool *primed)
{
	unsigned int visited, n = xhp_registry_count(), used = 0;
	unsigned long hot[XHP_HOT_MAX_PER_MM];

	for (visited = 0; visited < n && used + HPAGE_PMD_NR <= budget &&
	     !*alloc_failed && !xhp_should_stop(); visited++) {
		struct xhp_scan_state s = { .progress = 0 };
		unsigned long resume = 0;
		unsigned int nr, max;
		bool new_pass;

		s.mm = xhp_registry_cursor_get(XHP_CURSOR_HOT, &s.address,
					       &new_pass);
		if (!s.mm)
			break;
		if (!xhp_target_match(s.mm)) {
			xhp_target_skip(s.mm, false);
			xhp_registry_cursor_put(XHP_CURSOR_HOT, s.mm, 0, true);
			continue;
		}
		if (mmap_read_trylock(s.mm)) {
			xhp_view_visit_begin(s.mm, false, s.address);
			if (xhp_registry_cursor_first_visit(XHP_CURSOR_HOT,
							    s.mm)) {
				xhp_prime_mm(&s);
				*primed = true;
				resume = 0;
			} else {
				max = min_t(unsigned int,
					    (budget - used) / HPAGE_PMD_NR,
					    XHP_HOT_MAX_PER_MM);
				nr = xhp_hot_sweep(s.mm, s.address, hot, max,
						   &resume);
				xhp_scan_hot_ranges(&s, hot, nr);
			}
			if (!s.unlocked)
				mmap_read_unlock(s.mm);
			xhp_view_visit_end(false);
		}
		used += s.progress;
		*alloc_failed = s.alloc_failed;
		xhp_registry_cursor_put(XHP_CURSOR_HOT, s.mm, resume, !resume);
	}
	return used;
}

/*
 * The part of the FIFO scan's quarter that the hot pass borrowed and has
 * not paid back, in PTEs of budget; at most one round's budget.
 */
static unsigned int xhp_fifo_owed;

/*
 * scan_order=hot: a quarter of each round's budget is the FIFO scan's, so
 * cold memory progresses however much is hot; the hot pass gets the rest
 * and the FIFO scan whatever the hot pass leaves. Two exceptions keep hot
 * ranges from waiting behind cold ones:
 * - While the hot pass collapses and still finds more than its share holds,
 *   it borrows the FIFO quarter too, until one round's budget is owed; a
 *   round that leaves the FIFO scan more than its quarter pays back. Over
 *   any run of rounds the FIFO scan so gets its quarter, less at most one
 *   round's budget, and hot ranges that never collapse borrow nothing.
 *   That holds for pages_to_scan of at least 683 (4/3 of a PMD): below,
 *   the hot pass's one PMD leaves the FIFO scan less than its quarter, or
 *   nothing, whenever a range reads hot; the debt is then capped, not paid.
 * - A round that primed an mm (its first hot visit, which judges nothing)
 *   gives the FIFO scan only its quarter: the rest would go to collapsing
 *   cold ranges ahead of the hot ones the next round's sweep finds.
 * Returns the budget the FIFO scan may use.
 */
static unsigned int xhp_do_hot_share(unsigned int pages, bool *alloc_failed,
				     unsigned int *used)
{
	unsigned int fifo_share = pages / 4, budget, fifo;
	int collapsed = atomic_read(&xhp_stats.pages_collapsed);
	bool primed = false;

	budget = max(pages - fifo_share, HPAGE_PMD_NR);
	*used = xhp_do_hot(budget, alloc_failed, &primed);
	if (*used + HPAGE_PMD_NR > budget && *used < pages && !*alloc_failed &&
	    atomic_read(&xhp_stats.pages_collapsed) != collapsed &&
	    xhp_fifo_owed <= pages - fifo_share)
		*used += xhp_do_hot(pages - *used, alloc_failed, &primed);

	fifo = pages - min(*used, pages);
	if (primed)
		fifo = min(fifo, fifo_share);
	if (fifo < fifo_share)
		xhp_fifo_owed = min(xhp_fifo_owed + (fifo_share - fifo), pages);
	else
		xhp_fifo_owed -= min(xhp_fifo_owed, fifo - fifo_share);
	return fifo;
}

static void xhp_do_scan(void)
{
	unsigned int pages = READ_ONCE(xhp_knobs.pages_to_scan);
	unsigned int progress = 0, wraps = 0, end = pages;
	bool alloc_failed = false, wrapped, waited = false;

	xhp_round_drained = false;
	xhp_scanner_at(XHP_AT_WALK);

	if (READ_ONCE(xhp_knobs.scan_order) == XHP_ORDER_HOT)
		end = xhp_do_hot_share(pages, &alloc_failed, &progress);
	else
		xhp_fifo_owed = 0;
	end += progress;	/* the FIFO scan's budget ends here */
	if (alloc_failed) {
		waited = true;
		xhp_sleep(READ_ONCE(xhp_knobs.alloc_sleep_millisecs));
	}

	while (progress < end) {
		cond_resched();
		if (xhp_should_stop() || !xhp_scan_wanted() ||
		    xhp_registry_empty())
			break;
		progress += xhp_scan_mm(end - progress, &alloc_failed,
					&wrapped);
		if (wrapped) {
			atomic_inc(&xhp_stats.full_scans);
			/* At most one full pass and a bit per round. */
			if (++wraps >= 2)
				break;
		}
		if (alloc_failed) {
			if (waited)
				break;
			waited = true;
			xhp_sleep(READ_ONCE(xhp_knobs.alloc_sleep_millisecs));
		}
	}
}

static int xhp_thread_fn(void *unused)
{
	set_freezable();
	set_user_nice(current, MAX_NICE);

	while (!xhp_should_stop()) {
		if (!xhp_scan_wanted()) {
			wait_event_freezable(xhp_wait, xhp_should_stop() ||
					     xhp_scan_wanted());
			continue;
		}
		xhp_do_scan();
		xhp_scanner_at(XHP_AT_SLEEP);
		xhp_sleep(READ_ONCE(xhp_knobs.scan_sleep_millisecs));
	}
	WRITE_ONCE(xhp_stopped_ns, ktime_get_ns());
	/* kthread_stop() needs the task until it is called. */
	wait_event_freezable(xhp_wait, kthread_should_stop());
	return 0;
}

/*
 * The thread is created with a reference of our own on its task_struct,
 * dropped only after kthread_stop(): had the thread died (an oops in the
 * collapse engine kills it), kthread_stop() would otherwise touch a freed
 * task. It never returns on its own before kthread_stop() either.
 */
int xhp_scanner_start(void)
{
	struct task_struct *t;

	t = kthread_create(xhp_thread_fn, NULL, XHP_NAME);
	if (IS_ERR(t))
		return PTR_ERR(t);
	get_task_struct(t);
	WRITE_ONCE(xhp_thread, t);
	wake_up_process(t);
	return 0;
}

/*
 * Tell the scanner to stop at its next check and return at once, so that it
 * winds down (finishing at most the collapse it is in) while rmmod removes
 * the hooks; xhp_scanner_stop() then joins it.
 */
void xhp_scanner_request_stop(void)
{
	if (!xhp_thread)
		return;
	/*
	 * At MAX_NICE a busy machine can starve the thread for seconds before
	 * it reaches its next stop check; rmmod must not wait on that.
	 */
	set_user_nice(xhp_thread, 0);
	xhp_stop_requested_ns = ktime_get_ns();
	xhp_at_stop_request = READ_ONCE(xhp_at);
	WRITE_ONCE(xhp_stopping, true);
	wake_up_interruptible(&xhp_wait);
}

/* Join the scanner; returns how long it took to stop after the request. */
u64 xhp_scanner_stop(void)
{
	u64 stopped;

	if (!xhp_thread)
		return 0;
	if (!READ_ONCE(xhp_stopping))
		xhp_scanner_request_stop();
	kthread_stop(xhp_thread);
	put_task_struct(xhp_thread);
	WRITE_ONCE(xhp_thread, NULL);
	stopped = READ_ONCE(xhp_stopped_ns) ?: ktime_get_ns();
	return stopped - xhp_stop_requested_ns;
}

/* Where the scanner was when asked to stop, for the unload message. */
const char *xhp_scanner_stop_point(void)
{
	return xhp_at_names[xhp_at_stop_request];
}
