// SPDX-License-Identifier: GPL-2.0
/*
 * The one table of kernel symbols xhugepaged borrows (not exported to
 * modules), how they are found, and the one check that can still refuse.
 *
 * Debian's 6.12 is built with CONFIG_X86_KERNEL_IBT: objtool seals the ENDBR
 * of functions whose address is never taken, so an indirect call into
 * madvise_collapse() and friends raises #CP on a CPU that enforces IBT. The
 * module therefore never calls borrowed text indirectly: every call goes
 * through xhp_borrowed_call() (borrowed_call.S), which enters the function
 * with a RET, on every CPU. One throwaway kprobe finds kallsyms_lookup_name();
 * every other symbol comes from it, called through the thunk (what
 * register_kprobe() would have looked up anyway, without the registration).
 * The RET would fault only under supervisor shadow stacks, so that is what
 * refuses the load. See Documentation/admin-guide.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/ibt.h>
#include <asm/special_insns.h>
#include <asm/msr.h>

#include "xhugepaged.h"

struct xhp_borrowed xhp_sym;

bool xhp_assume_ibt;
module_param_named(assume_ibt, xhp_assume_ibt, bool, 0444);
MODULE_PARM_DESC(assume_ibt,
		 "Debug: act as if the CPU enforced IBT (load checks and names the sealed borrowed functions)");

static bool xhp_assume_kernel_shstk;
module_param_named(assume_kernel_shstk, xhp_assume_kernel_shstk, bool, 0444);
MODULE_PARM_DESC(assume_kernel_shstk,
		 "Debug: act as if the kernel enforced CET shadow stacks (tests the refusal path)");

static char *xhp_assume_missing;
module_param_named(assume_missing, xhp_assume_missing, charp, 0444);
MODULE_PARM_DESC(assume_missing,
		 "Debug: act as if the kernel lacked this borrowed symbol (tests the missing-symbol paths)");

enum xhp_sym_kind { XHP_SYM_FUNC, XHP_SYM_DATA };

struct xhp_sym_entry {
	const char *name;
	enum xhp_sym_kind kind;
	bool required;
	unsigned long *text;	/* XHP_SYM_FUNC: entry address */
	void **data;		/* XHP_SYM_DATA: object address */
};

