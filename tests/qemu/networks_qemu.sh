#!/bin/sh
# The networks tier: the user documents' networks as the shipped examples
# build them (tests/networks/networks_test.py), in a stock Debian kernel
# under qemu (real ESP), on the host's userland over 9p (hostfs-init.sh),
# with Debian's keepalived, bird2 and libreswan unpacked into the guest's
# overlay only.
# usage: networks_qemu.sh IPSECCTL ESP_SNIFF WORKDIR [IKE_VERSION]
set -eu
ipsecctl=$1 sniff=$2 work=$3 version=${4:-1}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$here/hostfs-tier.sh"
command -v nft >/dev/null || tier_cannot_run "nftables is not installed (apt-get install nftables)"
hostfs_prepare "networks-v$version"
"$here/fetch-packages.sh" "$cache" libreswan libreswan
"$here/fetch-packages.sh" "$cache" routing keepalived bird2
cat > "$scratch/guest.sh" <<GUEST
set -u
export IPSECCTL_REQUIRE_ALL_TIERS=1
export NETWORK_SCENARIOS="${NETWORK_SCENARIOS:-}"
# These packages go into the guest's overlay only.
for deb in "$cache"/libreswan/*.deb "$cache"/routing/*.deb; do
  case \$deb in *usrmerge*) continue ;; esac
  dpkg-deb --fsys-tarfile "\$deb" | tar -x --keep-directory-symlink -C / 2>/dev/null
done
python3 "$src/tests/networks/networks_test.py" --ipsecctl "$ipsecctl" --sniff "$sniff" \
  --ike-version "$version"
GUEST
hostfs_boot 1536 "${IPSECCTL_NETWORKS_GUEST_TIMEOUT:-1500}" 80
