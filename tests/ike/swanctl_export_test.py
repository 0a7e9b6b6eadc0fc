#!/usr/bin/env python3
"""`ipsecctl -n --format swanctl -f FILE` writes the swanctl.conf of exactly
what `ipsecctl -f FILE` gives charon. For every shipped example and every
input of the conformance sets whose ike rules charon can take: the file is
loaded by ipsecctl into a fresh charon, then (charon emptied again) its
export by `swanctl --load-all`, and charon must hold the same thing both
times: the same `swanctl --list-conns --raw`, the same shared-secret ids,
and the same settings, every one of them, as charon logs each connection
it is given (its config log, the local IKE port aside, which charon picks
at random here).

Each case runs in a network namespace of its own with only a loopback, so
that a tunnel ipsecctl starts sends nothing anywhere; a few charons work
side by side (starting tunnels waits on silent peers). Needs root and
strongSwan. Prints 'N passed, M failed' last.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, skip, summary  # noqa: E402
import ikelab  # noqa: E402
import keylab  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "conformance"))
SWANCTL = shutil.which("swanctl") or "/usr/sbin/swanctl"
WORKERS = 4


def defines(args):
    out = []
    for k, a in enumerate(args):
        if a == "-D" and k + 1 < len(args):
            out += ["-D", args[k + 1]]
    return out


def cases():
    """(name, text, -D arguments, directory to run in, key files, IKE
    version): each file as IKEv1 (OpenBSD's) and as IKEv2."""
    return [c[:5] + (v,) for c in files() for v in ("1", "2")]


def files():
    out = []
    for conf in sorted(glob.glob(os.path.join(ROOT, "examples", "*", "*.conf"))):
        with open(conf, "rb") as f:
            text = f.read()
        if b"ike" in text:
            out.append(("examples/" + os.path.relpath(conf, os.path.join(ROOT, "examples")),
                        text, [], os.path.dirname(conf), {}))
    regress = os.path.join(SHARED, "openbsd-regress")
    for case in sorted(glob.glob(os.path.join(regress, "*.in"))):
        with open(case, "rb") as f:
            text = f.read()
        if b"ike" in text:
            out.append(("regress/" + os.path.basename(case), text, [], regress, {}))
    seen = set()
    with open(os.path.join(SHARED, "generated.jsonl")) as f:
        for line in f:
            c = json.loads(line)
            key = (c["input"], tuple(defines(c["args"])))
            if key in seen or "ike" not in c["input"] or "KEYDIR" in c["input"]:
                continue
            seen.add(key)
            out.append(("generated/" + c["name"], c["input"].encode("latin-1"),
                        defines(c["args"]), None, c["keys"]))
    return out


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


class Worker:
    """A namespace with a loopback only, its own charon and VICI socket."""

    def __init__(self, tmp, n, ipsecctl, key_root):
        self.dir = os.path.join(tmp, "w%d" % n)
        os.makedirs(os.path.join(self.dir, "run"))
        self.ns = "ipsecctl-export-%d-%d" % (os.getpid(), n)
        self.b = ipsecctl
        # Rules without psk sign with this host's key and check their
        # peers with the CA in it (isakmpd's layout, --keys).
        self.keys = ["--keys", key_root]
        self.sock = os.path.join(self.dir, "run", "charon.vici")
        self.log = os.path.join(self.dir, "charon.log")
        self.conf = os.path.join(self.dir, "strongswan.conf")
        with open(self.conf, "w") as f:
            f.write(ikelab.charon_conf("netlink", self.log, self.sock, config_log=True))
            f.write("swanctl {\n    socket = unix://%s\n}\n" % self.sock)
        self.empty = os.path.join(self.dir, "empty.conf")
        open(self.empty, "w").close()
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        self.charon = None
        try:
            subprocess.run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True)
            # A /run of its own (`ip netns exec` gives a mount namespace):
            # each charon keeps its pid file there.
            run = os.path.join(self.dir, "run")
            self.charon = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, "sh", "-c", "mount --bind %s /run && exec env "
                 "STRONGSWAN_CONF=%s %s" % (run, self.conf, ikelab.CHARON)],
                stdout=open(os.path.join(self.dir, "stdout.log"), "w"), stderr=subprocess.STDOUT)
            ikelab.wait_for_charon(self.sock, "export worker %d" % n)
        except BaseException:
            self.stop()  # a worker that did not start leaves nothing behind
            raise

    def swanctl(self, *args):
        p = subprocess.run([SWANCTL] + list(args) + ["--uri", "unix://" + self.sock],
                           env=dict(os.environ, STRONGSWAN_CONF=self.conf),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def clear(self):
        """charon without any connection or credential."""
        self.swanctl("--load-all", "--clear", "--file", self.empty)

    def held(self, since):
        """What charon holds, and the settings it logged since byte `since`."""
        rc, conns, _ = self.swanctl("--list-conns", "--raw")
        shared = sorted(ikelab.vici_call(self.sock, "get-shared").get("keys", []))
        with open(self.log, errors="replace") as f:
            f.seek(since)
            settings = [re.sub(r"^\S+ \d+\[CFG\] ", "", line.rstrip("\n")) for line in f
                        if "[CFG]   " in line and "local_port = " not in line]
        return conns, shared, settings

    def log_size(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def run_case(self, case, tmp):
        """'same', 'skipped: why' or 'differs: what'."""
        name, text, defs, cwd, keys, version = case
        defs = defs + ["--ike-version", version]
        work = tempfile.mkdtemp(dir=tmp)
        os.chmod(work, 0o755)
        try:
            for kn, hexbody in keys.items():
                path = os.path.join(work, kn)
                with open(path, "wb") as f:
                    f.write(bytes.fromhex(hexbody))
                os.chmod(path, 0o600)
            conf = os.path.join(work, "case.conf")
            with open(conf, "wb") as f:
                f.write(text)
            os.chmod(conf, 0o600)
            env = dict(os.environ, IPSECCTL_STATE_DIR=os.path.join(work, "state"),
                       IPSECCTL_NO_DNS="1")
            # In the worker's namespace too: what a rule without srcid shows
            # as its identity is the address this host reaches its peer from.
            exported = subprocess.run(["ip", "netns", "exec", self.ns, self.b] + self.keys + defs +
                                      ["-n", "--format", "swanctl", "-f", conf],
                                      cwd=cwd or work, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, timeout=60)
            if exported.returncode != 0 or b"connections {\n    " not in exported.stdout:
                return "skipped: charon cannot take its ike rules"
            export = os.path.join(work, "export.conf")
            with open(export, "wb") as f:
                f.write(exported.stdout)
            self.clear()
            mark = self.log_size()
            p = subprocess.run(["ip", "netns", "exec", self.ns, self.b, "--vici", self.sock] +
                               self.keys + defs + ["-f", conf], cwd=cwd or work, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120)
            if p.returncode != 0:
                # This kernel has no ESP, AH or IPcomp for a file's manual
                # SAs, and no XFRM interfaces for `interface secN` (the
                # qemu tier loads those).
                if b"no XFRM interface has if_id" in p.stderr:
                    return "skipped: this kernel has no XFRM interfaces"
                if b"kernel" in p.stderr and b"charon" not in p.stderr:
                    return "skipped: its manual SAs cannot load into this kernel"
                return "differs: ipsecctl -f failed: " + p.stderr.decode(errors="replace")
            by_ipsecctl = self.held(mark)
            self.clear()
            mark = self.log_size()
            rc, out, err = self.swanctl("--load-all", "--file", export)
            if rc != 0:
                return "differs: swanctl --load-all failed: " + out + err
            by_swanctl = self.held(mark)
            if by_ipsecctl == by_swanctl:
                return "same"
            labels = ("list-conns", "shared secrets", "settings")
            what = [labels[k] for k in range(3) if by_ipsecctl[k] != by_swanctl[k]]
            return "differs: %s\nipsecctl: %s\nswanctl:  %s" % (what, by_ipsecctl, by_swanctl)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def alive(self):
        return self.charon.poll() is None

    def stop(self):
        if self.charon is not None:
            self.charon.kill()
            self.charon.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    b = os.path.abspath(ap.parse_args().ipsecctl)
    if os.geteuid() != 0:
        return skip("the export tier needs root (network namespaces, charon)")
    if not ikelab.tool_present() or not os.path.exists(SWANCTL):
        return skip("strongSwan's charon or swanctl is not installed (strongswan-charon "
                    "strongswan-swanctl)")
    if not os.path.isdir(SHARED):
        return skip("../shared/conformance is not beside the checkout")
    tmp = tempfile.mkdtemp(prefix="ipsecctl-export-")
    os.chmod(tmp, 0o755)
    todo = cases()
    results = {}
    workers = []
    try:
        key_root = keylab.key_root(os.path.join(tmp, "keys"))
        keylab.host_key(key_root)
        _, ca_crt = keylab.make_ca(os.path.join(tmp, "ca"))
        shutil.copy(ca_crt, os.path.join(key_root, "ca", "ca.crt"))
        # One by one into the list, so that `finally` stops those that
        # started when a later one does not.
        for n in range(WORKERS):
            workers.append(Worker(tmp, n, b, key_root))
        lock = threading.Lock()

        def work(worker):
            while True:
                with lock:
                    if not todo:
                        return
                    case = todo.pop(0)
                try:
                    outcome = worker.run_case(case, tmp)
                except Exception as e:  # a broken case is a difference, reported
                    outcome = "differs: %r" % e
                if not worker.alive():
                    outcome = "differs: charon died (status %s) with this case: %s" % (
                        worker.charon.returncode, tail(worker.log))
                    with lock:
                        results["v%s %s" % (case[5], case[0])] = outcome
                    return
                with lock:
                    results["v%s %s" % (case[5], case[0])] = outcome

        threads = [threading.Thread(target=work, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for w in workers:
            w.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    same = sorted(n for n, r in results.items() if r == "same")
    skipped = sorted(n for n, r in results.items() if r.startswith("skipped"))
    differs = sorted(n for n, r in results.items() if r.startswith("differs"))
    for group in ("v1 examples/", "v1 regress/", "v1 generated/", "v2 examples/", "v2 regress/",
                  "v2 generated/"):
        compared = [n for n in same + differs if n.startswith(group)]
        check("%s as IKEv%s: %d files compared, charon holds the same after swanctl --load-all "
              "of the export as after ipsecctl -f" % (group[3:].rstrip("/"), group[1],
                                                       len(compared)),
              compared and not [n for n in differs if n.startswith(group)],
              "\n".join("%s: %s" % (n, results[n]) for n in differs if n.startswith(group)))
    print("(%d compared, %d skipped: %s)" % (len(same) + len(differs), len(skipped),
                                            sorted(set(results[n] for n in skipped))))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
