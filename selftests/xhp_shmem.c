// SPDX-License-Identifier: GPL-2.0
/*
 * xhugepaged on shmem and tmpfs: the kernel khugepaged selftest's shmem
 * cases (tools/testing/selftests/mm/khugepaged.c) run against the module,
 * and the effect of each shmem_enabled value, of tmpfs's huge= mount option
 * and of hugepages-2048kB/shmem_enabled, on memfd, MAP_SHARED anonymous
 * memory, SysV shm and tmpfs files.
 *
 * Pages are faulted small (the kernel's own shmem_enabled is set to never
 * for the run) and every collapse must be xhugepaged's: the runner parks
 * the native khugepaged, and each case checks that the module's
 * pages_collapsed moved and the native one did not. A range is huge when
 * /proc/self/smaps shows its VMA PMD-mapped (ShmemPmdMapped). A case that
 * expects nothing waits for two full scans of the module with the scanner
 * running, so the scanner has looked; where a refusal has a SCAN_* name
 * the case also checks that its counter grew. Contents are checked through
 * the mapping and, for files, through read(2) of the page cache.
 *
 * Run as root from the repository root inside the test VM; loads
 * kmod/xhugepaged.ko (or $XHP_KO) itself. KTAP output.
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
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include "kselftest.h"
#include "xhp_test.h"

#define NR_PTES 512
#define WAIT_MS 30000
#define TMPFS_DIR "/tmp/xhp_shmem_tmpfs"
#define PMD_SIZE_DIR "/hugepages-2048kB"
/* The module as main() loads it (and hot_shmem_goes_first() loads it back). */
#define MAIN_PARAMS "enabled=never shmem_enabled=never scan_sleep_millisecs=50 pages_to_scan=32768"

static size_t page_sz;
static long native_base;
/* hugepages-<size>kB/ exist from 6.8 (the mirror has them from 6.12). */
static bool have_sizes;
static char native_shmem[64];

/* --- knobs and counters --------------------------------------------------- */

static void write_or_die(const char *path, const char *val)
{
	if (xhp_write_str(path, val))
		ksft_exit_fail_msg("cannot write %s to %s\n", val, path);
}

static void set_knob(const char *name, unsigned long v)
{
	if (xhp_set_knob(name, v))
		ksft_exit_fail_msg("cannot set %s=%lu\n", name, v);
}

static void reset_results(void)
{
	write_or_die(XHP_DIR "/khugepaged/scan_results/reset", "0");
}

static long native_collapsed(void)
{
	return xhp_read_num(THP_DIR "/khugepaged/pages_collapsed");
}

/* --- test areas ------------------------------------------------------------ */

enum area_kind { MEMFD, ANON_SHARED, SYSV, TMPFS };
static const char * const kind_names[] = { "memfd", "anon_shared", "sysv", "tmpfs" };

struct area {
	enum area_kind kind;
	char *map;		/* PROT_NONE reservation around the area */
	size_t map_len;
	char *p;		/* PMD-aligned start of nr PMD ranges */
	int nr;
	int fd;			/* memfd or tmpfs file, else -1 */
	int shmid;		/* SysV, else -1 */
};

/*
 * An area of @nr PMD ranges of @kind at a PMD-aligned address, file offset
 * 0, with a file of @size bytes (0: the whole area), between PROT_NONE
 * anonymous guards so its VMA is its own.
 */
