# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Section "scale" of scripts/bench-guest.sh (sourced from it): scan cost
# out to SCALE_MAX_GIB GiB and 256 processes (khugepaged, xhugepaged fifo
# and hot) and time to collapse out to SCALE_MAX_GIB GiB (khugepaged,
# xhugepaged fifo), every contender in the same boot. 8 GiB does not fit the 4 GiB bench VM: scripts/bench.sh runs
# this section in a boot of its own with SCALE_MAX_GIB + 2 GiB of memory
# (the smoke run's tiny sizes run in the ordinary boot).
# Prints RESULT scale.* lines; scripts/bench/scale-report.sh tabulates them.
# SCALE_PARTS: "scan", "collapse" or both (the default), for a focused run.
SCALE_MAX_GIB=${SCALE_MAX_GIB:-8} SCALE_PARTS=${SCALE_PARTS:-scan collapse}
case $SCALE_MAX_GIB in
'' | *[!0-9]* | 0) echo "bench-guest: SCALE_MAX_GIB must be a whole number of GiB >= 1" >&2; exit 2 ;;
esac
if [ $smoke = 1 ]; then
	# One point per part, two contenders, short measurements: it only
	# proves the machinery (make check runs it), in about 30 s.
	SC_PROCS=1 SC_SIZES="8" SC_PROC_MB=8 SC_COUNTS="1"
	SC_SCANNERS="khugepaged xhp-fifo" SC_SETTLE=0.2 SC_MS=300 SC_ROUNDS=1
	SC_COL_PROCS=2 SC_COL_SIZES="8" SC_COL_TIMEOUT=20
else
	# Size curve at SC_PROCS processes, process curve at SC_PROC_MB MiB.
	SC_PROCS=16 SC_SIZES="512 1024 2048 4096 8192" SC_PROC_MB=1024
	SC_COUNTS="1 16 64 256"
	SC_SCANNERS="khugepaged xhp-fifo xhp-hot" SC_SETTLE=1 SC_MS=10000 SC_ROUNDS=2
	SC_COL_PROCS=16 SC_COL_SIZES="512 2048 8192" SC_COL_TIMEOUT=900
fi
SC_COL_PAGES=16384	# 32 PMDs per wake: 8 GiB collapses in minutes, not an hour
SC_COL_CONTENDERS="khugepaged xhp-fifo"

sc_max_mb=$((SCALE_MAX_GIB * 1024))
sc_sizes='' sc_col_sizes=''
for m in $SC_SIZES; do [ "$m" -le $sc_max_mb ] && sc_sizes="$sc_sizes $m"; done
for m in $SC_COL_SIZES; do [ "$m" -le $sc_max_mb ] && sc_col_sizes="$sc_col_sizes $m"; done
sc_points=''
for m in $sc_sizes; do sc_points="$sc_points $SC_PROCS:$m"; done
for p in $SC_COUNTS; do
	case " $sc_points " in *" $p:$SC_PROC_MB "*) ;; *) sc_points="$sc_points $p:$SC_PROC_MB" ;; esac
done
echo "RESULT scale.max_mb $sc_max_mb"
echo "RESULT scale.size_curve_procs $SC_PROCS"
echo "RESULT scale.procs_curve_mb $SC_PROC_MB"
echo "RESULT scale.collapse_procs $SC_COL_PROCS"
sc_t0=$EPOCHSECONDS

# Polling must not take CPU from the scanner under TCG: nap, thread_pid,
# thread_ticks_of and the workload's gate fork nothing (bench-guest.sh
# sources scripts/bench/workload.sh).
sc_ms() { printf -v "$1" %d $((${EPOCHREALTIME/./} / 1000)); }

# scale_scan KEY CONTENDER: the running contender's CPU over whole passes:
# from one full_scans increment to another at least SC_MS later (the
# counter is polled every 0.1 s), so the figure does not depend on where a
# pass was when the clock started. RESULT KEY.{cpu_ms,passes,wall_ms}.
# sc_next_pass FILE VAR: wait (300 s at most) until the full_scans counter
# in FILE moves, then its value into VAR.
sc_next_pass() {
	local was s i
	read -r was <"$1"
	s=$was
	for ((i = 0; i < 3000 && s == was; i++)); do nap 0.1; read -r s <"$1"; done
	printf -v "$2" %d "$s"
}
scale_scan() {
	local key=$1 c=$2 f pid s0 s1 t0 t1 w0 w1 now i
	case $c in khugepaged) f=$T/khugepaged/full_scans ;; *) f=$XK/full_scans ;; esac
	thread_pid "$(thread_of "$c")" pid
	sc_next_pass $f s0
	thread_ticks_of "$pid" t0
	sc_ms w0
	now=$w0
	for ((i = 0; i < 6000 && now - w0 < SC_MS; i++)); do nap 0.1; sc_ms now; done
	sc_next_pass $f s1
	thread_ticks_of "$pid" t1
	sc_ms w1
	echo "RESULT $key.cpu_ms $(((t1 - t0) * 1000 / hz))"
	echo "RESULT $key.passes $((s1 - s0))"
	echo "RESULT $key.wall_ms $((w1 - w0))"
}

