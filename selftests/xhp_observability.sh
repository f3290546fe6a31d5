#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The observability hooks and tools, with the module loaded: bin/xhp_events
# (exact counts and causes of each split/collapse hook, latency, hooks-off)
# then xhp_bpftrace.sh (each scripts/bpftrace tool against a workload).
# Runs in the VM as root from the repository root.
set -u
. selftests/lib.sh
insmod "$XHP_KO" enabled=madvise scan_sleep_millisecs=100 ||
	{ echo "not ok 1 insmod"; exit 1; }
selftests/bin/xhp_events
rc=$?
ktap_begin
# The scanner's own collapses are told apart from MADV_COLLAPSE's.
echo 1 >"$X/events/reset"
python3 -c 'import mmap, time
m = mmap.mmap(-1, 8 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for off in range(0, 8 << 20, 4096):
    m[off] = 1
m.madvise(mmap.MADV_HUGEPAGE)
time.sleep(30)' &
py=$!
wait_for '[ "$(cat $X/events/madvise_collapse/initiator_xhugepaged)" -ge 1 ]' 200
by_us=$(cat "$X/events/madvise_collapse/initiator_xhugepaged")
by_madv=$(cat "$X/events/madvise_collapse/initiator_madvise")
engine=$(cat "$X/events/collapse_huge_page/initiator_xhugepaged")
kill $py
echo "# scanner: madvise_collapse/initiator_xhugepaged=$by_us initiator_madvise=$by_madv collapse_huge_page/initiator_xhugepaged=$engine"
check "collapse_initiator_xhugepaged" test "$by_us" -ge 1 -a "$by_madv" -eq 0 -a "$engine" -ge 1
# The tools' workload wants the scanner on every anonymous range.
echo always >"$X/enabled"
selftests/xhp_bpftrace.sh
rc2=$?
rmmod xhugepaged
ktap_end
[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ "$_fails" -eq 0 ]
