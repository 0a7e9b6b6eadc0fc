"""A lab of IPsec gateways for the IKE tiers: network namespaces of our own,
one strongSwan charon per gateway, a LAN host behind each, and a small VICI
client of the lab's own (independent of ipsecctl's) to look at what charon
holds.

    wan (bridge)  10.99.0.0/24: gateway i at 10.99.0.(i+1)
    gateway i     LAN 10.99.(10+i).0/24, the gateway at .1
    host i        10.99.(10+i).2, default route via its gateway

Each gateway has its own host name (gw<i>.example, a UTS namespace for
charon and for every ipsecctl run there): an `ike dynamic` rule without
srcid identifies with the host's name, as on OpenBSD.

kernel="netlink": charon installs real kernel SAs (the qemu guest);
kernel="libipsec": ESP in charon's userspace (any kernel with XFRM
policies). Everything started is stopped and every namespace removed by
down(), which callers run in `finally`.
"""

import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, summary  # noqa: E402  (the tiers' bookkeeping, for run_in_lab)

CHARON = "/usr/lib/ipsec/charon"


# --- VICI, independently of ipsecctl ------------------------------------------

def _encode(msg):
    out = b""
    for k, v in msg.items():
        k = k.encode()
        if isinstance(v, dict):
            out += b"\x01" + bytes([len(k)]) + k + _encode(v) + b"\x02"
        elif isinstance(v, list):
            out += b"\x04" + bytes([len(k)]) + k
            for i in v:
                out += b"\x05" + struct.pack(">H", len(i)) + i.encode()
            out += b"\x06"
        else:
            v = str(v).encode()
            out += b"\x03" + bytes([len(k)]) + k + struct.pack(">H", len(v)) + v
    return out


def _decode(data):
    stack, names, i = [{}], [], 0
    while i < len(data):
        t = data[i]
        i += 1
        if t in (1, 3, 4):
            n = data[i]
            name = data[i + 1:i + 1 + n].decode()
            i += 1 + n
        if t == 1:
            names.append(name)
            stack.append({})
        elif t == 2:
            d = stack.pop()
            stack[-1][names.pop()] = d
        elif t == 3:
            (ln,) = struct.unpack(">H", data[i:i + 2])
            stack[-1][name] = data[i + 2:i + 2 + ln].decode(errors="replace")
            i += 2 + ln
        elif t == 4:
            items = []
            while data[i] == 5:
                (ln,) = struct.unpack(">H", data[i + 1:i + 3])
                items.append(data[i + 3:i + 3 + ln].decode())
                i += 3 + ln
            i += 1
            stack[-1][name] = items
    return stack[0]


class Vici:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)

    def _send(self, payload):
        self.s.sendall(struct.pack(">I", len(payload)) + payload)

    def _recv(self):
        head = self._exact(4)
        return self._exact(struct.unpack(">I", head)[0])

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError("charon closed the connection")
            buf += chunk
        return buf

    def call(self, command, msg=None):
        cmd = command.encode()
        self._send(bytes([0, len(cmd)]) + cmd + _encode(msg or {}))
        while True:
            p = self._recv()
            if p[0] == 1:
                return _decode(p[1:])
            if p[0] == 2:
                raise RuntimeError("charon does not know " + command)

    def streamed(self, command, event, msg=None):
        name = event.encode()
        self._send(bytes([3, len(name)]) + name)
        while self._recv()[0] != 5:
            pass
        cmd = command.encode()
        self._send(bytes([0, len(cmd)]) + cmd + _encode(msg or {}))
        items = []
        while True:
            p = self._recv()
            if p[0] == 7:
                n = p[1]
                items.extend(_decode(p[2 + n:]).items())
            elif p[0] == 1:
                break
        self._send(bytes([4, len(name)]) + name)
        while self._recv()[0] != 5:
            pass
        return items

    def close(self):
        self.s.close()


# --- the lab -------------------------------------------------------------------

def wan(i):
    return "10.99.0.%d" % (i + 1)


def lan(i):
    return "10.99.%d.0/24" % (10 + i)


def host(i):
    return "10.99.%d.2" % (10 + i)


def hostname(i):
    return "gw%d.example" % i


def conn(peer, local=None):
    """charon's name for the connection ipsecctl makes of the rules for a
    peer (isakmpd's phase 1 name, spelt so that swanctl.conf can hold it)."""
    name = "peer-" + peer.replace(".", "_").replace(":", "_")
    return name + ("-local-" + local.replace(".", "_").replace(":", "_") if local else "")



def vici_call(socket, command, msg=None):
    """One request to the charon behind `socket`."""
    v = Vici(socket)
    try:
        return v.call(command, msg)
    finally:
        v.close()


def ike_sas_at(socket):
    """(connection name, IKE SA dict) for every IKE SA of the charon behind
    `socket`. Not noblock: charon would leave out an IKE SA that a worker
    holds at that moment (a rekey, a delete), and a check would see it gone."""
    v = Vici(socket)
    try:
        return v.streamed("list-sas", "list-sa", {})
    finally:
        v.close()

