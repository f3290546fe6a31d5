#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# shellcheck disable=SC2054 # commas inside QEMU option values are intended
# Run one command inside a throwaway QEMU VM that boots the host's Debian
# kernel and sees the host's / read-only (writes land in a tmpfs overlay).
# See usage() below for the interface and exit codes; other tools rely on both.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# vm-run's own exit codes. A command can exit with these too: the
# "vm-run: ..." line on stderr is what tells them apart.
EX_USAGE=2
EX_SETUP=3
EX_TIMEOUT=124
EX_KPROBLEM=125
EX_LOST=126
EX_PANIC=123
# How long the KVM probe VM may take (a working KVM boots in ~2 s).
PROBE_TIMEOUT_S=60

usage() {
	cat <<EOF
usage: scripts/vm-run.sh [--kernel VERSION | --kernel-image PATH] [--mem SIZE]
                         [--cpus N] [--append ARGS] [--timeout S]
                         [--accel kvm|tcg|auto] [--icount SHIFT]
                         -- COMMAND [ARG...]

Boots /boot/vmlinuz-VERSION (default: newest /boot/vmlinuz-6.12*) in QEMU
(KVM if it can run a guest here, TCG otherwise; the choice is printed on
stderr) and runs COMMAND as root inside it, in the same directory as the
caller's cwd. The guest sees the host's / read-
only through virtio-9p, under a tmpfs overlay: writes are lost at power-off.
COMMAND's stdout and stderr both stream to this script's stdout; its stdin is
/dev/null. The guest kernel log is saved under
\${XHP_LOGDIR:-REPO/build/vm-logs}/run-TIMESTAMP-PID/console.log and its path
printed on stderr.

options:
  --kernel VERSION  kernel version (uname -r form) to boot
  --kernel-image PATH
                    boot this bzImage instead, one with the initramfs's
                    modules built in (make check-debug's kernel)
  --mem SIZE        guest memory, QEMU syntax (default 2G)
  --cpus N          guest vCPUs (default 2)
  --append ARGS     extra kernel command line (repeatable)
  --timeout S       kill the VM after S seconds, boot included (default 600)
  --accel A         kvm, tcg or auto (default: \$XHP_ACCEL, else auto).
                    auto uses KVM only once a probe VM (COMMAND "true",
                    ${PROBE_TIMEOUT_S} s at most) has run under it on this machine, else
                    TCG, saying so on stderr: "vm-run: KVM unusable here
                    (REASON); using TCG". The verdict is kept in
                    \${XHP_ACCEL_CACHE:-REPO/build/accel-verdict}, keyed by
                    host kernel, host boot, QEMU binary and version, CPU
                    model and /dev/kvm; any change probes again. kvm that
                    cannot run a guest is a setup error ($EX_SETUP).
  --icount SHIFT    TCG only (default: \$XHP_ICOUNT, else off): the guest's
                    clock runs on its instruction count, 2^SHIFT ns per
                    instruction (0-10), idle time skipped, so guest times
                    depend on the work done and not on what the host does
                    meanwhile (no TCG slowness or host load shows as guest
                    time, nor trips the guest's lockup detectors). Under KVM
                    it is ignored, saying so on stderr. Debian's 6.1 kernel
                    does not boot under --icount 3: it hangs at "Booting
                    SMP configuration" (so make bench boots 6.12 only).
  -h, --help        this text

exit status:
  0-255  COMMAND's own exit status, when nothing below applies
  $EX_USAGE      usage error
  $EX_SETUP      setup error (no kernel, initramfs build or QEMU start failed,
         --accel kvm where KVM cannot run a guest)
  $EX_PANIC    "vm-run: guest kernel panic"
  $EX_TIMEOUT    "vm-run: timeout after S s (hang)": the VM was killed
  $EX_KPROBLEM    "vm-run: kernel problem: ...": the guest kernel log has a
         WARNING/BUG/Oops/KFENCE/lockup/hung task/Call Trace (the stack
         dump that opens an OOM-killer report excepted) (even if
         COMMAND passed; its status is printed)
  $EX_LOST    "vm-run: lost exit status": the VM ended without reporting one
         (COMMAND powered it off, or the guest's init failed early)
  130    interrupted (SIGINT/SIGTERM/SIGHUP to vm-run); the VM is stopped
When several apply, the first of timeout, panic, kernel problem, lost status
wins. Every code above but 0-255 comes with its "vm-run:" line on stderr.
EOF
}

die() { echo "vm-run: $*" >&2; exit "$EX_SETUP"; }
usage_err() { echo "vm-run: $*" >&2; usage >&2; exit "$EX_USAGE"; }

kver='' kimage='' mem=2G cpus=2 append=() timeout_s=600 accel_choice=${XHP_ACCEL:-auto}
icount=${XHP_ICOUNT:-}
accel_from=XHP_ACCEL=$accel_choice
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || usage_err "--kernel needs a value"; kver=$2; shift 2 ;;
	--kernel-image) [ $# -ge 2 ] || usage_err "--kernel-image needs a value"; kimage=$2; shift 2 ;;
	--mem) [ $# -ge 2 ] || usage_err "--mem needs a value"; mem=$2; shift 2 ;;
	--cpus) [ $# -ge 2 ] || usage_err "--cpus needs a value"; cpus=$2; shift 2 ;;
	--append) [ $# -ge 2 ] || usage_err "--append needs a value"; append+=("$2"); shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage_err "--timeout needs a value"; timeout_s=$2; shift 2 ;;
	--accel) [ $# -ge 2 ] || usage_err "--accel needs a value"; accel_choice=$2 accel_from="--accel $2"; shift 2 ;;
	--icount) [ $# -ge 2 ] || usage_err "--icount needs a value"; icount=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) usage_err "unknown option: $1" ;;
	esac
done
[ $# -gt 0 ] || usage_err "no COMMAND given (put it after --)"
[[ $cpus =~ ^[1-9][0-9]*$ ]] || usage_err "--cpus: not a number: $cpus"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || usage_err "--timeout: not a number of seconds: $timeout_s"
[[ -z $icount || $icount =~ ^([0-9]|10)$ ]] || usage_err "--icount: SHIFT is 0-10 (ns per instruction = 2^SHIFT): $icount"
case $accel_choice in
kvm | tcg | auto) ;;
*) usage_err "$accel_from: the accelerator is kvm, tcg or auto" ;;
esac

if [ -n "$kimage" ]; then
	# A kernel of our own (make check-debug) has everything built in.
	[ -z "$kver" ] || usage_err "--kernel and --kernel-image exclude each other"
	kimg=$kimage kver=-
	[ -r "$kimg" ] || die "kernel image $kimg missing or unreadable"
else
	if [ -z "$kver" ]; then
		kimg=$(find /boot -maxdepth 1 -name 'vmlinuz-6.12*' 2>/dev/null | sort -V | tail -n1)
		[ -n "$kimg" ] || die "no /boot/vmlinuz-6.12* (run scripts/deps.sh)"
		kver=${kimg#/boot/vmlinuz-}
	fi
	kimg=/boot/vmlinuz-$kver
	[ -r "$kimg" ] || die "kernel image $kimg missing or unreadable"
	[ -d "/lib/modules/$kver" ] || die "/lib/modules/$kver missing: the guest loads its modules from there"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (run scripts/deps.sh)"

initrd=$repo/build/initramfs-${kver/#-/builtin}.cpio.gz
"$repo/scripts/mkinitramfs.sh" "$kver" "$initrd" || die "building the initramfs failed"

# --- the accelerator. A readable /dev/kvm proves nothing: nested KVM may
# open and then fail to run a guest (QEMU aborts on an MSR, or stops with
# "KVM internal error"). auto therefore trusts KVM only once a probe VM
# has run a command under it, and remembers that verdict for the machine.
kvm_dev=${XHP_KVM_DEV:-/dev/kvm}	# another path only for the harness self-tests
accel_cache=${XHP_ACCEL_CACHE:-$repo/build/accel-verdict}
# What the verdict depends on; any change invalidates it. The boot id
# covers a host reboot (KVM module parameters such as nested may differ).
accel_key() {
	local qemu_bin
	qemu_bin=$(command -v qemu-system-x86_64)
	printf 'v1|%s|%s|%s|%s|%s|%s|%s\n' "$(uname -r)" \
		"$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)" \
		"$qemu_bin" "$(stat -Lc '%s %Y' "$qemu_bin" 2>/dev/null)" \
		"$("$qemu_bin" --version 2>/dev/null | head -n1)" \
		"$(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')" \
		"$(stat -Lc '%t:%T' "$kvm_dev" 2>/dev/null)"
}
# probe_kvm: boot this kernel under KVM and run "true" in it. Sets
# probe_reason when KVM cannot run it.
probe_kvm() {
	local probe_err rc=0 kernel_opt=(--kernel "$kver")
	[ -z "$kimage" ] || kernel_opt=(--kernel-image "$kimage")
	probe_err=$(mktemp "${TMPDIR:-/tmp}/vm-run-probe.XXXXXX")
	XHP_ACCEL_PROBE=1 XHP_ICOUNT= "$0" --accel kvm --timeout "$PROBE_TIMEOUT_S" "${kernel_opt[@]}" \
		-- true </dev/null >"$probe_err" 2>&1 || rc=$?
	probe_reason=''
	if [ "$rc" -ne 0 ]; then
		# Our own "KVM cannot run a guest" line carries QEMU's complaint.
		probe_reason=$(sed -n 's/^vm-run: KVM cannot run a guest here: \(.*\); use --accel tcg.*/\1/p' "$probe_err" | head -n1)
		[ -n "$probe_reason" ] || probe_reason="probe VM exited $rc: $(grep -m1 '^vm-run: ' "$probe_err" | cut -c9-)"
	fi
	rm -f "$probe_err"
	[ "$rc" -eq 0 ]
}
accel=tcg
case $accel_choice in
tcg) echo "vm-run: using TCG ($accel_from)" >&2 ;;
kvm)
	[ -r "$kvm_dev" ] && [ -w "$kvm_dev" ] ||
		die "$accel_from: $kvm_dev is missing or not read-write for this user (use --accel tcg or auto)"
	accel=kvm
	[ -n "${XHP_ACCEL_PROBE:-}" ] || echo "vm-run: using KVM ($accel_from)" >&2
	;;
auto)
	if ! [ -r "$kvm_dev" ] || ! [ -w "$kvm_dev" ]; then
		echo "vm-run: KVM unusable here ($kvm_dev missing or not read-write); using TCG" >&2
	else
		mkdir -p "$(dirname "$accel_cache")" || die "cannot create the directory of $accel_cache"
		key=$(accel_key)
		# One probe at a time: parallel runs wait for the first's verdict.
		exec 4>>"$accel_cache.lock"
		flock 4
		cached=''
		if [ -r "$accel_cache" ] && [ "$(sed -n 1p "$accel_cache")" = "$key" ]; then
			cached=$(sed -n 2p "$accel_cache")
			probe_reason=$(sed -n 3p "$accel_cache")
		fi
		case $cached in
		kvm | tcg) how="verdict cached in $accel_cache" ;;
		*)
			if probe_kvm; then cached=kvm; else cached=tcg; fi
			how="probe VM"
			printf '%s\n%s\n%s\n' "$key" "$cached" "$probe_reason" >"$accel_cache.tmp" &&
				mv -f "$accel_cache.tmp" "$accel_cache"
			;;
		esac
		exec 4>&-
		accel=$cached
		if [ "$accel" = kvm ]; then
			echo "vm-run: using KVM (auto: a $how ran under it)" >&2
		else
			echo "vm-run: KVM unusable here ($probe_reason; $how); using TCG" >&2
		fi
	fi
	;;
