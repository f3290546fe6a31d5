// SPDX-License-Identifier: GPL-2.0
/*
 * xhp_load KO [PARAM...]: load a module with one finit_module() call. The
 * hot-set section starts its clock before the load; under TCG, insmod(8)'s
 * own start-up (kmod, its shared libraries and module indexes, read over
 * 9p) takes longer than the module's whole load, and on real hardware a
 * few ms: Documentation/benchmarks.rst, "Sixth round".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "xhp_test.h"

int main(int argc, char **argv)
{
	char params[1024];
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: xhp_load KO [PARAM...]\n");
		return 2;
	}
	if (xhp_join_params(params, sizeof(params), argv + 2, argc - 2)) {
		fprintf(stderr, "xhp_load: parameters too long\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "xhp_load: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (syscall(SYS_finit_module, fd, params, 0)) {
		fprintf(stderr, "xhp_load: finit_module %s: %s\n", argv[1],
			strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}
