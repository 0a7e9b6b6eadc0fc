"""Networks of the user documents, built from network namespaces of our
own: gateways (each with its own charon, host name and private /run),
bridges, routers, a NAT firewall, LAN hosts, and the daemons the documents
pair IPsec with (keepalived for CARP's role, bird2 for ospfd's). Every
gateway is configured by ipsecctl alone.

kernel="netlink": charon installs kernel SAs (the qemu guest, real ESP).
Everything started is stopped and every namespace removed by down(),
which callers run in `finally`.
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ike"))
import ikelab  # noqa: E402  (its VICI client and charon's settings)


class Lab:
    def __init__(self, tmp, ipsecctl, tag, kernel="netlink", options=()):
        self.tmp = tmp
        self.b = ipsecctl
        self.options = list(options)  # for every ipsecctl run (--ike-version 2)
        self.kernel = kernel
        self.suffix = "%s%d" % (tag, os.getpid() % 10000)
        self.namespaces = []
        self.processes = []  # (name, Popen)
        self.hostnames = {}

    # ---- namespaces and links
    def ns(self, name):
        full = "%s-%s" % (name, self.suffix)
        subprocess.run(["ip", "netns", "add", full], check=True)
        self.namespaces.append(full)
        self.sh(full, "ip", "link", "set", "lo", "up")
        return full

    def sh(self, ns, *cmd, check_rc=True, timeout=60):
        full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
        p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        if check_rc and p.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(full), p.stdout.decode(errors="replace")))
        return p.returncode, p.stdout.decode(errors="replace")

    def script(self, ns, text, check_rc=True):
        return self.sh(ns, "sh", "-ec", text, check_rc=check_rc)

    def link(self, a, a_if, b, b_if):
        self.sh(None, "ip", "-n", a, "link", "add", a_if, "type", "veth", "peer", "name", b_if,
                "netns", b)
        self.sh(a, "ip", "link", "set", a_if, "up")
        self.sh(b, "ip", "link", "set", b_if, "up")

    def bridge(self, name):
        ns = self.ns(name)
        self.sh(ns, "ip", "link", "add", "br0", "type", "bridge")
        self.sh(ns, "ip", "link", "set", "br0", "up")
        return ns

    def plug(self, bridge, port, ns, ifname):
        """A veth from `ns` (as `ifname`) into the bridge namespace (as
        port-PORT: ip takes a bare "h" for "help")."""
        port = "port-" + port
        self.link(ns, ifname, bridge, port)
        self.sh(bridge, "ip", "link", "set", port, "master", "br0")

    def forwarding(self, ns):
        self.script(ns, "echo 1 > /proc/sys/net/ipv4/ip_forward")

    # ---- processes
    def spawn(self, name, ns, argv, log):
        out = open(log, "a")
        p = subprocess.Popen(["setsid", "ip", "netns", "exec", ns] + argv, stdout=out,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.processes.append((name, p))
        return p

    def kill(self, name):
        for n, p in list(self.processes):
            if n == name and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        self.processes = [(n, p) for n, p in self.processes if n != name]

    def down(self):
        for name, p in self.processes:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    pass
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)

    # ---- charon and ipsecctl on a gateway
    def gw_dir(self, ns):
        d = os.path.join(self.tmp, ns)
        os.makedirs(os.path.join(d, "run"), exist_ok=True)
        return d

    def socket(self, ns):
        return os.path.join(self.gw_dir(ns), "run", "charon.vici")

    def log(self, ns, what="charon"):
        return os.path.join(self.gw_dir(ns), what + ".log")

    def in_gateway(self, ns, args):
        script = 'hostname "$1"; shift; exec "$@"'
        return ["unshare", "--uts", "sh", "-c", script, "sh", self.hostnames[ns]] + list(args)

    def start_charon(self, ns, hostname):
        self.hostnames[ns] = hostname
        d = self.gw_dir(ns)
        run = os.path.join(d, "run")
        ikelab.clear_run_dir(run)
        conf = os.path.join(d, "strongswan.conf")
        with open(conf, "w") as f:
            f.write(ikelab.charon_conf(self.kernel, self.log(ns), self.socket(ns)))
        self.spawn("charon@" + ns, ns, self.in_gateway(ns, [
            "sh", "-c", "mount --bind %s /run && exec env STRONGSWAN_CONF=%s %s" %
            (run, conf, ikelab.CHARON)]), os.path.join(d, "stdout.log"))
        ikelab.wait_for_charon(self.socket(ns), ns)

    def ipsecctl(self, ns, *args, timeout=120):
        p = subprocess.run(["ip", "netns", "exec", ns] +
                           self.in_gateway(ns, [self.b, "--vici", self.socket(ns)] +
                                           self.options + list(args)),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def ipsecctl_argv(self, ns):
        """The command line a daemon's hook on `ns` runs ipsecctl with."""
        return ["ip", "netns", "exec", ns] + self.in_gateway(
            ns, [self.b, "--vici", self.socket(ns)] + self.options)

    # ---- what charon holds
    def ike_sas(self, ns):
        return ikelab.ike_sas_at(self.socket(ns))

    def established(self, ns, conn=None):
        """IKE SAs ESTABLISHED (for `conn`), with their INSTALLED children."""
        out = []
        for name, ike in self.ike_sas(ns):
            if (conn and name != conn) or ike.get("state") != "ESTABLISHED":
                continue
            children = [c for c in ike.get("child-sas", {}).values() if c.get("state") == "INSTALLED"]
            out.append((name, ike, children))
        return out

    def conns(self, ns):
        return ikelab.vici_call(self.socket(ns), "get-conns").get("conns", [])

    # ---- traffic
    def ping(self, ns, dest, count=1, wait=1):
        rc, _ = self.sh(ns, "ping", "-c", str(count), "-W", str(wait), dest, check_rc=False)
        return rc == 0

    def ping_until(self, ns, dest, seconds):
        """Seconds until a ping answers (each a second apart at most), or None."""
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            if self.ping(ns, dest, wait=1):
                return time.monotonic() - start
        return None

    def kernel_sas(self, ns):
        """SAs in the kernel, leaving out the larval ones the kernel itself
        makes for an acquire (spi 0, gone within xfrm_acq_expires)."""
        _, out = self.sh(ns, "ip", "xfrm", "state", check_rc=False)
        return out.count("\tproto ") - out.count("spi 0x00000000")


class Pinger:
    """Pings a host every 0.2 s from a namespace and keeps each answer's
    time: outages are measured from the answers, as a user would see them."""

    def __init__(self, lab, ns, dest):
        self.answers = []
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "ping", "-D", "-i", "0.2", "-W", "1",
                                      dest], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.start = time.time()
        self._lines = []

    def stop(self):
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        for line in out.splitlines():
            # [1700000000.123456] 64 bytes from ...
            if line.startswith("[") and "bytes from" in line:
                self.answers.append(float(line[1:line.index("]")]))
        return self.answers

    def first_answer_after(self, t):
        later = [a for a in self.answers if a >= t]
        return later[0] - t if later else None

    def longest_gap(self, after, before=None):
        times = [a for a in self.answers if a >= after and (before is None or a <= before)]
        if len(times) < 2:
            return None
        return max(b - a for a, b in zip(times, times[1:]))
