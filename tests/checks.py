"""The pass/fail bookkeeping the tier scripts share: each check prints one
line ("ok" or "FAIL" with what was seen) and the run ends with
'N passed, M failed', the line CI and the hooks read.

A tier that cannot run (no root, a package missing) calls skip(): a
developer's ctest reports it as skipped (exit 77), but when
IPSECCTL_REQUIRE_ALL_TIERS is set, as the README's test command and CI set
it, a tier that did not run is a failure: green must mean it ran."""

import os

results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print("%s %s" % ("ok  " if condition else "FAIL", name), flush=True)
    if not condition and detail:
        print("     " + str(detail).replace("\n", "\n     "), flush=True)


def summary():
    """Prints the last line and returns the exit status. A run in which no
    check ran is a failure: it proved nothing."""
    failed = sum(1 for _, ok in results if not ok)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    if not results:
        print("FAIL: no check ran")
        return 1
    return 1 if failed else 0


def skip(reason):
    """Returns the exit status for a tier that cannot run here."""
    if os.environ.get("IPSECCTL_REQUIRE_ALL_TIERS"):
        print("FAIL: this tier could not run: %s" % reason, flush=True)
        print("0 passed, 1 failed")
        return 1
    print("SKIP: %s" % reason, flush=True)
    return 77
