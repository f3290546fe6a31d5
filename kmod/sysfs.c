// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/mm/xhugepaged/: a file-for-file mirror of
 * /sys/kernel/mm/transparent_hugepage/ with the same read formats and the
 * same accepted and rejected writes, so tools written for the real
 * directory (the kernel's mm selftests among them) drive xhugepaged when it
 * is bind-mounted over it. Files the module cannot own (fault-path policy)
 * are kept, validated and documented as such in
 * Documentation/ABI/testing/sysfs-kernel-mm-xhugepaged.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/percpu.h>

#include "xhugepaged.h"
#include "events.h"
#include "procview.h"

/* --- multiple-choice files: "a [b] c" ------------------------------------ */

struct xhp_choice_attr {
	struct kobj_attribute ka;
	const char * const *names;	/* in display order */
	unsigned int nr;
	unsigned int *val;		/* index into names */
	bool kick;
};

static ssize_t xhp_choice_emit(char *buf, const char * const *names,
			       unsigned int nr, unsigned int cur)
{
	unsigned int i;
	int len = 0;

	for (i = 0; i < nr; i++)
		len += sysfs_emit_at(buf, len, i == cur ? "%s[%s]" : "%s%s",
				     i ? " " : "", names[i]);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

static int xhp_choice_parse(const char *buf, const char * const *names,
			    unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (sysfs_streq(buf, names[i]))
			return i;
	return -EINVAL;
}

static ssize_t xhp_choice_show(struct kobject *kobj, struct kobj_attribute *ka,
			       char *buf)
{
	struct xhp_choice_attr *c = container_of(ka, struct xhp_choice_attr, ka);

	return xhp_choice_emit(buf, c->names, c->nr, READ_ONCE(*c->val));
}

static ssize_t xhp_choice_store(struct kobject *kobj, struct kobj_attribute *ka,
				const char *buf, size_t count)
{
	struct xhp_choice_attr *c = container_of(ka, struct xhp_choice_attr, ka);
	int i = xhp_choice_parse(buf, c->names, c->nr);

	if (i < 0)
		return i;
	WRITE_ONCE(*c->val, i);
	if (c->kick)
		xhp_scanner_kick();
	return count;
}

#define XHP_CHOICE(var, fname, list, store, kick_)			\
	static struct xhp_choice_attr var = {				\
		.ka = __ATTR(fname, 0644, xhp_choice_show, store),	\
		.names = list, .nr = ARRAY_SIZE(list),			\
		.val = &var##_val, .kick = kick_,			\
	}

/* enabled: names in the order of enum xhp_thp_mode, so val == mode. */
static const char * const xhp_enabled_names[] = { "always", "madvise", "never" };
#define xhp_enabled_attr_val xhp_knobs.enabled
static ssize_t xhp_enabled_store(struct kobject *kobj, struct kobj_attribute *ka,
				 const char *buf, size_t count)
{
	ssize_t ret = xhp_choice_store(kobj, ka, buf, count);

	if (ret > 0)
		xhp_queue_rules_changed();
	return ret;
}
XHP_CHOICE(xhp_enabled_attr, enabled, xhp_enabled_names, xhp_enabled_store, true);

/*
 * Fault-path policies the module cannot own; kept for tool compatibility.
 * Defaults are the kernel's compiled-in defaults.
 */
static const char * const xhp_defrag_names[] = {
	"always", "defer", "defer+madvise", "madvise", "never" };
static unsigned int xhp_defrag_attr_val = 3;
XHP_CHOICE(xhp_defrag_attr, defrag, xhp_defrag_names, xhp_choice_store, false);

/* shmem_enabled governs the scanner's shmem VMAs (shmem.c). */
#define xhp_shmem_attr_val xhp_knobs.shmem_enabled
static bool xhp_shmem_inherit_is_pmd_only(void);

/*
 * shmem_enabled_store() rejects input that does not fit its 16-byte
 * buffer, and force unless exactly the PMD size inherits (no smaller size
 * may override the huge= policy that force imposes).
 */
static ssize_t xhp_shmem_store(struct kobject *kobj, struct kobj_attribute *ka,
			       const char *buf, size_t count)
{
	ssize_t ret;

	if (count + 1 > 16)
		return -EINVAL;
	if (sysfs_streq(buf, xhp_shmem_mode_names[XHP_SHMEM_FORCE]) &&
	    !xhp_shmem_inherit_is_pmd_only())
		return -EINVAL;
	ret = xhp_choice_store(kobj, ka, buf, count);
	/* The queue rule looks at the shmem policy too (registry.c). */
	if (ret > 0)
		xhp_queue_rules_changed();
	return ret;
}
XHP_CHOICE(xhp_shmem_attr, shmem_enabled, xhp_shmem_mode_names,
	   xhp_shmem_store, true);

/* --- numeric files --------------------------------------------------------- */

struct xhp_uint_attr {
	struct kobj_attribute ka;
	unsigned int *val;
	unsigned int min, max;
	bool flag;	/* 0/1 file: parse errors are returned as they are */
	bool kick;
};

static ssize_t xhp_uint_show(struct kobject *kobj, struct kobj_attribute *ka,
			     char *buf)
{
	struct xhp_uint_attr *u = container_of(ka, struct xhp_uint_attr, ka);

	return sysfs_emit(buf, "%u\n", READ_ONCE(*u->val));
}

static ssize_t xhp_uint_store(struct kobject *kobj, struct kobj_attribute *ka,
			      const char *buf, size_t count)
{
	struct xhp_uint_attr *u = container_of(ka, struct xhp_uint_attr, ka);
	unsigned long v;
	int err;

	err = kstrtoul(buf, 10, &v);
	/* khugepaged's stores answer every bad value with -EINVAL ... */
	if (err && !u->flag)
		return -EINVAL;
	/* ... single_hugepage_flag_store() passes the parse error through. */
	if (err)
		return err;
	if (v < u->min || v > u->max)
		return -EINVAL;
	WRITE_ONCE(*u->val, v);
	if (u->kick)
		xhp_scanner_kick();
	return count;
}

#define XHP_UINT(var, fname, ptr, lo, hi, flag_, kick_)			\
	static struct xhp_uint_attr var = {				\
		.ka = __ATTR(fname, 0644, xhp_uint_show, xhp_uint_store), \
		.val = ptr, .min = lo, .max = hi,			\
		.flag = flag_, .kick = kick_,				\
	}

static unsigned int xhp_use_zero_page = 1;
XHP_UINT(xhp_use_zero_page_attr, use_zero_page, &xhp_use_zero_page, 0, 1,
	 true, false);

static ssize_t hpage_pmd_size_show(struct kobject *kobj,
				   struct kobj_attribute *ka, char *buf)
{
	return sysfs_emit(buf, "%lu\n", HPAGE_PMD_SIZE);
}
static struct kobj_attribute xhp_hpage_pmd_size_attr = __ATTR_RO(hpage_pmd_size);

#if XHP_HAVE_SHRINK_UNDERUSED
static bool xhp_shrink_underused = true;

static ssize_t shrink_underused_show(struct kobject *kobj,
				     struct kobj_attribute *ka, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(xhp_shrink_underused));
}

static ssize_t shrink_underused_store(struct kobject *kobj,
				      struct kobj_attribute *ka,
				      const char *buf, size_t count)
{
	bool v;
	int err = kstrtobool(buf, &v);

	if (err < 0)
		return err;
	WRITE_ONCE(xhp_shrink_underused, v);
	return count;
}
static struct kobj_attribute xhp_shrink_underused_attr =
	__ATTR_RW(shrink_underused);
#endif

static struct attribute *xhp_top_attrs[] = {
	&xhp_enabled_attr.ka.attr,
	&xhp_defrag_attr.ka.attr,
	&xhp_use_zero_page_attr.ka.attr,
	&xhp_hpage_pmd_size_attr.attr,
	&xhp_shmem_attr.ka.attr,
#if XHP_HAVE_SHRINK_UNDERUSED
	&xhp_shrink_underused_attr.attr,
#endif
	NULL,
};

static const struct attribute_group xhp_top_group = {
	.attrs = xhp_top_attrs,
};

/* --- khugepaged/ ------------------------------------------------------------ */

XHP_UINT(xhp_kd_defrag_attr, defrag, &xhp_knobs.defrag, 0, 1, true, false);
XHP_UINT(xhp_pages_to_scan_attr, pages_to_scan, &xhp_knobs.pages_to_scan,
	 1, UINT_MAX, false, false);
XHP_UINT(xhp_scan_sleep_attr, scan_sleep_millisecs,
	 &xhp_knobs.scan_sleep_millisecs, 0, UINT_MAX, false, true);
XHP_UINT(xhp_alloc_sleep_attr, alloc_sleep_millisecs,
	 &xhp_knobs.alloc_sleep_millisecs, 0, UINT_MAX, false, true);
XHP_UINT(xhp_max_none_attr, max_ptes_none, &xhp_knobs.max_ptes_none,
	 0, HPAGE_PMD_NR - 1, false, false);
XHP_UINT(xhp_max_swap_attr, max_ptes_swap, &xhp_knobs.max_ptes_swap,
	 0, HPAGE_PMD_NR - 1, false, false);
XHP_UINT(xhp_max_shared_attr, max_ptes_shared, &xhp_knobs.max_ptes_shared,
	 0, HPAGE_PMD_NR - 1, false, false);

static ssize_t pages_collapsed_show(struct kobject *kobj,
				    struct kobj_attribute *ka, char *buf)
{
	return sysfs_emit(buf, "%u\n", atomic_read(&xhp_stats.pages_collapsed));
}
static struct kobj_attribute xhp_pages_collapsed_attr = __ATTR_RO(pages_collapsed);

static ssize_t full_scans_show(struct kobject *kobj, struct kobj_attribute *ka,
			       char *buf)
{
	return sysfs_emit(buf, "%u\n", atomic_read(&xhp_stats.full_scans));
}
static struct kobj_attribute xhp_full_scans_attr = __ATTR_RO(full_scans);

/* Not in the kernel's directory: the scan order, and what it found. */
static const char * const xhp_order_names[] = { "fifo", "hot" };
#define xhp_scan_order_attr_val xhp_knobs.scan_order
XHP_CHOICE(xhp_scan_order_attr, scan_order, xhp_order_names, xhp_choice_store,
	   true);

XHP_UINT(xhp_backoff_window_attr, backoff_window_millisecs,
	 &xhp_knobs.backoff_window_millisecs, 0, XHP_BACKOFF_WINDOW_MAX,
	 false, false);

static ssize_t backoff_wasted_show(struct kobject *kobj,
				   struct kobj_attribute *ka, char *buf)
{
	return sysfs_emit(buf, "%ld\n", xhp_backoff_wasted());
}
static struct kobj_attribute xhp_backoff_wasted_attr = __ATTR_RO(backoff_wasted);

static ssize_t backoff_skipped_show(struct kobject *kobj,
				    struct kobj_attribute *ka, char *buf)
{
	return sysfs_emit(buf, "%ld\n", xhp_backoff_skipped());
}
static struct kobj_attribute xhp_backoff_skipped_attr = __ATTR_RO(backoff_skipped);

static ssize_t hot_ranges_show(struct kobject *kobj, struct kobj_attribute *ka,
			       char *buf)
{
	return sysfs_emit(buf, "%ld\n", xhp_hot_ranges());
}
static struct kobj_attribute xhp_hot_ranges_attr = __ATTR_RO(hot_ranges);

/* Not in the kernel's directory: how many mms xhugepaged has queued. */
static ssize_t mm_slots_show(struct kobject *kobj, struct kobj_attribute *ka,
			     char *buf)
{
	return sysfs_emit(buf, "%u\n", xhp_registry_count());
}
static struct kobj_attribute xhp_mm_slots_attr = __ATTR_RO(mm_slots);

static struct attribute *xhp_khugepaged_attrs[] = {
	&xhp_kd_defrag_attr.ka.attr,
	&xhp_pages_to_scan_attr.ka.attr,
	&xhp_scan_sleep_attr.ka.attr,
	&xhp_alloc_sleep_attr.ka.attr,
	&xhp_max_none_attr.ka.attr,
	&xhp_max_swap_attr.ka.attr,
	&xhp_max_shared_attr.ka.attr,
	&xhp_pages_collapsed_attr.attr,
	&xhp_full_scans_attr.attr,
	&xhp_mm_slots_attr.attr,
	&xhp_scan_order_attr.ka.attr,
	&xhp_hot_ranges_attr.attr,
	&xhp_backoff_window_attr.ka.attr,
	&xhp_backoff_wasted_attr.attr,
	&xhp_backoff_skipped_attr.attr,
	NULL,
};

static const struct attribute_group xhp_khugepaged_group = {
	.attrs = xhp_khugepaged_attrs,
};

/* --- hugepages-<size>kB/ ---------------------------------------------------- */
#if XHP_HAVE_MTHP_SYSFS

/* Orders as on x86-64 6.12: anon 2..PMD_ORDER, file (shmem) 1..PMD_ORDER. */
#define XHP_MIN_ANON_ORDER 2
#define XHP_MIN_FILE_ORDER 1

/*
 * One plain kobject per size (kobject_create_and_add(): its release is the
 * kernel's), told apart by this table, not by a struct of ours around it:
 * a release function in module text could run after the module is gone
 * (DEBUG_KOBJECT_RELEASE delays every release by 1-4 s).
 */
static struct kobject *xhp_thpsizes[PMD_ORDER + 1];

/* Only called from the directory's own files, which exist only while set. */
static unsigned int xhp_kobj_order(struct kobject *kobj)
{
	unsigned int order;

	for (order = 0; order < PMD_ORDER; order++)
		if (xhp_thpsizes[order] == kobj)
			return order;
	return PMD_ORDER;
}

/* Per-order anon policy; only PMD_ORDER acts (see xhp_pmd_mode()). */
static const char * const xhp_anon_names[] = {
	"always", "inherit", "madvise", "never" };
static const unsigned int xhp_anon_modes[] = {
	XHP_ALWAYS, XHP_INHERIT, XHP_MADVISE, XHP_NEVER };
static unsigned int xhp_anon_mode[PMD_ORDER + 1];

/* Per-order shmem policy, names in the order of enum xhp_shmem_size_mode. */
static const char * const xhp_tshmem_names[XHP_SHSZ_NR_MODES] = {
	"always", "inherit", "within_size", "advise", "never" };
static unsigned int xhp_tshmem_mode[PMD_ORDER + 1];

/* The PMD size's lives in the knobs: it governs shmem collapse. */
static unsigned int *xhp_tshmem_slot(unsigned int order)
{
	return order == PMD_ORDER ? &xhp_knobs.shmem_pmd_enabled :
				    &xhp_tshmem_mode[order];
}

static bool xhp_shmem_inherit_is_pmd_only(void)
{
	unsigned int order;

	for (order = XHP_MIN_FILE_ORDER; order <= PMD_ORDER; order++)
		if ((READ_ONCE(*xhp_tshmem_slot(order)) == XHP_SHSZ_INHERIT) !=
		    (order == PMD_ORDER))
			return false;
	return true;
}

static unsigned int xhp_anon_index(unsigned int mode)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xhp_anon_modes); i++)
		if (xhp_anon_modes[i] == mode)
			return i;
	return ARRAY_SIZE(xhp_anon_modes) - 1;
}

