#!/usr/bin/env python3
"""The reload property on this machine (tests/property/reload_property.cc):
random edit sequences, each load checked against --diff, the kernel's own
change and a fresh load into a second namespace.

  --kernel-only   XFRM policies (this kernel has no ESP, so no manual SAs:
                  the qemu tier runs those, and PF_KEY), 10,000 sequences;
  --charon        ike rules too, each side with a charon of its own (two
                  namespaces with a loopback only, so nothing is sent):
                  charon's connections and secrets after each reload must
                  be those of a fresh load into an empty charon; 200.

Needs root (namespaces); --charon needs strongSwan. Every namespace and
charon it makes goes again, whatever happens. Prints 'N passed, M failed'.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "ike"))
from checks import check, skip, summary  # noqa: E402
import ikelab  # noqa: E402


class Side:
    """A namespace with a loopback and, for --charon, its own charon."""

    def __init__(self, tmp, name, with_charon):
        self.ns = "ipsecctl-prop-%s-%d" % (name, os.getpid())
        self.dir = os.path.join(tmp, name)
        self.charon = None
        self.sock = None
        os.makedirs(os.path.join(self.dir, "run"))
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        subprocess.run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True)
        if not with_charon:
            return
        self.sock = os.path.join(self.dir, "run", "charon.vici")
        # Every setting of each connection it is given, in its log.
        self.log = os.path.join(self.dir, "charon.log")
        conf = os.path.join(self.dir, "strongswan.conf")
        with open(conf, "w") as f:
            f.write(ikelab.charon_conf("netlink", self.log, self.sock, config_log=True))
        self.charon = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "sh", "-c", "mount --bind %s /run && exec env "
             "STRONGSWAN_CONF=%s %s" % (os.path.join(self.dir, "run"), conf, ikelab.CHARON)],
            stdout=open(os.path.join(self.dir, "stdout.log"), "w"), stderr=subprocess.STDOUT)
        ikelab.wait_for_charon(self.sock, name)

    def stop(self):
        if self.charon:
            self.charon.kill()
            self.charon.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True, help="the reload_property binary")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--kernel-only", action="store_true")
    mode.add_argument("--charon", action="store_true")
    ap.add_argument("--sequences", type=int)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if os.geteuid() != 0:
        return skip("the reload property needs root (network namespaces)")
    if a.charon and not ikelab.tool_present():
        return skip("strongSwan's charon is not installed (strongswan-charon)")
    # IPSECCTL_PROPERTY_SEQUENCES: fewer for the sanitizer build's pass.
    sequences = a.sequences or int(os.environ.get("IPSECCTL_PROPERTY_SEQUENCES") or 0) or \
        (200 if a.charon else 10000)
    # On a tmpfs, as ipsecctl's own records are (/run/ipsecctl): each load
    # syncs its record, which on a disk would be most of the run's time.
    tmp = tempfile.mkdtemp(prefix="ipsecctl-property-",
                           dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    os.chmod(tmp, 0o755)
    sides = []
    try:
        sides = [Side(tmp, name, a.charon) for name in ("live", "fresh")]
        work = os.path.join(tmp, "work")
        os.makedirs(work)
        cmd = [a.driver, "--kernel", "xfrm", "--live", sides[0].ns, "--fresh", sides[1].ns,
               "--work", work, "--sequences", str(sequences), "--seed", str(a.seed), "--no-sas"]
        if a.charon:
            cmd += ["--live-vici", sides[0].sock, "--fresh-vici", sides[1].sock,
                    "--live-log", sides[0].log, "--fresh-log", sides[1].log]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=3000)
        out = p.stdout.decode(errors="replace")
        print(out, end="", flush=True)
        check("%d random edit sequences (%s): every reload as --diff said, as the kernel%s "
              "changed, and as a fresh load" % (sequences, "XFRM, ike rules with charon"
                                               if a.charon else "XFRM policies",
                                               " and charon" if a.charon else ""),
              p.returncode == 0 and "the property held" in out)
        for side in sides:
            if side.charon:
                check("... %s charon lived through it" % side.ns, side.charon.poll() is None)
    finally:
        for side in sides:
            side.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
