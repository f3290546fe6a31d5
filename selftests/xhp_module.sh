#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Module life cycle: insmod creates the sysfs directory and the scanner
# thread, rmmod removes them and returns (also mid-pass; bounded only to
# catch a hang, the times are printed as diagnostics), load-unload-load
# works, module parameters set initial values and a bad one fails insmod
# with a message and leaves nothing behind; reload while processes fault,
# fork and exit. Runs in the VM as root from the repository root.
set -u
. selftests/lib.sh
ktap_begin
xhp_unload_quiet

thread_running() { pgrep -x xhugepaged >/dev/null; }
# rmmod must return within this: a bound that catches a hang, never a
# latency goal (make bench measures those). Passes at KVM speed as at TCG.
# make check-debug raises it: with DEBUG_KOBJECT_RELEASE, delete_module
# waits for the module kobject's release, which that option delays by 1-4 s
# after its children's own delayed releases (mod_kobject_put()).
RMMOD_HANG_MS=${XHP_RMMOD_HANG_MS:-10000}
# 99999 stands for a failed rmmod below: a bound must stay under it.
[ "$RMMOD_HANG_MS" -lt 99999 ] 2>/dev/null || { echo "xhp_module: XHP_RMMOD_HANG_MS must be a number of ms below 99999" >&2; exit 2; }
# rmmod_timed: one rmmod; its wall time in $ms, and in $stop_ms the time
# the module's exit waited for the scanner thread (from its own log line).
# Under TCG the module core's own teardown (RCU and RCU-tasks grace periods
# for kprobes, tracepoints, module memory) dominates the wall time.
rmmod_timed() {
	local t0 t1 rc line
	t0=$(date +%s%N)
	rmmod xhugepaged
	rc=$?
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	# From the module's unload line: how long the scanner took to stop, and
	# its whole exit (scanner stop plus the rest of its teardown).
	line=$(dmesg | grep 'xhugepaged: unloaded: scanner stopped in' | tail -n1)
	[[ $line =~ stopped\ in\ ([0-9]+)\ ms,\ teardown\ ([0-9]+)\ ms ]] &&
		stop_ms=${BASH_REMATCH[1]} exit_ms=$((BASH_REMATCH[1] + BASH_REMATCH[2])) ||
		stop_ms=99999 exit_ms=99999
	return $rc
}