static unsigned int *xhp_anon_slot(unsigned int order)
{
	return order == PMD_ORDER ? &xhp_knobs.pmd_enabled :
				    &xhp_anon_mode[order];
}

static ssize_t anon_enabled_show(struct kobject *kobj,
				 struct kobj_attribute *ka, char *buf)
{
	unsigned int mode = READ_ONCE(*xhp_anon_slot(xhp_kobj_order(kobj)));

	return xhp_choice_emit(buf, xhp_anon_names, ARRAY_SIZE(xhp_anon_names),
			       xhp_anon_index(mode));
}

static ssize_t anon_enabled_store(struct kobject *kobj,
				  struct kobj_attribute *ka,
				  const char *buf, size_t count)
{
	unsigned int order = xhp_kobj_order(kobj);
	int i = xhp_choice_parse(buf, xhp_anon_names, ARRAY_SIZE(xhp_anon_names));

	if (i < 0)
		return i;
	WRITE_ONCE(*xhp_anon_slot(order), xhp_anon_modes[i]);
	if (order == PMD_ORDER)
		xhp_queue_rules_changed();
	return count;
}
static struct kobj_attribute xhp_anon_enabled_attr =
	__ATTR(enabled, 0644, anon_enabled_show, anon_enabled_store);

static ssize_t tshmem_show(struct kobject *kobj, struct kobj_attribute *ka,
			   char *buf)
{
	return xhp_choice_emit(buf, xhp_tshmem_names,
			       ARRAY_SIZE(xhp_tshmem_names),
			       READ_ONCE(*xhp_tshmem_slot(xhp_kobj_order(kobj))));
}

