#!/usr/bin/env python3
"""Loading ike rules into charon, side by side with swanctl (a benchmark,
not a test).

In a namespace of its own, one charon (the lab of tests/ike), emptied
(restarted) before every load: N `ike passive` rules with distinct peers
and PSKs loaded with `ipsecctl -f`, then reloaded unchanged (which must
send charon nothing), and the very same connections and secrets as
swanctl.conf (`ipsecctl -n --format swanctl`) loaded with
`swanctl --load-all`; as IKEv1 (OpenBSD's) and as IKEv2. Passive rules, so
that neither side starts 10,000 negotiations with peers that do not exist.
Prints wall times, ratios and the targets: at 10,000 IKEv2 rules at least
3x faster than swanctl, and an unchanged reload under 1 s.

Needs root and strongSwan.
Usage: vici_bench.py --ipsecctl PATH [--sizes 1000,10000] [--runs 3] [--versions 1,2]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "ike"))
import ikelab  # noqa: E402


def peer(k):
    k += 1  # never x.y.z.0
    return "172.%d.%d.%d" % (16 + (k >> 16 & 15), k >> 8 & 255, k & 255)


def nets(k):
    return ("10.%d.%d.0/24" % (k >> 8 & 255, k & 255),
            "10.%d.%d.0/24" % (128 + (k >> 8 & 127), k & 255))


def write_files(n, tmp, version, ipsecctl):
    conf = os.path.join(tmp, "ike-%d-v%s.conf" % (n, version))
    swan = os.path.join(tmp, "swanctl-%d-v%s.conf" % (n, version))
    with open(conf, "w") as c:
        c.write("ipsecctl_ike_version = \"%s\"\n" % version)
        for k in range(n):
            local, remote = nets(k)
            # IKEv2 picks a key by identity: each peer's is its address.
            ids = "dstid %s " % peer(k) if version != "1" else ""
            c.write("ike passive esp from %s to %s peer %s main auth hmac-sha2-256 enc aes-256 "
                    "group modp2048 quick auth hmac-sha2-256 enc aes-256 group modp2048 "
                    "%spsk \"secret-%d\"\n" % (local, remote, peer(k), ids, k))
    os.chmod(conf, 0o600)
    # The same connections and secrets, as swanctl reads them.
    with open(swan, "w") as s:
        subprocess.run([ipsecctl, "-n", "--format", "swanctl", "-f", conf], stdout=s, check=True)
    return conf, swan


def timed(argv):
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (argv[0], p.stderr.decode()[-500:]))
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--versions", default="1,2")
    args = ap.parse_args()
    if os.geteuid() != 0 or not ikelab.tool_present() or shutil.which("swanctl") is None:
        print("vici_bench: needs root, charon and swanctl", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="ipsecctl-vici-bench-")
    os.chmod(tmp, 0o755)
    os.environ["IPSECCTL_STATE_DIR"] = os.path.join(tmp, "state")
    lab = ikelab.Lab(tmp, os.path.abspath(args.ipsecctl), gateways=1, tag="bench")
    rows = []
    try:
        lab.net_up()
        for version, n in [(v, int(x)) for v in args.versions.split(",")
                           for x in args.sizes.split(",")]:
            conf, swan = write_files(n, tmp, version, lab.b)
            first, again, swanctl = [], [], []
            for _ in range(args.runs):
                lab.stop(0)
                shutil.rmtree(os.path.join(tmp, "state"), ignore_errors=True)
                lab.start(0)
                first.append(timed(lab.in_gateway(0, [lab.b, "--vici", lab.socket(0), "-f", conf])))
                again.append(timed(lab.in_gateway(0, [lab.b, "--vici", lab.socket(0), "-f", conf])))
                loaded = len(lab.conns(0))
                if loaded != n:
                    raise RuntimeError("ipsecctl loaded %d of %d connections" % (loaded, n))
                lab.stop(0)
                lab.start(0)
                swanctl.append(timed(lab.in_gateway(0, [
                    "swanctl", "--load-all", "--noprompt", "--file", swan,
                    "--uri", "unix://" + lab.socket(0)])))
                if len(lab.conns(0)) != n:
                    raise RuntimeError("swanctl loaded %d of %d connections" % (len(lab.conns(0)), n))
            rows.append((version, n, min(first), min(again), min(swanctl)))
    finally:
        lab.down()
        shutil.rmtree(tmp, ignore_errors=True)
    print("ike rules into charon, min of %d runs (s); charon emptied before each load" % args.runs)
    print("%4s %8s %12s %16s %12s %8s" % ("IKE", "rules", "ipsecctl -f", "unchanged reload",
                                          "swanctl", "ratio"))
    for v, n, f, a, s in rows:
        print("%4s %8d %12.3f %16.3f %12.3f %7.2fx" % ("v" + v, n, f, a, s, s / f))
    print("targets at 10,000 IKEv2 rules: ipsecctl at least 3x faster than swanctl; unchanged "
          "reload under 1 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