# How many event hooks hooks/ shows live (they are the optional ones
# installed as kretprobes or through the fprobe).
event_hooks_live() {
	grep -l ' optional kretprobe$\| optional fprobe$' "$X"/hooks/* 2>/dev/null | wc -l
}

# --- load creates, unload removes
dmesg -C
insmod "$XHP_KO"
# The event hooks arm in a worker after the load; reading events/enabled
# waits for it (read at once, before the worker could be done anyway).
cat "$X/events/enabled" >/dev/null
# The load line ends with where init's time went, in ms: its parts add up
# to no more than their whole (each is rounded down).
line=$(dmesg | grep 'xhugepaged: loaded: ' | tail -n1)
echo "# ${line#*] }"
re='; init ([0-9]+) ms, symbols ([0-9]+) ms, probes ([0-9]+) ms \(ftrace sites ([0-9]+) ms, entry hooks ([0-9]+) ms\), event hooks arming$'
if [[ $line =~ $re ]]; then
	r=("${BASH_REMATCH[@]}")
	check "load_line_times_init_symbols_probes" \
		test $((r[2] + r[3])) -le "${r[1]}" -a $((r[4] + r[5])) -le "${r[3]}"
else
	not_ok "load_line_times_init_symbols_probes # no times in: $line"
fi
# Then the worker's line says how many are live, as hooks/ does.
line=$(dmesg | grep 'xhugepaged: event hooks: ' | tail -n1)
echo "# ${line#*] }"
live=$(event_hooks_live)
if [[ $line =~ event\ hooks:\ ([0-9]+)\ of\ ([0-9]+)\ live\ by\ [a-z]+\ in\ [0-9]+\ ms$ ]]; then
	check "event_hooks_armed_after_load # $live live in hooks/" \
		test "${BASH_REMATCH[1]}" -eq "$live" -a "${BASH_REMATCH[2]}" -ge "$live" -a "$live" -gt 0
else
	not_ok "event_hooks_armed_after_load # no line: $line"
fi
check "insmod_creates_sysfs_dir" test -d "$X" -a -f "$XK/pages_to_scan" -a -f "$X/enabled"
check "insmod_starts_scanner_thread" thread_running
for f in enabled defrag use_zero_page hpage_pmd_size shmem_enabled \
	khugepaged/defrag khugepaged/pages_to_scan khugepaged/scan_sleep_millisecs \
	khugepaged/alloc_sleep_millisecs khugepaged/max_ptes_none \
	khugepaged/max_ptes_swap khugepaged/max_ptes_shared \
	khugepaged/pages_collapsed khugepaged/full_scans; do
	[ -e "$X/$f" ] || missing="${missing:-} $f"
done
check "mirror_has_every_thp_file${missing:+ # missing:$missing}" test -z "${missing:-}"
rmmod_timed
check "rmmod_removes_sysfs_dir" test ! -e "$X"
check "rmmod_stops_scanner_thread" sh -c '! pgrep -x xhugepaged >/dev/null'
echo "# idle rmmod: $ms ms"

# --- load, unload, load again
rc=0
for i in 1 2 3; do
	insmod "$XHP_KO" || rc=1
	[ -d "$X" ] || rc=1
	rmmod xhugepaged || rc=1
done
check "load_unload_load_three_times" test $rc -eq 0

# --- unload while the event hooks are still arming: the worker stops at
# its next hook and the unload takes off what it armed; the next load
# arms them all again
# (xhp_modcycle --unarmed: each unload microseconds after the load). As
# kretprobes, one code patch each, so that there is a next hook to stop
# at; the default (one fprobe on 6.12: one patch for all) is unloaded
# that way too, and must just come off cleanly.
rc=0
insmod "$XHP_KO" || rc=1
selftests/bin/xhp_modcycle --unarmed "$XHP_KO" 3 0 >/dev/null || rc=1
rmmod xhugepaged || rc=1
dmesg -C
insmod "$XHP_KO" event_hooks=kretprobe || rc=1
selftests/bin/xhp_modcycle --unarmed "$XHP_KO" 3 0 event_hooks=kretprobe >/dev/null || rc=1
rmmod xhugepaged || rc=1
[ ! -e "$X" ] || rc=1
# Arming cut short: fewer of them live than a whole arming gave above.
stopped=$(dmesg | sed -n 's/.*xhugepaged: event hooks: arming stopped by unload, \([0-9]*\) of [0-9]* live.*/\1/p' |
	awk -v all="$live" '$1 < all { n++ } END { print n + 0 }')
insmod "$XHP_KO" || rc=1
n=$(event_hooks_live)
rmmod xhugepaged || rc=1
check "rmmod_while_event_hooks_arm # $stopped of 4 stopped short, then $n live" \
	test $rc -eq 0 -a "$stopped" -ge 1 -a "$n" -eq "$live"

# --- parameters set the initial values
insmod "$XHP_KO" enabled=always pages_to_scan=1234 scan_sleep_millisecs=77 \
	alloc_sleep_millisecs=88 max_ptes_none=7 max_ptes_swap=9 \
	max_ptes_shared=11 scan_order=hot
got=$(cat "$X/enabled" "$XK/pages_to_scan" "$XK/scan_sleep_millisecs" \
	"$XK/alloc_sleep_millisecs" "$XK/max_ptes_none" "$XK/max_ptes_swap" \
	"$XK/max_ptes_shared" "$XK/scan_order" | tr '\n' ' ')
check "params_set_initial_values # $got" \
	test "$got" = "[always] madvise never 1234 77 88 7 9 11 fifo [hot] "
rmmod xhugepaged
insmod "$XHP_KO"
got=$(cat "$XK/pages_to_scan" "$XK/max_ptes_none" "$XK/max_ptes_swap" "$XK/max_ptes_shared" | tr '\n' ' ')
check "defaults_are_khugepaged_defaults # $got" test "$got" = "4096 511 64 256 "
rmmod xhugepaged

# --- a bad parameter fails the load, says why, leaves nothing behind
for bad in enabled=maybe enabled= pages_to_scan=0 pages_to_scan=abc \
	pages_to_scan=12abc pages_to_scan=-1 pages_to_scan=18446744073709551616 \
	max_ptes_none=512 max_ptes_swap=512 max_ptes_shared=512 \
	scan_sleep_millisecs=4294967296 scan_order=cold \
	assume_missing=no_such_symbol event_hooks=kprobe event_hooks= \
	$(xhp_have_fprobe || echo event_hooks=fprobe); do
	param=${bad%%=*}
	dmesg -C
	if insmod "$XHP_KO" "$bad" 2>/dev/null; then
		not_ok "bad_param_fails_insmod $bad # loaded"
		rmmod xhugepaged
		continue
	fi
	if xhp_loaded || [ -e "$X" ]; then
		not_ok "bad_param_fails_insmod $bad # left state behind"
	elif ! dmesg | grep -q "xhugepaged: $param"; then
		not_ok "bad_param_fails_insmod $bad # no message naming $param"
	else
		ok "bad_param_fails_insmod $bad"
	fi
