// SPDX-License-Identifier: GPL-2.0
/*
 * A workload for xhp_procview.sh: joins CGROUP (a cgroup v2 directory, or
 * "-" to stay), names itself NAME, maps MIB MiB of PMD-aligned anonymous
 * memory, fills it with 4 KiB pages, asks for huge pages (MADV_HUGEPAGE
 * after the faults, so only a collapse makes them huge), creates READY
 * and waits. SIGUSR1 zaps its first two PMD ranges (MADV_DONTNEED), and
 * it creates READY.zapped once that is done; SIGTERM ends it.
 *
 *   xhp_procview CGROUP NAME MIB READY
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define PMD_SIZE_ (2UL << 20)

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || fclose(f)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	char zapped[4096];
	sigset_t usr1;
	size_t len;
	char *m, *p;

	if (argc != 5) {
		fprintf(stderr, "usage: %s CGROUP NAME MIB READY\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "-")) {
		char procs[4096];
		FILE *f;

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", argv[1]);
		f = fopen(procs, "w");
		if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
			perror(procs);
			return 1;
		}
	}
	prctl(PR_SET_NAME, argv[2]);
	len = strtoul(argv[3], NULL, 10) << 20;
	m = mmap(NULL, len + PMD_SIZE_, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	p = (char *)(((uintptr_t)m + PMD_SIZE_ - 1) & ~(PMD_SIZE_ - 1));
	/* Small pages first: no huge fault, whatever the native setting. */
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, 1, len);
	if (madvise(p, len, MADV_HUGEPAGE)) {
		perror("madvise");
		return 1;
	}
	/* SIGUSR1 is taken synchronously; SIGTERM keeps its default. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	touch(argv[4]);
	snprintf(zapped, sizeof(zapped), "%s.zapped", argv[4]);
	for (;;) {
		if (sigwaitinfo(&usr1, NULL) != SIGUSR1)
			continue;
		madvise(p, 2 * PMD_SIZE_, MADV_DONTNEED);
		touch(zapped);
	}
}
