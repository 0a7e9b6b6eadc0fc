#!/usr/bin/env python3
"""The isakmpd backend against a real fifo (no daemon needed, no root).

A reader thread plays isakmpd: the bytes it receives for `ipsecctl -f`
must equal the isakmpd commands `ipsecctl -nv` prints for the same file,
and for `-d -f` those of `-dnv`. Without a reader, ipsecctl must give up
with a clear error within a few seconds; a path that is no fifo is refused.
Prints 'N passed, M failed' last.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, summary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "examples")




def commands_only(nv):
    """-nv output without the macro lines: what goes to the fifo."""
    return "".join(l for l in nv.splitlines(True) if l.startswith(("C ", "t ")))


class FifoReader(threading.Thread):
    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.data = path, b""

    def run(self):
        with open(self.path, "rb") as f:  # blocks until ipsecctl opens it
            self.data = f.read()


def run(b, args, cwd):
    p = subprocess.run([b] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    b = os.path.abspath(ap.parse_args().ipsecctl)
    tmp = tempfile.mkdtemp(prefix="ipsecctl-fifo-")
    # Records of what each file loaded go with the test, not under /run.
    os.environ["IPSECCTL_STATE_DIR"] = os.path.join(tmp, "state")
    try:
        fifo = os.path.join(tmp, "isakmpd.fifo")
        os.mkfifo(fifo, 0o600)
        for rel in ("gateways/gw1.conf", "multiple-networks/ipsec.conf",
                    "per-peer-includes/ipsec.conf", "sasyncd-carp/ipsec.conf"):
            src_dir = os.path.join(EXAMPLES, os.path.dirname(rel))
            work = os.path.join(tmp, os.path.dirname(rel))
            shutil.copytree(src_dir, work)
            for name in os.listdir(work):
                os.chmod(os.path.join(work, name), 0o600)
            conf = os.path.basename(rel)
            for flags, label in (([], "load"), (["-d"], "teardown")):
                _, expected, _ = run(b, flags + ["-nv", "-f", conf], work)
                # Only ike rules: this test must never reach the kernel.
                assert not any(l.split(" ")[0] in ("flow", "esp", "ah", "ipcomp", "ipip")
                               for l in expected.splitlines()), rel
                reader = FifoReader(fifo)
                reader.start()
                rc, out, err = run(b, flags + ["-i", fifo, "-f", conf], work)
                reader.join(10)
                check("%s %s: the fifo gets exactly what -nv prints" % (rel, label),
                      rc == 0 and err == "" and reader.data.decode() == commands_only(expected)
                      and reader.data, "rc %d %s\n%r" % (rc, err, reader.data[:300]))

        # Reload is a sync: a rule that left the file is torn down with the
        # commands recorded for it, before the file's own commands.
        keep = "ike esp from 192.0.2.0/24 to 198.51.100.0/24 peer 198.51.100.1 psk \"k\"\n"
        drop = "ike esp from 192.0.2.0/24 to 203.0.113.0/24 peer 203.0.113.1 psk \"d\"\n"
        paths = {}
        for name, text in (("sync.conf", keep + drop), ("keep.conf", keep), ("drop.conf", drop)):
            paths[name] = os.path.join(tmp, name)
            with open(paths[name], "w") as f:
                f.write(text)
            os.chmod(paths[name], 0o600)
        reader = FifoReader(fifo)
        reader.start()
        run(b, ["-i", fifo, "-f", paths["sync.conf"]], tmp)
        reader.join(10)
        with open(paths["sync.conf"], "w") as f:
            f.write(keep)
        expected = commands_only(run(b, ["-dnv", "-f", paths["drop.conf"]], tmp)[1]) + \
            commands_only(run(b, ["-nv", "-f", paths["keep.conf"]], tmp)[1])
        reader = FifoReader(fifo)
        reader.start()
        rc, out, err = run(b, ["-i", fifo, "-f", paths["sync.conf"]], tmp)
        reader.join(10)
        check("edited reload: the dropped rule is torn down, then the file is sent",
              rc == 0 and reader.data.decode() == expected, "rc %d %s\n%r" % (rc, err, reader.data[:400]))

        # isakmpd speaks IKEv1 only: an IKEv2 rule is refused at its line and
        # nothing reaches the fifo, not even the file's IKEv1 rules.
        v2 = os.path.join(tmp, "v2.conf")
        with open(v2, "w") as f:
            f.write(keep + 'ipsecctl_ike_version = "2"\n' + drop)
        os.chmod(v2, 0o600)
        reader = FifoReader(fifo)
        reader.start()
        rc, out, err = run(b, ["-i", fifo, "-f", v2], tmp)
        # The reader waits for a writer: open the fifo once so that it ends.
        with open(fifo, "wb"):
            pass
        reader.join(10)
        check("an IKEv2 rule: isakmpd is not given the file, the rule's line says why",
              rc == 1 and v2 + ": 3: isakmpd speaks only IKEv1, and this rule is IKEv2" in err
              and reader.data == b"", "rc %d %s\n%r" % (rc, err, reader.data[:200]))

        conf = os.path.join(tmp, "gateways", "gw1.conf")
        start = time.monotonic()
        rc, out, err = run(b, ["-i", fifo, "-f", conf], tmp)
        took = time.monotonic() - start
        check("no reader: clear error, exit 1, within a few seconds",
              rc == 1 and "no isakmpd is reading " + fifo in err and "nothing was sent" in err
              and took < 6, "rc %d after %.1f s: %s" % (rc, took, err))

        plain = os.path.join(tmp, "plain-file")
        open(plain, "w").close()
        rc, out, err = run(b, ["-i", plain, "-f", conf], tmp)
        check("a path that is no fifo is not taken for isakmpd",
              rc == 1 and "no IKE daemon was found" in err and "nothing was loaded" in err, err)
        rc, out, err = run(b, ["-i", os.path.join(tmp, "missing"), "-f", conf], tmp)
        check("a missing fifo: clear error naming it",
              rc == 1 and os.path.join(tmp, "missing") in err, err)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
