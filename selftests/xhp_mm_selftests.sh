#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's own mm selftests (built from linux-source-6.12 by
# scripts/build-kernel-mm-selftests.sh into build/mm-selftests/, never
# vendored), run twice, in the VM as root from the repo root:
#   control:    the kernel's khugepaged flat out, xhugepaged not loaded;
#   xhugepaged: xhugepaged flat out, the kernel's khugepaged parked (lib.sh).
# The same knob values in both (enabled=madvise, scan_sleep_millisecs=0,
# alloc_sleep_millisecs=0, pages_to_scan=65536, max_ptes_none=511; for
# xhugepaged also scan_order=hot, backoff_window_millisecs=5000) and the same
# fault-time THP policy (native enabled=madvise in both: parking keeps it),
# swap on zram in both (the page-out cases need it).
# One result per (selftest, mode), each line giving both verdicts (exit
# status, and the selftest's own totals line). A control result fails only
# when the selftest hung or could not run; an xhugepaged result fails when
# its verdict differs from the control's. khugepaged itself is one of the
# selftests: it drives the kernel's khugepaged (its settings pushed and
# restored by the test), with xhugepaged loaded beside it, enabled=never, in
# the second mode.
# Usage: xhp_mm_selftests.sh [quick|all|NAME...]   (default quick: the make
# check subset; NAMEs pick selftests of the full list, e.g. uffd-unit-tests)
# Env XHP_MM_TIMEOUT: seconds each selftest may take (default 900, a hang
# bound: uffd-unit-tests took over 300 s in each mode on a loaded host).
set -u
. selftests/lib.sh
set_=${1:-quick}
bin=$PWD/build/mm-selftests
# transhuge-stress: bounded in time and to 256 MiB (by default it takes all
# of RAM, and the direct compaction that causes stalls a TCG guest for long).
stress_secs=20
# name|command line (run in a scratch directory)
all=(
	"split_huge_page_test|split_huge_page_test"
	"transhuge-stress|transhuge-stress -d $stress_secs 256"
	"cow|cow"
	"mremap_test|mremap_test"
	"madv_populate|madv_populate"
	"uffd-unit-tests|uffd-unit-tests"
	"ksm_functional_tests|ksm_functional_tests"
	"soft-dirty|soft-dirty"
	"mlock2-tests|mlock2-tests"
	"mkdirty|mkdirty"
	"map_fixed_noreplace|map_fixed_noreplace"
	"mremap_dontunmap|mremap_dontunmap"
	"khugepaged:anon|khugepaged all:anon"
	"khugepaged:shmem|khugepaged all:shmem"
)
# Under ~2 minutes of VM time for both modes (measured: 1-12 s each,
# khugepaged:anon 31 s).
quick=(
	"transhuge-stress|transhuge-stress -d 5 256"
	"mremap_test|mremap_test"
	"mremap_dontunmap|mremap_dontunmap"
	"map_fixed_noreplace|map_fixed_noreplace"
	"mkdirty|mkdirty"
	"mlock2-tests|mlock2-tests"
	"madv_populate|madv_populate"
	"khugepaged:anon|khugepaged all:anon"
)
case $set_ in
all) tests=("${all[@]}") ;;
quick) tests=("${quick[@]}") ;;
*)
	tests=()
	for want in "$@"; do
		for entry in "${all[@]}"; do
			[ "${entry%%|*}" = "$want" ] && tests+=("$entry")
		done
	done
	[ ${#tests[@]} -eq $# ] || { echo "usage: $0 [quick|all|NAME...]" >&2; exit 2; }
	;;
esac
params="enabled=madvise scan_sleep_millisecs=0 alloc_sleep_millisecs=0 pages_to_scan=65536 max_ptes_none=511 scan_order=hot backoff_window_millisecs=5000"
per_test_timeout=${XHP_MM_TIMEOUT:-900}
ktap_begin
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
scratch=$(mktemp -d)
# Swap (zram), so that the cases that page out run (khugepaged's swapin and
# max_ptes_swap cases fail without it, cow skips its swap cases).
xhp_swap_on || echo "# no swap: page-out cases fail or skip"
declare -A verdict totals

native_flat_out() {
	xhp_native_unpark
	echo madvise >$T/enabled
	echo 0 >$T/khugepaged/scan_sleep_millisecs
	echo 0 >$T/khugepaged/alloc_sleep_millisecs
	echo 65536 >$T/khugepaged/pages_to_scan
	echo 511 >$T/khugepaged/max_ptes_none
}

# run MODE: every selftest once; verdict[MODE,name] = pass|fail(rc)|skip|hung
run() {
	local mode=$1 entry name cmd rc log line
	for entry in "${tests[@]}"; do
		name=${entry%%|*}
		cmd=${entry#*|}
		log=build/mm-selftests.$mode.${name//[:\/]/_}.log
		if [ ! -x "$bin/${cmd%% *}" ]; then
			verdict[$mode,$name]=missing
			totals[$mode,$name]=
			continue
		fi
		# The khugepaged selftest drives the kernel's khugepaged and sets
		# its knobs (max_ptes_none low, say) expecting no collapse: a
		# second scanner flat out with its own knobs collapses what it
		# expects to stay small ("Unexpected huge page", seen). There,
		# xhugepaged stays loaded, hooks live, with enabled=never.
		idle=0
		if [ "$mode" = xhugepaged ] && [ "${name%%:*}" = khugepaged ]; then
			echo never >$X/enabled && idle=1
		fi
		start=$(date +%s)
		(cd "$scratch" && timeout -k 10 "$per_test_timeout" $bin/$cmd) >"$log" 2>&1
		rc=$?
		[ $idle -eq 1 ] && echo madvise >$X/enabled
		case $rc in
		0) verdict[$mode,$name]=pass ;;
		# khugepaged exits with its number of failed cases, not KSFT_SKIP.
		4) [ "${name%%:*}" = khugepaged ] && verdict[$mode,$name]="fail($rc)" ||
			verdict[$mode,$name]=skip ;;
		124|137) verdict[$mode,$name]=hung ;;
		*) verdict[$mode,$name]="fail($rc)" ;;
		esac
		line=$(grep -m1 '^# Totals:' "$log" | sed 's/^# Totals: //')
		# uffd-unit-tests prints its own totals line; khugepaged none: its
		# cases' Fail/OK lines, counted.
		[ -z "$line" ] && line=$(sed -n 's/^Userfaults unit tests: //p' "$log" | head -n 1)
		[ -z "$line" ] && [ "${name%%:*}" = khugepaged ] &&
			line="$(grep -ac '\.\.\..*OK' "$log") OK lines, $(grep -ac '\.\.\..*Fail' "$log") Fail lines"
		totals[$mode,$name]="${line:-no totals}, $(( $(date +%s) - start )) s"
		# What failed, for the record (and where a hung one was).
		grep -E '^not ok' "$log" | head -n 5 | sed "s/^/# $mode $name: /"
		case ${verdict[$mode,$name]} in
		pass|skip) ;;
		*)
			# khugepaged prints each case's verdict after its name.
			grep -a 'Fail' "$log" | sed 's/\x1b\[[0-9;]*m//g' | head -n 8 |
				sed "s/^/# $mode $name (Fail): /"
			tail -n 4 "$log" | sed 's/\x1b\[[0-9;]*m//g' |
				sed "s/^/# $mode $name (${verdict[$mode,$name]}, last lines): /"
			;;
		esac
	done
}

