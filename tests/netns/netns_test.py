#!/usr/bin/env python3
"""XFRM backend against the real kernel, in network namespaces of our own.

Needs root (it creates namespaces) and runs on any kernel with XFRM
policies; SAs need ESP, which the CI kernel lacks, so loading one must fail
with a clear error and leave the kernel as it was. Every namespace and
background process is removed on the way out, also when a check fails.
Exit status 77 (skipped) when not root. Prints 'N passed, M failed' last.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check, skip, summary  # noqa: E402
from private_file import write_private  # noqa: E402  (streaming_test uses it as nt.write_private)

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "examples")
namespaces = []
processes = []




def sh(*args, ns=None, check_rc=True, timeout=60, user=None):
    cmd = list(args)
    if user:
        cmd = ["setpriv", "--reuid", user, "--regid", user, "--clear-groups"] + cmd
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if check_rc and proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), proc.stderr.decode()))
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def new_namespace(tag):
    name = "ipsecctl-%s-%d" % (tag, os.getpid())
    sh("ip", "netns", "add", name)
    namespaces.append(name)
    sh("ip", "link", "set", "lo", "up", ns=name)
    return name


def policies(ns):
    return sh("ip", "xfrm", "policy", "show", ns=ns)[1]


def policy_blocks(ns):
    """`ip xfrm policy` as a list of entries, one string each."""
    blocks, current = [], []
    for line in policies(ns).splitlines():
        if not line.startswith(("\t", " ")) and current:
            blocks.append("\n".join(current))
            current = []
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def find_block(blocks, src, dst, direction):
    for b in blocks:
        if b.startswith("src %s dst %s" % (src, dst)) and ("dir %s " % direction) in b:
            return b
    return None


def priority(block):
    words = block.split()
    return int(words[words.index("priority") + 1])


class Monitor:
    """`ip xfrm monitor` in the background: what the kernel announced."""

    def __init__(self, ns):
        self.out = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "ip", "xfrm", "monitor"],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        processes.append(self.proc)
        time.sleep(0.3)

    def stop(self):
        time.sleep(0.3)
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.out.seek(0)
        return self.out.read().decode()


def golden_json(name, got):
    """The parsed golden document; IPSECCTL_UPDATE_GOLDEN=1 rewrites it."""
    path = os.path.join(HERE, name)
    if os.environ.get("IPSECCTL_UPDATE_GOLDEN"):
        with open(path, "w") as f:
            json.dump(got, f, indent=1, sort_keys=True)
            f.write("\n")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def staged(tmp, source, name=None):
    """Copies a configuration to a private file (ipsecctl refuses others)."""
    path = os.path.join(tmp, name or os.path.basename(source))
    shutil.copyfile(source, path)
    os.chmod(path, 0o600)
    return path


def main():
    return run_tier(run_checks, "ipsecctl-netns-")


def run_tier(checks, prefix):
    """Runs checks(ipsecctl, tmpdir) as root, then removes every namespace,
    process and file it made, also when a check fails; the summary's exit
    status."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    b = os.path.abspath(ap.parse_args().ipsecctl)
    if os.geteuid() != 0:
        return skip("the netns tier needs root to create network namespaces")
    if shutil.which("ip") is None:
        return skip("iproute2 (ip) is not installed")
    tmp = tempfile.mkdtemp(prefix=prefix)
    # Records of what each file loaded go with the test, not under /run.
    os.environ["IPSECCTL_STATE_DIR"] = os.path.join(tmp, "state")
    os.chmod(tmp, 0o755)
    try:
        checks(b, tmp)
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
        for ns in namespaces:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


