#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check the scanner invariants in what xhugepaged's tracepoints recorded
during an xhp_fuzz run (selftests/xhp_fuzz.sh collects it):

  - every address xhp_scan_pmd judged is PMD-aligned;
  - every xhugepaged collapse batch (xhp_collapse_begin with initiator
    xhugepaged) starts PMD-aligned and covers at least one PMD;
  - the 2 MiB judged at each such address lay inside the address space the
    fuzzer process it belongs to (pid field) ever mapped: the union of the
    ranges it logged (its maps at start, every mmap/mremap/brk extent).
    That is weaker than "inside the VMA at that moment" (the maps change
    too fast to replay), but catches an address past any mapping.

The fuzzer maps shmem (shared anonymous memory, memfd, tmpfs files) only in
an address window of its own and logs those ranges as "shm": every judged
address and every collapse is attributed to shmem or to anonymous memory
exactly, so that the file scan path is shown checked, and the PMDs that
xhugepaged collapsed (xhp_collapse_end's collapsed field, summed by a hist
trigger) are counted for each.

Inputs: hist files (hist triggers keyed on pid and address, which see every
event however many there were), trace files (ring buffer filtered to
unaligned addresses only, so that no violation is lost to a full hist
table), and the fuzzer's maps directory. Prints a summary; exit 1 on any
violation, 2 on unusable input.
Usage: xhp_fuzz_trace.py --maps DIR [--scan-hist F]... [--collapse-hist F]...
                         [--collapse-end-hist F]... [--trace F]...
