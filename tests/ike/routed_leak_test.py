#!/usr/bin/env python3
"""No LAN packet in the clear on a route-based tunnel, whatever order things
happen in: two gateways with XFRM interfaces (`ike dynamic interface sec1`,
seed 002's shape), charon with Debian's routing defaults (install_routes,
table 220), LAN hosts pinging each other all along, and round after round
one of the orders real gateways go through: both load at once, one loads
first (either one), charon is killed and comes back (what systemd's restart
and the package's reload drop-in do), a rekey of the child and of the IKE
SA. Each round ends with both files unloaded (-d -f).

Both WANs are watched from the first round to the last; one plaintext echo
fails the run, with the moment it left, the round it left in, where the
packet went hop by hop (esp_sniff --trace) and what the kernel's routes and
policies did (`ip -t monitor`).

The previous report of a leak here (two pings "in the clear" during a
route-based check) was the sniffer's: opened for every interface, it took
the LAN's and the XFRM interface's plaintext until bind() narrowed it to
the WAN (tests/qemu/esp_sniff.cc now binds before it receives anything).

Needs root, strongSwan and a kernel with ESP (the qemu tier). Prints
'N passed, M failed' last; everything it made is removed on the way out.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, skip  # noqa: E402
import ikelab  # noqa: E402
from ikelab import lan, wan, host  # noqa: E402
from private_file import write_private  # noqa: E402

ARGS = None


class Watch:
    """What the whole run watches: both WANs (esp_sniff), every echo and ESP
    packet on every interface of both gateways (--trace), and the kernel's
    route and XFRM events there, all with wall-clock times."""

    def __init__(self, lab, tmp):
        self.sniffs, self.others, self.files, self.traces = {}, [], {}, {}
        longest = str(ARGS.rounds * 120 + 120)
        for i in (0, 1):
            ns = ["ip", "netns", "exec", lab.gw[i]]
            out = tempfile.TemporaryFile(dir=tmp)
            self.sniffs[i] = (subprocess.Popen(ns + [ARGS.sniff, "wan", longest], stdout=out,
                                               stderr=subprocess.STDOUT), out)
            self.traces[i] = tempfile.TemporaryFile(dir=tmp)
            self.others.append(subprocess.Popen(ns + [ARGS.sniff, "--trace", longest],
                                                stdout=self.traces[i], stderr=subprocess.STDOUT))
            for what in ("route", "xfrm"):
                f = tempfile.TemporaryFile(dir=tmp)
                self.files[(i, what)] = f
                cmd = ["ip", "-n", lab.gw[i], "-t", "monitor", "route"] if what == "route" \
                    else ["ip", "-n", lab.gw[i], "-t", "xfrm", "monitor"]
                self.others.append(subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT))
        time.sleep(1)

    def finish(self):
        """{gateway: (counts, [leak words])}."""
        for p, _ in self.sniffs.values():
            p.send_signal(signal.SIGTERM)
        for p in self.others:
            p.send_signal(signal.SIGTERM)
        result = {}
        for i, (p, out) in self.sniffs.items():
            p.wait(timeout=60)
            out.seek(0)
            result[i] = ikelab.sniff_result(out.read().decode())
        for p in self.others:
            p.wait(timeout=60)
        return result

    def around(self, moments, margin=0.3):
        """The traced packets and kernel events within `margin` seconds of
        any of `moments`."""
        out = []
        for i, f in sorted(self.traces.items()):
            f.seek(0)
            for line in f.read().decode(errors="replace").splitlines():
                try:
                    t = float(line.split()[0])
                except (ValueError, IndexError):
                    continue
                if any(abs(t - m) <= margin for m in moments):
                    out.append("gw%d %s" % (i, line))
        out.sort(key=lambda l: l.split()[1])
        for (i, what), f in sorted(self.files.items()):
            f.seek(0)
            out.append("--- ip -t monitor %s (gw%d), last lines\n%s" % (
                what, i, "\n".join(f.read().decode(errors="replace").splitlines()[-40:])))
        return "--- packets around the leaks\n" + "\n".join(out)


def tunnel_up(lab, seconds):
    """Both sides hold an installed child and a LAN ping crosses."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(lab.installed(i) for i in (0, 1)) and lab.ping(0, 1, count=1, wait=1):
            return True
        time.sleep(0.2)
    return False


def load(lab, confs, order):
    """Loads both gateways in `order`: "together", or the first gateway's
    number (the other follows two seconds later)."""
    if order == "together":
        procs = [lab.ipsecctl_async(i, "-f", confs[i]) for i in (0, 1)]
        return [p.wait(timeout=60) for p in procs]
    first = int(order)
    rcs = [lab.ipsecctl(first, "-f", confs[first])[0]]
    time.sleep(2)
    rcs.append(lab.ipsecctl(1 - first, "-f", confs[1 - first])[0])
    return rcs


