// SPDX-License-Identifier: GPL-2.0
/*
 * Helper for the fragmentation test: leaves no free 2 MiB block behind.
 * First it faults a TARGET_MB region of small pages for xhugepaged to try
 * (advised MADV_HUGEPAGE after faulting). Then it fragments free memory:
 * it fills memory with small pages down to 200 MiB free, gives back every
 * other page (holes that cannot merge), and takes the free 2 MiB blocks
 * left with THP faults until eight in a row fall back to a small page (the
 * caller sets the native defrag to never: the same light allocation that
 * xhugepaged's defrag=0 check makes).
 * Then it prints "fragmented FREE_KB" and obeys lines on stdin:
 *   huge     print "huge KB", the target's AnonHugePages
 *   release  unmap the fragmenting memory, print "released"
 * and exits at EOF. Usage: xhp_fraghog TARGET_MB
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xhp_test.h"

#define MB (1UL << 20)
#define CHUNK (16 * MB)
#define MAX_CHUNKS 4096

static long vmstat(const char *key)
{
	char name[64];
	long v, found = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &v) == 2)
		if (!strcmp(name, key)) {
			found = v;
			break;
		}
	fclose(f);
	return found;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	long v = -1;
	size_t len = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			v = atol(line + len + 1);
			break;
		}
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	static char *chunks[MAX_CHUNKS];
	size_t off, page = sysconf(_SC_PAGESIZE), len, thp_len;
	char cmd[64], *raw, *target, *thp;
	int n = 0, i, fallbacks = 0, cpu, ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (argc != 2) {
		fprintf(stderr, "usage: %s TARGET_MB\n", argv[0]);
		return 2;
	}
	len = atol(argv[1]) * MB;
	raw = mmap(NULL, len + PMD_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	target = (char *)(((uintptr_t)raw + PMD_SZ - 1) & ~(PMD_SZ - 1));
	/* Faulted before advising: small pages, for xhugepaged to collapse. */
	for (off = 0; off < len; off += page)
		target[off] = 1;
	if (madvise(target, len, MADV_HUGEPAGE)) {
		perror("madvise");
		return 2;
	}

	/* 1: fill memory with small pages, 16 MiB at a time. */
	while (meminfo_kb("MemFree") > 200 * 1024 && n < MAX_CHUNKS) {
		char *c = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (c == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		madvise(c, CHUNK, MADV_NOHUGEPAGE);
		for (off = 0; off < CHUNK; off += page)
			c[off] = 1;
		chunks[n++] = c;
	}
	/* 2: give back every other page: holes that cannot merge. */
	for (i = 0; i < n; i++)
		for (off = page; off < CHUNK; off += 2 * page)
			madvise(chunks[i] + off, page, MADV_DONTNEED);
	/*
	 * 3: take what is left of the big blocks with THP faults, which only
	 * ever take a whole free 2 MiB block (the caller sets the native
	 * defrag to never, so they neither compact nor reclaim); a fault
	 * that finds none falls back to one small page. Eight fallbacks in a
	 * row: none is left that such an allocation may take.
	 */
	thp_len = (size_t)meminfo_kb("MemFree") * 1024 + PMD_SZ;
	thp = mmap(NULL, thp_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (thp == MAP_FAILED || madvise(thp, thp_len, MADV_HUGEPAGE)) {
		perror("thp mmap/madvise");
		return 1;
	}
	/*
	 * On every CPU in turn: a freed huge page may wait in another CPU's
	 * per-cpu list (high-order pcp caching), where only an allocation
	 * on that CPU finds it.
	 */
	off = 0;
	for (cpu = 0; cpu < ncpus; cpu++) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			continue;
		for (fallbacks = 0; off + PMD_SZ <= thp_len && fallbacks < 8;
		     off += PMD_SZ) {
			long before = vmstat("thp_fault_fallback");

			thp[off] = 1;
			fallbacks = vmstat("thp_fault_fallback") > before ?
				    fallbacks + 1 : 0;
		}
		if (fallbacks < 8)
			break;
	}
	if (fallbacks < 8) {
		printf("cannot fragment: THP faults still succeed, MemFree %ld kB\n",
		       meminfo_kb("MemFree"));
		return 1;
	}
	printf("fragmented %ld\n", meminfo_kb("MemFree"));
	fflush(stdout);

	while (fgets(cmd, sizeof(cmd), stdin)) {
		if (!strncmp(cmd, "huge", 4)) {
			printf("huge %ld\n", xhp_vma_anon_huge_kb(target));
		} else if (!strncmp(cmd, "release", 7)) {
			for (i = 0; i < n; i++)
				munmap(chunks[i], CHUNK);
			munmap(thp, thp_len);
			n = 0;
			printf("released\n");
		}
		fflush(stdout);
	}
	return 0;
}
