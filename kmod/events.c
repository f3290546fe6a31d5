// SPDX-License-Identifier: GPL-2.0
/*
 * Probe handlers on the kernel's THP split and collapse paths (6.12): each
 * counts its event with its latency and cause or initiator, and emits
 * xhp_split or xhp_collapse_begin/end for what the kernel does on its own.
 * Installed, all optional, by the table in probes.c; x86-64 arguments are
 * in regs->di, si, dx, cx, r8.
 *
 * The entry handlers run before the function, the return handlers after,
 * both in atomic context: nothing here sleeps or takes a lock.
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/shrinker.h>
#include <linux/sched.h>

#include "xhugepaged.h"
#include "events.h"
#include "hooks.h"
#include "trace.h"

static struct xhp_event_call *xhp_call(struct kretprobe_instance *ri)
{
	return (struct xhp_event_call *)ri->data;
}

static u64 xhp_elapsed(struct xhp_event_call *c)
{
	return ktime_get_ns() - c->t0;
}

/* The user process a split or collapse happened on behalf of, or 0. */
static pid_t xhp_current_tgid(void)
{
	return current->flags & PF_KTHREAD ? 0 : current->tgid;
}

/*
 * XHP_SPLIT_PMD_SYMBOL (compat.h): every PMD split goes through it, but it
 * is also called for PMDs it leaves alone (xhp_split_pmd_splits()), and so
 * do we.
 */
int xhp_hook_split_pmd_entry(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	struct vm_area_struct *vma = (void *)regs->di;
	struct xhp_event_call *c = xhp_call(ri);

	if (!xhp_split_pmd_splits(regs))
		return 1;
	c->mm = vma->vm_mm;
	c->address = xhp_split_pmd_address(regs) & HPAGE_PMD_MASK;
	c->class = xhp_current_cause();
	c->t0 = ktime_get_ns();
	return 0;
}

int xhp_hook_split_pmd_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct xhp_event_call *c = xhp_call(ri);

	xhp_event_hit(XHP_EV_SPLIT_PMD, c->class, xhp_elapsed(c));
	trace_xhp_split("pmd", xhp_cause_name(c->class), xhp_mm_tgid(c->mm),
			c->address);
	return 0;
}

/* XHP_SPLIT_FOLIO_SYMBOL(page, list[, new_order]) -> 0 or errno */
int xhp_hook_split_folio_entry(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	struct xhp_event_call *c = xhp_call(ri);

	c->class = xhp_current_cause();
	c->t0 = ktime_get_ns();
	return 0;
}

int xhp_hook_split_folio_ret(struct kretprobe_instance *ri,
			     struct pt_regs *regs)
{
	struct xhp_event_call *c = xhp_call(ri);

	xhp_event_hit(XHP_EV_SPLIT_FOLIO, c->class, xhp_elapsed(c));
	if (regs_return_value(regs)) {
		xhp_event_add_extra(XHP_EV_SPLIT_FOLIO, 1);	/* failed */
		return 0;
	}
	/* A folio has no one address; it may be mapped in many processes. */
	trace_xhp_split("folio", xhp_cause_name(c->class), xhp_current_tgid(),
			0);
	return 0;
}

/* deferred_split_scan(shrink, sc) -> folios split, or SHRINK_STOP */
int xhp_hook_deferred_scan_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct xhp_event_call *c = xhp_call(ri);

	c->slot = xhp_shrinker_mark();
	c->t0 = ktime_get_ns();
	return 0;
}

int xhp_hook_deferred_scan_ret(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	struct xhp_event_call *c = xhp_call(ri);
	unsigned long split = regs_return_value(regs);

	xhp_shrinker_unmark(c->slot);
	xhp_event_hit(XHP_EV_DEFERRED_SPLIT_SCAN, -1, xhp_elapsed(c));
	if (split != SHRINK_STOP)
		xhp_event_add_extra(XHP_EV_DEFERRED_SPLIT_SCAN, split);
	return 0;
}

/*
 * collapse_huge_page(mm, address, referenced, unmapped, cc) -> SCAN_*: the
 * anon engine under khugepaged and MADV_COLLAPSE alike. Only khugepaged's
 * calls are traced here; the other two trace their whole request. The
 * entry serves collapse_file(mm, addr, ...) too: the same first two
 * arguments.
 */
int xhp_hook_collapse_entry(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	struct xhp_event_call *c = xhp_call(ri);

	c->mm = (void *)regs->di;
	c->address = regs->si;
	c->class = xhp_current_initiator();
	if (c->class == XHP_BY_KHUGEPAGED)
		trace_xhp_collapse_begin(c->mm, c->address, 1, "khugepaged");
	c->t0 = ktime_get_ns();
	return 0;
}

