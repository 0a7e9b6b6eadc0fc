#!/usr/bin/env python3
"""Command line behaviour and hostile input, run against the real binary.

Every case checks the exit status and the exact (or essential) message, and
runs under a time limit so that a hang fails instead of blocking CI.
Prints 'N passed, M failed' last.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402

USAGE = ("usage: ipsecctl [-cdFjkmnv] [-D macro=value] [-f file] [-i fifo] [-s modifier]\n"
         "                [--kernel xfrm|pfkey] [--ike auto|vici|isakmpd] [--vici path] [--keys dir]\n"
         "                [--diff] [--as file] [--wait[=seconds]] [--allow-static-aead]\n"
         "                [--diagnostics auto|caret|plain] [--color auto|always|never]\n"
         "                [--ike-version 1|2|any] [--format text|json|prometheus|swanctl]\n"
         "                [--iked] [--json] [--help] [--version]\n")
SYNTAX = "ipsecctl: Syntax error in config file: ipsec rules not loaded\n"


def run(binary, args, stdin=b"", cwd=None, timeout=20):
    start = time.monotonic()
    proc = subprocess.run([binary] + args, input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=cwd, timeout=timeout)
    return proc.returncode, proc.stdout.decode(errors="replace"), \
        proc.stderr.decode(errors="replace"), time.monotonic() - start


def write(directory, name, content, mode=0o600):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(content)
    os.chmod(path, mode)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    b = os.path.abspath(ap.parse_args().ipsecctl)

    rc, out, err, _ = run(b, [])
    check("no arguments prints usage", rc == 1 and err == USAGE, err)
    rc, out, err, _ = run(b, ["-x"])
    check("unknown option", rc == 1 and err == "ipsecctl: unknown option -- x\n" + USAGE, err)
    rc, out, err, _ = run(b, ["-n", "-f", "-", "extra"])
    check("stray operand", rc == 1 and
          err == "ipsecctl: unknown command line argument: extra ...\n" + USAGE, err)
    rc, out, err, _ = run(b, ["-s", "bogus"])
    check("bad show modifier", rc == 1 and
          err == "ipsecctl: Unknown show modifier 'bogus'\n" + USAGE, err)
    rc, out, err, _ = run(b, ["-f"])
    check("missing option argument", rc == 1 and
          err == "ipsecctl: option requires an argument -- f\n" + USAGE, err)
    rc, out, err, _ = run(b, ["--help"])
    check("--help explains every option", rc == 0 and err == "" and
          all(o in out for o in ["-f file", "-s modifier", "--kernel", "xfrm", "pfkey", "--ike",
                                 "vici", "isakmpd", "--json", "--diagnostics", "--color"]), out)
    rc, out, err, _ = run(b, ["--version"])
    check("--version", rc == 0 and out.startswith("ipsecctl ") and err == "", out + err)
    rc, out, err, _ = run(b, ["--bogus"])
    check("unknown long option", rc == 1 and err == "ipsecctl: unknown option --bogus\n" + USAGE,
          err)

    rule = b"flow esp from 192.0.2.1 to 192.0.2.2\n"
    rc, out, err, _ = run(b, ["-nv", "-f", "-"], stdin=rule)
    check("-f - reads standard input", rc == 0 and out.startswith("flow esp out from 192.0.2.1"), out + err)
    rc, out, err, _ = run(b, ["-n", "-f", "-"], stdin=rule)
    check("-n alone prints nothing", rc == 0 and out == "" and err == "", out + err)
    rc, out, err, _ = run(b, ["-nv", "-D", "p=198.51.100.1", "-D", "bad", "-f", "-"],
                          stdin=b"p = \"192.0.2.9\"\nflow esp from 192.0.2.1 to 10.0.0.0/8 peer $p\n")
    check("-D overrides the file and reports bad definitions",
          rc == 0 and "peer 198.51.100.1 type" in out and
          err == "ipsecctl: could not parse macro definition bad\n", out + err)

    with tempfile.TemporaryDirectory() as tmp:
        loose = write(tmp, "loose.conf", rule, 0o644)
        rc, out, err, _ = run(b, ["-n", "-f", loose])
        check("world-readable file is refused", rc == 1 and
              err == "ipsecctl: %s: group writable or world read/writable\n%s" % (loose, SYNTAX), err)
        ok = write(tmp, "ok.conf", rule, 0o640)
        rc, out, err, _ = run(b, ["-n", "-f", ok])
        check("group-readable file is accepted", rc == 0 and err == "", err)
        missing = os.path.join(tmp, "missing.conf")
        rc, out, err, _ = run(b, ["-n", "-f", missing])
        check("unreadable file", rc == 1 and
              err == "ipsecctl: pushfile: %s: No such file or directory\n%s" % (missing, SYNTAX), err)
        rc, out, err, _ = run(b, ["-n", "-f", tmp])
        check("a directory is not a file", rc == 1 and "Is a directory" in err and err.endswith(SYNTAX), err)

        # A 10 MB line: one word, then one quoted string, then one of blanks.
        huge = write(tmp, "huge.conf", b"flow esp from " + b"a" * (10 << 20) + b" to 192.0.2.2\n" + rule)
        rc, out, err, elapsed = run(b, ["-nv", "-f", huge])
        check("10 MB word: error with file and line, no hang",
              rc == 1 and err == "%s: 1: string too long\n%s: 1: syntax error\n%s" % (huge, huge, SYNTAX)
              and elapsed < 10, err[:300])
        huge = write(tmp, "hugeq.conf", b"flow esp from \"" + b"b" * (10 << 20) + b"\" to x\n" + rule)
        rc, out, err, elapsed = run(b, ["-nv", "-f", huge])
        check("10 MB quoted string", rc == 1 and err.startswith("%s: 1: string too long\n" % huge)
              and elapsed < 10, err[:300])
        huge = write(tmp, "hugeb.conf", b" " * (10 << 20) + b"\n" + rule + b"junk\n")
        rc, out, err, elapsed = run(b, ["-nv", "-f", huge])
        check("10 MB of blanks then an error on line 3",
              rc == 1 and err == "%s: 3: syntax error\n%s" % (huge, SYNTAX) and elapsed < 10, err[:300])
        junk = write(tmp, "junk.conf", bytes(range(256)) * 64)
        rc, out, err, _ = run(b, ["-nv", "-f", junk])
        check("binary junk", rc == 1 and err.startswith(junk + ": 1: syntax error\n") and
              err.endswith(SYNTAX), err[:300])

        key = b"0x" + b"00" * 32
        rc, out, err, _ = run(b, ["-nv", "-f", "-"],
                              stdin=b"esp from 192.0.2.1 to 192.0.2.2 spi 0x1000 authkey file \"/nonexistent/k\"\n")
        check("missing key file is fatal", rc == 1 and
              err == "ipsecctl: open /nonexistent/k: No such file or directory\n", err)

        # An ike rule is refused before any kernel or daemon is touched, so
        # this is safe outside a namespace of our own.
        ike = write(tmp, "ike.conf", rule + b"ike esp from 192.0.2.1 to 192.0.2.2\n")
        rc, out, err, _ = run(b, ["-f", ike])
        check("ike rules without an IKE backend: clear error, nothing loaded",
              rc == 1 and "nothing was loaded" in err, err)
        rc, out, err, _ = run(b, ["--kernel", "bogus", "-n", "-f", ok])
        check("unknown --kernel is a usage error",
              rc == 1 and err.startswith("ipsecctl: unknown kernel interface 'bogus'"), err)
        # -n -j: the compiled plan as JSON, parsed here.
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "json",
                               "plan.conf"), "rb") as f:
            plan = write(tmp, "plan.conf", f.read())
        rc, out, err, _ = run(b, ["-n", "-j", "-f", plan])
        try:
            doc = json.loads(out)
        except ValueError as e:
            doc = {"error": str(e)}
        check("-n -j: the plan as JSON, each entry with its origin",
              rc == 0 and doc.get("valid") is True and len(doc.get("flows", [])) == 2 and
              len(doc.get("sas", [])) == 2 and len(doc.get("ike", [])) == 4 and
              all(e["origin"]["file"] == plan for e in doc["flows"] + doc["sas"] + doc["ike"]) and
              doc["ike"][0]["phase2"]["enc"] == "aes-256-gcm" and "psk" not in doc["ike"][0] and
              doc["ike"][3]["refusal"] == "illegal satype 3", out[:500] + err)
        rc, out, err, _ = run(b, ["-n", "-j", "-k", "-f", plan])
        check("-n -j -k shows the pre-shared secret", '"psk":"secret"' in out, out[:300])
        rc, out, err, _ = run(b, ["-nv", "-j", "-f", plan])
        check("-j keeps stdout to the JSON document (no -v text)", out.startswith("{"), out[:200])
        rc, out, err, _ = run(b, ["-nF"])
        check("-nF does nothing", rc == 0 and err == "", err)

        # IKE versions: the option, the file's macro, -D over both.
        v1 = b"ike esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 psk \"a\"\n"
        v2 = b"ike esp from 10.0.1.0/24 to 10.0.3.0/24 peer 192.0.2.2 main enc aes-256-gcm " \
             b"auth hmac-sha2-384 group ecp384 dstid 192.0.2.2 psk \"b\"\n"
        mixed = write(tmp, "mixed.conf", v1 + b"ipsecctl_ike_version = \"2\"\n" + v2)
        rc, out, err, _ = run(b, ["-nv", "-f", mixed])
        check("-nv: isakmpd's commands for the IKEv1 rule, swanctl.conf for the IKEv2 one",
              rc == 0 and err == "" and "C set [peer-192.0.2.1]" in out and
              "peer-192.0.2.2" not in out and "# IKEv2 rules, as strongSwan's charon gets them\n"
              in out and "    peer-192_0_2_2 {\n        version = 2\n        proposals = "
              "aes256gcm16-prfsha384-ecp384\n" in out and "peer-192_0_2_1 {" not in out,
              out + err)
        rc, out, err, _ = run(b, ["-n", "--format", "swanctl", "-f", mixed])
        check("--format swanctl: both connections and their secrets, for swanctl",
              rc == 0 and err == "" and "    peer-192_0_2_1 {\n        version = 1\n" in out and
              "    peer-192_0_2_2 {\n        version = 2\n" in out and
              "    ike-ipsecctl-peer-192_0_2_2 {\n        secret = \"b\"\n" in out, out + err)
        rc, out, err, _ = run(b, ["-n", "-j", "--ike-version", "2", "-f", mixed])
        doc = json.loads(out) if rc == 0 else {}
        check("--ike-version 2 is the default the file's macro overrides (-n -j)",
              [e["ike_version"] for e in doc.get("ike", [])] == ["2", "2"], out + err)
        rc, out, err, _ = run(b, ["-n", "-j", "-D", "ipsecctl_ike_version=1", "-f", mixed])
        doc = json.loads(out) if rc == 0 else {}
        check("-D ipsecctl_ike_version fixes it for every rule, as -D fixes any macro",
              [e["ike_version"] for e in doc.get("ike", [])] == ["1", "1"], out + err)
        rc, out, err, _ = run(b, ["-n", "-D", "ipsecctl_ike_version=3", "-f", mixed])
        check("-D with a bad version is an error",
              rc == 1 and "ipsecctl: -D ipsecctl_ike_version=3: not an IKE version (1, 2 or any)"
              in err, err)
        rc, out, err, _ = run(b, ["-n", "--ike-version", "3", "-f", mixed])
        check("--ike-version 3 is a usage error",
              rc == 1 and err.startswith("ipsecctl: --ike-version takes 1, 2 or any\n"), err)
        aggressive = write(tmp, "aggr.conf", b"ipsecctl_ike_version = \"2\"\n" + v1.replace(
            b" psk", b" aggressive psk"))
        rc, out, err, _ = run(b, ["-n", "--format", "swanctl", "-f", aggressive])
        check("aggressive mode in an IKEv2 rule: refused at its line, with the reason",
              rc == 1 and aggressive + ": 2: aggressive mode is an IKEv1 exchange: IKEv2 has none"
              in err, err)
        rc, out, err, _ = run(b, ["--format", "swanctl", "-f", mixed])
        check("--format swanctl wants -n",
              rc == 1 and err == "ipsecctl: --format swanctl goes with -n -f file\n", err)
        rc, out, err, _ = run(b, ["-j", "--format", "prometheus", "-s", "all"])
        check("two formats at once: choose one",
              rc == 1 and err.startswith("ipsecctl: output format prometheus or json: choose "
                                         "one\n"), err)
        # A file per peer says what its own peer speaks: the setting holds in
        # its file and in what that file includes after it, never outside.
        write(tmp, "v2peer.conf", b"ipsecctl_ike_version = \"2\"\n" +
              v1.replace(b"192.0.2.1 ", b"192.0.2.5 ").replace(b"10.0.2.0", b"10.0.5.0"))
        write(tmp, "plainpeer.conf", v1.replace(b"192.0.2.1 ", b"192.0.2.6 ")
              .replace(b"10.0.2.0", b"10.0.6.0"))
        hub = write(tmp, "hub.conf", b"include \"v2peer.conf\"\n" + v1 +
                    b"ipsecctl_ike_version = \"2\"\ninclude \"plainpeer.conf\"\n")
        rc, out, err, _ = run(b, ["-n", "-j", "-f", hub], cwd=tmp)
        doc = json.loads(out) if rc == 0 else {}
        check("ipsecctl_ike_version in an included file stays in it; one before an include "
              "holds in it", [(e["peer"], e["ike_version"]) for e in doc.get("ike", [])] ==
              [("192.0.2.5", "2"), ("192.0.2.1", "1"), ("192.0.2.6", "2")], out + err)
        rc, out, err, _ = run(b, ["-nvv", "-f", mixed])
        check("-vv does not call ipsecctl_ike_version unused", "not used" not in err, err)

    return summary()


if __name__ == "__main__":
    sys.exit(main())
