#!/bin/bash
# The kernel's own mm selftest `khugepaged` (built from Debian's
# linux-source of the running kernel's series, 6.1 or 6.12, by
# scripts/build-kernel-khugepaged.sh), run unchanged
# against xhugepaged's mirror bind-mounted over
# /sys/kernel/mm/transparent_hugepage in a private mount namespace.
# Every collapse case must pass with xhugepaged doing the collapsing: the
# native khugepaged is parked and must collapse nothing.
# Runs inside the test VM from the repo root; KTAP output.
set -u
. selftests/lib.sh
series=$(uname -r | cut -d. -f1,2)
bin=build/kselftest-mm-$series/khugepaged

ktap_begin
if [ ! -x "$bin" ]; then
	not_ok "kernel_khugepaged_built # $bin missing: run scripts/build-kernel-khugepaged.sh $series"
	ktap_end; exit 1
fi
# Faults must be able to make THPs in MADV_HUGEPAGE areas (the kernel's test
# builds compound pages that way) while the native khugepaged collapses
# nothing: see xhp_native_park.
xhp_native_park
native0=$(cat $T/khugepaged/pages_collapsed)

xhp_swap_on
insmod "$XHP_KO" || { not_ok "insmod"; ktap_end; exit 1; }
ours0=$(cat $X/khugepaged/pages_collapsed)

out=$(mktemp)
unshare -m sh -c "mount --bind $X $T && exec timeout 600 $bin khugepaged:anon" >"$out" 2>&1
rc=$?
# Progress lines of collapse_compound_extreme end in '...' with no newline.
sed -i 's/Construct PTE page table full of different PTE-mapped compound pages *[0-9]*\/512\.\.\.//g' "$out"
sed 's/\x1b\[[0-9;]*m//g; s/^/# /' "$out"

# The preamble's "Allocate huge page on fault" exercises the page-fault path,
# which belongs to the native directory: expected to fail (documented).
awk '
	/^Run test: / { if (name != "") print name, bad; name = $3; bad = 0; next }
	/Fail|Failed/ { if (name != "") bad = 1 }
	END { if (name != "") print name, bad }
' "$out" | while read -r name bad; do
	if [ "$bad" = 0 ]; then echo "ok_case $name"; else echo "bad_case $name"; fi
done >"$out.cases"
cases=$(wc -l <"$out.cases")
while read -r verdict name; do
	if [ "$verdict" = ok_case ]; then ok "kernel_khugepaged_$name"; else not_ok "kernel_khugepaged_$name"; fi
done <"$out.cases"
[ "$cases" -ge 12 ] && grep -q 'Restore THP and khugepaged settings.*OK' "$out" &&
	ok "kernel_khugepaged_ran_all_12_anon_cases (rc=$rc, $cases cases)" ||
	not_ok "kernel_khugepaged_ran_all_12_anon_cases (rc=$rc, $cases cases)"

native1=$(cat $T/khugepaged/pages_collapsed)
ours1=$(cat $X/khugepaged/pages_collapsed)
echo "# collapses: xhugepaged $((ours1 - ours0)), native khugepaged $((native1 - native0))"
[ "$native1" -eq "$native0" ] && ok "native_khugepaged_collapsed_nothing" ||
	not_ok "native_khugepaged_collapsed_nothing"
[ $((ours1 - ours0)) -ge 12 ] && ok "xhugepaged_did_the_collapses" ||
	not_ok "xhugepaged_did_the_collapses"

rmmod xhugepaged
rm -f "$out" "$out.cases"
ktap_end