"""
import argparse
import bisect
import os
import re
import sys

PMD = 2 << 20
HIST_LINE = re.compile(r'^\{ (.*) \} hitcount:\s*(\d+)')
HIST_FIELD = re.compile(r'(\w+):\s*([^,\s]+)')
HIST_VAL = re.compile(r'\bcollapsed:\s*(\d+)')
TRACE_LINE = re.compile(
    r'(xhp_scan_pmd|xhp_collapse_begin): .*?pid=(-?\d+) address=(0x[0-9a-f]+)'
    r'(?: nr=(\d+) initiator=(\S+))?')


def parse_hist(path):
    """[(fields dict, hitcount)], dropped count."""
    rows, dropped = [], 0
    with open(path) as f:
        for line in f:
            m = HIST_LINE.match(line.strip())
            if m:
                fields = dict(HIST_FIELD.findall(m.group(1)))
                v = HIST_VAL.search(line)
                if v:
                    fields['collapsed'] = v.group(1)
                rows.append((fields, int(m.group(2))))
            elif line.strip().startswith('Dropped:'):
                dropped += int(line.split()[1])
    return rows, dropped


def merge(ranges):
    ranges.sort()
    merged = []
    for s, e in ranges:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return merged


def load_maps(d):
    """pid -> sorted merged [(start, end)] of every range it ever had, and
    pid -> the same for its shmem ("shm") ranges alone."""
    spaces, shm = {}, {}
    for name in os.listdir(d) if d and os.path.isdir(d) else []:
        if not name.isdigit():
            continue
        ranges, shm_ranges = [], []
        with open(os.path.join(d, name)) as f:
            for line in f:
                p = line.split()
                if len(p) == 3:
                    r = (int(p[1], 16), int(p[2], 16))
                    ranges.append(r)
                    if p[0] == 'shm':
                        shm_ranges.append(r)
        spaces[int(name)] = merge(ranges)
        shm[int(name)] = merge(shm_ranges)
    return spaces, shm


def inside(space, start, end):
    i = bisect.bisect_right(space, [start, float('inf')]) - 1
    return i >= 0 and space[i][0] <= start and end <= space[i][1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--maps')
    ap.add_argument('--scan-hist', action='append', default=[])
    ap.add_argument('--collapse-hist', action='append', default=[])
    ap.add_argument('--collapse-end-hist', action='append', default=[])
    ap.add_argument('--trace', action='append', default=[])
    a = ap.parse_args()
    spaces, shm = load_maps(a.maps)

    events = distinct = dropped = 0
    unaligned = []
    checked = outside = foreign = shm_checked = 0
    foreign_pids = {}
    outside_ex = []
    for path in a.scan_hist:
        rows, d = parse_hist(path)
        dropped += d
        for fields, hits in rows:
            try:
                pid, addr = int(fields['pid']), int(fields['address'], 16)
            except (KeyError, ValueError):
                print(f'unusable hist line in {path}: {fields}')
                return 2
            events += hits
            distinct += 1
            if addr % PMD:
                unaligned.append(f'scan_pmd pid={pid} address={addr:#x}')
            if pid not in spaces:
                foreign += 1
                foreign_pids[pid] = foreign_pids.get(pid, 0) + 1
                continue
            checked += 1
            if inside(shm[pid], addr, addr + PMD):
                shm_checked += 1
            if not inside(spaces[pid], addr, addr + PMD):
                outside += 1
                outside_ex.append(f'pid={pid} address={addr:#x}')

    batches = bad_batches = 0
    for path in a.collapse_hist:
        rows, d = parse_hist(path)
        dropped += d
        for fields, hits in rows:
            if fields.get('initiator') != 'xhugepaged':
                continue
            addr, nr = int(fields['address'], 16), int(fields['nr'])
            batches += hits
            if addr % PMD or nr < 1:
                bad_batches += 1
                unaligned.append(f'collapse_begin address={addr:#x} nr={nr}')

    # PMDs collapsed (xhp_collapse_end's collapsed, summed per batch start):
    # shmem if the batch lay in the process's shmem window ranges.
    collapsed = {}
    for path in a.collapse_end_hist:
        rows, d = parse_hist(path)
        dropped += d
        for fields, hits in rows:
            try:
                pid, addr = int(fields['pid']), int(fields['address'], 16)
                n = int(fields.get('collapsed', 0))
            except (KeyError, ValueError):
                print(f'unusable hist line in {path}: {fields}')
                return 2
            who = fields.get('initiator', '?')
            if pid not in spaces:
                kind = 'other'
            elif inside(shm[pid], addr, addr + PMD):
                kind = 'shmem'
            else:
                kind = 'anon'
            collapsed[(who, kind)] = collapsed.get((who, kind), 0) + n

    # The filtered ring buffer holds only unaligned addresses.
    for path in a.trace:
        with open(path) as f:
            for line in f:
                m = TRACE_LINE.search(line)
                if not m:
                    continue
                ev, pid, addr = m.group(1), int(m.group(2)), int(m.group(3), 16)
                if ev == 'xhp_collapse_begin' and m.group(5) != 'xhugepaged':
                    continue
                if addr % PMD:
                    unaligned.append(f'trace {ev} pid={pid} address={addr:#x}')

    print(f'scan_pmd: {events} events, {distinct} distinct (pid, address), '
          f'{dropped} dropped from the hist tables')
    print(f'collapse_begin (xhugepaged): {batches} batches, {bad_batches} misaligned')
    print(f'unaligned: {len(unaligned)}')
    for u in unaligned[:10]:
        print(f'  UNALIGNED {u}')
    print(f'in address space: {checked} fuzzer (pid, address) checked, '
          f'{outside} outside, {foreign} of other processes')
    print(f'in shmem mappings: {shm_checked} fuzzer (pid, address) checked')
    if a.collapse_end_hist:
        for who in sorted({w for w, _ in collapsed} | {'xhugepaged'}):
            print(f'collapsed by {who}: ' + ', '.join(
                f'{k} {collapsed.get((who, k), 0)}'
                for k in ('anon', 'shmem', 'other')) + ' PMDs')
    if foreign_pids:
        top = sorted(foreign_pids.items(), key=lambda kv: -kv[1])[:5]
        print('  other processes, most addresses: ' +
              ', '.join(f'pid {p}: {n}' for p, n in top))
    for o in outside_ex[:10]:
        print(f'  OUTSIDE {o}')
    return 1 if unaligned or outside else 0


if __name__ == '__main__':
    sys.exit(main())