def one_round(lab, confs, n, kind):
    """Returns (when it began, whether its steps worked, evidence)."""
    began = time.time()
    rcs = []
    if kind in ("together", "0", "1"):
        rcs = load(lab, confs, kind)
    else:
        # These begin from a tunnel that is up.
        rcs = load(lab, confs, "0")
        if not tunnel_up(lab, 30):
            return began, False, "the tunnel did not come up before the %s" % kind
        if kind == "restart":
            # charon dies (SIGKILL: its kernel state stays, as after a
            # crash) and comes back; the unit's drop-in then loads the file.
            i = n % 2
            lab.stop(i)
            time.sleep(1)
            lab.start(i)
            rcs.append(lab.ipsecctl(i, "-f", confs[i])[0])
        else:
            lab.vici(0, "rekey", {"child": "from-sec1-to-sec1"})
            time.sleep(2)
            for conn, _ in lab.ike_sas(0):
                lab.vici(0, "rekey", {"ike": conn})
    up = tunnel_up(lab, 40)
    for i in (0, 1):
        rcs.append(lab.ipsecctl(i, "-d", "-f", confs[i])[0])
    return began, up and all(rc == 0 for rc in rcs), "rcs %s, up %s" % (rcs, up)


def evidence(lab):
    out = []
    for i in (0, 1):
        try:
            with open(lab.log(i), errors="replace") as f:
                out.append("--- charon gw%d\n" % i + "".join(f.readlines()[-40:]))
        except OSError:
            pass
        for what in (("xfrm", "policy"), ("xfrm", "state"), ("route", "show", "table", "all"),
                     ("rule",)):
            out.append("--- ip %s (gw%d)\n" % (" ".join(what), i) +
                       lab.sh("ip", *what, ns=lab.gw[i], check_rc=False).stdout.decode())
    return "\n".join(out)


def run(lab, tmp):
    for i in (0, 1):
        lab.start(i)
    confs = {}
    for i in (0, 1):
        lab.sh("ip", "link", "add", "sec1", "type", "xfrm", "dev", "wan", "if_id", "1",
               ns=lab.gw[i])
        lab.sh("ip", "link", "set", "sec1", "up", ns=lab.gw[i])
        lab.sh("ip", "route", "add", lan(1 - i), "dev", "sec1", ns=lab.gw[i])
        confs[i] = write_private(tmp, "routed%d.conf" % i,
                                 "ike dynamic interface sec1 peer %s psk \"routed\"\n" % wan(1 - i))
    kinds = ARGS.kinds.split(",")
    watch = Watch(lab, tmp)
    # The LANs talk all along, five pings a second each way.
    pings = [subprocess.Popen(["ip", "netns", "exec", lab.hosts[i], "ping", "-n", "-q", "-i",
                               "0.2", "-W", "1", host(1 - i)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for i in (0, 1)]
    rounds = []
    try:
        for n in range(ARGS.rounds):
            kind = kinds[n % len(kinds)]
            began, ok, why = one_round(lab, confs, n, kind)
            rounds.append((began, kind))
            check("round %d (%s): the loads succeed and the tunnel carries the LAN's pings" %
                  (n, kind), ok, "%s\n%s" % (why, evidence(lab)))
    finally:
        for p in pings:
            p.send_signal(signal.SIGINT)
            p.wait(timeout=10)
        # The control: gateway to gateway, outside any tunnel, a ping does
        # cross the WAN in the clear, and the watch must see it (else a
        # silent watch would pass every run).
        control = time.time()
        lab.sh("ping", "-c", "2", "-i", "0.2", "-W", "1", wan(1), ns=lab.gw[0], check_rc=False)
        time.sleep(0.5)
        seen = watch.finish()
    check("the watch sees plaintext when there is some: the gateways' own pings over the WAN",
          all(seen[i][0].get("echo", 0) >= 1 and
              any(float(w.split("@")[1]) >= control for w in seen[i][1] if "@" in w)
              for i in (0, 1)), seen)
    leaks = {i: [w for w in seen[i][1] if "@" in w and float(w.split("@")[1]) < control]
             for i in (0, 1)}
    leaks = {i: ws for i, ws in leaks.items() if ws}
    moments = [float(w.split("@")[1]) for ws in leaks.values() for w in ws]

    def round_of(t):
        before = [(n, k) for n, (b, k) in enumerate(rounds) if b <= t]
        return "round %d (%s)" % before[-1] if before else "before the first round"

    check("%d rounds, both WANs watched all along: ESP only, no plaintext echo (esp %s)"
          % (len(rounds), [seen[i][0].get("esp", 0) for i in (0, 1)]),
          not leaks and all(seen[i][0].get("esp", 0) > 0 for i in (0, 1)),
          "leaks %s in %s\n%s\n%s" % (leaks, [round_of(m) for m in moments],
                                      watch.around(moments), evidence(lab)))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    ap.add_argument("--sniff", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--kinds", default="together,0,1,restart,rekey",
                    help="the rounds' kinds, taken in turn")
    ARGS = ap.parse_args()
    if os.geteuid() != 0:
        return skip("the leak tier needs root (network namespaces, charon)")
    if not ikelab.tool_present():
        return skip("strongSwan's charon, ping or unshare is not installed")
    b = os.path.abspath(ARGS.ipsecctl)
    return ikelab.run_in_lab("ipsecctl-leak-",
                             lambda tmp: ikelab.Lab(tmp, b, gateways=2, kernel="netlink",
                                                    tag="leak"), run)


if __name__ == "__main__":
    sys.exit(main())
