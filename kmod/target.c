// SPDX-License-Identifier: GPL-2.0
/*
 * Scan targeting: khugepaged/target_cgroup (a cgroup v2 path as
 * /proc/PID/cgroup shows it; the cgroup and everything below it) and
 * khugepaged/target_pids (processes by pid). Empty means no restriction;
 * with both set a process must match both. The scanner passes over every
 * other process and counts it in khugepaged/target_skipped and in the
 * process's own view. A write takes effect at the scanner's next mm.
 *
 * Both targets are read by the scanner under RCU and replaced whole by a
 * writer, which frees the old one after a grace period.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/cgroup.h>
#include <linux/ctype.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "xhugepaged.h"
#include "procview.h"

/*
 * The module's one cgroup_put(). Its last reference runs the kernel's
 * percpu_ref release callback (css_release(), address-taken, so it has an
 * ENDBR): the one indirect call that scripts/check-indirect-calls.sh allows,
 * and only in this function.
 */
noinline void xhp_cgroup_put(struct cgroup *cgrp)
{
	cgroup_put(cgrp);
}

/* A list longer than this is refused: the scanner checks each per mm. */
#define XHP_TARGET_PIDS_MAX 64

struct xhp_target_cg {
	struct cgroup *cgrp;		/* holds a reference */
	char path[];			/* as the writer's namespace sees it */
};

struct xhp_target_pids {
	unsigned int nr;
	struct pid *pid[XHP_TARGET_PIDS_MAX];	/* each holds a reference */
};

static struct xhp_target_cg __rcu *xhp_target_cg;
static struct xhp_target_pids __rcu *xhp_target_pids;
static DEFINE_MUTEX(xhp_target_mutex);
static atomic_long_t xhp_target_skips = ATOMIC_LONG_INIT(0);

static bool xhp_pids_match(const struct xhp_target_pids *tp,
			   struct mm_struct *mm)
{
	unsigned int i;

	for (i = 0; i < tp->nr; i++) {
		struct task_struct *t = pid_task(tp->pid[i], PIDTYPE_PID);

		if (t && READ_ONCE(t->mm) == mm)
			return true;
	}
	return false;
}

/* Is @mm inside the target? Scanner side; @mm has users. */
bool xhp_target_match(struct mm_struct *mm)
{
	const struct xhp_target_pids *tp;
	const struct xhp_target_cg *tc;
	struct task_struct *owner;
	bool match = true;

	rcu_read_lock();
	tp = rcu_dereference(xhp_target_pids);
	if (tp)
		match = xhp_pids_match(tp, mm);
	tc = rcu_dereference(xhp_target_cg);
	if (match && tc) {
		owner = xhp_mm_owner(mm);
		match = owner && task_under_cgroup_hierarchy(owner, tc->cgrp);
	}
	rcu_read_unlock();
	return match;
}

void xhp_target_skip(struct mm_struct *mm, bool fifo)
{
	atomic_long_inc(&xhp_target_skips);
	xhp_view_skipped(mm, fifo);
}

long xhp_target_skipped(void)
{
	return atomic_long_read(&xhp_target_skips);
}

static void xhp_target_cg_free(struct xhp_target_cg *tc)
{
	if (!tc)
		return;
	xhp_cgroup_put(tc->cgrp);
	kfree(tc);
}

static void xhp_target_pids_free(struct xhp_target_pids *tp)
{
	unsigned int i;

	if (!tp)
		return;
	for (i = 0; i < tp->nr; i++)
		put_pid(tp->pid[i]);
	kfree(tp);
}

/* --- khugepaged/target_cgroup ------------------------------------------ */

static ssize_t target_cgroup_show(struct kobject *kobj,
				  struct kobj_attribute *ka, char *buf)
{
	const struct xhp_target_cg *tc;
	ssize_t len;

	rcu_read_lock();
	tc = rcu_dereference(xhp_target_cg);
	len = sysfs_emit(buf, "%s\n", tc ? tc->path : "");
	rcu_read_unlock();
	return len;
}

/* The cgroup at @path, as the kernel names it: new target, or ERR_PTR. */
static struct xhp_target_cg *xhp_target_cg_parse(const char *path)
{
	struct xhp_target_cg *tc;
	struct cgroup *cgrp;
	char *name;
	int len;

	if (!IS_ENABLED(CONFIG_MEMCG))
		return ERR_PTR(-EOPNOTSUPP);	/* no mm->owner to test */
	if (path[0] != '/')
		return ERR_PTR(-EINVAL);
	cgrp = cgroup_get_from_path(path);
	if (IS_ERR(cgrp))
		return ERR_CAST(cgrp);
	name = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!name) {
		xhp_cgroup_put(cgrp);
		return ERR_PTR(-ENOMEM);
	}
	len = cgroup_path_ns(cgrp, name, PATH_MAX, current->nsproxy->cgroup_ns);
	if (len < 0 || len >= PATH_MAX) {
		kfree(name);
		xhp_cgroup_put(cgrp);
		return ERR_PTR(len < 0 ? len : -ENAMETOOLONG);
	}
	tc = kmalloc(struct_size(tc, path, len + 1), GFP_KERNEL);
	if (!tc) {
		kfree(name);
		xhp_cgroup_put(cgrp);
		return ERR_PTR(-ENOMEM);
	}
	tc->cgrp = cgrp;
	memcpy(tc->path, name, len + 1);
	kfree(name);
	return tc;
}

