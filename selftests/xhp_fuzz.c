// SPDX-License-Identifier: GPL-2.0
/*
 * Address-space fuzzer with content verification. PROCS worker processes,
 * for SECONDS, each apply random operations to a handful of regions whose
 * sizes and offsets are not multiples of 2 MiB, while a scanner
 * (xhugepaged or khugepaged) collapses under them: mmap and munmap (whole,
 * head, tail, a hole), mremap (grow in place or moving, shrink, move to an
 * unaligned address), mprotect read-only and back, brk up and down,
 * madvise (DONTNEED, FREE, HUGEPAGE, NOHUGEPAGE, COLLAPSE, COLD, PAGEOUT,
 * MERGEABLE, UNMERGEABLE, REMOVE), mlock and munlock, userfaultfd
 * write-protect registration (and write protection of a part) and
 * unregistration, fork (the child verifies, writes, churns a while and
 * exits), and the worker's own exit (a new one takes its slot).
 *
 * Regions are private anonymous memory or shmem: MAP_SHARED anonymous
 * memory, memfds, and files on the tmpfs mounts given with -d (O_TMPFILE),
 * mapped from file offsets that are not multiples of 2 MiB either, mostly
 * at addresses congruent to them modulo 2 MiB (else no PMD can map them),
 * in an address window of their own (SHM_WINDOW). shmem files are also
 * ftruncated up and down and hole-punched (fallocate). A fork child keeps
 * the shmem regions: parent and children write and check them against one
 * model in shared memory, under a per-object lock (struct shm_obj).
 *
 * Every page carries a pattern derived from (region id, page index,
 * generation), or the KSM pattern shared by all pages of a generation so
 * that KSM has something to merge; each worker knows what every page must
 * hold (or, after MADV_FREE / a failed MADV_DONTNEED, that it may also read
 * as zero) and checks it before unmapping and after every operation that
 * must preserve it, plus a full check now and then.
 *
 * Seeded: the seed is printed, and each worker's sequence of operations is
 * a function of (seed, slot, incarnation). Workers allocate nothing with
 * malloc (brk is theirs to move); every range a worker ever maps is logged
 * to MAPS_DIR/PID so that a trace checker can tell whether an address a
 * scanner judged lay in the process's address space.
 *
 * Usage: xhp_fuzz [-s SEED] [-p PROCS] [-t SECONDS] [-m MAPS_DIR]
 *                 [-d TMPFS_DIR]... [-v] [-w SLOT:INCARNATION]
 * -w runs that one worker of SEED alone (the one a mismatch report names:
 * its region ids are (mix(worker seed ^ 0x1d) & 0xffffff) << 8 onwards).
 * Env XHP_FUZZ_CORRUPT=1: a worker flips a byte of a page behind its own
 * bookkeeping once; =2: it zeroes the page; =3: it flips a byte of a shmem
 * page (the check must report each; for testing the fuzzer).
 * Prints one totals line; exit status 0 only if no mismatch was found.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "xhp_test.h"	/* MADV_PAGEOUT, MADV_COLLAPSE */

#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_REMOVE
#define MADV_REMOVE 9
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif

#define PG 4096UL
#define PMD_PAGES 512UL
#define MAX_REGIONS 10
#define MAX_PAGES_PER_WORKER 8192	/* 32 MiB of patterned memory */
#define MAX_CHILDREN 2		/* alive at once, per worker */
#define KSM_GEN 0xffffffffu
#define OBJ_MAX_PAGES 3072	/* largest shmem object (a file may grow to it) */
#define MAX_TMPFS_DIRS 2
/*
 * shmem mappings live in an address window of their own, far below where
 * mmap(NULL) places anything, so that the trace checker can tell a shmem
 * address from an anonymous one exactly (xhp_fuzz_trace.py).
 */
#define SHM_WINDOW 0x300000000000UL
#define SHM_WINDOW_SIZE (1UL << 40)

enum op {
	OP_MMAP, OP_MUNMAP, OP_MREMAP_GROW, OP_MREMAP_SHRINK, OP_MREMAP_MOVE,
	OP_MPROTECT, OP_BRK, OP_DONTNEED, OP_FREE, OP_HUGEPAGE, OP_NOHUGEPAGE,
	OP_COLLAPSE, OP_COLD, OP_PAGEOUT, OP_MERGEABLE, OP_FORK, OP_MLOCK,
	OP_UFFD, OP_WRITE, OP_VERIFY, OP_TRUNCATE, OP_PUNCH, OP_REMOVE, OP_NR
};

static const char *const op_names[OP_NR] = {
	"mmap", "munmap", "mremap_grow", "mremap_shrink", "mremap_move",
	"mprotect", "brk", "dontneed", "free", "hugepage", "nohugepage",
	"collapse", "cold", "pageout", "mergeable", "fork", "mlock",
	"uffd", "write", "verify", "truncate", "punch_hole", "madv_remove",
};

/* Relative frequencies. */
static const unsigned int op_weight[OP_NR] = {
	[OP_MMAP] = 8, [OP_MUNMAP] = 6, [OP_MREMAP_GROW] = 5,
	[OP_MREMAP_SHRINK] = 4, [OP_MREMAP_MOVE] = 5, [OP_MPROTECT] = 5,
	[OP_BRK] = 4, [OP_DONTNEED] = 4, [OP_FREE] = 3, [OP_HUGEPAGE] = 4,
	[OP_NOHUGEPAGE] = 2, [OP_COLLAPSE] = 4, [OP_COLD] = 2,
	[OP_PAGEOUT] = 2, [OP_MERGEABLE] = 3, [OP_FORK] = 2, [OP_MLOCK] = 3,
	[OP_UFFD] = 3, [OP_WRITE] = 10, [OP_VERIFY] = 3, [OP_TRUNCATE] = 3,
	[OP_PUNCH] = 2, [OP_REMOVE] = 2,
};

/* shmem object kinds. */
enum obj_kind { OBJ_SHANON, OBJ_MEMFD, OBJ_TMPFS, OBJ_NR };
static const char *const obj_names[OBJ_NR] = { "shared_anon", "memfd", "tmpfs" };

/* Totals over all workers, in a MAP_SHARED page. */
struct totals {
	unsigned long ops[OP_NR], failed[OP_NR];
	unsigned long pages_checked, mismatches, deaths, workers, children, corrupted;
	unsigned long shared_lazyfree_lost;
	unsigned long objects[OBJ_NR], shm_pages_checked;
	int stop;
};

/* Page states. */
#define ST_ZERO 0	/* must read as zero */
#define ST_PAT 1	/* must hold pattern(gen) */
#define ST_PAT_OR_ZERO 2 /* pattern(gen), or zero (MADV_FREE'd etc.) */
#define F_RO 1		/* mprotect(PROT_READ) */
#define F_WP 2		/* userfaultfd write-protected: a write would block */

