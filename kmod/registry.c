// SPDX-License-Identifier: GPL-2.0
/*
 * The mm registry: xhugepaged's own mm slots (hash for lookup, list for scan
 * order), like khugepaged's. It learns of mms from three places, none of
 * which depend on the native THP "enabled" setting:
 *   - the processes alive at load, and again at each write to the
 *     module's enabled files (a walk of the task list),
 *   - khugepaged_enter_vma(), which the kernel calls on every mmap, brk,
 *     MADV_HUGEPAGE and huge fault, before deciding whether khugepaged cares,
 *   - the sched_process_fork tracepoint, for children.
 * Like khugepaged's, the queue holds only mms with a VMA the module's own
 * rules allow a THP (xhp_mm_wants_scan()); the scanner drops an mm whose
 * VMAs no longer do when its visit finds none (xhp_registry_drop()).
 * A slot holds mmgrab() only (the mm_struct, never the address space); the
 * exit_mmap() hook has it dropped as the address space is torn down, and
 * the scanner drops any it finds with no users left (mmget_not_zero()
 * before it touches an address space, so an exit the hook missed is only
 * a slot freed late).
 *
 * The hooks do only NMI-safe work: the kprobes are breakpoints, whose
 * handlers run inside exc_int3()'s irqentry_nmi_enter(), where no lock may
 * be taken and nothing allocated or freed. They queue (event, mm) records
 * in a preallocated table with cmpxchg, take mmgrab() (an atomic_inc) for
 * an mm to be added, and raise an irq_work; its handler queues a work item
 * that applies the records under the registry lock in process context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/hashtable.h>
#include <linux/hash.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/spinlock.h>
#include <linux/irq_work.h>
#include <linux/workqueue.h>

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

/*
 * mms known to the registry, one per hash bucket, for the hooks to read
 * without a lock: an mm found here needs no event. Written under
 * xhp_reg_lock; cleared before the slot's mmdrop(), so an address reused
 * by a new mm_struct is never taken for a known one.
 */
static struct mm_struct *xhp_known[1 << XHP_MM_HASH_BITS];

static struct mm_struct **xhp_known_slot(struct mm_struct *mm)
{
	return &xhp_known[hash_ptr(mm, XHP_MM_HASH_BITS)];
}

static void xhp_known_clear(struct mm_struct *mm)
{
	cmpxchg(xhp_known_slot(mm), mm, NULL);
}

/*
 * The queue policy, per VMA: may a VMA with @vm_flags in @mm get a THP
 * under the module's rules (enabled, VM_HUGEPAGE / VM_NOHUGEPAGE, prctl's
 * MMF_DISABLE_THP)? The flags part of khugepaged's thp_vma_allowable_order()
 * in khugepaged_enter_vma(); the scanner judges the rest (VMA type, an
 * anon_vma) at its visit. Reads two flag words and the knobs only: the
 * NMI-context entry hook calls it.
 */
bool xhp_vma_flags_want_scan(struct mm_struct *mm, unsigned long vm_flags)
{
	if (vm_flags & (VM_SPECIAL | VM_HUGETLB | VM_NOHUGEPAGE))
		return false;
	if (test_bit(MMF_DISABLE_THP, &mm->flags))
		return false;
	/* Shared memory may be shmem, whose own policy governs it (shmem.c). */
	if ((vm_flags & VM_SHARED) && xhp_shmem_wanted())
		return true;
	switch (xhp_pmd_mode()) {
	case XHP_ALWAYS:
		return true;
	case XHP_MADVISE:
		return vm_flags & VM_HUGEPAGE;
	default:
		return false;
	}
}

/* Has @mm a VMA the rules allow a THP? Caller holds its mmap_lock. */
static bool xhp_mm_wants_scan(struct mm_struct *mm)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;

	mmap_assert_locked(mm);
	for_each_vma(vmi, vma)
		if (xhp_vma_flags_want_scan(mm, vma->vm_flags))
			return true;
	return false;
}

/*
 * The same, for an mm the caller only holds by mmgrab(), in process
 * context that may sleep: an mm that has exited wants nothing.
 */
