#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fails if the module makes an indirect call or jump that is not on the
# allow-list below. Borrowed kernel functions have sealed ENDBRs, so an
# indirect branch into them faults where IBT is enforced; the module enters
# them only through xhp_borrowed_call() (kmod/borrowed_call.S), whose RET is
# not an indirect branch. Run by `make check` after the module build.
#
# Indirect branches looked for, in `objdump -d --reloc` of the .ko:
#   call/jmp *...                    (plain indirect branches)
#   call/jmp __x86_indirect_*thunk_* (retpolines: what gcc emits for every
#                                     call through a function pointer here)
# Allowed, because neither can reach borrowed text:
#   call *pv_ops+N(%rip)             paravirt operations: the kernel's own
#                                     exported table; patched into direct
#                                     calls or native code when loaded
#   any, inside __traceiter_*        the kernel's tracepoint macros calling
#                                     probes registered through the exported
#                                     tracepoint API (address-taken: ENDBR)
# Usage: scripts/check-indirect-calls.sh [MODULE.ko...]   (default kmod/xhugepaged.ko)
set -euo pipefail

objdump=${OBJDUMP:-objdump}
rc=0
for ko in "${@:-kmod/xhugepaged.ko}"; do
	if [ ! -f "$ko" ]; then
		echo "check-indirect-calls: $ko not found (build it first: make module)" >&2
		rc=2
		continue
	fi
	# One awk program reads the whole disassembly (program text unindented).
	"$objdump" -d --reloc --no-show-raw-insn "$ko" | awk -v ko="$ko" '
function hex(s,   i, n) {
	n = 0
	for (i = 1; i <= length(s); i++)
		n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return n
}
function flush(   why) {
	if (pend == "")
		return
	if (fn ~ /^__traceiter_/) {
		allowed_tp++
	} else if (prel ~ /^pv_ops[+-]/ && pinsn ~ /\*/) {
		allowed_pv++
	} else {
		why = (pinsn ~ /\*/) ? "indirect branch" : "retpoline thunk (call through a pointer)"
		printf "%s: %s: %s  [%s%s]\n", ko, pend, pinsn, why, prel != "" ? ", reloc " prel : ""
		bad++
	}
	total++
	pend = ""
}
/^[0-9a-f]+ <.*>:$/ {
	flush()
	fn = $2; gsub(/[<>:]/, "", fn)
	fnstart = hex($1)
	next
}
/^[ \t]+[0-9a-f]+:[ \t]+R_X86_64_/ {
	# Relocation of the instruction just read.
	if (last_branch) {
		sym = $3
		if (sym ~ /^__x86_indirect_/ && pend == "") {
			sub(/[+-]0x[0-9a-f]+$/, "", sym)
			pend = last_where; prel = sym
			pinsn = last_op; sub(/ .*/, "", pinsn); pinsn = pinsn " " sym
		} else if (pend != "" && prel == "") {
			prel = sym
		}
	}
	next
}
/^[ \t]+[0-9a-f]+:\t/ {
	flush()
	addr = $1; sub(/:$/, "", addr)
	insn = $0; sub(/^[ \t]+[0-9a-f]+:[ \t]+/, "", insn); gsub(/[ \t]+/, " ", insn)
	# Branch prefixes: cs (retpoline/ITS padding), notrack, bnd, ds.
	op = insn
	while (op ~ /^(cs|ds|notrack|bnd) /)
		sub(/^[a-z]+ /, "", op)
	last_branch = (op ~ /^(call|jmp)/)
	last_where = sprintf("%s+0x%x", fn, hex(addr) - fnstart)
	last_insn = insn
	last_op = op
	if (last_branch && op ~ /^(call|jmp)[a-z]* +\*/) {
		pend = last_where; pinsn = insn; prel = ""
	}
	next
}
END {
	flush()
	printf "check-indirect-calls: %s: %d indirect branch(es): %d paravirt (pv_ops), %d in tracepoint iterators, %d forbidden\n",
	       ko, total, allowed_pv, allowed_tp, bad
	exit bad ? 1 : 0
}
' || rc=1
done
exit $rc
