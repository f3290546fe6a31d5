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
int xhp_hook_scan_pmd_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
int xhp_hook_scan_pmd_ret(struct kretprobe_instance *ri, struct pt_regs *regs);
struct xhp_scan_pmd_data {
	unsigned long address;
};

#endif /* _XHP_HOOKS_H */
