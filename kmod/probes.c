// SPDX-License-Identifier: GPL-2.0
/*
 * Table-driven installation of every probe xhugepaged uses. A required
 * probe that cannot be installed fails the load with a message naming it;
 * an optional one is skipped with one log line.
 * /sys/kernel/mm/xhugepaged/hooks/ lists each probe's state.
 *
 * How each kind is installed is chosen for how fast rmmod can take it off
 * again (Documentation/reliability.rst): every ftrace-based probe removed
 * costs a walk of all of ftrace's records and a code patch, so
 *  - the scanner's entry hooks are breakpoint kprobes just past the
 *    function's ftrace site (removal: one byte and one IPI each);
 *  - the observability hooks (events.c) need the ftrace site: on 6.12 they
 *    are one fprobe for all of them (one ftrace update to put on, one to
 *    take off), elsewhere or with event_hooks=kretprobe one kretprobe each
 *    (one update each way, each). A worker arms them after init has
 *    returned, so the load does not wait for their code patches, and
 *    another takes them off alongside the rest of the exit. Their hits
 *    cost the same either way (both return through rethook;
 *    Documentation/reliability.rst).
 * The observability hooks can also be turned off and on at run time
 * through events/enabled; the scanner's own hooks stay put.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/fprobe.h>
#include <linux/moduleparam.h>
#include <linux/tracepoint.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/mutex.h>
#include <linux/ktime.h>
#include <linux/workqueue.h>
#include <asm/ftrace.h>

#include "xhugepaged.h"
#include "events.h"
#include "hooks.h"

enum xhp_probe_kind { XHP_KPROBE, XHP_EVENT, XHP_TRACEPOINT };

/* How a live probe is installed; shown in hooks/. */
enum xhp_probe_via {
	XHP_VIA_NONE,
	XHP_VIA_KPROBE,		/* breakpoint */
	XHP_VIA_FTRACE_KPROBE,	/* kprobe on the ftrace site */
	XHP_VIA_KRETPROBE,
	XHP_VIA_FPROBE,		/* member of the event hooks' one fprobe */
	XHP_VIA_TRACEPOINT,
};

static const char * const xhp_via_names[] = {
	[XHP_VIA_NONE] = "none",
	[XHP_VIA_KPROBE] = "kprobe",
	[XHP_VIA_FTRACE_KPROBE] = "ftrace-kprobe",
	[XHP_VIA_KRETPROBE] = "kretprobe",
	[XHP_VIA_FPROBE] = "fprobe",
	[XHP_VIA_TRACEPOINT] = "tracepoint",
};

struct xhp_probe {
	const char *name;		/* file name under hooks/ */
	const char *symbol;		/* function or tracepoint */
	enum xhp_probe_kind kind;
	bool required;
	kprobe_pre_handler_t pre;
	kretprobe_handler_t entry, ret;
	void *tp_probe;
	/* state */
	struct kprobe kp;
	struct kretprobe krp;
	struct tracepoint *tp;
	unsigned long ip;		/* its function's ftrace site, if found */
	enum xhp_probe_via via;
	bool live;
	int err;			/* at load; nonzero: never retried */
};

#define KPROBE(n, sym, req, h) \
	{ .name = n, .symbol = sym, .kind = XHP_KPROBE, .required = req, .pre = h }
/* Observability: optional hooks that time a kernel function. */
#define EVENT(n, sym, e, r) \
	{ .name = n, .symbol = sym, .kind = XHP_EVENT, .required = false, \
	  .entry = e, .ret = r }
#define TPPROBE(n, tpname, req, fn) \
	{ .name = n, .symbol = tpname, .kind = XHP_TRACEPOINT, .required = req, \
	  .tp_probe = fn }

