// SPDX-License-Identifier: GPL-2.0
/*
 * Unload and load xhugepaged CYCLES times, timing the delete_module and
 * finit_module system calls themselves: what a caller actually blocks on,
 * without the fork/exec of rmmod/insmod (slow over 9p under a busy TCG).
 * armed_ms is from the start of finit_module until the event hooks, armed
 * in a worker after the load, are in (a read of events/enabled returns
 * then); each unload waits for them first, so it always removes them all.
 * With --unarmed it waits for nothing: with GAP_MS 0 each unload comes
 * while the hooks are still being armed.
 * Usage: xhp_modcycle [--unarmed] KO CYCLES GAP_MS [PARAM...]
 * Prints one line per cycle and a summary; exits 1 if a cycle failed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "xhp_test.h"

int main(int argc, char **argv)
{
	long worst_rm = 0, worst_ins = 0, t0, ms, rm_ms, armed_ms, v;
	unsigned long collapsed = 0;
	char params[1024];
	int cycles, gap_ms, i, done = 0, fd;
	bool armed = true;

	if (argc > 1 && !strcmp(argv[1], "--unarmed")) {
		armed = false;
		argv++;
		argc--;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: xhp_modcycle [--unarmed] KO CYCLES GAP_MS [PARAM...]\n");
		return 2;
	}
	cycles = atoi(argv[2]);
	gap_ms = atoi(argv[3]);
	if (xhp_join_params(params, sizeof(params), argv + 4, argc - 4)) {
		fprintf(stderr, "xhp_modcycle: parameters too long\n");
		return 2;
	}
	for (i = 0; i < cycles; i++) {
		usleep(gap_ms * 1000);
		if (armed && xhp_events_wait_armed())
			goto out;
		v = xhp_read_num(XHP_DIR "/khugepaged/pages_collapsed");
		collapsed += v > 0 ? v : 0;
		t0 = now_ms();
		if (syscall(SYS_delete_module, "xhugepaged", O_NONBLOCK)) {
			perror("delete_module");
			goto out;
		}
		rm_ms = now_ms() - t0;
		if (rm_ms > worst_rm)
			worst_rm = rm_ms;
		fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(argv[1]);
			goto out;
		}
		t0 = now_ms();
		if (syscall(SYS_finit_module, fd, params, 0)) {
			perror("finit_module");
			close(fd);
			goto out;
		}
		close(fd);
		ms = now_ms() - t0;
		if (ms > worst_ins)
			worst_ins = ms;
		if (armed && xhp_events_wait_armed())
			goto out;
		armed_ms = armed ? now_ms() - t0 : -1;
		printf("cycle %d rmmod_ms %ld insmod_ms %ld armed_ms %ld\n", i + 1,
		       rm_ms, ms, armed_ms);
		fflush(stdout);
		done++;
	}
out:
	printf("cycles %d/%d worst_rmmod_ms %ld worst_insmod_ms %ld collapsed %lu\n",
	       done, cycles, worst_rm, worst_ins, collapsed);
	return done == cycles ? 0 : 1;
}