#define FUNC(n, field, req) { #n, XHP_SYM_FUNC, req, &xhp_sym.field, NULL }
#define DATA(n, field, req) \
	{ #n, XHP_SYM_DATA, req, NULL, (__force void **)&xhp_sym.field }

/* vm_normal_page() is no longer borrowed: borrowed.h has our own. */
static const struct xhp_sym_entry xhp_sym_table[] = {
	FUNC(madvise_collapse, madvise_collapse, true),
#if XHP_BORROW_PTE_OFFSET_MAP_LOCK
	FUNC(__pte_offset_map_lock, pte_offset_map_lock, true),
#endif
#if XHP_BORROW_FOLIO_MAPCOUNT
	FUNC(folio_mapcount, folio_mapcount, true),
#endif
	FUNC(lru_add_drain_all, lru_add_drain_all, false),
	FUNC(flush_tlb_mm_range, flush_tlb_mm_range, false),
	/* Where an entry hook's ftrace site is (probes.c); not exported. */
	FUNC(ftrace_location, ftrace_location, false),
	/* Found by a kprobe; every other entry through it. */
	FUNC(kallsyms_lookup_name, kallsyms_lookup_name, true),
	DATA(mm_kobj, mm_kobj, true),
#if XHP_HAVE_MTHP_SYSFS
	DATA(mthp_stats, mthp_stats, false),
#endif
};

/* A live ENDBR64 (f3 0f 1e fa), not objtool's seal: xhp_ibt_report(). */
#define ENDBR64_INSN	0xfa1e0ff3U

static u32 xhp_read_insn(unsigned long addr)
{
	u32 insn = 0;

	if (copy_from_kernel_nofault(&insn, (void *)addr, sizeof(insn)))
		return 0;
	return insn;
}

/* A kprobe reports a function that begins with an ENDBR or its seal at +4. */
static unsigned long xhp_entry_of(unsigned long addr)
{
	if (is_endbr(xhp_read_insn(addr - 4)))
		addr -= 4;
	return addr;
}

/* assume_missing=: this symbol is to be taken as missing. */
static bool xhp_sym_hidden(const char *name)
{
	return xhp_assume_missing && !strcmp(name, xhp_assume_missing);
}

/*
 * kallsyms_lookup_name() from a throwaway kprobe: registered disabled, so
 * never armed (no text patching). Then asked for itself, through the thunk:
 * the entry we computed must be the symbol's start, or nothing is called
 * through it again.
 */
static int xhp_find_kallsyms_lookup_name(void)
{
	struct kprobe kp = {
		.symbol_name = "kallsyms_lookup_name",
		.flags = KPROBE_FLAG_DISABLED,
	};
	unsigned long entry;
	int err;

	if (xhp_sym_hidden(kp.symbol_name)) {
		pr_err("cannot find kallsyms_lookup_name (assume_missing=)\n");
		return -ENOENT;
	}
	err = register_kprobe(&kp);
	if (err) {
		pr_err("cannot find kallsyms_lookup_name (CONFIG_KPROBES needed): %d\n",
		       err);
		return err;
	}
	entry = xhp_entry_of((unsigned long)kp.addr);
	unregister_kprobe(&kp);
	xhp_sym.kallsyms_lookup_name = entry;
	if (xhp_kallsyms_lookup_name("kallsyms_lookup_name") != entry) {
		xhp_sym.kallsyms_lookup_name = 0;
		pr_err("kallsyms_lookup_name's entry is not where its kprobe said\n");
		return -ENOENT;
	}
	return 0;
}

/*
 * Where a kprobe on @name's entry would go: past an ENDBR or its seal,
 * as the kernel's arch_adjust_kprobe_addr() puts it. 0 if there is no
 * such symbol.
 */
static unsigned long xhp_kprobe_entry(const char *name)
{
	unsigned long start = xhp_kallsyms_lookup_name(name);

	if (start && is_endbr(xhp_read_insn(start)))
		start += 4;
	return start;
}

/*
 * The ftrace site of @name's entry, where a kprobe on the function itself
 * would be ftrace-based (register_kprobe()'s own test: ftrace_location()
 * of the probed address is that address). 0 if there is none, or without
 * ftrace_location() (optional) or kprobes on ftrace.
 */
unsigned long xhp_ftrace_site(const char *name)
{
	unsigned long entry;

	if (!IS_ENABLED(CONFIG_KPROBES_ON_FTRACE) || !xhp_sym.ftrace_location)
		return 0;
	entry = xhp_kprobe_entry(name);
	if (!entry || xhp_ftrace_location(entry) != entry)
		return 0;
	return entry;
}

static bool xhp_cet_msr(u64 bit)
{
	u64 msr;

	if (!(__read_cr4() & X86_CR4_CET))
		return false;
	if (rdmsrl_safe(MSR_IA32_S_CET, &msr))
		return false;
	return msr & bit;
}

static bool xhp_ibt_enforced(void)
{
	return IS_ENABLED(CONFIG_X86_KERNEL_IBT) &&
	       cpu_feature_enabled(X86_FEATURE_IBT) && xhp_cet_msr(CET_ENDBR_EN);
}

/*
 * Supervisor shadow stacks would see the thunk's RET go somewhere its CALL
 * did not come from and raise #CP. No kernel enables them (its shadow stack
 * support is for user space only); should one ever do, refuse by name.
 */
static int xhp_shstk_gate(void)
{
	bool enforced = xhp_cet_msr(CET_SHSTK_EN);

	if (!enforced && !xhp_assume_kernel_shstk)
		return 0;
	pr_err("refusing to load: kernel CET shadow stacks are %s (MSR_IA32_S_CET.SH_STK_EN); xhp_borrowed_call() enters borrowed functions with RET, which they would reject\n",
	       enforced ? "enforced" : "assumed (assume_kernel_shstk=1)");
	return -EOPNOTSUPP;
}

/*
 * Name the borrowed functions whose ENDBR is sealed. They are reached
 * through the thunk either way; the line says IBT mode was taken.
 */
static void xhp_ibt_report(void)
{
	bool enforced = xhp_ibt_enforced();
	char names[160] = "";
	int i, sealed = 0;

	if (!enforced && !xhp_assume_ibt)
		return;
	for (i = 0; i < ARRAY_SIZE(xhp_sym_table); i++) {
		const struct xhp_sym_entry *e = &xhp_sym_table[i];

		if (e->kind != XHP_SYM_FUNC || !*e->text ||
		    xhp_read_insn(*e->text) == ENDBR64_INSN)
			continue;
		sealed++;
		if (strlen(names) + strlen(e->name) + 2 < sizeof(names)) {
			if (names[0])
				strcat(names, " ");
			strcat(names, e->name);
		}
	}
	pr_info("IBT %s: %d borrowed function(s) without ENDBR (%s), all entered through the RET thunk\n",
		enforced ? "enforced" : "assumed (assume_ibt=1)", sealed,
		sealed ? names : "none");
}

int xhp_symbols_resolve(void)
{
	int i, ret;

	ret = xhp_shstk_gate();
	if (ret)
		return ret;

	if (xhp_assume_missing) {
		for (i = 0; i < ARRAY_SIZE(xhp_sym_table); i++)
			if (xhp_sym_hidden(xhp_sym_table[i].name))
				break;
		if (i == ARRAY_SIZE(xhp_sym_table)) {
			pr_err("assume_missing=%s: not a borrowed symbol\n",
			       xhp_assume_missing);
			return -EINVAL;
		}
	}
	ret = xhp_find_kallsyms_lookup_name();
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(xhp_sym_table); i++) {
		const struct xhp_sym_entry *e = &xhp_sym_table[i];
		bool found;

		/* assume_missing= leaves its symbol unfound. */
		if (!xhp_sym_hidden(e->name)) {
			if (e->kind == XHP_SYM_DATA)
				*e->data = (void *)xhp_kallsyms_lookup_name(e->name);
			else if (e->text != &xhp_sym.kallsyms_lookup_name)
				*e->text = xhp_kallsyms_lookup_name(e->name);
		}
		found = e->kind == XHP_SYM_FUNC ? *e->text : !!*e->data;
		if (!found && e->required) {
			pr_err("required kernel symbol %s not found\n", e->name);
			return -ENOENT;
		}
		if (!found)
			pr_info("optional kernel symbol %s not found; its feature is off\n",
				e->name);
	}
	xhp_ibt_report();
	return 0;
}
