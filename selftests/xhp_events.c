// SPDX-License-Identifier: GPL-2.0
/*
 * Drives each of xhugepaged's observability hooks a known number of times
 * and checks the exact counts and causes under
 * /sys/kernel/mm/xhugepaged/events/. Needs root and the module loaded.
 * Each THP is made with MADV_COLLAPSE and then marked MADV_NOHUGEPAGE, so
 * no scanner (native or ours) rebuilds what a case has just split.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "xhp_test.h"

#define EVENTS "/sys/kernel/mm/xhugepaged/events"
#define NATIVE_ENABLED "/sys/kernel/mm/transparent_hugepage/enabled"
#define PMD_SIZE_ (2UL << 20)

static long long counter(const char *event, const char *file)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), EVENTS "/%s/%s", event, file);
	if (xhp_read_str(path, buf, sizeof(buf)))
		ksft_exit_fail_msg("cannot read %s\n", path);
	return atoll(buf);
}

static void reset(void)
{
	if (xhp_write_str(EVENTS "/reset", "1"))
		ksft_exit_fail_msg("cannot reset counters\n");
}

/* One PMD-mapped THP, inside a mapping with room around it. */
struct thp {
	char *map;		/* what mmap returned, 3 * PMD size */
	char *huge;		/* the PMD-aligned THP inside it */
};

static bool make_thp(struct thp *t)
{
	t->map = mmap(NULL, 3 * PMD_SIZE_, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->map == MAP_FAILED)
		return false;
	t->huge = (char *)(((uintptr_t)t->map + PMD_SIZE_ - 1) &
			   ~(PMD_SIZE_ - 1));
	memset(t->huge, 0x5a, PMD_SIZE_);
	if (madvise(t->huge, PMD_SIZE_, MADV_COLLAPSE)) {
		ksft_print_msg("MADV_COLLAPSE: %s\n", strerror(errno));
		return false;
	}
	/* Keep scanners away; marks the whole VMA, so it does not split. */
	madvise(t->map, 3 * PMD_SIZE_, MADV_NOHUGEPAGE);
	return true;
}

static void drop_thp(struct thp *t)
{
	munmap(t->map, 3 * PMD_SIZE_);
}

/* Exactly one PMD split, with this cause and no other. */
static void expect_one_split(const char *name, const char *cause)
{
	char file[64];
	long long count = counter("split_pmd", "count");
	long long by_cause;

	snprintf(file, sizeof(file), "cause_%s", cause);
	by_cause = counter("split_pmd", file);
	ksft_print_msg("%s: split_pmd count=%lld %s=%lld\n", name, count, file,
		       by_cause);
	ksft_test_result(count == 1 && by_cause == 1, "%s\n", name);
}

static void test_mprotect(void)
{
	struct thp t;

	if (!make_thp(&t)) {
		ksft_test_result_fail("split_mprotect: no THP\n");
		return;
	}
	reset();
	mprotect(t.huge, PMD_SIZE_ / 2, PROT_READ);
	expect_one_split("split_mprotect", "mprotect");
	drop_thp(&t);
}

static void test_munmap(void)
{
	struct thp t;

	if (!make_thp(&t)) {
		ksft_test_result_fail("split_munmap: no THP\n");
		return;
	}
	reset();
	munmap(t.huge + PMD_SIZE_ - 4096, 4096);
	expect_one_split("split_munmap", "munmap");
	drop_thp(&t);
}

static void test_cow(void)
{
	int pipefd[2];
	struct thp t;
	pid_t pid;
	char c;

	if (!make_thp(&t) || pipe(pipefd)) {
		ksft_test_result_fail("split_cow: no THP\n");
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(pipefd[1]);
		/* Keep the THP shared until the parent has written. */
		read(pipefd[0], &c, 1);
		_exit(0);
	}
	close(pipefd[0]);
	reset();
	t.huge[100] = 1;
	expect_one_split("split_cow", "cow");
	close(pipefd[1]);
	waitpid(pid, NULL, 0);
	drop_thp(&t);
}

static void test_dontneed(void)
{
	struct thp t;

	if (!make_thp(&t)) {
		ksft_test_result_fail("split_dontneed: no THP\n");
		return;
	}
	reset();
	madvise(t.huge, 64 * 1024, MADV_DONTNEED);
	expect_one_split("split_dontneed", "dontneed");
	drop_thp(&t);
}

