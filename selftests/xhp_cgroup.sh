#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Memory cgroup limits, in the VM as root from the repository root:
# - a process whose memory cgroup has no room for a huge page: xhugepaged's
#   collapse fails and is counted as cgroup_charge_fail, the process lives,
#   nothing hangs; with the limit lifted the same range collapses;
# - a process OOM-killed while xhugepaged scans it: its slot goes, the
#   scanner keeps going.
set -u
. selftests/lib.sh
ktap_begin
xhp_unload_quiet
CG=/sys/fs/cgroup
grep -q memory $CG/cgroup.controllers || { not_ok "memory controller available"; ktap_end; exit 1; }
echo +memory >$CG/cgroup.subtree_control
anon_huge_kb() { awk '/^AnonHugePages:/ { print $2 }' "/proc/$1/smaps_rollup"; }

# A process in CGROUP with SIZE MiB faulted before MADV_HUGEPAGE. The advised
# SIZE MiB start on a PMD boundary inside a mapping 2 MiB larger: 6.1 does
# not align large anonymous mappings to PMDs (6.12 does), and the test must
# count the same huge ranges on both.
start_in_cg() {
	local cg=$1 mb=$2 ready
	ready=build/cg-ready.$$
	mkdir -p build
	rm -f "$ready"
	sh -c "echo \$\$ > $cg/cgroup.procs && exec python3 -c '
import ctypes, mmap, sys, time
pmd = 2 << 20
m = mmap.mmap(-1, ($mb << 20) + pmd, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for off in range(0, len(m), 4096):
    m[off] = 1
start = -ctypes.addressof(ctypes.c_char.from_buffer(m)) % pmd
m.madvise(mmap.MADV_HUGEPAGE, start, $mb << 20)
open(sys.argv[1], \"w\").close()
time.sleep(600)' $ready" &
	pid=$!
	wait_for "[ -e $ready ]" 300
	rm -f "$ready"
}

# --- no room for a huge page
small=$CG/xhp-small
mkdir -p $small
echo 0 >$small/memory.swap.max
start_in_cg $small 4
cur=$(cat $small/memory.current)
echo $((cur + (1 << 20))) >$small/memory.max
insmod "$XHP_KO" enabled=madvise scan_sleep_millisecs=100 alloc_sleep_millisecs=100
echo 0 >$XK/scan_results/reset
s0=$(cat $XK/full_scans)
wait_for '[ $(cat $XK/full_scans) -ge $((s0 + 3)) ] && [ $(cat $XK/scan_results/cgroup_charge_fail) -gt 0 ]' 300
fails=$(cat $XK/scan_results/cgroup_charge_fail)
huge=$(anon_huge_kb $pid)
echo "# memory.max $((cur + (1 << 20))) B: cgroup_charge_fail=$fails AnonHugePages=${huge} kB oom_kill=$(awk '$1 == "oom_kill" { print $2 }' $small/memory.events)"
check "no_room_collapse_fails_as_cgroup_charge_fail # $fails" test "$fails" -gt 0 -a "$huge" -eq 0
check "no_room_process_lives" kill -0 $pid
check "no_room_no_oom_kill" test "$(awk '$1 == "oom_kill" { print $2 }' $small/memory.events)" -eq 0
echo max >$small/memory.max
wait_for "[ \$(anon_huge_kb $pid) -ge 4096 ]" 300
check "limit_lifted_collapses # AnonHugePages $(anon_huge_kb $pid) kB" test "$(anon_huge_kb $pid)" -ge 4096
kill $pid; wait $pid 2>/dev/null

# --- OOM kill of a process the scanner is working on
oom=$CG/xhp-oom
mkdir -p $oom
echo 0 >$oom/memory.swap.max
echo $((48 << 20)) >$oom/memory.max
slots0=$(cat $XK/mm_slots)
sh -c "echo \$\$ > $oom/cgroup.procs && exec python3 -c '
import mmap, time
ms = []
while True:
    m = mmap.mmap(-1, 8 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_HUGEPAGE)
    for off in range(0, 8 << 20, 4096):
        m[off] = 1
    ms.append(m)
    time.sleep(0.2)'" &
pid=$!
wait $pid
rc=$?
kills=$(awk '$1 == "oom_kill" { print $2 }' $oom/memory.events)
s0=$(cat $XK/full_scans)
wait_for '[ $(cat $XK/full_scans) -ge $((s0 + 2)) ]' 300
s1=$(cat $XK/full_scans)
echo "# OOM: exit $rc, oom_kill=$kills, mm_slots $slots0 -> $(cat $XK/mm_slots), full_scans $s0 -> $s1"
check "oom_killed_mid_scan # exit $rc" test "$kills" -ge 1 -a $rc -ne 0
check "scanner_goes_on_after_oom_kill" test "$s1" -ge $((s0 + 2))
check "oom_killed_mm_leaves_queue" test "$(cat $XK/mm_slots)" -le "$slots0"
check "rmmod_after_cgroup_tests" rmmod xhugepaged
rmdir $small $oom 2>/dev/null
ktap_end
