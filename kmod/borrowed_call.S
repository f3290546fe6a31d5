/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one way xhugepaged enters borrowed (unexported) kernel text.
 *
 * unsigned long xhp_borrowed_call(unsigned long fn, unsigned long a1, ...,
 *				   unsigned long a5);
 *
 * Calls fn(a1, ..., a5) and returns its RAX. The borrowed functions' ENDBRs
 * are sealed (objtool turns them into NOPs), so with IBT enforced an
 * indirect CALL or JMP into them raises #CP. RET is not checked by IBT, so
 * this thunk shifts the arguments down one register and tail-calls fn with a
 * return-trampoline: the same CALL-to-self / overwrite-return-slot / RET
 * sequence as the kernel's retpolines (arch/x86/lib/retpoline.S, POLINE).
 *
 * The CALL pushes an RSB entry that the RET consumes (it predicts the INT3
 * speculation trap), so the return stack stays balanced: fn's own return
 * goes straight back to our caller and is predicted correctly. That RET is
 * unret-safe for the same reason the kernel's jump thunks' is.
 *
 * Would fault only with supervisor shadow stacks (CET-SS for the kernel),
 * which no kernel enables; symbols.c refuses to load if one ever does.
 */
#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

	.text
SYM_FUNC_START(xhp_borrowed_call)
	mov	%rdi, %r11		/* fn: caller-saved, not an argument */
	mov	%rsi, %rdi
	mov	%rdx, %rsi
	mov	%rcx, %rdx
	mov	%r8, %rcx
	mov	%r9, %r8
	ANNOTATE_INTRA_FUNCTION_CALL
	call	.Lxhp_to_fn
	int3				/* speculation trap for the RET below */
.Lxhp_to_fn:
	mov	%r11, (%rsp)		/* return slot := fn */
	UNWIND_HINT_FUNC
	ANNOTATE_UNRET_SAFE
	ret				/* "returns" into fn: not an indirect branch */
	int3
SYM_FUNC_END(xhp_borrowed_call)