static struct xhp_probe xhp_probes[] = {
	/* The registry: how xhugepaged learns of mms. */
	KPROBE("mm_enter", "khugepaged_enter_vma", true, xhp_hook_enter_vma),
	TPPROBE("mm_fork", "sched_process_fork", true, xhp_hook_fork),
	KPROBE("mm_exit", XHP_EXIT_MMAP_SYMBOL, false, xhp_hook_exit_mmap),
	/* Splits soon after our collapses: anti-thrash backoff. */
	KPROBE("split_backoff", XHP_SPLIT_PMD_SYMBOL, false, xhp_hook_split_pmd),
	/* Per-PMD results of our own collapses: the kernel's tracepoint. */
	TPPROBE("collapse_result", "mm_khugepaged_scan_pmd", false,
		xhp_hook_scan_pmd_result),
	TPPROBE("collapse_file_result", "mm_khugepaged_scan_file", false,
		xhp_hook_scan_file_result),
	/*
	 * The kernel's split and collapse paths (events.c). PMD splits are
	 * caught where __split_huge_pmd() and rmap's unmap both end up
	 * (compat.h names the function on each kernel).
	 */
	EVENT("split_pmd", XHP_SPLIT_PMD_SYMBOL,
	      xhp_hook_split_pmd_entry, xhp_hook_split_pmd_ret),
	EVENT("split_folio", XHP_SPLIT_FOLIO_SYMBOL,
	      xhp_hook_split_folio_entry, xhp_hook_split_folio_ret),
	EVENT("deferred_split_scan", "deferred_split_scan",
	      xhp_hook_deferred_scan_entry, xhp_hook_deferred_scan_ret),
	EVENT("collapse_huge_page", "collapse_huge_page",
	      xhp_hook_collapse_entry, xhp_hook_collapse_ret),
	EVENT("madvise_collapse", "madvise_collapse",
	      xhp_hook_madvise_collapse_entry, xhp_hook_madvise_collapse_ret),
	EVENT("collapse_file", "collapse_file",
	      xhp_hook_collapse_entry, xhp_hook_collapse_file_ret),
	EVENT("huge_fault", "do_huge_pmd_anonymous_page",
	      xhp_hook_timed_entry, xhp_hook_huge_fault_ret),
	EVENT("zap_pmd", "zap_huge_pmd",
	      xhp_hook_timed_entry, xhp_hook_zap_pmd_ret),
};

#define for_each_xhp_probe(p) \
	for (p = xhp_probes; p < xhp_probes + ARRAY_SIZE(xhp_probes); p++)

/*
 * Calls in flight at once, per event: event functions can sleep (split,
 * collapse, the shrinker), and a call that finds none free is not counted.
 */
#define XHP_EVENT_MAXACTIVE	max(8 * num_possible_cpus(), 64U)

/* --- the scanner's entry hooks ----------------------------------------- */

/*
 * Where each kprobe's function's ftrace (__fentry__) site is, as kprobes
 * would see it (symbols.c: a lookup, nothing registered). p->ip stays 0
 * where there is none, or if this cannot be found out.
 */
static void xhp_find_ftrace_sites(void)
{
	struct xhp_probe *p;

	for_each_xhp_probe(p)
		p->ip = p->kind == XHP_KPROBE ? xhp_ftrace_site(p->symbol) : 0;
}

/*
 * Only there so that the kprobe stays a breakpoint: kprobes with a post
 * handler are never optimized into a jump, whose removal would wait for an
 * RCU-tasks grace period.
 */
static void xhp_kprobe_post(struct kprobe *kp, struct pt_regs *regs,
			    unsigned long flags)
{
}

/*
 * Just past the ftrace site the arguments are still in their registers,
 * so the handlers read them as at entry. Where that place cannot be probed,
 * the kprobe goes on the function itself (ftrace-based).
 */
static int xhp_kprobe_install(struct xhp_probe *p)
{
	int err;

	if (p->ip) {
		memset(&p->kp, 0, sizeof(p->kp));
		p->kp.addr = (kprobe_opcode_t *)(p->ip + MCOUNT_INSN_SIZE);
		p->kp.pre_handler = p->pre;
		p->kp.post_handler = xhp_kprobe_post;
		if (!register_kprobe(&p->kp)) {
			p->via = XHP_VIA_KPROBE;
			return 0;
		}
	}
	memset(&p->kp, 0, sizeof(p->kp));
	p->kp.symbol_name = p->symbol;
	p->kp.pre_handler = p->pre;
	err = register_kprobe(&p->kp);
	if (!err)
		p->via = kprobe_ftrace(&p->kp) ? XHP_VIA_FTRACE_KPROBE :
						 XHP_VIA_KPROBE;
	return err;
}

static void xhp_find_tp(struct tracepoint *tp, void *priv)
{
	struct xhp_probe *p = priv;

	if (!p->tp && !strcmp(tp->name, p->symbol))
		p->tp = tp;
}

static int xhp_tracepoint_install(struct xhp_probe *p)
{
	int err;

	p->tp = NULL;
	for_each_kernel_tracepoint(xhp_find_tp, p);
	if (!p->tp)
		return -ENOENT;
	err = tracepoint_probe_register(p->tp, p->tp_probe, NULL);
	if (!err)
		p->via = XHP_VIA_TRACEPOINT;
	return err;
}

