#!/usr/bin/env python3
"""All or nothing under faults, against the real kernel in namespaces of our
own: signals at several moments of a 100k-flow load and of its removal,
SIGPIPE from an isakmpd fifo whose reader leaves, another program adding a
policy underneath a load, two loads at once, and the lock between them.

Needs root. Prints 'N passed, M failed' last; every namespace and process
it made is removed on the way out.
"""

import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check  # noqa: E402
import netns_test as nt  # noqa: E402

FLOWS = 100000
# The namespace helpers, the lists of namespaces and processes to remove
# and the tier's set-up and clean-up are the netns tier's own.
processes = nt.processes
new_namespace = nt.new_namespace


def sh(*args, ns=None, check_rc=True, timeout=120):
    return nt.sh(*args, ns=ns, check_rc=check_rc, timeout=timeout)


def policy_count(ns):
    """Policies in the namespace (all directions)."""
    out = sh("ip", "xfrm", "policy", "count", ns=ns)[1]
    # "SPD IN  0 OUT 0 FWD 0" (+ socket counts)
    words = out.split()
    total = 0
    for key in ("IN", "OUT", "FWD"):
        if key in words:
            total += int(words[words.index(key) + 1])
    return total


def host_pair(i):
    return ("10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255),
            "172.%d.%d.%d" % (16 + (i >> 16 & 15), i >> 8 & 255, i & 255))


def write_flows(path, n, peer=None):
    with open(path, "w") as f:
        for i in range(n):
            a, z = host_pair(i)
            f.write("flow esp from %s to %s%s\n" % (a, z, " peer " + peer if peer else ""))
    os.chmod(path, 0o600)


