#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Self-tests of the VM harness (scripts/vm-run.sh, its accelerator choice)
# and of the verdict logic (selftests/run_tests outside the VM on fake
# tests, scripts/check.sh --judge, scripts/bench.sh on a fake VM). Runs on
# the HOST; most vm-run cases boot a VM. Prints KTAP, the plan last, and
# exits non-zero if any case fails. Each case's output goes to a temp file,
# shown only when the case fails.
set -uo pipefail	# not -e: every case checks its own statuses
# The cases set the clock they test: a guest clock on instructions
# (XHP_ICOUNT) would let the hang case's sleep end before its timeout.
unset XHP_ICOUNT

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
vmrun=$repo/scripts/vm-run.sh
cd "$repo" || exit 1

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

# vm_fake NAME ACT CACHE [VM-RUN ARGS]: vm-run with the stand-in QEMU
# (harness/fake-qemu: ACT is what it does under accel=kvm) first in PATH,
# a fake /dev/kvm that is read-write, and the accelerator verdict in CACHE.
# XHP_ACCEL is auto unless the caller sets it.
: >"$tmp/kvm"
vm_fake() {
	local name=$1 act=$2 cache=$3
	shift 3
	PATH="$here/fake-qemu:$PATH" XHP_FAKE_QEMU=$act XHP_FAKE_QEMU_LOG="$tmp/$name.qlog" \
		XHP_ACCEL_CACHE=$cache XHP_KVM_DEV="$tmp/kvm" XHP_ACCEL=${XHP_ACCEL_CASE:-auto} vm "$name" "$@"
	touch "$tmp/$name.qlog"
}
kvm_starts() { wc -l <"$tmp/$1.qlog" | tr -d ' '; }
# expect_err NAME DESCRIPTION CONDITION-STATUS: a case whose own condition
# was checked by the caller.
expect() { result "$1" "$2" "$3" "${4:-}"; }

echo "TAP version 13"

# --- the verdict logic, on the host with fake inputs (no VM)
fake=$here/fake-tests
host_case() {
	local name=$1
	shift
	local rc=0
	"$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	echo "$rc" >"$tmp/$name.rc"
}
echo 12288 >"$tmp/taint-own"	# O E: the module's own
echo 12800 >"$tmp/taint-warn"	# W O E
runner() { XHP_RUNNER_DRY=1 XHP_TAINT_FILE=$1 "$repo/selftests/run_tests" "${@:2}"; }

host_case runner_ok runner "$tmp/taint-own" "$fake/plan_ok.sh" "$fake/two_streams.sh"
[ "$(rc_of runner_ok)" = 0 ] && ! grep -q '^not ok' "$tmp/runner_ok.out" &&
	[ "$(tail -n1 "$tmp/runner_ok.out")" = "1..6" ]
expect runner_ok "run_tests passes complete tests (plans summed), plan 1..6 last" $? "exit $(rc_of runner_ok)"

host_case runner_short runner "$tmp/taint-own" "$fake/short_plan.sh"
[ "$(rc_of runner_short)" != 0 ] && grep -q '^not ok [0-9]* short_plan: printed 2 results, its plan says 1..3$' "$tmp/runner_short.out"
expect runner_short "run_tests fails a test that printed fewer results than its plan" $?

host_case runner_noplan runner "$tmp/taint-own" "$fake/no_plan.sh"
[ "$(rc_of runner_noplan)" != 0 ] && grep -q '^not ok [0-9]* no_plan: printed no plan' "$tmp/runner_noplan.out"
expect runner_noplan "run_tests fails a test that printed no plan" $?

host_case runner_midexit runner "$tmp/taint-own" "$fake/exit_mid_plan.sh"
[ "$(rc_of runner_midexit)" != 0 ] && grep -q '^not ok [0-9]* exit_mid_plan: exited 2 without a failing result$' "$tmp/runner_midexit.out" &&
	grep -q '^not ok [0-9]* exit_mid_plan: printed 1 results, its plan says 1..3$' "$tmp/runner_midexit.out"
expect runner_midexit "run_tests fails a test that exits 2 mid-plan" $?