static ssize_t tshmem_store(struct kobject *kobj, struct kobj_attribute *ka,
			    const char *buf, size_t count)
{
	unsigned int order = xhp_kobj_order(kobj);
	int i = xhp_choice_parse(buf, xhp_tshmem_names,
				 ARRAY_SIZE(xhp_tshmem_names));

	if (i < 0)
		return i;
	/* As thpsize_shmem_enabled_store(): force keeps smaller sizes out. */
	if (i == XHP_SHSZ_INHERIT && order != PMD_ORDER &&
	    READ_ONCE(xhp_knobs.shmem_enabled) == XHP_SHMEM_FORCE)
		return -EINVAL;
	WRITE_ONCE(*xhp_tshmem_slot(order), i);
	if (order == PMD_ORDER) {
		xhp_queue_rules_changed();
		xhp_scanner_kick();
	}
	return count;
}
static struct kobj_attribute xhp_tshmem_attr =
	__ATTR(shmem_enabled, 0644, tshmem_show, tshmem_store);

/* stats/: the kernel's own per-size counters, read through (read-only). */
struct xhp_mstat_attr {
	struct kobj_attribute ka;
	unsigned int item;
};

static ssize_t xhp_mstat_show(struct kobject *kobj, struct kobj_attribute *ka,
			      char *buf)
{
	struct xhp_mstat_attr *m = container_of(ka, struct xhp_mstat_attr, ka);
	struct mthp_stat __percpu *stats = xhp_sym.mthp_stats;
	unsigned int order = xhp_kobj_order(kobj);
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(stats, cpu)->stats[order][m->item];
	return sysfs_emit(buf, "%lu\n", sum);
}