static bool xhp_mm_wants_scan_grabbed(struct mm_struct *mm)
{
	bool wants;

	if (test_bit(MMF_DISABLE_THP, &mm->flags) || !mmget_not_zero(mm))
		return false;
	mmap_read_lock(mm);
	wants = xhp_mm_wants_scan(mm);
	mmap_read_unlock(mm);
	mmput_async(mm);
	return wants;
}

/* Process context, with or without other locks held (@gfp says). */
static void xhp_registry_add(struct mm_struct *mm, gfp_t gfp)
{
	struct xhp_mm_slot *slot;
	bool known;

	spin_lock(&xhp_reg_lock);
	known = xhp_lookup(mm);
	spin_unlock(&xhp_reg_lock);
	if (known)
		return;

	slot = kmalloc(sizeof(*slot), gfp | __GFP_NOWARN);
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
	WRITE_ONCE(*xhp_known_slot(mm), mm);
	/* Behind the cursor, so a new area settles before it is scanned. */
	list_add_tail(&slot->node, &xhp_mm_list);
	xhp_nr_slots++;
	spin_unlock(&xhp_reg_lock);
	trace_xhp_mm_enter(mm);
}

/* --- the hooks' event table -------------------------------------------- */

enum xhp_ev_state { XHP_EV_FREE, XHP_EV_BUSY, XHP_EV_ENTER, XHP_EV_EXIT };

#define XHP_EV_BITS	9
#define XHP_EV_PROBES	8	/* slots tried from the mm's hash */

/* state FREE -> BUSY (claimed by a hook) -> ENTER/EXIT -> FREE (applied) */
struct xhp_ev {
	atomic_t state;
	struct mm_struct *mm;	/* ENTER: holds an mmgrab() */
};

static struct xhp_ev xhp_evs[1 << XHP_EV_BITS];
/* An ENTER found no free slot: the next drain looks at every process. */
static atomic_t xhp_ev_lost = ATOMIC_INIT(0);
static atomic_long_t xhp_ev_dropped = ATOMIC_LONG_INIT(0);

static void xhp_ev_work_fn(struct work_struct *work);
static DECLARE_WORK(xhp_ev_work, xhp_ev_work_fn);

/* irq_work: hardirq context, where queueing a work item is allowed. */
static void xhp_ev_irq_work_fn(struct irq_work *w)
{
	queue_work(system_unbound_wq, &xhp_ev_work);
}
static struct irq_work xhp_ev_irq_work = IRQ_WORK_INIT(xhp_ev_irq_work_fn);

/*
 * Queue an event for @mm. NMI-safe: cmpxchg on a slot, atomic_inc for
 * mmgrab(), and irq_work_queue(), nothing else. A full table loses the
 * event: a lost EXIT only delays the slot's reaping by the scanner, a lost
 * ENTER makes the next drain walk the task list.
 */
static void xhp_ev_queue(struct mm_struct *mm, int ev)
{
	unsigned int h = hash_ptr(mm, XHP_EV_BITS), i;

	for (i = 0; i < XHP_EV_PROBES; i++) {
		struct xhp_ev *e = &xhp_evs[(h + i) & (ARRAY_SIZE(xhp_evs) - 1)];
		int state = atomic_read_acquire(&e->state);

		/* The same mm already waits to be added. */
		if (ev == XHP_EV_ENTER && state == XHP_EV_ENTER &&
		    READ_ONCE(e->mm) == mm)
			return;
		if (state != XHP_EV_FREE ||
		    atomic_cmpxchg(&e->state, XHP_EV_FREE, XHP_EV_BUSY) !=
		    XHP_EV_FREE)
			continue;
		if (ev == XHP_EV_ENTER)
			mmgrab(mm);
		WRITE_ONCE(e->mm, mm);
		atomic_set_release(&e->state, ev);
		irq_work_queue(&xhp_ev_irq_work);
		return;
	}
	atomic_long_inc(&xhp_ev_dropped);
	if (ev == XHP_EV_ENTER) {
		atomic_set(&xhp_ev_lost, 1);
		irq_work_queue(&xhp_ev_irq_work);
	}
}

