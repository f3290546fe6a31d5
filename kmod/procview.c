// SPDX-License-Identifier: GPL-2.0
/*
 * Who is not huge, and why: per-process counters kept in each mm slot by
 * the scanner as it works, and /sys/kernel/debug/xhugepaged/processes, a
 * table of them with one line per queued mm. Reading it walks no page
 * table: resident sizes come from the mm's own RSS counters, the rest from
 * what the scanner counted.
 *
 * The PMD-mapped size is what the scanner saw, not a live walk: the ranges
 * it found PMD-mapped or collapsed during the last full FIFO pass over the
 * mm, plus every collapse of its own since. A split, zap or huge fault
 * shows at the end of the next full pass; before the first one ends, the
 * pass so far. Only the VMAs the scanner may collapse are counted.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/sched/mm.h>
#include <linux/cgroup.h>
#include <linux/nsproxy.h>
#include <linux/jiffies.h>

#include "xhugepaged.h"
#include "procview.h"
#include "trace.h"

/* The visit in progress; only the scanner thread touches it. */
static struct xhp_view_visit xhp_visit;

/* Why not huge: every result but these two. */
static bool xhp_view_is_reason(unsigned int result)
{
	return result != XHP_SCAN_SUCCEED && result != XHP_SCAN_PMD_MAPPED;
}

/* The PMD-mapped ranges as the scanner knows them (see the top). */
static unsigned int xhp_view_pmd_mapped(const struct xhp_mm_view *w)
{
	return w->passes ? w->pmd_mapped + w->collapsed_since : w->pass_mapped;
}

/*
 * A new slot. Slots are added from a worker, not by the process itself:
 * who owns the mm is learned from mm->owner, at each visit and each read.
 */
void xhp_view_init(struct xhp_mm_view *view, struct mm_struct *mm)
{
	memset(view, 0, sizeof(*view));
}

/* The scanner starts on @mm (mm_users held) at @address. */
void xhp_view_visit_begin(struct mm_struct *mm, bool fifo,
			  unsigned long address)
{
	struct xhp_view_visit *v = &xhp_visit;
	struct task_struct *owner;

	memset(v, 0, sizeof(*v));
	v->mm = mm;
	v->fifo = fifo;
	v->pass_start = fifo && !address;
	rcu_read_lock();
	owner = xhp_mm_owner(mm);
	if (owner) {
		v->pid = owner->tgid;
		get_task_comm(v->comm, owner);
	}
	rcu_read_unlock();
}

void xhp_view_judged(void)
{
	if (xhp_visit.mm)
		xhp_visit.judged++;
}

/* Every SCAN_* result the scanner counts (results.c) lands here too. */
void xhp_view_result(unsigned int result)
{
	if (xhp_visit.mm && result < XHP_SCAN_NR_RESULTS && xhp_is_scanner())
		xhp_visit.results[result]++;
}

/* Under the registry's lock: add the visit to the slot's view. */
void xhp_view_fold(struct xhp_mm_slot *slot, struct xhp_view_visit *v)
{
	struct xhp_mm_view *w = &slot->view;
	unsigned int collapsed = v->results[XHP_SCAN_SUCCEED], i;

	if (v->pid) {
		w->pid = v->pid;
		memcpy(w->comm, v->comm, sizeof(w->comm));
	}
	w->last_scan = jiffies ?: 1;
	if (v->target_skipped) {
		w->target_skipped++;
		goto out;
	}
	w->judged += v->judged;
	w->collapsed += collapsed;
	for (i = 0; i < XHP_SCAN_NR_RESULTS; i++)
		w->results[i] += v->results[i];
	w->collapsed_since += collapsed;
	if (v->fifo) {
		if (v->pass_start)
			w->pass_mapped = 0;
		w->pass_mapped += v->results[XHP_SCAN_PMD_MAPPED] + collapsed;
	}
	if (v->pass_done) {
		w->pmd_mapped = w->pass_mapped;
		w->collapsed_since = 0;
		w->passes++;
	}
out:
	v->pmd_mapped_now = xhp_view_pmd_mapped(w);
	v->passes = w->passes;
	v->target_skips = w->target_skipped;
}