static ssize_t target_cgroup_store(struct kobject *kobj,
				   struct kobj_attribute *ka,
				   const char *buf, size_t count)
{
	struct xhp_target_cg *tc = NULL, *old;
	char *path;

	if (count >= PAGE_SIZE)
		return -EINVAL;	/* kernfs cut it: more may follow */
	path = kstrndup(buf, count, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	/* One trailing newline, as echo writes it; any other blank is bad. */
	if (count && path[count - 1] == '\n')
		path[count - 1] = '\0';
	if (path[0]) {
		tc = xhp_target_cg_parse(path);
		if (IS_ERR(tc)) {
			kfree(path);
			return PTR_ERR(tc);
		}
	}
	kfree(path);

	mutex_lock(&xhp_target_mutex);
	old = rcu_replace_pointer(xhp_target_cg, tc,
				  lockdep_is_held(&xhp_target_mutex));
	mutex_unlock(&xhp_target_mutex);
	synchronize_rcu();
	xhp_target_cg_free(old);
	xhp_scanner_kick();
	return count;
}

static struct kobj_attribute xhp_target_cgroup_attr = __ATTR_RW(target_cgroup);

/* --- khugepaged/target_pids ---------------------------------------------- */

static ssize_t target_pids_show(struct kobject *kobj,
				struct kobj_attribute *ka, char *buf)
{
	const struct xhp_target_pids *tp;
	unsigned int i;
	int len = 0;

	rcu_read_lock();
	tp = rcu_dereference(xhp_target_pids);
	for (i = 0; tp && i < tp->nr; i++)
		len += sysfs_emit_at(buf, len, "%s%d", i ? " " : "",
				     pid_vnr(tp->pid[i]));
	rcu_read_unlock();
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

/*
 * @s: pids separated by blanks or commas. Every one must be a live user
 * process (or thread) in the writer's pid namespace.
 */
static int xhp_target_pids_parse(char *s, struct xhp_target_pids *tp)
{
	char *tok;
	int nr;

	while ((tok = strsep(&s, " \t\n,")) != NULL) {
		struct task_struct *t;
		struct pid *pid;
		bool user;

		if (!*tok)
			continue;
		if (kstrtoint(tok, 10, &nr) || nr <= 0)
			return -EINVAL;
		if (tp->nr == XHP_TARGET_PIDS_MAX)
			return -EINVAL;
		pid = find_get_pid(nr);
		if (!pid)
			return -ESRCH;
		rcu_read_lock();
		t = pid_task(pid, PIDTYPE_PID);
		user = t && !(t->flags & PF_KTHREAD);
		rcu_read_unlock();
		if (!t || !user) {
			put_pid(pid);
			return t ? -EINVAL : -ESRCH;
		}
		tp->pid[tp->nr++] = pid;
	}
	return 0;
}

static ssize_t target_pids_store(struct kobject *kobj,
				 struct kobj_attribute *ka,
				 const char *buf, size_t count)
{
	struct xhp_target_pids *tp, *old;
	char *s;
	int err;

	if (count >= PAGE_SIZE)
		return -EINVAL;	/* kernfs cut it: more may follow */
	tp = kzalloc(sizeof(*tp), GFP_KERNEL);
	s = kstrndup(buf, count, GFP_KERNEL);
	if (!tp || !s) {
		kfree(tp);
		kfree(s);
		return -ENOMEM;
	}
	err = xhp_target_pids_parse(s, tp);
	kfree(s);
	if (err) {
		xhp_target_pids_free(tp);
		return err;
	}
	if (!tp->nr) {
		kfree(tp);
		tp = NULL;
	}

	mutex_lock(&xhp_target_mutex);
	old = rcu_replace_pointer(xhp_target_pids, tp,
				  lockdep_is_held(&xhp_target_mutex));
	mutex_unlock(&xhp_target_mutex);
	synchronize_rcu();
	xhp_target_pids_free(old);
	xhp_scanner_kick();
	return count;
}

static struct kobj_attribute xhp_target_pids_attr = __ATTR_RW(target_pids);

static ssize_t target_skipped_show(struct kobject *kobj,
				   struct kobj_attribute *ka, char *buf)
{
	return sysfs_emit(buf, "%ld\n", xhp_target_skipped());
}

static struct kobj_attribute xhp_target_skipped_attr =
	__ATTR_RO(target_skipped);

static struct attribute *xhp_target_attrs[] = {
	&xhp_target_cgroup_attr.attr,
	&xhp_target_pids_attr.attr,
	&xhp_target_skipped_attr.attr,
	NULL,
};

/* In khugepaged/, beside the scanner's other knobs. */
const struct attribute_group xhp_target_group = {
	.attrs = xhp_target_attrs,
};

/* With the scanner stopped and the files gone. */
void xhp_target_exit(void)
{
	xhp_target_cg_free(rcu_dereference_protected(xhp_target_cg, true));
	xhp_target_pids_free(rcu_dereference_protected(xhp_target_pids, true));
	RCU_INIT_POINTER(xhp_target_cg, NULL);
	RCU_INIT_POINTER(xhp_target_pids, NULL);
}
