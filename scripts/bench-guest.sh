#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The benchmarks, inside one VM boot (run by scripts/bench.sh). Prints
# "RESULT key value" and "SERIES contender t hot cold" lines for the host
# to tabulate and plot. Contenders get the same workload and the same knob
# values: the kernel's khugepaged (module unloaded), xhugepaged, and direct
# MADV_COLLAPSE where it applies.
# Usage: bench-guest.sh [--smoke] [SECTION...]
# SECTIONs (default: all, in this order): hot scan idle collapse shmem
# thrash lifetime mglru. Naming some runs only those, for a focused run by hand, e.g.
#   XHP_ACCEL=tcg scripts/vm-run.sh --mem 4G -- scripts/bench-guest.sh lifetime
# hottrace (scripts/bench/hot-timeline.sh) runs only when named.
# scale (scripts/bench/scale-guest.sh) needs SCALE_MAX_GIB + 2 GiB of guest
# memory, so it runs only when named (scripts/bench.sh boots it apart),
# except that --smoke runs its tiny version by default, last.
set -uo pipefail
cd "$(dirname "$0")/.."
. selftests/lib.sh
B=scripts/bench/thpbench
BIN=build/bench-bin	# xhp_churn, xhp_modcycle, xhp_load (scripts/bench/Makefile)
# Run by hand without make bench, a missing build would only give empty rows.
for f in "$XHP_KO" $B $BIN/xhp_churn $BIN/xhp_modcycle $BIN/xhp_load; do
	[ -e "$f" ] || { echo "bench-guest: $f is missing: run make bench (or make module and make -C scripts/bench)" >&2; exit 2; }
done
smoke=0
[ "${1:-}" = --smoke ] && { smoke=1; shift; }
SECTIONS="${*:-hot scan idle collapse shmem thrash lifetime mglru}"
[ $# -eq 0 ] && [ $smoke = 1 ] && SECTIONS="$SECTIONS scale"
for sec in $SECTIONS; do
	case $sec in
	hot | scan | idle | collapse | shmem | thrash | lifetime | mglru | scale | hottrace) ;;
	*) echo "bench-guest: unknown section '$sec'" >&2; exit 2 ;;
	esac
done
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
mkdir -p build/bench-guest
W=build/bench-guest
# run_workload, workload_go, end_workload, nap, wait_line, wait_exit,
# thread_pid, thread_ticks_of: nothing forks while a contender is measured.
. scripts/bench/workload.sh

# Bench sizes (the smoke run only proves the machinery works).
if [ $smoke = 1 ]; then
	HOT_PROCS=2 COLD_MB=8 HOT_MB=2 HOT_TIMEOUT=20
	SCAN_CONFIGS="2:64" SCAN_SECS=2
	IDLE_CFG="2:64" IDLE_PROCS=20
	COLLAPSE_MB=8 COLLAPSE_ROUNDS=1 THRASH_SECS=3
	CYCLES=5
	MGLRU_LIMIT_MB=24 MGLRU_HOT_MB=8 MGLRU_COLD_MB=32 MGLRU_SECS=3 MGLRU_SETTLE=2 MGLRU_ROUNDS=1
else
	HOT_PROCS=8 COLD_MB=64 HOT_MB=4 HOT_TIMEOUT=150
	SCAN_CONFIGS="1:256 8:256 64:256 8:1024 8:1536" SCAN_SECS=15
	IDLE_CFG="8:256" IDLE_PROCS=200
	COLLAPSE_MB=32 COLLAPSE_ROUNDS=4 THRASH_SECS=20
	CYCLES=60
	MGLRU_LIMIT_MB=96 MGLRU_HOT_MB=32 MGLRU_COLD_MB=128 MGLRU_SECS=20 MGLRU_SETTLE=8 MGLRU_ROUNDS=4
fi
PAGES=4096	# pages_to_scan for every contender (the kernel default)
SLEEP=200	# scan_sleep_millisecs, scaled down from 10000 for TCG

xhp_unload_quiet
echo never >$T/enabled

