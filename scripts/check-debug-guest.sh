#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the debug kernel's VM (scripts/check-debug.sh): every selftest, then a
# kmemleak scan. Prints KTAP.
set -u
cd "$(dirname "$0")/.."
selftests/run_tests
rc=$?
ml=/sys/kernel/debug/kmemleak
if [ -w $ml ]; then
	# Two scans: kmemleak reports an object only after it stayed
	# unreferenced across scans.
	echo scan >$ml; sleep 5; echo scan >$ml
	leaks=$(grep -c '^unreferenced object' $ml)
	sed 's/^/# kmemleak: /' $ml | head -n 60
	if [ "$leaks" -eq 0 ]; then
		echo "ok 1000 kmemleak: no unreferenced objects after the suite"
	else
		echo "not ok 1000 kmemleak: $leaks unreferenced objects"
		rc=1
	fi
else
	echo "not ok 1000 kmemleak: $ml missing (not the debug kernel?)"
	rc=1
fi
exit $rc
