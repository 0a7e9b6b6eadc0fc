#!/usr/bin/env python3
"""The Ansible module and role against three gateways, as a fleet would use
them: Debian's ansible-core, one inventory, the shipped role
(contrib/ansible/roles/ipsecctl_gateway) and playbook (examples/site.yml).

Each gateway is a network namespace with its own charon (tests/ike/ikelab,
userspace ESP) and is an inventory host of its own (a local connection; the
module runs ipsecctl in the host's namespace with its `netns` option).

In order:
  mesh: the first run changes every gateway; the second reports changed=false,
  `ip xfrm monitor` sees nothing and charon keeps its IKE SAs; an inventory
  edit (one pair's key) in check mode reports exactly that change and changes
  nothing; applied, only that changes; state=absent on one gateway removes its
  entries and nothing else; a typo in the inventory fails with file and line.
  hub: a hub with a file per branch; a branch that leaves the inventory leaves
  the hub, and the other branch is not touched.

Needs root and ansible-core; fails (does not skip) under
IPSECCTL_REQUIRE_ALL_TIERS when they are missing.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "ike"))
from checks import check, skip, summary  # noqa: E402
import ikelab  # noqa: E402

CONTRIB = os.path.join(HERE, "..", "..", "contrib", "ansible")
PLAYBOOK = os.path.join(CONTRIB, "examples", "site.yml")


def gateway_ipsecctl(tmp, i):
    """ipsecctl as gateway i runs it: under its own host name (an `ike
    dynamic` rule without srcid identifies with it, as on OpenBSD), as a
    machine of its own would."""
    path = os.path.join(tmp, "gw%d-ipsecctl" % i)
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec unshare --uts sh -c 'hostname \"$0\"; exec \"$@\"' "
                "%s %s \"$@\"\n" % (ikelab.hostname(i), ARGS.ipsecctl))
    os.chmod(path, 0o755)
    return path


def inventory(lab, tmp, layout, hosts, extra=None):
    """A YAML inventory (JSON is YAML) for gateways `hosts` of the lab."""
    def host(i):
        return {
            "ipsecctl_address": ikelab.wan(i),
            "ipsecctl_network": ikelab.lan(i),
            "ipsecctl_netns": lab.gw[i],
            "ipsecctl_vici": lab.socket(i),
            "ipsecctl_dir": os.path.join(tmp, "gw%d" % i, "etc"),
            "ipsecctl_extra_rules": ["flow esp from %s to 10.98.%d.0/24 type bypass" % (ikelab.lan(i), i)],
            "ipsecctl_executable": gateway_ipsecctl(tmp, i),
        }
    doc = {"all": {
        "vars": dict({"ansible_connection": "local",
                      "ansible_python_interpreter": "/usr/bin/python3",
                      "ipsecctl_layout": layout,
                      "ipsecctl_secret": "the lab's secret",
                      "ipsecctl_ike": "vici"}, **(extra or {})),
        "children": {}}}
    if layout == "mesh":
        doc["all"]["children"]["mesh"] = {"hosts": {"gw%d" % i: host(i) for i in hosts}}
    else:
        doc["all"]["children"]["hub"] = {"hosts": {"gw%d" % hosts[0]: host(hosts[0])}}
        doc["all"]["children"]["branches"] = {"hosts": {"gw%d" % i: host(i) for i in hosts[1:]}}
    path = os.path.join(tmp, "inventory-%s.yml" % layout)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    return path


def playbook(tmp, inv, *args, book=PLAYBOOK):
    """ansible-playbook with the json callback: (exit status, per host the
    ipsecctl task's result)."""
    env = dict(os.environ,
               ANSIBLE_LIBRARY=os.path.join(CONTRIB, "library"),
               ANSIBLE_ROLES_PATH=os.path.join(CONTRIB, "roles"),
               ANSIBLE_STDOUT_CALLBACK="results_json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"),
               ANSIBLE_LOCAL_TEMP=os.path.join(tmp, "ansible-tmp"),
               ANSIBLE_REMOTE_TEMP=os.path.join(tmp, "ansible-tmp"),
               ANSIBLE_HOME=os.path.join(tmp, "ansible-home"),
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_HOST_KEY_CHECKING="0")
    p = subprocess.run(["ansible-playbook", "-i", inv, book, "-e", "ansible_become=false"]
                       + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       timeout=600)
    try:
        doc = json.loads(p.stdout.decode())
    except ValueError:
        return p.returncode, {}, p.stdout.decode()[-2000:] + p.stderr.decode()[-2000:]
    results = {}
    for play in doc.get("plays", []):
        for task in play.get("tasks", []):
            if task["task"]["name"].endswith("loaded into the kernel and the IKE daemon"):
                results.update(task["hosts"])
    failures = ["%s: %s" % (task["task"]["name"], h.get("msg", "")) for play in doc.get("plays", [])
                for task in play["tasks"] for h in task["hosts"].values() if h.get("failed")]
    stats = [play.get("stats") for play in doc.get("plays", []) if play.get("stats")]
    if p.returncode != 0:
        failures.append(json.dumps(stats))
    return p.returncode, results, "\n".join(failures)[-2000:] + p.stderr.decode()[-1000:]


