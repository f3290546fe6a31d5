// SPDX-License-Identifier: GPL-2.0
/*
 * The mm registry: xhugepaged's own mm slots (hash for lookup, list for scan
 * order), like khugepaged's. It learns of mms from three places, none of
 * which depend on the native THP "enabled" setting:
 *   - the processes alive at load (a walk of the task list),
 *   - khugepaged_enter_vma(), which the kernel calls on every mmap, brk,
 *     MADV_HUGEPAGE and huge fault, before deciding whether khugepaged cares,
 *   - the sched_process_fork tracepoint, for children of queued processes.
 * A slot holds mmgrab() only (the mm_struct, never the address space); the
 * exit_mmap() hook drops it as the address space is torn down, and the
 * scanner drops any it finds with no users left.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/hashtable.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/spinlock.h>

#include "xhugepaged.h"
#include "hooks.h"
#include "trace.h"
#include "procview.h"

#define XHP_MM_HASH_BITS 10

static DEFINE_SPINLOCK(xhp_reg_lock);
static DEFINE_HASHTABLE(xhp_mm_hash, XHP_MM_HASH_BITS);
static LIST_HEAD(xhp_mm_list);
/* One cursor per scan order; slot NULL: the next pick starts a pass. */
static struct xhp_mm_slot *xhp_cursor[XHP_NR_CURSORS];
static unsigned int xhp_nr_slots;
static atomic_t xhp_reg_alloc_fail = ATOMIC_INIT(0);

static struct xhp_mm_slot *xhp_lookup(struct mm_struct *mm)
{
	struct xhp_mm_slot *slot;

	hash_for_each_possible(xhp_mm_hash, slot, hash, (unsigned long)mm)
		if (slot->mm == mm)
			return slot;
	return NULL;
}

/* Unlink @slot, moving the cursor past it. Caller holds xhp_reg_lock. */
static struct xhp_mm_slot *xhp_next_slot(struct xhp_mm_slot *slot)
{
	return list_is_last(&slot->node, &xhp_mm_list) ? NULL :
	       list_next_entry(slot, node);
}

static void xhp_unlink(struct xhp_mm_slot *slot)
{
	int c;

	for (c = 0; c < XHP_NR_CURSORS; c++)
		if (xhp_cursor[c] == slot)
			xhp_cursor[c] = xhp_next_slot(slot);
	hash_del(&slot->hash);
	list_del(&slot->node);
	xhp_nr_slots--;
}

/* May run in atomic context (probe handlers): never sleeps. */
static void xhp_registry_add(struct mm_struct *mm)
{
	struct xhp_mm_slot *slot;
	bool known;

	spin_lock(&xhp_reg_lock);
	known = xhp_lookup(mm);
	spin_unlock(&xhp_reg_lock);
	if (known)
		return;

	slot = kmalloc(sizeof(*slot), GFP_ATOMIC | __GFP_NOWARN);
	if (!slot) {
		atomic_inc(&xhp_reg_alloc_fail);
		return;
	}
	slot->mm = mm;
	memset(slot->address, 0, sizeof(slot->address));
	slot->visited = 0;
	xhp_view_init(&slot->view, mm);

	spin_lock(&xhp_reg_lock);
	if (xhp_lookup(mm)) {
		spin_unlock(&xhp_reg_lock);
		kfree(slot);
		return;
	}
	mmgrab(mm);
	hash_add(xhp_mm_hash, &slot->hash, (unsigned long)mm);
	/* Behind the cursor, so a new area settles before it is scanned. */
	list_add_tail(&slot->node, &xhp_mm_list);
	xhp_nr_slots++;
	spin_unlock(&xhp_reg_lock);
	trace_xhp_mm_enter(mm);
}

/* Hook on khugepaged_enter_vma(vma, vm_flags). */
int xhp_hook_enter_vma(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_area_struct *vma = (void *)regs->di;

	if (vma && vma->vm_mm)
		xhp_registry_add(vma->vm_mm);
	return 0;
}

/*
 * Hook on exit_mmap(mm): mm_users is zero and the address space is going.
 * Our mmgrab() cannot be the last reference (__mmput() holds one), so
 * mmdrop() here never frees.
 */
int xhp_hook_exit_mmap(struct kprobe *kp, struct pt_regs *regs)
{
	struct mm_struct *mm = (void *)regs->di;
	struct xhp_mm_slot *slot;

	spin_lock(&xhp_reg_lock);
	slot = xhp_lookup(mm);
	if (slot)
		xhp_unlink(slot);
	spin_unlock(&xhp_reg_lock);
	if (!slot)
		return 0;
	trace_xhp_mm_leave(mm);
	kfree(slot);
	mmdrop(mm);
	return 0;
}

/* sched_process_fork tracepoint: a child with its own mm. */
void xhp_hook_fork(void *data, struct task_struct *parent,
		   struct task_struct *child)
{
	struct mm_struct *mm = READ_ONCE(child->mm);

