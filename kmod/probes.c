// SPDX-License-Identifier: GPL-2.0
/*
 * Table-driven installation of every kprobe, kretprobe and tracepoint probe
 * xhugepaged uses. A required probe that cannot be installed fails the load
 * with a message naming it; an optional one is skipped with one log line.
 * /sys/kernel/mm/xhugepaged/hooks/ lists each probe's state.
 *
 * The observability hooks (events.c) can also be turned off and on at run
 * time through events/enabled; the scanner's own hooks stay put.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/tracepoint.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/mutex.h>
#include <linux/ktime.h>

#include "xhugepaged.h"
#include "events.h"
#include "hooks.h"

enum xhp_probe_kind { XHP_KPROBE, XHP_KRETPROBE, XHP_TRACEPOINT };

struct xhp_probe {
	const char *name;		/* file name under hooks/ */
	const char *symbol;		/* function or tracepoint */
	enum xhp_probe_kind kind;
	bool required;
	bool observe;			/* an events/ hook: events/enabled owns it */
	kprobe_pre_handler_t pre;
	kretprobe_handler_t entry, ret;
	size_t data_size;
	void *tp_probe;
	/* state */
	struct kprobe kp;
	struct kretprobe krp;
	struct tracepoint *tp;
	bool live;
	int err;			/* at load; nonzero: never retried */
};

#define KPROBE(n, sym, req, h) \
	{ .name = n, .symbol = sym, .kind = XHP_KPROBE, .required = req, .pre = h }
/* Observability: optional kretprobes that time a kernel function. */
#define EVENT(n, sym, e, r) \
	{ .name = n, .symbol = sym, .kind = XHP_KRETPROBE, .required = false, \
	  .observe = true, .entry = e, .ret = r, \
	  .data_size = sizeof(struct xhp_event_call) }
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
	/*
	 * Per-PMD results of our own collapses: a tracepoint, not a
	 * kretprobe, as each ftrace-based probe costs rmmod a code patch.
	 */
	TPPROBE("collapse_result", "mm_khugepaged_scan_pmd", false,
		xhp_hook_scan_pmd_result),
	/*
	 * The kernel's split and collapse paths (events.c). PMD splits are
	 * caught in split_huge_pmd_locked(), where __split_huge_pmd() and
	 * rmap's unmap both end up; 6.12 inlines __split_huge_pmd_locked().
	 */
	EVENT("split_pmd", "split_huge_pmd_locked",
	      xhp_hook_split_pmd_entry, xhp_hook_split_pmd_ret),
	EVENT("split_folio", "split_huge_page_to_list_to_order",
	      xhp_hook_split_folio_entry, xhp_hook_split_folio_ret),
	EVENT("deferred_split_scan", "deferred_split_scan",
	      xhp_hook_deferred_scan_entry, xhp_hook_deferred_scan_ret),
	EVENT("collapse_huge_page", "collapse_huge_page",
	      xhp_hook_collapse_entry, xhp_hook_collapse_ret),
	EVENT("madvise_collapse", "madvise_collapse",
	      xhp_hook_madvise_collapse_entry, xhp_hook_madvise_collapse_ret),
	EVENT("huge_fault", "do_huge_pmd_anonymous_page",
	      xhp_hook_timed_entry, xhp_hook_huge_fault_ret),
	EVENT("zap_pmd", "zap_huge_pmd",
	      xhp_hook_timed_entry, xhp_hook_zap_pmd_ret),
};

static DEFINE_MUTEX(xhp_events_lock);
static bool xhp_events_on = true;

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
		/* Event hooks' functions can sleep: room for many callers. */
		p->krp.maxactive = p->observe ? max(8 * num_possible_cpus(), 64U) :
						2 * num_possible_cpus();
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

/* One probe, for events/enabled; xhp_probes_remove() batches the rest. */
static void xhp_probe_remove(struct xhp_probe *p)
{
	if (!p->live)
		return;
	switch (p->kind) {
	case XHP_KPROBE:
		unregister_kprobe(&p->kp);
		break;
	case XHP_KRETPROBE:
		unregister_kretprobe(&p->krp);
		break;
	case XHP_TRACEPOINT:
		tracepoint_probe_unregister(p->tp, p->tp_probe, NULL);
		tracepoint_synchronize_unregister();
		break;
	}
	p->live = false;
}

/*
 * Unregister in batches: unregister_kprobes() and unregister_kretprobes()
 * wait for one RCU grace period per call, not per probe. Tracepoint probes
 * go first: our tracepoints are not faultable, so their probes run under
 * rcu_read_lock_sched() and the kprobe batches' grace periods that follow
 * also cover them; only without those do we wait for them ourselves. Each
 * grace period can be held up by a preempted reader, so fewer is better.
 * @t, if not NULL, gets how long each kind took.
 */
void xhp_probes_remove(struct xhp_probes_timing *t)
{
	struct kretprobe *krps[ARRAY_SIZE(xhp_probes)];
	struct kprobe *kps[ARRAY_SIZE(xhp_probes)];
	int i, nkp = 0, nkrp = 0, ntp = 0;
	u64 t0;

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
	t0 = ktime_get_ns();
	if (nkp)
		unregister_kprobes(kps, nkp);
	if (t)
		t->kprobes_ns = ktime_get_ns() - t0;
	t0 = ktime_get_ns();
	if (nkrp)
		unregister_kretprobes(krps, nkrp);
	if (t)
		t->kretprobes_ns = ktime_get_ns() - t0;
	/* No tracepoint probe of ours may still be running after this. */
	if (ntp && !nkp && !nkrp)
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
			xhp_probes_remove(NULL);
			return p->err;
		}
		pr_info("optional hook %s on %s unavailable (%d); skipped\n",
			p->name, p->symbol, p->err);
	}
	return 0;
}

bool xhp_probes_events_on(void)
{
	return READ_ONCE(xhp_events_on);
}

/*
 * Turn every observability hook that installed at load off or on. Returns
 * the first error of a hook that would not come back; the rest still do.
 */
int xhp_probes_set_events(bool on)
{
	int i, err = 0;

	mutex_lock(&xhp_events_lock);
	if (on == xhp_events_on)
		goto out;
	for (i = 0; i < ARRAY_SIZE(xhp_probes); i++) {
		struct xhp_probe *p = &xhp_probes[i];

		if (!p->observe || p->err)
			continue;
		if (!on) {
			xhp_probe_remove(p);
			continue;
		}
		if (p->live)
			continue;
		p->live = !xhp_probe_install(p);
		if (!p->live && !err) {
			err = -EIO;
			pr_warn("hook %s on %s did not come back\n", p->name,
				p->symbol);
		}
	}
	/* Return handlers that would clear the shrinker marks are gone. */
	if (!on)
		xhp_shrinker_unmark_all();
	WRITE_ONCE(xhp_events_on, on);
out:
	mutex_unlock(&xhp_events_lock);
	return err;
}

/* --- hooks/: one file per probe: "live", "off" or "missing <errno>" -------- */

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
	if (!p->err)	/* installed at load, turned off by events/enabled */
		return sysfs_emit(buf, "off %s optional\n", p->symbol);
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