#define XHP_MSTAT(name, item_)						\
	static struct xhp_mstat_attr xhp_ms_##name = {			\
		.ka = __ATTR(name, 0444, xhp_mstat_show, NULL),		\
		.item = item_,						\
	}
XHP_MSTAT(anon_fault_alloc, MTHP_STAT_ANON_FAULT_ALLOC);
XHP_MSTAT(anon_fault_fallback, MTHP_STAT_ANON_FAULT_FALLBACK);
XHP_MSTAT(anon_fault_fallback_charge, MTHP_STAT_ANON_FAULT_FALLBACK_CHARGE);
XHP_MSTAT(swpout, MTHP_STAT_SWPOUT);
XHP_MSTAT(swpout_fallback, MTHP_STAT_SWPOUT_FALLBACK);
XHP_MSTAT(shmem_alloc, MTHP_STAT_SHMEM_ALLOC);
XHP_MSTAT(shmem_fallback, MTHP_STAT_SHMEM_FALLBACK);
XHP_MSTAT(shmem_fallback_charge, MTHP_STAT_SHMEM_FALLBACK_CHARGE);
XHP_MSTAT(split, MTHP_STAT_SPLIT);
XHP_MSTAT(split_failed, MTHP_STAT_SPLIT_FAILED);
XHP_MSTAT(split_deferred, MTHP_STAT_SPLIT_DEFERRED);
XHP_MSTAT(nr_anon, MTHP_STAT_NR_ANON);
XHP_MSTAT(nr_anon_partially_mapped, MTHP_STAT_NR_ANON_PARTIALLY_MAPPED);