esac

logroot=${XHP_LOGDIR:-$repo/build/vm-logs}
rundir=$logroot/run-$(date +%Y%m%d-%H%M%S)-$$
# The kernel command line splits on spaces.
case "$repo$rundir$PWD" in
*[[:space:]]*) die "paths with whitespace cannot go on the kernel command line: $repo / $rundir / $PWD" ;;
esac
mkdir -p "$rundir" || die "cannot create $rundir"
# Keep the newest 50 runs' logs; they are only for looking back.
find "$logroot" -mindepth 1 -maxdepth 1 -type d -name 'run-*' -printf '%T@ %p\n' 2>/dev/null |
	sort -rn | tail -n +51 | cut -d' ' -f2- | xargs -r rm -rf --
console=$rundir/console.log
status=$rundir/status
: >"$status"
# The guest reads the command from here through the host root it mounts.
printf '%q ' "$@" >"$rundir/cmd"

if [ "$accel" = kvm ]; then
	accel_args=(-machine q35,accel=kvm -cpu host)
else
	# Single-threaded TCG: multi-threaded TCG (one host thread per vCPU)
	# gave spurious guest oopses ("Oops: int3" in code the kernel was
	# live-patching on another vCPU), and boots no faster on 2 host cores.
	accel_args=(-machine q35 -accel tcg,thread=single -cpu max)
	if [ -n "$icount" ]; then
		accel_args+=(-icount "shift=$icount,sleep=off")
		echo "vm-run: guest time from the instruction count (icount shift $icount: $((1 << icount)) ns per instruction)" >&2
	fi
