// SPDX-License-Identifier: GPL-2.0
/*
 * xhugepaged: a loadable khugepaged. Module init and exit: one ladder that
 * unwinds exactly what it set up.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/ktime.h>
#include <linux/math64.h>

#include "xhugepaged.h"
#include "procview.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static unsigned int xhp_ms(u64 ns)
{
	return div_u64(ns, NSEC_PER_MSEC);
}

static int __init xhp_init(void)
{
	struct xhp_probes_load_timing pt;
	u64 start = ktime_get_ns(), t0 = start, symbols_ns, probes_ns;
	int err;

	err = xhp_symbols_resolve();
	if (err)
		return err;
	symbols_ns = ktime_get_ns() - t0;

	err = xhp_registry_init();
	if (err)
		return err;

	t0 = ktime_get_ns();
	err = xhp_probes_install(&pt);
	if (err)
		goto registry_exit;
	probes_ns = ktime_get_ns() - t0;

	/* After the hooks, so no process slips between the two. */
	xhp_registry_add_existing();

	err = xhp_sysfs_init();
	if (err)
		goto probes_remove;

	xhp_view_debugfs_init();

	err = xhp_scanner_start();
	if (err)
		goto debugfs_exit;

	/*
	 * Where the load's time went, at the end of the line (tests read its
	 * beginning): all of init, symbol lookups, then probe installation
	 * and its parts. The event hooks arm in a worker, which logs its own
	 * line ("event hooks: ...").
	 */
	pr_info("loaded: enabled=%s, %u mms queued; init %u ms, symbols %u ms, probes %u ms (ftrace sites %u ms, entry hooks %u ms), event hooks arming\n",
		xhp_mode_name(xhp_knobs.enabled), xhp_registry_count(),
		xhp_ms(ktime_get_ns() - start), xhp_ms(symbols_ns),
		xhp_ms(probes_ns), xhp_ms(pt.sites_ns), xhp_ms(pt.entry_ns));
	return 0;

debugfs_exit:
	xhp_view_debugfs_exit();
	xhp_sysfs_exit();
	xhp_target_exit();
probes_remove:
	xhp_probes_remove(NULL);
registry_exit:
	xhp_registry_exit();
	return err;
}

static void __exit xhp_exit(void)
{
	u64 start = ktime_get_ns(), stop_ns, total;
	struct xhp_probes_timing pt;

	/*
	 * The scanner winds down while the hooks come off, the event hooks
	 * in a worker that the whole rest of the exit overlaps.
	 */
	xhp_probes_remove_begin();
	xhp_scanner_request_stop();
	xhp_view_debugfs_exit();
	xhp_sysfs_exit();
	xhp_probes_remove_scanner_hooks(&pt);
	stop_ns = xhp_scanner_stop();
	xhp_target_exit();
	xhp_registry_exit();
	xhp_probes_remove_end(&pt);
	total = ktime_get_ns() - start;
	/*
	 * Tests read this line: how long the scanner took to stop, and the
	 * rest of the exit (the two add up to its whole time); then how long
	 * the scanner's hooks took to come off (while it winds down) and the
	 * event hooks (in a worker, from the start of the exit).
	 */
	pr_info("unloaded: scanner stopped in %u ms, teardown %u ms, scanner hooks off in %u ms, event hooks off in %u ms by %s alongside, scanner was in %s\n",
		xhp_ms(stop_ns), xhp_ms(total - min(stop_ns, total)),
		xhp_ms(pt.entry_ns), xhp_ms(pt.events_ns), pt.events_via,
		xhp_scanner_stop_point());
}

module_init(xhp_init);
module_exit(xhp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("A loadable khugepaged with its own knobs, counters and tracepoints");
MODULE_AUTHOR("xhugepaged developers");