static unsigned long xhp_view_kb(struct mm_struct *mm, int member)
{
	return get_mm_counter(mm, member) << (PAGE_SHIFT - 10);
}

/* The visit is over; @pass_done if it reached the end of the mm. */
void xhp_view_visit_end(bool pass_done)
{
	struct xhp_view_visit *v = &xhp_visit;

	if (!v->mm)
		return;
	v->pass_done = pass_done && v->fifo;
	xhp_registry_fold_view(v->mm, v);
	trace_xhp_mm_scanned(v->pid, v->comm, !v->fifo, v->judged,
			     v->results[XHP_SCAN_SUCCEED],
			     v->results[XHP_SCAN_PMD_MAPPED], v->pass_done,
			     v->pmd_mapped_now, v->passes,
			     xhp_view_kb(v->mm, MM_ANONPAGES));
	v->mm = NULL;
}

/* The scanner passes over @mm (outside the target): say so in its view. */
void xhp_view_skipped(struct mm_struct *mm, bool fifo)
{
	struct xhp_view_visit *v = &xhp_visit;

	xhp_view_visit_begin(mm, fifo, 1);
	v->target_skipped = true;
	xhp_registry_fold_view(mm, v);
	trace_xhp_mm_skipped(v->pid, v->comm, v->target_skips);
	v->mm = NULL;
}

/* --- /sys/kernel/debug/xhugepaged/processes ---------------------------- */

#define XHP_VIEW_REASONS 3	/* the leading ones shown per process */

struct xhp_view_row {
	struct mm_struct *mm;	/* mmgrab()bed for the table's lifetime */
	struct xhp_mm_view view;
};

struct xhp_view_snap {
	unsigned int nr, max;
	char *path;		/* PATH_MAX bytes for cgroup paths */
	struct xhp_view_row rows[];
};

void xhp_view_copy(struct xhp_mm_slot *slot, struct xhp_view_snap *s)
{
	if (s->nr == s->max)
		return;
	mmgrab(slot->mm);
	s->rows[s->nr].mm = slot->mm;
	s->rows[s->nr].view = slot->view;
	s->nr++;
}

static void xhp_view_snap_free(struct xhp_view_snap *s)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++)
		mmdrop(s->rows[i].mm);
	kfree(s->path);
	kvfree(s);
}

/* An escaped token: no blank splits a column, no byte is lost. */
static void xhp_view_token(struct seq_file *m, const char *s)
{
	if (!*s)
		seq_putc(m, '-');
	else
		seq_escape(m, s, " \t\n\\");
}

static void xhp_view_reasons(struct seq_file *m, const struct xhp_mm_view *w)
{
	unsigned int shown[XHP_VIEW_REASONS], n, i, r, best;

	for (n = 0; n < XHP_VIEW_REASONS; n++) {
		best = XHP_SCAN_NR_RESULTS;
		for (r = 0; r < XHP_SCAN_NR_RESULTS; r++) {
			if (!xhp_view_is_reason(r) || !w->results[r])
				continue;
			for (i = 0; i < n && shown[i] != r; i++)
				;
			if (i < n)
				continue;
			if (best == XHP_SCAN_NR_RESULTS ||
			    w->results[r] > w->results[best])
				best = r;
		}
		if (best == XHP_SCAN_NR_RESULTS)
			break;
		shown[n] = best;
		seq_printf(m, "%s%s:%u", n ? "," : "", xhp_result_name(best),
			   w->results[best]);
	}
	if (!n)
		seq_putc(m, '-');
}

