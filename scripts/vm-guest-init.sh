#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the test VM (exec'd by the initramfs after switch_root into the
# host's / under a tmpfs overlay). Mounts the usual filesystems, runs the
# command that scripts/vm-run.sh wrote to the file named by xhp.cmd= in the
# directory xhp.cwd=, sends its output to the virtio port "out" and its exit
# code to the port "status", then powers off.
#
# Not `set -e`: PID 1 must never exit (the kernel panics when it does), so
# every failure is handled explicitly and ends in a power-off, which the host
# sees as a lost exit status.
set -uo pipefail

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "xhp-guest: $*" >/dev/console 2>/dev/null || echo "xhp-guest: $*"; }

poweroff_now() {
	sync
	# Immediate ACPI power-off: QEMU exits, no userspace shutdown needed.
	echo o >/proc/sysrq-trigger
	while :; do sleep 1000; done
}

fail() {
	log "FAILED: $*; powering off"
	poweroff_now
}

# is_mounted DIR, with builtins only: every exec costs under TCG.
is_mounted() {
	local _src dir _rest
	while read -r _src dir _rest; do
		[ "$dir" = "$1" ] && return 0
	done </proc/self/mounts
	return 1
}

# mnt TYPE SOURCE DIR OPTIONS: mount unless something already is there.
# The initramfs mounts all of these already (faster); this is the fallback.
mnt() {
	is_mounted "$3" && return 0
	[ -d "$3" ] || mkdir -p "$3"
	mount -t "$1" -o "$4" "$2" "$3" || log "warning: cannot mount $1 on $3"
}

# The initramfs hands these over already mounted; mounting is the fallback.
mnt proc proc /proc nosuid,nodev,noexec
mnt sysfs sysfs /sys nosuid,nodev,noexec
mnt devtmpfs devtmpfs /dev nosuid,mode=0755

xhp_cmd='' xhp_cwd=/
read -r -a kargs </proc/cmdline || true
for a in "${kargs[@]}"; do
	case $a in
	xhp.cmd=*) xhp_cmd=${a#xhp.cmd=} ;;
	xhp.cwd=*) xhp_cwd=${a#xhp.cwd=} ;;
	esac
done
[ -n "$xhp_cmd" ] || fail "no xhp.cmd= on the kernel command line"
# Read it now: a tmpfs on /tmp would hide a command file kept there.
cmd=$(<"$xhp_cmd") || fail "cannot read command file $xhp_cmd"

mnt devpts devpts /dev/pts gid=5,mode=620,ptmxmode=666
mnt tmpfs shm /dev/shm nosuid,nodev,mode=1777
# devtmpfs lacks these; bash process substitution needs /dev/fd.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr

# A fresh /tmp and /run, unless the run's own files live there (a checkout
# under /tmp, say): then keep the overlay's view, which is writable too.
for d in /tmp /run; do
	case "$xhp_cwd/ $0 $xhp_cmd" in
	"$d"/* | *" $d"/*) continue ;;
	esac
	if [ "$d" = /tmp ]; then mode=1777; else mode=755; fi
	mnt tmpfs tmpfs "$d" "nosuid,nodev,mode=$mode"
done
mnt debugfs debugfs /sys/kernel/debug nosuid,nodev,noexec
mnt tracefs tracefs /sys/kernel/tracing nosuid,nodev,noexec
mnt cgroup2 cgroup2 /sys/fs/cgroup nosuid,nodev,noexec

[ "$(</proc/sys/kernel/hostname)" = xhp-vm ] || echo xhp-vm >/proc/sys/kernel/hostname
# IFF_UP is bit 0 of the flags.
if (($(</sys/class/net/lo/flags) % 2 == 0)) && command -v ip >/dev/null; then
	ip link set lo up 2>/dev/null || true
fi

# Ports show up once the host side's control messages are processed, which
# can race with us: wait a little for both.
out='' status=''
for ((try = 0; try < 100; try++)); do
	for p in /sys/class/virtio-ports/*; do
		[ -r "$p/name" ] || continue
		case $(<"$p/name") in
		out) out=/dev/${p##*/} ;;
		status) status=/dev/${p##*/} ;;
		esac
	done
	[ -n "$out" ] && [ -n "$status" ] && [ -c "$out" ] && [ -c "$status" ] && break
	out='' status=''
	sleep 0.05
done
[ -n "$status" ] || fail "virtio port 'status' not found"
[ -n "$out" ] || fail "virtio port 'out' not found"

cd "$xhp_cwd" || fail "cannot cd to $xhp_cwd"
# A clean environment; XHP_VM tells scripts they are inside the test VM.
env -i PATH="$PATH" HOME=/root TERM=dumb USER=root LOGNAME=root SHELL=/bin/bash \
	LANG=C.UTF-8 XHP_VM=1 \
	/bin/bash -c "$cmd" </dev/null >"$out" 2>&1
rc=$?

printf '%d\n' "$rc" >"$status" || fail "cannot write the exit status to $status"
# Give the host a moment to drain the ports before the power goes.
sleep 0.1
poweroff_now
