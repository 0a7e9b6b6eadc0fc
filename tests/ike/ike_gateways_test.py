#!/usr/bin/env python3
"""IKE gateways through real operations, in the order they happen: peers
that are not ready when a gateway loads, a hub with a file per peer and one
peer offline, several dynamic peers with their own PSKs, -F then -f, an
edited reload, --wait, route-based tunnels. Gateways are configured by
`ipsecctl -f` alone; strongSwan's charon negotiates.

--kernel netlink (the qemu tier): charon installs real kernel SAs, and
ESP on the wire is counted with esp_sniff; --kernel libipsec (the host's
interop tier): ESP in charon's userspace, the same daemon semantics.

Needs root and strongSwan. Prints 'N passed, M failed' last; everything it
started and every namespace it made is removed on the way out.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, skip, summary  # noqa: E402
import ikelab  # noqa: E402
import keylab  # noqa: E402
from ikelab import lan, wan, host, seed_rule  # noqa: E402
from private_file import write_private  # noqa: E402

ARGS = None


def sniff(lab, i, seconds, action):
    """Counts what gateway i's WAN sends while `action` runs (kernel mode
    only): returns (action's result, {"esp": n, "echo": n, ...})."""
    if not ARGS.sniff:
        return action(), None
    out = tempfile.TemporaryFile()
    p = subprocess.Popen(["ip", "netns", "exec", lab.gw[i], ARGS.sniff, "wan", str(seconds)],
                         stdout=out, stderr=subprocess.STDOUT)
    time.sleep(0.3)
    result = action()
    p.wait(timeout=seconds + 30)
    out.seek(0)
    counts, leaks = ikelab.sniff_result(out.read().decode())
    if leaks:
        counts["plaintext"] = leaks
    return result, counts


def encrypted(counts):
    return counts is None or (counts.get("esp", 0) >= 1 and counts.get("echo", 1) == 0)


def ike_sa_count(lab, i, conn):
    """IKE SAs of the connection; one still negotiating counts as a second
    (it may yet complete and duplicate the first)."""
    return sum(1 for name, ike in lab.ike_sas(i) if name == conn)


def child_count(lab, i, conn):
    return len(lab.installed(i, conn))


def settle(lab, sides, conn_of, seconds=20):
    """Waits until each side holds one IKE SA and one child for the tunnel
    (duplicates from both sides starting at once are being cleaned up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(ike_sa_count(lab, i, conn_of(i)) == 1 and child_count(lab, i, conn_of(i)) == 1
               for i in sides):
            return True
        time.sleep(0.5)
    return False


def initiations(lab, i, since):
    """Main mode exchanges charon on gateway i started after byte `since`
    of its log."""
    with open(lab.log(i), errors="replace") as f:
        f.seek(since)
        return sum(1 for line in f if "initiating Main Mode" in line)


def log_size(lab, i):
    try:
        return os.path.getsize(lab.log(i))
    except OSError:
        return 0


def evidence(lab, sides, lines=25):
    """charon's last words and the kernel's IPsec state, for a failed check."""
    out = []
    for i in sides:
        try:
            with open(lab.log(i), errors="replace") as f:
                out.append("--- charon gw%d\n" % i + "".join(f.readlines()[-lines:]))
        except OSError:
            pass
        for what in (("xfrm", "policy"), ("xfrm", "state"), ("route", "show", "table", "all")):
            out.append("--- ip %s (gw%d)\n" % (" ".join(what), i) +
                       lab.sh("ip", *what, ns=lab.gw[i], check_rc=False).stdout.decode())
    return "\n".join(out)


def fresh_daemons(lab, sides):
    """Only these gateways' daemons run, each fresh, over an empty kernel
    (and without routes a killed charon left behind)."""
    for i in range(lab.n):
        if i not in sides:
            lab.stop(i)
    for i in sides:
        lab.stop(i)
        for cmd in (["ip", "xfrm", "state", "flush"], ["ip", "xfrm", "policy", "flush"],
                    ["ip", "route", "flush", "table", "220"]):
            lab.sh(*cmd, ns=lab.gw[i], check_rc=False)
        lab.start(i)


# --- 1. the seed's rule shape, the second gateway a minute late ----------------

def staggered(lab, tmp):
    for first, second in ((0, 1), (1, 0)):
        fresh_daemons(lab, (0, 1))
        confs = {i: write_private(tmp, "seed%d.conf" % i,
                               seed_rule("dynamic", i, 1 - i, "seed secret")) for i in (0, 1)}
        mark = {i: log_size(lab, i) for i in (0, 1)}
        t0 = time.monotonic()
        rc1, _, err1 = lab.ipsecctl(first, "-f", confs[first])
        took = time.monotonic() - t0
        check("staggered (gw%d first): its load succeeds at once while the peer has no "
              "configuration" % first, rc1 == 0 and took < 10, "rc %d in %.1f s: %s" % (rc1, took, err1))
        time.sleep(ARGS.delay)
        started = initiations(lab, first, mark[first])
        check("... while waiting, charon (not ipsecctl) retries at its own pace (%d main modes in "
              "%d s)" % (started, ARGS.delay), 1 <= started <= ARGS.delay / 5 + 2, started)
        rc2, _, err2 = lab.ipsecctl(second, "-f", confs[second])
        check("... gw%d loads %d s later and succeeds" % (second, ARGS.delay), rc2 == 0, err2)
        deadline = time.monotonic() + 30
        while not lab.installed(0) and time.monotonic() < deadline:
            time.sleep(0.5)
        check("... the tunnel comes up by itself, before any traffic asks for it",
              lab.installed(0), evidence(lab, (0, 1)))
        up, counts = sniff(lab, 0, 12, lambda: lab.ping_until(0, 1, 10))
        check("... LAN to LAN ping through it", up)
        check("... ESP on the wire, no plaintext", encrypted(counts), counts)
        conn = lambda i: ikelab.conn(wan(1 - i))  # noqa: E731
        check("... one IKE SA and one child pair on each side (no duplicates)",
              settle(lab, (0, 1), conn),
              [(i, ike_sa_count(lab, i, conn(i)), child_count(lab, i, conn(i))) for i in (0, 1)])
        for i in (0, 1):
            lab.ipsecctl(i, "-d", "-f", confs[i])
        check("... -d -f on both leaves charon without the connections",
              all(ikelab.conn(wan(1 - i)) not in lab.conns(i) for i in (0, 1)),
              [lab.conns(i) for i in (0, 1)])


def together(lab, tmp):
    fresh_daemons(lab, (0, 1))
    confs = {i: write_private(tmp, "both%d.conf" % i,
                           seed_rule("dynamic", i, 1 - i, "both secret")) for i in (0, 1)}
    procs = {i: lab.ipsecctl_async(i, "-f", confs[i]) for i in (0, 1)}
    rcs = {i: procs[i].wait(timeout=60) for i in (0, 1)}
    check("both gateways loaded at the same moment: both succeed", rcs == {0: 0, 1: 0}, rcs)
    # No traffic yet: a packet that hits a trap policy while the first
    # negotiation runs makes charon start a second quick mode of its own.
    deadline = time.monotonic() + 30
    while not lab.installed(0) and time.monotonic() < deadline:
        time.sleep(0.5)
    check("... the tunnel comes up", lab.installed(0) and lab.ping_until(0, 1, 20),
          evidence(lab, (0, 1)))
    conn = lambda i: ikelab.conn(wan(1 - i))  # noqa: E731
    check("... and settles on one IKE SA and one child pair per side",
          settle(lab, (0, 1), conn, 30),
          [(i, ike_sa_count(lab, i, conn(i)), child_count(lab, i, conn(i))) for i in (0, 1)])
    negotiated = [(ike.get("version"), ike.get("encr-alg"), ike.get("encr-keysize"),
                   ike.get("integ-alg"), ike.get("dh-group"), c.get("encr-alg"),
                   c.get("encr-keysize"), c.get("integ-alg"), c.get("dh-group"))
                  for ike, c in lab.installed(0)]
    check("... with the rule's algorithms (read over VICI)",
          negotiated and all(n == ("1", "AES_CBC", "256", "HMAC_SHA2_256_128", "MODP_2048",
                                   "AES_CBC", "256", "HMAC_SHA2_256_128", "MODP_2048")
                             for n in negotiated), negotiated)
    # IKEv1 sends reauth_time + over_time as the IKE SA's Life-Duration:
    # 90% + 10% of the rule's lifetime; the child's hard lifetime is the rule's.
    lifetimes = [(int(ike.get("reauth-time", "0")), int(c.get("life-time", "0")),
                  int(c.get("rekey-time", "0"))) for ike, c in lab.installed(0)]
    check("... and its lifetimes (IKE reauth at 90% of 86400 s, child 7200 s)",
          lifetimes and all(77000 < r <= 77760 and 7100 < l <= 7200 and 6400 < k <= 6480
                            for r, l, k in lifetimes), lifetimes)
    rc, _, err = lab.ipsecctl(0, "-f", confs[0])
    check("... reloading the same file keeps the tunnel as it is",
          rc == 0 and settle(lab, (0,), conn, 5), err)
    for i in (0, 1):
        lab.ipsecctl(i, "-d", "-f", confs[i])


def identities_and_failures(lab, tmp):
    """FQDN identities in aggressive mode against a passive responder; a
    wrong PSK and a proposal mismatch reported with charon's reasons."""
    fresh_daemons(lab, (0, 1))
    ids = {0: "srcid gwa.example.org dstid gwb.example.org ",
           1: "srcid gwb.example.org dstid gwa.example.org "}
    confs = {i: write_private(tmp, "aggr%d.conf" % i, seed_rule(
        ("dynamic", "passive")[i], i, 1 - i, "aggressive secret", ids=ids[i]).replace(
        "main auth", "aggressive auth")) for i in (0, 1)}
    rc, _, err = lab.ipsecctl(1, "-f", confs[1])
    check("passive responder loads and starts nothing", rc == 0 and not lab.ike_sas(1), err)
    rc, _, err = lab.ipsecctl(0, "--wait=20", "-f", confs[0])
    check("aggressive mode with FQDN identities comes up against it (--wait says so: exit 0)",
          rc == 0 and lab.ping_until(0, 1, 10), err)
    got = [(ike.get("local-id"), ike.get("remote-id")) for ike, _ in lab.installed(0)]
    check("... the IKE identities are the FQDNs", ("gwa.example.org", "gwb.example.org") in got, got)
    for i in (0, 1):
        lab.ipsecctl(i, "-d", "-f", confs[i])

    fresh_daemons(lab, (0, 1))
    a = write_private(tmp, "psk0.conf", seed_rule("active", 0, 1, "the secret"))
    b = write_private(tmp, "psk1.conf", seed_rule("passive", 1, 0, "not the secret"))
    lab.ipsecctl(1, "-f", b)
    rc, _, err = lab.ipsecctl(0, "--wait=15", "-f", a)
    check("wrong PSK: --wait exits 1 with charon's account of it",
          rc == 1 and "is not up after 15 s" in err and "charon:" in err, err)
    print("     " + err.strip().replace("\n", "\n     "))
    check("... and the connection stays loaded (charon keeps trying)",
          ikelab.conn(wan(1)) in lab.conns(0), lab.conns(0))
    lab.ipsecctl(0, "-d", "-f", a)
    lab.ipsecctl(1, "-d", "-f", b)

    b = write_private(tmp, "prop1.conf", seed_rule("passive", 1, 0, "the secret").replace(
        "quick auth hmac-sha2-256 enc aes-256", "quick auth hmac-sha1 enc 3des"))
    lab.ipsecctl(1, "-f", b)
    rc, _, err = lab.ipsecctl(0, "--wait=15", "-f", a)
    check("proposal mismatch: --wait exits 1 with charon's reason",
          rc == 1 and "NO_PROPOSAL_CHOSEN" in err, err)
    lab.ipsecctl(0, "-d", "-f", a)
    lab.ipsecctl(1, "-d", "-f", b)


# --- 2. a hub with a file per peer ------------------------------------------------

PEERS = {1: ("active", "first peer's secret"), 2: ("dynamic", "second peer's secret"),
         3: ("dynamic", "third peer's secret")}


def hub_files(tmp, peers=(1, 2, 3), extra_network=True):
    d = os.path.join(tmp, "hub")
    os.makedirs(d, exist_ok=True)
    for p, (mode, psk) in PEERS.items():
        nets = "{ %s, 10.99.2%d.0/24 }" % (lan(p), p) if (p == 1 and extra_network) else None
        write_private(d, "peer%d.conf" % p, seed_rule(mode, 0, p, psk, nets))
    main = "".join('include "%s/peer%d.conf"\n' % (d, p) for p in peers)
    return write_private(d, "ipsec.conf", main), d


def peer_conf(tmp, p):
    """Peer p's side; peer 1 also serves 10.99.21.0/24."""
    mode, psk = PEERS[p]
    text = seed_rule(mode, p, 0, psk)
    if p == 1:
        text = text.replace("from %s " % lan(1), "from { %s, 10.99.21.0/24 } " % lan(1), 1)
    return write_private(tmp, "gw%d.conf" % p, text)


def uniqueids(lab, i):
    return {name: ike.get("uniqueid") for name, ike in lab.ike_sas(i)
            if ike.get("state") == "ESTABLISHED"}


def peer_offline(lab, p):
    lab.stop(p)
    lab.sh("ip", "link", "set", "wan", "down", ns=lab.gw[p])
    for cmd in (["ip", "xfrm", "state", "flush"], ["ip", "xfrm", "policy", "flush"]):
        lab.sh(*cmd, ns=lab.gw[p])


def peer_online(lab, tmp, p):
    lab.sh("ip", "link", "set", "wan", "up", ns=lab.gw[p])
    lab.start(p)
    return lab.ipsecctl(p, "-f", peer_conf(tmp, p))


def hub(lab, tmp):
    fresh_daemons(lab, (0, 1, 2, 3))
    # gw1 also serves 10.99.21.0/24 (a second network behind it).
    lab.sh("ip", "addr", "replace", "10.99.21.1/24", "dev", "lan", ns=lab.gw[1])
    main, d = hub_files(tmp)
    rc, out, err = lab.ipsecctl(0, "-f", main)
    check("hub: ipsec.conf with one include per peer loads", rc == 0, err)
    for p in (1, 2, 3):
        rc, _, err = lab.ipsecctl(p, "-f", peer_conf(tmp, p))
        check("hub: peer %d loads its side" % p, rc == 0, err)
    for p in (1, 2, 3):
        up, counts = sniff(lab, 0, 12, lambda: lab.ping_until(0, p, 10))
        check("hub: tunnel to peer %d (%s, its own PSK) is up" % (p, PEERS[p][0]),
              up and encrypted(counts), counts)
    check("hub: the second network behind peer 1 answers too",
          subprocess.run(["ip", "netns", "exec", lab.hosts[0], "ping", "-c", "1", "-W", "2",
                          "10.99.21.1"], stdout=subprocess.DEVNULL).returncode == 0
          or lab.ping_until(0, 1, 1))
    rc, out, err = lab.ipsecctl(0, "-s", "all")
    check("hub: -s all shows FLOWS, SAD and the IKE SAs with identities and traffic",
          rc == 0 and "IKE SAs:" in out and ikelab.conn(wan(3)) in out
          and "srcid gw0.example dstid gw2.example" in out
          and re.search(r"bytes in [1-9]\d* out [1-9]", out), out + err)
    if ARGS.kernel == "netlink":
        # The daemon's flows carry its identities, as OpenBSD's kernel
        # keeps them: addresses for the active peer, names for dynamic ones.
        check("hub: charon's flows show srcid and dstid, as on OpenBSD",
              "flow esp out from %s to %s local %s peer %s srcid %s/32 dstid %s/32 type require"
              % (lan(0), lan(1), wan(0), wan(1), wan(0), wan(1)) in out
              and "flow esp out from %s to %s local %s peer %s srcid gw0.example dstid "
              "gw2.example type require" % (lan(0), lan(2), wan(0), wan(2)) in out, out)
    print("     " + out.strip().replace("\n", "\n     "))

    # One peer goes offline; the hub reloads: nothing else is touched.
    before = uniqueids(lab, 0)
    peer_offline(lab, 3)
    mark = log_size(lab, 0)
    t0 = time.monotonic()
    rc, out, err = lab.ipsecctl(0, "-f", main)
    took = time.monotonic() - t0
    check("hub: with peer 3 offline, reloading ipsec.conf succeeds at once",
          rc == 0 and took < 10, "rc %d in %.1f s: %s" % (rc, took, err))
    with open(lab.log(0), errors="replace") as f:
        f.seek(mark)
        loaded = [l for l in f if "vici connection" in l or "loaded IKE shared key" in l]
    check("hub: ... the unchanged reload sends charon nothing", loaded == [], loaded)
    after = uniqueids(lab, 0)
    check("hub: ... the tunnels to peers 1 and 2 stay up, the same IKE SAs",
          all(after.get(ikelab.conn(wan(p))) == before.get(ikelab.conn(wan(p))) is not None
              for p in (1, 2)) and lab.ping(0, 1) and lab.ping(0, 2), (before, after))

    # --wait names the tunnel that is not up, with charon's account.
    rc, out, err = lab.ipsecctl(0, "-F")
    rc, out, err = lab.ipsecctl(0, "--wait=15", "-f", main)
    check("hub: --wait exits 1 naming the tunnel to the offline peer, and only that one",
          rc == 1 and wan(3) in err and wan(1) not in err and wan(2) not in err, err)
    check("hub: ... and unloads nothing (all three connections stay in charon)",
          all(ikelab.conn(wan(p)) in lab.conns(0) for p in (1, 2, 3)), lab.conns(0))
    print("     " + err.strip().replace("\n", "\n     "))

    # -d -f peer3.conf takes out that peer alone.
    rc, out, err = lab.ipsecctl(0, "-d", "-f", os.path.join(d, "peer3.conf"))
    conns = lab.conns(0)
    check("hub: -d -f peer3.conf removes only that peer",
          rc == 0 and ikelab.conn(wan(3)) not in conns and ikelab.conn(wan(1)) in conns
          and ikelab.conn(wan(2)) in conns and lab.ping_until(0, 1, 10) and lab.ping_until(0, 2, 10),
          (err, conns))

    # The seed's cycle: -F takes all tunnels down, -f brings them back.
    rc, out, err = lab.ipsecctl(0, "-F")
    conns = lab.conns(0)
    installed = lab.installed(0)
    check("hub: -F takes every tunnel down (kernel flushed, ipsecctl's connections and their "
          "SAs out of charon)", rc == 0 and not any(c.startswith("peer-") for c in conns)
          and not installed, (err, conns, installed))
    rc, out, err = lab.ipsecctl(0, "-f", main)
    check("hub: -f after -F brings them back",
          rc == 0 and lab.ping_until(0, 1, 20) and lab.ping_until(0, 2, 20), err)
    rc, out, err = peer_online(lab, tmp, 3)
    check("hub: peer 3 comes back and its tunnel comes up", rc == 0 and lab.ping_until(0, 3, 30),
          err)
    return main, d


def edited_reload(lab, tmp, main, d):
    """Drop peer 2 and peer 1's second network: exactly those leave the
    kernel and charon; the rest is not touched at all."""
    for p in (1, 2, 3):
        lab.ping_until(0, p, 20)
    # Peer 3 and the hub may both have started it: let the duplicate go.
    settle(lab, (0,), lambda i: ikelab.conn(wan(3)), 30)
    before = uniqueids(lab, 0)
    kept_children = {c.get("spi-in") for ike, c in lab.installed(0, ikelab.conn(wan(3)))}
    write_private(d, "peer1.conf", seed_rule("active", 0, 1, PEERS[1][1]))
    write_private(d, "ipsec.conf", 'include "%s/peer1.conf"\ninclude "%s/peer3.conf"\n' % (d, d))
    monitor = None
    if ARGS.kernel == "netlink":
        out = tempfile.TemporaryFile()
        monitor = (subprocess.Popen(["ip", "netns", "exec", lab.gw[0], "ip", "xfrm", "monitor"],
                                    stdout=out, stderr=subprocess.STDOUT), out)
        time.sleep(0.5)
    rc, _, err = lab.ipsecctl(0, "-f", main)
    time.sleep(2)
    events = ""
    if monitor:
        monitor[0].terminate()
        monitor[0].wait(timeout=10)
        monitor[1].seek(0)
        events = monitor[1].read().decode()
    conns = lab.conns(0)
    check("edit: the dropped peer leaves charon", rc == 0 and ikelab.conn(wan(2)) not in conns
          and ikelab.conn(wan(1)) in conns and ikelab.conn(wan(3)) in conns, (err, conns))
    remote = {ts for ike, c in lab.installed(0, ikelab.conn(wan(1))) for ts in c.get("remote-ts", [])}
    check("edit: the dropped network's child SA is gone, the other network's stays",
          "10.99.21.0/24" not in remote and lan(1) in remote, remote)
    after = uniqueids(lab, 0)
    check("edit: the unchanged peers keep their IKE SAs",
          after.get(ikelab.conn(wan(3))) == before.get(ikelab.conn(wan(3)))
          and after.get(ikelab.conn(wan(1))) == before.get(ikelab.conn(wan(1))), (before, after))
    now_children = {c.get("spi-in") for ike, c in lab.installed(0, ikelab.conn(wan(3)))}
    check("edit: the unchanged peer's child SA is the same one",
          kept_children and kept_children == now_children, (kept_children, now_children))
    if monitor:
        # Changes only: the kernel's replay-timer notices ("Async event")
        # are not changes.
        blocks, current = [], []
        for line in events.splitlines():
            if line[:1] not in (" ", "\t") and current:
                blocks.append("\n".join(current))
                current = []
            current.append(line)
        if current:
            blocks.append("\n".join(current))
        changes = "\n".join(b for b in blocks if not b.startswith("Async event"))
        check("edit: ip xfrm monitor sees no change for the unchanged peer",
              wan(3) not in changes and lan(3).split("/")[0] not in changes, changes[:2000])
        check("edit: ... and sees the dropped peer's SAs go", wan(2) in changes, changes[:2000])
    check("edit: the dropped peer is unreachable, the others answer",
          not lab.ping(0, 2, count=1) and lab.ping(0, 1) and lab.ping(0, 3))


# --- 3. route-based: `interface sec1` over XFRM interfaces ---------------------------

def route_based(lab, tmp):
    fresh_daemons(lab, (0, 1))
    confs = {}
    for i in (0, 1):
        confs[i] = write_private(tmp, "sec%d.conf" % i,
                              "ike dynamic interface sec1 peer %s psk \"routed\"\n" % wan(1 - i))
    rc, _, err = lab.ipsecctl(0, "-f", confs[0])
    check("route-based: without sec1, the error says so and gives the command",
          rc == 1 and "no XFRM interface has if_id 1" in err
          and "ip link add sec1 type xfrm dev wan if_id 1" in err, err)
    lab.sh("ip", "link", "add", "sec1", "type", "xfrm", "dev", "wan", "if_id", "7", ns=lab.gw[0])
    rc, _, err = lab.ipsecctl(0, "-f", confs[0])
    check("route-based: sec1 with another if_id: the error names both",
          rc == 1 and "if_id 7" in err and "means if_id 1" in err, err)
    lab.sh("ip", "link", "del", "sec1", ns=lab.gw[0])
    for i in (0, 1):
        lab.sh("ip", "link", "add", "sec1", "type", "xfrm", "dev", "wan", "if_id", "1",
               ns=lab.gw[i])
        lab.sh("ip", "link", "set", "sec1", "up", ns=lab.gw[i])
        lab.sh("ip", "route", "add", lan(1 - i), "dev", "sec1", ns=lab.gw[i])
    rcs = [lab.ipsecctl(i, "-f", confs[i]) for i in (0, 1)]
    check("route-based: both gateways load", all(r[0] == 0 for r in rcs), rcs)
    up, counts = sniff(lab, 0, 12, lambda: lab.ping_until(0, 1, 10))
    check("route-based: LAN to LAN over sec1, ESP on the wire", up and encrypted(counts),
          "%s\n%s" % (counts, evidence(lab, (0, 1))))
    stats = lab.sh("ip", "-s", "link", "show", "sec1", ns=lab.gw[0]).stdout.decode()
    tx = re.search(r"TX:.*\n\s+(\d+)\s+(\d+)", stats)
    check("route-based: the packets went through sec1", tx and int(tx.group(2)) > 0, stats)
    for i in (0, 1):
        lab.ipsecctl(i, "-d", "-f", confs[i])
        lab.sh("ip", "link", "del", "sec1", ns=lab.gw[i])


# --- 4. libreswan's pluto as the foreign peer ----------------------------------------

def libreswan(lab, tmp):
    """libreswan accepting IKEv1, main mode with a PSK; then with raw RSA
    keys (its own from its NSS database, gw0's from isakmpd's layout)."""
    pluto_peer(lab, tmp, "1")
    pluto_peer(lab, tmp, "1", rsa=True)


def pluto_peer(lab, tmp, version, rsa=False):
    """pluto on gw1 as ipsecctl's peer on gw0: IKEv1 (ikev1-policy=accept)
    or IKEv2 as libreswan ships now (ikev1-policy=drop)."""
    what = "libreswan" if version == "1" else "libreswan IKEv2"
    if rsa:
        what += " with RSA keys"
    pluto = shutil.which("pluto") or ("/usr/libexec/ipsec/pluto"
                                      if os.path.exists("/usr/libexec/ipsec/pluto") else None)
    if not pluto:
        check("%s: pluto is available in this guest" % what, False,
              "no pluto: the guest overlay lacks libreswan")
        return
    fresh_daemons(lab, (0,))
    lab.stop(1)
    d = os.path.join(tmp, "pluto-v" + version + ("-rsa" if rsa else ""))
    os.makedirs(os.path.join(d, "run"), exist_ok=True)
    os.makedirs(os.path.join(d, "nss"), exist_ok=True)
    lab.sh("certutil", "-N", "-d", "sql:" + os.path.join(d, "nss"), "--empty-password")
    root = None
    auth = "authby=secret"
    if rsa:
        # pluto's key in its NSS database; each side trusts the other's.
        ipsec = shutil.which("ipsec") or "/usr/sbin/ipsec"
        made = subprocess.run([ipsec, "newhostkey", "--nssdir", os.path.join(d, "nss"),
                               "--bits", "3072"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT).stdout.decode()
        ckaid = re.search(r"CKAID ([0-9a-f]+)", made)
        if not ckaid:
            check("%s: libreswan makes its host key" % what, False, made)
            return
        pem = subprocess.run([ipsec, "showhostkey", "--nssdir", os.path.join(d, "nss"),
                              "--ckaid", ckaid.group(1), "--pem"], stdout=subprocess.PIPE,
                             check=True).stdout.decode()
        root = keylab.key_root(os.path.join(d, "keys"))
        keylab.host_key(root)
        with open(os.path.join(root, "pubkeys", "ipv4", wan(1)), "w") as f:
            f.write(pem)
        auth = ("authby=rsasig\n    leftckaid=%s\n    rightrsasigkey=%s" %
                (ckaid.group(1), keylab.rfc3110(os.path.join(root, "local.pub"))))
    suites = ("ikev2=no\n    ike=aes256-sha2_256;modp2048\n    phase2alg=aes256-sha2_256;modp2048"
              "\n    ikelifetime=24h\n    salifetime=2h" if version == "1" else
              "ikev2=yes\n    ike=aes256-sha2_256;modp2048\n    esp=aes256-sha2_256;modp2048")
    with open(os.path.join(d, "ipsec.conf"), "w") as f:
        f.write("""config setup
    ikev1-policy=%s
    protostack=xfrm
    logfile=%s/pluto.log
conn gw
    %s
    left=%s
    leftsubnet=%s
    right=%s
    rightsubnet=%s
    rightid=%s
    %s
    auto=add
""" % ("accept" if version == "1" else "drop", d, auth, wan(1), lan(1), wan(0), lan(0),
       wan(0) if rsa else "@" + ikelab.hostname(0), suites))
    secret = "pluto secret v" + version
    with open(os.path.join(d, "ipsec.secrets"), "w") as f:
        # pluto, the responder, looks the secret up by its own address and
        # the identity the ipsecctl side will show: its host name.
        f.write('%s @%s : PSK "%s"\n' % (wan(1), ikelab.hostname(0), secret))
    proc = subprocess.Popen(lab.in_gateway(1, [
        "sh", "-c", "mount --bind %s/run /run && exec %s --nofork --config %s/ipsec.conf "
        "--secretsfile %s/ipsec.secrets --nssdir %s/nss --rundir /run" % (d, pluto, d, d, d)]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        # With keys gw0 shows its address (active, no srcid), as pluto's
        # rightid says.
        conf = write_private(tmp, "pluto-v%s%s.conf" % (version, "-rsa" if rsa else ""),
                             seed_rule("active" if rsa else "dynamic", 0, 1,
                                       None if rsa else secret))
        keys = ["--keys", root] if root else []
        rc, _, err = lab.ipsecctl(0, *keys, "--ike-version", version, "-f", conf)
        check("%s: ipsecctl with charon loads against pluto%s" % (
            what, "" if version == "1" else " (ikev1-policy=drop), --ike-version 2"), rc == 0, err)
        lab.sh("ip", "route", "replace", lan(0), "via", wan(0), ns=lab.gw[1])
        up, counts = sniff(lab, 0, 12, lambda: lab.ping_until(0, 1, 10))
        try:
            with open(os.path.join(d, "pluto.log"), errors="replace") as f:
                pluto_log = "".join(f.readlines()[-30:])
        except OSError:
            pluto_log = ""
        check("%s: IKEv%s with pluto, LAN to LAN over ESP" % (what, version),
              up and encrypted(counts) and (version == "1" or established_v2(lab, 0)),
              "%s\n--- pluto\n%s\n%s" % (counts, pluto_log, evidence(lab, (0,))))
        lab.ipsecctl(0, *keys, "-d", "-f", conf)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        lab.sh("ip", "route", "del", lan(0), ns=lab.gw[1], check_rc=False)


# --- 5. IKEv2: seed 002's route-based tunnel, libreswan and OpenBSD's iked ---------

def ping_until(lab, i, address, seconds):
    """Host i pings `address` (either family) once a second until it answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if lab.sh("ping", "-c", "1", "-W", "1", address, ns=lab.hosts[i],
                  check_rc=False).returncode == 0:
            return True
    return False


def established_v2(lab, i):
    """(IKE SA, child) pairs of gateway i that are IKEv2."""
    return [(ike, c) for ike, c in lab.installed(i) if ike.get("version") == "2"]


def routed_v2(lab, tmp):
    """Seed 002's tunnel as its author runs it: IPv6 endpoints, both
    families through one XFRM interface, AES-256-GCM and ECP384 on both
    SAs, IKEv2 only. gw0 loads while gw1 is not configured yet; then gw1's
    charon dies and comes back, and the unit's reload loads the file."""
    fresh_daemons(lab, (0, 1))
    wan6 = lambda i: "fd00:99::%d" % (i + 1)  # noqa: E731
    lan6 = lambda i: "fd00:99:%d::" % (10 + i)  # noqa: E731
    confs = {}
    for i in (0, 1):
        g, h = lab.gw[i], lab.hosts[i]
        lab.sh("ip", "addr", "add", wan6(i) + "/64", "dev", "wan", "nodad", ns=g)
        lab.sh("ip", "addr", "add", lan6(i) + "1/64", "dev", "lan", "nodad", ns=g)
        lab.sh("ip", "addr", "add", lan6(i) + "2/64", "dev", "eth0", "nodad", ns=h)
        lab.sh("ip", "-6", "route", "add", "default", "via", lan6(i) + "1", ns=h)
        lab.sh("sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding", ns=g)
        lab.sh("ip", "link", "add", "sec6", "type", "xfrm", "dev", "wan", "if_id", "6", ns=g)
        lab.sh("ip", "link", "set", "sec6", "up", ns=g)
        # replace: a scenario before may have left its own route there
        # (pluto installs one toward the other LAN).
        lab.sh("ip", "route", "replace", lan(1 - i), "dev", "sec6", ns=g)
        lab.sh("ip", "-6", "route", "replace", lan6(1 - i) + "/64", "dev", "sec6", ns=g)
        confs[i] = write_private(tmp, "routed-v2-%d.conf" % i, (
            "ipsecctl_ike_version = \"2\"\n"
            "ike dynamic interface sec6 local %s peer %s \\\n"
            "  main auth hmac-sha2-384 enc aes-256-gcm group ecp384 lifetime 86400 \\\n"
            "  quick enc aes-256-gcm group ecp384 lifetime 3600 psk \"junos\"\n")
            % (wan6(i), wan6(1 - i)))
    rc0, _, err0 = lab.ipsecctl(0, "-f", confs[0])
    time.sleep(5)
    t0 = time.monotonic()
    rc1, _, err1 = lab.ipsecctl(1, "-f", confs[1])
    check("IKEv2 route-based (IPv6 endpoints): gw0 loads before its peer has the file, then gw1",
          rc0 == 0 and rc1 == 0, (err0, err1))
    up6, counts = sniff(lab, 0, 15, lambda: ping_until(lab, 0, lan6(1) + "2", 13))
    check("... IPv6 LAN to LAN over sec6 (%.1f s), ESP over IPv6 on the wire"
          % (time.monotonic() - t0), up6 and encrypted(counts),
          "%s\n%s" % (counts, evidence(lab, (0, 1))))
    check("... and IPv4 through the same tunnel", ping_until(lab, 0, host(1), 10))
    sas = established_v2(lab, 0)
    algs = [(ike.get("encr-alg"), ike.get("encr-keysize"), ike.get("prf-alg"), ike.get("dh-group"),
             c.get("encr-alg"), c.get("encr-keysize")) for ike, c in sas]
    check("... IKEv2 with the document's suites (AES-256-GCM, PRF SHA-384, ECP384)",
          algs and all(a == ("AES_GCM_16", "256", "PRF_HMAC_SHA2_384", "ECP_384", "AES_GCM_16",
                             "256") for a in algs), algs)
    lab.stop(1)
    time.sleep(1)
    lab.start(1)
    t0 = time.monotonic()
    rc, _, err = lab.ipsecctl(1, "-f", confs[1])
    back = ping_until(lab, 0, lan6(1) + "2", 30)
    check("... gw1's charon dies and comes back, the file is loaded again: the tunnel is back "
          "(%.1f s)" % (time.monotonic() - t0), rc == 0 and back, (err, evidence(lab, (0, 1))))
    for i in (0, 1):
        lab.ipsecctl(i, "-d", "-f", confs[i])
        lab.sh("ip", "link", "del", "sec6", ns=lab.gw[i])


def iked_routed(lab, tmp):
    """iked.conf's route-based tunnel: `from any to any ... iface xfrm7`
    (sec(4) on OpenBSD; an XFRM interface here), both gateways from
    iked.conf. Routes into the interface decide what goes through it."""
    fresh_daemons(lab, (0, 1))
    confs = {}
    for i in (0, 1):
        g = lab.gw[i]
        lab.sh("ip", "link", "add", "xfrm7", "type", "xfrm", "dev", "wan", "if_id", "7", ns=g)
        lab.sh("ip", "link", "set", "xfrm7", "up", ns=g)
        lab.sh("ip", "route", "replace", lan(1 - i), "dev", "xfrm7", ns=g)
        confs[i] = write_private(tmp, "iked-routed-%d.conf" % i, (
            "ikev2 \"routed\" %s esp from any to any local %s peer %s \\\n"
            "  ikesa enc aes-256-gcm prf hmac-sha2-384 group ecp384 \\\n"
            "  childsa enc aes-256 auth hmac-sha2-256 \\\n"
            "  psk \"routed secret\" iface xfrm7\n")
            % ("active" if i == 0 else "passive", wan(i), wan(1 - i)))
    rc1, _, err1 = lab.ipsecctl(1, "--iked", "-f", confs[1])
    rc0, _, err0 = lab.ipsecctl(0, "--iked", "--wait=20", "-f", confs[0])
    check("iked routed: both load (iface xfrm7 is the XFRM interface's if_id 7), tunnel up",
          rc0 == 0 and rc1 == 0, (err0, err1, evidence(lab, (0, 1))))
    up, counts = sniff(lab, 0, 15, lambda: lab.ping_until(0, 1, 13))
    check("iked routed: LAN to LAN through xfrm7, ESP on the wire", up and encrypted(counts),
          "%s\n%s" % (counts, evidence(lab, (0, 1))))
    for i in (0, 1):
        lab.ipsecctl(i, "--iked", "-d", "-f", confs[i])
        lab.sh("ip", "link", "del", "xfrm7", ns=lab.gw[i])
        lab.sh("ip", "route", "del", lan(1 - i), ns=lab.gw[i], check_rc=False)


def libreswan_v2(lab, tmp):
    """libreswan as it ships now (ikev1-policy=drop), IKEv2 only."""
    pluto_peer(lab, tmp, "2")


def iked_peer(lab, tmp):
    """OpenBSD's own IKEv2 daemon (Debian's openiked, over PF_KEY) on gw1,
    with the iked.conf that matches gw0's ipsec.conf: with a PSK, then
    with raw public keys (iked's own ECDSA key, as its package makes it,
    and gw0's RSA key from isakmpd's layout). Its suites are the ones it
    can install on Linux: AES-CBC with HMAC-SHA1 for the child, without
    PFS (see ../shared/reference/labs/ike-kernel/NOTES.md)."""
    iked = shutil.which("iked") or "/usr/sbin/iked"
    if not os.path.exists(iked):
        check("iked: OpenBSD's iked is available in this guest", False, "no iked")
        return
    # What the package's maintainer scripts would make: the unprivileged
    # user's home, and the host key pair (ECDSA P-256).
    if subprocess.run(["id", "_iked"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        lab.sh("useradd", "--system", "--no-create-home", "--home-dir",
               "/var/lib/openiked/empty", "--shell", "/usr/sbin/nologin", "_iked")
    os.makedirs("/var/lib/openiked/empty", exist_ok=True)
    os.makedirs("/etc/iked/private", exist_ok=True)
    os.makedirs("/etc/iked/pubkeys/ipv4", exist_ok=True)
    if not os.path.exists("/etc/iked/private/local.key"):
        lab.sh("openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out",
               "/etc/iked/private/local.key")
        lab.sh("openssl", "ec", "-in", "/etc/iked/private/local.key", "-pubout", "-out",
               "/etc/iked/local.pub")
    # gw0's keys, as isakmpd has them; each side trusts the other's raw key.
    root = keylab.key_root(os.path.join(tmp, "keys-iked-gw0"))
    keylab.host_key(root)
    keylab.trust_raw_key(root, "/etc/iked", "iked.example", folder="fqdn")
    shutil.copy(os.path.join(root, "local.pub"), "/etc/iked/pubkeys/ipv4/" + wan(0))
    for auth in ("psk", "keys"):
        # gw0 speaks first ipsec.conf's ike rule, then the very policy
        # iked has, in iked.conf (ipsecctl --iked).
        for language in ("ipsec.conf", "iked.conf"):
            fresh_daemons(lab, (0,))
            lab.stop(1)
            iked_round(lab, tmp, iked, auth, root, language)
    os.unlink("/etc/iked/pubkeys/ipv4/" + wan(0))


def iked_round(lab, tmp, iked, auth, root, language):
    what = "iked (%s; gw0 loads %s)" % (
        "PSK" if auth == "psk" else "raw keys: its ECDSA, gw0's RSA", language)
    conf = write_private(tmp, "iked-%s.conf" % auth, (
        "ikev2 \"gw0\" passive esp from %s to %s local %s peer %s \\\n"
        "  ikesa enc aes-256 prf hmac-sha2-256 auth hmac-sha2-256 group modp2048 \\\n"
        "  childsa enc aes-256 auth hmac-sha1 \\\n"
        "  srcid iked.example dstid %s%s\n")
        % (lan(1), lan(0), wan(1), wan(0), ikelab.hostname(0) if auth == "psk" else wan(0),
           ' psk "iked secret"' if auth == "psk" else ""))
    log = open(os.path.join(tmp, "iked.log"), "w")
    proc = subprocess.Popen(["ip", "netns", "exec", lab.gw[1], iked, "-T", "-dv", "-f", conf],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        # iked installs flows and SAs but no route toward the other LAN.
        lab.sh("ip", "route", "replace", lan(0), "via", wan(0), ns=lab.gw[1])
        # iked prints its policies once it has loaded them: only then does
        # it answer (on a slow guest, a peer that starts earlier has its
        # retransmitted first messages answered twice, and gives up).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log.flush()
            with open(os.path.join(tmp, "iked.log"), errors="replace") as f:
                if 'ikev2 "gw0"' in f.read():
                    break
            time.sleep(0.5)
        time.sleep(2)
        # With keys gw0 shows its address (active, no srcid): iked finds its
        # key under pubkeys/ipv4/.
        if language == "iked.conf":
            # The same policy, from gw0's side: with a PSK gw0 names itself
            # as the ipsec.conf rule's `dynamic` would (its host name).
            rule = write_private(tmp, "to-iked-%s-iked.conf" % auth, (
                "ikev2 \"gw1\" active esp from %s to %s local %s peer %s \\\n"
                "  ikesa enc aes-256 prf hmac-sha2-256 auth hmac-sha2-256 group modp2048 \\\n"
                "  childsa enc aes-256 auth hmac-sha1 \\\n"
                "  %sdstid iked.example%s\n")
                % (lan(0), lan(1), wan(0), wan(1),
                   "srcid %s " % ikelab.hostname(0) if auth == "psk" else "",
                   ' psk "iked secret"' if auth == "psk" else ""))
            rc, _, err = lab.ipsecctl(0, "--iked", "--keys", root, "-f", rule)
            check("%s: ipsecctl --iked loads the policy iked has" % what, rc == 0, err)
            rc, out, err = lab.ipsecctl(0, "--iked", "--keys", root, "--diff", "-f", rule)
            check("%s: a second look finds nothing to change (--diff exit 0)" % what,
                  rc == 0, (out, err))
        else:
            rule = write_private(tmp, "to-iked-%s.conf" % auth, (
                "ipsecctl_ike_version = \"2\"\n"
                "ike %s esp from %s to %s peer %s \\\n"
                "  main auth hmac-sha2-256 enc aes-256 group modp2048 \\\n"
                "  quick auth hmac-sha1 enc aes-256 group none \\\n"
                "  dstid iked.example%s\n")
                % ("dynamic" if auth == "psk" else "active", lan(0), lan(1), wan(1),
                   ' psk "iked secret"' if auth == "psk" else ""))
            rc, _, err = lab.ipsecctl(0, "--keys", root, "-f", rule)
            check("%s: ipsecctl loads the IKEv2 rule that matches iked.conf" % what, rc == 0, err)
        # iked on a loaded guest can take most of a minute to answer.
        up, counts = sniff(lab, 0, 62, lambda: lab.ping_until(0, 1, 60))
        log.flush()
        with open(os.path.join(tmp, "iked.log"), errors="replace") as f:
            iked_log = "".join(f.readlines()[-30:])
        check("%s: IKEv2 with OpenBSD's iked, LAN to LAN over ESP" % what,
              up and encrypted(counts) and established_v2(lab, 0),
              "%s\n--- iked\n%s\n%s" % (counts, iked_log, evidence(lab, (0,))))
        if language == "iked.conf":
            rc, _, err = lab.ipsecctl(0, "--iked", "--keys", root, "-d", "-f", rule)
            conns = lab.conns(0)
            check("%s: -d takes the connection out of charon" % what,
                  rc == 0 and "gw1" not in conns, (err, conns))
        else:
            lab.ipsecctl(0, "--keys", root, "-d", "-f", rule)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        subprocess.run(["pkill", "-f", "iked -T -dv -f " + conf])
        for cmd in (("xfrm", "state", "flush"), ("xfrm", "policy", "flush"),
                    ("route", "del", lan(0))):
            lab.sh("ip", *cmd, ns=lab.gw[1], check_rc=False)


# --- 6. Public keys and certificates, as isakmpd finds them ----------------

def keys_of(lab, i):
    """The private key ids charon holds."""
    return ikelab.vici_call(lab.socket(i), "get-keys").get("keys", [])


def keys_up(lab, what, confs, roots, version="1"):
    """gw1 answers, gw0 starts with --wait; the tunnel must carry ESP."""
    rc1, _, err1 = lab.ipsecctl(1, "--keys", roots[1], "--ike-version", version, "-f", confs[1])
    rc0, _, err0 = lab.ipsecctl(0, "--keys", roots[0], "--ike-version", version, "--wait=20",
                                "-f", confs[0])
    check("%s: both load, and the tunnel comes up (--wait: exit 0)" % what,
          rc0 == 0 and rc1 == 0, (err0, err1, evidence(lab, (0, 1))))
    up, counts = sniff(lab, 0, 12, lambda: lab.ping_until(0, 1, 10))
    check("... LAN to LAN over ESP", up and encrypted(counts), counts)
    versions = [ike.get("version") for ike, _ in lab.installed(0)]
    check("... IKEv%s" % version, versions and all(v == version for v in versions), versions)


def keys_raw(lab, tmp):
    """isakmpd's default: RSA signatures with raw keys (private/local.key,
    local.pub, the peer's under pubkeys/ipv4/ADDRESS), IKEv1."""
    fresh_daemons(lab, (0, 1))
    roots = {i: keylab.key_root(os.path.join(tmp, "keys-raw-%d" % i)) for i in (0, 1)}
    for i in (0, 1):
        keylab.host_key(roots[i])
    for i in (0, 1):
        keylab.trust_raw_key(roots[i], roots[1 - i], wan(1 - i))
    confs = {i: write_private(tmp, "raw%d.conf" % i, seed_rule(
        ("active", "passive")[i], i, 1 - i, None)) for i in (0, 1)}
    keys_up(lab, "raw RSA keys in isakmpd's layout", confs, roots)
    check("... charon holds this host's private key, loaded once", len(keys_of(lab, 0)) == 1,
          keys_of(lab, 0))
    rc, out, _ = lab.ipsecctl(0, "-s", "all")
    check("... -s all shows the IKE SA's authentication and the peer's identity",
          "auth pubkey" in out and "dstid %s" % wan(1) in out, out)
    rc, out, _ = lab.ipsecctl(0, "--keys", roots[0], "--diff", "-f", confs[0])
    check("... --diff of the unchanged file: nothing to do (exit 0)", rc == 0, out)
    # A new key pair for gw0 (and gw1 told of it): the reload loads the
    # new key and takes the old one out.
    before = keys_of(lab, 0)
    keylab.host_key(roots[0])
    keylab.trust_raw_key(roots[1], roots[0], wan(0))
    rc, out, _ = lab.ipsecctl(0, "--keys", roots[0], "--diff", "-f", confs[0])
    check("... a new local.key: --diff names it and the connection (exit 2)",
          rc == 2 and "~ charon (VICI) key " + roots[0] + "/private/local.key" in out and
          "~ charon (VICI) connection " + ikelab.conn(wan(1)) in out, out)
    lab.ipsecctl(1, "--keys", roots[1], "-f", confs[1])
    rc, _, err = lab.ipsecctl(0, "--keys", roots[0], "-f", confs[0])
    after = keys_of(lab, 0)
    check("... the reload loads it and takes the old one out of charon",
          rc == 0 and len(after) == 1 and after != before, (before, after, err))
    conn = ikelab.conn(wan(1))
    ikelab.vici_call(lab.socket(0), "terminate", {"ike": conn, "timeout": "-1"})
    child = "from-%s-to-%s" % (lan(0).replace(".", "_"), lan(1).replace(".", "_"))
    ikelab.vici_call(lab.socket(0), "initiate", {"child": child, "ike": conn, "timeout": "-1"})
    check("... and the next negotiation signs with it", lab.ping_until(0, 1, 30),
          evidence(lab, (0, 1)))
    # A wrong key for the peer: the connection changes, and the tunnel is
    # refused with charon's reason.
    for i in (0, 1):
        lab.ipsecctl(i, "--keys", roots[i], "-d", "-f", confs[i])
    check("... -d -f takes the private key out of charon again", keys_of(lab, 0) == [],
          keys_of(lab, 0))
    fresh_daemons(lab, (0, 1))
    other = keylab.key_root(os.path.join(tmp, "keys-raw-other"))
    keylab.host_key(other)
    keylab.trust_raw_key(roots[0], other, wan(1))
    rc, out, _ = lab.ipsecctl(0, "--keys", roots[0], "--diff", "-f", confs[0])
    lab.ipsecctl(1, "--keys", roots[1], "-f", confs[1])
    rc, _, err = lab.ipsecctl(0, "--keys", roots[0], "--wait=15", "-f", confs[0])
    check("a peer key that does not match: --wait exits 1 with charon's reason",
          rc == 1 and "no trusted RSA public key found for '%s'" % wan(1) in err, err)
    print("     " + err.strip().replace("\n", "\n     "))
    for i in (0, 1):
        lab.ipsecctl(i, "--keys", roots[i], "-d", "-f", confs[i])
    # Keys that cannot work: refused before anything is sent.
    empty = keylab.key_root(os.path.join(tmp, "keys-none"))
    rc, _, err = lab.ipsecctl(0, "--keys", empty, "-f", confs[0])
    check("no private key: exit 1, the rule's file:line and the key's path; charon untouched",
          rc == 1 and "raw0.conf: 3:" in err and empty + "/private/local.key" in err and
          ikelab.conn(wan(1)) not in lab.conns(0), err)
    os.chmod(os.path.join(roots[0], "private", "local.key"), 0o644)
    rc, _, err = lab.ipsecctl(0, "--keys", roots[0], "-f", confs[0])
    check("a private key others can read is refused, as isakmpd refuses it",
          rc == 1 and "mode 0644" in err and ikelab.conn(wan(1)) not in lab.conns(0), err)
    os.chmod(os.path.join(roots[0], "private", "local.key"), 0o600)


def keys_x509(lab, tmp):
    """X.509 from a CA made with openssl, certificates named by each
    gateway's address: IKEv1, then IKEv2; then certificates that cannot
    work, refused at the rule."""
    ca = keylab.make_ca(os.path.join(tmp, "x509-ca"))
    roots = {}
    for i in (0, 1):
        roots[i] = keylab.key_root(os.path.join(tmp, "keys-x509-%d" % i))
        keylab.host_key(roots[i])
        keylab.certify(roots[i], ca, "IP:" + wan(i), "gw%d" % i)
    confs = {i: write_private(tmp, "x509-%d.conf" % i, seed_rule(
        ("active", "passive")[i], i, 1 - i, None)) for i in (0, 1)}
    for version in ("1", "2"):
        fresh_daemons(lab, (0, 1))
        keys_up(lab, "X.509 certificates from a CA in ca/ (IKEv%s)" % version, confs, roots,
                version)
        if version == "2":
            rc, _, err = lab.ipsecctl(0, "-F")
            check("... -F takes the private key out of charon with the connections",
                  rc == 0 and keys_of(lab, 0) == [] and not lab.conns(0),
                  (err, keys_of(lab, 0), lab.conns(0)))
        for i in (0, 1):
            lab.ipsecctl(i, "--keys", roots[i], "-d", "-f", confs[i])
    fresh_daemons(lab, (0,))
    expired = keylab.key_root(os.path.join(tmp, "keys-expired"))
    keylab.host_key(expired)
    keylab.certify(expired, ca, "IP:" + wan(0), "old", days=-1)
    rc, _, err = lab.ipsecctl(0, "--keys", expired, "-f", confs[0])
    check("an expired certificate: exit 1 naming it, nothing loaded",
          rc == 1 and "old.crt expired on" in err and not lab.conns(0), err)
    stranger = keylab.make_ca(os.path.join(tmp, "x509-other-ca"), name="another CA")
    foreign = keylab.key_root(os.path.join(tmp, "keys-foreign"))
    keylab.host_key(foreign)
    keylab.certify(foreign, stranger, "IP:" + wan(0), "foreign")
    with open(ca[1]) as f, open(os.path.join(foreign, "ca", "ca.crt"), "w") as g:
        g.write(f.read())  # ca/ trusts the lab's CA, which did not sign it
    rc, _, err = lab.ipsecctl(0, "--keys", foreign, "-f", confs[0])
    check("a certificate no CA in ca/ signed: exit 1 with OpenSSL's reason",
          rc == 1 and "is not signed by a CA in" in err and not lab.conns(0), err)
    named = write_private(tmp, "x509-srcid.conf", seed_rule("active", 0, 1, None,
                                                             ids="srcid gw9.example"))
    rc, _, err = lab.ipsecctl(0, "--keys", roots[0], "-f", named)
    check("a certificate that does not name the rule's srcid: exit 1, naming both",
          rc == 1 and "gw9.example" in err and "x509-srcid.conf: 3:" in err and
          not lab.conns(0), err)


# --- 7. iked.conf on both sides (ipsecctl --iked) ------------------------------

def iked_pair(lab, tmp):
    """Two gateways with mirrored iked.conf files, as two OpenBSD iked
    gateways would have them: gw0 active, gw1 passive, a PSK. Loaded,
    up, edited (a proposal changes: only that connection is replaced),
    and taken out again."""
    fresh_daemons(lab, (0, 1))

    def policy(i, enc):
        return ("lan_local = \"%s\"\n"
                "ikev2 \"to-gw%d\" %s esp from $lan_local to %s local %s peer %s \\\n"
                "  ikesa enc %s prf hmac-sha2-256 auth hmac-sha2-256 group ecp256 \\\n"
                "  childsa enc aes-256 auth hmac-sha2-256 group ecp256 \\\n"
                "  srcid gw%d.example dstid gw%d.example ikelifetime 1h lifetime 10m \\\n"
                "  psk \"pair secret\"\n"
                % (lan(i), 1 - i, "active" if i == 0 else "passive", lan(1 - i), wan(i),
                   wan(1 - i), enc, i, 1 - i))
    confs = {i: write_private(tmp, "pair%d.iked.conf" % i, policy(i, "aes-256")) for i in (0, 1)}
    rc1, _, err1 = lab.ipsecctl(1, "--iked", "-f", confs[1])
    rc0, _, err0 = lab.ipsecctl(0, "--iked", "--wait=20", "-f", confs[0])
    check("iked pair: both load their iked.conf, the tunnel comes up (--wait: exit 0)",
          rc0 == 0 and rc1 == 0, (err0, err1, evidence(lab, (0, 1))))
    up, counts = sniff(lab, 0, 12, lambda: lab.ping_until(0, 1, 10))
    check("iked pair: LAN to LAN over ESP", up and encrypted(counts), counts)
    rc, out, err = lab.ipsecctl(0, "-s", "all")
    check("iked pair: -s all shows the IKE SA of policy to-gw1 with its identities",
          rc == 0 and "to-gw1" in out and "gw1.example" in out, (out, err))
    confs[0] = write_private(tmp, "pair0.iked.conf", policy(0, "aes-128"))
    confs[1] = write_private(tmp, "pair1.iked.conf", policy(1, "aes-128"))
    rc, out, err = lab.ipsecctl(0, "--iked", "--diff", "-f", confs[0])
    check("iked pair: --diff after an edit names the changed connection (exit 2)",
          rc == 2 and "to-gw1" in out, (rc, out, err))
    rc1, _, err1 = lab.ipsecctl(1, "--iked", "-f", confs[1])
    rc0, _, err0 = lab.ipsecctl(0, "--iked", "--wait=20", "-f", confs[0])
    check("iked pair: the edited policy loads on both and comes up again",
          rc0 == 0 and rc1 == 0, (err0, err1, evidence(lab, (0, 1))))
    up, counts = sniff(lab, 0, 12, lambda: lab.ping_until(0, 1, 10))
    check("iked pair: ... LAN to LAN over ESP", up and encrypted(counts), counts)
    for i in (0, 1):
        lab.ipsecctl(i, "--iked", "-d", "-f", confs[i])
    check("iked pair: -d -f leaves charon without the connections",
          all("to-gw%d" % (1 - i) not in lab.conns(i) for i in (0, 1)),
          [lab.conns(i) for i in (0, 1)])
    # The other order, as a fleet rolled out at once may load them: the
    # active side first (waiting for its tunnel), turned away by a peer
    # that has no policy yet; the passive side 2 s later. iked keeps
    # trying an active policy; charon gives a refused one up, so the wait
    # asks for it again.
    active = lab.ipsecctl_async(0, "--iked", "--wait=20", "-f", confs[0])
    time.sleep(2)
    rc1, _, err1 = lab.ipsecctl(1, "--iked", "-f", confs[1])
    _, err0 = active.communicate(timeout=60)
    check("iked pair: active side first, passive 2 s later: the wait brings it up (exit 0)",
          active.returncode == 0 and rc1 == 0,
          (active.returncode, err0.decode(), err1, evidence(lab, (0, 1))))
    up, counts = sniff(lab, 0, 12, lambda: lab.ping_until(0, 1, 10))
    check("iked pair: ... LAN to LAN over ESP", up and encrypted(counts), counts)
    for i in (0, 1):
        lab.ipsecctl(i, "--iked", "-d", "-f", confs[i])


def iked_road_warrior(lab, tmp):
    """A road warrior and its gateway, both from iked.conf: gw1 asks for an
    address (request address any), gw0 hands one out of its pool (config
    address, with a name server), each side's policy naming `dynamic` for
    the client's end. gw1 then reaches gw0's LAN from the pool's address."""
    fresh_daemons(lab, (0, 1))
    pool = "10.98.0.0/24"
    server = write_private(tmp, "rw-gw0.iked.conf", (
        "ikev2 \"rw\" passive esp from %s to dynamic local %s peer any \\\n"
        "  srcid gw0.example dstid rw.example psk \"rw secret\" \\\n"
        "  config address %s config name-server %s\n")
        % (lan(0), wan(0), pool, host(0)))
    client = write_private(tmp, "rw-gw1.iked.conf", (
        "ikev2 \"rw\" active esp from dynamic to %s local %s peer %s \\\n"
        "  srcid rw.example dstid gw0.example psk \"rw secret\" \\\n"
        "  request address any\n")
        % (lan(0), wan(1), wan(0)))
    rc0, _, err0 = lab.ipsecctl(0, "--iked", "-f", server)
    pools = lab.vici(0, "get-pools")
    check("road warrior: the gateway loads its pool with the policy",
          rc0 == 0 and "rw" in pools, (err0, pools))
    rc1, _, err1 = lab.ipsecctl(1, "--iked", "--wait=20", "-f", client)
    check("road warrior: the client loads, and its tunnel comes up (--wait: exit 0)",
          rc1 == 0, (err1, evidence(lab, (0, 1))))
    vips = [ike.get("local-vips", []) for _, ike in lab.ike_sas(1)]
    check("road warrior: the client got an address from the gateway's pool",
          any(v.startswith("10.98.0.") for vs in vips for v in vs), vips)
    deadline = time.monotonic() + 10
    reached = False
    while not reached and time.monotonic() < deadline:
        reached = subprocess.run(["ip", "netns", "exec", lab.gw[1], "ping", "-c", "1", "-W", "1",
                                  host(0)], stdout=subprocess.DEVNULL).returncode == 0
    check("road warrior: from that address, the gateway's LAN answers", reached,
          evidence(lab, (0, 1)))
    rc, out, err = lab.ipsecctl(0, "--iked", "--diff", "-f", server)
    check("road warrior: a second look at the gateway's file finds nothing to change",
          rc == 0, (rc, out, err))
    for i, conf in ((1, client), (0, server)):
        lab.ipsecctl(i, "--iked", "-d", "-f", conf)
    pools = lab.vici(0, "get-pools")
    check("road warrior: -d takes the connection and the pool out of charon",
          "rw" not in lab.conns(0) and "rw" not in pools, (lab.conns(0), pools))


def iked_eap(lab, tmp):
    """A road warrior with EAP-MSCHAPv2, as iked serves it: gw0's iked.conf
    has the user, the policy with `eap "mschap-v2"` and a pool, and signs
    with its certificate (iked's layout, under --keys); gw1 is a plain
    charon client (iked itself is never an EAP client) that logs in as the
    user, checks gw0's certificate against the CA, and asks for an
    address."""
    fresh_daemons(lab, (0, 1))
    ca = keylab.make_ca(os.path.join(tmp, "eap-ca"))
    root = keylab.key_root(os.path.join(tmp, "keys-eap-gw0"))
    keylab.host_key(root)
    keylab.certify(root, ca, "DNS:gw0.example", "gw0")
    server = write_private(tmp, "eap-gw0.iked.conf", (
        "user \"alice\" \"wonderland\"\n"
        "ikev2 \"rw-eap\" passive esp from %s to dynamic local %s peer any \\\n"
        "  srcid gw0.example eap \"mschap-v2\" config address 10.97.0.0/24\n")
        % (lan(0), wan(0)))
    rc, _, err = lab.ipsecctl(0, "--iked", "--keys", root, "-f", server)
    shared = lab.vici(0, "get-shared").get("keys", [])
    check("EAP: the gateway loads the user, the policy and its pool",
          rc == 0 and "eap-ipsecctl-alice" in shared and "rw-eap" in lab.conns(0), (err, shared))
    with open(ca[1]) as f:
        ca_pem = f.read()
    answer = lab.vici(1, "load-conn", {"rw-client": {
        "version": "2", "local_addrs": [wan(1)], "remote_addrs": [wan(0)], "vips": ["0.0.0.0"],
        "local": {"auth": "eap-mschapv2", "eap_id": "alice"},
        "remote": {"auth": "pubkey", "id": "gw0.example", "cacerts": [ca_pem]},
        "children": {"rw": {"remote_ts": [lan(0)], "start_action": "none"}}}})
    lab.vici(1, "load-shared", {"id": "alice", "type": "EAP", "data": "wonderland",
                                "owners": ["alice"]})
    started = lab.vici(1, "initiate", {"child": "rw", "ike": "rw-client", "timeout": "20000"})
    vips = [ike.get("local-vips", []) for _, ike in lab.ike_sas(1)]
    check("EAP: alice logs in with MSCHAPv2 and gets an address from the pool",
          started.get("success") == "yes" and
          any(v.startswith("10.97.0.") for vs in vips for v in vs),
          (answer, started, vips, evidence(lab, (0, 1))))
    deadline = time.monotonic() + 10
    reached = False
    while not reached and time.monotonic() < deadline:
        reached = subprocess.run(["ip", "netns", "exec", lab.gw[1], "ping", "-c", "1", "-W", "1",
                                  host(0)], stdout=subprocess.DEVNULL).returncode == 0
    check("EAP: from that address, the gateway's LAN answers", reached, evidence(lab, (0, 1)))
    wrong = write_private(tmp, "eap-gw0-changed.iked.conf", open(server).read().replace(
        "wonderland", "looking-glass"))
    rc, out, err = lab.ipsecctl(0, "--iked", "--keys", root, "--diff", "-f", wrong)
    check("EAP: a changed password is a changed secret in --diff (named, never shown)",
          rc == 2 and "eap-ipsecctl-alice" in out and "looking-glass" not in out, (rc, out, err))
    rc, _, err = lab.ipsecctl(0, "--iked", "--keys", root, "-d", "-f", server)
    shared = lab.vici(0, "get-shared").get("keys", [])
    pools = lab.vici(0, "get-pools")
    check("EAP: -d takes the user's secret, the connection and the pool out of charon (the "
          "pool once its lease is gone with the IKE SA)",
          rc == 0 and "eap-ipsecctl-alice" not in shared and "rw-eap" not in lab.conns(0) and
          "rw-eap" not in pools, (rc, err, shared, lab.conns(0), pools))


def hub_and_edit(lab, tmp):
    main, d = hub(lab, tmp)
    edited_reload(lab, tmp, main, d)


# In order; the second list needs kernel ESP (the qemu guest).
SCENARIOS = [("staggered", staggered), ("together", together),
             ("identities", identities_and_failures), ("hub", hub_and_edit),
             ("keys-raw", keys_raw), ("keys-x509", keys_x509), ("iked-pair", iked_pair),
             ("iked-road-warrior", iked_road_warrior), ("iked-eap", iked_eap)]
KERNEL_SCENARIOS = [("routed", route_based), ("libreswan", libreswan), ("routed-v2", routed_v2),
                    ("libreswan-v2", libreswan_v2), ("iked", iked_peer),
                    ("iked-routed", iked_routed)]


def run(lab, tmp):
    # IKE_SCENARIOS=a,b runs some only (while working on them).
    only = set(filter(None, os.environ.get("IKE_SCENARIOS", "").split(",")))
    for name, scenario in SCENARIOS + (KERNEL_SCENARIOS if ARGS.kernel == "netlink" else []):
        if not only or name in only:
            scenario(lab, tmp)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    ap.add_argument("--kernel", choices=("netlink", "libipsec"), default="libipsec")
    ap.add_argument("--sniff", help="esp_sniff, to count ESP on the wire (kernel mode)")
    ap.add_argument("--delay", type=int, default=20,
                    help="seconds between the first gateway's load and the second's")
    ARGS = ap.parse_args()
    b = os.path.abspath(ARGS.ipsecctl)
    if os.geteuid() != 0:
        return skip("the IKE tier needs root (network namespaces, charon)")
    if not ikelab.tool_present():
        return skip("strongSwan's charon, ping or unshare is not installed (strongswan-charon "
                    "strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins "
                    "iputils-ping util-linux)")
    return ikelab.run_in_lab("ipsecctl-ike-",
                             lambda tmp: ikelab.Lab(tmp, b, gateways=4, kernel=ARGS.kernel), run)


if __name__ == "__main__":
    sys.exit(main())