	if (mm && mm != READ_ONCE(parent->mm) && !(child->flags & PF_KTHREAD))
		xhp_registry_add(mm);
}

void xhp_registry_add_existing(void)
{
	struct task_struct *p;

	rcu_read_lock();
	for_each_process(p) {
		if (p->flags & PF_KTHREAD)
			continue;
		task_lock(p);
		if (p->mm)
			xhp_registry_add(p->mm);
		task_unlock(p);
	}
	rcu_read_unlock();
}

struct mm_struct *xhp_registry_cursor_get(int c, unsigned long *address,
					  bool *new_pass)
{
	struct xhp_mm_slot *slot, *dead = NULL;
	struct mm_struct *mm = NULL;

	*new_pass = false;
	spin_lock(&xhp_reg_lock);
	if (list_empty(&xhp_mm_list))
		goto out;
	if (!xhp_cursor[c]) {
		xhp_cursor[c] = list_first_entry(&xhp_mm_list,
						 struct xhp_mm_slot, node);
		*new_pass = true;
	}
	slot = xhp_cursor[c];
	if (mmget_not_zero(slot->mm)) {
		mm = slot->mm;
		*address = slot->address[c];
	} else {
		/* Exiting and the exit hook missed it: reap it here. */
		xhp_unlink(slot);
		dead = slot;
	}
out:
	spin_unlock(&xhp_reg_lock);
	if (dead) {
		trace_xhp_mm_leave(dead->mm);
		mmdrop(dead->mm);
		kfree(dead);
	}
	return mm;
}

/*
 * The scanner is done with @mm for now: remember where cursor @c stopped
 * or, when @mm_done, move it to the next mm. Drops the mm_users reference
 * cursor_get() took. Returns true when that wrapped the list.
 */
bool xhp_registry_cursor_put(int c, struct mm_struct *mm,
			     unsigned long address, bool mm_done)
{
	struct xhp_mm_slot *slot;
	bool wrapped = false;

	spin_lock(&xhp_reg_lock);
	slot = xhp_cursor[c];
	if (slot && slot->mm == mm) {
		slot->address[c] = mm_done ? 0 : address;
		if (mm_done) {
			xhp_cursor[c] = xhp_next_slot(slot);
			wrapped = !xhp_cursor[c];
		}
	}
	spin_unlock(&xhp_reg_lock);
	/*
	 * If the process exited meanwhile, ours is the last mm_users and the
	 * put tears the whole address space down: leave that to a worker, so
	 * the scanner (and an rmmod waiting on it) never pays for it.
	 */
	mmput_async(mm);
	return wrapped;
}

/* True the first time cursor @c reaches @mm (which cursor_get() took). */
bool xhp_registry_cursor_first_visit(int c, struct mm_struct *mm)
{
	struct xhp_mm_slot *slot;
	bool first = false;

	spin_lock(&xhp_reg_lock);
	slot = xhp_cursor[c];
	if (slot && slot->mm == mm && !(slot->visited & BIT(c))) {
		slot->visited |= BIT(c);
		first = true;
	}
	spin_unlock(&xhp_reg_lock);
	return first;
}

void xhp_registry_with_slot(struct mm_struct *mm,
			    void (*fn)(struct xhp_mm_slot *slot, void *arg),
			    void *arg)
{
	struct xhp_mm_slot *slot;

	spin_lock(&xhp_reg_lock);
	slot = xhp_lookup(mm);
	if (slot)
		fn(slot, arg);
	spin_unlock(&xhp_reg_lock);
}

void xhp_registry_for_each(void (*fn)(struct xhp_mm_slot *slot, void *arg),
			   void *arg)
{
	struct xhp_mm_slot *slot;

	spin_lock(&xhp_reg_lock);
	list_for_each_entry(slot, &xhp_mm_list, node)
		fn(slot, arg);
	spin_unlock(&xhp_reg_lock);
}

unsigned int xhp_registry_count(void)
{
	return READ_ONCE(xhp_nr_slots);
}

bool xhp_registry_empty(void)
{
	return list_empty_careful(&xhp_mm_list);
}

/*
 * Slots come from kmalloc, not a cache of their own: in 6.12 destroying
 * a cache calls kvfree_rcu_barrier(), which waits for every pending RCU
 * callback in the system (rcu_barrier()), slow under churn.
 */
int xhp_registry_init(void)
{
	return 0;
}

/* Called with every hook removed and the scanner stopped. */
void xhp_registry_exit(void)
{
	struct xhp_mm_slot *slot, *tmp;
	LIST_HEAD(doomed);

	spin_lock(&xhp_reg_lock);
	list_for_each_entry_safe(slot, tmp, &xhp_mm_list, node) {
		hash_del(&slot->hash);
		list_move(&slot->node, &doomed);
	}
	memset(xhp_cursor, 0, sizeof(xhp_cursor));
	xhp_nr_slots = 0;
	spin_unlock(&xhp_reg_lock);

	list_for_each_entry_safe(slot, tmp, &doomed, node) {
		mmdrop(slot->mm);
		kfree(slot);
	}
}