/* Every size has the shmem and "any" files; anon sizes have the rest. */
static struct attribute *xhp_file_ctrl_attrs[] = {
	&xhp_tshmem_attr.attr, NULL };
static struct attribute *xhp_anon_ctrl_attrs[] = {
	&xhp_anon_enabled_attr.attr, &xhp_tshmem_attr.attr, NULL };
static struct attribute *xhp_file_stats_attrs[] = {
	&xhp_ms_swpout.ka.attr, &xhp_ms_swpout_fallback.ka.attr,
	&xhp_ms_split.ka.attr, &xhp_ms_split_failed.ka.attr,
	&xhp_ms_shmem_alloc.ka.attr, &xhp_ms_shmem_fallback.ka.attr,
	&xhp_ms_shmem_fallback_charge.ka.attr, NULL };
static struct attribute *xhp_anon_stats_attrs[] = {
	&xhp_ms_anon_fault_alloc.ka.attr, &xhp_ms_anon_fault_fallback.ka.attr,
	&xhp_ms_anon_fault_fallback_charge.ka.attr,
	&xhp_ms_split_deferred.ka.attr, &xhp_ms_nr_anon.ka.attr,
	&xhp_ms_nr_anon_partially_mapped.ka.attr,
	&xhp_ms_swpout.ka.attr, &xhp_ms_swpout_fallback.ka.attr,
	&xhp_ms_split.ka.attr, &xhp_ms_split_failed.ka.attr,
	&xhp_ms_shmem_alloc.ka.attr, &xhp_ms_shmem_fallback.ka.attr,
	&xhp_ms_shmem_fallback_charge.ka.attr, NULL };

