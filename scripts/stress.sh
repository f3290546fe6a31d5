#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make stress [DURATION=seconds] [CYCLES=n] [WORKERS=n]: the long form of
# the churn stress (selftests/xhp_stress.sh) in one VM boot: data integrity
# over many collapses, CYCLES load/unload cycles under load, slab delta.
# `make check` runs the short form (80 s, 5 cycles).
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-600}
cycles=${CYCLES:-100}
workers=${WORKERS:-6}
exec scripts/vm-run.sh --mem 4G --timeout $((duration * 2 + 600)) -- \
	selftests/xhp_stress.sh "$duration" "$cycles" "$workers"
