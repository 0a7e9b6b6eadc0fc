#!/bin/sh
# The qemu tier: boots a stock Debian kernel (it has ESP, AH, IPcomp and
# PF_KEY, which this machine's kernel lacks) and runs guest-test.sh in it.
# usage: qemu_test.sh IPSECCTL ESP_SNIFF WORKDIR [XFRM_FLOOR]
# The kernel download is cached in WORKDIR (or $IPSECCTL_QEMU_CACHE).
# XFRM_FLOOR (bench/xfrm_floor) puts the kernel's own time beside the
# guest's load figures.
# Exit 77 (skipped) when qemu is not installed, or 1 when
# IPSECCTL_REQUIRE_ALL_TIERS is set (the README's test command sets it).
set -eu
ipsecctl=$1 sniff=$2 work=$3 floor=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v qemu-system-x86_64 >/dev/null; then
  reason="qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
  if [ -n "${IPSECCTL_REQUIRE_ALL_TIERS:-}" ]; then echo "FAIL: this tier could not run: $reason"; exit 1; fi
  echo "SKIP: $reason"
  exit 77
fi
cache=${IPSECCTL_QEMU_CACHE:-$work/qemu-cache}
"$here/fetch-kernel.sh" "$cache"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$here/build-initramfs.sh" "$cache" "$scratch/initramfs.cpio" "$here/guest-test.sh" \
  "$ipsecctl" "$sniff" ${floor:+"$floor"}
"$here/run-guest.sh" "$cache" "$scratch/initramfs.cpio" "$scratch/console.log"
