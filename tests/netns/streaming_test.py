#!/usr/bin/env python3
"""Loading while compiling, against the real kernel in namespaces of our own.

A file of at least 1,024 flow rules (and nothing else) is sent to the
kernel while the compiler is still reading it. These checks hold it to the
ordinary path: the same file read from standard input (which is never
streamed) must leave the very same kernel; a syntax error anywhere must
touch nothing; an error of meaning found late must take back what already
went out; a flow written twice goes in once; a reload of the loaded file
stays silent, and -d -f removes all of it.

Needs root. Prints 'N passed, M failed' last; every namespace and process
it made is removed on the way out.
"""

import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checks import check  # noqa: E402
import netns_test as nt  # noqa: E402

PEER = "192.0.2.1"


def many_flows(count):
    """Host-to-host tunnel flows, then the shapes that wait for the end."""
    lines = []
    for i in range(count):
        lines.append("flow esp from 10.1.%d.%d to 10.2.%d.%d peer %s\n"
                     % (i >> 8, i & 255, i >> 8, i & 255, PEER))
    # Subnets (kept for the end, widest first), ports, bypass and deny.
    for i in range(20):
        lines.append("flow esp from 10.3.%d.0/24 to 10.4.0.0/16 peer %s\n" % (i, PEER))
    lines.append("flow esp from 10.5.0.0/16 to 10.6.0.0/16 peer %s\n" % PEER)
    lines.append("flow esp proto tcp from 10.7.0.1 port 22 to 10.7.0.2 peer %s\n" % PEER)
    lines.append("flow esp from 10.8.0.0/24 to 10.8.1.0/24 type bypass\n")
    lines.append("flow esp from 10.8.2.0/24 to 10.8.3.0/24 type deny\n")
    # Written twice: a host flow and a subnet flow.
    lines.append(lines[7])
    lines.append(lines[count + 3])
    return "".join(lines)


def load(b, ns, path, stdin_text=None):
    cmd = ["ip", "netns", "exec", ns, b, "-f", path]
    proc = subprocess.run(cmd, input=(stdin_text or "").encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=300)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def foreign_policy(ns):
    """Another program's version of one of the file's policies (another
    priority and peer): the load updates it."""
    nt.sh("ip", "xfrm", "policy", "add", "src", "10.1.0.5/32", "dst", "10.2.0.5/32", "dir",
          "out", "priority", "77", "tmpl", "src", "0.0.0.0", "dst", "192.0.2.99", "proto", "esp",
          "mode", "tunnel", ns=ns)


