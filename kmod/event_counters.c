// SPDX-License-Identifier: GPL-2.0
/*
 * Counters for the events in events.c, and their sysfs tree:
 *
 *   events/enabled             1/0: all observability hooks on or off
 *   events/reset               write 1: zero every counter below
 *   events/<event>/count       calls (see Documentation/observability.rst)
 *   events/<event>/total_ns    summed latency
 *   events/<event>/max_ns      worst latency
 *   events/<event>/<extra>     failed, fallback or folios_split
 *   events/<event>/cause_<c>   splits and zaps, by cause
 *   events/<event>/initiator_<i> collapses, by who asked
 *
 * Per-CPU, so a handler costs a few CPU-local adds; readers sum the CPUs.
 * One kobject per event directory, all of one ktype whose attribute group
 * shows only the files that event has.
 */
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/percpu.h>
#include <linux/sysfs.h>

#include "xhugepaged.h"
#include "events.h"

struct xhp_event_desc {
	const char *name;
	const char *extra;	/* the event's extra counter, or NULL */
	bool by_cause, by_initiator;
};

static const struct xhp_event_desc xhp_event_descs[XHP_NR_EVENTS] = {
	[XHP_EV_SPLIT_PMD] = { "split_pmd", NULL, .by_cause = true },
	[XHP_EV_SPLIT_FOLIO] = { "split_folio", "failed", .by_cause = true },
	[XHP_EV_DEFERRED_SPLIT_SCAN] = { "deferred_split_scan", "folios_split" },
	[XHP_EV_COLLAPSE_HUGE_PAGE] = { "collapse_huge_page", "failed",
					.by_initiator = true },
	[XHP_EV_MADVISE_COLLAPSE] = { "madvise_collapse", "failed",
				      .by_initiator = true },
	[XHP_EV_COLLAPSE_FILE] = { "collapse_file", "failed",
				   .by_initiator = true },
	[XHP_EV_HUGE_FAULT] = { "huge_fault", "fallback" },
	[XHP_EV_ZAP_PMD] = { "zap_pmd", NULL, .by_cause = true },
};

struct xhp_event_counts {
	u64 count, total_ns, max_ns, extra;
	u64 by_class[XHP_NR_CLASSES];
};

struct xhp_cpu_counts {
	struct xhp_event_counts ev[XHP_NR_EVENTS];
};
static DEFINE_PER_CPU(struct xhp_cpu_counts, xhp_counts);

/* Probe handlers run with preemption off, so max_ns needs no cmpxchg. */
void xhp_event_hit(enum xhp_event ev, int class, u64 ns)
{
	this_cpu_inc(xhp_counts.ev[ev].count);
	this_cpu_add(xhp_counts.ev[ev].total_ns, ns);
	if (ns > this_cpu_read(xhp_counts.ev[ev].max_ns))
		this_cpu_write(xhp_counts.ev[ev].max_ns, ns);
	if (class >= 0 && class < XHP_NR_CLASSES)
		this_cpu_inc(xhp_counts.ev[ev].by_class[class]);
}

void xhp_event_add_extra(enum xhp_event ev, u64 n)
{
	this_cpu_add(xhp_counts.ev[ev].extra, n);
}

/* Racing handlers may keep an increment or two; that is fine for a reset. */
static void xhp_events_reset(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&xhp_counts, cpu), 0,
		       sizeof(struct xhp_cpu_counts));
}

/* --- events/<event>/ -------------------------------------------------------- */

enum xhp_field {
	XHP_F_COUNT, XHP_F_TOTAL_NS, XHP_F_MAX_NS, XHP_F_EXTRA,
	XHP_F_CAUSE,			/* + enum xhp_cause */
	XHP_F_INITIATOR = XHP_F_CAUSE + XHP_NR_CAUSES,	/* + initiator */
};

/*
 * One plain kobject per event (kobject_create_and_add(): its release is
 * the kernel's, never module text that could run after unload), told
 * apart by this table.
 */
static struct kobject *xhp_event_dirs[XHP_NR_EVENTS];

/* Only called from the directory's own files, which exist only while set. */
static enum xhp_event xhp_kobj_event(struct kobject *kobj)
{
	int ev;

	for (ev = 0; ev < XHP_NR_EVENTS - 1; ev++)
		if (xhp_event_dirs[ev] == kobj)
			return ev;
	return XHP_NR_EVENTS - 1;
}

