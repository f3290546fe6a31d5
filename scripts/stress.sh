#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make stress [DURATION=seconds] [CYCLES=n] [WORKERS=n] [SCAN_ORDERS="fifo hot"]
#             [FUZZ_DURATION=seconds] [FUZZ_RELOADS=n] [FUZZ_PROCS=n] [FUZZ_SEED=n]
#             [MM_SELFTESTS=0|1]
# The long forms, each in a VM boot of its own (so that a kernel warning is
# pinned on the part that caused it):
#  1. the churn stress (selftests/xhp_stress.sh): data integrity over many
#     collapses, CYCLES load/unload cycles under load, slab delta; once per
#     scan order in SCAN_ORDERS (default both, fifo and hot), DURATION each;
#  2. the address-space fuzzer (selftests/xhp_fuzz.sh) for FUZZ_DURATION
#     (default 1200 s) with FUZZ_RELOADS reloads (default one a minute);
#  3. every kernel mm selftest of selftests/xhp_mm_selftests.sh, both modes.
# DURATION=0 skips part 1, FUZZ_DURATION=0 part 2, MM_SELFTESTS=0 part 3.
# `make check` runs the short forms. Exits non-zero if any part failed.
set -uo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-600}
cycles=${CYCLES:-100}
workers=${WORKERS:-6}
orders=${SCAN_ORDERS:-fifo hot}
fuzz_duration=${FUZZ_DURATION:-1200}
fuzz_reloads=${FUZZ_RELOADS:-$((fuzz_duration / 60))}
fuzz_procs=${FUZZ_PROCS:-4}
fuzz_seed=${FUZZ_SEED:-}
mm=${MM_SELFTESTS:-1}
failed=()

part() {
	local name=$1
	shift
	echo "# stress: $name"
	"$@"
	local rc=$?
	echo "# stress: $name: exit $rc"
	[ $rc -eq 0 ] || failed+=("$name (exit $rc)")
}

if [ "$duration" -gt 0 ]; then
	for order in $orders; do
		part "churn-$order" scripts/vm-run.sh --mem 4G --timeout $((duration * 2 + 600)) -- \
			selftests/xhp_stress.sh "$duration" "$cycles" "$workers" "$order"
	done
fi
[ "$fuzz_duration" -gt 0 ] &&
	part fuzz scripts/vm-run.sh --mem 4G --timeout $((fuzz_duration * 2 + 600)) -- \
		selftests/xhp_fuzz.sh "$fuzz_duration" "$fuzz_reloads" "$fuzz_procs" $fuzz_seed
[ "$mm" = 1 ] &&
	part mm-selftests scripts/vm-run.sh --mem 4G --timeout 7200 -- \
		selftests/xhp_mm_selftests.sh all

if [ ${#failed[@]} -gt 0 ]; then
	echo "# stress: FAILED: ${failed[*]}"
	exit 1
fi
echo "# stress: all parts passed"
