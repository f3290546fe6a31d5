#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The queue policy: like khugepaged's, xhugepaged queues an mm only when it
# has a VMA the module's rules allow a THP (enabled, VM_HUGEPAGE /
# VM_NOHUGEPAGE, prctl PR_SET_THP_DISABLE), and follows the rules when they
# change: MADV_HUGEPAGE queues, a write to enabled walks the processes
# again, a visit that finds no allowed VMA drops the mm, an exit leaves.
# Observed through khugepaged/mm_slots, the queue's length; helpers are
# python3 processes holding 4 MiB of faulted small pages (at least one
# whole 2 MiB range). A negative case first waits for two more full scans,
# so the scanner and the registry's event worker have been through.
cd "$(dirname "$0")/.." || exit 2
. selftests/lib.sh
ktap_begin

slots() { cat $XK/mm_slots; }
scans() { cat $XK/full_scans; }
# two_scans: return once full_scans has grown by 2 (false after 30 s).
two_scans() { local s0; s0=$(scans); wait_for "[ \$(scans) -ge $((s0 + 2)) ]" 300; }
huge_kb() { awk '$1 == "AnonHugePages:" { print $2 }' /proc/"$1"/smaps_rollup 2>/dev/null || echo 0; }

# helper FILE [nothp|advise]: start one, print its pid once it is ready.
# Plain: never advised until SIGUSR1 (then MADV_HUGEPAGE). advise: advised
# at once. nothp: PR_SET_THP_DISABLE first, then advised at once.
helper() {
	local file=$1 mode=${2:-plain}
	rm -f "$file"
	python3 -c 'import ctypes, mmap, signal, sys, time
mode = sys.argv[2]
if mode == "nothp":
    ctypes.CDLL(None, use_errno=True).prctl(41, 1, 0, 0, 0)  # PR_SET_THP_DISABLE
m = mmap.mmap(-1, 4 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for i in range(0, 4 << 20, 4096):
    m[i] = 1
def advise(*_):
    m.madvise(mmap.MADV_HUGEPAGE)
    open(sys.argv[1], "a").write("advised\n")
if mode != "plain":
    advise()
signal.signal(signal.SIGUSR1, advise)
open(sys.argv[1], "a").write("ready\n")
while True:
    time.sleep(3600)' "$file" "$mode" >/dev/null 2>"$file.err" &
	local pid=$!
	wait_for "grep -qs ready $file" 300
	echo $pid
}

xhp_unload_quiet
insmod "$XHP_KO" enabled=madvise scan_sleep_millisecs=100 || { not_ok "insmod"; ktap_end; exit 1; }
# Processes alive now with an advised area (the parked native helper) are
# queued; the count is stable from here, since this script and its
# children advise nothing.
two_scans
base=$(slots)
echo "# queue at start (enabled=madvise): $base mm(s)"

# --- enabled=madvise: an idle process with no advised area is not queued
plain=$(helper build/queue-plain.$$)
two_scans
n=$(slots)
check "idle_unadvised_mm_not_queued # mm_slots $base -> $n" test "$n" -eq "$base"

# --- ... until it advises MADV_HUGEPAGE (khugepaged_enter_vma's hook)
kill -USR1 "$plain"
wait_for "grep -qs advised build/queue-plain.$$" 100
wait_for "[ \$(slots) -eq $((base + 1)) ]" 100
n=$(slots)
check "madv_hugepage_queues_mm # mm_slots $n, want $((base + 1))" test "$n" -eq $((base + 1))
wait_for "[ \$(huge_kb $plain) -gt 0 ]" 300
check "advised_mm_collapsed # AnonHugePages $(huge_kb "$plain") kB" test "$(huge_kb "$plain")" -gt 0

# --- prctl(PR_SET_THP_DISABLE): advised but not allowed, not queued
nothp=$(helper build/queue-nothp.$$ nothp)
two_scans
n=$(slots)
check "thp_disabled_mm_not_queued # mm_slots $n, want $((base + 1))" test "$n" -eq $((base + 1))

# --- a write of always queues the processes alive at the write: an idle,
# unadvised one is then collapsed (it made no call that could queue it)
idle=$(helper build/queue-idle.$$)
two_scans
n0=$(slots)
echo always >$X/enabled
n1=$(slots)
echo "# enabled=always: mm_slots $n0 -> $n1 at the write"
wait_for "[ \$(huge_kb $idle) -gt 0 ]" 300
check "always_write_queues_existing_mm # AnonHugePages $(huge_kb "$idle") kB, mm_slots $n0 -> $n1" \
	test "$(huge_kb "$idle")" -gt 0 -a "$n1" -gt "$n0"
check "always_keeps_thp_disabled_mm_out # AnonHugePages $(huge_kb "$nothp") kB" test "$(huge_kb "$nothp")" -eq 0

# --- back to madvise: the visit drops every mm with no advised area (the
# idle helper, everything always queued), the advised one stays
echo madvise >$X/enabled
wait_for "[ \$(slots) -eq $((base + 1)) ]" 300
n=$(slots)
check "unallowed_mm_dropped_at_visit # mm_slots $n1 -> $n, want $((base + 1))" test "$n" -eq $((base + 1))

# --- exits leave the queue
kill "$plain" "$nothp" "$idle" 2>/dev/null
wait "$plain" "$nothp" "$idle" 2>/dev/null
wait_for "[ \$(slots) -eq $base ]" 100
n=$(slots)
check "exited_mm_leaves_queue # mm_slots $n, want $base" test "$n" -eq "$base"

rm -f build/queue-*.$$ build/queue-*.$$.err
rmmod xhugepaged
ktap_end
