#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Overhead of xhugepaged's hooks on the THP fault, split and unmap paths.
# In one VM boot, runs scripts/bench-hooks.c with the module unloaded and
# then loaded (hooks live, scanner idle: enabled=never), then loaded with
# events/enabled=0, ROUNDS times over, and prints the median time ratios to
# the unloaded run. Not a test.
#
# usage: scripts/bench-hooks.sh [ROUNDS [ITERATIONS]]
#   VM_RUN=path/to/vm-run.sh  (default: scripts/vm-run.sh)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$repo/build/bench/bench-hooks
ko=$repo/kmod/xhugepaged.ko

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

guest() {
	local rounds=$1 iterations=$2 r base hooked quiet
	local thp=/sys/kernel/mm/transparent_hugepage/enabled

	# Native THP on, so the huge fault, split and zap paths all run.
	echo always > $thp
	"$bench" $((iterations / 4)) > /dev/null	# warm up
	: > /tmp/ratios
	: > /tmp/ratios_off
	for r in $(seq "$rounds"); do
		base=$("$bench" "$iterations")
		insmod "$ko" enabled=never
		# The event hooks arm after the load; this read waits for them.
		cat /sys/kernel/mm/xhugepaged/events/enabled > /dev/null
		hooked=$("$bench" "$iterations")
		# Only the scanner's registry hooks: what events/enabled=0 leaves.
		echo 0 > /sys/kernel/mm/xhugepaged/events/enabled
		quiet=$("$bench" "$iterations")
		rmmod xhugepaged
		echo "round $r: unloaded $base ns, loaded $hooked ns, loaded with events/enabled=0 $quiet ns"
		awk -v a="$hooked" -v b="$base" 'BEGIN { printf "%.4f\n", a / b }' >> /tmp/ratios
		awk -v a="$quiet" -v b="$base" 'BEGIN { printf "%.4f\n", a / b }' >> /tmp/ratios_off
	done
	echo "ratio loaded/unloaded, median of $rounds rounds: $(median < /tmp/ratios)"
	echo "ratio loaded (events/enabled=0)/unloaded, median: $(median < /tmp/ratios_off)"
}

if [ "${1:-}" = --guest ]; then
	guest "$2" "$3"
	exit
fi

rounds=${1:-7}
iterations=${2:-400}
vm_run=${VM_RUN:-$repo/scripts/vm-run.sh}
[ -x "$vm_run" ] || { echo "no $vm_run; set VM_RUN" >&2; exit 2; }
[ -f "$ko" ] || { echo "no $ko; run make first" >&2; exit 2; }
mkdir -p "$(dirname "$bench")"
cc -O2 -Wall -Wextra -o "$bench" "$repo/scripts/bench-hooks.c"
cd "$repo"
"$vm_run" --timeout 1200 -- "$repo/scripts/bench-hooks.sh" --guest "$rounds" "$iterations"
