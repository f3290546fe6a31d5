#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: every comparison in one VM boot (scripts/bench-guest.sh),
# then a table of ratios on stdout and plots in build/bench/. Under TCG
# only ratios between contenders of the same boot mean anything.
# Usage: scripts/bench.sh [--smoke] [SECTION...] (sections: bench-guest.sh;
# a row whose figures were not measured reads n/a, null in results.json).
# Section scale runs in a second boot with SCALE_MAX_GIB (default 8) + 2
# GiB of memory; --smoke runs its tiny version in the one boot.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=
[ "${1:-}" = --smoke ] && { mode=--smoke; shift; }
# The smoke run writes apart, so it never overwrites a full run's figures.
# XHP_BENCH_OUT and XHP_VM_RUN (a stand-in VM runner) serve the harness
# self-tests.
out=${XHP_BENCH_OUT:-build/bench${mode:+-smoke}}
vm_run=${XHP_VM_RUN:-scripts/vm-run.sh}
# Guest time from the instruction count (vm-run.sh --icount): every figure
# then depends on the guest's work, not on what else the host runs, and a
# starved vCPU cannot trip the guest's lockup detectors. XHP_ICOUNT= (empty)
# measures in TCG's real time instead.
export XHP_ICOUNT=${XHP_ICOUNT-3}
# Hang bounds in real time: the instruction clock runs about three times
# slower than TCG's (the main boot took 51 minutes with it).
bench_timeout_scale=1
[ -z "$XHP_ICOUNT" ] || bench_timeout_scale=3
mkdir -p "$out"
raw=$out/raw.txt
# vm-run's verdict counts: a kernel warning (125), a hang, a lost status or
# a failing guest script fails the bench, after the table is printed.
# Section scale needs a bigger guest: a boot of its own (scale-report.sh).
. scripts/bench/scale-report.sh
scale_split "$mode" "$@"
set +e
vm_rc=0 boots=0
: >"$raw"
if [ $main_boot = 1 ]; then
	"$vm_run" --mem 4G --timeout $((3600 * bench_timeout_scale)) -- scripts/bench-guest.sh $mode "${main_sections[@]}" |
		tee "$raw" | grep -E '^(RESULT|bench-guest:)'
	vm_rc=${PIPESTATUS[0]} boots=1
fi
if [ $scale_boot = 1 ]; then
	scale_run "$vm_run" "$raw"
	[ $vm_rc -ne 0 ] || vm_rc=$scale_rc
	boots=$((boots + 1))
fi
set -e
[ "$(grep -c '^RESULT done 1' "$raw")" -eq $boots ] || { echo "bench: a guest run did not complete (vm-run exit $vm_rc)" >&2; exit 1; }

