# SPDX-License-Identifier: GPL-2.0
# Section "scale" on the host side, sourced by scripts/bench.sh: its own
# VM boot (scripts/bench/scale-guest.sh needs SCALE_MAX_GIB + 2 GiB), its
# table rows and its plots. Uses bench.sh's r, ratio, per_gib, row and fig.
SCALE_MAX_GIB=${SCALE_MAX_GIB:-8}

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
	"$1" --mem "$mem" --timeout 7200 -- env SCALE_MAX_GIB="$SCALE_MAX_GIB" \
		scripts/bench-guest.sh scale | tee -a "$2" | grep -E '^RESULT'
	scale_rc=${PIPESTATUS[0]}
}

# scale_cost CONTENDER P M: CPU ms per GiB over the passes measured.
scale_cost() {
	per_gib "$(r "scale.scan.$1.p$2.m$3.cpu_ms")" "$(r "scale.scan.$1.p$2.m$3.passes")" "$3"
}
scale_growth() { local v; v=$(ratio "$1" "$2"); [ "$v" = n/a ] || echo "$v"; }
scale_v() { local v; v=$(r "scale.$1"); echo "${v:-?}"; }	# ? for gnuplot

# scale_rows OUT: the rows, and OUT/scale-scan.dat, OUT/scale-hot.dat for
# the plots.
scale_rows() {
	local out=$1 key pt p m k x h sp sm sizes counts lo hi gx gk gh
	[ -n "$(r scale.max_mb)" ] || return 0
	sp=$(r scale.size_curve_procs) sm=$(r scale.procs_curve_mb)
	: >"$out/scale-scan.dat"
	for key in $(awk '$1 == "RESULT" && $2 ~ /^scale\.scan\.khugepaged\..*\.cpu_ms$/ { print $2 }' "$raw"); do
		pt=${key#scale.scan.khugepaged.}
		pt=${pt%.cpu_ms}
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
	lo=$(echo "$sizes" | head -n1) hi=$(echo "$sizes" | tail -n1)
	if [ -n "$lo" ] && [ "$lo" != "$hi" ]; then
		gk=$(scale_growth "$(scale_cost khugepaged "$sp" "$hi")" "$(scale_cost khugepaged "$sp" "$lo")")
		gx=$(scale_growth "$(scale_cost xhp-fifo "$sp" "$hi")" "$(scale_cost xhp-fifo "$sp" "$lo")")
		gh=$(scale_growth "$(scale_cost xhp-hot "$sp" "$hi")" "$(scale_cost xhp-hot "$sp" "$lo")")
		fig scale_scan_growth_size_khugepaged "scale: CPU/GiB at $hi / at $lo MiB, khugepaged" "$gk"
		fig scale_scan_growth_size_xhp "scale: CPU/GiB at $hi / at $lo MiB, xhp fifo" "$gx"
		fig scale_scan_growth_size_hot "scale: CPU/GiB at $hi / at $lo MiB, xhp hot" "$gh"
		row scale_scan_growth_size_xhp_vs_khugepaged "scale: that growth with size, xhp vs khugepaged" \
			"$gx" "$gk"
	fi
	lo=$(echo "$counts" | head -n1) hi=$(echo "$counts" | tail -n1)
	if [ -n "$lo" ] && [ "$lo" != "$hi" ]; then
		gk=$(scale_growth "$(scale_cost khugepaged "$hi" "$sm")" "$(scale_cost khugepaged "$lo" "$sm")")
		gx=$(scale_growth "$(scale_cost xhp-fifo "$hi" "$sm")" "$(scale_cost xhp-fifo "$lo" "$sm")")
		gh=$(scale_growth "$(scale_cost xhp-hot "$hi" "$sm")" "$(scale_cost xhp-hot "$lo" "$sm")")
		fig scale_scan_growth_procs_khugepaged "scale: CPU/GiB at $hi / at $lo procs, khugepaged" "$gk"
		fig scale_scan_growth_procs_xhp "scale: CPU/GiB at $hi / at $lo procs, xhp fifo" "$gx"
		fig scale_scan_growth_procs_hot "scale: CPU/GiB at $hi / at $lo procs, xhp hot" "$gh"
		row scale_scan_growth_procs_xhp_vs_khugepaged "scale: that growth with procs, xhp vs khugepaged" \
			"$gx" "$gk"
	fi
	# Hot set and time to collapse, per size.
	: >"$out/scale-hot.dat"
	for key in $(awk '$1 == "RESULT" && $2 ~ /^scale\.hot90\.khugepaged\.m/ { print $2 }' "$raw"); do
		m=${key##*.m}
		row "scale_hot90_hot_vs_khugepaged_m$m" "scale: hot set 90% huge, s, $m MiB: hot vs khugepaged" \
			"$(r "scale.hot90.xhp-hot.m$m")" "$(r "scale.hot90.khugepaged.m$m")" "<= 0.1"
		row "scale_hot90_fifo_vs_khugepaged_m$m" "scale: the same, xhp fifo vs khugepaged" \
			"$(r "scale.hot90.xhp-fifo.m$m")" "$(r "scale.hot90.khugepaged.m$m")" "<= 1.05"
		row "scale_all90_fifo_vs_khugepaged_m$m" "scale: all memory 90% huge, s: fifo vs khugepaged" \
			"$(r "scale.all90.xhp-fifo.m$m")" "$(r "scale.all90.khugepaged.m$m")" "<= 1.05"
		echo "$m $(scale_v hot90.khugepaged.m$m) $(scale_v hot90.xhp-fifo.m$m)" \
			"$(scale_v hot90.xhp-hot.m$m) $(scale_v all90.khugepaged.m$m)" \
			"$(scale_v all90.xhp-fifo.m$m)" >>"$out/scale-hot.dat"
	done
	sort -n -k2 -k1 -o "$out/scale-scan.dat" "$out/scale-scan.dat"
	sort -n -o "$out/scale-hot.dat" "$out/scale-hot.dat"
}

# scale_plots OUT: OUT/scale-scan.png (cost per GiB against size and
# against processes) and OUT/scale-hot.png (times against size).
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
plot "$out/scale-scan.dat" using (\$1 == $sp ? \$2 : 1/0):4 with linespoints lw 2 title "khugepaged", \
     "$out/scale-scan.dat" using (\$1 == $sp ? \$2 : 1/0):3 with linespoints lw 2 title "xhugepaged fifo", \
     "$out/scale-scan.dat" using (\$1 == $sp ? \$2 : 1/0):5 with linespoints lw 2 title "xhugepaged hot"
set xlabel "processes ($sm MiB in all)"
plot "$out/scale-scan.dat" using (\$2 == $sm ? \$1 : 1/0):4 with linespoints lw 2 title "khugepaged", \
     "$out/scale-scan.dat" using (\$2 == $sm ? \$1 : 1/0):3 with linespoints lw 2 title "xhugepaged fifo", \
     "$out/scale-scan.dat" using (\$2 == $sm ? \$1 : 1/0):5 with linespoints lw 2 title "xhugepaged hot"
unset multiplot
set terminal pngcairo size 900,500
set output "$out/scale-hot.png"
set title "Time to 90% huge against cold memory size, $(r scale.hot_procs) procs (same VM boot)"
set xlabel "cold MiB in all (4 MiB hot per process)"
set ylabel "seconds"
set yrange [0:*]
set key top left
plot "$out/scale-hot.dat" using 1:2 with linespoints lw 2 lc 1 title "hot set, khugepaged", \
     "$out/scale-hot.dat" using 1:3 with linespoints lw 2 lc 2 title "hot set, xhugepaged fifo", \
     "$out/scale-hot.dat" using 1:4 with linespoints lw 2 lc 3 title "hot set, xhugepaged hot", \
     "$out/scale-hot.dat" using 1:5 with linespoints dt 2 lc 1 title "all memory, khugepaged", \
     "$out/scale-hot.dat" using 1:6 with linespoints dt 2 lc 2 title "all memory, xhugepaged fifo"
GP
	echo "plots: $out/scale-scan.png $out/scale-hot.png"
}
