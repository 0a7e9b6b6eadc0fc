#!/bin/sh
# Runs OpenBSD's ipsecctl regress cases from the shared material against
# our binary. Skips (exit 77) with a message when the material is absent.
ipsecctl=$1
shared=$2
runner="$shared/conformance/run-openbsd-regress"
if [ ! -x "$runner" ] && [ ! -f "$runner" ]; then
  echo "SKIPPED: $runner not found (the conformance corpus lives in ../shared beside the checkout)"
  exit 77
fi
exec python3 "$runner" --ipsecctl "$ipsecctl" --diff
