#!/bin/sh
# The IKE half of the qemu tier: a stock Debian kernel (real ESP) runs the
# host's own userland over 9p (hostfs-init.sh), and in it
# tests/ike/ike_gateways_test.py with charon installing kernel SAs
# (kernel-netlink), ESP counted on the wire, libreswan's pluto as a
# foreign peer, OpenBSD's iked (Debian's openiked) as an IKEv2 peer, and
# route-based tunnels over XFRM interfaces.
# usage: ike_qemu.sh IPSECCTL ESP_SNIFF WORKDIR
set -eu
ipsecctl=$1 sniff=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$here/hostfs-tier.sh"
hostfs_prepare ike
"$here/fetch-packages.sh" "$cache" libreswan libreswan
"$here/fetch-packages.sh" "$cache" openiked openiked
cat > "$scratch/guest.sh" <<GUEST
set -u
export IPSECCTL_REQUIRE_ALL_TIERS=1
export IKE_SCENARIOS="${IKE_SCENARIOS:-}"
# libreswan and openiked go into the guest's overlay only.
for deb in "$cache"/libreswan/*.deb "$cache"/openiked/*.deb; do
  dpkg-deb --fsys-tarfile "\$deb" | tar -x --keep-directory-symlink -C / 2>/dev/null
done
python3 "$src/tests/ike/ike_gateways_test.py" --ipsecctl "$ipsecctl" --kernel netlink \
  --sniff "$sniff" --delay "${IPSECCTL_IKE_DELAY:-20}"
GUEST
hostfs_boot 1024 "${IPSECCTL_IKE_GUEST_TIMEOUT:-1500}" 60