done
check "loads_fine_after_bad_params" insmod "$XHP_KO"
rmmod xhugepaged

# --- a borrowed symbol the kernel lacks (assume_missing= pretends so)
# Optional: the load goes on without its feature and says so. Without
# ftrace_location() the entry hooks' ftrace sites are unknown, so they go
# on the functions themselves, ftrace-based.
dmesg -C
# The event hooks' fprobe needs those sites too: they fall back to
# kretprobes, saying so.
if insmod "$XHP_KO" assume_missing=ftrace_location; then
	via=$(awk '{ print $1 "/" $4 }' "$X/hooks/mm_enter")
	ev_via=$(awk '{ print $1 "/" $4 }' "$X/hooks/split_folio")
	rmmod xhugepaged
	if ! dmesg | grep -q 'xhugepaged: optional kernel symbol ftrace_location not found'; then
		not_ok "missing_optional_symbol_logged_load_goes_on # no log line"
	else
		check "missing_optional_symbol_logged_load_goes_on # mm_enter $via" \
			test "$via" = live/ftrace-kprobe
	fi
	if ! xhp_have_fprobe; then
		skip "no_ftrace_sites_event_hooks_are_kretprobes" "no fprobe on this kernel"
	elif ! dmesg | grep -q 'xhugepaged: event hooks: 8 of 8 without a known ftrace site'; then
		not_ok "no_ftrace_sites_event_hooks_are_kretprobes # no log line"
	else
		check "no_ftrace_sites_event_hooks_are_kretprobes # split_folio $ev_via" \
			test "$ev_via" = live/kretprobe
	fi
else
	not_ok "missing_optional_symbol_logged_load_goes_on # insmod failed"
fi
# Required: the load fails, naming it, and leaves nothing behind.
for sym in madvise_collapse kallsyms_lookup_name; do
	dmesg -C
	if insmod "$XHP_KO" assume_missing=$sym 2>/dev/null; then
		rmmod xhugepaged
		not_ok "missing_required_symbol_fails_load $sym # loaded"
	elif xhp_loaded || [ -e "$X" ]; then
		not_ok "missing_required_symbol_fails_load $sym # left state behind"
	else
		check "missing_required_symbol_fails_load $sym" \
			sh -c "dmesg | grep -q 'xhugepaged: .*$sym.*not found\|xhugepaged: cannot find $sym'"
	fi
done

# --- rmmod mid-pass: the scanner flat out over a large queue, loaded once
# the process has all of it faulted (it says so; a hang bound of 60 s)
ready=$(mktemp -u)
python3 -c 'import mmap, sys, time
ms = []
for i in range(8):
    m = mmap.mmap(-1, 32 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_HUGEPAGE)
    for off in range(0, 32 << 20, 4096 * 7):
        m[off] = 1
    ms.append(m)
open(sys.argv[1], "w").close()
time.sleep(3600)' "$ready" &
big=$!
wait_for '[ -e "$ready" ]' 600
rm -f "$ready"
insmod "$XHP_KO" scan_sleep_millisecs=0 pages_to_scan=4294967295 max_ptes_none=0
sleep 1
worst=0 worst_stop=0
for i in 1 2 3 4 5; do
	rmmod_timed || worst=99999
	[ "$ms" -gt "$worst" ] && worst=$ms
	[ "$stop_ms" -gt "$worst_stop" ] && worst_stop=$stop_ms
	insmod "$XHP_KO" scan_sleep_millisecs=0 pages_to_scan=4294967295 max_ptes_none=0
	sleep 0.3
done
rmmod xhugepaged
kill $big
echo "# rmmod mid-pass, worst of 5: ${worst} ms wall, scanner stopped in ${worst_stop} ms"
check "rmmod_mid_pass_returns # worst ${worst} ms, hang bound ${RMMOD_HANG_MS} ms" \
	test "$worst" -lt "$RMMOD_HANG_MS"
check "rmmod_mid_pass_logs_its_unload_line" test "$worst_stop" -ne 99999

