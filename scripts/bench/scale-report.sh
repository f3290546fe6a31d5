# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Section "scale" on the host side, sourced by scripts/bench.sh: its own
# VM boot (scripts/bench/scale-guest.sh needs SCALE_MAX_GIB + 2 GiB), its
# table rows and its plots. Uses bench.sh's r, ratio, per_gib, row and fig.
SCALE_MAX_GIB=${SCALE_MAX_GIB:-8}	# and SCALE_PARTS (scale-guest.sh)

# scale_split MODE SECTION...: which boots bench.sh makes. main_sections:
# the ordinary boot's sections (none: its default); main_boot, scale_boot:
# 1 if that boot runs. --smoke runs scale's tiny version in the ordinary
# boot (bench-guest.sh's smoke default includes it).
scale_split() {
	local mode=$1 s
	shift
	main_sections=() main_boot=1 scale_boot=0
	if [ -n "$mode" ]; then
		main_sections=("$@")
		return
	fi
	[ $# -eq 0 ] && { scale_boot=1; return; }
	for s in "$@"; do
		if [ "$s" = scale ]; then scale_boot=1; else main_sections+=("$s"); fi
	done
	[ ${#main_sections[@]} -gt 0 ] || main_boot=0
}

# scale_run VM_RUN RAW: the scale boot, its output appended to RAW; sets
# scale_rc to vm-run's exit status.
scale_run() {
	local mem=$((SCALE_MAX_GIB + 2))G
	echo "bench: section scale in its own VM boot (--mem $mem, SCALE_MAX_GIB=$SCALE_MAX_GIB)" >&2
	"$1" --mem "$mem" --timeout $((7200 * ${bench_timeout_scale:-1})) -- env SCALE_MAX_GIB="$SCALE_MAX_GIB" \
		SCALE_PARTS="${SCALE_PARTS:-scan collapse}" scripts/bench-guest.sh scale | tee -a "$2" | grep -E '^(RESULT|bench-guest:)'
	scale_rc=${PIPESTATUS[0]}
}

# scale_cost CONTENDER P M: CPU ms per GiB over the passes measured, in
# the contender's cheapest round (interference from the host only adds).
scale_cost() {
	local i k best= v
	for i in $(seq "$(r scale.rounds)"); do
		k=scale.scan.$1.p$2.m$3.r$i
		v=$(per_gib "$(r "$k.cpu_ms")" "$(r "$k.passes")" "$3")
		[ -n "$v" ] || continue
		best=$(awk -v a="$v" -v b="$best" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }')
	done
	echo "$best"
}
scale_growth() { local v; v=$(ratio "$1" "$2"); [ "$v" = n/a ] || echo "$v"; }
# scale_growth_rows CURVE UNIT POINTS FIXED: cost per GiB at the largest
# point of a curve / at its smallest, per contender. CURVE size: POINTS are
# sizes at FIXED processes; procs: process counts at FIXED MiB.
scale_growth_rows() {
	local curve=$1 unit=$2 lo hi gk gx gh c v
	lo=$(echo "$3" | head -n1) hi=$(echo "$3" | tail -n1)
	[ -n "$lo" ] && [ "$lo" != "$hi" ] || return 0
	for c in khugepaged xhp-fifo xhp-hot; do
		if [ "$curve" = size ]; then
			v=$(scale_growth "$(scale_cost $c "$4" "$hi")" "$(scale_cost $c "$4" "$lo")")
		else
			v=$(scale_growth "$(scale_cost $c "$hi" "$4")" "$(scale_cost $c "$lo" "$4")")
		fi
		case $c in khugepaged) gk=$v ;; xhp-fifo) gx=$v ;; xhp-hot) gh=$v ;; esac
	done
	fig scale_scan_growth_${curve}_khugepaged "scale: CPU/GiB at $hi / at $lo $unit, khugepaged" "$gk"
	fig scale_scan_growth_${curve}_xhp "scale: CPU/GiB at $hi / at $lo $unit, xhp fifo" "$gx"
	fig scale_scan_growth_${curve}_hot "scale: CPU/GiB at $hi / at $lo $unit, xhp hot" "$gh"
	row scale_scan_growth_${curve}_xhp_vs_khugepaged "scale: that growth with $curve, xhp vs khugepaged" \
		"$gx" "$gk"
}
scale_v() { local v; v=$(r "scale.$1"); echo "${v:-?}"; }	# ? for gnuplot
# scale_per_pmd C M: the scanner's CPU ms per PMD it collapsed.
scale_per_pmd() {
	awk -v c="$(r "scale.collapse.$1.m$2.cpu_ms")" -v n="$(r "scale.collapse.$1.m$2.pmds")" \
		'BEGIN { if (c != "" && n > 0) printf "%.1f", c / n }'
}
# scale_s_per_gib C M: seconds to 90% collapsed per GiB.
scale_s_per_gib() {
	awk -v t="$(r "scale.collapse.$1.m$2.s90")" -v m="$2" 'BEGIN { if (t != "") printf "%.2f", t / (m / 1024) }'
}