struct page_state {
	uint32_t gen;
	uint32_t wrote;	/* op_clock of the last write, 0 if never */
	uint32_t paged;	/* op_clock of the first MADV_PAGEOUT since, or 0 */
	uint8_t st, flags;
};

/*
 * Kernel behaviour (6.12, see Documentation/reliability.rst, "A fork
 * child's MADV_FREE"): a page swapped out and read back from zram maps a
 * clean folio with a clean PTE and no swap copy. Shared after fork, it is
 * marked lazyfree by MADV_FREE in either process, and reclaim then
 * discards it for both: the other process reads zero although it never
 * freed it. Each MADV_FREE of a private range while a relative may share
 * it is logged here, in a table every process of a worker's family sees,
 * so that such a zero read can be told from a real loss.
 */
struct free_rec {
	pid_t pid;		/* who called MADV_FREE */
	uint32_t id;		/* region id */
	uint32_t from, to;	/* pattern indices [from, to) */
	uint32_t clock;		/* caller's op_clock at the call */
	uint32_t fork_clock;	/* caller's fork clock (0: the worker itself) */
	int valid;		/* set last: the fields above are complete */
};
#define MAX_FREE_RECS 2048
struct free_log {
	unsigned int n;
	struct free_rec rec[MAX_FREE_RECS];
};

/*
 * A shmem object (MAP_SHARED anonymous memory, a memfd, a file on tmpfs):
 * its content model is per page of the object, in memory shared by every
 * process of the worker's family that maps it, so that all of them agree
 * on what each page holds. Whoever writes a page, checks one, or changes
 * the object (ftruncate, hole punching) holds the object's lock, so every
 * check is exact. The per-mapping state (protection) stays per process.
 */
struct shm_obj {
	int owner;		/* pid holding the lock, 0 if free */
	int depth;		/* its nesting, touched by the owner only */
	uint32_t id;
	int kind;		/* enum obj_kind */
	size_t size;		/* in pages; pages at or past it are not there */
	struct page_state ps[OBJ_MAX_PAGES];
};

struct region {
	char *addr;
	size_t npages;
	uint32_t id;
	/*
	 * Pattern index of page 0 (head trims keep patterns); for shmem, the
	 * file page mapped at addr.
	 */
	size_t base;
	int shared, uffd, is_brk;
	struct shm_obj *obj;	/* shmem: the object mapped, else NULL */
	int fd;			/* its file (-1: MAP_SHARED anonymous) */
	/* mmap'd array of npages (shmem uses only the flags: obj has the content) */
	struct page_state *ps;
	size_t ps_cap;		/* its capacity, in entries */
};

static struct totals *tot;
#define FAILED(op) __atomic_fetch_add(&tot->failed[op], 1, __ATOMIC_RELAXED)
static struct region regions[MAX_REGIONS];
static int nregions;
static uint64_t rng;
static uint32_t next_id, cur_gen = 1;
static int maps_fd = -1, uffd = -1, in_child, verbose, corrupt_pending;
static const char *tmpfs_dirs[MAX_TMPFS_DIRS];
static int ntmpfs_dirs;
static int children_alive;
static char *brk0;
static struct free_log *free_log;
/* Operations so far in this process's line (a child starts at its fork's). */
static uint32_t op_clock, fork_clock;
static time_t deadline;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static size_t rnd_below(size_t n)
{
	return n ? rnd() % n : 0;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static uint64_t pattern(uint32_t id, size_t idx, uint32_t gen)
{
	if (gen == KSM_GEN)
		return 0x4b534d4b534d4b53ULL;	/* the same in every page */
	return mix(((uint64_t)id << 40) ^ ((uint64_t)idx << 8) ^ gen) | 1;
}

static void log_range(const char *what, void *start, size_t len)
{
	char line[96];
	int n;

	if (maps_fd < 0 || !len)
		return;
	if ((unsigned long)start - SHM_WINDOW < SHM_WINDOW_SIZE)
		what = "shm";	/* the trace checker counts these as shmem */
	n = snprintf(line, sizeof(line), "%s %lx %lx\n", what,
		     (unsigned long)start, (unsigned long)start + len);
	if (write(maps_fd, line, n) != n)
		maps_fd = -1;
}

/* Open MAPS_DIR/PID and record the whole address space as it is now. */
static void log_open(const char *dir)
{
	static char buf[65536];
	char path[256];
	ssize_t n;
	int fd;

	if (!dir)
		return;
	if (maps_fd >= 0)
		close(maps_fd);
	snprintf(path, sizeof(path), "%s/%d", dir, getpid());
	maps_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (maps_fd < 0)
		return;
	fd = open("/proc/self/maps", O_RDONLY);
	if (fd < 0)
		return;
	/* Lines "start-end perms ..." become "maps start end". */
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		char *p = buf, *nl;

		buf[n] = 0;
		while ((nl = strchr(p, '\n'))) {
			unsigned long s, e;

			*nl = 0;
			if (sscanf(p, "%lx-%lx", &s, &e) == 2)
				log_range("maps", (void *)s, e - s);
			p = nl + 1;
		}
	}
	close(fd);
}

static struct page_state *ps_alloc(size_t n, size_t *cap)
{
	size_t bytes = (n * sizeof(struct page_state) + PG - 1) & ~(PG - 1);
	void *p;

	if (!bytes)
		bytes = PG;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("xhp_fuzz: state mmap");
		exit(3);
	}
	*cap = bytes / sizeof(struct page_state);
	return p;
}

static void ps_free(struct region *r)
{
	munmap(r->ps, (r->ps_cap * sizeof(struct page_state) + PG - 1) & ~(PG - 1));
	r->ps = NULL;
}

/* Make room for n entries, keeping the first keep. */
static void ps_resize(struct region *r, size_t n, size_t keep)
{
	struct page_state *old = r->ps;
	size_t old_cap = r->ps_cap;

	if (n <= r->ps_cap)
		return;
	r->ps = ps_alloc(n, &r->ps_cap);
	memcpy(r->ps, old, keep * sizeof(*old));
	munmap(old, (old_cap * sizeof(*old) + PG - 1) & ~(PG - 1));
}

/* Content state of page i of r: the object's for shmem, else the region's. */
static struct page_state *cs(struct region *r, size_t i)
{
	return r->obj ? &r->obj->ps[r->base + i] : &r->ps[i];
}

/* Is page i of r there to touch (shmem: inside the object's size)? */
static int present(const struct region *r, size_t i)
{
	return !r->obj || r->base + i < __atomic_load_n(&r->obj->size, __ATOMIC_ACQUIRE);
}

