/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared between xhugepaged's files. */
#ifndef _XHUGEPAGED_H
#define _XHUGEPAGED_H

#include <linux/types.h>
#include <linux/kobject.h>
#include <linux/wait.h>
#include <linux/mm_types.h>
#include <linux/sched.h>

#include "compat.h"

#define XHP_NAME "xhugepaged"

/* --- borrowed kernel symbols (symbols.c) ------------------------------- */
/*
 * Functions are kept as plain addresses, not function pointers, so that C
 * cannot call them indirectly: borrowed.h's wrappers enter them through
 * xhp_borrowed_call() (IBT-safe on every CPU).
 */
struct xhp_borrowed {
	unsigned long madvise_collapse;
#if XHP_BORROW_PTE_OFFSET_MAP_LOCK
	unsigned long pte_offset_map_lock;	/* __pte_offset_map_lock */
#endif
#if XHP_BORROW_FOLIO_MAPCOUNT
	unsigned long folio_mapcount;
#endif
	unsigned long lru_add_drain_all;	/* optional */
	unsigned long flush_tlb_mm_range;	/* optional */
	unsigned long ftrace_location;		/* optional */
	unsigned long kallsyms_lookup_name;	/* for all the others */
	struct kobject **mm_kobj;
	void __percpu *mthp_stats;	/* optional: per-cpu struct mthp_stat */
};
extern struct xhp_borrowed xhp_sym;
extern bool xhp_assume_ibt;
int xhp_symbols_resolve(void);
unsigned long xhp_ftrace_site(const char *name);
#include "borrowed.h"

/* --- tunables (knobs.c) -------------------------------------------------- */
enum xhp_thp_mode { XHP_ALWAYS, XHP_MADVISE, XHP_NEVER, XHP_INHERIT };

struct xhp_knobs {
	unsigned int enabled;		/* XHP_ALWAYS/MADVISE/NEVER */
	unsigned int pmd_enabled;	/* hugepages-2048kB/enabled, may INHERIT */
	unsigned int pages_to_scan;
	unsigned int scan_sleep_millisecs;
	unsigned int alloc_sleep_millisecs;
	unsigned int max_ptes_none;
	unsigned int max_ptes_swap;
	unsigned int max_ptes_shared;
	unsigned int defrag;		/* khugepaged/defrag */
	unsigned int scan_order;	/* XHP_ORDER_FIFO or XHP_ORDER_HOT */
	unsigned int backoff_window_millisecs;	/* 0: no anti-thrash backoff */
	unsigned int shmem_enabled;	/* enum xhp_shmem_mode */
	unsigned int shmem_pmd_enabled;	/* hugepages-2048kB/shmem_enabled */
};
#define XHP_BACKOFF_WINDOW_MAX 3600000U
enum xhp_scan_order { XHP_ORDER_FIFO, XHP_ORDER_HOT };
extern struct xhp_knobs xhp_knobs;

/* Effective mode for PMD-sized anon THP, like hugepage_pmd_enabled(). */
unsigned int xhp_pmd_mode(void);

/* --- shmem and tmpfs (shmem.c) ----------------------------------------- */
/* shmem_enabled, in the order the file lists them (index == mode). */
enum xhp_shmem_mode {
	XHP_SHMEM_ALWAYS, XHP_SHMEM_WITHIN_SIZE, XHP_SHMEM_ADVISE,
	XHP_SHMEM_NEVER, XHP_SHMEM_DENY, XHP_SHMEM_FORCE, XHP_SHMEM_NR_MODES
};
/* hugepages-<size>kB/shmem_enabled, in the order that file lists them. */
enum xhp_shmem_size_mode {
	XHP_SHSZ_ALWAYS, XHP_SHSZ_INHERIT, XHP_SHSZ_WITHIN_SIZE,
	XHP_SHSZ_ADVISE, XHP_SHSZ_NEVER, XHP_SHSZ_NR_MODES
};
extern const char * const xhp_shmem_mode_names[XHP_SHMEM_NR_MODES];
bool xhp_vma_is_shmem(struct vm_area_struct *vma);
bool xhp_shmem_vma_eligible(struct vm_area_struct *vma);
/* Does any shmem policy let the scanner collapse (shmem_hpage_pmd_enabled)? */
bool xhp_shmem_wanted(void);
/* Anything to do at all: anon PMD THP or shmem PMD THP enabled. */
bool xhp_scan_wanted(void);
struct xhp_pmd_verdict;
void xhp_shmem_judge_pmd(struct mm_struct *mm, struct vm_area_struct *vma,
			 unsigned long addr, struct xhp_pmd_verdict *v);

