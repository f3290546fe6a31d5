// SPDX-License-Identifier: GPL-2.0
/*
 * Probe of a kernel behaviour the fuzzer met (Documentation/reliability.rst,
 * "A fork child's MADV_FREE"): private pages swapped out to zram and read
 * back are clean folios behind clean PTEs with no swap copy left; shared by
 * fork, the child's MADV_FREE marks them lazyfree, and the parent's
 * MADV_PAGEOUT (any reclaim) then discards them: the parent, which never
 * freed anything, reads zero. No scanner is involved.
 *
 * Usage: xhp_lazyfree_fork [SWAPIN]   SWAPIN=1 (default): page out and read
 * back before the fork; 0: the control, pages dirty from their first write.
 * Prints how many of the parent's pages read zero; exit 1 if any, 0 if none,
 * 2 on a setup error. Needs swap (zram) to show anything.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#define PG 4096UL
#define NPAGES 64

int main(int argc, char **argv)
{
	int swapin = argc > 1 ? atoi(argv[1]) : 1;
	unsigned long i, zero = 0, before = 0;
	int st;
	pid_t pid;
	char *p = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	/* Small pages only: no THP, nothing for a scanner to collapse. */
	if (madvise(p, NPAGES * PG, MADV_NOHUGEPAGE))
		perror("MADV_NOHUGEPAGE");
	memset(p, 0x5a, NPAGES * PG);
	if (swapin) {
		if (madvise(p, NPAGES * PG, MADV_PAGEOUT))
			perror("MADV_PAGEOUT");
		/* Read faults: swapped back in, PTEs clean. */
		for (i = 0; i < NPAGES; i++)
			before += p[i * PG] == 0x5a;
		if (before != NPAGES) {
			fprintf(stderr, "data wrong before the fork: %lu of %d pages\n",
				before, NPAGES);
			return 2;
		}
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0)
		_exit(madvise(p, NPAGES * PG, MADV_FREE) ? 2 : 0);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "child's MADV_FREE failed\n");
		return 2;
	}
	if (madvise(p, NPAGES * PG, MADV_PAGEOUT))
		perror("MADV_PAGEOUT");
	for (i = 0; i < NPAGES; i++)
		zero += p[i * PG] == 0;
	printf("swapin=%d: %lu of %d pages of the parent read zero after the child's MADV_FREE and the parent's MADV_PAGEOUT\n",
	       swapin, zero, NPAGES);
	return zero ? 1 : 0;
}