static void obj_lock(struct region *r)
{
	struct shm_obj *o = r->obj;
	int me = getpid(), free_ = 0;

	if (!o)
		return;
	if (__atomic_load_n(&o->owner, __ATOMIC_ACQUIRE) == me) {
		o->depth++;
		return;
	}
	while (!__atomic_compare_exchange_n(&o->owner, &free_, me, 0,
					    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		free_ = 0;
		sched_yield();
	}
	o->depth = 1;
}

static void obj_unlock(struct region *r)
{
	struct shm_obj *o = r->obj;

	if (o && !--o->depth)
		__atomic_store_n(&o->owner, 0, __ATOMIC_RELEASE);
}

static size_t total_pages(void)
{
	size_t n = 0;
	int i;

	for (i = 0; i < nregions; i++)
		n += regions[i].npages;
	return n;
}

static void write_page(struct region *r, size_t i, uint32_t gen);

/*
 * Report the first differing word of page i, then rewrite the page (when
 * it may be written) so that one bad page counts once.
 */
static void report(struct region *r, size_t i, const char *why, uint64_t want)
{
	const uint64_t *w = (const uint64_t *)(r->addr + i * PG);
	uint64_t body = 0x0101010101010101ULL * (uint8_t)((want & 0xff) | 1);
	size_t k;

	for (k = 0; k < PG / 8; k++) {
		uint64_t exp = !want ? 0 : (k == 0 || k == PG / 8 - 1) ? want : body;

		if (w[k] != exp)
			break;
	}
	if (__atomic_fetch_add(&tot->mismatches, 1, __ATOMIC_RELAXED) < 20)
		fprintf(stderr,
			"xhp_fuzz: pid %d MISMATCH region %u%s%s page %zu (index %zu) at %p: %s (state %d gen %u flags %d): word %zu reads %#llx, want %#llx\n",
			getpid(), r->id,
			!r->obj ? (r->shared ? " shared" : "") :
			r->obj->kind == OBJ_MEMFD ? " memfd" :
			r->obj->kind == OBJ_TMPFS ? " tmpfs" : " shared_anon",
			r->is_brk ? " brk" : "", i, r->base + i,
			(void *)(r->addr + i * PG), why, cs(r, i)->st, cs(r, i)->gen,
			r->ps[i].flags, k, k < PG / 8 ? (unsigned long long)w[k] : 0ULL,
			(unsigned long long)(!want ? 0 : (k == 0 || k == PG / 8 - 1) ? want : body));
	if (cs(r, i)->st != ST_ZERO)
		write_page(r, i, cs(r, i)->gen);
}

/*
 * A page holds: the 8-byte pattern at its start and end, its low byte
 * (made odd) everywhere between. Zero pages are zero throughout.
 */
static void write_page(struct region *r, size_t i, uint32_t gen)
{
	char *q = r->addr + i * PG;
	uint64_t t = pattern(r->id, r->base + i, gen);

	struct page_state *s = cs(r, i);

	/* The caller holds r's object lock (shmem), so the size holds too. */
	if ((r->ps[i].flags & (F_RO | F_WP)) || !present(r, i))
		return;
	memset(q + 8, (int)(t & 0xff) | 1, PG - 16);
	memcpy(q, &t, 8);
	memcpy(q + PG - 8, &t, 8);
	s->gen = gen;
	s->st = ST_PAT;
	s->wrote = op_clock;
	s->paged = 0;
}

static int page_is_zero(const uint64_t *w)
{
	size_t k;

	for (k = 0; k < PG / 8; k++)
		if (w[k])
			return 0;
	return 1;
}

static int page_has(const uint64_t *w, uint64_t t)
{
	uint64_t body = 0x0101010101010101ULL * (uint8_t)((t & 0xff) | 1);
	size_t k;

	if (w[0] != t || w[PG / 8 - 1] != t)
		return 0;
	for (k = 1; k < PG / 8 - 1; k++)
		if (w[k] != body)
			return 0;
	return 1;
}

/*
 * Page i of r reads zero where its pattern was due: is it the kernel
 * behaviour described at struct free_rec? Only if it was paged out after
 * its last write, both before the fork that made another process of the
 * family share it, and that process called MADV_FREE on it afterwards.
 */
static int lost_to_shared_lazyfree(const struct region *r, size_t i)
{
	const struct page_state *s = &r->ps[i];
	uint32_t idx = r->base + i, share;
	unsigned int k, n;

	if (r->shared || !s->paged || !free_log)
		return 0;
	n = __atomic_load_n(&free_log->n, __ATOMIC_ACQUIRE);
	if (n > MAX_FREE_RECS)
		n = MAX_FREE_RECS;
	for (k = 0; k < n; k++) {
		const struct free_rec *f = &free_log->rec[k];

		if (!__atomic_load_n(&f->valid, __ATOMIC_ACQUIRE))
			continue;
		if ((f->pid == getpid() && f->fork_clock == fork_clock) ||
		    f->id != r->id || idx < f->from || idx >= f->to)
			continue;
		/* The later of the two forks: from then on both map the page. */
		share = f->fork_clock > fork_clock ? f->fork_clock : fork_clock;
		/* The worker freeing before this child existed is inherited state. */
		if (!f->fork_clock && f->clock < fork_clock)
			continue;
		if (share && s->paged < share && s->wrote < share)
			return 1;
	}
	return 0;
}

/* Log a MADV_FREE of pages [from, from + len) of r; 0 if the log is full. */
static int log_free(const struct region *r, size_t from, size_t len)
{
	unsigned int k;

	if (!free_log || r->shared || (!in_child && !children_alive))
		return 1;
	k = __atomic_fetch_add(&free_log->n, 1, __ATOMIC_ACQ_REL);
	if (k >= MAX_FREE_RECS)
		return 0;
	free_log->rec[k] = (struct free_rec){
		.pid = getpid(), .id = r->id, .from = r->base + from,
		.to = r->base + from + len, .clock = op_clock,
		.fork_clock = fork_clock,
	};
	__atomic_store_n(&free_log->rec[k].valid, 1, __ATOMIC_RELEASE);
	return 1;
}

static unsigned long check_pages(struct region *r, size_t from, size_t len)
{
	unsigned long bad = 0, shm = 0;
	size_t i;

	obj_lock(r);
	for (i = from; i < from + len && i < r->npages; i++) {
		const uint64_t *w = (const uint64_t *)(r->addr + i * PG);
		struct page_state *s = cs(r, i);

		if (!present(r, i))	/* past the end of the file: SIGBUS */
			continue;
		shm += !!r->obj;
		uint64_t want = s->st == ST_ZERO ? 0 :
				pattern(r->id, r->base + i, s->gen);

		if (s->st == ST_ZERO ? page_is_zero(w) :
		    page_has(w, want) || (s->st == ST_PAT_OR_ZERO && page_is_zero(w)))
			continue;
		if (s->st != ST_ZERO && page_is_zero(w) && lost_to_shared_lazyfree(r, i)) {
			if (__atomic_fetch_add(&tot->shared_lazyfree_lost, 1, __ATOMIC_RELAXED) < 5)
				fprintf(stderr,
					"xhp_fuzz: pid %d region %u page %zu (index %zu) reads zero: paged out, shared by fork, MADV_FREE'd by a relative (kernel behaviour, not counted)\n",
					getpid(), r->id, i, r->base + i);
			s->st = ST_ZERO;	/* discarded: zero until written */
			continue;
		}
		report(r, i, s->st == ST_ZERO ? "not zero" : "pattern", want);
		bad++;
	}
	obj_unlock(r);
	__atomic_fetch_add(&tot->pages_checked, i - from, __ATOMIC_RELAXED);
	__atomic_fetch_add(&tot->shm_pages_checked, shm, __ATOMIC_RELAXED);
	return bad;
}

static void check_region(struct region *r)
{
	check_pages(r, 0, r->npages);
}

static void check_all(void)
{
	int i;

	for (i = 0; i < nregions; i++)
		check_region(&regions[i]);
}

/* Not a multiple of 2 MiB, from a page to a few PMDs. */
static size_t rnd_npages(void)
{
	size_t n;

	switch (rnd_below(4)) {
	case 0:
		n = 1 + rnd_below(PMD_PAGES);
		break;
	case 1:
		n = PMD_PAGES + 1 + rnd_below(PMD_PAGES - 1);
		break;
	default:
		n = (2 + rnd_below(3)) * PMD_PAGES + 1 + rnd_below(PMD_PAGES - 1);
	}
	return n;
}

/* A random run of pages of r: [*from, *from + *len), not PMD-aligned. */
static void pick(struct region *r, size_t *from, size_t *len)
{
	*len = 1 + rnd_below(r->npages);
	if (*len > PMD_PAGES * 2 + 17)
		*len = 1 + rnd_below(PMD_PAGES * 2 + 17);
	*from = rnd_below(r->npages - *len + 1);
}

/* Fill pages [from, from+len) with generation gen, some left as holes. */
static void fill(struct region *r, size_t from, size_t len, uint32_t gen,
		 int holes)
{
	size_t i;

	obj_lock(r);
	for (i = from; i < from + len; i++)
		if (!holes || rnd_below(8))
			write_page(r, i, gen);
	obj_unlock(r);
}

static struct region *pick_region(int private_only)
{
	int i, n = 0, cand[MAX_REGIONS];

	for (i = 0; i < nregions; i++)
		if (regions[i].npages &&
		    (!private_only || (!regions[i].shared && !regions[i].is_brk)))
			cand[n++] = i;
	return n ? &regions[cand[rnd_below(n)]] : NULL;
}

static struct region *pick_shm_region(int with_fd)
{
	int i, n = 0, cand[MAX_REGIONS];

	for (i = 0; i < nregions; i++)
		if (regions[i].npages && regions[i].obj &&
		    (!with_fd || regions[i].fd >= 0))
			cand[n++] = i;
	return n ? &regions[cand[rnd_below(n)]] : NULL;
}

/* Forget r; the last of this process's regions of an object lets it go. */
static void region_drop(struct region *r)
{
	int i;

	ps_free(r);
	if (r->obj) {
		for (i = 0; i < nregions; i++)
			if (&regions[i] != r && regions[i].obj == r->obj)
				break;
		if (i == nregions) {
			munmap(r->obj, sizeof(*r->obj));
			if (r->fd >= 0)
				close(r->fd);
		}
	}
	*r = regions[--nregions];
}

/* Somewhere free, at an offset that is not a multiple of 2 MiB. */
static char *unaligned_hole(size_t len)
{
	size_t slack = 4 * PMD_PAGES * PG;
	char *p = mmap(NULL, len + slack, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *q;

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, len + slack);
	q = p + (1 + rnd_below(4 * PMD_PAGES - 1)) * PG;
	if (((uintptr_t)q & (PMD_PAGES * PG - 1)) == 0)
		q += PG;
	return q;
}

/*
 * A free place in the shmem window for npages mapping file page pgoff.
 * Mostly at an address congruent to the offset modulo 2 MiB, as a shmem
 * VMA must be for a PMD mapping (thp_vma_suitable_order()), else not:
 * then the scanner must leave it alone. Neither is 2 MiB-aligned unless
 * the offset is.
 */
static char *shm_hole(size_t npages, size_t pgoff)
{
	size_t slots = SHM_WINDOW_SIZE / (PMD_PAGES * PG) - 8;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		char *q = (char *)SHM_WINDOW + rnd_below(slots) * PMD_PAGES * PG;
		char *p;

		q += rnd_below(4) ? (pgoff % PMD_PAGES) * PG :
				    (1 + rnd_below(PMD_PAGES - 1)) * PG;
		/* Free? (MAP_FIXED_NOREPLACE fails if anything is there.) */
		p = mmap(q, npages * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			 MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			continue;
		munmap(p, npages * PG);
		if (p == q)
			return q;
	}
	return NULL;
}

/*
 * A new shmem object of a kind the run allows (tmpfs only with -d), its
 * model shared with every process forked from here on.
 */
static struct shm_obj *obj_new(size_t size, int *fd)
{
	int kind = rnd_below(ntmpfs_dirs ? 3 : 2);
	struct shm_obj *o;

	*fd = -1;
	if (kind == OBJ_MEMFD)
		*fd = memfd_create("xhp_fuzz", MFD_CLOEXEC);
	else if (kind == OBJ_TMPFS)
		*fd = open(tmpfs_dirs[rnd_below(ntmpfs_dirs)],
			   O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (kind != OBJ_SHANON && (*fd < 0 || ftruncate(*fd, size * PG))) {
		if (*fd >= 0)
			close(*fd);
		return NULL;
	}
	o = mmap(NULL, sizeof(*o), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (o == MAP_FAILED) {
		perror("xhp_fuzz: object mmap");
		exit(3);
	}
	o->id = next_id++;
	o->kind = kind;
	o->size = size;
	__atomic_fetch_add(&tot->objects[kind], 1, __ATOMIC_RELAXED);
	return o;
}

/*
 * A shmem region: a new object (MAP_SHARED anonymous memory, a memfd or a
 * tmpfs file, of a size not a multiple of 2 MiB) mapped from an offset that
 * is not one either (anonymous shared memory: from its start).
 */
static void do_mmap_shm(void)
{
	size_t size = rnd_npages(), off = 0, n;
	struct shm_obj *o;
	struct region *r;
	char *hint, *p;
	int fd;

	if (size > OBJ_MAX_PAGES - PMD_PAGES)
		size = OBJ_MAX_PAGES - PMD_PAGES;
	o = obj_new(size, &fd);
	if (!o) {
		FAILED(OP_MMAP);
		return;
	}
	if (fd >= 0 && rnd_below(3))
		off = rnd_below(size / 2 + 1);
	n = size - off;
	if (fd >= 0 && n > 1)
		n -= rnd_below(n / 4 + 1);
	if (total_pages() + n > MAX_PAGES_PER_WORKER)
		n = 0;
	hint = n ? shm_hole(n, off) : NULL;
	p = !hint ? MAP_FAILED :
	    fd >= 0 ? mmap(hint, n * PG, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_FIXED_NOREPLACE, fd, off * PG) :
		      mmap(hint, n * PG, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED) {
		FAILED(OP_MMAP);
		munmap(o, sizeof(*o));
		if (fd >= 0)
			close(fd);
		return;
	}
	log_range("mmap", p, n * PG);
	r = &regions[nregions++];
	memset(r, 0, sizeof(*r));
	r->addr = p;
	r->npages = n;
	r->id = o->id;
	r->base = off;
	r->shared = 1;
	r->obj = o;
	r->fd = fd;
	r->ps = ps_alloc(n, &r->ps_cap);
	if (rnd_below(2))
		madvise(p, n * PG, MADV_HUGEPAGE);
	fill(r, 0, n, cur_gen, 1);
}

static void do_mmap(void)
{
	size_t n = rnd_npages();
	struct region *r;
	char *hint, *p;

	if (nregions == MAX_REGIONS || total_pages() + n > MAX_PAGES_PER_WORKER)
		return;
	if (rnd_below(3) == 0) {
		do_mmap_shm();
		return;
	}
	hint = unaligned_hole(n * PG);
	p = mmap(hint, n * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | (hint ? MAP_FIXED_NOREPLACE : 0),
		 -1, 0);
	if (p == MAP_FAILED) {
		FAILED(OP_MMAP);
		return;
	}
	log_range("mmap", p, n * PG);
	r = &regions[nregions++];
	memset(r, 0, sizeof(*r));
	r->addr = p;
	r->npages = n;
	r->id = next_id++;
	r->fd = -1;
	r->ps = ps_alloc(n, &r->ps_cap);
	if (rnd_below(2))
		madvise(p, n * PG, MADV_HUGEPAGE);
	fill(r, 0, n, cur_gen, 1);
}

static void uffd_unregister(struct region *r)
{
	struct uffdio_range range = {
		.start = (uintptr_t)r->addr, .len = r->npages * PG,
	};
	size_t i;

	if (!r->uffd)
		return;
	/* Unregistering a write-protected range also removes the protection. */
	if (ioctl(uffd, UFFDIO_UNREGISTER, &range))
		FAILED(OP_UFFD);
	for (i = 0; i < r->npages; i++)
		r->ps[i].flags &= ~F_WP;
	r->uffd = 0;
}

static void do_munmap(void)
{
	struct region *r = pick_region(0), *nr;
	size_t from, len, i;

	if (!r || r->is_brk)
		return;
	check_region(r);
	switch (rnd_below(4)) {
	case 0:	/* all of it */
		munmap(r->addr, r->npages * PG);
		region_drop(r);
		return;
	case 1:	/* the head: the rest keeps its patterns (base moves) */
		len = 1 + rnd_below(r->npages);
		if (len == r->npages)
			return;
		munmap(r->addr, len * PG);
		memmove(r->ps, r->ps + len, (r->npages - len) * sizeof(*r->ps));
		r->addr += len * PG;
		r->base += len;
		r->npages -= len;
		return;
	case 2:	/* the tail */
		len = 1 + rnd_below(r->npages);
		if (len == r->npages)
			return;
		munmap(r->addr + (r->npages - len) * PG, len * PG);
		r->npages -= len;
		return;
	}
	/* A hole: the part after it becomes a region of its own. */
	if (r->npages < 3 || nregions == MAX_REGIONS)
		return;
	len = 1 + rnd_below(r->npages - 2);
	from = 1 + rnd_below(r->npages - len - 1);
	munmap(r->addr + from * PG, len * PG);
	nr = &regions[nregions++];
	*nr = *r;
	nr->addr = r->addr + (from + len) * PG;
	nr->base = r->base + from + len;
	nr->npages = r->npages - from - len;
	nr->ps = ps_alloc(nr->npages, &nr->ps_cap);
	for (i = 0; i < nr->npages; i++)
		nr->ps[i] = r->ps[from + len + i];
	r->npages = from;
}

static void do_mremap(enum op op)
{
	struct region *r = pick_region(0);
	size_t n, old, k;
	char *p, *to;

	if (!r || r->is_brk)
		return;
	check_region(r);
	/* Without UFFD_FEATURE_EVENT_REMAP the moved range loses it anyway. */
	uffd_unregister(r);
	/*
	 * mremap takes one VMA; half the time first undo what splits a
	 * region into several (mprotect, mlock, per-range THP advice).
	 */
	if (rnd_below(2)) {
		mprotect(r->addr, r->npages * PG, PROT_READ | PROT_WRITE);
		munlock(r->addr, r->npages * PG);
		madvise(r->addr, r->npages * PG, MADV_HUGEPAGE);
		for (k = 0; k < r->npages; k++)
			r->ps[k].flags &= ~F_RO;
	}
	old = r->npages;
	switch (op) {
	case OP_MREMAP_GROW:
		n = old + 1 + rnd_below(PMD_PAGES + 100);
		if (r->obj && r->base + n > OBJ_MAX_PAGES)
			n = OBJ_MAX_PAGES - r->base;	/* the model's bound */
		if (n <= old || total_pages() + n - old > MAX_PAGES_PER_WORKER)
			return;
		/*
		 * In place half the time; moving if it must the other half
		 * (shmem: always moving then, within its window). A shmem
		 * mapping may grow past the end of its object.
		 */
		if (!rnd_below(2))
			p = mremap(r->addr, old * PG, n * PG, 0);
		else if (!r->obj)
			p = mremap(r->addr, old * PG, n * PG, MREMAP_MAYMOVE);
		else {
			to = shm_hole(n, r->base);
			if (!to)
				return;
			p = mremap(r->addr, old * PG, n * PG,
				   MREMAP_MAYMOVE | MREMAP_FIXED, to);
		}
		if (p == MAP_FAILED) {
			FAILED(op);
			return;
		}
		ps_resize(r, n, old);
		memset(r->ps + old, 0, (n - old) * sizeof(*r->ps));
		/* The grown part has the protection of the VMA it extends. */
		for (k = old; k < n; k++)
			r->ps[k].flags = r->ps[old - 1].flags & F_RO;
		r->addr = p;
		r->npages = n;
		log_range("mremap", p, n * PG);
		check_region(r);
		fill(r, old, n - old, cur_gen, 1);
		return;
	case OP_MREMAP_SHRINK:
		if (old < 2)
			return;
		n = 1 + rnd_below(old - 1);
		p = mremap(r->addr, old * PG, n * PG, 0);
		if (p == MAP_FAILED) {
			FAILED(op);
			return;
		}
		r->npages = n;
		break;
	default:	/* move to an unaligned address */
		to = r->obj ? shm_hole(old, r->base) : unaligned_hole(old * PG);
		if (!to)
			return;
		p = mremap(r->addr, old * PG, old * PG,
			   MREMAP_MAYMOVE | MREMAP_FIXED, to);
		if (p == MAP_FAILED) {
			FAILED(op);
			return;
		}
		r->addr = p;
		log_range("mremap", p, old * PG);
	}
	check_region(r);
}

static void do_mprotect(void)
{
	struct region *r = pick_region(0);
	size_t from, len, i;
	int ro = rnd_below(2);

	if (!r)
		return;
	/* Making a locked VMA writable populates it for writing (see mlock). */
	uffd_unregister(r);
	pick(r, &from, &len);
	if (mprotect(r->addr + from * PG, len * PG,
		     ro ? PROT_READ : PROT_READ | PROT_WRITE)) {
		FAILED(OP_MPROTECT);
		return;
	}
	for (i = from; i < from + len; i++)
		r->ps[i].flags = ro ? r->ps[i].flags | F_RO : r->ps[i].flags & ~F_RO;
	check_pages(r, from, len);
}

static struct region *brk_region(void)
{
	int i;

	for (i = 0; i < nregions; i++)
		if (regions[i].is_brk)
			return &regions[i];
	return NULL;
}

static void do_brk(void)
{
	struct region *r = brk_region();
	size_t n, old = r ? r->npages : 0;
	char *cur = sbrk(0);

	if (!r) {
		if (nregions == MAX_REGIONS)
			return;
		r = &regions[nregions++];
		memset(r, 0, sizeof(*r));
		r->addr = brk0;
		r->id = next_id++;
		r->is_brk = 1;
		r->fd = -1;
		r->ps = ps_alloc(1, &r->ps_cap);
	}
	if (cur != r->addr + old * PG) {	/* not ours alone after all */
		FAILED(OP_BRK);
		return;
	}
	check_region(r);
	if (old && rnd_below(3) == 0) {
		n = rnd_below(old);
		if (brk(r->addr + n * PG)) {
			FAILED(OP_BRK);
			return;
		}
		r->npages = n;
		return;
	}
	n = old + 1 + rnd_below(PMD_PAGES + 200);
	if (total_pages() + n - old > MAX_PAGES_PER_WORKER || brk(r->addr + n * PG)) {
		FAILED(OP_BRK);
		return;
	}
	ps_resize(r, n, old);
	memset(r->ps + old, 0, (n - old) * sizeof(*r->ps));
	r->npages = n;
	log_range("brk", r->addr, n * PG);
	/* Pages brk gives back and takes again must read as zero. */
	check_region(r);
	fill(r, old, n - old, cur_gen, 1);
}

static void do_madvise(enum op op)
{
	static const int advice[OP_NR] = {
		[OP_DONTNEED] = MADV_DONTNEED, [OP_FREE] = MADV_FREE,
		[OP_HUGEPAGE] = MADV_HUGEPAGE, [OP_NOHUGEPAGE] = MADV_NOHUGEPAGE,
		[OP_COLLAPSE] = MADV_COLLAPSE, [OP_COLD] = MADV_COLD,
		[OP_PAGEOUT] = MADV_PAGEOUT, [OP_MERGEABLE] = MADV_MERGEABLE,
	};
	struct region *r = pick_region(0);
	size_t from, len, i;
	int adv = advice[op], ret;

	if (!r)
		return;
	pick(r, &from, &len);
	if (op == OP_COLLAPSE || op == OP_HUGEPAGE) {
		/* Often a range spanning a PMD or more, still unaligned. */
		len = PMD_PAGES + rnd_below(PMD_PAGES);
		if (len > r->npages)
			len = r->npages;
		from = rnd_below(r->npages - len + 1);
	}
	if (op == OP_MERGEABLE) {
		uffd_unregister(r);	/* KSM's unsharing faults, to be safe */
		/* Pages with the KSM pattern, for ksmd to merge. */
		obj_lock(r);
		for (i = from; i < from + len; i++)
			write_page(r, i, KSM_GEN);
		obj_unlock(r);
		if (rnd_below(4) == 0)
			adv = MADV_UNMERGEABLE;
	}
	if (op == OP_FREE && !log_free(r, from, len))
		return;		/* no room to log it: not done */
	ret = madvise(r->addr + from * PG, len * PG, adv);
	if (ret)
		FAILED(op);
	/* The first page-out since the last write is the one that counts. */
	if (op == OP_PAGEOUT && !r->shared)
		for (i = from; i < from + len; i++)
			if (r->ps[i].st != ST_ZERO && !r->ps[i].paged)
				r->ps[i].paged = op_clock;
	if ((op == OP_DONTNEED || op == OP_FREE) && !r->shared) {
		/*
		 * DONTNEED zeroes private pages (shmem keeps them), FREE may;
		 * a failed call (mlocked VMA) may have done part of the work.
		 */
		for (i = from; i < from + len; i++) {
			if (op == OP_DONTNEED && !ret)
				r->ps[i].st = ST_ZERO;
			else if (r->ps[i].st == ST_PAT)
				r->ps[i].st = ST_PAT_OR_ZERO;
		}
	}
	check_pages(r, from, len);
}

static void do_mlock(void)
{
	struct region *r = pick_region(0);
	size_t from, len;
	int ret;

	if (!r)
		return;
	/* mlock populates for writing: a protected page would block it. */
	uffd_unregister(r);
	pick(r, &from, &len);
	if (rnd_below(2))
		ret = mlock(r->addr + from * PG, len * PG);
	else
		ret = munlock(r->addr + from * PG, len * PG);
	if (ret)
		FAILED(OP_MLOCK);
	check_pages(r, from, len);
}

static void uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		return;
	if (ioctl(uffd, UFFDIO_API, &api)) {
		close(uffd);
		uffd = -1;
	}
}

/*
 * Write-protect mode only, on private memory: with no handler thread a
 * missing-page fault in a MISSING-mode range would block, and a write to a
 * protected page would too, so protected pages are marked F_WP and never
 * written until unregistration (which lifts the protection).
 */
static void do_uffd(void)
{
	struct region *r = pick_region(1);
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	size_t from, len, i;

	if (!r || uffd < 0)
		return;
	if (r->uffd) {
		uffd_unregister(r);
		check_region(r);
		return;
	}
	reg.range.start = (uintptr_t)r->addr;
	reg.range.len = r->npages * PG;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		FAILED(OP_UFFD);
		return;
	}
	r->uffd = 1;
	pick(r, &from, &len);
	wp.range.start = (uintptr_t)(r->addr + from * PG);
	wp.range.len = len * PG;
	if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp)) {
		FAILED(OP_UFFD);
		return;
	}
	for (i = from; i < from + len; i++)
		r->ps[i].flags |= F_WP;
	check_pages(r, from, len);
}

