#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The observability hooks and tools, with the module loaded: how each hook
# is installed (hooks/), bin/xhp_events (exact counts and causes of each
# split/collapse hook, latency, hooks-off) then xhp_bpftrace.sh (each
# scripts/bpftrace tool against a workload).
# Runs in the VM as root from the repository root.
set -u
. selftests/lib.sh
# The event hooks are one fprobe by default where the kernel has a usable
# fprobe (6.12 and 6.13 with CONFIG_FPROBE), else kretprobes; event_hooks=
# picks either where both exist.
event_vias=kretprobe
xhp_have_fprobe && event_vias="fprobe kretprobe"
default_via=${event_vias%% *}
EVENT_HOOKS="split_pmd split_folio deferred_split_scan collapse_huge_page collapse_file
	madvise_collapse huge_fault zap_pmd"
insmod "$XHP_KO" enabled=madvise scan_sleep_millisecs=100 && xhp_events_armed ||
	{ echo "not ok 1 insmod"; exit 1; }
selftests/bin/xhp_events
rc=$?
ktap_begin
# How each hook is installed decides how long rmmod takes to remove it:
# the entry hooks are breakpoints past the ftrace site, not ftrace-based
# kprobes (Documentation/reliability.rst).
hooks_state() {
	local f
	for f in "$X"/hooks/*; do
		echo "$(basename "$f") $(cat "$f")"
	done
}
hooks=$(hooks_state)
echo "$hooks" | sed 's/^/# hooks: /'
via() { echo "$hooks" | awk -v h="$1" '$1 == h { print $2 "/" $5 }'; }
# events_via VIA: the event hooks not live by VIA, or nothing.
events_via() {
	local h bad=
	hooks=$(hooks_state)
	for h in $EVENT_HOOKS; do
		[ "$(via $h)" = "live/$1" ] || bad="$bad $h=$(via $h)"
	done
	echo "$bad"
}
# unload_line_by VIA: the last unload line says the event hooks came off by VIA.
unload_line_by() {
	dmesg | grep 'unloaded:' | tail -n 1 |
		grep -q "scanner hooks off in [0-9]* ms, event hooks off in [0-9]* ms by $1 alongside"
}
bad=
for h in mm_enter mm_exit split_backoff; do
	[ "$(via $h)" = live/kprobe ] || bad="$bad $h=$(via $h)"
done
check "hooks_entry_kprobes_are_breakpoints${bad:+ #$bad}" test -z "$bad"
bad=$(events_via $default_via)
check "hooks_events_are_${default_via}s_by_default${bad:+ #$bad}" test -z "$bad"
bad=
for h in mm_fork collapse_result; do
	[ "$(via $h)" = live/tracepoint ] || bad="$bad $h=$(via $h)"
done
check "hooks_tracepoints_live${bad:+ #$bad}" test -z "$bad"
# The scanner's own collapses are told apart from MADV_COLLAPSE's.
echo 1 >"$X/events/reset"
python3 -c 'import mmap, time
m = mmap.mmap(-1, 8 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for off in range(0, 8 << 20, 4096):
    m[off] = 1
m.madvise(mmap.MADV_HUGEPAGE)
time.sleep(30)' &
py=$!
wait_for '[ "$(cat $X/events/madvise_collapse/initiator_xhugepaged)" -ge 1 ]' 200
by_us=$(cat "$X/events/madvise_collapse/initiator_xhugepaged")
by_madv=$(cat "$X/events/madvise_collapse/initiator_madvise")
engine=$(cat "$X/events/collapse_huge_page/initiator_xhugepaged")
kill $py
echo "# scanner: madvise_collapse/initiator_xhugepaged=$by_us initiator_madvise=$by_madv collapse_huge_page/initiator_xhugepaged=$engine"
check "collapse_initiator_xhugepaged" test "$by_us" -ge 1 -a "$by_madv" -eq 0 -a "$engine" -ge 1
# The tools' workload wants the scanner on every anonymous range.
echo always >"$X/enabled"
selftests/xhp_bpftrace.sh
rc2=$?
rmmod xhugepaged
check "unload_line_breaks_down_the_exit" unload_line_by $default_via
# event_hooks= chooses how they are installed; under the other choice the
# hooks still count exactly (xhp_events again) and come off by it.
rc3=0
for v in $event_vias; do
	insmod "$XHP_KO" enabled=madvise scan_sleep_millisecs=100 event_hooks=$v ||
		{ not_ok "event_hooks_$v # insmod failed"; rc3=1; continue; }
	bad=$(events_via $v)
	check "event_hooks_${v}_installs_${v}s${bad:+ #$bad}" test -z "$bad"
	if [ $v != $default_via ]; then
		out=$(selftests/bin/xhp_events 2>&1)
		erc=$?
		echo "$out" | sed "s/^/# $v: /"
		check "event_hooks_${v}_counts_exactly" test $erc -eq 0
	fi
	rmmod xhugepaged
	check "event_hooks_${v}_unload_line_by_$v" unload_line_by $v
done
ktap_end
[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ] && [ "$_fails" -eq 0 ]