# Scan cost: every point's workload (half-faulted ranges, max_ptes_none=0:
# nothing collapses) is faulted once and scanned by each contender in
# turn, SC_ROUNDS times over (the host's other VMs slow whichever runs at
# the time; scale-report.sh takes each contender's cheapest round);
# khugepaged learns of the mms while the workload advises them (prepare),
# xhugepaged finds them when loaded.
echo "RESULT scale.rounds $SC_ROUNDS"
case " $SCALE_PARTS " in *" scan "*) ;; *) sc_points= ;; esac
case " $SCALE_PARTS " in *" collapse "*) ;; *) sc_col_sizes= ;; esac
for pt in $sc_points; do
	p=${pt%%:*} m=${pt##*:}
	PAGES=65536 SLEEP=100
	prepare khugepaged
	sc_ms f0
	run_workload $W/scale-hold $B hold "$p" "$m" 50
	wait_line $W/scale-hold ready 1800 $wl	# run_workload waits 120 s at most
	sc_ms f1
	echo "RESULT scale.fill_ms.p$p.m$m $((f1 - f0))"
	for r in $(seq $SC_ROUNDS); do
		for c in $SC_SCANNERS; do
			# stop left the kernel's THP at never, which stops
			# khugepaged; its mm slots stay queued
			[ $c = khugepaged ] && echo madvise >$T/enabled
			start $c 0
			nap $SC_SETTLE
			scale_scan scale.scan.$c.p$p.m$m.r$r $c
			[ $c = khugepaged ] ||
				echo "RESULT scale.scan.$c.p$p.m$m.r$r.mm_slots $(cat $XK/mm_slots)"
			stop
		done
	done
	end_workload
	PAGES=4096 SLEEP=200
done

# Time to collapse: SC_COL_PROCS processes hold M MiB in all, fully
# faulted small pages that nobody touches (no sampling either: the
# hot-set workload's smaps reads, 25 per process per second, each walking
# all its page tables, starve a nice-19 scanner long before 8 GiB), once
# per contender (a collapse cannot be undone). From the contender's start
# (the module's load included) until 90% of the PMD ranges are collapsed,
# by its own pages_collapsed, polled every 0.5 s; and its thread's CPU
# time in that span. RESULT scale.collapse.C.mM.{s90,pmds,cpu_ms}.
for m in $sc_col_sizes; do
	want_pmds=$((m / 2 * 9 / 10))
	for c in $SC_COL_CONTENDERS; do
		PAGES=$SC_COL_PAGES
		prepare $c
		run_workload $W/scale-col $B hold $SC_COL_PROCS "$m" 100
		wait_line $W/scale-col ready 1800 $wl
		n0=0
		[ $c = khugepaged ] && n0=$(collapsed khugepaged)
		sc_ms w0
		start $c
		case $c in khugepaged) f=$T/khugepaged/pages_collapsed ;; *) f=$XK/pages_collapsed ;; esac
		thread_pid "$(thread_of $c)" pid
		thread_ticks_of "$pid" t0
		read -r n <$f
		for ((i = 0; i < SC_COL_TIMEOUT * 2 && n - n0 < want_pmds; i++)); do
			nap 0.5
			read -r n <$f
		done
		sc_ms w1
		thread_ticks_of "$pid" t1
		end_workload
		stop
		PAGES=4096
		[ $((n - n0)) -ge $want_pmds ] &&
			echo "RESULT scale.collapse.$c.m$m.s90 $(awk -v d=$((w1 - w0)) 'BEGIN { printf "%.2f", d / 1000 }')"
		echo "RESULT scale.collapse.$c.m$m.pmds $((n - n0))"
		echo "RESULT scale.collapse.$c.m$m.cpu_ms $(((t1 - t0) * 1000 / hz))"
	done
done
echo "RESULT scale.section_s $((EPOCHSECONDS - sc_t0))"
