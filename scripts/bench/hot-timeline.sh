# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Section hottrace of scripts/bench-guest.sh (sourced; named only, never in
# make bench): the hot-set workload of section hot, one contender at a time
# (HOT_TRACE_CONTENDERS, default "xhp-hot xhp-hot-resident"), with bpftrace
# attached before go, so that the time from go to the last hot PMD can be
# attributed. Every probe is on the kernel (schedule_timeout, sched_switch,
# madvise_collapse, collapse_huge_page, lru_add_drain_all, finit_module),
# so the trace also covers a contender that is loaded only after go; a
# resident contender adds the module's own xhp_hot_sweep (hot ranges found)
# and xhp_hot_prime (an mm's first, priming, hot visit).
# Prints, on the workload's clock (ms since go):
#   TL CONTENDER insmod BEGIN_MS END_MS
#   TL CONTENDER round N START_MS END_MS oncpu_ms preempted_ms blocked_ms
#      wake_delay_ms found primes hot_pmds hot_ms cold_pmds cold_ms drain_ms
#      sweeps
#   (a round runs from the end of one scan sleep to the start of the next;
#   wake_delay: from the wakeup that ended the sleep to running; found: hot
#   ranges the sweep reported; hot_/cold_pmds: PMD ranges given to the
#   engine inside the hot / a cold VMA (told apart by its size, HOT_MB),
#   and the engine's wall time for them)
#   TL CONTENDER collapse T_MS hot|cold NR_PMDS MS RET
#   TL CONTENDER hot90 T_MS, TL CONTENDER last_hot_collapse T_MS
# Run by hand, e.g.
#   XHP_ACCEL=tcg scripts/vm-run.sh --icount 3 --mem 4G -- scripts/bench-guest.sh hottrace

# hot_trace_prog RESIDENT: the bpftrace program.
hot_trace_prog() {
	local hz j_scan j_park
	# A round ends at the scanner's schedule_timeout() of SLEEP ms (or of
	# the hour a resident contender is parked for), in jiffies.
	hz=$(sed -n 's/^CONFIG_HZ=//p' /boot/config-"$(uname -r)")
	j_scan=$(((SLEEP * ${hz:-250} + 999) / 1000))
	j_park=$((3600000 * ${hz:-250} / 1000))
	cat <<BT
BEGIN { @insleep = $1; @n = 0; @offt = 0; printf("ATTACHED\\n"); }
tracepoint:syscalls:sys_enter_finit_module { printf("EV %lld insmod_begin\\n", nsecs); }
tracepoint:syscalls:sys_exit_finit_module { printf("EV %lld insmod_end\\n", nsecs); }
kprobe:schedule_timeout /comm == "xhugepaged" && (arg0 == $j_scan || arg0 == $j_park)/ {
	if (@n > 0) {
		printf("RD %d %lld %lld %lld %lld %lld %d %d %d %lld %d %lld %lld %d\\n",
		       @n, @rstart, nsecs, @preempt, @block, @wakelat, @found,
		       @primes, @hotn, @hotns, @coldn, @coldns, @drainns, @sweeps);
	}
	@insleep = 1;
}
tracepoint:sched:sched_wakeup /args->comm == "xhugepaged"/ { @wake = nsecs; }
tracepoint:sched:sched_switch /args->prev_comm == "xhugepaged"/ {
	@offt = nsecs; @offstate = args->prev_state;
}
/*
 * A round begins when the thread runs again after the scan sleep (no
 * kretprobe on schedule_timeout: every sleeper in the system would hold
 * one of its few instances), or at its first run when loaded after go.
 */
tracepoint:sched:sched_switch /args->next_comm == "xhugepaged" && (@insleep || @n == 0)/ {
	@wakelat = @insleep && @wake ? nsecs - @wake : 0;
	@insleep = 0; @n++; @rstart = nsecs; @offt = 0;
	@preempt = 0; @block = 0; @found = 0; @primes = 0; @sweeps = 0;
	@hotn = 0; @hotns = 0; @coldn = 0; @coldns = 0; @drainns = 0;
}
tracepoint:sched:sched_switch /args->next_comm == "xhugepaged" && @offt/ {
	if ((@offstate & 0xff) == 0) {	/* preempted, or a runnable yield */
		@preempt += nsecs - @offt;
	} else {
		@block += nsecs - @offt;
	}
	@offt = 0;
}
kprobe:madvise_collapse /comm == "xhugepaged"/ {
	\$v = (struct vm_area_struct *)arg0;
	@mct = nsecs;
	@mchot = (\$v->vm_end - \$v->vm_start) == $((HOT_MB << 20));
	@mcnr = (arg3 - arg2) >> 21;
}
kretprobe:madvise_collapse /comm == "xhugepaged" && @mct/ {
	\$d = nsecs - @mct;
	if (@mchot) { @hotn += @mcnr; @hotns += \$d; }
	else { @coldn += @mcnr; @coldns += \$d; }
	printf("MC %lld %s %d %lld %d\\n", @mct, @mchot ? "hot" : "cold", @mcnr, \$d, retval);
	@mct = 0;
}
kprobe:lru_add_drain_all /comm == "xhugepaged"/ { @drt = nsecs; }
kretprobe:lru_add_drain_all /comm == "xhugepaged" && @drt/ { @drainns += nsecs - @drt; @drt = 0; }
BT
	[ "$1" = 1 ] || return 0
	cat <<BT
kretprobe:xhp_hot_sweep { @found += retval; @sweeps++; }
kprobe:xhp_hot_prime { @primes++; }
BT
}