static void xhp_registry_reap(struct mm_struct *mm)
{
	struct xhp_mm_slot *slot;

	spin_lock(&xhp_reg_lock);
	slot = xhp_lookup(mm);
	/*
	 * The slot's mmgrab() keeps slot->mm readable. Only an mm with no
	 * users left goes: an EXIT that waited while its mm_struct was
	 * freed and reused can only name a live mm, which stays.
	 */
	if (slot && !atomic_read(&slot->mm->mm_users))
		xhp_unlink(slot);
	else
		slot = NULL;
	spin_unlock(&xhp_reg_lock);
	if (!slot)
		return;
	trace_xhp_mm_leave(mm);
	xhp_known_clear(mm);
	mmdrop(mm);
	kfree(slot);
}

/*
 * Apply every queued event; with @apply false (unload) only release what
 * they hold. Process context; the work item and the module's exit are the
 * only callers, never at once.
 */
static void xhp_ev_drain(bool apply)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xhp_evs); i++) {
		struct xhp_ev *e = &xhp_evs[i];
		int state = atomic_read_acquire(&e->state);
		struct mm_struct *mm;

		if (state != XHP_EV_ENTER && state != XHP_EV_EXIT)
			continue;
		mm = READ_ONCE(e->mm);
		atomic_set_release(&e->state, XHP_EV_FREE);
		if (state == XHP_EV_EXIT) {
			if (apply)
				xhp_registry_reap(mm);
			continue;
		}
		/*
		 * Our mmgrab() keeps it readable; an exited mm is not added,
		 * nor one with no VMA the rules allow (a fork's child, or
		 * an area that changed again since the hook saw it).
		 */
		if (apply && xhp_mm_wants_scan_grabbed(mm))
			xhp_registry_add(mm, GFP_KERNEL);
		mmdrop(mm);
		cond_resched();
	}
	if (apply && atomic_xchg(&xhp_ev_lost, 0))
		xhp_registry_add_existing();
}

static void xhp_ev_work_fn(struct work_struct *work)
{
	xhp_ev_drain(true);
}

/*
 * Hook on khugepaged_enter_vma(vma, vm_flags): NMI context. @vm_flags are
 * the flags the VMA is getting (madvise calls it before they are set).
 */
int xhp_hook_enter_vma(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_area_struct *vma = (void *)regs->di;
	unsigned long vm_flags = regs->si;
	struct mm_struct *mm = vma ? READ_ONCE(vma->vm_mm) : NULL;

	/* The caller holds the mm (and its mmap_lock): mm_count > 0. */
	if (mm && READ_ONCE(*xhp_known_slot(mm)) != mm &&
	    xhp_vma_flags_want_scan(mm, vm_flags))
		xhp_ev_queue(mm, XHP_EV_ENTER);
	return 0;
}

/*
 * Hook on exit_mmap(mm): NMI context; mm_users is zero and the address
 * space is going. The slot goes in process context (xhp_registry_reap()).
 */
int xhp_hook_exit_mmap(struct kprobe *kp, struct pt_regs *regs)
{
	struct mm_struct *mm = (void *)regs->di;

	if (mm)
		xhp_ev_queue(mm, XHP_EV_EXIT);
	return 0;
}

/* sched_process_fork tracepoint: a child with its own mm. */
void xhp_hook_fork(void *data, struct task_struct *parent,
		   struct task_struct *child)
{
	struct mm_struct *mm = READ_ONCE(child->mm);

	if (mm && mm != READ_ONCE(parent->mm) && !(child->flags & PF_KTHREAD))
		xhp_ev_queue(mm, XHP_EV_ENTER);
}

/*
 * Queue every process the rules allow: at load, and again when a write to
 * enabled changes the rules (one already queued stays; one the new rules
 * leave out is dropped at its next visit). task_lock() keeps p->mm's
 * address space alive; an mm whose mmap_lock is busy is queued anyway and
 * judged at the scanner's visit.
 */
