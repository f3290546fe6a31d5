#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""sysfs contract of /sys/kernel/mm/xhugepaged, in the VM, as root.

- every file the real /sys/kernel/mm/transparent_hugepage has exists in
  the mirror with the same read format;
- differential fuzz: each bad input written to a mirror file and to the
  same real THP file gets the same errno, and leaves both values as they
  were (what the real file accepts, the mirror accepts the same way);
- the module's own writable files reject bad input with EINVAL and keep
  their value; concurrent writers leave one of the written values;
- non-root can read but not write; nothing is group/other writable;
- nothing a user reads shows a raw kernel address (sysfs, parameters,
  tracepoint output, the module's log lines);
- IBT: a forced "IBT enforced" load (assume_ibt=1) works and collapses
  through the RET thunk; a forced kernel-shadow-stack load
  (assume_kernel_shstk=1), the one refusal left, refuses cleanly and
  leaves nothing.
KTAP output.
"""
import errno
import os
import re
import subprocess
import sys
import time

X = "/sys/kernel/mm/xhugepaged"
T = "/sys/kernel/mm/transparent_hugepage"


def default_ko():
    """As selftests/lib.sh: the build for the running kernel, else kmod/'s."""
    own = "build/kmod-%s/xhugepaged.ko" % os.uname().release
    return own if os.path.exists(own) else "kmod/xhugepaged.ko"


KO = os.environ.get("XHP_KO") or default_ko()

n = 0
fails = 0


def result(ok, name, why=""):
    global n, fails
    n += 1
    if not ok:
        fails += 1
    print("%s %d %s%s" % ("ok" if ok else "not ok", n, name,
                          " # " + why if why else ""), flush=True)


def diag(msg):
    print("# " + msg, flush=True)


def read(path):
    """Contents, or -errno."""
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError as e:
        return -e.errno


def write(path, data):
    """0, or -errno of open/write (unbuffered: one write(2))."""
    if isinstance(data, str):
        data = data.encode()
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as e:
        return -e.errno
    try:
        os.write(fd, data)
        return 0
    except OSError as e:
        return -e.errno
    finally:
        os.close(fd)


def files(root):
    out = []
    for d, _, fs in os.walk(root):
        for f in fs:
            out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def writable(root, rel):
    return os.stat(os.path.join(root, rel)).st_mode & 0o200 != 0


def choice_value(s):
    m = re.search(r"\[([^\]]+)\]", s)
    return m.group(1) if m else None


def restore(path, old):
    """Put a value read earlier back (choice files: the bracketed one)."""
    if isinstance(old, int):
        return
    v = choice_value(old)
    write(path, v if v is not None else old.strip())


def shape(s):
    """Format class of a read: choice list, number, or text."""
    if isinstance(s, int):
        return ("errno", s)
    if re.fullmatch(r"(\[?[a-z_+-]+\]? ?)+\n", s) and s.count("[") == 1:
        return ("choice", tuple(w.strip("[]") for w in s.split()))
    if re.fullmatch(r"-?\d+\n", s):
        return ("number",)
    return ("text", s)


def same_value(a, b):
    """Do two reads of a file hold the same value? A choice file's is its
    bracketed word (the lists may differ, as format checks say); any other
    file's is its whole text, so a number must read back identical."""
    if shape(a)[0] == "choice" and shape(b)[0] == "choice":
        return choice_value(a) == choice_value(b)
    return a == b


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True)


BAD = ["-1", "18446744073709551616", "4294967296", "99999999999999999999",
       "garbage", "12abc", "", " ", "\t\n", "x" * 5000, b"\x00\xff\x01\x80",
       "1 2", "0x10", "maybe", "always never", "[always]", "inherit",
       "512", "0", "1", "2"]


