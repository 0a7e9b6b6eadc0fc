#!/usr/bin/env python3
"""Golden tests: run ipsecctl on a configuration and compare its output.

A case is a file CASE.conf with its expected output beside it:

  CASE.nv      expected output of `ipsecctl -nv -f CASE.conf`
  CASE.out     expected output of `ipsecctl ARGS -f CASE.conf`, where ARGS is
               the first line of CASE.args (default -nv)

stdout and stderr go to one pipe, as in OpenBSD's *fail regress tests. The
case's directory is copied to a private temporary directory first (files
mode 0600, as ipsecctl requires), and ipsecctl runs there, so includes and
key files resolve relative to the case. In expected output, @HOSTNAME@
stands for this machine's host name (`ike dynamic` uses it as srcid) and
@DIR@ for the temporary directory.

Usage: run_golden.py --ipsecctl PATH [--update] DIR_OR_CASE...
Prints 'N passed, M failed' last; exit status 0 only if all passed.
"""

import argparse
import difflib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile


INCLUDE = re.compile(r'^\s*include\s+"([^"]+)"', re.M)


def find_cases(paths):
    """Every CASE.conf with an expected output. A .conf without one is an
    error (a forgotten golden file must not pass silently) unless another
    configuration of the tree includes it."""
    cases, orphans = [], []
    for path in paths:
        if os.path.isdir(path):
            confs = []
            for root, _, files in os.walk(path):
                # Other programs' files beside an example (keepalived.conf,
                # bird.conf, ...) are named in its NOT-IPSECCTL.
                others = set()
                if "NOT-IPSECCTL" in files:
                    with open(os.path.join(root, "NOT-IPSECCTL")) as f:
                        others = set(f.read().split())
                confs += [os.path.join(root, f) for f in sorted(files)
                          if f.endswith(".conf") and f not in others]
            included = set()
            for conf in confs:
                with open(conf, errors="replace") as f:
                    for name in INCLUDE.findall(f.read()):
                        included.add(os.path.normpath(os.path.join(os.path.dirname(conf), name)))
            for conf in confs:
                stem = conf[:-5]
                if os.path.exists(stem + ".nv") or os.path.exists(stem + ".out"):
                    cases.append(stem)
                elif os.path.normpath(conf) not in included:
                    orphans.append(conf)
        else:
            cases.append(path[:-5] if path.endswith(".conf") else path)
    return sorted(set(cases)), orphans


def run_case(ipsecctl, stem, update):
    expected_path = stem + ".out" if os.path.exists(stem + ".out") or os.path.exists(stem + ".args") else stem + ".nv"
    args = ["-nv"]
    if os.path.exists(stem + ".args"):
        with open(stem + ".args") as f:
            args = f.readline().split()
    with tempfile.TemporaryDirectory(prefix="ipsecctl-golden-") as tmp:
        src_dir = os.path.dirname(os.path.abspath(stem))
        work = os.path.join(tmp, "case")
        shutil.copytree(src_dir, work)
        for root, _, files in os.walk(work):
            for f in files:
                os.chmod(os.path.join(root, f), 0o600)
        proc = subprocess.run(
            [ipsecctl] + args + ["-f", os.path.basename(stem) + ".conf"],
            cwd=work, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=30)
        got = proc.stdout.decode(errors="replace").replace(work, "@DIR@")
    # Only where `ike dynamic` puts the host name: id-NAME and Name=NAME
    # (isakmpd), `id = NAME` (swanctl.conf).
    host = re.escape(socket.gethostname())
    got = re.sub(r"(id-|Name=|\bid = )" + host + r"(?=[\] \n])", r"\1@HOSTNAME@", got)
    if update:
        with open(expected_path, "w") as f:
            f.write(got)
        return True, ""
    with open(expected_path) as f:
        expected = f.read()
    if got == expected:
        return True, ""
    diff = "".join(difflib.unified_diff(expected.splitlines(True), got.splitlines(True),
                                        expected_path, "got"))
    return False, diff


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    ap.add_argument("--update", action="store_true", help="rewrite expected outputs")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    cases, orphans = find_cases(a.paths)
    passed = failed = 0
    for conf in orphans:
        failed += 1
        print("FAIL %s: no expected output (.nv or .out) beside it, and nothing includes it" % conf)
    for stem in cases:
        ok, diff = run_case(os.path.abspath(a.ipsecctl), stem, a.update)
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL %s\n%s" % (stem, diff))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
