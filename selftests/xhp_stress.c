// SPDX-License-Identifier: GPL-2.0
/*
 * Churn stress with data integrity. WORKERS processes, for SECONDS, each
 * keep an anonymous region whose every page carries a known pattern (a tag
 * word per page plus a filled body), and apply random operations to it
 * while xhugepaged scans flat out: verify, fork (the child verifies, writes
 * its own copy, verifies again; the parent checks its copy is unchanged),
 * munmap and refault a page, mprotect a part read-only and back, mremap
 * the whole region elsewhere, MADV_DONTNEED a part, MADV_PAGEOUT a part,
 * MADV_COLLAPSE a PMD range, rewrite a part, and exit to start over with a
 * fresh mm. Every page is checked against what it must hold after each
 * operation. Prints one line of totals; the exit status is 0 only when no
 * mismatch was found.
 * Usage: xhp_stress WORKERS SECONDS [REGION_MB]; SIGTERM ends it early.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "xhp_test.h"	/* MADV_PAGEOUT, MADV_COLLAPSE, PMD_SZ */

struct totals {
	unsigned long ops, pages_checked, mismatches, collapses, forks, mms;
	int stop;	/* set by SIGTERM to the main process: end early */
};

static size_t page_sz;
static size_t npages;
static struct totals *shared;	/* MAP_SHARED: summed over workers */

struct region {
	char *p;
	uint32_t *gen;	/* per page: 0 = must read as zero, else pattern gen */
};

static int running(time_t end)
{
	return time(NULL) < end && !__atomic_load_n(&shared->stop, __ATOMIC_RELAXED);
}

static void on_sigterm(int sig)
{
	(void)sig;
	__atomic_store_n(&shared->stop, 1, __ATOMIC_RELAXED);
}

static uint64_t tag(size_t pg, uint32_t gen)
{
	return ((uint64_t)gen << 32) ^ (pg * 0x9e3779b97f4a7c15ULL);
}

static void write_page(struct region *r, size_t pg, uint32_t gen)
{
	char *q = r->p + pg * page_sz;
	uint64_t t = tag(pg, gen);

	memset(q + sizeof(t), (int)(t & 0xff) | 1, page_sz - sizeof(t));
	memcpy(q, &t, sizeof(t));
	r->gen[pg] = gen;
}

static unsigned long check_page(struct region *r, size_t pg)
{
	const unsigned char *q = (unsigned char *)r->p + pg * page_sz;
	uint64_t t, want = r->gen[pg] ? tag(pg, r->gen[pg]) : 0;
	unsigned char body = r->gen[pg] ? (unsigned char)((want & 0xff) | 1) : 0;
	size_t i;

	memcpy(&t, q, sizeof(t));
	if (t != want)
		return 1;
	for (i = sizeof(t); i < page_sz; i += 64)
		if (q[i] != body)
			return 1;
	return 0;
}

static unsigned long check_all(struct region *r, struct totals *t)
{
	unsigned long bad = 0;
	size_t pg;

	for (pg = 0; pg < npages; pg++)
		bad += check_page(r, pg);
	t->pages_checked += npages;
	if (bad)
		fprintf(stderr, "pid %d: %lu pages mismatched\n", getpid(), bad);
	return bad;
}

static void region_new(struct region *r, uint32_t gen)
{
	size_t pg;

	r->p = mmap(NULL, npages * page_sz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->p == MAP_FAILED) {
		perror("mmap");
		exit(3);
	}
	if ((gen >> 1) & 1)	/* half the mms advise, for enabled=madvise runs */
		madvise(r->p, npages * page_sz, MADV_HUGEPAGE);
	for (pg = 0; pg < npages; pg++)
		if ((pg * 7 + gen) % 5)	/* leave some holes: max_ptes_none */
			write_page(r, pg, gen);
		else
			r->gen[pg] = 0;
}

/* A random run of pages [*from, *from + *len). */
static void pick(size_t *from, size_t *len)
{
	*len = 1 + rand() % (npages / 4);
	*from = rand() % (npages - *len + 1);
}

