// SPDX-License-Identifier: GPL-2.0
/*
 * Table-driven installation of every kprobe, kretprobe and tracepoint probe
 * xhugepaged uses. A required probe that cannot be installed fails the load
 * with a message naming it; an optional one is skipped with one log line.
 * /sys/kernel/mm/xhugepaged/hooks/ lists each probe's state.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/tracepoint.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "xhugepaged.h"
#include "hooks.h"

enum xhp_probe_kind { XHP_KPROBE, XHP_KRETPROBE, XHP_TRACEPOINT };

struct xhp_probe {
	const char *name;		/* file name under hooks/ */
	const char *symbol;		/* function or tracepoint */
	enum xhp_probe_kind kind;
	bool required;
	kprobe_pre_handler_t pre;
	kretprobe_handler_t entry, ret;
	size_t data_size;
	void *tp_probe;
	/* state */
	struct kprobe kp;
	struct kretprobe krp;
	struct tracepoint *tp;
	bool live;
	int err;
};

#define KPROBE(n, sym, req, h) \
	{ .name = n, .symbol = sym, .kind = XHP_KPROBE, .required = req, .pre = h }
#define KRETPROBE(n, sym, req, e, r, sz) \
	{ .name = n, .symbol = sym, .kind = XHP_KRETPROBE, .required = req, \
	  .entry = e, .ret = r, .data_size = sz }
#define TPPROBE(n, tpname, req, fn) \
	{ .name = n, .symbol = tpname, .kind = XHP_TRACEPOINT, .required = req, \
	  .tp_probe = fn }

static struct xhp_probe xhp_probes[] = {
	/* The registry: how xhugepaged learns of mms. */
	KPROBE("mm_enter", "khugepaged_enter_vma", true, xhp_hook_enter_vma),
	TPPROBE("mm_fork", "sched_process_fork", true, xhp_hook_fork),
	KPROBE("mm_exit", XHP_EXIT_MMAP_SYMBOL, false, xhp_hook_exit_mmap),
	/* Splits soon after our collapses: anti-thrash backoff. */
	KPROBE("split_backoff", "__split_huge_pmd", false, xhp_hook_split_pmd),
	/* Per-PMD results of our own collapses. */
	KRETPROBE("collapse_result", "hpage_collapse_scan_pmd", false,
		  xhp_hook_scan_pmd_entry, xhp_hook_scan_pmd_ret,
		  sizeof(struct xhp_scan_pmd_data)),
};

static void xhp_find_tp(struct tracepoint *tp, void *priv)
{
	struct xhp_probe *p = priv;

	if (!p->tp && !strcmp(tp->name, p->symbol))
		p->tp = tp;
}

static int xhp_probe_install(struct xhp_probe *p)
{
	switch (p->kind) {
	case XHP_KPROBE:
		memset(&p->kp, 0, sizeof(p->kp));
		p->kp.symbol_name = p->symbol;
		p->kp.pre_handler = p->pre;
		return register_kprobe(&p->kp);
	case XHP_KRETPROBE:
		memset(&p->krp, 0, sizeof(p->krp));
		p->krp.kp.symbol_name = p->symbol;
		p->krp.entry_handler = p->entry;
		p->krp.handler = p->ret;
		p->krp.data_size = p->data_size;
		p->krp.maxactive = 2 * num_possible_cpus();
		return register_kretprobe(&p->krp);
	case XHP_TRACEPOINT:
		p->tp = NULL;
		for_each_kernel_tracepoint(xhp_find_tp, p);
		if (!p->tp)
			return -ENOENT;
		return tracepoint_probe_register(p->tp, p->tp_probe, NULL);
	}
	return -EINVAL;
}

/*
 * Unregister in batches: unregister_kprobes() and unregister_kretprobes()
 * wait for one RCU grace period per call, not per probe, which keeps rmmod
 * well under a second even under TCG.
 */
void xhp_probes_remove(void)
{
	struct kretprobe *krps[ARRAY_SIZE(xhp_probes)];
	struct kprobe *kps[ARRAY_SIZE(xhp_probes)];
	int i, nkp = 0, nkrp = 0, ntp = 0;

	for (i = ARRAY_SIZE(xhp_probes) - 1; i >= 0; i--) {
		struct xhp_probe *p = &xhp_probes[i];

		if (!p->live)
			continue;
		switch (p->kind) {
		case XHP_KPROBE:
			kps[nkp++] = &p->kp;
			break;
		case XHP_KRETPROBE:
			krps[nkrp++] = &p->krp;
			break;
		case XHP_TRACEPOINT:
			tracepoint_probe_unregister(p->tp, p->tp_probe, NULL);
			ntp++;
			break;
		}
		p->live = false;
	}
	if (nkp)
		unregister_kprobes(kps, nkp);
	if (nkrp)
		unregister_kretprobes(krps, nkrp);
	/* No tracepoint probe of ours may still be running after this. */
	if (ntp)
		tracepoint_synchronize_unregister();
}

int xhp_probes_install(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(xhp_probes); i++) {
		struct xhp_probe *p = &xhp_probes[i];

		p->err = xhp_probe_install(p);
		p->live = !p->err;
		if (p->live)
			continue;
		if (p->required) {
			pr_err("cannot install required hook %s on %s: %d\n",
			       p->name, p->symbol, p->err);
			xhp_probes_remove();
			return p->err;
		}
		pr_info("optional hook %s on %s unavailable (%d); skipped\n",
			p->name, p->symbol, p->err);
	}
	return 0;
}

/* --- hooks/: one file per probe: "live", or "missing <errno>" ------------- */

struct xhp_hook_attr {
	struct kobj_attribute ka;
	struct xhp_probe *probe;
};

static ssize_t xhp_hook_show(struct kobject *kobj, struct kobj_attribute *ka,
			     char *buf)
{
	struct xhp_probe *p = container_of(ka, struct xhp_hook_attr, ka)->probe;

	if (p->live)
		return sysfs_emit(buf, "live %s %s\n", p->symbol,
				  p->required ? "required" : "optional");
	return sysfs_emit(buf, "missing %s %s %d\n", p->symbol,
			  p->required ? "required" : "optional", p->err);
}

static struct xhp_hook_attr xhp_hook_attrs[ARRAY_SIZE(xhp_probes)];
static struct attribute *xhp_hook_attr_ptrs[ARRAY_SIZE(xhp_probes) + 1];
static const struct attribute_group xhp_hooks_group = {
	.name = "hooks",
	.attrs = xhp_hook_attr_ptrs,
};
static struct kobject *xhp_hooks_parent;

int xhp_probes_sysfs_init(struct kobject *root)
{
	int i, err;

	for (i = 0; i < ARRAY_SIZE(xhp_probes); i++) {
		struct xhp_hook_attr *a = &xhp_hook_attrs[i];

		sysfs_attr_init(&a->ka.attr);
		a->ka.attr.name = xhp_probes[i].name;
		a->ka.attr.mode = 0444;
		a->ka.show = xhp_hook_show;
		a->probe = &xhp_probes[i];
		xhp_hook_attr_ptrs[i] = &a->ka.attr;
	}
	err = sysfs_create_group(root, &xhp_hooks_group);
	if (!err)
		xhp_hooks_parent = root;
	return err;
}

void xhp_probes_sysfs_exit(void)
{
	if (xhp_hooks_parent)
		sysfs_remove_group(xhp_hooks_parent, &xhp_hooks_group);
	xhp_hooks_parent = NULL;
}
