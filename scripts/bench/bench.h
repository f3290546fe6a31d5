/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the bench workloads thpbench.c and mglru.c. */
#ifndef XHP_BENCH_H
#define XHP_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/mman.h>

#include "xhp_test.h"	/* selftests/: PMD_SZ, MADV_COLLAPSE, the smaps reader */

#define MB (1UL << 20)

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A PMD-aligned read-write mapping of len bytes, its own VMA between
 * PROT_NONE guards; exits on failure.
 */
static inline char *map_aligned(size_t len)
{
	char *m = mmap(NULL, len + 3 * PMD_SZ, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *p;

	if (m == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	p = (char *)(((uintptr_t)m + 2 * PMD_SZ - 1) & ~(PMD_SZ - 1));
	if (mprotect(p, len, PROT_READ | PROT_WRITE)) {
		perror("mprotect");
		exit(1);
	}
	return p;
}

#endif