def charon_conf(kernel, log, socket, route_table=None, config_log=False):
    """strongswan.conf of a lab's charon: only the plugins the labs use,
    kernel ESP (or libipsec's userspace ESP), a file log and its own VICI
    socket. With route_table, charon installs its routes there; with
    config_log, the log holds every setting of each connection loaded."""
    plugins = "random nonce openssl kdf pem pkcs1 x509 pubkey %skernel-netlink socket-default " \
              "vici eap-identity eap-mschapv2" % ("kernel-libipsec " if kernel == "libipsec" else "")
    routes = "install_routes = no"
    if route_table is not None:
        routes = "install_routes = yes\n    routing_table = %d\n    routing_table_prio = %d" % (
            route_table, route_table)
    return """charon {
    load_modular = no
    load = %s
    %s
    # ipsec.conf's aggressive mode with a PSK needs this on the responder.
    i_dont_care_about_security_and_use_aggressive_mode_psk = yes
    # Give up on a silent peer within seconds, not minutes (charon then
    # starts again: keyingtries 0).
    retransmit_tries = 3
    retransmit_timeout = 2
    retransmit_base = 1.4
    filelog {
        lab {
            path = %s
            append = yes
            flush_line = yes
            time_format = %%T
            default = 1
            cfg = %d
            ike_name = yes
        }
    }
    syslog { daemon { default = -1 } }
    plugins { vici { socket = unix://%s } }
}
""" % (plugins, routes, log, 2 if config_log else 1, socket)


def clear_run_dir(run):
    """A charon started again must not find the last one's pid or socket."""
    os.makedirs(run, exist_ok=True)
    for f in ("charon.pid", "charon.vici"):
        if os.path.exists(os.path.join(run, f)):
            os.unlink(os.path.join(run, f))


