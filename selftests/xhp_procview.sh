#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The per-process view and scan targeting, in the VM as root from the
# repository root. Two workloads (bin/xhp_procview) in two cgroups:
# - target_cgroup on one: its PMD-mapped size grows to all of it while the
#   other's stays put, and the other is passed over (its target_skipped in
#   the view grows, and khugepaged/target_skipped with it);
# - target_pids on the other: the same the other way round;
# - the view's pmd_mapped_kb agrees with /proc/PID/smaps_rollup's
#   AnonHugePages within one PMD after a full pass, also after a zap;
# - scripts/xhp-top --once --json parses and names both;
# - bad input gets the kernel's errno and leaves the old value; non-root
#   cannot write; the debugfs table is root-only and shows no pointers.
set -u
. selftests/lib.sh
ktap_begin
xhp_unload_quiet
CG=/sys/fs/cgroup
D=/sys/kernel/debug/xhugepaged/processes
MIB=16			# per workload: 8 PMD ranges
PMD_KB=2048
mkdir -p build
grep -q cgroup2 /proc/mounts || mount -t cgroup2 none $CG
cga=$CG/xhp-pv-a cgb=$CG/xhp-pv-b
mkdir -p $cga $cgb
pids=()

anon_huge_kb() { awk '/^AnonHugePages:/ { print $2 }' "/proc/$1/smaps_rollup"; }
# view PID COLUMN: one column of PID's line in the debugfs table.
view() {
	awk -v pid="$1" -v col="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$1 == pid { print $c[col]; found = 1; exit }
		END { if (!found) print "none" }' $D
}
# write_errno FILE STRING: "OK" or the errno's name of one write(2).
write_errno() {
	python3 -c '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.write(fd, sys.argv[2].encode())
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])' "$1" "$2"
}
# start NAME CGROUP: a workload, in CGROUP from its first page; sets $pid.
start() {
	local ready=build/pv-ready.$1.$$
	rm -f "$ready" "$ready.zapped"
	sh -c "echo \$\$ >$2/cgroup.procs && exec selftests/bin/xhp_procview - $1 $MIB $ready" &
	pid=$!
	pids+=("$pid")
	wait_for "[ -e $ready ]" 300
}
# zap PID NAME: its first two PMD ranges go; waits until they have.
zap() {
	local ready=build/pv-ready.$2.$$
	kill -USR1 "$1"
	wait_for "[ -e $ready.zapped ]" 300
}
# passes_after PID N: wait until PID's view has N more full passes.
passes_after() {
	local p0
	p0=$(view "$1" passes)
	wait_for "[ \$(view $1 passes) -ge \$(($p0 + $2)) ]" "${3:-600}"
}
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -f build/pv-ready.*.$$*
	rmdir $cga $cgb 2>/dev/null
}
trap cleanup EXIT

insmod "$XHP_KO" enabled=madvise scan_sleep_millisecs=100 \
	alloc_sleep_millisecs=100 || { not_ok "insmod"; ktap_end; exit 1; }

# --- the files
check "debugfs_processes_root_only # mode $(stat -c %a $D)" test "$(stat -c %a $D)" = 400
check "targets_empty_at_load" test -z "$(cat $XK/target_cgroup)" -a -z "$(cat $XK/target_pids)"

# --- target_cgroup: a is scanned, b is passed over
echo /xhp-pv-a >$XK/target_cgroup
check "target_cgroup_reads_back # '$(cat $XK/target_cgroup)'" test "$(cat $XK/target_cgroup)" = /xhp-pv-a
skipped0=$(cat $XK/target_skipped)
start pv-a $cga; pa=$pid
start pv-b $cgb; pb=$pid
wait_for "[ \$(anon_huge_kb $pa) -ge $((MIB * 1024)) ]" 1200
wait_for "[ \$(view $pb target_skipped) -ge 3 ]" 600
passes_after $pa 1
ha=$(anon_huge_kb $pa) hb=$(anon_huge_kb $pb)
echo "# target_cgroup=/xhp-pv-a: AnonHugePages a=$ha kB b=$hb kB; view a: $(view $pa pmd_mapped_kb) kB, b: $(view $pb pmd_mapped_kb) kB, b skipped $(view $pb target_skipped)"
check "cgroup_target_collapses # a AnonHugePages $ha kB" test "$ha" -ge $((MIB * 1024))
check "cgroup_other_untouched # b AnonHugePages $hb kB" test "$hb" -eq 0
check "cgroup_other_passed_over # b target_skipped $(view $pb target_skipped), a $(view $pa target_skipped)" \
	test "$(view $pb target_skipped)" -ge 3 -a "$(view $pa target_skipped)" -eq 0
