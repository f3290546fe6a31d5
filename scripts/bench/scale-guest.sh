# SPDX-License-Identifier: GPL-2.0
# Section "scale" of scripts/bench-guest.sh (sourced from it): scan cost
# and hot-set times out to SCALE_MAX_GIB GiB and 256 processes, for
# khugepaged, xhugepaged fifo and xhugepaged hot, every contender in the
# same boot. 8 GiB does not fit the 4 GiB bench VM: scripts/bench.sh runs
# this section in a boot of its own with SCALE_MAX_GIB + 2 GiB of memory
# (the smoke run's tiny sizes run in the ordinary boot).
# Prints RESULT scale.* lines; scripts/bench/scale-report.sh tabulates them.
SCALE_MAX_GIB=${SCALE_MAX_GIB:-8}
case $SCALE_MAX_GIB in
'' | *[!0-9]* | 0) echo "bench-guest: SCALE_MAX_GIB must be a whole number of GiB >= 1" >&2; exit 2 ;;
esac
if [ $smoke = 1 ]; then
	# Three points (the least that gives both growth rows), two scan
	# contenders, short measurements: about 30 s.
	SC_PROCS=1 SC_SIZES="8 16" SC_PROC_MB=8 SC_COUNTS="1 2"
	SC_SCANNERS="khugepaged xhp-fifo" SC_SETTLE=0.2 SC_MS=300
	SC_HOT_PROCS=2 SC_HOT_SIZES="8" SC_HOT_TIMEOUT=20
else
	# Size curve at SC_PROCS processes, process curve at SC_PROC_MB MiB.
	SC_PROCS=16 SC_SIZES="512 1024 2048 4096 8192" SC_PROC_MB=1024
	SC_COUNTS="1 16 64 256"
	SC_SCANNERS="khugepaged xhp-fifo xhp-hot" SC_SETTLE=1 SC_MS=10000
	SC_HOT_PROCS=16 SC_HOT_SIZES="512 2048 8192" SC_HOT_TIMEOUT=900
fi
SC_HOT_PAGES=16384	# 32 PMDs per wake: 8 GiB collapses in minutes, not an hour

sc_max_mb=$((SCALE_MAX_GIB * 1024))
sc_sizes= sc_hot_sizes=
for m in $SC_SIZES; do [ "$m" -le $sc_max_mb ] && sc_sizes="$sc_sizes $m"; done
for m in $SC_HOT_SIZES; do [ "$m" -le $sc_max_mb ] && sc_hot_sizes="$sc_hot_sizes $m"; done
sc_points=
for m in $sc_sizes; do sc_points="$sc_points $SC_PROCS:$m"; done
for p in $SC_COUNTS; do
	case " $sc_points " in *" $p:$SC_PROC_MB "*) ;; *) sc_points="$sc_points $p:$SC_PROC_MB" ;; esac
done
echo "RESULT scale.max_mb $sc_max_mb"
echo "RESULT scale.size_curve_procs $SC_PROCS"
echo "RESULT scale.procs_curve_mb $SC_PROC_MB"
echo "RESULT scale.hot_procs $SC_HOT_PROCS"
sc_t0=$EPOCHSECONDS

# A sleep without a fork (read times out on a FIFO nobody writes): polling
# must not take CPU from the scanner under TCG.
rm -f $W/nap
mkfifo $W/nap
exec {sc_nap_fd}<>$W/nap
sc_nap() { read -r -t "$1" -u $sc_nap_fd _; }
sc_ticks() {	# sc_ticks PID VAR: utime + stime of PID in clock ticks, into VAR
	local -a st
	read -ra st </proc/$1/stat
	printf -v "$2" %d $((st[13] + st[14]))
}
sc_ms() { printf -v "$1" %d $((${EPOCHREALTIME/./} / 1000)); }

