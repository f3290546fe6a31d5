// SPDX-License-Identifier: GPL-2.0
/*
 * Workloads for `make bench` (run in the VM by scripts/bench-guest.sh).
 *
 *   thpbench hotset PROCS COLD_MB HOT_MB TIMEOUT_S
 *	each process faults COLD_MB, then HOT_MB, advises both MADV_HUGEPAGE
 *	and keeps touching the hot range; prints "sample T HOT COLD" (seconds,
 *	fractions of hot and cold memory PMD-mapped) every 0.2 s and "hot90 T",
 *	"all90 T" when 90% of the hot set / of everything is huge; "go_ns N"
 *	first, the CLOCK_MONOTONIC time T counts from.
 *   thpbench hold PROCS TOTAL_MB DENSITY_PCT
 *	PROCS processes share TOTAL_MB of advised memory with DENSITY_PCT of
 *	each PMD range's pages faulted; prints "ready" once every process has
 *	faulted and advised, then waits for stdin EOF.
 *   thpbench idle PROCS
 *	PROCS idle processes, each with 4 MiB of faulted anonymous memory that
 *	is never advised (so enabled=madvise allows it no THP), beside a
 *	workload; prints "ready" and waits for stdin EOF.
 *   thpbench madvcollapse MB
 *	faults MB of small pages and MADV_COLLAPSEs them one PMD at a time;
 *	prints "madv_ns_per_pmd N" (wall time in the syscall per PMD) and
 *	"madv_cpu_ns_per_pmd N" (the caller's CPU time in it per PMD).
 *   thpbench copy
 *	"copy_ns_per_pmd N": the floor of a collapse, one 2 MiB allocation
 *	plus fault and one 2 MiB copy, in userspace.
 *   thpbench shmemhold MB
 *	a memfd of MB mapped shared at a PMD-aligned address, every page
 *	faulted small, advised MADV_HUGEPAGE; prints "ready" and waits for
 *	stdin EOF.
 *   thpbench shmemcollapse MB
 *	the same layout, MADV_COLLAPSEd one PMD at a time; prints as
 *	madvcollapse does.
 *   thpbench thrash RANGES SECONDS PERIOD_MS
 *	advised, faulted ranges whose PMD mapping is split every PERIOD_MS
 *	(mprotect of one page and back); prints "splits_done N".
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "bench.h"

static size_t page_sz;

/* This thread's CPU time, user and system. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A memfd of len bytes mapped shared at a PMD-aligned address, file offset
 * 0, its own VMA between guards: every PMD range maps a PMD-aligned index.
 */
static char *map_shmem_aligned(size_t len)
{
	char *p = map_aligned(len);
	int fd = memfd_create("thpbench", 0);

	if (fd < 0 || ftruncate(fd, len) ||
	    mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		 0) != p) {
		perror("memfd");
		exit(1);
	}
	close(fd);
	return p;
}

static void fault(char *p, size_t len, int pct)
{
	size_t off, per = PMD_SZ / page_sz, i;

	for (off = 0; off < len; off += PMD_SZ)
		for (i = 0; i < per * pct / 100; i++)
			p[off + i * page_sz] = 1;
}

/* AnonHugePages (kB) of the VMA at addr in /proc/self/smaps. */
struct hot_state {
	volatile long hot_kb, cold_kb;
	volatile int ready;
};