/* Shared by sysfs and module parameters so both accept the same input. */
int xhp_parse_mode(const char *buf, bool allow_inherit, unsigned int *mode);
const char *xhp_mode_name(unsigned int mode);

/* --- scanner (scanner.c) ------------------------------------------------- */
struct xhp_scanner_stats {
	atomic_t pages_collapsed;
	atomic_t full_scans;
};
extern struct xhp_scanner_stats xhp_stats;
int xhp_scanner_start(void);
void xhp_scanner_request_stop(void);
u64 xhp_scanner_stop(void);
const char *xhp_scanner_stop_point(void);
void xhp_scanner_kick(void);	/* a knob changed: end the current sleep */
bool xhp_is_scanner(void);	/* is current the scanner thread? */

/* --- scan results (results.c) -------------------------------------------- */
/* Same names and order as enum scan_result in mm/khugepaged.c (6.12). */
enum xhp_scan_result {
	XHP_SCAN_FAIL,
	XHP_SCAN_SUCCEED,
	XHP_SCAN_PMD_NULL,
	XHP_SCAN_PMD_NONE,
	XHP_SCAN_PMD_MAPPED,
	XHP_SCAN_EXCEED_NONE_PTE,
	XHP_SCAN_EXCEED_SWAP_PTE,
	XHP_SCAN_EXCEED_SHARED_PTE,
	XHP_SCAN_PTE_NON_PRESENT,
	XHP_SCAN_PTE_UFFD_WP,
	XHP_SCAN_PTE_MAPPED_HUGEPAGE,
	XHP_SCAN_PAGE_RO,
	XHP_SCAN_LACK_REFERENCED_PAGE,
	XHP_SCAN_PAGE_NULL,
	XHP_SCAN_SCAN_ABORT,
	XHP_SCAN_PAGE_COUNT,
	XHP_SCAN_PAGE_LRU,
	XHP_SCAN_PAGE_LOCK,
	XHP_SCAN_PAGE_ANON,
	XHP_SCAN_PAGE_COMPOUND,
	XHP_SCAN_ANY_PROCESS,
	XHP_SCAN_VMA_NULL,
	XHP_SCAN_VMA_CHECK,
	XHP_SCAN_ADDRESS_RANGE,
	XHP_SCAN_DEL_PAGE_LRU,
	XHP_SCAN_ALLOC_HUGE_PAGE_FAIL,
	XHP_SCAN_CGROUP_CHARGE_FAIL,
	XHP_SCAN_TRUNCATED,
	XHP_SCAN_PAGE_HAS_PRIVATE,
	XHP_SCAN_STORE_FAILED,
	XHP_SCAN_COPY_MC,
	XHP_SCAN_PAGE_FILLED,
	XHP_SCAN_NR_RESULTS
};
void xhp_result_count(unsigned int result);
const char *xhp_result_name(unsigned int result);
extern const struct attribute_group xhp_results_group;

/* --- judgement of one PMD range (judge.c) -------------------------------- */
struct xhp_pmd_verdict {
	unsigned int result;		/* enum xhp_scan_result */
	unsigned int none_or_zero, swap, shared, referenced;
	bool writable;
};
bool xhp_vma_eligible(struct vm_area_struct *vma);
void xhp_judge_pmd(struct mm_struct *mm, struct vm_area_struct *vma,
		   unsigned long addr, struct xhp_pmd_verdict *v);
pmd_t *xhp_find_pmd(struct mm_struct *mm, unsigned long addr);
/* is_refcount_suitable(): no references beyond mappings and the cache. */
bool xhp_refcount_suitable(struct folio *folio);

/* --- collapse through the kernel's engine (collapse.c) ------------------- */
/*
 * Neighbours per engine call. The scanner can only stop between calls, and
 * under load one collapse can take 100 ms or more: rmmod bounds this.
 */
#define XHP_BATCH_MAX 2
struct xhp_batch {
	unsigned long start;		/* first PMD-aligned address */
	unsigned int nr;		/* consecutive PMDs from start */
};
/* Returns the number of PMDs it made huge; *lock_dropped if mmap_lock was. */
unsigned int xhp_collapse_batch(struct mm_struct *mm,
				struct vm_area_struct *vma,
				const struct xhp_batch *b, bool *lock_dropped,
				bool *alloc_failed);

/*
 * Work done under one hold of mmap_lock, in the budget's units (a PTE or
 * a PMD entry looked at): twice what khugepaged does per wake by default.
 * pages_to_scan goes up to UINT_MAX, and a writer (munmap, mremap, a
 * fault that needs the lock) must not wait for a whole round.
 */
