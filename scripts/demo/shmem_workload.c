// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's shmem workload: a memfd of MIB MiB mapped MAP_SHARED at a
 * 2 MiB-aligned address, written page by page (small pages: the kernel's
 * own shmem_enabled is never), asked to be huge with MADV_HUGEPAGE, kept
 * alive until SIGUSR1 (or SECONDS at most), then checked through the
 * mapping and through read(2).
 * Usage: shmem_workload MIB SECONDS
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define HPAGE (2UL << 20)
#define PAGE 4096UL

static char byte_of(size_t off)
{
	return (char)(off / PAGE % 251 + 1);
}

static void wake(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	size_t len = (argc > 1 ? strtoul(argv[1], NULL, 0) : 32) << 20;
	unsigned int secs = argc > 2 ? atoi(argv[2]) : 10;
	char *res, *p, c;
	size_t off;
	int fd;

	/* First: the demo's SIGUSR1 must never kill it. */
	signal(SIGUSR1, wake);
	signal(SIGALRM, wake);
	fd = memfd_create("xhp-demo-shmem", 0);
	res = mmap(NULL, len + HPAGE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fd < 0 || ftruncate(fd, len) || res == MAP_FAILED) {
		perror("memfd");
		return 1;
	}
	/* File offset 0 at a 2 MiB boundary: every 2 MiB range can be huge. */
	p = (char *)(((unsigned long)res + HPAGE - 1) & ~(HPAGE - 1));
	if (mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		 0) != p) {
		perror("mmap");
		return 1;
	}
	for (off = 0; off < len; off += PAGE)
		p[off] = byte_of(off);
	madvise(p, len, MADV_HUGEPAGE);
	alarm(secs);
	pause();
	for (off = 0; off < len; off += PAGE)
		if (p[off] != byte_of(off) ||
		    pread(fd, &c, 1, off) != 1 || c != byte_of(off)) {
			fprintf(stderr, "shmem_workload: page %zu corrupted\n",
				off / PAGE);
			return 1;
		}
	printf("   shmem_workload: all %zu pages intact (mapping and read(2))\n",
	       len / PAGE);
	return 0;
}
