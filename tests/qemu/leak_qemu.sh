#!/bin/sh
# The plaintext-leak loop of the qemu tier: tests/ike/routed_leak_test.py
# in a stock Debian kernel (real ESP), on the host's userland over 9p
# (hostfs-init.sh): route-based tunnels through every order of loads,
# charon restarts and rekeys, both WANs watched for plaintext all along.
# usage: leak_qemu.sh IPSECCTL ESP_SNIFF WORKDIR
set -eu
ipsecctl=$1 sniff=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$here/hostfs-tier.sh"
hostfs_prepare leak
cat > "$scratch/guest.sh" <<GUEST
set -u
export IPSECCTL_REQUIRE_ALL_TIERS=1
python3 "$src/tests/ike/routed_leak_test.py" --ipsecctl "$ipsecctl" --sniff "$sniff" \
  --rounds "${IPSECCTL_LEAK_ROUNDS:-20}" --kinds "${IPSECCTL_LEAK_KINDS:-together,0,1,restart,rekey}"
GUEST
hostfs_boot 1024 "${IPSECCTL_LEAK_GUEST_TIMEOUT:-1500}" 120