static void do_write(void)
{
	struct region *r = corrupt_pending == 3 ? pick_shm_region(0) : pick_region(0);
	size_t from, len;

	if (!r)
		return;
	pick(r, &from, &len);
	obj_lock(r);
	fill(r, from, len, ++cur_gen, 0);
	if (corrupt_pending && !in_child) {
		/* Behind the bookkeeping's back: the check must see it. */
		size_t i;

		for (i = from; i < from + len; i++) {
			if (present(r, i) && cs(r, i)->st == ST_PAT &&
			    !(r->ps[i].flags & (F_RO | F_WP))) {
				if (corrupt_pending == 2)	/* a whole page lost */
					memset(r->addr + i * PG, 0, PG);
				else
					r->addr[i * PG + PG / 2] ^= 0x40;
				corrupt_pending = 0;
				__atomic_fetch_add(&tot->corrupted, 1, __ATOMIC_RELAXED);
				fprintf(stderr, "xhp_fuzz: pid %d corrupted region %u%s page %zu on purpose\n",
					getpid(), r->id, r->obj ? " (shmem)" : "", i);
				break;
			}
		}
	}
	check_pages(r, from, len);
	obj_unlock(r);
}

/*
 * ftruncate a shmem file to a size, up or down, not a multiple of 2 MiB
 * (whole pages: the model is per page). What a shrink drops reads zero
 * when a grow brings it back.
 */
