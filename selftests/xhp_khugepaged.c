// SPDX-License-Identifier: GPL-2.0
/*
 * xhugepaged's own collapse tests, case for case after the kernel's
 * tools/testing/selftests/mm/khugepaged.c, plus the module's policy knobs:
 * enabled modes, VM_NOHUGEPAGE, prctl THP-disable, knob writes waking the
 * scanner, full_scans, the scan_results counters naming each refusal, and
 * the anti-thrash backoff.
 *
 * A case that expects no collapse first proves the scanner passed over the
 * range (scan_refuses()): full_scans advanced by 2 and the scan_results
 * reason the range must be refused with grew; for an mm the queue policy
 * keeps out of the queue altogether (no VMA it allows, or prctl THP
 * disable), as khugepaged's does, two full scans alone. Running out of
 * time before that is a failure.
 *
 * Every collapse must be xhugepaged's: the runner parks the native
 * khugepaged (native enabled=madvise so page faults can still make the
 * compound pages some cases need), and each case checks that xhugepaged's
 * pages_collapsed moved and the native one did not. A range is huge when
 * /proc/self/smaps shows it PMD-mapped (AnonHugePages); each test area is
 * its own VMA between PROT_NONE guards so the count is its own.
 *
 * Run as root from the repository root inside the test VM; loads
 * kmod/xhugepaged.ko (or $XHP_KO) itself. KTAP output; each collapse
 * case's result line carries the time from the trigger to PMD-mapped.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <sched.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "kselftest.h"
#include "xhp_test.h"

#ifndef MADV_COLD
#define MADV_COLD 20
#endif

#define NR_PTES 512
/* A hang bound; a build for a break-and-watch run may lower it. */
#ifndef WAIT_MS
#define WAIT_MS 30000
#endif

static size_t page_sz;
static long native_base;

/* --- the module's knobs and counters ------------------------------------ */

static void set_knob(const char *name, unsigned long v)
{
	if (xhp_set_knob(name, v))
		ksft_exit_fail_msg("cannot set %s=%lu\n", name, v);
}

static void set_enabled(const char *mode)
{
	if (xhp_write_str(XHP_DIR "/enabled", mode))
		ksft_exit_fail_msg("cannot set enabled=%s\n", mode);
}

static long native_collapsed(void)
{
	return xhp_read_num(THP_DIR "/khugepaged/pages_collapsed");
}

/* --- test areas ---------------------------------------------------------- */

struct area {
	char *map;		/* the whole mapping, guards included */
	size_t map_len;
	char *p;		/* PMD-aligned start of nr PMD ranges */
	int nr;
};

