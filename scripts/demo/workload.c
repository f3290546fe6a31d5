// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's workload: one region asked to be huge with MADV_HUGEPAGE,
 * one left alone, one half empty; all touched, then kept alive and checked.
 * Usage: workload MIB SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HPAGE (2UL << 20)

static char *map_aligned(size_t len)
{
	char *p = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return (char *)(((unsigned long)p + HPAGE - 1) & ~(HPAGE - 1));
}

static void fill(char *p, size_t len, size_t step)
{
	for (size_t i = 0; i < len; i += step)
		p[i] = (char)(i / 4096 + 1);
}

static int verify(const char *p, size_t len, size_t step)
{
	for (size_t i = 0; i < len; i += step)
		if (p[i] != (char)(i / 4096 + 1))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	size_t len = (argc > 1 ? strtoul(argv[1], NULL, 0) : 32) << 20;
	int secs = argc > 2 ? atoi(argv[2]) : 10;
	char *hinted = map_aligned(len), *plain = map_aligned(len);
	char *sparse = map_aligned(len);

	madvise(hinted, len, MADV_HUGEPAGE);
	madvise(sparse, len, MADV_HUGEPAGE);
	fill(hinted, len, 4096);
	fill(plain, len, 4096);
	fill(sparse, len, 8192);	/* every other page: 256 empty PTEs/PMD */
	printf("workload: pid %d, 3 x %zu MiB: hinted at %p, plain at %p, half-empty at %p\n",
	       getpid(), len >> 20, (void *)hinted, (void *)plain, (void *)sparse);
	fflush(stdout);
	for (int i = 0; i < secs * 10; i++) {
		hinted[(i * 4096UL) % len]++;
		hinted[(i * 4096UL) % len]--;
		usleep(100000);
	}
	if (verify(hinted, len, 4096) || verify(plain, len, 4096) ||
	    verify(sparse, len, 8192)) {
		printf("workload: DATA MISMATCH\n");
		return 1;
	}
	printf("workload: all %zu MiB verified intact\n", 3 * (len >> 20));
	return 0;
}