#define XHP_SCAN_PER_LOCK	(16 * HPAGE_PMD_NR)

/* --- hot-first scanning (hot.c) ----------------------------------------- */
unsigned int xhp_hot_sweep(struct mm_struct *mm, unsigned long start,
			   unsigned long *out, unsigned int max,
			   unsigned long *resume);
unsigned int xhp_hot_prime(struct mm_struct *mm, unsigned long start,
			   unsigned long *resume);
long xhp_hot_ranges(void);

/* --- anti-thrash backoff (backoff.c) ------------------------------------ */
void xhp_backoff_collapsed(struct mm_struct *mm, unsigned long haddr);
bool xhp_backoff_active(struct mm_struct *mm, unsigned long haddr);
long xhp_backoff_wasted(void);
long xhp_backoff_skipped(void);

/* --- mm registry (registry.c) -------------------------------------------- */
enum xhp_cursor_id { XHP_CURSOR_FIFO, XHP_CURSOR_HOT, XHP_NR_CURSORS };

/* The per-process view's counters (procview.c), kept in each slot. */
struct xhp_mm_view {
	pid_t pid;			/* its owner when last seen */
	char comm[TASK_COMM_LEN];
	unsigned long last_scan;	/* jiffies of the last visit; 0: never */
	unsigned int judged, collapsed, target_skipped, passes;
	unsigned int pass_mapped;	/* PMD-mapped or collapsed, this pass */
	unsigned int pmd_mapped;	/* the same at the end of the last pass */
	unsigned int collapsed_since;	/* collapses since that pass ended */
	unsigned int results[XHP_SCAN_NR_RESULTS];
};

struct xhp_mm_slot {
	struct hlist_node hash;
	struct list_head node;
	struct mm_struct *mm;		/* holds an mmgrab() reference */
	unsigned long address[XHP_NR_CURSORS];	/* where each cursor resumes */
	unsigned int visited;		/* BIT(cursor): it has been here */
	struct xhp_mm_view view;
};
int xhp_registry_init(void);
void xhp_registry_exit(void);
void xhp_registry_add_existing(void);
bool xhp_vma_flags_want_scan(struct mm_struct *mm, unsigned long vm_flags);
bool xhp_registry_drop(int c, struct mm_struct *mm);
void xhp_queue_rules_changed(void);
/* Scanner side: pick the mm at the cursor with mm_users held. */
struct mm_struct *xhp_registry_cursor_get(int c, unsigned long *address,
					  bool *new_pass);
bool xhp_registry_cursor_put(int c, struct mm_struct *mm,
			     unsigned long address, bool mm_done);
bool xhp_registry_cursor_first_visit(int c, struct mm_struct *mm);
unsigned int xhp_registry_count(void);
bool xhp_registry_empty(void);
/* Call @fn on @mm's slot, or on every slot, under the registry's lock. */
struct xhp_view_visit;
struct xhp_view_snap;
void xhp_registry_fold_view(struct mm_struct *mm, struct xhp_view_visit *v);
void xhp_registry_copy_views(struct xhp_view_snap *s);

/* --- kprobe/tracepoint table (probes.c) ---------------------------------- */
/* Where the load's probe installation spent its time, for the load line. */
struct xhp_probes_load_timing {
	u64 sites_ns;		/* finding the entry hooks' ftrace sites */
	u64 entry_ns;		/* the entry kprobes and tracepoints */
};
int xhp_probes_install(struct xhp_probes_load_timing *t);
struct xhp_probes_timing {
	u64 entry_ns;		/* kprobes and tracepoints, one batch */
	u64 events_ns;		/* the event hooks, alongside */
	const char *events_via;	/* fprobe, kretprobe, fprobe+kretprobe, none */
};
void xhp_probes_remove(struct xhp_probes_timing *t);
/* The same in three steps, for the module's exit to interleave. */
void xhp_probes_remove_begin(void);
void xhp_probes_remove_scanner_hooks(struct xhp_probes_timing *t);
void xhp_probes_remove_end(struct xhp_probes_timing *t);
int xhp_probes_sysfs_init(struct kobject *root);
void xhp_probes_sysfs_exit(void);

/* --- sysfs tree (sysfs.c) ------------------------------------------------ */
int xhp_sysfs_init(void);
void xhp_sysfs_exit(void);
void xhp_kobject_remove(struct kobject *kobj);	/* NULL: nothing */

#endif /* _XHUGEPAGED_H */
