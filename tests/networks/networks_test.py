#!/usr/bin/env python3
"""The networks of the user documents, as the shipped examples build them,
in the qemu guest (kernel ESP, charon with kernel-netlink), every gateway
configured by ipsecctl alone, each step in the order it happens on real
networks:

  failover  examples/sasyncd-carp: two gateways behind one shared address
            with keepalived's VRRP in the role of CARP, a peer across a
            router. The standby boots first, the peer comes late, the
            master boots late and takes over, the master fails while a
            rekey is due (takeover), the master comes back (failback); one
            IKE SA on the peer afterwards each time.
  hub       examples/hub-behind-nat: a hub behind a NAT firewall that
            forwards only UDP 500 and 4500, one file per branch, a strongSwan
            and a libreswan branch; hub first, then branches first; -d -f of
            one branch's file leaves the other alone.
  mesh      examples/gre-mesh: three gateways, GRE over IPsec between each
            pair, bird2's OSPF over the GRE links; a cut link reroutes
            through the third gateway and comes back.

With --ike-version 2 the same networks run over IKEv2: the failover pair
and the mesh entirely, the hub with its strongSwan branch moved to IKEv2
(ipsecctl_ike_version in that branch's file) while the libreswan branch
stays IKEv1: one hub serving both versions at once.

NETWORK_SCENARIOS=a,b runs some only. Prints the measured times last.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.normpath(os.path.join(HERE, "..", "..", "examples"))
sys.path.insert(0, os.path.join(HERE, ".."))
from checks import check, skip, summary  # noqa: E402
import netlab  # noqa: E402

MEASURED = []
VERSION = "1"  # --ike-version


def options():
    return ["--ike-version", VERSION]


def measured(what, seconds):
    MEASURED.append(("IKEv%s %s" % (VERSION, what), seconds))


def ike_version_of(lab, ns, conn):
    """The IKE version of the connection's established IKE SAs on `ns`."""
    return sorted({ike.get("version") for n, ike in lab.ike_sas(ns)
                   if n == conn and ike.get("state") == "ESTABLISHED"})


