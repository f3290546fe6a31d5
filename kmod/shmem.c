// SPDX-License-Identifier: GPL-2.0
/*
 * shmem and tmpfs: MAP_SHARED anonymous memory, memfd, SysV shm and files
 * on tmpfs mounts.
 *
 * Which shmem VMAs may get a PMD-sized THP follows the kernel's
 * shmem_allowable_huge_orders() for PMD_ORDER (mm/shmem.c, 6.12), with the
 * module's shmem_enabled and hugepages-2048kB/shmem_enabled in place of the
 * kernel's: the internal mount behind memfd, SysV shm and shared anonymous
 * memory takes its policy from shmem_enabled, as the kernel copies that
 * file's value into its superblock; a tmpfs mount keeps its huge= option,
 * overridden by deny and force only.
 *
 * The semantics are the decoupled ones of kernels after 6.12: shmem VMAs
 * answer to the shmem files alone, whatever "enabled" says, and the scanner
 * runs while either policy can collapse something. 6.12's own khugepaged
 * looks at the anonymous setting only (hugepage_pmd_enabled()), so there
 * enabled=never stops shmem collapse too. Documentation/admin-guide.rst.
 *
 * A range is judged on the page cache the way hpage_collapse_scan_file()
 * judges it for khugepaged, against the module's max_ptes_* knobs, since
 * the engine (madvise_collapse()) applies none of them.
 */
#include <linux/kernel.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/pagemap.h>
#include <linux/rcupdate_wait.h>
#include <linux/shmem_fs.h>
#include <linux/userfaultfd_k.h>
#include <linux/xarray.h>
#include <linux/sched/coredump.h>

#include "xhugepaged.h"

const char * const xhp_shmem_mode_names[XHP_SHMEM_NR_MODES] = {
	[XHP_SHMEM_ALWAYS] = "always",
	[XHP_SHMEM_WITHIN_SIZE] = "within_size",
	[XHP_SHMEM_ADVISE] = "advise",
	[XHP_SHMEM_NEVER] = "never",
	[XHP_SHMEM_DENY] = "deny",
	[XHP_SHMEM_FORCE] = "force",
};

/*
 * The values of a shmem superblock's huge= option (SHMEM_HUGE_* in
 * mm/shmem.c, private to it; the same in 6.1 and 6.12).
 */
enum {
	XHP_MOUNT_HUGE_NEVER = 0,
	XHP_MOUNT_HUGE_ALWAYS = 1,
	XHP_MOUNT_HUGE_WITHIN_SIZE = 2,
	XHP_MOUNT_HUGE_ADVISE = 3,
};

bool xhp_vma_is_shmem(struct vm_area_struct *vma)
{
	return vma->vm_file && shmem_file(vma->vm_file);
}

/*
 * The kernel's own mount (shm_mnt: memfd, SysV shm, shared anonymous
 * memory) is the one shmem superblock made by kern_mount(); tmpfs mounts
 * come from mount(2).
 */
static bool xhp_shmem_internal(struct inode *inode)
{
	return inode->i_sb->s_flags & SB_KERNMOUNT;
}

/*
 * vma_is_anon_shmem() is not exported: shmem_zero_setup() names the object
 * of every MAP_SHARED|MAP_ANONYMOUS mapping "dev/zero" on the internal
 * mount, a name no file created from user space can have (it holds '/').
 */
static bool xhp_vma_is_anon_shmem(struct vm_area_struct *vma)
{
	struct file *file = vma->vm_file;

	return xhp_shmem_internal(file_inode(file)) &&
	       !strcmp(file->f_path.dentry->d_name.name, "dev/zero");
}

/*
 * A tmpfs mount's huge= option: struct shmem_sb_info is public
 * (linux/shmem_fs.h), its accessor SHMEM_SB() is mm/shmem.c's own.
 */
static unsigned int xhp_mount_huge(struct inode *inode, unsigned int global)
{
	const struct shmem_sb_info *sbinfo = inode->i_sb->s_fs_info;

	if (!xhp_shmem_internal(inode))
		return READ_ONCE(sbinfo->huge);
	switch (global) {
	case XHP_SHMEM_ALWAYS:
		return XHP_MOUNT_HUGE_ALWAYS;
	case XHP_SHMEM_WITHIN_SIZE:
		return XHP_MOUNT_HUGE_WITHIN_SIZE;
	case XHP_SHMEM_ADVISE:
		return XHP_MOUNT_HUGE_ADVISE;
	default:
		return XHP_MOUNT_HUGE_NEVER;
	}
}