static int hotset(int procs, long cold_mb, long hot_mb, int timeout)
{
	struct hot_state *st = mmap(NULL, procs * sizeof(*st),
				    PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double t0, hot90 = -1, all90 = -1;
	pid_t *kids = calloc(procs, sizeof(*kids));
	int i, ready;

	for (i = 0; i < procs; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char *cold = map_aligned(cold_mb * MB);
			char *hot = map_aligned(hot_mb * MB);
			size_t off;
			int k = 0;

			fault(cold, cold_mb * MB, 100);
			fault(hot, hot_mb * MB, 100);
			madvise(cold, cold_mb * MB, MADV_HUGEPAGE);
			madvise(hot, hot_mb * MB, MADV_HUGEPAGE);
			st[i].ready = 1;
			for (;;) {
				for (off = 0; off < hot_mb * MB; off += page_sz)
					hot[off]++;
				if (++k % 4 == 0) {
					st[i].hot_kb = xhp_vma_anon_huge_kb(hot);
					st[i].cold_kb = xhp_vma_anon_huge_kb(cold);
				}
				usleep(20000);
			}
		}
	}
	do {
		usleep(50000);
		for (i = 0, ready = 0; i < procs; i++)
			ready += st[i].ready;
	} while (ready < procs);
	printf("ready\n");
	fflush(stdout);
	/* The caller starts the contender now; wait for its go on stdin. */
	if (getchar() == EOF)
		goto out;
	t0 = now_s();
	/* CLOCK_MONOTONIC, as bpftrace's nsecs: a trace can be put on this clock. */
	printf("go_ns %.0f\n", t0 * 1e9);
	while (now_s() - t0 < timeout) {
		double hot = 0, cold = 0, t = now_s() - t0;

		for (i = 0; i < procs; i++) {
			hot += st[i].hot_kb;
			cold += st[i].cold_kb;
		}
		hot /= procs * hot_mb * 1024.0;
		cold /= procs * cold_mb * 1024.0;
		printf("sample %.2f %.3f %.3f\n", t, hot, cold);
		if (hot90 < 0 && hot >= 0.9) {
			hot90 = t;
			printf("hot90 %.2f\n", t);
		}
		if (all90 < 0 && (hot * hot_mb + cold * cold_mb) /
				 (hot_mb + cold_mb) >= 0.9) {
			all90 = t;
			printf("all90 %.2f\n", t);
		}
		fflush(stdout);
		if (hot90 >= 0 && all90 >= 0)
			break;
		usleep(200000);
	}
out:
	for (i = 0; i < procs; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	return 0;
}

/*
 * PROCS children each map LEN bytes, fault PCT% of each PMD range and, if
 * ADVISE, advise MADV_HUGEPAGE; "ready" is printed once every child has
 * (each writes a byte to a pipe after its madvise), so that a scanner
 * started on "ready" finds the whole workload in place. Then they hold it
 * until stdin's EOF.
 */
static int hold_children(int procs, size_t len, int pct, bool advise)
{
	pid_t *kids = calloc(procs, sizeof(*kids));
	int fds[2], i, n;
	char c;

	if (!kids || pipe(fds))
		return 1;
	for (i = 0; i < procs; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char *p = map_aligned(len);

			fault(p, len, pct);
			if (advise)
				madvise(p, len, MADV_HUGEPAGE);
			if (write(fds[1], "r", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
	}
	close(fds[1]);
	for (n = 0; n < procs && read(fds[0], &c, 1) == 1; n++)
		;
	if (n < procs)
		fprintf(stderr, "thpbench: %d of %d processes ready\n", n, procs);
	printf("ready\n");
	fflush(stdout);
	while (getchar() != EOF)
		;
	for (i = 0; i < procs; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0)
		;
	return n < procs;
}

static int hold(int procs, long total_mb, int pct)
{
	long per = total_mb / procs;

	if (per * MB < PMD_SZ)
		per = PMD_SZ / MB;
	return hold_children(procs, per * MB, pct, true);
}

static int idle(int procs)
{
	return hold_children(procs, 2 * PMD_SZ, 100, false);
}

static int shmemhold(long mb)
{
	char *p = map_shmem_aligned(mb * MB);

	fault(p, mb * MB, 100);
	madvise(p, mb * MB, MADV_HUGEPAGE);
	printf("ready\n");
	fflush(stdout);
	while (getchar() != EOF)
		;
	return 0;
}

/* MADV_COLLAPSE of @mb at @p, faulted small here, one PMD per call. */
static int madvcollapse_at(char *p, long mb)
{
	double t, c, sum = 0, cpu = 0;
	size_t off;
	long ok = 0;

	fault(p, mb * MB, 100);
	for (off = 0; off < mb * MB; off += PMD_SZ) {
		t = now_s();
		c = cpu_s();
		if (!madvise(p + off, PMD_SZ, MADV_COLLAPSE))
			ok++;
		cpu += cpu_s() - c;
		sum += now_s() - t;
	}
	printf("madv_collapsed %ld\nmadv_ns_per_pmd %.0f\nmadv_cpu_ns_per_pmd %.0f\n",
	       ok, ok ? sum * 1e9 / ok : 0, ok ? cpu * 1e9 / ok : 0);
	return ok ? 0 : 1;
}

static int madvcollapse(long mb)
{
	return madvcollapse_at(map_aligned(mb * MB), mb);
}

static int copy(void)
{
	char *src = map_aligned(PMD_SZ);
	double t, sum = 0;
	int i, n = 32;

	fault(src, PMD_SZ, 100);
	for (i = 0; i < n; i++) {
		char *dst;

		t = now_s();
		dst = mmap(NULL, PMD_SZ, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		memcpy(dst, src, PMD_SZ);
		sum += now_s() - t;
		munmap(dst, PMD_SZ);
	}
	printf("copy_ns_per_pmd %.0f\n", sum * 1e9 / n);
	return 0;
}

static int thrash(int ranges, int secs, int period_ms)
{
	char *p = map_aligned(ranges * PMD_SZ);
	double end = now_s() + secs;
	long splits = 0;
	int r;

	fault(p, ranges * PMD_SZ, 100);
	madvise(p, ranges * PMD_SZ, MADV_HUGEPAGE);
	printf("ready\n");
	while (now_s() < end) {
		for (r = 0; r < ranges; r++) {
			char *q = p + r * PMD_SZ;

			mprotect(q, page_sz, PROT_READ);
			mprotect(q, page_sz, PROT_READ | PROT_WRITE);
			splits++;
		}
		usleep(period_ms * 1000);
	}
	printf("splits_done %ld\n", splits);
	return 0;
}

int main(int argc, char **argv)
{
	page_sz = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 6 && !strcmp(argv[1], "hotset"))
		return hotset(atoi(argv[2]), atol(argv[3]), atol(argv[4]),
			      atoi(argv[5]));
	if (argc >= 5 && !strcmp(argv[1], "hold"))
		return hold(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
	if (argc >= 3 && !strcmp(argv[1], "idle"))
		return idle(atoi(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "madvcollapse"))
		return madvcollapse(atol(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "shmemhold"))
		return shmemhold(atol(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "shmemcollapse"))
		return madvcollapse_at(map_shmem_aligned(atol(argv[2]) * MB),
				       atol(argv[2]));
	if (argc >= 2 && !strcmp(argv[1], "copy"))
		return copy();
	if (argc >= 5 && !strcmp(argv[1], "thrash"))
		return thrash(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: see the comment at the top of thpbench.c\n");
	return 2;
}