/* --- the observability hooks: kretprobes ------------------------------- */

static int xhp_kretprobe_install(struct xhp_probe *p)
{
	int err;

	memset(&p->krp, 0, sizeof(p->krp));
	p->krp.kp.symbol_name = p->symbol;
	p->krp.entry_handler = p->entry;
	p->krp.handler = p->ret;
	p->krp.data_size = sizeof(struct xhp_event_call);
	p->krp.maxactive = XHP_EVENT_MAXACTIVE;
	err = register_kretprobe(&p->krp);
	if (!err)
		p->via = XHP_VIA_KRETPROBE;
	return err;
}

static DEFINE_MUTEX(xhp_events_lock);
static bool xhp_events_on = true;
static bool xhp_events_closing;		/* unloading: events/enabled refused */
static u64 xhp_events_off_ns;
static const char *xhp_events_off_via = "none";

/*
 * event_hooks=: how the event hooks are installed. A kretprobe each costs
 * one ftrace update (a walk of every ftrace record and a code patch) to
 * put on and one to take off; one fprobe for all of them, one update each
 * way plus RCU-tasks grace periods on removal (its ftrace_ops is dynamic).
 * fprobe is the default where the kernel has one we can use (compat.h).
 */
enum xhp_events_mode { XHP_EVENTS_KRETPROBE, XHP_EVENTS_FPROBE };
static const char * const xhp_events_mode_names[] = {
	[XHP_EVENTS_KRETPROBE] = "kretprobe",
	[XHP_EVENTS_FPROBE] = "fprobe",
};
static unsigned int xhp_events_mode = XHP_HAVE_FPROBE ? XHP_EVENTS_FPROBE :
							  XHP_EVENTS_KRETPROBE;

static int xhp_param_set_event_hooks(const char *val,
				     const struct kernel_param *kp)
{
	int mode = sysfs_match_string(xhp_events_mode_names, val);

	if (mode < 0) {
		pr_err("event_hooks=%s: expected fprobe or kretprobe\n", val);
		return -EINVAL;
	}
	if (mode == XHP_EVENTS_FPROBE && !XHP_HAVE_FPROBE) {
		pr_err("event_hooks=fprobe: not on this kernel (needs CONFIG_FPROBE, 6.12 or 6.13)\n");
		return -EINVAL;
	}
	xhp_events_mode = mode;
	return 0;
}

static int xhp_param_get_event_hooks(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", xhp_events_mode_names[xhp_events_mode]);
}

static const struct kernel_param_ops xhp_event_hooks_ops = {
	.set = xhp_param_set_event_hooks,
	.get = xhp_param_get_event_hooks,
};
module_param_cb(event_hooks, &xhp_event_hooks_ops, NULL, 0444);
MODULE_PARM_DESC(event_hooks,
		 "How the observability hooks are installed: fprobe (6.12, one ftrace update for all) or kretprobe (one each)");

#if XHP_HAVE_FPROBE
static struct fprobe xhp_events_fprobe;
static bool xhp_events_fprobe_live;

/*
 * The handlers take a kretprobe_instance and use only its data; here that
 * is the fprobe's per-call entry data, laid out as one.
 */
#define XHP_FPROBE_DATA_SIZE \
	(offsetof(struct kretprobe_instance, data) + sizeof(struct xhp_event_call))

static struct xhp_probe *xhp_fprobe_member(unsigned long ip)
{
	struct xhp_probe *p;

	for_each_xhp_probe(p)
		if (p->kind == XHP_EVENT && p->via == XHP_VIA_FPROBE &&
		    p->ip == ip)
			return p;
	return NULL;
}

/*
 * Runs the table's event handler h, by a direct call: the module makes no
 * call through a pointer (scripts/check-indirect-calls.sh), so every
 * handler in the table must be named here.
 */