# --- reload while processes fault, fork and exit (at nice 19, so rmmod's
# wall time shows blocking rather than its share of two emulated CPUs).
# Exactly ten cycles, however long they take; the churn runs until told to
# stop (its 600 s is only a backstop) and then verifies its data.
nice -n 19 selftests/bin/xhp_churn 4 600 &
churn=$!
sleep 1
cycles=0 fail=0 worst=0 worst_stop=0 worst_exit=0
while [ $cycles -lt 10 ]; do
	insmod "$XHP_KO" scan_sleep_millisecs=0 pages_to_scan=65536 || { fail=1; break; }
	sleep 0.$((RANDOM % 5 + 1))
	rmmod_timed || { fail=1; break; }
	[ "$ms" -gt "$worst" ] && worst=$ms
	[ "$stop_ms" -gt "$worst_stop" ] && worst_stop=$stop_ms
	[ "$exit_ms" -gt "$worst_exit" ] && worst_exit=$exit_ms
	cycles=$((cycles + 1))
done
churn_alive=0
kill -0 $churn 2>/dev/null && churn_alive=1
kill -TERM $churn 2>/dev/null
wait $churn
churn_rc=$?
echo "# reload under churn, worst of $cycles: rmmod ${worst} ms wall, scanner stopped in ${worst_stop} ms, module exit ${worst_exit} ms"
check "reload_under_churn # $cycles cycles, churn running throughout: $churn_alive" \
	test $fail -eq 0 -a $cycles -eq 10 -a $churn_alive -eq 1
check "reload_under_churn_rmmod_returns # worst ${worst} ms, hang bound ${RMMOD_HANG_MS} ms" \
	test "$worst" -lt "$RMMOD_HANG_MS"
check "reload_under_churn_logs_unload_lines" test "$worst_stop" -ne 99999
check "churn_data_intact_across_reloads" test $churn_rc -eq 0

# --- an exiting mm is let go: its slot disappears. Each step waits for
# its own signal (the process says it advised its area; it exits when its
# file goes), bounded only to catch a hang: a debug kernel can take
# seconds to start python.
insmod "$XHP_KO" scan_sleep_millisecs=100000
before=$(cat "$XK/mm_slots")
ready=$(mktemp -u)
python3 -c 'import mmap, os, sys, time
m = mmap.mmap(-1, 4 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
m[0] = 1
m.madvise(mmap.MADV_HUGEPAGE)
open(sys.argv[1], "w").close()
while os.path.exists(sys.argv[1]):
    time.sleep(0.05)' "$ready" &
py=$!
wait_for '[ -e "$ready" ] && [ "$(cat $XK/mm_slots)" -gt "$before" ]' 600
during=$(cat "$XK/mm_slots")
rm -f "$ready"
wait $py
wait_for '[ "$(cat $XK/mm_slots)" -lt "$during" ]' 600
after=$(cat "$XK/mm_slots")
check "exiting_mm_leaves_queue # mm_slots $before -> $during -> $after" \
	test "$during" -gt "$before" -a "$after" -lt "$during"
rmmod xhugepaged

# --- it finds mms while the native THP "enabled" is never: one that existed
# before insmod and one that appears after, both collapsed by xhugepaged
echo never >$T/enabled
native0=$(cat $T/khugepaged/pages_collapsed)
# huge_proc FILE: its area advised, it creates FILE.
huge_proc() {
	python3 -c 'import mmap, sys, time
m = mmap.mmap(-1, 8 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for off in range(0, 8 << 20, 4096):
    m[off] = 1
m.madvise(mmap.MADV_HUGEPAGE)
open(sys.argv[1], "w").close()
time.sleep(60)' "$1" &
}
anon_huge_kb() { awk '/^AnonHugePages:/ { print $2 }' "/proc/$1/smaps_rollup"; }
# "Existing at load": advised before insmod, however long python takes.
ready=$(mktemp -u)
huge_proc "$ready"
early=$!
wait_for '[ -e "$ready" ]' 600
rm -f "$ready"
insmod "$XHP_KO" scan_sleep_millisecs=100
huge_proc /dev/null
late=$!
wait_for '[ "$(anon_huge_kb $early)" -ge 4096 ] && [ "$(anon_huge_kb $late)" -ge 4096 ]' 300
check "finds_mm_existing_at_load_native_never # AnonHugePages $(anon_huge_kb $early) kB" \
	test "$(anon_huge_kb $early)" -ge 4096
check "finds_new_mm_native_never # AnonHugePages $(anon_huge_kb $late) kB" \
	test "$(anon_huge_kb $late)" -ge 4096
check "native_collapsed_nothing_while_never" \
	test "$(cat $T/khugepaged/pages_collapsed)" -eq "$native0"
kill $early $late
wait $early $late 2>/dev/null
rmmod xhugepaged
echo madvise >$T/enabled
ktap_end