def run_checks(b, tmp):
    text = many_flows(1500)
    conf = nt.write_private(tmp, "many.conf", text)

    # The same file both ways, each into a namespace that starts alike.
    plain, streamed = nt.new_namespace("plain"), nt.new_namespace("stream")
    foreign_policy(plain)
    foreign_policy(streamed)
    rc1, _, err1 = load(b, plain, "-", stdin_text=text)
    rc2, _, err2 = load(b, streamed, conf)
    same = sorted(nt.policy_blocks(plain)) == sorted(nt.policy_blocks(streamed))
    check("a file of 1,500 flows loads while compiled, exit 0 and silent",
          rc1 == 0 and rc2 == 0 and err2 == "", "stdin: %d %s; file: %d %s" % (rc1, err1, rc2, err2))
    check("... and leaves the kernel exactly as the ordinary path does (updates, duplicates, "
          "bypass, deny, subnets, ports)", same and len(nt.policy_blocks(streamed)) == 3 * (1500 + 24),
          "%d and %d policies" % (len(nt.policy_blocks(plain)), len(nt.policy_blocks(streamed))))
    def records():
        state = os.environ["IPSECCTL_STATE_DIR"]
        return sorted((os.path.join(d, f), os.stat(os.path.join(d, f)).st_ino,
                       os.stat(os.path.join(d, f)).st_mtime_ns)
                      for d, _, fs in os.walk(state) for f in fs if f.endswith(".record"))
    before = records()
    mon = nt.Monitor(streamed)
    rc, _, err = load(b, streamed, conf)
    events = mon.stop()
    check("reloading the streamed file sends nothing", rc == 0 and events.strip() == "",
          err + events[:500])
    check("... and leaves its record as it was (not written again)",
          len(before) == 2 and records() == before, "%s / %s" % (before, records()))

    # An edited reload reads the kernel while the file compiles (a file with
    # a record is never streamed); standard input reads it afterwards.
    lines = text.splitlines(True)
    edited = lines[100:200] + [l.replace(PEER, "192.0.2.2") for l in lines[200:210]] + lines[210:]
    edited += ["flow esp from 10.10.0.%d to 10.11.0.%d peer %s\n" % (i, i, PEER) for i in range(50)]
    edited = "".join(edited)
    rc1, _, err1 = load(b, plain, "-", stdin_text=edited)
    nt.write_private(tmp, "many.conf", edited)
    rc2, _, err2 = load(b, streamed, conf)
    blocks = nt.policy_blocks(streamed)
    check("an edited reload (flows dropped, changed, added) leaves the same kernel as the "
          "ordinary path", rc1 == 0 and rc2 == 0 and sorted(nt.policy_blocks(plain)) == sorted(blocks)
          and nt.find_block(blocks, "10.1.0.0/32", "10.2.0.0/32", "out") is None
          and nt.find_block(blocks, "10.10.0.7/32", "10.11.0.7/32", "out") is not None
          and "192.0.2.2" in nt.find_block(blocks, "10.1.0.200/32", "10.2.0.200/32", "out"),
          "%d %s / %d %s" % (rc1, err1, rc2, err2))
    rc, _, err = nt.sh(b, "-d", "-f", conf, ns=streamed, check_rc=False)
    left = nt.policy_blocks(streamed)
    check("-d -f removes everything the streamed load put in place",
          rc == 0 and len(left) == 0, err + "\n".join(left[:5]))

    # A syntax error on the last line: the kernel never hears of the file.
    ns = nt.new_namespace("syntax")
    broken = nt.write_private(tmp, "broken.conf", text + "flow esp from 10.9.9.9 to\n")
    mon = nt.Monitor(ns)
    rc, _, err = load(b, ns, broken)
    events = mon.stop()
    last = len(text.splitlines()) + 1
    check("a syntax error on the last line touches nothing (no kernel event at all)",
          rc == 1 and events.strip() == "" and nt.policy_blocks(ns) == [], events[:300])
    check("... and is reported as on the ordinary path",
          "broken.conf: %d: syntax error" % last in err
          and "ipsec rules not loaded" in err, err)

    # An error of meaning on the last line: what went out comes back. The
    # flows stream only once the first pass (a thread beside the compile)
    # has read the whole file; a file the compile gets through first is
    # simply not streamed, as happened with 1,500 flows on a busy machine.
    # 20,000 give the first pass a long head start.
    ns = nt.new_namespace("meaning")
    foreign_policy(ns)
    before = sorted(nt.policy_blocks(ns))
    long_text = many_flows(20000)
    bad = nt.write_private(tmp, "bad.conf",
                           long_text + "flow esp from 10.9.9.9 to 10.9.9.300 peer %s\n" % PEER)
    mon = nt.Monitor(ns)
    rc, _, err = load(b, ns, bad)
    events = mon.stop()
    check("a bad address on the last line: exit 1, the kernel as it was",
          rc == 1 and sorted(nt.policy_blocks(ns)) == before, err)
    # (ip xfrm monitor's last lines may die in its buffer; the first ones
    # and ipsecctl's own count say enough.)
    undone = re.search(r"the (\d+) kernel changes sent while the file was being read were "
                       r"undone; the kernel is as it was", err)
    check("... although policies had gone out (the file was streamed) and were taken back",
          "10.1.0.1/32" in events and undone is not None and int(undone.group(1)) > 0,
          err + events[:300])
    check("... with OpenBSD's messages for the line",
          "bad.conf: %d: could not parse host specification" % (len(long_text.splitlines()) + 1)
          in err
          and "ipsec rules not loaded" in err, err)

    # Files the first pass declines (it runs beside the compile, so these
    # compile once and then load the ordinary way): fewer than 1,024 flow
    # rules in a large file, and flows with an SA at the end.
    few = "".join("# %s\n" % ("-" * 70) for _ in range(400)) + many_flows(1000)
    ns_file, ns_stdin = nt.new_namespace("few-file"), nt.new_namespace("few-stdin")
    rc1, _, err1 = load(b, ns_stdin, "-", stdin_text=few)
    rc2, _, err2 = load(b, ns_file, nt.write_private(tmp, "few.conf", few))
    check("a large file of fewer than 1,024 flow rules loads the ordinary way, same kernel",
          rc1 == 0 and rc2 == 0 and sorted(nt.policy_blocks(ns_stdin)) ==
          sorted(nt.policy_blocks(ns_file)) and len(nt.policy_blocks(ns_file)) == 3 * 1024,
          "%d %s / %d %s" % (rc1, err1, rc2, err2))
    with_sa = text + ("esp from 10.9.9.9 to 10.9.9.3 spi 0x1000 enc aes "
                      "authkey 0x%s enckey 0x%s\n" % ("11" * 32, "22" * 16))
    ns_file, ns_stdin = nt.new_namespace("sa-file"), nt.new_namespace("sa-stdin")
    rc1, _, err1 = load(b, ns_stdin, "-", stdin_text=with_sa)
    rc2, _, err2 = load(b, ns_file, nt.write_private(tmp, "with-sa.conf", with_sa))
    # This kernel has no ESP: the SA is refused, and the flows with it.
    check("flows with an SA at the end are not streamed: the same outcome as the ordinary "
          "path (here the SA is refused and nothing stays)",
          rc1 == rc2 and sorted(nt.policy_blocks(ns_stdin)) == sorted(nt.policy_blocks(ns_file))
          and err1.replace("stdin", "with-sa.conf") == err2.replace(tmp + "/", ""),
          "stdin %d %s / file %d %s" % (rc1, err1[-300:], rc2, err2[-300:]))

    # A kernel backend that cannot be opened is reported after the file's
    # own errors, as on the ordinary path: the streamed load opens it only
    # once the first pass has found the file clean. PF_KEY is such a
    # backend where the kernel lacks af_key (this host's kernel does).
    try:
        socket.socket(15, socket.SOCK_RAW, 2).close()  # AF_KEY, PF_KEY_V2
        have_pfkey = True
    except OSError:
        have_pfkey = False
    if not have_pfkey:
        ns = nt.new_namespace("nokey")
        proc = subprocess.run(["ip", "netns", "exec", ns, b, "--kernel", "pfkey", "-f", broken],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        err = proc.stderr.decode()
        check("a large file with a syntax error, through a backend the kernel lacks: the file's "
              "error is reported, not the kernel's",
              proc.returncode == 1 and "broken.conf: %d: syntax error" % last in err
              and "PF_KEY is not available" not in err, err[-400:])

    # A flow the Linux kernel cannot express, late in the file.
    ns = nt.new_namespace("refused")
    acquire = nt.write_private(
        tmp, "acquire.conf", text + "flow esp from 10.9.9.9 to 10.9.9.3 peer %s type acquire\n" % PEER)
    rc, _, err = load(b, ns, acquire)
    check("a late flow the kernel cannot express: exit 1, nothing left, the line named",
          rc == 1 and nt.policy_blocks(ns) == []
          and "acquire.conf: %d: flow type acquire has no Linux XFRM equivalent" % last in err,
          err)


def main():
    return nt.run_tier(run_checks, "ipsecctl-stream-")


if __name__ == "__main__":
    sys.exit(main())
