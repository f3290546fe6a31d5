// SPDX-License-Identifier: GPL-2.0
/*
 * The one table of kernel symbols xhugepaged borrows (not exported to
 * modules), and the IBT decision that governs calling them.
 *
 * Debian's 6.12 is built with CONFIG_X86_KERNEL_IBT: objtool seals the ENDBR
 * of functions whose address is never taken, so an indirect call into
 * madvise_collapse() and friends raises #CP on a CPU that enforces IBT.
 * There is no way for a module to make a direct call to a runtime-resolved
 * address without patching kernel text, so xhugepaged refuses to load when
 * IBT is enforced and a required function is sealed, naming it. Where IBT
 * is not enforced (older CPUs, AMD without IBT, VMs, ibt=off) the calls are
 * ordinary indirect calls. See Documentation/admin-guide.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/special_insns.h>
#include <asm/msr.h>

#include "xhugepaged.h"

struct xhp_borrowed xhp_sym;

bool xhp_assume_ibt;
module_param_named(assume_ibt, xhp_assume_ibt, bool, 0444);
MODULE_PARM_DESC(assume_ibt,
		 "Debug: act as if the CPU enforced IBT (tests the refusal path)");

enum xhp_sym_kind { XHP_SYM_FUNC, XHP_SYM_DATA };

struct xhp_sym_entry {
	const char *name;
	enum xhp_sym_kind kind;
	bool required;
	void **slot;
};

#define FUNC(n, field, req) { #n, XHP_SYM_FUNC, req, (void **)&xhp_sym.field }
#define DATA(n, field, req) { #n, XHP_SYM_DATA, req, (__force void **)&xhp_sym.field }

static const struct xhp_sym_entry xhp_sym_table[] = {
	FUNC(madvise_collapse, madvise_collapse, true),
#if XHP_BORROW_PTE_OFFSET_MAP_LOCK
	FUNC(__pte_offset_map_lock, pte_offset_map_lock, true),
#endif
#if XHP_BORROW_FOLIO_MAPCOUNT
	FUNC(folio_mapcount, folio_mapcount, true),
#endif
	FUNC(vm_normal_page, vm_normal_page, true),
	FUNC(lru_add_drain_all, lru_add_drain_all, false),
	FUNC(flush_tlb_mm_range, flush_tlb_mm_range, false),
	DATA(mm_kobj, mm_kobj, true),
#if XHP_HAVE_MTHP_SYSFS
	DATA(mthp_stats, mthp_stats, false),
#endif
};

#define ENDBR64_INSN	0xfa1e0ff3U	/* f3 0f 1e fa */
#define ENDBR_SEALED	0x001f0f66U	/* objtool's 4-byte NOP seal */

static u32 xhp_read_insn(unsigned long addr)
{
	u32 insn = 0;

	if (copy_from_kernel_nofault(&insn, (void *)addr, sizeof(insn)))
		return 0;
	return insn;
}

/*
 * Address of a function via a throwaway kprobe: no call into the kernel's
 * symbol table, so it is safe whatever IBT does. kprobes report sealed or
 * ENDBR-carrying functions at +4; step back to the real entry.
 */
static unsigned long xhp_kprobe_lookup(const char *name)
{
	struct kprobe kp = { .symbol_name = name };
	unsigned long addr;
	u32 before;

	if (register_kprobe(&kp))
		return 0;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);

	before = xhp_read_insn(addr - 4);
	if (before == ENDBR64_INSN || before == ENDBR_SEALED)
		addr -= 4;
	return addr;
}

/* Would an indirect call to @addr raise #CP if IBT were enforced? */
static bool xhp_is_sealed(unsigned long addr)
{
	return xhp_read_insn(addr) != ENDBR64_INSN;
}

static bool xhp_ibt_enforced(void)
{
#ifdef CONFIG_X86_KERNEL_IBT
	u64 msr;

	if (!cpu_feature_enabled(X86_FEATURE_IBT))
		return false;
	if (!(__read_cr4() & X86_CR4_CET))
		return false;
	if (rdmsrl_safe(MSR_IA32_S_CET, &msr))
		return false;
	return msr & CET_ENDBR_EN;
#else
	return false;
#endif
}

static int xhp_ibt_check(const char *name, bool enforced)
{
	unsigned long addr = xhp_kprobe_lookup(name);

	if (addr && !xhp_is_sealed(addr))
		return 0;
	pr_err("IBT %s: %s has no ENDBR (sealed); an indirect call would fault\n",
	       enforced ? "enforced" : "assumed (assume_ibt=1)", name);
	return 1;
}

/*
 * Refuse, naming every required function we could not call safely, and
 * kallsyms_lookup_name(), which resolves the rest of the table.
 */
static int xhp_ibt_gate(void)
{
	bool enforced = xhp_ibt_enforced();
	int i, sealed;

	if (!enforced && !xhp_assume_ibt)
		return 0;

	sealed = xhp_ibt_check("kallsyms_lookup_name", enforced);
	for (i = 0; i < ARRAY_SIZE(xhp_sym_table); i++) {
		const struct xhp_sym_entry *e = &xhp_sym_table[i];

		if (e->kind == XHP_SYM_FUNC && e->required)
			sealed += xhp_ibt_check(e->name, enforced);
	}
	if (!sealed)
		return 0;
	pr_err("refusing to load: IBT is %s and %d required kernel function(s) are sealed; boot with ibt=off to use xhugepaged on this CPU\n",
	       enforced ? "enforced" : "assumed", sealed);
	return -EOPNOTSUPP;
}

int xhp_symbols_resolve(void)
{
	unsigned long (*lookup)(const char *name);
	int i, ret;

	ret = xhp_ibt_gate();
	if (ret)
		return ret;

	/* Past the gate an indirect call into a sealed function is safe. */
	lookup = (void *)xhp_kprobe_lookup("kallsyms_lookup_name");
	if (!lookup) {
		pr_err("cannot find kallsyms_lookup_name (CONFIG_KPROBES needed)\n");
		return -ENOENT;
	}

	for (i = 0; i < ARRAY_SIZE(xhp_sym_table); i++) {
		const struct xhp_sym_entry *e = &xhp_sym_table[i];
		unsigned long addr = lookup(e->name);

		if (!addr && e->required) {
			pr_err("required kernel symbol %s not found\n", e->name);
			return -ENOENT;
		}
		if (!addr)
			pr_info("optional kernel symbol %s not found; its feature is off\n",
				e->name);
		*e->slot = (void *)addr;
	}
	return 0;
}
