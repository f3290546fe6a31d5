/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Observability of the kernel's own THP split and collapse paths: the
 * events counted under /sys/kernel/mm/xhugepaged/events/, and the causes
 * and initiators they are broken down by. Documentation/observability.rst
 * says what each one means.
 */
#ifndef _XHP_EVENTS_H
#define _XHP_EVENTS_H

#include <linux/types.h>
#include <linux/kobject.h>

enum xhp_event {
	XHP_EV_SPLIT_PMD,		/* a PMD mapping became 512 PTEs */
	XHP_EV_SPLIT_FOLIO,		/* a huge folio was split (or tried) */
	XHP_EV_DEFERRED_SPLIT_SCAN,	/* the deferred-split shrinker ran */
	XHP_EV_COLLAPSE_HUGE_PAGE,	/* the anon collapse engine, one PMD */
	XHP_EV_MADVISE_COLLAPSE,	/* MADV_COLLAPSE's engine, one range */
	XHP_EV_COLLAPSE_FILE,		/* the shmem collapse engine, one PMD */
	XHP_EV_HUGE_FAULT,		/* anon fault tried to map a PMD THP */
	XHP_EV_ZAP_PMD,			/* a whole PMD mapping was zapped */
	XHP_NR_EVENTS
};

/* Why a split (or zap) happened, from the path the kernel took. */
enum xhp_cause {
	XHP_CAUSE_MPROTECT,
	XHP_CAUSE_MUNMAP,
	XHP_CAUSE_MREMAP,
	XHP_CAUSE_DONTNEED,
	XHP_CAUSE_MADVISE,		/* any other madvise() advice */
	XHP_CAUSE_COW,			/* write fault on a shared THP */
	XHP_CAUSE_FORK,
	XHP_CAUSE_EXIT,
	XHP_CAUSE_RECLAIM,
	XHP_CAUSE_MIGRATION,
	XHP_CAUSE_SHRINKER,		/* deferred_split_scan() */
	XHP_CAUSE_OTHER,
	XHP_NR_CAUSES
};

/* Who asked for a collapse. */
enum xhp_initiator {
	XHP_BY_KHUGEPAGED,
	XHP_BY_XHUGEPAGED,
	XHP_BY_MADVISE,
	XHP_BY_OTHER,
	XHP_NR_INITIATORS
};

#define XHP_NR_CLASSES	XHP_NR_CAUSES	/* the larger of the two */

/* cause.c: classify what current is doing. */
enum xhp_cause xhp_current_cause(void);
enum xhp_initiator xhp_current_initiator(void);
const char *xhp_cause_name(unsigned int cause);
const char *xhp_initiator_name(unsigned int initiator);
int xhp_shrinker_mark(void);		/* slot for unmark, or -1 */
void xhp_shrinker_unmark(int slot);
void xhp_shrinker_unmark_all(void);

/* event_counters.c: cheap enough for probe handlers (atomic context). */
void xhp_event_hit(enum xhp_event ev, int class, u64 ns);
void xhp_event_add_extra(enum xhp_event ev, u64 n);
int xhp_events_sysfs_init(struct kobject *root);
void xhp_events_sysfs_exit(void);

/* probes.c: (un)register every observability hook at once. */
int xhp_probes_set_events(bool on);
bool xhp_probes_events_on(void);
void xhp_probes_events_wait_armed(void);

#endif /* _XHP_EVENTS_H */