fi
[ "$accel" = kvm ] && [ -n "$icount" ] &&
	echo "vm-run: --icount $icount ignored: under KVM the guest keeps real time" >&2

# no_timer_check: the boot-time test of the IO-APIC timer waits a fixed
# number of TSC cycles for jiffies to move; under TCG on a loaded host they
# sometimes do not, and the guest panics ("IO-APIC + timer doesn't work!")
# before init. QEMU's timer works: skip the test.
cmdline="console=ttyS0 loglevel=7 panic=-1 sysctl.kernel.hung_task_timeout_secs=30 no_timer_check"
cmdline+=" xhp.init=$repo/scripts/vm-guest-init.sh xhp.cmd=$rundir/cmd xhp.cwd=$PWD"
for a in "${append[@]}"; do cmdline+=" $a"; done

# QEMU's stdio chardev carries COMMAND's output. Its input must never reach
# EOF, or QEMU tells the guest the port closed and guest writes block: feed
# it a FIFO we hold open ourselves (also right when our stdin is /dev/null).
mkfifo "$rundir/stdin"
exec 3<>"$rundir/stdin"
rm -f "$rundir/stdin"

qemu=(
	qemu-system-x86_64 "${accel_args[@]}" -smp "$cpus" -m "$mem"
	-nodefaults -nographic -display none -monitor none -no-reboot
	-kernel "$kimg" -initrd "$initrd" -append "$cmdline"
	-serial "file:$console"
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-device virtio-serial-pci
	-chardev stdio,id=out,signal=off
	-device virtserialport,chardev=out,name=out
	-chardev "file,id=status,path=$status"
	-device virtserialport,chardev=status,name=status
)
echo "vm-run: kernel log: $console" >&2

