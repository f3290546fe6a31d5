#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fragmented memory: with no free 2 MiB block (bin/xhp_fraghog leaves only
# holes; proactive compaction off, native defrag never while it runs) and khugepaged/defrag=0, every collapse
# attempt fails its huge page allocation. The scanner must then back off
# for alloc_sleep_millisecs: with 3000 ms it makes at most the attempts
# that so many sleeps allow in 9 s; with 20 ms (the control) it goes past
# that bound (waited for, at most 120 s: a hang bound, no rate); the
# failures are counted under alloc_huge_page_fail, nothing is collapsed,
# and once the memory is given back the same range collapses. In the VM as
# root, from the repo root.
set -u
. selftests/lib.sh
TARGET_MB=4 WINDOW=9 LONG=3000 SHORT=20
F=$XK/scan_results/alloc_huge_page_fail
ktap_begin
xhp_unload_quiet
pro0=$(cat /proc/sys/vm/compaction_proactiveness)
defrag0=$(sed 's/.*\[\(.*\)\].*/\1/' $T/defrag)
echo 0 >/proc/sys/vm/compaction_proactiveness
echo never >$T/defrag
cleanup() {
	[ -n "${HOG_PID:-}" ] && kill "$HOG_PID" 2>/dev/null
	xhp_unload_quiet
	echo "$pro0" >/proc/sys/vm/compaction_proactiveness
	echo "$defrag0" >$T/defrag
}
trap cleanup EXIT

coproc HOG { exec selftests/bin/xhp_fraghog $TARGET_MB; }
ask() { echo "$1" >&"${HOG[1]}"; read -r -t 60 reply <&"${HOG[0]}"; echo "$reply"; }
t0=$(date +%s)
read -r -t 600 line <&"${HOG[0]}"
echo "# fraghog: ${line:-nothing} after $(( $(date +%s) - t0 )) s"
grep -o 'Node.*' /proc/buddyinfo | sed 's/^/# buddyinfo: /'
if [[ ${line:-} != fragmented* ]]; then
	not_ok "memory_fragmented # ${line:-no answer}"
	ktap_end
	exit 1
fi
ok "memory_fragmented # eight THP faults in a row fell back to small pages"

insmod "$XHP_KO" enabled=madvise defrag=0 scan_sleep_millisecs=10 \
	alloc_sleep_millisecs=$LONG pages_to_scan=4096 || { not_ok "insmod"; ktap_end; exit 1; }
sleep 1
f0=$(cat $F); sleep $WINDOW; f1=$(cat $F)
long=$((f1 - f0))
# A round makes at most 2 attempts (one after the sleep), each counting
# one failure per PMD of the target's batch.
max_long=$(( (WINDOW * 1000 / LONG + 2) * 2 * (TARGET_MB / 2) ))
# The control: with a short sleep the same scanner goes past that bound,
# so the bound is what the long sleep imposed, not the scanner's pace.
echo $SHORT >$XK/alloc_sleep_millisecs
sleep 1
f0=$(cat $F) t0=$(date +%s)
wait_for "[ \$((\$(cat $F) - f0)) -gt $max_long ]" 1200
short=$(($(cat $F) - f0)) short_s=$(($(date +%s) - t0))
huge=$(ask huge)
echo "# alloc_huge_page_fail: $long in $WINDOW s with alloc_sleep $LONG ms; $short in ${short_s} s with $SHORT ms; target: $huge"
check "failed_allocations_counted # $long" test "$long" -gt 0
check "backs_off_for_alloc_sleep # $long <= $max_long in $WINDOW s" test "$long" -le "$max_long"
check "short_alloc_sleep_goes_past_that_bound # $short > $max_long (in ${short_s} s, hang bound 120 s)" \
	test "$short" -gt "$max_long"
check "nothing_collapsed_while_fragmented # $huge" test "$huge" = "huge 0"

released=$(ask release)
wait_for "[ \"\$(ask huge)\" = \"huge $((TARGET_MB * 1024))\" ]" 300
huge=$(ask huge)
check "collapses_once_memory_is_back # $released, then $huge" test "$huge" = "huge $((TARGET_MB * 1024))"
ktap_end
