#!/usr/bin/env python3
"""Kernel load benchmark for the XFRM backend (a benchmark, not a test).

In a network namespace of its own, loads N tunnel flows between hosts
(three XFRM policies each: out, in and fwd) three ways, side by side in one
run: `ipsecctl -f`; the kernel's floor, the very same policies prebuilt
and written raw in 64 KiB batches by bench/xfrm_floor (its clock starts
when the messages are ready); and `ip -batch`. Prints wall times, peak RSS
and ratios to the floor. Then, at the largest N: reloading the unchanged
file (with `ip xfrm monitor` listening: it must stay silent) and
`ipsecctl -s all`. Anchors from ../shared/reference/performance-anchors.md
(ip -batch, exact32, this machine kind) are printed alongside. Each run
times the three back to back, so a ratio compares loads that met the same
machine; the table gives medians (and the best run) of `--runs` runs.
Targets at 100k flows: the median of ipsecctl's per-run ratios to the floor
at most 1.2x, peak RSS < 80 MiB, the reload sends nothing and is faster than
the first load.

Needs root. Usage: xfrm_bench.py --ipsecctl PATH --floor PATH [--runs 5]
                                 [--sizes 10000,100000]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# ip -batch, exact32, policies -> (min wall s, peak RSS MiB), measured on this kind.
IP_BATCH_ANCHORS = {1000: (0.00975, 6.4), 10000: (0.0927, 42.0), 100000: (0.978, 397.7)}
NS = "ipsecctl-bench-%d" % os.getpid()
BASE_PRIORITY = 0x8000 - 64  # what ipsecctl derives for /32 <-> /32 selectors


def host_pair(i):
    return ("10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255),
            "172.%d.%d.%d" % (16 + (i >> 16 & 15), i >> 8 & 255, i & 255))


PEER = "198.18.0.1"
PER_FLOW = 3  # out, in, fwd


def write_files(n, tmp):
    conf = os.path.join(tmp, "flows-%d.conf" % n)
    batch = os.path.join(tmp, "flows-%d.batch" % n)
    with open(conf, "w") as c, open(batch, "w") as b:
        for i in range(n):
            a, z = host_pair(i)
            c.write("flow esp from %s to %s peer %s\n" % (a, z, PEER))
            b.write("xfrm policy add src %s/32 dst %s/32 dir out priority %d "
                    "tmpl src 0.0.0.0 dst %s proto esp mode tunnel\n" % (a, z, BASE_PRIORITY, PEER))
            for d in ("in", "fwd"):
                b.write("xfrm policy add src %s/32 dst %s/32 dir %s priority %d "
                        "tmpl src %s dst 0.0.0.0 proto esp mode tunnel\n"
                        % (z, a, d, BASE_PRIORITY, PEER))
    os.chmod(conf, 0o600)
    return conf, batch


def floor(floor_binary, conf):
    """The floor program's own clock (messages prebuilt), and its peak RSS."""
    out = tempfile.TemporaryFile()
    _, rss = timed([floor_binary, conf], stdout=out)
    out.seek(0)
    words = out.read().decode().split()
    return float(words[words.index("sent_in") + 1]), rss


def timed(cmd, stdout=subprocess.DEVNULL, ok=(0,)):
    start = time.monotonic()
    proc = subprocess.Popen(["ip", "netns", "exec", NS] + cmd, stdout=stdout,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) not in ok:
        sys.exit("%s failed: %s" % (" ".join(cmd), err[:500]))
    return elapsed, usage.ru_maxrss / 1024.0


def flush():
    """An empty SPD and no record of an earlier load: each load is a first one."""
    subprocess.run(["ip", "netns", "exec", NS, "ip", "xfrm", "policy", "flush"], check=True)
    shutil.rmtree(os.environ["IPSECCTL_STATE_DIR"], ignore_errors=True)
    # The kernel frees flushed policies after an RCU grace period, in the
    # background: let that finish before the next contender is timed.
    time.sleep(2)