# timeout(1) kills a hung VM; SIGINT/SIGTERM to us stop it too (it runs in
# the background so our traps fire while we wait).
timeout -k 10 "$timeout_s" "${qemu[@]}" <&3 2>"$rundir/qemu.err" &
qpid=$!
# Under KVM, QEMU may stop the guest with "KVM internal error" and then sit
# there: stop it at once instead of at the timeout.
watch_pid=''
if [ "$accel" = kvm ]; then
	(
		while kill -0 "$qpid" 2>/dev/null; do
			if grep -q 'KVM internal error' "$rundir/qemu.err" 2>/dev/null; then
				: >"$rundir/kvm-failed"
				kill -TERM "$qpid" 2>/dev/null
				break
			fi
			sleep 0.5
		done
	) &
	watch_pid=$!
fi
interrupted=0
trap 'interrupted=1; kill -TERM "$qpid" 2>/dev/null || true' INT TERM HUP
qrc=0
while :; do
	wait "$qpid" && qrc=0 || qrc=$?
	# A trap interrupts wait (status > 128); wait again until QEMU is gone.
	kill -0 "$qpid" 2>/dev/null || break
done
trap - INT TERM HUP
exec 3<&-
[ -z "$watch_pid" ] || { kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null; } || true

if [ "$interrupted" -eq 1 ]; then
	echo "vm-run: interrupted; VM stopped (kernel log: $console)" >&2
	exit 130
