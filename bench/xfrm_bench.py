#!/usr/bin/env python3
"""Kernel load benchmark for the XFRM backend (a benchmark, not a test).

In a network namespace of its own, loads N host-to-host flows (two XFRM
policies each: out, and in; transport mode) with `ipsecctl -f` and the very
same policies with `ip -batch`, side by side in one run, and prints both
wall times, the ratio and peak RSS. Then, at the largest N: reloading the
unchanged file (with `ip xfrm monitor` listening: it must stay silent) and
`ipsecctl -s all`. Anchors from ../shared/reference/performance-anchors.md
(ip -batch, exact32, this machine kind) are printed alongside. Targets at
100k flows: >= 5x faster than ip -batch, peak RSS < 64 MiB, reload sends
nothing and takes no longer than the first load.

Needs root. Usage: xfrm_bench.py --ipsecctl PATH [--runs 3] [--sizes 1000,10000,100000]
"""

import argparse
import os
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


def write_files(n, tmp):
    conf = os.path.join(tmp, "flows-%d.conf" % n)
    batch = os.path.join(tmp, "flows-%d.batch" % n)
    with open(conf, "w") as c, open(batch, "w") as b:
        for i in range(n):
            a, z = host_pair(i)
            c.write("flow esp from %s to %s\n" % (a, z))
            b.write("xfrm policy add src %s/32 dst %s/32 dir out priority %d "
                    "tmpl src 0.0.0.0 dst %s proto esp mode transport\n" % (a, z, BASE_PRIORITY, z))
            b.write("xfrm policy add src %s/32 dst %s/32 dir in priority %d "
                    "tmpl src %s dst 0.0.0.0 proto esp mode transport\n" % (z, a, BASE_PRIORITY, z))
    os.chmod(conf, 0o600)
    return conf, batch


def timed(cmd, stdout=subprocess.DEVNULL):
    start = time.monotonic()
    proc = subprocess.Popen(["ip", "netns", "exec", NS] + cmd, stdout=stdout,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("%s failed: %s" % (" ".join(cmd), err[:500]))
    return elapsed, usage.ru_maxrss / 1024.0


def flush():
    subprocess.run(["ip", "netns", "exec", NS, "ip", "xfrm", "policy", "flush"], check=True)


def count_policies():
    out = subprocess.run(["ip", "netns", "exec", NS, "ip", "xfrm", "policy", "count"],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    return out.strip().replace("\n", "; ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="1000,10000,100000")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("xfrm_bench: needs root (it creates a network namespace)")
    binary = os.path.abspath(a.ipsecctl)
    sizes = [int(s) for s in a.sizes.split(",")]
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        with tempfile.TemporaryDirectory(prefix="ipsecctl-xfrm-bench-") as tmp:
            run(binary, sizes, a.runs, tmp)
    finally:
        subprocess.run(["ip", "netns", "del", NS])


def run(binary, sizes, runs, tmp):
    # Grow the namespace's hash tables once, so neither tool pays for it.
    conf, _ = write_files(max(sizes), tmp)
    timed([binary, "-f", conf])
    flush()
    print("XFRM load, %d host-to-host flows -> 2 policies each (best of %d; fresh flush "
          "before each run)" % (max(sizes), runs))
    print("%8s %9s | %10s %9s | %10s %9s | %7s | %s" % (
        "flows", "policies", "ipsecctl", "peak RSS", "ip -batch", "peak RSS", "ratio",
        "anchor ip -batch (same policy count)"))
    for n in sizes:
        conf, batch = write_files(n, tmp)
        best_ipsecctl, best_ip = None, None
        for _ in range(runs):
            flush()
            t, rss = timed([binary, "-f", conf])
            best_ipsecctl = min(best_ipsecctl or (t, rss), (t, rss))
            flush()
            t, rss = timed(["ip", "-batch", batch])
            best_ip = min(best_ip or (t, rss), (t, rss))
        # The anchors were measured at 1k/10k/100k policies; scale the
        # nearest one to this run's policy count.
        base = min(IP_BATCH_ANCHORS, key=lambda k: abs(k - 2 * n))
        anchor_text = "%.3f s at %d policies (%.0f k/s) -> ~%.3f s here" % (
            IP_BATCH_ANCHORS[base][0], base, base / IP_BATCH_ANCHORS[base][0] / 1000,
            IP_BATCH_ANCHORS[base][0] * 2 * n / base)
        print("%8d %9d | %8.3f s %5.1f MiB | %8.3f s %5.1f MiB | %6.1fx | %s" % (
            n, 2 * n, best_ipsecctl[0], best_ipsecctl[1], best_ip[0], best_ip[1],
            best_ip[0] / best_ipsecctl[0], anchor_text))

    n = max(sizes)
    conf, _ = write_files(n, tmp)
    flush()
    first, first_rss = timed([binary, "-f", conf])
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
    print("reload of the unchanged %d-flow file: %.3f s, %.1f MiB (first load %.3f s, %.1f MiB); "
          "kernel events during %d reloads: %d; policies before/after: %s / %s" % (
              n, reload_t, reload_rss, first, first_rss, runs, lines, before, count_policies()))
    shows = [timed([binary, "-s", "all"]) for _ in range(runs)]
    show_t, show_rss = min(shows)
    print("ipsecctl -s all with %d policies: %.3f s, %.1f MiB" % (2 * n, show_t, show_rss))
    t, rss = timed(["ip", "xfrm", "policy", "show"])
    print("ip xfrm policy show (for comparison): %.3f s, %.1f MiB" % (t, rss))
    flush()


if __name__ == "__main__":
    main()
