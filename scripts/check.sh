#!/bin/bash
# make check: the harness self-tests on the host, then the module's suite in
# one VM, then the bench smoke run in another. Prints every KTAP result and
# ends with "N passed, N failed, N skipped". Besides the tests' own results,
# each run it starts is judged as a result of its own: the harness and every
# VM must exit 0, the guest kernel logs must be clean (no warning, panic,
# hang or lost status), and the harness and the suite must have printed
# their whole plan.
#
# The module suite runs on both supported kernels: the whole of it on 6.12
# (vm-run's default), all but the long churn stress on Debian 12's own 6.1
# (the newest 6.1.0-N-amd64 with headers; skipped with a reason if none).
# scripts/check.sh --kernel VERSION: only the module suite, on that kernel
# (the whole suite, stress included), judged the same way.
#
# scripts/check.sh --judge DESC RC KTAP|- ERR: print the one KTAP result
# (numbered 1) that the run would get for a run that exited RC, printed
# KTAP (- for none: no plan to check) and wrote ERR; exit 0 if "ok". The
# harness self-tests use it on fake inputs.
set -uo pipefail
# The suite's hang bounds are in real time: no instruction clock here
# (vm-run.sh --icount; make bench's own choice).
unset XHP_ICOUNT
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# What vm-run says when the guest kernel or the VM itself went wrong.
VM_BAD='^vm-run: (kernel problem|guest kernel panic|timeout after|lost exit status|QEMU failed|KVM cannot run)'

# judge_run DESC RC KTAP ERR: "ok DESC" or "not ok DESC # why", without
# a number; returns 0 for ok.
judge_run() {
	local desc=$1 rc=$2 ktap=$3 err=$4 why='' results plan bad
	if [ "$rc" != 0 ]; then
		why="exit $rc"
		bad=$(grep -m1 -E '^vm-run: ' "$err" 2>/dev/null | grep -E "$VM_BAD|setup|usage" || true)
		[ -z "$bad" ] || why+=" ($bad)"
	fi
	bad=$(grep -m1 -E "$VM_BAD" "$err" 2>/dev/null || true)
	[ -z "$bad" ] || why+="${why:+; }$bad"
	if [ "$ktap" != - ]; then
		results=$(grep -cE '^(not )?ok [0-9]+' "$ktap" 2>/dev/null)
		plan=$(grep -E '^1\.\.[0-9]+$' "$ktap" 2>/dev/null | tail -n1)
		if [ -z "$plan" ]; then
			why+="${why:+; }no final plan (1..N) after ${results:-0} results"
		elif [ "${plan#1..}" -ne "${results:-0}" ]; then
			why+="${why:+; }$results results, plan $plan"
		fi
	fi
	if [ -z "$why" ]; then
		echo "ok $desc"
		return 0
	fi
	echo "not ok $desc # $why"
	return 1
}

