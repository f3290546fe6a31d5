/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the C selftests: sysfs knobs of xhugepaged, the
 * module's loader, a clock, test patterns. No kselftest.h here:
 * scripts/bench/ and the tools built from selftests/ sources include it too.
 */
#ifndef XHP_TEST_H
#define XHP_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/utsname.h>

/* Older C libraries' headers lack these. */
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define PMD_SZ (2UL << 20)

#define XHP_DIR "/sys/kernel/mm/xhugepaged"
#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

/* Read a sysfs file into buf (newline stripped); -errno on failure. */
static inline int xhp_read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/* Write a string to a sysfs file; 0 or -errno of the write. */
static inline int xhp_write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

static inline long xhp_read_num(const char *path)
{
	char buf[64];

	if (xhp_read_str(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

static inline int xhp_write_num(const char *path, unsigned long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu", v);
	return xhp_write_str(path, buf);
}
/* The module's khugepaged/ knobs and scan_results/ counters by name. */
static inline long xhp_knob(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), XHP_DIR "/khugepaged/%s", name);
	return xhp_read_num(path);
}

static inline int xhp_set_knob(const char *name, unsigned long v)
{
	char path[256];

	snprintf(path, sizeof(path), XHP_DIR "/khugepaged/%s", name);
	return xhp_write_num(path, v);
}

static inline long xhp_scan_result(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), XHP_DIR "/khugepaged/scan_results/%s",
		 name);
	return xhp_read_num(path);
}


/* A field ("Rss:", "Swap:", ...) of the VMA holding @addr, in kB; -1 if none. */
static inline long xhp_vma_smaps_kb(const void *addr, const char *field)
{
	unsigned long start, end, target = (uintptr_t)addr;
	size_t flen = strlen(field);
	char line[512];
	bool in = false;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = target >= start && target < end;
			continue;
		}
		if (in && !strncmp(line, field, flen) &&
		    sscanf(line + flen, " %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* AnonHugePages of the VMA holding @addr, in kB; -1 if not found. */
static inline long xhp_vma_anon_huge_kb(const void *addr)
{
	return xhp_vma_smaps_kb(addr, "AnonHugePages:");
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A range turns PMD-mapped inside the engine, before madvise_collapse()
 * returns to the scanner, which only then counts it in pages_collapsed
 * (the backoff hears of it a moment earlier): a test that saw the range
 * huge waits for the count before it asserts on it or splits the range.
 * Polls until
 * pages_collapsed >= @base + @want or @bound_ms passed (a hang bound);
 * returns how far it got, so the caller's assertion stays its own.
 */
static inline long xhp_wait_collapsed(long base, long want, long bound_ms)
{
	long start = now_ms(), got;

	while ((got = xhp_knob("pages_collapsed") - base) < want &&
	       now_ms() - start < bound_ms)
		usleep(10000);
	return got;
}

/*
 * The scanner thread's pid, or 0 when there is none: the kernel thread
 * named "xhugepaged" (a kthread: no command line).
 */
static inline int xhp_scanner_pid(void)
{
	char path[300], comm[32], cmdline[64];
	struct dirent *d;
	DIR *proc = opendir("/proc");
	int pid = 0;

	if (!proc)
		return 0;
	while (!pid && (d = readdir(proc))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		if (xhp_read_str(path, comm, sizeof(comm)) ||
		    strcmp(comm, "xhugepaged"))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", d->d_name);
		if (xhp_read_str(path, cmdline, sizeof(cmdline)) || cmdline[0])
			continue;
		pid = atoi(d->d_name);
	}
	closedir(proc);
	return pid;
}

/*
 * Where the scanner thread sleeps, from /proc/PID/wchan: "xhp_sleep" in
 * its timed sleep between rounds (scan_sleep_millisecs, or
 * alloc_sleep_millisecs), "xhp_thread_fn" in its wait while enabled is
 * never; "" while it runs or is runnable, or when there is no thread.
 */
static inline void xhp_scanner_wchan(char *buf, size_t len)
{
	char path[64];
	int pid = xhp_scanner_pid();

	buf[0] = '\0';
	if (!pid)
		return;
	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	if (xhp_read_str(path, buf, len) || !strcmp(buf, "0"))
		buf[0] = '\0';
}

/* Is the scanner in its timed sleep between rounds? */
static inline bool xhp_scanner_in_sleep(void)
{
	char w[64];

	xhp_scanner_wchan(w, sizeof(w));
	return !strcmp(w, "xhp_sleep");
}

/* Is the scanner in one of its own sleeps (timed, or enabled=never)? */
static inline bool xhp_scanner_idle(void)
{
	char w[64];

	xhp_scanner_wchan(w, sizeof(w));
	return !strcmp(w, "xhp_sleep") || !strcmp(w, "xhp_thread_fn");
}

#ifdef _GNU_SOURCE
#include <sched.h>
/*
 * A page just faulted sits in its CPU's LRU-add batch, off the LRU, until
 * that CPU drains it; MADV_COLD and MADV_PAGEOUT drain only the calling
 * CPU's batches and pass over pages that are not on the LRU. A test that
 * faults pages and then ages or swaps them stays on one CPU from the first
 * fault to the madvise (xhp_pin_to_this_cpu() ... xhp_unpin()), else a
 * migration in between leaves pages of it in another CPU's batch: still
 * young, or still resident. 0, or -errno.
 */
static inline int xhp_pin_to_this_cpu(cpu_set_t *saved)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(*saved), saved))
		return -errno;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) ? -errno : 0;
}