static void do_truncate(void)
{
	struct region *r = pick_shm_region(1);
	struct shm_obj *o;
	size_t old, n, i;

	if (!r)
		return;
	o = r->obj;
	obj_lock(r);
	old = o->size;
	if (rnd_below(2) && old < OBJ_MAX_PAGES) {
		n = old + 1 + rnd_below(PMD_PAGES + 100);
		if (n > OBJ_MAX_PAGES)
			n = OBJ_MAX_PAGES;
	} else {
		n = rnd_below(old + 1);
	}
	if (ftruncate(r->fd, n * PG)) {
		FAILED(OP_TRUNCATE);
	} else {
		for (i = n; i < old; i++)
			o->ps[i] = (struct page_state){ 0 };
		__atomic_store_n(&o->size, n, __ATOMIC_RELEASE);
	}
	check_region(r);
	obj_unlock(r);
}

/* Punch a hole (whole pages) into a shmem file where r maps it. */
static void do_punch(void)
{
	struct region *r = pick_shm_region(1);
	size_t from, len, i;

	if (!r)
		return;
	pick(r, &from, &len);
	obj_lock(r);
	if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (r->base + from) * PG, len * PG)) {
		FAILED(OP_PUNCH);
	} else {
		for (i = from; i < from + len; i++)
			if (present(r, i))
				*cs(r, i) = (struct page_state){ 0 };
	}
	check_region(r);
	obj_unlock(r);
}