# --- contenders --------------------------------------------------------
# prepare CONTENDER: before the workload starts. khugepaged only learns of
# an mm while its policy is on, so it is on but idle (an hour's sleep, one
# PMD per wake); xhugepaged finds the mms itself when loaded. An
# xhp-*-resident contender is xhugepaged started as khugepaged is: loaded
# here with the knobs start() would give it but an hour's sleep (its first
# round runs now, on an empty queue, and a newly queued mm does not wake
# it), woken by start()'s write of scan_sleep_millisecs.
prepare() {
	xhp_unload_quiet
	echo never >$T/enabled
	echo 0 >$T/khugepaged/max_ptes_none 2>/dev/null
	echo 511 >$T/khugepaged/max_ptes_none
	case $1 in
	khugepaged)
		echo 3600000 >$T/khugepaged/scan_sleep_millisecs
		echo 8 >$T/khugepaged/pages_to_scan
		echo madvise >$T/enabled
		;;
	*-resident) xhp_insmod "${1%-resident}" 511 3600000 ;;
	esac
}
# xhp_order_window CONTENDER: "ORDER WINDOW", its scan_order and
# backoff_window_millisecs.
xhp_order_window() {
	local order=fifo window=0
	case $1 in *hot*) order=hot ;; esac
	case $1 in *backoff-on | *hot-backoff) window=5000 ;; esac
	echo $order $window
}
# xhp_insmod CONTENDER MAX_PTES_NONE SLEEP_MS: load xhugepaged with its knobs,
# with one finit_module() call (xhp_load: the clock of the hot set runs,
# and insmod(8)'s own start-up under TCG is not the module's).
xhp_insmod() {
	local order window
	read -r order window < <(xhp_order_window "$1")
	$BIN/xhp_load "$XHP_KO" enabled=madvise pages_to_scan=$PAGES \
		scan_sleep_millisecs=$3 max_ptes_none=$2 scan_order=$order
	echo $window >$XK/backoff_window_millisecs
}
# start CONTENDER [max_ptes_none]: the same knobs for every one.
start() {
	local none=${2:-511}
	case $1 in
	khugepaged)
		echo $none >$T/khugepaged/max_ptes_none
		echo $PAGES >$T/khugepaged/pages_to_scan
		echo $SLEEP >$T/khugepaged/scan_sleep_millisecs	# wakes it
		;;
	*-resident)
		echo $none >$XK/max_ptes_none
		echo $PAGES >$XK/pages_to_scan
		echo $SLEEP >$XK/scan_sleep_millisecs	# wakes it, as khugepaged
		;;
	xhp-fifo | xhp-hot | xhp-hot-backoff | xhp-backoff-off | xhp-backoff-on)
		xhp_insmod "$1" $none $SLEEP
		;;
	esac
}
stop() {
	xhp_unload_quiet
	echo never >$T/enabled
}
collapsed() {
	case $1 in
	khugepaged) cat $T/khugepaged/pages_collapsed ;;
	*) cat $XK/pages_collapsed ;;
	esac
}
thread_of() { case $1 in khugepaged) echo khugepaged ;; *) echo xhugepaged ;; esac; }
# stat_dir CONTENDER VAR: the directory of its pages_collapsed and full_scans.
stat_dir() { case $1 in khugepaged) printf -v "$2" %s $T/khugepaged ;; *) printf -v "$2" %s $XK ;; esac; }
hz=$(getconf CLK_TCK)

# --- 1. hot set first ----------------------------------------------------
# The clock starts at "go", before start(): for xhp-fifo, xhp-hot and
# xhp-hot-backoff, loading the module counts against xhugepaged; the
# -resident ones were loaded before the workload, as khugepaged is
# resident, and go is only the write that wakes them.
# HOT_CONTENDERS (default: all six) picks some, for a focused run by hand.
want hot && for c in ${HOT_CONTENDERS:-khugepaged xhp-fifo xhp-hot xhp-hot-backoff \
	xhp-fifo-resident xhp-hot-resident}; do
	prepare $c
	run_workload $W/hot.$c $B hotset $HOT_PROCS $COLD_MB $HOT_MB $HOT_TIMEOUT
	workload_go
	start $c
	# hotset exits once all90 is printed, or at its timeout
	wait_exit $wl $((HOT_TIMEOUT + 5))
	end_workload
	stop
	sed -n "s/^sample /SERIES $c /p" $W/hot.$c
	echo "RESULT hot90.$c $(awk '$1 == "hot90" { print $2 }' $W/hot.$c)"
	echo "RESULT all90.$c $(awk '$1 == "all90" { print $2 }' $W/hot.$c)"