static inline int xhp_unpin(const cpu_set_t *saved)
{
	return sched_setaffinity(0, sizeof(*saved), saved) ? -errno : 0;
}
#endif

/* Poll @cond every 10 ms until true or @bound_ms passed; its last value. */
static inline bool xhp_wait_until(bool (*cond)(void), long bound_ms)
{
	long start = now_ms();
	bool v;

	while (!(v = cond()) && now_ms() - start < bound_ms)
		usleep(10000);
	return v;
}

/*
 * The event hooks (events/) arm in a worker after the load: a read of
 * events/enabled returns once they are in. 0, or -1 if it failed.
 */
static inline int xhp_events_wait_armed(void)
{
	char buf[16];
	int fd = open(XHP_DIR "/events/enabled", O_RDONLY);
	ssize_t n;

	if (fd < 0) {
		perror(XHP_DIR "/events/enabled");
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	if (n <= 0)
		perror(XHP_DIR "/events/enabled");
	close(fd);
	return n > 0 ? 0 : -1;
}

/*
 * Module parameters for finit_module(): @n words joined by spaces into
 * @buf of @size bytes. 0, or -1 if they do not fit.
 */
static inline int xhp_join_params(char *buf, size_t size, char **words,
				  int n)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		int w = snprintf(buf + len, size - len, "%s%s", len ? " " : "",
				 words[i]);

		if (w < 0 || (size_t)w >= size - len)
			return -1;
		len += w;
	}
	return 0;
}

/*
 * Load xhugepaged with the module parameters @params, unloading it first
 * if it is loaded. The module is $XHP_KO, else, as selftests/lib.sh
 * chooses, the build for the running kernel, else kmod/'s. 0, or -1 when
 * rmmod or insmod failed. Like khugepaged, it scans from the load on; the
 * event hooks (events/) arm just after, and this waits for them.
 */
static inline int xhp_load_module(const char *params)
{
	const char *ko = getenv("XHP_KO");
	char cmd[512], own[256];
	struct utsname u;

	if (!ko && !uname(&u)) {
		snprintf(own, sizeof(own), "build/kmod-%s/xhugepaged.ko",
			 u.release);
		ko = access(own, F_OK) ? NULL : own;
	}
	if (!ko)
		ko = "kmod/xhugepaged.ko";

	if (!access(XHP_DIR, F_OK) && system("rmmod xhugepaged"))
		return -1;
	snprintf(cmd, sizeof(cmd), "insmod %s %s", ko, params);
	return system(cmd) ? -1 : xhp_events_wait_armed();
}

/*
 * What a test that loads the module needs before it starts: root, and
 * swap on zram as selftests/lib.sh sets it up. NULL, or what is missing.
 */
static inline const char *xhp_test_needs(void)
{
	if (geteuid())
		return "needs root";
	if (system("sh -c '. selftests/lib.sh && xhp_swap_on'"))
		return "cannot set up swap on zram";
	return NULL;
}

/*
 * The byte pattern of page @pg for @seed: never zero, so that a page that
 * reads zero (lost, or never written) cannot pass for a written one.
 */
static inline unsigned char xhp_pattern(size_t pg, int seed)
{
	return (unsigned char)((pg * 31 + seed) % 251 + 1);
}

/* Write pages [from, to) from @base, each of @page_sz bytes, with their pattern. */
static inline void xhp_fill(char *base, size_t page_sz, size_t from,
			    size_t to, int seed)
{
	size_t pg;

	for (pg = from; pg < to; pg++)
		memset(base + pg * page_sz, xhp_pattern(pg, seed), page_sz);
}

/* The first of the @len bytes at @q that is not @want, or @len if none. */
static inline size_t xhp_first_not(const unsigned char *q, size_t len,
				   unsigned char want)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (q[i] != want)
			break;
	return i;
}

#if defined(__KSELFTEST_H) && defined(_GNU_SOURCE)
/* For the KTAP tests (kselftest.h included first): fail the whole test. */

/* One CPU from the faults to the madvise that ages or swaps the pages. */
static inline cpu_set_t *xhp_pinned_from(void)
{
	static cpu_set_t saved;

	return &saved;
}

static inline void xhp_pin_or_die(void)
{
	if (xhp_pin_to_this_cpu(xhp_pinned_from()))
		ksft_exit_fail_msg("cannot pin to a CPU: %s\n", strerror(errno));
}

static inline void xhp_unpin_or_die(void)
{
	if (xhp_unpin(xhp_pinned_from()))
		ksft_exit_fail_msg("cannot unpin: %s\n", strerror(errno));
}

/*
 * xhp_wait_collapsed() for a range just seen PMD-mapped, saying so when
 * the count lagged; the assertions stay the caller's.
 */
static inline void xhp_wait_counted(long base, long want, long bound_ms)
{
	long start = now_ms(), seen = xhp_knob("pages_collapsed") - base, got;

	if (seen >= want)
		return;
	got = xhp_wait_collapsed(base, want, bound_ms);
	ksft_print_msg("pages_collapsed +%ld of +%ld when the range was seen huge, +%ld %ld ms later\n",
		       seen, want, got, now_ms() - start);
}
#endif

#endif
