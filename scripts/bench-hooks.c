// SPDX-License-Identifier: GPL-2.0
/*
 * bench-hooks ITERATIONS: the THP paths xhugepaged's hooks sit on, as fast
 * as they go. Each iteration maps 4 MiB, faults a 2 MiB-aligned half in
 * (one huge fault when THP is on), faults 64 small pages elsewhere, splits
 * the THP with mprotect and with munmap of one page, and unmaps it all.
 * Prints the elapsed nanoseconds.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define PMD_SIZE_ (2UL << 20)

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 1000;
	unsigned long long t0 = now_ns();
	long i, j;

	for (i = 0; i < iterations; i++) {
		char *m = mmap(NULL, 2 * PMD_SIZE_, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *huge;

		if (m == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		huge = (char *)(((uintptr_t)m + PMD_SIZE_ - 1) &
				~(PMD_SIZE_ - 1));
		for (j = 0; j < (long)PMD_SIZE_; j += 4096)
			huge[j] = 1;
		/* Small pages: below the aligned THP there is no room for one. */
		for (j = 0; j < 64 && m + j * 4096 < huge; j++)
			m[j * 4096] = 1;
		mprotect(huge, PMD_SIZE_ / 2, PROT_READ);
		munmap(huge + PMD_SIZE_ - 4096, 4096);
		munmap(m, 2 * PMD_SIZE_);
	}
	printf("%llu\n", now_ns() - t0);
	return 0;
}
