// SPDX-License-Identifier: GPL-2.0
/*
 * Background churn for load/unload tests: WORKERS processes that, for
 * SECONDS, map MADV_HUGEPAGE anonymous memory, fault it, fork children
 * that write to it and exit, split parts of it with mprotect and munmap,
 * and exit and respawn themselves. Each worker checks the bytes it wrote;
 * the exit status is the number of workers that saw a mismatch. SIGTERM
 * ends it early: each worker finishes its round and reports as at the end
 * (SECONDS is then only a backstop).
 * Usage: xhp_churn WORKERS SECONDS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define MB (1UL << 20)
#define REGION (8 * MB)
#define MAX_WORKERS 64

static volatile sig_atomic_t stop;
static pid_t workers_pid[MAX_WORKERS];
static int nr_workers;

static void worker_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* In the parent: pass the request on; each worker stops after its round. */
static void parent_stop(int sig)
{
	int i;

	(void)sig;
	for (i = 0; i < nr_workers; i++)
		if (workers_pid[i] > 0)
			kill(workers_pid[i], SIGTERM);
}

static int churn_once(unsigned int seed)
{
	size_t page = sysconf(_SC_PAGESIZE), i;
	uint8_t *p;
	pid_t child;
	int st, bad = 0;

	p = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	madvise(p, REGION, MADV_HUGEPAGE);
	for (i = 0; i < REGION; i += page)
		p[i] = (uint8_t)(i / page + seed);
	child = fork();
	if (child == 0) {
		for (i = 0; i < REGION / 2; i += page)
			p[i] ^= 0xff;
		_exit(0);
	}
	if (child > 0)
		waitpid(child, &st, 0);
	usleep(20000 + seed % 50000);	/* give the scanner something to see */
	for (i = 0; i < REGION; i += page)
		if (p[i] != (uint8_t)(i / page + seed))
			bad = 1;
	mprotect(p + 2 * MB + page, page, PROT_READ);
	munmap(p + 4 * MB + 3 * page, page);
	madvise(p + 6 * MB, 64 * 1024, MADV_DONTNEED);
	munmap(p, REGION);
	return bad;
}

static int worker(time_t end, unsigned int id)
{
	unsigned int round = 0;
	int bad = 0;

	while (!stop && time(NULL) < end) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {	/* short-lived mm: fault, fork, exit */
			int b = 0, k;

			signal(SIGTERM, SIG_DFL);

			for (k = 0; k < 3; k++)
				b |= churn_once(id * 1000 + round * 7 + k);
			_exit(b);
		}
		if (pid < 0)
			continue;
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad = 1;
		round++;
	}
	return bad;
}

int main(int argc, char **argv)
{
	int workers, secs, i, st, bad = 0;
	time_t end;

	if (argc != 3) {
		fprintf(stderr, "usage: %s WORKERS SECONDS\n", argv[0]);
		return 2;
	}
	workers = atoi(argv[1]);
	secs = atoi(argv[2]);
	if (workers < 1 || workers > MAX_WORKERS) {
		fprintf(stderr, "%s: WORKERS must be 1..%d\n", argv[0], MAX_WORKERS);
		return 2;
	}
	end = time(NULL) + secs;
	signal(SIGTERM, worker_stop);	/* inherited by each worker */
	for (i = 0; i < workers; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(worker(end, i));
		workers_pid[i] = pid;
		nr_workers = i + 1;
	}
	signal(SIGTERM, parent_stop);
	if (stop)	/* a SIGTERM that came while forking */
		parent_stop(SIGTERM);
	for (;;) {
		pid_t pid = wait(&st);

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	return bad;
}