host_case runner_taint runner "$tmp/taint-warn" "$fake/plan_ok.sh"
[ "$(rc_of runner_taint)" != 0 ] && grep -q '^not ok 3 taint_only_the_modules_own # tainted 12800 (WOE)' "$tmp/runner_taint.out"
expect runner_taint "run_tests fails on a taint flag other than O and E, decoded" $?

host_case runner_host env -u XHP_VM -u XHP_RUNNER_DRY "$repo/selftests/run_tests" "$fake/plan_ok.sh"
expect_rc runner_host "run_tests refuses to run outside the VM" 2 'runs inside the test VM'

# check.sh's judgement of a run: exit status, vm-run's complaints, plan.
printf 'TAP version 13\nok 1 a\nok 2 b\n1..2\n' >"$tmp/full.ktap"
printf 'TAP version 13\nok 1 a\nok 2 b\n' >"$tmp/noplan.ktap"
printf 'TAP version 13\n1..3\nok 1 a\nok 2 b\n' >"$tmp/short.ktap"
: >"$tmp/clean.err"
echo 'vm-run: kernel problem: failing the run (the command itself exited 0)' >"$tmp/warn.err"
judge() { "$repo/scripts/check.sh" --judge "$@"; }
host_case judge_ok judge d 0 "$tmp/full.ktap" "$tmp/clean.err"
expect_rc judge_ok "check.sh judges a clean complete run ok" 0
host_case judge_rc judge d 126 "$tmp/full.ktap" "$tmp/clean.err"
grep -q '^not ok 1 d # exit 126' "$tmp/judge_rc.out"
expect judge_rc "check.sh fails a VM that exited 126 (runner not executable)" $?
host_case judge_noplan judge d 0 "$tmp/noplan.ktap" "$tmp/clean.err"
grep -q '^not ok 1 d # no final plan' "$tmp/judge_noplan.out"
expect judge_noplan "check.sh fails a suite without its final plan" $?
host_case judge_short judge d 0 "$tmp/short.ktap" "$tmp/clean.err"
grep -q '^not ok 1 d # 2 results, plan 1..3' "$tmp/judge_short.out"
expect judge_short "check.sh fails a suite short of its plan" $?
host_case judge_warn judge d 0 - "$tmp/warn.err"
grep -q '^not ok 1 d # vm-run: kernel problem' "$tmp/judge_warn.out"
expect judge_warn "check.sh fails a run whose log has vm-run's kernel problem, even at exit 0" $?

# bench.sh on a VM that completes but warns (vm-run 125): a failure now.
mkdir -p "$tmp/fakevm"
cat >"$tmp/fakevm/vm-run.sh" <<'FAKE'
#!/bin/sh
echo "RESULT done 1"
echo "vm-run: kernel problem: failing the run (the command itself exited 0)" >&2
exit 125
FAKE
chmod +x "$tmp/fakevm/vm-run.sh"
host_case bench_warn env XHP_VM_RUN="$tmp/fakevm/vm-run.sh" XHP_BENCH_OUT="$tmp/bench" "$repo/scripts/bench.sh" --smoke
expect_rc bench_warn "bench.sh fails when its VM reports a kernel warning (125)" 1 'bench: the VM run failed: vm-run exit 125'

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

# --- the accelerator (stand-in QEMU, fake /dev/kvm)
vm usage_accel --accel xen -- true
expect_rc usage_accel "--accel other than kvm|tcg|auto is a usage error" 2 'kvm, tcg or auto'

vm usage_icount --icount 11 -- true
expect_rc usage_icount "--icount outside 0-10 is a usage error" 2 'SHIFT is 0-10'

# Guest time from the instruction count, idle skipped: a guest sleep of
# 300 s ends inside a 250 s host timeout (in real time it could not).
vm icount_clock --accel tcg --icount 3 --timeout 250 -- sleep 300
expect_rc icount_clock "--icount: the guest clock runs on instructions, idle time skipped" 0 \
	'guest time from the instruction count \(icount shift 3'

