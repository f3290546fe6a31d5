// SPDX-License-Identifier: GPL-2.0
/*
 * Workload for the hot-first test: a cold region placed
 * at lower addresses than a hot region, so that an address-order (FIFO)
 * scan reaches the cold one first. Both are faulted and advised
 * MADV_HUGEPAGE; then only the hot one is touched, continuously. Prints
 *   ready
 *   hot_huge T COLD_KB      when all of the hot region is PMD-mapped
 *   cold_huge T             when all of the cold region is too
 * (T: seconds since "ready"; COLD_KB: cold memory already huge by then) and
 * exits 0 once both happened, 1 at TIMEOUT_S.
 * Usage: xhp_hotfirst COLD_MB HOT_MB TIMEOUT_S
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "xhp_test.h"

#define PMD_SZ (2UL << 20)
#define MB (1UL << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long cold_mb, hot_mb, hot_kb = 0, cold_kb = 0;
	double t0, hot_at = -1;
	size_t off, page = sysconf(_SC_PAGESIZE);
	char *base, *cold, *hot;
	int timeout, i;

	if (argc != 4) {
		fprintf(stderr, "usage: %s COLD_MB HOT_MB TIMEOUT_S\n", argv[0]);
		return 2;
	}
	cold_mb = atol(argv[1]);
	hot_mb = atol(argv[2]);
	timeout = atoi(argv[3]);
	/* One reservation: cold, a PROT_NONE gap, hot; PMD-aligned. */
	base = mmap(NULL, (cold_mb + hot_mb) * MB + 3 * PMD_SZ, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	cold = (char *)(((uintptr_t)base + PMD_SZ - 1) & ~(PMD_SZ - 1));
	hot = cold + cold_mb * MB + PMD_SZ;
	if (mprotect(cold, cold_mb * MB, PROT_READ | PROT_WRITE) ||
	    mprotect(hot, hot_mb * MB, PROT_READ | PROT_WRITE)) {
		perror("mprotect");
		return 2;
	}
	/* Small pages first (not advised yet, so no fault makes a THP). */
	for (off = 0; off < cold_mb * MB; off += page)
		cold[off] = 1;
	for (off = 0; off < hot_mb * MB; off += page)
		hot[off] = 1;
	if (madvise(cold, cold_mb * MB, MADV_HUGEPAGE) ||
	    madvise(hot, hot_mb * MB, MADV_HUGEPAGE)) {
		perror("madvise");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	t0 = now_s();
	while (now_s() - t0 < timeout) {
		for (i = 0; i < 5; i++) {
			for (off = PMD_SZ / 2; off < hot_mb * MB; off += PMD_SZ)
				hot[off]++;
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
			return 0;
		}
	}
	printf("timeout hot_kb %ld cold_kb %ld\n", hot_kb, cold_kb);
	return 1;
}
