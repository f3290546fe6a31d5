#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Address-space fuzzing under a flat-out scanner, in the VM as root from the
# repo root. bin/xhp_fuzz workers mmap/munmap/mremap/mprotect/brk/madvise/
# mlock/userfaultfd/fork/exit patterned memory (sizes and offsets not
# multiples of 2 MiB, KSM included) and verify every page, with shmem
# among it: MAP_SHARED anonymous memory, memfds and files on two tmpfs
# mounts (huge=within_size, huge=always), shared with forked children and
# also ftruncated up and down, hole-punched and MADV_REMOVEd, while
# xhugepaged scans flat out (enabled=always, shmem_enabled=always,
# scan_sleep_millisecs=0, pages_to_scan=65536, scan_order=hot then fifo on
# alternate loads, backoff_window_millisecs=5000, max_ptes_none=511) and
# is unloaded and loaded RELOADS times; the kernel's khugepaged is parked
# (lib.sh), native shmem_enabled=never (shmem faults in small pages, as
# anonymous memory outside MADV_HUGEPAGE does), KSM and swap on zram are
# on. Hist triggers on xhp_scan_pmd, xhp_collapse_begin and
# xhp_collapse_end see every judged address, every batch and every
# collapse, the ring buffer keeps any unaligned one, and
# xhp_fuzz_trace.py checks them (PMD-aligned; inside what the process
# mapped) and counts the collapses of anonymous memory and of shmem
# apart. First both checks are shown to fail: the trace checker is fed a
# synthetic unaligned address and one outside every mapping, and the
# fuzzer is run with a page corrupted on purpose (XHP_FUZZ_CORRUPT=1, a
# zeroed page =2, a shmem page =3).
# The VM runner fails the run on any kernel warning.
# Usage: xhp_fuzz.sh [SECONDS [RELOADS [PROCS [SEED]]]]   (default 60 3 4 random)
set -u
. selftests/lib.sh
secs=${1:-60}
reloads=${2:-3}
procs=${3:-4}
seed=${4:-${XHP_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}}
params="enabled=always shmem_enabled=always scan_sleep_millisecs=0 pages_to_scan=65536 backoff_window_millisecs=5000 max_ptes_none=511"
# Loads alternate the scan order, hot first (the order issue 13 crashed in).
orders=(hot fifo)
TR=/sys/kernel/tracing
EV=$TR/events/xhugepaged
out=build/fuzz.$$
ktap_begin
mkdir -p "$out/maps"
xhp_unload_quiet
xhp_native_park

# The checker must be able to fail: a synthetic unaligned judged address
# (the one issue 13 saw) and an address outside every logged range.
printf 'maps 7fa84a400000 7fa84ac00000\n' >"$out/maps/1"
printf '{ pid:          1, address: 0x00007fa84a801000 } hitcount:          1\n' >"$out/synthetic.unaligned"
printf '{ pid:          1, address: 0x00007fb000000000 } hitcount:          1\n' >"$out/synthetic.outside"
printf '{ pid:          1, address: 0x00007fa84a400000 } hitcount:          1\n' >"$out/synthetic.good"
check "trace_checker_rejects_unaligned_address" \
	eval "! selftests/xhp_fuzz_trace.py --maps $out/maps --scan-hist $out/synthetic.unaligned >/dev/null"
check "trace_checker_rejects_address_outside_mappings" \
	eval "! selftests/xhp_fuzz_trace.py --maps $out/maps --scan-hist $out/synthetic.outside >/dev/null"
check "trace_checker_accepts_aligned_address_inside" \
	eval "selftests/xhp_fuzz_trace.py --maps $out/maps --scan-hist $out/synthetic.good >/dev/null"
