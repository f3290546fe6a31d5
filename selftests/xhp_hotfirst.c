// SPDX-License-Identifier: GPL-2.0
/*
 * Workload for the hot-first test: a cold region placed at lower addresses
 * than a hot region, so that an address-order (FIFO) scan reaches the cold
 * one first. Both are faulted and advised MADV_HUGEPAGE; then only the hot
 * one is touched, continuously.
 *
 * With STUCK_MB > 0 there is also a region that stays hot but can never
 * collapse (written, then made read-only: page_ro), in this process above
 * the hot region and in a child process of its own: two mms, so that the
 * hot-first sweep always finds more young ranges than its budget holds and
 * only the share of the budget kept for the FIFO scan reaches the cold
 * region. Without that share the cold region would never become huge.
 *
 * Prints
 *   ready
 *   hot_huge T COLD_KB      when all of the hot region is PMD-mapped
 *   cold_huge T             when all of the cold region is too
 * (T: seconds since "ready"; COLD_KB: cold memory already huge by then) and
 * exits 0 once both happened, 1 at TIMEOUT_S (after "timeout ..."), 2 on
 * a setup error.
 * Usage: xhp_hotfirst COLD_MB HOT_MB STUCK_MB TIMEOUT_S
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xhp_test.h"

#define MB (1UL << 20)

static size_t page;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Written small pages, advised, then read-only: judged page_ro forever. */
static int stuck_setup(char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += page)
		p[off] = 1;
	if (madvise(p, len, MADV_HUGEPAGE) || mprotect(p, len, PROT_READ)) {
		perror("stuck region");
		return -1;
	}
	return 0;
}

/* A read through each PMD entry marks its 2 MiB young again. */
static void stuck_touch(const char *p, size_t len)
{
	size_t off;

	for (off = PMD_SZ / 2; off < len; off += PMD_SZ)
		(void)*(volatile const char *)(p + off);
}

/* The child's mm: only a stuck region, read until the parent goes. */
static void stuck_child(size_t len, pid_t parent)
{
	char *base, *p;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	base = mmap(NULL, len + PMD_SZ, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		_exit(2);
	p = (char *)(((uintptr_t)base + PMD_SZ - 1) & ~(PMD_SZ - 1));
	if (stuck_setup(p, len))
		_exit(2);
	while (getppid() == parent) {
		stuck_touch(p, len);
		usleep(20000);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	long cold_mb, hot_mb, stuck_mb, hot_kb = 0, cold_kb = 0;
	double t0, hot_at = -1;
	char *base, *cold, *hot, *stuck;
	pid_t child = 0;
	int timeout, i, rc = 2;	/* until set up */
	size_t off;

	if (argc != 5) {
		fprintf(stderr, "usage: %s COLD_MB HOT_MB STUCK_MB TIMEOUT_S\n",
			argv[0]);
		return 2;
	}
	page = sysconf(_SC_PAGESIZE);
	cold_mb = atol(argv[1]);
	hot_mb = atol(argv[2]);
	stuck_mb = atol(argv[3]);
	timeout = atoi(argv[4]);
	/* First, so the child's mm holds nothing of ours (no COW sharing). */
	if (stuck_mb) {
		pid_t parent = getpid();

		child = fork();
		if (child < 0) {
			perror("fork");
			return 2;
		}
		if (!child)
			stuck_child(stuck_mb * MB, parent);
	}
	/* One reservation: cold, gap, hot, gap, stuck; PMD-aligned. */
	base = mmap(NULL, (cold_mb + hot_mb + stuck_mb) * MB + 4 * PMD_SZ,
		    PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (base == MAP_FAILED) {
		perror("mmap");
		goto out;
	}
	cold = (char *)(((uintptr_t)base + PMD_SZ - 1) & ~(PMD_SZ - 1));
	hot = cold + cold_mb * MB + PMD_SZ;
	stuck = hot + hot_mb * MB + PMD_SZ;
	if (mprotect(cold, cold_mb * MB, PROT_READ | PROT_WRITE) ||
	    mprotect(hot, hot_mb * MB, PROT_READ | PROT_WRITE) ||
	    (stuck_mb &&
	     mprotect(stuck, stuck_mb * MB, PROT_READ | PROT_WRITE))) {
		perror("mprotect");
		goto out;
	}
	/* Small pages first (not advised yet, so no fault makes a THP). */
	for (off = 0; off < cold_mb * MB; off += page)
		cold[off] = 1;
	for (off = 0; off < hot_mb * MB; off += page)
		hot[off] = 1;
	if (madvise(cold, cold_mb * MB, MADV_HUGEPAGE) ||
	    madvise(hot, hot_mb * MB, MADV_HUGEPAGE)) {
		perror("madvise");
		goto out;
	}
	if (stuck_mb && stuck_setup(stuck, stuck_mb * MB))
		goto out;
	printf("ready\n");
	fflush(stdout);
	t0 = now_s();
	while (now_s() - t0 < timeout) {
		for (i = 0; i < 5; i++) {
			for (off = PMD_SZ / 2; off < hot_mb * MB; off += PMD_SZ)
				hot[off]++;
			if (stuck_mb)
				stuck_touch(stuck, stuck_mb * MB);
			usleep(20000);
		}
		hot_kb = xhp_vma_anon_huge_kb(hot);
		cold_kb = xhp_vma_anon_huge_kb(cold);
		if (hot_at < 0 && hot_kb == hot_mb * 1024) {
			hot_at = now_s() - t0;
			printf("hot_huge %.1f %ld\n", hot_at, cold_kb);
			fflush(stdout);
		}
		if (hot_at >= 0 && cold_kb == cold_mb * 1024) {
			printf("cold_huge %.1f\n", now_s() - t0);
			rc = 0;
			goto out;
		}
	}
	printf("timeout hot_kb %ld cold_kb %ld\n", hot_kb, cold_kb);
	rc = 1;
out:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	return rc;
}