void xhp_registry_add_existing(void)
{
	struct task_struct *p;
	struct mm_struct *mm;

	rcu_read_lock();
	for_each_process(p) {
		if (p->flags & PF_KTHREAD)
			continue;
		task_lock(p);
		mm = p->mm;
		if (mm && !test_bit(MMF_DISABLE_THP, &mm->flags)) {
			bool wants = true;

			if (mmap_read_trylock(mm)) {
				wants = xhp_mm_wants_scan(mm);
				mmap_read_unlock(mm);
			}
			if (wants)
				xhp_registry_add(mm, GFP_ATOMIC);
		}
		task_unlock(p);
	}
	rcu_read_unlock();
}

/* A write to an enabled file: queue what the new rules allow, wake the scanner. */
void xhp_queue_rules_changed(void)
{
	xhp_registry_add_existing();
	xhp_scanner_kick();
}

/*
 * The scanner's visit of @mm (cursor @c, which it holds with mm_users and
 * mmap_lock) found no VMA the rules allow: unlink its slot, as khugepaged
 * collects an mm slot it is done with. Done under mmap_lock, so that a
 * MADV_HUGEPAGE racing with the visit (it takes the lock for write) finds
 * the mm unknown and queues it again. Returns true when the cursor wrapped.
 */
bool xhp_registry_drop(int c, struct mm_struct *mm)
{
	struct xhp_mm_slot *slot;
	bool wrapped = false;

	mmap_assert_locked(mm);
	spin_lock(&xhp_reg_lock);
	slot = xhp_cursor[c];
	if (slot && slot->mm == mm) {
		xhp_unlink(slot);
		wrapped = !xhp_cursor[c];
		xhp_known_clear(mm);
	} else {
		slot = NULL;
	}
	spin_unlock(&xhp_reg_lock);
	if (!slot)
		return false;
	trace_xhp_mm_leave(mm);
	/* The caller's mm_users reference keeps mm_count above ours. */
	mmdrop(mm);
	kfree(slot);
	return wrapped;
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
		xhp_known_clear(dead->mm);
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

/*
 * The view's two visits to the slots, under the registry lock. Direct
 * calls, not callbacks: the module makes no indirect call of its own
 * (scripts/check-indirect-calls.sh).
 */
void xhp_registry_fold_view(struct mm_struct *mm, struct xhp_view_visit *v)
{
	struct xhp_mm_slot *slot;

	spin_lock(&xhp_reg_lock);
	slot = xhp_lookup(mm);
	if (slot)
		xhp_view_fold(slot, v);
	spin_unlock(&xhp_reg_lock);
}

void xhp_registry_copy_views(struct xhp_view_snap *s)
{
	struct xhp_mm_slot *slot;

	spin_lock(&xhp_reg_lock);
	list_for_each_entry(slot, &xhp_mm_list, node)
		xhp_view_copy(slot, s);
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

/*
 * Called with every hook removed and the scanner stopped: no new event can
 * come, so once the irq_work and the work item are done, the records left
 * only need their mmgrab() released.
 */
void xhp_registry_exit(void)
{
	struct xhp_mm_slot *slot, *tmp;
	LIST_HEAD(doomed);

	irq_work_sync(&xhp_ev_irq_work);
	cancel_work_sync(&xhp_ev_work);
	xhp_ev_drain(false);
	if (atomic_long_read(&xhp_ev_dropped))
		pr_info("%ld hook events found their table full\n",
			atomic_long_read(&xhp_ev_dropped));

	spin_lock(&xhp_reg_lock);
	list_for_each_entry_safe(slot, tmp, &xhp_mm_list, node) {
		hash_del(&slot->hash);
		list_move(&slot->node, &doomed);
	}
	memset(xhp_cursor, 0, sizeof(xhp_cursor));
	xhp_nr_slots = 0;
	spin_unlock(&xhp_reg_lock);

	list_for_each_entry_safe(slot, tmp, &doomed, node) {
		xhp_known_clear(slot->mm);
		mmdrop(slot->mm);
		kfree(slot);
	}
}
