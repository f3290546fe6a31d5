// SPDX-License-Identifier: GPL-2.0
/*
 * Every address the scanner judges is PMD-aligned and its 2 MiB range lies
 * inside the VMA, even when the VMA grows in place between two rounds.
 *
 * Usage: xhp_align SECONDS TRACEFS  (xhugepaged loaded, max_ptes_none=0)
 *
 * Maps NR_REGIONS anonymous regions, each at a 2 MiB-aligned base with a
 * free gap behind it, whose lengths are never a multiple of 2 MiB, and for
 * SECONDS grows and shrinks them in place with mremap() (no MREMAP_MAYMOVE),
 * faulting in what grew. Meanwhile it records its own tracepoint
 * xhugepaged:xhp_scan_pmd (filtered on its pid) with the monotonic trace
 * clock, and keeps, per region, every length change bracketed by the
 * CLOCK_MONOTONIC times before and after the mremap() call. Then it reads
 * the trace and checks each judged address against what the region was at
 * that moment: aligned, and [address, address + 2 MiB) inside the region
 * (while an mremap() was in flight, inside the larger of the two lengths;
 * the scanner judges under mmap_lock for read and mremap() holds it for
 * write, so the judgement happened wholly before or after the change).
 *
 * Prints "events N unaligned U outside O grown G unknown K" and a few of
 * the bad events; exits 0 only if N > 0, G > 0 (ranges that only exist
 * because a region grew were judged), and U, O, K are 0.
 *
 * Usage: xhp_align lockhold PROCESSES_FILE WALKS HANG_SECONDS
 *        (xhugepaged loaded, pages_to_scan=UINT_MAX)
 *
 * The scanner lets mmap_lock go within a round: maps HOLD_SPAN of sparse
 * anonymous memory (one page faulted in, so the VMA is eligible; a walk of
 * it is HOLD_PMDS empty PMD ranges) and calls mprotect() on a small
 * mapping of its own, which needs mmap_lock for write, again and again,
 * until the scanner has judged WALKS * HOLD_PMDS ranges of this process
 * (its "judged" column in PROCESSES_FILE, the debugfs table, which counts
 * each visit as it ends). Prints "lockhold judged J calls N max_us M"
 * (N: the calls that got through meanwhile) and exits 0; exits 3 if the
 * scanner did not get that far within HANG_SECONDS (a hang bound only).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#define PMD_SIZE	(2UL << 20)
#define PAGE_SZ		4096UL
#define NR_REGIONS	6
#define RESERVE		(16UL << 20)	/* per region, with its gap */
#define MAX_PMDS	4
#define MAX_CHANGES	200000

struct change {
	uint64_t t0, t1;		/* ns before and after mremap() */
	unsigned long old_len, new_len;
};

struct region {
	char *base;
	unsigned long len, initial_len;
	struct change *chg;
	unsigned int nr_chg;
};

static struct region regions[NR_REGIONS];
static char tracefs[256];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int tracefs_write(const char *file, const char *val)
{
	char path[512];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (write(fd, val, strlen(val)) < 0) {
		fprintf(stderr, "write %s to %s: %s\n", val, path,
			strerror(errno));
		ret = -1;
	}
	close(fd);
	return ret;
}

/* A length of 0..MAX_PMDS-1 PMDs plus 1..511 pages: never PMD-aligned. */
static unsigned long random_len(void)
{
	return (random() % MAX_PMDS) * PMD_SIZE +
	       (1 + random() % 511) * PAGE_SZ;
}

/*
 * Every third region is faulted in whole, so its ranges pass judgement and
 * go to the engine (which lets mmap_lock go); the others every other page,
 * so with max_ptes_none=0 their ranges fail judgement and the scanner moves
 * on with the lock held. Rounds end differently in the two cases.
 */
static void touch(const struct region *r, unsigned long from, unsigned long len,
		  unsigned char v)
{
	unsigned long step = (r - regions) % 3 ? 2 * PAGE_SZ : PAGE_SZ;
	unsigned long off;

	for (off = from; off < from + len; off += step)
		r->base[off] = v;
}

