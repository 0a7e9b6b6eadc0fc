#!/usr/bin/env python3
"""ike rules through strongSwan's charon, proven with real tunnels.

Two charon daemons run in network namespaces of our own, with userspace
ESP (kernel-libipsec: this machine's kernel has no ESP), each behind it a
LAN host in a further namespace. Each gateway is configured only by
`ipsecctl -f gwN.conf`; the checks ping LAN to LAN, read the negotiated
algorithms and lifetimes back over VICI (with a small client of this test's
own, not ipsecctl's), tear down with `ipsecctl -d -f`, and look at failures
(wrong PSK, no common proposal). Everything started is stopped and every
namespace removed on the way out. Needs root and strongSwan (exit 77
otherwise). Prints 'N passed, M failed' last.
"""

import argparse
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
from checks import check, skip, summary  # noqa: E402

CHARON = "/usr/lib/ipsec/charon"




# --- a minimal VICI client, independent of ipsecctl's -----------------------

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
        self.s.settimeout(20)
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

    def list_sas(self):
        name = b"list-sa"
        self._send(bytes([3, len(name)]) + name)
        while self._recv()[0] != 5:
            pass
        cmd = b"list-sas"
        self._send(bytes([0, len(cmd)]) + cmd + _encode({"noblock": "yes"}))
        sas = []  # (name, ike) pairs: several IKE SAs may share a connection's name
        while True:
            p = self._recv()
            if p[0] == 7:
                n = p[1]
                sas.extend(_decode(p[2 + n:]).items())
            elif p[0] == 1:
                break
        self._send(bytes([4, len(name)]) + name)
        while self._recv()[0] != 5:
            pass
        return sas

    def close(self):
        self.s.close()


# --- the lab -------------------------------------------------------------------

