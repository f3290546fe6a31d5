#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Self-tests of the VM harness (scripts/vm-run.sh). Runs on the HOST; each
# case boots a VM. Prints KTAP and exits non-zero if any case fails. Each
# case's vm-run output goes to a temp file, shown only when the case fails.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
vmrun=$repo/scripts/vm-run.sh
cd "$repo"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/xhp-harness.XXXXXX")
hang_pid=''
cleanup() {
	[ -z "$hang_pid" ] || kill "$hang_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

n=0 failed=0
# A case's vm-run outputs: $tmp/NAME.out, $tmp/NAME.err, exit code $tmp/NAME.rc.
vm() {
	local name=$1
	shift
	local rc=0
	"$vmrun" "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	echo "$rc" >"$tmp/$name.rc"
}
rc_of() { cat "$tmp/$1.rc"; }

# result NAME DESCRIPTION CONDITION-STATUS [WHY]
result() {
	local name=$1 desc=$2 ok=$3 why=${4:-}
	n=$((n + 1))
	if [ "$ok" -eq 0 ]; then
		echo "ok $n $desc"
		return
	fi
	failed=$((failed + 1))
	echo "not ok $n $desc"
	echo "# $why"
	for f in out err; do
		[ -s "$tmp/$name.$f" ] || continue
		echo "# --- vm-run std$f:"
		sed 's/^/#   /' "$tmp/$name.$f"
	done
}

# expect_rc NAME DESCRIPTION WANT [STDERR-REGEX]
expect_rc() {
	local name=$1 desc=$2 want=$3 re=${4:-} got
	got=$(rc_of "$name")
	if [ "$got" != "$want" ]; then
		result "$name" "$desc" 1 "exit $got, want $want"
	elif [ -n "$re" ] && ! grep -qE "$re" "$tmp/$name.err"; then
		result "$name" "$desc" 1 "stderr lacks /$re/"
	else
		result "$name" "$desc" 0
	fi
}

echo "TAP version 13"
echo "1..9"

# The hang case mostly waits; run it alongside the others to save ~25 s.
vm hang --timeout 25 -- sleep 1000 &
hang_pid=$!

vm true -- true
expect_rc true "vm-run -- true exits 0" 0

vm false -- false
expect_rc false "vm-run -- false exits 1" 1

vm exit7 -- sh -c 'exit 7'
expect_rc exit7 "vm-run -- sh -c 'exit 7' exits 7" 7

# Output streams to our stdout; the guest runs in our cwd, as root, with
# stdin /dev/null; a file written in the guest does not reach the host.
# shellcheck disable=SC2016 # expanded in the guest
vm io -- sh -c 'echo "out:$(pwd):$(id -u)"; echo err >&2; cat; echo x >vm-written'
if [ "$(rc_of io)" = 0 ] && grep -qx "out:$repo:0" "$tmp/io.out" &&
	grep -qx err "$tmp/io.out" && [ ! -e "$repo/vm-written" ]; then
	result io "command output, cwd, root, guest-only writes" 0
else
	rm -f "$repo/vm-written"
	result io "command output, cwd, root, guest-only writes" 1 "wrong output or exit $(rc_of io)"
fi

# A tiny module that WARNs on load: insmod succeeds, vm-run must still fail
# and name the WARNING.
kver=$(find /boot -maxdepth 1 -name 'vmlinuz-6.12*' | sort -V | tail -n1)
kver=${kver#/boot/vmlinuz-}
if make -C "$here/warn_module" KVER="$kver" >"$tmp/warnbuild.err" 2>&1; then
	vm warn -- insmod "$here/warn_module/xhp_warn_test.ko"
	if [ "$(rc_of warn)" = 0 ]; then
		result warn "guest WARN fails the run" 1 "vm-run exited 0"
	else
		expect_rc warn "guest WARN fails the run" 125 \
			'vm-run: kernel problem: .*WARNING: .*xhp_warn_test'
	fi
else
	cp "$tmp/warnbuild.err" "$tmp/warn.err"
	result warn "guest WARN fails the run" 1 "building warn_module failed"
fi

vm panic -- sh -c 'echo c > /proc/sysrq-trigger'
expect_rc panic "guest panic is reported" 123 'vm-run: guest kernel panic'

vm lost -- sh -c 'echo o > /proc/sysrq-trigger; sleep 100'
expect_rc lost "power-off without status is a lost exit status" 126 'vm-run: lost exit status'

vm usage --
expect_rc usage "usage error exits 2" 2 'no COMMAND'

vm kimg_both --kernel 6.12 --kernel-image /nonexistent -- true
expect_rc kimg_both "--kernel with --kernel-image is a usage error" 2 'exclude each other'

vm kimg_missing --kernel-image "$tmp/no-such-bzImage" -- true
expect_rc kimg_missing "a missing --kernel-image is a setup error" 3 'missing or unreadable'

wait "$hang_pid" || true
hang_pid=''
expect_rc hang "hang is killed at --timeout" 124 'vm-run: timeout after 25 s \(hang\)'

echo "# harness: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
