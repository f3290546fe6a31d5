#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# khugepaged's invariant, asserted through xhugepaged's own xhp_scan_pmd
# tracepoint: every judged address is PMD-aligned and its range inside the
# VMA, while bin/xhp_align grows and shrinks regions whose ends are never
# 2 MiB-aligned in place (mremap) between the scanner's rounds. A budget of
# one PMD per round makes rounds end at a VMA's end, where the resume
# address used to be left unaligned; half the regions collapse (the engine
# lets mmap_lock go), half fail judgement. Both scan orders.
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
# hold of mmap_lock is that long: while the scanner judges at least as many
# empty ranges as the workload's 4 TiB region has (2097152; the rest of
# the guest has a few hundred), the workload's mprotect() calls, which
# need the lock for write, never wait a second.
if insmod "$XHP_KO" enabled=always pages_to_scan=4294967295 scan_sleep_millisecs=0 scan_order=fifo; then
	n0=$(cat $XK/scan_results/pmd_null)
	timeout 300 selftests/bin/xhp_align lockhold "$SECONDS_PER_RUN" >"$out" 2>&1
	rc=$?
	n1=$(cat $XK/scan_results/pmd_null)
	rmmod xhugepaged
	sed 's/^/# lockhold: /' "$out"
	max_us=$(awk '$1 == "lockhold" { print $5 }' "$out")
	check "uint_max_budget_walks_the_region # pmd_null +$((n1 - n0))" \
		test $((n1 - n0)) -ge 2097152
	check "uint_max_budget_lets_mmap_lock_go # worst mprotect ${max_us:-none} us, exit $rc" \
		test "$rc" -eq 0 -a "${max_us:-1000000}" -lt 1000000
else
	not_ok "uint_max_insmod"
fi
rm -f "$out"
ktap_end