vm_fake fallback msr "$tmp/cache-a" -- true
[ "$(rc_of fallback)" = 0 ] && [ "$(kvm_starts fallback)" = 1 ] &&
	grep -qE '^vm-run: KVM unusable here \(.*failed to set MSR 0x10a.*; probe VM\); using TCG$' "$tmp/fallback.err" &&
	[ "$(sed -n 2p "$tmp/cache-a")" = tcg ]
expect fallback "auto: KVM failing its probe falls back to TCG with one line, verdict saved" $? \
	"exit $(rc_of fallback), $(kvm_starts fallback) KVM starts, verdict $(sed -n 2p "$tmp/cache-a" 2>/dev/null)"

vm_fake cached msr "$tmp/cache-a" -- true
[ "$(rc_of cached)" = 0 ] && [ "$(kvm_starts cached)" = 0 ] &&
	grep -qE '^vm-run: KVM unusable here \(.*verdict cached in .*\); using TCG$' "$tmp/cached.err"
expect cached "auto: the saved verdict is used without probing again" $? \
	"exit $(rc_of cached), $(kvm_starts cached) KVM starts"

printf 'a-key-of-another-machine\nkvm\n\n' >"$tmp/cache-stale"
vm_fake stale msr "$tmp/cache-stale" -- true
[ "$(rc_of stale)" = 0 ] && [ "$(kvm_starts stale)" = 1 ] && grep -q 'using TCG$' "$tmp/stale.err"
expect stale "auto: a verdict saved under another key is probed again" $? \
	"exit $(rc_of stale), $(kvm_starts stale) KVM starts"

vm_fake kvm_works works "$tmp/cache-w" -- true
[ "$(rc_of kvm_works)" = 0 ] && [ "$(kvm_starts kvm_works)" = 2 ] &&
	grep -qx 'vm-run: using KVM (auto: a probe VM ran under it)' "$tmp/kvm_works.err"
expect kvm_works "auto: KVM passing its probe is used" $? \
	"exit $(rc_of kvm_works), $(kvm_starts kvm_works) KVM starts"

XHP_ACCEL_CASE=kvm vm_fake kvm_forced msr "$tmp/cache-f" -- true
expect_rc kvm_forced "XHP_ACCEL=kvm where KVM fails is a setup error" 3 \
	'^vm-run: KVM cannot run a guest here: .*failed to set MSR 0x10a.*use --accel tcg'

t0=$(date +%s)
vm_fake kvm_internal internal "$tmp/cache-f" --accel kvm --timeout 120 -- true
expect_rc kvm_internal "--accel kvm: \"KVM internal error\" is a setup error, not a hang ($(($(date +%s) - t0)) s)" 3 \
	'^vm-run: KVM cannot run a guest here: .*KVM internal error'

XHP_ACCEL_CASE=kvm vm_fake tcg_forced msr "$tmp/cache-f" --accel tcg -- true
[ "$(rc_of tcg_forced)" = 0 ] && [ "$(kvm_starts tcg_forced)" = 0 ] &&
	grep -qx 'vm-run: using TCG (--accel tcg)' "$tmp/tcg_forced.err"
expect tcg_forced "--accel tcg (over XHP_ACCEL=kvm) never starts KVM" $? \
	"exit $(rc_of tcg_forced), $(kvm_starts tcg_forced) KVM starts"

# An unexecutable runner: vm-run carries bash's 126, check.sh fails it.
vm chmodx -- sh -c 'chmod -x selftests/run_tests && exec selftests/run_tests'
judge "suite" "$(rc_of chmodx)" "$tmp/chmodx.out" "$tmp/chmodx.err" >"$tmp/chmodx.judge" 2>&1
[ "$(rc_of chmodx)" = 126 ] && grep -q '^not ok 1 suite # exit 126; no final plan' "$tmp/chmodx.judge"
expect chmodx "chmod -x selftests/run_tests: vm-run exits 126 and check.sh fails it" $? \
	"exit $(rc_of chmodx); $(cat "$tmp/chmodx.judge")"

wait "$hang_pid" || true
hang_pid=''
expect_rc hang "hang is killed at --timeout" 124 'vm-run: timeout after 25 s \(hang\)'

echo "# harness: $((n - failed)) passed, $failed failed"
echo "1..$n"
[ "$failed" -eq 0 ]