/*
 * MADV_REMOVE: a hole punched through the mapping (any shmem, anonymous
 * too). It fails on a read-only or locked VMA, possibly after freeing the
 * VMAs before it in the range: then those pages may read either way.
 */
static void do_remove(void)
{
	struct region *r = pick_shm_region(0);
	size_t from, len, i;
	int ret;

	if (!r)
		return;
	pick(r, &from, &len);
	obj_lock(r);
	ret = madvise(r->addr + from * PG, len * PG, MADV_REMOVE);
	if (ret)
		FAILED(OP_REMOVE);
	for (i = from; i < from + len; i++) {
		struct page_state *s = cs(r, i);

		if (!present(r, i))
			continue;
		if (!ret)
			*s = (struct page_state){ 0 };
		else if (s->st == ST_PAT)
			s->st = ST_PAT_OR_ZERO;
	}
	check_region(r);
	obj_unlock(r);
}

static void run_ops(unsigned long count, const char *maps_dir);

/* Reap exited children; one killed by a signal is a failure. */
static void reap(int flags)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, flags)) > 0) {
		children_alive--;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "xhp_fuzz: child %d died (status %#x)\n", pid, st);
			__atomic_fetch_add(&tot->deaths, 1, __ATOMIC_RELAXED);
		}
	}
}