def changed(results):
    return {h: r.get("changed", False) for h, r in results.items()}


def ike_sa_ids(lab, i):
    return sorted((name, sa.get("uniqueid")) for name, sa in lab.ike_sas(i))


class Monitor:
    """`ip xfrm monitor` in each gateway's namespace while something runs."""

    def __init__(self, lab, gateways):
        self.procs = [subprocess.Popen(["ip", "netns", "exec", lab.gw[i], "ip", "xfrm", "monitor"],
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                      for i in gateways]
        time.sleep(0.5)

    def stop(self):
        time.sleep(0.5)
        out = ""
        for p in self.procs:
            p.terminate()
            out += p.communicate(timeout=10)[0].decode()
        return out


def wait_up(lab, gateways, want, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(len(lab.installed(i)) >= want for i in gateways):
            return True
        time.sleep(1)
    return False


def wait_ike(lab, gateways, want, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(len({n for n, sa in lab.ike_sas(i) if sa.get("state") == "ESTABLISHED"}) >= want
               for i in gateways):
            return True
        time.sleep(1)
    return False


def mesh(lab, tmp):
    gws = (0, 1, 2)
    inv = inventory(lab, tmp, "mesh", gws)
    mon = Monitor(lab, gws)
    rc, res, err = playbook(tmp, inv)
    seen = mon.stop()
    check("mesh, first run: every gateway changed", rc == 0 and all(changed(res).values())
          and len(res) == 3, (rc, changed(res), err))
    check("... and its kernel saw the load (the bypass flows)", "dir out" in seen, seen[-500:])
    check("... each charon has a connection to each other gateway",
          all(sorted(c for c in lab.conns(i) if c.startswith("peer-")) ==
              sorted(ikelab.conn(ikelab.wan(j)) for j in gws if j != i) for i in gws),
          [lab.conns(i) for i in gws])
    # Host-to-host tunnels between the gateways' own addresses need kernel
    # ESP (userspace ESP cannot install their policies); the qemu tier's
    # mesh brings them up. Here charon at least negotiates the IKE SAs.
    check("... charon negotiates an IKE SA with each other gateway",
          wait_ike(lab, gws, 2), [ike_sa_ids(lab, i) for i in gws])
    ids = {i: ike_sa_ids(lab, i) for i in gws}

    mon = Monitor(lab, gws)
    rc, res, err = playbook(tmp, inv)
    seen = mon.stop()
    check("mesh, second run: changed=false on every gateway",
          rc == 0 and not any(changed(res).values()) and len(res) == 3, (rc, changed(res), err))
    check("... ip xfrm monitor sees nothing", seen.strip() == "", seen[-500:])
    check("... charon keeps the same IKE SAs", all(ike_sa_ids(lab, i) == ids[i] for i in gws),
          (ids, {i: ike_sa_ids(lab, i) for i in gws}))

    # One pair's key changes in the inventory.
    edited = inventory(lab, tmp, "mesh", gws, {"ipsecctl_psks": {"gw0:gw1": "a new key"}})
    rc, res, err = playbook(tmp, edited, "--check", "--diff")
    counts = {h: r.get("counts", {}).get("charon (VICI)", {}) for h, r in res.items()}
    check("edit, check mode: gw0 and gw1 would change, gw2 would not",
          rc == 0 and changed(res) == {"gw0": True, "gw1": True, "gw2": False},
          (rc, changed(res), err))
    check("... exactly one secret each, nothing else",
          all(counts[h]["secrets"]["changed"] == 1 and counts[h]["secrets"]["added"] == 0
              and counts[h]["secrets"]["removed"] == 0 and
              not any(counts[h]["connections"][k] for k in ("added", "changed", "removed"))
              for h in ("gw0", "gw1")), counts)
    diff = res.get("gw0", {}).get("diff", {})
    prepared = diff.get("prepared", "") if isinstance(diff, dict) else \
        "".join(d.get("prepared", "") for d in diff)
    check("... diff mode shows the secret by name, never its value",
          "~ charon (VICI) secret ike-ipsecctl-" + ikelab.conn(ikelab.wan(1)) in prepared
          and "a new key" not in prepared, prepared)
    check("... and changed nothing (charon's secrets are the same ids)",
          all(ike_sa_ids(lab, i) == ids[i] for i in gws) and
          all("~2" not in " ".join(lab.vici(i, "get-shared").get("keys", [])) for i in gws),
          [lab.vici(i, "get-shared") for i in gws])
    mon = Monitor(lab, gws)
    rc, res, err = playbook(tmp, edited)
    seen = mon.stop()
    check("edit, applied: only gw0 and gw1 changed",
          rc == 0 and changed(res) == {"gw0": True, "gw1": True, "gw2": False}, (rc, changed(res), err))
    check("... the kernel saw nothing, gw2's IKE SAs are untouched",
          seen.strip() == "" and ike_sa_ids(lab, 2) == ids[2], (seen[-300:], ike_sa_ids(lab, 2)))

    rc, res, err = playbook(tmp, edited, "--limit", "gw2", "-e", "ipsecctl_state=absent")
    check("state=absent on gw2: it changed, and charon there holds none of its connections",
          rc == 0 and changed(res) == {"gw2": True} and
          not [c for c in lab.conns(2) if c.startswith("peer-")], (rc, changed(res), lab.conns(2)))
    check("... gw0 and gw1 keep every connection",
          all(len([c for c in lab.conns(i) if c.startswith("peer-")]) == 2 for i in (0, 1)),
          [lab.conns(i) for i in (0, 1)])

    typo = inventory(lab, tmp, "mesh", gws, {"ipsecctl_psks": {"gw0:gw1": "a new key"}})
    with open(typo) as f:
        doc = json.load(f)
    doc["all"]["children"]["mesh"]["hosts"]["gw2"]["ipsecctl_address"] = "10.99.0.3x"
    with open(typo, "w") as f:
        json.dump(doc, f)
    before = {i: lab.conns(i) for i in gws}
    rc, res, err = playbook(tmp, typo)
    msg = res.get("gw0", {}).get("msg", "")
    check("a typo in the inventory fails the task with the file and the line",
          rc != 0 and res.get("gw0", {}).get("failed") and
          os.path.join(tmp, "gw0", "etc", "ipsec.conf") + ": " in msg and
          "could not parse host specification" in msg, (rc, msg, err))
    check("... and nothing changed", {i: lab.conns(i) for i in gws} == before)

    playbook(tmp, edited, "-e", "ipsecctl_state=absent")


def metrics(lab):
    """`-s all --format prometheus` on the hub, read with Debian's
    prometheus_client, as node_exporter's textfile collector would."""
    from prometheus_client.parser import text_string_to_metric_families
    lab.ping_until(1, 0, 10)
    rc, out, err = lab.ipsecctl(0, "-s", "all", "--format", "prometheus")
    try:
        families = {f.name: f for f in text_string_to_metric_families(out)}
    except Exception as e:  # noqa: BLE001 (the parser's own errors)
        families = {}
        err += repr(e)
    samples = lambda name: [(s.labels, s.value) for s in families[name].samples]  # noqa: E731
    check("metrics: -s all --format prometheus parses", rc == 0 and families, err or out[:500])
    if not families:
        return
    up = dict((l["connection"], v) for l, v in samples("ipsecctl_connection_up"))
    check("... each branch's connection is up", up.get(ikelab.conn(ikelab.wan(1))) == 1
          and up.get(ikelab.conn(ikelab.wan(2))) == 1, up)
    established = [v for l, v in samples("ipsecctl_ike_sas") if l["state"] == "ESTABLISHED"]
    check("... IKE SAs by state", established and established[0] >= 2, samples("ipsecctl_ike_sas"))
    moved = [v for l, v in samples("ipsecctl_child_sa_bytes") if l["connection"] ==
             ikelab.conn(ikelab.wan(1))]
    check("... child SA bytes count the ping", moved and max(moved) > 0, samples("ipsecctl_child_sa_bytes"))
    flows = dict((l["direction"], v) for l, v in samples("ipsecctl_flows"))
    check("... flows per direction (the hub's bypass flow)",
          flows == {"in": 1, "out": 1, "fwd": 1}, flows)
    loaded = samples("ipsecctl_last_load_timestamp_seconds")
    check("... when the hub's file was last loaded",
          len(loaded) == 1 and abs(loaded[0][1] - time.time()) < 600, loaded)


def hub(lab, tmp):
    rc, res, err = playbook(tmp, inventory(lab, tmp, "hub", (0, 1, 2)))
    check("hub, first run: the hub and both branches changed",
          rc == 0 and all(changed(res).values()) and len(res) == 3, (rc, changed(res), err))
    check("... the hub has a file per branch",
          sorted(os.listdir(os.path.join(tmp, "gw0", "etc", "peers"))) == ["gw1.conf", "gw2.conf"])
    check("... both tunnels come up", wait_up(lab, (1, 2), 1), [lab.installed(i) for i in (0, 1, 2)])
    metrics(lab)
    ids = ike_sa_ids(lab, 0)
    inv = inventory(lab, tmp, "hub", (0, 1))
    rc, res, err = playbook(tmp, inv, "--check", "--diff")
    prepared = res.get("gw0", {}).get("diff", {})
    prepared = prepared.get("prepared", "") if isinstance(prepared, dict) else str(prepared)
    check("a branch leaves the inventory: check mode says the hub would remove its connection",
          rc == 0 and changed(res) == {"gw0": True, "gw1": False} and
          "- charon (VICI) connection " + ikelab.conn(ikelab.wan(2)) in prepared, (changed(res), prepared))
    rc, res, err = playbook(tmp, inv)
    check("... applied: gone from the hub, the other branch's IKE SA untouched",
          rc == 0 and ikelab.conn(ikelab.wan(2)) not in lab.conns(0) and
          [x for x in ike_sa_ids(lab, 0) if x[0] == ikelab.conn(ikelab.wan(1))] ==
          [x for x in ids if x[0] == ikelab.conn(ikelab.wan(1))], (lab.conns(0), ids, ike_sa_ids(lab, 0)))
    playbook(tmp, inv, "-e", "ipsecctl_state=absent")


def iked_module(lab, tmp):
    """The module with language: iked.conf (ipsecctl --iked): two gateways
    with mirrored iked.conf policies; the first run changes both, the
    second neither, and the tunnel comes up; absent removes them."""
    book = os.path.join(tmp, "iked.yml")
    with open(book, "w") as f:
        f.write("- hosts: all\n  gather_facts: false\n  tasks:\n"
                "    - name: iked.conf loaded into the kernel and the IKE daemon\n"
                "      ipsecctl:\n"
                "        src: \"{{ iked_conf }}\"\n"
                "        language: iked.conf\n"
                "        state: \"{{ iked_state | default('present') }}\"\n"
                "        wait: \"{{ iked_wait | default(omit) }}\"\n"
                "        ike: vici\n"
                "        vici: \"{{ ipsecctl_vici }}\"\n"
                "        netns: \"{{ ipsecctl_netns }}\"\n"
                "        executable: \"{{ ipsecctl_executable }}\"\n")
    hosts = {}
    for i in (0, 1):
        conf = os.path.join(tmp, "gw%d-iked.conf" % i)
        with open(conf, "w") as f:
            f.write("ikev2 \"pair\" %s esp from %s to %s local %s peer %s psk \"iked lab\"\n"
                    % ("active" if i == 0 else "passive", ikelab.lan(i), ikelab.lan(1 - i),
                       ikelab.wan(i), ikelab.wan(1 - i)))
        os.chmod(conf, 0o600)
        hosts["gw%d" % i] = {"iked_conf": conf, "ipsecctl_netns": lab.gw[i],
                             "ipsecctl_vici": lab.socket(i),
                             "ipsecctl_executable": gateway_ipsecctl(tmp, i)}
    inv = os.path.join(tmp, "inventory-iked.yml")
    with open(inv, "w") as f:
        json.dump({"all": {"vars": {"ansible_connection": "local",
                                    "ansible_python_interpreter": "/usr/bin/python3"},
                           "hosts": hosts}}, f)
    # Both gateways at once, as a fleet is rolled out: the active side may
    # reach its peer before the peer has the policy and be turned away;
    # its wait asks charon for the tunnel again until it is up.
    rc, res, err = playbook(tmp, inv, "-e", "iked_wait=30", book=book)
    check("iked.conf through the module: the first run changes both gateways at once, "
          "and the active side's wait sees its tunnel up",
          rc == 0 and changed(res) == {"gw0": True, "gw1": True}, (rc, changed(res), err))
    check("... the tunnel carries traffic", lab.ping_until(0, 1, 10) and wait_up(lab, (0, 1), 1),
          [lab.installed(i) for i in (0, 1)])
    rc, res, err = playbook(tmp, inv, book=book)
    check("... a second run changes nothing", rc == 0 and changed(res) == {"gw0": False,
                                                                       "gw1": False},
          (rc, changed(res), err))
    rc, res, err = playbook(tmp, inv, "-e", "iked_state=absent", book=book)
    check("... absent takes the policy out of both charons",
          rc == 0 and all("pair" not in lab.conns(i) for i in (0, 1)), (rc, err))


def fleet(lab, tmp):
    for i in range(3):
        lab.start(i)
    mesh(lab, tmp)
    hub(lab, tmp)
    iked_module(lab, tmp)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    ARGS = ap.parse_args()
    ARGS.ipsecctl = os.path.abspath(ARGS.ipsecctl)
    if os.geteuid() != 0:
        return skip("the Ansible tier needs root (network namespaces, charon)")
    if shutil.which("ansible-playbook") is None:
        return skip("Debian's ansible-core is not installed (apt-get install ansible-core)")
    if not ikelab.tool_present():
        return skip("strongSwan's charon, ping or unshare is not installed")
    return ikelab.run_in_lab("ipsecctl-ansible-", lambda tmp: ikelab.Lab(
        tmp, ARGS.ipsecctl, gateways=3, kernel="libipsec", tag="ansible"), fleet)


if __name__ == "__main__":
    sys.exit(main())