static void xhp_view_show_row(struct seq_file *m, struct xhp_view_snap *s,
			      const struct xhp_view_row *r)
{
	const struct xhp_mm_view *w = &r->view;
	struct cgroup *cgrp = NULL;
	struct task_struct *owner;
	char comm[TASK_COMM_LEN];
	pid_t pid = w->pid;

	memcpy(comm, w->comm, sizeof(comm));
	rcu_read_lock();
	owner = xhp_mm_owner(r->mm);
	if (owner) {
		pid = task_tgid_vnr(owner);
		get_task_comm(comm, owner);
		cgrp = task_dfl_cgroup(owner);
		cgroup_get(cgrp);
	}
	rcu_read_unlock();

	seq_printf(m, "%d ", pid);
	xhp_view_token(m, comm);
	seq_putc(m, ' ');
	if (cgrp && cgroup_path_ns(cgrp, s->path, PATH_MAX,
				   current->nsproxy->cgroup_ns) >= 0)
		xhp_view_token(m, s->path);
	else
		seq_putc(m, '-');
	if (cgrp)
		xhp_cgroup_put(cgrp);
	seq_printf(m, " %d %lu %lu %lu %u %u %u %u ",
		   xhp_target_match(r->mm),
		   xhp_view_kb(r->mm, MM_ANONPAGES),
		   xhp_view_kb(r->mm, MM_SHMEMPAGES),
		   (unsigned long)xhp_view_pmd_mapped(w) * (HPAGE_PMD_SIZE >> 10),
		   w->judged, w->collapsed, w->target_skipped, w->passes);
	if (w->last_scan)
		seq_printf(m, "%u ", jiffies_to_msecs(jiffies - w->last_scan));
	else
		seq_puts(m, "- ");
	xhp_view_reasons(m, w);
	seq_putc(m, '\n');
}

static void *xhp_view_start(struct seq_file *m, loff_t *pos)
{
	struct xhp_view_snap *s = m->private;

	if (!*pos)
		return SEQ_START_TOKEN;
	return *pos <= s->nr ? &s->rows[*pos - 1] : NULL;
}

static void *xhp_view_next(struct seq_file *m, void *p, loff_t *pos)
{
	++*pos;
	return xhp_view_start(m, pos);
}

static void xhp_view_stop(struct seq_file *m, void *p)
{
}

static int xhp_view_show(struct seq_file *m, void *p)
{
	if (p == SEQ_START_TOKEN) {
		seq_puts(m, "pid comm cgroup targeted anon_kb shmem_kb pmd_mapped_kb judged collapsed target_skipped passes last_scan_ms why_not\n");
		return 0;
	}
	xhp_view_show_row(m, m->private, p);
	return 0;
}

static const struct seq_operations xhp_view_seq_ops = {
	.start = xhp_view_start,
	.next = xhp_view_next,
	.stop = xhp_view_stop,
	.show = xhp_view_show,
};

/* One snapshot per open: the registry's lock is held only to copy it. */
static int xhp_view_open(struct inode *inode, struct file *file)
{
	unsigned int max = xhp_registry_count() + 64;
	struct xhp_view_snap *s;
	int err;

	s = kvzalloc(struct_size(s, rows, max), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->max = max;
	s->path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!s->path) {
		kvfree(s);
		return -ENOMEM;
	}
	xhp_registry_copy_views(s);
	err = seq_open(file, &xhp_view_seq_ops);
	if (err) {
		xhp_view_snap_free(s);
		return err;
	}
	((struct seq_file *)file->private_data)->private = s;
	return 0;
}

static int xhp_view_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;

	xhp_view_snap_free(m->private);
	return seq_release(inode, file);
}

static const struct file_operations xhp_view_fops = {
	.owner = THIS_MODULE,
	.open = xhp_view_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = xhp_view_release,
};

static struct dentry *xhp_debugfs_dir;

/* Like every debugfs user: no debugfs is no table, not a failed load. */
int xhp_view_debugfs_init(void)
{
	xhp_debugfs_dir = debugfs_create_dir(XHP_NAME, NULL);
	debugfs_create_file("processes", 0400, xhp_debugfs_dir, NULL,
			    &xhp_view_fops);
	return 0;
}

void xhp_view_debugfs_exit(void)
{
	debugfs_remove_recursive(xhp_debugfs_dir);
	xhp_debugfs_dir = NULL;
}
