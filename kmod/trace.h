/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xhugepaged's tracepoints: tracepoint:xhugepaged:* in bpftrace,
 * /sys/kernel/tracing/events/xhugepaged/ in tracefs. Field meanings are in
 * Documentation/observability.rst. Kernel pointers are printed hashed (%p).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM xhugepaged

#if !defined(_XHP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _XHP_TRACE_H

#include <linux/tracepoint.h>
#include <linux/mm_types.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>

#include "compat.h"

#ifndef _XHP_TRACE_HELPERS
#define _XHP_TRACE_HELPERS
/* The thread group that owns @mm, where the kernel tracks it. */
static inline pid_t xhp_mm_tgid(struct mm_struct *mm)
{
	pid_t pid = 0;
#ifdef CONFIG_MEMCG
	struct task_struct *owner;

	rcu_read_lock();
	owner = rcu_dereference(mm->owner);
	if (owner)
		pid = owner->tgid;
	rcu_read_unlock();
#endif
	return pid;
}
#endif

DECLARE_EVENT_CLASS(xhp_mm_class,
	TP_PROTO(struct mm_struct *mm),
	TP_ARGS(mm),
	TP_STRUCT__entry(
		__field(void *, mm)
		__field(pid_t, pid)
	),
	TP_fast_assign(
		__entry->mm = mm;
		__entry->pid = xhp_mm_tgid(mm);
	),
	TP_printk("mm=%p pid=%d", __entry->mm, __entry->pid)
);

DEFINE_EVENT(xhp_mm_class, xhp_mm_enter,
	TP_PROTO(struct mm_struct *mm), TP_ARGS(mm));
DEFINE_EVENT(xhp_mm_class, xhp_mm_leave,
	TP_PROTO(struct mm_struct *mm), TP_ARGS(mm));

TRACE_EVENT(xhp_scan_pmd,
	TP_PROTO(struct mm_struct *mm, unsigned long address, int result,
		 const char *result_name, unsigned int none_or_zero,
		 unsigned int swap, unsigned int shared,
		 unsigned int referenced, bool writable),
	TP_ARGS(mm, address, result, result_name, none_or_zero, swap, shared,
		referenced, writable),
	TP_STRUCT__entry(
		__field(void *, mm)
		__field(pid_t, pid)
		__field(unsigned long, address)
		__field(int, result)
		__string(result_name, result_name)
		__field(unsigned int, none_or_zero)
		__field(unsigned int, swap)
		__field(unsigned int, shared)
		__field(unsigned int, referenced)
		__field(bool, writable)
	),
	TP_fast_assign(
		__entry->mm = mm;
		__entry->pid = xhp_mm_tgid(mm);
		__entry->address = address;
		__entry->result = result;
		xhp_assign_str(result_name, result_name);
		__entry->none_or_zero = none_or_zero;
		__entry->swap = swap;
		__entry->shared = shared;
		__entry->referenced = referenced;
		__entry->writable = writable;
	),
	TP_printk("mm=%p pid=%d address=0x%lx result=%s none_or_zero=%u swap=%u shared=%u referenced=%u writable=%d",
		  __entry->mm, __entry->pid, __entry->address,
		  __get_str(result_name), __entry->none_or_zero, __entry->swap,
		  __entry->shared, __entry->referenced, __entry->writable)
);

TRACE_EVENT(xhp_collapse_begin,
	TP_PROTO(struct mm_struct *mm, unsigned long address, unsigned int nr,
		 const char *initiator),
	TP_ARGS(mm, address, nr, initiator),
	TP_STRUCT__entry(
		__field(void *, mm)
		__field(pid_t, pid)
		__field(unsigned long, address)
		__field(unsigned int, nr)
		__string(initiator, initiator)
	),
	TP_fast_assign(
		__entry->mm = mm;
		__entry->pid = xhp_mm_tgid(mm);
		__entry->address = address;
		__entry->nr = nr;
		xhp_assign_str(initiator, initiator);
	),
	TP_printk("mm=%p pid=%d address=0x%lx nr=%u initiator=%s",
		  __entry->mm, __entry->pid, __entry->address, __entry->nr,
		  __get_str(initiator))
);

TRACE_EVENT(xhp_collapse_end,
	TP_PROTO(struct mm_struct *mm, unsigned long address, unsigned int nr,
		 const char *initiator, u64 latency_ns, int ret,
		 unsigned int collapsed),
	TP_ARGS(mm, address, nr, initiator, latency_ns, ret, collapsed),
	TP_STRUCT__entry(
		__field(void *, mm)
		__field(pid_t, pid)
		__field(unsigned long, address)
		__field(unsigned int, nr)
		__string(initiator, initiator)
		__field(u64, latency_ns)
		__field(int, ret)
		__field(unsigned int, collapsed)
	),
	TP_fast_assign(
		__entry->mm = mm;
		__entry->pid = xhp_mm_tgid(mm);
		__entry->address = address;
		__entry->nr = nr;
		xhp_assign_str(initiator, initiator);
		__entry->latency_ns = latency_ns;
		__entry->ret = ret;
		__entry->collapsed = collapsed;
	),
	TP_printk("mm=%p pid=%d address=0x%lx nr=%u initiator=%s latency_ns=%llu ret=%d collapsed=%u",
		  __entry->mm, __entry->pid, __entry->address, __entry->nr,
		  __get_str(initiator), __entry->latency_ns, __entry->ret,
		  __entry->collapsed)
);

TRACE_EVENT(xhp_split,
	TP_PROTO(const char *kind, const char *cause, pid_t pid,
		 unsigned long address),
	TP_ARGS(kind, cause, pid, address),
	TP_STRUCT__entry(
		__string(kind, kind)
		__string(cause, cause)
		__field(pid_t, pid)
		__field(unsigned long, address)
	),
	TP_fast_assign(
		xhp_assign_str(kind, kind);
		xhp_assign_str(cause, cause);
		__entry->pid = pid;
		__entry->address = address;
	),
	TP_printk("kind=%s cause=%s pid=%d address=0x%lx",
		  __get_str(kind), __get_str(cause), __entry->pid,
		  __entry->address)
);

#endif /* _XHP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