def wait_for_charon(socket, who, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            Vici(socket).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("charon on %s did not answer" % who)


class Lab:
    def __init__(self, tmp, ipsecctl, gateways=2, kernel="libipsec", tag="ike"):
        self.tmp = tmp
        self.b = ipsecctl
        self.n = gateways
        self.kernel = kernel
        suffix = "%s-%d" % (tag, os.getpid())
        self.wan_ns = "ipsecctl-wan-" + suffix
        self.gw = ["ipsecctl-gw%d-%s" % (i, suffix) for i in range(gateways)]
        self.hosts = ["ipsecctl-h%d-%s" % (i, suffix) for i in range(gateways)]
        self.daemons = {}
        self.made = []

    # ---- commands
    def sh(self, *cmd, ns=None, check_rc=True, timeout=60, stdin=None):
        full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
        p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           input=stdin)
        if check_rc and p.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(full), p.stderr.decode()))
        return p

    def in_gateway(self, i, args):
        """argv running `args` in gateway i's namespace under its host name."""
        script = 'hostname "$1"; shift; exec "$@"'
        return ["ip", "netns", "exec", self.gw[i], "unshare", "--uts", "sh", "-c", script, "sh",
                hostname(i)] + list(args)

    def ipsecctl(self, i, *args, timeout=120):
        """ipsecctl on gateway i, talking to that gateway's charon."""
        p = subprocess.run(self.in_gateway(i, [self.b, "--vici", self.socket(i)] + list(args)),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def ipsecctl_async(self, i, *args):
        return subprocess.Popen(self.in_gateway(i, [self.b, "--vici", self.socket(i)] + list(args)),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    # ---- network
    def net_up(self):
        for ns in [self.wan_ns] + self.gw + self.hosts:
            self.sh("ip", "netns", "add", ns)
            self.made.append(ns)
            self.sh("ip", "-n", ns, "link", "set", "lo", "up")
        self.sh("ip", "-n", self.wan_ns, "link", "add", "br0", "type", "bridge")
        self.sh("ip", "-n", self.wan_ns, "link", "set", "br0", "up")
        for i in range(self.n):
            g, h = self.gw[i], self.hosts[i]
            self.sh("ip", "-n", g, "link", "add", "wan", "type", "veth", "peer", "name",
                    "p%d" % i, "netns", self.wan_ns)
            self.sh("ip", "-n", self.wan_ns, "link", "set", "p%d" % i, "master", "br0", "up")
            self.sh("ip", "-n", g, "link", "add", "lan", "type", "veth", "peer", "name", "eth0",
                    "netns", h)
            self.sh("ip", "-n", g, "addr", "add", wan(i) + "/24", "dev", "wan")
            self.sh("ip", "-n", g, "addr", "add", "10.99.%d.1/24" % (10 + i), "dev", "lan")
            self.sh("ip", "-n", h, "addr", "add", host(i) + "/24", "dev", "eth0")
            for ns, dev in ((g, "wan"), (g, "lan"), (h, "eth0")):
                self.sh("ip", "-n", ns, "link", "set", dev, "up")
            self.sh("ip", "-n", h, "route", "add", "default", "via", "10.99.%d.1" % (10 + i))
            self.sh("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward", ns=g)

    # ---- charon
    def socket(self, i):
        return os.path.join(self.tmp, "gw%d" % i, "run", "charon.vici")

    def log(self, i):
        return os.path.join(self.tmp, "gw%d" % i, "charon.log")

    def start(self, i):
        d = os.path.join(self.tmp, "gw%d" % i)
        run = os.path.join(d, "run")
        clear_run_dir(run)
        conf = os.path.join(d, "strongswan.conf")
        with open(conf, "w") as f:
            f.write(charon_conf(self.kernel, self.log(i), self.socket(i), route_table=220))
        out = open(os.path.join(d, "stdout.log"), "a")
        p = subprocess.Popen(["setsid"] + self.in_gateway(i, [
            "sh", "-c", "mount --bind %s /run && exec env STRONGSWAN_CONF=%s %s" %
            (run, conf, CHARON)]), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.daemons[i] = p
        wait_for_charon(self.socket(i), "gateway %d" % i)

    def stop(self, i):
        p = self.daemons.pop(i, None)
        if p and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)
        # A charon that dies leaves its kernel state: so does a crashed
        # gateway, but the tests want a clean slate for the next daemon.

    def down(self):
        for i in list(self.daemons):
            self.stop(i)
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)

    # ---- what charon holds
    def vici(self, i, command, msg=None):
        return vici_call(self.socket(i), command, msg)

    def ike_sas(self, i):
        """(connection name, IKE SA dict) for every IKE SA of gateway i."""
        return ike_sas_at(self.socket(i))

    def installed(self, i, conn=None):
        """(IKE SA, child) pairs that are ESTABLISHED/INSTALLED."""
        out = []
        for name, ike in self.ike_sas(i):
            if conn and name != conn:
                continue
            if ike.get("state") != "ESTABLISHED":
                continue
            for child in ike.get("child-sas", {}).values():
                if child.get("state") == "INSTALLED":
                    out.append((ike, child))
        return out

    def conns(self, i):
        return self.vici(i, "get-conns").get("conns", [])

    def ping(self, i, j, count=2, wait=2):
        p = subprocess.run(["ip", "netns", "exec", self.hosts[i], "ping", "-c", str(count), "-W",
                            str(wait), host(j)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return p.returncode == 0

    def ping_until(self, i, j, seconds):
        """Pings once a second until one answers or time is up; the packets
        themselves start trapped tunnels."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.ping(i, j, count=1, wait=1):
                return True
        return False


def run_in_lab(prefix, make_lab, body):
    """A tier's life in a lab: a private directory (with the ownership
    records), make_lab(tmp) brought up, body(lab, tmp) run, and everything
    taken down and removed, also when the body fails. A broken lab is a
    failure, reported with the end of each charon's log. Returns the
    summary's exit status."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)
    os.environ["IPSECCTL_STATE_DIR"] = os.path.join(tmp, "state")
    lab = make_lab(tmp)
    try:
        lab.net_up()
        body(lab, tmp)
    except Exception as e:  # a broken lab is a failure, reported as such
        check("the lab ran to the end", False, repr(e))
        for i in range(lab.n):
            try:
                with open(lab.log(i), errors="replace") as f:
                    print("     --- charon gw%d (last lines)\n     " % i +
                          "     ".join(f.readlines()[-25:]))
            except OSError:
                pass
    finally:
        lab.down()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


def sniff_result(text):
    """esp_sniff's output read: ({"esp": n, "echo": n, ...}, [where the
    first plaintext pings went], from its "plaintext ..." line)."""
    words = text.split()
    counts = {words[k]: int(words[k + 1]) for k in range(0, len(words) - 1, 2)
              if words[k + 1].isdigit()}
    leaks = [w for line in text.splitlines() if line.startswith("plaintext")
             for w in line.split()[1:]]
    return counts, leaks


def seed_rule(mode, me, peer, psk, networks=None, ids=""):
    """The seed's rule shape from gateway `me` to gateway `peer`; `ids`
    ("srcid ... dstid ...") go where the grammar has them. psk None: no
    psk, so RSA signatures (isakmpd's default)."""
    remote = networks or lan(peer)
    tail = " ".join(filter(None, [ids.strip(), 'psk "%s"' % psk if psk is not None else ""]))
    return ("ike %s esp from %s to %s peer %s \\\n"
            "  main auth hmac-sha2-256 enc aes-256 group modp2048 lifetime 86400 \\\n"
            "  quick auth hmac-sha2-256 enc aes-256 group modp2048 lifetime 7200%s\n"
            % (mode, lan(me), remote, wan(peer), " " + tail if tail else ""))


def tool_present():
    return os.path.exists(CHARON) and shutil.which("ping") is not None \
        and shutil.which("unshare") is not None
