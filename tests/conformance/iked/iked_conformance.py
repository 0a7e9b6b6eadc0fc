#!/usr/bin/env python3
"""iked.conf(5) conformance: `ipsecctl --iked -n [-v] -f FILE` against the
answers of Debian's openiked 7.2 (`iked -n [-v] -f FILE`).

  --set FILE          check every case of a recorded set (JSON lines,
                      gzipped or not: name, args, input, files, stdout,
                      stderr, rc; cases.jsonl.gz beside this script)
  --record N --iked P write N new cases, answered by iked P, to --out
  --live N --iked P   draw N new cases and compare answers at once (the
                      larger set: any seed, any size)

Cases run in a network namespace with only `lo` up (the script re-enters
itself there with unshare; it needs root): interface words and failed
name lookups then answer the same for both programs on any machine, and
no lookup leaves it. iked writes everything, its policies included, to
standard error; so do we. Where iked names itself (": " with its empty
program name, or "parent: " for its fatal errors) we print "ipsecctl: ".
Where iked crashes (it dereferences a missing transform list), we must
refuse the file with exit status 1 and a message instead.
"""

import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iked_cases  # noqa: E402

CONF = "iked.conf"


def enter_namespace():
    if os.environ.get("IKED_CONFORMANCE_NETNS") == "1":
        return
    if os.geteuid() != 0:
        print("FAIL: iked conformance needs root (a network namespace of its own)")
        sys.exit(1)
    env = dict(os.environ, IKED_CONFORMANCE_NETNS="1")
    script = "ip link set lo up && exec \"$0\" \"$@\""
    rc = subprocess.call(["unshare", "-n", "sh", "-c", script, sys.executable,
                          os.path.abspath(__file__)] + sys.argv[1:], env=env)
    sys.exit(rc)


def run(program, args, text, files):
    work = tempfile.mkdtemp(prefix="iked-case-")
    try:
        path = os.path.join(work, CONF)
        with open(path, "w", encoding="latin-1") as f:
            f.write(text)
        os.chmod(path, 0o600)
        for name, (body, mode) in files.items():
            p = os.path.join(work, name)
            with open(p, "w", encoding="latin-1") as f:
                f.write(body)
            os.chmod(p, mode)
        proc = subprocess.run(program + args + ["-f", CONF], cwd=work, capture_output=True,
                              timeout=20)
        return (proc.stdout.decode("latin-1"), proc.stderr.decode("latin-1"), proc.returncode)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def normalize(stderr, ours):
    lines = []
    for line in stderr.split("\n"):
        if ours and line.startswith("ipsecctl: "):
            line = ": " + line[len("ipsecctl: "):]
        if not ours and line.startswith("parent: "):
            line = ": " + line[len("parent: "):]
        lines.append(line)
    return "\n".join(lines)


def draw(seed, count):
    rng = random.Random(seed)
    for i in range(count):
        text, files = iked_cases.make_case(rng)
        args = ["-nv"] if i % 5 else ["-n"]
        yield "k%07d" % i, args, text, {k: [v[0], v[1]] for k, v in files.items()}


def answer_with_iked(iked, args, text, files):
    out, err, rc = run([iked], args, text, {k: tuple(v) for k, v in files.items()})
    return out, err, ("crash" if rc < 0 or rc >= 128 else rc)


def compare(ipsecctl, case):
    files = {k: tuple(v) for k, v in case.get("files", {}).items()}
    out, err, rc = run([ipsecctl, "--iked", "--diagnostics=plain"], case["args"], case["input"],
                       files)
    if case["rc"] == "crash":
        if rc == 1 and "iked crashes" in err:
            return None
        return "iked crashes here; we must refuse with exit 1 and say so, got %d:\n%s" % (rc, err)
    want = normalize(case["stderr"], False)
    got = normalize(err, True)
    if out == case["stdout"] and got == want and rc == case["rc"]:
        return None
    return ("exit %s, want %s\n--- iked's stderr\n%s--- ours\n%s" %
            (rc, case["rc"], want, got))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ipsecctl")
    parser.add_argument("--iked")
    parser.add_argument("--set")
    parser.add_argument("--record", type=int)
    parser.add_argument("--live", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out")
    parser.add_argument("--show", type=int, default=5, help="failures to print")
    opts = parser.parse_args()
    # Cases run in a directory of their own.
    opts.ipsecctl = opts.ipsecctl and os.path.abspath(opts.ipsecctl)
    opts.iked = opts.iked and os.path.abspath(opts.iked)
    enter_namespace()

    if opts.record:
        with open(opts.out, "w", encoding="utf-8") as out:
            for name, args, text, files in draw(opts.seed, opts.record):
                o, e, rc = answer_with_iked(opts.iked, args, text, files)
                out.write(json.dumps({"name": name, "args": args, "input": text,
                                      "files": files, "stdout": o, "stderr": e, "rc": rc}) + "\n")
        return 0

    if opts.live:
        cases = []
        for name, args, text, files in draw(opts.seed, opts.live):
            o, e, rc = answer_with_iked(opts.iked, args, text, files)
            cases.append({"name": name, "args": args, "input": text, "files": files,
                          "stdout": o, "stderr": e, "rc": rc})
    else:
        opener = gzip.open if opts.set.endswith(".gz") else open
        with opener(opts.set, "rt", encoding="utf-8") as f:
            cases = [json.loads(line) for line in f if line.strip()]
        # The sanitizer build's pass takes every Nth case (see
        # tests/conformance.sh): its processes start ten times slower.
        sample = int(os.environ.get("IPSECCTL_CONFORMANCE_SAMPLE", "1") or "1")
        if sample > 1:
            cases = cases[::sample]
            print("a sample: every %dth case (%d cases)" % (sample, len(cases)))

    failed = 0
    valid = sum(1 for c in cases if c["rc"] == 0)
    crashes = sum(1 for c in cases if c["rc"] == "crash")
    for case in cases:
        problem = compare(opts.ipsecctl, case)
        if problem:
            failed += 1
            if failed <= opts.show:
                print("FAIL %s %s\n%s--- input\n%s" % (case["name"], " ".join(case["args"]),
                                                       problem, case["input"]))
    print("iked conformance: %d cases (%d accepted by iked, %d refused, %d crash iked): "
          "%d same, %d different" % (len(cases), valid, len(cases) - valid - crashes, crashes,
                                     len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
