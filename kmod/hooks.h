/* SPDX-License-Identifier: GPL-2.0 */
/* Handlers installed by the probe table in probes.c. */
#ifndef _XHP_HOOKS_H
#define _XHP_HOOKS_H

#include <linux/kprobes.h>
#include <linux/sched.h>

/* registry.c: learning of mms */
int xhp_hook_enter_vma(struct kprobe *kp, struct pt_regs *regs);
int xhp_hook_exit_mmap(struct kprobe *kp, struct pt_regs *regs);
void xhp_hook_fork(void *data, struct task_struct *parent,
		   struct task_struct *child);

/* backoff.c: splits of ranges xhugepaged collapsed */
int xhp_hook_split_pmd(struct kprobe *kp, struct pt_regs *regs);

/* collapse.c: the engine's per-PMD result, for our own calls */
void xhp_hook_scan_pmd_result(void *data, struct mm_struct *mm,
			      struct page *page, bool writable, int referenced,
			      int none_or_zero, int status, int unmapped);
void xhp_hook_scan_file_result(void *data, struct mm_struct *mm,
			       unsigned long pfn, struct file *file,
			       int present, int swap, int result);

/* events.c: the kernel's own split and collapse paths, all kretprobes */
struct xhp_event_call {
	u64 t0;				/* entry time, ktime_get_ns() */
	struct mm_struct *mm;
	unsigned long address;
	unsigned int nr;		/* PMD ranges in a collapse request */
	int class;			/* enum xhp_cause or xhp_initiator */
	int slot;			/* shrinker mark */
};
int xhp_hook_timed_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
int xhp_hook_split_pmd_entry(struct kretprobe_instance *ri,
			     struct pt_regs *regs);
int xhp_hook_split_pmd_ret(struct kretprobe_instance *ri, struct pt_regs *regs);
int xhp_hook_split_folio_entry(struct kretprobe_instance *ri,
			       struct pt_regs *regs);
int xhp_hook_split_folio_ret(struct kretprobe_instance *ri,
			     struct pt_regs *regs);
int xhp_hook_deferred_scan_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs);
int xhp_hook_deferred_scan_ret(struct kretprobe_instance *ri,
			       struct pt_regs *regs);
int xhp_hook_collapse_entry(struct kretprobe_instance *ri,
			    struct pt_regs *regs);
int xhp_hook_collapse_ret(struct kretprobe_instance *ri, struct pt_regs *regs);
int xhp_hook_collapse_file_ret(struct kretprobe_instance *ri,
			       struct pt_regs *regs);
int xhp_hook_madvise_collapse_entry(struct kretprobe_instance *ri,
				    struct pt_regs *regs);
int xhp_hook_madvise_collapse_ret(struct kretprobe_instance *ri,
				  struct pt_regs *regs);
int xhp_hook_huge_fault_ret(struct kretprobe_instance *ri,
			    struct pt_regs *regs);
int xhp_hook_zap_pmd_ret(struct kretprobe_instance *ri, struct pt_regs *regs);

#endif /* _XHP_HOOKS_H */
