# SPDX-License-Identifier: GPL-2.0
# Section mglru of scripts/bench-guest.sh (sourced there, run in the VM):
# does scan_order=hot's use of the non-leaf PMD accessed bit hurt reclaim
# under the multi-gen LRU, which reads and clears the same bit?
#
# One memory cgroup (memory.max MGLRU_LIMIT_MB, swap on zram) runs two
# processes, so that hot and cold pages meet on one LRU: xhp_mglru hot
# (MGLRU_HOT_MB written over and over) and xhp_mglru cold (MGLRU_COLD_MB
# walked page by page, round and round, so that the cgroup stays at its
# limit and reclaim never stops). Neither set can be collapsed (one hole
# per 2 MiB, max_ptes_none=0): the contenders differ only in what their
# scanner does to page tables. Contenders: the module unloaded (native THP
# never: nothing scans), xhugepaged fifo and xhugepaged hot, with the knobs
# of the other sections; MGLRU_ROUNDS rounds, each contender once per
# round, the order rotated every round. Per round and contender, over
# MGLRU_SECS of the hot loop (after MGLRU_SETTLE seconds):
#   RESULT mglru.CONTENDER.rROUND.hot_majflt	the hot process's major faults
#	(getrusage): swap-ins of hot pages that reclaim took, the hot set's
#	refaults;
#   ....hot_touches_per_s	the hot loop's page writes per second;
#   ....cold_majflt	the cold process's major faults;
#   ....cg_refault, cg_majflt, cg_pgscan, cg_pgsteal	the cgroup's
#	memory.stat workingset_refault_anon, pgmajfault, pgscan, pgsteal
#	(hot and cold together);
#   ....hot_ranges	hot ranges the sweep reported (xhugepaged only).
# The host (scripts/bench/mglru-rows.sh) sums the rounds.
# mglru_walk_stats KEY: the aging walk's counts for the newest generation of
# the cgroup (debugfs lru_gen_full, one generation's worth: without
# CONFIG_LRU_GEN_STATS it keeps no history): leaf PTEs looked at (T) and
# found young (Y), PTE tables walked (F: their PMD entry young and in the
# Bloom filter) and added to the next filter (A).
mglru_walk_stats() {
	local f=/sys/kernel/debug/lru_gen_full
	[ -r $f ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	[ -r $f ] || return 0
	awk -v key="$1" '$1 == "memcg" { ours = $3 == "/xhp-mglru" }
		ours && $NF ~ /^[0-9]+A$/ {
			for (i = 1; i <= NF; i++) {
				n = $i; sub(/[A-Z]$/, "", n); t = substr($i, length($i))
				if (t == "T") v["walk_leaf_total"] += n
				if (t == "Y") v["walk_leaf_young"] += n
				if (t == "F") v["walk_tables"] += n
				if (t == "A") v["walk_tables_added"] += n
			}
		}
		END { for (k in v) printf "RESULT %s.%s %d\n", key, k, v[k] }' $f
}

mglru_section() {
	local cg=/sys/fs/cgroup/xhp-mglru lru r c order hot_pid cold_pid key k
	local contenders="unloaded xhp-fifo xhp-hot" stats="workingset_refault_anon pgmajfault pgscan pgsteal"
	local -A s0
	lru=$(cat /sys/kernel/mm/lru_gen/enabled 2>/dev/null || echo none)
	echo "RESULT mglru.lru_gen_enabled $lru"
	# Every capability on: 0x0007 (the aging walk clears non-leaf bits).
	[ "$lru" = 0x0007 ] || echo "bench-guest: mglru: lru_gen/enabled is $lru, not 0x0007" >&2
	xhp_swap_on || { echo "bench-guest: mglru: no swap on zram" >&2; return 1; }
	grep -q cgroup2 /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	echo "RESULT mglru.limit_mb $MGLRU_LIMIT_MB"
	echo "RESULT mglru.hot_mb $MGLRU_HOT_MB"
	echo "RESULT mglru.cold_mb $MGLRU_COLD_MB"
	echo "RESULT mglru.secs $MGLRU_SECS"
	echo "RESULT mglru.rounds $MGLRU_ROUNDS"
	stat_of() { awk -v k="$1" '$1 == k { print $2 }' $cg/memory.stat; }
	for r in $(seq "$MGLRU_ROUNDS"); do
		order=$contenders
		for _ in $(seq $((r - 1))); do
			order="${order#* } ${order%% *}"
		done
		for c in $order; do
			stop
			rmdir $cg 2>/dev/null
			mkdir -p $cg
			echo $((MGLRU_LIMIT_MB << 20)) >$cg/memory.max
			# exec in the cgroup: the new mm joins its MGLRU mm list. The
			# hot set first, faulted and in its loop before the cold walk
			# makes the pressure.
			sh -c "echo \$\$ >$cg/cgroup.procs && exec $BIN/xhp_mglru hot $MGLRU_HOT_MB $MGLRU_SECS" \
				>$W/mglru.hot 2>&1 &
			hot_pid=$!
			wait_for "grep -q ready $W/mglru.hot" 3000
			sh -c "echo \$\$ >$cg/cgroup.procs && exec $BIN/xhp_mglru cold $MGLRU_COLD_MB" \
				>$W/mglru.cold 2>&1 &
			cold_pid=$!
			wait_for "grep -q ready $W/mglru.cold" 3000 ||
				echo "bench-guest: mglru: workload not ready" >&2
			[ $c = unloaded ] || start $c 0
			# Settle: the cold walk fills the limit, the first hot visit primes.
			sleep "$MGLRU_SETTLE"
			for k in $stats; do s0[$k]=$(stat_of $k); done
			local cold0
			cold0=$(awk '{ print $12 }' /proc/$cold_pid/stat)
			kill -USR1 $hot_pid
			wait $hot_pid
			key=mglru.$c.r$r
			echo "RESULT $key.hot_majflt $(awk '$1 == "majflt" { print $2 }' $W/mglru.hot)"
			echo "RESULT $key.hot_touches_per_s $(awk '$1 == "touches" { t = $2 } $1 == "secs" { s = $2 }
				END { if (s > 0) printf "%.0f", t / s }' $W/mglru.hot)"
			echo "RESULT $key.cold_majflt $(($(awk '{ print $12 }' /proc/$cold_pid/stat) - cold0))"
			echo "RESULT $key.cg_refault $(($(stat_of workingset_refault_anon) - s0[workingset_refault_anon]))"
			echo "RESULT $key.cg_majflt $(($(stat_of pgmajfault) - s0[pgmajfault]))"
			echo "RESULT $key.cg_pgscan $(($(stat_of pgscan) - s0[pgscan]))"
			echo "RESULT $key.cg_pgsteal $(($(stat_of pgsteal) - s0[pgsteal]))"
			[ $c = unloaded ] || echo "RESULT $key.hot_ranges $(cat $XK/hot_ranges 2>/dev/null)"
			mglru_walk_stats $key
			kill $cold_pid
			wait $cold_pid 2>/dev/null
			stop
		done
	done
	rmdir $cg 2>/dev/null
}