static int setup(void)
{
	char *resv;
	unsigned long base;
	int i;

	/*
	 * First, so that they cannot land in the gaps, and never eligible
	 * for a THP, so that every judged range is a region's.
	 */
	for (i = 0; i < NR_REGIONS; i++) {
		size_t sz = MAX_CHANGES * sizeof(struct change);
		void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED || madvise(p, sz, MADV_NOHUGEPAGE))
			return -1;
		regions[i].chg = p;
	}
	resv = mmap(NULL, NR_REGIONS * RESERVE + PMD_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return -1;
	munmap(resv, NR_REGIONS * RESERVE + PMD_SIZE);
	base = ((unsigned long)resv + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
	for (i = 0; i < NR_REGIONS; i++) {
		struct region *r = &regions[i];

		r->len = r->initial_len = PMD_SIZE + (1 + random() % 511) * PAGE_SZ;
		r->base = mmap((void *)(base + i * RESERVE), r->len,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			       -1, 0);
		if (r->base == MAP_FAILED) {
			perror("mmap region");
			return -1;
		}
		touch(r, 0, r->len, 1);
	}
	return 0;
}

static void churn(unsigned int seconds)
{
	uint64_t end = now_ns() + seconds * 1000000000ULL;

	while (now_ns() < end) {
		struct region *r = &regions[random() % NR_REGIONS];
		unsigned long new_len = random_len();
		struct change *c;
		uint64_t t0, t1;
		void *p;

		if (r->nr_chg == MAX_CHANGES)
			break;
		t0 = now_ns();
		p = mremap(r->base, r->len, new_len, 0);
		t1 = now_ns();
		if (p == MAP_FAILED)
			continue;
		c = &r->chg[r->nr_chg++];
		c->t0 = t0;
		c->t1 = t1;
		c->old_len = r->len;
		c->new_len = new_len;
		if (new_len > r->len)
			touch(r, r->len, new_len - r->len, 2);
		r->len = new_len;
		usleep(random() % 5000);
	}
}

/*
 * The longest the region could have been at @t (ns): the length in effect,
 * or the larger one of a change in flight. Trace times have microsecond
 * resolution, so a change counts as in flight within 1 us of its bracket.
 */
static unsigned long len_at(const struct region *r, uint64_t t)
{
	unsigned long len = r->initial_len, max_len = 0;
	unsigned int i;

	for (i = 0; i < r->nr_chg; i++) {
		const struct change *c = &r->chg[i];

		if (c->t1 + 1000 < t) {
			len = c->new_len;
			continue;
		}
		if (c->t0 > t + 1000)
			break;
		/* in flight */
		max_len = c->old_len > max_len ? c->old_len : max_len;
		max_len = c->new_len > max_len ? c->new_len : max_len;
	}
	return max_len > len ? max_len : len;
}

static int check_trace(void)
{
	unsigned long events = 0, unaligned = 0, outside = 0, grown = 0;
	unsigned long unknown = 0, shown = 0;
	char path[512], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", tracefs);
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *ev = strstr(line, " xhp_scan_pmd: "), *p;
		unsigned long addr, sec, usec;
		struct region *r = NULL;
		const char *bad = NULL;
		uint64_t t;
		int i;

		if (!ev || line[0] == '#')
			continue;
		/* "... [cpu] flags SECONDS.USECS: xhp_scan_pmd: ..." */
		*ev = '\0';
		p = strrchr(line, ' ');
		if (!p || sscanf(p + 1, "%lu.%lu:", &sec, &usec) != 2)
			continue;
		*ev = ' ';
		p = strstr(ev, " address=0x");
		if (!p || sscanf(p, " address=0x%lx", &addr) != 1)
			continue;
		t = sec * 1000000000ULL + usec * 1000ULL;
		events++;
		for (i = 0; i < NR_REGIONS; i++)
			if (addr >= (unsigned long)regions[i].base &&
			    addr < (unsigned long)regions[i].base + RESERVE)
				r = &regions[i];
		if (addr & (PMD_SIZE - 1)) {
			unaligned++;
			bad = "unaligned";
		}
		if (!r) {
			/* Filtered on our pid: only our regions are eligible. */
			unknown++;
			bad = "not in a region";
		} else {
			unsigned long off = addr - (unsigned long)r->base;

			if (off + PMD_SIZE > len_at(r, t)) {
				outside++;
				bad = "outside its VMA";
			}
			if (off + PMD_SIZE > r->initial_len)
				grown++;
		}
		if (bad && shown++ < 10)
			printf("# %s: address 0x%lx at %lu.%06lu%s\n", bad, addr,
			       sec, usec, r ? "" : " (no region)");
	}
	fclose(f);
	printf("events %lu unaligned %lu outside %lu grown %lu unknown %lu\n",
	       events, unaligned, outside, grown, unknown);
	return !(events && grown && !unaligned && !outside && !unknown);
}