static int xhp_fprobe_call(kretprobe_handler_t h,
			   struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (h == xhp_hook_timed_entry)
		return xhp_hook_timed_entry(ri, regs);
	if (h == xhp_hook_split_pmd_entry)
		return xhp_hook_split_pmd_entry(ri, regs);
	if (h == xhp_hook_split_pmd_ret)
		return xhp_hook_split_pmd_ret(ri, regs);
	if (h == xhp_hook_split_folio_entry)
		return xhp_hook_split_folio_entry(ri, regs);
	if (h == xhp_hook_split_folio_ret)
		return xhp_hook_split_folio_ret(ri, regs);
	if (h == xhp_hook_deferred_scan_entry)
		return xhp_hook_deferred_scan_entry(ri, regs);
	if (h == xhp_hook_deferred_scan_ret)
		return xhp_hook_deferred_scan_ret(ri, regs);
	if (h == xhp_hook_collapse_entry)
		return xhp_hook_collapse_entry(ri, regs);
	if (h == xhp_hook_collapse_ret)
		return xhp_hook_collapse_ret(ri, regs);
	if (h == xhp_hook_collapse_file_ret)
		return xhp_hook_collapse_file_ret(ri, regs);
	if (h == xhp_hook_madvise_collapse_entry)
		return xhp_hook_madvise_collapse_entry(ri, regs);
	if (h == xhp_hook_madvise_collapse_ret)
		return xhp_hook_madvise_collapse_ret(ri, regs);
	if (h == xhp_hook_huge_fault_ret)
		return xhp_hook_huge_fault_ret(ri, regs);
	if (h == xhp_hook_zap_pmd_ret)
		return xhp_hook_zap_pmd_ret(ri, regs);
	WARN_ONCE(1, "event handler %ps missing from %s()\n", h, __func__);
	return 1;	/* an entry handler's "not this call" */
}

static int xhp_fprobe_entry(struct fprobe *fp, unsigned long ip,
			    unsigned long ret_ip, struct pt_regs *regs,
			    void *data)
{
	struct xhp_probe *p = xhp_fprobe_member(ip);

	/* Nonzero: no exit handler for this call (as for a kretprobe). */
	return p ? xhp_fprobe_call(p->entry, data, regs) : 1;
}

static void xhp_fprobe_exit(struct fprobe *fp, unsigned long ip,
			    unsigned long ret_ip, struct pt_regs *regs,
			    void *data)
{
	struct xhp_probe *p = xhp_fprobe_member(ip);

	if (p)
		xhp_fprobe_call(p->ret, data, regs);
}

/*
 * Every event hook to install whose function has an ftrace site goes into
 * one fprobe, registered once. If that fails, they are left to the
 * kretprobes (with a log line).
 */
static void xhp_events_install_fprobe(bool at_load)
{
	unsigned long ips[ARRAY_SIZE(xhp_probes)];
	struct xhp_probe *p;
	int n = 0, wanted = 0, err;

	if (xhp_events_mode != XHP_EVENTS_FPROBE || xhp_events_fprobe_live)
		return;
	/* Unloading: not worth an update to put on and another to take off. */
	if (READ_ONCE(xhp_events_closing))
		return;
	for_each_xhp_probe(p) {
		if (p->kind != XHP_EVENT || p->err || p->live)
			continue;
		wanted++;
		p->ip = xhp_ftrace_site(p->symbol);
		if (!p->ip)
			continue;
		ips[n++] = p->ip;
		p->via = XHP_VIA_FPROBE;	/* before the first hit */
	}
	if (n < wanted && at_load)
		pr_info("event hooks: %d of %d without a known ftrace site; those go to kretprobes\n",
			wanted - n, wanted);
	if (!n)
		return;
	memset(&xhp_events_fprobe, 0, sizeof(xhp_events_fprobe));
	xhp_events_fprobe.entry_handler = xhp_fprobe_entry;
	xhp_events_fprobe.exit_handler = xhp_fprobe_exit;
	xhp_events_fprobe.entry_data_size = XHP_FPROBE_DATA_SIZE;
	xhp_events_fprobe.nr_maxactive = n * XHP_EVENT_MAXACTIVE;
	err = register_fprobe_ips(&xhp_events_fprobe, ips, n);
	if (err)
		pr_info("event hooks: fprobe refused (%d); using kretprobes\n",
			err);
	for_each_xhp_probe(p) {
		if (p->kind != XHP_EVENT || p->via != XHP_VIA_FPROBE)
			continue;
		if (err)
			p->via = XHP_VIA_NONE;
		else
			p->live = true;
	}
	xhp_events_fprobe_live = !err;
}

/*
 * unregister_fprobe() fails only if ftrace has shut itself down after an
 * internal error; the fprobe then stays registered as far as we know, and
 * is never reused (nor is the module's memory safe to free: hence the
 * warning).
 */
static void xhp_events_remove_fprobe(void)
{
	if (xhp_events_fprobe_live &&
	    !WARN_ONCE(unregister_fprobe(&xhp_events_fprobe),
		       "cannot unregister the event hooks' fprobe"))
		xhp_events_fprobe_live = false;
}
#else
static void xhp_events_install_fprobe(bool at_load)
{
}

