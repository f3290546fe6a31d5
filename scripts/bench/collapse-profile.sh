#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Where a collapse's time goes, xhugepaged's scanner thread against a
# process calling MADV_COLLAPSE itself: bpftrace times each part of the
# engine and of the scanner's own per-round and per-batch work, per caller
# (comm xhugepaged or thpbench), on the same 128 MiB workload as the bench.
# Runs in the VM:
#   XHP_ACCEL=tcg scripts/vm-run.sh --mem 4G -- scripts/bench/collapse-profile.sh [MB]
# Prints the per-call figures (count, average and total ns) for each caller.
set -uo pipefail
cd "$(dirname "$0")/../.."
. selftests/lib.sh
B=scripts/bench/thpbench
MB=${1:-128}
W=build/bench-guest
mkdir -p $W
xhp_unload_quiet
echo never >$T/enabled

fns="madvise_collapse lru_add_drain_all hpage_collapse_scan_pmd collapse_huge_page
alloc_charge_folio __collapse_huge_page_copy folio_alloc_mpol_noprof
xhp_judge_pmd xhp_collapse_batch xhp_do_scan xhp_hot_sweep"
prog=''
for f in $fns; do
	grep -qw "$f" /proc/kallsyms || { echo "# $f: not in kallsyms (inlined), not timed"; continue; }
	prog+="kprobe:$f /comm == \"xhugepaged\" || comm == \"thpbench\"/ { @s_$f[tid] = nsecs; }
kretprobe:$f /@s_$f[tid]/ { @ns[comm, \"$f\"] = stats(nsecs - @s_$f[tid]); delete(@s_$f[tid]); }
"
done
prog+='tracepoint:sched:sched_switch /args->prev_comm == "xhugepaged" || args->prev_comm == "thpbench"/ { @off[args->prev_pid] = nsecs; @offc[args->prev_comm] = count(); }
tracepoint:sched:sched_switch /@off[args->next_pid]/ { @offcpu_ns[args->next_comm] = sum(nsecs - @off[args->next_pid]); delete(@off[args->next_pid]); }'
echo "$prog" >$W/collapse-profile.bt

# TCG translates the collapse path the first time it runs: warm it up.
$B madvcollapse 16 >/dev/null
bpftrace $W/collapse-profile.bt >$W/profile.out 2>&1 &
bt=$!
wait_for "grep -q Attaching $W/profile.out" 600
sleep 3
# 1. the scanner: 128 MiB held by one process, collapsed by xhugepaged
rm -f $W/go
{ while [ ! -e $W/go ]; do sleep 0.2; done; } | $B hold 1 "$MB" 100 >$W/hold.out 2>&1 &
wl=$!
wait_for "grep -q ready $W/hold.out" 1200
t0=$(date +%s%N)
insmod "$XHP_KO" enabled=madvise pages_to_scan=4096 scan_sleep_millisecs=200 max_ptes_none=511
want=$((MB / 2))
waited=0
while read -r n <$XK/pages_collapsed && [ "$n" -lt $want ] && [ $waited -lt 600 ]; do sleep 1; waited=$((waited + 1)); done
t1=$(date +%s%N)
pid=$(pgrep -x xhugepaged)
echo "scanner: $(cat $XK/pages_collapsed) PMDs, $(( (t1 - t0) / 1000000 )) ms wall, thread CPU $(awk '{ print ($14 + $15) * 10 }' /proc/$pid/stat) ms, full_scans $(cat $XK/full_scans), mm_slots $(cat $XK/mm_slots)"
touch $W/go
wait $wl 2>/dev/null
rmmod xhugepaged
# 2. the same engine called directly, one PMD per call
$B madvcollapse "$MB"
kill -INT $bt
wait $bt
cat $W/profile.out