# scale_scan KEY CONTENDER: the running contender's CPU over whole passes:
# from one full_scans increment to another at least SC_MS later (the
# counter is polled every 0.1 s), so the figure does not depend on where a
# pass was when the clock started. RESULT KEY.{cpu_ms,passes,wall_ms}.
scale_scan() {
	local key=$1 c=$2 f pid s s0 s1 t0 t1 w0 w1 now i
	case $c in khugepaged) f=$T/khugepaged/full_scans ;; *) f=$XK/full_scans ;; esac
	pid=$(pgrep -x "$(thread_of "$c")" | head -n1)
	read -r s0 <$f
	s=$s0
	for ((i = 0; i < 3000 && s == s0; i++)); do sc_nap 0.1; read -r s <$f; done
	s0=$s
	sc_ticks "$pid" t0
	sc_ms w0
	now=$w0
	for ((i = 0; i < 6000 && now - w0 < SC_MS; i++)); do sc_nap 0.1; sc_ms now; done
	read -r s1 <$f
	s=$s1
	for ((i = 0; i < 3000 && s == s1; i++)); do sc_nap 0.1; read -r s <$f; done
	s1=$s
	sc_ticks "$pid" t1
	sc_ms w1
	echo "RESULT $key.cpu_ms $(((t1 - t0) * 1000 / hz))"
	echo "RESULT $key.passes $((s1 - s0))"
	echo "RESULT $key.wall_ms $((w1 - w0))"
}

# sc_wait_line FILE WORD LIMIT_S: until a line of FILE starts with WORD or
# the workload has exited.
sc_wait_line() {
	local i line
	for ((i = 0; i < $3 * 2; i++)); do
		while read -r line; do
			case $line in "$2" | "$2 "*) return 0 ;; esac
		done <"$1"
		kill -0 $wl 2>/dev/null || return 1
		sc_nap 0.5
	done
	return 1
}

# Scan cost: every point's workload (half-faulted ranges, max_ptes_none=0:
# nothing collapses) is faulted once and scanned by each contender in
# turn; khugepaged learns of the mms while the workload advises them
# (prepare), xhugepaged finds them when loaded.
for pt in $sc_points; do
	p=${pt%%:*} m=${pt##*:}
	PAGES=65536 SLEEP=100
	prepare khugepaged
	sc_ms f0
	run_workload $W/scale-hold $B hold "$p" "$m" 50
	sc_wait_line $W/scale-hold ready 1800	# run_workload waits 120 s at most
	touch $W/go	# hold ignores it; the gate stops polling
	sc_ms f1
	echo "RESULT scale.fill_ms.p$p.m$m $((f1 - f0))"
	for c in $SC_SCANNERS; do
		start $c 0
		sc_nap $SC_SETTLE
		scale_scan scale.scan.$c.p$p.m$m $c
		[ $c = khugepaged ] || echo "RESULT scale.scan.$c.p$p.m$m.mm_slots $(cat $XK/mm_slots)"
		stop
	done
	end_workload
	PAGES=4096 SLEEP=200
done

# Hot set and time to collapse: the hot-set workload (SC_HOT_PROCS
# processes, 4 MiB hot each, M MiB cold in all, fully faulted) at each
# size, once per contender. khugepaged and fifo run until 90% of all
# memory is huge (all90: the time to collapse nearly everything), hot
# until 90% of the hot set is (the rest it collapses at fifo's pace).
for m in $sc_hot_sizes; do
	cold=$((m / SC_HOT_PROCS))
	for c in khugepaged xhp-fifo xhp-hot; do
		PAGES=$SC_HOT_PAGES
		prepare $c
		run_workload $W/scale-hot.$c $B hotset $SC_HOT_PROCS $cold 4 $SC_HOT_TIMEOUT
		sc_wait_line $W/scale-hot.$c ready 1800
		touch $W/go
		start $c
		case $c in
		xhp-hot) sc_wait_line $W/scale-hot.$c hot90 $((SC_HOT_TIMEOUT + 30)) ;;
		*) sc_wait_line $W/scale-hot.$c all90 $((SC_HOT_TIMEOUT + 30)) ;;
		esac
		end_workload
		stop
		PAGES=4096
		echo "RESULT scale.hot90.$c.m$m $(awk '$1 == "hot90" { print $2 }' $W/scale-hot.$c)"
		[ $c = xhp-hot ] ||
			echo "RESULT scale.all90.$c.m$m $(awk '$1 == "all90" { print $2 }' $W/scale-hot.$c)"
	done
done
exec {sc_nap_fd}<&-
echo "RESULT scale.section_s $((EPOCHSECONDS - sc_t0))"