check "target_skipped_counts # $skipped0 -> $(cat $XK/target_skipped)" \
	test "$(cat $XK/target_skipped)" -gt "$skipped0"
check "view_targeted_column # a $(view $pa targeted) b $(view $pb targeted)" \
	test "$(view $pa targeted)" = 1 -a "$(view $pb targeted)" = 0
check "view_names_cgroup_and_comm # a: $(view $pa comm) $(view $pa cgroup)" \
	test "$(view $pa comm)" = pv-a -a "$(view $pa cgroup)" = /xhp-pv-a -a \
	"$(view $pb cgroup)" = /xhp-pv-b -a "$(awk '{ print $1 }' /proc/$pa/cgroup)" = "0::/xhp-pv-a"

# --- agreement with smaps_rollup, also after a zap seen by a later pass
for p in $pa $pb; do
	v=$(view $p pmd_mapped_kb) s=$(anon_huge_kb $p)
	check "view_agrees_with_smaps_rollup_$p # view $v kB, AnonHugePages $s kB" \
		test $((v > s ? v - s : s - v)) -le $PMD_KB
done
zap $pa pv-a
passes_after $pa 2
v=$(view $pa pmd_mapped_kb) s=$(anon_huge_kb $pa)
check "view_follows_zap # view $v kB, AnonHugePages $s kB" \
	test "$s" -eq $(((MIB - 4) * 1024)) -a $((v > s ? v - s : s - v)) -le $PMD_KB
check "view_judged_and_collapsed # a judged $(view $pa judged) collapsed $(view $pa collapsed)" \
	test "$(view $pa judged)" -ge $((MIB / 2)) -a "$(view $pa collapsed)" -ge $((MIB / 2))
check "view_why_not # a: $(view $pa why_not)" grep -q "pmd_none:" <<<"$(view $pa why_not)"

# --- xhp-top
json=$(scripts/xhp-top --once --json)
check "xhp_top_json_names_both" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
rows = {r["pid"]: r for r in d["processes"]}
a, b = rows[int(sys.argv[2])], rows[int(sys.argv[3])]
assert a["comm"] == "pv-a" and b["comm"] == "pv-b", (a, b)
assert a["cgroup"] == "/xhp-pv-a" and b["cgroup"] == "/xhp-pv-b"
assert a["pmd_mapped_kb"] > 0 and b["pmd_mapped_kb"] == 0
assert b["not_huge_kb"] >= a["not_huge_kb"]
assert d["target_cgroup"] == "/xhp-pv-a"' "$json" $pa $pb
scripts/xhp-top --once --top 8 | sed 's/^/# /'

# --- the bpftrace tool, from the same counts through the tracepoints
if command -v bpftrace >/dev/null; then
	bt_out=build/pv-bt.$$
	bpftrace scripts/bpftrace/why-not-huge-per-process.bt 8 >"$bt_out" 2>&1 &
	bt=$!
	wait_for "grep -q '^Tracing' $bt_out" 900
	wait $bt
	grep -v '^$' "$bt_out" | sed 's/^/# bt: /'
	ha=$(anon_huge_kb $pa)
	check "bpftrace_per_process # a huge $ha kB" grep -Eq "^@comm\[$pa\]: pv-a\$" "$bt_out"
	check "bpftrace_per_process_huge # a" grep -Eq "^@huge_kb\[$pa\]: $ha\$" "$bt_out"
	check "bpftrace_per_process_why_not # a" grep -Eq "^@why_not\[$pa, pmd_none\]: [0-9]+" "$bt_out"
	check "bpftrace_per_process_passed_over # b" grep -Eq "^@target_skipped\[$pb\]: [1-9][0-9]*" "$bt_out"
	rm -f "$bt_out"
