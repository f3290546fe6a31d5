#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Where a collapse's time goes, xhugepaged's scanner thread against a
# process calling MADV_COLLAPSE itself: bpftrace times each part of the
# engine and of the scanner's own work, per caller and nice level (comm
# xhugepaged or thpbench, static priority 120 + nice), and how much of the
# time inside madvise_collapse() the caller spent off the CPU, preempted
# (runnable) or blocked. The scanner collapses MB of one process twice,
# at its own MAX_NICE and reniced to 0; then the process collapses the
# same layout itself, one PMD per call. Runs in the VM:
#   XHP_ACCEL=tcg scripts/vm-run.sh --mem 4G -- scripts/bench/collapse-profile.sh [MB]
#   ... scripts/bench/collapse-profile.sh --offcpu [COMMAND...]
# Times are ns: count, average and total per call.
#
# With --offcpu it runs each COMMAND instead (default: the benchmark's own
# collapse section, scripts/bench-guest.sh collapse) under ftrace, which
# attaches at once where bpftrace takes minutes of guest time: the
# scheduler's switches and wake-ups, the kernel stack of every switch away
# from a collapser (comm xhugepaged or thpbench), the module's loads and
# unloads, and kprobes on the entry and return of madvise_collapse() and
# of the parts of it in XHP_OFFCPU_FNS for the collapsers; a trace marker
# before each COMMAND. It prints the trace
# between "=== TRACE BEGIN" and "=== TRACE END"; on the host,
# scripts/bench/collapse-offcpu.py LOG tells, per contender, which tasks
# ran while it was inside the engine, on its vCPU or the other, and how
# long and where (kernel stack) it was off its CPU, preempted or blocked:
#   XHP_ACCEL=tcg scripts/vm-run.sh --icount 3 --cpus 1 -- \
#	scripts/bench/collapse-profile.sh --offcpu >LOG
#   scripts/bench/collapse-offcpu.py LOG
set -uo pipefail
cd "$(dirname "$0")/../.."
. selftests/lib.sh
B=scripts/bench/thpbench
W=build/bench-guest
mkdir -p $W
# run_workload, end_workload, nap, wait_line: nothing forks beside the scanner.
. scripts/bench/workload.sh

