#!/usr/bin/env python3
"""ipsecctl.service with systemd as PID 1: a Debian 12 root (systemd,
strongSwan's charon-systemd unit) booted with systemd-nspawn, ipsecctl and
its units installed as the package lays them out, a peer gateway with its
own charon and a LAN host on each side in network namespaces inside the
container (userspace ESP: this machine's kernel has none).

In order, as on a gateway:
  - boot with the peer down: ipsecctl.service loads at boot and succeeds;
    the peer comes up and the tunnel follows by itself;
  - systemctl restart strongswan: within 15 s the IKE SA is back
    (ipsecctl -s all) and the ping passes;
  - charon killed with SIGKILL, systemd restarts it: the same;
  - ipsecctl.service started while charon is stopped (no socket yet)
    succeeds once strongSwan starts, with no manual step;
  - systemctl stop ipsecctl removes everything;
  - a stop during a strongSwan restart leaves nothing behind.

The root is built once with mmdebstrap and kept in IPSECCTL_TEST_CACHE
(default /var/cache/ipsecctl-tests). Needs root, systemd-nspawn
(systemd-container) and mmdebstrap; fails (does not skip) under
IPSECCTL_REQUIRE_ALL_TIERS when they are missing. Everything made is
removed, the container powered off.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
from checks import check, skip, summary  # noqa: E402

PACKAGES = ("systemd,systemd-sysv,dbus,charon-systemd,strongswan-charon,strongswan-swanctl,"
            "libcharon-extra-plugins,"
            "libstrongswan-standard-plugins,iproute2,iputils-ping,procps")
CONF = 'ike dynamic esp from 10.99.10.0/24 to 10.99.13.0/24 peer 10.99.0.3 psk "restart secret"\n'
PEER_CONF = 'ike dynamic esp from 10.99.13.0/24 to 10.99.10.0/24 peer 10.99.0.1 psk "restart secret"\n'
# The same tunnel in iked.conf(5), loaded by the unit with --iked.
IKED_CONF = ('ikev2 "to-peer" active esp from 10.99.10.0/24 to 10.99.13.0/24 '
             'local 10.99.0.1 peer 10.99.0.3 psk "iked secret"\n')
PEER_IKED_CONF = ('ikev2 "to-gw" passive esp from 10.99.13.0/24 to 10.99.10.0/24 '
                  'local 10.99.0.3 peer 10.99.0.1 psk "iked secret"\n')
TEST_CHARON = """charon {
  retransmit_tries = 3
  retransmit_timeout = 2
  retransmit_base = 1.4
}
"""


def root_tarball():
    cache = os.environ.get("IPSECCTL_TEST_CACHE", "/var/cache/ipsecctl-tests")
    os.makedirs(cache, exist_ok=True)
    tar = os.path.join(cache, "systemd-root.tar")
    if not os.path.exists(tar):
        # mmdebstrap chooses the format by the name: it must end in .tar.
        partial = os.path.join(cache, "systemd-root.partial.tar")
        subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase", "--include=" + PACKAGES,
                        "bookworm", partial], check=True)
        os.rename(partial, tar)
    return tar


def install(root, binary):
    """ipsecctl and its units as the Debian package lays them out."""
    shutil.copy(binary, os.path.join(root, "usr/sbin/ipsecctl"))
    subst = {"@CMAKE_INSTALL_FULL_SYSCONFDIR@": "/etc", "@CMAKE_INSTALL_FULL_SBINDIR@": "/usr/sbin",
             "@SYSTEMCTL@": "/bin/systemctl"}

    def configure(source, target):
        with open(os.path.join(SRC, "dist", source)) as f:
            text = f.read()
        for k, v in subst.items():
            text = text.replace(k, v)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as f:
            f.write(text)

    units = os.path.join(root, "lib/systemd/system")
    configure("ipsecctl.service.in", os.path.join(units, "ipsecctl.service"))
    for unit in ("strongswan.service", "strongswan-starter.service"):
        configure("strongswan-dropin.conf.in", os.path.join(units, unit + ".d", "ipsecctl.conf"))
    os.makedirs(os.path.join(root, "etc/ipsecctl"), mode=0o700, exist_ok=True)
    path = os.path.join(root, "etc/ipsecctl/ipsec.conf")
    with open(path, "w") as f:
        f.write(CONF)
    os.chmod(path, 0o600)
    # Userspace ESP (this machine's kernel has no ESP), and a charon that
    # retries within seconds (the lab's peers come and go).
    libipsec = os.path.join(root, "etc/strongswan.d/charon/kernel-libipsec.conf")
    with open(libipsec) as f:
        text = f.read().replace("load = no", "load = yes")
    with open(libipsec, "w") as f:
        f.write(text)
    with open(os.path.join(root, "etc/strongswan.d/zz-ipsecctl-test.conf"), "w") as f:
        f.write(TEST_CHARON)
    # The lab's links come up at boot, before network-online.target, as a
    # gateway's own would; the peer's daemon does not run yet.
    with open(os.path.join(root, "usr/local/sbin/lab-network"), "w") as f:
        f.write("#!/bin/sh\n" + NETWORK)
    os.chmod(os.path.join(root, "usr/local/sbin/lab-network"), 0o755)
    with open(os.path.join(root, "etc/systemd/system/lab-network.service"), "w") as f:
        f.write("[Unit]\nDescription=the test lab's links\nBefore=network-online.target\n"
                "Wants=network-online.target\n[Service]\nType=oneshot\nRemainAfterExit=yes\n"
                "ExecStart=/usr/local/sbin/lab-network\n[Install]\nWantedBy=network-online.target "
                "multi-user.target\n")
    subprocess.run(["systemctl", "--root=" + root, "enable", "strongswan.service",
                    "ipsecctl.service", "lab-network.service"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # strongswan-charon (the peer's charon binary) brings strongswan-starter:
    # one charon per host, the one of strongswan.service.
    subprocess.run(["systemctl", "--root=" + root, "mask", "strongswan-starter.service"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Container:
    def __init__(self, root, log):
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "--register=no", "--keep-unit", "-D", root, "--boot",
             "--private-network", "--bind=/dev/net/tun", "--console=passive"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.pid is None:
            time.sleep(0.5)
            p = subprocess.run(["pgrep", "-P", str(self.proc.pid)], stdout=subprocess.PIPE)
            if p.stdout.strip():
                self.pid = int(p.stdout.split()[0])
        if self.pid is None:
            raise RuntimeError("the container did not start")

    def sh(self, script, timeout=120, check_rc=False):
        # -r -w: the container's own root, which entering its mount
        # namespace alone does not give when this test itself runs in a
        # chroot (as on a fresh machine built by fresh-debian).
        p = subprocess.run(["nsenter", "-t", str(self.pid), "-a", "-r", "-w", "sh", "-c", script],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        out = p.stdout.decode(errors="replace")
        if check_rc and p.returncode != 0:
            raise RuntimeError("%s: %s" % (script, out))
        return p.returncode, out

    def wait_booted(self, seconds=120):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rc, out = self.sh("systemctl is-system-running")
            if out.strip() in ("running", "degraded"):
                return out.strip()
            time.sleep(1)
        return None

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.sh("systemctl poweroff", timeout=30)
                self.proc.wait(timeout=60)
            except Exception:  # noqa: BLE001 (a stuck container is killed)
                self.proc.kill()
                self.proc.wait(timeout=30)


NETWORK = """
set -e
ip link set lo up
for ns in p ha hp; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add wan type veth peer name wan netns p
ip link add lan type veth peer name eth0 netns ha
ip -n p link add lan type veth peer name eth0 netns hp
ip addr add 10.99.0.1/24 dev wan
ip addr add 10.99.10.1/24 dev lan
ip -n p addr add 10.99.0.3/24 dev wan
ip -n p addr add 10.99.13.1/24 dev lan
ip -n ha addr add 10.99.10.2/24 dev eth0
ip -n hp addr add 10.99.13.2/24 dev eth0
for l in wan lan; do ip link set $l up; ip -n p link set $l up; done
ip -n ha link set eth0 up; ip -n hp link set eth0 up
ip -n ha route add default via 10.99.10.1
ip -n hp route add default via 10.99.13.1
echo 1 > /proc/sys/net/ipv4/ip_forward
ip netns exec p sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
mkdir -p /root/peer/run
cat > /root/peer/strongswan.conf <<EOF
charon {
  load_modular = no
  load = random nonce openssl kdf pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
  install_routes = yes
  retransmit_tries = 3
  retransmit_timeout = 2
  retransmit_base = 1.4
  plugins { vici { socket = unix:///root/peer/run/charon.vici } }
}
EOF
printf '%s' '""" + PEER_CONF + """' > /root/peer/ipsec.conf
chmod 600 /root/peer/ipsec.conf
"""

PEER_CHARON = ("ip netns exec p sh -c 'mount --bind /root/peer/run /run && "
               "STRONGSWAN_CONF=/root/peer/strongswan.conf exec /usr/lib/ipsec/charon' "
               "> /root/peer/charon.log 2>&1 &")


def ping(c, seconds):
    """Seconds until a LAN-to-LAN ping answers (the packets start trapped
    tunnels), or None."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        rc, _ = c.sh("ip netns exec ha ping -c 1 -W 1 10.99.13.2")
        if rc == 0:
            return time.monotonic() - start
    return None


def ike_sa_shown(c):
    rc, out = c.sh("ipsecctl -s all")
    return rc == 0 and "ESTABLISHED" in out, out


def recovered(c, seconds=15, start=None):
    """Seconds (since `start`) until `ipsecctl -s all` shows the IKE SA
    and the ping passes, or None."""
    start = start or time.monotonic()
    while time.monotonic() - start < seconds:
        if ike_sa_shown(c)[0] and ping(c, 1.5) is not None:
            return time.monotonic() - start
        time.sleep(0.3)
    return None


def nothing_left(c):
    rc, conns = c.sh("swanctl --list-conns --raw")
    rc2, sas = c.sh("swanctl --list-sas --raw")
    rc3, pol = c.sh("ip xfrm policy")
    return ("peer-10_99_0_3" not in conns and "peer-10_99_0_3" not in sas and pol.strip() == "",
            conns + sas + pol)


def scenario(c):
    booted = c.wait_booted()
    check("the container boots with systemd as PID 1", booted is not None, booted)
    rc, out = c.sh("systemctl is-active ipsecctl.service strongswan.service")
    check("at boot, with the peer down, ipsecctl.service loads and is active", rc == 0, out)
    c.sh(PEER_CHARON)
    time.sleep(2)
    rc, out = c.sh("ip netns exec p ipsecctl --vici /root/peer/run/charon.vici -f /root/peer/ipsec.conf")
    check("the peer comes up later and loads its side", rc == 0, out)
    took = recovered(c, 60)
    check("... the tunnel comes up by itself (%.1f s)" % (took or -1), took is not None,
          c.sh("ipsecctl -s all; swanctl --list-conns; journalctl -u strongswan -u ipsecctl "
               "--no-pager | grep -v forecast")[1])
    RESULTS["first"] = took

    t0 = time.monotonic()
    c.sh("systemctl restart strongswan")
    took = recovered(c, 15, t0)
    check("systemctl restart strongswan: IKE SA back and the ping passes within 15 s (%.1f s)"
          % (took or -1), took is not None,
          c.sh("ipsecctl -s all; journalctl -u ipsecctl -u strongswan -n 30 --no-pager")[1])
    RESULTS["restart"] = took

    rc, pid = c.sh("systemctl show -p MainPID --value strongswan")
    t0 = time.monotonic()
    c.sh("kill -9 %s" % pid.strip())
    took = recovered(c, 15, t0)
    rc, again = c.sh("systemctl show -p MainPID --value strongswan")
    check("charon killed (SIGKILL), systemd restarts it: back within 15 s (%.1f s)" % (took or -1),
          took is not None and again.strip() not in ("0", pid.strip()),
          c.sh("ipsecctl -s all; journalctl -u ipsecctl -u strongswan -n 30 --no-pager")[1])
    RESULTS["kill"] = took

    c.sh("systemctl stop strongswan")
    c.sh("systemctl --no-block restart ipsecctl")
    time.sleep(5)
    rc, state = c.sh("systemctl is-active ipsecctl")
    c.sh("systemctl start strongswan")
    # strongSwan's ExecStartPost asks for a reload of ipsecctl.service while
    # its start job still runs; systemd never merges a reload into a running
    # job, so the reload runs after the start (a sync that finds nothing to
    # do). The unit has settled when it is neither starting nor reloading.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rc, state2 = c.sh("systemctl is-active ipsecctl")
        if state2.strip() not in ("activating", "reloading"):
            break
        time.sleep(0.5)
    rc, restarts = c.sh("systemctl show -p NRestarts --value ipsecctl")
    took = recovered(c, 30)
    check("ipsecctl.service started before charon's socket exists: it waits, then succeeds "
          "(no restart, no manual step)",
          state.strip() == "activating" and state2.strip() == "active" and restarts.strip() == "0"
          and took is not None, (state, state2, restarts, took))

    c.sh("systemctl stop ipsecctl")
    ok, what = nothing_left(c)
    check("systemctl stop ipsecctl removes everything (connections, SAs, policies)", ok, what)

    c.sh("systemctl start ipsecctl")
    recovered(c, 30)
    c.sh("systemctl --no-block restart strongswan; systemctl stop ipsecctl")
    time.sleep(8)
    ok, what = nothing_left(c)
    rc, state = c.sh("systemctl is-active ipsecctl")
    check("a stop during a strongSwan restart leaves nothing behind",
          ok and state.strip() == "inactive", (state, what))

    # iked.conf through the unit: IPSECCTL_OPTIONS="--iked", the unit's
    # file an iked.conf; the peer loads its side of the same policy.
    peer = "ip netns exec p ipsecctl --vici /root/peer/run/charon.vici"
    c.sh("printf 'IPSECCTL_OPTIONS=\"--iked\"\\n' > /etc/default/ipsecctl")
    c.sh("printf '%s' '" + IKED_CONF + "' > /etc/ipsecctl/ipsec.conf")
    c.sh("printf '%s' '" + PEER_IKED_CONF + "' > /root/peer/iked.conf; chmod 600 /root/peer/iked.conf")
    c.sh(peer + " -d -f /root/peer/ipsec.conf")
    rc, out = c.sh(peer + " --iked -f /root/peer/iked.conf")
    c.sh("systemctl start ipsecctl")
    took = recovered(c, 30)
    rc2, state = c.sh("systemctl is-active ipsecctl")
    check("IPSECCTL_OPTIONS=--iked: the unit loads the iked.conf policy, the tunnel comes up "
          "(%.1f s)" % (took or -1), rc == 0 and took is not None and state.strip() == "active",
          (out, state, c.sh("ipsecctl -s all; journalctl -u ipsecctl -n 20 --no-pager")[1]))
    c.sh("systemctl reload ipsecctl")
    rc, state = c.sh("systemctl is-active ipsecctl")
    check("... systemctl reload: still active, the tunnel still up",
          state.strip() == "active" and recovered(c, 15) is not None, state)
    c.sh("systemctl stop ipsecctl")
    rc, conns = c.sh("swanctl --list-conns --raw")
    check("... systemctl stop takes the policy out of charon", "to-peer" not in conns, conns)


RESULTS = {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    a = ap.parse_args()
    if os.geteuid() != 0:
        return skip("the systemd tier needs root (systemd-nspawn)")
    for tool, package in (("systemd-nspawn", "systemd-container"), ("mmdebstrap", "mmdebstrap"),
                          ("nsenter", "util-linux")):
        if shutil.which(tool) is None:
            return skip("%s is not installed (apt-get install %s)" % (tool, package))
    tmp = tempfile.mkdtemp(prefix="ipsecctl-systemd-")
    root = os.path.join(tmp, "root")
    container = None
    try:
        os.makedirs(root)
        subprocess.run(["tar", "-xf", root_tarball(), "-C", root], check=True)
        install(root, os.path.abspath(a.ipsecctl))
        with open(os.path.join(tmp, "console.log"), "w") as log:
            container = Container(root, log)
            scenario(container)
    except Exception as e:  # noqa: BLE001 (a broken lab is a failure)
        check("the systemd lab ran to the end", False, repr(e))
    finally:
        if container:
            container.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("measured: " + ", ".join("%s %.1f s" % (k, v) for k, v in RESULTS.items() if v))
    return summary()


def stopped(signum, _frame):
    # ctest's timeout or a person's ^C: unwind, so that the container is
    # stopped and the scratch root removed.
    raise SystemExit("stopped by signal %d" % signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stopped)
    sys.exit(main())