echo "# control: the kernel's khugepaged flat out"
xhp_unload_quiet
native_flat_out
c0=$(cat $T/khugepaged/pages_collapsed)
run control
c1=$(cat $T/khugepaged/pages_collapsed)
echo "# control: the kernel's khugepaged collapsed $((c1 - c0)) pages"

echo "# xhugepaged flat out, the kernel's khugepaged parked"
xhp_native_restore
xhp_native_park
if insmod "$XHP_KO" $params; then
	run xhugepaged
	echo "# xhugepaged collapsed $(cat $XK/pages_collapsed) pages"
	rmmod xhugepaged
else
	for entry in "${tests[@]}"; do
		verdict[xhugepaged,${entry%%|*}]="no module"
		totals[xhugepaged,${entry%%|*}]=
	done
fi

for entry in "${tests[@]}"; do
	name=${entry%%|*}
	c=${verdict[control,$name]} x=${verdict[xhugepaged,$name]}
	both="control $c (${totals[control,$name]}); xhugepaged $x (${totals[xhugepaged,$name]})"
	case $c in hung|missing) not_ok "mm_$name control # $both" ;; *) ok "mm_$name control # $both" ;; esac
	if [ "$c" = "$x" ]; then
		ok "mm_$name xhugepaged_same_verdict # $both"
	else
		not_ok "mm_$name xhugepaged_same_verdict # $both"
		# The logs live in the guest's overlay: what differs goes out here.
		for mode in control xhugepaged; do
			grep -vE '^ok ' "build/mm-selftests.$mode.${name//[:\/]/_}.log" |
				tail -n 15 | sed "s/^/# $mode $name: /"
		done
	fi
done
rm -rf "$scratch"
ktap_end