if [ "${1:-}" = --judge ]; then
	[ $# -eq 5 ] || { echo "usage: scripts/check.sh --judge DESC RC KTAP|- ERR" >&2; exit 2; }
	line=$(judge_run "$2" "$3" "$4" "$5")
	rc=$?
	echo "${line/#ok /ok 1 }" | sed 's/^not ok /not ok 1 /'
	exit $rc
fi

only_kernel=
if [ "${1:-}" = --kernel ]; then
	[ $# -eq 2 ] || { echo "usage: scripts/check.sh [--kernel VERSION]" >&2; exit 2; }
	only_kernel=$2
fi
kver_6_1=$(ls -1d /lib/modules/6.1.0-*-amd64/build 2>/dev/null | sort -V | tail -n1 | cut -d/ -f4)

logdir=build/check
mkdir -p "$logdir"
rm -f "$logdir"/*.ktap

start=$(date +%s)

# run_suite TAG KVER|- [TEST-NAME...]: the module suite in one VM booting
# KVER (-: vm-run's default), leaving out the named tests (each reported as
# a skip); KTAP in $logdir/TAG.ktap, vm-run's stderr in $logdir/vm-run-TAG.err.
run_suite() {
	local tag=$1 kver=$2 kernel=() skip=()
	shift 2
	[ "$kver" = - ] || kernel=(--kernel "$kver")
	[ $# -eq 0 ] || skip=(env XHP_SKIP_TESTS="$*"
		XHP_SKIP_REASON="left out on this kernel by make check (the long stress and fuzz runs: time budget; the mm selftests: built from 6.12 sources); runs on 6.12")
	scripts/vm-run.sh "${kernel[@]}" --timeout 1500 -- "${skip[@]}" selftests/run_tests \
		2>"$logdir/vm-run-$tag.err" | tee "$logdir/$tag.ktap"
	local rc=${PIPESTATUS[0]}
	cat "$logdir/vm-run-$tag.err" >&2
	return "$rc"
}

if [ -n "$only_kernel" ]; then
	echo "# module suite on $only_kernel (one VM boot)"
	run_suite suite "$only_kernel"
	suite_rc=$?
	{
		result="$(judge_run "suite VM on $only_kernel exited 0, guest kernel log clean, whole plan printed" \
			"$suite_rc" "$logdir/suite.ktap" "$logdir/vm-run-suite.err")"
		echo "${result/#ok /ok 1 }" | sed 's/^not ok /not ok 1 /'
	} | tee "$logdir/verdict.ktap"
	passed=$(cat "$logdir"/*.ktap | grep -cE '^ok [0-9]+' | tr -d ' ')
	skipped=$(cat "$logdir"/*.ktap | grep -E '^ok [0-9]+' | grep -ciE '# *skip' | tr -d ' ')
	failed=$(cat "$logdir"/*.ktap | grep -cE '^not ok [0-9]+' | tr -d ' ')
	passed=$((passed - skipped))
	secs=$(($(date +%s) - start))
	echo "# suite on $only_kernel: $secs s ($((secs / 60)) min $((secs % 60)) s)"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit
fi

echo "# harness self-tests (host; most cases boot a VM)"
selftests/harness/run.sh 2>&1 | tee "$logdir/harness.ktap"
harness_rc=${PIPESTATUS[0]}
echo

echo "# DKMS package (host: make deb, DKMS build per kernel; one VM boot per kernel built)"
selftests/xhp_dkms.sh 2>&1 | tee "$logdir/dkms.ktap"
dkms_rc=${PIPESTATUS[0]}
echo

echo "# module suite on 6.12 (one VM boot)"
suite_t0=$(date +%s)
run_suite suite -
suite_rc=$?
suite_secs=$(($(date +%s) - suite_t0))

suite61_t0=$(date +%s)
if [ -n "$kver_6_1" ]; then
	echo "# module suite on $kver_6_1, all but the long stress (one VM boot)"
	run_suite suite-6.1 "$kver_6_1" xhp_stress xhp_fuzz xhp_mm_selftests
	suite61_rc=$?
else
	echo "ok 1 module suite on 6.1 # SKIP no linux-headers-6.1.0-*-amd64 installed (make deps)" |
		tee "$logdir/suite-6.1.ktap"
	suite61_rc=skip
fi
suite61_secs=$(($(date +%s) - suite61_t0))

echo "# make bench, smoke size (proves the benchmark machinery; no timing thresholds)"
# In TCG's real time, unlike make bench: its figures are never read, and
# the instruction clock would make it about three times slower.
XHP_ICOUNT= scripts/bench.sh --smoke >"$logdir/bench-smoke.log" 2>&1
bench_rc=$?

echo "# verdict on the runs themselves"
{
	n=0
	result() { n=$((n + 1)); echo "${1/#ok /ok $n }" | sed "s/^not ok /not ok $n /"; }
	result "$(judge_run "harness self-tests exited 0 and printed their whole plan" \
		"$harness_rc" "$logdir/harness.ktap" /dev/null)"
	result "$(judge_run "DKMS test exited 0 and printed its whole plan" \
		"$dkms_rc" "$logdir/dkms.ktap" /dev/null)"
	result "$(judge_run "suite VM exited 0, guest kernel log clean, whole plan printed" \
		"$suite_rc" "$logdir/suite.ktap" "$logdir/vm-run-suite.err")"
	if [ "$suite61_rc" != skip ]; then
		result "$(judge_run "6.1 suite VM exited 0, guest kernel log clean, whole plan printed" \
			"$suite61_rc" "$logdir/suite-6.1.ktap" "$logdir/vm-run-suite-6.1.err")"
	fi
	result "$(judge_run "bench smoke VM exited 0, guest kernel log clean" \
		"$bench_rc" - "$logdir/bench-smoke.log")"
	missing=""
	for key in hot90.khugepaged hot90.xhp-fifo hot90.xhp-hot all90.xhp-hot \
		hot90.xhp-fifo-resident hot90.xhp-hot-resident all90.xhp-hot-resident \
		scan.khugepaged.p2.m64.cpu_ms scan.xhp-fifo.p2.m64.passes \
		collapse.xhp.madvise_collapse_ns collapse.direct.madv_ns_per_pmd \
		collapse.floor.copy_ns_per_pmd collapse.xhp.thread_cpu_ms \
		collapse.direct.madv_cpu_ns_per_pmd thrash.khugepaged.collapses \
		shmem.xhp.madvise_collapse_ns shmem.xhp.thread_cpu_ms \
		shmem.direct.madv_ns_per_pmd shmem.direct.madv_cpu_ns_per_pmd \
		thrash.xhp-backoff-on.collapses idle.xhp-fifo.i20.passes \
		idle.khugepaged.i20.cpu_ms lifetime.rmmod_ms.p99 \
		mglru.unloaded.r1.hot_majflt mglru.xhp-hot.r1.hot_touches_per_s done; do
		grep -qE "^RESULT $key [0-9.]+$" build/bench-smoke/raw.txt 2>/dev/null ||
			missing="$missing $key"
	done
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))["rmmod_ms_p99"]["met"]' \
		build/bench-smoke/results.json 2>/dev/null || missing="$missing results.json"
	if [ -z "$missing" ] && grep -q '^thrash: wasted' "$logdir/bench-smoke.log"; then
		result "ok bench smoke: every comparison produced its figures, the table and results.json"
	else
		result "not ok bench smoke: every comparison produced its figures, the table and results.json # missing:${missing:- the table} (see $logdir/bench-smoke.log)"
	fi
} | tee "$logdir/verdict.ktap"
grep -E '^vm-run: |^bench: ' "$logdir/bench-smoke.log" | sed 's/^/# bench smoke: /'

passed=$(cat "$logdir"/*.ktap | grep -cE '^ok [0-9]+' | tr -d ' ')
skipped=$(cat "$logdir"/*.ktap | grep -E '^ok [0-9]+' | grep -ciE '# *skip' | tr -d ' ')
failed=$(cat "$logdir"/*.ktap | grep -cE '^not ok [0-9]+' | tr -d ' ')
passed=$((passed - skipped))
secs=$(($(date +%s) - start))
accel=$(grep -m1 -E '^vm-run: (using (KVM|TCG)|KVM unusable here)' "$logdir/vm-run-suite.err" | cut -c9-)
echo "# module suite: 6.12 $suite_secs s, 6.1 $suite61_secs s"
echo "# whole suite: $secs s ($((secs / 60)) min $((secs % 60)) s); suite VM accelerator: ${accel:-unknown}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