offcpu() {
	local tr=/sys/kernel/tracing e cmd rc=0
	[ $# -gt 0 ] || set -- "scripts/bench-guest.sh collapse"
	echo 0 >$tr/tracing_on
	echo global >$tr/trace_clock	# one clock for every vCPU
	echo 65536 >$tr/buffer_size_kb
	echo 'p:xhp_prof_mc madvise_collapse' >>$tr/kprobe_events &&
		echo 'r:xhp_prof_mcr madvise_collapse ret=$retval' >>$tr/kprobe_events || return 1
	# Parts of the engine, timed the same way (entry and return).
	for f in ${XHP_OFFCPU_FNS:-collapse_huge_page alloc_charge_folio \
		__collapse_huge_page_isolate __collapse_huge_page_copy \
		lru_add_drain_all pmdp_collapse_flush flush_tlb_mm_range}; do
		grep -qE "[[:space:]]$f([[:space:]]|\$)" /proc/kallsyms ||
			{ echo "# $f: not in kallsyms (inlined), not timed"; continue; }
		echo "p:xhp_prof_e_$f $f" >>$tr/kprobe_events &&
			echo "r:xhp_prof_x_$f $f" >>$tr/kprobe_events ||
			echo "# $f: no kprobe"
	done
	for e in $tr/events/kprobes/xhp_prof_*; do
		echo 'comm == "xhugepaged" || comm == "thpbench"' >$e/filter
		echo 1 >$e/enable
	done
	for e in sched/sched_switch sched/sched_wakeup module/module_load module/module_free; do
		echo 1 >$tr/events/$e/enable
	done
	echo 'stacktrace if prev_comm == "xhugepaged" || prev_comm == "thpbench"' \
		>$tr/events/sched/sched_switch/trigger
	echo >$tr/trace
	echo 1 >$tr/tracing_on
	for cmd in "$@"; do
		echo "mark: $cmd" >$tr/trace_marker
		$cmd || rc=$?
	done
	echo 0 >$tr/tracing_on
	echo "# trace buffer overruns: $(awk '/^overrun/ { printf "%s ", $2 }' $tr/per_cpu/cpu*/stats)"
	echo "=== TRACE BEGIN"
	cat $tr/trace
	echo "=== TRACE END"
	echo '!stacktrace if prev_comm == "xhugepaged" || prev_comm == "thpbench"' \
		>$tr/events/sched/sched_switch/trigger
	echo 0 >$tr/events/enable
	echo >$tr/kprobe_events
	return $rc
}
if [ "${1:-}" = --offcpu ]; then
	shift
	offcpu "$@"
	exit
fi

MB=${1:-128}
xhp_unload_quiet
echo never >$T/enabled

# TCG translates the collapse path the first time it runs: warm it up.
$B madvcollapse 16 >/dev/null
# Loaded idle (enabled=never) so that bpftrace finds its functions; each
# round's write of madvise queues that round's workload.
insmod "$XHP_KO" enabled=never pages_to_scan=4096 scan_sleep_millisecs=200 max_ptes_none=511

fns=${XHP_PROFILE_FNS:-"madvise_collapse lru_add_drain_all hpage_collapse_scan_pmd
collapse_huge_page alloc_charge_folio __alloc_pages_noprof __mem_cgroup_charge
__collapse_huge_page_isolate __collapse_huge_page_copy copy_mc_enhanced_fast_string
flush_tlb_mm_range pmdp_collapse_flush xhp_judge_pmd xhp_collapse_batch"}
prog='BEGIN { @pid = 0; }'
for f in $fns; do
	grep -qE "[[:space:]]$f([[:space:]]|\$)" /proc/kallsyms ||
		{ echo "# $f: not in kallsyms (inlined), not timed"; continue; }
	prog+="
kprobe:$f /comm == \"xhugepaged\" || comm == \"thpbench\"/ { @s_$f[tid] = nsecs; }
kretprobe:$f /@s_$f[tid]/ { @ns[comm, curtask->static_prio, \"$f\"] = stats(nsecs - @s_$f[tid]); delete(@s_$f[tid]); }"
done
# Off-CPU time inside madvise_collapse(): state 0 = preempted, else blocked.
prog+='
tracepoint:sched:sched_switch /@s_madvise_collapse[args->prev_pid]/ {
	@off[args->prev_pid] = nsecs; @offstate[args->prev_pid] = args->prev_state;
	@offprio[args->prev_pid] = curtask->static_prio; }
tracepoint:sched:sched_switch /@off[args->next_pid]/ {
	@mc_off_ns[args->next_comm, @offprio[args->next_pid], @offstate[args->next_pid] == 0 ? "preempted" : "blocked"] =
		stats(nsecs - @off[args->next_pid]);
	delete(@off[args->next_pid]); delete(@offstate[args->next_pid]); delete(@offprio[args->next_pid]); }'
echo "$prog" >$W/collapse-profile.bt
bpftrace $W/collapse-profile.bt >$W/profile.out 2>&1 &
bt=$!
wait_line $W/profile.out Attaching 60 $bt
nap 3

# round NICE: the scanner collapses MB held by one process.
round() {
	local pid n0 c0 c1 t0 t1 n waited=0
	thread_pid xhugepaged pid
	[ "$1" = max ] || renice -n "$1" -p "$pid" >/dev/null
	# Nothing forks beside the scanner (scripts/bench/workload.sh says why).
	run_workload $W/hold.out $B hold 1 "$MB" 100
	read -r n0 <$XK/pages_collapsed
	read -r c0 _ </proc/$pid/schedstat
	t0=${EPOCHREALTIME/./}
	echo madvise >$X/enabled
	while read -r n <$XK/pages_collapsed && [ $((n - n0)) -lt $((MB / 2)) ] && [ $waited -lt 600 ]; do
		nap 1
		waited=$((waited + 1))
	done
	t1=${EPOCHREALTIME/./}
	echo never >$X/enabled
	read -r c1 _ </proc/$pid/schedstat
	echo "scanner nice $1: $((n - n0)) PMDs, $(( (t1 - t0) / 1000 )) ms wall (1 s polls), thread CPU $(( (c1 - c0) / 1000000 )) ms"
	end_workload
}
round max
round 0
# The same engine called directly, one PMD per call.
$B madvcollapse "$MB"
kill -INT $bt
wait $bt
cat $W/profile.out
rmmod xhugepaged
