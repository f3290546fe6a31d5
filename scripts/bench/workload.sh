# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# A benchmark workload's gate, and every wait on its progress, without a
# fork (sourced by scripts/bench-guest.sh and scripts/bench/collapse-profile.sh,
# after W, the work directory, is set).
#
# Why: on the instruction clock (vm-run.sh --icount) the vCPUs run in turn
# on one host thread, so every process the harness forks or execs while a
# contender is measured (a polling "sleep 0.05", a grep, a cat) preempts
# the nice-19 scanner on its vCPU or advances the clock it is timed by,
# and inflates whichever contender runs then. So, while a contender runs:
# the workload's stdin is a FIFO held open by an idle sleep forked before
# the measurement ("go" is the shell's own echo into it, the end the kill
# of that sleep: EOF); every wait is the read builtin timing out on a FIFO
# nobody writes; counters are read with the read builtin.

rm -f "$W/nap.$$"
mkfifo "$W/nap.$$"
exec {nap_fd}<>"$W/nap.$$"
rm -f "$W/nap.$$"	# the open descriptor is all nap needs
# nap SECONDS: sleep without a fork.
nap() { read -r -t "$1" -u "$nap_fd" _ || :; }

# wait_line FILE WORD LIMIT_S [PID]: poll FILE every 0.1 s (it may not
# exist yet: PID's redirection creates it), reading only what was added
# since, until a line is WORD or starts with "WORD ": 0; 1 after LIMIT_S
# (whole) seconds, or once PID has exited without printing it.
wait_line() {
	local fd='' line='' part='' i dead=0 rc=1
	for ((i = 0; i <= $3 * 10; i++)); do
		[ -z "${4:-}" ] || kill -0 "$4" 2>/dev/null || dead=1
		[ -n "$fd" ] || { [ -e "$1" ] && exec {fd}<"$1"; }
		# read fails at the end of the file with a partial line in line
		while [ -n "$fd" ] && IFS= read -r -u "$fd" line; do
			line=$part$line part=''
			case $line in "$2" | "$2 "*) rc=0; break 2 ;; esac
		done
		part+=$line
		[ $dead = 0 ] || break
		nap 0.1
	done
	[ -z "$fd" ] || exec {fd}<&-
	return $rc
}

# wait_exit PID LIMIT_S: until PID has exited (0), polled every 0.5 s;
# 1 after LIMIT_S seconds.
wait_exit() {
	local i
	for ((i = 0; i <= $2 * 2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		nap 0.5
	done
	return 1
}

# thread_pid COMM VAR: the pid of the first task named COMM into VAR
# (empty if none), from /proc with builtins.
thread_pid() {
	local f comm
	printf -v "$2" %s ""
	for f in /proc/[0-9]*/comm; do
		read -r comm <"$f" 2>/dev/null || continue
		[ "$comm" = "$1" ] || continue
		f=${f#/proc/}
		printf -v "$2" %s "${f%/comm}"
		return 0
	done
	return 1
}

# forks_so_far VAR: the guest's processes and threads created since boot
# (/proc/stat's "processes") into VAR.
forks_so_far() {
	local k v
	while read -r k v; do
		[ "$k" = processes ] && { printf -v "$1" %d "$v"; return 0; }
	done </proc/stat
	return 1
}

# thread_ticks_of PID VAR: utime + stime of PID in clock ticks into VAR
# (0 if PID is gone).
thread_ticks_of() {
	local -a st
	read -ra st <"/proc/$1/stat" 2>/dev/null || { printf -v "$2" %d 0; return 1; }
	# comm (field 2) may hold spaces: count from the ")" that ends it
	local s=${st[*]}
	s=${s##*) }
	read -ra st <<<"$s"
	printf -v "$2" %d $((st[11] + st[12]))
}

# run_workload OUT CMD...: start CMD (its pid in wl) with stdout and stderr
# to OUT and its stdin a FIFO, OUT.gate, held open by an idle sleep; wait
# up to 120 s for its "ready" line (0 if it came). workload_go writes its
# "go" line (thpbench hotset waits for one; hold, idle and shmemhold read
# stdin to EOF; thrash does not read it), end_workload its EOF.
declare -A wl_gate_holder wl_gate_fifo
run_workload() {
	local out=$1 fifo=$1.gate
	shift
	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$out"	# no stale "ready" from a previous run
	# Each open of the FIFO waits for the other end: no order to keep.
	sleep 100000 >"$fifo" &
	local holder=$!
	"$@" <"$fifo" >"$out" 2>&1 &
	wl=$!
	wl_gate_holder[$wl]=$holder wl_gate_fifo[$wl]=$fifo
	wait_line "$out" ready 120 "$wl"
}
# workload_go [PID]: the "go" line on the gate of PID (default $wl).
workload_go() {
	local w=${1:-$wl} fd
	# Read-write, so that the open never blocks nor the write raises
	# SIGPIPE (a workload that has exited, or never reads)
	exec {fd}<>"${wl_gate_fifo[$w]}"
	echo go >&"$fd"
	exec {fd}>&-
}
# end_workload [PID]: EOF on the gate of PID (default $wl), then wait for it.
end_workload() {
	local w=${1:-$wl} holder
	holder=${wl_gate_holder[$w]:-}
	[ -n "$holder" ] || return 0	# ended already
	kill "$holder"
	wait "$holder"
	wait "$w"
	unset "wl_gate_holder[$w]" "wl_gate_fifo[$w]"
} 2>/dev/null
