#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Off-CPU attribution of collapse time, from the ftrace dump that
collapse-profile.sh --offcpu prints (read on the host from the VM's log).

For every call of madvise_collapse() by a collapser (the xhugepaged thread,
or a thpbench process calling MADV_COLLAPSE), it adds up which tasks ran,
on the collapser's vCPU or another, while the call was in progress; how
long the collapser was off its CPU and why (preempted: runnable; blocked:
asleep), with the kernel stack where it left; and, over each contender's
whole active span (first call to last return), every task's run time.
With kprobe events xhp_prof_e_FN / xhp_prof_x_FN in the trace, the time
inside each such part of the engine too. Phases are split at the trace markers that collapse-profile.sh writes
("mark: COMMAND"). ms per PMD: divided by the PMDs the phase's benchmark
reports (collapse.xhp.pmds), or by the calls for direct callers (one PMD
a call). Direct runs with fewer than MIN_CALLS calls (the warm-up) are left
out.

usage: collapse-offcpu.py LOG [MIN_CALLS]
"""
import collections
import re
import sys

LINE = re.compile(r'^\s*(.*)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\S+): ?(.*)$')
STACK = re.compile(r'^\s*.*-(\d+)\s+\[(\d+)\]\s+\S+\s+[\d.]+: <stack trace>')
KV = re.compile(r'(\w+)=(\S+)')
SKIP = {'trace_event_raw_event_sched_switch', '__traceiter_sched_switch',
        '__schedule', 'schedule', 'preempt_schedule', 'preempt_schedule_common',
        'preempt_schedule_irq', 'preempt_schedule_thunk', '__cond_resched',
        'raw_irqentry_exit_cond_resched', 'irqentry_exit', 'schedule_preempt_disabled',
        'asm_sysvec_apic_timer_interrupt', 'asm_sysvec_reschedule_ipi',
        'asm_sysvec_call_function_single', 'schedule_timeout'}


def kind(comm):
    return 'scanner' if comm == 'xhugepaged' else 'direct'


def group(comm):
    """kworker/1:2 -> kworker/1:*, kworker/u8:3 -> kworker/u*."""
    m = re.match(r'(kworker/u?)(\d+)?(:\d+)?', comm)
    if m:
        return 'kworker/u*' if m.group(1).endswith('u') else 'kworker/%s:*' % m.group(2)
    m = re.match(r'(swapper)/\d+', comm)
    return 'idle (swapper)' if m else comm


class Phase:
    def __init__(self, name):
        self.name = name
        self.pmds = {}
        self.calls = collections.Counter()       # (kind) -> calls
        self.engine = collections.Counter()      # kind -> ns in calls
        self.run = collections.Counter()         # (kind, comm, same|other) -> ns
        self.off = collections.Counter()         # (kind, reason) -> ns
        self.offn = collections.Counter()
        self.stacks = collections.Counter()      # (kind, reason, stack) -> ns
        self.span = collections.Counter()        # (kind, comm) -> ns over active spans
        self.spanlen = collections.Counter()     # kind -> ns
        self.direct_pids = collections.Counter()
        self.fn = collections.Counter()          # (kind, function) -> ns
        self.fnn = collections.Counter()
        self.rounds = []            # scanner: [first call, last return] per module load
        self.dspans = {}            # direct caller pid -> [first call, last return]
        self.intervals = []         # (start, end, cpu, comm): who ran when

    def span_runs(self, spans):
        """Run time by task over the spans, and the spans' length."""
        runs = collections.Counter()
        total = 0
        for a, b in spans:
            if a is None or b is None:
                continue
            total += b - a
            for s, e, cpu, comm in self.intervals:
                o = min(e, b) - max(s, a)
                if o > 0:
                    runs[comm] += o
        return runs, total


def main():
    log = sys.argv[1]
    min_calls = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    events = []
    inside = False
    cur_stack = None
    for line in open(log, errors='replace'):
        if line.startswith('=== TRACE BEGIN'):
            inside = True
            continue
        if line.startswith('=== TRACE END'):
            break
        if not inside:
            m = re.match(r'RESULT collapse\.xhp\.pmds (\d+)', line)
            if m:
                events.append(('RESULT', int(m.group(1))))
            continue
        if line.startswith(' => '):
            if cur_stack is not None:
                cur_stack.append(line[4:].strip().split('+')[0])
            continue
        m = STACK.match(line)
        if m:
            cur_stack = []
            events.append(('stack', 0, int(m.group(2)), int(m.group(1)), cur_stack))
            continue
        m = LINE.match(line)
        if not m:
            continue
        task, pid, cpu, ts, ev, rest = m.groups()
        ts = int(round(float(ts) * 1e9))
        cpu = int(cpu)
        cur_stack = None
        events.append((ev, ts, cpu, int(pid), task, rest))
    # RESULT lines come from the console before the dump: order them by the
    # phase they belong to (one per benchmark run, in order).
    results = [e[1] for e in events if e[0] == 'RESULT']
    events = [e for e in events if e[0] != 'RESULT']

    # First pass: pids of direct callers and their call counts.
    calls_by_pid = collections.Counter(e[3] for e in events
                                       if e[0] in ('xmc', 'xhp_prof_mc') and e[4] != 'xhugepaged'
                                       and not e[4].startswith('xhugepaged'))
    phases = []
    ph = None
    running = {}          # cpu -> (comm, since)
    coll = None           # (pid, kind, t_in, cpu)
    offsince = None       # (t, reason)
    fstack = {}           # (pid, function) -> entry times
    last_out = {}         # cpu -> (kind, reason, stack) awaiting its stack
    def add_run(cpu, now):
        comm, since = running.get(cpu, (None, None))
        if comm is None:
            return
        if coll:
            s = max(since, coll[2])
            ph.run[(coll[1], group(comm), 'same' if cpu == coll[3] else 'other')] += now - s
    for e in events:
        ev = e[0]
        if ev == 'tracing_mark_write':
            ph = Phase(e[5].strip())
            phases.append(ph)
            continue
        if ph is None:
            continue
        if ev == 'stack':
            _, ts, cpu, pid, st = e
            p = last_out.pop(cpu, None)
            if p:
                frames = [f for f in st if f not in SKIP]
                p[2].append(' < '.join(frames[:5]))
            continue
        _, ts, cpu, pid, task, rest = e
        if ev.startswith('xhp_prof_e_') or ev.startswith('xhp_prof_x_'):
            k = kind(task.strip())
            if k == 'direct' and calls_by_pid[pid] < min_calls:
                continue
            fn = ev[len('xhp_prof_e_'):]
            if not coll or coll[0] != pid:
                continue    # only inside the engine (not the caller's faults)
            if ev.startswith('xhp_prof_e_'):
                fstack.setdefault((pid, fn), []).append(ts)
            elif fstack.get((pid, fn)):
                ph.fn[(k, fn)] += ts - fstack[(pid, fn)].pop()
                ph.fnn[(k, fn)] += 1
            continue
        if ev in ('xmc', 'xhp_prof_mc'):
            k = kind(task.strip())
            if k == 'direct' and calls_by_pid[pid] < min_calls:
                continue
            if k == 'direct':
                ph.direct_pids[pid] += 1
                sp = ph.dspans.setdefault(pid, [ts, ts])
            elif ph.rounds:
                sp = ph.rounds[-1]
                if sp[0] is None:
                    sp[0] = ts
            coll = (pid, k, ts, cpu)
            ph.calls[k] += 1
            continue
        if ev in ('xmcr', 'xhp_prof_mcr'):
            if coll and coll[0] == pid:
                for c in list(running):
                    add_run(c, ts)
                ph.engine[coll[1]] += ts - coll[2]
                if coll[1] == 'direct':
                    ph.dspans[pid][1] = ts
                elif ph.rounds:
                    ph.rounds[-1][1] = ts
                coll = None
            continue
        if ev == 'module_load':
            ph.rounds.append([None, None])
            continue
        if ev == 'sched_switch':
            kv = dict(KV.findall(rest))
            add_run(cpu, ts)
            comm, since = running.get(cpu, (None, None))
            if comm is not None:
                ph.intervals.append((since, ts, cpu, group(comm)))
            prev_pid = int(kv.get('prev_pid', -1))
            next_pid = int(kv.get('next_pid', -1))
            if coll and prev_pid == coll[0]:
                reason = 'preempted' if kv.get('prev_state', '').startswith('R') else 'blocked'
                stack_holder = []
                offsince = (ts, reason, stack_holder)
                last_out[cpu] = (coll[1], reason, stack_holder)
            if coll and next_pid == coll[0] and offsince:
                t0, reason, sh = offsince
                ph.off[(coll[1], reason)] += ts - t0
                ph.offn[(coll[1], reason)] += 1
                ph.stacks[(coll[1], reason, sh[0] if sh else '?')] += ts - t0
                offsince = None
                coll = (coll[0], coll[1], coll[2], cpu)
            m = re.search(r'next_comm=(.*?) next_pid=', rest)
            running[cpu] = (m.group(1) if m else '?', ts)
            continue
    # PMDs per phase: the scanner's from the benchmark's RESULT lines, in order.
    for i, p in enumerate(phases):
        p.pmds['scanner'] = results[i] if i < len(results) else p.calls['scanner']
        p.pmds['direct'] = p.calls['direct']
    for p in phases:
        print('## phase: %s' % p.name)
        for k in ('scanner', 'direct'):
            n = p.pmds[k] or 1
            print('%s: %d calls, %d PMDs, engine %.2f ms/PMD' % (k, p.calls[k], p.pmds[k], p.engine[k] / 1e6 / n))
            offt = sum(v for (kk, r), v in p.off.items() if kk == k)
            print('  own CPU in engine %.2f ms/PMD; off CPU %.2f ms/PMD' % ((p.engine[k] - offt) / 1e6 / n, offt / 1e6 / n))
            for (kk, r), v in sorted(p.off.items()):
                if kk == k:
                    print('  off, %s: %.2f ms/PMD (%d times)' % (r, v / 1e6 / n, p.offn[(kk, r)]))
            for (kk, f), v in sorted(p.fn.items()):
                if kk == k:
                    print('  in %-30s %.2f ms/PMD (%d calls)' % (f, v / 1e6 / n, p.fnn[(kk, f)]))
            rows = sorted(((v, c, w) for (kk, c, w), v in p.run.items() if kk == k), reverse=True)
            for v, c, w in rows:
                if v / 1e6 / n >= 0.01:
                    print('  ran during engine calls: %-28s %-5s %.2f ms/PMD' % (c, w, v / 1e6 / n))
            spans = p.rounds if k == 'scanner' else list(p.dspans.values())
            runs, total = p.span_runs(spans)
            print('  active span (first call to last return, each round/run): %.2f ms/PMD' % (total / 1e6 / n))
            for c, v in runs.most_common():
                if v / 1e6 / n >= 0.01:
                    print('    ran during the span, any vCPU: %-26s %.2f ms/PMD' % (c, v / 1e6 / n))
            rows = sorted(((v, r, s) for (kk, r, s), v in p.stacks.items() if kk == k), reverse=True)
            for v, r, s in rows[:12]:
                print('  off %s %.3f ms/PMD at: %s' % (r, v / 1e6 / n, s))


if __name__ == '__main__':
    main()