# scale_rows OUT: the rows, and OUT/scale-scan{,-size,-procs}.dat and
# OUT/scale-collapse.dat for the plots.
scale_rows() {
	local out=$1 key pt p m k x h sp sm sizes counts lo hi gx gk gh
	# Emptied first: a run without section scale draws no stale scale plot.
	: >"$out/scale-scan.dat"
	: >"$out/scale-collapse.dat"
	[ -n "$(r scale.max_mb)" ] || return 0
	sp=$(r scale.size_curve_procs) sm=$(r scale.procs_curve_mb)
	for key in $(awk '$1 == "RESULT" && $2 ~ /^scale\.scan\.khugepaged\..*\.r1\.cpu_ms$/ { print $2 }' "$raw"); do
		pt=${key#scale.scan.khugepaged.}
		pt=${pt%.r1.cpu_ms}
		p=${pt%%.*} m=${pt##*.m}
		p=${p#p}
		k=$(scale_cost khugepaged "$p" "$m")
		x=$(scale_cost xhp-fifo "$p" "$m")
		h=$(scale_cost xhp-hot "$p" "$m")
		row "scale_scan_cpu_per_gib_xhp_vs_khugepaged_p${p}_m$m" \
			"scale: scan CPU ms/GiB $p procs, $m MiB: xhp vs khugepaged" "$x" "$k" "<= 1.0"
		row "scale_scan_cpu_per_gib_hot_vs_khugepaged_p${p}_m$m" \
			"scale: the same, xhp scan_order=hot vs khugepaged" "$h" "$k"
		echo "$p $m ${x:-?} ${k:-?} ${h:-?}" >>"$out/scale-scan.dat"
	done
	# Growth: cost per GiB at the largest point of a curve / at its smallest.
	sizes=$(awk -v p="$sp" '$1 == p { print $2 }' "$out/scale-scan.dat" | sort -n)
	counts=$(awk -v m="$sm" '$2 == m { print $1 }' "$out/scale-scan.dat" | sort -n)
	scale_growth_rows size "MiB" "$sizes" "$sp"
	scale_growth_rows procs "procs" "$counts" "$sm"
	# Time to collapse 90%, and the scanner's CPU per PMD collapsed, per size.
	: >"$out/scale-collapse.dat"
	for key in $(awk '$1 == "RESULT" && $2 ~ /^scale\.collapse\.khugepaged\..*\.pmds$/ { print $2 }' "$raw"); do
		m=${key#scale.collapse.khugepaged.m}
		m=${m%.pmds}
		row "scale_collapse90_fifo_vs_khugepaged_m$m" "scale: 90% of $m MiB collapsed, s: xhp fifo vs khugepaged" \
			"$(r "scale.collapse.xhp-fifo.m$m.s90")" "$(r "scale.collapse.khugepaged.m$m.s90")" "<= 1.05"
		k=$(scale_per_pmd khugepaged "$m") x=$(scale_per_pmd xhp-fifo "$m")
		row "scale_collapse_cpu_per_pmd_fifo_vs_khugepaged_m$m" "scale: CPU ms per PMD collapsed, $m MiB: xhp vs khugepaged" \
			"$x" "$k"
		echo "$m $(scale_v collapse.khugepaged.m$m.s90) $(scale_v collapse.xhp-fifo.m$m.s90) ${k:-?} ${x:-?}" \
			>>"$out/scale-collapse.dat"
	done
	# Growth: seconds per GiB collapsed at the largest size / at the smallest.
	sort -n -o "$out/scale-collapse.dat" "$out/scale-collapse.dat"
	lo=$(awk 'NR == 1 { print $1 }' "$out/scale-collapse.dat")
	hi=$(awk 'END { print $1 }' "$out/scale-collapse.dat")
	if [ -n "$lo" ] && [ "$lo" != "$hi" ]; then
		gk=$(scale_growth "$(scale_s_per_gib khugepaged "$hi")" "$(scale_s_per_gib khugepaged "$lo")")
		gx=$(scale_growth "$(scale_s_per_gib xhp-fifo "$hi")" "$(scale_s_per_gib xhp-fifo "$lo")")
		fig scale_collapse_growth_size_khugepaged "scale: collapse s/GiB at $hi / at $lo MiB, khugepaged" "$gk"
		fig scale_collapse_growth_size_xhp "scale: collapse s/GiB at $hi / at $lo MiB, xhp fifo" "$gx"
		row scale_collapse_growth_size_xhp_vs_khugepaged "scale: that growth with size, xhp vs khugepaged" \
			"$gx" "$gk"
	fi
	# One file per curve, so that gnuplot draws each as one line.
	awk -v p="$sp" '$1 == p' "$out/scale-scan.dat" | sort -n -k2 >"$out/scale-scan-size.dat"
	awk -v m="$sm" '$2 == m' "$out/scale-scan.dat" | sort -n -k1 >"$out/scale-scan-procs.dat"
}

# scale_plots OUT: OUT/scale-scan.png (cost per GiB against size and
# against processes) and OUT/scale-collapse.png (time against size).
scale_plots() {
	local out=$1 sp sm
	[ -s "$out/scale-scan.dat" ] || return 0
	sp=$(r scale.size_curve_procs) sm=$(r scale.procs_curve_mb)
	gnuplot <<GP || { echo "bench: gnuplot failed on the scale plots" >&2; return 0; }
set terminal pngcairo size 1200,500
set datafile missing "?"
set output "$out/scale-scan.png"
set multiplot layout 1,2 title "Scanner CPU per GiB scanned, nothing collapsible (same VM boot)"
set logscale x 2
set yrange [0:*]
set ylabel "CPU ms per GiB"
set key top left
set xlabel "MiB scanned per pass ($sp procs)"
plot "$out/scale-scan-size.dat" using 2:4 with linespoints lw 2 title "khugepaged", \
     "$out/scale-scan-size.dat" using 2:3 with linespoints lw 2 title "xhugepaged fifo", \
     "$out/scale-scan-size.dat" using 2:5 with linespoints lw 2 title "xhugepaged hot"
set xlabel "processes ($sm MiB in all)"
plot "$out/scale-scan-procs.dat" using 1:4 with linespoints lw 2 title "khugepaged", \
     "$out/scale-scan-procs.dat" using 1:3 with linespoints lw 2 title "xhugepaged fifo", \
     "$out/scale-scan-procs.dat" using 1:5 with linespoints lw 2 title "xhugepaged hot"
unset multiplot
GP
	echo "plots: $out/scale-scan.png"
	[ -s "$out/scale-collapse.dat" ] || return 0
	gnuplot <<GP || { echo "bench: gnuplot failed on the scale collapse plot" >&2; return 0; }
set terminal pngcairo size 900,500
set datafile missing "?"
set output "$out/scale-collapse.png"
set title "Time until 90% of the memory is collapsed, $(r scale.collapse_procs) procs (same VM boot)"
set logscale xy 2
set xlabel "MiB, fully faulted small pages"
set ylabel "seconds"
set yrange [*:*]
set key top left
plot "$out/scale-collapse.dat" using 1:2 with linespoints lw 2 title "khugepaged", \
     "$out/scale-collapse.dat" using 1:3 with linespoints lw 2 title "xhugepaged fifo"
GP
	echo "plots: $out/scale-collapse.png"
}