rm -f "$out"/maps/1 "$out"/synthetic.*
# And the content check: a page flipped behind the fuzzer's bookkeeping
# (XHP_FUZZ_CORRUPT=1) must come out as a mismatch and a failing exit.
XHP_FUZZ_CORRUPT=1 selftests/bin/xhp_fuzz -s 1 -p 1 -t 3 >"$out/corrupt.out" 2>&1
crc=$?
cm=$(sed -n 's/.* \([0-9]*\) mismatches$/\1/p' "$out/corrupt.out")
cc=$(sed -n 's/.* \([0-9]*\) corrupted on purpose.*/\1/p' "$out/corrupt.out")
check "fuzz_detects_a_corrupted_page # ${cc:-?} corrupted, ${cm:-?} mismatches, exit $crc" \
	test "$crc" -eq 1 -a "${cm:-0}" -ge 1
# A page zeroed behind the bookkeeping (XHP_FUZZ_CORRUPT=2) too: reading
# zero is excused only for the kernel behaviour the fuzzer models (a
# relative's MADV_FREE of a page both share after it was paged out).
XHP_FUZZ_CORRUPT=2 selftests/bin/xhp_fuzz -s 1 -p 1 -t 3 >"$out/corrupt.out" 2>&1
crc=$?
cm=$(sed -n 's/.* \([0-9]*\) mismatches$/\1/p' "$out/corrupt.out")
cc=$(sed -n 's/.* \([0-9]*\) corrupted on purpose.*/\1/p' "$out/corrupt.out")
check "fuzz_detects_a_zeroed_page # ${cc:-?} corrupted, ${cm:-?} mismatches, exit $crc" \
	test "$crc" -eq 1 -a "${cm:-0}" -ge 1
# shmem tmpfs mounts, one per huge= policy that faults small pages somewhere
# (within_size: the part past i_size's last PMD; always: after a split).
tmpfs_args=()
for huge in within_size always; do
	mkdir -p "$out/tmpfs-$huge"
	mount -t tmpfs -o size=1G,huge=$huge tmpfs "$out/tmpfs-$huge" &&
		tmpfs_args+=(-d "$out/tmpfs-$huge")
done
# And a shmem page flipped behind the model that parent and child share.
XHP_FUZZ_CORRUPT=3 selftests/bin/xhp_fuzz -s 1 -p 1 -t 3 "${tmpfs_args[@]}" >"$out/corrupt.out" 2>&1
crc=$?
cm=$(sed -n 's/.* \([0-9]*\) mismatches$/\1/p' "$out/corrupt.out")
cc=$(sed -n 's/.* \([0-9]*\) corrupted on purpose.*/\1/p' "$out/corrupt.out")
check "fuzz_detects_a_corrupted_shmem_page # ${cc:-?} corrupted, ${cm:-?} mismatches, exit $crc" \
	eval "test $crc -eq 1 -a ${cm:-0} -ge 1 && grep -q 'MISMATCH region [0-9]* \(shared_anon\|memfd\|tmpfs\)' $out/corrupt.out"
native_shmem=$(cat $T/shmem_enabled | sed 's/.*\[\(.*\)\].*/\1/')
echo never >$T/shmem_enabled

mountpoint -q $TR || mount -t tracefs nodev $TR
xhp_swap_on || echo "# no swap: MADV_PAGEOUT only drops clean pages"
# For the record (not a check): whether this kernel has the behaviour the
# fuzzer excuses (reliability.rst, "A fork child's MADV_FREE").
echo "# kernel: $(selftests/bin/xhp_lazyfree_fork 2>&1)"
ksm_run=$(cat /sys/kernel/mm/ksm/run)
ksm_sleep=$(cat /sys/kernel/mm/ksm/sleep_millisecs)
echo 20 >/sys/kernel/mm/ksm/sleep_millisecs
echo 1 >/sys/kernel/mm/ksm/run

