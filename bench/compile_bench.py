#!/usr/bin/env python3
"""Parse+compile benchmark for `ipsecctl -n` (a benchmark, not a test).

Generates configurations of 1k, 10k and 100k rules of four kinds (flow
rules, ike rules, half of each, and iked.conf's ikev2 policies of the same
shape as the ike rules, read with --iked), runs `ipsecctl -n -f FILE` several
times each in fresh processes, and prints the best wall time, rules per
second, microseconds per rule and peak RSS next to the anchors measured on
a machine of this kind (nftables 1.0.6, `nft -c -f`, same rule counts;
see ../shared/reference/performance-anchors.md). The project's target is
100k rules in under 0.5 s with under 100 MiB peak RSS.

Usage: compile_bench.py --ipsecctl PATH [--runs 5] [--sizes 1000,10000,100000]
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

# nft -c -f with N rules on this machine kind: (min wall seconds, peak RSS MiB).
NFT_ANCHORS = {1000: (0.0355, 8.2), 10000: (0.196, 44.8), 100000: (1.77, 412.2)}


def flow_rule(i):
    a, b = divmod(i, 256)
    return "flow esp from 10.%d.%d.0/24 to 172.%d.%d.0/24 peer 192.0.%d.%d\n" % (
        a % 256, b, a % 256, b, (i >> 8) % 256, i % 256 or 1)


def ike_rule(i):
    a, b = divmod(i, 256)
    return ("ike dynamic esp from 10.%d.%d.0/24 to 172.%d.%d.0/24 peer 198.51.%d.%d \\\n"
            "\tmain auth hmac-sha2-256 enc aes-256 group modp2048 lifetime 86400 \\\n"
            "\tquick auth hmac-sha2-256 enc aes-256 group modp2048 lifetime 7200 \\\n"
            "\tsrcid gw.example.org psk \"secret\"\n") % (a % 256, b, a % 256, b, a % 256, b)


def ikev2_policy(i):
    a, b = divmod(i, 256)
    return ("ikev2 \"p%d\" active esp from 10.%d.%d.0/24 to 172.%d.%d.0/24 peer 198.51.%d.%d \\\n"
            "\tikesa auth hmac-sha2-256 enc aes-256 group modp2048 \\\n"
            "\tchildsa auth hmac-sha2-256 enc aes-256 group modp2048 \\\n"
            "\tsrcid gw.example.org ikelifetime 86400 lifetime 7200 psk \"secret\"\n") % (
                i, a % 256, b, a % 256, b, a % 256, b)


def generate(kind, n, path):
    with open(path, "w") as f:
        f.write("# %d %s rules\n" % (n, kind))
        for i in range(n):
            if kind == "ikev2":
                f.write(ikev2_policy(i))
            elif kind == "flow" or (kind == "mixed" and i % 2 == 0):
                f.write(flow_rule(i))
            else:
                f.write(ike_rule(i))
    os.chmod(path, 0o600)


def measure(binary, path, iked=False):
    start = time.monotonic()
    proc = subprocess.Popen([binary] + (["--iked"] if iked else []) + ["-n", "-f", path],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("ipsecctl failed on %s: %s" % (path, err))
    return elapsed, usage.ru_maxrss / 1024.0, usage.ru_utime, usage.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="1000,10000,100000")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    print("ipsecctl -n: parse + compile (best of %d runs; peak RSS of the largest run)" % a.runs)
    print("%-6s %7s %10s %12s %9s %10s | %12s %12s" % (
        "kind", "rules", "wall", "rules/s", "us/rule", "peak RSS", "nft -c wall", "nft -c RSS"))
    walls = {}
    with tempfile.TemporaryDirectory(prefix="ipsecctl-bench-") as tmp:
        for kind in ("flow", "ike", "mixed", "ikev2"):
            for n in sizes:
                path = os.path.join(tmp, "%s-%d.conf" % (kind, n))
                generate(kind, n, path)
                runs = [measure(os.path.abspath(a.ipsecctl), path, kind == "ikev2")
                        for _ in range(a.runs)]
                wall = min(r[0] for r in runs)
                walls[(kind, n)] = wall
                rss = max(r[1] for r in runs)
                anchor = NFT_ANCHORS.get(n)
                anchor_text = ("%10.3f s %9.1f MiB" % anchor) if anchor else ""
                print("%-6s %7d %8.3f s %12.0f %9.2f %6.1f MiB | %s" % (
                    kind, n, wall, n / wall, wall / n * 1e6, rss, anchor_text))
                os.unlink(path)
    print("target: 100000 rules in < 0.5 s with < 100 MiB peak RSS")
    for n in sizes:
        print("iked.conf's ikev2 policies / ipsec.conf's ike rules, %d each: %.2fx "
              "(target: at most 1.20x)" % (n, walls[("ikev2", n)] / walls[("ike", n)]))


if __name__ == "__main__":
    main()