def sync_checks(b, tmp, ns):
    """Reload is a sync: what left the file leaves the kernel, in the same
    step; what other files and other programs put there stays."""
    sh(b, "-F", ns=ns)
    hub = "flow esp from 10.10.0.0/16 to 10.%d.0.0/16 peer 198.51.100.%d\n"
    first = "".join(hub % (20 + i, 1 + i) for i in range(3))
    site = write_private(tmp, "site.conf", first)
    other = write_private(tmp, "other.conf", hub % (90, 90) + hub % (22, 3))
    sh(b, "-f", site, ns=ns)
    sh(b, "-f", other, ns=ns)
    foreign = ["ip", "xfrm", "policy", "add", "src", "10.10.0.0/16", "dst", "10.77.0.0/16",
               "dir", "out", "priority", "4242"]
    sh(*foreign, ns=ns)
    records = [f for d, _, fs in os.walk(os.environ["IPSECCTL_STATE_DIR"]) for f in fs
               if f.endswith(".record")]
    check("each loaded file has its ownership record", len(records) == 2, str(records))

    # The edit drops peer .1 (10.20/16) and adds peer .9 (10.29/16); 10.21
    # and 10.22 stay; 10.22 is also other.conf's.
    write_private(tmp, "site.conf", hub % (21, 2) + hub % (29, 9))
    mon = Monitor(ns)
    rc, out, err = sh(b, "-f", site, ns=ns, check_rc=False)
    events = mon.stop()
    blocks = policy_blocks(ns)
    check("reload after an edit: the dropped flow leaves the kernel, the new one arrives",
          rc == 0 and find_block(blocks, "10.20.0.0/16", "10.10.0.0/16", "in") is None
          and find_block(blocks, "10.10.0.0/16", "10.20.0.0/16", "out") is None
          and find_block(blocks, "10.10.0.0/16", "10.29.0.0/16", "out") is not None,
          err + policies(ns))
    check("... in one step, and ip xfrm monitor sees nothing of what did not change",
          "10.21.0.0" not in events and "10.22.0.0" not in events and "10.90.0.0" not in events
          and "10.20.0.0" in events and "10.29.0.0" in events, events)
    check("... a flow that left this file but another file has stays",
          find_block(blocks, "10.10.0.0/16", "10.22.0.0/16", "out") is not None, policies(ns))
    check("... and another program's policy stays",
          find_block(blocks, "10.10.0.0/16", "10.77.0.0/16", "out") is not None, policies(ns))

    # Someone changes one of the file's policies; it is no longer ours to remove.
    sh("ip", "xfrm", "policy", "update", "src", "10.10.0.0/16", "dst", "10.21.0.0/16", "dir",
       "out", "priority", "31337", ns=ns)
    write_private(tmp, "site.conf", hub % (29, 9))
    rc, out, err = sh(b, "-f", site, ns=ns, check_rc=False)
    blocks = policy_blocks(ns)
    changed = find_block(blocks, "10.10.0.0/16", "10.21.0.0/16", "out")
    check("a policy somebody changed since the last load is left alone",
          rc == 0 and changed is not None and priority(changed) == 31337
          and find_block(blocks, "10.21.0.0/16", "10.10.0.0/16", "in") is None, policies(ns))

    # A failed reload changes nothing: not even the removal of what left.
    write_private(tmp, "site.conf",
                  "flow esp from 10.10.0.0/16 to 10.40.0.0/16 peer 198.51.100.40\n"
                  "esp from 192.0.2.1 to 192.0.2.2 spi 0x4242 auth hmac-sha1 enc aes "
                  "authkey 0x%s enckey 0x%s\n"
                  % ("11" * 20, "22" * 16))
    before = sorted(policy_blocks(ns))
    rc, out, err = sh(b, "-f", site, ns=ns, check_rc=False)
    if rc != 0:
        check("a reload the kernel refuses leaves every policy as it was, stale ones too",
              sorted(policy_blocks(ns)) == before, err + policies(ns))
    write_private(tmp, "site.conf", hub % (29, 9))
    sh(b, "-f", site, ns=ns)

    # -d -f removes what the file added, also what left it since.
    write_private(tmp, "site.conf", "")
    rc, out, err = sh(b, "-d", "-f", site, ns=ns, check_rc=False)
    blocks = policy_blocks(ns)
    check("-d of the emptied file removes what its earlier load added",
          rc == 0 and find_block(blocks, "10.10.0.0/16", "10.29.0.0/16", "out") is None
          and find_block(blocks, "10.10.0.0/16", "10.90.0.0/16", "out") is not None,
          err + policies(ns))
    sh(b, "-F", ns=ns)
    records = [f for d, _, fs in os.walk(os.environ["IPSECCTL_STATE_DIR"]) for f in fs
               if f.endswith(".record")]
    check("-F forgets every record (the kernel has nothing left of them)", records == [],
          str(records))