/*
 * The child shares the parent's MAP_SHARED regions and must not write them;
 * its copy of every private page starts as the parent's. It verifies, runs
 * some operations of its own on its own mm, verifies and exits.
 */
static void do_fork(const char *maps_dir)
{
	pid_t pid;
	int i;
	size_t j;

	if (in_child || children_alive >= MAX_CHILDREN)
		return;
	pid = fork();
	if (pid < 0) {
		FAILED(OP_FORK);
		return;
	}
	if (pid > 0) {
		__atomic_fetch_add(&tot->children, 1, __ATOMIC_RELAXED);
		children_alive++;
		return;
	}
	in_child = 1;
	children_alive = 0;
	fork_clock = op_clock;
	log_open(maps_dir);
	/* Registrations and protections are not inherited without EVENT_FORK. */
	if (uffd >= 0)
		close(uffd);
	uffd = -1;
	/*
	 * shmem regions stay: parent and child both write and check them,
	 * under the object's lock, against the one model they share.
	 */
	for (i = 0; i < nregions; i++) {
		regions[i].uffd = 0;
		for (j = 0; j < regions[i].npages; j++)
			regions[i].ps[j].flags &= ~F_WP;
	}
	check_all();
	run_ops(20 + rnd_below(60), maps_dir);
	check_all();
	_exit(0);
}

static void run_ops(unsigned long count, const char *maps_dir)
{
	unsigned int wsum = 0, w, k;
	unsigned long n;
	enum op op;

	for (k = 0; k < OP_NR; k++)
		wsum += op_weight[k];
	for (n = 0; n < count || (corrupt_pending && !in_child); n++) {
		/*
		 * The worker told to corrupt a page goes on until it has: on a
		 * slow machine a short run could end before its first write.
		 */
		if ((__atomic_load_n(&tot->stop, __ATOMIC_RELAXED) ||
		     time(NULL) >= deadline) && !(corrupt_pending && !in_child))
			return;
		reap(WNOHANG);
		op_clock++;
		w = rnd_below(wsum);
		for (op = 0; w >= op_weight[op]; op++)
			w -= op_weight[op];
		if (nregions < 2 && op != OP_BRK)
			op = OP_MMAP;
		if (verbose)
			fprintf(stderr, "xhp_fuzz: pid %d op %s\n", getpid(), op_names[op]);
		switch (op) {
		case OP_MMAP:
			do_mmap();
			break;
		case OP_MUNMAP:
			do_munmap();
			break;
		case OP_MREMAP_GROW:
		case OP_MREMAP_SHRINK:
		case OP_MREMAP_MOVE:
			do_mremap(op);
			break;
		case OP_MPROTECT:
			do_mprotect();
			break;
		case OP_BRK:
			do_brk();
			break;
		case OP_FORK:
			do_fork(maps_dir);
			break;
		case OP_MLOCK:
			do_mlock();
			break;
		case OP_UFFD:
			do_uffd();
			break;
		case OP_WRITE:
			do_write();
			break;
		case OP_VERIFY:
			check_all();
			break;
		case OP_TRUNCATE:
			do_truncate();
			break;
		case OP_PUNCH:
			do_punch();
			break;
		case OP_REMOVE:
			do_remove();
			break;
		default:
			do_madvise(op);
			break;
		}
		__atomic_fetch_add(&tot->ops[op], 1, __ATOMIC_RELAXED);
	}
}