static void area_alloc(struct area *a, int nr)
{
	char *end;

	a->nr = nr;
	a->map_len = (nr + 2) * PMD_SZ;
	a->map = mmap(NULL, a->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	a->p = (char *)(((uintptr_t)a->map + page_sz + PMD_SZ - 1) &
			~(PMD_SZ - 1));
	end = a->p + nr * PMD_SZ;
	/* Guards: the area is one VMA that merges with nothing. */
	mprotect(a->map, a->p - a->map, PROT_NONE);
	mprotect(end, a->map + a->map_len - end, PROT_NONE);
}

static void area_free(struct area *a)
{
	munmap(a->map, a->map_len);
}

/* Write pages [from, to) of the area with their pattern. */
static void fill(struct area *a, size_t from, size_t to, int seed)
{
	xhp_fill(a->p, page_sz, from, to, seed);
}

/*
 * Pages [0, split) hold their pattern of seed_lo, pages [split, to) that of
 * seed_hi, every other page is zero.
 */
static bool intact2(struct area *a, size_t split, size_t to, int seed_lo,
		    int seed_hi)
{
	size_t pg, i, nr = a->nr * NR_PTES;

	for (pg = 0; pg < nr; pg++) {
		unsigned char want = pg >= to ? 0 :
			xhp_pattern(pg, pg < split ? seed_lo : seed_hi);
		const unsigned char *q = (unsigned char *)a->p + pg * page_sz;

		i = xhp_first_not(q, page_sz, want);
		if (i < page_sz) {
			ksft_print_msg("byte %zu of page %zu: %u, want %u\n",
				       i, pg, q[i], want);
			return false;
		}
	}
	return true;
}

/* Pages [from, to) hold their pattern and every other page is zero. */
static bool intact(struct area *a, size_t from, size_t to, int seed)
{
	size_t pg;

	for (pg = 0; pg < from; pg++)
		if (a->p[pg * page_sz]) {
			ksft_print_msg("page %zu is not zero\n", pg);
			return false;
		}
	return intact2(a, from, to, seed, seed);
}

static bool area_huge(struct area *a)
{
	return xhp_vma_anon_huge_kb(a->p) >= a->nr * (long)(PMD_SZ >> 10);
}

static bool page_swapped(const void *addr)
{
	uint64_t ent = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return false;
	if (pread(fd, &ent, sizeof(ent),
		  (uintptr_t)addr / page_sz * sizeof(ent)) != sizeof(ent))
		ent = 0;
	close(fd);
	return ent >> 62 & 1;
}

/*
 * Start the scanner with @mode (a write to enabled also wakes it) and wait
 * until the area is PMD-mapped and the scanner has counted its collapses
 * (xhp_wait_counted(): the count follows the mapping, once the engine has
 * returned to the scanner). Returns whether it is huge; the time taken to turn
 * huge goes to *ms.
 */
static bool run_scanner(struct area *a, const char *mode, long *ms)
{
	long start = now_ms(), c0 = xhp_knob("pages_collapsed");
	bool huge = false;

	set_enabled(mode);
	while (now_ms() - start < WAIT_MS) {
		huge = area_huge(a);
		if (huge)
			break;
		usleep(10000);
	}
	*ms = now_ms() - start;
	set_enabled("never");
	if (huge)
		xhp_wait_counted(c0, a->nr, WAIT_MS);
	return huge;
}

/*
 * Has the scanner passed over every queued range since the snapshot
 * (@scans0, @reason0)? full_scans must have advanced by 2, as the pass in
 * progress at the snapshot may have begun behind the range, and @reason,
 * the scan_results counter the range must be refused with, must have grown.
 */
static bool scanner_passed(long scans0, const char *reason, long reason0)
{
	return xhp_knob("full_scans") >= scans0 + 2 &&
	       (!reason || xhp_scan_result(reason) > reason0);
}

/*
 * The negative twin of run_scanner(): start the scanner with @mode and
 * wait until it has provably passed over the area (scanner_passed()).
 * True if it did and the area is still not huge. A timeout without that
 * proof is a failure, never a "not huge".
 */
static bool scan_refuses(struct area *a, const char *name, const char *mode,
			 const char *reason, long *ms)
{
	long start = now_ms(), scans0 = xhp_knob("full_scans");
	long reason0 = reason ? xhp_scan_result(reason) : 0;
	bool huge = false, passed = false;

	set_enabled(mode);
	while (now_ms() - start < WAIT_MS) {
		/* Proof first: "not huge" must be read after it. */
		passed = scanner_passed(scans0, reason, reason0);
		huge = area_huge(a);
		if (huge || passed)
			break;
		usleep(10000);
	}
	*ms = now_ms() - start;
	set_enabled("never");
	if (huge)
		ksft_print_msg("%s: the range became huge\n", name);
	else if (!passed)
		ksft_print_msg("%s: no proof the scanner passed over the range in %ld ms: full_scans +%ld, %s +%ld\n",
			       name, *ms, xhp_knob("full_scans") - scans0,
			       reason ? reason : "(no reason)",
			       reason ? xhp_scan_result(reason) - reason0 : 0);
	return passed && !huge;
}

/*
 * One verdict per case: the area's state is the expected one, its data
 * intact, the module's pages_collapsed moved by at least @want_collapses
 * (waited for: the count follows the PMD mapping, see xhp_wait_counted()),
 * and the native khugepaged collapsed nothing.
 */
static void verdict(const char *name, bool ok, long collapsed0,
		    long want_collapses, long ms)
{
	long ours = xhp_wait_collapsed(collapsed0, want_collapses, WAIT_MS);
	long native = native_collapsed() - native_base;

	if (ours < want_collapses) {
		ksft_print_msg("%s: xhugepaged collapsed %ld, want >= %ld\n",
			       name, ours, want_collapses);
		ok = false;
	}
	if (native) {
		ksft_print_msg("%s: native khugepaged collapsed %ld\n", name,
			       native);
		ok = false;
	}
	if (!ok)
		ksft_test_result_fail("%s # after %ld ms\n", name, ms);
	else if (want_collapses)
		ksft_test_result_pass("%s # collapsed in %ld ms\n", name, ms);
	else
		ksft_test_result_pass("%s # no collapse after 2 full scans (%ld ms)\n",
				      name, ms);
}

/*
 * The common shape: fill [from, to), advise, scan, check. @refusal: NULL
 * when the area must collapse, else the scan_results reason it must be
 * refused with.
 */
static void simple_case(const char *name, int nr, size_t from, size_t to,
			const char *refusal)
{
	long c0 = xhp_knob("pages_collapsed"), ms;
	struct area a;
	bool ok;

	area_alloc(&a, nr);
	fill(&a, from, to, 3);	/* before MADV_HUGEPAGE: small pages */
	madvise(a.p, nr * PMD_SZ, MADV_HUGEPAGE);
	if (refusal)
		ok = scan_refuses(&a, name, "madvise", refusal, &ms);
	else
		ok = run_scanner(&a, "madvise", &ms);
	ok = ok && intact(&a, from, to, 3);
	verdict(name, ok, c0, refusal ? 0 : nr, ms);
	area_free(&a);
}

static void collapse_full(void)
{
	simple_case("collapse_full", 4, 0, 4 * NR_PTES, NULL);
}

static void collapse_empty(void)
{
	/* Never written: no anon_vma, so the VMA itself is refused. */
	simple_case("collapse_empty", 1, 0, 0, "vma_check");
}

static void collapse_single_pte_entry(void)
{
	simple_case("collapse_single_pte_entry", 1, 0, 1, NULL);
}

static void collapse_max_ptes_none(void)
{
	long max_none = 255, c0, ms;
	struct area a;
	bool huge, ok;

	set_knob("max_ptes_none", max_none);
	area_alloc(&a, 1);
	fill(&a, 0, NR_PTES - max_none - 1, 5);
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	c0 = xhp_knob("pages_collapsed");
	ok = scan_refuses(&a, "collapse_max_ptes_none_exceeded", "madvise",
			  "exceed_none_pte", &ms);
	verdict("collapse_max_ptes_none_exceeded", ok, c0, 0, ms);

	fill(&a, 0, NR_PTES - max_none, 5);
	c0 = xhp_knob("pages_collapsed");
	huge = run_scanner(&a, "madvise", &ms);
	ok = huge && intact(&a, 0, NR_PTES - max_none, 5);
	verdict("collapse_max_ptes_none", ok, c0, 1, ms);
	area_free(&a);
	set_knob("max_ptes_none", NR_PTES - 1);
}

/* Swap pages [from, to) out; true if every one of them went. */
static bool page_out(struct area *a, size_t from, size_t to)
{
	size_t pg;

	for (pg = from; pg < to; pg++)
		madvise(a->p + pg * page_sz, page_sz, MADV_PAGEOUT);
	for (pg = from; pg < to; pg++)
		if (!page_swapped(a->p + pg * page_sz))
			return false;
	return true;
}

static void collapse_swapin_single_pte(void)
{
	long c0 = xhp_knob("pages_collapsed"), ms;
	struct area a;
	bool huge, ok;

	area_alloc(&a, 1);
	xhp_pin_or_die();
	fill(&a, 0, NR_PTES, 7);
	ok = page_out(&a, 0, 1);
	xhp_unpin_or_die();
	if (!ok) {
		ksft_test_result_fail("collapse_swapin_single_pte: page not swapped out\n");
		area_free(&a);
		return;
	}
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	huge = run_scanner(&a, "madvise", &ms);
	ok = huge && intact(&a, 0, NR_PTES, 7);
	verdict("collapse_swapin_single_pte", ok, c0, 1, ms);
	area_free(&a);
}

static void collapse_max_ptes_swap(void)
{
	long max_swap = xhp_knob("max_ptes_swap"), c0, ms;
	struct area a;
	bool huge, ok;

	area_alloc(&a, 1);
	xhp_pin_or_die();
	fill(&a, 0, NR_PTES, 9);
	ok = page_out(&a, 0, max_swap + 1);
	xhp_unpin_or_die();
	if (!ok) {
		ksft_test_result_fail("collapse_max_ptes_swap_exceeded: pages not swapped out\n");
		area_free(&a);
		return;
	}
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	c0 = xhp_knob("pages_collapsed");
	ok = scan_refuses(&a, "collapse_max_ptes_swap_exceeded", "madvise",
			  "exceed_swap_pte", &ms);
	verdict("collapse_max_ptes_swap_exceeded", ok, c0, 0, ms);

	/* Fault them all back, then swap out exactly max_ptes_swap. */
	xhp_pin_or_die();
	ok = intact(&a, 0, NR_PTES, 9) && page_out(&a, 0, max_swap);
	xhp_unpin_or_die();
	c0 = xhp_knob("pages_collapsed");
	huge = run_scanner(&a, "madvise", &ms);
	ok = ok && huge && intact(&a, 0, NR_PTES, 9);
	verdict("collapse_max_ptes_swap", ok, c0, 1, ms);
	area_free(&a);
}

/* A THP made by the native fault path (VM_HUGEPAGE, native madvise). */
static bool fault_thp(struct area *a, int seed)
{
	madvise(a->p, a->nr * PMD_SZ, MADV_HUGEPAGE);
	fill(a, 0, a->nr * NR_PTES, seed);
	if (!area_huge(a)) {
		ksft_print_msg("the page fault did not make a THP\n");
		return false;
	}
	return true;
}

/* Split the PMD mapping, leaving every PTE mapping the compound page. */
static bool split_pmd(struct area *a)
{
	mprotect(a->p, page_sz, PROT_READ);
	mprotect(a->p, page_sz, PROT_READ | PROT_WRITE);
	return xhp_vma_anon_huge_kb(a->p) == 0;
}

static void collapse_single_pte_entry_compound(void)
{
	long c0 = xhp_knob("pages_collapsed"), ms;
	struct area a;
	bool huge, ok;

	area_alloc(&a, 1);
	ok = fault_thp(&a, 11);
	/* Unmap all but the first subpage: one PTE maps the THP. */
	madvise(a.p + page_sz, PMD_SZ - page_sz, MADV_DONTNEED);
	ok = ok && xhp_vma_anon_huge_kb(a.p) == 0;
	huge = run_scanner(&a, "madvise", &ms);
	ok = ok && huge && intact(&a, 0, 1, 11);
	verdict("collapse_single_pte_entry_compound", ok, c0, 1, ms);
	area_free(&a);
}

static void collapse_full_of_compound(void)
{
	long c0 = xhp_knob("pages_collapsed"), ms;
	struct area a;
	bool huge, ok;

	area_alloc(&a, 1);
	ok = fault_thp(&a, 13) && split_pmd(&a);
	huge = run_scanner(&a, "madvise", &ms);
	ok = ok && huge && intact(&a, 0, NR_PTES, 13);
	verdict("collapse_full_of_compound", ok, c0, 1, ms);
	area_free(&a);
}

/*
 * Every PTE maps a subpage of a different THP. The pages are gathered in
 * one VMA (one anon_vma, linear offsets) so the range stays collapsible:
 * each step faults a fresh THP right after the pages gathered so far, then
 * moves the block away keeping one subpage of the THP (which splits it)
 * and moves it back grown by a PMD of fresh space for the next THP.
 */
static void collapse_compound_extreme(void)
{
	long c0 = xhp_knob("pages_collapsed"), ms;
	char *win, *base, *tmp, *q;
	bool huge, ok = true;
	struct area a;
	int i;

	/* Reserved window: guard, gathered pages, THP slot, guard, temp. */
	a.map_len = 7 * PMD_SZ;
	a.map = mmap(NULL, a.map_len, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a.map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	win = (char *)(((uintptr_t)a.map + PMD_SZ - 1) & ~(PMD_SZ - 1));
	base = win + 2 * PMD_SZ;
	tmp = win + 4 * PMD_SZ;
	if (mmap(base, PMD_SZ, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		ksft_exit_fail_msg("mmap fixed: %s\n", strerror(errno));
	for (i = 0; i < NR_PTES && ok; i++) {
		madvise(base, PMD_SZ, MADV_HUGEPAGE);
		memset(base, 1, PMD_SZ);
		ok = xhp_vma_anon_huge_kb(base) >= (long)(PMD_SZ >> 10);
		if (!ok)
			ksft_print_msg("step %d: the fault made no THP\n", i);
		/* Same flags again: one VMA with the gathered pages. */
		madvise(base, PMD_SZ, MADV_NOHUGEPAGE);
		q = mremap(base - i * page_sz, i * page_sz + PMD_SZ,
			   (i + 1) * page_sz, MREMAP_MAYMOVE | MREMAP_FIXED, tmp);
		if (ok && q != MAP_FAILED)
			q = mremap(tmp, (i + 1) * page_sz,
				   (i + 1) * page_sz + PMD_SZ,
				   MREMAP_MAYMOVE | MREMAP_FIXED,
				   base - (i + 1) * page_sz);
		if (ok && q == MAP_FAILED) {
			ksft_print_msg("step %d: mremap: %s\n", i, strerror(errno));
			ok = false;
		}
	}
	munmap(base, PMD_SZ);		/* the unused THP slot */
	a.p = base - PMD_SZ;
	a.nr = 1;
	fill(&a, 0, NR_PTES, 17);
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	ok = ok && xhp_vma_anon_huge_kb(a.p) == 0;
	huge = run_scanner(&a, "madvise", &ms);
	ok = ok && huge && intact(&a, 0, NR_PTES, 17);
	verdict("collapse_compound_extreme", ok, c0, 1, ms);
	area_free(&a);
}

/* What a child reports to its parent through a pipe. */
struct child_report {
	int ok;
	long ms;
};

static void child_report(int fd, bool ok, long ms)
{
	struct child_report r = { .ok = ok, .ms = ms };

	if (write(fd, &r, sizeof(r)) != sizeof(r))
		_exit(2);
	_exit(0);
}

static bool child_wait(pid_t pid, int fd, long *ms)
{
	struct child_report r = { 0 };
	int st;

	if (read(fd, &r, sizeof(r)) != sizeof(r))
		r.ok = 0;
	waitpid(pid, &st, 0);
	close(fd);
	*ms = r.ms;
	return r.ok && WIFEXITED(st) && !WEXITSTATUS(st);
}

static void collapse_fork(void)
{
	long c0 = xhp_knob("pages_collapsed"), ms, parent_ms;
	int fds[2];
	struct area a;
	bool ok;
	pid_t pid;

	area_alloc(&a, 1);
	fill(&a, 0, 1, 19);	/* one small page, shared over fork */
	if (pipe(fds))
		ksft_exit_fail_msg("pipe\n");
	pid = fork();
	if (pid == 0) {
		bool huge;

		close(fds[0]);
		/* A page of its own: a writable PTE next to the shared one. */
		fill(&a, 1, 2, 19);
		madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
		huge = run_scanner(&a, "madvise", &ms);
		child_report(fds[1], huge && intact(&a, 0, 2, 19), ms);
	}
	close(fds[1]);
	ok = child_wait(pid, fds[0], &ms);
	if (!ok)
		ksft_print_msg("collapse_fork: the child's range did not collapse intact\n");
	/*
	 * The parent's copy was never advised: the parent has no VMA the
	 * rules allow, so it is not queued; two full scans prove it.
	 */
	if (!scan_refuses(&a, "collapse_fork (parent)", "madvise", NULL,
			  &parent_ms) || !intact(&a, 0, 1, 19)) {
		ksft_print_msg("collapse_fork: the parent's page changed\n");
		ok = false;
	}
	verdict("collapse_fork", ok, c0, 1, ms);
	area_free(&a);
}

static void collapse_fork_compound(void)
{
	long c0 = xhp_knob("pages_collapsed"), ms;
	int fds[2];
	struct area a;
	bool ok;
	pid_t pid;

	area_alloc(&a, 1);
	ok = fault_thp(&a, 23);
	if (pipe(fds))
		ksft_exit_fail_msg("pipe\n");
	pid = fork();
	if (pid == 0) {
		bool huge, good;

		close(fds[0]);
		good = split_pmd(&a);
		/* One page of its own (COW): 511 shared, one writable. */
		fill(&a, 0, 1, 24);
		set_knob("max_ptes_shared", NR_PTES - 1);
		huge = run_scanner(&a, "madvise", &ms);
		set_knob("max_ptes_shared", NR_PTES / 2);
		child_report(fds[1], good && huge &&
			     intact2(&a, 1, NR_PTES, 24, 23), ms);
	}
	close(fds[1]);
	ok = child_wait(pid, fds[0], &ms) && ok;
	if (!area_huge(&a) || !intact(&a, 0, NR_PTES, 23)) {
		ksft_print_msg("collapse_fork_compound: the parent lost its THP\n");
		ok = false;
	}
	verdict("collapse_fork_compound", ok, c0, 1, ms);
	area_free(&a);
}

static void collapse_max_ptes_shared(void)
{
	long max_shared = xhp_knob("max_ptes_shared"), c0, ms;
	int fds[2];
	struct area a;
	bool ok;
	pid_t pid;

	area_alloc(&a, 1);
	ok = fault_thp(&a, 29);
	if (pipe(fds))
		ksft_exit_fail_msg("pipe\n");
	c0 = xhp_knob("pages_collapsed");
	pid = fork();
	if (pid == 0) {
		bool huge, good;
		size_t cow = NR_PTES - max_shared - 1;

		close(fds[0]);
		/* Write to (COW) all but max_shared + 1 pages: too many shared. */
		good = split_pmd(&a);
		fill(&a, 0, cow, 31);
		good = scan_refuses(&a, "collapse_max_ptes_shared_exceeded",
				    "madvise", "exceed_shared_pte", &ms) &&
		       good;
		/* One more private page: exactly max_shared shared. */
		fill(&a, 0, cow + 1, 31);
		huge = run_scanner(&a, "madvise", &ms);
		good = good && huge && intact2(&a, cow + 1, NR_PTES, 31, 29);
		child_report(fds[1], good, ms);
	}
	close(fds[1]);
	ok = child_wait(pid, fds[0], &ms) && ok;
	if (!area_huge(&a) || !intact(&a, 0, NR_PTES, 29)) {
		ksft_print_msg("collapse_max_ptes_shared: the parent lost its THP\n");
		ok = false;
	}
	verdict("collapse_max_ptes_shared", ok, c0, 1, ms);
	area_free(&a);
}

/* --- policy ---------------------------------------------------------------- */

/* A faulted area without MADV_HUGEPAGE: only "always" may collapse it. */
static void enabled_modes(void)
{
	long c0, ms, scans0;
	struct area a;
	bool huge, ok, idle;

	area_alloc(&a, 1);
	fill(&a, 0, NR_PTES, 37);

	c0 = xhp_knob("pages_collapsed");
	ok = scan_refuses(&a, "enabled_madvise_skips_unadvised", "madvise",
			  "vma_check", &ms);
	verdict("enabled_madvise_skips_unadvised", ok, c0, 0, ms);

	/*
	 * never: the scanner does not collapse and does not even scan. The
	 * write does not cut short the visit in progress, which may still
	 * end a pass: the count starts once the thread is in a sleep of its
	 * own.
	 */
	set_enabled("never");
	idle = xhp_wait_until(xhp_scanner_idle, WAIT_MS);
	c0 = xhp_knob("pages_collapsed");
	scans0 = xhp_knob("full_scans");
	usleep(1000 * 1000);
	ksft_test_result(idle && !area_huge(&a) &&
			 xhp_knob("full_scans") == scans0 &&
			 xhp_knob("pages_collapsed") == c0,
			 "enabled_never_idles%s\n",
			 idle ? "" : " # the scanner never went idle");

	c0 = xhp_knob("pages_collapsed");
	huge = run_scanner(&a, "always", &ms);
	verdict("enabled_always_collapses_unadvised",
		huge && intact(&a, 0, NR_PTES, 37), c0, 1, ms);
	area_free(&a);
}

static void nohugepage_respected(void)
{
	long c0 = xhp_knob("pages_collapsed"), ms;
	struct area a;
	bool ok;

	area_alloc(&a, 1);
	fill(&a, 0, NR_PTES, 41);
	madvise(a.p, PMD_SZ, MADV_NOHUGEPAGE);
	ok = scan_refuses(&a, "vm_nohugepage_respected_under_always", "always",
			  "vma_check", &ms);
	verdict("vm_nohugepage_respected_under_always", ok, c0, 0, ms);
	area_free(&a);
}

static void prctl_respected(void)
{
	long ms = 0;
	int fds[2];
	pid_t pid;
	bool ok;

	if (pipe(fds))
		ksft_exit_fail_msg("pipe\n");
	pid = fork();
	if (pid == 0) {
		struct area a;
		bool good;

		close(fds[0]);
		good = !prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
		area_alloc(&a, 1);
		fill(&a, 0, NR_PTES, 43);
		madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
		/* Never queued (MMF_DISABLE_THP): two full scans prove it. */
		good = scan_refuses(&a, "prctl_thp_disable_respected", "always",
				    NULL, &ms) && good;
		child_report(fds[1], good, ms);
	}
	close(fds[1]);
	ok = child_wait(pid, fds[0], &ms);
	ksft_test_result(ok, "prctl_thp_disable_respected # %s (%ld ms)\n",
			 ok ? "no collapse after 2 full scans" : "failed", ms);
}

/*
 * Is this process's mm in the module's queue? MADV_HUGEPAGE queues it
 * through a worker, after the call returns (debugfs processes table).
 */
static bool mm_queued(void)
{
	char line[512], want[32];
	bool found = false;
	FILE *f = fopen("/sys/kernel/debug/xhugepaged/processes", "r");

	if (!f)
		return false;
	snprintf(want, sizeof(want), "%d ", getpid());
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, want, strlen(want));
	fclose(f);
	return found;
}

/*
 * With an hour's scan_sleep_millisecs the scanner sleeps; a write to a
 * sleep knob must wake it: the advised area turns huge soon after. The
 * area is made only once the thread is in that sleep (its wchan): the
 * writes that start it wake it for a round or two first, however long a
 * slow VM takes over them. Huge before the hour is up is the proof; the
 * bound only catches a hang.
 */
static void knob_write_wakes(const char *which)
{
	long c0, start, scans0, alloc_sleep = xhp_knob("alloc_sleep_millisecs");
	struct area a;
	bool huge = false, slept;

	set_knob("scan_sleep_millisecs", 3600000);
	set_enabled("madvise");
	slept = xhp_wait_until(xhp_scanner_in_sleep, WAIT_MS);
	if (!slept)
		ksft_print_msg("%s write: the scanner did not go to sleep\n",
			       which);
	area_alloc(&a, 1);
	fill(&a, 0, NR_PTES, 47);
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	if (!xhp_wait_until(mm_queued, WAIT_MS)) {
		ksft_print_msg("%s write: the advised mm was not queued\n",
			       which);
		slept = false;
	}
	scans0 = xhp_knob("full_scans");
	/* Still asleep a while later: no round, no collapse without a write. */
	usleep(1500 * 1000);
	slept = slept && !area_huge(&a) && xhp_knob("full_scans") == scans0 &&
		xhp_scanner_in_sleep();
	c0 = xhp_knob("pages_collapsed");
	start = now_ms();
	if (!strcmp(which, "enabled"))
		set_enabled("madvise");
	else
		set_knob(which, 3600000);
	while (now_ms() - start < WAIT_MS && !(huge = area_huge(&a)))
		usleep(10000);
	set_enabled("never");
	set_knob("scan_sleep_millisecs", 50);
	set_knob("alloc_sleep_millisecs", alloc_sleep);
	ksft_print_msg("%s write: asleep before %d, huge %ld ms after\n",
		       which, slept, now_ms() - start);
	verdict(!strcmp(which, "enabled") ? "write_enabled_wakes_scanner" :
		!strcmp(which, "scan_sleep_millisecs") ?
		"write_scan_sleep_wakes_scanner" :
		"write_alloc_sleep_wakes_scanner",
		slept && huge, c0, 1, now_ms() - start);
	area_free(&a);
}

static void full_scans_advance(void)
{
	long scans0 = xhp_knob("full_scans");
	long start = now_ms();

	set_enabled("madvise");
	while (xhp_knob("full_scans") < scans0 + 3 && now_ms() - start < WAIT_MS)
		usleep(10000);
	set_enabled("never");
	ksft_test_result(xhp_knob("full_scans") >= scans0 + 3,
			 "full_scans_advances # +3 in %ld ms\n", now_ms() - start);
}

/* Pages not referenced since MADV_COLD: lack_referenced_page. */
static void lack_referenced(void)
{
	long c0 = xhp_knob("pages_collapsed"), ms;
	struct area a;
	bool ok;

	area_alloc(&a, 1);
	/* Every page on the LRU for MADV_COLD, none young (xhp_pin_to_this_cpu()). */
	xhp_pin_or_die();
	fill(&a, 0, NR_PTES, 53);
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	madvise(a.p, PMD_SZ, MADV_COLD);
	xhp_unpin_or_die();
	ok = scan_refuses(&a, "scan_result_lack_referenced_page", "madvise",
			  "lack_referenced_page", &ms);
	verdict("scan_result_lack_referenced_page", ok, c0, 0, ms);
	area_free(&a);
}

/* No writable PTE in the range: page_ro. */
static void read_only(void)
{
	long c0 = xhp_knob("pages_collapsed"), ms;
	struct area a;
	bool ok;

	area_alloc(&a, 1);
	fill(&a, 0, NR_PTES, 59);
	mprotect(a.p, PMD_SZ, PROT_READ);
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	ok = scan_refuses(&a, "scan_result_page_ro", "madvise", "page_ro",
			  &ms);
	verdict("scan_result_page_ro", ok, c0, 0, ms);
	area_free(&a);
}

/* --- anti-thrash backoff --------------------------------------------------- */

#define BACKOFF_WINDOW_MS 3000
/* Jiffies granularity and the read-back lag, well within the window. */
#define BACKOFF_MARGIN_MS 100
#define BACKOFF_ATTEMPTS 3

/* Is [a->p, a->p + nr PMDs) inside one VMA (the split VMAs merged back)? */
static bool area_one_vma(struct area *a)
{
	unsigned long start, end, p = (uintptr_t)a->p;
	char line[512];
	bool one = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    start <= p && p < end) {
			one = p + a->nr * PMD_SZ <= end;
			break;
		}
	fclose(f);
	return one;
}

/*
 * Collapse a fresh advised area; the scanner is stopped (enabled=never)
 * from the collapse on. *t_scan: the time the scanner was started, no
 * later than the collapse.
 */
static bool collapse_fresh(struct area *a, int seed, long *t_scan)
{
	long ms;

	area_alloc(a, 1);
	fill(a, 0, NR_PTES, seed);
	madvise(a->p, PMD_SZ, MADV_HUGEPAGE);
	*t_scan = now_ms();
	if (!run_scanner(a, "madvise", &ms)) {
		ksft_print_msg("backoff: the area did not collapse\n");
		return false;
	}
	return true;
}

/*
 * Write-protect one page of the area and undo that (split_pmd()), so the
 * VMAs merge and the range (PTE-mapped now, if it was not) is collapsible
 * again. *t_split: the time just before; *wasted: how much backoff_wasted
 * grew.
 */
static bool split_once(struct area *a, long *t_split, long *wasted)
{
	long wasted0 = xhp_knob("backoff_wasted");

	*t_split = now_ms();
	if (!split_pmd(a) || area_huge(a) || !area_one_vma(a)) {
		ksft_print_msg("backoff: the one-page mprotect did not leave one PTE-mapped VMA\n");
		return false;
	}
	*wasted = xhp_knob("backoff_wasted") - wasted0;
	return true;
}

/* Collapse a fresh area, then split its PMD mapping at once. */
static bool collapse_then_split(struct area *a, int seed, long *t_split,
				long *wasted)
{
	long t_scan;

	*t_split = now_ms();
	*wasted = 0;
	return collapse_fresh(a, seed, &t_scan) &&
	       split_once(a, t_split, wasted);
}

/* Without a window the same split range collapses again at once. */
static void backoff_off(void)
{
	long c0 = xhp_knob("pages_collapsed"), wasted, skipped0, scans0, scans;
	long t_split, start;
	bool ok, huge = false;
	struct area a;

	set_knob("backoff_window_millisecs", 0);
	ok = collapse_then_split(&a, 61, &t_split, &wasted);
	skipped0 = xhp_knob("backoff_skipped");
	scans0 = xhp_knob("full_scans");
	start = now_ms();
	set_enabled("madvise");
	/* At once: by the end of the first pass that began after the merge. */
	while (ok && now_ms() - start < WAIT_MS) {
		scans = xhp_knob("full_scans");
		huge = area_huge(&a);
		if (huge || scans >= scans0 + 3)
			break;
		usleep(10000);
	}
	set_enabled("never");
	if (ok && !huge)
		ksft_print_msg("backoff_off: not huge again after full_scans +%ld\n",
			       xhp_knob("full_scans") - scans0);
	if (wasted || xhp_knob("backoff_skipped") != skipped0) {
		ksft_print_msg("backoff_off: backoff_wasted +%ld, backoff_skipped +%ld with the window off\n",
			       wasted, xhp_knob("backoff_skipped") - skipped0);
		ok = false;
	}
	ok = ok && huge && intact(&a, 0, NR_PTES, 61);
	verdict("backoff_off_recollapses_split_range", ok, c0, 2,
		now_ms() - t_split);
	area_free(&a);
}

/*
 * With backoff_window_millisecs=W a range split within W of its collapse
 * is skipped for W from the split (the first backoff: shift 0): it must
 * stay PTE-mapped while the scanner provably passes over it, and collapse
 * again after W. The check only counts if it ends before the backoff can
 * have expired; when a slow VM misses that, the whole attempt is repeated
 * on a fresh area (a fresh range: no backoff history).
 */
static void backoff_window(void)
{
	struct area areas[BACKOFF_ATTEMPTS];
	long c0, wasted = 0, skipped0, skipped = 0, scans0, scans = 0;
	long t_split = 0, deadline, t, ms;
	bool ok = false, huge = false, proven = false, in_time = false;
	int i, n = 0;

	set_knob("backoff_window_millisecs", BACKOFF_WINDOW_MS);
	c0 = xhp_knob("pages_collapsed");
	/* Earlier areas stay mapped so a retry never reuses their range. */
	for (i = 0; i < BACKOFF_ATTEMPTS && !in_time; i++) {
		n = i + 1;
		ok = collapse_then_split(&areas[i], 67 + i, &t_split, &wasted);
		if (!ok)
			break;
		deadline = t_split + BACKOFF_WINDOW_MS - BACKOFF_MARGIN_MS;
		skipped0 = xhp_knob("backoff_skipped");
		scans0 = xhp_knob("full_scans");
		proven = huge = false;
		set_enabled("madvise");
		/* Watch the whole window: not huge at any point of it. */
		while (!huge) {
			scans = xhp_knob("full_scans") - scans0;
			skipped = xhp_knob("backoff_skipped") - skipped0;
			huge = area_huge(&areas[i]);
			t = now_ms();
			if (t >= deadline)
				break;
			proven = proven || (!huge && scans >= 2 && skipped > 0);
			in_time = proven;
			usleep(10000);
		}
		if (huge && t < deadline) {
			ksft_print_msg("backoff: huge again %ld ms after the split, within the %d ms window\n",
				       t - t_split, BACKOFF_WINDOW_MS);
			in_time = true;
			ok = false;
		} else if (!in_time) {
			ksft_print_msg("backoff: attempt %d: no proof of a pass before the window ended (full_scans +%ld, backoff_skipped +%ld)\n",
				       n, scans, skipped);
		}
		if (!in_time)
			set_enabled("never");
	}
	if (ok && !in_time)
		ok = false;
	if (ok && wasted != 1) {
		ksft_print_msg("backoff: backoff_wasted +%ld after one split, want +1\n",
			       wasted);
		ok = false;
	}
	ksft_test_result(ok, "backoff_skips_range_split_soon_after_collapse # %d ms window: full_scans +%ld, backoff_skipped +%ld, backoff_wasted +%ld (attempt %d)\n",
			 BACKOFF_WINDOW_MS, scans, skipped, wasted, n);

	/* After the window the range collapses again (a hang bound only). */
	huge = false;
	if (ok) {
		set_enabled("madvise");
		while (now_ms() - t_split < BACKOFF_WINDOW_MS + WAIT_MS &&
		       !(huge = area_huge(&areas[n - 1])))
			usleep(10000);
	}
	ms = now_ms() - t_split;
	set_enabled("never");
	if (ok && !huge)
		ksft_print_msg("backoff: not huge %ld ms after the split\n", ms);
	verdict("backoff_recollapses_after_window",
		ok && huge && intact(&areas[n - 1], 0, NR_PTES, 67 + n - 1),
		c0, n + 1, ms);
	set_knob("backoff_window_millisecs", 0);
	for (i = 0; i < n; i++)
		area_free(&areas[i]);
}

/*
 * A call of the split function that splits nothing is no wasted collapse.
 * A range collapsed with a window is zapped whole (MADV_DONTNEED of its
 * 2 MiB: the huge PMD goes without a split) and faulted back small, then
 * one page of it is write-protected and back: mprotect calls the split
 * function for the PTE table there (vma_adjust_trans_huge()).
 * backoff_wasted must not move, and the scanner must collapse the range
 * again before a backoff from that call could have ended. The proof that
 * the hook looked: the same mprotect right after that collapse counts
 * once. An attempt a slow VM leaves inconclusive (the mprotect, the
 * collapse or the second mprotect too late in its window) is repeated on
 * a fresh range, three at most, then the case fails.
 */
static void backoff_ignores_split_of_refaulted_range(void)
{
	static const char name[] = "backoff_ignores_split_of_refaulted_range";
	const long in_window = BACKOFF_WINDOW_MS - BACKOFF_MARGIN_MS;
	struct area areas[BACKOFF_ATTEMPTS];
	long c0, collapsed0, t_scan, t_split = 0, t_rescan, t_proof, t = 0;
	long wasted = 0, proof = 0, skipped0, skipped = 0;
	bool ok = false, huge = false, in_time = false;
	int i, n = 0;

	set_knob("backoff_window_millisecs", BACKOFF_WINDOW_MS);
	c0 = xhp_knob("pages_collapsed");
	/* Earlier areas stay mapped so a retry never reuses their range. */
	for (i = 0; i < BACKOFF_ATTEMPTS && !in_time; i++) {
		struct area *a = &areas[i];

		n = i + 1;
		ok = collapse_fresh(a, 71 + i, &t_scan);
		if (!ok)
			break;
		/*
		 * Small faults: VM_NOHUGEPAGE for the refault, not the kernel's
		 * enabled=never, whose write would restart the parked native
		 * khugepaged for a scan at once.
		 */
		madvise(a->p, PMD_SZ, MADV_DONTNEED);
		ok = xhp_vma_smaps_kb(a->p, "Rss:") == 0;
		madvise(a->p, PMD_SZ, MADV_NOHUGEPAGE);
		fill(a, 0, NR_PTES, 71 + i);
		madvise(a->p, PMD_SZ, MADV_HUGEPAGE);
		if (!ok || area_huge(a)) {
			ksft_print_msg("%s: the range was not zapped whole and faulted back small\n",
				       name);
			ok = false;
			break;
		}
		ok = split_once(a, &t_split, &wasted);
		if (!ok)
			break;
		if (t_split - t_scan >= in_window) {
			ksft_print_msg("%s: attempt %d: the mprotect came %ld ms after the scanner started, past the window\n",
				       name, n, t_split - t_scan);
			continue;
		}
		if (wasted) {
			ksft_print_msg("%s: backoff_wasted +%ld for a split of a range that was not huge, want +0\n",
				       name, wasted);
			ok = false;
			break;
		}
		skipped0 = xhp_knob("backoff_skipped");
		collapsed0 = xhp_knob("pages_collapsed");
		t_rescan = now_ms();
		set_enabled("madvise");
		while (!(huge = area_huge(a)) &&
		       (t = now_ms()) - t_split < in_window)
			usleep(10000);
		t = now_ms();
		set_enabled("never");
		skipped = xhp_knob("backoff_skipped") - skipped0;
		if (!huge) {
			ksft_print_msg("%s: attempt %d: not huge again %ld ms after the mprotect (backoff_skipped +%ld)\n",
				       name, n, t - t_split, skipped);
			continue;
		}
		/* Split only what the scanner has counted and recorded. */
		xhp_wait_counted(collapsed0, 1, WAIT_MS);
		ok = split_once(a, &t_proof, &proof);
		if (!ok)
			break;
		if (t_proof - t_rescan >= in_window) {
			ksft_print_msg("%s: attempt %d: the second mprotect came %ld ms after the scanner started, past the window\n",
				       name, n, t_proof - t_rescan);
			continue;
		}
		in_time = true;
		if (proof != 1) {
			ksft_print_msg("%s: backoff_wasted +%ld for a split right after the collapse, want +1\n",
				       name, proof);
			ok = false;
		}
	}
	if (ok && !in_time)
		ok = false;
	if (!in_time)
		t = now_ms();
	else
		ksft_print_msg("%s: backoff_wasted +%ld for the mprotect of the refaulted range, huge again %ld ms after it (backoff_skipped +%ld), +%ld for the mprotect after that collapse (attempt %d)\n",
			       name, wasted, t - t_split, skipped, proof, n);
	verdict(name, ok && intact(&areas[n - 1], 0, NR_PTES, 71 + n - 1),
		c0, n + 1, t - t_split);
	set_knob("backoff_window_millisecs", 0);
	for (i = 0; i < n; i++)
		area_free(&areas[i]);
}

static long collapse_event(const char *file)
{
	char path[160];

	snprintf(path, sizeof(path), XHP_DIR "/events/collapse_huge_page/%s",
		 file);
	return xhp_read_num(path);
}

/* The engine's own count: collapse_huge_page() calls by us, less failures. */
static long engine_collapses(void)
{
	return collapse_event("initiator_xhugepaged") - collapse_event("failed");
}

/* Pin @pid (0: ourselves) to CPU 0, or (@cpu0 false) let it run anywhere. */
static bool pin_cpu0(pid_t pid, bool cpu0)
{
	long i, n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	for (i = 0; i < (cpu0 ? 1 : n); i++)
		CPU_SET(i, &set);
	return !sched_setaffinity(pid, sizeof(set), &set);
}

/*
 * pages_collapsed counts every collapse the engine made, also one split
 * again before the engine returns. collapse_huge_page() installs the PMD
 * and lets mmap_lock go; madvise_collapse() takes it back for the module
 * after that. A loop of one-page mprotect()s on the scanner's CPU is
 * mostly waiting for the lock then, and the wakeup preempts the nice-19
 * scanner, so it splits many new PMDs in that gap. The module's count must equal
 * the engine's (the collapse_huge_page event; nothing else collapses
 * meanwhile), read once both stand still.
 */
#define SPLIT_RACE_COLLAPSES 6

static void counted_when_split_before_engine_returns(void)
{
	static const char name[] = "pages_collapsed_counts_collapse_split_before_engine_returns";
	long c0, e0, ours = 0, engine = 0, ours_was = -1, engine_was = -1;
	long start;
	int i, still = 0;
	pid_t scanner;
	struct area a;
	bool ok;

	set_knob("backoff_window_millisecs", 0);
	area_alloc(&a, 1);
	fill(&a, 0, NR_PTES, 81);
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	scanner = xhp_scanner_pid();
	ok = scanner && pin_cpu0(scanner, true) && pin_cpu0(0, true);
	if (!ok)
		ksft_print_msg("%s: cannot pin the scanner (pid %d) and the test to CPU 0: %s\n",
			       name, scanner, strerror(errno));
	c0 = xhp_knob("pages_collapsed");
	e0 = engine_collapses();
	start = now_ms();
	set_enabled("madvise");
	while (ok && now_ms() - start < WAIT_MS &&
	       engine_collapses() - e0 < SPLIT_RACE_COLLAPSES) {
		for (i = 0; i < 8; i++)
			split_pmd(&a);
		/* Else the nice-19 scanner barely runs on a 6.1 guest. */
		usleep(1000);
	}
	set_enabled("never");
	if (scanner)
		pin_cpu0(scanner, false);
	pin_cpu0(0, false);
	/* Idle: the engine call in flight, and its count, are done. */
	if (!xhp_wait_until(xhp_scanner_idle, WAIT_MS))
		ksft_print_msg("%s: the scanner did not go idle after enabled=never\n",
			       name);
	/* The call in flight ends; then neither count moves (a hang bound). */
	while (still < 3 && now_ms() - start < 2 * WAIT_MS) {
		usleep(50000);
		ours = xhp_knob("pages_collapsed") - c0;
		engine = engine_collapses() - e0;
		still = ours == ours_was && engine == engine_was ? still + 1 : 0;
		ours_was = ours;
		engine_was = engine;
	}
	ksft_print_msg("%s: the engine collapsed %ld, pages_collapsed +%ld, in %ld ms\n",
		       name, engine, ours, now_ms() - start);
	ok = ok && still == 3 && engine >= SPLIT_RACE_COLLAPSES &&
	     ours == engine;
	if (still < 3)
		ksft_print_msg("%s: the counts did not stand still after enabled=never\n",
			       name);
	verdict(name, ok && intact(&a, 0, NR_PTES, 81), c0,
		SPLIT_RACE_COLLAPSES, now_ms() - start);
	area_free(&a);
}

int main(void)
{
	const char *missing;

	page_sz = sysconf(_SC_PAGESIZE);
	ksft_print_header();
	missing = xhp_test_needs();
	if (missing)
		ksft_exit_fail_msg("%s\n", missing);
	/* enabled=never: each case starts the scanner when it is ready. */
	if (xhp_load_module("enabled=never scan_sleep_millisecs=50 pages_to_scan=32768"))
		ksft_exit_fail_msg("cannot load the module\n");
	native_base = native_collapsed();
	ksft_set_plan(30);

	collapse_full();
	collapse_empty();
	collapse_single_pte_entry();
	collapse_max_ptes_none();
	collapse_swapin_single_pte();
	collapse_max_ptes_swap();
	collapse_single_pte_entry_compound();
	collapse_full_of_compound();
	collapse_compound_extreme();
	collapse_fork();
	collapse_fork_compound();
	collapse_max_ptes_shared();

	enabled_modes();
	nohugepage_respected();
	prctl_respected();
	knob_write_wakes("scan_sleep_millisecs");
	knob_write_wakes("alloc_sleep_millisecs");
	knob_write_wakes("enabled");
	full_scans_advance();
	lack_referenced();
	read_only();
	backoff_off();
	backoff_window();
	backoff_ignores_split_of_refaulted_range();
	counted_when_split_before_engine_returns();

	if (system("rmmod xhugepaged"))
		ksft_exit_fail_msg("rmmod failed\n");
	ksft_finished();
}