done

# hottrace (scripts/bench/hot-timeline.sh): the hot set with bpftrace on,
# to attribute its time; only when named.
want hottrace && . scripts/bench/hot-timeline.sh

# --- 2. scan cost: nothing collapses (max_ptes_none=0, half-full ranges) --
# Big batches and short sleeps for both, so that even the largest workload
# gets several full passes in SCAN_SECS (CPU time is counted in 10 ms ticks).
# scan_cost KEY CONTENDER PROCS MB: one measurement, RESULT KEY.{cpu_ms,
# passes,collapses,mm_slots,forks} (mm_slots: the contender's queue length;
# forks: tasks the guest created while it was measured, the harness's
# own none).
scan_cost() {
	local key=$1 c=$2 procs=$3 mb=$4 pid d t0 t1 s0 s1 c0 c1 f0 f1 slots=-1
	PAGES=65536 SLEEP=100
	prepare $c
	run_workload $W/hold $B hold "$procs" "$mb" 50
	start $c 0
	thread_pid "$(thread_of $c)" pid
	stat_dir $c d
	nap 1
	# From here to t1 only builtins run (scripts/bench/workload.sh).
	forks_so_far f0
	thread_ticks_of "$pid" t0
	read -r s0 <$d/full_scans
	read -r c0 <$d/pages_collapsed
	nap $SCAN_SECS
	thread_ticks_of "$pid" t1
	read -r s1 <$d/full_scans
	read -r c1 <$d/pages_collapsed
	forks_so_far f1
	[ $c = khugepaged ] || read -r slots <$XK/mm_slots
	end_workload
	stop
	PAGES=4096 SLEEP=200
	echo "RESULT $key.cpu_ms $(( (t1 - t0) * 1000 / hz ))"
	echo "RESULT $key.passes $((s1 - s0))"
	echo "RESULT $key.collapses $((c1 - c0))"
	[ "$c" = khugepaged ] || echo "RESULT $key.mm_slots $slots"
	echo "RESULT $key.forks $((f1 - f0))"
}
want scan && for cfg in $SCAN_CONFIGS; do
	procs=${cfg%%:*} mb=${cfg##*:}
	for c in khugepaged xhp-fifo; do
		scan_cost scan.$c.p$procs.m$mb $c "$procs" "$mb"
	done
done

# --- 2b. scan cost beside idle, unrelated processes --------------------------
# The same measurement with IDLE_PROCS processes that hold small-page memory
# no rule allows a THP (never advised, enabled=madvise), started before the
# contender; each contender is measured without and with them, back to back.
if want idle; then
	procs=${IDLE_CFG%%:*} mb=${IDLE_CFG##*:}
	echo "RESULT idle.procs $IDLE_PROCS"
	echo "RESULT idle.mb $mb"
	for c in khugepaged xhp-fifo; do
		scan_cost idle.$c.i0 $c "$procs" "$mb"
		run_workload $W/idle.out $B idle $IDLE_PROCS
		idle_pid=$wl
		scan_cost idle.$c.i$IDLE_PROCS $c "$procs" "$mb"
		end_workload $idle_pid
	done
fi

# --- 3. collapse cost, 3b. shmem collapse cost ---------------------------------
# TCG translates kernel code the first time it runs: warm the collapse path
# up first, or whichever contender goes first pays for the translation.
# Then COLLAPSE_ROUNDS rounds, each the scanner's collapse of COLLAPSE_MB
# and, right after, the process's own MADV_COLLAPSE of the same: the host
# (other VMs on shared cores) slows whatever runs at the time, so the two
# alternate rather than run one after the other.
# collapse_rounds KEY: RESULT KEY.* lines. KEY collapse: anonymous memory,
# queued by the module's enabled=madvise. KEY shmem: a memfd faulted with
# small pages (the kernel's own shmem policy never, so faults stay small),
# queued by the module's shmem_enabled=advise; each round's pair is printed
# too, for the spread between rounds.
# thread_runtime_ns PID VAR: its CPU time in ns (/proc/PID/schedstat), the
# clock that the direct caller's CLOCK_THREAD_CPUTIME_ID reads; utime +
# stime in /proc/PID/stat come in 10 ms ticks, 0.7% less over a round.
thread_runtime_ns() {
	local ns=0
	read -r ns _ <"/proc/$1/schedstat" 2>/dev/null || ns=0
	printf -v "$2" %d "$ns"
}
collapse_rounds() {
	local key=$1 r pid n0 c0 e0 c1 e1 n waited xpmds=0 xcpu=0 xns=0 dns=0 dcpu=0
	local tot=$X/events/madvise_collapse/total_ns direct out knob on native=
	local -a workload params=()
	case $key in
	collapse)
		direct=madvcollapse out=$W/madv.out knob=enabled on=madvise
		workload=("$W/hold" "$B" hold 1 "$COLLAPSE_MB" 100)
		;;
	shmem)
		direct=shmemcollapse out=$W/shmadv.out knob=shmem_enabled on=advise
		workload=("$W/shmhold" "$B" shmemhold "$COLLAPSE_MB")
		params=(shmem_enabled=never)
		native=$(sed 's/.*\[\(.*\)\].*/\1/' $T/shmem_enabled)
		echo never >$T/shmem_enabled
		;;
	esac
	$B $direct 16 >/dev/null
	# Nothing of ours may run beside the scanner that does not run beside
	# the direct caller (which runs alone): run_workload's gate and the
	# polls below fork nothing (scripts/bench/workload.sh says why).
	for r in $(seq $COLLAPSE_ROUNDS); do
		prepare xhp-fifo
		run_workload "${workload[@]}"
		# Loaded idle, then the write of $knob queues the workload (a
		# write to it walks the task list) and starts the clock.
		insmod "$XHP_KO" enabled=never "${params[@]}" \
			pages_to_scan=$PAGES scan_sleep_millisecs=$SLEEP \
			max_ptes_none=511 scan_order=fifo
		xhp_events_armed	# $tot counts from here
		n0=$(cat $XK/pages_collapsed)
		thread_pid xhugepaged pid
		thread_runtime_ns "$pid" c0
		read -r e0 <$tot
		echo $on >$X/$knob
		# Poll once a second, without a fork (above).
		n=$n0 waited=0
		while read -r n <$XK/pages_collapsed &&
			[ $((n - n0)) -lt $((COLLAPSE_MB / 2)) ] && [ $waited -lt 300 ]; do
			nap 1
			waited=$((waited + 1))
		done
		echo never >$X/$knob
		# total_ns counts every caller's calls: only the scanner's run now.
		read -r e1 <$tot
		thread_runtime_ns "$pid" c1
		xns=$((xns + e1 - e0))
		xcpu=$((xcpu + c1 - c0))
		xpmds=$((xpmds + n - n0))
		end_workload
		stop
		# The same layout collapsed by the process itself, right after,
		# with the module unloaded.
		$B $direct $COLLAPSE_MB >$out
		if [ $key = shmem ]; then
			[ $((n - n0)) -gt 0 ] &&
				echo "RESULT shmem.r$r.xhp_ns_per_pmd $(((e1 - e0) / (n - n0)))" &&
				echo "RESULT shmem.r$r.xhp_cpu_ns_per_pmd $(((c1 - c0) / (n - n0)))"
			sed -n "s/^madv_\(.*\)_per_pmd /RESULT shmem.r$r.direct_\1_per_pmd /p" $out
		fi
		dns=$((dns + $(awk '$1 == "madv_ns_per_pmd" { print $2 }' $out)))
		dcpu=$((dcpu + $(awk '$1 == "madv_cpu_ns_per_pmd" { print $2 }' $out)))
	done
	[ -z "$native" ] || echo "$native" >$T/shmem_enabled
	echo "RESULT $key.rounds $COLLAPSE_ROUNDS"
	echo "RESULT $key.xhp.pmds $xpmds"
	echo "RESULT $key.xhp.madvise_collapse_ns $xns"
	# The scanner thread's CPU time while the rounds ran (its scanning included).
	echo "RESULT $key.xhp.thread_cpu_ms $((xcpu / 1000000))"
	echo "RESULT $key.direct.madv_ns_per_pmd $((dns / COLLAPSE_ROUNDS))"
	echo "RESULT $key.direct.madv_cpu_ns_per_pmd $((dcpu / COLLAPSE_ROUNDS))"
	[ $key = shmem ] || $B copy | sed 's/^/RESULT collapse.floor./'
}
want collapse && collapse_rounds collapse
want shmem && collapse_rounds shmem