# hot_timeline CONTENDER
hot_timeline() {
	local c=$1 resident=0 bt out
	out=$W/hottrace.$c
	case $c in *-resident) resident=1 ;; esac
	prepare "$c"
	run_workload $W/hot.$c $B hotset $HOT_PROCS $COLD_MB $HOT_MB $HOT_TIMEOUT
	hot_trace_prog $resident >$W/hottrace.bt
	bpftrace --no-warnings $W/hottrace.bt >$out 2>&1 &
	bt=$!
	wait_line $out ATTACHED 600 $bt || { echo "hottrace: bpftrace did not attach:" >&2; cat $out >&2; }
	workload_go
	start "$c"
	# hotset exits once all90 is printed, or at its timeout
	wait_exit $wl $((HOT_TIMEOUT + 5))
	end_workload
	kill -INT $bt 2>/dev/null
	wait $bt
	stop
	awk -v c="$c" '
	FNR == NR { if ($1 == "go_ns") go = $2; if ($1 == "hot90") h90 = $2
		if ($1 == "sample") endt = go + ($2 + 0.5) * 1e9; next }
	function ms(t) { return sprintf("%.0f", (t - go) / 1e6) }
	$1 == "EV" && $3 == "insmod_begin" { ib = $2 }
	$1 == "EV" && $3 == "insmod_end" { printf "TL %s insmod %s %s\n", c, ms(ib), ms($2) }
	$1 == "MC" { printf "TL %s collapse %s %s %d %.0f %d\n", c, ms($2), $3, $4, $5 / 1e6, $6
		if ($3 == "hot") last = $2 + $5 }
	# the rounds that ended after go and began before the workload did
	$1 == "RD" && $4 > go && $3 < endt {
		printf "TL %s round %d %s %s %.0f %.0f %.0f %.0f %d %d %d %.0f %d %.0f %.0f %d\n", c, $2,
			ms($3), ms($4), ($4 - $3 - $5 - $6) / 1e6, $5 / 1e6, $6 / 1e6, $7 / 1e6, $8, $9,
			$10, $11 / 1e6, $12, $13 / 1e6, $14 / 1e6, $15 }
	END { printf "TL %s hot90 %.0f\nTL %s last_hot_collapse %s\n", c, h90 * 1000, c, last ? ms(last) : "-" }
	' $W/hot.$c $out
	grep -vE '^(EV|RD|MC|ATTACHED|Attaching|@)' $out | grep -v '^$' | sed 's/^/# hottrace bpftrace: /' | head -20
	[ -z "${HOT_TRACE_RAW:-}" ] || sed 's/^/# raw: /' $out
}

for c in ${HOT_TRACE_CONTENDERS:-xhp-hot xhp-hot-resident}; do
	hot_timeline "$c"
done
