#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: every comparison in one VM boot (scripts/bench-guest.sh),
# then a table of ratios on stdout and plots in build/bench/. Under TCG
# only ratios between contenders of the same boot mean anything.
# Usage: scripts/bench.sh [--smoke]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
# The smoke run writes apart, so it never overwrites a full run's figures.
# XHP_BENCH_OUT and XHP_VM_RUN (a stand-in VM runner) serve the harness
# self-tests.
out=${XHP_BENCH_OUT:-build/bench${mode:+-smoke}}
vm_run=${XHP_VM_RUN:-scripts/vm-run.sh}
mkdir -p "$out"
raw=$out/raw.txt
# vm-run's verdict counts: a kernel warning (125), a hang, a lost status or
# a failing guest script fails the bench, after the table is printed.
set +e
"$vm_run" --mem 4G --timeout 3600 -- scripts/bench-guest.sh $mode | tee "$raw" |
	grep -E '^RESULT'
vm_rc=${PIPESTATUS[0]}
set -e
grep -q '^RESULT done 1' "$raw" || { echo "bench: the guest run did not complete (vm-run exit $vm_rc)" >&2; exit 1; }

r() { awk -v k="$1" '$1 == "RESULT" && $2 == k { print $3 }' "$raw"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

echo
echo "== xhugepaged benchmarks (one VM boot, TCG: ratios only) =="
printf '%-58s %10s %10s %8s\n' "measure" "xhugepaged" "reference" "ratio"
row() { printf '%-58s %10s %10s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }

row "hot set 90% huge, s: xhp hot vs khugepaged" "$(r hot90.xhp-hot)" "$(r hot90.khugepaged)"
row "hot set 90% huge, s: xhp fifo vs khugepaged" "$(r hot90.xhp-fifo)" "$(r hot90.khugepaged)"
row "hot set 90% huge, s: xhp hot+backoff vs khugepaged" "$(r hot90.xhp-hot-backoff)" "$(r hot90.khugepaged)"
row "all memory 90% huge, s: xhp hot vs khugepaged" "$(r all90.xhp-hot)" "$(r all90.khugepaged)"
for key in $(awk '$1 == "RESULT" && $2 ~ /^scan\.khugepaged\..*\.cpu_ms$/ { print $2 }' "$raw"); do
	cfg=${key#scan.khugepaged.}
	cfg=${cfg%.cpu_ms}
	mb=${cfg##*.m}
	k_ms=$(r "scan.khugepaged.$cfg.cpu_ms") k_p=$(r "scan.khugepaged.$cfg.passes")
	x_ms=$(r "scan.xhp-fifo.$cfg.cpu_ms") x_p=$(r "scan.xhp-fifo.$cfg.passes")
	# CPU ms per GiB scanned: passes x the workload's size.
	k_g=$(awk -v c="$k_ms" -v p="$k_p" -v m="$mb" 'BEGIN { if (p > 0) printf "%.1f", c / (p * m / 1024); }')
	x_g=$(awk -v c="$x_ms" -v p="$x_p" -v m="$mb" 'BEGIN { if (p > 0) printf "%.1f", c / (p * m / 1024); }')
	row "scan CPU ms/GiB ${cfg/./ procs, } MiB: xhp vs khugepaged" "$x_g" "$k_g"
	procs=${cfg%%.*}
	echo "$mb ${procs#p} $x_g $k_g" >>"$out/scan-cost.dat.tmp"
done
x_ns=$(awk -v t="$(r collapse.xhp.madvise_collapse_ns)" -v n="$(r collapse.xhp.pmds)" 'BEGIN { if (n > 0) printf "%.0f", t / n }')
row "collapse ns/PMD: xhp vs direct MADV_COLLAPSE" "$x_ns" "$(r collapse.direct.madv_ns_per_pmd)"
row "collapse ns/PMD: xhp vs copy floor (alloc+fault+2MiB copy)" "$x_ns" "$(r collapse.floor.copy_ns_per_pmd)"
x_cpu=$(awk -v t="$(r collapse.xhp.thread_cpu_ms)" -v n="$(r collapse.xhp.pmds)" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / n }')
row "collapse CPU ns/PMD: xhp thread vs MADV_COLLAPSE caller" "$x_cpu" "$(r collapse.direct.madv_cpu_ns_per_pmd)"
row "thrash: wasted collapses, xhp backoff on vs khugepaged" "$(r thrash.xhp-backoff-on.collapses)" "$(r thrash.khugepaged.collapses)"
row "thrash: wasted collapses, xhp backoff off vs khugepaged" "$(r thrash.xhp-backoff-off.collapses)" "$(r thrash.khugepaged.collapses)"
echo "(ratio < 1 is better for xhugepaged in every row)"
if [ "$vm_rc" -ne 0 ]; then
	echo "bench: the VM run failed: vm-run exit $vm_rc (its \"vm-run:\" lines above say why); no plots" >&2
	exit 1
fi

# Plots (gnuplot, from Debian).
for c in khugepaged xhp-fifo xhp-hot xhp-hot-backoff; do
	awk -v c="$c" '$1 == "SERIES" && $2 == c { print $3, $4, $5 }' "$raw" >"$out/hot-$c.dat"
done
sort -n "$out/scan-cost.dat.tmp" 2>/dev/null >"$out/scan-cost.dat" || true
rm -f "$out/scan-cost.dat.tmp"
if command -v gnuplot >/dev/null; then
	gnuplot <<GP
set terminal pngcairo size 900,500
set output "$out/hot-set.png"
set title "Fraction of the hot set PMD-mapped over time (same VM boot)"
set xlabel "seconds since the scanner started"
set ylabel "hot set huge"
set yrange [0:1.05]
set key bottom right
plot "$out/hot-khugepaged.dat" using 1:2 with lines lw 2 title "khugepaged", \
     "$out/hot-xhp-fifo.dat" using 1:2 with lines lw 2 title "xhugepaged fifo", \
     "$out/hot-xhp-hot.dat" using 1:2 with lines lw 2 title "xhugepaged hot", \
     "$out/hot-xhp-hot-backoff.dat" using 1:2 with lines dt 2 title "xhugepaged hot + backoff"
set output "$out/scan-cost.png"
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
	echo "plots: $out/hot-set.png $out/scan-cost.png"
else
	echo "bench: gnuplot missing (make deps installs it); no plots" >&2
fi