/* Would a PMD-sized folio at @index lie within i_size? */
static bool xhp_within_size(struct inode *inode, pgoff_t index)
{
	loff_t size = round_up(i_size_read(inode), PAGE_SIZE);

	return size >> PAGE_SHIFT >= round_up(index + 1, HPAGE_PMD_NR);
}

/* shmem_huge_global_enabled() for PMD_ORDER, not forced, no write. */
static bool xhp_shmem_global_allows(struct inode *inode, pgoff_t index,
				    unsigned long vm_flags, unsigned int global)
{
	if (!S_ISREG(inode->i_mode) || global == XHP_SHMEM_DENY)
		return false;
	if (global == XHP_SHMEM_FORCE)
		return true;
	switch (xhp_mount_huge(inode, global)) {
	case XHP_MOUNT_HUGE_ALWAYS:
		return true;
	case XHP_MOUNT_HUGE_WITHIN_SIZE:
		if (xhp_within_size(inode, index))
			return true;
		fallthrough;
	case XHP_MOUNT_HUGE_ADVISE:
		return vm_flags & VM_HUGEPAGE;
	default:
		return false;
	}
}

static unsigned int xhp_shmem_size_mode(void)
{
	/* Before the per-size files (6.1) the top level is all there is. */
	return XHP_HAVE_MTHP_SYSFS ? READ_ONCE(xhp_knobs.shmem_pmd_enabled) :
				     XHP_SHSZ_INHERIT;
}

/*
 * shmem_allowable_huge_orders(..., shmem_huge_force = false) for PMD_ORDER:
 * the per-size file governs shared anonymous memory only; every other
 * shmem object answers to the top level and its mount.
 */
static bool xhp_shmem_allows(struct vm_area_struct *vma, pgoff_t index)
{
	struct inode *inode = file_inode(vma->vm_file);
	unsigned int global = READ_ONCE(xhp_knobs.shmem_enabled);
	bool global_ok = xhp_shmem_global_allows(inode, index, vma->vm_flags,
						 global);

	if (!xhp_vma_is_anon_shmem(vma))
		return global_ok;
	if (global == XHP_SHMEM_DENY)
		return false;
	if (global == XHP_SHMEM_FORCE)
		return xhp_shmem_size_mode() == XHP_SHSZ_INHERIT;
	switch (xhp_shmem_size_mode()) {
	case XHP_SHSZ_ALWAYS:
		return true;
	case XHP_SHSZ_WITHIN_SIZE:
		return xhp_within_size(inode, index);
	case XHP_SHSZ_ADVISE:
		return vma->vm_flags & VM_HUGEPAGE;
	case XHP_SHSZ_INHERIT:
		return global_ok;
	default:
		return false;
	}
}

/*
 * thp_vma_allowable_order(vma, ..., TVA_ENFORCE_SYSFS, PMD_ORDER) for a
 * shmem VMA: the hard limits, the file offset PMD-aligned relative to the
 * address (thp_vma_suitable_order(), which collapse_file() relies on:
 * every PMD-aligned address then maps a PMD-aligned index), then policy,
 * judged as the kernel does at the VMA's first page.
 */
bool xhp_shmem_vma_eligible(struct vm_area_struct *vma)
{
	unsigned long flags = vma->vm_flags;

	if (flags & (VM_SPECIAL | VM_HUGETLB | VM_NOHUGEPAGE))
		return false;
	if (test_bit(MMF_DISABLE_THP, &vma->vm_mm->flags))
		return false;
	if (!IS_ALIGNED((vma->vm_start >> PAGE_SHIFT) - vma->vm_pgoff,
			HPAGE_PMD_NR))
		return false;
	return xhp_shmem_allows(vma, vma->vm_pgoff);
}

/*
 * Can any shmem VMA be eligible? Like shmem_hpage_pmd_enabled() of later
 * kernels, but force counts whatever the per-size file says (memfd and
 * tmpfs files are then eligible). tmpfs mounts with huge= alone do not
 * start the scanner, as in those kernels.
 */
