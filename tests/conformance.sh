#!/bin/sh
# Runs one of OpenBSD's conformance sets from the shared material against
# our binary: `regress` (OpenBSD's own regress cases) or `generated` (inputs
# drawn from the ipsec.conf(5) grammar with OpenBSD's exact answers).
# Skips (exit 77) with a message when the material is absent, or fails when
# IPSECCTL_REQUIRE_ALL_TIERS is set (the README's test command sets it).
# IPSECCTL_CONFORMANCE_SAMPLE=N runs every Nth generated case only: the
# sanitizer build's pass is after memory errors in the parser and printer,
# which every case runs through, while the plain build checks every answer;
# a sanitized process costs 0.12 s to start where a plain one costs 0.01 s.
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
set --
if [ "$suite" = generated ] && [ -n "${IPSECCTL_CONFORMANCE_SAMPLE:-}" ]; then
  sample=$(mktemp)
  trap 'rm -f "$sample"' EXIT
  awk -v n="$IPSECCTL_CONFORMANCE_SAMPLE" '(NR - 1) % n == 0' "$shared/conformance/generated.jsonl" > "$sample"
  echo "a sample: every ${IPSECCTL_CONFORMANCE_SAMPLE}th case ($(wc -l < "$sample") cases)"
  set -- --set "$sample"
fi
# OpenBSD's answers were recorded on a machine named "vm": `ike dynamic`
# puts the host name into its identities. Run under that name, in a UTS
# namespace of our own when we can make one.
if [ "$(hostname)" != vm ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  unshare --uts sh -c 'hostname vm && exec python3 "$@"' sh "$runner" --ipsecctl "$ipsecctl" --diff "$@"
  exit
fi
python3 "$runner" --ipsecctl "$ipsecctl" --diff "$@"