static void xhp_events_remove_fprobe(void)
{
}
#endif

/*
 * Install every event hook that is not live and did not fail at load.
 * At load, one that cannot be installed is recorded as missing; later
 * (events/enabled), returns -EIO if one that was there did not come back.
 */
static int xhp_events_install(bool at_load)
{
	struct xhp_probe *p;
	int err = 0;

	xhp_events_install_fprobe(at_load);
	for_each_xhp_probe(p) {
		int e;

		if (p->kind != XHP_EVENT || p->err || p->live)
			continue;
		if (READ_ONCE(xhp_events_closing))
			break;	/* unloading: the rest are not worth a patch */
		e = xhp_kretprobe_install(p);
		p->live = !e;
		if (!e)
			continue;
		if (at_load) {
			p->err = e;
			pr_info("optional hook %s on %s unavailable (%d); skipped\n",
				p->name, p->symbol, e);
		} else if (!err) {
			err = -EIO;
			pr_warn("hook %s on %s did not come back\n", p->name,
				p->symbol);
		}
	}
	return err;
}

/*
 * How the live event hooks are installed, for the log lines: one way, or
 * "fprobe+kretprobe" when some fell back (hooks/ says which).
 */
static const char *xhp_events_via(void)
{
	bool fprobe = false, kretprobe = false;
	struct xhp_probe *p;

	for_each_xhp_probe(p) {
		if (p->kind != XHP_EVENT || !p->live)
			continue;
		fprobe |= p->via == XHP_VIA_FPROBE;
		kretprobe |= p->via == XHP_VIA_KRETPROBE;
	}
	if (fprobe && kretprobe)
		return "fprobe+kretprobe";
	return fprobe ? "fprobe" : kretprobe ? "kretprobe" : "none";
}

/* Every live event hook off; returns when none of their handlers runs. */
static void xhp_events_remove(void)
{
	struct kretprobe *krps[ARRAY_SIZE(xhp_probes)];
	struct xhp_probe *p;
	int n = 0;

	xhp_events_remove_fprobe();
	for_each_xhp_probe(p) {
		if (p->kind != XHP_EVENT || !p->live)
			continue;
		if (p->via == XHP_VIA_KRETPROBE)
			krps[n++] = &p->krp;
		p->live = false;
		p->via = XHP_VIA_NONE;
	}
	if (n)
		unregister_kretprobes(krps, n);
}

/*
 * The event hooks are armed here, after init has returned: each costs an
 * ftrace update (tens of ms, more beside busy processes), and neither the
 * scanner nor the load needs them. Readers and writers of events/ and
 * hooks/ wait for this first (xhp_probes_events_wait_armed()).
 */
static void xhp_events_arm_fn(struct work_struct *work)
{
	unsigned int live = 0, total = 0, armable = 0, ms;
	const char *via;
	struct xhp_probe *p;
	u64 t0 = ktime_get_ns();
	bool stopped;

	mutex_lock(&xhp_events_lock);
	xhp_events_install(true);
	for_each_xhp_probe(p) {
		if (p->kind != XHP_EVENT)
			continue;
		total++;
		live += p->live;
		armable += !p->err;
	}
	via = xhp_events_via();
	/* Stopped: an unload came and left some it could have armed off. */
	stopped = READ_ONCE(xhp_events_closing) && live < armable;
	mutex_unlock(&xhp_events_lock);
	ms = div_u64(ktime_get_ns() - t0, NSEC_PER_MSEC);
	if (stopped)
		pr_info("event hooks: arming stopped by unload, %u of %u live in %u ms\n",
			live, total, ms);
	else
		pr_info("event hooks: %u of %u live by %s in %u ms\n", live,
			total, via, ms);
}
static DECLARE_WORK(xhp_events_arm_work, xhp_events_arm_fn);

void xhp_probes_events_wait_armed(void)
{
	flush_work(&xhp_events_arm_work);
}

static void xhp_events_off_fn(struct work_struct *work)
{
	u64 t0 = ktime_get_ns();

	/* An arming still under way stops at its next hook. */
	WRITE_ONCE(xhp_events_closing, true);
	cancel_work_sync(&xhp_events_arm_work);
	mutex_lock(&xhp_events_lock);
	xhp_events_off_via = xhp_events_via();
	xhp_events_remove();
	mutex_unlock(&xhp_events_lock);
	xhp_events_off_ns = ktime_get_ns() - t0;
}
static DECLARE_WORK(xhp_events_off_work, xhp_events_off_fn);