def private_copy(tmp, src, name, replace=()):
    text = open(src).read()
    for a, b in replace:
        if a not in text:
            raise RuntimeError("%s no longer holds %r" % (src, a))
        text = text.replace(a, b)
    path = os.path.join(tmp, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def one_ike_sa(lab, ns, conn, seconds=20, children=1):
    """Waits for exactly one live IKE SA of `conn`, established with
    `children` child SA pairs installed (None: at least one); returns what
    there is. An IKEv2 SA being deleted is not live: after a takeover the
    peer's DELETE for the old one goes to the address the new master now
    holds, which does not know that SA, so it stays DELETING until charon's
    retransmissions give up (minutes); IKEv1 deletes without an answer."""
    deadline = time.monotonic() + seconds
    state = None
    while time.monotonic() < deadline:
        every = [(n, ike) for n, ike in lab.ike_sas(ns) if n == conn]
        sas = [(n, ike) for n, ike in every if ike.get("state") != "DELETING"]
        installed = [c for _, ike in sas for c in ike.get("child-sas", {}).values()
                     if c.get("state") == "INSTALLED"]
        state = [(ike.get("state"), len(ike.get("child-sas", {}))) for _, ike in every]
        if len(sas) == 1 and sas[0][1].get("state") == "ESTABLISHED" and \
                (len(installed) == children if children else len(installed) >= 1):
            return True, state
        time.sleep(0.5)
    return False, state


# --- failover (examples/sasyncd-carp) ----------------------------------------

def failover(tmp, b):
    lab = netlab.Lab(tmp, b, "fo", options=options())
    d = os.path.join(EXAMPLES, "sasyncd-carp")
    try:
        wan, lan, inet = lab.bridge("wanbr"), lab.bridge("lanbr"), lab.ns("router")
        gw = {"a": lab.ns("gw-a"), "b": lab.ns("gw-b")}
        peer, h1, h2 = lab.ns("peer"), lab.ns("h1"), lab.ns("h2")
        lab.plug(wan, "r", inet, "pub")
        lab.script(inet, "ip addr add 198.51.100.1/24 dev pub")
        for i, (k, ns) in enumerate(sorted(gw.items())):
            lab.plug(wan, "w" + k, ns, "wan")
            lab.plug(lan, "l" + k, ns, "lan")
            lab.script(ns, "ip addr add 198.51.100.%d/24 dev wan; ip addr add 192.0.2.%d/24 dev lan;"
                           "ip route add default via 198.51.100.1" % (11 + i, 2 + i))
            lab.forwarding(ns)
        lab.plug(lan, "h", h1, "eth0")
        lab.script(h1, "ip addr add 192.0.2.10/24 dev eth0; ip route add default via 192.0.2.1")
        lab.link(inet, "far", peer, "wan")
        lab.script(inet, "ip addr add 203.0.113.1/24 dev far")
        lab.forwarding(inet)
        lab.script(peer, "ip addr add 203.0.113.254/24 dev wan; ip route add default via 203.0.113.1")
        lab.link(peer, "lan", h2, "eth0")
        lab.script(peer, "ip addr add 10.2.0.1/24 dev lan")
        lab.forwarding(peer)
        lab.script(h2, "ip addr add 10.2.0.10/24 dev eth0; ip route add default via 10.2.0.1")
        # The example's files; children rekey every 36 s, so that a rekey
        # is due while the master fails.
        rekeying = [("quick auth hmac-sha2-256 enc aes-256 group modp2048 \\",
                     "quick auth hmac-sha2-256 enc aes-256 group modp2048 lifetime 40 \\")]
        conf = {k: private_copy(tmp, os.path.join(d, "ipsec.conf"), "gw-%s/ipsec.conf" % k, rekeying)
                for k in gw}
        peer_conf = private_copy(tmp, os.path.join(d, "peer.conf"), "peer/ipsec.conf", rekeying)
        conn = "peer-203_0_113_254-local-198_51_100_254"

        def boot(k, vrrp=True):
            """A gateway of the pair boots: its own addresses only (a shared
            address that keepalived held before the gateway died is gone
            with the reboot), then charon, ipsecctl -f, keepalived."""
            ns, i = gw[k], sorted(gw).index(k)
            lab.script(ns, "ip addr flush dev wan; ip addr flush dev lan;"
                           "ip addr add 198.51.100.%d/24 dev wan; ip addr add 192.0.2.%d/24 dev lan;"
                           "ip link set wan up; ip link set lan up;"
                           "ip route replace default via 198.51.100.1" % (11 + i, 2 + i))
            lab.start_charon(ns, "gw-%s.example" % k)
            rc, _, err = lab.ipsecctl(ns, "-f", conf[k])
            if vrrp:
                start_vrrp(k)
            return rc, err

        def start_vrrp(k):
            ns = gw[k]
            # ipsecctl as this gateway runs it (its host name, its charon),
            # for the shipped notify script.
            wrapper = os.path.join(tmp, "gw-%s" % k, "ipsecctl")
            with open(wrapper, "w") as f:
                f.write("#!/bin/sh\nexec ip netns exec %s unshare --uts sh -c "
                        "'hostname \"$0\"; exec \"$@\"' %s %s --vici %s %s \"$@\"\n"
                        % (ns, lab.hostnames[ns], b, lab.socket(ns), " ".join(options())))
            os.chmod(wrapper, 0o755)
            notify = os.path.join(tmp, "gw-%s" % k, "notify")
            with open(notify, "w") as f:
                f.write("#!/bin/sh\necho \"$(date +%%s.%%N) $*\" >> %s/notify.log\n"
                        "IPSECCTL=%s IPSECCTL_CONF=%s exec %s \"$@\" >> %s/notify.log 2>&1\n"
                        % (os.path.dirname(wrapper), wrapper, conf[k],
                           os.path.join(d, "ipsecctl-vrrp-notify"), os.path.dirname(wrapper)))
            os.chmod(notify, 0o755)
            kconf = private_copy(tmp, os.path.join(d, "keepalived.conf"), "gw-%s/keepalived.conf" % k,
                                 [("/usr/local/sbin/ipsecctl-vrrp-notify", notify)])
            run = os.path.join(tmp, "gw-%s" % k)
            lab.spawn("keepalived@" + k, ns, [
                "keepalived", "-n", "-l", "-D", "-P", "-i", "gw-" + k, "-f", kconf,
                "-p", run + "/keepalived.pid", "-r", run + "/vrrp.pid"], lab.log(ns, "keepalived"))

        def fail(k):
            """A gateway dies: its daemons are gone and its links are dark."""
            lab.kill("keepalived@" + k)
            lab.kill("charon@" + gw[k])
            lab.script(gw[k], "ip link set wan down; ip link set lan down")

        def holds_vip(k):
            return "198.51.100.254" in lab.sh(gw[k], "ip", "-4", "addr", "show", "dev", "wan",
                                              check_rc=False)[1]

        def initiated(k):
            try:
                return "initiating " in open(lab.log(gw[k])).read()
            except OSError:
                return False

        # 1. The standby boots first: it loads the file and, holding no
        #    shared address yet, starts nothing until keepalived makes it master.
        lab.script(gw["a"], "ip link set wan down; ip link set lan down")
        rc, err = boot("b", vrrp=False)
        time.sleep(2)
        check("failover: the standby loads the pair's file at boot, without the shared address",
              rc == 0 and conn in lab.conns(gw["b"]), err)
        check("... and does not start the tunnel from an address it does not have",
              not initiated("b"), open(lab.log(gw["b"])).read()[-1500:])
        start_vrrp("b")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not holds_vip("b"):
            time.sleep(0.5)
        check("... alone, it becomes master (keepalived)", holds_vip("b"),
              open(lab.log(gw["b"], "keepalived")).read()[-1500:])

        # 2. The peer comes late.
        # It starts the tunnel when it loads (its networks sort first); the
        # pair's master answers.
        lab.start_charon(peer, "peer.example")
        t0 = time.monotonic()
        rc, _, err = lab.ipsecctl(peer, "-f", peer_conf)
        ok, state = one_ike_sa(lab, peer, "peer-198_51_100_254-local-203_0_113_254", 60)
        up = lab.ping_until(h2, "192.0.2.10", 30)
        took = time.monotonic() - t0 if up is not None else None
        check("... the peer comes late and loads: the tunnel comes up (%.1f s)" % (took or -1),
              rc == 0 and up is not None, (err, open(lab.log(peer)).read()[-1500:]))
        measured("failover: peer comes late, tunnel up", took)
        check("... one IKE SA with one child pair on the peer", ok, state)
        check("... speaking IKEv%s" % VERSION,
              ike_version_of(lab, peer, "peer-198_51_100_254-local-203_0_113_254") == [VERSION],
              lab.ike_sas(peer))
        pinger = netlab.Pinger(lab, h1, "10.2.0.10")

        # 3. The master boots late and takes over (preemption).
        t0 = time.time()
        rc, err = boot("a")
        time.sleep(15)
        pinger.stop()
        took = pinger.first_answer_after(t0)
        gap = pinger.longest_gap(t0)
        check("... the master boots late and takes over: the LAN keeps answering (longest gap "
              "%.1f s)" % (gap or -1), rc == 0 and gap is not None and gap < 10, (err, gap))
        measured("failover: master boots late, longest outage", gap)
        ok, state = one_ike_sa(lab, peer, "peer-198_51_100_254-local-203_0_113_254", children=None)
        check("... one IKE SA on the peer afterwards", ok, state)
        check("... the standby took its tunnel down", not lab.established(gw["b"], conn),
              (open(os.path.join(tmp, "gw-b", "notify.log")).read()[-1500:],
               open(lab.log(gw["b"])).read()[-1500:]))
        check("... traffic goes through the master", holds_vip("a") and lab.ping(h1, "10.2.0.10")
              and lab.established(gw["a"], conn), (holds_vip("a"), holds_vip("b"), lab.ike_sas(gw["a"]),
                                                  open(lab.log(gw["a"])).read()[-2500:]))

        # 4. The master fails while a rekey is due.
        deadline = time.monotonic() + 60
        due = None
        while time.monotonic() < deadline:
            sas = lab.established(gw["a"], conn)
            times = [int(c.get("rekey-time", "99")) for _, _, cs in sas for c in cs]
            if times and min(times) <= 3:
                due = min(times)
                break
            time.sleep(0.5)
        pinger = netlab.Pinger(lab, h1, "10.2.0.10")
        time.sleep(1)
        t0 = time.time()
        fail("a")
        time.sleep(20)
        pinger.stop()
        # The LAN's outage: the longest silence from the failure on (the
        # failure itself takes a moment: daemons killed, then links down).
        took = pinger.longest_gap(t0 - 1) if pinger.first_answer_after(t0 + 1) else None
        check("the master fails (a rekey due in %s s): the LAN answers again within 10 s "
              "(longest gap %.1f s)"
              % (due, took or -1), took is not None and took <= 10,
              (took, open(lab.log(gw["b"])).read()[-2000:]))
        measured("failover: takeover (master fails, rekey due)", took)
        # The old master's child SAs stay on the peer until they expire:
        # it died without deleting them (sasyncd would have kept them).
        ok, state = one_ike_sa(lab, peer, "peer-198_51_100_254-local-203_0_113_254", children=None)
        check("... one IKE SA on the peer afterwards, not two", ok, state)

        # 5. The master comes back: failback.
        pinger = netlab.Pinger(lab, h1, "10.2.0.10")
        time.sleep(1)
        t0 = time.time()
        rc, err = boot("a")
        time.sleep(20)
        pinger.stop()
        gap = pinger.longest_gap(t0)
        check("the master comes back: failback with the LAN answering, longest gap %.1f s"
              % (gap or -1), rc == 0 and gap is not None and gap <= 10, (err, gap))
        measured("failover: failback, longest outage", gap)
        ok, state = one_ike_sa(lab, peer, "peer-198_51_100_254-local-203_0_113_254", children=None)
        check("... one IKE SA on the peer afterwards", ok, state)
        check("... and the master carries it", lab.established(gw["a"], conn) and
              not lab.established(gw["b"], conn), (lab.ike_sas(gw["a"]), lab.ike_sas(gw["b"])))

        # 6. Nothing is left after -d -f.
        lab.kill("keepalived@a")
        lab.kill("keepalived@b")
        for ns, c in ((gw["a"], conf["a"]), (gw["b"], conf["b"]), (peer, peer_conf)):
            lab.ipsecctl(ns, "-d", "-f", c)
        left = {ns: (lab.kernel_sas(ns), lab.sh(ns, "ip", "xfrm", "policy")[1].count(" dir "),
                     [c for c in lab.conns(ns) if c.startswith("peer-")])
                for ns in (gw["a"], gw["b"], peer)}
        check("... -d -f on all three leaves nothing (SAs, policies, connections)",
              all(v == (0, 0, []) for v in left.values()), left)
    finally:
        lab.down()


# --- a hub behind a NAT (examples/hub-behind-nat) ------------------------------

def hub(tmp, b, sniff):
    # The hub runs its file as shipped (IKEv1); with --ike-version 2 the
    # strongSwan branch moves to IKEv2: the macro in the hub's file for it,
    # --ike-version 2 on the branch. The libreswan branch stays IKEv1.
    lab = netlab.Lab(tmp, b, "hub", options=options())
    d = os.path.join(EXAMPLES, "hub-behind-nat")
    pluto_proc = None
    try:
        pub = lab.bridge("pubbr")
        fw, hubns, hh = lab.ns("fw"), lab.ns("hub"), lab.ns("hh")
        b1, b2, h1, h2 = lab.ns("br1"), lab.ns("br2"), lab.ns("h1"), lab.ns("h2")
        hublan = lab.bridge("hublan")
        lab.plug(pub, "f", fw, "pub")
        lab.plug(hublan, "f", fw, "lan")
        lab.plug(hublan, "v", hubns, "lan")
        lab.plug(hublan, "h", hh, "eth0")
        lab.script(fw, "ip addr add 198.51.100.1/24 dev pub; ip addr add 10.0.0.1/24 dev lan;"
                       "ip route add 10.0.10.0/24 via 10.0.0.50; ip route add 10.0.20.0/24 via 10.0.0.50")
        lab.forwarding(fw)
        lab.sh(fw, "nft", "-f", os.path.join(d, "nftables.conf"))
        lab.script(hubns, "ip addr add 10.0.0.50/24 dev lan; ip route add default via 10.0.0.1")
        lab.forwarding(hubns)
        lab.script(hh, "ip addr add 10.0.0.10/24 dev eth0; ip route add default via 10.0.0.1")
        for ns, h, addr, net in ((b1, h1, "198.51.100.10", "10.0.10"),
                                 (b2, h2, "198.51.100.20", "10.0.20")):
            lab.plug(pub, ns[:3], ns, "wan")
            lab.link(ns, "lan", h, "eth0")
            lab.script(ns, "ip addr add %s/24 dev wan; ip addr add %s.1/24 dev lan;"
                           "ip route add default via 198.51.100.1" % (addr, net))
            lab.forwarding(ns)
            lab.script(h, "ip addr add %s.10/24 dev eth0; ip route add default via %s.1" % (net, net))
        # The hub's files as shipped, read from a directory of its own
        # (the includes are relative).
        hubdir = os.path.join(tmp, "hubfiles")
        for name in ("ipsec.conf", "peers/branch1.conf", "peers/branch2.conf"):
            moved = name == "peers/branch1.conf" and VERSION == "2"
            private_copy(tmp, os.path.join(d, name), "hubfiles/" + name,
                         [("# Branch 1: strongSwan", "ipsecctl_ike_version = \"2\"\n"
                           "# Branch 1: strongSwan"),
                          # As the file's own comment says: IKEv2 keys go by identity.
                          ("    psk \"branch one's", "    dstid branch1.example psk \"branch one's")]
                         if moved else ())
        branch1 = private_copy(tmp, os.path.join(d, "branch1.conf"), "branch1/ipsec.conf")

        def hub_ipsecctl(*args):
            p = subprocess.run(["ip", "netns", "exec", hubns] + lab.in_gateway(
                hubns, [b, "--vici", lab.socket(hubns)] + list(args)), cwd=hubdir,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            return p.returncode, p.stderr.decode()

        lab.start_charon(hubns, "hub.example")
        lab.start_charon(b1, "branch1.example")

        def both_up(order):
            t1 = lab.ping_until(h1, "10.0.0.10", 60)
            t2 = lab.ping_until(h2, "10.0.0.10", 60)
            hub_log = open(lab.log(hubns)).read().splitlines()
            pluto_log = os.path.join(tmp, "pluto", "pluto.log")
            check("hub behind NAT (%s): each branch's LAN reaches the hub's (%.1f s, %.1f s)"
                  % (order, t1 or -1, t2 or -1), t1 is not None and t2 is not None,
                  "\n".join([l for l in hub_log if "shared key" in l or "configs matching" in l]
                            + ["--- hub's last lines"] +
                            [l for l in hub_log if "DPD" not in l][-40:] + ["--- pluto"] +
                             (open(pluto_log).read().splitlines()[-40:]
                              if os.path.exists(pluto_log) else [])))
            measured("hub behind NAT (%s): charon branch up" % order, t1)
            measured("hub behind NAT (%s): libreswan branch up" % order, t2)
            for conn in ("peer-198_51_100_10", "peer-198_51_100_20"):
                ok, state = one_ike_sa(lab, hubns, conn)
                check("... %s: one IKE SA and one SA pair on the hub" % conn, ok, state)
            versions = (ike_version_of(lab, hubns, "peer-198_51_100_10"),
                        ike_version_of(lab, hubns, "peer-198_51_100_20"))
            check("... the hub speaks IKEv%s to the strongSwan branch and IKEv1 to libreswan's"
                  % VERSION, versions == ([VERSION], ["1"]), versions)
            ok, state = one_ike_sa(lab, b1, "peer-198_51_100_1")
            check("... and on the strongSwan branch", ok, state)
            _, states = lab.sh(hubns, "ip", "xfrm", "state")
            check("... ESP travels in UDP 4500 through the firewall",
                  states.count("encap type espinudp") >= 4 and lab.kernel_sas(hubns) == 4, states)

        # Hub first, the branches later.
        rc, err = hub_ipsecctl("-f", "ipsec.conf")
        check("hub behind NAT: the hub loads its file while no branch is there", rc == 0, err)
        time.sleep(5)
        rc, _, err = lab.ipsecctl(b1, "-f", branch1)
        pluto_proc = start_pluto(lab, tmp, b2, d)  # libreswan's branch comes up too
        both_up("hub first")
        spis = lab.sh(hubns, "sh", "-c", "ip xfrm state | grep -A1 198.51.100.20 | grep spi")[1]
        rc, err = hub_ipsecctl("-d", "-f", "peers/branch1.conf")
        time.sleep(2)
        check("... -d -f of one branch's file takes that branch out",
              rc == 0 and "peer-198_51_100_10" not in lab.conns(hubns), err)
        check("... and leaves the other branch's SAs as they were",
              lab.sh(hubns, "sh", "-c", "ip xfrm state | grep -A1 198.51.100.20 | grep spi")[1] == spis
              and lab.ping(h2, "10.0.0.10"), spis)

        # Everything down; then the branches first, the hub later.
        hub_ipsecctl("-d", "-f", "ipsec.conf")
        lab.ipsecctl(b1, "-d", "-f", branch1)
        pluto_proc.kill()
        pluto_proc.wait(timeout=10)
        lab.sh(b2, "ip", "xfrm", "state", "flush")
        lab.sh(b2, "ip", "xfrm", "policy", "flush")
        time.sleep(2)
        rc, _, err = lab.ipsecctl(b1, "-f", branch1)
        pluto_proc = start_pluto(lab, tmp, b2, d)
        # The branches' users are at work before the hub comes up: their
        # traffic runs from before the hub's load (the real order; traffic
        # that begins at the very moment the hub starts the tunnel can make
        # charon negotiate a redundant child pair, see README.md there).
        users = [netlab.Pinger(lab, h, "10.0.0.10") for h in (h1, h2)]
        time.sleep(5)
        rc, err = hub_ipsecctl("-f", "ipsec.conf")
        both_up("branches first")
        for u in users:
            u.stop()
        hub_ipsecctl("-d", "-f", "ipsec.conf")
        lab.ipsecctl(b1, "-d", "-f", branch1)
        check("... -d -f leaves nothing on the hub", lab.kernel_sas(hubns) == 0 and
              not [c for c in lab.conns(hubns) if c.startswith("peer-")], lab.conns(hubns))
    finally:
        if pluto_proc:
            pluto_proc.kill()
            pluto_proc.wait(timeout=10)
        lab.down()


def start_pluto(lab, tmp, ns, d):
    """libreswan's pluto on a branch, with the example's configuration."""
    pluto = shutil.which("pluto") or "/usr/libexec/ipsec/pluto"
    if not os.path.exists(pluto):
        raise RuntimeError("no pluto: the guest overlay lacks libreswan")
    p = os.path.join(tmp, "pluto")
    os.makedirs(os.path.join(p, "run"), exist_ok=True)
    os.makedirs(os.path.join(p, "nss"), exist_ok=True)
    text = open(os.path.join(d, "libreswan-branch2.conf")).read().replace(
        "protostack=xfrm", "protostack=xfrm\n    logfile=%s/pluto.log" % p)
    with open(os.path.join(p, "ipsec.conf"), "w") as f:
        f.write(text)
    with open(os.path.join(p, "ipsec.secrets"), "w") as f:
        f.write('198.51.100.20 @hub.example : PSK "branch two\'s own secret"\n')
    if not os.path.exists(os.path.join(p, "nss", "cert9.db")):
        lab.sh(None, "certutil", "-N", "-d", "sql:" + os.path.join(p, "nss"), "--empty-password")
    for leftover in os.listdir(os.path.join(p, "run")):  # an earlier pluto's pid and socket
        os.unlink(os.path.join(p, "run", leftover))
    lab.hostnames[ns] = "branch2.example"
    proc = subprocess.Popen(["ip", "netns", "exec", ns] + lab.in_gateway(ns, [
        "sh", "-c", "mount --bind %s/run /run && exec %s --nofork --config %s/ipsec.conf "
        "--secretsfile %s/ipsec.secrets --nssdir %s/nss --rundir /run" % (p, pluto, p, p, p)]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    return proc


# --- the GRE mesh with OSPF (examples/gre-mesh) --------------------------------

def mesh(tmp, b):
    lab = netlab.Lab(tmp, b, "mesh", options=options())
    d = os.path.join(EXAMPLES, "gre-mesh")
    try:
        wan = lab.bridge("wanbr")
        gws = {i: lab.ns("gw%d" % i) for i in (1, 2, 3)}
        hosts = {i: lab.ns("h%d" % i) for i in (1, 2, 3)}
        for i, ns in gws.items():
            lab.plug(wan, "p%d" % i, ns, "wan")
            lab.link(ns, "lan", hosts[i], "eth0")
            lab.script(ns, "ip addr add 192.0.2.%d/24 dev wan; ip addr add 10.10.%d.1/24 dev lan"
                       % (i, i))
            lab.forwarding(ns)
            lab.script(hosts[i], "ip addr add 10.10.%d.10/24 dev eth0; ip route add default via "
                                 "10.10.%d.1" % (i, i))
            lab.start_charon(ns, "gw%d.example" % i)
        confs = {i: private_copy(tmp, os.path.join(d, "gw%d.conf" % i), "gw%d/ipsec.conf" % i)
                 for i in gws}
        for i, ns in gws.items():
            rc, _, err = lab.ipsecctl(ns, "-f", confs[i])
            check("mesh: gw%d loads its file" % i, rc == 0, err)
        for i, ns in gws.items():
            for j in gws:
                if i == j:
                    continue
                a, z = min(i, j), max(i, j)
                lab.sh(ns, os.path.join(d, "gre.sh"), "gre%d" % j, "192.0.2.%d" % i, "192.0.2.%d" % j,
                       "172.16.%d%d.%d" % (a, z, 1 if i == a else 2),
                       "172.16.%d%d.%d" % (a, z, 2 if i == a else 1))
            run = os.path.join(tmp, "gw%d" % i)
            lab.spawn("bird@%d" % i, ns, ["bird", "-f", "-c", os.path.join(d, "bird.conf"),
                                          "-s", run + "/bird.ctl", "-P", run + "/bird.pid"],
                      lab.log(ns, "bird"))
        t = lab.ping_until(hosts[1], "10.10.2.10", 90)
        check("mesh: OSPF over GRE over IPsec: LAN 1 reaches LAN 2 (%.1f s)" % (t or -1),
              t is not None, open(lab.log(gws[1], "bird")).read()[-1500:])
        measured("mesh: first route up", t)
        route = lambda: lab.sh(gws[1], "ip", "route", "get", "10.10.2.10")[1]  # noqa: E731
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "dev gre2" not in route():
            time.sleep(0.5)
        check("... once OSPF has converged, the direct path (gre2)", "dev gre2" in route(), route())
        _, states = lab.sh(gws[1], "ip", "-s", "xfrm", "state")
        check("... GRE between the gateways travels in ESP (kernel SAs carry it)",
              "192.0.2.2" in states and lab.kernel_sas(gws[1]) >= 4, states[:1500])
        ok = all(one_ike_sa(lab, gws[1], "peer-192_0_2_%d" % j)[0] for j in (2, 3))
        check("... one IKE SA to each other gateway", ok, lab.ike_sas(gws[1]))
        check("... speaking IKEv%s" % VERSION,
              all(ike_version_of(lab, gws[1], "peer-192_0_2_%d" % j) == [VERSION] for j in (2, 3)),
              lab.ike_sas(gws[1]))

        # Cut the link between gw1 and gw2 (nothing passes between them).
        pinger = netlab.Pinger(lab, hosts[1], "10.10.2.10")
        time.sleep(2)
        t0 = time.time()
        lab.sh(gws[1], "ip", "route", "add", "blackhole", "192.0.2.2/32")
        lab.sh(gws[2], "ip", "route", "add", "blackhole", "192.0.2.1/32")
        time.sleep(12)
        rerouted = route()
        pinger.stop()
        took = pinger.first_answer_after(t0 + 0.5)
        gap = pinger.longest_gap(t0 - 1)
        check("the gw1-gw2 link is cut: traffic reroutes through gw3 (outage %.1f s)" % (gap or -1),
              "dev gre3" in rerouted and took is not None, (rerouted, gap))
        measured("mesh: reroute outage after a cut link", gap)
        pinger = netlab.Pinger(lab, hosts[1], "10.10.2.10")
        lab.sh(gws[1], "ip", "route", "del", "blackhole", "192.0.2.2/32")
        lab.sh(gws[2], "ip", "route", "del", "blackhole", "192.0.2.1/32")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "dev gre2" not in route():
            time.sleep(0.5)
        time.sleep(2)
        pinger.stop()
        check("... the link comes back: the direct path returns, the LAN answering throughout "
              "(longest gap %.1f s)" % (pinger.longest_gap(0) or -1),
              "dev gre2" in route() and (pinger.longest_gap(0) or 99) < 5, route())
        for i, ns in gws.items():
            lab.kill("bird@%d" % i)
            lab.ipsecctl(ns, "-d", "-f", confs[i])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(lab.kernel_sas(ns) for ns in gws.values()):
            time.sleep(0.5)
        check("... -d -f on each gateway leaves no SA", all(lab.kernel_sas(ns) == 0 for ns in gws.values()),
              {ns: (lab.sh(ns, "ip", "xfrm", "state")[1][:600], lab.ike_sas(ns)) for ns in gws.values()})
    finally:
        lab.down()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    ap.add_argument("--sniff")
    ap.add_argument("--ike-version", default="1", choices=("1", "2"))
    a = ap.parse_args()
    global VERSION
    VERSION = a.ike_version
    if os.geteuid() != 0:
        return skip("the networks tier needs root")
    missing = [t for t in ("keepalived", "bird", "nft") if shutil.which(t) is None]
    if missing:
        return skip("not in this guest: " + ", ".join(missing))
    only = set(filter(None, os.environ.get("NETWORK_SCENARIOS", "").split(",")))
    b = os.path.abspath(a.ipsecctl)
    for name, run in (("failover", lambda t: failover(t, b)), ("hub", lambda t: hub(t, b, a.sniff)),
                      ("mesh", lambda t: mesh(t, b))):
        if only and name not in only:
            continue
        tmp = tempfile.mkdtemp(prefix="ipsecctl-%s-" % name)
        os.chmod(tmp, 0o755)
        os.environ["IPSECCTL_STATE_DIR"] = os.path.join(tmp, "state")
        try:
            run(tmp)
        except Exception as e:  # noqa: BLE001 (a broken lab is a failure)
            check("%s: the lab ran to the end" % name, False, repr(e))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("measured:")
    for what, seconds in MEASURED:
        print("  %s: %s" % (what, "%.1f s" % seconds if seconds is not None else "none"))
    return summary()


if __name__ == "__main__":
    sys.exit(main())