hists=0 loads=0 reloaded=0
declare -A collapsed=([hot]=0 [fifo]=0)
# Hist triggers keyed on every (pid, address) judged and every batch (at
# most 3 keys), the ring buffer only for what is misaligned (so it cannot
# overflow). All of it comes off before rmmod: a module unloaded with a
# probe on its tracepoints gets a kernel WARNING (tracepoint.c).
# make check-debug makes the tables smaller (XHP_FUZZ_HIST_SIZE): there,
# under KASAN and kmemleak in a kernel without preemption, allocating 65536
# entries holds a CPU long enough for the soft-lockup detector. Entries a
# full table drops escape the in-address-space check and the shmem counts
# (the checker's summary gives how many); the ring buffer still catches
# every unaligned address.
hist_size=${XHP_FUZZ_HIST_SIZE:-65536}
scan_hist="hist:keys=pid,address.hex:size=$hist_size"
collapse_hist="hist:keys=address.hex,nr,initiator:size=$((hist_size < 8192 ? hist_size : 8192))"
collapse_end_hist="hist:keys=pid,address.hex,initiator:vals=hitcount,collapsed:size=$hist_size"
arm() {
	echo "$scan_hist" >$EV/xhp_scan_pmd/trigger &&
	echo "$collapse_hist" >$EV/xhp_collapse_begin/trigger &&
	echo "$collapse_end_hist" >$EV/xhp_collapse_end/trigger &&
	echo 'address & 0x1fffff' >$EV/xhp_scan_pmd/filter &&
	echo 'address & 0x1fffff' >$EV/xhp_collapse_begin/filter &&
	echo 1 >$EV/xhp_scan_pmd/enable && echo 1 >$EV/xhp_collapse_begin/enable
}
load() {
	order=${orders[$((loads % 2))]}
	insmod "$XHP_KO" $params scan_order=$order || return 1
	loads=$((loads + 1))
	arm || { echo "# arming the tracepoints failed"; return 1; }
}
# Collect what the tracepoints saw, disarm them and unload.
unload() {
	hists=$((hists + 1))
	cat $EV/xhp_scan_pmd/hist >"$out/scan.$hists"
	cat $EV/xhp_collapse_begin/hist >"$out/collapse.$hists"
	cat $EV/xhp_collapse_end/hist >"$out/collapse_end.$hists"
	cat $TR/trace >"$out/trace.$hists"
	collapsed[$order]=$((collapsed[$order] + $(cat $XK/pages_collapsed)))
	disarm
	echo >$TR/trace
	rmmod xhugepaged
}
disarm() {
	echo 0 >$EV/xhp_scan_pmd/enable
	echo 0 >$EV/xhp_collapse_begin/enable
	echo "!$scan_hist" >$EV/xhp_scan_pmd/trigger
	echo "!$collapse_hist" >$EV/xhp_collapse_begin/trigger
	echo "!$collapse_end_hist" >$EV/xhp_collapse_end/trigger
}
trap 'xhp_loaded && disarm 2>/dev/null' EXIT

echo >$TR/trace
load || { not_ok "insmod $params scan_order=hot"; ktap_end; exit 1; }
# At nice 10, so that this shell still gets to reload in time (as in
# xhp_stress.sh); the scanner runs at its own priority.
t0=$(date +%s)
# It runs until told (the time given is only a backstop): every reload must
# happen under it, however slowly disarming the tracepoints goes under TCG.
nice -n 10 selftests/bin/xhp_fuzz -s "$seed" -p "$procs" -t $((secs * 3 + 300)) -m "$out/maps" "${tmpfs_args[@]}" >"$out/fuzz.out" 2>"$out/fuzz.err" &
fuzz=$!
echo "# seed $seed ($procs processes, $secs s): rerun with XHP_FUZZ_SEED=$seed"

# Reload RELOADS times, evenly spread over the run.
for i in $(seq "$reloads"); do
	at=$((t0 + i * secs / (reloads + 1)))
	while [ "$(date +%s)" -lt $at ] && kill -0 $fuzz 2>/dev/null; do sleep 1; done
	kill -0 $fuzz 2>/dev/null || break
	echo "# t+$(( $(date +%s) - t0 )) s: reload $i"
	unload && load && reloaded=$((reloaded + 1))
	echo "# t+$(( $(date +%s) - t0 )) s: loaded again, scan_order=$order"