def main():
    print("TAP version 13")
    sh("rmmod xhugepaged 2>/dev/null")
    if sh("insmod " + KO).returncode:
        result(False, "insmod")
        return 1

    ours = files(X)
    real = files(T)

    # --- the mirror has every real file, with the same read format
    missing = [f for f in real if f not in ours]
    result(not missing, "mirror_has_every_thp_file",
           "missing: " + " ".join(missing) if missing else "%d files" % len(real))
    bad_fmt = []
    for f in real:
        if f not in ours:
            continue
        a, b = shape(read(os.path.join(T, f))), shape(read(os.path.join(X, f)))
        same = a[0] == b[0] and (a[0] != "choice" or a[1] == b[1])
        if f == "hpage_pmd_size":
            same = read(os.path.join(T, f)) == read(os.path.join(X, f))
        if not same:
            bad_fmt.append("%s(%s vs %s)" % (f, a, b))
    result(not bad_fmt, "same_read_format_as_thp", " ".join(bad_fmt)[:300])
    same_mode = [f for f in real if f in ours and
                 (os.stat(os.path.join(T, f)).st_mode & 0o777) !=
                 (os.stat(os.path.join(X, f)).st_mode & 0o777)]
    result(not same_mode, "same_file_modes_as_thp", " ".join(same_mode))

    # --- differential fuzz against the real files
    common_w = [f for f in real if f in ours and writable(T, f)]
    mismatches = []
    writes = 0
    for f in common_w:
        tp, xp = os.path.join(T, f), os.path.join(X, f)
        x_orig = read(xp)
        for bad in BAD:
            # Both from the same value, so an accepted write must leave
            # both reading the same (a zero-length one changes nothing).
            t0 = read(tp)
            restore(xp, t0)
            x0 = read(xp)
            et, ex = write(tp, bad), write(xp, bad)
            t1, x1 = read(tp), read(xp)
            writes += 1
            if et != ex:
                mismatches.append("%s %r: errno %d vs %d" % (f, bad[:12], et, ex))
            elif et and (t1 != t0 or x1 != x0):
                mismatches.append("%s %r: rejected but changed" % (f, bad[:12]))
            elif not et and not same_value(t1, x1) and \
                    (same_value(t0, x0) or t1 != t0 or x1 != x0):
                mismatches.append("%s %r: accepted, %r vs %r" % (f, bad[:12], t1, x1))
            restore(tp, t0)
        restore(xp, x_orig)
    result(not mismatches, "differential_fuzz_same_errno_and_value",
           ("; ".join(mismatches))[:400] if mismatches else
           "%d files x %d inputs" % (len(common_w), len(BAD)))
    diag("differential: %d writes over %s" % (writes, " ".join(common_w)))

    # --- the module's own writable files
    own = {
        "khugepaged/scan_order": ["fifo", "hot"],
        "khugepaged/backoff_window_millisecs": ["0", "5000"],
        "events/enabled": ["0", "1"],
    }
    problems = []
    for f, good in own.items():
        p = os.path.join(X, f)
        if not os.path.exists(p):
            problems.append(f + " missing")
            continue
        for bad in BAD:
            if bad in good or (f.endswith("millisecs") and
                               re.fullmatch(r"\d+", bad if isinstance(bad, str) else "") and
                               int(bad) < 2**32):
                continue
            if f == "events/enabled" and bad in ("0", "1"):
                continue
            if bad == "":	# a zero-length write(2) never reaches ->store()
                continue
            before = read(p)
            e = write(p, bad)
            after = read(p)
            if e != -errno.EINVAL or after != before:
                problems.append("%s %r: errno %d, %r -> %r" % (f, bad[:12], e, before, after))
                restore(p, before)
        for g in good:
            if write(p, g):
                problems.append("%s %r refused" % (f, g))
                continue
            now = read(p)
            if isinstance(now, int) or (choice_value(now) or now.strip()) != g:
                problems.append("%s %r accepted, reads %r" % (f, g, now))
        restore(p, read(p))
    write(os.path.join(X, "khugepaged/scan_order"), "fifo")
    write(os.path.join(X, "khugepaged/backoff_window_millisecs"), "0")
    write(os.path.join(X, "events/enabled"), "1")
    for f, good_v in (("khugepaged/scan_results/reset", "0"), ("events/reset", "1")):
        p = os.path.join(X, f)
        for bad in ("2", "garbage", "-1", ""):
            e = write(p, bad)
            if bad and e != -errno.EINVAL:
                problems.append("%s %r: errno %d" % (f, bad, e))
        if write(p, good_v):
            problems.append("%s %r refused" % (f, good_v))
    result(not problems, "own_files_reject_bad_input_keep_value",
           "; ".join(problems)[:400])

    # --- concurrent writers: the value ends as one of those written
    p = os.path.join(X, "khugepaged/pages_to_scan")
    old = read(p)
    vals = [str(1000 + i) for i in range(4)]
    pids = []
    for v in vals:
        pid = os.fork()
        if pid == 0:
            for _ in range(300):
                write(p, v)
                r = read(p)
                if isinstance(r, int) or r.strip() not in vals:
                    os._exit(1)
            os._exit(0)
        pids.append(pid)
    torn = sum(os.waitpid(pid, 0)[1] != 0 for pid in pids)
    final = read(p).strip()
    result(torn == 0 and final in vals, "concurrent_writers_leave_a_written_value",
           "final %s, %d writers saw a foreign value" % (final, torn))
    restore(p, old)

    # --- permissions: root only writes, anyone reads
    loose = [f for f in ours if os.stat(os.path.join(X, f)).st_mode & 0o022]
    result(not loose, "nothing_group_or_other_writable", " ".join(loose))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        bad_reads, bad_writes = [], []
        for f in ours:
            path = os.path.join(X, f)
            mode = os.stat(path).st_mode
            if mode & 0o444 and isinstance(read(path), int):
                bad_reads.append(f)
            if mode & 0o200:
                before = None
                e = write(path, "1")
                if e not in (-errno.EACCES, -errno.EPERM):
                    bad_writes.append("%s:%d" % (f, e))
        os.write(w, repr((bad_reads, bad_writes)).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.waitpid(pid, 0)
    bad_reads, bad_writes = eval(data.decode()) if data else (["?"], ["?"])
    result(not bad_reads, "non_root_reads_work", " ".join(bad_reads)[:300])
    result(not bad_writes, "non_root_writes_fail_eacces", " ".join(bad_writes)[:300])

    # --- no raw kernel address anywhere a user reads
    kaddr = re.compile(r"(0x)?ffff[0-9a-f]{12}", re.I)
    leaks = []
    for f in ours:
        s = read(os.path.join(X, f))
        if isinstance(s, str) and kaddr.search(s):
            leaks.append(f)
    pdir = "/sys/module/xhugepaged/parameters"
    for f in os.listdir(pdir):
        s = read(os.path.join(pdir, f))
        if isinstance(s, str) and kaddr.search(s):
            leaks.append("param " + f)
    tr = "/sys/kernel/tracing"
    if not os.path.isdir(tr + "/events"):
        sh("mount -t tracefs nodev /sys/kernel/tracing")
    for ev in os.listdir(tr + "/events/xhugepaged"):
        fmt = read(tr + "/events/xhugepaged/%s/format" % ev)
        if isinstance(fmt, str) and "%px" in fmt:
            leaks.append("tracepoint %s uses %%px" % ev)
    # Live trace output while the scanner works on a process.
    write(tr + "/trace", "")
    write(tr + "/tracing_on", "1")  # whatever an earlier test left
    write(tr + "/events/xhugepaged/enable", "1")
    write(os.path.join(X, "enabled"), "always")
    write(os.path.join(X, "khugepaged/scan_sleep_millisecs"), "100")
    # It lives 3 s, and then until the scanner has traced something (a
    # hang bound of 60 s), however long a loaded VM takes to get there.
    proc = subprocess.Popen([sys.executable, "-c",
                             "import mmap,time\n"
                             "m=mmap.mmap(-1,8<<20,flags=mmap.MAP_PRIVATE|mmap.MAP_ANONYMOUS)\n"
                             "for o in range(0,8<<20,4096): m[o]=1\n"
                             "time.sleep(600)"])
    time.sleep(3)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        trace = read(tr + "/trace")
        if isinstance(trace, str) and "xhp_" in trace:
            break
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    write(tr + "/events/xhugepaged/enable", "0")
    write(os.path.join(X, "enabled"), "madvise")
    trace = read(tr + "/trace")
    trace = trace if isinstance(trace, str) else ""
    lines = [ln for ln in trace.splitlines() if "xhp_" in ln]
    for ln in lines:
        if kaddr.search(ln):
            leaks.append("trace: " + ln.strip()[:120])
            break
    dm = sh("dmesg").stdout
    for ln in dm.splitlines():
        if "xhugepaged" in ln and kaddr.search(ln):
            leaks.append("dmesg: " + ln.strip()[:120])
    result(not leaks and len(lines) > 0, "no_raw_kernel_addresses",
           "; ".join(leaks)[:400] if leaks else "%d trace lines checked" % len(lines))

    # --- IBT mode (forced by assume_ibt=1): loads, names the borrowed
    # functions without ENDBR, and collapses through the RET thunk
    sh("rmmod xhugepaged")
    kp = "/sys/kernel/debug/kprobes/list"
    if not os.path.exists(kp):
        sh("mount -t debugfs none /sys/kernel/debug")
    sh("dmesg -C")
    native = read(os.path.join(T, "enabled"))
    native = re.search(r"\[(\w+)\]", native).group(1) if isinstance(native, str) else "always"
    write(os.path.join(T, "enabled"), "never")
    r = sh("insmod %s assume_ibt=1 enabled=always scan_sleep_millisecs=100" % KO)
    dm = sh("dmesg").stdout
    ibt = [ln for ln in dm.splitlines() if "IBT assumed" in ln]
    result(r.returncode == 0 and os.path.isdir(X), "ibt_assumed_loads",
           (r.stderr or r.stdout).strip()[:160])
    result(bool(ibt) and "madvise_collapse" in ibt[0] and "RET thunk" in ibt[0],
           "ibt_assumed_names_functions_without_endbr",
           (ibt[0] if ibt else "no 'IBT assumed' line").strip()[:300])
    collapsed0 = read(os.path.join(X, "khugepaged/pages_collapsed"))
    # A process whose 8 MiB the scanner collapses (native THP is never, so
    # only xhugepaged can); it checks its bytes once AnonHugePages shows.
    child = subprocess.run([sys.executable, "-c",
                            "import mmap,re,time\n"
                            "m=mmap.mmap(-1,8<<20,flags=mmap.MAP_PRIVATE|mmap.MAP_ANONYMOUS)\n"
                            "for o in range(0,8<<20,4096): m[o]=(o>>12)&255\n"
                            "for _ in range(900):\n"
                            "    s=open('/proc/self/smaps_rollup').read()\n"
                            "    kb=int(re.search(r'AnonHugePages:\\s+(\\d+)',s).group(1))\n"
                            "    if kb: break\n"
                            "    time.sleep(0.1)\n"
                            "bad=sum(m[o]!=(o>>12)&255 for o in range(0,8<<20,4096))\n"
                            "print(kb,bad)\n"],
                           capture_output=True, text=True, timeout=150)
    got = child.stdout.split()
    # The scanner counts a collapse once the engine returned to it, after
    # the child could see its range PMD-mapped: wait for the count (a
    # hang bound of 30 s).
    seen_huge = len(got) == 2 and got[0].isdigit() and int(got[0]) > 0
    deadline = time.monotonic() + (30 if seen_huge else 0)
    while True:
        collapsed1 = read(os.path.join(X, "khugepaged/pages_collapsed"))
        if (not isinstance(collapsed1, str) or not isinstance(collapsed0, str) or
                int(collapsed1) > int(collapsed0) or time.monotonic() >= deadline):
            break
        time.sleep(0.05)
    ok = (len(got) == 2 and int(got[0]) > 0 and got[1] == "0" and
          isinstance(collapsed1, str) and isinstance(collapsed0, str) and
          int(collapsed1) > int(collapsed0))
    result(ok, "ibt_assumed_collapses_through_thunk",
           "AnonHugePages %s kB, %s bad pages, pages_collapsed %s -> %s" %
           (got[0] if got else "?", got[1] if len(got) > 1 else "?",
            str(collapsed0).strip(), str(collapsed1).strip()))
    sh("rmmod xhugepaged")
    write(os.path.join(T, "enabled"), native)

    # --- the one refusal left: kernel shadow stacks (forced by
    # assume_kernel_shstk=1) refuse with EOPNOTSUPP and leave nothing
    probes0 = read(kp)
    sh("dmesg -C")
    r = sh("insmod %s assume_kernel_shstk=1" % KO)
    dm = sh("dmesg").stdout
    probes1 = read(kp)
    named = [ln for ln in dm.splitlines() if "shadow stacks" in ln and "refusing" in ln]
    clean = (not os.path.exists(X) and
             not os.path.exists("/sys/module/xhugepaged") and
             probes0 == probes1)
    result(r.returncode != 0 and "Operation not supported" in r.stderr + r.stdout,
           "kernel_shstk_refuses_with_eopnotsupp", (r.stderr or r.stdout).strip()[:160])
    result(bool(named), "kernel_shstk_refusal_names_it",
           " | ".join(ln for ln in dm.splitlines() if "xhugepaged" in ln)[:300])
    result(clean, "kernel_shstk_refusal_leaves_nothing_behind",
           "kprobes %s" % ("unchanged" if probes0 == probes1 else "CHANGED"))
    result(sh("insmod " + KO).returncode == 0 and os.path.isdir(X),
           "normal_load_after_kernel_shstk_refusal")
    sh("rmmod xhugepaged")

    print("1..%d" % n)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