/* One incarnation of a worker: a fresh mm, a few hundred operations, exit. */
static void worker(uint64_t seed, const char *maps_dir, int corrupt)
{
	setpgid(0, 0);
	rng = mix(seed) | 1;
	next_id = (uint32_t)(mix(seed ^ 0x1d) & 0xffffff) << 8;
	in_child = 0;
	corrupt_pending = corrupt;
	brk0 = sbrk(0);
	free_log = mmap(NULL, sizeof(*free_log), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (free_log == MAP_FAILED) {
		perror("xhp_fuzz: free log mmap");
		exit(3);
	}
	log_open(maps_dir);
	uffd_open();
	run_ops(200 + rnd_below(600), maps_dir);
	check_all();
	reap(0);
	_exit(0);
}

/*
 * Wait for a worker to end (all of them if @all). A worker still there 60 s
 * after the deadline is hung (a fault blocked in userfaultfd, say): it is
 * killed with its children (its own process group) and counted as a death.
 */
static void reap_workers(pid_t *slot, int procs, int all)
{
	int i, st, left;
	pid_t pid;

	for (;;) {
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (i = 0; i < procs; i++)
				if (slot[i] == pid)
					slot[i] = 0;
			if (!WIFEXITED(st) || WEXITSTATUS(st)) {
				fprintf(stderr, "xhp_fuzz: worker %d died (status %#x)\n", pid, st);
				tot->deaths++;
			}
			if (!all)
				return;
		}
		for (i = 0, left = 0; i < procs; i++)
			left += slot[i] != 0;
		if (!left)
			return;
		if (time(NULL) > deadline + 60) {
			for (i = 0; i < procs; i++) {
				if (!slot[i])
					continue;
				fprintf(stderr, "xhp_fuzz: worker %d hung, killed\n", slot[i]);
				kill(-slot[i], SIGKILL);
				waitpid(slot[i], NULL, 0);
				slot[i] = 0;
				tot->deaths++;
			}
			return;
		}
		usleep(100000);
	}
}

static void on_term(int sig)
{
	(void)sig;
	__atomic_store_n(&tot->stop, 1, __ATOMIC_RELAXED);
}

int main(int argc, char **argv)
{
	uint64_t seed = 0;
	unsigned long incarnation = 0, total_ops = 0, total_failed = 0;
	int procs = 4, secs = 60, opt, i, corrupt, only_slot = -1;
	const char *maps_dir = NULL;
	pid_t *slot;
	char *env;

	while ((opt = getopt(argc, argv, "s:p:t:m:vw:d:")) != -1) {
		switch (opt) {
		case 'd':
			if (ntmpfs_dirs < MAX_TMPFS_DIRS)
				tmpfs_dirs[ntmpfs_dirs++] = optarg;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			procs = atoi(optarg);
			break;
		case 't':
			secs = atoi(optarg);
			break;
		case 'm':
			maps_dir = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'w':
			if (sscanf(optarg, "%d:%lu", &only_slot, &incarnation) != 2) {
				fprintf(stderr, "xhp_fuzz: -w SLOT:INCARNATION\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-p PROCS] [-t SECONDS] [-m MAPS_DIR] [-d TMPFS_DIR]... [-v] [-w SLOT:INCARNATION]\n",
				argv[0]);
			return 2;
		}
	}
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	env = getenv("XHP_FUZZ_CORRUPT");
	corrupt = env && *env >= '1' && *env <= '3' ? *env - '0' : 0;
	if (procs < 1 || procs > 64 || secs < 1) {
		fprintf(stderr, "xhp_fuzz: bad -p or -t\n");
		return 2;
	}
	printf("xhp_fuzz: seed %llu procs %d, at most %d s\n",
	       (unsigned long long)seed, procs, secs);
	fflush(stdout);
	setvbuf(stderr, NULL, _IONBF, 0);
	tot = mmap(NULL, sizeof(*tot), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	slot = mmap(NULL, procs * sizeof(*slot), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tot == MAP_FAILED || slot == MAP_FAILED) {
		perror("xhp_fuzz: mmap");
		return 3;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	deadline = time(NULL) + secs;

	/* Keep PROCS workers alive; each new one gets the next seed. */
	for (i = 0; i < procs; i++)
		slot[i] = 0;
	if (only_slot >= 0) {
		/* One worker incarnation alone, as it ran among the others. */
		slot[0] = fork();
		if (slot[0] == 0)
			worker(seed ^ mix(((uint64_t)only_slot << 32) | incarnation),
			       maps_dir, 0);
		tot->workers += slot[0] > 0;
		procs = 1;
		reap_workers(slot, procs, 1);
	}
	while (only_slot < 0 && !__atomic_load_n(&tot->stop, __ATOMIC_RELAXED) &&
	       time(NULL) < deadline) {
		for (i = 0; i < procs; i++) {
			pid_t pid;

			if (slot[i])
				continue;
			pid = fork();
			if (pid == 0)
				worker(seed ^ mix(((uint64_t)i << 32) | incarnation),
				       maps_dir, incarnation == 0 ? corrupt : 0);
			if (pid > 0) {
				slot[i] = pid;
				tot->workers++;
			}
			incarnation++;
		}
		reap_workers(slot, procs, 0);
	}
	/* Told to stop: the hang guard counts from now. */
	if (__atomic_load_n(&tot->stop, __ATOMIC_RELAXED) && time(NULL) < deadline)
		deadline = time(NULL);
	__atomic_store_n(&tot->stop, 1, __ATOMIC_RELAXED);
	reap_workers(slot, procs, 1);

	for (i = 0; i < OP_NR; i++) {
		total_ops += tot->ops[i];
		total_failed += tot->failed[i];
	}
	printf("xhp_fuzz: ops");
	for (i = 0; i < OP_NR; i++) {
		printf(" %s=%lu", op_names[i], tot->ops[i]);
		if (tot->failed[i])
			printf("(%lu refused)", tot->failed[i]);
	}
	printf("\nxhp_fuzz: shmem objects");
	for (i = 0; i < OBJ_NR; i++)
		printf(" %s=%lu", obj_names[i], tot->objects[i]);
	printf(", %lu shmem pages checked\n", tot->shm_pages_checked);
	printf("xhp_fuzz: seed %llu: %lu operations (%lu refused by the kernel), %lu workers, %lu children, %lu pages checked, %lu corrupted on purpose, %lu zeroed by a relative's MADV_FREE, %lu deaths, %lu mismatches\n",
	       (unsigned long long)seed, total_ops, total_failed, tot->workers,
	       tot->children, tot->pages_checked, tot->corrupted,
	       tot->shared_lazyfree_lost, tot->deaths, tot->mismatches);
	return tot->mismatches || tot->deaths ? 1 : 0;
}