done
while [ "$(date +%s)" -lt $((t0 + secs)) ] && kill -0 $fuzz 2>/dev/null; do sleep 1; done
kill -TERM $fuzz 2>/dev/null
wait $fuzz
rc=$?
xhp_loaded && unload

echo "$ksm_sleep" >/sys/kernel/mm/ksm/sleep_millisecs
echo "$ksm_run" >/sys/kernel/mm/ksm/run
echo "$native_shmem" >$T/shmem_enabled
for d in "$out"/tmpfs-*; do umount "$d"; done

sed 's/^/# /' "$out/fuzz.out"
head -n 30 "$out/fuzz.err" | sed 's/^/# /'
summary=$(tail -n 1 "$out/fuzz.out")
ops=$(echo "$summary" | sed -n 's/.*: \([0-9]*\) operations.*/\1/p')
mism=$(echo "$summary" | sed -n 's/.* \([0-9]*\) mismatches$/\1/p')
deaths=$(echo "$summary" | sed -n 's/.* \([0-9]*\) deaths.*/\1/p')
excused=$(echo "$summary" | sed -n "s/.* \([0-9]*\) zeroed by a relative's MADV_FREE.*/\1/p")
echo "# ${excused:-?} pages read zero after a relative's MADV_FREE (kernel behaviour, not counted)"
check "fuzz_ran # seed $seed, ${ops:-?} operations, exit $rc" test "$rc" -eq 0 -a "${ops:-0}" -gt 0
check "fuzz_no_content_mismatch # ${mism:-?} mismatches" test "${mism:-1}" -eq 0
check "fuzz_no_process_died_or_hung # ${deaths:-?}" test "${deaths:-1}" -eq 0
check "fuzz_module_reloaded # $reloaded/$reloads" test "$reloaded" -eq "$reloads"
check "fuzz_xhugepaged_collapsed # pages_collapsed hot ${collapsed[hot]}, fifo ${collapsed[fifo]} over $loads loads" \
	test $((collapsed[hot] + collapsed[fifo])) -gt 0

args=(--maps "$out/maps")
for i in $(seq "$hists"); do
	args+=(--scan-hist "$out/scan.$i" --collapse-hist "$out/collapse.$i"
		--collapse-end-hist "$out/collapse_end.$i" --trace "$out/trace.$i")
done
tr_out=$(selftests/xhp_fuzz_trace.py "${args[@]}")
tr_rc=$?
echo "$tr_out" | sed 's/^/# /'
scanned=$(echo "$tr_out" | sed -n 's/^scan_pmd: \([0-9]*\) events.*/\1/p')
inside=$(echo "$tr_out" | sed -n 's/^in address space: \([0-9]*\) fuzzer.*/\1/p')
# A negative check proves the scanner looked: events, and fuzzer ones.
check "fuzz_scanner_judged_pmds # ${scanned:-0} xhp_scan_pmd events, ${inside:-0} of fuzzer processes" \
	test "${scanned:-0}" -gt 0 -a "${inside:-0}" -gt 0
check "fuzz_judged_addresses_pmd_aligned_and_mapped" test "$tr_rc" -eq 0
shm_judged=$(echo "$tr_out" | sed -n 's/^in shmem mappings: \([0-9]*\) .*/\1/p')
shm_collapsed=$(echo "$tr_out" | sed -n 's/^collapsed by xhugepaged: .*shmem \([0-9]*\),.*/\1/p')
shm_checked=$(sed -n 's/.* \([0-9]*\) shmem pages checked$/\1/p' "$out/fuzz.out")
check "fuzz_scanner_judged_shmem # ${shm_judged:-0} (pid, address) in shmem mappings" \
	test "${shm_judged:-0}" -gt 0
check "fuzz_xhugepaged_collapsed_shmem # ${shm_collapsed:-0} shmem PMDs, ${shm_checked:-0} shmem pages checked" \
	test "${shm_collapsed:-0}" -gt 0 -a "${shm_checked:-0}" -gt 0
rm -rf "$out"
ktap_end
