// SPDX-License-Identifier: GPL-2.0
/*
 * A small THP workload for the bpftrace tools' test: for SECONDS, keeps a
 * dense region for xhugepaged's scanner to collapse and a sparse one for it
 * to refuse, and ten times a second makes a THP with MADV_COLLAPSE, splits
 * its PMD with mprotect or munmap (in turn), and unmaps it.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#define PMD_SIZE_ (2UL << 20)

static char *pmd_align(char *p)
{
	return (char *)(((uintptr_t)p + PMD_SIZE_ - 1) & ~(PMD_SIZE_ - 1));
}

static char *map(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* One THP, split by mprotect or by munmap of one page, then unmapped. */
static void split_cycle(int i)
{
	char *m = map(3 * PMD_SIZE_), *huge = pmd_align(m);

	memset(huge, 1, PMD_SIZE_);
	if (!madvise(huge, PMD_SIZE_, MADV_COLLAPSE)) {
		if (i & 1)
			mprotect(huge, PMD_SIZE_ / 2, PROT_READ);
		else
			munmap(huge + PMD_SIZE_ - 4096, 4096);
	}
	munmap(m, 3 * PMD_SIZE_);
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 3;
	char *dense = pmd_align(map(3 * PMD_SIZE_));
	char *sparse = pmd_align(map(5 * PMD_SIZE_));
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	int i;

	memset(dense, 1, 2 * PMD_SIZE_);
	for (i = 0; i < 4; i++)
		sparse[i * PMD_SIZE_] = 1;
	printf("xhp_workload pid=%d seconds=%d\n", getpid(), seconds);
	fflush(stdout);
	for (i = 0; i < seconds * 10; i++) {
		split_cycle(i);
		nanosleep(&tick, NULL);
	}
	return 0;
}
