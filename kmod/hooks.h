/* SPDX-License-Identifier: GPL-2.0 */
/* Handlers installed by the probe table in probes.c. */
#ifndef _XHP_HOOKS_H
#define _XHP_HOOKS_H

#include <linux/kprobes.h>
#include <linux/sched.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/swap.h>
#include <linux/swapops.h>

#include "compat.h"

/*
 * Does this call of XHP_SPLIT_PMD_SYMBOL (compat.h) split anything? It is
 * also called for PMDs that are no longer huge (split_huge_pmd_address(),
 * the path of a VMA boundary, calls it for any PMD with a table there; so
 * does 6.12's __split_huge_pmd()), and for PMDs that map another folio
 * than the one the caller wants split; the kernel leaves those alone, by
 * this same test. Shared by the hooks there (backoff.c, events.c).
 *
 * NMI-safe: one read of the PMD, no lock. On 6.12 the function runs under
 * the PMD lock, so the entry is what the kernel tests. On 6.1 the entry is
 * before pmd_lock(), so the PMD may change before the kernel looks: two
 * threads splitting one huge PMD at once (MADV_DONTNEED of parts of it
 * holds mmap_lock only for read) both read it huge and are both counted,
 * though the kernel splits once; a PMD turning huge after this read (a
 * huge fault into an empty one) would be a split missed. Either is one
 * backoff or one event more or less, which the lossy backoff table allows
 * anyway. The read itself is safe: the caller holds what keeps the page
 * table (mmap_lock or the rmap lock), and pmd_folio() of a stale entry
 * only reads a struct page, which is always mapped.
 */
static inline bool xhp_split_pmd_splits(struct pt_regs *regs)
{
	struct folio *folio = xhp_split_pmd_folio(regs);
	pmd_t pmd = xhp_pmdp_get(xhp_split_pmd_pmdp(regs));
	bool migration = is_pmd_migration_entry(pmd);

	if (!pmd_trans_huge(pmd) && !pmd_devmap(pmd) && !migration)
		return false;
	/* Do not apply pmd_folio() to a migration entry, as the kernel. */
	return !folio || (!migration && folio == xhp_pmd_folio(pmd));
}

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

/*
 * events.c: the kernel's own split and collapse paths. Each event has an
 * entry handler (nonzero: not this call, no return handler) and a return
 * handler, installed by probes.c as kretprobes or as members of one fprobe;
 * they use only ri->data, this call's struct xhp_event_call.
 */
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