struct xhp_counter_attr {
	struct kobj_attribute ka;
	unsigned int field;
};
#define xhp_to_counter_attr(a) \
	container_of(a, struct xhp_counter_attr, ka.attr)

static u64 xhp_counter_sum(enum xhp_event ev, unsigned int field)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct xhp_event_counts *c =
			&per_cpu_ptr(&xhp_counts, cpu)->ev[ev];

		if (field == XHP_F_COUNT)
			sum += c->count;
		else if (field == XHP_F_TOTAL_NS)
			sum += c->total_ns;
		else if (field == XHP_F_MAX_NS)
			sum = max(sum, c->max_ns);
		else if (field == XHP_F_EXTRA)
			sum += c->extra;
		else if (field >= XHP_F_INITIATOR)
			sum += c->by_class[field - XHP_F_INITIATOR];
		else
			sum += c->by_class[field - XHP_F_CAUSE];
	}
	return sum;
}

static ssize_t xhp_counter_show(struct kobject *kobj, struct kobj_attribute *ka,
				char *buf)
{
	struct xhp_counter_attr *a = container_of(ka, struct xhp_counter_attr, ka);

	return sysfs_emit(buf, "%llu\n",
			  xhp_counter_sum(xhp_kobj_event(kobj), a->field));
}

#define XHP_COUNTER(var, fname, f)					\
	static struct xhp_counter_attr var = {				\
		.ka = __ATTR(fname, 0444, xhp_counter_show, NULL),	\
		.field = f,						\
	}

XHP_COUNTER(xhp_ca_count, count, XHP_F_COUNT);
XHP_COUNTER(xhp_ca_total_ns, total_ns, XHP_F_TOTAL_NS);
XHP_COUNTER(xhp_ca_max_ns, max_ns, XHP_F_MAX_NS);
/* One event has at most one extra counter; its name says what it counts. */
XHP_COUNTER(xhp_ca_failed, failed, XHP_F_EXTRA);
XHP_COUNTER(xhp_ca_fallback, fallback, XHP_F_EXTRA);
XHP_COUNTER(xhp_ca_folios_split, folios_split, XHP_F_EXTRA);