def count_policies():
    out = subprocess.run(["ip", "netns", "exec", NS, "ip", "xfrm", "policy", "count"],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    return out.strip().replace("\n", "; ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--floor", required=True, help="bench/xfrm_floor")
    ap.add_argument("--sizes", default="10000,100000")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("xfrm_bench: needs root (it creates a network namespace)")
    binary = os.path.abspath(a.ipsecctl)
    sizes = [int(s) for s in a.sizes.split(",")]
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        # The files live in memory when they can: the host this was written
        # on drops page cache behind the guest's back, and a load that has
        # to wait for the disk measures the disk.
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        with tempfile.TemporaryDirectory(prefix="ipsecctl-xfrm-bench-", dir=shm) as tmp:
            # ipsecctl's records of what it loaded go with the bench.
            os.environ["IPSECCTL_STATE_DIR"] = os.path.join(tmp, "state")
            run(binary, os.path.abspath(a.floor), sizes, a.runs, tmp)
    finally:
        subprocess.run(["ip", "netns", "del", NS])


def run(binary, floor_binary, sizes, runs, tmp):
    # Grow the namespace's hash tables once, so no contender pays for it.
    conf, _ = write_files(max(sizes), tmp)
    timed([binary, "-f", conf])
    flush()
    print("XFRM load of N tunnel flows between hosts -> %d policies each (median of %d runs, "
          "best in brackets; the SPD flushed before each load)" % (PER_FLOW, runs))
    print("%8s %9s | %17s %9s | %17s %9s | %17s %9s | %8s %8s" % (
        "flows", "policies", "ipsecctl", "peak RSS", "floor", "peak RSS", "ip -batch", "peak RSS",
        "ipsecctl", "ip -b"))
    print("%8s %9s | %27s | %27s | %27s | %17s" % ("", "", "", "", "", "/ floor"))
    first_loads = {}
    for n in sizes:
        conf, batch = write_files(n, tmp)
        runs_of = {"ipsecctl": [], "floor": [], "ip": []}
        for _ in range(runs):
            flush()
            runs_of["ipsecctl"].append(timed([binary, "-f", conf]))
            flush()
            runs_of["floor"].append(floor(floor_binary, conf))
            flush()
            runs_of["ip"].append(timed(["ip", "-batch", batch]))
        med = {k: (statistics.median(t for t, _ in v), max(r for _, r in v))
               for k, v in runs_of.items()}
        best = {k: min(t for t, _ in v) for k, v in runs_of.items()}
        # Ratios run by run: each load against the floor of its own run.
        ratio = {k: statistics.median(a[0] / f[0] for a, f in zip(runs_of[k], runs_of["floor"]))
                 for k in ("ipsecctl", "ip")}
        first_loads[n] = (best["ipsecctl"], med["ipsecctl"][1])

        def cell(k):
            return "%6.3f s (%.3f) %5.1f MiB" % (med[k][0], best[k], med[k][1])
        print("%8d %9d | %s | %s | %s | %7.2fx %7.2fx" % (
            n, PER_FLOW * n, cell("ipsecctl"), cell("floor"), cell("ip"),
            ratio["ipsecctl"], ratio["ip"]))
        print("%8s %9s   ipsecctl/floor run by run: %s" % ("", "", " ".join(
            "%.2f" % (a[0] / f[0]) for a, f in zip(runs_of["ipsecctl"], runs_of["floor"]))))
    base = min(IP_BATCH_ANCHORS, key=lambda k: abs(k - PER_FLOW * max(sizes)))
    print("anchor (performance-anchors.md, ip -batch exact32): %.3f s at %d policies" % (
        IP_BATCH_ANCHORS[base][0], base))
    print("targets at 100k flows: ipsecctl at most 1.2x the floor (median of the per-run "
          "ratios), peak RSS under 80 MiB (the kernel itself holds about 1 KiB a policy)")

    n = max(sizes)
    conf, _ = write_files(n, tmp)
    flush()
    timed([binary, "-f", conf])
    first, first_rss = first_loads[n]
    before = count_policies()
    events = tempfile.TemporaryFile()
    monitor = subprocess.Popen(["ip", "netns", "exec", NS, "ip", "xfrm", "monitor"],
                               stdout=events, stderr=subprocess.STDOUT)
    time.sleep(0.3)
    reloads = [timed([binary, "-f", conf]) for _ in range(runs)]
    time.sleep(0.3)
    monitor.terminate()
    monitor.wait()
    events.seek(0)
    lines = len(events.read().splitlines())
    reload_t, reload_rss = min(reloads)
    print()
    print("reload of the unchanged %d-flow file: %.3f s, %.1f MiB (best first load above %.3f s, "
          "%.1f MiB: the reload takes %.2fx); kernel events during %d reloads: %d; policies "
          "before/after: %s / %s" % (n, reload_t, reload_rss, first, first_rss, reload_t / first,
                                     runs, lines, before, count_policies()))
    # --diff is the same comparison with nothing sent: unchanged, and with
    # one flow of the file changed.
    diffs = [timed([binary, "--diff", "-f", conf]) for _ in range(runs)]
    print("--diff of the unchanged file: %.3f s, %.1f MiB (%.2fx the unchanged reload)" % (
        min(diffs)[0], min(diffs)[1], min(diffs)[0] / reload_t))
    with open(conf) as f:
        text = f.read()
    edited = os.path.join(os.path.dirname(conf), "edited-" + os.path.basename(conf))
    with open(edited, "w") as f:
        f.write(text.replace(" peer ", " peer 10.255.255.254 #", 1))
    os.chmod(edited, 0o600)
    diffs = [timed([binary, "--diff", "--as", conf, "-f", edited], ok=(2,)) for _ in range(runs)]
    print("--diff with one flow changed: %.3f s, %.1f MiB (%.2fx the unchanged reload)" % (
        min(diffs)[0], min(diffs)[1], min(diffs)[0] / reload_t))
    shows = [timed([binary, "-s", "all"]) for _ in range(runs)]
    show_t, show_rss = min(shows)
    print("ipsecctl -s all with %d policies: %.3f s, %.1f MiB" % (PER_FLOW * n, show_t, show_rss))
    t, rss = timed(["ip", "xfrm", "policy", "show"])
    print("ip xfrm policy show (for comparison): %.3f s, %.1f MiB" % (t, rss))
    flush()


if __name__ == "__main__":
    main()
