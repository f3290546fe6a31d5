# SPDX-License-Identifier: GPL-2.0
# Shell helpers shared by the selftests; sourced, run in the VM as root from
# the repository root.
T=/sys/kernel/mm/transparent_hugepage
X=/sys/kernel/mm/xhugepaged
XK=$X/khugepaged
# The module built for the running kernel: build/kmod-VERSION/ for any but
# the default kernel (make module KVER=VERSION), else kmod/ (the Makefile).
if [ -z "${XHP_KO:-}" ]; then
	XHP_KO=build/kmod-$(uname -r)/xhugepaged.ko
	[ -e "$XHP_KO" ] || XHP_KO=kmod/xhugepaged.ko
fi
export XHP_KO
XHP_PARK_PIDFILE=/run/xhp-native-park.pid

_n=0
_fails=0
ktap_begin() { echo "TAP version 13"; }
ok() { _n=$((_n + 1)); echo "ok $_n $*"; }
not_ok() { _n=$((_n + 1)); _fails=$((_fails + 1)); echo "not ok $_n $*"; }
skip() { _n=$((_n + 1)); echo "ok $_n $1 # SKIP ${2:-}"; }
# check NAME COMMAND...: ok when COMMAND succeeds.
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
ktap_end() { echo "1..$_n"; [ "$_fails" -eq 0 ]; }

xhp_loaded() { [ -d /sys/module/xhugepaged ]; }
# The event hooks (events/) arm in a worker after insmod; reading
# events/enabled returns once they are in.
xhp_events_armed() { cat "$X/events/enabled" >/dev/null; }
# xhp_have_fprobe: the running kernel has an fprobe the event hooks can be
# (6.12 and 6.13 with CONFIG_FPROBE: XHP_HAVE_FPROBE in kmod/compat.h).
xhp_have_fprobe() {
	case $(uname -r) in
	6.12.* | 6.13.*) grep -q '^CONFIG_FPROBE=y' "/boot/config-$(uname -r)" ;;
	*) return 1 ;;
	esac
}
xhp_unload_quiet() { xhp_loaded && rmmod xhugepaged 2>/dev/null; xhp_loaded && sleep 1 && rmmod xhugepaged 2>/dev/null; true; }

# Keep the kernel's own khugepaged from collapsing anything, while page faults
# in MADV_HUGEPAGE areas may still allocate THPs (native enabled=madvise):
# its thread is put to sleep for an hour with a budget of one PMD per wake,
# and its queue is kept non-empty by a parked process so a new mm never
# wakes it. A test that proves xhugepaged collapsed something checks that
# the native pages_collapsed did not move. The parked area's one faulted
# page lies outside every whole PMD range of it, so neither khugepaged
# (whose parking wake, or a restart by a write of its enabled, scans one
# range, at whatever time a loaded VM runs it) nor xhugepaged ever has
# anything in it to collapse.
xhp_native_park() {
	if [ -f "$XHP_PARK_PIDFILE" ] && kill -0 "$(cat "$XHP_PARK_PIDFILE")" 2>/dev/null; then
		return 0
	fi
	echo never >$T/enabled
	echo 3600000 >$T/khugepaged/scan_sleep_millisecs
	echo 3600000 >$T/khugepaged/alloc_sleep_millisecs
	echo 8 >$T/khugepaged/pages_to_scan
	echo madvise >$T/enabled
	local ready
	ready=$(mktemp -u)
	python3 -c 'import ctypes, mmap, sys, time
pmd = 2 << 20
m = mmap.mmap(-1, (64 << 20) + 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
# An anon_vma first: without one khugepaged_enter_vma() ignores the area.
# The page faulted for it: the first, unless the area starts on a PMD
# boundary; then the last, past the last boundary inside it.
start = ctypes.addressof(ctypes.c_char.from_buffer(m))
m[0 if start % pmd else len(m) - 1] = 1
m.madvise(mmap.MADV_HUGEPAGE)
open(sys.argv[1], "w").close(); time.sleep(36000)' "$ready" &
	echo $! >"$XHP_PARK_PIDFILE"
	for _ in $(seq 300); do [ -e "$ready" ] && break; sleep 0.1; done
	rm -f "$ready"
	sleep 1	# the parked entry wakes the thread once: one PMD, then the long sleep
}

xhp_native_restore() {
	echo never >$T/enabled
	echo 10000 >$T/khugepaged/scan_sleep_millisecs
	echo 60000 >$T/khugepaged/alloc_sleep_millisecs
	echo 4096 >$T/khugepaged/pages_to_scan
}

xhp_native_unpark() {
	[ -f "$XHP_PARK_PIDFILE" ] && kill "$(cat "$XHP_PARK_PIDFILE")" 2>/dev/null
	rm -f "$XHP_PARK_PIDFILE"
	xhp_native_restore
}

xhp_swap_on() {
	swapon --show=NAME --noheadings | grep -q . && return 0
	{ [ -e /sys/block/zram0 ] || modprobe zram; } && echo 512M >/sys/block/zram0/disksize &&
		mkswap /dev/zram0 >/dev/null && swapon /dev/zram0
}

# wait_for COND-COMMAND [TENTHS]: poll until COND succeeds (default 10 s).
wait_for() {
	local cond=$1 i
	for i in $(seq "${2:-100}"); do eval "$cond" && return 0; sleep 0.1; done
	return 1
}
