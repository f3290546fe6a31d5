#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# scan_order=hot puts huge pages where they pay first. bin/xhp_hotfirst maps
# a cold region below a hot one, faults both and then touches only the hot
# one; it also keeps hot a read-only region (page_ro: never collapsible) in
# itself and in a child, so the hot-first sweep always finds more than its
# share of the budget holds. With a budget of four PMDs per wake, the same
# run under scan_order=fifo is the control: it must reach the hot region
# only after most of the cold one (else the workload proves nothing); under
# scan_order=hot the hot region must be huge while most of the cold one is
# not, and the cold one must still become huge afterwards, within the
# workload's hang bound: only the quarter of the budget kept for the FIFO
# scan gets there (hot-first does not starve it).
# In the VM as root, from the repository root.
set -u
. selftests/lib.sh
COLD_MB=64 HOT_MB=4 STUCK_MB=16 HANG_S=120
knobs="enabled=madvise pages_to_scan=2048 scan_sleep_millisecs=100 max_ptes_none=511"
ktap_begin
xhp_unload_quiet
out=$(mktemp)

# run ORDER: prints "HOT_AT COLD_KB_AT_THAT_TIME COLD_AT HOT_RANGES" ("-"
# for what did not happen before the hang bound) or "fail ...".
run() {
	local order=$1 ranges0 ranges1 rc
	: >"$out"
	selftests/bin/xhp_hotfirst $COLD_MB $HOT_MB $STUCK_MB $HANG_S >"$out" 2>&1 &
	local wl=$!
	wait_for "grep -q ready $out" 300 || { echo "fail no_ready"; kill $wl; return; }
	insmod "$XHP_KO" $knobs scan_order="$order" || { echo "fail insmod"; kill $wl; return; }
	ranges0=$(cat $XK/hot_ranges 2>/dev/null || echo 0)
	wait $wl
	rc=$?
	ranges1=$(cat $XK/hot_ranges 2>/dev/null || echo 0)
	rmmod xhugepaged
	sed 's/^/# '"$order"': /' "$out" >&2
	local hot cold_kb cold
	hot=$(awk '$1 == "hot_huge" { print $2 }' "$out")
	cold_kb=$(awk '$1 == "hot_huge" { print $3 }' "$out")
	cold=$(awk '$1 == "cold_huge" { print $2 }' "$out")
	# 0: both huge; 1: the hang bound passed first; else a setup error.
	[ $rc -le 1 ] && echo "${hot:--} ${cold_kb:--} ${cold:--} $((ranges1 - ranges0))" ||
		echo "fail rc $rc"
}

cold_total=$((COLD_MB * 1024))
set -- $(run fifo)
if [ "$1" = fail ]; then
	not_ok "fifo_control_reaches_cold_first # $*"
else
	echo "# fifo: hot set huge after $1 s with $2/$cold_total kB cold huge; all huge after $3 s"
	check "fifo_control_reaches_cold_first # $2/$cold_total kB cold huge first" \
		test "$1" != - -a "$2" -ge $((cold_total / 2))
fi
set -- $(run hot)
if [ "$1" = fail ]; then
	for t in reaches_hot_first does_not_starve_cold counts_hot_ranges; do
		not_ok "hot_order_$t # $*"
	done
else
	echo "# hot: hot set huge after $1 s with $2/$cold_total kB cold huge; all huge after $3 s; $4 hot ranges found"
	check "hot_order_reaches_hot_first # $2/$cold_total kB cold huge first" \
		test "$1" != - -a "$2" -le $((cold_total / 4))
	# The workload reports the cold region only once the hot one was huge.
	check "hot_order_does_not_starve_cold # all huge after $3 s (bound $HANG_S s)" \
		test "$3" != -
	check "hot_order_counts_hot_ranges # $4" test "$4" -gt 0
fi
rm -f "$out"
ktap_end
