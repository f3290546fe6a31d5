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

# Two cases on the scanner's own rounds, told apart by the tracepoint of
# each visit (hot=1: the hot pass, hot=0: the FIFO scan; judged ranges).
# The module sleeps an hour between rounds: each round is one write that
# wakes it, and is over when the thread is back in its sleep (wchan). The
# budget is four ranges a round, a quarter of it the FIFO scan's.
tr=/sys/kernel/tracing
knobs="enabled=never pages_to_scan=2048 scan_sleep_millisecs=3600000 max_ptes_none=511 scan_order=hot"
scanner_asleep() { [ "$(cat /proc/"$(pgrep -x xhugepaged)"/wchan 2>/dev/null)" = xhp_sleep ]; }
# round WAKE_CMD: run WAKE_CMD (which wakes the scanner) and wait for the
# round it starts to end; prints "HOT_JUDGED FIFO_JUDGED PRIMES" of it
# (PRIMES: the workload's hot visits that judged nothing), or "fail".
round() {
	echo >$tr/trace
	eval "$1"
	wait_for "grep -q xhp_mm_scanned: $tr/trace && scanner_asleep" 1200 || { echo fail; return; }
	awk '/xhp_mm_scanned:/ {
		j = $0; sub(/.* judged=/, "", j); sub(/ .*/, "", j)
		if ($0 ~ / hot=1 /) { hot += j; if ($0 ~ / comm=xhp_hotfirst / && j + 0 == 0) primes++ }
		else fifo += j
	} END { print hot + 0, fifo + 0, primes + 0 }' $tr/trace
}
# The workload starts once the module is on, so the hook queues it without
# a round: the first woken round is its first hot visit.
: >"$out"
r1=fail r2=fail wl=
if insmod "$XHP_KO" $knobs; then
	echo 1 >$tr/events/xhugepaged/xhp_mm_scanned/enable
	echo madvise >$X/enabled
	wait_for scanner_asleep 600
	selftests/bin/xhp_hotfirst 64 12 0 $HANG_S >"$out" 2>&1 &
	wl=$!
	if wait_for "grep -q ready $out" 300; then
		r1=$(round "echo 3600000 >$XK/scan_sleep_millisecs")
		r2=$(round "echo 3600000 >$XK/scan_sleep_millisecs")
	fi
	echo 0 >$tr/events/xhugepaged/xhp_mm_scanned/enable
	rmmod xhugepaged
fi
[ -z "$wl" ] || { kill $wl 2>/dev/null; wait $wl 2>/dev/null; }
echo "# first round (hot judged, FIFO judged, workload primed): $r1; second: $r2"
# The round that primes an mm judges nothing hot and gives the FIFO scan
# only its quarter (one range), not what the hot pass left unused.
set -- $r1
check "hot_order_priming_round_keeps_hot_share # FIFO judged ${2:-?} of 4 ranges" \
	test "$1" != fail -a "${3:-0}" = 1 -a "${2:-9}" -ge 1 -a "${2:-9}" -le 1
# Six hot ranges, three in the hot pass's share: it collapses them and,
# finding more, borrows the FIFO quarter for a fourth.
set -- $r2
check "hot_order_borrows_fifo_quarter_while_hot_collapses # hot judged ${1:-?}, FIFO ${2:-?} of 4" \
	test "$1" != fail -a "${1:-0}" -ge 4 -a "${2:-9}" = 0
rm -f "$out"
ktap_end