static const struct attribute_group xhp_file_ctrl_group = {
	.attrs = xhp_file_ctrl_attrs };
static const struct attribute_group xhp_anon_ctrl_group = {
	.attrs = xhp_anon_ctrl_attrs };
static const struct attribute_group xhp_file_stats_group = {
	.name = "stats", .attrs = xhp_file_stats_attrs };
static const struct attribute_group xhp_anon_stats_group = {
	.name = "stats", .attrs = xhp_anon_stats_attrs };

static const struct attribute_group *xhp_file_groups[] = {
	&xhp_file_ctrl_group, &xhp_file_stats_group, NULL };
static const struct attribute_group *xhp_anon_groups[] = {
	&xhp_anon_ctrl_group, &xhp_anon_stats_group, NULL };
/* Without the borrowed counters there is no stats/ to show. */
static const struct attribute_group *xhp_file_groups_nostats[] = {
	&xhp_file_ctrl_group, NULL };
static const struct attribute_group *xhp_anon_groups_nostats[] = {
	&xhp_anon_ctrl_group, NULL };

static void xhp_thpsizes_remove(void)
{
	unsigned int order;

	for (order = 0; order <= PMD_ORDER; order++) {
		xhp_kobject_remove(xhp_thpsizes[order]);
		xhp_thpsizes[order] = NULL;
	}
}

