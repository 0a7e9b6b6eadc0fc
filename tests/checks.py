"""The pass/fail bookkeeping the tier scripts share: each check prints one
line ("ok" or "FAIL" with what was seen) and the run ends with
'N passed, M failed', the line CI and the hooks read."""

results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print("%s %s" % ("ok  " if condition else "FAIL", name), flush=True)
    if not condition and detail:
        print("     " + str(detail).replace("\n", "\n     "), flush=True)


def summary():
    """Prints the last line and returns the exit status."""
    failed = sum(1 for _, ok in results if not ok)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0