/* --- all of them -------------------------------------------------------- */

/*
 * Unloading starts here: the event hooks come off in a worker, which the
 * rest of the exit overlaps (their code patches, the scanner's stop and
 * the waits for grace periods). They touch nothing the exit tears down.
 */
void xhp_probes_remove_begin(void)
{
	queue_work(system_unbound_wq, &xhp_events_off_work);
}

/*
 * The scanner's hooks, in one batch: tracepoint probes first, as our
 * tracepoints are not faultable, so their probes run under
 * rcu_read_lock_sched() and the kprobe batch's grace period covers them
 * too; only without one do we wait for them ourselves.
 */
void xhp_probes_remove_scanner_hooks(struct xhp_probes_timing *t)
{
	struct kprobe *kps[ARRAY_SIZE(xhp_probes)];
	int nkp = 0, ntp = 0;
	struct xhp_probe *p;
	u64 t0 = ktime_get_ns();

	for_each_xhp_probe(p) {
		/* The event hooks' state is the workers' (kind first). */
		if (p->kind == XHP_EVENT || !p->live)
			continue;
		if (p->kind == XHP_KPROBE)
			kps[nkp++] = &p->kp;
		else {
			tracepoint_probe_unregister(p->tp, p->tp_probe, NULL);
			ntp++;
		}
		p->live = false;
		p->via = XHP_VIA_NONE;
	}
	if (nkp)
		unregister_kprobes(kps, nkp);
	else if (ntp)
		tracepoint_synchronize_unregister();
	if (t)
		t->entry_ns = ktime_get_ns() - t0;
}

/* Returns once no handler of ours can run any more. */
void xhp_probes_remove_end(struct xhp_probes_timing *t)
{
	flush_work(&xhp_events_off_work);
	if (t) {
		t->events_ns = xhp_events_off_ns;
		t->events_via = xhp_events_off_via;
	}
}

void xhp_probes_remove(struct xhp_probes_timing *t)
{
	xhp_probes_remove_begin();
	xhp_probes_remove_scanner_hooks(t);
	xhp_probes_remove_end(t);
}

int xhp_probes_install(struct xhp_probes_load_timing *t)
{
	struct xhp_probe *p;
	u64 t0 = ktime_get_ns(), t1;

	xhp_find_ftrace_sites();
	t1 = ktime_get_ns();
	t->sites_ns = t1 - t0;
	for_each_xhp_probe(p) {
		p->via = XHP_VIA_NONE;
		switch (p->kind) {
		case XHP_KPROBE:
			p->err = xhp_kprobe_install(p);
			break;
		case XHP_TRACEPOINT:
			p->err = xhp_tracepoint_install(p);
			break;
		case XHP_EVENT:
			continue;	/* together, below */
		}
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
	t->entry_ns = ktime_get_ns() - t1;
	queue_work(system_unbound_wq, &xhp_events_arm_work);
	return 0;
}

/* For events/enabled: what the load asked for, once it is in place. */
bool xhp_probes_events_on(void)
{
	xhp_probes_events_wait_armed();
	return READ_ONCE(xhp_events_on);
}

/*
 * Turn every observability hook that installed at load off or on. Returns
 * -EIO if one would not come back (the rest still do), -ENODEV once the
 * module is going away.
 */
int xhp_probes_set_events(bool on)
{
	int err = 0;

	xhp_probes_events_wait_armed();
	mutex_lock(&xhp_events_lock);
	if (READ_ONCE(xhp_events_closing)) {
		err = -ENODEV;
		goto out;
	}
	if (on == xhp_events_on)
		goto out;
	if (on) {
		err = xhp_events_install(false);
	} else {
		xhp_events_remove();
		/* Return handlers that would clear the shrinker marks are gone. */
		xhp_shrinker_unmark_all();
	}
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
	ssize_t len;

	/* Event hooks change state under the lock (events/enabled). */
	xhp_probes_events_wait_armed();
	mutex_lock(&xhp_events_lock);
	if (p->live)
		len = sysfs_emit(buf, "live %s %s %s\n", p->symbol,
				 p->required ? "required" : "optional",
				 xhp_via_names[p->via]);
	else if (!p->err)	/* installed at load, off by events/enabled */
		len = sysfs_emit(buf, "off %s optional\n", p->symbol);
	else
		len = sysfs_emit(buf, "missing %s %s %d\n", p->symbol,
				 p->required ? "required" : "optional", p->err);
	mutex_unlock(&xhp_events_lock);
	return len;
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