r() { awk -v k="$1" '$1 == "RESULT" && $2 == k { print $3 }' "$raw"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
# per_gib MS PASSES MB: CPU ms per GiB scanned (passes x the workload's size).
per_gib() { awk -v c="$1" -v p="$2" -v m="$3" 'BEGIN { if (c != "" && p > 0) printf "%.1f", c / (p * m / 1024); }'; }

# Every row goes to the screen and to $tsv (name, value, goal), from which
# results.json is written: the names are a contract (benchmarks.rst).
tsv=$out/results.tsv
: >"$tsv"
echo
echo "== xhugepaged benchmarks (one VM boot${XHP_ICOUNT:+, guest time = instruction count (icount shift $XHP_ICOUNT)}, TCG: ratios only) =="
printf '%-58s %10s %10s %8s %9s %s\n' "measure" "xhugepaged" "reference" "ratio" "goal" "met"
# met VALUE GOAL: yes/no/- (no goal); a missing value never meets a goal.
met() { awk -v v="$1" -v g="$2" 'BEGIN {
	if (g == "") { print "-"; exit }
	split(g, o, " ")
	if (v == "n/a" || v == "") { print "no"; exit }
	if (o[1] == "<=") ok = v + 0 <= o[2] + 0
	else if (o[1] == "<") ok = v + 0 < o[2] + 0
	else if (o[1] == ">=") ok = v + 0 >= o[2] + 0
	else ok = v + 0 > o[2] + 0
	print ok ? "yes" : "no" }'; }
# row NAME LABEL XHP REF [GOAL]: a ratio XHP / REF.
row() {
	local v
	v=$(ratio "$3" "$4")
	printf '%-58s %10s %10s %8s %9s %s\n' "$2" "$3" "$4" "$v" "${5:--}" "$(met "$v" "${5:-}")"
	printf '%s\t%s\t%s\n' "$1" "$v" "${5:-}" >>"$tsv"
}
# fig NAME LABEL VALUE [GOAL]: a figure of xhugepaged's own, no reference.
fig() {
	local v=${3:-n/a}
	printf '%-58s %10s %10s %8s %9s %s\n' "$2" "$v" "" "" "${4:--}" "$(met "$v" "${4:-}")"
	printf '%s\t%s\t%s\n' "$1" "$v" "${4:-}" >>"$tsv"
}

row hot90_hot_vs_khugepaged "hot set 90% huge, s: xhp hot vs khugepaged" \
	"$(r hot90.xhp-hot)" "$(r hot90.khugepaged)" "<= 0.1"
row hot90_fifo_vs_khugepaged "hot set 90% huge, s: xhp fifo vs khugepaged" \
	"$(r hot90.xhp-fifo)" "$(r hot90.khugepaged)" "<= 1.05"
row hot90_hot_backoff_vs_khugepaged "hot set 90% huge, s: xhp hot+backoff vs khugepaged" \
	"$(r hot90.xhp-hot-backoff)" "$(r hot90.khugepaged)" "<= 0.1"
row all90_hot_vs_khugepaged "all memory 90% huge, s: xhp hot vs khugepaged" \
	"$(r all90.xhp-hot)" "$(r all90.khugepaged)" "<= 1.0"
# The same, xhugepaged loaded before the workload and woken at go by the
# write of scan_sleep_millisecs, as khugepaged is (bench-guest.sh prepare).
row hot90_hot_resident_vs_khugepaged "hot set 90% huge, s: xhp hot, resident, vs khugepaged" \
	"$(r hot90.xhp-hot-resident)" "$(r hot90.khugepaged)" "<= 0.1"
row hot90_fifo_resident_vs_khugepaged "hot set 90% huge, s: xhp fifo, resident, vs khugepaged" \
	"$(r hot90.xhp-fifo-resident)" "$(r hot90.khugepaged)" "<= 1.05"
row all90_hot_resident_vs_khugepaged "all memory 90% huge, s: xhp hot, resident, vs khugepaged" \
	"$(r all90.xhp-hot-resident)" "$(r all90.khugepaged)" "<= 1.0"
for key in $(awk '$1 == "RESULT" && $2 ~ /^scan\.khugepaged\..*\.cpu_ms$/ { print $2 }' "$raw"); do
	cfg=${key#scan.khugepaged.}
	cfg=${cfg%.cpu_ms}
	mb=${cfg##*.m}
	k_g=$(per_gib "$(r "scan.khugepaged.$cfg.cpu_ms")" "$(r "scan.khugepaged.$cfg.passes")" "$mb")
	x_g=$(per_gib "$(r "scan.xhp-fifo.$cfg.cpu_ms")" "$(r "scan.xhp-fifo.$cfg.passes")" "$mb")
	row "scan_cpu_per_gib_${cfg/./_}" "scan CPU ms/GiB ${cfg/./ procs, } MiB: xhp vs khugepaged" \
		"$x_g" "$k_g" "<= 1.0"
	procs=${cfg%%.*}
	echo "$mb ${procs#p} $x_g $k_g" >>"$out/scan-cost.dat.tmp"
done
# Scan cost beside idle processes: each scanner against itself without them,
# then xhugepaged against khugepaged with them.
ip=$(r idle.procs) imb=$(r idle.mb)
idle_g() { per_gib "$(r "idle.$1.$2.cpu_ms")" "$(r "idle.$1.$2.passes")" "$imb"; }
row scan_idle_xhp_with_vs_without "scan CPU/GiB, xhp: ${ip:-?} idle procs beside vs none" \
	"$(idle_g xhp-fifo "i$ip")" "$(idle_g xhp-fifo i0)" "<= 1.05"
row scan_idle_khugepaged_with_vs_without "scan CPU/GiB, khugepaged: ${ip:-?} idle procs vs none" \
	"$(idle_g khugepaged "i$ip")" "$(idle_g khugepaged i0)"
row scan_idle_xhp_vs_khugepaged "scan CPU/GiB, ${ip:-?} idle procs beside: xhp vs khugepaged" \
	"$(idle_g xhp-fifo "i$ip")" "$(idle_g khugepaged "i$ip")" "<= 1.0"
x_ns=$(awk -v t="$(r collapse.xhp.madvise_collapse_ns)" -v n="$(r collapse.xhp.pmds)" 'BEGIN { if (n > 0) printf "%.0f", t / n }')
row collapse_wall_vs_madv_collapse "collapse ns/PMD: xhp vs direct MADV_COLLAPSE" \
	"$x_ns" "$(r collapse.direct.madv_ns_per_pmd)" "<= 1.05"
row collapse_wall_vs_copy_floor "collapse ns/PMD: xhp vs copy floor (alloc+fault+2MiB copy)" \
	"$x_ns" "$(r collapse.floor.copy_ns_per_pmd)"
x_cpu=$(awk -v t="$(r collapse.xhp.thread_cpu_ms)" -v n="$(r collapse.xhp.pmds)" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / n }')
row collapse_cpu_vs_madv_collapse "collapse CPU ns/PMD: xhp thread vs MADV_COLLAPSE caller" \
	"$x_cpu" "$(r collapse.direct.madv_cpu_ns_per_pmd)" "<= 1.05"
# shmem: the scanner's collapse of a memfd against the process's own.
s_ns=$(awk -v t="$(r shmem.xhp.madvise_collapse_ns)" -v n="$(r shmem.xhp.pmds)" 'BEGIN { if (n > 0) printf "%.0f", t / n }')
row shmem_collapse_wall_vs_madv_collapse "shmem collapse ns/PMD: xhp vs direct MADV_COLLAPSE" \
	"$s_ns" "$(r shmem.direct.madv_ns_per_pmd)" "<= 1.05"
s_cpu=$(awk -v t="$(r shmem.xhp.thread_cpu_ms)" -v n="$(r shmem.xhp.pmds)" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / n }')
row shmem_collapse_cpu_vs_madv_collapse "shmem collapse CPU ns/PMD: xhp thread vs MADV_COLLAPSE" \
	"$s_cpu" "$(r shmem.direct.madv_cpu_ns_per_pmd)" "<= 1.05"
row thrash_backoff_on_vs_khugepaged "thrash: wasted collapses, xhp backoff on vs khugepaged" \
	"$(r thrash.xhp-backoff-on.collapses)" "$(r thrash.khugepaged.collapses)" "<= 0.2"
row thrash_backoff_off_vs_khugepaged "thrash: wasted collapses, xhp backoff off vs khugepaged" \
	"$(r thrash.xhp-backoff-off.collapses)" "$(r thrash.khugepaged.collapses)"
cyc=$(r lifetime.cycles)
for op in rmmod insmod armed; do
	what=$op
	[ $op = armed ] && what="insmod to event hooks armed,"
	for p in p50 p90 p99 worst; do
		goal=
		[ $op$p = rmmodp99 ] && goal="< 1000"
		fig "${op}_ms_$p" "$what ms under churn, $p of ${cyc:-?} cycles" \
			"$(r "lifetime.${op}_ms.$p")" "$goal"
	done
done
. scripts/bench/mglru-rows.sh
scale_rows "$out"
echo "(ratio < 1 is better for xhugepaged in every ratio row; met: goal met, - no goal)"
python3 - "$tsv" "$out/results.json" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    name, value, goal = line.rstrip("\n").split("\t")
    try:
        v = float(value)
    except ValueError:
        v = None
    g = goal or None
    met = None
    if g is not None:
        op, bound = g.split()
        bound = float(bound)
        met = v is not None and {"<=": v <= bound, "<": v < bound,
                                 ">=": v >= bound, ">": v > bound}[op]
    rows[name] = {"value": v, "goal": g, "met": met}
with open(sys.argv[2], "w") as f:
    json.dump(rows, f, indent=1)
    f.write("\n")
PY
echo "results: $out/results.json"
if [ "$vm_rc" -ne 0 ]; then
	echo "bench: the VM run failed: vm-run exit $vm_rc (its \"vm-run:\" lines above say why); no plots" >&2
	exit 1
fi

# Plots (gnuplot, from Debian).
for c in khugepaged xhp-fifo xhp-hot xhp-hot-backoff xhp-fifo-resident xhp-hot-resident; do
	awk -v c="$c" '$1 == "SERIES" && $2 == c { print $3, $4, $5 }' "$raw" >"$out/hot-$c.dat"
done
sort -n "$out/scan-cost.dat.tmp" 2>/dev/null >"$out/scan-cost.dat" || true
rm -f "$out/scan-cost.dat.tmp"
# Module lifetime: each op's latencies sorted, against the fraction of cycles.
for op in rmmod insmod; do
	col=3
	[ $op = insmod ] && col=4
	awk -v c=$col '$1 == "CYCLE" { print $c }' "$raw" | sort -n |
		awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++) print v[i], i / NR }' >"$out/lifetime-$op.dat"
done
# A plot whose data the run did not produce (its section was not run) is
# skipped, and named in one line.
if command -v gnuplot >/dev/null; then
	plotted=() skipped=() failed=()
	# plot NAME <SCRIPT: OUT/NAME from the gnuplot SCRIPT on stdin.
	plot() {
		if { printf 'set terminal pngcairo size 900,500\nset output "%s"\n' "$out/$1"; cat; } | gnuplot; then
			plotted+=("$out/$1")
		else
			failed+=("$1")
		fi
	}
	# The hot-set contenders measured (HOT_CONTENDERS may pick some).
	hot_lines=()
	for c in "khugepaged:lw 2:khugepaged" "xhp-fifo:lw 2:xhugepaged fifo" \
		"xhp-hot:lw 2:xhugepaged hot" "xhp-hot-backoff:dt 2:xhugepaged hot + backoff" \
		"xhp-fifo-resident:dt 3 lc 2:xhugepaged fifo, resident" \
		"xhp-hot-resident:dt 3 lc 3:xhugepaged hot, resident"; do
		IFS=: read -r name style title <<<"$c"
		[ -s "$out/hot-$name.dat" ] &&
			hot_lines+=("\"$out/hot-$name.dat\" using 1:2 with lines $style title \"$title\"")
	done
	if [ ${#hot_lines[@]} -gt 0 ]; then
		plot hot-set.png <<GP
set title "Fraction of the hot set PMD-mapped over time (same VM boot)"
set xlabel "seconds since go (insmod, or the waking write for resident)"
set ylabel "hot set huge"
set yrange [0:1.05]
set key bottom right
plot $(IFS=,; echo "${hot_lines[*]}")
GP
	else
		skipped+=(hot-set.png)
	fi
	if [ -s "$out/scan-cost.dat" ]; then
		plot scan-cost.png <<GP
set title "Scanner CPU per GiB scanned vs size scanned (same VM boot)"
set xlabel "MiB scanned per pass"
set ylabel "CPU ms per GiB"
set yrange [0:*]
set key top right
plot "$out/scan-cost.dat" using 1:(\$2 == 8 ? \$3 : 1/0) with linespoints lw 2 lc 1 title "xhugepaged, 8 procs", \
     "$out/scan-cost.dat" using 1:(\$2 == 8 ? \$4 : 1/0) with linespoints lw 2 lc 2 title "khugepaged, 8 procs", \
     "$out/scan-cost.dat" using 1:(\$2 != 8 ? \$3 : 1/0):(sprintf("%d procs", \$2)) with labels point pt 7 lc 1 offset 5,0 notitle, \
     "$out/scan-cost.dat" using 1:(\$2 != 8 ? \$4 : 1/0):(sprintf("%d procs", \$2)) with labels point pt 7 lc 2 offset 5,0 notitle
GP
	else
		skipped+=(scan-cost.png)
	fi
	if [ -s "$out/lifetime-rmmod.dat" ] && [ -s "$out/lifetime-insmod.dat" ]; then
		plot lifetime.png <<GP
set title "Module load/unload latency under churn (same VM boot)"
set xlabel "ms in finit_module / delete_module"
set ylabel "fraction of cycles"
set yrange [0:1.05]
set xrange [0:*]
set key bottom right
plot "$out/lifetime-rmmod.dat" using 1:2 with steps lw 2 title "rmmod (delete_module)", \
     "$out/lifetime-insmod.dat" using 1:2 with steps lw 2 title "insmod (finit_module)"
GP
	else
		skipped+=(lifetime.png)
	fi
	[ ${#plotted[@]} -eq 0 ] || echo "plots: ${plotted[*]}"
	[ ${#failed[@]} -eq 0 ] || echo "bench: gnuplot failed on ${failed[*]}" >&2
	# scale_plots draws the scale section's plots only from their data.
	[ -s "$out/scale-scan.dat" ] || skipped+=(scale-scan.png)
	[ -s "$out/scale-collapse.dat" ] || skipped+=(scale-collapse.png)
	scale_plots "$out"
	[ ${#skipped[@]} -eq 0 ] || echo "plots skipped (no data: their sections were not run): ${skipped[*]}"
else
	echo "bench: gnuplot missing (make deps installs it); no plots" >&2
fi
