// SPDX-License-Identifier: GPL-2.0
/*
 * Why is this split happening, and who asked for this collapse? Answered
 * from current alone, so it is cheap and needs no extra hooks: the syscall
 * a user task is in (and madvise()'s advice), a page fault (no syscall),
 * the reclaim and compaction threads' flags, and a mark that the deferred
 * split shrinker is running in this task.
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/compat.h>
#include <linux/mman.h>
#include <linux/atomic.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

#include "xhugepaged.h"
#include "events.h"

static const char * const xhp_cause_names[XHP_NR_CAUSES] = {
	[XHP_CAUSE_MPROTECT]	= "mprotect",
	[XHP_CAUSE_MUNMAP]	= "munmap",
	[XHP_CAUSE_MREMAP]	= "mremap",
	[XHP_CAUSE_DONTNEED]	= "dontneed",
	[XHP_CAUSE_MADVISE]	= "madvise",
	[XHP_CAUSE_COW]		= "cow",
	[XHP_CAUSE_FORK]	= "fork",
	[XHP_CAUSE_EXIT]	= "exit",
	[XHP_CAUSE_RECLAIM]	= "reclaim",
	[XHP_CAUSE_MIGRATION]	= "migration",
	[XHP_CAUSE_SHRINKER]	= "shrinker",
	[XHP_CAUSE_OTHER]	= "other",
};

static const char * const xhp_initiator_names[XHP_NR_INITIATORS] = {
	[XHP_BY_KHUGEPAGED]	= "khugepaged",
	[XHP_BY_XHUGEPAGED]	= "xhugepaged",
	[XHP_BY_MADVISE]	= "madvise",
	[XHP_BY_OTHER]		= "other",
};

const char *xhp_cause_name(unsigned int cause)
{
	return cause < XHP_NR_CAUSES ? xhp_cause_names[cause] : "other";
}

const char *xhp_initiator_name(unsigned int initiator)
{
	return initiator < XHP_NR_INITIATORS ? xhp_initiator_names[initiator] :
					       "other";
}

/*
 * Tasks inside deferred_split_scan(). It can sleep (anon_vma lock) and
 * move CPUs, so the mark is per task; a few slots are plenty, since
 * shrinkers run from kswapd and the few tasks in direct reclaim.
 */
#define XHP_SHRINKER_SLOTS 16
static struct task_struct *xhp_shrinking[XHP_SHRINKER_SLOTS];
static atomic_t xhp_nr_shrinking = ATOMIC_INIT(0);

int xhp_shrinker_mark(void)
{
	int i;

	for (i = 0; i < XHP_SHRINKER_SLOTS; i++) {
		if (!cmpxchg(&xhp_shrinking[i], NULL, current)) {
			atomic_inc(&xhp_nr_shrinking);
			return i;
		}
	}
	return -1;	/* full: its splits will read as reclaim */
}

void xhp_shrinker_unmark(int slot)
{
	if (slot < 0 || slot >= XHP_SHRINKER_SLOTS)
		return;
	WRITE_ONCE(xhp_shrinking[slot], NULL);
	atomic_dec(&xhp_nr_shrinking);
}

/* Hooks are off: return handlers that would unmark will never run. */
void xhp_shrinker_unmark_all(void)
{
	int i;

	for (i = 0; i < XHP_SHRINKER_SLOTS; i++)
		WRITE_ONCE(xhp_shrinking[i], NULL);
	atomic_set(&xhp_nr_shrinking, 0);
}

static bool xhp_in_shrinker(void)
{
	int i;

	if (!atomic_read(&xhp_nr_shrinking))
		return false;
	for (i = 0; i < XHP_SHRINKER_SLOTS; i++)
		if (READ_ONCE(xhp_shrinking[i]) == current)
			return true;
	return false;
}

static enum xhp_cause xhp_madvise_cause(unsigned long advice)
{
	switch (advice) {
	case MADV_DONTNEED:
	case MADV_DONTNEED_LOCKED:
		return XHP_CAUSE_DONTNEED;
	case MADV_PAGEOUT:
		return XHP_CAUSE_RECLAIM;
	default:
		return XHP_CAUSE_MADVISE;
	}
}

/*
 * x86-64 syscall entry sets ax to -ENOSYS until the syscall returns; an
 * exception from user mode (a page fault) keeps the user's ax there and
 * puts its error code, not a syscall number, in orig_ax.
 */
static bool xhp_in_syscall(struct pt_regs *regs)
{
	return regs->ax == (unsigned long)-ENOSYS && (long)regs->orig_ax >= 0;
}

/* A user task: the syscall it is in says what it asked for. */
static enum xhp_cause xhp_syscall_cause(void)
{
	struct pt_regs *regs = task_pt_regs(current);
	unsigned long args[6];

	/* Not in a syscall: a fault from user mode, and it split a THP. */
	if (!xhp_in_syscall(regs))
		return XHP_CAUSE_COW;
	if (in_compat_syscall())
		return XHP_CAUSE_OTHER;
	switch (syscall_get_nr(current, regs)) {
	case __NR_mprotect:
	case __NR_pkey_mprotect:
		return XHP_CAUSE_MPROTECT;
	case __NR_munmap:
	case __NR_brk:
	case __NR_mmap:		/* MAP_FIXED over part of a THP */
		return XHP_CAUSE_MUNMAP;
	case __NR_mremap:
		return XHP_CAUSE_MREMAP;
	case __NR_madvise:
		syscall_get_arguments(current, regs, args);
		return xhp_madvise_cause(args[2]);
	case __NR_process_madvise:
		syscall_get_arguments(current, regs, args);
		return xhp_madvise_cause(args[3]);
	case __NR_mbind:
	case __NR_migrate_pages:
	case __NR_move_pages:
		return XHP_CAUSE_MIGRATION;
	case __NR_fork:
	case __NR_vfork:
	case __NR_clone:
	case __NR_clone3:
		return XHP_CAUSE_FORK;
	case __NR_exit:
	case __NR_exit_group:
		return XHP_CAUSE_EXIT;
	default:
		return XHP_CAUSE_OTHER;
	}
}

enum xhp_cause xhp_current_cause(void)
{
	unsigned int flags = current->flags;

	/* Most specific first: the shrinker runs inside reclaim. */
	if (xhp_in_shrinker())
		return XHP_CAUSE_SHRINKER;
	if (flags & (PF_KSWAPD | PF_MEMALLOC))
		return XHP_CAUSE_RECLAIM;
	if (xhp_current_is_kcompactd())
		return XHP_CAUSE_MIGRATION;
	if (flags & PF_EXITING)
		return XHP_CAUSE_EXIT;
	if (flags & (PF_KTHREAD | PF_IO_WORKER))
		return XHP_CAUSE_OTHER;
	return xhp_syscall_cause();
}

static bool xhp_is_khugepaged(void)
{
	return (current->flags & PF_KTHREAD) &&
	       !strcmp(current->comm, "khugepaged");
}

enum xhp_initiator xhp_current_initiator(void)
{
	if (xhp_is_scanner())
		return XHP_BY_XHUGEPAGED;
	if (xhp_is_khugepaged())
		return XHP_BY_KHUGEPAGED;
	if (!(current->flags & PF_KTHREAD))
		return XHP_BY_MADVISE;	/* only MADV_COLLAPSE collapses for a user */
	return XHP_BY_OTHER;
}