#define HOLD_SPAN	(16UL << 40)
#define HOLD_PMDS	(HOLD_SPAN / PMD_SIZE)

/* The "judged" column of this process's line in the debugfs table. */
static long judged_by_scanner(const char *path)
{
	char line[1024], comm[64], cgroup[512];
	long judged, found = 0, pid;
	int targeted;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	/* pid comm cgroup targeted anon_kb shmem_kb pmd_mapped_kb judged ... */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%ld %63s %511s %d %*u %*u %*u %ld", &pid, comm,
			   cgroup, &targeted, &judged) == 5 && pid == getpid()) {
			found = judged;
			break;
		}
	}
	fclose(f);
	return found;
}

static int run_lockhold(const char *processes, long walks,
			unsigned int hang_seconds)
{
	uint64_t hang = now_ns() + hang_seconds * 1000000000ULL, max_ns = 0;
	unsigned long calls = 0;
	char *big, *small;
	long judged;

	big = mmap(NULL, HOLD_SPAN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	small = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED || small == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	big[0] = 1;
	printf("ready\n");
	for (;;) {
		uint64_t t0 = now_ns(), d;

		/* Alternate, so every call changes the VMA tree. */
		if (mprotect(small, PAGE_SZ, calls % 2 ? PROT_READ | PROT_WRITE :
							  PROT_READ)) {
			perror("mprotect");
			return 2;
		}
		d = now_ns() - t0;
		max_ns = d > max_ns ? d : max_ns;
		judged = judged_by_scanner(processes);
		if (judged < 0)
			return 2;
		if (judged >= walks * (long)HOLD_PMDS)
			break;
		calls++;
		if (now_ns() > hang) {
			printf("lockhold hang: judged %ld in %u s\n", judged,
			       hang_seconds);
			return 3;
		}
		usleep(2000);
	}
	printf("lockhold judged %ld calls %lu max_us %llu\n", judged, calls,
	       (unsigned long long)(max_ns / 1000));
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int seconds, changes = 0;
	char filter[64];
	int i, ret;

	if (argc == 5 && !strcmp(argv[1], "lockhold"))
		return run_lockhold(argv[2], atol(argv[3]), atoi(argv[4]));
	if (argc != 3) {
		fprintf(stderr, "usage: %s SECONDS TRACEFS | lockhold PROCESSES_FILE WALKS HANG_SECONDS\n",
			argv[0]);
		return 2;
	}
	seconds = atoi(argv[1]);
	snprintf(tracefs, sizeof(tracefs), "%s", argv[2]);
	srandom(getpid());
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (setup())
		return 2;
	snprintf(filter, sizeof(filter), "pid == %d", getpid());
	if (tracefs_write("trace_clock", "mono") ||
	    tracefs_write("buffer_size_kb", "8192") ||
	    tracefs_write("events/xhugepaged/xhp_scan_pmd/filter", filter) ||
	    tracefs_write("trace", "") ||
	    tracefs_write("events/xhugepaged/xhp_scan_pmd/enable", "1") ||
	    tracefs_write("tracing_on", "1"))
		return 2;
	printf("ready\n");
	churn(seconds);
	tracefs_write("events/xhugepaged/xhp_scan_pmd/enable", "0");
	for (i = 0; i < NR_REGIONS; i++)
		changes += regions[i].nr_chg;
	printf("changes %u\n", changes);
	ret = check_trace();
	tracefs_write("events/xhugepaged/xhp_scan_pmd/filter", "0");
	tracefs_write("trace_clock", "local");
	return ret;
}
