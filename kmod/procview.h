/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-process view (procview.c) and scan targeting (target.c):
 * counters kept in each mm slot by the scanner as it works, read without
 * walking any page table. Documentation/procview.rst.
 */
#ifndef _XHP_PROCVIEW_H
#define _XHP_PROCVIEW_H

#include <linux/types.h>
#include <linux/sched.h>
#include <linux/rcupdate.h>

#include "xhugepaged.h"

/*
 * The task that owns @mm, under rcu_read_lock(); NULL without
 * CONFIG_MEMCG (mm->owner exists only there) or once the last user left.
 */
static inline struct task_struct *xhp_mm_owner(struct mm_struct *mm)
{
#ifdef CONFIG_MEMCG
	return rcu_dereference(mm->owner);
#else
	return NULL;
#endif
}

/* What one scanner visit of one mm saw; only the scanner thread has one. */
struct xhp_view_visit {
	struct mm_struct *mm;
	bool fifo;		/* the FIFO cursor: part of a full pass */
	bool pass_start;	/* it began at address 0 */
	bool pass_done;		/* it reached the end of the address space */
	bool target_skipped;	/* passed over: outside the target */
	pid_t pid;
	char comm[TASK_COMM_LEN];
	unsigned int judged;
	unsigned int results[XHP_SCAN_NR_RESULTS];
	/* The view after the visit, for the tracepoint. */
	unsigned int pmd_mapped_now, passes, target_skips;
};

/* procview.c */
void xhp_view_init(struct xhp_mm_view *view, struct mm_struct *mm);
void xhp_view_visit_begin(struct mm_struct *mm, bool fifo,
			  unsigned long address);
void xhp_view_judged(void);
void xhp_view_result(unsigned int result);
void xhp_view_visit_end(bool pass_done);
/* Under the registry lock (xhp_registry_fold_view/copy_views). */
void xhp_view_fold(struct xhp_mm_slot *slot, struct xhp_view_visit *v);
void xhp_view_copy(struct xhp_mm_slot *slot, struct xhp_view_snap *s);
void xhp_view_skipped(struct mm_struct *mm, bool fifo);
int xhp_view_debugfs_init(void);
void xhp_view_debugfs_exit(void);

/* target.c */
struct cgroup;
void xhp_cgroup_put(struct cgroup *cgrp);
bool xhp_target_match(struct mm_struct *mm);
/* The scanner passes over @mm: count it, here and in its view. */
void xhp_target_skip(struct mm_struct *mm, bool fifo);
long xhp_target_skipped(void);
extern const struct attribute_group xhp_target_group;
void xhp_target_exit(void);

#endif /* _XHP_PROCVIEW_H */
