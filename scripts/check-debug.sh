#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check-debug (not in CI): the selftests, short stress included, on a
# kernel with lockdep, KASAN, kmemleak and DEBUG_VM (scripts/debug-kernel.sh
# builds it once), with the module built against that kernel's tree. Any
# lockdep, KASAN or DEBUG_VM report is a WARNING/BUG in the kernel log, which
# scripts/vm-run.sh fails the run on; kmemleak is scanned after the tests and
# any leak it reports fails the run too.
set -uo pipefail
unset XHP_ICOUNT	# hang bounds in real time, as make check's
cd "$(dirname "$0")/.."
repo=$PWD
src=$(scripts/debug-kernel.sh) || { echo "check-debug: building the debug kernel failed" >&2; exit 1; }
kimg=$src/arch/x86/boot/bzImage

# The module, out of tree against the debug kernel, in a copy of its own.
kmod=build/debug-kmod
mkdir -p $kmod
cp Kbuild $kmod/
rm -rf $kmod/kmod && cp -r kmod $kmod/kmod
make -C "$src" M="$repo/$kmod" clean >/dev/null 2>&1
make -C "$src" M="$repo/$kmod" W=1 modules || { echo "check-debug: module build failed" >&2; exit 1; }
ko=$kmod/kmod/xhugepaged.ko

logdir=build/check-debug
mkdir -p $logdir
# KASAN and lockdep under TCG: every test is several times slower, and
# DEBUG_KOBJECT_RELEASE keeps rmmod waiting seconds for the module's
# delayed kobject release: the hang bounds grow to match. KASAN's
# quarantine holds freed slab objects back, so the stress's SUnreclaim
# bound cannot tell a leak here: the kmemleak scan after the suite does.
# The fuzzer's hist tables are smaller (xhp_fuzz.sh says why).
# (The guest does not inherit this environment: pass it in the command.)
scripts/vm-run.sh --kernel-image "$kimg" --mem 4G --timeout 7000 \
	-- env XHP_KO=$ko XHP_TEST_TIMEOUT=3000 XHP_RMMOD_HANG_MS=30000 XHP_SLAB_GROWTH_KB=65536 XHP_FUZZ_HIST_SIZE=4096 \
		scripts/check-debug-guest.sh \
	2>$logdir/vm-run.err | tee $logdir/vm.ktap
rc=${PIPESTATUS[0]}
cat $logdir/vm-run.err >&2
passed=$(grep -cE '^ok [0-9]+' $logdir/vm.ktap)
failed=$(grep -cE '^not ok [0-9]+' $logdir/vm.ktap)
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