#define XHP_CAUSE_COUNTER(c, up) \
	XHP_COUNTER(xhp_ca_cause_##c, cause_##c, XHP_F_CAUSE + XHP_CAUSE_##up)
XHP_CAUSE_COUNTER(mprotect, MPROTECT);
XHP_CAUSE_COUNTER(munmap, MUNMAP);
XHP_CAUSE_COUNTER(mremap, MREMAP);
XHP_CAUSE_COUNTER(dontneed, DONTNEED);
XHP_CAUSE_COUNTER(madvise, MADVISE);
XHP_CAUSE_COUNTER(cow, COW);
XHP_CAUSE_COUNTER(fork, FORK);
XHP_CAUSE_COUNTER(exit, EXIT);
XHP_CAUSE_COUNTER(reclaim, RECLAIM);
XHP_CAUSE_COUNTER(migration, MIGRATION);
XHP_CAUSE_COUNTER(shrinker, SHRINKER);
XHP_CAUSE_COUNTER(other, OTHER);

#define XHP_INITIATOR_COUNTER(i, up) \
	XHP_COUNTER(xhp_ca_initiator_##i, initiator_##i, \
		    XHP_F_INITIATOR + XHP_BY_##up)
XHP_INITIATOR_COUNTER(khugepaged, KHUGEPAGED);
XHP_INITIATOR_COUNTER(xhugepaged, XHUGEPAGED);
XHP_INITIATOR_COUNTER(madvise, MADVISE);
XHP_INITIATOR_COUNTER(other, OTHER);

static struct attribute *xhp_event_attrs[] = {
	&xhp_ca_count.ka.attr,
	&xhp_ca_total_ns.ka.attr,
	&xhp_ca_max_ns.ka.attr,
	&xhp_ca_failed.ka.attr,
	&xhp_ca_fallback.ka.attr,
	&xhp_ca_folios_split.ka.attr,
	&xhp_ca_cause_mprotect.ka.attr,
	&xhp_ca_cause_munmap.ka.attr,
	&xhp_ca_cause_mremap.ka.attr,
	&xhp_ca_cause_dontneed.ka.attr,
	&xhp_ca_cause_madvise.ka.attr,
	&xhp_ca_cause_cow.ka.attr,
	&xhp_ca_cause_fork.ka.attr,
	&xhp_ca_cause_exit.ka.attr,
	&xhp_ca_cause_reclaim.ka.attr,
	&xhp_ca_cause_migration.ka.attr,
	&xhp_ca_cause_shrinker.ka.attr,
	&xhp_ca_cause_other.ka.attr,
	&xhp_ca_initiator_khugepaged.ka.attr,
	&xhp_ca_initiator_xhugepaged.ka.attr,
	&xhp_ca_initiator_madvise.ka.attr,
	&xhp_ca_initiator_other.ka.attr,
	NULL,
};

static umode_t xhp_event_attr_visible(struct kobject *kobj,
				      struct attribute *attr, int n)
{
	const struct xhp_event_desc *d =
		&xhp_event_descs[xhp_kobj_event(kobj)];
	unsigned int field = xhp_to_counter_attr(attr)->field;

	if (field == XHP_F_EXTRA)
		return d->extra && !strcmp(d->extra, attr->name) ? attr->mode : 0;
	if (field >= XHP_F_INITIATOR)
		return d->by_initiator ? attr->mode : 0;
	if (field >= XHP_F_CAUSE)
		return d->by_cause ? attr->mode : 0;
	return attr->mode;
}

static const struct attribute_group xhp_event_group = {
	.attrs = xhp_event_attrs,
	.is_visible = xhp_event_attr_visible,
};

/* --- events/enabled, events/reset ------------------------------------------ */

static ssize_t enabled_show(struct kobject *kobj, struct kobj_attribute *ka,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", xhp_probes_events_on());
}

static ssize_t enabled_store(struct kobject *kobj, struct kobj_attribute *ka,
			     const char *buf, size_t count)
{
	unsigned int v;
	int err;

	if (kstrtouint(buf, 10, &v) || v > 1)
		return -EINVAL;
	err = xhp_probes_set_events(v);
	return err ? err : count;
}
static struct kobj_attribute xhp_events_enabled_attr = __ATTR_RW(enabled);

static ssize_t reset_store(struct kobject *kobj, struct kobj_attribute *ka,
			   const char *buf, size_t count)
{
	unsigned int v;

	if (kstrtouint(buf, 10, &v) || v != 1)
		return -EINVAL;
	/* Zeroed once the hooks are in, so that nothing after is missed. */
	xhp_probes_events_wait_armed();
	xhp_events_reset();
	return count;
}
static struct kobj_attribute xhp_events_reset_attr = __ATTR_WO(reset);

static struct attribute *xhp_events_top_attrs[] = {
	&xhp_events_enabled_attr.attr,
	&xhp_events_reset_attr.attr,
	NULL,
};

static const struct attribute_group xhp_events_top_group = {
	.attrs = xhp_events_top_attrs,
};

static struct kobject *xhp_events_kobj;

void xhp_events_sysfs_exit(void)
{
	int ev;

	for (ev = 0; ev < XHP_NR_EVENTS; ev++) {
		xhp_kobject_remove(xhp_event_dirs[ev]);
		xhp_event_dirs[ev] = NULL;
	}
	xhp_kobject_remove(xhp_events_kobj);
	xhp_events_kobj = NULL;
}

int xhp_events_sysfs_init(struct kobject *root)
{
	int ev, err;

	xhp_events_kobj = kobject_create_and_add("events", root);
	if (!xhp_events_kobj)
		return -ENOMEM;
	err = sysfs_create_group(xhp_events_kobj, &xhp_events_top_group);
	if (err)
		goto fail;

	for (ev = 0; ev < XHP_NR_EVENTS; ev++) {
		struct kobject *k = kobject_create_and_add(xhp_event_descs[ev].name,
							   xhp_events_kobj);

		if (!k) {
			err = -ENOMEM;
			goto fail;
		}
		/* Set before the files appear: is_visible() looks it up. */
		xhp_event_dirs[ev] = k;
		err = sysfs_create_group(k, &xhp_event_group);
		if (err)
			goto fail;
	}
	return 0;
fail:
	xhp_events_sysfs_exit();
	return err;
}
