#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs each tool in scripts/bpftrace/ against selftests/bin/xhp_workload and
# checks its output has the rows it should. KTAP output. Needs root, bpftrace
# and xhugepaged loaded (enabled=always, so the scanner scans the workload).
# XHP_BT_OUT=DIR keeps each tool's output there (the docs' samples).

here=$(cd "$(dirname "$0")" && pwd)
tools=$here/../scripts/bpftrace
workload=$here/bin/xhp_workload
if [ -n "$XHP_BT_OUT" ]; then
	out=$XHP_BT_OUT
	mkdir -p "$out"
else
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi

echo "TAP version 13"
if ! command -v bpftrace >/dev/null; then
	echo "1..0 # SKIP bpftrace not installed"
	exit 4
fi
if [ ! -w /sys/kernel/mm/xhugepaged/events/enabled ] || [ ! -x "$workload" ]; then
	echo "1..0 # SKIP xhugepaged not loaded, not root, or no $workload"
	exit 4
fi
echo 1 > /sys/kernel/mm/xhugepaged/events/enabled
# Let the scanner collapse sparse ranges too: why-not-huge wants refusals.
knob=/sys/kernel/mm/xhugepaged/khugepaged/max_ptes_none
saved_none=$(cat $knob)
echo 64 > $knob
echo "1..4"

nr=0 failed=0
# run_tool NAME: trace the workload with NAME.bt; leaves its output in $out
run_tool() {
	local name=$1 i

	bpftrace "$tools/$name.bt" 8 > "$out/$name.txt" 2>&1 &
	local tracer=$!
	# Attaching under TCG takes seconds; BEGIN's line says it is done.
	for i in $(seq 60); do
		grep -q '^Tracing' "$out/$name.txt" && break
		sleep 0.5
	done
	"$workload" 3 > "$out/workload.txt"
	pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$out/workload.txt")
	wait $tracer
}

# check NAME PATTERN...: every extended regex must match a line of the output
check() {
	local name=$1 pattern ok=1

	shift
	nr=$((nr + 1))
	for pattern in "$@"; do
		if ! grep -Eq "$pattern" "$out/$name.txt"; then
			echo "# $name: no line matches '$pattern'"
			ok=0
		fi
	done
	if [ $ok = 1 ]; then
		echo "ok $nr $name"
	else
		sed 's/^/# /' "$out/$name.txt" | head -60
		echo "not ok $nr $name"
		failed=$((failed + 1))
	fi
}

run_tool collapse-latency
check collapse-latency '^@latency_us\[madvise\]:' '^@calls\[madvise\]: [0-9]+' \
	'^\[[0-9]+[KM]?, [0-9]+[KM]?\) +[0-9]+ \|@+'

run_tool split-causes
check split-causes '^@splits\[pmd, mprotect\]: [0-9]+' \
	'^@splits\[pmd, munmap\]: [0-9]+' '^@stacks\[pmd, mprotect,'

run_tool thp-churn
check thp-churn "^@collapses\[$pid\]: [0-9]+" "^@splits\[$pid, pmd\]: [0-9]+" \
	'^--- [0-9:]+ ---'

run_tool why-not-huge
check why-not-huge '^Top \(pid, result\) pairs:' "^@results\[$pid, [a-z_]+\]: [0-9]+"

echo "$saved_none" > $knob
echo "# Totals: pass:$((nr - failed)) fail:$failed"
[ $failed = 0 ]
