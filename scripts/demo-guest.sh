#!/bin/bash
# The demo, run inside the VM: load xhugepaged, tune it, watch a workload's
# memory turn huge, and explain what it did and did not collapse, and why.
set -euo pipefail
cd "$(dirname "$0")/.."

X=/sys/kernel/mm/xhugepaged
K=$X/khugepaged
say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; eval "$@"; }
anon_huge_kb() { awk '/^AnonHugePages:/ { print $2 }' "/proc/$1/smaps_rollup"; }
nonzero_results() {
	local f
	for f in "$K"/scan_results/*; do
		[ "${f##*/}" = reset ] && continue	# write-only
		awk -v n="${f##*/}" '$1 != 0 { printf "   %-22s %s\n", n, $1 }' "$f"
	done
}

say "Keep the kernel's own khugepaged out of the way, so all you see is xhugepaged"
run "echo never > /sys/kernel/mm/transparent_hugepage/enabled"

say "Load the module (policy: madvise, like the THP 'enabled' file)"
run "insmod kmod/xhugepaged.ko enabled=madvise"
run "cat $X/enabled"
printf '   %s mms queued; hooks: %s\n' "$(cat $K/mm_slots)" \
	"$(cd $X/hooks && for h in *; do printf '%s=%s ' "$h" "$(cut -d' ' -f1 "$h")"; done)"

say "Tune it through sysfs, exactly as you would /sys/kernel/mm/transparent_hugepage"
run "echo 200 > $K/scan_sleep_millisecs"
run "echo 32768 > $K/pages_to_scan"
run "echo 255 > $K/max_ptes_none"
printf '$ echo 0 > %s/pages_to_scan    # rejected like the real file:\n' "$K"
echo 0 > $K/pages_to_scan 2>&1 || echo "   -> rejected (EINVAL), value still $(cat $K/pages_to_scan)"
echo 0 > $K/scan_results/reset

say "Watch collapses live with bpftrace (one line)"
bt_out=$(mktemp)
bpftrace -e 'tracepoint:xhugepaged:xhp_collapse_end { @huge_pages_made[args->pid, str(args->initiator)] = sum(args->collapsed); } interval:s:25 { exit(); }' >"$bt_out" 2>&1 &
bt=$!
for _ in $(seq 60); do grep -q Attaching "$bt_out" && break; sleep 0.5; done
echo "   bpftrace attached"

say "Run a workload: 3 regions of 32 MiB: MADV_HUGEPAGE, plain, and MADV_HUGEPAGE but half empty"
scripts/demo/workload 32 20 &
wl=$!
sleep 0.5
printf '   %-6s %-18s %-16s %s\n' time AnonHugePages pages_collapsed full_scans
for t in 1 2 3 4 5 6; do
	sleep 1
	printf '   %-6s %-18s %-16s %s\n' "${t}s" "$(anon_huge_kb $wl) kB" \
		"$(cat $K/pages_collapsed)" "$(cat $K/full_scans)"
done

# --- the per-process view (Documentation/procview.rst) ---------------------
say "Who is not huge, and why, per process (scripts/xhp-top, from /sys/kernel/debug/xhugepaged/processes)"
# One copy of the table while the workload runs, so all below agrees.
view=$(mktemp)
cat /sys/kernel/debug/xhugepaged/processes >"$view"
printf '$ grep -E "^pid |^%s " /sys/kernel/debug/xhugepaged/processes\n' "$wl"
grep -E "^pid |^$wl " "$view"
printf '$ scripts/xhp-top --once --top 5\n'
scripts/xhp-top --once --top 5 --source "$view"
scripts/xhp-top --json --source "$view" | python3 -c '
import json, sys
plain = {
    "exceed_none_pte": "too many empty PTEs in the 2 MiB range (more than max_ptes_none)",
    "vma_check": "a VMA the policy keeps small (no MADV_HUGEPAGE under madvise, or too small)",
    "pmd_none": "no page table there yet: nothing to collapse",
    "lack_referenced_page": "not touched since the last look",
    "page_ro": "only read, never written",
    "exceed_swap_pte": "too much of it swapped out",
    "exceed_shared_pte": "shared with another process",
    "alloc_huge_page_fail": "no free 2 MiB page at the time",
}
pid = int(sys.argv[1])
row = next((r for r in json.load(sys.stdin)["processes"] if r["pid"] == pid), None)
if row is None:
    print("   (the workload has left the queue)")
    sys.exit(0)
mib = lambda kb: kb / 1024.0
print("The workload (pid %d, %s) has %.0f MiB of anonymous memory; %.0f MiB of it"
      % (pid, row["comm"], mib(row["anon_kb"]), mib(row["pmd_mapped_kb"])))
print("is PMD-mapped (%d ranges collapsed by xhugepaged) and %.0f MiB is still small."
      % (row["collapsed"], mib(row["not_huge_kb"])))
print("The scanner judged %d ranges there; what it said about the rest:" % row["judged"])
for r in row["why_not"]:
    print("   %-22s %5d  %s" % (r["reason"], r["count"], plain.get(r["reason"], "")))
' "$wl"
rm -f "$view"
# --- end of the per-process view ---------------------------------------------

echo
echo "Why the rest is not huge (khugepaged/scan_results, the kernel's SCAN_* names):"
nonzero_results


say "Switch policy to 'always': the plain region qualifies too"
run "echo always > $X/enabled"
for t in 1 2 3 4; do
	sleep 1
	printf '   %-6s %-18s %-16s %s\n' "+${t}s" "$(anon_huge_kb $wl) kB" \
		"$(cat $K/pages_collapsed)" "$(cat $K/full_scans)"
done

wait "$wl"
kill -INT "$bt" 2>/dev/null || true
wait "$bt" 2>/dev/null || true
say "bpftrace: huge pages made, by process and initiator"
grep '^@' "$bt_out" || cat "$bt_out"

say "In plain words"
made=$(cat $K/pages_collapsed)
none=$(cat $K/scan_results/exceed_none_pte)
vma=$(cat $K/scan_results/vma_check)
cat <<TXT
xhugepaged collapsed $made ranges of 2 MiB into huge pages ($((made * 2)) MiB).
Under 'madvise' it only took the MADV_HUGEPAGE region; the plain region was
skipped as not allowed ($vma times counted as vma_check) until the policy
became 'always'. The half-empty region never became huge: each of its 2 MiB
ranges has 256 empty PTEs, more than max_ptes_none=255, so it was refused
$none times as exceed_none_pte -- collapsing it would have doubled its memory.
TXT
say "shmem too: a 16 MiB memfd written with small pages, MADV_HUGEPAGE"
run "echo never > $X/enabled     # anonymous memory: hands off"
run "echo advise > $X/shmem_enabled"
scripts/demo/shmem_workload 16 60 &
sw=$!
sleep 0.5
printf '   %-6s %-18s %s\n' time ShmemPmdMapped pages_collapsed
for t in 1 2 3; do
	sleep 1
	printf '   %-6s %-18s %s\n' "${t}s" \
		"$(awk '/^ShmemPmdMapped:/ { print $2 }' /proc/$sw/smaps_rollup) kB" \
		"$(cat $K/pages_collapsed)"
done
kill -USR1 "$sw"	# check its bytes and exit
wait "$sw"
echo "shmem_enabled governs shmem on its own: 'enabled' is never, yet the memfd"
echo "became huge (the kernel's 6.12 khugepaged would need enabled != never too)."
run "rmmod xhugepaged"