static void one_op(struct region *r, struct totals *t, uint32_t *gen)
{
	size_t from, len, pg;
	char *q;
	pid_t pid;
	int st;

	pick(&from, &len);
	switch (rand() % 10) {
	case 0:
		t->mismatches += check_all(r, t);
		break;
	case 1:		/* fork: both sides keep their own copy */
		pid = fork();
		if (pid == 0) {
			struct totals ct = { 0 };
			unsigned long bad = check_all(r, &ct);

			for (pg = from; pg < from + len; pg++)
				write_page(r, pg, *gen + 1000);
			bad += check_all(r, &ct);
			_exit(bad ? 1 : 0);
		}
		if (pid > 0) {
			waitpid(pid, &st, 0);
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				t->mismatches++;
			t->forks++;
		}
		t->mismatches += check_all(r, t);
		break;
	case 2:		/* munmap one page, map a zero page back */
		q = r->p + from * page_sz;
		munmap(q, page_sz);
		if (mmap(q, page_sz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			exit(3);
		r->gen[from] = 0;
		break;
	case 3:		/* mprotect part read-only, check, and back */
		mprotect(r->p + from * page_sz, len * page_sz, PROT_READ);
		for (pg = from; pg < from + len; pg++)
			t->mismatches += check_page(r, pg);
		mprotect(r->p + from * page_sz, len * page_sz,
			 PROT_READ | PROT_WRITE);
		break;
	case 4:		/* move the whole region */
		q = mremap(r->p, npages * page_sz, npages * page_sz,
			   MREMAP_MAYMOVE);
		if (q != MAP_FAILED)
			r->p = q;
		break;
	case 5:
		madvise(r->p + from * page_sz, len * page_sz, MADV_DONTNEED);
		for (pg = from; pg < from + len; pg++)
			r->gen[pg] = 0;
		break;
	case 6:
		madvise(r->p + from * page_sz, len * page_sz, MADV_PAGEOUT);
		break;
	case 7:		/* MADV_COLLAPSE one PMD range */
		q = (char *)(((uintptr_t)r->p + PMD_SZ - 1) & ~(PMD_SZ - 1));
		if (q + PMD_SZ <= r->p + npages * page_sz &&
		    !madvise(q, PMD_SZ, MADV_COLLAPSE))
			t->collapses++;
		break;
	default:	/* rewrite a part */
		(*gen)++;
		for (pg = from; pg < from + len; pg++)
			write_page(r, pg, *gen);
		break;
	}
	t->ops++;
}

static void add(struct totals *a, const struct totals *b)
{
	__atomic_add_fetch(&a->ops, b->ops, __ATOMIC_RELAXED);
	__atomic_add_fetch(&a->pages_checked, b->pages_checked, __ATOMIC_RELAXED);
	__atomic_add_fetch(&a->mismatches, b->mismatches, __ATOMIC_RELAXED);
	__atomic_add_fetch(&a->collapses, b->collapses, __ATOMIC_RELAXED);
	__atomic_add_fetch(&a->forks, b->forks, __ATOMIC_RELAXED);
	__atomic_add_fetch(&a->mms, b->mms, __ATOMIC_RELAXED);
}

/* One mm's life: a region, a few hundred operations, a final check. */
static void life(unsigned int seed, time_t end)
{
	struct totals t = { .mms = 1 };
	struct region r;
	uint32_t gen = seed * 2 + 1;
	int i;

	srand(seed);
	r.gen = calloc(npages, sizeof(*r.gen));
	if (!r.gen)
		exit(3);
	region_new(&r, gen);
	for (i = 0; i < 300 && running(end); i++) {
		one_op(&r, &t, &gen);
		if (i % 16 == 0)
			usleep(2000);	/* give the scanner a chance at it */
		if (i % 100 == 99)
			usleep(200000);	/* a quiet spell: mmap_lock is free */
	}
	t.mismatches += check_all(&r, &t);
	add(shared, &t);
	exit(t.mismatches ? 1 : 0);
}

int main(int argc, char **argv)
{
	int workers, secs, i, st, failed = 0;
	unsigned int lives = 0;
	struct sigaction sa;
	time_t end;

	if (argc < 3) {
		fprintf(stderr, "usage: %s WORKERS SECONDS [REGION_MB]\n", argv[0]);
		return 2;
	}
	workers = atoi(argv[1]);
	secs = atoi(argv[2]);
	page_sz = sysconf(_SC_PAGESIZE);
	npages = (argc > 3 ? atoi(argv[3]) : 8) * (1UL << 20) / page_sz;
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return 3;
	end = time(NULL) + secs;
	/* SIGTERM ends the run early but still verifies and reports. */
	sa.sa_handler = on_sigterm;
	sa.sa_flags = SA_RESTART;	/* the final wait() must not end early */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	for (i = 0; i < workers; i++) {
		if (fork() == 0) {
			int bad = 0;

			/* Each worker: one mm after another until the end. */
			while (running(end)) {
				pid_t pid = fork();

				if (pid == 0)
					life(i * 100003 + lives * 7919 + 1, end);
				if (pid < 0)
					continue;
				waitpid(pid, &st, 0);
				if (!WIFEXITED(st) || WEXITSTATUS(st))
					bad = 1;
				lives++;
			}
			_exit(bad);
		}
	}
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	printf("stress: %lu ops, %lu mms, %lu forks, %lu pages checked, %lu MADV_COLLAPSE, %lu mismatches, %d workers failed\n",
	       shared->ops, shared->mms, shared->forks, shared->pages_checked,
	       shared->collapses, shared->mismatches, failed);
	return shared->mismatches || failed ? 1 : 0;
}
