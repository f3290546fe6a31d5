#!/bin/bash
# make check: the harness self-tests on the host, then the module's suite in
# the VM. Prints every KTAP result and ends with "N passed, N failed, N skipped".
# A guest kernel warning fails the run even when every test passed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
logdir=build/check
mkdir -p "$logdir"
rm -f "$logdir"/*.ktap

start=$(date +%s)

echo "# harness self-tests (host; each boots a VM)"
selftests/harness/run.sh 2>&1 | tee "$logdir/harness.ktap"
echo

echo "# DKMS package (host: make deb, DKMS build per kernel; one VM boot per kernel built)"
selftests/xhp_dkms.sh 2>&1 | tee "$logdir/dkms.ktap"
echo

echo "# module suite (one VM boot)"
scripts/vm-run.sh --timeout 1200 -- selftests/run_tests 2>"$logdir/vm-run.err" |
	tee "$logdir/suite.ktap"
vm_rc=${PIPESTATUS[0]}
cat "$logdir/vm-run.err" >&2
{
	# The VM's verdict on its own kernel log is a test result of its own.
	if grep -q 'vm-run: kernel problem\|vm-run: guest kernel panic\|vm-run: timeout\|vm-run: lost exit status' "$logdir/vm-run.err"; then
		echo "not ok 1 guest kernel log clean, suite completed (vm-run exit $vm_rc)"
	else
		echo "ok 1 guest kernel log clean, suite completed"
	fi
} | tee "$logdir/vm.ktap"

echo "# make bench, smoke size (proves the benchmark machinery; no timing thresholds)"
scripts/bench.sh --smoke >"$logdir/bench-smoke.log" 2>&1
bench_rc=$?
{
	missing=""
	for key in hot90.khugepaged hot90.xhp-fifo hot90.xhp-hot all90.xhp-hot \
		scan.khugepaged.p2.m64.cpu_ms scan.xhp-fifo.p2.m64.passes \
		collapse.xhp.madvise_collapse_ns collapse.direct.madv_ns_per_pmd \
		collapse.floor.copy_ns_per_pmd collapse.xhp.thread_cpu_ms \
		collapse.direct.madv_cpu_ns_per_pmd thrash.khugepaged.collapses \
		thrash.xhp-backoff-on.collapses done; do
		grep -qE "^RESULT $key [0-9.]+$" build/bench-smoke/raw.txt 2>/dev/null ||
			missing="$missing $key"
	done
	if [ $bench_rc -eq 0 ] && [ -z "$missing" ] && grep -q '^thrash: wasted' "$logdir/bench-smoke.log"; then
		echo "ok 1 bench smoke: every comparison produced its figures and the table"
	else
		echo "not ok 1 bench smoke: rc $bench_rc, missing:$missing (see $logdir/bench-smoke.log)"
	fi
} | tee "$logdir/bench.ktap"

passed=$(cat "$logdir"/*.ktap | grep -cE '^ok [0-9]+' | tr -d ' ')
skipped=$(cat "$logdir"/*.ktap | grep -E '^ok [0-9]+' | grep -ciE '# *skip' | tr -d ' ')
failed=$(cat "$logdir"/*.ktap | grep -cE '^not ok [0-9]+' | tr -d ' ')
passed=$((passed - skipped))
echo "# whole suite: $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