# --- 4. anti-thrash: ranges split every 150 ms -------------------------------
want thrash && for c in khugepaged xhp-backoff-off xhp-backoff-on; do
	prepare $c
	c0=0
	[ $c = khugepaged ] && c0=$(collapsed khugepaged)
	split0=$(awk '$1 == "thp_split_pmd" { print $2 }' /proc/vmstat)
	run_workload $W/thrash.$c $B thrash 4 $THRASH_SECS 150
	# thrash reads no stdin: it runs THRASH_SECS from its "ready".
	start $c
	[ $c != khugepaged ] && c0=0
	wait_exit $wl $((THRASH_SECS + 30))
	end_workload
	c1=$(collapsed $c)
	echo "RESULT thrash.$c.collapses $((c1 - c0))"
	[ $c != khugepaged ] && echo "RESULT thrash.$c.backoff_skipped $(cat $XK/backoff_skipped)"
	echo "RESULT thrash.$c.splits $(( $(awk '$1 == "thp_split_pmd" { print $2 }' /proc/vmstat) - split0 ))"
	stop
done
# --- 5. module lifetime: insmod and rmmod latency under churn -------------
# CYCLES unloads and loads (the finit_module and delete_module calls
# themselves, timed by xhp_modcycle) while xhp_churn's 4 workers map,
# fault, fork, split and exit, at nice 19 as in the module's own reload
# test. Nearest-rank percentiles over the cycles.
if want lifetime; then
	xhp_unload_quiet
	echo never >$T/enabled
	insmod "$XHP_KO" enabled=madvise pages_to_scan=$PAGES scan_sleep_millisecs=$SLEEP
	nice -n 19 $BIN/xhp_churn 4 $((CYCLES * 20 + 300)) >$W/churn.out 2>&1 &
	churn=$!
	sleep 2
	$BIN/xhp_modcycle "$XHP_KO" $CYCLES 200 enabled=madvise pages_to_scan=$PAGES \
		scan_sleep_millisecs=$SLEEP >$W/modcycle.out 2>&1
	echo "RESULT lifetime.cycles_ok $?"
	kill -TERM $churn 2>/dev/null
	wait $churn
	echo "RESULT lifetime.churn_rc $?"
	stop
	echo "RESULT lifetime.cycles $(grep -c '^cycle ' $W/modcycle.out)"
	sed -n 's/^cycle \([0-9]*\) rmmod_ms \([0-9]*\) insmod_ms \([0-9]*\) armed_ms \([0-9]*\)$/CYCLE \1 \2 \3 \4/p' $W/modcycle.out
	for op in rmmod insmod armed; do
		awk -v op="${op}_ms" '$1 == "cycle" { for (i = 3; i < NF; i++) if ($i == op) print $(i + 1) }' \
			$W/modcycle.out | sort -n | awk -v op=$op '
			{ v[NR] = $1 }
			END {
				if (!NR) exit
				split("50 90 99", ps)
				for (k = 1; k <= 3; k++) {
					r = int((ps[k] * NR + 99) / 100)
					printf "RESULT lifetime.%s_ms.p%s %d\n", op, ps[k], v[r]
				}
				printf "RESULT lifetime.%s_ms.worst %d\n", op, v[NR]
			}'
	done
fi
# --- 6. hot-first under memory pressure, multi-gen LRU on -------------------
. scripts/bench/mglru.sh
want mglru && mglru_section
# --- 7. scale: scripts/bench/scale-guest.sh --------------------------------
want scale && . scripts/bench/scale-guest.sh
echo "RESULT done 1"