static int xhp_thpsizes_add(struct kobject *parent)
{
	bool stats = xhp_sym.mthp_stats;
	unsigned int order;
	int err;

	for (order = PMD_ORDER; order >= XHP_MIN_FILE_ORDER; order--) {
		bool anon = order >= XHP_MIN_ANON_ORDER;
		struct kobject *k;
		char name[32];

		xhp_anon_mode[order] = XHP_NEVER;
		if (order != PMD_ORDER)
			xhp_tshmem_mode[order] = XHP_SHSZ_NEVER;

		snprintf(name, sizeof(name), "hugepages-%lukB",
			 (PAGE_SIZE << order) / SZ_1K);
		k = kobject_create_and_add(name, parent);
		if (!k) {
			err = -ENOMEM;
			goto fail;
		}
		xhp_thpsizes[order] = k;
		err = sysfs_create_groups(k,
				anon ? (stats ? xhp_anon_groups : xhp_anon_groups_nostats)
				     : (stats ? xhp_file_groups : xhp_file_groups_nostats));
		if (err)
			goto fail;
	}
	return 0;
fail:
	xhp_thpsizes_remove();
	return err;
}
#else
static bool xhp_shmem_inherit_is_pmd_only(void) { return true; }
static int xhp_thpsizes_add(struct kobject *parent) { return 0; }
static void xhp_thpsizes_remove(void) { }
#endif /* XHP_HAVE_MTHP_SYSFS */

/* --- the tree ---------------------------------------------------------------- */

/*
 * Off sysfs now, then let go: kobject_del() returns once no show or store
 * of ours runs, and the last put's release is the kernel's (the kobjects
 * come from kobject_create_and_add()), whenever it runs.
 */
void xhp_kobject_remove(struct kobject *kobj)
{
	if (!kobj)
		return;
	kobject_del(kobj);
	kobject_put(kobj);
}

static struct kobject *xhp_root_kobj;
static struct kobject *xhp_khugepaged_kobj;

static const struct attribute_group *xhp_khugepaged_groups[] = {
	&xhp_khugepaged_group,
	&xhp_results_group,
	&xhp_target_group,
	NULL,
};

int xhp_sysfs_init(void)
{
	int err;

	xhp_root_kobj = kobject_create_and_add(XHP_NAME, *xhp_sym.mm_kobj);
	if (!xhp_root_kobj)
		return -ENOMEM;

	err = sysfs_create_group(xhp_root_kobj, &xhp_top_group);
	if (err)
		goto put_root;

	xhp_khugepaged_kobj = kobject_create_and_add("khugepaged", xhp_root_kobj);
	if (!xhp_khugepaged_kobj) {
		err = -ENOMEM;
		goto put_root;
	}
	err = sysfs_create_groups(xhp_khugepaged_kobj, xhp_khugepaged_groups);
	if (err)
		goto put_khugepaged;

	err = xhp_probes_sysfs_init(xhp_root_kobj);
	if (err)
		goto put_khugepaged;

	err = xhp_events_sysfs_init(xhp_root_kobj);
	if (err)
		goto remove_hooks;

	err = xhp_thpsizes_add(xhp_root_kobj);
	if (err)
		goto remove_events;
	return 0;

remove_events:
	xhp_events_sysfs_exit();
remove_hooks:
	xhp_probes_sysfs_exit();

put_khugepaged:
	xhp_kobject_remove(xhp_khugepaged_kobj);
	xhp_khugepaged_kobj = NULL;
put_root:
	xhp_kobject_remove(xhp_root_kobj);
	xhp_root_kobj = NULL;
	return err;
}

void xhp_sysfs_exit(void)
{
	xhp_thpsizes_remove();
	xhp_events_sysfs_exit();
	xhp_probes_sysfs_exit();
	xhp_kobject_remove(xhp_khugepaged_kobj);
	xhp_khugepaged_kobj = NULL;
	xhp_kobject_remove(xhp_root_kobj);
	xhp_root_kobj = NULL;
}