bool xhp_shmem_wanted(void)
{
	unsigned int global = READ_ONCE(xhp_knobs.shmem_enabled);

	if (global == XHP_SHMEM_DENY)
		return false;
	if (global != XHP_SHMEM_NEVER)
		return true;
	switch (xhp_shmem_size_mode()) {
	case XHP_SHSZ_ALWAYS:
	case XHP_SHSZ_WITHIN_SIZE:
	case XHP_SHSZ_ADVISE:
		return true;
	default:
		return false;
	}
}

bool xhp_scan_wanted(void)
{
	return xhp_pmd_mode() != XHP_NEVER || xhp_shmem_wanted();
}

/*
 * One PMD range of a shmem VMA, judged on the page cache as
 * hpage_collapse_scan_file() does (6.12): swap entries against
 * max_ptes_swap, folios off the LRU or with extra references refused,
 * holes (and swap entries: the kernel counts only present pages) against
 * max_ptes_none. A folio that is locked would fail collapse_file()'s
 * trylock; it is refused here, before a huge page is allocated for
 * nothing. Dirty folios are the norm for shmem and collapse_file() takes
 * them; shmem folios leave the page cache before writeback starts
 * (shmem_writeout()), so neither is a reason here. A range already PMD-
 * sized in the page cache passes: the engine only has to map it.
 *
 * Called with mmap_lock held for read, which keeps vma->vm_file; the walk
 * runs under RCU, reading folios it holds no reference on, as the kernel's
 * does; the engine checks everything again under the folio locks.
 */
void xhp_shmem_judge_pmd(struct mm_struct *mm, struct vm_area_struct *vma,
			 unsigned long addr, struct xhp_pmd_verdict *v)
{
	unsigned int max_none = READ_ONCE(xhp_knobs.max_ptes_none);
	unsigned int max_swap = READ_ONCE(xhp_knobs.max_ptes_swap);
	struct address_space *mapping = vma->vm_file->f_mapping;
	pgoff_t start = linear_page_index(vma, addr);
	XA_STATE(xas, &mapping->i_pages, start);
	unsigned int present = 0;
	struct folio *folio;
	pmd_t *pmdp;

	memset(v, 0, sizeof(*v));
	v->writable = vma->vm_flags & VM_WRITE;
	pmdp = xhp_find_pmd(mm, addr);
	if (pmdp && pmd_trans_huge(xhp_pmdp_get_lockless(pmdp))) {
		v->result = XHP_SCAN_PMD_MAPPED;
		return;
	}

	v->result = XHP_SCAN_SUCCEED;
	rcu_read_lock();
	xas_for_each(&xas, folio, start + HPAGE_PMD_NR - 1) {
		if (xas_retry(&xas, folio))
			continue;
		if (xa_is_value(folio)) {
			v->swap += 1U << xas_get_order(&xas);
			if (v->swap > max_swap) {
				v->result = XHP_SCAN_EXCEED_SWAP_PTE;
				break;
			}
			continue;
		}
		if (folio_order(folio) == HPAGE_PMD_ORDER &&
		    folio->index == start) {
			present = HPAGE_PMD_NR;
			break;
		}
		if (!folio_test_lru(folio)) {
			v->result = XHP_SCAN_PAGE_LRU;
			break;
		}
		if (folio_test_locked(folio)) {
			v->result = XHP_SCAN_PAGE_LOCK;
			break;
		}
		if (!xhp_refcount_suitable(folio)) {
			v->result = XHP_SCAN_PAGE_COUNT;
			break;
		}
		present += folio_nr_pages(folio);
		if (need_resched()) {
			xas_pause(&xas);
			cond_resched_rcu();
		}
	}
	rcu_read_unlock();

	v->referenced = present;
	v->none_or_zero = HPAGE_PMD_NR - min(present + v->swap, HPAGE_PMD_NR);
	if (v->result != XHP_SCAN_SUCCEED)
		return;
	/* collapse_file() refuses to fill holes under a missing-mode uffd. */
	if (present < HPAGE_PMD_NR - max_none ||
	    (present + v->swap < HPAGE_PMD_NR && userfaultfd_missing(vma)))
		v->result = XHP_SCAN_EXCEED_NONE_PTE;
}