static void test_mremap(void)
{
	struct thp t;
	char *dst;

	if (!make_thp(&t)) {
		ksft_test_result_fail("split_mremap: no THP\n");
		return;
	}
	dst = mmap(NULL, PMD_SIZE_ / 2, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reset();
	mremap(t.huge, PMD_SIZE_ / 2, PMD_SIZE_ / 2,
	       MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	expect_one_split("split_mremap", "mremap");
	munmap(dst, PMD_SIZE_ / 2);
	drop_thp(&t);
}

static void test_madvise_collapse(void)
{
	long long count, by_madvise, total, max, engine;
	struct thp t;

	reset();
	if (!make_thp(&t)) {
		ksft_test_result_fail("madvise_collapse: no THP\n");
		return;
	}
	count = counter("madvise_collapse", "count");
	by_madvise = counter("madvise_collapse", "initiator_madvise");
	total = counter("madvise_collapse", "total_ns");
	max = counter("madvise_collapse", "max_ns");
	engine = counter("collapse_huge_page", "initiator_madvise");
	ksft_print_msg("madvise_collapse: count=%lld initiator_madvise=%lld total_ns=%lld max_ns=%lld collapse_huge_page/initiator_madvise=%lld\n",
		       count, by_madvise, total, max, engine);
	ksft_test_result(by_madvise == 1 && count >= 1 && total > 0 &&
			 max > 0 && max <= total && engine == 1,
			 "madvise_collapse\n");
	drop_thp(&t);
}

/* Write back the bracketed choice of a "a [b] c" file read earlier. */
static void restore_choice(const char *path, char *saved)
{
	char *b = strchr(saved, '['), *e = b ? strchr(b, ']') : NULL;

	if (e) {
		*e = '\0';
		xhp_write_str(path, b + 1);
	}
}

/*
 * A memfd range of small pages at a PMD-aligned address, file offset 0, in
 * a mapping with room around it. The kernel's own shmem policy is set to
 * never while it is faulted (restored after), so its pages are small.
 */
struct shm_range {
	char *map;		/* PROT_NONE reservation, 3 * PMD size */
	char *huge;		/* the PMD-aligned range inside it */
	int fd;
};

static bool build_shm_range(struct shm_range *r)
{
	const char *native = "/sys/kernel/mm/transparent_hugepage/shmem_enabled";
	char saved[128];
	bool ok;

	r->fd = -1;
	r->map = mmap(NULL, 3 * PMD_SIZE_, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->map == MAP_FAILED)
		return false;
	r->huge = (char *)(((uintptr_t)r->map + PMD_SIZE_ - 1) &
			   ~(PMD_SIZE_ - 1));
	r->fd = memfd_create("xhp_events", 0);
	if (r->fd < 0 || ftruncate(r->fd, PMD_SIZE_) ||
	    mmap(r->huge, PMD_SIZE_, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, r->fd, 0) != r->huge)
		return false;
	if (xhp_read_str(native, saved, sizeof(saved)))
		return false;
	xhp_write_str(native, "never");
	memset(r->huge, 0x6b, PMD_SIZE_);
	restore_choice(native, saved);
	ok = xhp_vma_smaps_kb(r->huge, "ShmemPmdMapped:") == 0;
	if (!ok)
		ksft_print_msg("memfd range PMD-mapped on fault\n");
	return ok;
}

static void drop_shm_range(struct shm_range *r)
{
	if (r->map != MAP_FAILED)
		munmap(r->map, 3 * PMD_SIZE_);
	if (r->fd >= 0)
		close(r->fd);
}

/* A memfd range for case @name, or the case failed and nothing is left. */
static bool make_shm_range(struct shm_range *r, const char *name)
{
	if (build_shm_range(r))
		return true;
	ksft_test_result_fail("%s: no memfd range\n", name);
	drop_shm_range(r);
	return false;
}

/* MADV_COLLAPSE of a memfd range: the shmem engine, once, by madvise. */
static void test_collapse_file_madvise(void)
{
	long long count, by_madvise, failed, total, max, anon;
	struct shm_range r;
	bool huge;

	if (!make_shm_range(&r, "collapse_file_madvise"))
		return;
	reset();
	if (madvise(r.huge, PMD_SIZE_, MADV_COLLAPSE))
		ksft_print_msg("MADV_COLLAPSE memfd: %s\n", strerror(errno));
	huge = xhp_vma_smaps_kb(r.huge, "ShmemPmdMapped:") >= 2048;
	count = counter("collapse_file", "count");
	by_madvise = counter("collapse_file", "initiator_madvise");
	failed = counter("collapse_file", "failed");
	total = counter("collapse_file", "total_ns");
	max = counter("collapse_file", "max_ns");
	anon = counter("collapse_huge_page", "count");
	ksft_print_msg("collapse_file_madvise: huge=%d count=%lld initiator_madvise=%lld failed=%lld total_ns=%lld max_ns=%lld collapse_huge_page/count=%lld\n",
		       huge, count, by_madvise, failed, total, max, anon);
	ksft_test_result(huge && count == 1 && by_madvise == 1 && !failed &&
			 total > 0 && max > 0 && max <= total && anon == 0,
			 "collapse_file_madvise\n");
	drop_shm_range(&r);
}

/*
 * The module's scanner collapsing a memfd range (its shmem_enabled=advise
 * for the case): counted as xhugepaged's, in the shmem engine.
 */
static void test_collapse_file_scanner(void)
{
	const char *shmem = "/sys/kernel/mm/xhugepaged/shmem_enabled";
	long long by_us = 0, by_madvise;
	struct shm_range r;
	int i;

	if (!make_shm_range(&r, "collapse_file_xhugepaged"))
		return;
	madvise(r.huge, PMD_SIZE_, MADV_HUGEPAGE);
	reset();
	/* The write queues the process (the queue rules changed). */
	if (xhp_write_str(shmem, "advise")) {
		ksft_test_result_fail("collapse_file_xhugepaged: cannot set shmem_enabled\n");
		drop_shm_range(&r);
		return;
	}
	for (i = 0; i < 300 && by_us == 0; i++) {
		usleep(100 * 1000);
		by_us = counter("collapse_file", "initiator_xhugepaged");
	}
	xhp_write_str(shmem, "never");
	by_madvise = counter("collapse_file", "initiator_madvise");
	ksft_print_msg("collapse_file_xhugepaged: initiator_xhugepaged=%lld initiator_madvise=%lld after %d ms, ShmemPmdMapped=%ld kB\n",
		       by_us, by_madvise, i * 100,
		       xhp_vma_smaps_kb(r.huge, "ShmemPmdMapped:"));
	ksft_test_result(by_us >= 1 && by_madvise == 0,
			 "collapse_file_xhugepaged\n");
	drop_shm_range(&r);
}

static void test_zap(void)
{
	struct thp t;
	long long count, by_munmap;

	if (!make_thp(&t)) {
		ksft_test_result_fail("zap_munmap: no THP\n");
		return;
	}
	reset();
	drop_thp(&t);
	count = counter("zap_pmd", "count");
	by_munmap = counter("zap_pmd", "cause_munmap");
	ksft_print_msg("zap_munmap: zap_pmd count=%lld cause_munmap=%lld\n",
		       count, by_munmap);
	ksft_test_result(count == 1 && by_munmap == 1, "zap_munmap\n");
}

/* A fault-THP needs the native policy to allow one for a moment. */
static void test_huge_fault(void)
{
	char saved[128], *open_br, *close_br;
	long long count, fallback;
	struct thp t;

	open_br = close_br = NULL;
	if (!xhp_read_str(NATIVE_ENABLED, saved, sizeof(saved)))
		open_br = strchr(saved, '[');
	if (open_br)
		close_br = strchr(open_br, ']');
	if (!close_br) {
		ksft_test_result_skip("huge_fault: no native THP policy\n");
		return;
	}
	*close_br = '\0';
	t.map = mmap(NULL, 2 * PMD_SIZE_, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t.huge = (char *)(((uintptr_t)t.map + PMD_SIZE_ - 1) &
			  ~(PMD_SIZE_ - 1));
	xhp_write_str(NATIVE_ENABLED, "always");
	reset();
	t.huge[0] = 1;
	count = counter("huge_fault", "count");
	fallback = counter("huge_fault", "fallback");
	xhp_write_str(NATIVE_ENABLED, open_br + 1);
	munmap(t.map, 2 * PMD_SIZE_);
	ksft_print_msg("huge_fault: count=%lld fallback=%lld\n", count,
		       fallback);
	ksft_test_result(count == 1 && fallback == 0, "huge_fault\n");
}

/*
 * Deferred split: a partially unmapped THP waits on the deferred split
 * queue; drop_caches=2 runs every slab shrinker, this one included, in
 * our own task, which makes it deterministic. Other partially mapped THPs
 * in the system would be split too, hence "at least" for the scan.
 */
static void test_deferred_split(void)
{
	long long scans, by_shrinker, split;
	struct thp t;

	if (!make_thp(&t)) {
		ksft_test_result_fail("deferred_split: no THP\n");
		return;
	}
	munmap(t.huge, 4096);
	reset();
	if (xhp_write_str("/proc/sys/vm/drop_caches", "2")) {
		ksft_test_result_skip("deferred_split: no drop_caches\n");
		drop_thp(&t);
		return;
	}
	scans = counter("deferred_split_scan", "count");
	split = counter("deferred_split_scan", "folios_split");
	by_shrinker = counter("split_folio", "cause_shrinker");
	ksft_print_msg("deferred_split: scans=%lld folios_split=%lld split_folio/cause_shrinker=%lld split_folio/count=%lld\n",
		       scans, split, by_shrinker, counter("split_folio", "count"));
	ksft_test_result(scans >= 1 && split >= 1 && by_shrinker == split,
			 "deferred_split\n");
	drop_thp(&t);
}

/*
 * Native khugepaged collapsing a region it was told of by MADV_HUGEPAGE,
 * with xhugepaged's own scanner off so it cannot get there first.
 */
static void test_khugepaged(void)
{
	const char *kd = "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs";
	const char *ours = "/sys/kernel/mm/xhugepaged/enabled";
	char saved_native[128], saved_sleep[32], saved_ours[128], *b, *e;
	long long by_khugepaged = 0;
	struct thp t;
	int i;

	if (xhp_read_str(NATIVE_ENABLED, saved_native, sizeof(saved_native)) ||
	    xhp_read_str(kd, saved_sleep, sizeof(saved_sleep)) ||
	    xhp_read_str(ours, saved_ours, sizeof(saved_ours))) {
		ksft_test_result_skip("collapse_khugepaged: no native knobs\n");
		return;
	}
	t.map = mmap(NULL, 3 * PMD_SIZE_, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t.huge = (char *)(((uintptr_t)t.map + PMD_SIZE_ - 1) &
			  ~(PMD_SIZE_ - 1));
	xhp_write_str(ours, "never");
	xhp_write_str(kd, "100");
	xhp_write_str(NATIVE_ENABLED, "madvise");
	memset(t.huge, 1, PMD_SIZE_);		/* small pages: no advice yet */
	reset();
	madvise(t.map, 3 * PMD_SIZE_, MADV_HUGEPAGE);	/* tells khugepaged */
	/*
	 * A hang bound of 60 s: parked, khugepaged judges one PMD range per
	 * 100 ms wake and may first go through the other queued mms.
	 */
	for (i = 0; i < 600 && by_khugepaged == 0; i++) {
		usleep(100 * 1000);
		by_khugepaged = counter("collapse_huge_page",
					"initiator_khugepaged");
	}
	ksft_print_msg("collapse_khugepaged: collapse_huge_page/initiator_khugepaged=%lld after %d ms\n",
		       by_khugepaged, i * 100);
	/* Put back the bracketed choices. */
	for (b = saved_native; (b = strchr(b, '[')) && (e = strchr(b, ']'));) {
		*e = '\0';
		xhp_write_str(NATIVE_ENABLED, b + 1);
		break;
	}
	for (b = saved_ours; (b = strchr(b, '[')) && (e = strchr(b, ']'));) {
		*e = '\0';
		xhp_write_str(ours, b + 1);
		break;
	}
	xhp_write_str(kd, saved_sleep);
	munmap(t.map, 3 * PMD_SIZE_);
	ksft_test_result(by_khugepaged >= 1, "collapse_khugepaged\n");
}

/*
 * Native khugepaged collapsing a memfd range (its enabled=madvise and
 * shmem_enabled=advise for the case; on 6.12 the anonymous policy must be
 * on for khugepaged to run at all), with xhugepaged's scanner off.
 */
static void test_khugepaged_shmem(void)
{
	const char *kd = "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs";
	const char *native_shmem = "/sys/kernel/mm/transparent_hugepage/shmem_enabled";
	const char *ours = "/sys/kernel/mm/xhugepaged/enabled";
	char saved_native[128], saved_shmem[128], saved_sleep[32],
	     saved_ours[128];
	long long by_khugepaged = 0;
	struct shm_range r;
	int i;

	if (xhp_read_str(NATIVE_ENABLED, saved_native, sizeof(saved_native)) ||
	    xhp_read_str(native_shmem, saved_shmem, sizeof(saved_shmem)) ||
	    xhp_read_str(kd, saved_sleep, sizeof(saved_sleep)) ||
	    xhp_read_str(ours, saved_ours, sizeof(saved_ours))) {
		ksft_test_result_skip("collapse_file_khugepaged: no native knobs\n");
		return;
	}
	if (!make_shm_range(&r, "collapse_file_khugepaged"))
		return;
	xhp_write_str(ours, "never");
	xhp_write_str(kd, "100");
	xhp_write_str(NATIVE_ENABLED, "madvise");
	reset();
	/* Faulted small above; now the policy allows, and the advice tells it. */
	xhp_write_str(native_shmem, "advise");
	madvise(r.huge, PMD_SIZE_, MADV_HUGEPAGE);
	/* A hang bound of 60 s, as in test_khugepaged(). */
	for (i = 0; i < 600 && by_khugepaged == 0; i++) {
		usleep(100 * 1000);
		by_khugepaged = counter("collapse_file", "initiator_khugepaged");
	}
	ksft_print_msg("collapse_file_khugepaged: collapse_file/initiator_khugepaged=%lld failed=%lld after %d ms\n",
		       by_khugepaged, counter("collapse_file", "failed"),
		       i * 100);
	restore_choice(NATIVE_ENABLED, saved_native);
	restore_choice(native_shmem, saved_shmem);
	restore_choice(ours, saved_ours);
	xhp_write_str(kd, saved_sleep);
	drop_shm_range(&r);
	ksft_test_result(by_khugepaged >= 1, "collapse_file_khugepaged\n");
}

static void test_enabled_knob(void)
{
	char buf[16];
	struct thp t;
	long long off_count, on_count;
	bool rejected;

	rejected = xhp_write_str(EVENTS "/enabled", "2") == -EINVAL &&
		   !xhp_read_str(EVENTS "/enabled", buf, sizeof(buf)) &&
		   atoi(buf) == 1;
	ksft_test_result(rejected, "events_enabled_rejects_bad_input\n");

	if (xhp_write_str(EVENTS "/enabled", "0")) {
		ksft_test_result_fail("events_enabled_0_stops\n");
		return;
	}
	if (!make_thp(&t)) {
		xhp_write_str(EVENTS "/enabled", "1");
		ksft_test_result_fail("events_enabled_0_stops: no THP\n");
		return;
	}
	reset();
	mprotect(t.huge, PMD_SIZE_ / 2, PROT_READ);
	off_count = counter("split_pmd", "count") +
		    counter("madvise_collapse", "count");
	drop_thp(&t);
	ksft_test_result(off_count == 0, "events_enabled_0_stops\n");

	if (xhp_write_str(EVENTS "/enabled", "1") || !make_thp(&t)) {
		ksft_test_result_fail("events_enabled_1_resumes\n");
		return;
	}
	reset();
	mprotect(t.huge, PMD_SIZE_ / 2, PROT_READ);
	on_count = counter("split_pmd", "cause_mprotect");
	drop_thp(&t);
	ksft_print_msg("events/enabled: off=%lld on=%lld\n", off_count,
		       on_count);
	ksft_test_result(on_count == 1, "events_enabled_1_resumes\n");
}

int main(void)
{
	ksft_print_header();
	if (access(EVENTS "/enabled", W_OK))
		ksft_exit_skip("xhugepaged not loaded or not root\n");
	if (xhp_write_str(EVENTS "/enabled", "1"))
		ksft_exit_fail_msg("cannot enable events\n");
	ksft_set_plan(16);

	test_mprotect();
	test_munmap();
	test_cow();
	test_dontneed();
	test_mremap();
	test_madvise_collapse();
	test_collapse_file_madvise();
	test_collapse_file_scanner();
	test_zap();
	test_huge_fault();
	test_deferred_split();
	test_khugepaged();
	test_khugepaged_shmem();
	test_enabled_knob();

	ksft_finished();
}