static void area_alloc(struct area *a, enum area_kind kind, int nr, size_t size)
{
	size_t len = nr * PMD_SZ;
	char path[128];
	void *q;

	a->kind = kind;
	a->nr = nr;
	a->fd = -1;
	a->shmid = -1;
	a->map_len = len + 2 * PMD_SZ;
	a->map = mmap(NULL, a->map_len, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a->map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	a->p = (char *)(((uintptr_t)a->map + page_sz + PMD_SZ - 1) &
			~(PMD_SZ - 1));
	size = size ? size : len;

	switch (kind) {
	case MEMFD:
		a->fd = memfd_create("xhp_shmem", 0);
		break;
	case TMPFS:
		snprintf(path, sizeof(path), TMPFS_DIR "/f%d", getpid());
		a->fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		unlink(path);
		break;
	case SYSV:
		a->shmid = shmget(IPC_PRIVATE, len, IPC_CREAT | 0600);
		if (a->shmid < 0)
			ksft_exit_fail_msg("shmget: %s\n", strerror(errno));
		if (shmat(a->shmid, a->p, SHM_REMAP) != a->p)
			ksft_exit_fail_msg("shmat: %s\n", strerror(errno));
		shmctl(a->shmid, IPC_RMID, NULL);
		return;
	case ANON_SHARED:
		q = mmap(a->p, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (q != a->p)
			ksft_exit_fail_msg("mmap shared: %s\n", strerror(errno));
		return;
	}
	if (a->fd < 0 || ftruncate(a->fd, size))
		ksft_exit_fail_msg("%s file: %s\n", kind_names[kind],
				   strerror(errno));
	q = mmap(a->p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 a->fd, 0);
	if (q != a->p)
		ksft_exit_fail_msg("mmap %s: %s\n", kind_names[kind],
				   strerror(errno));
}

static void area_free(struct area *a)
{
	if (a->kind == SYSV)
		shmdt(a->p);
	munmap(a->map, a->map_len);
	if (a->fd >= 0)
		close(a->fd);
}

/* Write pages [from, to) of the area with their pattern: small pages. */
static void fill(struct area *a, size_t from, size_t to, int seed)
{
	xhp_fill(a->p, page_sz, from, to, seed);
}

static bool page_ok(const unsigned char *q, size_t pg, size_t from,
		    size_t to, int seed, const char *via)
{
	unsigned char want = pg >= from && pg < to ? xhp_pattern(pg, seed) : 0;
	size_t i = xhp_first_not(q, page_sz, want);

	if (i < page_sz) {
		ksft_print_msg("%s: byte %zu of page %zu is %u, want %u\n",
			       via, i, pg, q[i], want);
		return false;
	}
	return true;
}

/*
 * Pages [from, to) hold their pattern, every other page of the area
 * (inside the file) is zero: through the mapping, and for files through
 * read(2) as well, which goes to the page cache without the page tables.
 */
static bool intact(struct area *a, size_t from, size_t to, int seed,
		   size_t file_pages)
{
	unsigned char *buf = malloc(page_sz);
	size_t pg, nr = file_pages ? file_pages : (size_t)a->nr * NR_PTES;
	bool ok = true;

	for (pg = 0; pg < nr && ok; pg++) {
		ok = page_ok((unsigned char *)a->p + pg * page_sz, pg, from,
			     to, seed, "mapping");
		if (ok && a->fd >= 0) {
			ok = pread(a->fd, buf, page_sz, pg * page_sz) ==
			     (ssize_t)page_sz &&
			     page_ok(buf, pg, from, to, seed, "read(2)");
		}
	}
	free(buf);
	return ok;
}

static long pmd_mapped_kb(struct area *a)
{
	return xhp_vma_smaps_kb(a->p, "ShmemPmdMapped:");
}

static bool area_huge(struct area *a)
{
	return pmd_mapped_kb(a) >= a->nr * (long)(PMD_SZ >> 10);
}

/* --- running the scanner ------------------------------------------------------ */

struct policy {
	const char *enabled;		/* the module's enabled */
	const char *shmem;		/* the module's shmem_enabled */
	const char *pmd_shmem;		/* its hugepages-2048kB/shmem_enabled */
};

static void set_policy(const struct policy *pol)
{
	if (have_sizes)
		write_or_die(XHP_DIR PMD_SIZE_DIR "/shmem_enabled",
			     pol->pmd_shmem ? pol->pmd_shmem : "inherit");
	/*
	 * shmem first: writing enabled wakes the scanner and re-walks the
	 * queue, which must not find the previous shmem policy still in
	 * force (a tmpfs huge= mount governs under "never").
	 */
	write_or_die(XHP_DIR "/shmem_enabled", pol->shmem);
	write_or_die(XHP_DIR "/enabled", pol->enabled ? pol->enabled : "never");
}

static void policy_off(void)
{
	write_or_die(XHP_DIR "/enabled", "never");
	write_or_die(XHP_DIR "/shmem_enabled", "never");
	if (have_sizes)
		write_or_die(XHP_DIR PMD_SIZE_DIR "/shmem_enabled", "inherit");
}

/*
 * Apply @pol (the writes also wake the scanner) and wait until the area is
 * PMD-mapped or, when no collapse is expected, until the module completed
 * two full scans without making it so. Returns whether it is huge.
 */
static bool run_scanner(struct area *a, const struct policy *pol, bool expect,
			long *ms)
{
	long start = now_ms(), scans0 = xhp_knob("full_scans");
	long c0 = xhp_knob("pages_collapsed");
	bool huge = false, looked = false;

	set_policy(pol);
	while (now_ms() - start < WAIT_MS) {
		huge = area_huge(a);
		if (huge)
			break;
		looked = xhp_knob("full_scans") >= scans0 + 2;
		if (!expect && looked) {
			/* "Not huge" must be read after the proof. */
			huge = area_huge(a);
			break;
		}
		usleep(10000);
	}
	*ms = now_ms() - start;
	policy_off();
	/*
	 * The range is PMD-mapped inside the engine, and counted once the
	 * engine returned to the scanner: wait for that before anything
	 * asserts on the count or splits it.
	 */
	if (huge && expect)
		xhp_wait_counted(c0, a->nr, WAIT_MS);
	if (!expect && !huge && !looked) {
		ksft_print_msg("the scanner did not complete two full scans\n");
		return true;	/* not proven: fail the negative case */
	}
	return huge;
}

/*
 * One verdict per case: @ok (the area's state and data), the module's
 * pages_collapsed moved by at least @want (waited for: the count follows
 * the PMD mapping), and the native khugepaged
 * collapsed nothing. (With the anonymous policy on to keep the scanner
 * running, other processes' memory may collapse meanwhile: a "not huge"
 * case judges its own area's smaps, not the module-wide count.)
 */
static void verdict(const char *name, bool ok, long collapsed0, long want,
		    long ms)
{
	long ours = xhp_wait_collapsed(collapsed0, want, WAIT_MS);
	long native = native_collapsed() - native_base;

	if (ours < want) {
		ksft_print_msg("%s: xhugepaged collapsed %ld, want >= %ld\n",
			       name, ours, want);
		ok = false;
	}
	if (native) {
		ksft_print_msg("%s: native khugepaged collapsed %ld\n", name,
			       native);
		ok = false;
	}
	if (want)
		ksft_test_result(ok, "%s # collapsed in %ld ms\n", name, ms);
	else
		ksft_test_result(ok, "%s # no collapse after 2 full scans (%ld ms)\n",
				 name, ms);
}

static const struct policy advise = { .shmem = "advise" };

/*
 * Fill [from, to) small, maybe MADV_HUGEPAGE, run the scanner under @pol,
 * check the outcome and the contents. @reason: a scan_results counter that
 * must grow when no collapse is expected (NULL: none to check).
 */
static void one_case(const char *name, enum area_kind kind, int nr, size_t size,
		     size_t from, size_t to, bool madv,
		     const struct policy *pol, bool expect, const char *reason)
{
	long c0, ms, r0;
	struct area a;
	bool huge, ok;
	int seed = (int)strlen(name);

	area_alloc(&a, kind, nr, size);
	fill(&a, from, to, seed);
	if (madv)
		madvise(a.p, nr * PMD_SZ, MADV_HUGEPAGE);
	ok = pmd_mapped_kb(&a) == 0;
	if (!ok)
		ksft_print_msg("%s: huge before the scanner ran\n", name);
	reset_results();
	r0 = reason ? xhp_scan_result(reason) : 0;
	c0 = xhp_knob("pages_collapsed");
	huge = run_scanner(&a, pol, expect, &ms);
	ok = ok && huge == expect &&
	     intact(&a, from, to, seed, size ? size / page_sz : 0);
	if (reason && xhp_scan_result(reason) <= r0) {
		ksft_print_msg("%s: scan_results/%s did not grow\n", name,
			       reason);
		ok = false;
	}
	verdict(name, ok, c0, expect ? nr : 0, ms);
	area_free(&a);
}

/* --- the kernel selftest's shmem cases ---------------------------------------- */

/*
 * collapse_full, and afterwards two more full scans that must count the
 * huge ranges as pmd_mapped and collapse nothing again.
 */
static void collapse_full(void)
{
	long c0 = xhp_knob("pages_collapsed"), ms, c1, scans0, t0;
	struct area a;
	bool huge, ok;

	area_alloc(&a, MEMFD, 4, 0);
	fill(&a, 0, 4 * NR_PTES, 3);
	madvise(a.p, 4 * PMD_SZ, MADV_HUGEPAGE);
	ok = pmd_mapped_kb(&a) == 0;
	huge = run_scanner(&a, &advise, true, &ms);
	ok = ok && huge && intact(&a, 0, 4 * NR_PTES, 3, 0);
	verdict("shmem_collapse_full", ok, c0, 4, ms);

	reset_results();
	c1 = xhp_knob("pages_collapsed");
	scans0 = xhp_knob("full_scans");
	t0 = now_ms();
	set_policy(&advise);
	ok = huge;
	while (ok && xhp_knob("full_scans") < scans0 + 2 && now_ms() - t0 < WAIT_MS)
		usleep(10000);
	policy_off();
	ok = ok && xhp_knob("full_scans") >= scans0 + 2 &&
	     xhp_knob("pages_collapsed") == c1 && xhp_scan_result("pmd_mapped") >= 4 &&
	     area_huge(&a) && intact(&a, 0, 4 * NR_PTES, 3, 0);
	ksft_test_result(ok, "shmem_huge_range_counted_pmd_mapped_not_collapsed_again # pmd_mapped %ld\n",
			 xhp_scan_result("pmd_mapped"));
	area_free(&a);
}

static void collapse_empty(void)
{
	one_case("shmem_collapse_empty", MEMFD, 1, 0, 0, 0, true, &advise,
		 false, "exceed_none_pte");
}

static void collapse_single_pte_entry(void)
{
	one_case("shmem_collapse_single_pte_entry", MEMFD, 1, 0, 0, 1, true,
		 &advise, true, NULL);
}

static void collapse_max_ptes_none(void)
{
	long max_none = NR_PTES / 2;

	set_knob("max_ptes_none", max_none);
	one_case("shmem_collapse_max_ptes_none_exceeded", MEMFD, 1, 0, 0,
		 NR_PTES - max_none - 1, true, &advise, false,
		 "exceed_none_pte");
	one_case("shmem_collapse_max_ptes_none", MEMFD, 1, 0, 0,
		 NR_PTES - max_none, true, &advise, true, NULL);
	set_knob("max_ptes_none", NR_PTES - 1);
}

/* Swap pages [from, to) out; true if smaps says that many went. */
static bool page_out(struct area *a, size_t from, size_t to)
{
	long want = (long)((to - from) * page_sz >> 10);
	int tries;

	for (tries = 0; tries < 5; tries++) {
		madvise(a->p + from * page_sz, (to - from) * page_sz,
			MADV_PAGEOUT);
		if (xhp_vma_smaps_kb(a->p, "Swap:") >= want)
			break;
		usleep(100000);
	}
	if (xhp_vma_smaps_kb(a->p, "Swap:") != want) {
		ksft_print_msg("Swap: %ld kB, want %ld kB\n",
			       xhp_vma_smaps_kb(a->p, "Swap:"), want);
		return false;
	}
	return true;
}

/*
 * Not among the kernel test's shmem cases (its swap cases are anon-only),
 * but hpage_collapse_scan_file() counts swap entries against max_ptes_swap
 * and collapse_file() swaps them in: one more than max_ptes_swap refuses,
 * exactly max_ptes_swap collapses with every page's data back.
 */
static void collapse_max_ptes_swap(void)
{
	long max_swap = xhp_knob("max_ptes_swap"), c0, ms, r0;
	struct area a;
	bool huge, ok;

	area_alloc(&a, MEMFD, 1, 0);
	/* Every page on the LRU for MADV_PAGEOUT (xhp_pin_to_this_cpu()). */
	xhp_pin_or_die();
	fill(&a, 0, NR_PTES, 9);
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	ok = page_out(&a, 0, max_swap + 1);
	xhp_unpin_or_die();
	reset_results();
	r0 = xhp_scan_result("exceed_swap_pte");
	c0 = xhp_knob("pages_collapsed");
	huge = run_scanner(&a, &advise, false, &ms);
	ok = ok && !huge && xhp_scan_result("exceed_swap_pte") > r0;
	verdict("shmem_collapse_max_ptes_swap_exceeded", ok, c0, 0, ms);

	/* Read them all back in, then swap out exactly max_ptes_swap. */
	xhp_pin_or_die();
	ok = intact(&a, 0, NR_PTES, 9, 0) && xhp_vma_smaps_kb(a.p, "Swap:") == 0;
	ok = ok && page_out(&a, 0, max_swap);
	xhp_unpin_or_die();
	c0 = xhp_knob("pages_collapsed");
	huge = run_scanner(&a, &advise, true, &ms);
	ok = ok && huge && xhp_vma_smaps_kb(a.p, "Swap:") == 0 &&
	     intact(&a, 0, NR_PTES, 9, 0);
	verdict("shmem_collapse_max_ptes_swap", ok, c0, 1, ms);
	area_free(&a);
}

/*
 * A PMD-sized folio already in the page cache (made by MADV_COLLAPSE, the
 * kernel's own engine, as the kernel test does), its PMD mapping split and
 * every PTE of the range mapping a subpage of it: only the page tables
 * are left to collapse.
 */
static void collapse_full_of_compound(void)
{
	long c0, ms;
	struct area a;
	bool huge, ok;

	area_alloc(&a, MEMFD, 1, 0);
	fill(&a, 0, NR_PTES, 13);
	ok = !madvise(a.p, PMD_SZ, MADV_COLLAPSE) && area_huge(&a);
	if (!ok)
		ksft_print_msg("MADV_COLLAPSE made no THP: %s\n", strerror(errno));
	/*
	 * Splitting the VMA zaps the PMD; faults while it is split map the
	 * folio by PTEs (no VMA spans the range); merged again, one PTE
	 * table maps all of it.
	 */
	mprotect(a.p, page_sz, PROT_READ);
	ok = ok && intact(&a, 0, NR_PTES, 13, 0);
	mprotect(a.p, page_sz, PROT_READ | PROT_WRITE);
	ok = ok && pmd_mapped_kb(&a) == 0 &&
	     xhp_vma_smaps_kb(a.p, "Rss:") == (long)(PMD_SZ >> 10);
	if (!ok)
		ksft_print_msg("no PTE-mapped huge folio: ShmemPmdMapped %ld kB, Rss %ld kB\n",
			       pmd_mapped_kb(&a), xhp_vma_smaps_kb(a.p, "Rss:"));
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	c0 = xhp_knob("pages_collapsed");
	huge = run_scanner(&a, &advise, true, &ms);
	ok = ok && huge && intact(&a, 0, NR_PTES, 13, 0);
	verdict("shmem_collapse_full_of_compound", ok, c0, 1, ms);
	area_free(&a);
}

/* --- shmem_enabled, huge= and the per-size file ------------------------------- */

static bool tmpfs_mount(const char *huge)
{
	char opts[64];

	snprintf(opts, sizeof(opts), "huge=%s,size=64m", huge);
	mkdir(TMPFS_DIR, 0700);
	if (mount("tmpfs", TMPFS_DIR, "tmpfs", 0, opts)) {
		ksft_print_msg("mount tmpfs %s: %s\n", opts, strerror(errno));
		return false;
	}
	return true;
}

static bool tmpfs_remount(const char *huge)
{
	char opts[64];

	snprintf(opts, sizeof(opts), "huge=%s", huge);
	return !mount("tmpfs", TMPFS_DIR, "tmpfs", MS_REMOUNT, opts);
}

static void tmpfs_umount(void)
{
	umount(TMPFS_DIR);
	rmdir(TMPFS_DIR);
}

/*
 * A tmpfs file with huge=@huge at collapse time, faulted small under
 * huge=never first (else the fault itself would allocate THPs).
 */
static void tmpfs_case(const char *name, const char *huge, bool madv,
		       const struct policy *pol, bool expect)
{
	long c0, ms;
	struct area a;
	bool huge_now, ok;

	if (!tmpfs_mount("never")) {
		ksft_test_result_fail("%s: no tmpfs\n", name);
		return;
	}
	area_alloc(&a, TMPFS, 1, 0);
	fill(&a, 0, NR_PTES, 21);
	if (madv)
		madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	ok = tmpfs_remount(huge) && pmd_mapped_kb(&a) == 0;
	c0 = xhp_knob("pages_collapsed");
	huge_now = run_scanner(&a, pol, expect, &ms);
	ok = ok && huge_now == expect && intact(&a, 0, NR_PTES, 21, 0);
	verdict(name, ok, c0, expect ? 1 : 0, ms);
	area_free(&a);
	tmpfs_umount();
}

static void shmem_modes(void)
{
	static const struct policy never_running = {
		.enabled = "madvise", .shmem = "never" };
	static const struct policy deny_running = {
		.enabled = "madvise", .shmem = "deny" };
	static const struct policy always = { .shmem = "always" };
	static const struct policy within = { .shmem = "within_size" };
	static const struct policy force = { .shmem = "force" };
	static const struct policy advise_anon_running = {
		.enabled = "madvise", .shmem = "advise" };

	/* never and deny: the scanner runs (anon enabled) but leaves it. */
	one_case("shmem_enabled_never_blocks_advised_memfd", MEMFD, 1, 0, 0,
		 NR_PTES, true, &never_running, false, "vma_check");
	one_case("shmem_enabled_deny_blocks_advised_memfd", MEMFD, 1, 0, 0,
		 NR_PTES, true, &deny_running, false, "vma_check");
	/* advise: MADV_HUGEPAGE needed, whatever enabled says. */
	one_case("shmem_enabled_advise_skips_unadvised", MEMFD, 1, 0, 0,
		 NR_PTES, false, &advise_anon_running, false, "vma_check");
	one_case("shmem_enabled_advise_with_enabled_never", MEMFD, 1, 0, 0,
		 NR_PTES, true, &advise, true, NULL);
	one_case("shmem_enabled_always_collapses_unadvised", MEMFD, 1, 0, 0,
		 NR_PTES, false, &always, true, NULL);
	/* within_size: only where a PMD page lies inside i_size. */
	one_case("shmem_enabled_within_size_inside", MEMFD, 1, PMD_SZ, 0,
		 NR_PTES, false, &within, true, NULL);
	one_case("shmem_enabled_within_size_past_eof", MEMFD, 1, PMD_SZ / 2,
		 0, NR_PTES / 2, false, &within, false, "vma_check");
	one_case("shmem_enabled_force_collapses_unadvised", MEMFD, 1, 0, 0,
		 NR_PTES, false, &force, true, NULL);
	one_case("sysv_shm_collapse", SYSV, 1, 0, 0, NR_PTES, true, &advise,
		 true, NULL);
}

static void tmpfs_modes(void)
{
	static const struct policy never_running = {
		.enabled = "madvise", .shmem = "never" };
	static const struct policy deny_running = {
		.enabled = "madvise", .shmem = "deny" };
	static const struct policy force = { .shmem = "force" };

	/* A mount's huge= is its own policy; deny and force override it. */
	tmpfs_case("tmpfs_huge_always_collapses_under_never", "always", false,
		   &never_running, true);
	tmpfs_case("tmpfs_huge_never_ignores_advise", "never", true, &advise,
		   false);
	tmpfs_case("tmpfs_huge_advise_collapses_advised", "advise", true,
		   &never_running, true);
	tmpfs_case("tmpfs_shmem_enabled_deny_overrides_huge_always", "always",
		   false, &deny_running, false);
	tmpfs_case("tmpfs_shmem_enabled_force_overrides_huge_never", "never",
		   false, &force, true);
}

/* hugepages-2048kB/shmem_enabled governs MAP_SHARED anonymous memory only. */
static void per_size_modes(void)
{
	static const struct policy size_never = {
		.enabled = "madvise", .shmem = "always", .pmd_shmem = "never" };
	static const struct policy size_always = {
		.shmem = "never", .pmd_shmem = "always" };
	static const struct policy size_advise = {
		.shmem = "never", .pmd_shmem = "advise" };
	static const struct policy inherit_always = { .shmem = "always" };

	if (!have_sizes) {
		ksft_test_result_skip("anon_shared_size_never_blocks_under_always: no per-size files on this kernel\n");
		ksft_test_result_skip("anon_shared_size_always_collapses_under_never: no per-size files on this kernel\n");
		ksft_test_result_skip("anon_shared_size_advise_collapses_advised: no per-size files on this kernel\n");
		one_case("anon_shared_follows_top_level", ANON_SHARED, 1, 0, 0,
			 NR_PTES, false, &inherit_always, true, NULL);
		ksft_test_result_skip("memfd_ignores_size_never: no per-size files on this kernel\n");
		return;
	}
	one_case("anon_shared_size_never_blocks_under_always", ANON_SHARED, 1,
		 0, 0, NR_PTES, true, &size_never, false, "vma_check");
	one_case("anon_shared_size_always_collapses_under_never", ANON_SHARED,
		 1, 0, 0, NR_PTES, false, &size_always, true, NULL);
	one_case("anon_shared_size_advise_collapses_advised", ANON_SHARED, 1,
		 0, 0, NR_PTES, true, &size_advise, true, NULL);
	one_case("anon_shared_inherit_follows_top_level", ANON_SHARED, 1, 0, 0,
		 NR_PTES, false, &inherit_always, true, NULL);
	one_case("memfd_ignores_size_never", MEMFD, 1, 0, 0, NR_PTES, false,
		 &size_never, true, NULL);
}

/*
 * scan_order=hot sweeps shmem VMAs: a memfd range kept busy reads hot (its
 * PMD entry's accessed bit, set by the walker above a shmem PTE table, as
 * above an anonymous one). While it fails judgement (max_ptes_none=0, half
 * of it empty) only the sweep can count it; then it collapses.
 */
static void hot_first_sweeps_shmem(void)
{
	long c0, hot0, t0;
	struct area a;
	bool ok = true, huge = false, hot = false;
	int i;

	write_or_die(XHP_DIR "/khugepaged/scan_order", "hot");
	set_knob("max_ptes_none", 0);
	area_alloc(&a, MEMFD, 1, 0);
	fill(&a, 0, NR_PTES / 2, 31);
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	hot0 = xhp_knob("hot_ranges");
	c0 = xhp_knob("pages_collapsed");
	t0 = now_ms();
	set_policy(&advise);
	while (!hot && now_ms() - t0 < WAIT_MS) {
		for (i = 0; i < NR_PTES / 2; i++)
			ok &= a.p[i * page_sz] == (char)xhp_pattern(i, 31);
		hot = xhp_knob("hot_ranges") > hot0;
		usleep(20000);
	}
	ok = ok && hot && !area_huge(&a);
	set_knob("max_ptes_none", NR_PTES - 1);
	while (ok && !huge && now_ms() - t0 < 2 * WAIT_MS) {
		for (i = 0; i < NR_PTES / 2; i++)
			ok &= a.p[i * page_sz] == (char)xhp_pattern(i, 31);
		huge = area_huge(&a);
		usleep(20000);
	}
	policy_off();
	write_or_die(XHP_DIR "/khugepaged/scan_order", "fifo");
	ok = ok && huge && intact(&a, 0, NR_PTES / 2, 31, 0);
	verdict("hot_first_sweeps_shmem", ok, c0, 1, now_ms() - t0);
	area_free(&a);
}

/*
 * scan_order=hot puts a hot shmem range ahead of cold ones: a busy memfd
 * range above 16 cold ones, which an address-order scan reaches first, with
 * a budget of two PMDs per wake (a quarter of it kept for that scan). The
 * module is loaded afresh after both are faulted, so its first visit primes
 * the process and the faults do not read as touches. The hot range must be
 * huge while most of the cold memory is not; then the module is loaded back
 * as main() had it.
 */
static void hot_shmem_goes_first(void)
{
	long c0, t0, cold_kb = -1, cold_total = 16 * (long)(PMD_SZ >> 10);
	struct area hot, cold;
	bool ok, huge = false;
	int i;

	area_alloc(&hot, MEMFD, 1, 0);
	area_alloc(&cold, MEMFD, 16, 0);
	fill(&hot, 0, NR_PTES, 35);
	fill(&cold, 0, 16 * NR_PTES, 36);
	madvise(hot.p, PMD_SZ, MADV_HUGEPAGE);
	madvise(cold.p, 16 * PMD_SZ, MADV_HUGEPAGE);
	ok = cold.p < hot.p;
	if (!ok)
		ksft_print_msg("cold area not below the hot one\n");
	if (xhp_load_module("enabled=never shmem_enabled=never scan_sleep_millisecs=50 pages_to_scan=1024 scan_order=hot"))
		ksft_exit_fail_msg("cannot reload the module\n");
	c0 = xhp_knob("pages_collapsed");
	t0 = now_ms();
	set_policy(&advise);
	while (ok && !huge && now_ms() - t0 < WAIT_MS) {
		for (i = 0; i < NR_PTES; i++)
			ok &= hot.p[i * page_sz] == (char)xhp_pattern(i, 35);
		huge = area_huge(&hot);
		if (huge)
			cold_kb = pmd_mapped_kb(&cold);
		usleep(20000);
	}
	policy_off();
	ok = ok && huge && cold_kb < cold_total / 2 &&
	     intact(&hot, 0, NR_PTES, 35, 0) &&
	     intact(&cold, 0, 16 * NR_PTES, 36, 0);
	ksft_print_msg("%s: hot huge after %ld ms with %ld/%ld kB cold huge\n",
		       __func__, now_ms() - t0, cold_kb, cold_total);
	verdict("hot_shmem_goes_first", ok, c0, 1, now_ms() - t0);
	area_free(&cold);
	area_free(&hot);
	if (xhp_load_module(MAIN_PARAMS))
		ksft_exit_fail_msg("cannot load the module back\n");
}

/*
 * Anti-thrash backoff on shmem: a collapsed range whose PMD mapping is
 * split (zapped: a shmem PMD is not split into PTEs) within the window is
 * skipped afterwards, though its page cache is still one huge folio the
 * engine would map at once.
 */
static void backoff_covers_shmem(void)
{
	long c0 = xhp_knob("pages_collapsed"), ms, wasted0, skipped0, scans0, t0;
	struct area a;
	bool huge, ok;

	set_knob("backoff_window_millisecs", 60000);
	area_alloc(&a, MEMFD, 1, 0);
	fill(&a, 0, NR_PTES, 33);
	madvise(a.p, PMD_SZ, MADV_HUGEPAGE);
	huge = run_scanner(&a, &advise, true, &ms);
	wasted0 = xhp_read_num(XHP_DIR "/khugepaged/backoff_wasted");
	skipped0 = xhp_read_num(XHP_DIR "/khugepaged/backoff_skipped");
	/* Split the VMA and merge it back: the PMD goes, the folio stays. */
	mprotect(a.p, page_sz, PROT_READ);
	mprotect(a.p, page_sz, PROT_READ | PROT_WRITE);
	ok = huge && pmd_mapped_kb(&a) == 0 &&
	     xhp_read_num(XHP_DIR "/khugepaged/backoff_wasted") > wasted0;
	scans0 = xhp_knob("full_scans");
	t0 = now_ms();
	set_policy(&advise);
	while (xhp_knob("full_scans") < scans0 + 2 && now_ms() - t0 < WAIT_MS)
		usleep(10000);
	policy_off();
	ok = ok && xhp_knob("full_scans") >= scans0 + 2 && pmd_mapped_kb(&a) == 0 &&
	     xhp_read_num(XHP_DIR "/khugepaged/backoff_skipped") > skipped0 &&
	     intact(&a, 0, NR_PTES, 33, 0);
	set_knob("backoff_window_millisecs", 0);
	verdict("backoff_covers_shmem", ok, c0, 1, ms);
	area_free(&a);
}

/* The kernel's store rules for force: the PMD size alone may inherit. */
static void force_store_rules(void)
{
	const char *small = XHP_DIR "/hugepages-64kB/shmem_enabled";
	bool ok;

	if (!have_sizes) {
		ksft_test_result_skip("shmem_force_needs_pmd_size_alone_inheriting: no per-size files on this kernel\n");
		return;
	}
	ok = !xhp_write_str(small, "inherit") &&
	     xhp_write_str(XHP_DIR "/shmem_enabled", "force") == -EINVAL;
	ok = ok && !xhp_write_str(small, "never") &&
	     !xhp_write_str(XHP_DIR "/shmem_enabled", "force") &&
	     xhp_write_str(small, "inherit") == -EINVAL &&
	     !xhp_write_str(small, "always");
	ok = ok && !xhp_write_str(XHP_DIR "/shmem_enabled", "never") &&
	     !xhp_write_str(small, "never");
	ksft_test_result(ok, "shmem_force_needs_pmd_size_alone_inheriting\n");
}

int main(void)
{
	const char *missing;

	page_sz = sysconf(_SC_PAGESIZE);
	ksft_print_header();
	missing = xhp_test_needs();
	if (missing)
		ksft_exit_fail_msg("%s\n", missing);
	/* Faults make small pages: the kernel's own shmem policy off. */
	if (xhp_read_str(THP_DIR "/shmem_enabled", native_shmem,
			 sizeof(native_shmem)))
		ksft_exit_fail_msg("cannot read the native shmem_enabled\n");
	write_or_die(THP_DIR "/shmem_enabled", "never");
	if (xhp_load_module(MAIN_PARAMS))
		ksft_exit_fail_msg("cannot load the module\n");
	native_base = native_collapsed();
	have_sizes = !access(XHP_DIR PMD_SIZE_DIR, F_OK);
	ksft_set_plan(32);

	collapse_full();
	collapse_empty();
	collapse_single_pte_entry();
	collapse_max_ptes_none();
	collapse_max_ptes_swap();
	collapse_full_of_compound();
	shmem_modes();
	tmpfs_modes();
	per_size_modes();
	hot_first_sweeps_shmem();
	hot_shmem_goes_first();
	backoff_covers_shmem();
	force_store_rules();

	if (system("rmmod xhugepaged"))
		ksft_exit_fail_msg("rmmod failed\n");
	/* The value in brackets, e.g. "always within_size [never] ...". */
	if (strchr(native_shmem, '[')) {
		char *v = strchr(native_shmem, '[') + 1;

		*strchr(v, ']') = '\0';
		xhp_write_str(THP_DIR "/shmem_enabled", v);
	}
	ksft_finished();
}
