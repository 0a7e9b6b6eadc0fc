#!/usr/bin/env python3
"""Errors as a user sees them on a terminal: the source line, a caret under
the offending word, the include chain and a hint.

Each case is tests/diagnostics/NAME.conf with NAME.tty, the expected
standard error of `ipsecctl --color=never -n -f NAME.conf` when standard
error is a terminal (a pty here, so the carets come on by themselves).
NAME.mode, when present, holds the file's mode (octal). The same runs with
standard error on a pipe must print OpenBSD's text only, and `-n -j` must
carry the same diagnostics as JSON.

Usage: diagnostics_test.py --ipsecctl PATH [--update]
Prints 'N passed, M failed' last.
"""

import argparse
import difflib
import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "diagnostics")


def run_on_terminal(args, cwd):
    """Runs with stderr on a pty; returns (exit status, stderr text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=slave, env=dict(os.environ, TERM="xterm"))
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    rc = proc.wait(timeout=30)
    # The terminal turns each newline into CR LF.
    return rc, b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


def run_on_pipe(args, cwd):
    proc = subprocess.run(args, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=30)
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsecctl", required=True)
    ap.add_argument("--update", action="store_true")
    a = ap.parse_args()
    binary = os.path.abspath(a.ipsecctl)
    names = sorted(f[:-5] for f in os.listdir(CASES) if f.endswith(".conf"))
    with tempfile.TemporaryDirectory(prefix="ipsecctl-diagnostics-") as tmp:
        work = os.path.join(tmp, "cases")
        shutil.copytree(CASES, work)
        for f in os.listdir(work):
            os.chmod(os.path.join(work, f), 0o600)
        for name in names:
            conf = name + ".conf"
            mode_file = os.path.join(CASES, name + ".mode")
            if os.path.exists(mode_file):
                with open(mode_file) as f:
                    os.chmod(os.path.join(work, conf), int(f.read().strip(), 8))
            rc, got = run_on_terminal([binary, "--color=never", "-n", "-f", conf], work)
            expected_path = os.path.join(CASES, name + ".tty")
            if a.update:
                with open(expected_path, "w") as f:
                    f.write(got)
            if not os.path.exists(expected_path):
                check("%s: has an expected .tty file" % name, False)
                continue
            with open(expected_path) as f:
                expected = f.read()
            diff = "".join(difflib.unified_diff(expected.splitlines(True), got.splitlines(True),
                                                name + ".tty", "got"))
            check("%s: on a terminal, caret and hint" % name,
                  rc == 1 and got == expected and "hint: " in got, diff or got)
            # The same on a pipe: OpenBSD's lines only, every one of them.
            prc, out, err = run_on_pipe([binary, "-n", "-f", conf], work)
            plain_lines = [l for l in got.splitlines()
                           if not l.startswith((" ", "hint:", "  in a file"))]
            check("%s: on a pipe, OpenBSD's text only" % name,
                  prc == 1 and err.splitlines() == plain_lines, err)
            # And as JSON, with the column and the hint.
            jrc, out, err = run_on_pipe([binary, "-n", "-j", "--diagnostics=caret", "-f", conf],
                                        work)
            try:
                doc = json.loads(out) if out.strip() else {"diagnostics": []}
            except ValueError as e:
                doc = {"error": str(e), "diagnostics": []}
            positioned = [d for d in doc["diagnostics"] if d.get("line") is not None]
            if positioned or name == "world-readable" or name == "missing-include":
                check("%s: -n -j lists the diagnostics with their hints" % name,
                      jrc == 1 and doc.get("valid") is False and
                      any(d.get("hint") for d in doc["diagnostics"]), out[:600])
            # A file refused is refused by an error, whatever OpenBSD's text
            # calls it (a note for unreadable or world-readable files).
            check("%s: -n -j refuses the file with an error" % name,
                  doc.get("valid") is not False or
                  any(d.get("severity") == "error" for d in doc["diagnostics"]), out[:600])
        # Colour when asked for, and never in the OpenBSD text of a pipe.
        rc, got = run_on_terminal([binary, "--color=always", "-n", "-f", "misspelled-keyword.conf"],
                                  work)
        check("--color=always colours the caret and the hint",
              "\x1b[1;32m" in got and "\x1b[1;36mhint:" in got, repr(got))
        rc, out, err = run_on_pipe([binary, "--color=always", "-n", "-f",
                                    "misspelled-keyword.conf"], work)
        check("--color only matters with carets", "\x1b" not in err, repr(err))
        rc, got = run_on_terminal([binary, "--diagnostics=plain", "-n", "-f",
                                   "misspelled-keyword.conf"], work)
        check("--diagnostics=plain on a terminal: OpenBSD's text",
              " | " not in got and got.startswith("misspelled-keyword.conf: 2: syntax error\n"),
              got)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