def run_checks(b, tmp):
    gateway = staged(tmp, os.path.join(HERE, "gateway.conf"))
    ns = new_namespace("gw")

    # Load: OpenBSD semantics in XFRM terms.
    rc, out, err = sh(b, "-f", gateway, ns=ns, check_rc=False)
    check("load gateway.conf", rc == 0 and err == "", err)
    blocks = policy_blocks(ns)
    check("14 policies: out, in and fwd per tunnel flow pair, no fwd for transport",
          len(blocks) == 14, "%d policies:\n%s" % (len(blocks), policies(ns)))
    out_b = find_block(blocks, "10.1.0.0/16", "10.2.0.0/16", "out")
    check("out flow: tunnel template to the peer",
          out_b and "tmpl src 0.0.0.0 dst 198.51.100.1" in out_b and "mode tunnel" in out_b
          and "proto esp" in out_b, str(out_b))
    in_b = find_block(blocks, "10.2.0.0/16", "10.1.0.0/16", "in")
    fwd_b = find_block(blocks, "10.2.0.0/16", "10.1.0.0/16", "fwd")
    check("in flow: dir in and dir fwd, template from the peer",
          in_b and fwd_b and "tmpl src 198.51.100.1 dst 0.0.0.0" in in_b
          and "tmpl src 198.51.100.1 dst 0.0.0.0" in fwd_b, "%s\n%s" % (in_b, fwd_b))
    bypass = find_block(blocks, "10.1.1.0/24", "10.2.2.0/24", "out")
    check("bypass: allow without template, more specific = lower priority value",
          bypass and "tmpl" not in bypass and "action block" not in bypass
          and priority(bypass) < priority(out_b), str(bypass))
    deny = find_block(blocks, "10.2.9.0/24", "10.1.0.0/16", "in")
    check("deny: action block, wins over the require flow it overlaps",
          deny and "action block" in deny and priority(deny) < priority(in_b), str(deny))
    ah = find_block(blocks, "192.0.2.10/32", "192.0.2.20/32", "out")
    check("ports/proto and type use: selector with ports, optional transport AH",
          ah and "proto udp sport 123 dport 123" in ah and "proto ah" in ah
          and "mode transport" in ah and "level use" in ah, str(ah))
    v6 = find_block(blocks, "2001:db8:1::/48", "2001:db8:2::/48", "out")
    check("IPv6 with local and peer as tunnel endpoints",
          v6 and "tmpl src 2001:db8::1 dst 2001:db8::2" in v6, str(v6))

    rc, out, err = sh(b, "-s", "flow", ns=ns, check_rc=False)
    with open(os.path.join(HERE, "gateway.flows")) as f:
        golden = f.read()
    check("-s flow matches the golden file", rc == 0 and out == golden, out)
    rc, out, err = sh(b, "-s", "all", ns=ns, check_rc=False)
    check("-s all: titles and 'No entries'",
          out == "FLOWS:\n" + golden + "\nSAD:\nNo entries\n", out)

    # Reload of the unchanged file: nothing reaches the kernel.
    before = policies(ns)
    mon = Monitor(ns)
    rc, out, err = sh(b, "-f", gateway, ns=ns, check_rc=False)
    events = mon.stop()
    check("reload is a no-op (ip xfrm monitor silent)",
          rc == 0 and events.strip() == "" and policies(ns) == before, events + err)

    # Reload after an edit: only the changed flow is touched.
    edited = staged(tmp, gateway, "edited.conf")
    with open(edited) as f:
        text = f.read()
    with open(edited, "w") as f:
        f.write(text.replace("198.51.100.1", "198.51.100.9"))
    mon = Monitor(ns)
    rc, out, err = sh(b, "-f", edited, ns=ns, check_rc=False)
    events = mon.stop()
    updated = [l for l in events.splitlines() if l.startswith("Updated")]
    check("reload after an edit updates only the changed policies",
          rc == 0 and len(updated) == 6 and "198.51.100.9" in policies(ns)
          and "198.51.100.1 " not in policies(ns), events + err)

    # Kernel rejection (no ESP in this kernel): whole load rolled back.
    manual = staged(tmp, os.path.join(EXAMPLES, "manual-keys", "ipsec.conf"), "manual.conf")
    before_blocks = policy_blocks(ns)
    rc, out, err = sh(b, "-f", manual, ns=ns, check_rc=False)
    esp_supported = "Protocol not supported" not in err and rc == 0
    if esp_supported:
        check("manual SAs load (kernel has ESP)", rc == 0, err)
        sh(b, "-d", "-f", manual, ns=ns)
    else:
        check("SA on a kernel without ESP: clear error naming file:line and the SA",
              rc == 1 and "manual.conf: 9: kernel refused to add esp tunnel from 192.0.2.1 to "
              "198.51.100.1 spi 0x00001001" in err and "Protocol not supported" in err
              and "undone" in err, err)
        check("... and the flows of that file were rolled back",
              sorted(policy_blocks(ns)) == sorted(before_blocks), policies(ns))
        rc2, out2, _ = sh("ip", "xfrm", "state", ns=ns)
        check("... and no SA is left", out2.strip() == "", out2)

    # What Linux cannot express is refused before anything is sent.
    bad = os.path.join(tmp, "acquire.conf")
    with open(bad, "w") as f:
        f.write("flow esp from 10.8.0.0/16 to 10.9.0.0/16 peer 192.0.2.1\n"
                "flow esp out from 10.8.1.0/24 to 10.9.0.0/16 peer 192.0.2.1 type acquire\n")
    os.chmod(bad, 0o600)
    before = policies(ns)
    rc, out, err = sh(b, "-f", bad, ns=ns, check_rc=False)
    check("type acquire: error names file, line and type; nothing loaded",
          rc == 1 and "acquire.conf: 2: flow type acquire has no Linux XFRM equivalent" in err
          and policies(ns) == before, err)

    # All or nothing across backends: flows plus an ike rule whose daemon
    # never reads its fifo; the flows must be taken back out.
    mixed = os.path.join(tmp, "mixed.conf")
    with open(gateway) as f:
        text = f.read()
    with open(mixed, "w") as f:
        f.write(text + "ike esp from 10.1.0.0/16 to 10.4.0.0/16 peer 198.51.100.1\n")
    os.chmod(mixed, 0o600)
    fifo = os.path.join(tmp, "isakmpd.fifo")
    os.mkfifo(fifo, 0o600)
    sh(b, "-F", ns=ns)
    rc, out, err = sh(b, "-i", fifo, "-f", mixed, ns=ns, check_rc=False)
    check("flows + ike, isakmpd not reading: the kernel part is undone",
          rc == 1 and "no isakmpd is reading" in err and "were undone" in err
          and policies(ns).strip() == "", err + policies(ns))
    rc, out, err = sh(b, "-i", os.path.join(tmp, "none.fifo"), "-f", mixed, ns=ns,
                      check_rc=False)
    check("flows + ike, no IKE daemon at all: nothing is loaded",
          rc == 1 and "no IKE daemon was found" in err and policies(ns).strip() == "", err)

    # -d removes exactly what the file added.
    sh(b, "-f", gateway, ns=ns)  # back to the original peer
    foreign = ["ip", "xfrm", "policy", "add", "src", "10.200.0.0/16", "dst", "10.201.0.0/16",
               "dir", "out", "priority", "5"]
    sh(*foreign, ns=ns)
    rc, out, err = sh(b, "-d", "-f", gateway, ns=ns, check_rc=False)
    left = policy_blocks(ns)
    check("-d removes exactly the file's policies (a foreign one stays)",
          rc == 0 and len(left) == 1 and left[0].startswith("src 10.200.0.0/16"), policies(ns))
    rc, out, err = sh(b, "-d", "-f", gateway, ns=ns, check_rc=False)
    check("-d again is a no-op", rc == 0 and err == "", err)

    sync_checks(b, tmp, ns)

    # -F empties SPD and SAD.
    sh(b, "-f", gateway, ns=ns)
    rc, out, err = sh(b, "-F", ns=ns, check_rc=False)
    check("-F leaves nothing", rc == 0 and policies(ns).strip() == "", policies(ns))
    rc, out, err = sh(b, "-s", "all", ns=ns, check_rc=False)
    check("-s all on an empty kernel", out == "FLOWS:\nNo flows\n\nSAD:\nNo entries\n", out)

    # -m shows events as they happen: text, text with timestamps, JSON lines.
    watchers = {}
    for mode, args in (("text", ["-m"]), ("verbose", ["-m", "-v"]), ("json", ["-m", "-j"])):
        out_file = tempfile.TemporaryFile()
        proc = subprocess.Popen(["ip", "netns", "exec", ns, b] + args, stdout=out_file,
                                stderr=subprocess.STDOUT)
        processes.append(proc)
        watchers[mode] = (proc, out_file)
    time.sleep(0.5)
    sh(b, "-f", gateway, ns=ns)
    sh(b, "-d", "-f", gateway, ns=ns)
    sh(b, "-f", gateway, ns=ns)
    sh(b, "-F", ns=ns)
    time.sleep(0.5)
    seen = {}
    for mode, (proc, out_file) in watchers.items():
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        out_file.seek(0)
        seen[mode] = out_file.read().decode()
    text = seen["text"]
    check("-m prints policy events in flow syntax",
          "sadb_x_spdadd: flow esp out from 10.1.0.0/16 to 10.2.0.0/16 peer 198.51.100.1 "
          "type require\n" in text and "sadb_x_spdflush:\n" in text, text)
    check("-m shows a deleted flow as it was (type and peer)",
          "sadb_x_spddelete: flow esp out from 10.1.0.0/16 to 10.2.0.0/16 peer 198.51.100.1 "
          "type require\n" in text, text)
    stamped = [l for l in seen["verbose"].splitlines() if "sadb_x_spdadd:" in l]
    check("-m -v puts a UTC timestamp first",
          stamped and all(len(l) > 24 and l[4] == "-" and l[10] == "T" and l[23] == "Z"
                          for l in stamped), seen["verbose"][:500])
    events = []
    try:
        events = [json.loads(l) for l in seen["json"].splitlines() if l.strip()]
    except ValueError as e:
        events = [{"error": str(e)}]
    deletes = [e for e in events if e.get("event") == "sadb_x_spddelete" and e.get("flow")]
    timeless = [{k: v for k, v in e.items() if k != "time"} for e in events]
    check("-m -j matches the golden events (times aside)",
          golden_json("gateway.monitor.json", timeless) == timeless, seen["json"][:800])
    check("-m -j: one JSON object per event, with time, event and the flow as it was",
          events and all("time" in e and "event" in e for e in events) and deletes
          and any(d["flow"]["type"] == "require" and d["flow"]["peer"] == "198.51.100.1"
                  for d in deletes), seen["json"][:800])

    # -s -j: the same kernel, as one JSON document.
    sh(b, "-f", gateway, ns=ns)
    rc, out, err = sh(b, "-s", "all", "-j", ns=ns, check_rc=False)
    try:
        doc = json.loads(out)
    except ValueError as e:
        doc = {"error": str(e)}
    flows = doc.get("flows", [])
    check("-s all -j matches the golden document", golden_json("gateway.show.json", doc) == doc,
          out[:800])
    check("-s all -j: flows and sas as JSON, keys stable",
          rc == 0 and len(flows) == len(golden.splitlines()) and doc.get("sas") == []
          and all(set(["satype", "direction", "type", "proto", "src", "src_port", "dst",
                       "dst_port", "local", "peer", "srcid", "dstid"]) <= set(f) for f in flows),
          out[:800] + err)
    sh(b, "-F", ns=ns)

    # Precedence, proven by packets: bypass /32 beats deny /24.
    a = new_namespace("pa")
    peer = new_namespace("pb")
    sh("ip", "link", "add", "v0", "netns", a, "type", "veth", "peer", "name", "v1", "netns", peer)
    sh("ip", "addr", "add", "10.77.1.1/24", "dev", "v0", ns=a)
    sh("ip", "addr", "add", "10.77.1.2/24", "dev", "v1", ns=peer)
    sh("ip", "addr", "add", "10.77.1.3/24", "dev", "v1", ns=peer)
    sh("ip", "link", "set", "v0", "up", ns=a)
    sh("ip", "link", "set", "v1", "up", ns=peer)
    traffic = staged(tmp, os.path.join(HERE, "traffic.conf"))
    rc, out, err = sh(b, "-f", traffic, ns=a, check_rc=False)
    ok3 = sh("ping", "-c", "1", "-W", "2", "10.77.1.3", ns=a, check_rc=False)[0] == 0
    ok2 = sh("ping", "-c", "1", "-W", "1", "10.77.1.2", ns=a, check_rc=False)[0] == 0
    check("packets: the narrow bypass passes, the wide deny blocks", rc == 0 and ok3 and not ok2,
          "load rc %d %s; ping .3 %s, ping .2 %s" % (rc, err, ok3, ok2))

    # Without the needed privilege: one clear line, exit 1.
    os.chmod(traffic, 0o644)
    rc, out, err = sh(b, "-s", "all", ns=a, check_rc=False, user="65534")
    check("not root: one clear line and exit 1",
          rc == 1 and err.count("\n") == 1 and "needs root or CAP_NET_ADMIN" in err, err)


if __name__ == "__main__":
    sys.exit(main())
