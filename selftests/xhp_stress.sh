#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Churn stress with data integrity, in the VM as root from the repo root.
# bin/xhp_stress workers fault, fork, exit, munmap, mprotect, mremap,
# MADV_DONTNEED, MADV_PAGEOUT (swap on zram) and MADV_COLLAPSE patterned
# memory while xhugepaged scans flat out (enabled=always,
# scan_sleep_millisecs=0, pages_to_scan=65536, max_ptes_none=511) with its
# hooks live and a bpftrace tool attached; meanwhile the module is unloaded
# and loaded CYCLES times. Pass: no mismatch, the scanner kept collapsing
# while loaded, rmmod never took over 2 s (TCG), slab did not grow across
# the cycles. The VM runner fails the run on any kernel warning.
# Usage: xhp_stress.sh [SECONDS [CYCLES [WORKERS]]]   (default 80 5 6)
set -u
. selftests/lib.sh
secs=${1:-80}
cycles=${2:-5}
workers=${3:-6}
params="enabled=always scan_sleep_millisecs=0 pages_to_scan=65536 max_ptes_none=511"
ktap_begin
xhp_unload_quiet
xhp_swap_on || { not_ok "swap on zram"; ktap_end; exit 1; }

meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
settle() { sync; echo 3 >/proc/sys/vm/drop_caches; sleep 1; }
settle
slab0=$(meminfo SUnreclaim)

insmod "$XHP_KO" $params || { not_ok "insmod"; ktap_end; exit 1; }
# At nice 10: the emulated CPUs stay saturated, but rmmod's wall time then
# shows blocking more than its share of them.
nice -n 10 selftests/bin/xhp_stress "$workers" "$secs" >build/stress-out.$$ 2>&1 &
stress=$!
t_end=$(( $(date +%s) + secs ))

# Phase 1, the first third: unload and load again CYCLES times under the
# churn. (An attached bpftrace holds a reference on the module, so the
# tool comes in phase 2.)
collapsed=0 worst=0 cycled=0 stalls=0 samples=0
if [ "$cycles" -gt 0 ]; then
	gap=$(awk -v s="$secs" -v c="$cycles" 'BEGIN { g = s / 3 / c; if (g < 0.3) g = 0.3; print g }')
	phase1_end=$(( $(date +%s) + secs / 2 ))
	for i in $(seq "$cycles"); do
		# Never eat into phase 2's time, whatever rmmod costs.
		[ "$(date +%s)" -lt "$phase1_end" ] || break
		sleep "$gap"
		collapsed=$((collapsed + $(cat $XK/pages_collapsed)))
		t0=$(date +%s%N)
		rmmod xhugepaged || break
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ $ms -gt $worst ] && worst=$ms
		insmod "$XHP_KO" $params || break
		cycled=$((cycled + 1))
	done
fi

# Phase 2, the rest: a bpftrace tool attached, the scanner sampled for
# progress every 5 s.
mkdir -p build
bt_out=build/stress-bpftrace.$$
bt=
left=$((t_end - $(date +%s)))
if command -v bpftrace >/dev/null && [ $left -gt 10 ]; then
	bpftrace -e "tracepoint:xhugepaged:* { @[probe] = count(); } interval:s:$((left - 3)) { exit(); }" >"$bt_out" 2>&1 &
	bt=$!
	wait_for "grep -q Attaching $bt_out" 300
fi
prev=$(cat $XK/full_scans)
while [ "$(date +%s)" -lt "$t_end" ] && kill -0 $stress 2>/dev/null; do
	sleep 5
	now=$(cat $XK/full_scans)
	samples=$((samples + 1))
	[ "$now" -gt "$prev" ] || stalls=$((stalls + 1))
	prev=$now
done
wait $stress
rc=$?
collapsed=$((collapsed + $(cat $XK/pages_collapsed)))
results=$(cd $XK/scan_results && for f in *; do [ "$f" = reset ] || awk -v n="$f" '$1 { printf "%s=%s ", n, $1 }' "$f"; done)
[ -n "$bt" ] && wait $bt
rmmod xhugepaged
settle
slab1=$(meminfo SUnreclaim)

out=$(cat build/stress-out.$$)
echo "# $out"
echo "# xhugepaged collapses: $collapsed; scan results: $results"
[ -n "$bt" ] && sed -n 's/^@\[\(.*\)\]: \(.*\)/# bpftrace \1 \2/p' "$bt_out"
mismatches=$(sed -n 's/.* \([0-9]*\) mismatches.*/\1/p' build/stress-out.$$)
check "stress_ran_clean # $secs s, $workers workers" test $rc -eq 0
check "stress_no_data_mismatch # ${mismatches:-?} mismatches" test "${mismatches:-1}" -eq 0
check "stress_xhugepaged_collapsed # $collapsed" test "$collapsed" -gt 0
check "stress_scanner_kept_progressing # full_scans grew in $((samples - stalls))/$samples samples" \
	test "$samples" -ge 2 -a "$stalls" -eq 0
check "stress_load_unload_cycles # $cycled/$cycles, worst rmmod $worst ms" \
	test "$cycled" -eq "$cycles" -a "$worst" -lt 2000
delta=$((slab1 - slab0))
check "stress_no_slab_growth # SUnreclaim $slab0 -> $slab1 kB (delta $delta kB)" \
	test "$delta" -lt 4096
if [ -n "$bt" ]; then
	check "stress_bpftrace_saw_tracepoints" grep -q 'tracepoint:xhugepaged:xhp_' "$bt_out"
fi
rm -f "$bt_out" build/stress-out.$$
ktap_end
