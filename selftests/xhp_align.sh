#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# khugepaged's invariant, asserted through xhugepaged's own xhp_scan_pmd
# tracepoint: every judged address is PMD-aligned and its range inside the
# VMA, while bin/xhp_align grows and shrinks regions whose ends are never
# 2 MiB-aligned in place (mremap) between the scanner's rounds. A budget of
# one PMD per round makes rounds end at a VMA's end, where the resume
# address used to be left unaligned; some regions collapse (the engine
# lets mmap_lock go), the others fail judgement. Both scan orders. Then
# bounded mmap_lock holds at pages_to_scan=UINT_MAX, and issue 13's crash
# configuration under churn.
# In the VM as root, from the repository root.
set -u
. selftests/lib.sh
TRACEFS=/sys/kernel/tracing
SECONDS_PER_RUN=${XHP_ALIGN_SECONDS:-30}
knobs="enabled=always pages_to_scan=512 scan_sleep_millisecs=20 max_ptes_none=0"
ktap_begin
xhp_unload_quiet
[ -e $TRACEFS/trace ] || mount -t tracefs nodev $TRACEFS
out=$(mktemp)

for order in fifo hot; do
	if ! insmod "$XHP_KO" $knobs scan_order=$order; then
		not_ok "${order}_insmod"
		continue
	fi
	timeout 300 selftests/bin/xhp_align "$SECONDS_PER_RUN" $TRACEFS >"$out" 2>&1
	rc=$?
	rmmod xhugepaged
	sed 's/^/# '"$order"': /' "$out"
	set -- $(awk '$1 == "events" { print $2, $4, $6, $8, $10 }' "$out")
	if [ $# -ne 5 ]; then
		not_ok "${order}_workload_ran # exit $rc"
		continue
	fi
	check "${order}_scanner_judged_grown_ranges # $1 judged, $4 grown" \
		test "$1" -gt 0 -a "$4" -gt 0
	check "${order}_every_judged_address_pmd_aligned # $2 unaligned" test "$2" -eq 0
	check "${order}_every_judged_range_inside_its_vma # $3 outside, $5 elsewhere" \
		test "$3" -eq 0 -a "$5" -eq 0
	check "${order}_workload_exit # $rc" test "$rc" -eq 0
done
# pages_to_scan=UINT_MAX: a round may walk millions of PMD ranges, but no
# hold of mmap_lock is that long. The workload's 16 TiB region has 8388608
# empty PMD ranges; while the scanner judges LOCKHOLD_WALKS times that
# many of them (the workload's own count in the debugfs table), the
# workload's mprotect() calls, which need the lock for write, must get
# through at least LOCKHOLD_MIN_CALLS times per walk's worth. A module
# that holds the lock for a whole walk lets about one call through per
# walk, between two visits (the previous module: 10 calls in 30 s, about
# six walks); this one lets a waiting writer in within 16 ranges
# (thousands of calls per walk under TCG). Counted against the scanner's
# work, not the clock: the program's hang bound only catches a scanner
# that stopped.
LOCKHOLD_WALKS=2
LOCKHOLD_MIN_CALLS=16
if insmod "$XHP_KO" enabled=always pages_to_scan=4294967295 scan_sleep_millisecs=0 scan_order=fifo; then
	mountpoint -q /sys/kernel/debug || mount -t debugfs nodev /sys/kernel/debug
	timeout 1000 selftests/bin/xhp_align lockhold /sys/kernel/debug/xhugepaged/processes \
		$LOCKHOLD_WALKS 900 >"$out" 2>&1
	rc=$?
	rmmod xhugepaged
	sed 's/^/# lockhold: /' "$out"
	set -- $(awk '$1 == "lockhold" && $2 == "judged" { print $3, $5 }' "$out")
	check "uint_max_budget_walks_the_region # ${1:-no} ranges judged, exit $rc" \
		test "$rc" -eq 0 -a "${1:-0}" -ge $((LOCKHOLD_WALKS * 8388608))
	check "uint_max_budget_lets_mmap_lock_go # ${2:-no} mprotect calls meanwhile" \
		test "${2:-0}" -ge $((LOCKHOLD_WALKS * LOCKHOLD_MIN_CALLS))
else
	not_ok "uint_max_insmod"
fi
# Issue 13's crash configuration (hot order, backoff on, flat out) under
# bin/xhp_stress's churn (mremap, munmap, mprotect, fork, exit, ...). The
# previous module hit BUG_ON(vma->vm_start > start) in madvise_collapse
# from xhp_do_hot within a minute of this; vm-run fails the run on any
# kernel BUG or WARNING. Every judged and every collapsed address the
# trace buffer kept must be PMD-aligned (hex ending in an even digit and
# five zeros).
stress_secs=${XHP_ALIGN_STRESS_SECONDS:-60}
xhp_swap_on || echo "# no swap: MADV_PAGEOUT only drops clean pages"
if insmod "$XHP_KO" enabled=always scan_sleep_millisecs=0 pages_to_scan=65536 \
	max_ptes_none=511 scan_order=hot backoff_window_millisecs=5000; then
	echo 0 >$TRACEFS/tracing_on
	echo >$TRACEFS/trace
	echo 1 >$TRACEFS/events/xhugepaged/xhp_scan_pmd/enable
	echo 1 >$TRACEFS/events/xhugepaged/xhp_collapse_begin/enable
	echo 1 >$TRACEFS/tracing_on
	nice -n 10 selftests/bin/xhp_stress 6 $((stress_secs + 300)) >"$out" 2>&1 &
	st=$!
	sleep "$stress_secs"
	kill -TERM $st
	wait $st
	rc=$?
	echo 0 >$TRACEFS/tracing_on
	echo 0 >$TRACEFS/events/xhugepaged/enable
	hot=$(cat $XK/hot_ranges) collapsed=$(cat $XK/pages_collapsed)
	# Before rmmod: unloading a module clears the buffer of its events.
	set -- $(awk '/ xhp_(scan_pmd|collapse_begin): / { n++;
		if (!match($0, / address=0x[0-9a-f]*[02468ace]00000 /)) bad++ }
		END { print n + 0, bad + 0 }' $TRACEFS/trace)
	echo >$TRACEFS/trace
	# Tracing back on, as the next test expects to find it.
	echo 1 >$TRACEFS/tracing_on
	rmmod xhugepaged
	sed 's/^/# crash config: /' "$out"
	check "crash_config_churn_data_intact # exit $rc" test "$rc" -eq 0
	check "crash_config_scanner_worked # $hot hot ranges, $collapsed collapsed" \
		test "$hot" -gt 0 -a "$collapsed" -gt 0
	check "crash_config_addresses_pmd_aligned # $2 of $1 traced unaligned" \
		test "$1" -gt 0 -a "$2" -eq 0
else
	not_ok "crash_config_insmod"
fi
rm -f "$out"
ktap_end