else
	skip "bpftrace_per_process" "bpftrace not installed"
fi

# --- target_pids: now b only; a stays put and is passed over
echo >$XK/target_cgroup
echo "$pb" >$XK/target_pids
check "target_pids_reads_back # '$(cat $XK/target_pids)'" test "$(cat $XK/target_pids)" = "$pb"
ha0=$(anon_huge_kb $pa) sa0=$(view $pa target_skipped)
wait_for "[ \$(anon_huge_kb $pb) -ge $((MIB * 1024)) ]" 1200
wait_for "[ \$(view $pa target_skipped) -ge $((sa0 + 3)) ]" 600
ha=$(anon_huge_kb $pa) hb=$(anon_huge_kb $pb)
echo "# target_pids=$pb: AnonHugePages a=$ha kB (was $ha0) b=$hb kB; a skipped $sa0 -> $(view $pa target_skipped)"
check "pids_target_collapses # b AnonHugePages $hb kB" test "$hb" -ge $((MIB * 1024))
check "pids_other_stays_put # a AnonHugePages $ha0 -> $ha kB" test "$ha" -eq "$ha0"
check "pids_other_passed_over # a target_skipped $sa0 -> $(view $pa target_skipped)" \
	test "$(view $pa target_skipped)" -ge $((sa0 + 3))

# --- bad input: the kernel's errno, the old value kept
echo /xhp-pv-a >$XK/target_cgroup
long=/$(head -c 5000 /dev/zero | tr '\0' a)
for c in "/xhp-pv-nonexistent ENOENT" "xhp-pv-a EINVAL" \
	"/xhp-pv-a/cgroup.procs ENOTDIR" "$long EINVAL"; do
	set -- $c
	got=$(write_errno $XK/target_cgroup "$1")
	check "target_cgroup_bad_${2}_${1:0:24} # $got" \
		test "$got" = "$2" -a "$(cat $XK/target_cgroup)" = /xhp-pv-a
done
nopid=$((1 << 22))
while [ -e /proc/$nopid ]; do nopid=$((nopid - 1)); done
many=$(for _ in $(seq 65); do printf '%s ' "$pb"; done)
for c in "garbage EINVAL" "-5 EINVAL" "$nopid ESRCH" "2 EINVAL" \
	"${pb}x EINVAL"; do
	set -- $c
	got=$(write_errno $XK/target_pids "$1")
	check "target_pids_bad_${2}_$1 # $got" \
		test "$got" = "$2" -a "$(cat $XK/target_pids)" = "$pb"
done
got=$(write_errno $XK/target_pids "$many")
check "target_pids_too_many # $got" test "$got" = EINVAL -a "$(cat $XK/target_pids)" = "$pb"
got=$(write_errno $XK/target_pids "$pa,$pb")
check "target_pids_list # $got: '$(cat $XK/target_pids)'" test "$got" = OK -a "$(cat $XK/target_pids)" = "$pa $pb"

# --- root only; no pointers
for f in target_cgroup target_pids; do
	check "non_root_cannot_write_$f" \
		bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'echo / >$XK/$f' 2>/dev/null"
done
check "non_root_cannot_read_view" \
	bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups cat $D >/dev/null 2>&1"
check "targets_kept_after_non_root" test "$(cat $XK/target_cgroup)" = /xhp-pv-a -a "$(cat $XK/target_pids)" = "$pa $pb"
check "view_shows_no_pointers" bash -c "! grep -Eiq '[0-9a-f]{12,}' $D"
echo >$XK/target_cgroup
echo >$XK/target_pids
check "targets_cleared" test -z "$(cat $XK/target_cgroup)" -a -z "$(cat $XK/target_pids)"

cleanup
check "rmmod_after_procview" rmmod xhugepaged
ktap_end