fi

# QEMU's own complaints, minus its note that timeout(1) terminated it.
grep -v 'terminating on signal' "$rundir/qemu.err" >&2 || true

# Scan the kernel log. The command-line echo is no evidence of anything.
pattern='WARNING:|BUG:|Oops|Kernel panic|KFENCE|soft lockup|hung task|blocked for more than|Call Trace'
# One exception: the stack dump that opens an OOM-killer report (a test may
# provoke an OOM kill on purpose). A "Call Trace:" within 6 lines of
# "invoked oom-killer:" is not counted; every other pattern always is.
problems=$(awk -v pat="$pattern" '
	/invoked oom-killer:/ { oom = NR }
	$0 ~ pat && $0 !~ /Kernel command line:|Unknown kernel command line/ {
		if ($0 ~ /Call Trace/ && oom && NR - oom <= 6)
			next
		print NR ":" $0
	}' "$console" 2>/dev/null || true)
panicked=0
grep -qaE 'Kernel panic' "$console" 2>/dev/null && panicked=1

rc_line=$(head -n1 "$status" 2>/dev/null || true)
have_status=0
[[ $rc_line =~ ^[0-9]+$ ]] && have_status=1

if [ -n "$problems" ]; then
	first=$(head -n1 <<<"$problems" | cut -d: -f1)
	{
		echo "vm-run: kernel problem: the guest kernel log ($console) has:"
		head -n 40 <<<"$problems" | cut -d: -f2- | sed 's/^/vm-run: kernel problem: /'
		echo "vm-run: kernel problem: context of the first one:"
		sed -n "$((first > 10 ? first - 10 : 1)),$((first + 25))p" "$console" | sed 's/^/vm-run: kernel problem: | /'
	} >&2
fi

# KVM that cannot run the guest is a setup error, not a test result.
if [ "$accel" = kvm ] && [ "$have_status" -eq 0 ] &&
	{ [ -e "$rundir/kvm-failed" ] || { [ "$qrc" -ne 0 ] && [ "$qrc" -ne 124 ] && [ "$qrc" -ne 137 ]; }; }; then
	why=$(grep -m1 -E 'KVM internal error|error|Assertion|failed' "$rundir/qemu.err" || head -n1 "$rundir/qemu.err")
	why=${why#qemu-system-x86_64: }
	die "KVM cannot run a guest here: QEMU exit $qrc: ${why:-no message}; use --accel tcg (or auto)"
fi
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "vm-run: timeout after $timeout_s s (hang); last kernel messages:" >&2
	tail -n 15 "$console" | sed 's/^/vm-run: | /' >&2
	exit "$EX_TIMEOUT"
fi
if [ "$panicked" -eq 1 ]; then
	echo "vm-run: guest kernel panic: $(grep -aE -m1 "Kernel panic" "$console")" >&2
	exit "$EX_PANIC"
fi
if [ "$qrc" -ne 0 ] && [ "$have_status" -eq 0 ]; then
	die "QEMU failed (exit $qrc); see $rundir/qemu.err"
fi
if [ -n "$problems" ]; then
	if [ "$have_status" -eq 1 ]; then
		echo "vm-run: kernel problem: failing the run (the command itself exited $rc_line)" >&2
	else
		echo "vm-run: kernel problem: failing the run (and the command reported no exit status)" >&2
	fi
	exit "$EX_KPROBLEM"
fi
if [ "$have_status" -eq 0 ]; then
	echo "vm-run: lost exit status: the VM powered off without reporting one; last kernel messages:" >&2
	tail -n 15 "$console" | sed 's/^/vm-run: | /' >&2
	exit "$EX_LOST"
fi
exit "$rc_line"