class Lab:
    def __init__(self, tmp):
        self.tmp = tmp
        self.tag = str(os.getpid())
        self.ns = {k: "ipsecctl-%s-%s" % (k, self.tag) for k in ("A", "B", "Ah", "Bh")}
        self.daemons = {}

    def sh(self, *cmd, ns=None, check_rc=True):
        full = (["ip", "netns", "exec", self.ns[ns]] if ns else []) + list(cmd)
        p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if check_rc and p.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(full), p.stderr.decode()))
        return p

    def net_up(self):
        for n in self.ns.values():
            self.sh("ip", "netns", "add", n)
        A, B, Ah, Bh = (self.ns[k] for k in ("A", "B", "Ah", "Bh"))
        self.sh("ip", "-n", A, "link", "add", "vA", "type", "veth", "peer", "name", "vB", "netns", B)
        self.sh("ip", "-n", A, "link", "add", "lanA", "type", "veth", "peer", "name", "lan0", "netns", Ah)
        self.sh("ip", "-n", B, "link", "add", "lanB", "type", "veth", "peer", "name", "lan0", "netns", Bh)
        for ns, dev, addr in ((A, "vA", "10.99.0.1/30"), (B, "vB", "10.99.0.2/30"),
                              (A, "lanA", "10.99.1.1/24"), (B, "lanB", "10.99.2.1/24"),
                              (B, "lanB", "10.99.3.1/24"), (Ah, "lan0", "10.99.1.2/24"),
                              (Bh, "lan0", "10.99.2.2/24")):
            self.sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
        for ns, dev in ((A, "lo"), (A, "vA"), (A, "lanA"), (B, "lo"), (B, "vB"), (B, "lanB"),
                        (Ah, "lo"), (Ah, "lan0"), (Bh, "lo"), (Bh, "lan0")):
            self.sh("ip", "-n", ns, "link", "set", dev, "up")
        self.sh("ip", "-n", Ah, "route", "add", "default", "via", "10.99.1.1")
        self.sh("ip", "-n", Bh, "route", "add", "default", "via", "10.99.2.1")
        for ns in (A, B):
            subprocess.run(["ip", "netns", "exec", ns, "sh", "-c",
                            "echo 1 > /proc/sys/net/ipv4/ip_forward"], check=True)

    def socket(self, side):
        return os.path.join(self.tmp, side, "run", "charon.vici")

    def start(self, side):
        d = os.path.join(self.tmp, side)
        run = os.path.join(d, "run")
        os.makedirs(run, exist_ok=True)
        for f in ("charon.pid", "charon.vici"):
            if os.path.exists(os.path.join(run, f)):
                os.unlink(os.path.join(run, f))
        conf = os.path.join(d, "strongswan.conf")
        with open(conf, "w") as f:
            f.write("""charon {
    load_modular = no
    load = random nonce openssl kdf pem pkcs1 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
    install_routes = yes
    routing_table = 220
    routing_table_prio = 220
    # ipsec.conf's aggressive mode with a PSK needs this on the responder.
    i_dont_care_about_security_and_use_aggressive_mode_psk = yes
    filelog {
        lab {
            path = %s/charon.log
            append = no
            flush_line = yes
            default = 1
        }
    }
    syslog {
        daemon {
            default = -1
        }
    }
    plugins {
        vici {
            socket = unix://%s
        }
    }
}
""" % (d, self.socket(side)))
        log = open(os.path.join(d, "stdout.log"), "w")
        p = subprocess.Popen(["setsid", "ip", "netns", "exec", self.ns[side], "sh", "-c",
                              "mount --bind %s /run && exec env STRONGSWAN_CONF=%s %s" %
                              (run, conf, CHARON)], stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        self.daemons[side] = p
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                Vici(self.socket(side)).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("charon %s did not answer" % side)

    def stop(self, side):
        p = self.daemons.pop(side, None)
        if p and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)

    def restart_both(self):
        for side in ("A", "B"):
            self.stop(side)
        for side in ("A", "B"):
            self.start(side)

    def down(self):
        for side in list(self.daemons):
            self.stop(side)
        for n in self.ns.values():
            subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)

    def ping(self, dest="10.99.2.2", count=2):
        p = subprocess.run(["ip", "netns", "exec", self.ns["Ah"], "ping", "-c", str(count), "-W",
                            "2", dest], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return p.returncode == 0


def write_conf(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


SEED = ("ike dynamic esp from {lan} to {remote} peer {peer} \\\n"
        "  main auth hmac-sha2-256 enc aes-256 group modp2048 lifetime 86400 \\\n"
        "  quick auth hmac-sha2-256 enc aes-256 group modp2048 lifetime 7200 {ids}psk \"{psk}\"\n")


def seed_pair(tmp, mode_a="dynamic", mode_b="dynamic", psk_b="secret", remote_a="10.99.2.0/24",
              lan_b="10.99.2.0/24", ids_a="", ids_b="", extra_a="", extra_b="", tag=""):
    a = SEED.format(lan="10.99.1.0/24", remote=remote_a, peer="10.99.0.2", ids=ids_a, psk="secret")
    b = SEED.format(lan=lan_b, remote="10.99.1.0/24", peer="10.99.0.1", ids=ids_b, psk=psk_b)
    a = a.replace("ike dynamic", "ike " + mode_a).replace("main auth", extra_a + "main auth")
    b = b.replace("ike dynamic", "ike " + mode_b).replace("main auth", extra_b + "main auth")
    return write_conf(tmp, "gwA%s.conf" % tag, a), write_conf(tmp, "gwB%s.conf" % tag, b)


def ipsecctl(b, lab, side, args):
    p = subprocess.run([b, "--vici", lab.socket(side)] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def load_together(b, lab, conf_a, conf_b):
    """Both gateways within a second, as an administrator configuring both:
    B's ipsecctl waits (retrying) until A's configuration arrives."""
    pb = subprocess.Popen([b, "--vici", lab.socket("B"), "-f", conf_b], stderr=subprocess.PIPE)
    time.sleep(1)
    pa = subprocess.Popen([b, "--vici", lab.socket("A"), "-f", conf_a], stderr=subprocess.PIPE)
    ea = pa.communicate(timeout=60)[1].decode()
    eb = pb.communicate(timeout=60)[1].decode()
    return pa.returncode, pb.returncode, ea + eb


def established_children(lab, side):
    v = Vici(lab.socket(side))
    try:
        sas = v.list_sas()
    finally:
        v.close()
    children = []
    for _, ike in sas:
        for child in ike.get("child-sas", {}).values():
            if child.get("state") == "INSTALLED":
                children.append((ike, child))
    return children


def wait_children(lab, side, names=1, seconds=10):
    """INSTALLED children once at least `names` distinct ones are up
    (concurrent initiation briefly leaves duplicates being cleaned up)."""
    deadline = time.monotonic() + seconds
    while True:
        children = established_children(lab, side)
        if len({c.get("name") for _, c in children}) >= names or time.monotonic() > deadline:
            return children
        time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    b = os.path.abspath(ap.parse_args().ipsecctl)
    if os.geteuid() != 0:
        return skip("the interop tier needs root (network namespaces, charon)")
    if not os.path.exists(CHARON) or shutil.which("ping") is None:
        return skip("strongSwan's charon or ping is not installed "
                           "(strongswan-charon strongswan-swanctl libcharon-extra-plugins "
                           "libstrongswan-standard-plugins iputils-ping)")
    tmp = tempfile.mkdtemp(prefix="ipsecctl-interop-")
    lab = Lab(tmp)
    try:
        lab.net_up()
        lab.start("A")
        lab.start("B")
        run_checks(b, lab, tmp)
    finally:
        lab.down()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


def run_checks(b, lab, tmp):
    # 1. The seed's rule shape on both gateways.
    conf_a, conf_b = seed_pair(tmp)
    ra, rb, err = load_together(b, lab, conf_a, conf_b)
    check("seed: both gateways load their ike rule", ra == 0 and rb == 0, err)
    check("seed: LAN to LAN ping through the tunnel", lab.ping())
    children = wait_children(lab, "A")
    ok = bool(children)
    detail = []
    for ike, child in children:
        detail.append((ike.get("version"), ike.get("encr-alg"), ike.get("encr-keysize"),
                       ike.get("integ-alg"), ike.get("dh-group"), child.get("encr-alg"),
                       child.get("encr-keysize"), child.get("integ-alg"), child.get("dh-group"),
                       child.get("life-time"), ike.get("reauth-time")))
        ok = ok and ike.get("version") == "1" and ike.get("encr-alg") == "AES_CBC" \
            and ike.get("encr-keysize") == "256" and ike.get("integ-alg") == "HMAC_SHA2_256_128" \
            and ike.get("dh-group") == "MODP_2048" and child.get("encr-alg") == "AES_CBC" \
            and child.get("encr-keysize") == "256" \
            and child.get("integ-alg") == "HMAC_SHA2_256_128" \
            and child.get("dh-group") == "MODP_2048"
    check("seed: negotiated algorithms equal the rule's (read over VICI)", ok, detail)
    # IKEv1 sends reauth_time + over_time as the IKE SA's Life-Duration:
    # ipsecctl sets them to 90% + 10% of the rule's lifetime; the child's
    # hard lifetime is the rule's own.
    lifetimes = [(int(ike.get("reauth-time", "0")), int(c.get("life-time", "0")),
                  int(c.get("rekey-time", "0"))) for ike, c in children]
    check("seed: lifetimes are the rule's (IKE reauth at 90% of 86400 s, child 7200 s)",
          bool(lifetimes) and all(77000 < r <= 77760 and 7100 < l <= 7200 and 6400 < k <= 6480
                                  for r, l, k in lifetimes), lifetimes)
    rc, out, err = ipsecctl(b, lab, "A", ["-s", "all"])
    check("-s all lists charon's IKE SAs after FLOWS and SAD",
          rc == 0 and "\nIKE SAs:\npeer-10.99.0.2 #" in out and "ESTABLISHED IKEv1" in out
          and "10.99.1.0/24 === 10.99.2.0/24" in out, out + err)
    print("     " + out.replace("\n", "\n     "))
    rc, out, err = ipsecctl(b, lab, "A", ["-f", conf_a])
    check("seed: reloading the same file keeps the tunnel (no second child)",
          rc == 0 and len(established_children(lab, "A")) == len(children), err)
    ra = ipsecctl(b, lab, "A", ["-d", "-f", conf_a])
    rb = ipsecctl(b, lab, "B", ["-d", "-f", conf_b])
    check("seed: ipsecctl -d -f tears down both sides", ra[0] == 0 and rb[0] == 0, ra[2] + rb[2])
    time.sleep(0.5)
    check("seed: ... and the ping stops", not lab.ping(count=1))
    check("seed: ... and no SA is left", not established_children(lab, "A"))

    # 2. Two remote networks in a brace list: one IKE SA, two child SAs.
    lab.restart_both()
    conf_a, conf_b = seed_pair(tmp, remote_a="{ 10.99.2.0/24, 10.99.3.0/24 }",
                               lan_b="{ 10.99.2.0/24, 10.99.3.0/24 }", tag="-list")
    ra, rb, err = load_together(b, lab, conf_a, conf_b)
    check("brace list: both gateways load", ra == 0 and rb == 0, err)
    # Both gateways initiate at once, so IKEv1 may briefly hold duplicate
    # SAs while it sorts them out: poll for a moment.
    # Both sides initiate at once, so IKEv1 sees the peer's quick modes as
    # rekeyings and duplicates come and go for a while (charon may even
    # file a child under its sibling's name): look at what the installed
    # children carry, their remote traffic selectors.
    seen = set()
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        for _, c in established_children(lab, "A"):
            seen |= set(c.get("remote-ts", []))
        time.sleep(0.2)
    check("brace list: two child SAs, one per remote network",
          seen == {"10.99.2.0/24", "10.99.3.0/24"}, sorted(seen))
    check("brace list: both remote networks answer",
          lab.ping("10.99.2.2") and lab.ping("10.99.3.1"))
    ipsecctl(b, lab, "A", ["-d", "-f", conf_a])
    ipsecctl(b, lab, "B", ["-d", "-f", conf_b])

    # 3. srcid/dstid as FQDNs, aggressive mode, and a passive responder.
    lab.restart_both()
    conf_a, conf_b = seed_pair(tmp, mode_b="passive", ids_a="srcid gwa.example.org dstid gwb.example.org ",
                               ids_b="srcid gwb.example.org dstid gwa.example.org ",
                               extra_a="", extra_b="", tag="-ids")
    for path in (conf_a, conf_b):
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("main auth", "aggressive auth"))
    rc, out, err = ipsecctl(b, lab, "B", ["-f", conf_b])
    check("passive responder loads without initiating", rc == 0 and not established_children(lab, "B"), err)
    rc, out, err = ipsecctl(b, lab, "A", ["-f", conf_a])
    check("aggressive mode with FQDN identities comes up against the passive responder",
          rc == 0 and lab.ping(), err)
    ids = [(ike.get("local-id"), ike.get("remote-id")) for ike, _ in established_children(lab, "A")]
    check("the IKE identities are the FQDNs", ("gwa.example.org", "gwb.example.org") in ids, ids)
    ipsecctl(b, lab, "A", ["-d", "-f", conf_a])
    ipsecctl(b, lab, "B", ["-d", "-f", conf_b])

    # 4. Failures carry the daemon's reason and leave nothing behind.
    lab.restart_both()
    conf_a, conf_b = seed_pair(tmp, mode_a="active", mode_b="passive", psk_b="not the secret",
                               tag="-psk")
    ipsecctl(b, lab, "B", ["-f", conf_b])
    rc, out, err = ipsecctl(b, lab, "A", ["-f", conf_a])
    check("PSK mismatch: exit 1 with charon's reason", rc == 1 and "charon:" in err
          and "could not bring up" in err, err)
    print("     " + err.strip().replace("\n", "\n     "))
    rc2, out2, _ = ipsecctl(b, lab, "A", ["-s", "all"])
    check("PSK mismatch: the failed connection was unloaded", "peer-10.99.0.2 #" not in out2, out2)
    ipsecctl(b, lab, "B", ["-d", "-f", conf_b])

    conf_a, conf_b = seed_pair(tmp, mode_a="active", mode_b="passive", tag="-prop")
    with open(conf_b) as f:
        text = f.read()
    with open(conf_b, "w") as f:
        f.write(text.replace("quick auth hmac-sha2-256 enc aes-256", "quick auth hmac-sha1 enc 3des"))
    ipsecctl(b, lab, "B", ["-f", conf_b])
    rc, out, err = ipsecctl(b, lab, "A", ["-f", conf_a])
    check("proposal mismatch: exit 1 with charon's reason", rc == 1 and "charon:" in err, err)
    print("     " + err.strip().replace("\n", "\n     "))
    ipsecctl(b, lab, "B", ["-d", "-f", conf_b])


if __name__ == "__main__":
    sys.exit(main())
