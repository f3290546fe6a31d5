# SPDX-License-Identifier: GPL-2.0
# Rows of the mglru section (scripts/bench/mglru.sh), sourced by
# scripts/bench.sh after its own rows: uses its $raw, row and fig.
# mglru_sum CONTENDER KEY: KEY summed over the rounds (empty: not run).
mglru_sum() {
	awk -v p="mglru.$1.r" -v k=".$2" '$1 == "RESULT" && index($2, p) == 1 &&
		substr($2, length($2) - length(k) + 1) == k { s += $3; n++ }
		END { if (n) print s }' "$raw"
}
# mglru_spread CONTENDER KEY: largest round over smallest (the noise).
mglru_spread() {
	awk -v p="mglru.$1.r" -v k=".$2" '$1 == "RESULT" && index($2, p) == 1 &&
		substr($2, length($2) - length(k) + 1) == k {
			if (!n++ || $3 < lo) lo = $3
			if ($3 > hi) hi = $3 }
		END { if (n > 1 && lo > 0) printf "%.2f", hi / lo }' "$raw"
}
# mglru_round_ratios A B KEY: per round, A's KEY over B's (same round,
# back to back), as "min max" (a round where B measured 0 is left out).
mglru_round_ratios() {
	awk -v a="mglru.$1.r" -v b="mglru.$2.r" -v k=".$3" '$1 == "RESULT" &&
		substr($2, length($2) - length(k) + 1) == k {
			r = $2; sub(/^mglru\.[^.]*\.r/, "", r); sub(/\..*/, "", r)
			if (index($2, a) == 1) va[r] = $3
			if (index($2, b) == 1) vb[r] = $3 }
		END { for (r in va) if ((r in vb) && vb[r] > 0) {
				x = va[r] / vb[r]
				if (!n++ || x < lo) lo = x
				if (x > hi) hi = x }
			if (n) printf "%.2f %.2f", lo, hi }' "$raw"
}
mglru_rounds=$(awk '$1 == "RESULT" && $2 == "mglru.rounds" { print $3 }' "$raw")
# The hot set's refaults: the hot process's major faults (swap-ins).
row mglru_refaults_hot_vs_unloaded "MGLRU pressure, hot-set refaults: xhp hot vs unloaded" \
	"$(mglru_sum xhp-hot hot_majflt)" "$(mglru_sum unloaded hot_majflt)" "<= 1.05"
row mglru_refaults_fifo_vs_unloaded "MGLRU pressure, hot-set refaults: xhp fifo vs unloaded" \
	"$(mglru_sum xhp-fifo hot_majflt)" "$(mglru_sum unloaded hot_majflt)"
row mglru_cg_refaults_hot_vs_unloaded "MGLRU pressure, cgroup refaults: xhp hot vs unloaded" \
	"$(mglru_sum xhp-hot cg_refault)" "$(mglru_sum unloaded cg_refault)"
row mglru_cg_refaults_fifo_vs_unloaded "MGLRU pressure, cgroup refaults: xhp fifo vs unloaded" \
	"$(mglru_sum xhp-fifo cg_refault)" "$(mglru_sum unloaded cg_refault)"
row mglru_throughput_hot_vs_unloaded "MGLRU pressure, hot-set touches/s: xhp hot vs unloaded" \
	"$(mglru_sum xhp-hot hot_touches_per_s)" "$(mglru_sum unloaded hot_touches_per_s)"
row mglru_throughput_fifo_vs_unloaded "MGLRU pressure, hot-set touches/s: xhp fifo vs unloaded" \
	"$(mglru_sum xhp-fifo hot_touches_per_s)" "$(mglru_sum unloaded hot_touches_per_s)"
fig mglru_refaults_unloaded_spread "MGLRU, unloaded hot-set refaults, max/min of ${mglru_rounds:-?} rounds" \
	"$(mglru_spread unloaded hot_majflt)"
fig mglru_throughput_unloaded_spread "MGLRU, unloaded hot-set touches/s, max/min of ${mglru_rounds:-?} rounds" \
	"$(mglru_spread unloaded hot_touches_per_s)"
read -r mglru_lo mglru_hi <<<"$(mglru_round_ratios xhp-hot unloaded hot_majflt)"
fig mglru_hot_vs_unloaded_round_min "MGLRU, hot-set refaults hot/unloaded, lowest round" "$mglru_lo"
fig mglru_hot_vs_unloaded_round_max "MGLRU, hot-set refaults hot/unloaded, highest round" "$mglru_hi"
read -r mglru_lo mglru_hi <<<"$(mglru_round_ratios xhp-hot xhp-fifo hot_majflt)"
fig mglru_hot_vs_fifo_round_min "MGLRU, hot-set refaults hot/fifo, lowest round" "$mglru_lo"
fig mglru_hot_vs_fifo_round_max "MGLRU, hot-set refaults hot/fifo, highest round" "$mglru_hi"
row mglru_refaults_hot_vs_fifo "MGLRU pressure, hot-set refaults: xhp hot vs xhp fifo" \
	"$(mglru_sum xhp-hot hot_majflt)" "$(mglru_sum xhp-fifo hot_majflt)"
echo "(the MGLRU touches/s rows: a ratio > 1 is better)"
