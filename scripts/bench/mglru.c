// SPDX-License-Identifier: GPL-2.0
/*
 * The workload of `make bench`'s mglru section (scripts/bench/mglru.sh):
 * a hot set and colder memory under a memory cgroup limit, each started in
 * its own child cgroup by the caller.
 *
 *   xhp_mglru hot MB SECONDS
 *	maps MB, faults 511 of every 512 pages (one hole per 2 MiB, so that
 *	max_ptes_none=0 keeps any scanner from collapsing it: only the
 *	scanner's signal differs between contenders), advises MADV_HUGEPAGE,
 *	prints "ready" and writes every faulted page in a loop, without pause.
 *	After every pass it changes the protection of a small populated
 *	region there and back, which flushes its whole TLB (more than
 *	tlb_single_page_flush_ceiling pages): on hardware a hot set bigger
 *	than the TLB is walked again all the time, setting accessed bits
 *	that reclaim cleared; under TCG, whose software TLB holds it all,
 *	they would stay clear without a flush and reclaim would take the hot
 *	set for idle whatever the scanner does.
 *	SIGUSR1 restarts its counts; SECONDS later it prints "touches N",
 *	"secs S", "majflt M" (its own major faults: swap-ins of the hot set)
 *	and "passes P", and exits.
 *   xhp_mglru cold MB
 *	the same mapping, then writes one page after the other through all of
 *	it, round and round, until killed: it keeps the cgroup at its limit.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "bench.h"

/* More than x86's tlb_single_page_flush_ceiling (33): a full flush. */
#define FLUSH_PAGES 64

static volatile sig_atomic_t restart;

static void on_usr1(int sig)
{
	(void)sig;
	restart = 1;
}

static long majflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_majflt;
}

/* PMD-aligned, its own VMA between guards, faulted but for one page per PMD. */
static char *map_holed(size_t len, size_t page_sz)
{
	char *p = map_aligned(len);
	size_t off;

	if (madvise(p, len, MADV_HUGEPAGE)) {
		perror("madvise");
		exit(1);
	}
	for (off = 0; off < len; off += page_sz)
		if ((off & (PMD_SZ - 1)) != PMD_SZ - page_sz)
			p[off] = 1;
	return p;
}

int main(int argc, char **argv)
{
	size_t page_sz = sysconf(_SC_PAGESIZE), len, off;
	double t0 = 0, secs;
	long touches = 0, passes = 0, m0 = 0;
	char *p, *flusher;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3 || (strcmp(argv[1], "hot") && strcmp(argv[1], "cold")) ||
	    (!strcmp(argv[1], "hot") && argc < 4)) {
		fprintf(stderr, "usage: see the comment at the top of mglru.c\n");
		return 2;
	}
	len = atol(argv[2]) * MB;
	p = map_holed(len, page_sz);
	if (!strcmp(argv[1], "cold")) {
		printf("ready\n");
		for (;;)
			for (off = 0; off < len; off += page_sz)
				if ((off & (PMD_SZ - 1)) != PMD_SZ - page_sz)
					p[off]++;
	}
	secs = atof(argv[3]);
	flusher = map_holed(FLUSH_PAGES * page_sz, page_sz);
	signal(SIGUSR1, on_usr1);
	printf("ready\n");
	for (;;) {
		if (restart) {
			restart = 0;
			touches = passes = 0;
			m0 = majflt();
			t0 = now_s();
		}
		for (off = 0; off < len; off += page_sz)
			if ((off & (PMD_SZ - 1)) != PMD_SZ - page_sz) {
				p[off]++;
				touches++;
			}
		passes++;
		/* Present, or there would be nothing to flush. */
		for (off = 0; off < FLUSH_PAGES * page_sz; off += page_sz)
			flusher[off]++;
		if (mprotect(flusher, FLUSH_PAGES * page_sz, PROT_READ) ||
		    mprotect(flusher, FLUSH_PAGES * page_sz, PROT_READ | PROT_WRITE)) {
			perror("mprotect");
			return 1;
		}
		if (t0 && now_s() - t0 >= secs)
			break;
	}
	printf("touches %ld\nsecs %.3f\nmajflt %ld\npasses %ld\n",
	       touches, now_s() - t0, majflt() - m0, passes);
	return 0;
}
