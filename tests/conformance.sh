#!/bin/sh
# Runs one of OpenBSD's conformance sets from the shared material against
# our binary: `regress` (OpenBSD's own regress cases) or `generated` (inputs
# drawn from the ipsec.conf(5) grammar with OpenBSD's exact answers).
# Skips (exit 77) with a message when the material is absent, or fails when
# IPSECCTL_REQUIRE_ALL_TIERS is set (the README's test command sets it).
set -eu
suite=$1 ipsecctl=$2 shared=$3
case $suite in
  regress) runner="$shared/conformance/run-openbsd-regress" ;;
  generated) runner="$shared/conformance/run-generated" ;;
  *) echo "usage: conformance.sh regress|generated IPSECCTL SHARED" >&2; exit 2 ;;
esac
if [ ! -f "$runner" ]; then
  reason="$runner not found (the conformance corpus lives in ../shared beside the checkout)"
  if [ -n "${IPSECCTL_REQUIRE_ALL_TIERS:-}" ]; then echo "FAIL: this tier could not run: $reason"; exit 1; fi
  echo "SKIPPED: $reason"
  exit 77
fi
# OpenBSD's answers were recorded on a machine named "vm": `ike dynamic`
# puts the host name into its identities. Run under that name, in a UTS
# namespace of our own when we can make one.
if [ "$(hostname)" != vm ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  exec unshare --uts sh -c 'hostname vm && exec python3 "$@"' sh "$runner" --ipsecctl "$ipsecctl" --diff
fi
exec python3 "$runner" --ipsecctl "$ipsecctl" --diff