/* One engine call ended with @result, @collapsed or not: count and trace. */
static void xhp_collapse_done(struct xhp_event_call *c, enum xhp_event ev,
			      int result, bool collapsed)
{
	u64 ns = xhp_elapsed(c);

	xhp_event_hit(ev, c->class, ns);
	if (!collapsed)
		xhp_event_add_extra(ev, 1);	/* failed */
	if (c->class == XHP_BY_KHUGEPAGED)
		trace_xhp_collapse_end(c->mm, c->address, 1, "khugepaged", ns,
				       result, collapsed);
}

int xhp_hook_collapse_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	int result = regs_return_value(regs);

	xhp_collapse_done(xhp_call(ri), XHP_EV_COLLAPSE_HUGE_PAGE, result,
			  result == XHP_SCAN_SUCCEED);
	return 0;
}

/*
 * collapse_file(mm, addr, file, start, cc) -> SCAN_*: the shmem engine (on
 * these kernels, without READ_ONLY_THP_FOR_FS, only shmem and tmpfs come
 * here), one PMD range of the page cache, under khugepaged and
 * MADV_COLLAPSE alike; counted and traced as collapse_huge_page() is.
 * Success means the range is one huge folio in the page cache: SCAN_SUCCEED,
 * or SCAN_PTE_MAPPED_HUGEPAGE, which it returns instead when the caller is
 * to map the folio by PMD next (MADV_COLLAPSE; on 6.1 also khugepaged when
 * it could not retract the page table itself) or found one already there.
 */
static bool xhp_file_collapsed(int result)
{
	return result == XHP_SCAN_SUCCEED ||
	       result == XHP_SCAN_PTE_MAPPED_HUGEPAGE;
}

int xhp_hook_collapse_file_ret(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	int result = regs_return_value(regs);

	xhp_collapse_done(xhp_call(ri), XHP_EV_COLLAPSE_FILE, result,
			  xhp_file_collapsed(result));
	return 0;
}

/* PMD ranges wholly inside [start, end), as madvise_collapse() walks them. */
static unsigned int xhp_pmds_in(unsigned long start, unsigned long end)
{
	unsigned long hstart = ALIGN(start, HPAGE_PMD_SIZE);
	unsigned long hend = ALIGN_DOWN(end, HPAGE_PMD_SIZE);

	return hend > hstart ? (hend - hstart) >> HPAGE_PMD_SHIFT : 0;
}

/*
 * madvise_collapse(vma, prev, start, end) -> 0 or errno. Our scanner's
 * calls are counted but traced by collapse.c, which knows their outcome.
 */
int xhp_hook_madvise_collapse_entry(struct kretprobe_instance *ri,
				    struct pt_regs *regs)
{
	struct vm_area_struct *vma = (void *)regs->di;
	struct xhp_event_call *c = xhp_call(ri);

	c->mm = vma->vm_mm;
	c->address = regs->dx;
	c->nr = xhp_pmds_in(regs->dx, regs->cx);
	c->class = xhp_current_initiator();
	if (c->class != XHP_BY_XHUGEPAGED)
		trace_xhp_collapse_begin(c->mm, c->address, c->nr,
					 xhp_initiator_name(c->class));
	c->t0 = ktime_get_ns();
	return 0;
}

int xhp_hook_madvise_collapse_ret(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	struct xhp_event_call *c = xhp_call(ri);
	int ret = regs_return_value(regs);
	u64 ns = xhp_elapsed(c);

	xhp_event_hit(XHP_EV_MADVISE_COLLAPSE, c->class, ns);
	if (ret)
		xhp_event_add_extra(XHP_EV_MADVISE_COLLAPSE, 1);	/* failed */
	/* Success means every PMD in the range is huge now. */
	if (c->class != XHP_BY_XHUGEPAGED)
		trace_xhp_collapse_end(c->mm, c->address, c->nr,
				       xhp_initiator_name(c->class), ns, ret,
				       ret ? 0 : c->nr);
	return 0;
}

/* Entry handler for events that only need the start time. */
int xhp_hook_timed_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	xhp_call(ri)->t0 = ktime_get_ns();
	return 0;
}

/* do_huge_pmd_anonymous_page(vmf) -> vm_fault_t */
int xhp_hook_huge_fault_ret(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	vm_fault_t ret = (__force vm_fault_t)regs_return_value(regs);

	xhp_event_hit(XHP_EV_HUGE_FAULT, -1, xhp_elapsed(xhp_call(ri)));
	if (ret & VM_FAULT_FALLBACK)
		xhp_event_add_extra(XHP_EV_HUGE_FAULT, 1);	/* fallback */
	return 0;
}

/* zap_huge_pmd(tlb, vma, pmd, addr) -> 1 if it zapped a huge PMD */
int xhp_hook_zap_pmd_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (!regs_return_value(regs))
		return 0;
	xhp_event_hit(XHP_EV_ZAP_PMD, xhp_current_cause(),
		      xhp_elapsed(xhp_call(ri)));
	return 0;
}