def start(b, ns, *args):
    proc = subprocess.Popen(["ip", "netns", "exec", ns, b] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    processes.append(proc)
    return proc


def finish(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode(), err.decode()


class ChangeCounter:
    """`ip xfrm monitor` in the namespace, counting the entries the kernel
    announces, so that a fault can be timed by how far a load has got
    rather than by the clock (a loaded CI machine shifts every delay)."""

    def __init__(self, ns):
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "ip", "xfrm", "monitor"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        processes.append(self.proc)
        self.count = 0
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        time.sleep(0.3)

    def _read(self):
        for line in self.proc.stdout:
            if line[:1] not in (b" ", b"\t", b""):
                self.count += 1

    def wait_for(self, n, proc, timeout=60):
        """Until n entries were announced or the load ended."""
        deadline = time.monotonic() + timeout
        while self.count < n and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def signals_during(b, ns, big, operation):
    """Signals at several moments of one operation: before the first change
    (by the clock), and after 1, 5,000, 50,000 and 150,000 changes (by the
    kernel's announcements). Every run ends with the kernel all before or
    all after, never in between."""
    results = []
    moments = ((signal.SIGTERM, 0), (signal.SIGINT, 1), (signal.SIGHUP, 5000),
               (signal.SIGTERM, 50000), (signal.SIGTERM, 150000), (signal.SIGINT, 199000))
    for signo, changes in moments:
        sh(b, "-F", ns=ns)
        if operation == "remove":
            sh(b, "-f", big, ns=ns)
        counter = ChangeCounter(ns)
        proc = start(b, ns, *(["-d", "-f", big] if operation == "remove" else ["-f", big]))
        if changes == 0:
            time.sleep(0.02)
        else:
            counter.wait_for(changes, proc)
        proc.send_signal(signo)
        rc, _, err = finish(proc)
        counter.stop()
        count = policy_count(ns)
        results.append((signal.Signals(signo).name, changes, rc, count, err.strip()))
    return results


def run_checks(b, tmp):
    ns = new_namespace("faults")
    big = os.path.join(tmp, "big.conf")
    write_flows(big, FLOWS)
    full = 2 * FLOWS

    # Signals during a load and during a removal.
    for operation, before, after in (("load", 0, full), ("remove", full, 0)):
        results = signals_during(b, ns, big, operation)
        bad = [r for r in results if r[3] not in (before, after)]
        check("signals during %s of %d flows: the kernel ends all before or all after"
              % (operation, FLOWS), not bad, "\n".join(map(str, results)))
        interrupted = [r for r in results if r[3] == before]
        # Before the first change a signal simply ends the run (nothing to
        # say, nothing changed); once changes began, the run undoes them and
        # says so, then dies of the same signal for its parent to see.
        check("... a run stopped early dies of its signal, and says so if it had begun",
              all(r[2] < 0 and (not r[4] or "stopped by SIG" in r[4]) for r in interrupted),
              "\n".join(map(str, results)))
        check("... and some runs were stopped mid-change and undid it (the test hits the window)",
              any("were undone" in r[4] for r in interrupted), "\n".join(map(str, results)))

    # Another program adds a policy of the file while the load runs: a
    # reported conflict, a full rollback, and the other program's policy kept.
    last_a, last_z = host_pair(FLOWS - 1)
    foreign = ["ip", "xfrm", "policy", "add", "src", last_a + "/32", "dst", last_z + "/32",
               "dir", "out", "priority", "77", "tmpl", "src", "0.0.0.0", "dst", "198.51.100.77",
               "proto", "esp", "mode", "tunnel"]
    conflict = None
    attempts = []
    for changes in (1000, 20000, 100000):
        sh(b, "-F", ns=ns)
        counter = ChangeCounter(ns)
        proc = start(b, ns, "-f", big)
        # The load has begun changing the kernel (its dump is behind it)
        # and has not reached the last flow yet.
        counter.wait_for(changes, proc)
        frc = sh(*foreign, ns=ns, check_rc=False)[0]
        rc, _, err = finish(proc)
        counter.stop()
        attempts.append((changes, rc, frc, err.strip()[:200]))
        if rc != 0 and frc == 0:
            conflict = (rc, err, policy_count(ns), sh("ip", "xfrm", "policy", ns=ns)[1])
            break
    check("a policy added underneath a load is a reported conflict, not a success",
          conflict is not None and "another program added it" in conflict[1],
          "\n".join(map(str, attempts)))
    if conflict:
        check("... the load is rolled back and the other program's policy stays",
              conflict[2] == 1 and "198.51.100.77" in conflict[3] and "priority 77" in conflict[3],
              "%d policies: %s" % (conflict[2], conflict[3][:400]))

    # Two loads at once of conflicting files: they take turns; the kernel
    # holds one file or the other, never a mix.
    a_conf, b_conf = os.path.join(tmp, "a.conf"), os.path.join(tmp, "b.conf")
    write_flows(a_conf, 20000, "192.0.2.1")
    write_flows(b_conf, 20000, "192.0.2.2")
    mixes = []
    for _ in range(3):
        sh(b, "-F", ns=ns)
        p1, p2 = start(b, ns, "-f", a_conf), start(b, ns, "-f", b_conf)
        r1, r2 = finish(p1), finish(p2)
        text = sh("ip", "xfrm", "policy", ns=ns)[1]
        peers = (text.count("dst 192.0.2.1 ") + text.count("src 192.0.2.1 "),
                 text.count("dst 192.0.2.2 ") + text.count("src 192.0.2.2 "))
        mixes.append((r1[0], r2[0], peers, (r1[2] + r2[2]).strip()[:200]))
    check("two loads at once of conflicting files: both succeed, one after the other",
          all(m[0] == 0 and m[1] == 0 for m in mixes), "\n".join(map(str, mixes)))
    check("... and the kernel holds one file's flows, never a mix",
          all(0 in m[2] and max(m[2]) == 40000 for m in mixes), "\n".join(map(str, mixes)))
    waited = [m for m in mixes if "waiting for another ipsecctl" in m[3]]
    check("... the second one said it was waiting for the first", len(waited) > 0,
          "\n".join(map(str, mixes)))

    # isakmpd's fifo reader goes away in the middle of the commands:
    # SIGPIPE must not kill ipsecctl, and the kernel part is undone.
    sh(b, "-F", ns=ns)
    mixed = os.path.join(tmp, "mixed.conf")
    with open(mixed, "w") as f:
        f.write("flow esp from 10.1.0.0/16 to 10.2.0.0/16 peer 198.51.100.1\n")
        for i in range(400):  # many commands: the reader leaves after the first bytes
            f.write("ike esp from 10.3.%d.0/24 to 10.4.%d.0/24 peer 198.51.100.%d\n"
                    % (i % 250, i % 250, 1 + i % 200))
    os.chmod(mixed, 0o600)
    fifo = os.path.join(tmp, "isakmpd.fifo")
    os.mkfifo(fifo, 0o600)

    def early_leaver():
        with open(fifo, "rb") as r:
            r.read(64)

    reader = threading.Thread(target=early_leaver)
    reader.start()
    proc = start(b, ns, "--ike", "isakmpd", "-i", fifo, "-f", mixed)
    rc, _, err = finish(proc)
    reader.join(timeout=10)
    check("isakmpd's fifo reader leaving mid-write: an error, not a SIGPIPE death",
          rc == 1 and ("Broken pipe" in err or "no isakmpd" in err), "rc %d: %s" % (rc, err))
    check("... and the flows of the same run are undone", policy_count(ns) == 0,
          "%d policies left" % policy_count(ns))


def main():
    return nt.run_tier(run_checks, "ipsecctl-faults-")


if __name__ == "__main__":
    sys.exit(main())
